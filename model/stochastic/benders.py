r"""The two-stage plan by a multi-cut L-shaped (Benders) decomposition: ``--engine benders``.

The extensive form (:mod:`model.stochastic.extensive`, ``model.md`` §16) solves every scenario in
one LP. Here the first stage is a small *master* LP and each scenario a *subproblem* LP that sees
the first stage as fixed column bounds; the master learns each scenario's cost as a function of the
first stage from cuts (outer linearisations), until its lower bound meets the best plan's cost.
``model.md`` §16.4 has the same in its notation.

Math
----
Write ``x`` for the first-stage columns (the same names in every scenario, ``n1`` of them: 143 on
the default case), ``c1_s`` their objective coefficients in scenario ``s``, ``k_s`` the constant of
its objective, and

.. math::

    Q_s(x) = \min_y \{ c_{2,s}^\top y : W_s y + T_s x \gtreqless h_s,\ \ell \le y \le u \}

the rest of scenario ``s``'s cost with ``x`` fixed (its standard form, compiled once, kUSD). The
scenario total is ``total_s(x) = c1_s x + Q_s(x) + k_s`` and the plan's value is

.. math::

    F(x) = \sum_s p_s\, \mathrm{total}_s(x) + \lambda\, \mathrm{CVaR}_\alpha(\mathrm{total}(x)),

the extensive form's objective (§16.2). ``Q_s`` is convex and piecewise linear. Fixing ``x`` by the
bounds ``x <= x_j <= x`` makes the reduced cost ``d_j`` of column ``j`` (HiGHS's ``col_dual``, with
the first-stage columns' own costs set to 0 in the subproblem) the derivative of ``Q_s`` along it:
``d_j = dQ_s/dx_j`` with that sign, checked by finite differences in ``tests/test_benders.py`` (at a
kink, between the left and the right derivative). So ``g_s = d[x]`` is a subgradient and the
*optimality cut*

.. math::

    \theta_s \ \ge\ Q_s(x_k) + g_s^\top (x - x_k)

holds for every ``x`` (an LP value function lies above its tangents). The **master** is

.. math::

    \min_{x, \theta, \eta, u}\ \sum_s p_s (c1_s x + \theta_s + k_s)
        + \lambda \Big(\eta + \frac{1}{1-\alpha} \sum_s p_s u_s\Big)

subject to the rows of every scenario whose columns are all first stage (found in each scenario's
standard form, duplicates dropped; free rows in the subproblems), the rows a scenario's *pinned*
columns imply (a second-stage column an equality fixes to the first stage, a contract's later
reservation as the sum of its tranches: its capacity and band rows bind the first stage alone,
:func:`implied_first_stage_rows`), the first-stage bounds (intersected
over the scenarios), the cuts, the *wait-and-see rows* ``c1_s x + theta_s >= WS_s - k_s`` (``WS_s``,
the scenario solved alone with its first stage free, is below its total whatever ``x``, so the master
is bounded from the first iteration) and, when ``lambda > 0``, the tail rows
``u_s >= c1_s x + theta_s + k_s - eta``, ``u_s >= 0`` (Rockafellar–Uryasev, as in the extensive
form, ``eta`` the VaR level). Its optimum is a **lower bound** on the optimal value (the cuts
under-estimate); ``F(x_k)`` at a first stage every scenario accepts is an **upper bound**. The loop
stops when ``UB - LB <= gap x |UB|`` (``gap``: ``rel_gap``, ``--gap``; 0 or None means
:data:`DEFAULT_GAP_FRAC`), or when no cut is violated at the master's optimum (then
``F(x_k) <= LB``).

Cut aggregation: with ``G`` groups of scenarios one ``theta_g`` stands for the probability-weighted
mean of its scenarios' ``Q_s`` and takes one cut per group and iteration (the weighted mean of the
scenario cuts). Multi-cut (one group per scenario) is the default up to :data:`AGGREGATE_ABOVE`
(2,000) scenarios, measured (``benchmarks/benders.py``, ``benchmarks/RESULTS.md``): at 500 sampled
scenarios the master is 0.3 s of an 8.6 s loop and 10 groups took one more iteration; at 2,000 the
master is 3.0 s of 38.6 s and 200 groups needed the same 5 iterations with a 0.1 s master. Beyond
it, :data:`AGGREGATE_GROUPS` (200) groups, scenario ``s`` in group ``s mod G``. With
``lambda > 0`` the tail rows need each scenario's own total, so the cuts are never aggregated.

Feasibility: the model prices shortages, so every subproblem is feasible for any first stage the
master allows on the cases shipped; hard inputs (minimum takes, hard floors) can still make one
infeasible. Then the scenario's *elastic* LP (every finite row side given a slack column at cost 1,
other costs 0, first stage fixed the same way; built when first needed) measures the infeasibility
``V_s(x_k) > 0``, convex in ``x``, and the *feasibility cut* ``V_s(x_k) + g^\top (x - x_k) <= 0``
(``g`` its reduced costs) removes ``x_k``. A scenario infeasible with its first stage free, or a
master left with no feasible first stage, is a :class:`~model.errors.SolveError` (``--engine ef``
names the conflicting constraints).

Warm start and regularisation: the first point (iteration 0) is the expected-value plan's first
stage (``extensive._expected_value_plan``, the plan for the mean scenario), so the master starts with
one cut per group and an upper bound (the EEV). Plain cutting planes closed the gap in 4 to 10
iterations, polishing included, on every case measured (5 on the default case and on 10 to 2,000
sampled scenarios with lambda 0 and 0.5, 10 on 500 scenarios x 36 periods), so the loop starts
without regularisation; if it has not converged
after :data:`ZIGZAG_AFTER` iterations (or from the start with ``trust_region=True``) it switches to a
box trust region around the incumbent ``x^``, ``|x_j - x^_j| <= Delta`` (``Delta`` first 0.1 x the
largest ``|x^_j|``): a step that achieves at least ``1e-4`` of the decrease the master predicted
moves the incumbent (and doubles ``Delta`` when it reached the box with half the predicted
decrease); a step whose cost rose by more than 3x the predicted decrease divides ``Delta`` by up to
4. With the box binding, the master's optimum is no bound, so the iteration also solves the master
without the box for the lower bound.

Canonical first stage
---------------------
The extensive form reports *the* canonical plan among equally cheap ones (``model/solve/canonical.py``:
lexicographic stages over China-origin tonnage, stock, order period, then a generic weight over the
decisions taken now). Benders cannot replay those stages as they are: they weigh every column of
every scenario, second stage included, over the extensive form's optimal face. What it does after
the loop has met a gap of at most DEFAULT_GAP_FRAC (and ``SolverOptions.canonical``):

1. *Polish*: more iterations until the master's optimum is the optimum
   (``UB - LB <= EXACT_GAP_FRAC x |UB|``, or no cut violated; the cuts are exact pieces of polyhedral functions, so this is
   finite: 1 to 3 more iterations measured), at most :data:`POLISH_ITERATIONS`.
2. The master's optimal face is cut out by complementarity with its optimal duals (columns with a
   reduced cost fixed at their bound, rows with a dual held at their active side; exact, no cost
   tolerance: ``canonical._restrict``), plus the guard row "master cost <= optimum (1 + 1e-9) +
   1e-6 kUSD". Since the master's optimum is the true optimum, its face contains every optimal
   first stage.
3. Over it, in the extensive form's order, each criterion restricted to the decisions taken now
   (the first-stage columns; in the generic stage also the VaR level and tail excess when
   lambda > 0) with the extensive form's own weights (probability-weighted and summed over the
   scenarios, the same CRC-32 generic weights, :func:`first_stage_weights`): China-origin tonnage
   ordered now, stock held in the window, order period x t, generic. Each stage is a cutting-plane
   loop: solve the master for the criterion, evaluate ``F`` at its point; above the guard the point
   is not optimal, so its cuts are added and the stage re-solved; otherwise the stage's face is cut
   out by its duals. The generic stage leaves one point.

So the first stage is canonical by a fixed rule, the same whatever path the iterations took (to the
guard's tolerance), and optimal. It is **not guaranteed to be the extensive form's canonical first
stage**: where equally cheap plans trade a first-stage column against a second-stage one (stock now
or later, one origin now and another later), the extensive form's criteria count both and these
count only the first. Measured, it is the EF's in every column on every case tried: the default case
(34 of its 143 first-stage columns are tied over the optimal face), 30 sampled scenarios with
lambda 0 and 0.5 (``tests/test_benders.py``), 50, 200 and 500 sampled scenarios
(``benchmarks/benders.py``). When polishing or a stage cannot finish (time, or no convergence within
:data:`CANONICAL_ITERATIONS` rounds), the last optimal point stands and
``solver.benders.canonical_first_stage`` says so (``applied: false`` and a note).

The plan reported
-----------------
The first stage found is held in every scenario and each is re-solved on its own with the canonical
tie-break of a single scenario (:func:`evaluate_plan`: ``evaluate_first_stage(cases, first_stage,
options, keep=True, tie_break=canonical_plan)`` with the first stage held by bounds instead of
``fix()``, see there), the models built for the subproblems reused, so the tables, KPIs, audit and
report are the extensive form's pipeline unchanged. Its value is recomputed from those solves; the
bound is the master's. The *marginal values* differ from the extensive form's: each is the
scenario's with the first stage held (as after the EF's time-limit fallback and progressive
hedging), where the EF's lets the first stage move too; on the default case 12 of the regression
baseline's 155 values differ, all of them expected marginal values, the rest agree at 1e-6. EVPI and
VSS (``extensive._evpi_vss``) take the wait-and-see totals and the EEV from the subproblems: no
scenario is built again.

Workers (``--workers W``, :mod:`model.stochastic.parallel`): the subproblems are held by a pool. With
W = 1 they live in this process, built and solved one after the other; with W >= 2 (processes on this
machine, or the ranks of ``mpiexec``) scenario ``i`` lives in worker ``i mod W``, which builds it,
solves it with its first stage free, re-solves it at every first stage the master sends and
re-solves it for the plan's report. The master gets every result back in scenario order before it
merges bounds, adds cuts or raises an error, so the plan, the bounds and the iterations do not depend
on W (tested against W = 1 at 1e-9, identical in practice). The pool is ended by :func:`plan_run`,
or by :func:`decompose` on any exception (Ctrl-C and SIGTERM included).

Time budget (``options``, :mod:`model.solve.budget`): building is checked before each scenario
(SolveError, "no plan"); the warm start, loop, polishing and canonical stages get
``budget.MAIN_SOLVE_SHARE`` of the time left when the loop starts, every HiGHS run the time left of
that. Stopped there: the incumbent (best upper bound) is the plan, the master's bound the bound,
termination ``time_limit``, ``proven_optimal`` false, no EVPI/VSS, as the extensive form's fallback;
with no incumbent yet, SolveError (termination ``time_limit``, no plan). The plan's re-solve uses
what is left; when it cannot finish, SolveError (termination ``time_limit``; no plan).

Glossary
--------
StandardForm        one scenario's LP as numpy arrays (c, bounds, row sides, CSC A, objective constant, first-stage
                    columns, rows of first-stage columns only): ``standard_form(b)`` compiles a BuiltModel,
                    ``scenario_lp`` hands one to HiGHS, ``compile_built`` does both for a scenario built by Pyomo;
                    :mod:`model.stochastic.stamp` writes other scenarios of the same structure into one
                    (``Decomposition(stamp=True)``; ``stamp=False`` builds every scenario; the default None
                    stamps, :data:`STAMP_WHEN_MODELS_KEPT`)
ScenarioLP          one scenario's persistent ``highspy.Highs`` (its standard form, compiled once by
                    ``LinearStandardFormCompiler``), with the columns of the first stage (``cols1``, in
                    the master's order, -1 where the compiler dropped one), their costs ``cost1_kusd``,
                    the objective constant ``offset_kusd`` and ``wait_and_see_kusd`` (``WS_s``)
FirstStageRows      the rows whose columns are all first stage, from every scenario, duplicates dropped
Master              the master LP (columns ``x``, ``theta_g``, then ``eta``, ``u_s`` when lambda > 0)
Decomposition       the subproblem pool (``pool``, ``workers``), the master, the loop, the canonical stages;
                    ``totals_at`` gives every scenario's total at a first stage (the EEV behind VSS),
                    ``evaluate_plan`` the plan re-solved in every scenario where it lives, ``close`` ends
                    the workers
first_stage_weights the first-stage parts of the canonical criteria (``cn_t``, ``stock_t``,
                    ``order_period_t``, ``generic``) per first-stage column of one scenario
Iteration           one entry of ``solver.benders.iterations``: iteration, lower_bound_usd (None before
                    the first master solve), upper_bound_usd, gap_frac; its seconds since the decomposition
                    started go to the run's timings (``benders_iteration_s``), so kpis.json is the same for
                    two runs of the same input
BendersOutcome      the first stage found (by name), the bounds, the iterations, the termination
                    (optimal | gap_reached | time_limit | iteration_limit), counts, sizes and seconds
decompose           build and run it: (cases, options, rel_gap, aggregate, trust_region, x0, keep_models,
                    workers) -> BendersOutcome
plan_run            the StochasticRun of an outcome (the plan re-solved per scenario, metrics, KPIs, EVPI/VSS)
run_stochastic_benders   the engine: (data, options, with_evpi_vss, rel_gap, workers) -> StochasticRun, the
                    fields of ``extensive.run_stochastic`` (``ef`` None); the worker count goes to the
                    timings (``benders_workers``), not to the KPIs, which are the same for any W
DEFAULT_GAP_FRAC    1e-6: the relative gap at which the plan counts as proven optimal (``--gap`` may raise it)
EXACT_GAP_FRAC      1e-9: the relative gap polishing aims at before the canonical stages
CUT_TOL_REL         1e-10: a cut is added only where violated by more than this (relative)
AGGREGATE_ABOVE     scenarios above which cuts are aggregated into AGGREGATE_GROUPS groups (lambda = 0)
ZIGZAG_AFTER        iterations of plain cutting planes before the trust region is switched on
KEEP_SUBPROBLEMS_UP_TO  up to this many scenarios each subproblem's HiGHS instance is kept between solves
                    (3.8 MB each); beyond, ``ScenarioLP.highs`` is None and each solve makes an instance from
                    ``form()`` (the stamped arrays, stamped again from the declared values) and ``basis``
                    (:func:`_live`), keeping only the basis afterwards (:func:`_done`)
KEEP_MODELS_UP_TO   up to this many scenarios the models built for the subproblems are kept and reused
                    for the plan's re-solve (measured at 500: 3.0 GB kept, 1.7 GB not, and 0.1 s a
                    scenario saved); beyond, they are built again one at a time
STAMP_WHEN_MODELS_KEPT  True: stamp whether or not the models are kept (the plan's re-solve of a stamped scenario
                    needs no model of its own, :mod:`model.stochastic.replan`), measured
TR_*                trust-region constants (initial size, growth, shrink, acceptance)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from model import progress
from model.errors import SolveError
from model.solve import budget
from model.solve.highs import SolveResult, SolverOptions, new_highs
from model.stochastic import parallel

DEFAULT_GAP_FRAC = 1e-6
EXACT_GAP_FRAC = 1e-9
MAX_ITERATIONS = 500
POLISH_ITERATIONS = 20
CANONICAL_ITERATIONS = 30  # cutting-plane rounds per canonical stage
AGGREGATE_ABOVE = 2000  # measured: multi-cut is faster at every size tried (benchmarks/RESULTS.md)
AGGREGATE_GROUPS = 200
ZIGZAG_AFTER = 10
KEEP_MODELS_UP_TO = 1000  # scenarios whose Pyomo models are kept for the plan's re-solve (2.7 MB each, measured)
# scenarios whose HiGHS subproblems stay alive between solves: 3.8 MB each (measured on the 36-month generated case,
# clearSolver frees none of it); beyond, each solve makes one from the scenario's (stamped) arrays and its last
# basis and keeps only the basis. Measured at 200 x 36 (RESULTS.md, "Subproblems made again for each solve"): the
# loop's subproblem solves 6.3 -> 12.6 s, end to end 43.6 -> 47.8 s, peak 1.26 -> 0.47 GB, the same plan; at 1,000 scenarios
# the kept instances alone are 3.8 GB
KEEP_SUBPROBLEMS_UP_TO = 1000
# Whether to stamp when the models are kept: yes, since the plan's re-solve reads a stamped scenario from its
# stamped LP through its group's template model (model.stochastic.replan) instead of building it in Pyomo.
# Before that (the re-solve built every stamped scenario) it was no: 0.87x end to end at 100 x 36 (RESULTS.md,
# "Stamping"); measured after it in RESULTS.md, "Run I".
STAMP_WHEN_MODELS_KEPT = True
TR_INIT_FRAC = 0.1  # initial Delta: this fraction of the largest |x^| (at least TR_MIN_T ... 1 t)
TR_MIN_T = 1e-6
TR_ACCEPT = 1e-4
TR_GROW_AT = 0.5
TR_SHRINK_AT = 3.0
CUT_TOL_REL = 1e-10  # a cut is added only where it is violated by more than this (relative, kUSD)
FEAS_TOL_T = 1e-7  # elastic LP: an infeasibility below this (t) counts as none
GUARD_REL, GUARD_ABS_KUSD = 1e-9, 1e-6  # the canonical stages' cost guard (as model/solve/canonical.py)
POINT_TOL = 1e-6  # a first stage violating a first-stage row or bound by more than this is not a plan


class _Stopped(Exception):
    """The loop's share of the time budget is spent (or a HiGHS run stopped at it)."""


