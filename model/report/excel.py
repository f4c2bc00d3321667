r"""``plan.xlsx`` for finance: what the plan costs, when, how much is decided now, and on what inputs.

``write_excel(run, manifest, path)`` writes these sheets, in this order (every block of figures an
Excel table, ``openpyxl.worksheet.table.Table``, with filter buttons; money in USD unless a header
says USD M; a stochastic run's figures are expected values, sum_s p_s x value, unless a sheet says
otherwise):

    Overview        the headline with units (objective, expected cost, CVaR, present value, first-stage
                    cost and spend decided now, EVPI/VSS in objective and in expected-cost units, fill
                    rate per stream, China share and recycled share per element, peak working capital),
                    what the workbook holds of the per-scenario detail, and two charts: cost by year
                    stacked by cost term, and China share of element supply per element
    KPIs            the KPIs finance reads (costs, present value, EVPI/VSS, shares, fill rates), flattened
                    to section, measure, value, unit; the audit, solver and model-size KPIs stay in kpis.json
    Cost by year    cost term x calendar year, undiscounted and present value, with totals
    Budget          decided now / committed / scenario-dependent by year; working capital (stock value)
                    per element and month
    Expected plan   purchases by order month and offer (supplier, country, origin, material), t and USD
    Contracts       reservations by contract offer and month; the ``contracts`` tranches when there are any
    Scenarios       one row per scenario: probability, total and first-stage cost, present value,
                    shortage, fill rate (and perfect-foresight / EEV cost when computed)
    Assumptions     the key inputs with their ``source`` fields: offers (price and capacity: the mean over
                    the horizon of the case as read), licence rules, stockpile, streams, plant, risk and
                    finance settings
    detail_<table>  the per-scenario detail, one sheet per table of ``run.solution.tables`` (every
                    scenario stacked), only when the run has at most ``DETAIL_MAX_SCENARIOS`` scenarios
                    and those tables at most ``DETAIL_MAX_ROWS`` rows together; otherwise the detail is in
                    the report's CSV files only, and the Overview says which
    Manifest        the manifest dict flattened to key, value

Formats: periods are dates (the first day of the month, shown ``yyyy-mm``); number formats follow the
unit in the column or KPI name (:func:`field`, :func:`number_format`): USD ``#,##0``, USD M
``#,##0.00``, t ``#,##0.000``, fractions ``0.0%`` (fill rates ``0.00%``); a non-zero number smaller
than its format can show (``gap_frac`` 1e-06 as ``0.0%``), other than a mass or money amount, is shown
in scientific format (``0.00E+00``) instead. Column names carry their unit as a suffix; headers spell
it out (``purchased (t)``, :func:`column_header`).

The workbook is written in openpyxl's write-only mode (rows stream to disk; charts and tables are
added to a write-only sheet like to any other, the table columns named by hand). The finance sheets
are small whatever the scenario count (a few hundred rows: by offer and month, not by scenario); only
the detail sheets grow with it, hence their limit. Writes ``path`` only; atomicity is the caller's
concern.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
import warnings
from dataclasses import dataclass, field as dc_field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from model.results.costs import BUDGET_CATEGORIES, PV_NOTE, base_year

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
DETAIL_MAX_SCENARIOS = 20  # the per-scenario detail sheets only up to this many scenarios ...
DETAIL_MAX_ROWS = 50_000  # ... and this many rows over all detail tables (the CSVs always have them)
OVERVIEW_SHEET, KPI_SHEET, COST_SHEET, BUDGET_SHEET = "Overview", "KPIs", "Cost by year", "Budget"
PLAN_SHEET, CONTRACT_SHEET, SCENARIO_SHEET, ASSUMPTION_SHEET = "Expected plan", "Contracts", "Scenarios", "Assumptions"
MANIFEST_SHEET = "Manifest"
DETAIL_PREFIX = "detail_"  # detail sheet of table x: detail_x (table names would clash with Contracts, Budget, ...)
FINANCE_SHEETS = (OVERVIEW_SHEET, KPI_SHEET, COST_SHEET, BUDGET_SHEET, PLAN_SHEET, CONTRACT_SHEET, SCENARIO_SHEET,
                  ASSUMPTION_SHEET)
CHINA = "CN"  # the country (and origin group) code counted as China

# (suffix, unit in words), longest first so that ``_usd_per_t`` wins over ``_t``
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_kg_per_period", "USD/kg/period"),
    ("_t_feed_per_period", "t feed/period"),
    ("_t_per_period", "t/period"),
    ("_usd_per_kg_magnet", "USD/kg magnet"),
    ("_usd_per_kg_feed", "USD/kg feed"),
    ("_usd_per_kg", "USD/kg"),
    ("_usd_per_t", "USD/t"),
    ("_frac_per_year", "%/yr"),
    ("_usd_m", "USD M"),
    ("_usd", "USD"),
    ("_periods", "periods"),
    ("_frac", "%"),
    ("_t", "t"),
)
# a unit inside the name, followed by a qualifier: ``shortage_t_ev_traction`` -> shortage ev_traction (t)
_INFIX = re.compile(r"^(?P<measure>.+?)_(?P<unit>t|usd)_(?P<qualifier>.+)$")
_INFIX_UNITS = {"t": "t", "usd": "USD"}
ACRONYMS = {"cvar": "CVaR", "evpi": "EVPI", "vss": "VSS", "eev": "EEV", "usd": "USD", "id": "ID", "pv": "PV"}

FORMATS = {  # number formats by unit
    "USD": "#,##0",
    "USD M": "#,##0.00",
    "USD/kg": "#,##0.00",
    "USD/kg/period": "#,##0.00",
    "USD/kg feed": "#,##0.00",
    "USD/t": "#,##0.00",
    "USD/kg magnet": "#,##0.00",
    "t": "#,##0.000",
    "t/period": "#,##0.000",
    "t feed/period": "#,##0.000",
    "%": "0.0%",
    "%/yr": "0.0%",
    "periods": "#,##0",
}
KPI_TONNE_FORMAT = "#,##0.00"
FILL_RATE_FORMAT = "0.00%"  # fill rates sit near 100 %: one more decimal keeps 99.99 % from showing as 100.0 %
PROBABILITY_FORMAT = "0.0000"
INTEGER_FORMAT = "#,##0"
PLAIN_FLOAT_FORMAT = "0.00##"
SCIENTIFIC_FORMAT = "0.00E+00"
DATE_FORMAT = "yyyy-mm"
FACTOR_FORMAT = "0.000000"
USD_PER_USD_M = 1e6
_QUANTITY_UNITS = ("USD", "USD M", "t", "t/period", "t feed/period")  # small values there are noise, not tolerances

MIN_WIDTH, MAX_WIDTH, MAX_VALUE_WIDTH = 8, 60, 80
TITLE_FONT = Font(bold=True, size=12)
HEADER_FONT = Font(bold=True)
NOTE_FONT = Font(italic=True, color="595959")
WARN_FONT = Font(bold=True, color="C00000")
TABLE_STYLE = "TableStyleMedium2"

# the KPIs finance reads (top-level keys, in this order); everything else stays in kpis.json only
FINANCE_KPIS = (
    "scenario_count", "proven_optimal", "gap_frac", "status_note",
    "objective_usd", "expected_cost_usd", "cvar_cost_usd", "cvar_alpha", "risk_weight_lambda",
    "present_value_usd", "discount_rate_frac_per_year", "present_value_date",
    "first_stage_cost_usd", "spend_decided_now_usd", "scenario_cost_usd", "penalties_usd",
    "evpi_usd", "vss_usd", "evpi_expected_cost_usd", "vss_expected_cost_usd", "vss_note", "evpi_note",
    "wait_and_see_usd", "eev_usd", "expected_value_plan_objective_usd",
    "magnets_delivered_t", "total_cost_usd_per_kg_magnet", "supply_cost_usd_per_kg_magnet",
    "cost_parts_usd", "expected_cost_parts_usd", "streams",
    "element_supply_t", "expected_element_supply_t", "supply_share_by_origin_group", "supply_share_by_country",
    "expected_supply_share_by_origin_group", "expected_supply_share_by_country", "recycled_share",
    "expected_recycled_share", "finished_magnets_by_origin_t",
)
# honest names of the measures whose unit the name alone does not say
KPI_LABELS = {
    "objective_usd": "objective (expected cost + lambda x CVaR)",
    "evpi_usd": "EVPI in objective units (expected + lambda x CVaR)",
    "vss_usd": "VSS in objective units (expected + lambda x CVaR)",
    "evpi_expected_cost_usd": "EVPI in expected cost",
    "vss_expected_cost_usd": "VSS in expected cost",
    "first_stage_cost_usd": "first-stage cost (reservation fees + expansion)",
    "spend_decided_now_usd": "spend decided now (fees + expansion + orders in the first-stage window)",
}


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
    low = name.lower()
    if "fill_rate" in low:
        return Field(_words(name), "%", "fill_rate")
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            label = _words(name[: -len(suffix)])
            return Field(label, unit, "share" if unit in ("%", "%/yr") else "unit")
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
    """The Excel number format of a value of field ``f``; ``value_kind`` is float, int, bool, date or text."""
    if value_kind in ("bool", "text"):
        return None
    if value_kind == "date":
        return DATE_FORMAT
    if f.kind == "fill_rate":
        return FILL_RATE_FORMAT
    if f.kind == "probability":
        return PROBABILITY_FORMAT
    if f.unit in FORMATS:
        if tonnes and f.unit.startswith("t"):
            return tonnes
        return FORMATS[f.unit]
    return INTEGER_FORMAT if value_kind == "int" else PLAIN_FLOAT_FORMAT


def _smallest_shown(fmt: str) -> float:
    """The smallest magnitude number format ``fmt`` shows as non-zero (half its last digit)."""
    body = fmt.split(";")[0]
    decimals = len(re.sub(r"[^0#]", "", body.split(".")[1])) if "." in body else 0
    scale = 10.0 ** (-2 * body.count("%")) * 1000.0 ** len(re.findall(r",(?=,|$)", body.rstrip("%")))
    return 0.5 * 10.0 ** (-decimals) * scale


def cell_format(value, fmt: str | None, unit: str | None = None) -> str | None:
    """``fmt``, or the scientific format for a non-zero float it would show as zero (unless the unit is a
    mass or money amount, where such a number is rounding noise): 1e-06 never reads as 0.00."""
    if (fmt and fmt not in (SCIENTIFIC_FORMAT, DATE_FORMAT) and unit not in _QUANTITY_UNITS
            and isinstance(value, float) and value != 0 and math.isfinite(value) and abs(value) < _smallest_shown(fmt)):
        return SCIENTIFIC_FORMAT
    return fmt


def _series_kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    if len(s) and isinstance(s.iloc[0], dt.date):
        return "date"
    return "text"


def _value_kind(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, dt.date):
        return "date"
    return "text"


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


_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_date(label) -> dt.date | object:
    """``'2027-03'`` -> date(2027, 3, 1); anything else unchanged."""
    if isinstance(label, str) and _PERIOD.match(label):
        return dt.date(int(label[:4]), int(label[5:7]), 1)
    return label


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


def _text_width(values) -> int:
    return max((len(str(v)) for v in values if v is not None), default=0)


def _numeric_width(values, fmt: str | None) -> int:
    """Characters the widest of ``values`` takes in number format ``fmt``."""
    x = np.array([v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)], dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return _text_width(values)
    if fmt == DATE_FORMAT:
        return 7
    pct = bool(fmt) and fmt.endswith("%")
    decimals = len(fmt.split(".")[1].rstrip("%")) if fmt and "." in fmt and "E" not in fmt else (0 if fmt else 6)
    worst = float(np.abs(x).max()) * (100 if pct else 1)
    return len(f"{worst:,.{decimals}f}") + 1 + pct  # + sign (+ % sign)


# --------------------------------------------------------------------------------------------
# a sheet built in memory (finance sheets are small), then streamed to a write-only worksheet


@dataclass
class Col:
    """One column of a table block: header (unique in its table), values, base number format, unit."""

    header: str
    values: list
    fmt: str | None = None
    unit: str | None = None


def col(name: str, values, header: str | None = None, fmt: str | None = None, tonnes: str | None = None) -> Col:
    """A column named by its unit-suffixed ``name`` (header and format from :func:`field`)."""
    f = field(name)
    vals = [_cell_value(month_date(v)) for v in values]
    kinds = {_value_kind(v) for v in vals if v is not None}
    kind = "date" if "date" in kinds else "int" if kinds == {"int"} else \
        "float" if kinds and kinds <= {"int", "float"} else "text" if kinds else "float"
    return Col(header or column_header(name), vals, fmt or number_format(f, kind, tonnes), f.unit)


@dataclass
class Sheet:
    title: str
    rows: list = dc_field(default_factory=list)  # lists of (value, format, font) or None
    tables: list = dc_field(default_factory=list)  # (table name, ref, headers)
    charts: list = dc_field(default_factory=list)  # (chart, anchor)
    widths: dict = dc_field(default_factory=dict)  # column number -> characters
    freeze: str | None = None

    @property
    def row(self) -> int:
        """The number of the next row."""
        return len(self.rows) + 1

    def text(self, text: str, font=NOTE_FONT) -> None:
        self.rows.append([(text, None, font)])

    def blank(self) -> None:
        self.rows.append([])

    def table(self, name: str, cols: list[Col], after: list | None = None) -> tuple[int, int]:
        """A table block at the next row: header, one row per value; ``after`` an extra row below it (a
        total, outside the table so that filtering and sorting leave it alone). Returns the header row
        and last data row numbers. An empty table is written as its header and a note."""
        top = self.row
        headers = _unique([c.header for c in cols])
        self.rows.append([(h, None, HEADER_FONT) for h in headers])
        n = max((len(c.values) for c in cols), default=0)
        for i in range(n):
            self.rows.append([(c.values[i], cell_format(c.values[i], c.fmt, c.unit), None) for c in cols])
        for j, (h, c) in enumerate(zip(headers, cols), start=1):
            w = max(len(h), _numeric_width(c.values, c.fmt) if c.fmt else _text_width(c.values))
            self.widths[j] = max(self.widths.get(j, 0), w)
        if n:
            self.tables.append((name, f"A{top}:{get_column_letter(len(cols))}{top + n}", headers))
        else:
            self.text("(no rows)")
        if after is not None:
            self.rows.append([(v, cell_format(v, c.fmt, c.unit) if c is not None else None, HEADER_FONT)
                              for v, c in zip(after, cols)])
        return top, top + n


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        k = seen.get(h.lower(), 0)
        seen[h.lower()] = k + 1
        out.append(h if k == 0 else f"{h} {k + 1}")
    return out


def _add_table(ws, name: str, ref: str, headers: list[str]) -> None:
    t = Table(displayName=name, ref=ref, tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True))
    t.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(headers, start=1)]
    t.autoFilter = AutoFilter(ref=ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "in write-only mode you must add table columns manually": done above
        ws.add_table(t)


def _emit(wb: Workbook, sh: Sheet, max_widths: dict | None = None) -> None:
    ws = wb.create_sheet(sh.title)
    if sh.freeze:
        ws.freeze_panes = sh.freeze
    for j, w in sh.widths.items():
        hi = (max_widths or {}).get(j, MAX_WIDTH)
        ws.column_dimensions[get_column_letter(j)].width = max(MIN_WIDTH, min(hi, w + 2))
    for row in sh.rows:
        cells = []
        for c in row:
            if c is None or c[0] is None:
                cells.append(None)
                continue
            v, fmt, font = c
            if fmt is None and font is None:
                cells.append(v)
                continue
            cell = WriteOnlyCell(ws, v)
            if fmt:
                cell.number_format = fmt
            if font is not None:
                cell.font = font
            cells.append(cell)
        ws.append(cells)
    for name, ref, headers in sh.tables:
        _add_table(ws, name, ref, headers)
    for chart, anchor in sh.charts:
        ws.add_chart(chart, anchor)


# --------------------------------------------------------------------------------------------
# what the sheets show, from the run


def _stochastic(run) -> bool:
    return run.mode == "stochastic"


def _weighted(df: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """sum_s p_s x value per key of a stacked table; the table itself (summed per key) without scenarios."""
    w = df[keys].copy()
    p = df["probability"] if "probability" in df.columns else 1.0
    for c in values:
        w[c] = df[c] * p
    return w.groupby(keys, as_index=False, sort=False)[values].sum()


def _table(run, name: str, expected: str | None = None):
    """The expected table ``<name>_expected`` (stochastic) or ``name`` (one scenario), or None."""
    t = run.solution.tables
    if _stochastic(run):
        df = t.get(expected or f"{name}_expected")
        if df is not None:
            return df.rename(columns=lambda c: c[len("expected_"):] if c.startswith("expected_") else c)
    return t.get(name)


def _years(df: pd.DataFrame) -> list[int]:
    return sorted({int(y) for y in df.year})


def _detail_plan(run) -> tuple[bool, str]:
    """Whether the per-scenario detail sheets are written, and the Overview's sentence saying so."""
    t = run.solution.tables
    n = int(run.solution.kpis.get("scenario_count", 1) or 1)
    rows = sum(len(df) for df in t.values())
    if n <= DETAIL_MAX_SCENARIOS and rows <= DETAIL_MAX_ROWS and max(map(len, t.values()), default=0) < EXCEL_MAX_ROWS:
        return True, (f"Per-scenario detail: every plan table ({rows:,} rows, {n} scenario(s) stacked) is in the "
                      f"sheets after Assumptions and in the report's CSV files.")
    return False, (f"Per-scenario detail: {rows:,} rows over {n} scenarios, more than this workbook holds (at most "
                   f"{DETAIL_MAX_SCENARIOS} scenarios and {DETAIL_MAX_ROWS:,} rows); it is in the report's CSV files "
                   f"only (<table>.csv, every scenario stacked).")


