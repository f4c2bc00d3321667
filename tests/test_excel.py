"""plan.xlsx (model/report/excel.py), the finance workbook: written for a deterministic and the default
stochastic run, reopened with openpyxl, and checked sheet by sheet: the finance sheets and the detail
sheets, Excel tables with filters, periods as dates, headers with units, number formats (tolerance-like
numbers never shown as 0.00), the figures against the KPIs and tables, the charts, the manifest, and the
size limit above which the per-scenario detail stays in the CSVs (monkeypatched small)."""

from __future__ import annotations

from pathlib import Path

import datetime as dt
from dataclasses import replace

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from pytest import approx

import model.report.excel as xl
from model.report.excel import column_header, write_excel
from model.results.tables import Solution

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"

FINANCE_SHEETS = ["Overview", "KPIs", "Cost by year", "Budget", "Expected plan", "Contracts", "Scenarios", "Assumptions"]
PLAN_TABLES = ["purchases", "reservations", "arrivals", "production", "eligibility_use", "magnet_purchases", "stock",
               "stock_by_element", "recycling", "expansions", "recovered", "shortages", "costs", "cost_by_period",
               "cost_by_year", "working_capital", "budget"]
STOCHASTIC_TABLES = ["scenarios", "stream_risk", "marginal_values", "marginal_values_expected", "cost_by_year_expected",
                     "budget_expected"]


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

    def headers(self, sheet: str, row: int = 1) -> list:
        return [c.value for c in self.wb[sheet][row] if c.value is not None]

    def column(self, sheet: str, name: str) -> int:
        """1-based column of the table column ``name`` (by its header) of a detail sheet."""
        return self.headers(sheet).index(column_header(name)) + 1

    def table(self, sheet: str, name: str) -> list[dict]:
        """The rows of Excel table ``name`` on ``sheet`` as dicts by header (cells, not values)."""
        ws = self.wb[sheet]
        t = ws.tables[name]
        rows = list(ws[t.ref])
        heads = [c.value for c in rows[0]]
        return [dict(zip(heads, r)) for r in rows[1:]]

    def kpi(self, section: str, measure: str):
        hits = [r for r in self.table("KPIs", "kpis") if r["section"].value == section and r["measure"].value == measure]
        assert len(hits) == 1, (section, measure, len(hits))
        return hits[0]

    def headline(self, measure: str):
        hits = [r for r in self.table("Overview", "overview") if r["measure"].value == measure]
        assert len(hits) == 1, (measure, len(hits))
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


def detail(name: str) -> str:
    return f"{xl.DETAIL_PREFIX}{name}"


def test_every_expected_sheet(det, sto):
    for book in (det, sto):
        names = book.wb.sheetnames
        assert names[: len(FINANCE_SHEETS)] == FINANCE_SHEETS and names[-1] == "Manifest"
        # the default case is below the detail limit (12 scenarios): every table also has its detail sheet
        assert names[len(FINANCE_SHEETS):-1] == [detail(t) for t in book.run.solution.tables]
        assert all(len(n) <= 31 for n in names)
    for name in PLAN_TABLES + ["marginal_values"]:
        assert detail(name) in det.wb.sheetnames
    for name in PLAN_TABLES + STOCHASTIC_TABLES:
        assert detail(name) in sto.wb.sheetnames


def test_every_block_is_an_excel_table_with_filters(book):
    names = set()
    for sheet in FINANCE_SHEETS + ["Manifest"] + [detail(t) for t, df in book.run.solution.tables.items() if len(df)]:
        ws = book.wb[sheet]
        assert ws.tables, sheet
        assert not ws.auto_filter.ref, sheet  # filters belong to the tables (a sheet filter over one corrupts it)
        for name in ws.tables:
            t = ws.tables[name]
            assert t.autoFilter is not None and t.autoFilter.ref == t.ref, (sheet, name)
            assert [c.value for c in ws[t.ref][0]] == [c.name for c in t.tableColumns], (sheet, name)
            assert name.lower() not in names, name
            names.add(name.lower())
    assert book.wb["Overview"].tables["overview"]


def test_detail_sheets_carry_units_and_rows(book):
    for name, df in book.run.solution.tables.items():
        ws = book.wb[detail(name)]
        assert book.headers(detail(name))[: len(df.columns)] == [column_header(c) for c in df.columns], name
        assert ws.freeze_panes == "A2", name
        assert ws.max_row - 1 == len(df), name
        if len(df):
            assert ws.tables[f"t_{name}"].ref == f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}", name
    h = book.headers(detail("purchases"))
    assert "purchased (t)" in h and "cost (USD)" in h and "price (USD/kg)" in h
    assert "added (t feed/period)" in book.headers(detail("expansions"))


