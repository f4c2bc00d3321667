"""The independent plan audit (``model.results.audit``, issue 6 item 3).

The audit re-checks every constraint of ``model.md`` §4 and the objective from the inputs and the
reported tables. It must pass on real solves (the default stochastic run, the deterministic run,
tiny cases that exercise every mechanism) and must fail, naming the right check and location,
when a table or KPI is tampered with.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from model.results.audit import AuditReport, audit_run
from model.results.tables import Solution
from model.app.run import run_data, run_stochastic_data
from tests.tiny import base_case, make

ROOT = Path(__file__).resolve().parents[1]
CHECK_NAMES = {
    "table_integrity", "nonnegativity", "arrival_timing", "element_balance", "reported_arrivals",
    "bill_of_materials", "plant_capacity", "plant_results", "eligibility", "licence_quota", "supplier_capacity",
    "finished_magnets", "demand", "stock_capacity", "strategic_floor", "terminal_requirement",
    "recycling_capacity", "swarf_feed", "scrap_feed", "recovery", "transfers", "diversification",
    "non_anticipativity", "cost_columns", "cost_terms", "objective",
}
SQ = "status_quo+no_outage"
HT = "heavy_tightening+no_outage"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def tampered(run, tables: dict | None = None, kpis: dict | None = None):
    """``run`` with some tables (name -> DataFrame) and/or the KPIs replaced."""
    new = dict(run.solution.tables)
    new.update(tables or {})
    return replace(run, solution=Solution(tables=new, kpis=kpis if kpis is not None else run.solution.kpis))


def failed(report: AuditReport) -> dict:
    return {c.name: c for c in report.checks if not c.passed}


def assert_passes(report: AuditReport) -> None:
    assert {c.name for c in report.checks} == CHECK_NAMES
    bad = failed(report)
    assert report.passed and not bad, {k: c.detail for k, c in bad.items()}
    for c in report.checks:
        assert c.detail == "ok" and 0 <= c.max_violation <= c.tolerance


def edit(df: pd.DataFrame, where: dict, col: str, fn) -> pd.DataFrame:
    """Copy of ``df`` with ``col`` replaced by ``fn(old)`` on the one row matching ``where``."""
    out = df.copy()
    mask = pd.Series(True, index=out.index)
    for k, v in where.items():
        mask &= out[k] == v
    assert mask.sum() == 1, f"{where} matches {int(mask.sum())} rows"
    out.loc[mask, col] = fn(out.loc[mask, col].iloc[0])
    return out


def rich_case(periods: int = 4) -> dict:
    """Every mechanism at once, T = ``periods``.

    Elements X, Y; origins A, B and R (recycled). Grade G (civil stream ``s``, 10 t) has recipes r1
    (0.5 X + 0.05 Y) and r2 (0.6 X); grade H (defence stream ``d``, 5 t) has h1 (0.4 X + 0.1 Y).
    Plant yield 0.8 (swarf), conversion and swarf credit. Offers: spot X from A, a contract for X
    from B (lead 1, fee, minimum take), spot Y from A and B (B under a case-by-case rule: quota 2 x
    approval 0.5, review lead 1), finished G magnets from B, scrap from A. B's X and magnets are
    prohibited for defence from period 2. Stockpiles for X (floor in t) and Y (floor in months of
    use); a grade-locked swarf loop with an expansion and a scrap loop; diversification caps by
    origin group (X purchases) and by country (all supply).
    """
    raw = base_case(periods)
    raw["elements"] = ["X", "Y"]
    raw["origin_groups"] = [{"id": "A"}, {"id": "B"}, {"id": "R"}]
    raw["materials"] = [
        {"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}},
        {"id": "oy", "kind": "oxide", "element_content_frac": {"Y": 0.5}},
        {"id": "scr", "kind": "scrap", "element_content_frac": {"X": 0.2, "Y": 0.05}},
        {"id": "mag", "kind": "magnet", "grade": "G"},
    ]

    def off(id_, g, mat, price, cap, lead=0, kind="spot", **kw):
        o = {"id": id_, "supplier": f"S_{id_}", "country": f"C_{g}", "origin_group": g, "material": mat,
             "kind": kind, "capacity_t_per_period": cap, "price_usd_per_kg": price, "lead_time_periods": lead}
        return o | kw

    raw["offers"] = [
        off("a_spot", "A", "ox", 10, 6),
        off("b_c", "B", "ox", 8, 20, lead=1, kind="contract", reservation_fee_usd_per_kg=1, min_take_frac=0.5),
        off("y_spot", "A", "oy", 50, 1),
        off("yb_spot", "B", "oy", 40, 10),
        off("mag_b", "B", "mag", 30, 5),
        off("scr_spot", "A", "scr", 2, 20),
    ]
    raw["licence_rules"] = [
        {"id": "cbc_y", "origin_groups": ["B"], "materials": ["oy"], "end_uses": ["civil"], "regime": "case_by_case",
         "quota_t_per_period": 2, "approval_frac": 0.5, "review_lead_time_periods": 1},
        {"id": "no_def", "origin_groups": ["B"], "materials": ["ox", "mag"], "end_uses": ["defense"],
         "regime": "prohibited", "valid_from": "2027-02"},
    ]
    raw["grades"] = [
        {"id": "G", "recipes": [{"id": "r1", "element_t_per_t_magnet": {"X": 0.5, "Y": 0.05}},
                                {"id": "r2", "element_t_per_t_magnet": {"X": 0.6}}]},
        {"id": "H", "recipes": [{"id": "h1", "element_t_per_t_magnet": {"X": 0.4, "Y": 0.1}}]},
    ]
    raw["plant"] = {"capacity_t_per_period": 30, "yield_frac": 0.8, "conversion_cost_usd_per_kg": 2,
                    "swarf_credit_usd_per_kg": 1}
    raw["streams"] = [
        {"id": "s", "grade": "G", "end_use": "civil", "demand_t_per_period": 10, "shortage_cost_usd_per_kg": 100},
        {"id": "d", "grade": "H", "end_use": "defense", "demand_t_per_period": 5, "shortage_cost_usd_per_kg": 300},
    ]
    raw["stockpile"] = [
        {"element": "X", "initial_t_by_origin": {"A": 5, "B": 3}, "capacity_t": 50,
         "holding_cost_usd_per_kg_per_period": 0.1, "floor_t": 4, "floor_penalty_usd_per_kg": 5},
        {"element": "Y", "initial_t_by_origin": {"A": 1}, "capacity_t": 10, "floor_months_of_use": 1,
         "floor_penalty_usd_per_kg": 20},
    ]
    raw["recycling_routes"] = [
        {"id": "loop", "feed": "swarf", "grades": ["G"], "capacity_t_feed_per_period": 1, "cost_usd_per_kg_feed": 3,
         "recovery_frac": {"X": 0.9, "Y": 0.9}, "output_origin_group": "R",
         "expansion": {"cost_usd_per_t_per_period": 100, "build_lead_time_periods": 1, "max_t_per_period": 5}},
        {"id": "long", "feed": "scr", "capacity_t_feed_per_period": 10, "cost_usd_per_kg_feed": 1,
         "recovery_frac": {"X": 0.9}, "output_origin_group": "R", "country": "RR"},
    ]
    raw["diversification_limits"] = [
        {"id": "capA", "element": "X", "group_by": "origin_group", "value": "A", "max_share_frac": 0.8},
        {"id": "capCB", "group_by": "country", "value": "C_B", "max_share_frac": 0.7, "basis": "supply"},
    ]
    return raw


def rich_stochastic_case(lam: float = 0.5) -> dict:
    """``rich_case(3)`` with a one-period window and two scenarios, CVaR-weighted (lambda ``lam``, alpha 0.6).

    ``crisis`` (0.3): A's supply embargoed from period 2, A's X prohibited for defence in period 3,
    civil demand x1.5 from period 2, Y's case-by-case approval cut to 0.1. Y's floor is given in t
    (``floor_months_of_use`` with a demand event: see ``test_months_of_use_floor_with_a_demand_event``).
    """
    raw = rich_case(3)
    raw["stockpile"][1] = {k: v for k, v in raw["stockpile"][1].items() if k != "floor_months_of_use"} | {"floor_t": 1.25}
    raw["risk"] = {"non_anticipative_periods": 1, "risk_weight_lambda": lam, "cvar_alpha": 0.6}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.7},
        {"name": "crisis", "probability": 0.3, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["A"]}, "factor": 0.0, "start": "2027-02"},
            {"kind": "prohibit_end_uses", "select": {"origin_groups": ["A"], "materials": ["ox"]},
             "end_uses": ["defense"], "start": "2027-03"},
            {"kind": "demand", "select": {"streams": ["s"]}, "factor": 1.5, "start": "2027-02"},
            {"kind": "approval", "select": {"licence_rules": ["cbc_y"]}, "approval_frac": 0.1, "start": "2027-02"},
        ]},
    ]}
    return raw


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stoch(default_run):
    return default_run(evpi_vss=False)


@pytest.fixture(scope="module")
def det(default_run):
    return default_run("deterministic")


@pytest.fixture(scope="module")
def rich():
    return run_data(make(rich_case()))


@pytest.fixture(scope="module")
def rich_stoch():
    return run_stochastic_data(make(rich_stochastic_case()), evpi_vss=False)


# --------------------------------------------------------------------------------------------
# the audit passes on real solves
# --------------------------------------------------------------------------------------------


def test_passes_on_default_stochastic_run(stoch):
    assert stoch.mode == "stochastic" and len(stoch.stochastic.cases) == 12
    assert_passes(audit_run(stoch))


def test_passes_on_default_deterministic_run(det):
    assert det.mode == "deterministic"
    assert_passes(audit_run(det))


def test_passes_on_tiny_cases(rich, rich_stoch):
    assert_passes(audit_run(rich))
    assert_passes(audit_run(rich_stoch))
    assert_passes(audit_run(run_data(make(base_case(2)))))


def test_rich_tiny_case_exercises_the_mechanisms(rich):
    """Guard against a vacuous pass: the tiny plan really uses what the audit checks."""
    tb = rich.solution.tables
    assert tb["recycling"].feed_t.sum() > 0 and tb["expansions"].added_t_feed_per_period.sum() > 0
    assert tb["reservations"].reserved_t.sum() > 0
    assert (tb["stock_by_element"].floor_shortfall_t > 0).any()
    pur = tb["purchases"].set_index(["offer", "order_period"])
    assert pur.loc[("yb_spot", "2027-01"), "arrival_period"] == "2027-02"  # lead 0 + review 1
    assert pur.loc[("yb_spot", "2027-01"), "purchased_t"] == pytest.approx(1.0)  # quota 2 x approval 0.5


def test_audit_needs_no_model(det, stoch):
    """The audit reads inputs and tables only: it runs without the built model or the extensive form."""
    assert_passes(audit_run(replace(det, built=None)))
    assert_passes(audit_run(replace(stoch, stochastic=replace(stoch.stochastic, ef=None, solutions=()))))
    audit_files = [ROOT / "model" / "results" / "audit.py"] if (ROOT / "model" / "results" / "audit.py").exists() \
        else sorted((ROOT / "model" / "results" / "audit").glob("*.py"))
    imported = set()
    for f in audit_files:
        tree = ast.parse(f.read_text())
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m in ("model.components.sets", "model.components.build")
                or m.startswith(("model.solve", "model.stochastic", "pyomo"))}, imported


def test_as_dict(det):
    d = audit_run(det).as_dict()
    assert d["passed"] is True
    assert {c["name"] for c in d["checks"]} == CHECK_NAMES
    assert set(d["checks"][0]) == {"name", "passed", "max_violation", "tolerance", "unit", "detail"}


# --------------------------------------------------------------------------------------------
# tampering is caught, with the right check and location
# --------------------------------------------------------------------------------------------


def test_extra_purchase_breaks_the_element_balance(stoch):
    pur = edit(stoch.solution.tables["purchases"], {"scenario": HT, "offer": "cn_ndpr_oxide_spot",
                                                    "order_period": "2027-05"}, "purchased_t", lambda x: x + 1.0)
    bad = failed(audit_run(tampered(stoch, {"purchases": pur})))
    c = bad["element_balance"]
    assert f"scenario={HT}" in c.detail and "element NdPr, origin CN, 2027-06" in c.detail
    assert c.max_violation == pytest.approx(0.85, rel=1e-6)  # 1 t oxide x 0.85 NdPr content
    assert "cn_ndpr_oxide_spot" in bad["cost_columns"].detail and "purchases" in bad["cost_terms"].detail


def test_moved_arrival_is_caught(stoch):
    pur = edit(stoch.solution.tables["purchases"], {"scenario": SQ, "offer": "cn_dy_oxide_spot",
                                                    "order_period": "2027-03"}, "arrival_period", lambda a: "2027-05")
    c = failed(audit_run(tampered(stoch, {"purchases": pur})))["arrival_timing"]
    assert f"scenario={SQ}" in c.detail and "cn_dy_oxide_spot, order 2027-03" in c.detail
    assert "expected 2027-06" in c.detail and "review 2" in c.detail
    assert c.max_violation == 1 and c.tolerance == 0


def test_use_from_a_prohibited_origin_is_caught(stoch):
    use = stoch.solution.tables["eligibility_use"]
    p = use[use.scenario == SQ].probability.iloc[0]
    row = pd.DataFrame([{"scenario": SQ, "probability": p, "stream": "defense", "end_use": "defense",
                         "element": "Dy", "origin_group": "CN", "period": "2027-05", "used_t": 0.5}])
    bad = failed(audit_run(tampered(stoch, {"eligibility_use": pd.concat([use, row], ignore_index=True)})))
    c = bad["eligibility"]
    assert f"scenario={SQ}" in c.detail and "stream defense" in c.detail and "Dy of origin CN" in c.detail
    assert "2027-05" in c.detail and c.max_violation == pytest.approx(0.5)
    assert "element_balance" in bad and "bill_of_materials" in bad


def test_exceeding_a_quota_is_caught_with_the_scenario_factor(stoch):
    """Under heavy tightening the Dy quota is 2.47 t x approval 0.6 x factor 0.4615 = 0.684 t: 1 t breaks
    it (although it would be within the status-quo quota of 1.482 t)."""
    pur = edit(stoch.solution.tables["purchases"], {"scenario": HT, "offer": "cn_dy_oxide_spot",
                                                    "order_period": "2027-04"}, "purchased_t", lambda x: 1.0)
    c = failed(audit_run(tampered(stoch, {"purchases": pur})))["licence_quota"]
    assert f"scenario={HT}" in c.detail and "rule cn_dy_oxide_civil, 2027-04" in c.detail
    assert c.max_violation == pytest.approx(1.0 - 2.47 * 0.6 * 0.4615, rel=1e-6)


def test_one_scenarios_reservation_breaks_non_anticipativity(stoch):
    res = edit(stoch.solution.tables["reservations"], {"scenario": HT, "offer": "lynas_ndpr_oxide_contract",
                                                       "period": "2027-06"}, "reserved_t", lambda x: x - 1.0)
    bad = failed(audit_run(tampered(stoch, {"reservations": res})))
    c = bad["non_anticipativity"]
    assert "reservations" in c.detail and "lynas_ndpr_oxide_contract" in c.detail and "2027-06" in c.detail
    assert HT in c.detail and c.max_violation == pytest.approx(1.0)
    assert "supplier_capacity" in bad  # the purchase now exceeds the reservation


def test_window_decision_differing_across_scenarios_is_caught(stoch):
    prod = edit(stoch.solution.tables["production"], {"scenario": SQ, "stream": "industrial_motors",
                                                      "recipe": "N_std", "period": "2027-01"}, "made_t", lambda x: x - 0.5)
    c = failed(audit_run(tampered(stoch, {"production": prod})))["non_anticipativity"]
    assert "production" in c.detail and "industrial_motors" in c.detail and SQ in c.detail


def test_changed_cost_is_caught(stoch):
    costs = edit(stoch.solution.tables["costs"], {"scenario": HT, "term": "holding"}, "cost_usd", lambda x: x + 1e4)
    bad = failed(audit_run(tampered(stoch, {"costs": costs})))
    assert set(bad) == {"cost_terms"}
    assert f"scenario={HT}" in bad["cost_terms"].detail and "cost term holding" in bad["cost_terms"].detail
    assert bad["cost_terms"].max_violation == pytest.approx(1e4)


def test_changed_objective_kpi_is_caught(det, stoch):
    c = failed(audit_run(tampered(det, kpis=det.solution.kpis | {"objective_usd": det.solution.kpis["objective_usd"] + 500})))
    assert set(c) == {"objective"} and "objective_usd" in c["objective"].detail
    k = stoch.solution.kpis
    c = failed(audit_run(tampered(stoch, kpis=k | {"expected_cost_usd": k["expected_cost_usd"] * 1.001})))
    assert set(c) == {"objective"} and "expected_cost_usd" in c["objective"].detail


def test_changed_cvar_is_caught(rich_stoch):
    k = rich_stoch.solution.kpis
    assert k["risk_weight_lambda"] > 0
    c = failed(audit_run(tampered(rich_stoch, kpis=k | {"cvar_cost_usd": k["cvar_cost_usd"] + 1e3})))
    assert set(c) == {"objective"} and "cvar_cost_usd" in c["objective"].detail


def test_shortage_not_matching_demand_is_caught(det):
    sh = edit(det.solution.tables["shortages"], {"stream": "defense", "period": "2027-07"}, "shortage_t", lambda x: x + 1)
    bad = failed(audit_run(tampered(det, {"shortages": sh})))
    assert "stream defense, 2027-07" in bad["demand"].detail and "cost_terms" in bad


def test_spot_purchase_above_capacity_is_caught(rich):
    pur = edit(rich.solution.tables["purchases"], {"offer": "a_spot", "order_period": "2027-03"}, "purchased_t",
               lambda x: 7.0)
    c = failed(audit_run(tampered(rich, {"purchases": pur})))["supplier_capacity"]
    assert "offer a_spot, 2027-03" in c.detail and c.max_violation == pytest.approx(1.0)


def test_recycling_above_capacity_and_grade_lock_are_caught(rich):
    rec = rich.solution.tables["recycling"]
    over = edit(rec, {"route": "long", "source": "scr", "period": "2027-02"}, "feed_t", lambda x: 12.0)
    bad = failed(audit_run(tampered(rich, {"recycling": over})))
    assert "route long, 2027-02" in bad["recycling_capacity"].detail
    assert "scrap scr, 2027-02" in bad["scrap_feed"].detail  # no scrap was bought
    row = pd.DataFrame([{"route": "loop", "source": "h1", "period": "2027-03", "feed_t": 0.1}])
    bad = failed(audit_run(tampered(rich, {"recycling": pd.concat([rec, row], ignore_index=True)})))
    assert "recipe h1" in bad["swarf_feed"].detail and "takes only ['G']" in bad["swarf_feed"].detail


def test_understated_floor_shortfall_is_caught(rich):
    sbe = rich.solution.tables["stock_by_element"]
    row = sbe[sbe.floor_shortfall_t > 0].iloc[0]
    sbe = edit(sbe, {"element": row.element, "period": row.period}, "floor_shortfall_t", lambda x: 0.0)
    bad = failed(audit_run(tampered(rich, {"stock_by_element": sbe})))
    assert f"element {row.element}, {row.period}" in bad["strategic_floor"].detail and "floor_penalty" in bad["cost_terms"].detail


def test_magnets_for_the_wrong_grade_or_end_use_are_caught(rich):
    mp = rich.solution.tables["magnet_purchases"]
    rows = pd.DataFrame([{"stream": "d", "material": "mag", "origin_group": "B", "period": "2027-02", "used_t": 0.2}])
    c = failed(audit_run(tampered(rich, {"magnet_purchases": pd.concat([mp, rows], ignore_index=True)})))["eligibility"]
    assert "stream d" in c.detail and "mag" in c.detail


def test_recipe_of_another_grade_is_caught(rich):
    prod = rich.solution.tables["production"]
    row = pd.DataFrame([{"stream": "s", "grade": "G", "recipe": "h1", "period": "2027-02", "made_t": 0.3}])
    c = failed(audit_run(tampered(rich, {"production": pd.concat([prod, row], ignore_index=True)})))["eligibility"]
    assert "stream s, 2027-02" in c.detail and "recipe h1 of grade H" in c.detail


def test_diversification_cap_is_checked(rich):
    """capCB (country C_B at most 70% of all supply in 2027) binds in the plan; 5 t more Y oxide from B breaks it."""
    pur = edit(rich.solution.tables["purchases"], {"offer": "yb_spot", "order_period": "2027-03"}, "purchased_t",
               lambda x: x + 5)
    c = failed(audit_run(tampered(rich, {"purchases": pur})))["diversification"]
    assert c.detail.startswith("limit capCB, year 2027: C_B")


def test_hard_inputs_are_checked():
    """A committed contract (reservation >= 2 t) and a 90% service level on stream s."""
    raw = rich_case(3)
    raw["offers"][1]["committed_t_per_period"] = 2
    raw["streams"][0]["min_service_frac"] = 0.9
    run = run_data(make(raw))
    assert_passes(audit_run(run))
    key = {"offer": "b_c", "period": "2027-02"}
    res = edit(edit(run.solution.tables["reservations"], key, "reserved_t", lambda x: 1.5), key, "purchased_t", lambda x: 0.75)
    pur = edit(run.solution.tables["purchases"], {"offer": "b_c", "order_period": "2027-02"}, "purchased_t", lambda x: 0.75)
    c = failed(audit_run(tampered(run, {"reservations": res, "purchases": pur})))["supplier_capacity"]
    assert c.detail == "offer b_c, 2027-02: reservation 1.5 t < committed 2 t" and c.max_violation == pytest.approx(0.5)
    key = {"stream": "s", "period": "2027-03"}
    sh = edit(edit(run.solution.tables["shortages"], key, "shortage_t", lambda x: 2.0), key, "made_t", lambda x: x - 2.0)
    prod = edit(run.solution.tables["production"], {"stream": "s", "recipe": "r2", "period": "2027-03"}, "made_t",
                lambda x: x - 2.0)
    bad = failed(audit_run(tampered(run, {"shortages": sh, "production": prod})))
    assert bad["demand"].detail.startswith("stream s, 2027-03: shortage 2 t > (1 - service level 0.9)")
    assert bad["demand"].max_violation == pytest.approx(1.0)


def test_scenario_prohibition_is_checked_per_scenario(rich_stoch):
    """In ``crisis`` A's X is barred for defence in period 3 (a scenario event); in ``calm`` it is not."""
    use = rich_stoch.solution.tables["eligibility_use"]
    key = {"stream": "d", "element": "X", "origin_group": "A", "period": "2027-03"}
    calm = use[(use.scenario == "calm")]
    assert ((calm.stream == "d") & (calm.element == "X") & (calm.origin_group == "A") & (calm.period == "2027-03")).any()
    crisis_has = ((use.scenario == "crisis") & (use.stream == "d") & (use.element == "X")
                  & (use.origin_group == "A") & (use.period == "2027-03")).any()
    assert not crisis_has
    row = pd.DataFrame([{"scenario": "crisis", "probability": 0.3, "end_use": "defense", "used_t": 0.1} | key])
    c = failed(audit_run(tampered(rich_stoch, {"eligibility_use": pd.concat([use, row], ignore_index=True)})))["eligibility"]
    assert "scenario=crisis" in c.detail and "X of origin A" in c.detail