def _pv_sentence(run) -> str:
    k = run.solution.kpis
    r = k.get("discount_rate_frac_per_year") or 0.0
    if r == 0:
        return f"Present value: {PV_NOTE}."
    return (f"Present value: each period's cost discounted at {r:.2%}/yr to {k.get('present_value_date')}, paid at "
            f"the end of its period (factor (1 + rate) ^ -(months / 12)).")


def _china_shares(run) -> pd.DataFrame:
    k = run.solution.kpis
    pre = "expected_" if _stochastic(run) else ""
    by_country = k.get(f"{pre}supply_share_by_country") or {}
    recycled = k.get(f"{pre}recycled_share") or {}
    supply = k.get(f"{pre}element_supply_t") or {}
    els = list(by_country) or list(supply)
    return pd.DataFrame({"element": els,
                         "china_share_frac": [float(by_country.get(e, {}).get(CHINA, 0.0)) for e in els],
                         "recycled_share_frac": [float(recycled.get(e, 0.0)) for e in els],
                         "supply_t": [float(supply.get(e, 0.0)) for e in els]})


def _headline(run, wc_peak_usd: float | None) -> list[tuple[str, object, str | None, str]]:
    """(measure, value, unit, note) rows of the Overview."""
    k = run.solution.kpis
    sto = _stochastic(run)
    m = lambda v: None if v is None else float(v) / USD_PER_USD_M  # noqa: E731
    lam = k.get("risk_weight_lambda", 0.0) or 0.0
    rows: list = [("case", k.get("case"), None, run.data.case.description[:200] if run.data.case.description else ""),
                  ("mode", run.mode, None, f"{k.get('scenario_count', 1)} scenario(s)" if sto else "one scenario")]
    if sto and not k.get("proven_optimal", True):
        rows.append(("optimality gap", float(k.get("gap_frac") or 0.0), "%", k.get("status_note") or "not proven optimal"))
    if sto:
        rows += [("objective", m(k.get("objective_usd")), "USD M", f"expected cost + lambda x CVaR, lambda = {lam:g}"),
                 ("expected cost", m(k.get("expected_cost_usd")), "USD M", "probability-weighted total cost, undiscounted"),
                 (f"CVaR {k.get('cvar_alpha', 0.95):g} of cost", m(k.get("cvar_cost_usd")), "USD M",
                  "expected cost of the worst 1 - alpha of probability")]
    else:
        rows.append(("total cost", m(k.get("objective_usd")), "USD M", "undiscounted"))
    rows += [("present value of cost", m(k.get("present_value_usd")), "USD M", _pv_sentence(run)),
             ("discount rate", float(k.get("discount_rate_frac_per_year") or 0.0), "%/yr",
              f"present-value date {k.get('present_value_date')}"),
             ("first-stage cost", m(k.get("first_stage_cost_usd")), "USD M", "reservation fees + recycling expansion"),
             ("spend decided now", m(k.get("spend_decided_now_usd")), "USD M",
              f"fees + expansion + every order of the first {run.data.case.risk.non_anticipative_periods} period(s) "
              f"(the non-anticipative window), at its price")]
    if wc_peak_usd is not None:
        rows.append(("peak working capital in stock", m(wc_peak_usd), "USD M",
                     "largest value of stock held at a month end (sheet Budget)"))
    if sto:
        same = " (= the objective-unit value: lambda = 0)" if lam == 0 else ""
        for key, label, note in (("evpi_usd", "EVPI, objective units", "RP - WS in expected + lambda x CVaR"),
                                 ("evpi_expected_cost_usd", "EVPI, expected cost", "E[RP plan] - E[perfect foresight]" + same),
                                 ("vss_usd", "VSS, objective units", "EEV - RP in expected + lambda x CVaR"),
                                 ("vss_expected_cost_usd", "VSS, expected cost", "E[EEV] - E[RP plan]" + same)):
            v = k.get(key)
            rows.append((label, m(v), "USD M", note if v is not None else (k.get("vss_note") or k.get("evpi_note")
                                                                           or "not computed")))
    for s, d in (k.get("streams") or {}).items():
        fr = d.get("expected_fill_rate", d.get("fill_rate"))
        rows.append((f"fill rate {s}", fr, "%", "expected over scenarios" if sto else ""))
    for e, share in zip(*(_china_shares(run)[c] for c in ("element", "china_share_frac"))):
        rows.append((f"China share {e}", share, "%", "share of element supply (purchased content + recycled) "
                                                     f"from country {CHINA}"))
    return rows


