"""Cost over time (model/results/costs.py): cost by period and year, present value, working capital and the
budget view, on a tiny case worked out by hand and on the default case.

The tiny case (``tests.tiny.base_case`` over 2 monthly periods from 2027-01, ``tiny()`` below): element X
(a recipe of 0.5 t X per t magnet, yield 1), demand 10 t magnet per period, so 5 t X are used per period.
A spot offer at 10 USD/kg and a contract ``c`` of the same oxide (content 1.0) at 8 USD/kg, lead 0, fee
1.5 USD/kg per period reserved, minimum take 60 %; a stockpile of X with 2 t initial stock (also the
terminal requirement), holding 0.5 USD/kg per period; first-stage window W = 1 period; discount rate
10 %/yr, base year 2027 (the horizon start's).

Optimum: buying on the contract costs 8 + 1.5 = 9.5 USD/kg < 10 spot, so everything comes from ``c``,
reserved exactly as bought. Using the 2 t of initial stock in period 1 and buying them back in period 2
saves one period of holding on 2 t: period 1 buys 3 t, period 2 buys 7 t (5 used + 2 to meet the
terminal requirement), stock is 0 at the end of period 1 and 2 t at the end of period 2. In USD
(t x USD/kg x 1,000):

    period 1 (2027-01): purchases 3 x 8 x 1000 = 24,000; fees 3 x 1.5 x 1000 = 4,500;           = 28,500
    period 2 (2027-02): purchases 7 x 8 x 1000 = 56,000; fees 7 x 1.5 x 1000 = 10,500;
                        holding 2 x 0.5 x 1000 = 1,000;                                          = 67,500
    year 2027: purchases 80,000, fees 15,000, holding 1,000; total 96,000

Discounting, end of period: period 1 ends 1 month after 1 January 2027, period 2 after 2 months:
DF1 = 1.1^(-1/12) = 0.9920889, DF2 = 1.1^(-2/12) = 0.9842404;
PV = 28,500 x DF1 + 67,500 x DF2 = 28,274.53 + 66,436.23 = 94,710.76 USD.

Budget (W = 1): decided now = fees 4,500 + 10,500 + the period-1 order 24,000 = 39,000 (28,500 in period
1, 10,500 in period 2); committed = period 2's minimum take min(7, 0.6 x 7) = 4.2 t x 8 x 1000 = 33,600;
scenario-dependent = the rest of period 2's order 2.8 t x 8 x 1000 = 22,400 + holding 1,000 = 23,400;
39,000 + 33,600 + 23,400 = 96,000. Working capital: valuation 8 USD/kg (every purchase at 8 USD/kg of
content 1.0), value 0 in period 1 and 2 t x 1000 x 8 = 16,000 USD in period 2.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from pytest import approx

from model.app.run import run_data
from model.input.io import case_from_mapping
from model.input.schema import Finance
from model.results import costs
from model.stochastic.extensive import expected_cost_gaps
from tests.tiny import base_case

DF1, DF2 = 1.1 ** (-1 / 12), 1.1 ** (-2 / 12)
REL = 1e-6


def tiny(rate: float = 0.1, **finance) -> dict:
    raw = base_case(periods=2)
    raw["offers"].append({"id": "c", "supplier": "SC", "country": "CC", "origin_group": "A", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 100, "price_usd_per_kg": 8,
                          "lead_time_periods": 0, "reservation_fee_usd_per_kg": 1.5, "min_take_frac": 0.6})
    raw["stockpile"] = [{"element": "X", "initial_t_by_origin": {"A": 2}, "capacity_t": 100,
                         "holding_cost_usd_per_kg_per_period": 0.5}]
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["finance"] = {"discount_rate_frac_per_year": rate} | finance
    return raw


@pytest.fixture(scope="module")
def tiny_run():
    run = run_data(case_from_mapping(copy.deepcopy(tiny()), Path("<tiny>.yaml")))
    assert run.solution.kpis["audit"]["passed"]
    return run


def _cell(df, **key):
    sel = df
    for k, v in key.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, key
    return sel.iloc[0]


def test_tiny_plan_is_the_hand_optimum(tiny_run):
    p = tiny_run.solution.tables["purchases"]
    assert p[p.offer == "c"].purchased_t.tolist() == [approx(3.0), approx(7.0)]
    assert p[p.offer == "a_spot"].purchased_t.sum() == approx(0.0, abs=1e-9)
    assert tiny_run.solution.kpis["objective_usd"] == approx(96_000.0, rel=1e-9)


def test_tiny_cost_by_period(tiny_run):
    cbp = tiny_run.solution.tables["cost_by_period"]
    want = {("purchases", "2027-01"): 24_000, ("purchases", "2027-02"): 56_000,
            ("reservation_fees", "2027-01"): 4_500, ("reservation_fees", "2027-02"): 10_500,
            ("holding", "2027-01"): 0.0, ("holding", "2027-02"): 1_000}
    for (term, period), usd in want.items():
        row = _cell(cbp, term=term, period=period)
        assert row.cost_usd == approx(usd, rel=1e-9, abs=1e-6), (term, period)
        assert row.year == 2027
        assert row.discount_factor == approx(DF1 if period == "2027-01" else DF2, rel=1e-9)
        assert row.pv_usd == approx(usd * row.discount_factor, rel=1e-9, abs=1e-6)
    assert _cell(cbp, term="reservation_fees", period="2027-01").stage == "first"
    other = cbp[~cbp.term.isin(["purchases", "reservation_fees", "holding"])]
    assert other.cost_usd.abs().max() == approx(0.0, abs=1e-6)
    assert cbp.cost_usd.sum() == approx(96_000, rel=1e-9)


def test_tiny_cost_by_year_and_present_value(tiny_run):
    cby = tiny_run.solution.tables["cost_by_year"]
    assert set(cby.year) == {2027}
    for term, usd in (("purchases", 80_000), ("reservation_fees", 15_000), ("holding", 1_000)):
        assert _cell(cby, term=term).cost_usd == approx(usd, rel=1e-9)
    k = tiny_run.solution.kpis
    pv = 28_500 * DF1 + 67_500 * DF2
    assert pv == approx(94_710.76, abs=0.01)  # the docstring's arithmetic
    assert k["present_value_usd"] == approx(pv, rel=1e-9)
    assert cby.pv_usd.sum() == approx(pv, rel=1e-9)
    assert k["discount_rate_frac_per_year"] == 0.1 and k["present_value_date"] == "2027-01-01"


def test_tiny_budget_split(tiny_run):
    b = tiny_run.solution.tables["budget"]
    assert b.category.tolist() == ["decided_now", "committed", "scenario_dependent"]
    got = dict(zip(b.category, b.cost_usd))
    assert got == {"decided_now": approx(39_000), "committed": approx(33_600), "scenario_dependent": approx(23_400)}
    pv = dict(zip(b.category, b.pv_usd))
    assert pv["decided_now"] == approx(28_500 * DF1 + 10_500 * DF2, rel=1e-9)
    assert pv["committed"] == approx(33_600 * DF2, rel=1e-9)
    k = tiny_run.solution.kpis
    assert k["spend_decided_now_usd"] == approx(39_000, rel=1e-9)
    assert k["first_stage_cost_usd"] == approx(15_000, rel=1e-9)  # fees only: the split leaves it as it was


def test_tiny_working_capital(tiny_run):
    wc = tiny_run.solution.tables["working_capital"]
    assert wc.element.tolist() == ["X", "X"] and wc.period.tolist() == ["2027-01", "2027-02"]
    assert wc.valuation_usd_per_kg.tolist() == [approx(8.0), approx(8.0)]
    assert wc.stock_t.tolist() == [approx(0.0, abs=1e-9), approx(2.0)]
    assert wc.value_usd.tolist() == [approx(0.0, abs=1e-6), approx(16_000.0)]


def test_base_year_and_months_per_period_move_the_discount():
    raw = tiny(rate=0.1, base_year=2026)
    data = case_from_mapping(copy.deepcopy(raw), Path("<tiny>.yaml"))
    f = costs.discount_factors(data.case, data.periods)
    assert f == [approx(1.1 ** (-13 / 12)), approx(1.1 ** (-14 / 12))]  # 13 and 14 months from 1 January 2026
    raw = tiny(rate=0.1)
    raw["horizon"] = {"start_month": "2027-07", "periods": 2, "months_per_period": 3}
    data = case_from_mapping(copy.deepcopy(raw), Path("<tiny>.yaml"))
    assert costs.discount_factors(data.case, data.periods) == [approx(1.1 ** (-9 / 12)), approx(1.1 ** (-12 / 12))]


def test_finance_block_is_strict():
    with pytest.raises(Exception):
        Finance(discount_rate_frac_per_year=-0.01)
    with pytest.raises(Exception):
        Finance(rate=0.1)
    assert Finance().discount_rate_frac_per_year == 0.0 and Finance().base_year is None


# -------------------------------------------------------------------------------------------- default case


def _by_term(df, col):
    return df.groupby("term", sort=False)[col].sum().to_dict()


def test_default_deterministic_sums_equal_cost_parts(default_run):
    run = default_run("deterministic")
    k, t = run.solution.kpis, run.solution.tables
    got = _by_term(t["cost_by_period"], "cost_usd")
    assert list(got) == list(k["cost_parts_usd"])
    for term, v in k["cost_parts_usd"].items():
        assert got[term] == approx(v, rel=REL, abs=1e-3), term
    assert _by_term(t["cost_by_year"], "cost_usd") == approx(got, rel=1e-9, abs=1e-6)
    assert t["budget"].cost_usd.sum() == approx(k["objective_usd"], rel=REL)
    assert k["spend_decided_now_usd"] >= k["first_stage_cost_usd"]


def test_default_stochastic_sums_equal_cost_parts(default_run):
    run = default_run()
    k, t = run.solution.kpis, run.solution.tables
    got = _by_term(t["cost_by_period_expected"], "expected_cost_usd")
    for term, v in k["expected_cost_parts_usd"].items():
        assert got[term] == approx(v, rel=REL, abs=1e-3), term
    # per scenario: each scenario's cost_by_period against its own row of the costs table
    cbp = t["cost_by_period"].groupby(["scenario", "term"]).cost_usd.sum()
    reported = t["costs"].set_index(["scenario", "term"]).cost_usd
    assert cbp.loc[reported.index].to_numpy() == approx(reported.to_numpy(), rel=REL, abs=1e-3)
    assert t["budget_expected"].expected_cost_usd.sum() == approx(k["expected_cost_usd"], rel=REL)
    # decided now is the same in every scenario (the window's orders and the fees are first stage)
    b = t["budget"]
    now = b[b.category == "decided_now"].groupby("scenario").cost_usd.sum()
    assert now.max() - now.min() == approx(0.0, abs=1e-3)
    assert k["spend_decided_now_usd"] == approx(float(now.iloc[0]), rel=1e-9)


def test_present_value_equals_undiscounted_at_rate_zero(default_run):
    for run in (default_run("deterministic"), default_run()):
        k, t = run.solution.kpis, run.solution.tables
        assert k["discount_rate_frac_per_year"] == 0.0
        cbp = t["cost_by_period"]
        assert (cbp.discount_factor == 1.0).all()
        assert (cbp.pv_usd == cbp.cost_usd).all()
        total = k.get("expected_cost_usd", k["objective_usd"])
        assert k["present_value_usd"] == approx(total, rel=1e-9)


def test_a_higher_rate_never_raises_the_present_value(default_run):
    run = default_run("deterministic")
    cbp = run.solution.tables["cost_by_period"]
    stream = cbp.groupby("period", sort=False).cost_usd.sum().to_numpy()
    assert (stream > 0).all()  # a positive cost stream
    case, labels = run.data.case, run.data.periods
    pvs = []
    for r in (0.0, 0.01, 0.05, 0.1, 0.25, 1.0):
        f = np.array(costs.discount_factors(case.model_copy(update={"finance": Finance(discount_rate_frac_per_year=r)}),
                                            labels))
        assert ((0 < f) & (f <= 1)).all() and (np.diff(f) <= 0).all()  # later costs weigh less
        pvs.append(float(stream @ f))
    assert all(b <= a for a, b in zip(pvs, pvs[1:])) and pvs[-1] < pvs[0]


def test_expected_cost_versions_of_evpi_and_vss(default_run):
    k = default_run().solution.kpis
    assert k["risk_weight_lambda"] == 0  # then both units agree
    assert k["evpi_expected_cost_usd"] == approx(k["evpi_usd"], rel=1e-9, abs=1e-3)
    assert k["vss_expected_cost_usd"] == approx(k["vss_usd"], rel=1e-9, abs=1e-3)
    # lambda > 0: the expected-cost versions come from the scenario totals, not from the objective
    probs = np.array([0.5, 0.5])
    got = expected_cost_gaps({"expected_cost_kusd": 110.0, "perfect_foresight_total_kusd": [90.0, 100.0],
                              "eev_total_kusd": [100.0, 115.0]}, probs)
    assert got == {"evpi_expected_cost_kusd": approx(15.0), "vss_expected_cost_kusd": approx(-2.5)}
    assert expected_cost_gaps({"expected_cost_kusd": 1.0}, probs) == {"evpi_expected_cost_kusd": None,
                                                                      "vss_expected_cost_kusd": None}