def test_missing_table_is_reported(det):
    tables = {k: v for k, v in det.solution.tables.items() if k != "recovered"}
    rep = audit_run(replace(det, solution=Solution(tables=tables, kpis=det.solution.kpis)))
    assert "table recovered missing" in failed(rep)["table_integrity"].detail


def test_months_of_use_floor_with_a_demand_event():
    """A months-of-use floor comes from demand as read: a demand event in one scenario must not move it."""
    run = run_stochastic_data(make(rich_stochastic_case() | {"stockpile": rich_case()["stockpile"]}), evpi_vss=False)
    assert_passes(audit_run(run))


# --------------------------------------------------------------------------------------------
# several plants (model.md §7.1): balances per plant, lanes, the plants table
# --------------------------------------------------------------------------------------------


def multi_plant_case(periods: int = 3) -> dict:
    """Two plants and two lanes, T = ``periods``.

    Plants ``us`` (country US, yield 0.8, capacity 12, conversion 2, swarf credit 0.5) and ``jp`` (JP, yield
    0.9, capacity 8, conversion 3, swarf credit 1). Streams: ``s_us`` (G, civil, 10 t) at us; ``s_jp`` (G,
    civil, 1 t) and ``d_jp`` (H, defence, 6 t) at jp. Offers delivered to us: X oxide from A (10 USD/kg, 4 t)
    and B (6 USD/kg), G magnets from B (4 USD/kg, 3 t); to jp: X oxide from A (14 USD/kg), Y oxide from B
    (licensed for the customer ``jp``, the plant, not the company ``acme``: quota 3 t) and scrap. B's X is
    prohibited for defence at plants in JP only. Stockpiles of X at both plants (us: months-of-use floor; jp:
    floor 1 t), a G magnet store at us; a swarf loop at us, a scrap loop at jp; lanes us -> jp (lead 1,
    0.5 USD/kg, 3 t/period) and jp -> us (lead 0, 0.2 USD/kg); a diversification limit of A's X share at jp.
    The plan moves X (A, B, recycled) and G magnets from us to jp.
    """
    raw = base_case(periods)
    raw["elements"] = ["X", "Y"]
    raw["origin_groups"] = [{"id": "A"}, {"id": "B"}, {"id": "R"}]
    raw["materials"] = [
        {"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}},
        {"id": "oy", "kind": "oxide", "element_content_frac": {"Y": 0.5}},
        {"id": "scr", "kind": "scrap", "element_content_frac": {"X": 0.2}},
        {"id": "mag", "kind": "magnet", "grade": "G"},
    ]

    def off(id_, plant, g, mat, price, cap):
        return {"id": id_, "supplier": f"S_{g}", "country": f"C_{g}", "origin_group": g, "material": mat,
                "kind": "spot", "capacity_t_per_period": cap, "price_usd_per_kg": price, "plant": plant}

    raw["offers"] = [off("xa_us", "us", "A", "ox", 10, 4), off("xb_us", "us", "B", "ox", 6, 20),
                     off("xa_jp", "jp", "A", "ox", 14, 20), off("yb_jp", "jp", "B", "oy", 40, 10),
                     off("mag_us", "us", "B", "mag", 4, 3), off("scr_jp", "jp", "A", "scr", 1, 20)]
    raw["company"] = {"customer_id": "acme"}
    raw["licence_rules"] = [
        {"id": "no_b_x_jp_def", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["defense"],
         "regime": "prohibited", "destination_countries": ["JP"]},
        {"id": "y_for_jp", "origin_groups": ["B"], "materials": ["oy"], "end_uses": ["defense"],
         "regime": "general", "quota_t_per_period": 3, "customers": ["jp"]},
    ]
    raw["grades"] = [{"id": "G", "recipes": [{"id": "g1", "element_t_per_t_magnet": {"X": 0.5}}]},
                     {"id": "H", "recipes": [{"id": "h1", "element_t_per_t_magnet": {"X": 0.4, "Y": 0.1}}]}]
    del raw["plant"]
    raw["plants"] = [
        {"id": "us", "country": "US", "capacity_t_per_period": 12, "yield_frac": 0.8, "conversion_cost_usd_per_kg": 2,
         "swarf_credit_usd_per_kg": 0.5},
        {"id": "jp", "country": "JP", "capacity_t_per_period": 8, "yield_frac": 0.9, "conversion_cost_usd_per_kg": 3,
         "swarf_credit_usd_per_kg": 1},
    ]
    raw["streams"] = [
        {"id": "s_us", "grade": "G", "end_use": "civil", "plant": "us", "demand_t_per_period": 10,
         "shortage_cost_usd_per_kg": 100},
        {"id": "s_jp", "grade": "G", "end_use": "civil", "plant": "jp", "demand_t_per_period": 1,
         "shortage_cost_usd_per_kg": 100},
        {"id": "d_jp", "grade": "H", "end_use": "defense", "plant": "jp", "demand_t_per_period": 6,
         "shortage_cost_usd_per_kg": 300},
    ]
    raw["stockpile"] = [
        {"element": "X", "plant": "us", "initial_t_by_origin": {"B": 2}, "capacity_t": 20,
         "holding_cost_usd_per_kg_per_period": 0.1, "floor_months_of_use": 1, "floor_penalty_usd_per_kg": 2},
        {"element": "X", "plant": "jp", "initial_t_by_origin": {"A": 1}, "capacity_t": 5,
         "holding_cost_usd_per_kg_per_period": 0.2, "floor_t": 1, "floor_penalty_usd_per_kg": 30},
    ]
    raw["magnet_stock"] = [{"grade": "G", "plant": "us", "capacity_t": 2, "holding_cost_usd_per_kg_per_period": 0.1}]
    raw["recycling_routes"] = [
        {"id": "loop_us", "plant": "us", "feed": "swarf", "capacity_t_feed_per_period": 1, "cost_usd_per_kg_feed": 1,
         "recovery_frac": {"X": 0.9}, "output_origin_group": "R"},
        {"id": "scrap_jp", "plant": "jp", "feed": "scr", "capacity_t_feed_per_period": 5, "cost_usd_per_kg_feed": 0.5,
         "recovery_frac": {"X": 0.9}, "output_origin_group": "R", "country": "RR"},
    ]
    raw["transfers"] = [
        {"id": "us_jp", "from_plant": "us", "to_plant": "jp", "lead_time_periods": 1, "cost_usd_per_kg": 0.5,
         "capacity_t_per_period": 3},
        {"id": "jp_us", "from_plant": "jp", "to_plant": "us", "cost_usd_per_kg": 0.2},
    ]
    raw["diversification_limits"] = [{"id": "a_at_jp", "element": "X", "group_by": "origin_group", "value": "A",
                                      "max_share_frac": 0.9, "plant": "jp", "basis": "supply"}]
    return raw


@pytest.fixture(scope="module")
def multi():
    return run_data(make(multi_plant_case()))


def test_passes_on_a_multi_plant_case(multi):
    assert_passes(audit_run(multi))
    raw = multi_plant_case()
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.6},
        {"name": "cut", "probability": 0.4, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["B"]}, "factor": 0.2, "start": "2027-02"}]},
    ]}
    st = run_stochastic_data(make(raw), evpi_vss=False)
    assert_passes(audit_run(st))
    assert (st.solution.tables["transfers"].moved_t > 0).any()