def _overview(run, cost_ref: tuple | None, detail_note: str, wc_peak_usd) -> Sheet:
    sh = Sheet(OVERVIEW_SHEET)
    k = run.solution.kpis
    sh.text(f"{k.get('case')}: finance overview", TITLE_FONT)
    sh.text("Money in USD M (million USD) unless stated; stochastic figures are probability-weighted over the "
            "scenarios; costs are undiscounted unless named present value.")
    sh.text(detail_note, WARN_FONT)
    sh.blank()
    rows = _headline(run, wc_peak_usd)
    measure = [r[0] for r in rows]
    value = [_cell_value(r[1]) for r in rows]
    fmts = []
    for (mm, v, unit, _), vv in zip(rows, value):
        f = (FILL_RATE_FORMAT if mm.startswith("fill rate") else FORMATS.get(unit)) if isinstance(vv, (int, float)) else None
        fmts.append(cell_format(vv, f, unit) if f else None)
    top = sh.row
    sh.rows.append([(h, None, HEADER_FONT) for h in ("measure", "value", "unit", "note")])
    for mm, v, f, r in zip(measure, value, fmts, rows):
        sh.rows.append([(mm, None, None), (v, f, None), (r[2], None, None), (r[3], None, None)])
    sh.tables.append(("overview", f"A{top}:D{top + len(rows)}", ["measure", "value", "unit", "note"]))
    sh.widths.update({1: max(len(x) for x in measure), 2: 14, 3: 7, 4: 60})
    sh.blank()
    sh.text("China share and recycled share of element supply, per element", HEADER_FONT)
    cs = _china_shares(run)
    c_top, c_end = sh.table("china_share", [col("element", cs.element), col("china_share_frac", cs.china_share_frac),
                                             col("recycled_share_frac", cs.recycled_share_frac),
                                             col("supply_t", cs.supply_t)])
    if cost_ref is not None:
        sheet, top_row, last_row, n_years = cost_ref
        ch = BarChart()
        ch.type, ch.grouping, ch.overlap = "col", "stacked", 100
        ch.title = "Cost by year and cost term (USD, undiscounted" + (", expected)" if _stochastic(run) else ")")
        ch.y_axis.title, ch.y_axis.number_format = "USD M", '#,##0,,'
        q = f"'{sheet}'"
        data = Reference(range_string=f"{q}!$A${top_row + 1}:${get_column_letter(1 + n_years)}${last_row}")
        ch.add_data(data, from_rows=True, titles_from_data=True)
        ch.set_categories(Reference(range_string=f"{q}!$B${top_row}:${get_column_letter(1 + n_years)}${top_row}"))
        ch.height, ch.width = 9, 16
        sh.charts.append((ch, "F2"))
    if c_end > c_top:
        ch = BarChart()
        ch.type = "bar"
        ch.title = f"China ({CHINA}) and recycled share of element supply"
        ch.x_axis.number_format = "0%"
        ch.add_data(Reference(range_string=f"'{OVERVIEW_SHEET}'!$B${c_top}:$C${c_end}"), titles_from_data=True)
        ch.set_categories(Reference(range_string=f"'{OVERVIEW_SHEET}'!$A${c_top + 1}:$A${c_end}"))
        ch.height, ch.width = 7, 16
        sh.charts.append((ch, "F21"))
    return sh


