"""Finished-magnet stock and orders in transit at the start (issue 15 parts 3 and 4; model.md §5.2, §8.1).

Every case starts from ``tests.tiny.base_case`` (element X, grade G needing 0.5 t X per t magnet, plant
yield 1, civil stream ``s`` of 10 t magnet/period with shortage 100 USD/kg, oxide ``a_spot`` of origin A at
10 USD/kg, so making 1 t magnet costs 5 kUSD). :func:`magnet_case` adds finished magnets ``mag`` of grade G
sold by ``m_spot`` (origin B) and sets the plant capacity to 0, so demand is met only by magnets bought,
magnets drawn from stock, or shortage. Units: t x USD/kg = kUSD.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from model.app.run import run_data, run_stochastic_data
from model.input.io import case_from_mapping
from model.results.audit import audit_run
from model.results.tables import Solution
from tests.tiny import base_case, make

REL, ABS = 1e-9, 1e-7


def approx(x):
    return pytest.approx(x, rel=REL, abs=ABS)


def magnet_case(periods: int = 2, store: dict | None = None) -> dict:
    raw = base_case(periods)
    raw["materials"].append({"id": "mag", "kind": "magnet", "grade": "G"})
    raw["offers"].append({"id": "m_spot", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "mag",
                          "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 4})
    raw["plant"]["capacity_t_per_period"] = 0
    if store is not None:
        raw["magnet_stock"] = [{"grade": "G"} | store]
    return raw


def spike_case(tmp_path: Path, store: dict | None) -> tuple[dict, Path]:
    """m_spot costs 4 USD/kg in period 1 and 8 in period 2 (a price CSV)."""
    (tmp_path / "price.csv").write_text("period,m_spot\n2027-01,4\n2027-02,8\n")
    raw = magnet_case(2, store)
    del raw["offers"][-1]["price_usd_per_kg"]
    raw["timeseries"] = {"price": "price.csv"}
    return raw, tmp_path / "case.yaml"


def solve(raw: dict, path: Path | None = None):
    data = make(raw) if path is None else case_from_mapping(raw, path)
    run = run_data(data)
    assert run.solution.kpis["audit"]["passed"], [c for c in run.solution.kpis["audit"]["checks"] if not c["passed"]]
    return run


def cost_kusd(run) -> float:
    return run.solution.kpis["objective_usd"] / 1000


def failed(run, **tables) -> dict:
    new = replace(run, solution=Solution(tables=dict(run.solution.tables) | tables, kpis=run.solution.kpis))
    return {c.name: c for c in audit_run(new).checks if not c.passed}


# --------------------------------------------------------------------------------------------
# buying early into magnet stock against a price spike
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hold, stocked, cost", [
    (0.5, 10.0, 85.0),   # 4 + 0.5 < 8: buy 20 t in period 1 (80) + hold 10 t (5) = 85, vs 40 + 80 = 120
    (5.0, 0.0, 120.0),   # 4 + 5 > 8: buy as needed, 10 x 4 + 10 x 8 = 120
])
def test_magnet_stock_bought_early_beats_a_later_price_spike(tmp_path, hold, stocked, cost):
    """Price 4 USD/kg in period 1, 8 in period 2; a store for grade G of 20 t, holding `hold` USD/kg/period.

    Holding period 2's 10 t from period 1 costs 4 + hold USD/kg instead of 8:
      hold 0.5: 20 t x 4 = 80 kUSD + 10 t x 0.5 = 5 kUSD = 85 kUSD; it beats the spike by
        120 - 85 = 35 kUSD = 10 t x (8 - 4 - 0.5);
      hold 5:   9 > 8, no stock: 120 kUSD.
    End of period 2: nothing held (holding it would cost and serve nothing).
    """
    raw, path = spike_case(tmp_path, {"capacity_t": 20, "holding_cost_usd_per_kg_per_period": hold})
    run = solve(raw, path)
    assert cost_kusd(run) == approx(cost)
    m = run.built.model
    assert m.MagnetStock_t["plant", "mag", "B", 1].value == approx(stocked)
    assert m.MagnetStock_t["plant", "mag", "B", 2].value == approx(0.0)
    ms = run.solution.tables["magnet_stock"]
    assert list(ms.columns) == ["plant", "grade", "material", "origin_group", "period", "stock_t", "capacity_t"]
    assert list(ms.stock_t) == [approx(stocked), approx(0.0)]
    costs = dict(zip(run.solution.tables["costs"].term, run.solution.tables["costs"].cost_usd))
    assert costs["magnet_holding"] == approx(stocked * hold * 1000)
    no_store, path2 = spike_case(tmp_path, None)
    assert cost_kusd(solve(no_store, path2)) == approx(120.0)


def test_binding_magnet_stock_capacity_and_its_marginal_value(tmp_path):
    """Capacity 6 t: hold 6 t (3 kUSD), buy 16 t in period 1 (64) and 4 t in period 2 (32): 99 kUSD.
    One more t of capacity saves 8 - 4 - 0.5 = 3.5 kUSD: marginal value 3,500 USD/t in 2027-01."""
    raw, path = spike_case(tmp_path, {"capacity_t": 6, "holding_cost_usd_per_kg_per_period": 0.5})
    run = solve(raw, path)
    assert cost_kusd(run) == approx(99.0)
    mv = run.solution.tables["marginal_values"]
    row = mv[(mv.constraint == "magnet_stock_capacity") & (mv.period == "2027-01")]
    assert list(row.name) == ["G"] and row.marginal_value_usd_per_t.iloc[0] == approx(3500.0)
    assert run.solution.kpis["marginal_values"]["magnet_stock_capacity"]["G"]["max_usd_per_t"] == approx(3500.0)


@pytest.mark.parametrize("cap", [0.0, 2.0, 6.0, 10.0, 20.0, 50.0])
def test_property_more_magnet_stock_capacity_never_raises_cost(tmp_path, cap):
    """cost(cap) = 120 - 3.5 x min(cap, 10) kUSD: non-increasing in the capacity (10 t is all period 2 needs)."""
    raw, path = spike_case(tmp_path, {"capacity_t": cap, "holding_cost_usd_per_kg_per_period": 0.5})
    c = cost_kusd(solve(raw, path))
    assert c == approx(120.0 - 3.5 * min(cap, 10.0))
    if cap > 0:
        smaller, path2 = spike_case(tmp_path, {"capacity_t": cap / 2, "holding_cost_usd_per_kg_per_period": 0.5})
        assert c <= cost_kusd(solve(smaller, path2)) + 1e-9


def test_stochastic_magnet_stock_is_first_stage_and_audited():
    """W = 1: the stock at the end of period 1 is decided before the scenario is known. Period 2's price is
    4 (p 0.5) or 8 (p 0.5, a price effect x2). Holding S t into period 2: expected cost
    40 + 4.5 S + E[price] (10 - S) = 40 + 4.5 S + 6 (10 - S) = 100 - 1.5 S, so S = 10 (capacity 20):
    expected cost 85 kUSD (without the store: (80 + 120) / 2 = 100)."""
    raw = magnet_case(2, {"capacity_t": 20, "holding_cost_usd_per_kg_per_period": 0.5})
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "flat", "probability": 0.5},
        {"name": "spike", "probability": 0.5, "effects": [
            {"kind": "price", "select": {"offers": ["m_spot"]}, "factor": 2, "start": "2027-02"}]},
    ]}
    run = run_stochastic_data(make(raw), evpi_vss=False)
    assert run.solution.kpis["audit"]["passed"], [c for c in run.solution.kpis["audit"]["checks"] if not c["passed"]]
    assert run.solution.kpis["expected_cost_usd"] / 1000 == approx(85.0)
    ms = run.solution.tables["magnet_stock"]
    assert list(ms[ms.period == "2027-01"].stock_t) == [approx(10.0), approx(10.0)]


# --------------------------------------------------------------------------------------------
# eligibility of magnets drawn from stock
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin, prohibited, cost", [
    ("B", True, 1000.0),   # B's magnets barred for defence: the 10 t held cannot serve it, 10 t short
    ("B", False, 0.0),     # no prohibition: draw the 10 t held
    ("A", True, 0.0),      # the prohibition is on B; stock of origin A serves defence
])
def test_initial_magnet_stock_keeps_its_origin_for_eligibility(origin, prohibited, cost):
    """T = 1, a defence stream `d` of 10 t only (no civil stream), no magnet offer; 10 t of G magnets held
    initially, of origin `origin`. Shortage 100 USD/kg: 10 t short = 1000 kUSD."""
    raw = magnet_case(1, {"capacity_t": 10, "initial_t_by_origin": {origin: 10}})
    raw["offers"] = raw["offers"][:1]
    raw["streams"] = [{"id": "d", "grade": "G", "end_use": "defense", "demand_t_per_period": 10,
                       "shortage_cost_usd_per_kg": 100}]
    if prohibited:
        raw["licence_rules"] = [{"id": "no_b_def", "origin_groups": ["B"], "materials": ["mag"], "end_uses": ["defense"],
                                 "regime": "prohibited"}]
    run = solve(raw)
    assert cost_kusd(run) == approx(cost)
    assert (("d", "mag", origin, 1) in run.built.sets.MAGNET_USE) is (cost == 0.0)


def test_stock_does_not_launder_a_prohibition_that_starts_later():
    """Defence stream `d` (10 t/period, T = 2); B's magnets (4 USD/kg) are prohibited for defence from
    2027-02; making costs 5 kUSD/t (plant capacity restored). A store of 20 t, no holding cost.

    Period 1: buy 10 t at 4 = 40. Period 2: a magnet of B held since period 1 is still of origin B, so it
    cannot be drawn for defence in 2027-02: make 10 t = 50. Cost 90 kUSD, nothing held."""
    raw = magnet_case(2, {"capacity_t": 20})
    raw["plant"]["capacity_t_per_period"] = 100
    raw["streams"] = [{"id": "d", "grade": "G", "end_use": "defense", "demand_t_per_period": 10,
                       "shortage_cost_usd_per_kg": 100}]
    raw["licence_rules"] = [{"id": "no_b_def", "origin_groups": ["B"], "materials": ["mag"], "end_uses": ["defense"],
                             "regime": "prohibited", "valid_from": "2027-02"}]
    run = solve(raw)
    assert cost_kusd(run) == approx(90.0)
    assert ("d", "mag", "B", 2) not in run.built.sets.MAGNET_USE
    assert run.built.model.MagnetStock_t["plant", "mag", "B", 1].value == approx(0.0)


# --------------------------------------------------------------------------------------------
# orders in transit at the start
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quota, cost", [
    (None, 50.0),    # period 1: 5 t X bought = 50; period 2: the 5 t in transit, nothing bought
    (0.0, 1000.0),   # a quota of 0 on A's oxide: period 1 is 10 t short (1000); the order in transit still arrives
])
def test_order_in_transit_arrives_in_period_2_and_saves_a_purchase(quota, cost):
    """5 t of `ox` ordered from a_spot before the horizon arrive in 2027-02 (T = 2, no stockpile).

    They are already licensed and paid: no cost, no capacity, no quota. Period 2's 5 t X are the order in
    transit, saving 5 t x 10 USD/kg = 50 kUSD against buying (100 kUSD without it)."""
    raw = base_case(2)
    raw["in_transit"] = [{"offer": "a_spot", "arrival_period": "2027-02", "quantity_t": 5}]
    if quota is not None:
        raw["licence_rules"] = [{"id": "q0", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                                 "regime": "general", "quota_t_per_period": quota}]
    run = solve(raw)
    assert cost_kusd(run) == approx(cost)
    pur = run.solution.tables["purchases"].set_index("order_period").purchased_t
    assert pur["2027-02"] == approx(0.0)
    arr = run.solution.tables["arrivals"].set_index("period").arrived_t
    assert arr["2027-02"] == approx(5.0)
    assert run.built.sets.IN_TRANSIT_ELEM == (("plant", "X", "A", 2, 5.0),)
    if quota is None:
        plain = base_case(2)
        assert cost_kusd(solve(plain)) == approx(100.0)
        # the audit: an arrivals table without the order in transit breaks the reported arrivals
        a = run.solution.tables["arrivals"]
        bad = failed(run, arrivals=a.assign(arrived_t=[x - 5.0 if p == "2027-02" else x
                                                       for p, x in zip(a.period, a.arrived_t)]))
        assert "reported_arrivals" in bad


def test_magnets_in_transit_go_into_magnet_stock():
    """20 t of G magnets in transit arrive in 2027-01 (plant capacity 0, m_spot at 4 USD/kg, T = 2).

    With a store (20 t, holding 0.5): 10 t used in period 1, 10 t held (5 kUSD) and drawn in period 2: 5 kUSD.
    Without: the surplus 10 t are discarded and period 2 buys 10 t at 4: 40 kUSD."""
    for store, cost in (({"capacity_t": 20, "holding_cost_usd_per_kg_per_period": 0.5}, 5.0), (None, 40.0)):
        raw = magnet_case(2, store)
        raw["in_transit"] = [{"offer": "m_spot", "arrival_period": "2027-01", "quantity_t": 20}]
        assert cost_kusd(solve(raw)) == approx(cost)


# --------------------------------------------------------------------------------------------
# the audit fails on a tampered magnet_stock table
# --------------------------------------------------------------------------------------------


def test_audit_catches_magnet_stock_above_capacity_or_drawn_from_nothing(tmp_path):
    raw, path = spike_case(tmp_path, {"capacity_t": 6, "holding_cost_usd_per_kg_per_period": 0.5})
    run = solve(raw, path)
    ms = run.solution.tables["magnet_stock"]
    over = ms.assign(stock_t=[12.0 if p == "2027-01" else x for p, x in zip(ms.period, ms.stock_t)])
    bad = failed(run, magnet_stock=over)
    assert "stock_capacity" in bad and "grade G" in bad["stock_capacity"].detail
    assert "finished_magnets" in bad and "added to stock" in bad["finished_magnets"].detail  # 12 t held, 6 t bought
    bad = failed(run, magnet_stock=ms.assign(capacity_t=60.0))
    assert "stock_capacity" in bad and "capacity_t" in bad["stock_capacity"].detail
    tables = dict(run.solution.tables)
    del tables["magnet_stock"]
    new = replace(run, solution=Solution(tables=tables, kpis=run.solution.kpis))
    bad = {c.name: c for c in audit_run(new).checks if not c.passed}
    assert "table magnet_stock missing" in bad["table_integrity"].detail
    assert pd.Series(ms.stock_t).max() == approx(6.0)
