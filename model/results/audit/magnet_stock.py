r"""Finished-magnet stock and orders in transit at the start, re-checked from the inputs and the plan tables
(model.md §5.2, §8.1):

- orders in transit (``in_transit``) arrive in their ``arrival_period`` as ordered, at no cost: element
  content f_e x q of an oxide/metal/alloy at (e, g, a), scrap at (m, a), finished magnets at (m, g, a),
  added to what the purchases bring (so the element balance, the ``arrivals`` table, the scrap feed and
  the finished-magnet balance count them);
- the ``magnet_stock`` table (grade, material, origin group, period, stock_t, capacity_t): a row's grade is
  its material's, its capacity_t the grade's ``magnet_stock[].capacity_t`` (``stock_capacity``); per grade
  and period, sum over materials and origins of stock <= capacity (0 for a grade without a store:
  ``stock_capacity``); stock[m, g, 0] = the grade's ``initial_t_by_origin[g]`` (its only magnet material);
- the finished-magnet balance (``finished_magnets``): per (m, g, t), used + stock[t] - stock[t-1] <=
  arrived + in transit; eligibility of a magnet drawn from stock is that of any magnet used
  (``magnet_purchases`` rows, checked in :meth:`.scenario.ScenarioAudit.finished_magnets`);
- the holding cost (:mod:`.costing`): sum over grades and t >= 1 of holding cost x stock x K.

Glossary: m magnet material, g origin group, a arrival period, q t in transit, gr grade, t period (0 the
initial state).
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
        m = inp.mats[off.material]
        a = period_of_month(inp.case.horizon, x.arrival_period)
        if a is None:
            continue
        if m.kind in ELEMENT_KINDS:
            for e, f in m.element_content_frac.items():
                if f > 0:
                    elem_arr[e, off.origin_group, a] += f * x.quantity_t
        elif m.kind == "scrap":
            scrap_arr[m.id, a] += x.quantity_t
        else:
            mag_arr[m.id, off.origin_group, a] += x.quantity_t


def initial_magnet_stock(inp) -> dict:
    """(m, g, 0) -> t of the initial finished-magnet stock (the grade's only magnet material)."""
    magnets = defaultdict(list)
    for m in inp.case.materials:
        if m.kind == "magnet":
            magnets[m.grade].append(m.id)
    out = {}
    for x in inp.case.magnet_stock:
        if len(magnets.get(x.grade, [])) == 1:
            for g, v in x.initial_t_by_origin.items():
                if v > 0:
                    out[magnets[x.grade][0], g, 0] = float(v)
    return out


def read_magnet_stock(audit) -> tuple[dict, dict]:
    """Read the ``magnet_stock`` table of one scenario (checking grade and capacity columns and the capacity
    per grade); return (stock per (m, g, t), t = 0..T) and (stock per (grade, t), t >= 1)."""
    inp, scen, rows, lab = audit.inp, audit.scen, audit.rows, audit.lab
    cap_acc = audit.acc["stock_capacity"]
    store = {x.grade: x for x in inp.case.magnet_stock}
    magnets = {k: m for k, m in inp.mats.items() if m.kind == "magnet"}
    stock = defaultdict(float, initial_magnet_stock(inp))
    by_grade = defaultdict(float)
    for t, (gr, m, g, pl, x, cap_) in rows.read("magnet_stock", ("grade", "material", "origin_group", "period", "stock_t",
                                                                 "capacity_t"),
                                                 (("material", "magnet material", magnets), ("origin_group", "origin group",
                                                                                             inp.groups)), "period"):
        if gr != magnets[m].grade:
            rows.problem(lambda: f"magnet_stock: material {m} grade column {gr!r}, input {magnets[m].grade!r}")
        want = store[magnets[m].grade].capacity_t if magnets[m].grade in store else 0.0
        cap_acc.add(abs(cap_ - want), mass_tol(cap_, want),
                    lambda: f"{scen}magnet_stock: material {m}, {pl}: capacity_t {fmt(cap_)} t, input {fmt(want)} t")
        stock[m, g, t] += x
        by_grade[magnets[m].grade, t] += x
    for gr in sorted({magnets[m].grade for m in magnets}):
        want = store[gr].capacity_t if gr in store else 0.0
        for t in range(1, inp.T + 1):
            x = by_grade.get((gr, t), 0.0)
            cap_acc.add(x - want, mass_tol(x, want),
                        lambda: f"{scen}finished magnets of grade {gr}, end of {lab(t)}: stock {fmt(x)} t > capacity "
                                f"{fmt(want)} t")
    return stock, by_grade


def stock_change(stock: dict, T: int) -> dict:
    """(m, g, t) -> stock[t] - stock[t-1], t = 1..T, for every (m, g) with stock."""
    out = {}
    for (m, g) in {(k[0], k[1]) for k in stock}:
        for t in range(1, T + 1):
            out[m, g, t] = stock.get((m, g, t), 0.0) - stock.get((m, g, t - 1), 0.0)
    return out
