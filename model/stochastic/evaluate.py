"""Fix a first stage and re-solve every scenario on its own.

One evaluation serves three callers: the EEV of the expected-value plan (VSS, in
``extensive.run_stochastic``), the plan reported when the extensive form hits its time limit
(``extensive._best_known_after_time_limit``) and the plan of progressive hedging
(``decomposition.evaluate_plan``). Each scenario is built alone by ``build_scenario_model``, its
first-stage variables fixed BY NAME to the plan's values, and re-optimised; the result is a
feasible plan of the two-stage problem, its cost an upper bound.

Glossary
--------
first_stage            a plan's first stage: variable name (``getname(fully_qualified=False)``,
                       e.g. ``Reserve_t_per_period[offer,period]``) -> value
first_stage_values     that dict read off a solved BuiltModel (unset values count as 0)
evaluate_first_stage   every scenario re-solved with ``first_stage`` fixed; a variable missing
                       from ``first_stage`` raises RuntimeError naming it
tie_break              BuiltModel -> TieBreak, or None: plan solves pass :func:`canonical_plan`
                       (the canonical plan, ``model.results.tables.plan_tie_break``); solves
                       that only need an objective value (EVPI/VSS) pass none
keep                   also extract each scenario's Solution (``extract(b, r)``, right after its
                       solve, so the models are not all kept) and keep scenario 0's model and result
Evaluation             totals_kusd[k] = F_k + C_k (kUSD); with keep, solutions, built0, result0
perfect_foresight_totals  every scenario optimised alone with its first stage free (wait-and-see), kUSD
time budget            both loops check the run's deadline (``options``, :mod:`model.solve.budget`) before
                       each scenario, and every solve gets the time left; when it is spent, a SolveError
                       with termination ``time_limit`` saying how many scenarios were done (the caller
                       decides what that costs: EVPI/VSS not computed, or no fallback plan)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyomo.environ as pyo

from model.components.build import BuiltModel, build_scenario_model
from model.input.data import CaseData
from model.results.tables import Solution, extract, plan_tie_break
from model.errors import SolveError
from model import progress as shown
from model.solve import budget
from model.solve.highs import SolveResult, SolverOptions, solve


@dataclass(frozen=True)
class Evaluation:
    totals_kusd: np.ndarray  # F_k + C_k per scenario, kUSD
    solutions: tuple[Solution, ...] = ()  # with keep: per scenario
    built0: BuiltModel | None = None  # with keep: scenario 0's solved model
    result0: SolveResult | None = None  # with keep: scenario 0's SolveResult
    first_cost0_kusd: float | None = None  # benders.evaluate_plan: scenario 0's first-stage cost
    highs_s: float = 0.0  # benders.evaluate_plan: seconds of its HiGHS runs (solves, one-sided duals, canonical stages)


def canonical_plan(b: BuiltModel):
    """The tie-break of a plan solve: the canonical plan of the one scenario ``b``."""
    return plan_tie_break([b])


def first_stage_values(b: BuiltModel) -> dict[str, float]:
    """A solved model's first stage, name -> value."""
    return {v.getname(fully_qualified=False): float(v.value or 0.0) for v in b.first_stage_vars}


def _fix_first_stage(b: BuiltModel, first_stage: dict[str, float]) -> None:
    names = [v.getname(fully_qualified=False) for v in b.first_stage_vars]
    missing = [n for n in names if n not in first_stage]
    if missing:
        raise RuntimeError(f"first-stage values missing for {len(missing)} variables, e.g. {missing[0]}")
    for v, n in zip(b.first_stage_vars, names):
        v.fix(first_stage[n])


def _solve_scenario(d: CaseData, options: SolverOptions, first_stage: dict[str, float] | None,
                    tie_break: Callable | None) -> tuple[BuiltModel, SolveResult, float]:
    b = build_scenario_model(d, name=d.scenario)
    if first_stage is not None:
        _fix_first_stage(b, first_stage)
    r = solve(b.model, options, tie_break=None if tie_break is None else tie_break(b))
    return b, r, float(pyo.value(b.model.FirstStageCost_kusd + b.model.ScenarioCost_kusd))


def evaluate_first_stage(cases: list[CaseData], first_stage: dict[str, float], options: SolverOptions,
                         keep: bool = False, tie_break: Callable[[BuiltModel], object] | None = None) -> Evaluation:
    """Fix ``first_stage`` (by name) in every scenario of ``cases``, re-solve each; see the glossary."""
    totals, sols, built0, result0 = [], [], None, None
    for i, d in enumerate(cases):
        b, r, total = _within_budget(options, "while re-solving the scenarios with the plan's first stage fixed",
                                     i, len(cases), lambda: _solve_scenario(d, options, first_stage, tie_break))
        totals.append(total)
        if keep:
            sols.append(extract(b, r))
            if built0 is None:
                built0, result0 = b, r
    return Evaluation(totals_kusd=np.array(totals), solutions=tuple(sols), built0=built0, result0=result0)


def perfect_foresight_totals(cases: list[CaseData], options: SolverOptions) -> np.ndarray:
    """F_k + C_k of every scenario optimised on its own, first stage free (wait-and-see), kUSD."""
    return np.array([_within_budget(options, "while solving each scenario with perfect foresight (wait-and-see)", i,
                                    len(cases), lambda: _solve_scenario(d, options, None, None))[2]
                     for i, d in enumerate(cases)])


def _within_budget(options: SolverOptions, when: str, done: int, total: int, step: Callable):
    """``step()`` if the run's time budget is not spent; else, or when its solve stops at the limit, the
    SolveError (termination ``time_limit``) saying how many of ``total`` scenarios were done."""
    progress = f"{done:,} of {total:,} scenarios done"
    budget.check(options, when, progress, outcome=None)
    try:
        out = step()
        shown.advance()  # one scenario done: the step count of the phase on show, if any
        return out
    except SolveError as e:
        if budget.is_time_limit(e):
            raise budget.out_of_time(options, when, progress, outcome=None) from None
        raise
