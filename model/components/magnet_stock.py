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
MagnetStock_t[m, g, t]           t of finished magnet m of origin g held at the end of period t (t = 0: the
                                 initial stock, fixed); (m, g) in MAGNET_STOCK_MG
MagnetStockChange_t[m, g, t]     MagnetStock[t] - MagnetStock[t-1] (registered MAGNET outflow ``stock_change``)
MagnetStockCapacity[grade, t]    sum over (m, g) of the grade of MagnetStock <= capacity_t        (t magnet)
MagnetHoldingCost_kusd           holding cost x end-of-period magnet stock (second stage, cost term
                                 ``magnet_holding``)
InTransitElement_t[e, g, a]      t of element e of origin g arriving in a from orders in transit (ELEMENT inflow
                                 ``in_transit``; a constant)
InTransitScrap_t[m, a]           t of scrap m arriving in a from orders in transit (SCRAP inflow ``in_transit``)
InTransitMagnet_t[m, g, a]       t of finished magnet m of origin g arriving in a (MAGNET inflow ``in_transit``)

.. math::

    \sum_{(m,g):\ \gamma_m = \gamma} \mathrm{MagnetStock}_{m,g,t} \le \bar S^{\mathrm{mag}}_\gamma, \qquad
    \mathrm{MagnetArrivals}_{m,g,t} + \mathrm{InTransitMagnet}_{m,g,t} \ge
    \mathrm{MagnetUseByOrigin}_{m,g,t} + \mathrm{MagnetStock}_{m,g,t} - \mathrm{MagnetStock}_{m,g,t-1}

    \mathrm{MagnetHoldingCost} = \sum_{(m,g,t),\ t \ge 1} h^{\mathrm{mag}}_{\gamma_m}\, \mathrm{MagnetStock}_{m,g,t}

with :math:`\bar S^{\mathrm{mag}}_\gamma` in t of magnet and :math:`h^{\mathrm{mag}}` in USD/kg/period, so
the cost is in kUSD. A case without ``magnet_stock`` or ``in_transit`` has none of these columns or rows.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import MAGNET_STOCK_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("MagnetStockCapacity", marginal=Marginal(MAGNET_STOCK_CAPACITY, first, period_label),
                   infeasible=Infeasible("finished-magnet stock capacity of grade {0} at the end of {1}",
                                         "magnet_stock[{0}].capacity_t")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    case = data.case
    W = case.risk.non_anticipative_periods
    T = sets.T
    store = {x.grade: x for x in case.magnet_stock}
    grade_of = {x.id: x.grade for x in case.materials if x.kind == "magnet"}

    # Finished-magnet stock
    keys0 = [(mat, g, t) for (mat, g) in sets.MAGNET_STOCK_MG for t in range(0, T + 1)]
    keys = [k for k in keys0 if k[2] >= 1]
    m.MAGNET_STOCK = pyo.Set(dimen=3, initialize=keys, ordered=True)
    m.MagnetStock_t = pyo.Var(keys0, domain=pyo.NonNegativeReals)
    for (mat, g) in sets.MAGNET_STOCK_MG:
        m.MagnetStock_t[mat, g, 0].fix(store[grade_of[mat]].initial_t_by_origin.get(g, 0.0))
    m.MagnetStockChange_t = pyo.Expression(
        m.MAGNET_STOCK, rule=lambda m, mat, g, t: m.MagnetStock_t[mat, g, t] - m.MagnetStock_t[mat, g, t - 1]
    )
    reg.add_outflow(Balance.MAGNET, "stock_change", m.MagnetStockChange_t)

    held = defaultdict(list)  # grade -> [(m, g)]
    for (mat, g) in sets.MAGNET_STOCK_MG:
        held[grade_of[mat]].append((mat, g))
    cap_keys = [(gr, t) for gr in sorted(held) for t in sets.periods]
    m.MagnetStockCapacity = pyo.Constraint(
        cap_keys, rule=lambda m, gr, t: sum(m.MagnetStock_t[mat, g, t] for mat, g in held[gr]) <= store[gr].capacity_t
    )
    m.MagnetHoldingCost_kusd = pyo.Expression(
        expr=sum(store[grade_of[mat]].holding_cost_usd_per_kg_per_period * m.MagnetStock_t[mat, g, t] for mat, g, t in keys)
    )
    reg.add_cost(terms.MAGNET_HOLDING, "second", m.MagnetHoldingCost_kusd)
    reg.add_first_stage(m.MagnetStock_t[k] for k in keys if k[2] <= W)

    # Orders in transit at the start: constant arrivals
    te = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_ELEM}  # key -> t
    ts = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_SCRAP}
    tm = {k[:-1]: k[-1] for k in sets.IN_TRANSIT_MAGNET}
    m.InTransitElement_t = pyo.Expression(sorted(te), rule=lambda m, e, g, a: te[e, g, a])
    m.InTransitScrap_t = pyo.Expression(sorted(ts), rule=lambda m, mat, a: ts[mat, a])
    m.InTransitMagnet_t = pyo.Expression(sorted(tm), rule=lambda m, mat, g, a: tm[mat, g, a])
    reg.add_inflow(Balance.ELEMENT, "in_transit", m.InTransitElement_t)
    reg.add_inflow(Balance.SCRAP, "in_transit", m.InTransitScrap_t)
    reg.add_inflow(Balance.MAGNET, "in_transit", m.InTransitMagnet_t)