def test_periods_are_dates(book):
    for sheet, table, header in (("Expected plan", "expected_plan", "order month"),
                                 ("Expected plan", "expected_plan", "arrival month"),
                                 ("Contracts", "reservations", "month"), ("Budget", "working_capital", "month")):
        cells = [r[header] for r in book.table(sheet, table)]
        assert cells and all(c.is_date and c.number_format == "yyyy-mm" for c in cells), (sheet, header)
        assert cells[0].value.day == 1
    first = book.run.data.periods[0]
    assert min(c["order month"].value for c in book.table("Expected plan", "expected_plan")) == \
        dt.datetime(int(first[:4]), int(first[5:]), 1)
    ws = book.wb[detail("purchases")]
    c = ws.cell(row=2, column=book.column(detail("purchases"), "order_period"))
    assert c.is_date and c.number_format == "yyyy-mm"


def test_number_formats_applied(book):
    ws = book.wb[detail("purchases")]
    n = ws.max_row
    for col, fmt in [("cost_usd", "#,##0"), ("purchased_t", "#,##0.000"), ("price_usd_per_kg", "#,##0.00")]:
        j = book.column(detail("purchases"), col)
        assert ws.cell(row=2, column=j).number_format == fmt, col
        assert ws.cell(row=n, column=j).number_format == fmt, col
    row = book.table("Expected plan", "expected_plan")[0]
    assert row["purchased (t)"].number_format == "#,##0.000" and row["cost (USD)"].number_format == "#,##0"
    assert book.headline("present value of cost")["value"].number_format == "#,##0.00"
    assert book.headline("present value of cost")["unit"].value == "USD M"
    s = next(iter(book.run.solution.kpis["streams"]))
    assert book.headline(f"fill rate {s}")["value"].number_format == "0.00%"


def test_tolerance_like_numbers_are_not_shown_as_zero(det, tmp_path):
    f = xl.cell_format
    assert f(1e-6, "0.0%") == f(1e-6, "0.00##") == f(1e-7, "#,##0.00") == xl.SCIENTIFIC_FORMAT
    assert f(0.5, "0.0%") == "0.0%" and f(0.0, "0.0%") == "0.0%" and f(1e-6, "#,##0", "USD") == "#,##0"
    assert xl._smallest_shown("0.0%") == approx(0.0005) and xl._smallest_shown("#,##0.00,,") == approx(5e3)
    run = det.run
    kpis = dict(run.solution.kpis) | {"gap_frac": 1e-6}
    path = tmp_path / "plan.xlsx"
    write_excel(replace(run, solution=Solution(tables=run.solution.tables, kpis=kpis)),
                _manifest(run) | {"tolerance": 1e-6}, path)
    wb = Written(run, path)
    gap = wb.kpi("summary", "gap")["value"]
    assert gap.value == 1e-6 and gap.number_format == xl.SCIENTIFIC_FORMAT
    tol = [r for r in wb.table("Manifest", "manifest") if r["key"].value == "tolerance"][0]["value"]
    assert tol.value == 1e-6 and tol.number_format == xl.SCIENTIFIC_FORMAT


def test_overview_headline_and_charts(book):
    k = book.run.solution.kpis
    sto = book.run.mode == "stochastic"
    cost = book.headline("expected cost" if sto else "total cost")["value"]
    assert cost.value == approx((k["expected_cost_usd"] if sto else k["objective_usd"]) / 1e6)
    assert book.headline("present value of cost")["value"].value == approx(k["present_value_usd"] / 1e6)
    assert book.headline("first-stage cost")["value"].value == approx(k["first_stage_cost_usd"] / 1e6)
    assert book.headline("spend decided now")["value"].value == approx(k["spend_decided_now_usd"] / 1e6)
    assert "undiscounted" in book.headline("present value of cost")["note"].value  # rate 0: PV = undiscounted
    shares = k["expected_supply_share_by_country" if sto else "supply_share_by_country"]
    for e, by in shares.items():
        assert book.headline(f"China share {e}")["value"].value == approx(by.get("CN", 0.0))
    if sto:
        assert book.headline(f"CVaR {k['cvar_alpha']:g} of cost")["value"].value == approx(k["cvar_cost_usd"] / 1e6)
        assert book.headline("EVPI, objective units")["value"].value == approx(k["evpi_usd"] / 1e6)
        assert book.headline("VSS, expected cost")["value"].value == approx(k["vss_expected_cost_usd"] / 1e6)
    ws = book.wb["Overview"]
    assert "every plan table" in ws["A3"].value  # the default case's detail is in the workbook
    assert len(ws._charts) == 2


