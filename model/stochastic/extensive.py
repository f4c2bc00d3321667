r"""The two-stage stochastic plan: extensive form over scenarios, CVaR, EVPI and VSS.

Every scenario is built by the same ``build_scenario_model``; the extensive form (EF) puts the
scenario models side by side as blocks, deactivates their own objectives, ties their first-stage
variables together (non-anticipativity) and adds the risk-adjusted objective of ``model.md`` §5:

.. math::

    \min\ \sum_k p_k (F_k + C_k) + \lambda \Big(\eta + \frac{1}{1-\alpha} \sum_k p_k z_k\Big),
    \qquad z_k \ge F_k + C_k - \eta,\ z_k \ge 0

(Rockafellar–Uryasev). ``F_k`` is the same in every scenario because the first-stage variables
are. With :math:`\lambda = 0` the CVaR rows are left out (risk neutral).

Glossary
--------
NonAnticipativity[k, i]   x^k_i == x^0_i for every first-stage variable i of scenario k >= 1 (mode ``rows``)
ScenarioTotal_kusd[k]     F_k + C_k, kUSD
ExpectedCost_kusd         sum_k p_k ScenarioTotal_kusd[k]
RiskWeight                lambda as a mutable Param                               (only when a sweep tunes it)
VaR_kusd                  eta, the value-at-risk level (free)                      (only when lambda > 0)
TailExcess_kusd[k]        z_k >= ScenarioTotal_kusd[k] - VaR_kusd, z_k >= 0           (only when lambda > 0)
CVaR_kusd                 eta + 1/(1 - alpha) sum_k p_k z_k                         (only when lambda > 0)
RiskAdjustedCost          the objective

Non-anticipativity comes in two forms, chosen by ``nonant``: ``rows`` adds the equality rows
above; ``shared`` leaves them out and merges each group of first-stage columns into one column
when the model is handed to HiGHS (``solver.solve(..., equal_vars=...)``). Both were measured on the
200-scenario case (README, "Non-anticipativity: measured"); the faster, shared, is the default.

``run_stochastic`` does not build this Pyomo model when it can do without: with ``shared`` on the
stdform path (``arrays`` None or True) it assembles the same LP from the scenarios' own LPs, stamped
where a structure repeats (:mod:`model.stochastic.ef_arrays`), and reads the same plan and tables;
``ef`` is then None and ``StochasticRun.first_stage`` holds the plan's first stage. The Pyomo form
serves ``rows``, the persistent path, ``arrays=False``, a sweep (its tunable Params) and the
explanation of an infeasible extensive form.

Metrics (``StochasticRun``):

- RP: the EF's optimal objective.
- WS (wait-and-see): the same risk measure over the perfect-foresight optimum of each scenario;
  EVPI = RP - WS >= 0.
- EEV: the expected-value plan's first-stage decisions fixed, every scenario re-optimised;
  VSS = EEV - RP >= 0.
- EVPI and VSS are in objective units (expected + lambda x CVaR); ``expected_cost_gaps`` gives both in
  expected cost as well (the same when lambda = 0).

Time budget (``options``, :mod:`model.solve.budget`): generation and the build (before each scenario)
are checked against the run's deadline; passed before the main solve: SolveError (termination
``time_limit``, "... while building the extensive form (k of K scenarios built); no plan"). The EF
solve stopped by the limit: ``_best_known_after_time_limit`` with what is left (or SolveError saying
what it could not finish). After an optimal EF solve, EVPI and VSS are computed within what is left;
a cut one is None with ``evpi_note`` (a key present only then) or ``vss_note`` saying why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from model.components.build import BuiltModel, build_scenario_model
from model.components.catalogue import ConstraintInfo, Infeasible
from model.input.data import CaseData
from model.errors import SolveError
from model.results.tables import Solution, extract, plan_tie_break
from model.input.scenarios import mean_case, scenario_cases
from model import progress
from model.solve import budget
from model.solve.highs import SolveResult, SolverOptions, solve
from model.stochastic.evaluate import canonical_plan, evaluate_first_stage, first_stage_values, perfect_foresight_totals

NONANT_DEFAULT = "shared"

CATALOGUE = (  # the extensive form's own constraint components (model.components.catalogue)
    ConstraintInfo("NonAnticipativity", period_last=False,  # indexed by (scenario number, first-stage variable number)
                   infeasible=Infeasible("non-anticipativity of scenario {0}, first-stage decision {1}",
                                         "risk.non_anticipative_periods")),
    ConstraintInfo("CVaRTail", period_last=False),  # indexed by scenario number; no input of its own
)


def cvar(values, probs, alpha: float) -> float:
    """CVaR_alpha of a discrete distribution: the expected value of its worst 1 - alpha of probability."""
    v = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    best = np.inf
    for eta in np.unique(v):
        best = min(best, eta + np.sum(p * np.maximum(v - eta, 0.0)) / (1 - alpha))
    return float(best)


def risk_value(values, probs, alpha: float, lam: float) -> float:
    return float(np.dot(probs, values)) + lam * cvar(values, probs, alpha)


@dataclass(frozen=True)
class ExtensiveForm:
    model: pyo.ConcreteModel
    scenarios: tuple[BuiltModel, ...]
    equal_vars: tuple  # (var_k, var_0) pairs, for nonant == "shared"
    nonant: str


def _check_aligned(builts: list[BuiltModel]) -> None:
    ref = [v.getname(fully_qualified=False) for v in builts[0].first_stage_vars]
    for b in builts[1:]:
        names = [v.getname(fully_qualified=False) for v in b.first_stage_vars]
        if names != ref:
            raise ValueError(f"scenario {b.data.scenario!r} has different first-stage variables from {builts[0].data.scenario!r}")


def build_extensive_form(cases: list[CaseData], nonant: str = NONANT_DEFAULT,
                         tunable: frozenset[str] = frozenset(), options: SolverOptions | None = None) -> ExtensiveForm:
    """The EF over ``cases``. ``tunable``: dotted input keys held in mutable Params for a warm sweep
    (``risk.risk_weight_lambda`` is the EF's own; the rest are passed to every scenario's builder).
    ``options``: the run's time budget is checked before each scenario (:mod:`model.solve.budget`)."""
    risk = cases[0].case.risk
    ef = pyo.ConcreteModel("extensive_form")
    builts = []
    with progress.phase(f"building the extensive form of {len(cases):,} scenarios", total=len(cases),
                        key="building the extensive form") as shown:
        for i, d in enumerate(cases):
            if options is not None:
                budget.check(options, "while building the extensive form", lambda: f"{i:,} of {len(cases):,} scenarios built")
            b = build_scenario_model(d, name=d.scenario, tunable=tunable)
            b.model.TotalCost.deactivate()
            ef.add_component(f"scenario_{i}", b.model)
            builts.append(b)
            shown.advance()
    _check_aligned(builts)
    K = range(len(builts))
    prob = {k: builts[k].data.probability for k in K}
    ref = builts[0].first_stage_vars
    pairs = [(b.first_stage_vars[i], ref[i]) for b in builts[1:] for i in range(len(ref))]
    if nonant == "rows":
        ef.NONANT = pyo.Set(initialize=[(k, i) for k in K if k > 0 for i in range(len(ref))], dimen=2, ordered=True)
        ef.NonAnticipativity = pyo.Constraint(
            ef.NONANT, rule=lambda ef, k, i: builts[k].first_stage_vars[i] - ref[i] == 0
        )
    elif nonant != "shared":
        raise ValueError(f"nonant must be 'rows' or 'shared' (got {nonant!r})")
    ef.ScenarioTotal_kusd = pyo.Expression(
        K, rule=lambda ef, k: builts[k].model.FirstStageCost_kusd + builts[k].model.ScenarioCost_kusd
    )
    ef.ExpectedCost_kusd = pyo.Expression(expr=sum(prob[k] * ef.ScenarioTotal_kusd[k] for k in K))
    lam, alpha = risk.risk_weight_lambda, risk.cvar_alpha
    tune_lambda = "risk.risk_weight_lambda" in tunable
    if tune_lambda:
        ef.RiskWeight = pyo.Param(mutable=True, initialize=lam)
        lam = ef.RiskWeight
    if tune_lambda or risk.risk_weight_lambda > 0:
        ef.VaR_kusd = pyo.Var(domain=pyo.Reals)
        ef.TailExcess_kusd = pyo.Var(K, domain=pyo.NonNegativeReals)
        ef.CVaRTail = pyo.Constraint(K, rule=lambda ef, k: ef.TailExcess_kusd[k] >= ef.ScenarioTotal_kusd[k] - ef.VaR_kusd)
        ef.CVaR_kusd = pyo.Expression(expr=ef.VaR_kusd + sum(prob[k] * ef.TailExcess_kusd[k] for k in K) / (1 - alpha))
        ef.RiskAdjustedCost = pyo.Objective(expr=ef.ExpectedCost_kusd + lam * ef.CVaR_kusd, sense=pyo.minimize)
    else:
        ef.RiskAdjustedCost = pyo.Objective(expr=ef.ExpectedCost_kusd, sense=pyo.minimize)
    return ExtensiveForm(model=ef, scenarios=tuple(builts), equal_vars=tuple(pairs) if nonant == "shared" else (), nonant=nonant)