def _kpi_sheet(run) -> Sheet:
    k = run.solution.kpis
    picked = {key: k[key] for key in FINANCE_KPIS if key in k and k[key] is not None}
    rows = kpi_rows(picked, run.solution.tables)
    labels = {field(key).label: KPI_LABELS[key] for key in KPI_LABELS}
    sh = Sheet(KPI_SHEET)
    sh.text("The KPIs finance reads (kpis.json has all of them, with the audit and the solver's)", TITLE_FONT)
    sh.blank()
    vals = [r["value"] for r in rows]
    c = [Col("section", [r["section"] for r in rows]),
         Col("measure", [labels.get(r["measure"], r["measure"]) if r["section"] == "summary" else r["measure"]
                         for r in rows]),
         Col("value", vals), Col("unit", [r["unit"] for r in rows])]
    top, end = sh.table("kpis", c)
    for i, r in enumerate(rows):  # one format per value: the column mixes units
        row = sh.rows[top + i]
        row[2] = (r["value"], cell_format(r["value"], r["format"], r["unit"]), None)
    sh.widths[3] = max(len("value"), *(_numeric_width([r["value"]], r["format"]) if r["format"]
                                       else min(MAX_VALUE_WIDTH, _text_width([r["value"]])) for r in rows)) if rows else 8
    sh.freeze = f"A{top + 1}"
    return sh


