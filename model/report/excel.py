"""``plan.xlsx`` for finance: the KPIs, one sheet per plan table, and the manifest.

``write_excel(run, manifest, path)`` writes, through pandas' ``ExcelWriter`` with openpyxl:

    KPIs        the KPIs flattened to rows: section, measure, value, unit
    <table>     one sheet per table of ``run.solution.tables`` (purchases, reservations, ... and, for
                stochastic runs, scenarios, stream_risk, marginal_values_expected), in that order
    Manifest    the manifest dict flattened to rows: key, value

Column names carry their unit as a suffix (``purchased_t``, ``price_usd_per_kg``, ...); the sheet
headers spell it out (``purchased (t)``, ``price (USD/kg)``) through :func:`column_header`, and the
same unit picks the cell's number format (:func:`number_format`). Every sheet has a frozen header
row and an autofilter. A table longer than Excel's 1,048,576 rows is cut to its first rows and the
sheet says so in a note cell to the right of the header. Writes ``path`` only; atomicity is the
caller's concern.

The workbook is opened in openpyxl's write-only mode (``engine_kwargs={"write_only": True}``) and
rows are appended to its sheets directly rather than through ``DataFrame.to_excel``: rows stream to
disk, so the 200-scenario case (about 570,000 rows) takes roughly half the time and no extra memory,
where a normal workbook holds a cell object per value (about +1 GB) until it is saved. What time
remains is openpyxl's XML serialisation.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
KPI_SHEET = "KPIs"
MANIFEST_SHEET = "Manifest"

# (suffix, unit in words), longest first so that ``_usd_per_t`` wins over ``_t``
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_t_feed_per_period", "t feed/period"),
    ("_t_per_period", "t/period"),
    ("_usd_per_kg_magnet", "USD/kg magnet"),
    ("_usd_per_kg", "USD/kg"),
    ("_usd_per_t", "USD/t"),
    ("_usd", "USD"),
    ("_frac", "%"),
    ("_t", "t"),
)
# a unit inside the name, followed by a qualifier: ``shortage_t_ev_traction`` -> shortage ev_traction (t)
_INFIX = re.compile(r"^(?P<measure>.+?)_(?P<unit>t|usd)_(?P<qualifier>.+)$")
_INFIX_UNITS = {"t": "t", "usd": "USD"}
ACRONYMS = {"cvar": "CVaR", "evpi": "EVPI", "vss": "VSS", "eev": "EEV", "usd": "USD", "id": "ID"}

# number formats by unit (tables); the KPI sheet shows tonnes with two decimals
FORMATS = {
    "USD": "#,##0",
    "USD/kg": "#,##0.00",
    "USD/t": "#,##0.00",
    "USD/kg magnet": "#,##0.00",
    "t": "#,##0.000",
    "t/period": "#,##0.000",
    "t feed/period": "#,##0.000",
    "%": "0.0%",
}
KPI_TONNE_FORMAT = "#,##0.00"
FILL_RATE_FORMAT = "0.00%"  # fill rates sit near 100 %: one more decimal keeps 99.99 % from showing as 100.0 %
PROBABILITY_FORMAT = "0.0000"
INTEGER_FORMAT = "#,##0"
PLAIN_FLOAT_FORMAT = "0.00##"

MIN_WIDTH, MAX_WIDTH, MAX_KPI_VALUE_WIDTH = 8, 60, 80
HEADER_FONT = Font(bold=True)
NOTE_FONT = Font(bold=True, color="C00000")


# --------------------------------------------------------------------------------------------
# names -> headers, units and number formats


@dataclass(frozen=True)
class Field:
    """What a column or KPI name says: its label in words, its unit and its kind."""

    label: str
    unit: str | None = None
    kind: str = "plain"  # "unit" | "share" | "fill_rate" | "probability" | "plain"


def _words(name: str) -> str:
    return " ".join(ACRONYMS.get(w, w) for w in name.split("_") if w)


def field(name: str, infix: bool = True) -> Field:
    """Split a column or KPI name into its label in words and its unit.

    ``purchased_t`` -> (purchased, t); ``price_usd_per_kg`` -> (price, USD/kg);
    ``added_t_feed_per_period`` -> (added, t feed/period); ``shortage_t_ev_traction`` ->
    (shortage ev_traction, t); fill rates and shares -> unit ``%``; ``probability...`` -> kind
    probability without a unit; anything else -> its words without a unit. ``infix=False`` skips
    the unit-inside-the-name rule (for keys that may be ids, such as an offer ``x_t_contract``).
    """
    name = str(name)
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            label = _words(name[: -len(suffix)])
            return Field(label, unit, "share" if unit == "%" else "unit")
    low = name.lower()
    if "fill_rate" in low:
        return Field(_words(name), "%", "fill_rate")
    if "share" in low.split("_"):
        return Field(_words(name), "%", "share")
    if low.startswith("probability") or low.endswith("_probability"):
        return Field(_words(name), None, "probability")
    m = _INFIX.match(name) if infix else None
    if m:
        return Field(f"{_words(m['measure'])} {m['qualifier']}", _INFIX_UNITS[m["unit"]], "unit")
    return Field(_words(name), None, "plain")


def column_header(name: str) -> str:
    """The header of a column in words with its unit: ``cost_usd`` -> ``cost (USD)``."""
    f = field(name)
    return f"{f.label} ({f.unit})" if f.unit else f.label


def number_format(f: Field, value_kind: str = "float", tonnes: str | None = None) -> str | None:
    """The Excel number format of a value of field ``f``; ``value_kind`` is float, int, bool or text."""
    if value_kind in ("bool", "text"):
        return None
    if f.kind == "fill_rate":
        return FILL_RATE_FORMAT
    if f.kind == "probability":
        return PROBABILITY_FORMAT
    if f.unit in FORMATS:
        if tonnes and f.unit.startswith("t"):
            return tonnes
        return FORMATS[f.unit]
    return INTEGER_FORMAT if value_kind == "int" else PLAIN_FLOAT_FORMAT


def _series_kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    return "text"


def _value_kind(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    return "text"


# --------------------------------------------------------------------------------------------
# sheet plumbing (openpyxl write-only worksheets: rows are streamed to disk as they are appended,
# so a long stochastic table costs neither a cell object per value nor the memory to hold them)


def sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique (case-insensitively, as Excel compares) sheet name of at most 31 characters."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
    base = base[:31]
    out, k = base, 1
    while out.lower() in used:
        k += 1
        tail = f"~{k}"
        out = base[: 31 - len(tail)] + tail
    used.add(out.lower())
    return out


def _cell_value(v):
    """A value openpyxl writes as Excel reads it: Python scalars; NaN/None -> empty; +-inf -> text."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    elif v is pd.NA or v is pd.NaT:
        return None
    return v