def solve_extensive_form(ef: ExtensiveForm, options: SolverOptions) -> SolveResult:
    labels = {k: b.data.scenario for k, b in enumerate(ef.scenarios)}
    tb = plan_tie_break(list(ef.scenarios), top=ef.model, top_labels=labels)
    return solve(ef.model, options, equal_vars=list(ef.equal_vars), tie_break=tb)


def _expected_value_plan(cases, options: SolverOptions) -> tuple[BuiltModel, dict[str, float]]:
    """The expected-value problem solved (canonical plan), and its first stage by variable name."""
    ev_b = build_scenario_model(mean_case(cases))
    solve(ev_b.model, options, tie_break=plan_tie_break([ev_b]))
    return ev_b, first_stage_values(ev_b)


def _best_known_after_time_limit(cases, ef: ExtensiveForm, options: SolverOptions, t0: float, t1: float) -> "StochasticRun":
    """The EF hit the time limit: report the best plan we can prove something about.

    Plan: the expected-value plan's first stage, every scenario re-optimised with it fixed (a feasible
    plan of the two-stage problem, so an upper bound). Bound: the wait-and-see value (no plan can do
    better than perfect foresight). Gap = (plan - bound) / plan. The sub-solves share what is left of
    the run's time budget (the main solve was given MAIN_SOLVE_SHARE of it, :mod:`model.solve.budget`);
    when they cannot all finish, SolveError (termination ``time_limit``) saying which did not: without
    both the plan and the bound there is nothing to report.
    """
    risk = cases[0].case.risk
    probs = np.array([c.probability for c in cases])
    stopped = "the extensive form stopped at the limit; its fallback plan was not finished"
    try:
        budget.check(options, "before the fallback plan could start", outcome=None)
        try:
            _, ev_first = _expected_value_plan(cases, options)
        except SolveError as e:
            if budget.is_time_limit(e):
                raise budget.out_of_time(options, "while solving the expected-value problem", outcome=None) from None
            raise
        ws = perfect_foresight_totals(cases, options)
        ev = evaluate_first_stage(cases, ev_first, options, keep=True, tie_break=canonical_plan)
    except SolveError as e:
        if budget.is_time_limit(e):
            raise SolveError(f"{e}: {stopped}; no plan (raise --time-limit)", termination="time_limit") from None
        raise
    eev, sols, first, res0 = ev.totals_kusd, ev.solutions, ev.built0, ev.result0
    plan = risk_value(eev, probs, risk.cvar_alpha, risk.risk_weight_lambda)
    bound = risk_value(ws, probs, risk.cvar_alpha, risk.risk_weight_lambda)
    result = SolveResult(termination="time_limit", objective_kusd=plan, handoff_s=0.0, solve_s=time.perf_counter() - t1,
                         load_s=0.0, n_columns=0, n_rows=0, n_nonzeros=-1, solver=res0.solver,
                         solver_version=res0.solver_version, options=res0.options)
    metrics = {
        "objective_kusd": plan,
        "expected_cost_kusd": float(probs @ eev),
        "cvar_cost_kusd": cvar(eev, probs, risk.cvar_alpha),
        "first_stage_cost_kusd": float(pyo.value(first.model.FirstStageCost_kusd)),
        "scenario_total_kusd": eev.tolist(),
        "wait_and_see_kusd": bound,
        "perfect_foresight_total_kusd": ws.tolist(),
        "best_bound_kusd": bound,
        "gap_frac": (plan - bound) / abs(plan) if plan else 0.0,
        "proven_optimal": False,
        "status_note": "the extensive form hit the time limit; the plan shown is the expected-value plan's first "
                       "stage re-optimised in every scenario, and the bound is the wait-and-see value",
    }
    timings = {"build_s": round(t1 - t0, 4), "solve_s": round(time.perf_counter() - t1, 4)}
    return StochasticRun(cases=tuple(cases), ef=ef, result=result, solutions=sols, metrics=metrics, timings_s=timings,
                         plan_first_stage=dict(ev_first), nonant=ef.nonant if ef is not None else NONANT_DEFAULT)


