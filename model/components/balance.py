r"""Balances assembled from the terms the other modules registered.

Glossary
--------
ElementBalance[e, g, t]   inflows (arrivals, recovered) == outflows (use by streams, stock change), t element;
                          its dual is the value of one more t of element e of origin g in t (USD/kg)
DemandBalance[s, t]       magnets made + finished magnets used + shortage == demand, t magnet
MagnetBalance[m, g, t]    finished-magnet arrivals (and in transit) >= use + stock change, t magnet
ScrapBalance[m, t]        scrap arrivals >= scrap fed to recycling, t scrap
SwarfBalance[r, t]        swarf generated >= swarf recycled, t swarf

.. math::

    \sum_{\text{in}} x_{k} = \sum_{\text{out}} x_{k} \ (\text{element}), \qquad
    \sum_{\text{in}} x_{s,t} = D_{s,t} \ (\text{demand}), \qquad
    \sum_{\text{in}} x_{k} \ge \sum_{\text{out}} x_{k} \ (\text{magnet, scrap, swarf})
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.input.data import CaseData
from model.components.catalogue import ConstraintInfo, Infeasible
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("ElementBalance", infeasible=Infeasible("balance of element {0} of origin {1} in {2}", "(balance)")),
    ConstraintInfo("DemandBalance", infeasible=Infeasible("demand balance of stream {0} in {1}", "streams[{0}]")),
    ConstraintInfo("MagnetBalance", infeasible=Infeasible("finished-magnet balance of {0} from {1} in {2}", "(balance)")),
    ConstraintInfo("ScrapBalance", infeasible=Infeasible("scrap balance of {0} in {1}", "(balance)")),
    ConstraintInfo("SwarfBalance", infeasible=Infeasible("swarf balance of recipe {0} in {1}", "(balance)")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    ins = {b: reg.terms_by_key(b, "in") for b in Balance}
    outs = {b: reg.terms_by_key(b, "out") for b in Balance}

    el_in, el_out = ins[Balance.ELEMENT], outs[Balance.ELEMENT]
    el_keys = sorted(set(el_in) | set(el_out), key=lambda k: (k[0], k[1], k[2]))
    m.ElementBalance = pyo.Constraint(
        el_keys, rule=lambda m, e, g, t: sum(el_in.get((e, g, t), ())) == sum(el_out.get((e, g, t), ()))
    )

    demand = data.demand_t_per_period
    d_in = ins[Balance.DEMAND]
    m.DemandBalance = pyo.Constraint(
        m.STREAM_PERIOD, rule=lambda m, s, t: sum(d_in[s, t]) == demand[s][t - 1]
    )

    def covering(b: Balance, name: str) -> None:
        i, o = ins[b], outs[b]
        keys = sorted(o)
        setattr(m, name, pyo.Constraint(keys, rule=lambda m, *k: sum(i.get(k, ())) >= sum(o[k])))

    covering(Balance.MAGNET, "MagnetBalance")
    covering(Balance.SCRAP, "ScrapBalance")
    covering(Balance.SWARF, "SwarfBalance")