def _cost_sheet(run) -> tuple[Sheet, tuple | None]:
    sh = Sheet(COST_SHEET)
    cby = _table(run, "cost_by_year")
    sto = _stochastic(run)
    if cby is None or not len(cby):
        sh.text("No cost-by-year table in this run.", WARN_FONT)
        return sh, None
    years = _years(cby)
    terms = list(dict.fromkeys(cby.term))
    stage = dict(zip(cby.term, cby.stage))
    ref = None
    for what, colname, title in (
            ("cost", "cost_usd", "Cost by cost term and calendar year, USD, undiscounted"),
            ("pv", "pv_usd", "Present value by cost term and calendar year, USD")):
        piv = cby.pivot_table(index="term", columns="year", values=colname, aggfunc="sum", sort=False).reindex(terms)
        sh.text(title + (" (expected over the scenarios, probability-weighted)" if sto else ""), TITLE_FONT)
        sh.text(_pv_sentence(run) if what == "pv" else
                "Each term's cost is booked in the period it is paid (orders in their order month, the expansion "
                "in the first month, the terminal penalty in the last): model.md §14.1.")
        cols = [Col("term", terms)] + [Col(str(y), [float(piv.loc[t, y]) for t in terms], FORMATS["USD"], "USD")
                                       for y in years]
        cols += [Col("total (USD)", [float(piv.loc[t].sum()) for t in terms], FORMATS["USD"], "USD"),
                 Col("stage", [stage[t] for t in terms])]
        total = ["total"] + [float(piv[y].sum()) for y in years] + [float(piv.values.sum()), ""]
        top, end = sh.table(f"{what}_by_year", cols, after=total)
        if what == "cost":
            ref = (COST_SHEET, top, end, len(years))
        sh.blank()
    return sh, ref


