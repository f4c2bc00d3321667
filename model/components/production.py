r"""Production and bill of materials: magnets made per stream and recipe.

Glossary
--------
Make_t[s, r, t]              t of magnet made for stream s with recipe r in period t
Use_t[s, e, g, t]            t of element e of origin g drawn from stock for stream s (eligibility flow;
                             only licence-admitted (s, g) pairs exist, see ``licences``)
BillOfMaterials[s, e, t]     sum_g Use = sum_r need[r, e] / yield * Make      (t element)
PlantCapacity[t]             sum_{s,r} Make <= plant capacity                  (t magnet/period)
ElementUse_t[e, g, t]        sum_s Use (registered ELEMENT outflow)
MagnetsMade_t[s, t]          sum_r Make (registered DEMAND inflow)
SwarfGenerated_t[r, t]       (1/yield - 1) * sum_s Make[s, r, t], t of swarf of recipe r's alloy (SWARF inflow)
ConversionCost_kusd          conversion cost per kg x magnets made (second stage)

.. math::

    \sum_g \mathrm{Use}_{s,e,g,t} = \sum_{r \in R(s)} \frac{n_{r,e}}{y}\, \mathrm{Make}_{s,r,t}, \qquad
    \sum_{s,r} \mathrm{Make}_{s,r,t} \le K_t, \qquad
    \mathrm{Swarf}_{r,t} = \Big(\frac{1}{y} - 1\Big) \sum_s \mathrm{Make}_{s,r,t}

:math:`n_{r,e}` t element per t magnet, :math:`y` plant yield (t magnet per t alloy).
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import PLANT_CAPACITY, ConstraintInfo, Infeasible, Marginal, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("BillOfMaterials",
                   infeasible=Infeasible("bill of materials of stream {0}, element {1}, in {2}", "grades[].recipes")),
    ConstraintInfo("PlantCapacity", marginal=Marginal(PLANT_CAPACITY, lambda k: "plant", period_label),
                   infeasible=Infeasible("plant capacity in {0}", "plant.capacity_t_per_period")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    y = data.case.plant.yield_frac
    cap = data.capacity_t_per_period["plant"]
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
            bom_make[s, e, t].append((n / y, r))
    bom_use = defaultdict(list)  # (s, e, t) -> [g]
    for (s, e, g, t) in sets.USE:
        bom_use[s, e, t].append(g)
    make_by_t = defaultdict(list)
    made_by_st = defaultdict(list)
    swarf_by_rt = defaultdict(list)
    for (s, r, t) in sets.MAKE:
        make_by_t[t].append((s, r))
        made_by_st[s, t].append(r)
        swarf_by_rt[r, t].append(s)
    use_by_egt = defaultdict(list)
    for (s, e, g, t) in sets.USE:
        use_by_egt[e, g, t].append(s)

    m.BillOfMaterials = pyo.Constraint(
        list(bom_make),
        rule=lambda m, s, e, t: sum(m.Use_t[s, e, g, t] for g in bom_use[s, e, t])
        == sum(c * m.Make_t[s, r, t] for c, r in bom_make[s, e, t]),
    )
    m.PlantCapacity = pyo.Constraint(
        sets.periods, rule=lambda m, t: sum(m.Make_t[s, r, t] for s, r in make_by_t[t]) <= cap[t - 1]
    )

    m.ElementUse_t = pyo.Expression(
        list(use_by_egt), rule=lambda m, e, g, t: sum(m.Use_t[s, e, g, t] for s in use_by_egt[e, g, t])
    )
    m.MagnetsMade_t = pyo.Expression(
        list(made_by_st), rule=lambda m, s, t: sum(m.Make_t[s, r, t] for r in made_by_st[s, t])
    )
    m.SwarfGenerated_t = pyo.Expression(
        list(swarf_by_rt), rule=lambda m, r, t: (1 / y - 1) * sum(m.Make_t[s, r, t] for s in swarf_by_rt[r, t])
    )
    reg.add_outflow(Balance.ELEMENT, "use_by_streams", m.ElementUse_t)
    reg.add_inflow(Balance.DEMAND, "magnets_made", m.MagnetsMade_t)
    reg.add_inflow(Balance.SWARF, "swarf_generated", m.SwarfGenerated_t)

    conv = data.case.plant.conversion_cost_usd_per_kg
    m.ConversionCost_kusd = pyo.Expression(expr=conv * sum(m.Make_t[k] for k in sets.MAKE))
    reg.add_cost(terms.CONVERSION, "second", m.ConversionCost_kusd)

    reg.add_first_stage(m.Make_t[k] for k in sets.MAKE if k[2] <= W)
    reg.add_first_stage(m.Use_t[k] for k in sets.USE if k[3] <= W)