def _column_values(s: pd.Series) -> list:
    vals = s.tolist()
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
        return vals
    return [_cell_value(v) for v in vals]


def _text_width(values) -> int:
    return max((len(str(v)) for v in values if v is not None), default=0)


def _numeric_width(values, fmt: str | None) -> int:
    """Characters the widest of ``values`` takes in number format ``fmt``."""
    x = np.array([v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)], dtype=float)
    if not len(x):
        return _text_width(values)
    pct = bool(fmt) and fmt.endswith("%")
    decimals = len(fmt.split(".")[1].rstrip("%")) if fmt and "." in fmt else (0 if fmt else 6)
    worst = float(np.abs(x).max()) * (100 if pct else 1)
    return len(f"{worst:,.{decimals}f}") + 1 + pct  # + sign (+ % sign)


def _new_sheet(writer: pd.ExcelWriter, name: str, headers: list[str], widths: list[int],
               n_rows: int, caps: list[int] | None = None, note: str | None = None):
    """A write-only sheet with its header row written: bold headers, widths, frozen header row, and an
    autofilter over header + ``n_rows`` rows; ``note`` goes in bold red one column right of the table."""
    ws = writer.book.create_sheet(name)
    # views and column widths are written with the first row: set them before appending
    ws.freeze_panes = "A2"
    for j, w in enumerate(widths, start=1):
        hi = caps[j - 1] if caps else MAX_WIDTH
        ws.column_dimensions[get_column_letter(j)].width = max(MIN_WIDTH, min(hi, w + 2))
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{n_rows + 1}"
    row = []
    for h in headers:
        c = WriteOnlyCell(ws, h)
        c.font = HEADER_FONT
        row.append(c)
    if note:
        c = WriteOnlyCell(ws, note)
        c.font = NOTE_FONT
        row += [None, c]
    ws.append(row)
    return ws


