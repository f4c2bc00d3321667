"""The canonical optimal plan and one-sided marginal values (``model.solve.canonical``), by hand.

Every case starts from ``tests.tiny.base_case``: one element X, a recipe needing 0.5 t X per t
magnet, one civil stream of 10 t magnet/period (so 5 t X/period), shortage 100 USD/kg, a spot
offer ``a_spot`` (origin A, 10 USD/kg). Costs are t x USD/kg = kUSD.

Each test builds a tie (two or more equally cheap plans) and checks that the plan reported is the
one the canonical order prefers, whatever order the offers are listed in:
less China-origin tonnage, then less stock, then earlier orders, then a fixed generic tie-break.
"""

from __future__ import annotations

import copy

import pyomo.environ as pyo
import pytest

from model.components.build import build_scenario_model
from model.results.tables import extract, plan_tie_break
from model.solve.highs import SolverOptions, solve
from tests.tiny import base_case, make

approx = lambda x: pytest.approx(x, rel=1e-9, abs=1e-7)  # noqa: E731


def _solve(raw: dict, canonical: bool = True):
    b = build_scenario_model(make(raw))
    res = solve(b.model, SolverOptions(canonical=canonical), tie_break=plan_tie_break([b]))
    return b, b.model, res


def _offer(id_, country, price=10, cap=100, lead=0, group="A"):
    return {"id": id_, "supplier": f"S_{id_}", "country": country, "origin_group": group, "material": "ox",
            "kind": "spot", "capacity_t_per_period": cap, "price_usd_per_kg": price, "lead_time_periods": lead}


@pytest.mark.parametrize("order", [("cn", "jp"), ("jp", "cn")])
def test_equal_prices_prefer_the_offer_not_from_china(order):
    """Two spot offers of X at 10 USD/kg, one from CN and one from JP, each up to 100 t.

    Every split of the 5 t needed costs 5 x 10 = 50 kUSD. The canonical plan buys the 5 t from JP and
    nothing from CN (stage 1: least China-origin tonnage), in either listing order."""
    raw = base_case(periods=1)
    offers = {"cn": _offer("cn", "CN"), "jp": _offer("jp", "JP")}
    raw["offers"] = [offers[k] for k in order]
    b, m, res = _solve(raw)
    assert res.objective_kusd == approx(50.0)
    assert pyo.value(m.Purchase_t["jp", 1]) == approx(5.0)
    assert pyo.value(m.Purchase_t["cn", 1]) == approx(0.0)
    assert res.canonical["applied"] and res.canonical["stages"][0] == "cn_t"


