"""The two-stage stochastic plan (model.md §3, §5, §6): extensive form, non-anticipativity, CVaR,
wait-and-see / EVPI, expected-value plan / EEV / VSS, and the expected-value (mean) case.

Every tiny instance starts from ``tests.tiny.base_case``: one element X, grade G needing 0.5 t X per
t magnet, plant yield 1, one civil stream ``s`` of 10 t magnet/period with a shortage cost of
100 USD/kg, and a spot offer ``a_spot`` of oxide ``ox`` (1 t X per t) from origin A at 10 USD/kg,
lead 0. Units: t and USD/kg, so every cost below is kUSD. Useful constants:

* 1 t of X missing = 2 t magnet short = 200 kUSD;
* meeting the base demand takes 5 t X per period.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from model.components.build import build_scenario_model
from model.input.io import read_case
from model.input.scenarios import mean_case, scenario_cases
from model.solve.highs import solve
from model.stochastic.extensive import cvar, run_stochastic
from tests.tiny import base_case, make

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-9
ABS = 1e-7
MODES = ("rows", "shared", "arrays")  # the Pyomo EF with equality rows or merged columns; the EF from arrays


def run(data, mode: str, **kw):
    """``run_stochastic`` in ``mode``: ``arrays`` is the default path (model.stochastic.ef_arrays)."""
    return run_stochastic(data, nonant="rows" if mode == "rows" else "shared", arrays=mode == "arrays", **kw)


def approx(x):
    return pytest.approx(x, rel=REL, abs=ABS)


# --------------------------------------------------------------------------------------------
# instances
# --------------------------------------------------------------------------------------------


def boom_case(p_boom: float, *, lam: float = 0.0, alpha: float = 0.95) -> dict:
    """T = 2, non-anticipative window 1 period; demand of ``s`` x3 in period 2 with probability p_boom.

    a_spot (A, 10 USD/kg) is capped at 5 t/period: enough for the base demand (5 t X), not for the
    boom (30 t magnet = 15 t X). Contract ``b_c`` (B): 20 USD/kg, reservation fee 5 USD/kg,
    capacity 100 t/period. Scenarios: ``calm`` (1 - p_boom), ``boom`` (p_boom, demand factor 3 from
    2027-02, i.e. period 2 only).
    """
    raw = base_case(2)
    raw["offers"][0]["capacity_t_per_period"] = 5
    raw["offers"].append({"id": "b_c", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 100, "price_usd_per_kg": 20,
                          "reservation_fee_usd_per_kg": 5})
    raw["risk"] = {"non_anticipative_periods": 1, "risk_weight_lambda": lam, "cvar_alpha": alpha}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 1 - p_boom},
        {"name": "boom", "probability": p_boom, "effects": [
            {"kind": "demand", "select": {"streams": ["s"]}, "factor": 3, "start": "2027-02"}]},
    ]}
    return raw


def stock_case() -> dict:
    """T = 2, window 1; origin A (the only offer, 10 USD/kg, cap 100) is embargoed in period 2 with p 0.5.

    A stockpile of X (capacity 100 t, holding 1 USD/kg/period, no initial stock, so no terminal
    requirement) lets period 1 buy for period 2.
    """
    raw = base_case(2)
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "holding_cost_usd_per_kg_per_period": 1}]
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.5},
        {"name": "embargo", "probability": 0.5, "effects": [
            {"kind": "availability", "select": {"suppliers": ["SA"]}, "factor": 0, "start": "2027-02"}]},
    ]}
    return raw


def solve_alone(data):
    b = build_scenario_model(data)
    res = solve(b.model)
    return b, res


# --------------------------------------------------------------------------------------------
# 1. RP, WS, EEV, EVPI, VSS by hand
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nonant", MODES)
def test_rp_ws_eev_evpi_vss_by_hand(nonant):
    """``boom_case(0.25)``: calm 0.75, boom 0.25 (period-2 demand 30 t magnet = 15 t X).

    Period 1 (both scenarios, first stage): buy 5 t X from A = 50 kUSD.
    Let r = t of b_c reserved for period 2 (first stage, fee 5 USD/kg). Period 2:
      calm: 5 t from A = 50; the reservation is not used (A is cheaper).
      boom: 5 t from A = 50, min(r, 10) t from b_c at 20, the rest of the 10 t X short at 200/t.
    RP: E(r) = 50 + 5r + 0.75 x 50 + 0.25 x (50 + 20r + 200(10 - r)) = 600 - 40r on [0, 10] -> r = 10:
      calm = 50 + 50 + 50 (fee) = 150; boom = 50 + 50 + 200 + 50 = 350;
      RP = 0.75 x 150 + 0.25 x 350 = 112.5 + 87.5 = 200.
    WS (perfect foresight): calm 100 (no reservation); boom 50 + 50 + 10 x (20 + 5) = 350;
      WS = 75 + 87.5 = 162.5, EVPI = 200 - 162.5 = 37.5.
    EV plan: mean period-2 demand 0.75 x 10 + 0.25 x 30 = 15 t magnet = 7.5 t X: 5 from A, 2.5 reserved
      (25 per t < 200 shortage), so r = 2.5.
    EEV (r = 2.5 fixed): calm 50 + 50 + 12.5 = 112.5;
      boom 50 + 50 + 2.5 x 20 + 7.5 x 200 + 12.5 = 1662.5;
      EEV = 0.75 x 112.5 + 0.25 x 1662.5 = 84.375 + 415.625 = 500, VSS = 500 - 200 = 300.
    """
    r = run(make(boom_case(0.25)), nonant)
    m = r.metrics
    assert m["objective_kusd"] == approx(200.0)
    assert m["expected_cost_kusd"] == approx(200.0)
    assert m["scenario_total_kusd"] == [approx(150.0), approx(350.0)]
    assert m["first_stage_cost_kusd"] == approx(50.0)
    assert m["perfect_foresight_total_kusd"] == [approx(100.0), approx(350.0)]
    assert m["wait_and_see_kusd"] == approx(162.5)
    assert m["evpi_kusd"] == approx(37.5)
    assert m["expected_value_plan_objective_kusd"] == approx(50 + 50 + 2.5 * 25)
    assert m["eev_total_kusd"] == [approx(112.5), approx(1662.5)]
    assert m["eev_kusd"] == approx(500.0)
    assert m["vss_kusd"] == approx(300.0)
    assert r.first_stage["Reserve_t_per_period[b_c,2]"] == approx(10.0)
    assert r.first_stage["Purchase_t[a_spot,1]"] == approx(5.0)
    for sol in r.solutions:
        res = sol.tables["reservations"].set_index(["offer", "period"]).reserved_t
        assert res["b_c", "2027-02"] == approx(10.0)
    if r.ef is not None:
        for b in r.ef.scenarios:
            assert pyo.value(b.model.Reserve_t_per_period["b_c", 2]) == approx(10.0)
            assert pyo.value(b.model.Purchase_t["a_spot", 1]) == approx(5.0)


# --------------------------------------------------------------------------------------------
# 2. non-anticipativity
# --------------------------------------------------------------------------------------------


def test_perfect_foresight_plans_differ_in_period_one():
    """``stock_case`` solved per scenario without the EF (perfect foresight):

    calm: buy 5 t in each period, 50 + 50 = 100, no stock;
    embargo: nothing can be bought in period 2, so buy 10 t in period 1 and hold 5 t:
      100 + 5 t x 1 USD/kg holding = 105 (cheaper than 5 t X short = 1000).
    So Purchase_t[a_spot, 1] is 5 vs 10: the plans differ inside the non-anticipative window.
    """
    cases = scenario_cases(make(stock_case()))
    got = {}
    for c in cases:
        b, res = solve_alone(c)
        got[c.scenario] = (res.objective_kusd, pyo.value(b.model.Purchase_t["a_spot", 1]),
                           pyo.value(b.model.Stock_t["plant", "X", "A", 1]))
    assert got["calm"] == (approx(100.0), approx(5.0), approx(0.0))
    assert got["embargo"] == (approx(105.0), approx(10.0), approx(5.0))


@pytest.mark.parametrize("nonant", MODES)
def test_non_anticipativity_holds_in_the_solution(nonant):
    """With the EF, period 1 is decided once. Stocking s t in period 1 costs 11 per t (10 + 1 holding);
    in period 2 it saves 10 per t in calm and 200 per t in embargo: E = 50 + 11 s + 0.5 x 10 (5 - s)
    + 0.5 x 200 (5 - s) = 575 - 94 s -> s = 5: both scenarios buy 10 t in period 1 and cost
    100 + 5 = 105; RP = 105. Every first-stage variable of every scenario equals scenario 0's.
    """
    r = run(make(stock_case()), nonant, with_evpi_vss=False)
    assert r.metrics["objective_kusd"] == approx(105.0)
    assert r.metrics["scenario_total_kusd"] == [approx(105.0), approx(105.0)]
    assert r.first_stage["Purchase_t[a_spot,1]"] == approx(10.0)
    assert r.first_stage["Stock_t[plant,X,A,1]"] == approx(5.0)
    for sol in r.solutions:  # every scenario's tables read the one first stage
        pur = sol.tables["purchases"].set_index(["offer", "order_period"]).purchased_t
        assert pur["a_spot", "2027-01"] == approx(10.0)
        stock = sol.tables["stock"].set_index(["element", "period"]).stock_t
        assert stock["X", "2027-01"] == approx(5.0)
    if nonant == "arrays":
        assert r.ef is None and r.nonant == "shared"
        return
    ref = r.ef.scenarios[0].first_stage_vars
    assert len(ref) > 0
    names = [v.getname(fully_qualified=False) for v in ref]
    assert "Purchase_t[a_spot,1]" in names and "Stock_t[plant,X,A,1]" in names
    for b in r.ef.scenarios[1:]:
        fs = b.first_stage_vars
        assert [v.getname(fully_qualified=False) for v in fs] == names
        for v, v0 in zip(fs, ref):
            assert v.value is not None and v0.value is not None, v.name
            assert v.value == approx(v0.value), (v.name, v.value, v0.value)
    for b in r.ef.scenarios:
        assert pyo.value(b.model.Purchase_t["a_spot", 1]) == approx(10.0)
        assert pyo.value(b.model.Stock_t["plant", "X", "A", 1]) == approx(5.0)
    if nonant == "rows":
        assert len(r.ef.model.NonAnticipativity) == len(ref)
    else:
        assert r.ef.model.component("NonAnticipativity") is None
        assert len(r.ef.equal_vars) == len(ref)


# --------------------------------------------------------------------------------------------
# 3. CVaR
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nonant", MODES)
def test_cvar_weight_buys_insurance(nonant):
    """``boom_case(0.02, alpha=0.9)``: the tail (worst 10 %) is all of boom (2 %) and 8 % of calm, so
    CVaR = (0.02 boom + 0.08 calm) / 0.1 = 0.2 boom + 0.8 calm while boom > calm.

    With r reserved for period 2 (0 <= r <= 10): calm(r) = 100 + 5r, boom(r) = 100 + 5r + 20r + 200(10 - r)
    = 2100 - 175r.
      E(r) = 0.98 (100 + 5r) + 0.02 (2100 - 175r) = 140 + 1.4r;
      CVaR(r) = 0.2 (2100 - 175r) + 0.8 (100 + 5r) = 500 - 31r.
    lambda = 0: minimise E -> r = 0: E = 140, CVaR = 500, totals (100, 2100).
    lambda = 1: minimise E + CVaR = 640 - 29.6r -> r = 10: E = 154, CVaR = 190, objective 344,
      totals (150, 350).
    So the expected cost rises 140 -> 154 and the CVaR falls 500 -> 190.
    With lambda = 1 also: WS totals (100, 350): E 105, CVaR 0.2 x 350 + 0.8 x 100 = 150, WS = 255,
      EVPI = 89. EV plan: mean period-2 demand 10 x (0.98 + 3 x 0.02) = 10.4 t magnet = 5.2 t X,
      so r = 0.2; EEV totals (101, 2065): E 140.28, CVaR 413 + 80.8 = 493.8, EEV = 634.08, VSS = 290.08.
    """
    neutral = run(make(boom_case(0.02, lam=0.0, alpha=0.9)), nonant, with_evpi_vss=False)
    averse = run(make(boom_case(0.02, lam=1.0, alpha=0.9)), nonant)
    n, a = neutral.metrics, averse.metrics
    assert n["objective_kusd"] == approx(140.0)
    assert n["expected_cost_kusd"] == approx(140.0)
    assert n["cvar_cost_kusd"] == approx(500.0)
    assert n["scenario_total_kusd"] == [approx(100.0), approx(2100.0)]
    assert a["objective_kusd"] == approx(344.0)
    assert a["expected_cost_kusd"] == approx(154.0)
    assert a["cvar_cost_kusd"] == approx(190.0)
    assert a["scenario_total_kusd"] == [approx(150.0), approx(350.0)]
    assert a["expected_cost_kusd"] > n["expected_cost_kusd"] + 1.0
    assert a["cvar_cost_kusd"] < n["cvar_cost_kusd"] - 1.0
    # the EF's CVaR at the optimum is the CVaR of the scenario totals
    assert averse.result.objective_kusd == approx(a["expected_cost_kusd"] + 1.0 * cvar(a["scenario_total_kusd"],
                                                                                       [0.98, 0.02], 0.9))
    if nonant == "arrays":  # the VaR level and the two tail excesses are the last three columns
        assert averse.result.n_columns == neutral.result.n_columns + 3
    else:
        ef = averse.ef.model
        totals = [pyo.value(ef.ScenarioTotal_kusd[k]) for k in range(2)]
        assert pyo.value(ef.CVaR_kusd) == approx(cvar(totals, [0.98, 0.02], 0.9))
        assert pyo.value(ef.CVaR_kusd) == approx(190.0)
        assert pyo.value(ef.VaR_kusd) == approx(150.0)
        assert pyo.value(ef.RiskAdjustedCost) == approx(pyo.value(ef.ExpectedCost_kusd) + 1.0 * pyo.value(ef.CVaR_kusd))
        assert neutral.ef.model.component("CVaR_kusd") is None
    # the same risk measure for WS and EEV
    assert a["wait_and_see_kusd"] == approx(255.0)
    assert a["evpi_kusd"] == approx(89.0)
    assert a["eev_total_kusd"] == [approx(101.0), approx(2065.0)]
    assert a["eev_kusd"] == approx(634.08)
    assert a["vss_kusd"] == approx(290.08)


# --------------------------------------------------------------------------------------------
# 4. one scenario is the deterministic plan
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nonant", MODES)
def test_single_scenario_is_the_deterministic_plan(nonant):
    """``stock_case`` with one listed scenario ``only`` (probability 1, no effects) vs the same case
    without scenarios: both are 5 t per period at 10 USD/kg = 100 kUSD; EVPI = VSS = 0."""
    raw = stock_case()
    raw["scenarios"] = {"mode": "listed", "listed": [{"name": "only", "probability": 1.0}]}
    r = run(make(raw), nonant)
    det_raw = copy.deepcopy(raw)
    del det_raw["scenarios"]
    b, res = solve_alone(make(det_raw))
    assert res.objective_kusd == approx(100.0)
    assert r.metrics["objective_kusd"] == approx(res.objective_kusd)
    assert r.metrics["expected_cost_kusd"] == approx(res.objective_kusd)
    assert r.metrics["evpi_kusd"] == approx(0.0)
    assert r.metrics["vss_kusd"] == approx(0.0)
    assert len(r.cases) == 1 and r.cases[0].probability == 1.0


def test_single_scenario_with_effects_matches_deterministic_on_transformed_data():
    """One listed scenario with an effect (A embargoed in period 2, probability 1) equals the
    deterministic solve of the scenario's data: buy 10 t in period 1 and hold 5 t = 105 kUSD."""
    raw = stock_case()
    raw["scenarios"]["listed"] = [dict(raw["scenarios"]["listed"][1], probability=1.0)]
    data = make(raw)
    r = run_stochastic(data, with_evpi_vss=False)
    (case,) = scenario_cases(data)
    b, res = solve_alone(case)
    assert res.objective_kusd == approx(105.0)
    assert r.metrics["objective_kusd"] == approx(105.0)


