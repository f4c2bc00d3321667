"""plan.xlsx (model/report/excel.py): written for a deterministic and the default stochastic run, reopened
with openpyxl, and checked sheet by sheet: sheets, headers with units, frozen header rows,
autofilters, number formats, the KPI objective, row counts, the manifest, and the row-limit note."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

import model.report.excel as xl
from model.report.excel import column_header, write_excel

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"

PLAN_TABLES = ["purchases", "reservations", "arrivals", "production", "eligibility_use", "magnet_purchases", "stock",
               "stock_by_element", "recycling", "expansions", "recovered", "shortages", "costs"]
STOCHASTIC_TABLES = ["scenarios", "stream_risk", "marginal_values", "marginal_values_expected"]


def _manifest(run) -> dict:
    return {
        "command_line": ["solve.py", str(BASE), "--out", "reports/base run"],
        "case": run.data.case.name,
        "input_files": [{"path": p, "sha256": h} for p, h in run.data.input_files],
        "solver": {"name": run.result.solver, "version": run.result.solver_version, "options": run.result.options},
        "timings_s": run.timings_s,
    }


class Written:
    def __init__(self, run, path: Path):
        self.run, self.path = run, path
        self.wb = openpyxl.load_workbook(path)

    def headers(self, sheet: str) -> list:
        return [c.value for c in self.wb[sheet][1]]

    def column(self, sheet: str, name: str) -> int:
        """1-based column of the table column ``name`` (by its header)."""
        return self.headers(sheet).index(column_header(name)) + 1

    def kpi(self, section: str, measure: str):
        ws = self.wb["KPIs"]
        hits = [r for r in ws.iter_rows(min_row=2) if r[0].value == section and r[1].value == measure]
        assert len(hits) == 1, (section, measure, len(hits))
        return hits[0]


def _write(run, tmp_path_factory, name: str) -> Written:
    path = tmp_path_factory.mktemp(name) / "plan.xlsx"
    write_excel(run, _manifest(run), path)
    return Written(run, path)


@pytest.fixture(scope="module")
def det(tmp_path_factory, default_run) -> Written:
    return _write(default_run("deterministic"), tmp_path_factory, "det")


@pytest.fixture(scope="module")
def sto(tmp_path_factory, default_run) -> Written:
    return _write(default_run(), tmp_path_factory, "sto")


@pytest.fixture(scope="module", params=["det", "sto"])
def book(request) -> Written:
    return request.getfixturevalue(request.param)


# -------------------------------------------------------------------------------------------- mapping


@pytest.mark.parametrize("name, header", [
    ("purchased_t", "purchased (t)"),
    ("cost_usd", "cost (USD)"),
    ("price_usd_per_kg", "price (USD/kg)"),
    ("marginal_value_usd_per_t", "marginal value (USD/t)"),
    ("expected_marginal_value_usd_per_t", "expected marginal value (USD/t)"),
    ("added_t_feed_per_period", "added (t feed/period)"),
    ("demand_t_per_period", "demand (t/period)"),
    ("element_content_frac", "element content (%)"),
    ("expected_fill_rate", "expected fill rate (%)"),
    ("shortage_t_ev_traction", "shortage ev_traction (t)"),
    ("cvar_shortage_t", "CVaR shortage (t)"),
    ("total_cost_usd_per_kg_magnet", "total cost (USD/kg magnet)"),
    ("probability", "probability"),
    ("probability_binding", "probability binding"),
    ("usable_from", "usable from"),
    ("origin_group", "origin group"),
])
def test_column_header(name, header):
    assert column_header(name) == header


def test_number_formats_by_unit():
    f = xl.number_format
    assert f(xl.field("cost_usd")) == "#,##0"
    assert f(xl.field("price_usd_per_kg")) == f(xl.field("marginal_value_usd_per_t")) == "#,##0.00"
    assert f(xl.field("purchased_t")) == f(xl.field("added_t_feed_per_period")) == "#,##0.000"
    assert f(xl.field("element_content_frac")) == "0.0%"
    assert f(xl.field("probability")) == "0.0000"
    assert f(xl.field("offer"), "text") is None and f(xl.field("binding"), "bool") is None


def test_sheet_names_valid_and_unique():
    used = {"kpis", "manifest"}
    names = [xl.sheet_name(n, used) for n in ["a" * 40, "a" * 40, "x[1]:y/z?", "KPIs"]]
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names} | {"kpis", "manifest"}) == len(names) + 2
    assert not any(ch in names[2] for ch in "[]:*?/\\")


# -------------------------------------------------------------------------------------------- workbooks


def test_every_expected_sheet(det, sto):
    assert det.wb.sheetnames == ["KPIs", *det.run.solution.tables, "Manifest"]
    assert sto.wb.sheetnames == ["KPIs", *sto.run.solution.tables, "Manifest"]
    for name in PLAN_TABLES + ["marginal_values"]:
        assert name in det.wb.sheetnames
    for name in PLAN_TABLES + STOCHASTIC_TABLES:
        assert name in sto.wb.sheetnames
    assert all(len(n) <= 31 for n in sto.wb.sheetnames)


def test_headers_carry_units(book):
    h = book.headers("purchases")
    assert "purchased (t)" in h and "cost (USD)" in h and "price (USD/kg)" in h
    assert "added (t feed/period)" in book.headers("expansions")
    assert "marginal value (USD/t)" in book.headers("marginal_values")
    for name, df in book.run.solution.tables.items():
        assert book.headers(name) == [column_header(c) for c in df.columns], name
        for c in df.columns:
            if c.endswith(("_t", "_usd", "_usd_per_kg", "_usd_per_t")):
                assert column_header(c).endswith(")"), c


def test_frozen_header_and_autofilter(book):
    for name, df in book.run.solution.tables.items():
        ws = book.wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref == f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}", name
    for name in ("KPIs", "Manifest"):
        assert book.wb[name].freeze_panes == "A2"
        assert book.wb[name].auto_filter.ref


def test_row_counts_equal_dataframes(book):
    for name, df in book.run.solution.tables.items():
        ws = book.wb[name]
        assert ws.max_row - 1 == len(df), name
        assert ws.max_column == len(df.columns), name


def test_number_formats_applied(book):
    ws = book.wb["purchases"]
    n = ws.max_row
    for col, fmt in [("cost_usd", "#,##0"), ("purchased_t", "#,##0.000"), ("price_usd_per_kg", "#,##0.00")]:
        j = book.column("purchases", col)
        assert ws.cell(row=2, column=j).number_format == fmt, col
        assert ws.cell(row=n, column=j).number_format == fmt, col
    ws = book.wb["marginal_values"]
    assert ws.cell(row=2, column=book.column("marginal_values", "marginal_value_usd_per_t")).number_format == "#,##0.00"
    assert ws.cell(row=2, column=book.column("marginal_values", "constraint")).number_format == "General"


def test_stochastic_probability_and_share_formats(sto):
    ws = sto.wb["purchases"]
    assert ws.cell(row=2, column=sto.column("purchases", "probability")).number_format == "0.0000"
    ws = sto.wb["stream_risk"]
    assert ws.cell(row=2, column=sto.column("stream_risk", "expected_fill_rate")).number_format == "0.00%"
    assert ws.cell(row=2, column=sto.column("stream_risk", "probability_any_shortage")).number_format == "0.0000"


def test_values_round_trip(det):
    for name, df in det.run.solution.tables.items():
        got = pd.read_excel(det.path, sheet_name=name)
        exp = df.set_axis([column_header(c) for c in df.columns], axis=1)
        pd.testing.assert_frame_equal(got, exp, check_dtype=False, obj=name)


def test_kpi_objective_and_formats(book):
    k = book.run.solution.kpis
    row = book.kpi("summary", "objective")
    assert row[2].value == k["objective_usd"]
    assert row[3].value == "USD" and row[2].number_format == "#,##0"
    assert [c.value for c in book.wb["KPIs"][1]] == ["section", "measure", "value", "unit"]


def test_kpis_deterministic(det):
    k = det.run.solution.kpis
    assert det.kpi("summary", "first stage cost")[2].value == k["first_stage_cost_usd"]
    per_kg = det.kpi("summary", "total cost")
    assert per_kg[2].value == k["total_cost_usd_per_kg_magnet"] and per_kg[3].value == "USD/kg magnet"
    assert per_kg[2].number_format == "#,##0.00"
    for term, v in k["cost_parts_usd"].items():
        assert det.kpi("cost parts", term)[2].value == v
    s = next(iter(k["streams"]))
    fill = det.kpi(f"streams / {s}", "fill rate")
    assert fill[2].value == k["streams"][s]["fill_rate"] and fill[2].number_format == "0.00%"
    assert det.kpi(f"streams / {s}", "demand")[2].number_format == "#,##0.00"
    e, shares = next(iter(k["supply_share_by_origin_group"].items()))
    g, v = next(iter(shares.items()))
    share = det.kpi(f"supply share by origin group / {e}", g)
    assert share[2].value == v and share[2].number_format == "0.0%" and share[3].value == "%"


def test_kpis_stochastic(sto):
    k = sto.run.solution.kpis
    for measure, key in [("expected cost", "expected_cost_usd"), ("CVaR cost", "cvar_cost_usd"),
                         ("first stage cost", "first_stage_cost_usd"), ("EVPI", "evpi_usd"), ("VSS", "vss_usd")]:
        row = sto.kpi("summary", measure)
        assert row[2].value == k[key] and row[2].number_format == "#,##0", measure
    for s, d in k["streams"].items():
        assert sto.kpi(f"streams / {s}", "expected fill rate")[2].value == d["expected_fill_rate"]
        assert sto.kpi(f"streams / {s}", "CVaR shortage")[2].value == d["cvar_shortage_t"]
        assert sto.kpi(f"streams / {s}", "probability any shortage")[2].number_format == "0.0000"
    e, shares = next(iter(k["expected_supply_share_by_country"].items()))
    g, v = next(iter(shares.items()))
    assert sto.kpi(f"expected supply share by country / {e}", g)[2].value == v
    assert sto.kpi("scenarios", "scenarios table")[2].value == "see sheet scenarios"


def test_manifest_sheet(det):
    rows = {r[0].value: r[1].value for r in det.wb["Manifest"].iter_rows(min_row=2)}
    assert rows["case"] == det.run.data.case.name
    assert rows["command_line"] == f"solve.py {BASE} --out 'reports/base run'"
    p, h = det.run.data.input_files[0]
    assert rows["input_files[0].path"] == p and rows["input_files[0].sha256"] == h
    assert rows["timings_s.total_s"] == det.run.timings_s["total_s"]
    assert rows["solver.options.threads"] == det.run.result.options["threads"]


def test_long_table_is_cut_with_a_note(det, tmp_path, monkeypatch):
    limit = 50  # stands in for Excel's 1,048,576 rows
    monkeypatch.setattr(xl, "EXCEL_MAX_ROWS", limit + 1)
    path = tmp_path / "plan.xlsx"
    write_excel(det.run, _manifest(det.run), path)
    wb = openpyxl.load_workbook(path)
    for name, df in det.run.solution.tables.items():
        ws = wb[name]
        m = len(df.columns)
        if len(df) > limit:
            assert ws.max_row == limit + 1, name
            note = ws.cell(row=1, column=m + 2).value
            assert note and f"first {limit:,} of {len(df):,} rows" in note and f"{name}.csv" in note, name
            assert ws.auto_filter.ref == f"A1:{get_column_letter(m)}{limit + 1}"
        else:
            assert ws.max_row == len(df) + 1 and ws.max_column == m, name
    assert len(det.run.solution.tables["purchases"]) > limit  # the cut was exercised
