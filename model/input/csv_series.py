"""Read a wide time-series CSV: a ``period`` column and one numeric column per entity id.

:func:`_read_series_csv` returns each allowed column as a list over the horizon's periods. Every
problem (ragged rows, a column or period given twice, periods outside the horizon or missing, cells
that are not finite numbers >= 0) is appended to the caller's issue list with its file line; a CSV
with any problem contributes no series. ``#`` comments, blank lines and a byte-order mark are skipped.

A file that is not such a table gives one issue, not one per line: an empty file, a stray byte-order
mark (U+FEFF after the first character), a header without a ``period`` column (a YAML, a text file, a
table of something else). Each cell is at most the bound of its kind (``at_most``, the schema's bound
of the matching scalar field). A file outside the case's folder (``quote=False``) is read, but no
issue quotes its text (:data:`~model.input.yaml_safe.HIDDEN` instead). At most ``MAX_CSV_ISSUES``
issues are reported per file, then one line counts the rest.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from model.errors import InputError, InputIssue
from model.input.schema import MONTH_RE
from model.input.schema import bound_text
from model.input.yaml_safe import HIDDEN, _decode, _read_bytes

_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_NONFINITE = re.compile(r"^[+-]?\.?(nan|inf|infinity)$", re.IGNORECASE)
MAX_CSV_ISSUES = 20


def _csv_lines(text: str) -> list[int]:
    """1-based file line of the header and of each data row as pandas reads them (``#`` comments and
    blank lines skipped); empty when a quoted field spans lines (then rows are numbered by position)."""
    if '"' in text:
        return []
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.split("#", 1)[0].strip()]


def _read_series_csv(path: Path, shown: str, periods: tuple[str, ...], allowed: set[str], unit: str,
                     issues: list[InputIssue], columns: set[str] | None = None, *, content: bytes | None = None,
                     quote: bool = True, at_most: float | None = None) -> dict[str, list[float]]:
    """Wide CSV: a ``period`` column and one numeric column per entity id.

    ``columns``, when given, receives the header's column names (so that the caller does not also report
    blank scalars of entities whose column is present but broken); it stays empty when the header could
    not be read. ``content``: the file's bytes when the caller has read them already.
    """
    mine: list[InputIssue] = []
    out = _read_series(path, shown, periods, allowed, unit, mine, columns, content, quote, at_most)
    issues.extend(mine[:MAX_CSV_ISSUES])
    if len(mine) > MAX_CSV_ISSUES:
        issues.append(InputIssue(shown, "(further problems)", f"{len(mine) - MAX_CSV_ISSUES} more not shown",
                                 "a corrected file (fix the problems above and run again)"))
    return out


def _read_series(path: Path, shown: str, periods: tuple[str, ...], allowed: set[str], unit: str,
                 issues: list[InputIssue], columns: set[str] | None, content: bytes | None, quote: bool,
                 at_most: float | None) -> dict[str, list[float]]:
    def q(text: object) -> object:
        return text if quote else HIDDEN

    try:
        raw = _read_bytes(path, shown) if content is None else content
        text = _decode(raw, shown).removeprefix("\ufeff")  # a byte-order mark (Excel writes one) is not data
    except InputError as e:
        issues.extend(e.issues)
        return {}
    if "\ufeff" in text:
        at = text.index("\ufeff")
        ln = text.count("\n", 0, at) + 1
        issues.append(InputIssue(shown, f"line {ln}", "U+FEFF (a byte-order mark)" + (" repeated" if at == 0 else ""),
                                 "at most one byte-order mark, at the very start of the file (save it once as UTF-8)"))
        return {}
    if not any(ln.split("#", 1)[0].strip() for ln in text.splitlines()):
        issues.append(InputIssue(shown, "(file)", "(empty file)" if not text.strip() else "(only comments)",
                                 f"a header row `period,<id>,...` and a row for every period {periods[0]}..{periods[-1]}"))
        return {}
    import csv
    import io as _io

    lines = _csv_lines(text)
    try:
        rows = list(csv.reader(_io.StringIO("\n".join(ln.split("#", 1)[0] for ln in text.splitlines()
                                                      if ln.split("#", 1)[0].strip())))) if lines else []
    except csv.Error:
        rows = []
    if rows and len(rows) == len(lines):
        header = [c.strip() for c in rows[0]]
        if "period" not in header:  # not a time-series table at all: one issue, not one per row
            issues.append(InputIssue(shown, "(header)", q(",".join(header)), "a `period` column"))
            return {}
        if columns is not None:
            columns.update(header)
        ragged = [(lines[k], len(r)) for k, r in enumerate(rows) if len(r) != len(header)]
        for ln, n in ragged[:5]:
            issues.append(InputIssue(shown, f"line {ln}", f"{n} cells", f"{len(header)} cells, one per header column"
                                     + (f" ({','.join(header)})" if quote else "")))
        dup = sorted({c for c in header if header.count(c) > 1})
        for c in dup:
            issues.append(InputIssue(shown, "(header)", q(c), "each column once"))
        if ragged or dup:
            return {}
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, comment="#")
    except Exception as e:  # noqa: BLE001 - pandas raises several parser errors
        first = (str(e).splitlines() or [type(e).__name__])[0]
        issues.append(InputIssue(shown, "(CSV syntax)", q(first[:120]), "a comma-separated table with a header row"))
        return {}
    if "period" not in df.columns:
        issues.append(InputIssue(shown, "(header)", q(",".join(map(str, df.columns))), "a `period` column"))
        return {}
    if columns is not None:
        columns.update(str(c) for c in df.columns)
    if len(lines) != len(df) + 1:
        lines = []

    def row(i: int) -> str:
        return f"line {lines[i + 1]}" if lines else f"row {i + 2}"

    unknown = [(k, c) for k, c in enumerate(df.columns) if c != "period" and c not in allowed]
    for k, c in unknown[:5]:
        issues.append(InputIssue(shown, f"column {c}" if quote else f"column {k + 1}", q(c),
                                 f"one of: {', '.join(sorted(allowed))}"))
    if len(unknown) > 5:
        issues.append(InputIssue(shown, "(header)", f"{len(unknown) - 5} more unknown columns",
                                 f"only `period` and columns named one of: {', '.join(sorted(allowed))}"))
    labels = [p.strip() for p in df["period"]]
    bad_labels = 0
    for i, p in enumerate(labels):
        if not MONTH_RE.match(p) or not p.isascii():
            issues.append(InputIssue(shown, f"{row(i)} period", q(p), "a month YYYY-MM"))
            bad_labels += 1
        elif p not in periods:
            issues.append(InputIssue(shown, f"{row(i)} period", q(p), f"a period start inside the horizon {periods[0]}..{periods[-1]}"))
            bad_labels += 1
    if len(set(labels)) != len(labels):
        again = next(i for i, p in enumerate(labels) if p in labels[:i])
        first = labels.index(labels[again])
        issues.append(InputIssue(shown, f"{row(again)} period", q(labels[again]),
                                 f"each period once (also on {row(first)})"))
    missing = [p for p in periods if p not in labels]
    if missing and len(missing) > bad_labels:  # a row whose label is wrong is the row missing: said once
        issues.append(InputIssue(shown, "period", f"{len(missing)} missing, first {missing[0]}", f"a row for every period {periods[0]}..{periods[-1]}"))
    out: dict[str, list[float]] = {}
    bad_before = len(issues)
    for c in df.columns:
        if c == "period" or c not in allowed:
            continue
        vals = []
        for i, s in enumerate(df[c]):
            cell = s.strip()
            if _NONFINITE.match(cell):
                issues.append(InputIssue(shown, f"{row(i)} {c}", q(s), f"a finite number >= 0 ({unit})"))
                continue
            if not _NUMBER.match(cell):
                issues.append(InputIssue(shown, f"{row(i)} {c}", q(s), f"a number ({unit})"))
                continue
            x = float(cell)
            if at_most is not None and x > at_most:  # also a literal too long for a float (read as inf)
                issues.append(InputIssue(shown, f"{row(i)} {c}", q(s), f"a number at most {bound_text(at_most)} ({unit})"))
                continue
            if not math.isfinite(x) or x < 0:
                issues.append(InputIssue(shown, f"{row(i)} {c}", q(s), f"a finite number >= 0 ({unit})"))
                continue
            vals.append(x + 0.0)  # -0 reads as 0
        out[c] = vals
    if len(issues) > bad_before or missing or len(set(labels)) != len(labels):
        return {}
    order = [labels.index(p) for p in periods]
    return {c: [v[i] for i in order] for c, v in out.items()}
