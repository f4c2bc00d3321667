r"""Diversification limits: the share of supply from one origin group or country, per calendar year.

For limit d with share cap :math:`\sigma_d` and calendar year y, over the rows of the basis
(element content of arrivals of purchased oxide/metal/alloy; plus recycled output for basis ``supply``),
restricted to the limit's element when it names one:

.. math::

    \sum_{i \in \text{basis}(d,y)} c_i\, x_i\, \big(\mathbb{1}[i \in d] - \sigma_d\big) \le 0

i.e. selected supply <= sigma x all supply. Finished magnets are outside the basis. A limit naming a
``plant`` counts only the arrivals at that plant (and the recycling there); without one, all plants together.

Glossary
--------
DiversificationCap[d, y]   the row above, t of element content; its dual is the cost of the cap, USD/kg
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pyomo.environ as pyo

from model.input.data import CaseData
from model.components.catalogue import DIVERSIFICATION_CAP, ConstraintInfo, Infeasible, Marginal, first, year
from model.components.registry import Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("DiversificationCap", period_last=False,  # indexed by (limit, calendar year)
                   marginal=Marginal(DIVERSIFICATION_CAP, first, year),
                   infeasible=Infeasible("diversification limit {0} in calendar year {1}",
                                         "diversification_limits[{0}].max_share_frac")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    limits = data.case.diversification_limits
    year_of = {t: y for y, ts in sets.YEARS.items() for t in ts}
    country = {o.id: o.country for o in data.case.offers}
    ea = sets.ELEM_ARRIVAL
    purchases = pd.DataFrame({
        "p": ea.p, "e": ea.e, "g": ea.g, "country": ea.o.map(country), "year": ea.a.map(year_of),
        "coef": ea.frac, "var": "purchase", "k1": ea.o, "k2": ea.t, "k3": 0,
    })
    rc = sets.RECOVERY
    recycled = pd.DataFrame({
        "p": rc.p, "e": rc.e, "g": rc.g, "country": rc.country, "year": rc.t.map(year_of),
        "coef": rc.coef, "var": "recycle", "k1": rc.route, "k2": rc.src, "k3": rc.t,
    })
    selected: dict = defaultdict(list)  # (d, y) -> [(coef, var, key)] of the capped origin
    every: dict = defaultdict(list)  # (d, y) -> [(coef, var, key)] of the whole basis
    for d in limits:
        basis = pd.concat([purchases, recycled]) if d.basis == "supply" else purchases
        if d.element is not None:
            basis = basis[basis.e == d.element]
        if d.plant is not None:
            basis = basis[basis.p == d.plant]
        col = "g" if d.group_by == "origin_group" else "country"
        sel = (basis[col] == d.value).to_numpy()
        for y, c, v, k1, k2, k3, s in zip(basis.year, basis.coef, basis["var"], basis.k1, basis.k2, basis.k3, sel):
            key = (k1, int(k2)) if v == "purchase" else (k1, k2, int(k3))
            every[d.id, int(y)].append((float(c), v, key))
            if s:
                selected[d.id, int(y)].append((float(c), v, key))
    share = {d.id: reg.scalar(f"diversification_limits[{d.id}].max_share_frac", d.max_share_frac) for d in limits}
    var = {"purchase": m.Purchase_t, "recycle": m.RecycleFeed_t}
    m.DiversificationCap = pyo.Constraint(
        list(every),
        rule=lambda m, d, y: sum(c * var[v][k] for c, v, k in selected[d, y])
        - share[d] * sum(c * var[v][k] for c, v, k in every[d, y]) <= 0,
    )