def _budget_sheet(run) -> tuple[Sheet, float | None]:
    sh = Sheet(BUDGET_SHEET)
    sto = _stochastic(run)
    b = _table(run, "budget")
    W = run.data.case.risk.non_anticipative_periods
    sh.text("Budget view by year, USD, undiscounted" + (" (expected over the scenarios)" if sto else ""), TITLE_FONT)
    for line in (f"decided now: reservation fees, recycling expansion and every order of the first {W} period(s) (the "
                 f"non-anticipative window) at its price",
                 "committed: after the window, what contracts make the buyer pay whatever happens: the minimum take "
                 "(or take-or-pay share) of the available reservation at its price, and take-or-pay paid",
                 "scenario-dependent: everything else (spot and discretionary contract orders after the window, "
                 "conversion, holding, recycling, swarf credit, penalties)"):
        sh.text(line)
    if b is not None and len(b):
        years = _years(b)
        cats = [c for c in BUDGET_CATEGORIES if c in set(b.category)]
        piv = b.pivot_table(index="category", columns="year", values="cost_usd", aggfunc="sum").reindex(cats)
        pv = b.groupby("category").pv_usd.sum()
        cols = [Col("category", [c.replace("_", " ") for c in cats])]
        cols += [Col(str(y), [float(piv.loc[c, y]) for c in cats], FORMATS["USD"], "USD") for y in years]
        cols += [Col("total (USD)", [float(piv.loc[c].sum()) for c in cats], FORMATS["USD"], "USD"),
                 Col("present value (USD)", [float(pv[c]) for c in cats], FORMATS["USD"], "USD")]
        total = ["total"] + [float(piv[y].sum()) for y in years] + [float(piv.values.sum()), float(pv.sum())]
        sh.table("budget", cols, after=total)
    sh.blank()
    wc = _table(run, "working_capital")
    peak = None
    sh.text("Working capital: value of the stock held at the end of each month, USD", TITLE_FONT)
    sh.text("value = stock (t of element) x 1,000 x valuation (USD/kg of element), the valuation being the "
            "scenario's average purchase price of the element's content (list price when none was bought); "
            "model.md §14.1" + ("; expected over the scenarios" if sto else ""))
    if wc is not None and len(wc):
        cols = [col("month", wc.period), col("element", wc.element), col("stock_t", wc.stock_t)]
        if "valuation_usd_per_kg" in wc.columns:
            cols.append(col("valuation_usd_per_kg", wc.valuation_usd_per_kg))
        cols.append(col("value_usd", wc.value_usd))
        sh.table("working_capital", cols)
        peak = float(wc.groupby("period").value_usd.sum().max())
    return sh, peak


def _plan_sheet(run) -> Sheet:
    sh = Sheet(PLAN_SHEET)
    p = run.solution.tables["purchases"]
    sto = _stochastic(run)
    keys = ["order_period", "offer", "supplier", "country", "origin_group", "material", "kind", "arrival_period"]
    e = _weighted(p, keys, ["purchased_t", "cost_usd", "price_usd_per_kg"])  # price: sum_s p_s price_s
    e = e[e.purchased_t > 1e-9].reset_index(drop=True)
    sh.text("Purchases by order month and offer, t and USD" + (" (expected over the scenarios, probability-weighted)"
                                                               if sto else ""), TITLE_FONT)
    sh.text("Orders with a non-zero quantity; the arrival month adds the lead time and any licence review.")
    sh.blank()
    top, _ = sh.table("expected_plan", [col("order_month", e.order_period), col("offer", e.offer),
                                        col("supplier", e.supplier), col("country", e.country),
                                        col("origin_group", e.origin_group), col("material", e.material),
                                        col("kind", e.kind), col("arrival_month", e.arrival_period),
                                        col("purchased_t", e.purchased_t), col("cost_usd", e.cost_usd),
                                        col("price_usd_per_kg", e.price_usd_per_kg)])
    sh.freeze = f"A{top + 1}"
    return sh


def _contract_sheet(run) -> Sheet:
    sh = Sheet(CONTRACT_SHEET)
    t = run.solution.tables
    r = t["reservations"]
    e = _weighted(r, ["period", "offer"], ["reserved_t", "purchased_t", "fee_usd"])
    offers = {o.id: o for o in run.data.case.offers}
    sh.text("Reservations by contract offer and month (first stage: the same in every scenario)", TITLE_FONT)
    sh.text("reserved t/period, purchased t (expected over the scenarios), fee USD")
    sh.blank()
    sh.table("reservations", [col("month", e.period), col("offer", e.offer),
                              col("supplier", [offers[o].supplier if o in offers else "" for o in e.offer]),
                              col("reserved_t", e.reserved_t), col("purchased_t", e.purchased_t),
                              col("fee_usd", e.fee_usd)])
    c = t.get("contracts")
    if c is not None:
        sh.blank()
        sh.text("Contract tranches signed (volume held over the term; take-or-pay at stake if nothing is taken)",
                TITLE_FONT)
        if len(c):
            sh.table("contract_tranches", [col(n, c[n]) for n in c.columns])
        else:
            sh.text("No tranche signed (no contract with tranche terms, or none worth signing).")
    return sh


def _scenario_sheet(run) -> Sheet:
    sh = Sheet(SCENARIO_SHEET)
    t = run.solution.tables
    k = run.solution.kpis
    sh.text("One row per scenario: cost, present value and service (the plan tables of every scenario are in the "
            "CSV files)", TITLE_FONT)
    sh.blank()
    sht = t["shortages"]
    cbp = t.get("cost_by_period")
    if _stochastic(run) and "scenarios" in t:
        s = t["scenarios"]
        names = s.scenario.tolist()
        g = sht.groupby("scenario", sort=False)[["demand_t", "shortage_t"]].sum()
        pv = cbp.groupby("scenario", sort=False).pv_usd.sum() if cbp is not None else None
        cols = [col("scenario", names), col("probability", s.probability), col("total_cost_usd", s.total_cost_usd),
                col("first_stage_cost_usd", s.first_stage_cost_usd)]
        if pv is not None:
            cols.append(col("present_value_usd", [float(pv.get(n, 0.0)) for n in names]))
        dem, short = [float(g.demand_t.get(n, 0.0)) for n in names], [float(g.shortage_t.get(n, 0.0)) for n in names]
        cols += [col("shortage_t", short), col("fill_rate", [1 - x / d if d > 0 else 1.0 for x, d in zip(short, dem)])]
        for extra in ("perfect_foresight_cost_usd", "eev_cost_usd"):
            if extra in s.columns:
                cols.append(col(extra, s[extra]))
    else:
        dem, short = float(sht.demand_t.sum()), float(sht.shortage_t.sum())
        cols = [col("scenario", [k.get("scenario") or run.data.scenario]), col("probability", [1.0]),
                col("total_cost_usd", [k.get("objective_usd")]), col("first_stage_cost_usd", [k.get("first_stage_cost_usd")]),
                col("present_value_usd", [k.get("present_value_usd")]), col("shortage_t", [short]),
                col("fill_rate", [1 - short / dem if dem > 0 else 1.0])]
    top, _ = sh.table("scenarios", cols)
    sh.freeze = f"B{top + 1}"
    return sh