@dataclass(frozen=True)
class StochasticRun:
    cases: tuple[CaseData, ...]
    ef: ExtensiveForm | None  # the Pyomo extensive form, when the run built one
    result: SolveResult | None
    solutions: tuple[Solution, ...]  # per scenario, duals per scenario (divided by p_k)
    metrics: dict
    timings_s: dict
    plan_first_stage: dict | None = None  # the plan's first stage by variable name, when ``ef`` is None
    nonant: str | None = None  # how non-anticipativity was held, when ``ef`` is None

    @property
    def first_stage(self) -> dict[str, float]:
        """The plan's first stage, variable name -> value (``evaluate.first_stage_values``)."""
        if self.plan_first_stage is not None:
            return dict(self.plan_first_stage)
        if self.ef is not None:
            return first_stage_values(self.ef.scenarios[0])
        raise ValueError("this run holds no plan's first stage")


def collect(ef: ExtensiveForm, res: SolveResult) -> tuple[tuple[Solution, ...], dict]:
    """Per-scenario solutions (duals per scenario) and the EF's cost metrics, after a solve."""
    probs = np.array([b.data.probability for b in ef.scenarios])
    alpha = ef.scenarios[0].data.case.risk.cvar_alpha
    sols = tuple(extract(b, res, duals=ef.model.dual, dual_scale=1.0 / b.data.probability) for b in ef.scenarios)
    totals = np.array([pyo.value(ef.model.ScenarioTotal_kusd[k]) for k in range(len(ef.scenarios))])
    metrics = {
        "proven_optimal": True,
        "objective_kusd": float(pyo.value(ef.model.RiskAdjustedCost)),
        "expected_cost_kusd": float(np.dot(probs, totals)),
        "cvar_cost_kusd": cvar(totals, probs, alpha),
        "first_stage_cost_kusd": float(pyo.value(ef.scenarios[0].model.FirstStageCost_kusd)),
        "scenario_total_kusd": totals.tolist(),
    }
    return sols, metrics