# ----------------------------------------------------------------------------------- subproblems


@dataclass
class ScenarioLP:
    """One scenario's persistent subproblem (a highspy.Highs holding its standard form)."""

    name: str
    probability: float
    highs: object
    cols1: np.ndarray  # subproblem column of each first-stage variable (master order); -1: not in this LP
    cost1_kusd: np.ndarray  # objective coefficient of each first-stage variable here, kUSD per unit
    offset_kusd: float
    only_first_rows: np.ndarray  # rows whose columns are all first stage (free here: the master has them)
    n_columns: int
    n_rows: int
    n_nonzeros: int
    wait_and_see_kusd: float = float("nan")  # F + C optimised alone, first stage free
    elastic: object = None  # highspy.Highs of the elastic LP, built when a feasibility cut is first needed
    form: object = None  # highs None: () -> its StandardForm, the HiGHS instance made again for each solve
    basis: object = None  # highs None: its last basis (highspy.HighsBasis), where the next solve starts
    options: object = None  # highs None: the SolverOptions its instances are configured with
    ready: bool = False  # wait_and_see done: first-stage costs 0 and rows of first-stage columns only free
    wait_and_see_solve_s: float = 0.0  # the HiGHS run of its wait-and-see solve (its share of the floor)


@dataclass
class FirstStageRows:
    """Rows whose columns are all first stage, gathered from every scenario (duplicates dropped)."""

    keys: set = field(default_factory=set)
    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    cols: list = field(default_factory=list)
    vals: list = field(default_factory=list)

    def add(self, cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None:
        order = np.argsort(cols, kind="stable")
        cols, vals = np.asarray(cols)[order].astype(np.int32), np.asarray(vals, dtype=float)[order]
        key = (cols.tobytes(), vals.tobytes(), float(lo), float(hi))
        if key in self.keys:
            return
        self.keys.add(key)
        self.cols.append(cols)
        self.vals.append(vals)
        self.lower.append(float(lo))
        self.upper.append(float(hi))

    def violation(self, x: np.ndarray) -> float:
        """Largest violation of a row by ``x`` (in the row's unit)."""
        worst = 0.0
        for c, v, lo, hi in zip(self.cols, self.vals, self.lower, self.upper):
            a = float(v @ x[c])
            worst = max(worst, lo - a, a - hi)
        return worst


def _configure(h, options: SolverOptions) -> None:
    for k, v in options.highs_options().items():
        if k != "time_limit":  # set per run from the budget (budget.set_highs_limit)
            h.setOptionValue(k, v)


def first_stage_weights(b, probability: float, data=None) -> dict[str, np.ndarray]:
    """The first-stage parts of the canonical criteria of ``model.solve.canonical.tie_break`` for one
    scenario model ``b``, probability-weighted (summing them over the scenarios gives the extensive
    form's merged first-stage columns' weights). ``data``: the scenario's CaseData when ``b`` is another
    scenario of the same structure (a stamped scenario, :mod:`model.stochastic.stamp`); None: ``b.data``."""
    return first_stage_weights_of(first_stage_keys(b), b.data if data is None else data, probability)


def first_stage_keys(b) -> list[tuple]:
    """(component name, index) of each first-stage variable of the built scenario ``b``, in order."""
    return [(v.parent_component().local_name, v.index()) for v in b.first_stage_vars]


def first_stage_weights_of(keys: list[tuple], data, probability: float) -> dict[str, np.ndarray]:
    """:func:`first_stage_weights` from the first-stage variables' (name, index) and the scenario's data."""
    from model.solve.canonical import CHINA, generic_weight

    country = {o.id: o.country for o in data.case.offers}
    scen = data.scenario or ""
    p = float(probability)
    n1 = len(keys)
    out = {k: np.zeros(n1) for k in ("cn_t", "stock_t", "order_period_t", "generic")}
    for j, (name, idx) in enumerate(keys):
        out["generic"][j] = p * generic_weight(scen, name, idx)
        if name == "Purchase_t":
            out["cn_t"][j] = p if country[idx[0]] == CHINA else 0.0
            out["order_period_t"][j] = p * idx[1]
        elif name == "Stock_t":
            out["stock_t"][j] = p
    return out


@dataclass
class StandardForm:
    """One scenario's LP as numpy arrays (``LinearStandardFormCompiler``, mixed form), the arrays a
    ScenarioLP is made from; a stamped scenario (:mod:`model.stochastic.stamp`) is one of these written
    from another scenario's of the same structure."""

    c: np.ndarray  # objective coefficient per column, kUSD per unit
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray  # -inf: no lower side
    row_upper: np.ndarray  # +inf: no upper side
    A: object  # scipy CSC, indices sorted per column
    offset_kusd: float  # objective constant
    cols1: np.ndarray  # column of each first-stage variable (master order), -1: not in this LP
    only1: np.ndarray  # rows whose columns are all first stage
    columns: list  # VarData per column (of the scenario compiled by Pyomo)
    rows: list  # RowEntry (constraint data, bound type 0 | -1 | +1) per row


def _only_first_stage_rows(A, cols1: np.ndarray) -> np.ndarray:
    """Rows of ``A`` with at least one column, all of them first stage."""
    in1 = np.zeros(A.shape[1], dtype=bool)
    in1[cols1[cols1 >= 0]] = True
    Ar = A.tocsr()
    return np.array([i for i in range(A.shape[0]) if Ar.indptr[i + 1] > Ar.indptr[i]
                     and in1[Ar.indices[Ar.indptr[i]:Ar.indptr[i + 1]]].all()], dtype=np.int32)


def standard_form(b) -> StandardForm:
    """Compile the built scenario ``b`` once to its standard form (``b`` is left as built)."""
    import highspy
    import pyomo.environ as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    sf = LinearStandardFormCompiler().write(b.model, mixed_form=True, set_sense=None)
    if sf.objectives[0].sense != pyo.minimize:
        raise ValueError("a scenario objective must be minimised")
    inf = highspy.kHighsInf
    n = len(sf.columns)
    lb = np.array([-inf if v.lb is None else v.lb for v in sf.columns], dtype=float)
    ub = np.array([inf if v.ub is None else v.ub for v in sf.columns], dtype=float)
    rhs = np.asarray(sf.rhs, dtype=float)
    bt = np.array([r.bound_type for r in sf.rows], dtype=int)
    A = sf.A.tocsc()
    A.sort_indices()
    c = np.asarray(sf.c.toarray()).ravel() if n else np.zeros(0)
    pos = {id(v): j for j, v in enumerate(sf.columns)}
    cols1 = np.array([pos.get(id(v), -1) for v in b.first_stage_vars], dtype=np.int64)
    return StandardForm(c=c, col_lower=lb, col_upper=ub, row_lower=np.where(bt <= 0, rhs, -inf),  # 0: ==, -1: >=
                        row_upper=np.where(bt >= 0, rhs, inf), A=A,  # +1: <=
                        offset_kusd=float(sf.c_offset[0]) if len(sf.c_offset) else 0.0, cols1=cols1,
                        only1=_only_first_stage_rows(A, cols1), columns=list(sf.columns), rows=list(sf.rows))


def implied_first_stage_rows(f: StandardForm):
    """The rows of ``f`` that bind the first stage alone once its *pinned* columns are substituted:
    (master columns, coefficients, lower side, upper side) per row, in row order then pinned-column order.

    A second-stage column ``k`` is pinned when an equality row ``i`` holds it and otherwise only
    first-stage columns: ``a_ik y_k + a_i x = b_i``, so ``y_k = (b_i - a_i x) / a_ik`` whatever the
    scenario's recourse (a contract's reservation in a later month is the sum of the tranches signed
    now, ``ContractTranches``). Every other row over first-stage and pinned columns only, and each
    pinned column's own bounds, is then a row over the first stage (``ContractCapacity``,
    ``ContractBandUp``/``Down``, ``CommittedReservation`` of such a month). They hold in the scenario
    whatever the recourse, so the master gets them (with the rows of first-stage columns only): without
    them a first stage signing more than a later month's capacity is cut off only by feasibility cuts,
    one aggregate inequality per scenario and iteration, and the loop can stall (measured on the
    default case: 24 feasibility cuts an iteration, the bound unmoved for 100 iterations). The rows stay
    in the subproblem too."""
    import scipy.sparse as sp

    A, cols1 = f.A, f.cols1
    n, nr = A.shape[1], A.shape[0]
    in1 = np.zeros(n, dtype=bool)
    in1[cols1[cols1 >= 0]] = True
    Ar = A.tocsr()
    Ar.sort_indices()
    lo, hi = np.asarray(f.row_lower, dtype=float), np.asarray(f.row_upper, dtype=float)
    second = (~in1[Ar.indices]).astype(np.int64)
    n2 = np.add.reduceat(second, Ar.indptr[:-1]) if len(Ar.indices) else np.zeros(nr, dtype=np.int64)
    n2[np.diff(Ar.indptr) == 0] = 0
    eq = (lo == hi) & np.isfinite(lo)
    pin_of = np.full(n, -1, dtype=np.int64)  # column -> the row pinning it
    for i in np.nonzero(eq & (n2 == 1))[0]:
        seg = slice(Ar.indptr[i], Ar.indptr[i + 1])
        k = int(Ar.indices[seg][~in1[Ar.indices[seg]]][0])
        if pin_of[k] < 0:
            pin_of[k] = i
    pinned = np.nonzero(pin_of >= 0)[0]
    if not len(pinned):
        return []
    master_of = np.full(n, -1, dtype=np.int64)
    master_of[cols1[cols1 >= 0]] = np.nonzero(cols1 >= 0)[0]
    n1 = len(cols1)
    # y_k = const_k + E_k x (x in master order)
    const = np.zeros(len(pinned))
    E = sp.lil_matrix((len(pinned), n1))
    for r, k in enumerate(pinned):
        i = pin_of[k]
        seg = slice(Ar.indptr[i], Ar.indptr[i + 1])
        cs, vs = Ar.indices[seg], Ar.data[seg]
        a_k = float(vs[cs == k][0])
        const[r] = lo[i] / a_k
        for c, v in zip(cs, vs):
            if c != k:
                E[r, master_of[c]] = -float(v) / a_k
    E = E.tocsr()
    pos = np.full(n, -1, dtype=np.int64)
    pos[pinned] = np.arange(len(pinned))
    ok = in1 | (pos >= 0)
    out = []
    pin_rows = set(int(pin_of[k]) for k in pinned)
    for i in range(nr):
        seg = slice(Ar.indptr[i], Ar.indptr[i + 1])
        cs, vs = Ar.indices[seg], Ar.data[seg]
        if not len(cs) or n2[i] == 0 or i in pin_rows or not ok[cs].all():
            continue
        row = np.zeros(n1)
        shift = 0.0
        for c, v in zip(cs, vs):
            if in1[c]:
                row[master_of[c]] += v
            else:
                r = pos[c]
                shift += v * const[r]
                e = E.getrow(r)
                row[e.indices] += v * e.data
        nz = np.nonzero(row)[0]
        if len(nz):
            out.append((nz, row[nz], lo[i] - shift, hi[i] - shift))
    for r, k in enumerate(pinned):  # each pinned column's own bounds
        e = E.getrow(r)
        if len(e.indices) and (np.isfinite(f.col_lower[k]) or np.isfinite(f.col_upper[k])):
            out.append((e.indices.astype(np.int64), e.data.copy(), f.col_lower[k] - const[r], f.col_upper[k] - const[r]))
    return out


def _passed(f: StandardForm, options: SolverOptions):
    """A new HiGHS holding ``f``."""
    import highspy

    A = f.A
    h = new_highs()
    _configure(h, options)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = f.c
    lp.col_lower_, lp.col_upper_ = f.col_lower, f.col_upper
    lp.row_lower_, lp.row_upper_ = f.row_lower, f.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    h.passModel(lp)
    return h


def _as_subproblem(h, sub: ScenarioLP) -> None:
    """First-stage columns cost nothing (the master has their cost) and their own rows are free."""
    import highspy

    pres = sub.cols1[sub.cols1 >= 0].astype(np.int32)
    h.changeColsCost(len(pres), pres, np.zeros(len(pres)))
    k = len(sub.only_first_rows)
    if k:
        h.changeRowsBounds(k, sub.only_first_rows, np.full(k, -highspy.kHighsInf), np.full(k, highspy.kHighsInf))


def _live(sub: ScenarioLP):
    """The HiGHS instance of ``sub``: its persistent one, or (``highs`` None) a new one made from its form,
    as a subproblem once ``ready``, from its last basis."""
    if sub.highs is not None:
        return sub.highs
    h = _passed(sub.form(), sub.options)
    if sub.ready:
        _as_subproblem(h, sub)
    if sub.basis is not None:
        h.setBasis(sub.basis)
    return h


def _done(sub: ScenarioLP, h) -> None:
    """After a solve: a subproblem whose instance is not kept keeps only its basis."""
    if sub.highs is None:
        b = h.getBasis()
        sub.basis = b if b.valid else None


def scenario_lp(d, f: StandardForm, rows: FirstStageRows, options: SolverOptions, form=None) -> ScenarioLP:
    """Scenario ``d``'s persistent HiGHS holding the standard form ``f``; its rows of first-stage columns
    only, and those its pinned columns imply (:func:`implied_first_stage_rows`), are added to ``rows``.
    ``form`` (a function giving ``f`` again): no persistent HiGHS; one is made from ``form()`` for each
    solve, started from the scenario's last basis (:data:`KEEP_SUBPROBLEMS_UP_TO`)."""
    A, cols1 = f.A, f.cols1
    n, nr = A.shape[1], A.shape[0]
    present = cols1 >= 0
    cost1 = np.zeros(len(cols1))
    cost1[present] = f.c[cols1[present]]
    master_of = np.full(n, -1, dtype=np.int64)
    master_of[cols1[present]] = np.nonzero(present)[0]
    if len(f.only1):
        Ar = A.tocsr()
        for i in f.only1:
            cs = Ar.indices[Ar.indptr[i]:Ar.indptr[i + 1]]
            rows.add(master_of[cs], Ar.data[Ar.indptr[i]:Ar.indptr[i + 1]], f.row_lower[i], f.row_upper[i])
    for cs, vs, lo, hi in implied_first_stage_rows(f):
        rows.add(cs, vs, lo, hi)
    return ScenarioLP(name=d.scenario, probability=float(d.probability),
                      highs=_passed(f, options) if form is None else None, cols1=cols1, cost1_kusd=cost1,
                      offset_kusd=f.offset_kusd, only_first_rows=np.asarray(f.only1, dtype=np.int32), n_columns=n,
                      n_rows=nr, n_nonzeros=int(A.nnz), form=form, options=options if form is not None else None)


def first_stage_bounds(b) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the first-stage variables of the built scenario ``b`` (their units)."""
    import highspy

    inf = highspy.kHighsInf
    fsv = b.first_stage_vars
    return (np.array([-inf if v.lb is None else v.lb for v in fsv], dtype=float),
            np.array([inf if v.ub is None else v.ub for v in fsv], dtype=float))


def compile_built(d, names_ref: list[str] | None, rows: FirstStageRows, options: SolverOptions, sets=None,
                  keep_highs: bool = True):
    """Build scenario ``d`` in Pyomo, compile it once and hand it to a persistent HiGHS: what
    :func:`compile_scenario` returns, and its StandardForm (the template of a stamp group). ``sets``:
    ``build_sets(d)`` when already made (None: made here). ``keep_highs`` False: no persistent HiGHS
    (:func:`scenario_lp` ``form``), the arrays kept without their Pyomo objects."""
    from model.components.build import build_scenario_model

    b = build_scenario_model(d, sets=sets, name=d.scenario)
    names = [v.getname(fully_qualified=False) for v in b.first_stage_vars]
    if names_ref is not None and names != names_ref:
        raise ValueError(f"scenario {d.scenario!r} has different first-stage variables from the first scenario")
    f = standard_form(b)
    if keep_highs:
        sub = scenario_lp(d, f, rows, options)
    else:
        from dataclasses import replace

        light = replace(f, columns=[], rows=[])
        sub = scenario_lp(d, f, rows, options, form=lambda: light)
    lb1, ub1 = first_stage_bounds(b)
    return sub, names, lb1, ub1, first_stage_weights(b, d.probability), b, f


def compile_scenario(d, names_ref: list[str] | None, rows: FirstStageRows, options: SolverOptions):
    """Build scenario ``d``, compile it once and hand it to a persistent HiGHS.

    Returns (ScenarioLP, first-stage names, their lower and upper bounds, the first-stage criteria
    weights, the BuiltModel; compiling leaves it as built)."""
    return compile_built(d, names_ref, rows, options)[:6]


def _run(h, deadline: float | None) -> str:
    """One HiGHS run within ``deadline``; its model status. :class:`_Stopped` at the limit."""
    try:
        budget.set_highs_limit(h, deadline)
    except budget.Expired:
        raise _Stopped() from None
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status == "Time limit reached":
        raise _Stopped()
    return status


def wait_and_see(sub: ScenarioLP, deadline: float | None) -> float:
    """Solve the scenario with its first stage free (``WS_s``, kUSD); then make the LP a subproblem:
    first-stage columns cost nothing in it (the master has their cost) and their own rows are free."""
    h = _live(sub)
    t = time.perf_counter()
    status = _run(h, deadline)
    sub.wait_and_see_solve_s = time.perf_counter() - t
    if status != "Optimal":
        hint = ("its constraints conflict whatever the first stage (run --engine ef to see which)"
                if status in ("Infeasible", "Primal infeasible or unbounded") else "the solver did not return an optimum")
        raise SolveError(f"scenario {sub.name}: solver status '{status}' with its first stage free: {hint}",
                         termination="Infeasible" if status == "Infeasible" else status)
    sub.wait_and_see_kusd = float(h.getInfo().objective_function_value) + sub.offset_kusd
    _done(sub, h)
    _as_subproblem(h, sub)
    sub.ready = True
    return sub.wait_and_see_kusd


def _fix(h, sub: ScenarioLP, x: np.ndarray) -> None:
    pres = sub.cols1 >= 0
    cols = sub.cols1[pres].astype(np.int32)
    h.changeColsBounds(len(cols), cols, x[pres], x[pres])


def solve_at(sub: ScenarioLP, x: np.ndarray, deadline: float | None = None):
    """(status, Q_s(x) kUSD, subgradient g_s) with the first stage fixed at ``x`` (warm re-solve)."""
    h = _live(sub)
    _fix(h, sub, x)
    status = _run(h, deadline)
    _done(sub, h)
    if status != "Optimal":
        return status, float("nan"), None
    pres = sub.cols1 >= 0
    g = np.zeros(len(x))
    g[pres] = np.asarray(h.getSolution().col_dual)[sub.cols1[pres]]
    return status, float(h.getInfo().objective_function_value), g


def _elastic(sub: ScenarioLP, options: SolverOptions):
    """The scenario's elastic LP: the subproblem with a slack column (cost 1, t) per finite row side
    and every other cost 0. Built once, when the scenario first needs a feasibility cut."""
    import highspy
    import scipy.sparse as sp

    lp = _live(sub).getLp()
    n, nr = lp.num_col_, lp.num_row_
    inf = highspy.kHighsInf
    A = sp.csc_matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                       np.asarray(lp.a_matrix_.start_)), shape=(nr, n))
    lo, hi = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    up = np.nonzero(lo > -inf)[0]  # a + s >= lo
    down = np.nonzero(hi < inf)[0]  # a - s <= hi
    S = sp.csc_matrix((np.r_[np.ones(len(up)), -np.ones(len(down))], (np.r_[up, down], np.arange(len(up) + len(down)))),
                      shape=(nr, len(up) + len(down)))
    B = sp.hstack([A, S], format="csc")
    B.sort_indices()
    m = B.shape[1]
    e = highspy.HighsLp()
    e.num_col_, e.num_row_ = m, nr
    e.col_cost_ = np.r_[np.zeros(n), np.ones(m - n)]
    e.col_lower_ = np.r_[np.asarray(lp.col_lower_), np.zeros(m - n)]
    e.col_upper_ = np.r_[np.asarray(lp.col_upper_), np.full(m - n, inf)]
    e.row_lower_, e.row_upper_ = lo, hi
    e.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    e.a_matrix_.start_ = B.indptr.astype(np.int32)
    e.a_matrix_.index_ = B.indices.astype(np.int32)
    e.a_matrix_.value_ = B.data.astype(float)
    h = new_highs()
    _configure(h, options)
    h.passModel(e)
    return h


def feasibility_cut(sub: ScenarioLP, x: np.ndarray, options: SolverOptions, deadline: float | None = None):
    """(V_s(x), g) of the elastic LP at ``x``: the cut is V_s(x) + g (x' - x) <= 0; V_s(x) <= FEAS_TOL_T: None."""
    if sub.elastic is None:
        sub.elastic = _elastic(sub, options)
    h = sub.elastic
    _fix(h, sub, x)
    status = _run(h, deadline)
    if status != "Optimal":
        raise SolveError(f"scenario {sub.name}: the elastic LP of a feasibility cut ended '{status}'", termination=status)
    v = float(h.getInfo().objective_function_value)
    if v <= FEAS_TOL_T:
        return None
    pres = sub.cols1 >= 0
    g = np.zeros(len(x))
    g[pres] = np.asarray(h.getSolution().col_dual)[sub.cols1[pres]]
    return v, g


# ----------------------------------------------------------------------------------- master


class Master:
    """The master LP (module docstring). Columns: x (n1), theta (one per group), then eta and u_s
    (one per scenario) when lambda > 0. Rows: first-stage rows, wait-and-see rows, tail rows, cuts."""

    def __init__(self, lb1, ub1, rows: FirstStageRows, subs: list[ScenarioLP], groups: list[np.ndarray],
                 lam: float, alpha: float, options: SolverOptions):
        import highspy

        inf = self.inf = highspy.kHighsInf
        self.n1, self.G, self.S = len(lb1), len(groups), len(subs)
        self.groups, self.lam, self.alpha, self.risk = groups, float(lam), float(alpha), lam > 0
        p = self.p = np.array([s.probability for s in subs])
        self.P = np.array([p[g].sum() for g in groups])
        C1 = self.C1 = np.array([s.cost1_kusd for s in subs]).reshape(len(subs), self.n1)
        off = self.off = np.array([s.offset_kusd for s in subs])
        n1, G, S = self.n1, self.G, self.S
        self.ncol = n1 + G + ((1 + S) if self.risk else 0)
        cost = np.zeros(self.ncol)
        cost[:n1] = p @ C1
        cost[n1:n1 + G] = self.P
        lo, hi = np.full(self.ncol, -inf), np.full(self.ncol, inf)
        self.lb1, self.ub1 = np.asarray(lb1, dtype=float), np.asarray(ub1, dtype=float)
        lo[:n1], hi[:n1] = self.lb1, self.ub1
        self.eta = n1 + G
        if self.risk:
            cost[self.eta] = lam
            cost[self.eta + 1:] = lam * p / (1 - alpha)
            lo[self.eta + 1:] = 0.0
        self.cost, self.offset = cost, float(p @ off)
        h = self.h = new_highs()
        _configure(h, options)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.ncol, 0
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
        lp.offset_ = self.offset
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(self.ncol + 1, dtype=np.int32)
        h.passModel(lp)
        self.n_rows = 0
        self.solve_s = 0.0  # seconds in master solves
        self.n_cuts = 0
        self.n_feasibility_cuts = 0
        if rows.cols:
            self._add_rows(rows.lower, rows.upper, rows.cols, rows.vals)
        ws = np.array([s.wait_and_see_kusd for s in subs])
        lows, cols, vals = [], [], []
        for k, g in enumerate(groups):  # sum_{s in g} p_s (c1_s x + theta_s) >= sum_{s in g} p_s (WS_s - k_s), / P_g
            a = (p[g] @ C1[g]) / self.P[k]
            nz = np.nonzero(a)[0]
            cols.append(np.r_[nz, n1 + k])
            vals.append(np.r_[a[nz], 1.0])
            lows.append(float(p[g] @ (ws[g] - off[g]) / self.P[k]))
        self._add_rows(lows, [inf] * G, cols, vals)
        if self.risk:  # u_s + eta - c1_s x - theta_s >= k_s (the groups are the scenarios)
            lows, cols, vals = [], [], []
            for s in range(S):
                nz = np.nonzero(C1[s])[0]
                cols.append(np.r_[nz, n1 + s, self.eta, self.eta + 1 + s])
                vals.append(np.r_[-C1[s][nz], -1.0, 1.0, 1.0])
                lows.append(float(off[s]))
            self._add_rows(lows, [inf] * S, cols, vals)

    def _add_rows(self, lower, upper, cols, vals) -> None:
        if not cols:
            return
        starts = np.cumsum([0] + [len(c) for c in cols[:-1]]).astype(np.int32)
        idx = np.concatenate(cols).astype(np.int32)
        val = np.concatenate(vals).astype(float)
        self.h.addRows(len(cols), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), len(idx), starts, idx, val)
        self.n_rows += len(cols)

    def add_cuts(self, cuts) -> None:
        """``cuts``: (group k, a, r), each the row theta_k - a x >= r."""
        lows, cols, vals = [], [], []
        for k, a, r in cuts:
            nz = np.nonzero(a)[0]
            cols.append(np.r_[nz, self.n1 + k])
            vals.append(np.r_[-a[nz], 1.0])
            lows.append(r)
        self._add_rows(lows, [self.inf] * len(cols), cols, vals)
        self.n_cuts += len(cols)

    def add_feasibility_cut(self, a: np.ndarray, r: float) -> None:
        """The row a x >= r."""
        nz = np.nonzero(a)[0]
        self._add_rows([r], [self.inf], [nz], [a[nz]])
        self.n_feasibility_cuts += 1

    def set_box(self, lo: np.ndarray | None, hi: np.ndarray | None) -> None:
        """Bound x to [lo, hi] within its own bounds (None: its own bounds only)."""
        idx = np.arange(self.n1, dtype=np.int32)
        lo = self.lb1 if lo is None else np.maximum(lo, self.lb1)
        hi = self.ub1 if hi is None else np.minimum(hi, self.ub1)
        self.h.changeColsBounds(self.n1, idx, lo, np.maximum(hi, lo))

    def solve(self, deadline: float | None):
        """(status, column values, objective kUSD) of a warm re-solve."""
        t = time.perf_counter()
        try:
            status = _run(self.h, deadline)
        finally:
            self.solve_s += time.perf_counter() - t
        if status != "Optimal":
            return status, None, float("nan")
        v = np.asarray(self.h.getSolution().col_value, dtype=float).copy()
        v[:self.n1] = np.clip(v[:self.n1], self.lb1, self.ub1)
        return status, v, float(self.h.getInfo().objective_function_value)

    def set_objective(self, w: np.ndarray) -> None:
        self.h.changeColsCost(self.ncol, np.arange(self.ncol, dtype=np.int32), np.asarray(w, dtype=float))

    def restrict(self, w: np.ndarray) -> None:
        """Cut the master down to the optimal face of objective ``w`` it holds an optimal basis of
        (complementarity with its duals, ``model.solve.canonical._restrict``)."""
        from model.solve import canonical as can

        can._restrict(self.h, np.asarray(w, dtype=float), self.n_rows)

    def add_guard(self, w: np.ndarray, z: float) -> None:
        """The row w v <= z (1 + GUARD_REL) + GUARD_ABS_KUSD (z without the objective's constant)."""
        nz = np.nonzero(w)[0]
        self._add_rows([-self.inf], [z + GUARD_REL * abs(z) + GUARD_ABS_KUSD], [nz], [np.asarray(w)[nz]])


def _risk(totals: np.ndarray, p: np.ndarray, alpha: float, lam: float) -> float:
    from model.stochastic.extensive import risk_value

    return risk_value(totals, p, alpha, lam)


# ----------------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class Iteration:
    iteration: int
    lower_bound_kusd: float
    upper_bound_kusd: float
    gap_frac: float
    seconds: float  # since the decomposition started

    def as_kpi(self) -> dict:
        from model.units import USD_PER_KUSD

        usd = (lambda v: None if not np.isfinite(v) else round(float(v) * USD_PER_KUSD, 6))  # noqa: E731
        return {"iteration": self.iteration, "lower_bound_usd": usd(self.lower_bound_kusd),
                "upper_bound_usd": usd(self.upper_bound_kusd),
                "gap_frac": None if not np.isfinite(self.gap_frac) else round(float(self.gap_frac), 12)}
                # its seconds go to the run's timings (kpis.json is the same for two runs of one input)


@dataclass
class BendersOutcome:
    """What the decomposition found (before the plan is re-solved per scenario)."""

    first_stage: dict[str, float]  # by variable name
    lower_bound_kusd: float
    upper_bound_kusd: float  # the best plan value found (F at the incumbent; the canonical point is within the guard)
    termination: str  # optimal | gap_reached | time_limit | iteration_limit
    iterations: list[Iteration]
    groups: int
    cuts: int
    feasibility_cuts: int
    trust_region_used: bool
    canonical: dict
    sizes: dict  # columns, rows, nonzeros over the master and every subproblem
    build_s: float
    loop_s: float
    master_s: float = 0.0  # of loop_s, in master solves
    subproblem_s: float = 0.0  # of loop_s, in subproblem solves
    decomposition: "Decomposition | None" = None  # the subproblems (for EVPI / VSS and the plan's re-solve)


def _gap(ub: float, lb: float) -> float:
    if not (np.isfinite(ub) and np.isfinite(lb)):
        return float("inf")
    return max(0.0, ub - lb) / max(abs(ub), 1e-9)


def _groups(S: int, lam: float, aggregate: int | None) -> list[np.ndarray]:
    G = S if aggregate is None else int(aggregate)
    if aggregate is None and S > AGGREGATE_ABOVE and lam <= 0:
        G = AGGREGATE_GROUPS
    if lam > 0 or G >= S or G <= 0:
        return [np.array([s]) for s in range(S)]
    return [np.arange(k, S, G) for k in range(G)]


class Decomposition:
    """The subproblems, the master and the loop's state (module docstring)."""

    def __init__(self, cases, options: SolverOptions, aggregate: int | None = None, trust_region: bool | None = None,
                 keep_models: bool | None = None, workers: int = 1, stamp: bool | None = None):
        self.cases, self.options = list(cases), options
        self.keep_models = len(self.cases) <= KEEP_MODELS_UP_TO if keep_models is None else keep_models
        # stamp scenarios of one structure (model.stochastic.stamp); False: Pyomo for each; None: stamp exactly
        # when the models are not kept (STAMP_WHEN_MODELS_KEPT)
        self.stamp = (STAMP_WHEN_MODELS_KEPT or not self.keep_models) if stamp is None else bool(stamp)
        self.stamp_info: dict = {}
        self.workers = int(workers)
        self.pool = None  # the subproblem pool (model.stochastic.parallel), opened by build()
        self.builts: list = []  # W = 1: the scenarios' Pyomo models kept for the plan's re-solve
        self.risk = self.cases[0].case.risk
        self.lam, self.alpha = float(self.risk.risk_weight_lambda), float(self.risk.cvar_alpha)
        self.aggregate, self.trust_region = aggregate, trust_region
        self.iterations: list[Iteration] = []
        self.lb, self.ub, self.xhat = -np.inf, np.inf, None
        self.delta: float | None = None
        self.trust_region_used = False
        self.t0 = time.perf_counter()
        self.subproblem_s = 0.0  # seconds in the subproblem (and elastic) solves of the loop

    # ---- build
    def build(self, own_phase: bool = True) -> None:
        """Build every scenario's subproblem through the pool (in parallel for W >= 2) and the master;
        the bounds, weights and first-stage rows are merged in scenario order whatever W is. With
        ``stamp`` (the default) the first two scenarios of each structure are built by Pyomo and the
        others stamped into the first's standard form (:mod:`model.stochastic.stamp`; a group whose
        check fails is built by Pyomo, ``stamp_info["note"]`` says so). ``own_phase`` False: no progress
        phase of its own, each scenario built a step of the caller's (EVPI and VSS of the extensive form)."""
        import contextlib

        opts, S = self.options, len(self.cases)
        self.rows = FirstStageRows()
        names, lb1, ub1, weights = None, None, None, None
        self.pool = parallel.open_pool(self.cases, opts, self.workers, self.keep_models, self.stamp)
        self.subs = self.pool.subs  # ScenarioLP (W = 1) or parallel.ScenarioHead, in scenario order
        self.builts = getattr(self.pool, "builts", [])
        with (progress.phase(f"building the Benders subproblems of {S:,} scenarios", total=S,
                             key="building the Benders subproblems") if own_phase else contextlib.nullcontext()) as shown:
            for b in self.pool.build(self.rows, shown.advance if own_phase else progress.advance):
                if names is not None and b.names != names:
                    raise ValueError(f"scenario {b.head.name!r} has different first-stage variables from the first scenario")
                if lb1 is None:
                    names, lb1, ub1, weights = b.names, b.lb1, b.ub1, b.weights
                else:
                    lb1, ub1 = np.maximum(lb1, b.lb1), np.minimum(ub1, b.ub1)
                    weights = {k: weights[k] + b.weights[k] for k in weights}
        if np.any(lb1 > ub1 + POINT_TOL):
            j = int(np.argmax(lb1 - ub1))
            raise SolveError(f"first-stage decision {names[j]} has no value within every scenario's bounds",
                             termination="Infeasible")
        self.stamp_info = self.pool.stamp_info()
        self.names, self.weights = names, weights
        self.n1 = len(names)
        self.groups = _groups(S, self.lam, self.aggregate)
        self.master = Master(lb1, np.maximum(ub1, lb1), self.rows, self.subs, self.groups, self.lam, self.alpha, opts)
        self.build_s = time.perf_counter() - self.t0

    def close(self, force: bool = False) -> None:
        """End the pool's workers (W >= 2; nothing for W = 1). ``force``: at once (an exception is unwinding)."""
        if self.pool is not None:
            self.pool.close(force=force)

    # ---- one evaluation of every scenario at x
    def evaluate(self, x: np.ndarray, theta: np.ndarray | None, deadline: float | None, add: bool = True):
        """F(x) (None if a scenario rejects x: feasibility cuts added) and the violated optimality cuts
        (added to the master when ``add``)."""
        m, S = self.master, len(self.subs)
        Q, Gs = np.zeros(S), np.zeros((S, self.n1))
        t = time.perf_counter()
        try:
            feasible = self._solve_all(x, deadline, Q, Gs)
        finally:
            self.subproblem_s += time.perf_counter() - t
        if not feasible:
            return None, []
        cuts = []
        for k, grp in enumerate(self.groups):
            w = m.p[grp] / m.P[k]
            qg, a = float(w @ Q[grp]), w @ Gs[grp]
            if theta is None or theta[k] < qg - CUT_TOL_REL * max(1.0, abs(qg)):
                cuts.append((k, a, qg - float(a @ x)))
        if add and cuts:
            m.add_cuts(cuts)
        totals = m.C1 @ x + Q + m.off
        return _risk(totals, m.p, self.alpha, self.lam), cuts

    def _solve_all(self, x: np.ndarray, deadline: float | None, Q: np.ndarray, Gs: np.ndarray) -> bool:
        """Every subproblem at ``x`` (through the pool): Q and subgradients into ``Q``, ``Gs``; False
        (feasibility cuts added, in scenario order) if a scenario rejects ``x``."""
        r = self.pool.solve(x, deadline, gradients=True, cuts=True)
        feasible = True
        for s, status in enumerate(r.status):
            sub = self.subs[s]
            if status == "Optimal":
                Q[s], Gs[s] = r.Q_kusd[s], r.G[s]
            elif status == parallel.STOPPED:
                raise _Stopped()
            elif status in parallel.INFEASIBLE:
                cut = r.cuts.get(s)
                if isinstance(cut, parallel.CutFailed):
                    raise SolveError(cut.message, termination=cut.termination)
                if cut is None:
                    raise SolveError(f"scenario {sub.name}: HiGHS calls the subproblem infeasible but its elastic "
                                     f"LP finds no infeasibility (numerical trouble; try --engine ef)", termination="error")
                v, g = cut
                self.master.add_feasibility_cut(-g, v - float(g @ x))
                feasible = False
            else:
                raise SolveError(f"scenario {sub.name}: subproblem ended '{status}'", termination=status)
        return feasible

    def _record(self, it: int) -> None:
        self.iterations.append(Iteration(it, self.lb, self.ub, _gap(self.ub, self.lb), time.perf_counter() - self.t0))

    def _label(self, it: int) -> str:
        """The phase name of iteration ``it``: the bounds it starts from (those of iteration it - 1)."""
        ub = f"{self.ub:,.1f} kUSD" if np.isfinite(self.ub) else "none yet"
        if not np.isfinite(self.lb):
            return f"Benders iteration {it}: plan {ub}, no bound yet"
        return f"Benders iteration {it}: bound {self.lb:,.1f} kUSD, plan {ub}, gap {_gap(self.ub, self.lb):.2e}"

    # ---- the cutting-plane loop
    def warm_start(self, x0: np.ndarray | None, deadline: float | None) -> None:
        """Evaluate the expected-value plan's first stage (iteration 0): cuts, and the first incumbent."""
        if x0 is None:
            return
        m = self.master
        x0 = np.clip(x0, m.lb1, m.ub1)
        with progress.phase("Benders iteration 0: the expected-value plan's first stage", total=len(self.subs),
                            key="Benders iterations"):
            F, _ = self.evaluate(x0, None, deadline)
        if F is not None and self.rows.violation(x0) <= POINT_TOL:
            self.ub, self.xhat = F, x0
        self._record(0)

    def loop(self, target: float, deadline: float | None, max_iterations: int) -> str:
        """Cutting planes until the gap is at most ``target``: 'converged' or 'iteration_limit'
        (:class:`_Stopped` at the deadline)."""
        m, S = self.master, len(self.subs)
        start = len(self.iterations)
        while True:
            it = len(self.iterations)
            if it - start >= max_iterations:
                return "iteration_limit"
            with progress.phase(self._label(it), total=S, key="Benders iterations"):
                box = self._box()
                status, v, mval = m.solve(deadline)
                if status != "Optimal":
                    raise SolveError(self._master_failed(status), termination="Infeasible" if "nfeasible" in status else status)
                x, theta = v[:self.n1], v[self.n1:self.n1 + m.G]
                lb = mval
                if box is not None and self._binding(x, box):
                    m.set_box(None, None)
                    status, _, lb = m.solve(deadline)
                    if status != "Optimal":
                        raise SolveError(self._master_failed(status), termination=status)
                self.lb = max(self.lb, lb)
                if _gap(self.ub, self.lb) <= target:
                    self._record(it)
                    return "converged"
                F, cuts = self.evaluate(x, theta, deadline)
                self._step(x, F, mval, box)
                self._record(it)
                if _gap(self.ub, self.lb) <= target:
                    return "converged"
                if F is not None and not cuts and box is None:
                    return "converged"  # no cut violated at the master's optimum: F(x) <= LB (to CUT_TOL_REL)
            if self.delta is None and self.trust_region is not False and self.xhat is not None and (
                    self.trust_region or it - start + 1 >= ZIGZAG_AFTER):
                self.delta = max(TR_MIN_T, TR_INIT_FRAC * max(1.0, float(np.abs(self.xhat).max(initial=0.0))))
                self.trust_region_used = True

    def _master_failed(self, status: str) -> str:
        if "nfeasible" in status:
            return ("no first stage is feasible in every scenario (the master LP is infeasible after "
                    f"{self.master.n_feasibility_cuts} feasibility cuts); run --engine ef to see the conflicting constraints")
        return f"the Benders master LP ended '{status}'"

    def _box(self):
        if self.delta is None or self.xhat is None:
            self.master.set_box(None, None)
            return None
        lo, hi = self.xhat - self.delta, self.xhat + self.delta
        self.master.set_box(lo, hi)
        return np.maximum(lo, self.master.lb1), np.minimum(hi, self.master.ub1)

    def _binding(self, x, box) -> bool:
        lo, hi = box
        eps = 1e-9 * max(1.0, self.delta)
        return bool(np.any(((x <= lo + eps) & (lo > self.master.lb1 + eps)) | ((x >= hi - eps) & (hi < self.master.ub1 - eps))))

    def _step(self, x, F, mval, box) -> None:
        """Incumbent and trust-region update after evaluating ``x`` (F None: a scenario rejected it)."""
        if box is None or self.xhat is None:
            if F is not None and F < self.ub:
                self.ub, self.xhat = F, x.copy()
            return
        predicted = self.ub - mval
        if F is not None and F <= self.ub - TR_ACCEPT * max(predicted, 0.0):
            if F <= self.ub - TR_GROW_AT * predicted and self._binding(x, box):
                self.delta *= 2.0
            self.ub, self.xhat = F, x.copy()
        elif predicted > 0:
            rho = np.inf if F is None else (F - self.ub) / predicted
            if rho > TR_SHRINK_AT:
                self.delta = max(TR_MIN_T, self.delta / min(rho, 4.0))

    # ---- canonical first stage
    def column_weights(self, name: str) -> np.ndarray:
        """The criterion ``name`` on the master's columns (module docstring)."""
        m = self.master
        w = np.zeros(m.ncol)
        w[:self.n1] = self.weights[name]
        if name == "generic" and m.risk:
            from model.solve.canonical import _generic

            w[m.eta] = _generic("|VaR_kusd|''")
            w[m.eta + 1:] = [_generic(f"|TailExcess_kusd|{s.name!r}") for s in self.subs]
        return w

    def canonical(self, deadline: float | None) -> tuple[np.ndarray, dict]:
        """The canonical optimal first stage over the master's optimal face (module docstring)."""
        from model.solve.canonical import CANONICAL_STAGES

        m = self.master
        z0 = self.ub
        m.set_box(None, None)
        m.set_objective(m.cost)
        status, v, val = m.solve(deadline)
        if status != "Optimal" or _gap(z0, val) > EXACT_GAP_FRAC:
            return self.xhat, {"applied": False, "stages": [], "note": f"the master's optimum ({status}) is not the plan's cost"}
        m.restrict(m.cost)
        m.add_guard(m.cost, z0 - m.offset)
        limit = z0 + GUARD_REL * abs(z0) + GUARD_ABS_KUSD
        x_best, done = self.xhat, []
        with progress.phase("canonical first stage among the equally cheap ones", key="Benders canonical first stage"):
            for name, _ in CANONICAL_STAGES:
                w = self.column_weights(name)
                if not w.any():
                    continue
                m.set_objective(w)
                for _round in range(CANONICAL_ITERATIONS):
                    status, v, _ = m.solve(deadline)
                    if status != "Optimal":
                        return x_best, {"applied": False, "stages": done, "note": f"stage {name} ended '{status}'"}
                    x, theta = v[:self.n1], v[self.n1:self.n1 + m.G]
                    F, cuts = self.evaluate(x, theta, deadline, add=False)
                    if F is not None and F <= limit:
                        break
                    if cuts:
                        m.add_cuts(cuts)
                    elif F is not None:
                        return x_best, {"applied": False, "stages": done,
                                        "note": f"stage {name}: a point costs {F - z0:.3g} kUSD over the optimum, no cut"}
                else:
                    return x_best, {"applied": False, "stages": done,
                                    "note": f"stage {name} did not converge in {CANONICAL_ITERATIONS} rounds"}
                m.restrict(w)
                m.add_guard(w, float(w @ v))
                x_best = x.copy()
                done.append(name)
        return x_best, {"applied": True, "stages": done, "note": ""}

    def totals_at(self, first_stage: dict[str, float]) -> np.ndarray:
        """F_s + C_s of every scenario with ``first_stage`` (by name) fixed, kUSD, from the subproblems;
        SolveError where a scenario rejects it (termination ``time_limit`` at the run's deadline)."""
        m = self.master
        x = np.clip(np.array([first_stage[n] for n in self.names], dtype=float), m.lb1, m.ub1)
        if self.rows.violation(x) > POINT_TOL:
            raise SolveError("the first stage breaks a constraint of its own decisions", termination="Infeasible")
        r = self.pool.solve(x, budget.deadline_s(self.options), gradients=False, cuts=False)
        for s, status in enumerate(r.status):
            if status == parallel.STOPPED:
                raise budget.out_of_time(self.options, "while re-solving the scenarios with the plan's first stage fixed",
                                         f"{s:,} of {len(self.subs):,} scenarios done", outcome=None)
            if status != "Optimal":
                raise SolveError(f"scenario {self.subs[s].name}: '{status}' with this first stage", termination=status)
        return m.C1 @ x + r.Q_kusd + m.off

    def evaluate_plan(self, first_stage: dict[str, float], options: SolverOptions):
        """(Evaluation, scenario 0's first-stage cost kUSD): every scenario re-solved with ``first_stage``
        held (:func:`evaluate_plan`), where its subproblem lives (the models built for it reused)."""
        return self.pool.plan(first_stage, options)

    def sizes(self) -> dict:
        m = self.master
        return {"columns": m.ncol + sum(s.n_columns for s in self.subs),
                "rows": m.n_rows + sum(s.n_rows for s in self.subs),
                "nonzeros": int(m.h.getLp().a_matrix_.value_.__len__()) + sum(s.n_nonzeros for s in self.subs)}


def decompose(cases, options: SolverOptions, rel_gap: float | None = None, aggregate: int | None = None,
              trust_region: bool | None = None, x0: dict[str, float] | None = None,
              keep_models: bool | None = None, workers: int = 1, stamp: bool | None = None) -> BendersOutcome:
    """Build the subproblems and run the loop, polishing and canonical stages within the time budget.

    ``x0``: the warm start by variable name (None: the expected-value plan's first stage).
    ``aggregate``: the number of cut groups (None: multi-cut up to AGGREGATE_ABOVE scenarios).
    ``trust_region``: True from the first iteration, False never, None after ZIGZAG_AFTER iterations.
    ``keep_models``: keep each scenario's Pyomo model for the plan's re-solve (None: up to KEEP_MODELS_UP_TO
    scenarios). ``workers``: processes holding the subproblems (:mod:`model.stochastic.parallel`; 1: this
    one). The outcome's decomposition keeps them for :func:`plan_run`, which ends them; on any exception
    they are ended here. ``stamp``: stamp the scenarios of one structure (:mod:`model.stochastic.stamp`;
    False: build every one in Pyomo)."""
    opened: list = []
    try:
        return _decompose(cases, options, rel_gap, aggregate, trust_region, x0, keep_models, workers, opened, stamp)
    except BaseException:  # Ctrl-C and SIGTERM included: no worker outlives a failed decomposition
        for dec in opened:
            dec.close(force=True)
        raise


def _decompose(cases, options, rel_gap, aggregate, trust_region, x0, keep_models, workers, opened: list,
               stamp: bool | None = None) -> BendersOutcome:
    from model.stochastic.extensive import _expected_value_plan

    options = budget.start(options)
    target = DEFAULT_GAP_FRAC if not rel_gap or rel_gap <= 0 else float(rel_gap)
    dec = Decomposition(cases, options, aggregate=aggregate, trust_region=trust_region, keep_models=keep_models,
                        workers=workers, stamp=stamp)
    opened.append(dec)
    dec.build()
    if x0 is None:
        budget.check(options, "before the expected-value plan (the Benders warm start)")
        try:
            with progress.phase("the expected-value plan (the Benders warm start)"):
                _, x0 = _expected_value_plan(cases, options)
        except SolveError as e:
            if budget.is_time_limit(e):
                raise budget.out_of_time(options, "while solving the expected-value problem (the Benders warm start)") from None
            x0 = None  # the mean case itself is infeasible: start from the master's first point
    left = budget.remaining_s(options)
    deadline = None if left is None else budget.now() + budget.MAIN_SOLVE_SHARE * left
    t1 = time.perf_counter()
    converged, termination = False, "time_limit"
    canonical = {"applied": False, "stages": [], "note": ""}
    x = None
    try:
        dec.warm_start(None if x0 is None else np.array([x0[n] for n in dec.names], dtype=float), deadline)
        state = dec.loop(target, deadline, MAX_ITERATIONS)
        converged = state == "converged"
        termination = ("optimal" if _gap(dec.ub, dec.lb) <= DEFAULT_GAP_FRAC else "gap_reached") if converged else state
        x = dec.xhat
        if converged and target <= DEFAULT_GAP_FRAC and options.canonical:
            dec.loop(EXACT_GAP_FRAC, deadline, POLISH_ITERATIONS)
            if _gap(dec.ub, dec.lb) <= EXACT_GAP_FRAC:
                x, canonical = dec.canonical(deadline)
            else:
                canonical["note"] = (f"not applied: the gap {_gap(dec.ub, dec.lb):.2e} did not close to {EXACT_GAP_FRAC:g} in "
                                     f"{POLISH_ITERATIONS} more iterations; the plan is the incumbent")
            x = dec.xhat if x is None else x
        elif converged and not options.canonical:
            canonical["note"] = "not applied: not asked for (SolverOptions.canonical false); the plan is the incumbent"
        elif converged:
            canonical["note"] = f"not applied: the target gap {target:g} is above {DEFAULT_GAP_FRAC:g}; the plan is the incumbent"
    except _Stopped:
        if not dec.iterations or dec.iterations[-1].lower_bound_kusd != dec.lb:
            dec._record(len(dec.iterations))  # the iteration the limit cut: the bound its master proved
        x = x if x is not None else dec.xhat
        limit = budget.limit_text(options) if options.time_limit_s is not None else "the time limit"
        canonical["note"] = f"not applied: {limit} reached; the plan is the best one found"
        if x is None:
            raise budget.out_of_time(options, "during the Benders iterations",
                                     f"{len(dec.iterations):,} done, no first stage yet feasible in every scenario") from None
    if x is None:
        raise SolveError(f"Benders found no first stage feasible in every scenario in {len(dec.iterations)} iterations",
                         termination=termination)
    x = np.clip(x, dec.master.lb1, dec.master.ub1)
    return BendersOutcome(first_stage=dict(zip(dec.names, map(float, x))), lower_bound_kusd=float(dec.lb),
                          upper_bound_kusd=float(dec.ub), termination=termination, iterations=list(dec.iterations),
                          groups=len(dec.groups), cuts=dec.master.n_cuts, feasibility_cuts=dec.master.n_feasibility_cuts,
                          trust_region_used=dec.trust_region_used, canonical=canonical, sizes=dec.sizes(),
                          build_s=dec.build_s, loop_s=time.perf_counter() - t1, master_s=dec.master.solve_s,
                          subproblem_s=dec.subproblem_s, decomposition=dec)


def evaluate_plan(cases, first_stage: dict[str, float], options: SolverOptions, builts: list | None = None,
                  stamper=None):
    """Every scenario re-solved alone with ``first_stage`` held, its canonical plan and Solution:
    ``evaluate_first_stage(cases, first_stage, options, keep=True, tie_break=canonical_plan)`` except that
    each first-stage variable is held by its bounds (lb = ub = value) instead of ``fix()``. A fixed
    variable is folded into a constant by the standard-form compiler, which then refuses a row whose
    constant misses its bound by any rounding at all (``ContractCapacity`` at 0.300000000000015 <= 0.3,
    seen on 30 sampled scenarios); a first stage read off the master is exact to HiGHS's tolerance,
    not to the last bit, and HiGHS applies its tolerance to a column held by its bounds. ``builts``: the
    scenarios' models as built (none solved yet), used instead of building them again and released
    one by one. ``stamper``: the pool's :class:`model.stochastic.stamp.Stamper`; a scenario of a stamping
    group is re-solved from its stamped LP and read through its group's template model instead
    (:mod:`model.stochastic.replan`: the same plan and tables, no Pyomo model built for it)."""
    import pyomo.environ as pyo

    from model.components.build import build_scenario_model
    from model.results.tables import extract
    from model.solve.highs import solve
    from model.stochastic.evaluate import Evaluation, _within_budget, canonical_plan

    totals, sols, built0, result0, first0 = [], [], None, None, None
    highs_s = 0.0

    def held(i, d):
        fast = None if stamper is None else stamper.replan(d, first_stage, options)
        if fast is not None:
            if builts:
                builts[i] = None
            return None, *fast
        b = builts[i] if builts else None
        if b is None:
            b = build_scenario_model(d, name=d.scenario)
        else:
            builts[i] = None
        for v in b.first_stage_vars:
            val = first_stage[v.getname(fully_qualified=False)]
            v.setlb(val)
            v.setub(val)
            v.set_value(val, skip_validation=True)
        r = solve(b.model, options, tie_break=canonical_plan(b))
        return (b, float(pyo.value(b.model.FirstStageCost_kusd + b.model.ScenarioCost_kusd)), extract(b, r), r,
                float(pyo.value(b.model.FirstStageCost_kusd)))

    for i, d in enumerate(cases):
        b, total, sol, r, first = _within_budget(options, "while re-solving the scenarios with the plan's first stage "
                                                 "fixed", i, len(cases), lambda: held(i, d))
        totals.append(total)
        sols.append(sol)
        highs_s += r.solve_s + r.marginal_s + r.canonical_s  # HiGHS runs, with the canonical stages' own Python
        if i == 0:
            built0, result0, first0 = b, r, first
    return Evaluation(totals_kusd=np.array(totals), solutions=tuple(sols), built0=built0, result0=result0,
                      first_cost0_kusd=first0, highs_s=highs_s)


STATUS_NOTE = {
    "time_limit": "Benders stopped at the time limit; the plan shown is the best first stage found, re-optimised in "
                  "every scenario, and the bound is the master's lower bound",
    "gap_reached": "Benders stopped at the requested gap; the plan shown is the best first stage found, re-optimised "
                   "in every scenario, and the bound is the master's lower bound",
    "iteration_limit": "Benders stopped at its iteration limit; the plan shown is the best first stage found, "
                       "re-optimised in every scenario, and the bound is the master's lower bound",
}


def run_stochastic_benders(data, options: SolverOptions = SolverOptions(), with_evpi_vss: bool = True,
                           rel_gap: float | None = None, aggregate: int | None = None,
                           trust_region: bool | None = None, workers: int = 1, stamp: bool | None = None):
    """The two-stage plan of ``data`` by Benders decomposition: a StochasticRun with the fields of
    ``extensive.run_stochastic`` (``ef`` None). ``rel_gap``: the target relative gap (None or 0:
    DEFAULT_GAP_FRAC). ``workers``: processes holding the subproblems (``--workers``; the same plan,
    bounds and iterations for any count, :mod:`model.stochastic.parallel`). ``stamp``: stamp the
    scenarios of one structure instead of building each (:mod:`model.stochastic.stamp`; the same plan)."""
    from model.input.scenarios import scenario_cases

    options = budget.start(options)
    t0 = time.perf_counter()
    with progress.phase("generating the scenarios"):
        cases = scenario_cases(data)
    budget.check(options, "while generating the scenarios", f"{len(cases):,} generated")
    out = decompose(cases, options, rel_gap=rel_gap, aggregate=aggregate, trust_region=trust_region, workers=workers,
                    stamp=stamp)
    return plan_run(cases, out, options, with_evpi_vss, rel_gap, t0)


def plan_run(cases, out: BendersOutcome, options: SolverOptions, with_evpi_vss: bool = True,
             rel_gap: float | None = None, t0: float | None = None):
    """The StochasticRun of a decomposition's outcome: the plan re-solved per scenario, metrics,
    ``solver.benders`` KPIs, EVPI and VSS from the subproblems (``extensive._evpi_vss``). The
    decomposition's workers (W >= 2) end when it returns or raises."""
    dec = out.decomposition
    try:
        return _plan_run(cases, out, options, with_evpi_vss, rel_gap, t0)
    except BaseException:
        dec.close(force=True)
        raise
    finally:
        dec.close()


def _plan_run(cases, out: BendersOutcome, options: SolverOptions, with_evpi_vss: bool, rel_gap, t0):
    from model.stochastic.extensive import StochasticRun, _evpi_vss, cvar, expected_cost_gaps, risk_value

    t0 = time.perf_counter() if t0 is None else t0
    risk = cases[0].case.risk
    probs = np.array([c.probability for c in cases])
    t2 = time.perf_counter()
    try:
        with progress.phase("re-solving every scenario with the plan's first stage", total=len(cases),
                            key="re-solving every scenario with the plan's first stage"):
            ev, first_stage_cost = out.decomposition.evaluate_plan(out.first_stage, options)
        out.decomposition.stamp_info = out.decomposition.pool.stamp_info()  # with the plans re-solved from stamps
    except SolveError as e:
        if budget.is_time_limit(e):
            raise SolveError(f"{e}: Benders found a plan but it could not be re-solved in every scenario; no plan "
                             f"(raise --time-limit)", termination="time_limit") from None
        raise
    totals, sols, res0 = ev.totals_kusd, ev.solutions, ev.result0
    plan = risk_value(totals, probs, risk.cvar_alpha, risk.risk_weight_lambda)
    bound = min(out.lower_bound_kusd, plan)
    gap = _gap(plan, bound)
    proven = out.termination == "optimal" and gap <= DEFAULT_GAP_FRAC
    termination = out.termination if out.termination != "optimal" or proven else "gap_reached"
    t3 = time.perf_counter()
    result = SolveResult(termination=termination, objective_kusd=plan, handoff_s=out.build_s, solve_s=out.loop_s,
                         load_s=t3 - t2, n_columns=out.sizes["columns"], n_rows=out.sizes["rows"],
                         n_nonzeros=out.sizes["nonzeros"], solver=res0.solver, solver_version=res0.solver_version,
                         options=res0.options | {"path": "benders"})
    metrics = {
        "proven_optimal": proven,
        "objective_kusd": plan,
        "expected_cost_kusd": float(probs @ totals),
        "cvar_cost_kusd": cvar(totals, probs, risk.cvar_alpha),
        "first_stage_cost_kusd": first_stage_cost,
        "scenario_total_kusd": totals.tolist(),
        "best_bound_kusd": bound,
        "gap_frac": gap,
    }
    if not proven:
        metrics["status_note"] = STATUS_NOTE.get(termination, STATUS_NOTE["gap_reached"])
    info = {"iterations": [i.as_kpi() for i in out.iterations], "target_gap_frac": DEFAULT_GAP_FRAC if not rel_gap or
            rel_gap <= 0 else float(rel_gap), "cut_groups": out.groups, "optimality_cuts": out.cuts,
            "feasibility_cuts": out.feasibility_cuts, "trust_region_used": out.trust_region_used,
            "lower_bound_usd": round(out.lower_bound_kusd * 1000.0, 6), "canonical_first_stage": out.canonical}
    sols[0].kpis["solver"] = sols[0].kpis["solver"] | {"benders": info}
    timings = {"build_s": round(out.build_s, 4), "benders_s": round(out.loop_s, 4),
               "benders_master_s": round(out.master_s, 4), "benders_subproblems_s": round(out.subproblem_s, 4),
               "extract_s": round(t3 - t2, 4),
               "plan_highs_s": round(ev.highs_s, 4),  # of extract_s: the re-solves' HiGHS runs and canonical stages
               "benders_iteration_s": [round(i.seconds, 3) for i in out.iterations],
               # the wait-and-see floor from the subproblems' own first solves (each scenario alone, first stage free)
               "wait_and_see_solve_s": round(sum(s.wait_and_see_solve_s for s in out.decomposition.subs), 4),
               "benders_workers": out.decomposition.pool.workers,  # here, not in the KPIs: they are the same for any W
               "benders_stamp": out.decomposition.stamp_info}  # groups, stamped, built, note (model.stochastic.stamp)
    if with_evpi_vss and termination != "time_limit":
        t4 = time.perf_counter()
        dec = out.decomposition
        with progress.phase("EVPI and VSS: the mean-scenario plan in every scenario", total=len(cases),
                            key="EVPI and VSS"):
            metrics |= _evpi_vss(cases, options, plan, probs, risk, ws_totals=[s.wait_and_see_kusd for s in dec.subs],
                                 eev_of=dec.totals_at)
        metrics |= expected_cost_gaps(metrics, probs)
        timings["evpi_vss_s"] = round(time.perf_counter() - t4, 4)
    timings["total_s"] = round(time.perf_counter() - t0, 4)
    return StochasticRun(cases=tuple(cases), ef=None, result=result, solutions=sols, metrics=metrics, timings_s=timings,
                         plan_first_stage=dict(out.first_stage), nonant="benders")
