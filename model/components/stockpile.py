r"""Stockpile: element stock by origin group, capacity, holding cost, strategic floor, terminal rule.

Glossary
--------
Stock_t[e, g, t]            t of element e of origin g held at the end of period t (t = 0: initial stock, fixed)
StockChange_t[e, g, t]      Stock[t] - Stock[t-1] (registered ELEMENT outflow: what the period adds to stock)
StockCapacity[e, t]         sum_g Stock <= capacity_t                                      (t element)
FloorShortfall_t[e, t]      t below the strategic floor at the end of t (soft)
StrategicFloor[e, t]        sum_g Stock + FloorShortfall >= floor_t (soft floor)
HardFloor[e, t]             sum_g Stock >= floor_t (elements with floor_hard)
TerminalShortfall_t[e]      t below the terminal requirement at the end of the horizon (soft)
TerminalRequirement[e]      sum_g Stock[T] + TerminalShortfall >= terminal_t
HoldingCost_kusd            holding cost x end-of-period stock (second stage)
FloorPenalty_kusd           floor penalty x FloorShortfall (second stage)
TerminalPenalty_kusd        terminal penalty x TerminalShortfall (second stage)

An element without a stockpile entry has capacity 0: what arrives must be used in the same period.

.. math::

    \sum_g S_{e,g,t} \le \bar S_e, \quad
    \sum_g S_{e,g,t} + F_{e,t} \ge \underline S_e, \quad
    \sum_g S_{e,g,T} + Z_e \ge S^{T}_e
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import STOCKPILE_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets

CATALOGUE = (
    ConstraintInfo("StockCapacity", marginal=Marginal(STOCKPILE_CAPACITY, first, period_label),
                   infeasible=Infeasible("stockpile capacity of element {0} at the end of {1}", "stockpile[{0}].capacity_t")),
    ConstraintInfo("HardFloor",
                   infeasible=Infeasible("hard strategic floor of element {0} at the end of {1}", "stockpile[{0}].floor_hard")),
    ConstraintInfo("StrategicFloor",
                   infeasible=Infeasible("strategic floor of element {0} at the end of {1}", "stockpile[{0}].floor_t")),
    ConstraintInfo("TerminalRequirement", period_last=False,  # indexed by element only
                   infeasible=Infeasible("terminal stock requirement of element {0}", "stockpile[{0}].terminal_min_t")),
)


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    W = data.case.risk.non_anticipative_periods
    sp = {x.element: x for x in data.case.stockpile}
    T = sets.T
    keys0 = [(e, g, t) for (e, g) in sets.STOCK_EG for t in range(0, T + 1)]
    keys = [k for k in keys0 if k[2] >= 1]
    m.STOCK = pyo.Set(dimen=3, initialize=keys, ordered=True)
    m.Stock_t = pyo.Var(keys0, domain=pyo.NonNegativeReals)
    for (e, g) in sets.STOCK_EG:
        init = sp[e].initial_t_by_origin.get(g, 0.0) if e in sp else 0.0
        m.Stock_t[e, g, 0].fix(init)
    m.StockChange_t = pyo.Expression(m.STOCK, rule=lambda m, e, g, t: m.Stock_t[e, g, t] - m.Stock_t[e, g, t - 1])
    reg.add_outflow(Balance.ELEMENT, "stock_change", m.StockChange_t)

    groups = defaultdict(list)
    for (e, g) in sets.STOCK_EG:
        groups[e].append(g)
    cap = {e: (sp[e].capacity_t if e in sp else 0.0) for e in groups}
    ET = [(e, t) for e in groups for t in sets.periods]
    m.StockCapacity = pyo.Constraint(
        ET, rule=lambda m, e, t: sum(m.Stock_t[e, g, t] for g in groups[e]) <= cap[e]
    )

    hard = {e for e in groups if e in sp and sp[e].floor_hard}
    floor_keys = [(e, t) for e in groups if e not in hard for t in sets.periods if sets.floor_t.get(e, 0.0) > 0]
    hard_keys = [(e, t) for e in sorted(hard) for t in sets.periods if sets.floor_t.get(e, 0.0) > 0]
    m.HardFloor = pyo.Constraint(
        hard_keys, rule=lambda m, e, t: sum(m.Stock_t[e, g, t] for g in groups[e]) >= sets.floor_t[e]
    )
    m.FloorShortfall_t = pyo.Var(floor_keys, domain=pyo.NonNegativeReals)
    m.StrategicFloor = pyo.Constraint(
        floor_keys,
        rule=lambda m, e, t: sum(m.Stock_t[e, g, t] for g in groups[e]) + m.FloorShortfall_t[e, t] >= sets.floor_t[e],
    )
    term_keys = [e for e in groups if sets.terminal_t.get(e, 0.0) > 0]
    m.TerminalShortfall_t = pyo.Var(term_keys, domain=pyo.NonNegativeReals)
    m.TerminalRequirement = pyo.Constraint(
        term_keys,
        rule=lambda m, e: sum(m.Stock_t[e, g, T] for g in groups[e]) + m.TerminalShortfall_t[e] >= sets.terminal_t[e],
    )

    hold = {e: (sp[e].holding_cost_usd_per_kg_per_period if e in sp else 0.0) for e in groups}
    fpen = {e: (sp[e].floor_penalty_usd_per_kg if e in sp else 0.0) for e in groups}
    m.HoldingCost_kusd = pyo.Expression(expr=sum(hold[e] * m.Stock_t[e, g, t] for e, g, t in keys))
    m.FloorPenalty_kusd = pyo.Expression(expr=sum(fpen[e] * m.FloorShortfall_t[e, t] for e, t in floor_keys))
    m.TerminalPenalty_kusd = pyo.Expression(
        expr=sum(sets.terminal_penalty_usd_per_kg[e] * m.TerminalShortfall_t[e] for e in term_keys)
    )
    reg.add_cost(terms.HOLDING, "second", m.HoldingCost_kusd)
    reg.add_cost(terms.FLOOR_PENALTY, "second", m.FloorPenalty_kusd)
    reg.add_cost(terms.TERMINAL_PENALTY, "second", m.TerminalPenalty_kusd)

    reg.add_first_stage(m.Stock_t[k] for k in keys if k[2] <= W)
    reg.add_first_stage(m.FloorShortfall_t[k] for k in floor_keys if k[1] <= W)