def test_multi_plant_case_exercises_the_plants(multi):
    """Guard against a vacuous pass: both kinds move on the lane, both plants make and recycle, and B's X held
    at jp is not used there for defence."""
    tb = multi.solution.tables
    tr = tb["transfers"]
    assert set(tr.kind) == {"element", "magnet"} and set(tr.lane) == {"us_jp"}
    assert (tr.arrival_period > tr.sent_period).all()
    assert set(tb["plants"].plant) == {"us", "jp"} and (tb["plants"].made_t > 0).all()
    assert set(tb["recycling"][tb["recycling"].feed_t > 0].plant) == {"us", "jp"}
    use = tb["eligibility_use"]
    assert not ((use.stream == "d_jp") & (use.origin_group == "B") & (use.element == "X")).any()
    st = tb["stock"]
    assert (st[(st.plant == "jp") & (st.origin_group == "B") & (st.element == "X")].stock_t > 0).any()


def test_tampered_transfer_is_caught(multi):
    """1 t more X of A on us_jp in 2027-01: the lane carries 3.77 t > its 3 t, us sent 1 t it did not have, jp
    received 1 t it did not use or hold; the row's cost and the transfer term no longer agree (+500 USD)."""
    key = {"lane": "us_jp", "kind": "element", "item": "X", "origin_group": "A", "sent_period": "2027-01"}
    tr = multi.solution.tables["transfers"]
    bad = failed(audit_run(tampered(multi, {"transfers": edit(tr, key, "moved_t", lambda x: x + 1.0)})))
    sent = float(tr[(tr.lane == "us_jp") & (tr.sent_period == "2027-01")].moved_t.sum())
    assert "lane us_jp, 2027-01" in bad["transfers"].detail and "capacity 3 t/period" in bad["transfers"].detail
    assert bad["transfers"].max_violation == pytest.approx(sent + 1.0 - 3.0, rel=1e-6)
    eb = bad["element_balance"]
    assert eb.max_violation == pytest.approx(1.0, rel=1e-6) and "2 rows violate" in eb.detail
    assert "element X, origin A" in eb.detail and ("plant us" in eb.detail or "plant jp" in eb.detail)
    assert "lane us_jp" in bad["cost_columns"].detail
    assert "cost term transfer" in bad["cost_terms"].detail and bad["cost_terms"].max_violation == pytest.approx(500.0)