def test_cost_by_year_matches_the_kpis(book):
    k = book.run.solution.kpis
    parts = k.get("expected_cost_parts_usd") or k["cost_parts_usd"]
    rows = book.table("Cost by year", "cost_by_year")
    got = {r["term"].value: r["total (USD)"].value for r in rows}
    assert list(got) == list(parts)
    for term, v in parts.items():
        assert got[term] == approx(v, rel=1e-6, abs=1e-3), term
    ws = book.wb["Cost by year"]
    last = int(ws.tables["cost_by_year"].ref.split(":")[1][1:])
    total = [c.value for c in ws[last + 1]]  # the total row under the table
    assert total[0] == "total" and sum(v for v in total[1:] if isinstance(v, float) and v) == approx(
        2 * k.get("expected_cost_usd", k["objective_usd"]), rel=1e-6)
    years = sorted({int(p[:4]) for p in book.run.data.periods})
    assert [c.name for c in ws.tables["cost_by_year"].tableColumns] == ["term", *map(str, years), "total (USD)", "stage"]
    pv = {r["term"].value: r["total (USD)"].value for r in book.table("Cost by year", "pv_by_year")}
    assert pv == approx(got, rel=1e-9, abs=1e-6)  # rate 0


def test_budget_sheet(book):
    k = book.run.solution.kpis
    rows = {r["category"].value: r["total (USD)"].value for r in book.table("Budget", "budget")}
    assert list(rows) == ["decided now", "committed", "scenario dependent"]
    assert sum(rows.values()) == approx(k.get("expected_cost_usd", k["objective_usd"]), rel=1e-6)
    assert rows["decided now"] == approx(k["spend_decided_now_usd"], rel=1e-9)
    wc = book.table("Budget", "working_capital")
    assert wc and all(r["value (USD)"].value >= 0 for r in wc)


def test_scenarios_sheet(book):
    rows = book.table("Scenarios", "scenarios")
    t = book.run.solution.tables
    if book.run.mode == "stochastic":
        s = t["scenarios"]
        assert [r["scenario"].value for r in rows] == s.scenario.tolist()
        assert sum(r["probability"].value for r in rows) == approx(1.0)
        assert [r["total cost (USD)"].value for r in rows] == approx(s.total_cost_usd.tolist())
    else:
        assert len(rows) == 1 and rows[0]["probability"].value == 1.0
    for r in rows:
        assert 0.0 <= r["fill rate (%)"].value <= 1.0 and r["fill rate (%)"].number_format == "0.00%"
        assert r["present value (USD)"].value == approx(r["total cost (USD)"].value, rel=1e-6)


def test_contracts_and_expected_plan(book):
    t = book.run.solution.tables
    res = t["reservations"]
    n = len(res[["offer", "period"]].drop_duplicates())
    rows = book.table("Contracts", "reservations")
    assert len(rows) == n
    p = t["purchases"]
    w = p.purchased_t * p.probability if "probability" in p.columns else p.purchased_t
    plan = book.table("Expected plan", "expected_plan")
    assert sum(r["purchased (t)"].value for r in plan) == approx(float(w.sum()), rel=1e-9)
    assert {r["offer"].value for r in plan} <= set(p.offer)


def test_assumptions_sheet(book):
    case = book.run.data.case
    offers = book.table("Assumptions", "offers")
    assert [r["offer"].value for r in offers] == [o.id for o in case.offers]
    assert [r["source"].value for r in offers] == [o.source for o in case.offers]
    csv = [r for r in offers if r["price basis"].value.startswith("price CSV")]
    assert csv  # the default case reads some prices from prices.csv
    o = csv[0]["offer"].value
    assert csv[0]["price (USD/kg)"].value == approx(sum(book.run.data.price_usd_per_kg[o]) / len(book.run.data.periods))
    assert [r["rule"].value for r in book.table("Assumptions", "licence_rules")] == [r.id for r in case.licence_rules]
    assert [r["element"].value for r in book.table("Assumptions", "stockpile")] == [s.element for s in case.stockpile]
    settings = {r["setting"].value: r["value"].value for r in book.table("Assumptions", "settings")}
    assert settings["discount rate"] == 0.0 and settings["CVaR alpha"] == case.risk.cvar_alpha