def expected_cost_gaps(metrics: dict, probs) -> dict:
    """EVPI and VSS in kUSD of expected cost, whatever lambda (``model.md`` §16.3): E[RP plan's scenario
    totals] - E[wait-and-see totals] and E[EEV totals] - E[RP plan's scenario totals]. With lambda = 0 they
    equal ``evpi_kusd`` / ``vss_kusd``; with lambda > 0 those are in objective units (expected + lambda x
    CVaR) and these are not: VSS in expected cost may then be negative (the RP plan may pay expected cost
    for a lower CVaR). None where the totals behind them were not computed."""
    e = metrics.get("expected_cost_kusd")
    ws, eev = metrics.get("perfect_foresight_total_kusd"), metrics.get("eev_total_kusd")
    return {"evpi_expected_cost_kusd": None if ws is None or e is None else e - float(np.dot(probs, ws)),
            "vss_expected_cost_kusd": None if eev is None or e is None else float(np.dot(probs, eev)) - e}


def _evpi_vss(cases, options: SolverOptions, rp: float, probs, risk, ws_totals=None, eev_of=None) -> dict:
    """Wait-and-see, expected-value and EEV solves; EVPI and VSS. Within the run's time budget: a step
    the budget cuts is not computed (None) and ``evpi_note`` / ``vss_note`` say why. ``ws_totals`` (the
    wait-and-see totals, kUSD, or a function giving them) and ``eev_of`` (EV first stage -> EEV totals,
    raising SolveError like ``evaluate_first_stage``) let a caller that holds the scenario LPs (``benders``,
    or :func:`stamped_evpi_vss` for the extensive form) skip building every scenario twice in Pyomo."""
    ws, ws_note, ev_b, eev, eev_value, eev_note = None, None, None, None, None, None
    try:
        budget.check(options, "before the wait-and-see solves behind EVPI", outcome=None)
        ws = perfect_foresight_totals(cases, options) if ws_totals is None else \
            np.asarray(ws_totals() if callable(ws_totals) else ws_totals, dtype=float)
    except SolveError as e:
        if not budget.is_time_limit(e):
            raise
        ws_note = f"not computed: {e}"
    try:
        budget.check(options, "before the expected-value solves behind VSS", outcome=None)
        try:
            ev_b, ev_first = _expected_value_plan(cases, options)
        except SolveError as e:
            if budget.is_time_limit(e):
                raise budget.out_of_time(options, "while solving the expected-value problem", outcome=None) from None
            raise
        eev = evaluate_first_stage(cases, ev_first, options).totals_kusd if eev_of is None else eev_of(ev_first)
        eev_value = risk_value(eev, probs, risk.cvar_alpha, risk.risk_weight_lambda)
    except SolveError as e:
        if budget.is_time_limit(e):
            eev, eev_note = None, f"not computed: {e}"
        elif ev_b is None:
            raise
        else:
            eev, eev_note = None, f"the expected-value plan is infeasible in some scenario ({e})"
    ws_value = None if ws is None else risk_value(ws, probs, risk.cvar_alpha, risk.risk_weight_lambda)
    out = {
        "wait_and_see_kusd": ws_value,
        "perfect_foresight_total_kusd": None if ws is None else ws.tolist(),
        "expected_value_plan_objective_kusd": None if ev_b is None else float(pyo.value(ev_b.model.TotalCost)),
        "eev_kusd": eev_value,
        "eev_total_kusd": None if eev is None else eev.tolist(),
        "evpi_kusd": None if ws is None else rp - ws_value,
        "vss_kusd": None if eev_value is None else eev_value - rp,
        "vss_note": eev_note,
    }
    return out | ({"evpi_note": ws_note} if ws_note else {})  # the key only when EVPI was cut (kpis stay as they were)


