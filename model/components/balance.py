r"""Balances assembled from the terms the other modules registered.

Glossary
--------
ElementBalance[p, e, g, t]  at plant p: inflows (arrivals, in transit, recovered, received by lanes) == outflows
                          (use by streams, stock change, sent by lanes), t element; its dual is the value of one
                          more t of element e of origin g at plant p in t (USD/kg)
DemandBalance[s, t]       magnets made + finished magnets used + shortage == demand, t magnet
MagnetBalance[p, m, g, t] at plant p: finished-magnet arrivals (in transit, received) >= use + stock change + sent, t magnet
ScrapBalance[p, m, t]     scrap arrivals at plant p >= scrap fed to its recycling, t scrap
SwarfBalance[p, r, t]     swarf generated at plant p >= swarf recycled there, t swarf

Every balance but demand is kept per plant (its first index); a one-plant case has the plant ``plant``.

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
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("ElementBalance", infeasible=Infeasible("balance of element {1} of origin {2} at plant {0} in {3}", "(balance)")),
    ConstraintInfo("DemandBalance", infeasible=Infeasible("demand balance of stream {0} in {1}", "streams[{0}]")),
    ConstraintInfo("MagnetBalance", infeasible=Infeasible("finished-magnet balance of {1} from {2} at plant {0} in {3}", "(balance)")),
    ConstraintInfo("ScrapBalance", infeasible=Infeasible("scrap balance of {1} at plant {0} in {2}", "(balance)")),
    ConstraintInfo("SwarfBalance", infeasible=Infeasible("swarf balance of recipe {1} at plant {0} in {2}", "(balance)")),
)

# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py)
STAMP = (Stamp("DemandBalance", "rhs", lambda d, s: (((x.id, t), d.demand_t_per_period[x.id][t - 1])
                                                     for x in d.case.streams for t in s.periods)),)  # demand


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    ins = {b: reg.terms_by_key(b, "in") for b in Balance}
    outs = {b: reg.terms_by_key(b, "out") for b in Balance}

    el_in, el_out = ins[Balance.ELEMENT], outs[Balance.ELEMENT]
    el_keys = sorted(set(el_in) | set(el_out))
    m.ElementBalance = pyo.Constraint(
        el_keys, rule=lambda m, *k: sum(el_in.get(k, ())) == sum(el_out.get(k, ()))
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
