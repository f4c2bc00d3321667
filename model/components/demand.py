r"""Demand streams: unmet demand (shortage) and its penalty.

Glossary
--------
Shortage_t[s, t]        t of stream s's demand left unmet in t (registered DEMAND inflow)
ShortageCost_kusd       sum of shortage_cost_usd_per_kg x Shortage (second stage)
ServiceLevel[s, t]      streams with min_service_frac: Shortage <= (1 - min_service_frac) x demand (hard)

The demand balance itself (magnets made + finished magnets used + shortage = demand) is assembled in
``balance`` from the registered DEMAND inflows:

.. math::

    \mathrm{MagnetsMade}_{s,t} + \mathrm{MagnetsBought}_{s,t} + \mathrm{Shortage}_{s,t} = D_{s,t}
"""

from __future__ import annotations

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import ConstraintInfo, Infeasible
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("ServiceLevel", infeasible=Infeasible("hard service level of stream {0} in {1}", "streams[{0}].min_service_frac")),
)



def _service_level(data: CaseData, sets: ModelSets):
    return (((s.id, t), (1 - s.min_service_frac) * data.demand_t_per_period[s.id][t - 1])
            for s in data.case.streams if s.min_service_frac is not None for t in sets.periods)


# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py)
STAMP = (Stamp("ServiceLevel", "rhs", _service_level),)  # (1 - min_service_frac) x demand


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    keys = [(s.id, t) for s in data.case.streams for t in sets.periods]
    m.STREAM_PERIOD = pyo.Set(dimen=2, initialize=keys, ordered=True)
    m.Shortage_t = pyo.Var(m.STREAM_PERIOD, domain=pyo.NonNegativeReals)
    cost = {s.id: s.shortage_cost_usd_per_kg for s in data.case.streams}
    m.ShortageCost_kusd = pyo.Expression(expr=sum(cost[s] * m.Shortage_t[s, t] for s, t in keys))
    level = {s.id: s.min_service_frac for s in data.case.streams if s.min_service_frac is not None}
    hard = [(s, t) for s, t in keys if s in level]
    m.ServiceLevel = pyo.Constraint(
        hard, rule=lambda m, s, t: m.Shortage_t[s, t] <= (1 - level[s]) * data.demand_t_per_period[s][t - 1]
    )
    reg.add_inflow(Balance.DEMAND, "shortage", m.Shortage_t)
    reg.add_cost(terms.SHORTAGE_PENALTY, "second", m.ShortageCost_kusd)
    reg.add_first_stage(m.Shortage_t[k] for k in keys if k[1] <= W)
