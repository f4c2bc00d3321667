r"""Finished-magnet purchases and their use per stream.

Glossary
--------
MagnetUse_t[s, m, g, t]     t of finished magnet m of origin g used for stream s in t (only licence-admitted,
                            grade-matching pairs in periods where such magnets can arrive or be held in stock)
MagnetsBought_t[s, t]       sum over (m, g) of MagnetUse (registered DEMAND inflow)
MagnetUseByOrigin_t[p, m, g, t] sum over streams s of plant p of MagnetUse (registered MAGNET outflow at plant p;
                            arrivals there are the inflow)

Arrivals not used in their period go to the grade's finished-magnet stock when it has one
(:mod:`model.components.magnet_stock`: its stock change is a MAGNET outflow), else are discarded;
a magnet drawn from stock is used here like one bought, under the same eligibility (the key
(s, m, g, t) exists only where the stream's end use admits magnet m of origin g in t).

.. math::

    \sum_{s:\,p(s)=p} \mathrm{MagnetUse}_{s,m,g,t} + \mathrm{MagnetStockChange}_{p,m,g,t} + \mathrm{MagnetSent}_{p,m,g,t}
    \le \mathrm{MagnetArrivals}_{p,m,g,t} + \mathrm{InTransitMagnet}_{p,m,g,t} + \mathrm{MagnetReceived}_{p,m,g,t}
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model.input.data import CaseData
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = ()  # no constraints of its own: its flows enter the DEMAND and MAGNET balances


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    m.MAGNET_USE = pyo.Set(dimen=4, initialize=sets.MAGNET_USE, ordered=True)
    m.MagnetUse_t = pyo.Var(m.MAGNET_USE, domain=pyo.NonNegativeReals)
    by_st = defaultdict(list)
    by_mgt = defaultdict(list)
    at = sets.plant_of_stream
    for (s, mat, g, t) in sets.MAGNET_USE:
        by_st[s, t].append((mat, g))
        by_mgt[at[s], mat, g, t].append(s)
    m.MagnetsBought_t = pyo.Expression(
        list(by_st), rule=lambda m, s, t: sum(m.MagnetUse_t[s, mat, g, t] for mat, g in by_st[s, t])
    )
    m.MagnetUseByOrigin_t = pyo.Expression(
        list(by_mgt), rule=lambda m, p, mat, g, t: sum(m.MagnetUse_t[s, mat, g, t] for s in by_mgt[p, mat, g, t])
    )
    reg.add_inflow(Balance.DEMAND, "magnets_bought", m.MagnetsBought_t)
    reg.add_outflow(Balance.MAGNET, "used_by_streams", m.MagnetUseByOrigin_t)
    reg.add_first_stage(m.MagnetUse_t[k] for k in sets.MAGNET_USE if k[3] <= W)
