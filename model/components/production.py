r"""Production and bill of materials: magnets made per stream and recipe.

Glossary
--------
Make_t[s, r, t]              t of magnet made for stream s with recipe r in period t
Use_t[s, e, g, t]            t of element e of origin g drawn from stock for stream s (eligibility flow;
                             only licence-admitted (s, g) pairs exist, see ``licences``)
BillOfMaterials[s, e, t]     sum_g Use = sum_r need[r, e] / yield * Make      (t element; the yield of s's plant)
PlantCapacity[p, t]          sum over streams s of plant p, recipes r of Make <= plant p's capacity   (t magnet/period)
ElementUse_t[p, e, g, t]     sum over streams s of plant p of Use (registered ELEMENT outflow at plant p)
MagnetsMade_t[s, t]          sum_r Make (registered DEMAND inflow)
SwarfGenerated_t[p, r, t]    (1/yield_p - 1) * sum over streams s of plant p of Make[s, r, t], t of swarf of
                             recipe r's alloy at plant p (SWARF inflow)
ConversionCost_kusd          sum over plants of their conversion cost per kg x magnets made there (second stage)

Each stream is made at one plant (``streams[].plant``, ``sets.plant_of_stream``), so ``Make`` and ``Use``
need no plant index of their own; a one-plant case has the plant ``plant``.

.. math::

    \sum_g \mathrm{Use}_{s,e,g,t} = \sum_{r \in R(s)} \frac{n_{r,e}}{y_{p(s)}}\, \mathrm{Make}_{s,r,t}, \qquad
    \sum_{s:\,p(s)=p,\ r} \mathrm{Make}_{s,r,t} \le K_{p,t}, \qquad
    \mathrm{Swarf}_{p,r,t} = \Big(\frac{1}{y_p} - 1\Big) \sum_{s:\,p(s)=p} \mathrm{Make}_{s,r,t}

:math:`n_{r,e}` t element per t magnet, :math:`y_p` plant p's yield (t magnet per t alloy).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import PLANT_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("BillOfMaterials",
                   infeasible=Infeasible("bill of materials of stream {0}, element {1}, in {2}", "grades[].recipes")),
    ConstraintInfo("PlantCapacity", marginal=Marginal(PLANT_CAPACITY, first, period_label),
                   infeasible=Infeasible("capacity of plant {0} in {1}", "plants[{0}].capacity_t_per_period")),
)

# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py): the plant's capacity
STAMP = (Stamp("PlantCapacity", "rhs", lambda d, s: ((k, d.capacity_t_per_period[k[0]][k[1] - 1]) for k in sorted(
    {(s.plant_of_stream[x], t) for (x, _, t) in s.MAKE}))),)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    plants = data.case.site_plants
    y = {p.id: p.yield_frac for p in plants}
    at = sets.plant_of_stream
    W = data.case.risk.non_anticipative_periods

    m.MAKE = pyo.Set(dimen=3, initialize=sets.MAKE, ordered=True)
    m.USE = pyo.Set(dimen=4, initialize=sets.USE, ordered=True)
    m.Make_t = pyo.Var(m.MAKE, domain=pyo.NonNegativeReals)
    m.Use_t = pyo.Var(m.USE, domain=pyo.NonNegativeReals)

    # precomputed groupings (no filtering inside rules)
    need_by_r = defaultdict(list)  # r -> [(e, t element per t magnet)]
    for (r, e), n in sets.recipe_need.items():
        need_by_r[r].append((e, n))
    bom_make = defaultdict(list)  # (s, e, t) -> [(coef, r)]
    for (s, r, t) in sets.MAKE:
        for e, n in need_by_r[r]:
            bom_make[s, e, t].append((n / y[at[s]], r))
    bom_use = defaultdict(list)  # (s, e, t) -> [g]
    for (s, e, g, t) in sets.USE:
        bom_use[s, e, t].append(g)
    make_by_pt = {(p.id, t): [] for p in plants for t in sets.periods}
    made_by_st = defaultdict(list)
    swarf_by_prt = defaultdict(list)
    for (s, r, t) in sets.MAKE:
        make_by_pt[at[s], t].append((s, r))
        made_by_st[s, t].append(r)
        swarf_by_prt[at[s], r, t].append(s)
    use_by_pegt = defaultdict(list)
    for (s, e, g, t) in sets.USE:
        use_by_pegt[at[s], e, g, t].append(s)

    m.BillOfMaterials = pyo.Constraint(
        list(bom_make),
        rule=lambda m, s, e, t: sum(m.Use_t[s, e, g, t] for g in bom_use[s, e, t])
        == sum(c * m.Make_t[s, r, t] for c, r in bom_make[s, e, t]),
    )
    cap = data.capacity_t_per_period
    m.PlantCapacity = pyo.Constraint(  # a plant that makes nothing (a depot) has no row
        [k for k in make_by_pt if make_by_pt[k]], rule=lambda m, p, t: sum(m.Make_t[s, r, t] for s, r in make_by_pt[p, t]) <= cap[p][t - 1]
    )

    m.ElementUse_t = pyo.Expression(
        list(use_by_pegt), rule=lambda m, p, e, g, t: sum(m.Use_t[s, e, g, t] for s in use_by_pegt[p, e, g, t])
    )
    m.MagnetsMade_t = pyo.Expression(
        list(made_by_st), rule=lambda m, s, t: sum(m.Make_t[s, r, t] for r in made_by_st[s, t])
    )
    m.SwarfGenerated_t = pyo.Expression(
        list(swarf_by_prt),
        rule=lambda m, p, r, t: (1 / y[p] - 1) * sum(m.Make_t[s, r, t] for s in swarf_by_prt[p, r, t])
    )
    reg.add_outflow(Balance.ELEMENT, "use_by_streams", m.ElementUse_t)
    reg.add_inflow(Balance.DEMAND, "magnets_made", m.MagnetsMade_t)
    reg.add_inflow(Balance.SWARF, "swarf_generated", m.SwarfGenerated_t)

    conv = {p.id: p.conversion_cost_usd_per_kg for p in plants}
    m.ConversionCost_kusd = pyo.Expression(expr=sum(conv[at[k[0]]] * m.Make_t[k] for k in sets.MAKE))
    reg.add_cost(terms.CONVERSION, "second", m.ConversionCost_kusd)

    reg.add_first_stage(m.Make_t[k] for k in sets.MAKE if k[2] <= W)
    reg.add_first_stage(m.Use_t[k] for k in sets.USE if k[3] <= W)
