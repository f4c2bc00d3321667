r"""Stockpile: element stock by plant and origin group, capacity, holding cost, strategic floor, terminal rule.

Glossary
--------
Stock_t[p, e, g, t]         t of element e of origin g held at plant p at the end of period t (t = 0: initial, fixed)
StockChange_t[p, e, g, t]   Stock[t] - Stock[t-1] (registered ELEMENT outflow at plant p: what the period adds to stock)
StockCapacity[p, e, t]      sum_g Stock <= capacity_t                                      (t element)
FloorShortfall_t[p, e, t]   t below the strategic floor at the end of t (soft)
StrategicFloor[p, e, t]     sum_g Stock + FloorShortfall >= floor_t (soft floor)
HardFloor[p, e, t]          sum_g Stock >= floor_t (elements with floor_hard)
TerminalShortfall_t[p, e]   t below the terminal requirement at the end of the horizon (soft)
TerminalRequirement[p, e]   sum_g Stock[T] + TerminalShortfall >= terminal_t
HoldingCost_kusd            holding cost x end-of-period stock (second stage)
FloorPenalty_kusd           floor penalty x FloorShortfall (second stage)
TerminalPenalty_kusd        terminal penalty x TerminalShortfall (second stage)

A stockpile entry belongs to one plant (``stockpile[].plant``; a one-plant case has the plant ``plant``).
An element without a stockpile entry at a plant has capacity 0 there: what arrives must be used (or moved
on) in the same period.

.. math::

    \sum_g S_{p,e,g,t} \le \bar S_{p,e}, \quad
    \sum_g S_{p,e,g,t} + F_{p,e,t} \ge \underline S_{p,e}, \quad
    \sum_g S_{p,e,g,T} + Z_{p,e} \ge S^{T}_{p,e}
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import STOCKPILE_CAPACITY, ConstraintInfo, Infeasible, Marginal, at_plant, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("StockCapacity", marginal=Marginal(STOCKPILE_CAPACITY, at_plant, period_label),
                   infeasible=Infeasible("stockpile capacity of element {1} at plant {0} at the end of {2}",
                                         "stockpile[{1}].capacity_t")),
    ConstraintInfo("HardFloor",
                   infeasible=Infeasible("hard strategic floor of element {1} at plant {0} at the end of {2}",
                                         "stockpile[{1}].floor_hard")),
    ConstraintInfo("StrategicFloor",
                   infeasible=Infeasible("strategic floor of element {1} at plant {0} at the end of {2}", "stockpile[{1}].floor_t")),
    ConstraintInfo("TerminalRequirement", period_last=False,  # indexed by (plant, element)
                   infeasible=Infeasible("terminal stock requirement of element {1} at plant {0}", "stockpile[{1}].terminal_min_t")),
)


def _terminal_penalty(data: CaseData, sets: ModelSets):
    """TerminalShortfall_t's cost: the derived penalty (above the dearest price of the scenario)."""
    held = dict.fromkeys((p, e) for (p, e, _) in sets.STOCK_PEG)
    return ((pe, sets.terminal_penalty_usd_per_kg[pe]) for pe in held if sets.terminal_t.get(pe, 0.0) > 0)


# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py)
STAMP = (Stamp("TerminalShortfall_t", "cost", _terminal_penalty),)

def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    sp = {(data.case.plant_of(x), x.element): x for x in data.case.stockpile}
    T = sets.T
    keys0 = [(p, e, g, t) for (p, e, g) in sets.STOCK_PEG for t in range(0, T + 1)]
    keys = [k for k in keys0 if k[3] >= 1]
    m.STOCK = pyo.Set(dimen=4, initialize=keys, ordered=True)
    m.Stock_t = pyo.Var(keys0, domain=pyo.NonNegativeReals)
    for (p, e, g) in sets.STOCK_PEG:
        init = sp[p, e].initial_t_by_origin.get(g, 0.0) if (p, e) in sp else 0.0
        m.Stock_t[p, e, g, 0].fix(init)
    m.StockChange_t = pyo.Expression(
        m.STOCK, rule=lambda m, p, e, g, t: m.Stock_t[p, e, g, t] - m.Stock_t[p, e, g, t - 1])
    reg.add_outflow(Balance.ELEMENT, "stock_change", m.StockChange_t)

    groups = defaultdict(list)  # (p, e) -> origin groups held
    for (p, e, g) in sets.STOCK_PEG:
        groups[p, e].append(g)
    cap = {pe: (sp[pe].capacity_t if pe in sp else 0.0) for pe in groups}
    ET = [(p, e, t) for (p, e) in groups for t in sets.periods]
    m.StockCapacity = pyo.Constraint(
        ET, rule=lambda m, p, e, t: sum(m.Stock_t[p, e, g, t] for g in groups[p, e]) <= cap[p, e]
    )

    hard = {pe for pe in groups if pe in sp and sp[pe].floor_hard}
    floored = [pe for pe in groups if sets.floor_t.get(pe, 0.0) > 0]
    floor_keys = [(p, e, t) for (p, e) in floored if (p, e) not in hard for t in sets.periods]
    hard_keys = [(p, e, t) for (p, e) in sorted(hard) if (p, e) in floored for t in sets.periods]
    m.HardFloor = pyo.Constraint(
        hard_keys, rule=lambda m, p, e, t: sum(m.Stock_t[p, e, g, t] for g in groups[p, e]) >= sets.floor_t[p, e]
    )
    m.FloorShortfall_t = pyo.Var(floor_keys, domain=pyo.NonNegativeReals)
    m.StrategicFloor = pyo.Constraint(
        floor_keys,
        rule=lambda m, p, e, t: sum(m.Stock_t[p, e, g, t] for g in groups[p, e]) + m.FloorShortfall_t[p, e, t]
        >= sets.floor_t[p, e],
    )
    term_keys = [pe for pe in groups if sets.terminal_t.get(pe, 0.0) > 0]
    m.TerminalShortfall_t = pyo.Var(term_keys, domain=pyo.NonNegativeReals)
    m.TerminalRequirement = pyo.Constraint(
        term_keys,
        rule=lambda m, p, e: sum(m.Stock_t[p, e, g, T] for g in groups[p, e]) + m.TerminalShortfall_t[p, e]
        >= sets.terminal_t[p, e],
    )

    hold = {pe: (sp[pe].holding_cost_usd_per_kg_per_period if pe in sp else 0.0) for pe in groups}
    fpen = {pe: (sp[pe].floor_penalty_usd_per_kg if pe in sp else 0.0) for pe in groups}
    m.HoldingCost_kusd = pyo.Expression(expr=sum(hold[p, e] * m.Stock_t[p, e, g, t] for p, e, g, t in keys))
    m.FloorPenalty_kusd = pyo.Expression(expr=sum(fpen[p, e] * m.FloorShortfall_t[p, e, t] for p, e, t in floor_keys))
    m.TerminalPenalty_kusd = pyo.Expression(
        expr=sum(sets.terminal_penalty_usd_per_kg[pe] * m.TerminalShortfall_t[pe] for pe in term_keys)
    )
    reg.add_cost(terms.HOLDING, "second", m.HoldingCost_kusd)
    reg.add_cost(terms.FLOOR_PENALTY, "second", m.FloorPenalty_kusd)
    reg.add_cost(terms.TERMINAL_PENALTY, "second", m.TerminalPenalty_kusd)

    reg.add_first_stage(m.Stock_t[k] for k in keys if k[3] <= W)
    reg.add_first_stage(m.FloorShortfall_t[k] for k in floor_keys if k[2] <= W)