# --------------------------------------------------------------------------------------------
# 5. cvar()
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, expected", [
    (0.9, 10.0),                      # tail 0.1 = the atom at 10 exactly
    (0.8, (0.1 * 10 + 0.1 * 3) / 0.2),  # 6.5: tail 0.2 = the atom at 10 + half of the atom at 3
    (0.75, (0.1 * 10 + 0.15 * 3) / 0.25),  # 5.8: the tail splits the atom at 3 (0.15 of its 0.2)
    (0.5, (0.1 * 10 + 0.2 * 3 + 0.2 * 2) / 0.5),  # 4.0: the tail ends exactly at the atom boundary of 2
    (0.55, (0.1 * 10 + 0.2 * 3 + 0.15 * 2) / 0.45),  # 4.2: splits the atom at 2 (0.15 of its 0.3)
    (0.01, (2.6 - 0.01 * 1) / 0.99),  # all but 0.01 of the atom at 1; mean = 2.6
])
def test_cvar_hand_values(alpha, expected):
    """Distribution: 1 (p 0.4), 2 (p 0.3), 3 (p 0.2), 10 (p 0.1); given out of order.

    CVaR_alpha = expected value of the worst 1 - alpha of probability:
      alpha 0.9: 10; 0.8: (0.1 x 10 + 0.1 x 3) / 0.2 = 6.5; 0.75: (1 + 0.45) / 0.25 = 5.8;
      0.5: (1 + 0.6 + 0.4) / 0.5 = 4; 0.55: (1 + 0.6 + 0.3) / 0.45 = 4.2222...;
      0.01: (2.6 - 0.01) / 0.99 = 2.61616...
    """
    values = [3, 10, 1, 2]
    probs = [0.2, 0.1, 0.4, 0.3]
    assert cvar(values, probs, alpha) == approx(expected)
    assert cvar(values, probs, alpha) >= float(np.dot(values, probs)) - 1e-12


