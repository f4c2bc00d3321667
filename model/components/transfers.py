r"""Lanes between plants: element stock and finished magnets moved from one plant to another.

A lane (``transfers[]``, model.md §7.1) runs from one plant to another with a lead time, a cost per kg
and, optionally, a capacity per period shared by what it carries. What moves keeps its origin group, so
at the receiving plant it obeys that plant's eligibility (a prohibition for a destination country binds
what is used there whatever plant it came through). A lane counts against no licence quota: the export
was licensed to the plant it was delivered to (see model.md §7.1 for what this leaves out).

Glossary
--------
ElementSent_t[lane, e, g, t]      t of element e of origin g leaving on the lane in t (``sets.TRANSFER_ELEM``)
MagnetSent_t[lane, m, g, t]       t of finished magnet m of origin g leaving on the lane in t (``sets.TRANSFER_MAGNET``)
ElementOut_t[p, e, g, t]          sum of ElementSent over the lanes from p (ELEMENT outflow ``sent`` at plant p)
ElementIn_t[q, e, g, a]           sum of ElementSent[lane, e, g, a - lead] over the lanes to q (ELEMENT inflow ``received``)
MagnetOut_t[p, m, g, t]           the same for finished magnets (MAGNET outflow ``sent``)
MagnetIn_t[q, m, g, a]            the same (MAGNET inflow ``received``)
TransferCapacity[lane, t]         sum of what leaves on the lane in t <= capacity_t_per_period   (t/period)
TransferCost_kusd                 cost per kg x t moved (second stage, cost term ``transfer``)

.. math::

    \mathrm{In}_{q,k,a} = \sum_{\ell:\ \mathrm{to}_\ell = q} \mathrm{Sent}_{\ell,k,a-L_\ell}, \qquad
    \mathrm{Out}_{p,k,t} = \sum_{\ell:\ \mathrm{from}_\ell = p} \mathrm{Sent}_{\ell,k,t}, \qquad
    \sum_k \mathrm{Sent}_{\ell,k,t} \le \bar X_\ell

with costs in kUSD (USD/kg x t). A case without ``transfers`` has none of these columns or rows.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import TRANSFER_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("TransferCapacity", marginal=Marginal(TRANSFER_CAPACITY, first, period_label),
                   infeasible=Infeasible("capacity of lane {0} in {1}", "transfers[{0}].capacity_t_per_period")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    lanes = {x.id: x for x in data.case.transfers}
    m.TRANSFER_ELEM = pyo.Set(dimen=4, initialize=sets.TRANSFER_ELEM, ordered=True)
    m.TRANSFER_MAGNET = pyo.Set(dimen=4, initialize=sets.TRANSFER_MAGNET, ordered=True)
    m.ElementSent_t = pyo.Var(m.TRANSFER_ELEM, domain=pyo.NonNegativeReals)
    m.MagnetSent_t = pyo.Var(m.TRANSFER_MAGNET, domain=pyo.NonNegativeReals)

    def flows(keys):
        out, into, by_lane = defaultdict(list), defaultdict(list), defaultdict(list)
        for k in keys:
            lane, a, b, t = k
            x = lanes[lane]
            out[x.from_plant, a, b, t].append(k)
            into[x.to_plant, a, b, t + x.lead_time_periods].append(k)
            by_lane[lane, t].append(k)
        return out, into, by_lane

    e_out, e_in, e_lane = flows(sets.TRANSFER_ELEM)
    g_out, g_in, g_lane = flows(sets.TRANSFER_MAGNET)
    m.ElementOut_t = pyo.Expression(sorted(e_out), rule=lambda m, *k: sum(m.ElementSent_t[j] for j in e_out[k]))
    m.ElementIn_t = pyo.Expression(sorted(e_in), rule=lambda m, *k: sum(m.ElementSent_t[j] for j in e_in[k]))
    m.MagnetOut_t = pyo.Expression(sorted(g_out), rule=lambda m, *k: sum(m.MagnetSent_t[j] for j in g_out[k]))
    m.MagnetIn_t = pyo.Expression(sorted(g_in), rule=lambda m, *k: sum(m.MagnetSent_t[j] for j in g_in[k]))
    reg.add_outflow(Balance.ELEMENT, "sent", m.ElementOut_t)
    reg.add_inflow(Balance.ELEMENT, "received", m.ElementIn_t)
    reg.add_outflow(Balance.MAGNET, "sent", m.MagnetOut_t)
    reg.add_inflow(Balance.MAGNET, "received", m.MagnetIn_t)

    capped = sorted(k for k in set(e_lane) | set(g_lane) if lanes[k[0]].capacity_t_per_period is not None)
    m.TransferCapacity = pyo.Constraint(
        capped,
        rule=lambda m, lane, t: sum(m.ElementSent_t[j] for j in e_lane.get((lane, t), ()))
        + sum(m.MagnetSent_t[j] for j in g_lane.get((lane, t), ())) <= lanes[lane].capacity_t_per_period,
    )
    m.TransferCost_kusd = pyo.Expression(
        expr=sum(lanes[k[0]].cost_usd_per_kg * m.ElementSent_t[k] for k in sets.TRANSFER_ELEM)
        + sum(lanes[k[0]].cost_usd_per_kg * m.MagnetSent_t[k] for k in sets.TRANSFER_MAGNET)
    )
    reg.add_cost(terms.TRANSFER, "second", m.TransferCost_kusd)
    reg.add_first_stage(m.ElementSent_t[k] for k in sets.TRANSFER_ELEM if k[3] <= W)
    reg.add_first_stage(m.MagnetSent_t[k] for k in sets.TRANSFER_MAGNET if k[3] <= W)