def test_transfer_arriving_early_or_on_the_wrong_lane_is_caught(multi):
    tr = multi.solution.tables["transfers"]
    key = {"lane": "us_jp", "kind": "magnet", "item": "mag", "origin_group": "B", "sent_period": "2027-02"}
    bad = failed(audit_run(tampered(multi, {"transfers": edit(tr, key, "arrival_period", lambda a: "2027-02")})))
    assert set(bad) == {"transfers"}
    assert "reported arrival '2027-02', expected 2027-03" in bad["transfers"].detail
    bad = failed(audit_run(tampered(multi, {"transfers": edit(tr, key, "from_plant", lambda p: "jp")})))
    assert set(bad) == {"transfers"} and "the lane runs from us to jp" in bad["transfers"].detail
    bad = failed(audit_run(tampered(multi, {"transfers": edit(tr, key, "lane", lambda x: "jp_us")})))
    assert "transfers" in bad and "the lane runs from jp to us" in bad["transfers"].detail
    assert "finished_magnets" in bad  # the audit moves them on jp_us: jp sends magnets it does not have


def test_row_at_the_wrong_plant_is_caught(multi):
    """An arrival reported at jp instead of us breaks the reported arrivals at both; a production or recycling
    row naming the other plant is a table-integrity problem; a plants row's made_t is recomputed."""
    arr = multi.solution.tables["arrivals"]
    key = {"plant": "us", "element": "X", "origin_group": "B", "period": "2027-01"}
    x = float(arr[(arr.plant == "us") & (arr.element == "X") & (arr.origin_group == "B") & (arr.period == "2027-01")].arrived_t.iloc[0])
    bad = failed(audit_run(tampered(multi, {"arrivals": edit(arr, key, "plant", lambda p: "jp")})))
    assert set(bad) == {"reported_arrivals"} and "2 rows violate" in bad["reported_arrivals"].detail
    assert bad["reported_arrivals"].max_violation == pytest.approx(x, rel=1e-6)
    rec = multi.solution.tables["recycling"]
    bad = failed(audit_run(tampered(multi, {"recycling": edit(rec, {"route": "loop_us", "period": "2027-02"}, "plant",
                                                                lambda p: "jp")})))
    assert set(bad) == {"table_integrity"} and "route loop_us plant column 'jp', input 'us'" in bad["table_integrity"].detail
    pl = multi.solution.tables["plants"]
    bad = failed(audit_run(tampered(multi, {"plants": edit(pl, {"plant": "jp", "period": "2027-02"}, "made_t",
                                                             lambda x: x - 1.0)})))
    assert set(bad) == {"plant_results"} and "plants: plant jp, 2027-02: made_t" in bad["plant_results"].detail
    assert bad["plant_results"].max_violation == pytest.approx(1.0)