def test_cvar_degenerate_and_monotone():
    """A single atom is its own CVaR; CVaR rises with alpha; two equal atoms at 0.5 each, alpha 0.5: 7."""
    assert cvar([42.0], [1.0], 0.95) == approx(42.0)
    assert cvar([7.0, 7.0], [0.5, 0.5], 0.5) == approx(7.0)
    assert cvar([0.0, 100.0], [0.5, 0.5], 0.5) == approx(100.0)
    assert cvar([0.0, 100.0], [0.5, 0.5], 0.25) == approx(0.5 * 100 / 0.75)
    vals, ps = [1, 2, 3, 10], [0.4, 0.3, 0.2, 0.1]
    seq = [cvar(vals, ps, a) for a in (0.05, 0.3, 0.6, 0.7, 0.85, 0.95)]
    assert all(x <= y + 1e-12 for x, y in zip(seq, seq[1:]))
    assert seq[-1] == approx(10.0)


# --------------------------------------------------------------------------------------------
# 6-7. the default case
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_run():
    data = read_case(ROOT / "inputs" / "base.yaml")
    return data, run_stochastic(data)


def test_default_case_has_twelve_product_scenarios(default_run):
    """base.yaml: policy (status_quo 0.45, heavy_tightening 0.20, destination_embargo 0.10,
    relaxation 0.25) x outage (no_outage 0.5625, myanmar_cut 0.21875, lynas_outage 0.21875):
    4 x 3 = 12 scenarios, each with the product of its options' probabilities, summing to 1."""
    data, run = default_run
    cases = run.cases
    assert len(cases) == 12
    assert sum(c.probability for c in cases) == approx(1.0)
    byname = {c.scenario: c.probability for c in cases}
    assert len(byname) == 12
    assert byname["status_quo+no_outage"] == approx(0.45 * 0.5625)
    assert byname["destination_embargo+lynas_outage"] == approx(0.10 * 0.21875)
    assert byname["heavy_tightening+myanmar_cut"] == approx(0.20 * 0.21875)
    assert len(run.metrics["scenario_total_kusd"]) == 12


