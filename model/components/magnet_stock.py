r"""What the company holds or has under way when the horizon opens: finished-magnet stock, and orders in transit.

Finished-magnet stock (``magnet_stock``, model.md §8.1) is kept per magnet material m and origin group g
(a magnet held keeps its origin), with a capacity and a holding cost per grade. It enters the MAGNET
balance as an outflow (what a period adds to stock), so a magnet drawn from stock is used through
``MagnetUse_t`` like a magnet bought: only (stream, m, g, t) keys that the stream's end-use eligibility
admits in t exist (``sets.MAGNET_USE``), whatever period the magnet arrived in.

Orders in transit at the start (``in_transit``, model.md §5.2) were placed before the horizon and are
already licensed and paid: their arrivals are constants registered as inflows of the ELEMENT, SCRAP and
MAGNET balances. They count against no capacity, quota or diversification limit and cost nothing here.

Glossary
--------
MagnetStock_t[p, m, g, t]        t of finished magnet m of origin g held at plant p at the end of period t (t = 0:
                                 the initial stock, fixed); (p, m, g) in MAGNET_STOCK_PMG
MagnetStockChange_t[p, m, g, t]  MagnetStock[t] - MagnetStock[t-1] (registered MAGNET outflow ``stock_change``)
MagnetStockCapacity[p, grade, t] sum over (m, g) of the grade at plant p of MagnetStock <= capacity_t  (t magnet)
MagnetHoldingCost_kusd           holding cost x end-of-period magnet stock (second stage, cost term
                                 ``magnet_holding``)
InTransitElement_t[p, e, g, a]   t of element e of origin g arriving at plant p (the offer's) in a from orders in
                                 transit (ELEMENT inflow ``in_transit``; a constant)
InTransitScrap_t[p, m, a]        t of scrap m arriving at p in a from orders in transit (SCRAP inflow ``in_transit``)
InTransitMagnet_t[p, m, g, a]    t of finished magnet m of origin g arriving at p in a (MAGNET inflow ``in_transit``)

.. math::

    \sum_{(m,g):\ \gamma_m = \gamma} \mathrm{MagnetStock}_{p,m,g,t} \le \bar S^{\mathrm{mag}}_{p,\gamma}, \qquad
    \mathrm{MagnetArrivals}_{p,m,g,t} + \mathrm{InTransitMagnet}_{p,m,g,t} \ge
    \mathrm{MagnetUseByOrigin}_{p,m,g,t} + \mathrm{MagnetStock}_{p,m,g,t} - \mathrm{MagnetStock}_{p,m,g,t-1}

    \mathrm{MagnetHoldingCost} = \sum_{(p,m,g,t),\ t \ge 1} h^{\mathrm{mag}}_{p,\gamma_m}\, \mathrm{MagnetStock}_{p,m,g,t}

(lanes between plants add their flows to both sides: :mod:`model.components.transfers`).

with :math:`\bar S^{\mathrm{mag}}_\gamma` in t of magnet and :math:`h^{\mathrm{mag}}` in USD/kg/period, so
the cost is in kUSD. A case without ``magnet_stock`` or ``in_transit`` has none of these columns or rows.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import MAGNET_STOCK_CAPACITY, ConstraintInfo, Infeasible, Marginal, at_plant, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("MagnetStockCapacity", marginal=Marginal(MAGNET_STOCK_CAPACITY, at_plant, period_label),
                   infeasible=Infeasible("finished-magnet stock capacity of grade {1} at plant {0} at the end of {2}",
                                         "magnet_stock[{1}].capacity_t")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    case = data.case
    W = case.risk.non_anticipative_periods
    T = sets.T
    store = {(case.plant_of(x), x.grade): x for x in case.magnet_stock}
    grade_of = {x.id: x.grade for x in case.materials if x.kind == "magnet"}

    # Finished-magnet stock
    keys0 = [(p, mat, g, t) for (p, mat, g) in sets.MAGNET_STOCK_PMG for t in range(0, T + 1)]
    keys = [k for k in keys0 if k[3] >= 1]
    m.MAGNET_STOCK = pyo.Set(dimen=4, initialize=keys, ordered=True)
    m.MagnetStock_t = pyo.Var(keys0, domain=pyo.NonNegativeReals)
    for (p, mat, g) in sets.MAGNET_STOCK_PMG:
        m.MagnetStock_t[p, mat, g, 0].fix(store[p, grade_of[mat]].initial_t_by_origin.get(g, 0.0))
    m.MagnetStockChange_t = pyo.Expression(
        m.MAGNET_STOCK, rule=lambda m, p, mat, g, t: m.MagnetStock_t[p, mat, g, t] - m.MagnetStock_t[p, mat, g, t - 1]
    )
    reg.add_outflow(Balance.MAGNET, "stock_change", m.MagnetStockChange_t)

    held = defaultdict(list)  # (p, grade) -> [(m, g)]
    for (p, mat, g) in sets.MAGNET_STOCK_PMG:
        held[p, grade_of[mat]].append((mat, g))
    cap_keys = [(p, gr, t) for (p, gr) in sorted(held) for t in sets.periods]
    m.MagnetStockCapacity = pyo.Constraint(
        cap_keys,
        rule=lambda m, p, gr, t: sum(m.MagnetStock_t[p, mat, g, t] for mat, g in held[p, gr]) <= store[p, gr].capacity_t
    )
    m.MagnetHoldingCost_kusd = pyo.Expression(
        expr=sum(store[p, grade_of[mat]].holding_cost_usd_per_kg_per_period * m.MagnetStock_t[p, mat, g, t]
                 for p, mat, g, t in keys)
    )
    reg.add_cost(terms.MAGNET_HOLDING, "second", m.MagnetHoldingCost_kusd)
    reg.add_first_stage(m.MagnetStock_t[k] for k in keys if k[3] <= W)

    # Orders in transit at the start: constant arrivals
    te = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_ELEM}  # key -> t
    ts = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_SCRAP}
    tm = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_MAGNET}
    m.InTransitElement_t = pyo.Expression(sorted(te), rule=lambda m, p, e, g, a: te[p, e, g, a])
    m.InTransitScrap_t = pyo.Expression(sorted(ts), rule=lambda m, p, mat, a: ts[p, mat, a])
    m.InTransitMagnet_t = pyo.Expression(sorted(tm), rule=lambda m, p, mat, g, a: tm[p, mat, g, a])
    reg.add_inflow(Balance.ELEMENT, "in_transit", m.InTransitElement_t)
    reg.add_inflow(Balance.SCRAP, "in_transit", m.InTransitScrap_t)
    reg.add_inflow(Balance.MAGNET, "in_transit", m.InTransitMagnet_t)
