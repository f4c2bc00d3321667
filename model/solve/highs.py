"""Hand a built model to HiGHS, solve, check termination, load values and duals back.

Two hand-off paths are implemented; ``benchmarks/handoff.py`` measures them (and the LP-file
path) on the default case, and the README records the figures:

- ``stdform`` (default): Pyomo's ``LinearStandardFormCompiler`` compiles the model to sparse
  arrays, which are passed to HiGHS with ``highspy.Highs.passModel``. No files.
- ``persistent``: ``pyomo.contrib.solver``'s HiGHS interface (kept for warm re-solves),
  :mod:`model.solve.persistent`.

Whatever the path, the termination condition is checked here: anything but a proven optimum
raises :class:`~model.errors.SolveError` with a message a planner can act on. Duals are loaded
into ``model.dual`` (a Pyomo import Suffix), in kUSD per unit of the row (= USD/kg per t).
Shared-variable non-anticipativity (merged columns) is :mod:`model.solve.merge`; the infeasible
set of an infeasible model is :mod:`model.solve.iis`; the canonical plan is :mod:`model.solve.canonical`.

Glossary
--------
SolverOptions    path, threads, time limit, run start stamp, presolve, method, seed, canonical tie-break,
                 HiGHS log file
time limit       ``time_limit_s`` is the whole run's budget counted from ``started_s`` (a ``time.monotonic()``
                 stamp, :mod:`model.solve.budget`): every HiGHS run gets the time left; the main run of a plan
                 solve (one with a tie-break) MAIN_SOLVE_SHARE of it, the rest is kept for the canonical stage
                 and what follows. Without ``started_s`` (a bare ``solve()`` call) it is a per-solve limit.
                 Recorded in KPIs as given (``time_limit``), never as the time left, so runs compare.
SolveResult      termination, objective (kUSD), hand-off / solve / load / canonical / marginal seconds,
                 LP size, solver name, version and recorded options
solve            the entry point: ``solve(m, options, equal_vars=..., tie_break=...)``
new_highs        a silent ``highspy.Highs`` (the first one in a process is made with stdout muted)
sf               Pyomo's standard form (``LinearStandardFormCompiler``, mixed form): columns, rows,
                 A, c, rhs and each row's bound type (0: ==, -1: >=, +1: <=)
_fail            the SolveError for a HiGHS model status, with a hint a planner can act on
_recorded        the options as recorded in KPIs and baselines (no machine paths)
model.dual       import Suffix of row duals, kUSD per unit of the row
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from model.errors import SolveError
from model.solve.iis import infeasible_subset
from model.solve.merge import merge_columns, share_values


@dataclass(frozen=True)
class SolverOptions:
    path: str = "stdform"
    threads: int = 1
    time_limit_s: float | None = None
    presolve: str = "choose"
    method: str = "choose"  # HiGHS `solver` option: choose | simplex | ipm | pdlp
    random_seed: int = 0
    canonical: bool = True  # the lexicographic tie-break of model.solve.canonical (stdform path)
    log_file: str | None = None  # HiGHS's own log, appended to this file (never to the console)
    started_s: float | None = None  # time.monotonic() when the run started; None: stamped by run_case (model.solve.budget)

    def highs_options(self) -> dict:
        opts = {
            "threads": self.threads,
            "presolve": self.presolve,
            "solver": self.method,
            "random_seed": self.random_seed,
            "output_flag": False,
        }
        if self.log_file is not None:
            opts |= {"output_flag": True, "log_to_console": False, "log_file": str(self.log_file)}
        if self.time_limit_s is not None:
            from model.solve.budget import remaining_s

            left = remaining_s(self)  # the time left of the run's budget (None: no start stamp, per-solve limit)
            opts["time_limit"] = float(self.time_limit_s) if left is None else left
        return opts


@dataclass(frozen=True)
class SolveResult:
    termination: str
    objective_kusd: float
    handoff_s: float
    solve_s: float
    load_s: float
    n_columns: int
    n_rows: int
    n_nonzeros: int
    solver: str
    solver_version: str
    options: dict = field(default_factory=dict)
    canonical: dict | None = None  # model.solve.canonical.CanonicalInfo.as_dict(), when a tie-break was asked for
    canonical_s: float = 0.0  # seconds spent making the plan canonical (tie-break stages)
    marginal_s: float = 0.0  # seconds spent on one-sided marginal values (ranging, directional re-solves)


_VERSION: str | None = None


def new_highs():
    """A ``highspy.Highs`` that prints nothing: HiGHS >= 1.16 prints its banner on the first
    construction in a process, before any option can be set, so that one is made with the process's
    standard output pointed at /dev/null."""
    import os
    import sys

    import highspy

    global _VERSION
    if _VERSION is None:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _VERSION = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _highs_version() -> str:
    if _VERSION is None:
        new_highs()
    return _VERSION


def _recorded(options: SolverOptions) -> dict:
    """The options as recorded in KPIs and baselines (no machine paths, so runs compare)."""
    o = {k: v for k, v in options.highs_options().items() if k not in ("log_file", "log_to_console")}
    if options.time_limit_s is not None:
        o["time_limit"] = float(options.time_limit_s)  # the limit as given, not the time left
    return o | {"output_flag": False, "path": options.path, "canonical": options.canonical}


def _ensure_dual_suffix(m: pyo.ConcreteModel) -> pyo.Suffix:
    if m.component("dual") is None:
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m.dual.clear()
    return m.dual


_FAIL_HINT = {
    "Infeasible": "the hard constraints conflict (minimum takes, diversification caps or capacities); relax one and re-run",
    "Unbounded": "some cost can fall without limit; check for a negative cost or a missing capacity",
    "Primal infeasible or unbounded": "the model is infeasible or unbounded; check minimum takes, caps and costs",
    "Time limit reached": "the solver stopped at the time limit before proving an optimal plan; raise --time-limit",
    "Iteration limit reached": "the solver stopped at its iteration limit before proving an optimal plan",
}


def _fail(status: str) -> SolveError:
    hint = _FAIL_HINT.get(status, "the solver did not return an optimal plan")
    return SolveError(f"solver status '{status}': {hint}", termination=status)


def solve(m: pyo.ConcreteModel, options: SolverOptions = SolverOptions(), equal_vars=None, tie_break=None) -> SolveResult:
    """Solve ``m``; ``equal_vars`` (pairs of VarData) are merged into one column each (stdform only).

    Merging is how non-anticipativity by shared variables is done: the pair's columns are summed
    into one, their bounds intersected, and both get the merged column's value back.

    ``tie_break`` (a :class:`model.solve.canonical.TieBreak`): load the canonical optimal plan instead of
    the vertex HiGHS stopped at, and one-sided duals on its limit rows (``options.canonical``).
    """
    if options.path == "stdform":
        return _solve_stdform(m, options, equal_vars or [], tie_break if options.canonical else None)
    if equal_vars:
        raise ValueError("shared-variable non-anticipativity needs the stdform path")
    if options.path == "persistent":
        from model.solve.persistent import PersistentHighs  # it builds on this module's SolveResult

        return PersistentHighs(options).solve(m)
    raise ValueError(f"unknown solver path {options.path!r} (expected stdform or persistent)")


@dataclass
class ArrayLP:
    """An LP as HiGHS takes it, already a minimisation: ``min c x + offset`` subject to
    ``row_lo <= A x <= row_hi`` and ``lb <= x <= ub`` (A scipy CSC with sorted indices)."""

    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    A: object
    offset: float = 0.0


@dataclass
class ArraySolution:
    """What :func:`solve_lp` found: column values (the canonical plan's when it was applied), row duals
    of the LP as given (one-sided on the limit rows), the canonical stage's dict and the seconds of each part."""

    x: np.ndarray
    row_dual: np.ndarray
    objective: float  # c x + offset at the optimum HiGHS stopped at (before the canonical stages)
    canonical: dict | None
    pass_s: float
    solve_s: float
    canonical_s: float
    marginal_s: float


def solve_lp(lp: ArrayLP, options: SolverOptions, limit=None, criteria=None, on_infeasible=None) -> ArraySolution:
    """Hand ``lp`` to a new HiGHS, solve it, check the termination and, with a tie-break, make the plan
    canonical and the limit rows' duals one-sided (:mod:`model.solve.canonical`).

    ``limit``: bool per row, the rows whose marginal values are reported (None: no tie-break);
    ``criteria()``: the canonical criteria per column (``canonical.column_criteria``), called only when
    needed; ``on_infeasible(h)``: (conflict rows, conflict bounds) of an infeasible LP, for the error."""
    import highspy

    from model import progress
    from model.solve import budget

    t0 = time.perf_counter()
    n, nr = len(lp.c), len(lp.row_lo)
    A, c = lp.A, lp.c
    h = new_highs()
    for k, v in options.highs_options().items():
        h.setOptionValue(k, v)
    hl = highspy.HighsLp()
    hl.num_col_ = n
    hl.num_row_ = nr
    hl.col_cost_ = c
    hl.col_lower_ = lp.lb
    hl.col_upper_ = lp.ub
    hl.row_lower_ = lp.row_lo
    hl.row_upper_ = lp.row_hi
    hl.offset_ = float(lp.offset)
    hl.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    hl.a_matrix_.start_ = A.indptr.astype(np.int32)
    hl.a_matrix_.index_ = A.indices.astype(np.int32)
    hl.a_matrix_.value_ = A.data.astype(float)
    h.passModel(hl)
    t1 = time.perf_counter()
    tie = limit is not None
    deadline = budget.deadline_s(options)
    try:  # the time left now; a plan solve keeps a share of it for the canonical stage and what follows
        budget.set_highs_limit(h, deadline, budget.MAIN_SOLVE_SHARE if tie else 1.0)
    except budget.Expired:
        raise budget.out_of_time(options, "while handing the model to HiGHS") from None
    with progress.phase(f"solving with HiGHS ({n:,} columns, {nr:,} rows)", key="solving with HiGHS"):
        h.run()
    t2 = time.perf_counter()
    status = h.modelStatusToString(h.getModelStatus())
    if status in ("Infeasible", "Primal infeasible or unbounded"):
        err = _fail("Infeasible" if status == "Infeasible" else status)
        if on_infeasible is not None:
            err.conflict_rows, err.conflict_bounds = on_infeasible(h)
        raise err
    if status != "Optimal":
        raise _fail(status)
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    row_dual = np.asarray(sol.row_dual)
    objective = float(h.getInfo().objective_function_value)
    canonical, canonical_s, marginal_s = None, 0.0, 0.0
    if tie:
        from model.solve import canonical as can

        tm = time.perf_counter()
        tau = can.TAU_REL * max(1.0, float(np.abs(c).max()) if n else 1.0)
        try:
            if budget.expired(options):
                raise budget.Expired("before the one-sided marginal values")
            with progress.phase("one-sided marginal values"):
                row_dual, n_degenerate = can.one_sided_duals(h, limit, tau, deadline=deadline)
        except budget.Expired as e:  # the main solve's LP duals and vertex stand
            tc = time.perf_counter()
            canonical = can.skipped(f"{budget.limit_text(options)} reached {e}", marginal_values_done=False)
        else:
            tc = time.perf_counter()
            crit = criteria()
            z = objective - hl.offset_
            try:
                with progress.phase("canonical plan among the equally cheap ones"):
                    x_can, info = can.canonical_plan(h, A, c, crit, z, threads=options.threads, deadline=deadline)
            except budget.Expired as e:
                canonical = can.skipped(f"{budget.limit_text(options)} reached {e}", marginal_values_done=True)
            else:
                info.degenerate_limits = n_degenerate
                if x_can is not None:
                    x = x_can
                canonical = info.as_dict()
        marginal_s, canonical_s = tc - tm, time.perf_counter() - tc
    return ArraySolution(x=x, row_dual=row_dual, objective=objective, canonical=canonical, pass_s=t1 - t0,
                         solve_s=t2 - t1, canonical_s=canonical_s, marginal_s=marginal_s)


def _solve_stdform(m: pyo.ConcreteModel, options: SolverOptions, equal_vars=(), tie_break=None) -> SolveResult:
    import highspy
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from model import progress

    t0 = time.perf_counter()
    with progress.phase("handing the model to HiGHS"):
        sf = LinearStandardFormCompiler().write(m, mixed_form=True, set_sense=None)
    obj = sf.objectives[0]
    sense = 1.0 if obj.sense == pyo.minimize else -1.0
    n, nr = len(sf.columns), len(sf.rows)
    inf = highspy.kHighsInf
    lb = np.array([-inf if v.lb is None else v.lb for v in sf.columns], dtype=float)
    ub = np.array([inf if v.ub is None else v.ub for v in sf.columns], dtype=float)
    rhs = np.asarray(sf.rhs, dtype=float)
    bt = np.array([r.bound_type for r in sf.rows], dtype=int)
    row_lo = np.where(bt <= 0, rhs, -inf)  # 0: equality, -1: >=
    row_hi = np.where(bt >= 0, rhs, inf)  # 0: equality, +1: <=
    A = sf.A.tocsc()
    c = np.asarray(sf.c.toarray()).ravel() if n else np.zeros(0)
    colmap = None
    if equal_vars:
        A, c, lb, ub, colmap, n = merge_columns(sf.columns, equal_vars, A, c, lb, ub, inf)
    A.sort_indices()
    t_compiled = time.perf_counter()
    limit = criteria = None
    if tie_break is not None:
        from model.solve import canonical as can

        limit = np.array([id(r.constraint) in tie_break.limit_rows for r in sf.rows], dtype=bool)
        criteria = lambda: can.column_criteria(tie_break, sf.columns, colmap, n)  # noqa: E731
    out = solve_lp(ArrayLP(c=c * sense, lb=lb, ub=ub, row_lo=row_lo, row_hi=row_hi, A=A,
                           offset=float(sf.c_offset[0]) * sense if len(sf.c_offset) else 0.0),
                   options, limit, criteria, on_infeasible=lambda h: infeasible_subset(h, sf, colmap))
    t2 = time.perf_counter()
    x = out.x
    if colmap is not None:
        x = x[colmap]
    for v, val in zip(sf.columns, x):
        v.set_value(float(val), skip_validation=True)
    share_values(equal_vars)  # a variable the compiler dropped (in no active row) takes its partner's value
    duals = _ensure_dual_suffix(m)
    rd = out.row_dual * sense
    for r, d in zip(sf.rows, rd):
        con = r.constraint
        duals[con] = duals.get(con, 0.0) + float(d)
    t3 = time.perf_counter()
    return SolveResult(
        termination="optimal",
        objective_kusd=float(pyo.value(obj)),
        handoff_s=t_compiled - t0 + out.pass_s,
        solve_s=out.solve_s,
        load_s=t3 - t2,
        n_columns=n,
        n_rows=nr,
        n_nonzeros=int(A.nnz),
        solver="highs",
        solver_version=_highs_version(),
        options=_recorded(options),
        canonical=out.canonical,
        canonical_s=out.canonical_s,
        marginal_s=out.marginal_s,
    )