def test_default_mean_case_is_probability_weighted(default_run):
    """Mean case of base.yaml (periods 1 = 2027-01 ... 24 = 2028-12).

    availability of cn_dy_oxide_spot (CN, dy_oxide) = E[policy factor] x E[outage factor] (independent):
      destination_embargo (p 0.10): 0 in periods 4..12 (2027-04, 9 periods);
      myanmar_cut (p 0.21875): 0.5 in periods 7..10 (2027-07, 4 periods).
      t 1..3: 1; t 4..6 and 11..12: 0.9; t 7..10: 0.9 x (1 - 0.21875 x 0.5) = 0.8015625; t 13..24: 1.
    quota factor of cn_dy_oxide_civil: heavy_tightening (p 0.20) x 0.4615 in periods 2..13:
      t 1: 1; t 2..13: 0.8 + 0.2 x 0.4615 = 0.8923; t 14..24: 1.
    approval of cn_dy_oxide_civil (base 0.6): relaxation (p 0.25) sets 0.95 from 2027-02 on:
      t 1: 0.6; t >= 2: 0.75 x 0.6 + 0.25 x 0.95 = 0.6875.
    quota factor of cn_hre_magnets_civil: heavy_tightening x 0.421 in 2..13, relaxation x 1.0526 from 2:
      t 2..13: 0.2 x 0.421 + 0.25 x 1.0526 + 0.55 = 0.89735; t 14..24: 0.25 x 1.0526 + 0.75 = 1.01315.
    The No. 61 prohibition (p 0.20 < 1/2) is not kept in the mean case.
    """
    data, run = default_run
    ev = mean_case(list(run.cases))
    assert ev.probability == 1.0
    av = [1.0] * 3 + [0.9] * 3 + [0.8015625] * 4 + [0.9] * 2 + [1.0] * 12
    assert list(ev.availability_frac["cn_dy_oxide_spot"]) == [approx(x) for x in av]
    q = [1.0] + [0.8923] * 12 + [1.0] * 11
    assert list(ev.quota_factor["cn_dy_oxide_civil"]) == [approx(x) for x in q]
    assert list(ev.approval_frac["cn_dy_oxide_civil"]) == [approx(0.6)] + [approx(0.6875)] * 23
    qm = [1.0] + [0.89735] * 12 + [1.01315] * 11
    assert list(ev.quota_factor["cn_hre_magnets_civil"]) == [approx(x) for x in qm]
    assert [r.id for r in ev.case.licence_rules] == [r.id for r in data.case.licence_rules]
    # a series no event touches stays as read
    for k, v in data.demand_t_per_period.items():
        assert list(ev.demand_t_per_period[k]) == [approx(x) for x in v], k