def test_use_barred_at_one_plant_only_is_caught(multi):
    """B's X is prohibited for defence at plants in JP: a row using it for d_jp is caught, naming the plant."""
    use = multi.solution.tables["eligibility_use"]
    row = pd.DataFrame([{"stream": "d_jp", "end_use": "defense", "element": "X", "origin_group": "B",
                         "period": "2027-03", "used_t": 0.4}])
    c = failed(audit_run(tampered(multi, {"eligibility_use": pd.concat([use, row], ignore_index=True)})))["eligibility"]
    assert "stream d_jp" in c.detail and "X of origin B" in c.detail and "at plant jp" in c.detail
    assert c.max_violation == pytest.approx(0.4)


def test_transfer_cost_is_booked_in_the_sent_period(multi):
    """cost_by_period's transfer term: what leaves on a lane in t costs in t (not at its arrival in t + 1)."""
    tr = multi.solution.tables["transfers"]
    cbp = multi.solution.tables["cost_by_period"]
    got = cbp[cbp.term == "transfer"].set_index("period").cost_usd
    for period in multi.data.periods:
        assert got[period] == pytest.approx(float(tr[tr.sent_period == period].cost_usd.sum()), abs=1e-6)
    assert got["2027-01"] > 0 and got["2027-03"] == pytest.approx(0.0)
    assert got.sum() == pytest.approx(multi.solution.kpis["cost_parts_usd"]["transfer"], rel=1e-9)
