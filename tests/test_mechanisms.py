"""One mechanism per tiny instance, each with its optimum worked out by hand.

Every test starts from ``tests.tiny.base_case``: one element X, one grade G whose recipe needs
0.5 t X per t magnet, plant yield 1, one civil stream ``s`` of 10 t magnet/period with a shortage
cost of 100 USD/kg, and a spot offer ``a_spot`` of oxide ``ox`` (1 t X per t) from origin A at
10 USD/kg, lead 0, capacity 100 t/period. No stockpile (so X cannot be carried between periods),
no recycling, no licences.

Units: t and USD/kg, so every cost below is t x USD/kg = kUSD, the unit of ``objective_kusd``.
Useful constants of the base case:

* making 1 t magnet takes 0.5 t X = 0.5 t x 10 USD/kg = 5 kUSD;
* leaving 1 t magnet unmet costs 1 t x 100 USD/kg = 100 kUSD;
* so 1 t of X is worth 2 t magnet x 100 = 200 kUSD when the alternative is shortage.

Duals follow the HiGHS sign convention (kUSD per t of the row): a binding ``<=`` row in a
minimisation has a dual <= 0, equal to minus the cost saved by one more unit of right-hand side.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pyomo.environ as pyo
import pytest

from model.components.build import build_scenario_model
from model.input.io import case_from_mapping
from model.solve.highs import solve
from tests.tiny import base_case, make

REL = 1e-9
ABS = 1e-7


def run(raw: dict, case_path: Path | None = None):
    """Build and solve ``raw``; CSV paths in ``raw`` resolve relative to ``case_path``'s folder."""
    data = make(raw) if case_path is None else case_from_mapping(copy.deepcopy(raw), case_path)
    b = build_scenario_model(data)
    res = solve(b.model)
    return b, b.model, res


def v(x) -> float:
    return pyo.value(x)


def approx(x):
    return pytest.approx(x, rel=REL, abs=ABS)


def offer(id_, group, price, *, material="ox", cap=100, lead=0, kind="spot", **kw) -> dict:
    o = {"id": id_, "supplier": f"S_{id_}", "country": f"C_{group}", "origin_group": group,
         "material": material, "kind": kind, "capacity_t_per_period": cap, "lead_time_periods": lead}
    if price is not None:
        o["price_usd_per_kg"] = price
    o.update(kw)
    return o


# --------------------------------------------------------------------------------------------
# (1) licence quota binding -> shortage, and the quota's dual
# --------------------------------------------------------------------------------------------


