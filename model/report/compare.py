"""KPI differences of two runs: ``kpi_differences(a, b)`` and ``write_compare_report``, which writes,
atomically, kpi_differences.csv, summary.md (the KPIs that differ) and manifest.json."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from model.flatten import flatten
from model.report.atomic import atomic_dir
from model.report.manifest import environment_entries, input_file_entries
from model.report.markdown import md_table


def read_report_kpis(folder: str | Path) -> dict:
    """The ``kpis.json`` of a report folder, checked: a UTF-8 JSON object. Anything else is one input
    error naming the file (``compare`` reads two folders before writing anything)."""
    from model.errors import InputError, InputIssue

    f = Path(folder) / "kpis.json"

    def bad(value: object, expected: str) -> InputError:
        return InputError([InputIssue(str(f), "(file)", value, expected)])

    if not f.is_file():
        raise bad(str(f), "a report folder holding kpis.json (as written by solve.py)")
    try:
        size = f.stat().st_size
        if size > 64 * 1024 * 1024:
            raise bad(f"{size} bytes", "a kpis.json of at most 64 MiB")
        text = f.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise bad("(not UTF-8)", "a kpis.json in UTF-8, as written by solve.py") from None
    except OSError as e:
        raise bad(e.strerror or type(e).__name__, "a readable kpis.json") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        where = f"line {e.lineno} column {e.colno}" if hasattr(e, "lineno") else "(too deeply nested)"
        raise bad(where, "well-formed JSON, as written by solve.py") from None
    if not isinstance(doc, dict):
        raise bad(f"(a JSON {type(doc).__name__})", "a JSON object of KPIs, as written by solve.py")
    return doc


def kpi_differences(a: dict, b: dict) -> pd.DataFrame:
    """Every numeric KPI of two runs side by side (timings excluded), with absolute and relative change."""
    fa, fb = {}, {}
    flatten("", {k: v for k, v in a.items() if k != "run"}, fa)
    flatten("", {k: v for k, v in b.items() if k != "run"}, fb)
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        diff = None if va is None or vb is None else vb - va
        rel = None if diff is None or va == 0 else diff / abs(va)
        rows.append((key, va, vb, diff, rel))
    df = pd.DataFrame(rows, columns=["kpi", "a", "b", "b_minus_a", "relative_change"])
    return df.astype({"kpi": str, "a": float, "b": float, "b_minus_a": float, "relative_change": float})


def write_compare_report(df: pd.DataFrame, a: Path, b: Path, out_dir: str | Path, argv: list[str] | None = None) -> Path:
    def write(tmp: Path) -> None:
        df.to_csv(tmp / "kpi_differences.csv", index=False, lineterminator="\n")
        (tmp / "manifest.json").write_text(json.dumps({
            "command_line": argv or sys.argv,
            "input_files": input_file_entries((str(d / "kpis.json"), hashlib.sha256((d / "kpis.json").read_bytes()).hexdigest())
                                              for d in (a, b)),
            **environment_entries(),
        }, indent=2) + "\n")
        moved = df[(df.b_minus_a.fillna(1).abs() > 1e-9)]
        (tmp / "summary.md").write_text(
            f"# KPI differences: {a} vs {b}\n\n{len(moved)} of {len(df)} KPIs differ.\n\n"
            + md_table(moved.astype(object).where(moved.notna(), "missing"), ",.4g") + "\n")

    return atomic_dir(out_dir, write, protect=[a / "kpis.json", b / "kpis.json"])