def _append_columns(ws, columns: list[list], formats: list[str | None]) -> None:
    """Append rows column-wise data, each column in its number format. One styled cell per column is
    reused for every row: a write-only sheet serialises a row as soon as it is appended."""
    protos = []
    for f in formats:
        if f:
            c = WriteOnlyCell(ws)
            c.number_format = f
            protos.append(c)
        else:
            protos.append(None)
    if not any(protos):
        for row in zip(*columns):
            ws.append(row)
        return

    def styled(p, v):
        p.value = v
        return p

    for row in zip(*columns):
        ws.append([v if p is None or v is None else styled(p, v) for v, p in zip(row, protos)])


# --------------------------------------------------------------------------------------------
# table sheets


def write_table(writer: pd.ExcelWriter, name: str, df: pd.DataFrame, table: str | None = None,
                max_rows: int | None = None) -> None:
    """One table on sheet ``name``: headers with units, number formats by unit, frozen header row,
    autofilter, column widths. More than ``max_rows`` rows (default: Excel's limit less the header)
    -> the first ``max_rows`` rows and a note right of the header saying so.
    """
    limit = (EXCEL_MAX_ROWS - 1) if max_rows is None else max_rows
    total = len(df)
    shown = df.iloc[:limit] if total > limit else df
    headers = [column_header(c) for c in df.columns]
    kinds = [_series_kind(df[c]) for c in df.columns]
    formats = [number_format(field(c), k) for c, k in zip(df.columns, kinds)]
    columns = [_column_values(shown[c]) for c in df.columns]
    widths = [max(len(h), _text_width(vals) if k in ("text", "bool") else _numeric_width(vals, f))
              for h, k, f, vals in zip(headers, kinds, formats, columns)]
    note = None
    if total > limit:
        note = (f"Note: only the first {limit:,} of {total:,} rows are shown (Excel allows {EXCEL_MAX_ROWS:,} "
                f"rows per sheet, header included)"
                + (f"; the complete table is {table}.csv of the same report." if table else "."))
    ws = _new_sheet(writer, name, headers, widths, len(shown), note=note)
    _append_columns(ws, columns, formats)


# --------------------------------------------------------------------------------------------
# KPIs