def test_binding_general_quota_causes_shortage_and_its_dual():
    """A general licence on origin A caps orders of `ox` at 3 t/period.

    Hand optimum (T = 1):
      buy 3 t X (quota binding) -> make 3 / 0.5 = 6 t magnet, shortage 10 - 6 = 4 t magnet.
      cost = 3 t x 10 USD/kg + 4 t x 100 USD/kg = 30 + 400 = 430 kUSD.
    Dual of LicenceQuota[q, 1]: one more t of quota buys 1 t X (10 kUSD) and removes 2 t of
      shortage (200 kUSD): saving 190 kUSD/t, so the dual is -190 (binding <= row, minimisation).
    """
    raw = base_case(periods=1)
    raw["licence_rules"] = [{"id": "q", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 3}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(430.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(3.0)
    assert v(m.Make_t["s", "G_r", 1]) == approx(6.0)
    assert v(m.Shortage_t["s", 1]) == approx(4.0)
    assert m.dual[m.LicenceQuota["q", 1]] == approx(-190.0)


# --------------------------------------------------------------------------------------------
# (2) prohibited end use forces a dearer origin
# --------------------------------------------------------------------------------------------


def test_prohibited_end_use_forces_dearer_origin():
    """Origin A's `ox` is prohibited for defense; B sells the same oxide at 15 USD/kg.

    Streams: civil `s` 10 t and defense `d` 10 t magnet/period, both 100 USD/kg shortage.
    Hand optimum (T = 1):
      civil: 5 t X from A at 10 USD/kg = 50 kUSD (A is cheaper and admitted);
      defense: may not use A's X, so 5 t X from B at 15 USD/kg = 75 kUSD (< 1000 kUSD shortage).
      cost = 50 + 75 = 125 kUSD; Purchase a_spot = 5, b_spot = 5; Use[d, X, A] does not exist.
    """
    raw = base_case(periods=1)
    raw["offers"].append(offer("b_spot", "B", 15))
    raw["streams"].append({"id": "d", "grade": "G", "end_use": "defense", "demand_t_per_period": 10,
                           "shortage_cost_usd_per_kg": 100})
    raw["licence_rules"] = [{"id": "no_def", "origin_groups": ["A"], "materials": ["ox"],
                             "end_uses": ["defense"], "regime": "prohibited"}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(125.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert v(m.Purchase_t["b_spot", 1]) == approx(5.0)
    assert ("d", "X", "A", 1) not in m.USE
    assert v(m.Use_t["d", "X", "B", 1]) == approx(5.0)
    assert v(m.Use_t["s", "X", "A", 1]) == approx(5.0)
    assert v(m.Shortage_t["d", 1]) == approx(0.0)


# --------------------------------------------------------------------------------------------
# (3) case-by-case licence: quota x approval binding, review lead time delays arrival
# --------------------------------------------------------------------------------------------


def test_case_by_case_approval_and_review_lead_time():
    """Case-by-case licence on A: quota 10 t/period x approval 0.4 = 4 t/period, review 1 period.

    a_spot has lead 0, so an order in t arrives in t + 0 + 1. T = 3:
      period 1: nothing can arrive -> shortage 10 t magnet = 1000 kUSD;
      order in 1 (arrives 2) and in 2 (arrives 3): 4 t each (quota x approval binding), each
        making 8 t magnet with 2 t shortage: 4 x 10 + 2 x 100 = 240 kUSD per period;
      an order in 3 would arrive in 4 > T, so it does not exist.
      cost = 1000 + 240 + 240 = 1480 kUSD.
    """
    raw = base_case(periods=3)
    raw["licence_rules"] = [{"id": "cbc", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "case_by_case", "quota_t_per_period": 10, "approval_frac": 0.4,
                             "review_lead_time_periods": 1}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(1480.0)
    assert b.sets.arrival_period[("a_spot", 1)] == 2
    assert b.sets.arrival_period[("a_spot", 2)] == 3
    assert ("a_spot", 3) not in m.PURCHASE
    assert v(m.Purchase_t["a_spot", 1]) == approx(4.0)
    assert v(m.Purchase_t["a_spot", 2]) == approx(4.0)
    assert [v(m.Shortage_t["s", t]) for t in (1, 2, 3)] == [approx(10.0), approx(2.0), approx(2.0)]
    # the binding row is quota x approval = 4 t; one more t saves 2 x 100 - 10 = 190 kUSD
    assert m.dual[m.LicenceQuota["cbc", 1]] == approx(-190.0)


# --------------------------------------------------------------------------------------------
# (4), (5) buying early against a price rise, versus holding cost
# --------------------------------------------------------------------------------------------


def _rising_price_case(tmp_path: Path, holding: float) -> tuple[dict, Path]:
    (tmp_path / "price.csv").write_text("period,a_spot\n2027-01,10\n2027-02,20\n")
    raw = base_case(periods=2)
    del raw["offers"][0]["price_usd_per_kg"]
    raw["timeseries"] = {"price": "price.csv"}
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "holding_cost_usd_per_kg_per_period": holding}]
    return raw, tmp_path / "case.yaml"


def test_buy_early_when_price_rise_exceeds_holding_cost(tmp_path):
    """Price of a_spot: 10 USD/kg in period 1, 20 in period 2; holding 1 USD/kg/period.

    Need 5 t X per period. Buying period 2's 5 t early costs 10 + 1 (one period held) = 11 USD/kg
    instead of 20. No terminal row (initial stock 0 -> terminal requirement 0).
      buy 10 t in period 1: 10 t x 10 = 100 kUSD; hold 5 t at the end of period 1: 5 x 1 = 5 kUSD.
      cost = 105 kUSD (vs 50 + 100 = 150 buying as needed).
    """
    raw, path = _rising_price_case(tmp_path, holding=1.0)
    b, m, res = run(raw, path)
    assert res.objective_kusd == approx(105.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(10.0)
    assert v(m.Purchase_t["a_spot", 2]) == approx(0.0)
    assert v(m.Stock_t["plant", "X", "A", 1]) == approx(5.0)
    assert v(m.Stock_t["plant", "X", "A", 2]) == approx(0.0)


def test_do_not_buy_early_when_holding_exceeds_price_rise(tmp_path):
    """Same prices (10 then 20 USD/kg) but holding 12 USD/kg/period > the 10 USD/kg rise.

    Early: 10 + 12 = 22 USD/kg > 20, so buy as needed:
      cost = 5 t x 10 + 5 t x 20 = 50 + 100 = 150 kUSD; no stock.
    """
    raw, path = _rising_price_case(tmp_path, holding=12.0)
    b, m, res = run(raw, path)
    assert res.objective_kusd == approx(150.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert v(m.Purchase_t["a_spot", 2]) == approx(5.0)
    assert v(m.Stock_t["plant", "X", "A", 1]) == approx(0.0)


# --------------------------------------------------------------------------------------------
# (6) lead time
# --------------------------------------------------------------------------------------------


def test_lead_time_delays_arrival_and_period_one_goes_short():
    """a_spot has lead 1; T = 2; no initial stock.

      period 1: nothing arrives -> shortage 10 t x 100 USD/kg = 1000 kUSD;
      order 5 t in period 1 (arrives in 2): 5 x 10 = 50 kUSD; an order in 2 would arrive in 3 > T.
      cost = 1050 kUSD.
    """
    raw = base_case(periods=2)
    raw["offers"][0]["lead_time_periods"] = 1
    b, m, res = run(raw)
    assert res.objective_kusd == approx(1050.0)
    assert ("a_spot", 2) not in m.PURCHASE
    assert b.sets.arrival_period[("a_spot", 1)] == 2
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert v(m.Shortage_t["s", 1]) == approx(10.0)
    assert v(m.Shortage_t["s", 2]) == approx(0.0)


def test_lead_time_bridged_by_initial_stock():
    """As above, but 5 t X of origin A in stock at the start (terminal requirement set to 0).

      period 1: draw the 5 t initial stock -> 10 t magnet, no shortage;
      period 2: the 5 t ordered in period 1 arrive: 5 x 10 = 50 kUSD.
      cost = 50 kUSD.
    """
    raw = base_case(periods=2)
    raw["offers"][0]["lead_time_periods"] = 1
    raw["stockpile"] = [{"element": "X", "capacity_t": 10, "initial_t_by_origin": {"A": 5}, "terminal_min_t": 0}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(50.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert v(m.Stock_t["plant", "X", "A", 1]) == approx(0.0)
    assert v(m.Shortage_t["s", 1]) == approx(0.0)


# --------------------------------------------------------------------------------------------
# (7) Dy vs Tb recipe choice
# --------------------------------------------------------------------------------------------


def _dy_tb_case(tb_price: float) -> dict:
    raw = base_case(periods=1)
    raw["elements"] = ["Dy", "Tb"]
    raw["materials"] = [{"id": "dy_ox", "kind": "oxide", "element_content_frac": {"Dy": 1.0}},
                        {"id": "tb_ox", "kind": "oxide", "element_content_frac": {"Tb": 1.0}}]
    raw["offers"] = [offer("dy_spot", "A", 300, material="dy_ox"), offer("tb_spot", "A", tb_price, material="tb_ox")]
    raw["grades"] = [{"id": "G", "recipes": [{"id": "r_dy", "element_t_per_t_magnet": {"Dy": 0.04}},
                                             {"id": "r_tb", "element_t_per_t_magnet": {"Tb": 0.01}}]}]
    return raw


@pytest.mark.parametrize(
    "tb_price, recipe, cost",
    [
        (1000.0, "r_tb", 100.0),  # Tb: 0.01 x 1000 = 10 kUSD/t magnet < Dy: 0.04 x 300 = 12 -> 10 t x 10 = 100
        (1500.0, "r_dy", 120.0),  # Tb: 0.01 x 1500 = 15 kUSD/t magnet > Dy 12 -> 10 t x 12 = 120
    ],
)
def test_dy_vs_tb_recipe_flips_with_tb_price(tb_price, recipe, cost):
    """Grade G: recipe r_dy needs 0.04 t Dy/t magnet, r_tb needs 0.01 t Tb/t magnet; Dy at 300 USD/kg.

    Cost per t magnet: Dy route 0.04 x 300 = 12 kUSD; Tb route 0.01 x p_Tb kUSD.
    p_Tb = 1000 -> Tb route (10 kUSD/t), total 10 t x 10 = 100 kUSD;
    p_Tb = 1500 -> Dy route (15 > 12), total 10 t x 12 = 120 kUSD.
    """
    b, m, res = run(_dy_tb_case(tb_price))
    other = {"r_dy": "r_tb", "r_tb": "r_dy"}[recipe]
    assert res.objective_kusd == approx(cost)
    assert v(m.Make_t["s", recipe, 1]) == approx(10.0)
    assert v(m.Make_t["s", other, 1]) == approx(0.0)
    bought = {"r_dy": ("dy_spot", 0.4), "r_tb": ("tb_spot", 0.1)}[recipe]
    assert v(m.Purchase_t[bought[0], 1]) == approx(bought[1])


# --------------------------------------------------------------------------------------------
# (8) swarf recycling vs buying
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route_cost, feed, buy, cost",
    [
        (1.0, 2.5, 5.25, 55.0),  # recovered X costs 1 / 0.4 = 2.5 USD/kg < 10: recycle all swarf
        (5.0, 0.0, 6.25, 62.5),  # recovered X costs 5 / 0.4 = 12.5 USD/kg > 10: sell/keep swarf, buy
    ],
)
def test_swarf_recycling_vs_buying(route_cost, feed, buy, cost):
    """Plant yield 0.8: 10 t magnet needs 0.5 / 0.8 x 10 = 6.25 t X and leaves (1/0.8 - 1) x 10 = 2.5 t swarf.

    Swarf holds 0.5 t X per t (the recipe's content). A swarf route with recovery 0.8 returns
    0.8 x 0.5 = 0.4 t X per t swarf (origin R), at route_cost USD/kg feed. No swarf credit.
      route_cost 1: 2.5 t swarf -> 1.0 t X; buy 6.25 - 1.0 = 5.25 t:
        cost = 5.25 x 10 + 2.5 x 1 = 52.5 + 2.5 = 55 kUSD.
      route_cost 5: recycled X at 12.5 USD/kg is dearer than 10: buy 6.25 t = 62.5 kUSD.
    """
    raw = base_case(periods=1)
    raw["origin_groups"].append({"id": "R"})
    raw["plant"]["yield_frac"] = 0.8
    raw["recycling_routes"] = [{"id": "loop", "feed": "swarf", "capacity_t_feed_per_period": 100,
                                "cost_usd_per_kg_feed": route_cost, "recovery_frac": {"X": 0.8},
                                "output_origin_group": "R"}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(cost)
    assert v(m.Make_t["s", "G_r", 1]) == approx(10.0)
    assert v(m.RecycleFeed_t["loop", "G_r", 1]) == approx(feed)
    assert v(m.Purchase_t["a_spot", 1]) == approx(buy)
    assert v(m.Use_t["s", "X", "R", 1]) == approx(0.4 * feed)


# --------------------------------------------------------------------------------------------
# (9) contract reservation vs spot, and the minimum take
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fee, reserve, cost",
    [
        (1.0, 5.0, 45.0),  # contract 8 + fee 1 = 9 < spot 10: reserve 5, buy 5 -> 5 x 8 + 5 x 1 = 45
        (3.0, 0.0, 50.0),  # contract 8 + fee 3 = 11 > spot 10: buy 5 spot -> 50
    ],
)
def test_contract_reservation_vs_spot(fee, reserve, cost):
    """Contract a_con (origin A, ox, 8 USD/kg, fee per kg reserved, min take 0.5) beside spot at 10 USD/kg.

    Need 5 t X (T = 1). Effective contract price = 8 + fee.
      fee 1: 9 < 10 -> reserve 5 t, buy 5 t: 5 x 8 + 5 x 1 = 45 kUSD (min take 2.5 t satisfied);
      fee 3: 11 > 10 -> no reservation, 5 t spot = 50 kUSD.
    """
    raw = base_case(periods=1)
    raw["offers"].append(offer("a_con", "A", 8, kind="contract", reservation_fee_usd_per_kg=fee, min_take_frac=0.5))
    b, m, res = run(raw)
    assert res.objective_kusd == approx(cost)
    assert v(m.Reserve_t_per_period["a_con", 1]) == approx(reserve)
    assert v(m.Purchase_t["a_con", 1]) == approx(reserve)
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0 - reserve)


def test_contract_minimum_take_forces_purchase_into_stock():
    """A reservation fixed at 20 t (already committed), min take 0.5, fee 1, contract price 8 USD/kg.

    Min take forces buying >= 0.5 x 20 = 10 t though only 5 t X are needed; the other 5 t go to
    stock (capacity 100, holding 0, no terminal row since initial stock is 0).
      cost = fee 20 t x 1 + 10 t x 8 = 20 + 80 = 100 kUSD; spot 0; end stock 5 t.
    """
    raw = base_case(periods=1)
    raw["offers"].append(offer("a_con", "A", 8, kind="contract", reservation_fee_usd_per_kg=1, min_take_frac=0.5))
    raw["stockpile"] = [{"element": "X", "capacity_t": 100}]
    b = build_scenario_model(make(raw))
    m = b.model
    m.Reserve_t_per_period["a_con", 1].fix(20)
    res = solve(m)
    assert res.objective_kusd == approx(100.0)
    assert v(m.Purchase_t["a_con", 1]) == approx(10.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(0.0)
    assert v(m.Stock_t["plant", "X", "A", 1]) == approx(5.0)


# --------------------------------------------------------------------------------------------
# (10) diversification cap
# --------------------------------------------------------------------------------------------


def test_diversification_cap_forces_exact_mix_and_its_dual():
    """At most 60 % of X purchases (per year) from origin A; B sells ox at 15 USD/kg.

    Need a + b = 5 t X with a <= 0.6 (a + b) -> a <= 3: a = 3, b = 2.
      cost = 3 x 10 + 2 x 15 = 30 + 30 = 60 kUSD (vs 50 uncapped).
    Row: 0.4 a - 0.6 b <= 0. Relax the rhs to 1: a - 3 <= 1 -> a = 4, b = 1, cost 40 + 15 = 55:
      saving 5 kUSD per unit, so the dual is -5.
    """
    raw = base_case(periods=1)
    raw["offers"].append(offer("b_spot", "B", 15))
    raw["diversification_limits"] = [{"id": "capA", "element": "X", "group_by": "origin_group", "value": "A",
                                      "max_share_frac": 0.6}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(60.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(3.0)
    assert v(m.Purchase_t["b_spot", 1]) == approx(2.0)
    assert m.dual[m.DiversificationCap["capA", 2027]] == approx(-5.0)


# --------------------------------------------------------------------------------------------
# (11) terminal stock rule
# --------------------------------------------------------------------------------------------


def _terminal_case(penalty: float | None) -> dict:
    raw = base_case(periods=2)
    sp = {"element": "X", "capacity_t": 100, "holding_cost_usd_per_kg_per_period": 1, "terminal_min_t": 4}
    if penalty is not None:
        sp["terminal_penalty_usd_per_kg"] = penalty
    raw["stockpile"] = [sp]
    return raw


def test_terminal_stock_requirement_is_bought_last_period():
    """terminal_min_t 4 t X, penalty 50 USD/kg, holding 1 USD/kg/period, T = 2, initial stock 0.

    Meeting it: buy the 4 t in period 2 (buying in 1 would add a period of holding) and hold them
    at the end of period 2: 4 x 10 + 4 x 1 = 44 kUSD < 4 x 50 = 200 kUSD penalty.
      cost = demand 5 x 10 x 2 periods = 100 + 44 = 144 kUSD.
    """
    b, m, res = run(_terminal_case(50.0))
    assert res.objective_kusd == approx(144.0)
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0)
    assert v(m.Purchase_t["a_spot", 2]) == approx(9.0)
    assert v(m.Stock_t["plant", "X", "A", 1]) == approx(0.0)
    assert v(m.Stock_t["plant", "X", "A", 2]) == approx(4.0)
    assert v(m.TerminalShortfall_t["plant", "X"]) == approx(0.0)


def test_terminal_default_penalty_makes_meeting_cheaper_than_missing():
    """Same case with the penalty left blank.

    schema.StockpileElement.terminal_penalty_usd_per_kg: "Blank: the largest price per kg of element
    content among this element's offers, so that meeting it is cheaper than missing it."
    So meeting the 4 t requirement must be optimal: cost = 100 + 4 x (10 + 1) = 144 kUSD, shortfall 0.
    (A default of exactly the largest price, 10 USD/kg, makes missing cost 4 x 10 = 40 kUSD < 44 kUSD
    as soon as holding the stock costs anything, so the plan would empty the stockpile.)
    """
    b, m, res = run(_terminal_case(None))
    assert v(m.TerminalShortfall_t["plant", "X"]) == approx(0.0)
    assert v(m.Stock_t["plant", "X", "A", 2]) == approx(4.0)
    assert res.objective_kusd == approx(144.0)


# --------------------------------------------------------------------------------------------
# (12) strategic floor
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "floor_penalty, stock, shortfall, cost",
    [
        (20.0, (3.0, 3.0), (0.0, 0.0), 136.0),  # keep the floor in both periods: 100 + 3 + 33
        (2.0, (3.0, 0.0), (0.0, 3.0), 109.0),  # keep it in period 1 only:         100 + 3 + 6
        (0.5, (0.0, 0.0), (3.0, 3.0), 103.0),  # miss it in both periods:          100 + 1.5 + 1.5
    ],
)
def test_strategic_floor_penalty_vs_holding(floor_penalty, stock, shortfall, cost):
    """Floor 3 t X at the end of each period (soft, penalty p USD/kg per period), holding 1 USD/kg/period,
    T = 2, initial stock 0, no terminal row (initial 0).

    Demand needs 5 t X per period: 10 t x 10 USD/kg = 100 kUSD in any plan.
    End of period 1: keeping 3 t costs only the holding, 3 x 1 = 3 kUSD (the 3 t are drawn for
      period 2's demand, replacing 3 t that would be bought then); missing costs 3 x p.
    End of period 2: keeping 3 t costs 3 x 10 (bought and never used) + 3 x 1 = 33 kUSD; missing 3 x p.
      p = 20:  3 < 60, 33 < 60  -> keep both:        100 + 3 + 33  = 136 kUSD (buy 8 t, then 5 t).
      p = 2:   3 < 6,  33 > 6   -> keep period 1:    100 + 3 + 6   = 109 kUSD (buy 8 t, then 2 t).
      p = 0.5: 3 > 1.5, 33 > 1.5 -> miss both:       100 + 1.5 + 1.5 = 103 kUSD.
    """
    raw = base_case(periods=2)
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "holding_cost_usd_per_kg_per_period": 1,
                         "floor_t": 3, "floor_penalty_usd_per_kg": floor_penalty}]
    b, m, res = run(raw)
    assert res.objective_kusd == approx(cost)
    for t in (1, 2):
        assert v(m.Stock_t["plant", "X", "A", t]) == approx(stock[t - 1])
        assert v(m.FloorShortfall_t["plant", "X", t]) == approx(shortfall[t - 1])
    assert v(m.Purchase_t["a_spot", 1]) == approx(5.0 + stock[0])
    assert v(m.Purchase_t["a_spot", 2]) == approx(5.0 - stock[0] + stock[1])


# --------------------------------------------------------------------------------------------
# (13) finished magnets: buy vs make
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "magnet_price, bought, made, cost",
    [
        (6.0, 10.0, 0.0, 60.0),  # buy: 6 USD/kg < make 0.5 x 10 + 2 = 7 -> 10 t x 6 = 60
        (8.0, 0.0, 10.0, 70.0),  # make: 7 < 8 -> 10 t x 7 = 70
    ],
)
def test_finished_magnet_purchase_vs_making(magnet_price, bought, made, cost):
    """Finished magnets of grade G from origin B at magnet_price USD/kg; conversion 2 USD/kg magnet.

    Making 1 kg magnet: 0.5 kg X x 10 USD/kg + 2 USD/kg conversion = 7 USD/kg.
      price 6: buy 10 t magnets = 60 kUSD;  price 8: make 10 t = 70 kUSD.
    """
    raw = base_case(periods=1)
    raw["materials"].append({"id": "mag", "kind": "magnet", "grade": "G"})
    raw["offers"].append(offer("m_spot", "B", magnet_price, material="mag"))
    raw["plant"]["conversion_cost_usd_per_kg"] = 2
    b, m, res = run(raw)
    assert res.objective_kusd == approx(cost)
    assert v(m.MagnetUse_t["s", "mag", "B", 1]) == approx(bought)
    assert v(m.Purchase_t["m_spot", 1]) == approx(bought)
    assert v(m.Make_t["s", "G_r", 1]) == approx(made)


# --------------------------------------------------------------------------------------------
# (14) plant capacity binding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "magnet_offer, cost, bought, short, dual",
    [
        (False, 430.0, 0.0, 4.0, -95.0),  # 6 x 5 + 4 x 100 = 430; +1 t capacity saves 100 - 5 = 95
        (True, 110.0, 4.0, 0.0, -15.0),  # 6 x 5 + 4 x 20 = 110; +1 t capacity saves 20 - 5 = 15
    ],
)
def test_plant_capacity_binding(magnet_offer, cost, bought, short, dual):
    """Plant capacity 6 t magnet/period against 10 t demand (T = 1).

    Making costs 5 kUSD/t magnet; the 4 t that cannot be made are either short (100 kUSD/t) or,
    when finished magnets are offered at 20 USD/kg, bought (20 kUSD/t).
      no magnet offer: 6 x 5 + 4 x 100 = 430 kUSD; dual of PlantCapacity = -(100 - 5) = -95.
      magnet offer:    6 x 5 + 4 x 20  = 110 kUSD; dual = -(20 - 5) = -15.
    """
    raw = base_case(periods=1)
    raw["plant"]["capacity_t_per_period"] = 6
    if magnet_offer:
        raw["materials"].append({"id": "mag", "kind": "magnet", "grade": "G"})
        raw["offers"].append(offer("m_spot", "B", 20, material="mag"))
    b, m, res = run(raw)
    assert res.objective_kusd == approx(cost)
    assert v(m.Make_t["s", "G_r", 1]) == approx(6.0)
    assert v(m.Shortage_t["s", 1]) == approx(short)
    if magnet_offer:
        assert v(m.MagnetUse_t["s", "mag", "B", 1]) == approx(bought)
    assert m.dual[m.PlantCapacity["plant", 1]] == approx(dual)


# --------------------------------------------------------------------------------------------
# (15) recycling capacity expansion
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exp_cost_usd_per_t_per_period, expansion, cost",
    [
        (500.0, 12.5, 93.75),  # 0.5 kUSD per t/period < 1 kUSD saved per t feed: expand 12.5
        (2000.0, 0.0, 100.0),  # 2 kUSD per t/period > 1 kUSD saved: do not expand
    ],
)
def test_recycling_capacity_expansion_worth_it_or_not(exp_cost_usd_per_t_per_period, expansion, cost):
    """Scrap `scr` (0.5 t X per t) at 2 USD/kg; a scrap route with 0 base capacity, 1 USD/kg feed,
    recovery 0.8 (-> 0.4 t X per t scrap, origin R); expansion usable from period 2 (build lead 1),
    at most 20 t/period, costing `exp_cost` USD per t/period of capacity (one-off). T = 2.

    1 t scrap fed: 2 + 1 = 3 kUSD and replaces 0.4 t X bought at 10 USD/kg = 4 kUSD: saves 1 kUSD.
    Period 2 needs 5 t X = 12.5 t scrap, so expansion is worth at most 1 kUSD per t/period.
    Expansion cost in kUSD = E t/period x c USD/(t/period) / 1000.
      c = 500 USD:  0.5 kUSD per t/period < 1 -> expand 12.5 t/period:
        period 1: 5 t X x 10 = 50; period 2: 12.5 x 2 + 12.5 x 1 = 37.5; expansion 12.5 x 0.5 = 6.25;
        cost = 50 + 37.5 + 6.25 = 93.75 kUSD.
      c = 2000 USD: 2 kUSD per t/period > 1 -> no expansion: 50 + 50 = 100 kUSD.
    """
    raw = base_case(periods=2)
    raw["origin_groups"].append({"id": "R"})
    raw["materials"].append({"id": "scr", "kind": "scrap", "element_content_frac": {"X": 0.5}})
    raw["offers"].append(offer("scr_spot", "B", 2, material="scr"))
    raw["recycling_routes"] = [{
        "id": "scrap_rt", "feed": "scr", "capacity_t_feed_per_period": 0, "cost_usd_per_kg_feed": 1,
        "recovery_frac": {"X": 0.8}, "output_origin_group": "R",
        "expansion": {"cost_usd_per_t_per_period": exp_cost_usd_per_t_per_period,
                      "build_lead_time_periods": 1, "max_t_per_period": 20},
    }]
    b, m, res = run(raw)
    assert v(m.CapacityExpansion_t_per_period["scrap_rt"]) == approx(expansion)
    assert v(m.RecycleFeed_t["scrap_rt", "scr", 1]) == approx(0.0)
    assert v(m.RecycleFeed_t["scrap_rt", "scr", 2]) == approx(expansion)
    assert v(m.ExpansionCost_kusd) == approx(expansion * exp_cost_usd_per_t_per_period / 1000)
    assert res.objective_kusd == approx(cost)