def test_default_evpi_and_vss_are_non_negative(default_run):
    """LP theory: WS <= RP <= EEV (risk neutral), so EVPI >= 0 and VSS >= 0."""
    _, run = default_run
    m = run.metrics
    scale = max(1.0, abs(m["objective_kusd"]))
    assert m["vss_note"] is None
    assert m["evpi_kusd"] >= -1e-7 * scale
    assert m["vss_kusd"] >= -1e-7 * scale
    assert m["wait_and_see_kusd"] <= m["objective_kusd"] + 1e-7 * scale <= m["eev_kusd"] + 2e-7 * scale
    assert m["objective_kusd"] == pytest.approx(float(np.dot([c.probability for c in run.cases],
                                                             m["scenario_total_kusd"])), rel=REL)


# --------------------------------------------------------------------------------------------
# the mean case must not depend on the order of the scenarios
# --------------------------------------------------------------------------------------------


def _deminimis_case(first: str) -> dict:
    """T = 3, window 1; origin B sells `ox` at 15 USD/kg. Scenario ``deminimis`` (p 0.5) prohibits
    A's `ox` for civil use from 2027-02; ``calm`` (p 0.5) changes nothing. ``first`` is listed first."""
    raw = base_case(3)
    raw["offers"].append({"id": "b_spot", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 15})
    raw["risk"] = {"non_anticipative_periods": 1}
    sc = {"deminimis": {"name": "deminimis", "probability": 0.5, "effects": [
        {"kind": "prohibit_end_uses", "select": {"origin_groups": ["A"], "materials": ["ox"]},
         "end_uses": ["civil"], "start": "2027-02"}]},
          "calm": {"name": "calm", "probability": 0.5}}
    other = "calm" if first == "deminimis" else "deminimis"
    raw["scenarios"] = {"mode": "listed", "listed": [sc[first], sc[other]]}
    return raw