def test_free_stock_is_not_held():
    """Two periods at 10 USD/kg, a stockpile of 100 t with no holding cost and no floor.

    Buying period 2's 5 t in period 1 and holding it costs the same 100 kUSD as buying 5 t in each
    period. The canonical plan holds no stock (stage 2: least stock): 5 t bought in each period."""
    raw = base_case(periods=2)
    raw["stockpile"] = [{"element": "X", "capacity_t": 100}]
    b, m, res = _solve(raw)
    assert res.objective_kusd == approx(100.0)
    assert pyo.value(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert pyo.value(m.Purchase_t["a_spot", 2]) == approx(5.0)
    assert pyo.value(m.Stock_t["plant", "X", "A", 1]) == approx(0.0)


@pytest.mark.parametrize("order", [("late", "early"), ("early", "late")])
def test_equal_arrivals_prefer_the_earlier_order(order):
    """Two periods, 5 t X needed in each. Offer `late` (lead 0) can be ordered in periods 1 and 2;
    offer `early` (lead 1) only in period 1 (arriving in period 2; an order in period 2 would arrive
    after the horizon). Both JP, 10 USD/kg, no stockpile.

    Period 1's 5 t can only be `late`@1. Period 2's 5 t is a tie: `early`@1 or `late`@2, 50 kUSD
    either way; total 100 kUSD. Stage 3 (earlier orders: period x t, 1 x 5 < 2 x 5) picks `early`@1."""
    raw = base_case(periods=2)
    offers = {"early": _offer("early", "JP", lead=1), "late": _offer("late", "JP", lead=0)}
    raw["offers"] = [offers[k] for k in order]
    b, m, res = _solve(raw)
    assert res.objective_kusd == approx(100.0)
    assert pyo.value(m.Purchase_t["late", 1]) == approx(5.0)
    assert pyo.value(m.Purchase_t["early", 1]) == approx(5.0)
    assert pyo.value(m.Purchase_t["late", 2]) == approx(0.0)


def test_canonical_plan_is_the_same_whatever_vertex_the_solver_stops_at():
    """Three offers at one price (two origin groups, neither CN): every split is optimal. The
    canonical plan does not depend on the listing order of the offers (six orders, one plan)."""
    import itertools

    plans = set()
    for perm in itertools.permutations([_offer("a1", "US"), _offer("a2", "US"), _offer("b1", "MY", group="B")]):
        raw = base_case(periods=3)
        raw["offers"] = list(perm)
        b, m, res = _solve(raw)
        assert res.objective_kusd == approx(150.0)
        plans.add(tuple(sorted((k, round(pyo.value(v), 9)) for k, v in m.Purchase_t.items())))
    assert len(plans) == 1, plans


def test_switching_canonical_off_keeps_the_optimum():
    raw = base_case(periods=2)
    raw["offers"] = [_offer("cn", "CN"), _offer("jp", "JP")]
    b, m, res = _solve(raw, canonical=False)
    assert res.objective_kusd == approx(100.0) and res.canonical is None


def test_degenerate_limits_report_their_one_sided_rate():
    """A general licence caps origin A at 3 t/period and the offer itself can sell only 3 t: both
    limits bind at the same point (a degenerate optimum).

    Optimum: buy 3 t (30 kUSD), short 10 - 6 = 4 t magnet (400 kUSD): 430 kUSD. One more tonne of the
    quota alone buys nothing (the offer is still capped at 3 t), and one more tonne of the offer's
    capacity alone buys nothing (the quota still caps it): both one-sided rates are 0, whatever split
    of the 190 kUSD/t the LP duals happen to show. Loosening both would save 190 kUSD/t each t."""
    raw = base_case(periods=1)
    raw["offers"][0]["capacity_t_per_period"] = 3
    raw["licence_rules"] = [{"id": "q", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 3}]
    b, m, res = _solve(raw)
    assert res.objective_kusd == approx(430.0)
    mv = extract(b, res).tables["marginal_values"].set_index(["constraint", "name"]).marginal_value_usd_per_t
    assert mv["licence_quota", "q"] == approx(0.0)
    assert mv["supplier_capacity", "a_spot"] == approx(0.0)


def test_a_limit_that_binds_alone_reports_what_one_more_tonne_saves():
    """The same quota of 3 t/period with the offer's capacity at 100 t: one more tonne of quota buys
    1 t X (10 kUSD) and removes 2 t magnet of shortage (200 kUSD): 190 kUSD/t = 190,000 USD/t."""
    raw = base_case(periods=1)
    raw["licence_rules"] = [{"id": "q", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 3}]
    b, m, res = _solve(raw)
    mv = extract(b, res).tables["marginal_values"].set_index(["constraint", "name"]).marginal_value_usd_per_t
    assert mv["licence_quota", "q"] == approx(190_000.0)
    assert mv["supplier_capacity", "a_spot"] == approx(0.0)


def test_default_case_canonical_plan_costs_the_optimum(default_det_run):
    """On the default case the canonical plan's cost equals the first solve's optimum (the guard is
    1e-9 relative), every stage ran, and the audit passes."""
    run = default_det_run
    assert run.result.canonical["applied"], run.result.canonical
    assert run.solution.kpis["audit"]["passed"]
    assert run.result.canonical["stages"] == ["cn_t", "stock_t", "order_period_t", "generic_first_stage", "generic"]


@pytest.fixture(scope="module")
def default_det_run(default_run):
    return default_run("deterministic")


def test_tie_break_weights_do_not_depend_on_listing_order():
    raw = base_case(periods=2)
    raw["offers"] = [_offer("cn", "CN"), _offer("jp", "JP")]
    raw2 = copy.deepcopy(raw)
    raw2["offers"] = raw2["offers"][::-1]
    w = {}
    for r in (raw, raw2):
        b = build_scenario_model(make(r))
        tb = plan_tie_break([b])
        w[id(r)] = {v.name: g for v, g in zip(tb.vars, tb.generic)}
    assert w[id(raw)] == w[id(raw2)]