def stamped_evpi_vss(cases, options: SolverOptions):
    """(wait-and-see totals function, EEV function, close) for :func:`_evpi_vss` from the scenarios' stamped
    LPs (the Benders subproblems, :mod:`model.stochastic.stamp`), built once when first asked: each solved
    with its first stage free (WS), then warm at the expected-value plan's first stage held by bounds
    (EEV). The extensive form built every scenario twice in Pyomo for these (perfect foresight, then
    the EV plan fixed); the values are the same LP optima (to the solver's tolerance)."""
    from model.stochastic.benders import Decomposition

    dec = Decomposition(cases, options, keep_models=False, stamp=True)
    built = []

    def ws():
        if not built:
            dec.build(own_phase=False)
            built.append(True)
        return [s.wait_and_see_kusd for s in dec.subs]

    def eev_of(first_stage):
        ws()
        return dec.totals_at(first_stage)

    return ws, eev_of, dec.close


def run_stochastic(data: CaseData, options: SolverOptions = SolverOptions(), nonant: str = NONANT_DEFAULT,
                   with_evpi_vss: bool = True, arrays: bool | None = None) -> StochasticRun:
    """The two-stage plan of ``data`` by the extensive form. ``arrays``: assembled from the scenarios' LPs
    (:mod:`model.stochastic.ef_arrays`, stamped where a structure repeats; the default wherever it
    applies: ``nonant="shared"`` on the stdform path); False: the Pyomo extensive form
    (:func:`build_extensive_form`), the same plan. An infeasible extensive form is explained from the
    Pyomo one, built for it."""
    options = budget.start(options)
    t0 = time.perf_counter()
    with progress.phase("generating the scenarios"):
        cases = scenario_cases(data)
    budget.check(options, "while generating the scenarios", f"{len(cases):,} generated")
    fits = nonant == "shared" and options.path == "stdform"
    if arrays and not fits:
        raise ValueError("the extensive form from arrays needs nonant 'shared' and the stdform path")
    if not (fits if arrays is None else arrays):
        return _run_pyomo(cases, options, nonant, with_evpi_vss, t0)
    from model.stochastic import ef_arrays

    risk = data.case.risk
    probs = np.array([c.probability for c in cases])
    blocks, stamp_info = ef_arrays.scenario_blocks(cases, options)
    budget.check(options, "while building the extensive form", f"{len(cases):,} of {len(cases):,} scenarios built")
    t1 = time.perf_counter()
    try:
        res, sols, metrics, first_stage, read_s = ef_arrays.solve_and_read(blocks, options, risk, t1)
    except SolveError as e:
        if e.termination in ("Infeasible", "Primal infeasible or unbounded"):
            del blocks
            return _run_pyomo(cases, options, nonant, with_evpi_vss, t0)  # its error names the conflict
        if e.termination != "Time limit reached":
            raise
        return _best_known_after_time_limit(cases, None, options, t0, t1)
    rp = metrics["objective_kusd"]
    timings = {"build_s": round(t1 - t0, 4), "handoff_s": round(res.handoff_s, 4), "solve_s": round(res.solve_s, 4),
               "extract_s": round(read_s, 4), "ef_stamp": stamp_info}
    if with_evpi_vss:
        t4 = time.perf_counter()
        with progress.phase("EVPI and VSS: each scenario with perfect foresight, then the mean-scenario plan",
                            total=2 * len(cases), key="EVPI and VSS"):
            metrics |= _evpi_vss(cases, options, rp, probs, risk, ws_totals=lambda: ef_arrays.block_totals(blocks, options),
                                 eev_of=lambda fs: ef_arrays.block_totals(blocks, options, fs))
        metrics |= expected_cost_gaps(metrics, probs)
        timings["evpi_vss_s"] = round(time.perf_counter() - t4, 4)
    timings["total_s"] = round(time.perf_counter() - t0, 4)
    return StochasticRun(cases=tuple(cases), ef=None, result=res, solutions=sols, metrics=metrics, timings_s=timings,
                         plan_first_stage=first_stage, nonant=nonant)