def _series_mean(data, kind: str, key: str, attr: str, scalar):
    """(mean over the horizon, where it comes from) of an input series."""
    series = getattr(data, attr).get(key)
    if f"{kind}:{key}" in data.from_csv and series:
        return float(np.mean(series)), f"{kind} CSV, mean of {len(series)} periods"
    if scalar is not None:
        return float(scalar), "input"
    return (float(np.mean(series)), "derived") if series else (None, "")


def _assumption_sheet(run) -> Sheet:
    sh = Sheet(ASSUMPTION_SHEET)
    data, case = run.data, run.data.case
    sh.text("Key inputs of the case as read (before scenario effects), with their sources", TITLE_FONT)
    sh.text("Price and capacity: the input figure, or the mean over the horizon of the CSV series it is read from.")
    sh.blank()
    o = case.offers
    prices = [_series_mean(data, "price", x.id, "price_usd_per_kg", x.price_usd_per_kg) for x in o]
    caps = [_series_mean(data, "capacity", x.id, "capacity_t_per_period", x.capacity_t_per_period) for x in o]
    sh.text("Offers", HEADER_FONT)
    sh.table("offers", [col("offer", [x.id for x in o]), col("supplier", [x.supplier for x in o]),
                        col("country", [x.country for x in o]), col("origin_group", [x.origin_group for x in o]),
                        col("material", [x.material for x in o]), col("kind", [x.kind for x in o]),
                        col("price_usd_per_kg", [p[0] for p in prices]), col("price_basis", [p[1] for p in prices]),
                        col("capacity_t_per_period", [c[0] for c in caps]), col("capacity_basis", [c[1] for c in caps]),
                        col("lead_time_periods", [x.lead_time_periods for x in o]),
                        col("reservation_fee_usd_per_kg", [x.reservation_fee_usd_per_kg for x in o]),
                        col("min_take_frac", [x.min_take_frac for x in o]),
                        col("committed_t_per_period", [x.committed_t_per_period for x in o]),
                        col("take_or_pay_frac", [x.terms.take_or_pay_frac if x.terms is not None else 0.0 for x in o]),
                        col("source", [x.source for x in o])])
    sh.blank()
    rules = case.licence_rules
    sh.text("Licence rules", HEADER_FONT)
    sh.table("licence_rules", [col("rule", [r.id for r in rules]), col("regime", [r.regime for r in rules]),
                               col("origin_groups", [", ".join(r.origin_groups) for r in rules]),
                               col("materials", [", ".join(r.materials) for r in rules]),
                               col("end_uses", [", ".join(r.end_uses) for r in rules]),
                               col("quota_t_per_period", [r.quota_t_per_period for r in rules]),
                               col("approval_frac", [r.approval_frac for r in rules]),
                               col("review_lead_time_periods", [r.review_lead_time_periods for r in rules]),
                               col("valid_from", [r.valid_from for r in rules]),
                               col("valid_to", [r.valid_to for r in rules]),
                               col("source", [r.source for r in rules])])
    sh.blank()
    sp = case.stockpile
    sh.text("Stockpile", HEADER_FONT)
    sh.table("stockpile", [col("element", [s.element for s in sp]),
                           col("initial_t", [sum(s.initial_t_by_origin.values()) for s in sp]),
                           col("capacity_t", [s.capacity_t for s in sp]),
                           col("holding_cost_usd_per_kg_per_period", [s.holding_cost_usd_per_kg_per_period for s in sp]),
                           col("floor_t", [s.floor_t for s in sp]),
                           col("floor_months_of_use", [s.floor_months_of_use for s in sp]),
                           col("floor_penalty_usd_per_kg", [s.floor_penalty_usd_per_kg for s in sp]),
                           col("floor_hard", [s.floor_hard for s in sp]),
                           col("terminal_min_t", [s.terminal_min_t for s in sp]),
                           col("terminal_penalty_usd_per_kg", [s.terminal_penalty_usd_per_kg for s in sp]),
                           col("source", [s.source for s in sp])])
    sh.blank()
    st = case.streams
    dem = [_series_mean(data, "demand", s.id, "demand_t_per_period", s.demand_t_per_period) for s in st]
    sh.text("Demand streams", HEADER_FONT)
    sh.table("streams", [col("stream", [s.id for s in st]), col("grade", [s.grade for s in st]),
                         col("end_use", [s.end_use for s in st]), col("demand_t_per_period", [d[0] for d in dem]),
                         col("demand_basis", [d[1] for d in dem]),
                         col("shortage_cost_usd_per_kg", [s.shortage_cost_usd_per_kg for s in st]),
                         col("min_service_frac", [s.min_service_frac for s in st]),
                         col("source", [s.source for s in st])])
    sh.blank()
    rk, fi, h = case.risk, case.finance, case.horizon
    one = len(case.site_plants) == 1
    per_plant = []
    for pl in case.site_plants:
        at = "" if one else f" ({pl.id})"
        where = "plant" if one else f"plants[{pl.id}]"
        per_plant += [(f"plant yield{at}", pl.yield_frac, "%", pl.source or f"{where}.yield_frac"),
                      (f"conversion cost{at}", pl.conversion_cost_usd_per_kg, "USD/kg", pl.source or where),
                      (f"swarf credit{at}", pl.swarf_credit_usd_per_kg, "USD/kg", pl.source or where)]
    settings = [("horizon start", h.start_month, None, "horizon.start_month"),
                ("periods", h.periods, None, "horizon.periods"),
                ("months per period", h.months_per_period, None, "horizon.months_per_period"),
                *per_plant,
                ("CVaR alpha", rk.cvar_alpha, None, "risk.cvar_alpha"),
                ("risk weight lambda", rk.risk_weight_lambda, None, "risk.risk_weight_lambda"),
                ("non-anticipative periods", rk.non_anticipative_periods, "periods", "risk.non_anticipative_periods"),
                ("discount rate", fi.discount_rate_frac_per_year, "%/yr", "finance.discount_rate_frac_per_year"),
                ("present-value base year", base_year(case), None,
                 "finance.base_year (blank: the horizon start's year)")]
    sh.text("Plant, risk and finance settings", HEADER_FONT)
    vals = [_cell_value(s[1]) for s in settings]
    cols = [Col("setting", [s[0] for s in settings]), Col("value", vals), Col("unit", [s[2] for s in settings]),
            Col("source", [s[3] for s in settings])]
    top, _ = sh.table("settings", cols)
    for i, (s, v) in enumerate(zip(settings, vals)):
        f = FORMATS.get(s[2]) if isinstance(v, float) else None
        sh.rows[top + i][1] = (v, cell_format(v, f, s[2]) if f else (PLAIN_FLOAT_FORMAT if isinstance(v, float) else None),
                               None)
    return sh