def test_kpi_sheet_holds_the_finance_kpis_only(book):
    k = book.run.solution.kpis
    rows = book.table("KPIs", "kpis")
    sections = {r["section"].value for r in rows}
    assert not any(s.startswith(("audit", "solver", "model size", "marginal values", "expected marginal"))
                   for s in sections), sections
    row = book.kpi("summary", "objective (expected cost + lambda x CVaR)")
    assert row["value"].value == k["objective_usd"] and row["unit"].value == "USD" and row["value"].number_format == "#,##0"
    assert book.kpi("summary", "present value")["value"].value == k["present_value_usd"]
    assert book.kpi("summary", "discount rate")["value"].number_format == "0.0%"
    s = next(iter(k["streams"]))
    fill = [r for r in rows if r["section"].value == f"streams / {s}" and "fill rate" in r["measure"].value][0]
    assert fill["value"].number_format == "0.00%"


def test_kpis_deterministic(det):
    k = det.run.solution.kpis
    assert det.kpi("summary", "first-stage cost (reservation fees + expansion)")["value"].value == k["first_stage_cost_usd"]
    per_kg = det.kpi("summary", "total cost")
    assert per_kg["value"].value == k["total_cost_usd_per_kg_magnet"] and per_kg["unit"].value == "USD/kg magnet"
    for term, v in k["cost_parts_usd"].items():
        assert det.kpi("cost parts", term)["value"].value == v
    e, shares = next(iter(k["supply_share_by_origin_group"].items()))
    g, v = next(iter(shares.items()))
    share = det.kpi(f"supply share by origin group / {e}", g)
    assert share["value"].value == v and share["value"].number_format == "0.0%" and share["unit"].value == "%"


def test_kpis_stochastic(sto):
    k = sto.run.solution.kpis
    for measure, key in [("expected cost", "expected_cost_usd"), ("CVaR cost", "cvar_cost_usd"),
                         ("EVPI in objective units (expected + lambda x CVaR)", "evpi_usd"),
                         ("VSS in objective units (expected + lambda x CVaR)", "vss_usd"),
                         ("EVPI in expected cost", "evpi_expected_cost_usd"), ("VSS in expected cost", "vss_expected_cost_usd"),
                         ("spend decided now (fees + expansion + orders in the first-stage window)", "spend_decided_now_usd")]:
        row = sto.kpi("summary", measure)
        assert row["value"].value == k[key] and row["value"].number_format == "#,##0", measure
    for s, d in k["streams"].items():
        assert sto.kpi(f"streams / {s}", "expected fill rate")["value"].value == d["expected_fill_rate"]
        assert sto.kpi(f"streams / {s}", "probability any shortage")["value"].number_format == "0.0000"


def test_manifest_sheet(det):
    rows = {r["key"].value: r["value"].value for r in det.table("Manifest", "manifest")}
    assert rows["case"] == det.run.data.case.name
    assert rows["command_line"] == f"solve.py {BASE} --out 'reports/base run'"
    p, h = det.run.data.input_files[0]
    assert rows["input_files[0].path"] == p and rows["input_files[0].sha256"] == h
    assert rows["timings_s.total_s"] == det.run.timings_s["total_s"]
    assert rows["solver.options.threads"] == det.run.result.options["threads"]


@pytest.mark.parametrize("limit", ["scenarios", "rows"])
def test_detail_stays_in_the_csvs_above_the_size_limit(sto, tmp_path, monkeypatch, limit):
    """Standing in for the 200-scenario case: a limit below the default case's 12 scenarios (or its rows)."""
    monkeypatch.setattr(xl, "DETAIL_MAX_SCENARIOS" if limit == "scenarios" else "DETAIL_MAX_ROWS", 5)
    path = tmp_path / "plan.xlsx"
    write_excel(sto.run, _manifest(sto.run), path)
    wb = Written(sto.run, path)
    assert wb.wb.sheetnames == FINANCE_SHEETS + ["Manifest"]
    note = wb.wb["Overview"]["A3"].value
    assert "CSV files only" in note and f"{len(sto.run.solution.kpis['scenarios'])} scenarios" in note
    # the finance sheets do not depend on it
    assert len(wb.table("Scenarios", "scenarios")) == 12
    assert path.stat().st_size < (sto.path.stat().st_size / 3)