@pytest.mark.parametrize("first", ["calm", "deminimis"])
def test_mean_case_and_vss_do_not_depend_on_scenario_order(first):
    """The prohibition has probability 0.5 >= 1/2, so the mean case keeps it (periods 2-3) and
    must buy from B there: EV plan = 50 + 2 x 75 = 200 kUSD.
    RP: period 1 from A (50); periods 2-3: calm from A (50 each), deminimis from B (75 each):
      calm 150, deminimis 200, RP = 175. WS = RP (nothing to hedge) -> EVPI 0.
    EEV: only period-1 decisions are fixed (buy 5 from A), so EEV = RP and VSS = 0.
    The same numbers whichever scenario is listed first.
    """
    data = make(_deminimis_case(first))
    ev = mean_case(scenario_cases(data))
    proh = [r for r in ev.case.licence_rules if r.regime == "prohibited"]
    assert len(proh) == 1
    assert (proh[0].origin_groups, proh[0].materials, proh[0].end_uses) == (["A"], ["ox"], ["civil"])
    assert (proh[0].valid_from, proh[0].valid_to) == ("2027-02", "2027-03")
    r = run_stochastic(data)
    m = r.metrics
    assert m["objective_kusd"] == approx(175.0)
    assert m["expected_value_plan_objective_kusd"] == approx(200.0)
    assert m["evpi_kusd"] == approx(0.0)
    assert m["vss_kusd"] == approx(0.0)


