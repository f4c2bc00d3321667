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
    return pd.DataFrame(rows, columns=["kpi", "a", "b", "b_minus_a", "relative_change"])


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
            + md_table(moved.fillna("missing"), ",.4g") + "\n")

    return atomic_dir(out_dir, write, protect=[a / "kpis.json", b / "kpis.json"])
