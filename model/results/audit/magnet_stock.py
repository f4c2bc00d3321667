r"""Finished-magnet stock and orders in transit at the start, re-checked from the inputs and the plan tables
(model.md §5.2, §8.1):

- orders in transit (``in_transit``) arrive in their ``arrival_period`` as ordered, at no cost, at the
  plant their offer delivers to (p): element content f_e x q of an oxide/metal/alloy at (p, e, g, a), scrap
  at (p, m, a), finished magnets at (p, m, g, a), added to what the purchases bring (so the element
  balance, the ``arrivals`` table, the scrap feed and the finished-magnet balance count them);
- the ``magnet_stock`` table (plant, grade, material, origin group, period, stock_t, capacity_t): a row's
  grade is its material's, its capacity_t the ``magnet_stock[].capacity_t`` of its grade at its plant
  (``stock_capacity``); per plant, grade and period, sum over materials and origins of stock <= capacity
  (0 for a grade without a store at that plant: ``stock_capacity``); stock[p, m, g, 0] = the store's
  ``initial_t_by_origin[g]`` (the grade's only magnet material);
- the finished-magnet balance (``finished_magnets``): per (p, m, g, t), used by the streams of p +
  stock[t] - stock[t-1] + sent on lanes from p in t <= arrived at p + in transit to p + received by
  lanes to p in t (sent in t - lead); eligibility of a magnet drawn from stock is that of any magnet used
  (``magnet_purchases`` rows, checked in :meth:`.scenario.ScenarioAudit.finished_magnets`);
- the holding cost (:mod:`.costing`): sum over (plant, grade) stores and t >= 1 of holding cost x stock x K.

Glossary: p plant, m magnet material, g origin group, a arrival period, q t in transit, gr grade, t period
(0 the initial state).
"""

from __future__ import annotations

from collections import defaultdict

from model.input.schema import period_of_month

from .checks import fmt, mass_tol
from .inputs import ELEMENT_KINDS


def add_in_transit(inp, elem_arr: dict, scrap_arr: dict, mag_arr: dict) -> None:
    """Add the arrivals of the orders in transit at the start to the arrivals by kind."""
    for x in inp.case.in_transit:
        off = inp.offers[x.offer]
        p = inp.plant_of_offer[off.id]
        m = inp.mats[off.material]
        a = period_of_month(inp.case.horizon, x.arrival_period)
        if a is None:
            continue
        if m.kind in ELEMENT_KINDS:
            for e, f in m.element_content_frac.items():
                if f > 0:
                    elem_arr[p, e, off.origin_group, a] += f * x.quantity_t
        elif m.kind == "scrap":
            scrap_arr[p, m.id, a] += x.quantity_t
        else:
            mag_arr[p, m.id, off.origin_group, a] += x.quantity_t


def initial_magnet_stock(inp) -> dict:
    """(p, m, g, 0) -> t of the initial finished-magnet stock at plant p (the grade's only magnet material)."""
    magnets = defaultdict(list)
    for m in inp.case.materials:
        if m.kind == "magnet":
            magnets[m.grade].append(m.id)
    out = {}
    for x in inp.case.magnet_stock:
        if len(magnets.get(x.grade, [])) == 1:
            p = inp.case.plant_of(x)
            for g, v in x.initial_t_by_origin.items():
                if v > 0:
                    out[p, magnets[x.grade][0], g, 0] = float(v)
    return out


def read_magnet_stock(audit) -> tuple[dict, dict]:
    """Read the ``magnet_stock`` table of one scenario (checking grade and capacity columns and the capacity
    per plant and grade); return (stock per (p, m, g, t), t = 0..T) and (stock per (p, grade, t), t >= 1)."""
    inp, scen, rows, lab = audit.inp, audit.scen, audit.rows, audit.lab
    cap_acc = audit.acc["stock_capacity"]
    store = {(inp.case.plant_of(x), x.grade): x for x in inp.case.magnet_stock}
    magnets = {k: m for k, m in inp.mats.items() if m.kind == "magnet"}
    stock = defaultdict(float, initial_magnet_stock(inp))
    by_grade = defaultdict(float)
    for t, (p, gr, m, g, pl, x, cap_) in rows.read(
            "magnet_stock", ("plant", "grade", "material", "origin_group", "period", "stock_t", "capacity_t"),
            (("plant", "plant", inp.plants), ("material", "magnet material", magnets),
             ("origin_group", "origin group", inp.groups)), "period"):
        if gr != magnets[m].grade:
            rows.problem(lambda: f"magnet_stock: material {m} grade column {gr!r}, input {magnets[m].grade!r}")
        k = (p, magnets[m].grade)
        want = store[k].capacity_t if k in store else 0.0
        cap_acc.add(abs(cap_ - want), mass_tol(cap_, want),
                    lambda: f"{scen}magnet_stock: plant {p}, material {m}, {pl}: capacity_t {fmt(cap_)} t, input "
                            f"{fmt(want)} t")
        stock[p, m, g, t] += x
        by_grade[p, magnets[m].grade, t] += x
    for p in inp.plants:
        for gr in sorted({magnets[m].grade for m in magnets}):
            want = store[p, gr].capacity_t if (p, gr) in store else 0.0
            for t in range(1, inp.T + 1):
                x = by_grade.get((p, gr, t), 0.0)
                cap_acc.add(x - want, mass_tol(x, want),
                            lambda: f"{scen}finished magnets of grade {gr} at plant {p}, end of {lab(t)}: stock {fmt(x)} t "
                                    f"> capacity {fmt(want)} t")
    return stock, by_grade


def stock_change(stock: dict, T: int) -> dict:
    """(p, m, g, t) -> stock[t] - stock[t-1], t = 1..T, for every (p, m, g) with stock."""
    out = {}
    for (p, m, g) in {k[:3] for k in stock}:
        for t in range(1, T + 1):
            out[p, m, g, t] = stock.get((p, m, g, t), 0.0) - stock.get((p, m, g, t - 1), 0.0)
    return out