def _with_scenarios(data, **update):
    sc = data.case.scenarios.model_copy(update=update)
    return replace(data, case=data.case.model_copy(update={"scenarios": sc}))


def test_default_mean_case_does_not_depend_on_option_order(default_run):
    """base.yaml with the policy options rotated (heavy_tightening, destination_embargo, relaxation,
    status_quo) describes the same uncertainty, so it must give the same mean case. Rotated, the first
    product scenario is heavy_tightening+no_outage, which carries the No. 61 prohibition (p 0.2 < 1/2,
    so the mean case drops it either way)."""
    data, run = default_run
    ref = mean_case(list(run.cases))
    policy, outage = data.case.scenarios.factors
    opts = list(policy.options)
    rotated = [opts[1], opts[2], opts[3], opts[0]]  # heavy_tightening first
    alt = _with_scenarios(data, factors=[policy.model_copy(update={"options": rotated}), outage])
    cases = scenario_cases(alt)
    assert cases[0].scenario == "heavy_tightening+no_outage"
    ev = mean_case(cases)
    assert [r.id for r in ev.case.licence_rules] == [r.id for r in ref.case.licence_rules]
    for attr in ("availability_frac", "quota_factor", "approval_frac", "price_usd_per_kg", "demand_t_per_period"):
        a, b = getattr(ev, attr), getattr(ref, attr)
        assert set(a) == set(b), attr
        for k in b:
            assert list(a[k]) == [approx(x) for x in b[k]], (attr, k)


def test_sampled_mean_case_with_a_prohibition_in_the_first_draw():
    """inputs/sampled.yaml with seed 1: the first draw is heavy_tightening (with the No. 61
    prohibition); the mean case must still be built (the prohibition, at probability < 1/2, is dropped)."""
    data = _with_scenarios(read_case(ROOT / "inputs" / "sampled.yaml"), seed=1)
    cases = scenario_cases(data)
    assert cases[0].scenario.startswith("s001-heavy_tightening")
    ev = mean_case(cases)
    assert [r.id for r in ev.case.licence_rules] == [r.id for r in data.case.licence_rules]
    assert set(ev.quota_factor) == {r.id for r in data.case.licence_rules}