# --------------------------------------------------------------------------------------------
# detail sheets (one per table, streamed: up to DETAIL_MAX_ROWS rows together)


def write_table(wb: Workbook, name: str, df: pd.DataFrame, table_name: str) -> None:
    """One table on sheet ``name`` as an Excel table (``table_name``) from A1: headers with units, number
    formats by unit, periods as dates, frozen header row, column widths."""
    ws = wb.create_sheet(name)
    headers = _unique([column_header(c) for c in df.columns])
    columns, formats, units = [], [], []
    for c in df.columns:
        s = df[c]
        kind = _series_kind(s)
        vals = s.tolist() if kind in ("bool", "int") else [_cell_value(v) for v in s.tolist()]
        first = next((v for v in vals if v is not None), None)
        if kind == "text" and isinstance(first, str) and _PERIOD.match(first):
            vals = [month_date(v) for v in vals]
            kind = "date"
        columns.append(vals)
        formats.append(number_format(field(c), kind))
        units.append(field(c).unit)
    ws.freeze_panes = "A2"
    for j, (h, f, vals) in enumerate(zip(headers, formats, columns), start=1):
        w = max(len(h), _numeric_width(vals, f) if f else _text_width(vals))
        ws.column_dimensions[get_column_letter(j)].width = max(MIN_WIDTH, min(MAX_WIDTH, w + 2))
    head = []
    for h in headers:
        c = WriteOnlyCell(ws, h)
        c.font = HEADER_FONT
        head.append(c)
    if not len(df):
        c = WriteOnlyCell(ws, "(no rows)")
        c.font = NOTE_FONT
        head += [None, c]
    ws.append(head)
    # one styled cell per column reused for every row (a write-only sheet serialises a row as it is appended);
    # a column with values its format would show as 0 (cell_format) gets a second, scientific one
    protos, scis, tiny = [], [], []
    for f, u, vals in zip(formats, units, columns):
        p = sci = None
        if f:
            p = WriteOnlyCell(ws)
            p.number_format = f
            sci = WriteOnlyCell(ws)
            sci.number_format = SCIENTIFIC_FORMAT
        protos.append(p)
        scis.append(sci)
        small = set()
        if f and f not in (DATE_FORMAT, SCIENTIFIC_FORMAT) and u not in _QUANTITY_UNITS:
            lim = _smallest_shown(f)
            small = {i for i, v in enumerate(vals) if isinstance(v, float) and v != 0 and abs(v) < lim}
        tiny.append(small)

    def styled(p, v):
        p.value = v
        return p

    if not any(tiny):
        for row in zip(*columns):
            ws.append([v if p is None or v is None else styled(p, v) for v, p in zip(row, protos)])
    else:
        for i, row in enumerate(zip(*columns)):
            ws.append([v if p is None or v is None else styled(sci if i in small else p, v)
                       for v, p, sci, small in zip(row, protos, scis, tiny)])
    if len(df):
        _add_table(ws, table_name, f"A1:{get_column_letter(len(headers))}{len(df) + 1}", headers)


# --------------------------------------------------------------------------------------------
# KPIs and manifest as rows


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


def _manifest_sheet(manifest: dict) -> Sheet:
    rows = flatten_manifest(manifest)
    sh = Sheet(MANIFEST_SHEET)
    vals = [v for _, v in rows]
    top, _ = sh.table("manifest", [Col("key", [k for k, _ in rows]), Col("value", vals)])
    for i, v in enumerate(vals):
        if isinstance(v, float):
            sh.rows[top + i][1] = (v, cell_format(v, PLAIN_FLOAT_FORMAT), None)
    sh.widths[2] = min(MAX_VALUE_WIDTH, sh.widths.get(2, 8))
    sh.freeze = f"A{top + 1}"
    return sh


# --------------------------------------------------------------------------------------------


def write_excel(run, manifest: dict, path: str | Path) -> None:
    """Write ``plan.xlsx`` for ``run`` to ``path``: the finance sheets, the per-scenario detail sheets when
    the run is small enough (:data:`DETAIL_MAX_SCENARIOS`, :data:`DETAIL_MAX_ROWS`), the Manifest."""
    detail, detail_note = _detail_plan(run)
    cost, cost_ref = _cost_sheet(run)
    budget, wc_peak = _budget_sheet(run)
    sheets = [_overview(run, cost_ref, detail_note, wc_peak), _kpi_sheet(run), cost, budget, _plan_sheet(run),
              _contract_sheet(run), _scenario_sheet(run), _assumption_sheet(run)]
    wb = Workbook(write_only=True)
    for sh in sheets:
        _emit(wb, sh, {4: MAX_VALUE_WIDTH} if sh.title == OVERVIEW_SHEET else None)
    used = {s.lower() for s in FINANCE_SHEETS} | {MANIFEST_SHEET.lower()}
    if detail:
        for name, df in run.solution.tables.items():
            write_table(wb, sheet_name(f"{DETAIL_PREFIX}{name}", used), df, f"t_{re.sub(r'[^A-Za-z0-9_]', '_', name)}")
    _emit(wb, _manifest_sheet(manifest))
    wb.save(path)
