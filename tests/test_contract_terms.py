"""Contract terms (``offers[].terms``, model.md §5.1): one term per tiny case, each optimum worked out by hand.

Every case starts from ``tests.tiny.base_case``: element X, a recipe of 0.5 t X per t magnet, yield 1,
no stockpile (X cannot be carried between periods, nor bought beyond what is used), a spot offer at
10 USD/kg with room to spare and a shortage cost of 100 USD/kg (so every tonne of X needed is bought).
Added here: a contract offer ``c`` of the same oxide at 8 USD/kg, lead 0, capacity 100 t/period, with a
reservation fee f USD/kg per period reserved. The demand (t magnet per period) comes from a CSV, so the
need for X is half of it: ``need[t]``.

Units: t x USD/kg = kUSD; ``objective_usd`` is in USD (x 1000). Useful facts:

* a tonne bought on the contract instead of spot saves 10 - 8 = 2 kUSD; reserving it costs f kUSD per
  period reserved, so without terms a reservation pays (and the plan reserves exactly the need) when
  f < 2, and the free optimum is (8 + f) x sum(need);
* with terms the reservation is no longer the need, and the difference to the free plan is the fee on
  what is reserved but not needed, the 2 kUSD per tonne bought spot instead, and take-or-pay.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pandas as pd
import pytest

from model.app.run import run_data, run_stochastic_data
from model.errors import InputError
from model.input.io import case_from_mapping
from model.input.yaml_safe import load_yaml
from model.results.audit import audit_run
from tests.tiny import base_case

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
KUSD = 1000.0


def case(tmp_path: Path, demand_t: list[float], fee: float = 1.5, terms: dict | None = None, **contract) -> dict:
    """The tiny case above over ``len(demand_t)`` periods, with contract ``c`` (and its ``terms``)."""
    raw = base_case(periods=len(demand_t))
    c = {"id": "c", "supplier": "SC", "country": "CC", "origin_group": "A", "material": "ox", "kind": "contract",
         "capacity_t_per_period": 100, "price_usd_per_kg": 8, "lead_time_periods": 0,
         "reservation_fee_usd_per_kg": fee} | contract
    if terms is not None:
        c["terms"] = terms
    raw["offers"].append(c)
    periods = pd.period_range("2027-01", periods=len(demand_t), freq="M").strftime("%Y-%m")
    pd.DataFrame({"period": periods, "s": demand_t}).to_csv(tmp_path / "demand.csv", index=False)
    raw["timeseries"] = {"demand": "demand.csv"}
    return raw


def solve(tmp_path: Path, raw: dict):
    """Solve ``raw`` (its CSVs in ``tmp_path``); the audit must pass."""
    run = run_data(case_from_mapping(copy.deepcopy(raw), tmp_path / "case.yaml"))
    rep = audit_run(run)
    assert rep.passed, {c.name: c.detail for c in rep.checks if not c.passed}
    assert run.solution.kpis["audit"]["passed"]
    return run


def cost_kusd(run) -> float:
    return run.solution.kpis["objective_usd"] / KUSD


def reserved(run, offer: str = "c") -> list[float]:
    r = run.solution.tables["reservations"]
    return [round(x, 9) for x in r[r.offer == offer].reserved_t]


def tranches(run) -> list[tuple]:
    c = run.solution.tables["contracts"]
    return [(o, f, t, int(L), round(v, 9)) for o, f, t, L, v in
            zip(c.offer, c.from_period, c["to_period"], c.term_periods, c.volume_t_per_period)]


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-6)


# --------------------------------------------------------------------------------------------
# one term at a time
# --------------------------------------------------------------------------------------------


def test_flat_term_over_the_horizon(tmp_path):
    """need = [5, 5, 2, 2], f = 1.5.

    Free: reserve the need each period: (8 + 1.5) x 14 = 133 kUSD.
    min_term_periods 4 over T = 4: one tranche of v t/period for periods 1-4.
      cost(v) = fee 4 x 1.5 v + 8 x sum min(v, need) + 10 x sum (need - min(v, need))
              = 140 + 6 v - 2 sum min(v, need):
      v <= 2: 140 - 2 v; 2 <= v <= 5: 140 + 6 v - 2 (2 v + 4) = 132 + 2 v. Optimum v = 2: 136 kUSD,
      3 kUSD above the free plan (3 t spot in periods 1 and 2 at +0.5 each net of the fee saved).
    The tranche's fee: 2 t x 4 periods x 1.5 USD/kg = 12,000 USD.
    """
    free = solve(tmp_path, case(tmp_path, [10, 10, 4, 4]))
    assert cost_kusd(free) == approx(133.0)
    assert reserved(free) == [5, 5, 2, 2]
    run = solve(tmp_path, case(tmp_path, [10, 10, 4, 4], terms={"min_term_periods": 4}))
    assert cost_kusd(run) == approx(136.0)
    assert cost_kusd(run) - cost_kusd(free) == approx(3.0)
    assert reserved(run) == [2, 2, 2, 2]
    assert tranches(run) == [("c", "2027-01", "2027-04", 4, 2.0)]
    assert run.solution.tables["contracts"].fee_usd.tolist() == [approx(12_000.0)]


def test_min_and_max_term(tmp_path):
    """need = [5, 5, 5], f = 1.5. Free: 9.5 x 15 = 142.5 kUSD (reserve 5 each period).

    min 2, max 3: a 3-period tranche of 5 t is the free plan: 142.5 kUSD.
    min 2, max 2 (exactly 2 periods): tranches (1-2) v1 and (2-3) v2, reservation [v1, v1 + v2, v2].
      With S = v1 + v2 <= 5: cost = 150 + fee 3 S - 2 x (v1 + S + v2) = 150 - S; with S > 5:
      150 + 3 S - 2 (S + 5) = 140 + S. Optimum S = 5: 145 kUSD, 2.5 above the free plan (period 2
      reserves 5, periods 1 and 3 share 5: 5 t bought spot at +0.5 net).
    """
    free = solve(tmp_path, case(tmp_path, [10, 10, 10]))
    assert cost_kusd(free) == approx(142.5)
    loose = solve(tmp_path, case(tmp_path, [10, 10, 10], terms={"min_term_periods": 2, "max_term_periods": 3}))
    assert cost_kusd(loose) == approx(142.5)
    assert tranches(loose) == [("c", "2027-01", "2027-03", 3, 5.0)]
    exact = solve(tmp_path, case(tmp_path, [10, 10, 10], terms={"min_term_periods": 2, "max_term_periods": 2}))
    assert cost_kusd(exact) == approx(145.0)
    assert cost_kusd(exact) - cost_kusd(free) == approx(2.5)
    r = reserved(exact)
    assert r[1] == approx(5.0) and r[0] + r[2] == approx(5.0)
    assert {L for *_, L, _ in tranches(exact)} == {2}


def test_a_term_ends_inside_the_horizon(tmp_path):
    """need = [0, 0, 5], f = 1.5, min_term_periods 2.

    Free: reserve 5 in period 3: 9.5 x 5 = 47.5 kUSD.
    A term must end inside the horizon, so period 3 can only be covered by a tranche of periods 2-3:
      cost(v) = fee 2 x 1.5 v + 8 min(v, 5) + 10 (5 - min(v, 5)) = 50 + v -> v = 0: buy spot, 50 kUSD.
    (A term allowed to run past the horizon, its fee counted inside only, would give 47.5 again.)
    """
    free = solve(tmp_path, case(tmp_path, [0, 0, 10]))
    assert cost_kusd(free) == approx(47.5)
    run = solve(tmp_path, case(tmp_path, [0, 0, 10], terms={"min_term_periods": 2}))
    assert cost_kusd(run) == approx(50.0)
    assert reserved(run) == [0, 0, 0] and tranches(run) == []


@pytest.mark.parametrize("band", [{"max_change_t_per_period": 2}, {"max_change_frac_per_period": 0.02}])
def test_band(tmp_path, band):
    """need = [5, 1], f = 1.5, band 2 t/period (given in t, or as 0.02 x capacity 100).

    Free: reserve [5, 1]: 9.5 x 6 = 57 kUSD.
    Band: |R2 - R1| <= 2. With R2 = b >= 1, R1 = a <= 5: cost = 1.5 (a + b) + 8 (a + 1) + 10 (5 - a)
      = 58 - 0.5 a + 1.5 b, b >= max(1, a - 2): a <= 3 -> 59.5 - 0.5 a; a >= 3 -> 55 + a; so a = 3,
      b = 1: 58 kUSD (R2 < 1 only adds spot). 1 kUSD above the free plan: 2 t spot in period 1
      (+0.5 each net). [5, 3] would cost 60 (fee on 2 idle t), [4, 2] 59.
    """
    free = solve(tmp_path, case(tmp_path, [10, 2]))
    assert cost_kusd(free) == approx(57.0)
    run = solve(tmp_path, case(tmp_path, [10, 2], terms=band))
    assert cost_kusd(run) == approx(58.0)
    assert cost_kusd(run) - cost_kusd(free) == approx(1.0)
    assert reserved(run) == [3, 1]


@pytest.mark.parametrize("top,v,cost,paid", [
    (0.1, 5.0, 49.0, 4.0),  # 50 + v + 0.8 v - 2 v = 50 - 0.2 v on [0, 5]: v = 5; pays 0.1 x 5 t x 8 = 4 kUSD
    (0.5, 0.0, 50.0, 0.0),  # 50 + v + 4 v - 2 v = 50 + 3 v: v = 0, all spot
])
def test_take_or_pay(tmp_path, top, v, cost, paid):
    """need = [5, 0], f = 0.5, one tranche over both periods (min_term_periods 2).

    Free: reserve [5, 0]: 8.5 x 5 = 42.5 kUSD.
    Flat term alone: cost(v) = fee 2 x 0.5 v + 8 min(v, 5) + 10 (5 - min(v, 5)) = 50 + v - 2 min(v, 5):
      v = 5, 45 kUSD (the fee on 5 idle t in period 2).
    Take-or-pay share top: in period 2 nothing is bought, so top x v t is paid at 8 USD/kg:
      cost(v) = 50 + v + 8 top v - 2 v on [0, 5]. top = 0.1: 50 - 0.2 v -> v = 5, 49 kUSD (4 above the
      flat term: 0.5 t at 8). top = 0.5: 50 + 3 v -> v = 0, 50 kUSD (all spot, 5 above).
    """
    free = solve(tmp_path, case(tmp_path, [10, 0], fee=0.5))
    assert cost_kusd(free) == approx(42.5)
    flat = solve(tmp_path, case(tmp_path, [10, 0], fee=0.5, terms={"min_term_periods": 2}))
    assert cost_kusd(flat) == approx(45.0)
    assert "take_or_pay" not in flat.solution.kpis["cost_parts_usd"]  # no take-or-pay term: no cost part
    run = solve(tmp_path, case(tmp_path, [10, 0], fee=0.5, terms={"min_term_periods": 2, "take_or_pay_frac": top}))
    assert cost_kusd(run) == approx(cost)
    assert cost_kusd(run) - cost_kusd(flat) == approx(cost - 45.0)
    assert run.solution.kpis["cost_parts_usd"]["take_or_pay"] == approx(paid * KUSD)
    assert reserved(run) == [v, v]
    if v > 0:
        c = run.solution.tables["contracts"]
        assert c.take_or_pay_max_t.tolist() == [approx(top * v * 2)]  # share x volume x term
        assert c.take_or_pay_max_usd.tolist() == [approx(top * v * (8 + 8) * KUSD)]


def test_take_or_pay_without_tranches_is_owed_on_the_reservation(tmp_path):
    """need = [5, 0], f = 0.5, take_or_pay_frac 0.5, the reservation free but banded (2 t/period).

    Free: [5, 0], 42.5 kUSD. The band forces R2 >= R1 - 2; R2 idle in period 2 costs its fee 0.5 and
    take-or-pay 0.5 x 8 = 4 per t. With R1 = a <= 5, R2 = a - 2 (a >= 2):
      cost = 0.5 (2 a - 2) + 8 a + 10 (5 - a) + 4 (a - 2) = 41 + 3 a for a >= 2, and
      0.5 a + 8 a + 10 (5 - a) = 50 - 1.5 a for a <= 2 (R2 = 0). Optimum a = 2: 47 kUSD, no take-or-pay.
    """
    run = solve(tmp_path, case(tmp_path, [10, 0], fee=0.5,
                               terms={"max_change_t_per_period": 2, "take_or_pay_frac": 0.5}))
    assert cost_kusd(run) == approx(47.0)
    assert reserved(run) == [2, 0]
    assert run.solution.kpis["cost_parts_usd"]["take_or_pay"] == approx(0.0)


@pytest.mark.parametrize("terms,extra,cost,r", [
    ({"notice_periods": 1}, {}, 145.0, [0, 5, 5]),  # period 1 bought spot: +5 x 0.5
    ({"notice_periods": 1}, {"committed_t_per_period": 5}, 142.5, [5, 5, 5]),  # the committed volume is allowed
    ({"notice_periods": 1, "min_term_periods": 2}, {}, 145.0, [0, 5, 5]),  # the tranche starts in period 2
])
def test_notice(tmp_path, terms, extra, cost, r):
    """need = [5, 5, 5], f = 1.5. Free: 9.5 x 15 = 142.5 kUSD.

    notice_periods 1: the reservation of period 1 is the committed volume. Without one, period 1 is
    bought spot: 50 + 2 x 47.5 = 145 kUSD (+2.5). With committed_t_per_period 5 the reservation is 5 in
    every period: 142.5. With tranches (min 2) the only one that fits starts in period 2: 145.
    """
    free = solve(tmp_path, case(tmp_path, [10, 10, 10]))
    run = solve(tmp_path, case(tmp_path, [10, 10, 10], terms=terms, **extra))
    assert cost_kusd(run) == approx(cost)
    assert cost_kusd(run) - cost_kusd(free) == approx(cost - 142.5)
    assert reserved(run) == r


# --------------------------------------------------------------------------------------------
# a case without terms, input errors, and the audit catching broken terms
# --------------------------------------------------------------------------------------------


def test_a_case_without_terms_has_no_new_columns_or_rows(tmp_path):
    run = solve(tmp_path, case(tmp_path, [10, 10]))
    m = run.built.model
    for name in ("Tranche_t_per_period", "TakeOrPayShortfall_t", "ContractTranches", "ContractBandUp",
                 "ContractBandDown", "TakeOrPay"):
        assert len(m.component(name)) == 0, name
    assert "take_or_pay" not in run.solution.kpis["cost_parts_usd"]
    assert "take_or_pay" not in set(run.solution.tables["costs"].term)
    assert run.solution.tables["contracts"].empty


@pytest.mark.parametrize("edit,field,expected", [
    (lambda c: c.update(kind="spot", terms={"take_or_pay_frac": 0.5}), "offers[c].terms", "no terms on a spot offer"),
    (lambda c: c.update(terms={"max_term_periods": 2}), "offers[c].terms.max_term_periods", "`min_term_periods` as well"),
    (lambda c: c.update(terms={"min_term_periods": 3, "max_term_periods": 2}), "offers[c].terms.max_term_periods",
     "at least min_term_periods (3)"),
    (lambda c: c.update(terms={"min_term_periods": 1, "max_term_periods": 5}), "offers[c].terms.max_term_periods",
     "at most the horizon (4 periods)"),
    (lambda c: c.update(terms={"min_term_periods": 5}), "offers[c].terms.min_term_periods", "at most the horizon"),
    (lambda c: c.update(lead_time_periods=1, terms={"min_term_periods": 2, "notice_periods": 2}),
     "offers[c].terms.min_term_periods", "notice_periods (2) + min_term_periods <= 3"),
    (lambda c: c.update(terms={"notice_periods": 4}), "offers[c].terms.notice_periods", "fewer than 4 periods"),
    (lambda c: c.update(terms={"max_change_t_per_period": 1, "max_change_frac_per_period": 0.1}),
     "offers[c].terms.max_change_frac_per_period", "give the band one way"),
])
def test_cross_field_errors(tmp_path, edit, field, expected):
    raw = case(tmp_path, [10, 10, 10, 10])
    edit(raw["offers"][-1])
    with pytest.raises(InputError) as e:
        case_from_mapping(raw, tmp_path / "case.yaml")
    hits = [i for i in e.value.issues if i.field == field]
    assert hits and expected in hits[0].expected, [i.line() for i in e.value.issues]


def test_unknown_term_is_refused(tmp_path):
    raw = case(tmp_path, [10, 10], terms={"min_term": 2})
    with pytest.raises(InputError) as e:
        case_from_mapping(raw, tmp_path / "case.yaml")
    assert any(i.field == "offers[c].terms.min_term" for i in e.value.issues)


def _tamper(run, **tables):
    from dataclasses import replace

    from model.results.tables import Solution

    new = dict(run.solution.tables) | tables
    return replace(run, solution=Solution(tables=new, kpis=run.solution.kpis))


def _failed(run) -> dict:
    return {c.name: c for c in audit_run(run).checks if not c.passed}


def test_the_audit_checks_tranches_band_and_take_or_pay(tmp_path):
    """The audit recomputes the new rows from the tables and inputs, never from the model."""
    run = solve(tmp_path, case(tmp_path, [10, 0], fee=0.5, terms={"min_term_periods": 2, "take_or_pay_frac": 0.1}))
    c = run.solution.tables["contracts"].copy()
    c["volume_t_per_period"] = 4.0  # the reservations (5 t) are no longer the tranche
    bad = _failed(_tamper(run, contracts=c))
    assert "supplier_capacity" in bad and "tranches covering it 4 t" in bad["supplier_capacity"].detail
    assert "cost_columns" in bad  # the fee and the take-or-pay exposure no longer match the volume
    costs = run.solution.tables["costs"].copy()
    costs.loc[costs.term == "take_or_pay", "cost_usd"] += 500.0
    assert "cost_terms" in _failed(_tamper(run, costs=costs))
    banded = solve(tmp_path, case(tmp_path, [10, 2], terms={"max_change_t_per_period": 2}))
    res = banded.solution.tables["reservations"].copy()
    res.loc[res.period == "2027-01", "reserved_t"] = 5.0
    bad = _failed(_tamper(banded, reservations=res))
    assert "band 2 t/period" in bad["supplier_capacity"].detail


@pytest.mark.parametrize("terms", [
    {"max_change_t_per_period": 1.0, "take_or_pay_frac": 0.7},  # month-by-month tranches, banded
    {"min_term_periods": 2, "take_or_pay_frac": 0.9},
    {"min_term_periods": 1, "max_term_periods": 2, "notice_periods": 1, "max_change_frac_per_period": 0.1},
])
def test_stochastic_run_with_terms_and_its_fixed_plan_evaluations(terms):
    """The audit's rich two-scenario case with terms on its contract b_c (lead 1, min take 0.5) and, in
    ``crisis``, b_c's availability halved from period 2 (take-or-pay is owed on the available part).
    The run also re-solves every scenario with the expected-value plan's first stage fixed (EEV, VSS):
    a contract with terms has its tranches as first stage and its reservation as their sum, so no row of
    the terms consists of fixed columns only."""
    from tests.test_audit import rich_stochastic_case

    raw = rich_stochastic_case()
    raw["offers"][1]["terms"] = terms
    crisis = raw["scenarios"]["listed"][1]["effects"]
    crisis.append({"kind": "availability", "select": {"offers": ["b_c"]}, "factor": 0.5, "start": "2027-02"})
    run = run_stochastic_data(case_from_mapping(raw, Path("<tiny>.yaml")))
    rep = audit_run(run)
    assert rep.passed, {c.name: c.detail for c in rep.checks if not c.passed}
    k = run.solution.kpis
    assert k["vss_usd"] is not None and k["vss_usd"] >= -1.0
    res = run.solution.tables["reservations"]
    by = res[res.offer == "b_c"].groupby("period").reserved_t
    assert (by.max() - by.min()).max() <= 1e-6  # the same reservation in both scenarios


# --------------------------------------------------------------------------------------------
# property: terms never lower the optimal cost
# --------------------------------------------------------------------------------------------

TERM_SETS = [  # each set adds terms to the one before it
    {},
    {"max_change_t_per_period": 3.0},
    {"max_change_t_per_period": 3.0, "min_term_periods": 2},
    {"max_change_t_per_period": 3.0, "min_term_periods": 2, "max_term_periods": 3},
    {"max_change_t_per_period": 3.0, "min_term_periods": 2, "max_term_periods": 3, "notice_periods": 1},
    {"max_change_t_per_period": 3.0, "min_term_periods": 2, "max_term_periods": 3, "notice_periods": 1,
     "take_or_pay_frac": 0.6},
]


@pytest.mark.parametrize("seed", range(6))
def test_adding_terms_never_lowers_the_optimal_cost(tmp_path, seed):
    """Random need (6 periods), fee and committed volume; each term set adds terms to the one before it, so
    its feasible set is a subset and its costs are larger: the optimal cost never falls (and the audit passes)."""
    rng = random.Random(seed)
    demand = [rng.choice([0, 2, 4, 6, 8, 10, 12]) for _ in range(6)]
    fee = rng.choice([0.25, 0.75, 1.5])
    committed = rng.choice([0.0, 0.0, 1.0])
    costs = []
    for terms in TERM_SETS:
        raw = case(tmp_path, demand, fee=fee, terms=terms or None, committed_t_per_period=committed)
        costs.append(cost_kusd(solve(tmp_path, raw)))
    assert all(b >= a - 1e-9 * max(1.0, abs(a)) for a, b in zip(costs, costs[1:])), (demand, fee, committed, costs)


# --------------------------------------------------------------------------------------------
# the default case with terms on every contract offer
# --------------------------------------------------------------------------------------------

DEFAULT_TERMS = {"min_term_periods": 6, "max_term_periods": 12, "max_change_frac_per_period": 0.25,
                 "take_or_pay_frac": 0.9, "notice_periods": 1}


def default_with_terms(terms: dict | None):
    raw = load_yaml(BASE, str(BASE))
    for o in raw["offers"]:
        if o["kind"] == "contract" and terms is not None:
            o["terms"] = dict(terms)
    return case_from_mapping(raw, BASE)


@pytest.fixture(scope="module")
def default_runs():
    return {k: run_stochastic_data(default_with_terms(t), evpi_vss=False) for k, t in
            (("free", None), ("terms", DEFAULT_TERMS))}


def test_default_case_with_terms_solves_and_passes_the_audit(default_runs):
    free, run = default_runs["free"], default_runs["terms"]
    assert run.solution.kpis["audit"]["passed"]
    assert audit_run(run).passed
    assert run.solution.kpis["objective_usd"] >= free.solution.kpis["objective_usd"] - 1e-6
    c = run.solution.tables["contracts"]
    assert len(c) and "scenario" not in c.columns  # first stage: one row per tranche
    contracts = {o.id: o for o in run.data.case.offers if o.kind == "contract"}
    assert set(c.offer) <= set(contracts)
    assert ((c.term_periods >= 6) & (c.term_periods <= 12)).all()
    assert (c.from_period > run.data.periods[0]).all()  # the notice: nothing new in period 1


def test_default_case_reservations_are_the_tranches_and_change_only_at_their_ends(default_runs):
    """Per scenario and contract: the reservation = committed + the tranches covering the period (each
    tranche's volume is one number over its term), so it changes only where a tranche starts or ends."""
    run = default_runs["terms"]
    t_of = {p: k + 1 for k, p in enumerate(run.data.periods)}
    c = run.solution.tables["contracts"]
    res = run.solution.tables["reservations"]
    offers = {o.id: o for o in run.data.case.offers}
    for (scen, o), g in res.groupby(["scenario", "offer"]):
        mine = [(t_of[f], t_of[t], v) for oo, f, t, v in zip(c.offer, c.from_period, c["to_period"], c.volume_t_per_period)
                if oo == o]
        r = {t_of[p]: x for p, x in zip(g.period, g.reserved_t)}
        for t, x in r.items():
            want = offers[o].committed_t_per_period + sum(v for s, e, v in mine if s <= t <= e)
            assert x == pytest.approx(want, abs=1e-6), (scen, o, t)
        ends = {s for s, _, _ in mine} | {e + 1 for _, e, _ in mine}
        for t in r:
            if t + 1 in r and abs(r[t + 1] - r[t]) > 1e-6:
                assert t + 1 in ends, (scen, o, t)


def test_default_case_tranche_columns():
    """Lead 1 over 24 periods: orders of periods 1-23 arrive in the horizon. Notice 1, terms 6-12:
    starts 2-12 take all 7 lengths (77), starts 13-18 take 6, 5, ..., 1 (21): 98 tranches per contract,
    294 for the three contracts; take-or-pay adds 23 shortfall columns per contract and scenario."""
    from model.components.sets import build_sets

    sets = build_sets(default_with_terms(DEFAULT_TERMS))
    assert len(sets.TRANCHE) == 294
    assert len(sets.TAKE_OR_PAY) == 69
    assert len(sets.CONTRACT_BAND) == 66