def _is_records(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _has_unit(key: str) -> bool:
    f = field(key, infix=False)
    return f.unit is not None or f.kind != "plain"


def kpi_rows(kpis: dict, tables: dict | None = None) -> list[dict]:
    """The KPI dict flattened to rows ``{section, measure, value, unit, format}``.

    Top-level scalars form the ``summary`` section, in the KPI dict's order (objective first). A
    nested dict's section is its top key in words followed by the keys below it (ids such as stream
    or supplier names, kept as written). A leaf is put in words when it is a measure (it or a sibling
    carries a unit), else kept as written (an id: a cost term, an element, an origin). The unit is the
    nearest one along the key path, leaf first: ``cost_parts_usd / purchases`` is in USD. A list of
    records that is also a table (the per-scenario list) points at its sheet.
    """
    tables = tables or {}
    rows: list[dict] = []

    def unit_field(path: list[str]) -> Field:
        for key in reversed(path):
            if _has_unit(key):
                return field(key, infix=False)
        return field(path[-1], infix=False)

    def emit(section: str, measure: str, path: list[str], value) -> None:
        f = unit_field(path)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        value = _cell_value(value)
        vk = _value_kind(value) if value is not None else "text"
        numeric = vk in ("int", "float")
        rows.append({"section": section, "measure": measure, "value": value,
                     "unit": f.unit if numeric else None,
                     "format": number_format(f, vk, tonnes=KPI_TONNE_FORMAT) if numeric else None})

    def walk(d: dict, path: list[str]) -> None:
        record = any(_has_unit(str(k)) for k in d)
        section = " / ".join([field(path[0]).label] + [str(p) for p in path[1:]])
        for k, v in d.items():
            k = str(k)
            if _is_records(v):
                for i, x in enumerate(v):
                    walk(x, path + [f"{k}[{i}]"])
            elif not isinstance(v, dict):
                emit(section, field(k).label if record else k, path + [k], v)
        for k, v in d.items():
            if isinstance(v, dict) and v:
                walk(v, path + [str(k)])

    for k, v in kpis.items():
        if not isinstance(v, dict) and not _is_records(v):
            emit("summary", field(k).label, [k], v)
    pointers = []
    for k, v in kpis.items():
        if isinstance(v, dict) and v:
            walk(v, [k])
        elif _is_records(v):
            if k in tables:
                pointers.append({"section": field(k).label, "measure": f"{field(k).label} table",
                                 "value": f"see sheet {k}", "unit": None, "format": None})
            else:
                for i, x in enumerate(v):
                    walk(x, [k, str(i)])
    return rows + pointers


def write_kpis(writer: pd.ExcelWriter, kpis: dict, tables: dict | None = None, name: str = KPI_SHEET) -> None:
    rows = kpi_rows(kpis, tables)
    headers = ["section", "measure", "value", "unit"]
    widths = [max(len(h), _text_width(r[h] for r in rows)) for h in headers]
    widths[2] = max(len("value"), *(_numeric_width([r["value"]], r["format"]) if r["format"]
                                    else _text_width([r["value"]]) for r in rows))
    ws = _new_sheet(writer, name, headers, widths, len(rows), caps=[MAX_WIDTH, MAX_WIDTH, MAX_KPI_VALUE_WIDTH, MAX_WIDTH])
    for r in rows:
        value = r["value"]
        if r["format"] and value is not None:
            value = WriteOnlyCell(ws, value)
            value.number_format = r["format"]
        ws.append([r["section"], r["measure"], value, r["unit"]])


# --------------------------------------------------------------------------------------------
# manifest


def flatten_manifest(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    """``{"a": {"b": 1}, "c": [{"p": "x"}], "command_line": ["solve.py", "x y"]}`` ->
    (a.b, 1), (c[0].p, x), (command_line, solve.py 'x y'); other lists are joined with commas."""
    out: list[tuple[str, object]] = []
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out += flatten_manifest(v, key) if v else [(key, None)]
        elif _is_records(v):
            for i, x in enumerate(v):
                out += flatten_manifest(x, f"{key}[{i}]")
        elif isinstance(v, (list, tuple)):
            if str(k) in ("command_line", "argv"):
                out.append((key, shlex.join(str(x) for x in v)))
            else:
                out.append((key, ", ".join(str(x) for x in v)))
        else:
            out.append((key, _cell_value(v)))
    return out


def write_manifest(writer: pd.ExcelWriter, manifest: dict, name: str = MANIFEST_SHEET) -> None:
    rows = flatten_manifest(manifest)
    widths = [max(3, _text_width(k for k, _ in rows)), max(5, _text_width(v for _, v in rows))]
    ws = _new_sheet(writer, name, ["key", "value"], widths, len(rows), caps=[MAX_WIDTH, MAX_KPI_VALUE_WIDTH])
    for k, v in rows:
        ws.append([k, v])


# --------------------------------------------------------------------------------------------


def write_excel(run, manifest: dict, path: str | Path) -> None:
    """Write ``plan.xlsx`` for ``run`` to ``path``: sheet KPIs, one sheet per table of
    ``run.solution.tables`` (named after it), sheet Manifest (``manifest`` flattened)."""
    tables = run.solution.tables
    used = {KPI_SHEET.lower(), MANIFEST_SHEET.lower()}
    with pd.ExcelWriter(path, engine="openpyxl", engine_kwargs={"write_only": True}) as writer:
        write_kpis(writer, run.solution.kpis, tables)
        for name, df in tables.items():
            write_table(writer, sheet_name(name, used), df, table=name)
        write_manifest(writer, manifest)
