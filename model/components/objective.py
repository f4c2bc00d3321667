r"""Objective: first-stage cost plus scenario cost, from the registered cost terms.

Glossary
--------
FirstStageCost_kusd     sum of registered first-stage terms (reservation fees, capacity expansion), kUSD
ScenarioCost_kusd       sum of registered second-stage terms (purchases, conversion, recycling, holding,
                        shortage and floor penalties, minus swarf credit), kUSD
TotalCost               minimise FirstStageCost_kusd + ScenarioCost_kusd

.. math::

    \min\ F + C

For one scenario this is the deterministic plan; the stochastic layer (expectation over scenarios and
CVaR) composes per-scenario models built by ``build.build_scenario_model``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.input.data import CaseData
from model.components.registry import Registry
from model.components.sets import ModelSets


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    m.FirstStageCost_kusd = pyo.Expression(expr=sum(c.expr for c in reg.cost_terms("first")))
    m.ScenarioCost_kusd = pyo.Expression(expr=sum(c.expr for c in reg.cost_terms("second")))
    m.TotalCost = pyo.Objective(expr=m.FirstStageCost_kusd + m.ScenarioCost_kusd, sense=pyo.minimize)