def _run_pyomo(cases, options: SolverOptions, nonant: str, with_evpi_vss: bool, t0: float) -> StochasticRun:
    """:func:`run_stochastic` on the Pyomo extensive form."""
    risk = cases[0].case.risk
    probs = np.array([c.probability for c in cases])
    ef = build_extensive_form(cases, nonant=nonant, options=options)
    budget.check(options, "while building the extensive form", f"{len(cases):,} of {len(cases):,} scenarios built")
    t1 = time.perf_counter()
    try:
        res = solve_extensive_form(ef, options)
    except SolveError as e:
        if e.conflict_rows or e.conflict_bounds:
            from model.results.diagnose import explain

            e.conflicts = explain(e, list(ef.scenarios))
            raise
        if e.termination != "Time limit reached":
            raise
        return _best_known_after_time_limit(cases, ef, options, t0, t1)
    t2 = time.perf_counter()
    with progress.phase("reading the plan of every scenario"):
        sols, metrics = collect(ef, res)
    rp = metrics["objective_kusd"]
    t3 = time.perf_counter()
    timings = {"build_s": round(t1 - t0, 4), "handoff_s": round(res.handoff_s, 4), "solve_s": round(res.solve_s, 4),
               "extract_s": round(t3 - t2 + res.load_s, 4)}
    if with_evpi_vss:
        t4 = time.perf_counter()
        ws, eev_of, close = stamped_evpi_vss(cases, options)
        try:
            with progress.phase("EVPI and VSS: each scenario with perfect foresight, then the mean-scenario plan",
                                total=len(cases), key="EVPI and VSS"):
                metrics |= _evpi_vss(cases, options, rp, probs, risk, ws_totals=ws, eev_of=eev_of)
        finally:
            close()
        metrics |= expected_cost_gaps(metrics, probs)
        timings["evpi_vss_s"] = round(time.perf_counter() - t4, 4)
    timings["total_s"] = round(time.perf_counter() - t0, 4)
    return StochasticRun(cases=tuple(cases), ef=ef, result=res, solutions=sols, metrics=metrics, timings_s=timings)

