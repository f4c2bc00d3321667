"""A HiGHS instance kept across solves of one model, for warm sweeps (``--solver-path persistent``).

Uses ``pyomo.contrib.solver``'s HiGHS interface rather than the standard-form hand-off of
:mod:`model.solve.highs`; termination is checked the same way (anything but a proven optimum raises
:class:`~model.errors.SolveError`) and duals are loaded into ``model.dual`` the same way.

Glossary
--------
PersistentHighs     the kept solver; ``solve(m)`` returns a :class:`~model.solve.highs.SolveResult`
auto_updates        what the interface re-reads from the model before a solve; after the first solve
                    only ``update_parameters`` (mutable Params), so a re-solve costs little more than
                    HiGHS's warm-started dual simplex
hopts               the HiGHS options passed on every solve (``SolverOptions.highs_options`` less
                    ``output_flag``)
solve_s             HiGHS time of this solve: the interface reports it summed over the kept model's
                    solves, so the previous total is subtracted
n_nonzeros          not known on this path: -1
"""

from __future__ import annotations

import time

import pyomo.environ as pyo

from model.solve.highs import SolveResult, SolverOptions, _ensure_dual_suffix, _fail, _highs_version, new_highs


class PersistentHighs:
    """A HiGHS instance kept across solves of one model (``pyomo.contrib.solver``), for sweeps.

    After the first solve only parameter changes are looked for (``auto_updates`` limited to
    ``update_parameters``), so a re-solve after changing a mutable Param costs little more than
    HiGHS's warm-started dual simplex.
    """

    def __init__(self, options: SolverOptions = SolverOptions()):
        from pyomo.contrib.solver.solvers.highs import Highs

        self.options = options
        new_highs()  # the process's first HiGHS prints a banner: let it be ours, with stdout silenced
        self.opt = Highs()
        self.hopts = {k: v for k, v in options.highs_options().items() if k != "output_flag"}
        self.solves = 0
        self._highs_time_so_far = 0.0  # the interface reports HiGHS time summed over the kept model's solves

    def _only_parameters(self) -> None:
        au = self.opt.config.auto_updates
        for k in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                  "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                  "update_vars", "update_named_expressions", "update_objective"):
            setattr(au, k, False)
        au.update_parameters = True

    def solve(self, m: pyo.ConcreteModel) -> SolveResult:
        from pyomo.contrib.solver.common.results import TerminationCondition

        if self.solves == 1:
            self._only_parameters()
        t0 = time.perf_counter()
        res = self.opt.solve(m, solver_options=self.hopts, load_solutions=False,
                             raise_exception_on_nonoptimal_result=False)
        t2 = time.perf_counter()
        self.solves += 1
        if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
            name = {
                TerminationCondition.provenInfeasible: "Infeasible",
                TerminationCondition.unbounded: "Unbounded",
                TerminationCondition.infeasibleOrUnbounded: "Primal infeasible or unbounded",
                TerminationCondition.maxTimeLimit: "Time limit reached",
                TerminationCondition.iterationLimit: "Iteration limit reached",
            }.get(res.termination_condition, str(res.termination_condition))
            raise _fail(name)
        res.solution_loader.load_vars()
        duals = _ensure_dual_suffix(m)
        for con, d in res.solution_loader.get_duals().items():
            duals[con] = float(d)
        t3 = time.perf_counter()
        obj = next(m.component_data_objects(pyo.Objective, active=True))
        total = float(res.timing_info.highs_time or 0.0)
        solve_s = max(total - self._highs_time_so_far, 0.0)
        self._highs_time_so_far = total
        n_vars = sum(1 for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed)
        n_cons = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
        return SolveResult(
            termination="optimal",
            objective_kusd=float(pyo.value(obj)),
            handoff_s=max(t2 - t0 - solve_s, 0.0),
            solve_s=solve_s,
            load_s=t3 - t2,
            n_columns=n_vars,
            n_rows=n_cons,
            n_nonzeros=-1,
            solver="highs",
            solver_version=_highs_version(),
            options=self.hopts | {"path": "persistent"},
        )
