"""Properties of the optimal plan over a small but non-trivial case.

The case (``prop_case``), T = 6 monthly periods, one element X:

* origin A: spot `a_spot` at 10-18 USD/kg (price CSV), lead 0, capacity CSV 20/20/0/0/20/20 t
  (an embargo in periods 3-4), under a general licence quota of 6 t/period; A's oxide is
  prohibited for defense;
* origin B: spot `b_spot` 16 USD/kg, lead 1, 12 t/period; contract `b_con` 13 USD/kg + 1.5 USD/kg
  reservation fee, 8 t/period, minimum take 25 %;
* streams: civil 10 t and defense 4 t magnet/period (0.5 t X per t magnet, plant yield 0.9,
  capacity 20 t/period, conversion 1 USD/kg); shortage 60 and 150 USD/kg;
* stockpile of X: capacity 15 t, 4 t of A at the start (so a 4 t terminal requirement),
  holding 0.3 USD/kg/period, floor 2 t at 5 USD/kg, terminal penalty 30 USD/kg;
* swarf loop: 1 t feed/period, 2 USD/kg, recovery 0.9, origin R; swarf credit 0.5 USD/kg.

Monotonicity properties follow from LP theory: enlarging the feasible set (looser quota, more
capacity) cannot raise the optimum; and for optimal plans x1, x2 at shortage costs c + d1, c + d2,
optimality of each gives (d2 - d1)(S(x2) - S(x1)) <= 0, so total shortage S cannot rise with d.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.common.collections import ComponentSet

from model.components.build import build_scenario_model
from model.input.io import case_from_mapping
from model.solve.highs import solve

TOL = 1e-6
PRICE_A = (10, 10, 14, 18, 12, 12)
CAP_A = (20, 20, 0, 0, 20, 20)
OFFERS = ("a_spot", "b_spot", "b_con")


def prop_case() -> dict:
    return {
        "name": "props",
        "horizon": {"start_month": "2027-01", "periods": 6},
        "elements": ["X"],
        "origin_groups": [{"id": "A"}, {"id": "B"}, {"id": "R"}],
        "end_uses": ["civil", "defense"],
        "materials": [{"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}}],
        "offers": [
            {"id": "a_spot", "supplier": "SA", "country": "AA", "origin_group": "A", "material": "ox",
             "kind": "spot", "lead_time_periods": 0},
            {"id": "b_spot", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
             "kind": "spot", "capacity_t_per_period": 12, "price_usd_per_kg": 16, "lead_time_periods": 1},
            {"id": "b_con", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
             "kind": "contract", "capacity_t_per_period": 8, "price_usd_per_kg": 13, "lead_time_periods": 0,
             "reservation_fee_usd_per_kg": 1.5, "min_take_frac": 0.25},
        ],
        "licence_rules": [
            {"id": "quotaA", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil", "defense"],
             "regime": "general", "quota_t_per_period": 6},
            {"id": "no_defA", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["defense"],
             "regime": "prohibited"},
        ],
        "grades": [{"id": "G", "recipes": [{"id": "G_r", "element_t_per_t_magnet": {"X": 0.5}}]}],
        "plant": {"capacity_t_per_period": 20, "yield_frac": 0.9, "conversion_cost_usd_per_kg": 1,
                  "swarf_credit_usd_per_kg": 0.5},
        "streams": [
            {"id": "civ", "grade": "G", "end_use": "civil", "demand_t_per_period": 10, "shortage_cost_usd_per_kg": 60},
            {"id": "def", "grade": "G", "end_use": "defense", "demand_t_per_period": 4, "shortage_cost_usd_per_kg": 150},
        ],
        "stockpile": [{"element": "X", "capacity_t": 15, "initial_t_by_origin": {"A": 4},
                       "holding_cost_usd_per_kg_per_period": 0.3, "floor_t": 2, "floor_penalty_usd_per_kg": 5,
                       "terminal_penalty_usd_per_kg": 30}],
        "recycling_routes": [{"id": "loop", "feed": "swarf", "capacity_t_feed_per_period": 1,
                              "cost_usd_per_kg_feed": 2, "recovery_frac": {"X": 0.9}, "output_origin_group": "R"}],
        "risk": {"non_anticipative_periods": 1},
        "timeseries": {"price": "price.csv", "capacity": "capacity.csv"},
    }


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


_counter = [0]


def run(raw: dict, folder: Path, cap_a_factor: float = 1.0):
    """Write the CSVs next to a fresh case path, build and solve."""
    _counter[0] += 1
    d = folder / f"c{_counter[0]}"
    d.mkdir()
    (d / "price.csv").write_text(
        "period,a_spot\n" + "".join(f"2027-{t:02d},{p}\n" for t, p in enumerate(PRICE_A, 1))
    )
    (d / "capacity.csv").write_text(
        "period,a_spot\n" + "".join(f"2027-{t:02d},{c * cap_a_factor}\n" for t, c in enumerate(CAP_A, 1))
    )
    b = build_scenario_model(case_from_mapping(copy.deepcopy(raw), d / "case.yaml"))
    res = solve(b.model)
    return b, res


def total_shortage(m) -> float:
    return sum(pyo.value(v) for v in m.Shortage_t.values())


def test_case_is_non_trivial(case_dir):
    """Guard: quota, embargo, stockpile and both origins all matter in the base plan."""
    b, res = run(prop_case(), case_dir)
    m = b.model
    assert sum(pyo.value(m.Purchase_t["a_spot", t]) for t in (1, 2, 5, 6)) > 0
    assert sum(pyo.value(m.Purchase_t[k]) for k in m.PURCHASE if k[0] != "a_spot") > 0
    assert max(pyo.value(m.Stock_t["plant", "X", g, t]) for (p, e, g, t) in m.STOCK) > 0
    assert any(abs(m.dual[m.LicenceQuota[k]]) > 1e-6 for k in m.QUOTA)


# (a) a tighter quota never lowers cost ------------------------------------------------------

QUOTAS = (0.0, 1.0, 2.5, 4.0, 6.0, 8.0, 12.0, 20.0)


def test_tighter_quota_never_lowers_cost(case_dir):
    costs = []
    for q in QUOTAS:
        raw = prop_case()
        raw["licence_rules"][0]["quota_t_per_period"] = q
        costs.append(run(raw, case_dir)[1].objective_kusd)
    raw = prop_case()
    del raw["licence_rules"][0]  # no quota at all: the loosest
    costs.append(run(raw, case_dir)[1].objective_kusd)
    # quotas ascending (looser) -> cost non-increasing
    for tight, loose in zip(costs, costs[1:]):
        assert tight >= loose - TOL * max(1.0, abs(loose)), costs
    assert costs[0] > costs[-1] + 1.0, "the sweep should actually move the cost"


# (b) a higher shortage cost never raises total shortage -------------------------------------

COMMON_COSTS = (0.0, 5.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 20.0, 150.0)
DELTAS = (-60.0, -56.0, -53.5, -53.0, -52.5, -52.0, -51.0, -50.0, -40.0, 0.0, 200.0)


def _shortage_sweep(case_dir, set_cost):
    shortages, costs = [], []
    for x in set_cost.values:
        raw = prop_case()
        for s in raw["streams"]:
            s["shortage_cost_usd_per_kg"] = set_cost(s["shortage_cost_usd_per_kg"], x)
        b, res = run(raw, case_dir)
        shortages.append(total_shortage(b.model))
        costs.append(res.objective_kusd)
    return shortages, costs


class _Common:
    values = COMMON_COSTS

    def __call__(self, base, x):
        return x


class _Shift:
    values = DELTAS

    def __call__(self, base, x):
        return base + x


@pytest.mark.parametrize("set_cost", [_Common(), _Shift()], ids=["common_cost", "shifted_costs"])
def test_higher_shortage_cost_never_raises_total_shortage(case_dir, set_cost):
    """common_cost: both streams at the same shortage cost c; shifted_costs: both streams' costs
    (60 and 150 USD/kg) raised by the same delta. Either way total shortage is non-increasing
    and total cost non-decreasing along the sweep."""
    shortages, costs = _shortage_sweep(case_dir, set_cost)
    for lo, hi in zip(shortages, shortages[1:]):
        assert hi <= lo + TOL, shortages
    for lo, hi in zip(costs, costs[1:]):
        assert hi >= lo - TOL * max(1.0, abs(lo)), costs
    # the sweep passes through partial shortages, not just all-or-nothing
    assert shortages[0] > 50.0 and shortages[-1] < TOL, shortages
    assert sum(1 for x in shortages if TOL < x < shortages[0] - TOL) >= 2, shortages


# (c) more supplier capacity never raises cost -----------------------------------------------

FACTORS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


def _scaled(raw: dict, f: dict) -> dict:
    for o in raw["offers"]:
        if o["id"] != "a_spot":
            o["capacity_t_per_period"] *= f[o["id"]]
    return raw


def test_more_supplier_capacity_never_raises_cost(case_dir):
    costs = []
    for k in FACTORS:
        b, res = run(_scaled(prop_case(), {o: k for o in OFFERS}), case_dir, cap_a_factor=k)
        costs.append(res.objective_kusd)
    for lo_cap, hi_cap in zip(costs, costs[1:]):
        assert hi_cap <= lo_cap + TOL * max(1.0, abs(lo_cap)), costs
    assert costs[0] > costs[-1] + 1.0


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.tuples(*[st.sampled_from((0.0, 0.3, 0.7, 1.0, 1.6)) for _ in OFFERS]),
    extra=st.tuples(*[st.sampled_from((0.0, 0.2, 0.5, 1.0)) for _ in OFFERS]),
)
def test_more_capacity_of_any_offer_never_raises_cost(case_dir, base, extra):
    """Per-offer capacity factors f <= g (elementwise) -> cost(g) <= cost(f)."""
    f = dict(zip(OFFERS, base))
    g = {o: f[o] + x for o, x in zip(OFFERS, extra)}
    c_f = run(_scaled(prop_case(), f), case_dir, cap_a_factor=f["a_spot"])[1].objective_kusd
    c_g = run(_scaled(prop_case(), g), case_dir, cap_a_factor=g["a_spot"])[1].objective_kusd
    assert c_g <= c_f + TOL * max(1.0, abs(c_f))


# (d) the objective is the sum of the registered cost terms ----------------------------------


def _variants():
    yield "base", prop_case()
    raw = prop_case()
    raw["licence_rules"][0]["quota_t_per_period"] = 1.0
    yield "tight_quota", raw
    raw = prop_case()
    raw["stockpile"][0]["floor_t"] = 12
    yield "high_floor", raw
    raw = prop_case()
    raw["streams"][0]["shortage_cost_usd_per_kg"] = 8
    yield "cheap_shortage", raw


@pytest.mark.parametrize("name, raw", list(_variants()), ids=[n for n, _ in _variants()])
def test_objective_equals_sum_of_registered_cost_terms(case_dir, name, raw):
    b, res = run(raw, case_dir)
    m = b.model
    costs = b.registry.costs
    assert len({c.name for c in costs}) == len(costs)
    for c in costs:
        assert not c.expr.is_indexed(), c.name
    total = sum(pyo.value(c.expr) for c in costs)
    assert total == pytest.approx(res.objective_kusd, rel=1e-9, abs=1e-7)
    assert total == pytest.approx(pyo.value(m.TotalCost), rel=1e-9, abs=1e-7)
    first = sum(pyo.value(c.expr) for c in costs if c.stage == "first")
    assert first == pytest.approx(pyo.value(m.FirstStageCost_kusd), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name, raw", list(_variants()), ids=[n for n, _ in _variants()])
def test_objective_recomputed_from_plan_and_data(case_dir, name, raw):
    """Independent recomputation of the cost from the plan and the input data (kUSD = t x USD/kg)."""
    b, res = run(raw, case_dir)
    m, data, case = b.model, b.data, b.data.case
    val = pyo.value
    offers = {o.id: o for o in case.offers}
    sp = case.stockpile[0]
    y = case.plant.yield_frac
    made = sum(val(m.Make_t[k]) for k in m.MAKE)
    recycled = sum(val(m.RecycleFeed_t[k]) for k in m.RECYCLE_X)
    expected = (
        sum(data.price_usd_per_kg[o][t - 1] * val(m.Purchase_t[o, t]) for o, t in m.PURCHASE)
        + sum(offers[o].reservation_fee_usd_per_kg * val(m.Reserve_t_per_period[o, t]) for o, t in m.RESERVE)
        + case.plant.conversion_cost_usd_per_kg * made
        + sum({s.id: s.shortage_cost_usd_per_kg for s in case.streams}[s] * val(m.Shortage_t[s, t]) for s, t in m.STREAM_PERIOD)
        + sp.holding_cost_usd_per_kg_per_period * sum(val(m.Stock_t[k]) for k in m.STOCK)
        + sp.floor_penalty_usd_per_kg * sum(val(x) for x in m.FloorShortfall_t.values())
        + sp.terminal_penalty_usd_per_kg * sum(val(x) for x in m.TerminalShortfall_t.values())
        + case.recycling_routes[0].cost_usd_per_kg_feed * recycled
        - case.plant.swarf_credit_usd_per_kg * ((1 / y - 1) * made - recycled)
    )
    assert expected == pytest.approx(res.objective_kusd, rel=1e-9, abs=1e-7)


# (e) first-stage variables ------------------------------------------------------------------


@pytest.mark.parametrize("window", [0, 1, 2])
def test_first_stage_contains_reservations_and_window_purchases(case_dir, window):
    raw = prop_case()
    raw["risk"]["non_anticipative_periods"] = window
    b, res = run(raw, case_dir)
    m = b.model
    fs = ComponentSet(b.first_stage_vars)
    assert len(fs) == len(b.first_stage_vars), "a first-stage variable is listed twice"
    assert len(m.RESERVE) > 0
    for k in m.RESERVE:
        assert m.Reserve_t_per_period[k] in fs, k
    for (o, t) in m.PURCHASE:
        assert (m.Purchase_t[o, t] in fs) == (t <= window), (o, t)
    if window >= 1:
        assert all(m.Purchase_t[o, 1] in fs for o in OFFERS if (o, 1) in m.PURCHASE)
        assert {o for (o, t) in m.PURCHASE if t == 1} == set(OFFERS)


@pytest.mark.parametrize("window", [1, 2])
def test_first_stage_contains_every_decision_in_the_window(case_dir, window):
    """Spec §3/§4.11: every decision of the periods inside the window (orders, reservations,
    production, recycling, stock levels, shortage, ...) is first stage; none after it is, except
    reservations and capacity expansion."""
    raw = prop_case()
    raw["risk"]["non_anticipative_periods"] = window
    b, res = run(raw, case_dir)
    m = b.model
    fs = ComponentSet(b.first_stage_vars)
    period_pos = {"Purchase_t": 1, "Make_t": 2, "Use_t": 3, "MagnetUse_t": 3, "Shortage_t": 1,
                  "Stock_t": 3, "FloorShortfall_t": 2, "RecycleFeed_t": 2, "ElementSent_t": 3, "MagnetSent_t": 3}
    for name, pos in period_pos.items():
        comp = m.component(name)
        assert comp is not None, name
        for k, var in comp.items():
            t = k[pos]
            if var.fixed:  # initial stock
                continue
            assert (var in fs) == (t <= window), (name, k)
