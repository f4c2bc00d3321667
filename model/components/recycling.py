r"""Recycling: in-house swarf and purchased scrap, recovery per element, capacity and expansion.

Glossary
--------
RecycleFeed_t[route, src, t]     t of feed processed by a route in t; src is the recipe whose swarf is fed
                                 (swarf routes) or the route's scrap material (scrap routes)
CapacityExpansion_t_per_period[route]   added feed capacity, t/period, usable after the build lead time (first stage)
RecyclingCapacity[route, t]      sum_src RecycleFeed <= availability x (capacity + expansion if built)  (t feed/period)
RecoveredElement_t[p, e, g, t]   t of element e recovered into stock of the route's origin group g at the route's
                                 plant p (ELEMENT inflow)
SwarfRecycled_t[p, r, t]         t of recipe r's swarf fed to the routes of plant p (SWARF outflow)
ScrapUsed_t[p, m, t]             t of scrap material m fed to the routes of plant p (SCRAP outflow)
RecyclingCost_kusd               cost per kg feed x feed (second stage)
SwarfCredit_kusd                 minus the credit for swarf sold rather than recycled (second stage, <= 0)
ExpansionCost_kusd               cost_usd_per_t_per_period / 1000 x expansion, kUSD (first stage)

.. math::

    \sum_{src} X_{k,src,t} \le K_{k,t} + \mathbb{1}[t > L_k]\, E_k, \qquad
    \mathrm{Recovered}_{e,g,t} = \sum_{k:\,g_k = g}\ \sum_{src} \rho_{k,e}\, c_{src,e}\, X_{k,src,t}

    \mathrm{SwarfCredit} = -\sum_p \kappa_p \sum_{r,t} \big(\mathrm{Swarf}_{p,r,t} - \sum_{k \text{ at } p} X_{k,r,t}\big)

A route runs at one plant (``recycling_routes[].plant``): it takes that plant's swarf and the scrap
delivered there, and its output enters that plant's stock.

:math:`\rho` recovery share, :math:`c` element content of the feed (the recipe's content for swarf,
the scrap material's content for scrap), :math:`\kappa` swarf credit USD/kg.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import RECYCLING_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.input.schema import SWARF_FEED
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp
from model.units import USD_PER_KUSD

CATALOGUE = (
    ConstraintInfo("RecyclingCapacity", marginal=Marginal(RECYCLING_CAPACITY, first, period_label),
                   infeasible=Infeasible("capacity of recycling route {0} in {1}",
                                         "recycling_routes[{0}].capacity_t_feed_per_period")),
)


def _route_periods(sets: ModelSets) -> list:
    return list(dict.fromkeys((k, t) for (k, _, t) in sets.RECYCLE_X))


def _recycling_capacity(data: CaseData, sets: ModelSets):
    """RecyclingCapacity's right-hand side: availability x capacity (a route's scalar capacity unless the
    capacity CSV gives it)."""
    routes = {r.id: r for r in data.case.recycling_routes}
    cap = data.capacity_t_per_period
    return (((k, t), data.availability_frac[k][t - 1] * (cap[k][t - 1] if f"capacity:{k}" in data.from_csv
                                                          else routes[k].capacity_t_feed_per_period))
            for k, t in _route_periods(sets))


# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py)
STAMP = (
    Stamp("RecyclingCapacity", "rhs", _recycling_capacity),
    Stamp("RecyclingCapacity", "coef", lambda d, s: ((((k, t), x), d.availability_frac[k][t - 1])
                                                     for k, t in _route_periods(s) for x in s.exp_avail[k, t]),
          var="CapacityExpansion_t_per_period"),  # availability x the expansion
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    routes = {r.id: r for r in data.case.recycling_routes}
    cap = data.capacity_t_per_period
    m.RECYCLE_X = pyo.Set(dimen=3, initialize=sets.RECYCLE_X, ordered=True)
    m.RecycleFeed_t = pyo.Var(m.RECYCLE_X, domain=pyo.NonNegativeReals)
    exp_routes = [r for r, rt in routes.items() if rt.expansion is not None]
    m.CapacityExpansion_t_per_period = pyo.Var(
        exp_routes, domain=pyo.NonNegativeReals, bounds=lambda m, r: (0, routes[r].expansion.max_t_per_period)
    )

    by_route_t = defaultdict(list)
    swarf_by_rt = defaultdict(list)
    scrap_by_mt = defaultdict(list)
    at = {k: data.case.plant_of(rt) for k, rt in routes.items()}
    for (k, src, t) in sets.RECYCLE_X:
        by_route_t[k, t].append(src)
        if routes[k].feed == SWARF_FEED:
            swarf_by_rt[at[k], src, t].append(k)
        else:
            scrap_by_mt[at[k], src, t].append(k)
    # a route's scalar capacity may be tuned by a sweep (not when it comes from the capacity CSV)
    scalar_cap = {
        k: reg.scalar(f"recycling_routes[{k}].capacity_t_feed_per_period", routes[k].capacity_t_feed_per_period)
        for k in routes if f"capacity:{k}" not in data.from_csv
    }
    cap_kt = {(k, t): scalar_cap.get(k, cap[k][t - 1]) for (k, t) in by_route_t}
    m.RecyclingCapacity = pyo.Constraint(
        list(by_route_t),
        rule=lambda m, k, t: sum(m.RecycleFeed_t[k, src, t] for src in by_route_t[k, t])
        <= data.availability_frac[k][t - 1]
        * (cap_kt[k, t] + sum(m.CapacityExpansion_t_per_period[x] for x in sets.exp_avail[k, t])),
    )

    rec = sets.RECOVERY
    recov = defaultdict(list)
    for route, src, t, p, e, g, coef in zip(rec.route, rec.src, rec.t, rec.p, rec.e, rec.g, rec.coef):
        recov[p, e, g, int(t)].append((coef, route, src))
    m.RecoveredElement_t = pyo.Expression(
        list(recov), rule=lambda m, p, e, g, t: sum(c * m.RecycleFeed_t[k, src, t] for c, k, src in recov[p, e, g, t])
    )
    m.SwarfRecycled_t = pyo.Expression(
        list(swarf_by_rt), rule=lambda m, p, r, t: sum(m.RecycleFeed_t[k, r, t] for k in swarf_by_rt[p, r, t])
    )
    m.ScrapUsed_t = pyo.Expression(
        list(scrap_by_mt), rule=lambda m, p, mat, t: sum(m.RecycleFeed_t[k, mat, t] for k in scrap_by_mt[p, mat, t])
    )
    reg.add_inflow(Balance.ELEMENT, "recovered", m.RecoveredElement_t)
    reg.add_outflow(Balance.SWARF, "recycled", m.SwarfRecycled_t)
    reg.add_outflow(Balance.SCRAP, "recycled", m.ScrapUsed_t)

    m.RecyclingCost_kusd = pyo.Expression(
        expr=sum(routes[k].cost_usd_per_kg_feed * m.RecycleFeed_t[k, src, t] for k, src, t in sets.RECYCLE_X)
    )
    credit = {p.id: p.swarf_credit_usd_per_kg for p in data.case.site_plants}
    m.SwarfCredit_kusd = pyo.Expression(
        expr=-(sum(credit[k[0]] * m.SwarfGenerated_t[k] for k in m.SwarfGenerated_t)
               - sum(credit[k[0]] * m.SwarfRecycled_t[k] for k in m.SwarfRecycled_t))
    )
    # cost_usd_per_t_per_period is in USD (not USD/kg): convert to kUSD
    m.ExpansionCost_kusd = pyo.Expression(
        expr=sum(routes[r].expansion.cost_usd_per_t_per_period / USD_PER_KUSD * m.CapacityExpansion_t_per_period[r]
                 for r in exp_routes)
    )
    reg.add_cost(terms.RECYCLING, "second", m.RecyclingCost_kusd)
    reg.add_cost(terms.SWARF_CREDIT, "second", m.SwarfCredit_kusd)
    reg.add_cost(terms.CAPACITY_EXPANSION, "first", m.ExpansionCost_kusd)

    reg.add_first_stage(m.CapacityExpansion_t_per_period[r] for r in exp_routes)
    reg.add_first_stage(m.RecycleFeed_t[k] for k in sets.RECYCLE_X if k[2] <= W)
