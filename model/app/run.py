"""The pipeline as plain calls: read -> (scenarios) -> build -> solve -> extract. Writes nothing.

Modes (``mode`` argument):

- ``auto`` (default): ``stochastic`` when the case defines scenarios, else ``deterministic``.
- ``stochastic``: the two-stage plan over every scenario (extensive form, CVaR, EVPI, VSS).
- ``deterministic``: the case as read (no scenario effects).
- ``scenario``: the perfect-foresight plan of the scenario named by ``scenario``.
- ``expected_value``: the plan for the mean scenario (every series averaged by probability).

Timings are kept apart from the KPIs so that two runs of the same input give identical KPIs.

Limits (:mod:`model.solve.budget`): ``options.time_limit_s`` is the whole run's budget, counted from
``options.started_s`` (stamped here when None); reading, generating and building are checked against
it (SolveError, termination ``time_limit``, when it passes before the main solve). A stochastic case
is first sized from one scenario model (``budget.check_fits``): one estimated not to fit in memory is
refused with an InputError on ``scenarios.count`` / ``scenarios`` before any scenario is generated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from model.components.build import BuiltModel, build_scenario_model
from model.input.data import CaseData
from model.results.diagnose import explain
from model.errors import InputError, InputIssue, SolveError
from model.input.io import read_case
from model.results.tables import Solution, extract, plan_tie_break
from model.input.scenarios import mean_case, scenario_cases
from model import progress
from model.solve import budget
from model.solve.highs import SolveResult, SolverOptions, solve
from model.stochastic.extensive import NONANT_DEFAULT, StochasticRun, run_stochastic
from model.results.stochastic import stochastic_solution


@dataclass(frozen=True)
class Run:
    mode: str
    data: CaseData  # the data solved (for stochastic runs: the case as read)
    result: SolveResult
    solution: Solution
    timings_s: dict
    built: BuiltModel | None = None
    stochastic: StochasticRun | None = None


def run_data(data: CaseData, options: SolverOptions = SolverOptions(), read_s: float = 0.0,
             mode: str = "deterministic") -> Run:
    options = budget.start(options)
    t0 = time.perf_counter()
    with progress.phase("building the model"):
        built = build_scenario_model(data)
    t1 = time.perf_counter()
    budget.check(options, "while building the model")
    try:
        res = solve(built.model, options, tie_break=plan_tie_break([built]))
    except SolveError as e:
        if e.conflict_rows or e.conflict_bounds:
            e.conflicts = explain(e, [built])
        raise
    t2 = time.perf_counter()
    with progress.phase("extracting the plan tables"):
        sol = extract(built, res)
    t3 = time.perf_counter()
    sol = Solution(tables=sol.tables, kpis={"case": sol.kpis["case"], "mode": mode, "scenario": data.scenario}
                   | {k: v for k, v in sol.kpis.items() if k != "case"})
    timings = {
        "read_s": round(read_s, 4),
        "build_s": round(t1 - t0, 4),
        "handoff_s": round(res.handoff_s, 4),
        "solve_s": round(res.solve_s, 4),
        "extract_s": round(t3 - t2 + res.load_s, 4),
        "total_s": round(read_s + t3 - t0, 4),
    }
    return with_audit(Run(mode=mode, data=data, result=res, solution=sol, timings_s=timings, built=built))


def run_stochastic_data(data: CaseData, options: SolverOptions = SolverOptions(), read_s: float = 0.0,
                        nonant: str = NONANT_DEFAULT, evpi_vss: bool = True, engine: str = "ef", gap: float = 0.0,
                        workers: int = 1) -> Run:
    """``engine``: ``ef`` (the extensive form) or ``benders`` (:mod:`model.stochastic.benders`, target
    relative gap ``gap``, 0: its default 1e-6, its subproblems in ``workers`` processes,
    :mod:`model.stochastic.parallel`; the worker count goes to the timings, ``benders_workers``)."""
    options = budget.start(options)
    t0 = time.perf_counter()
    if engine == "benders":
        from model.stochastic.benders import run_stochastic_benders

        sr = run_stochastic_benders(data, options, with_evpi_vss=evpi_vss, rel_gap=gap, workers=workers)
    elif engine == "ef":
        sr = run_stochastic(data, options, nonant=nonant, with_evpi_vss=evpi_vss)
    else:
        raise ValueError(f"unknown engine {engine!r} (expected ef or benders)")
    t1 = time.perf_counter()
    with progress.phase("extracting the plan tables"):
        sol = stochastic_solution(sr)
    timings = {"read_s": round(read_s, 4)} | sr.timings_s | {
        "report_tables_s": round(time.perf_counter() - t1, 4),
        "total_s": round(read_s + time.perf_counter() - t0, 4),
    }
    return with_audit(Run(mode="stochastic", data=data, result=sr.result, solution=sol, timings_s=timings, stochastic=sr))


def _sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def _stable(audit: dict) -> dict:
    """The audit as stored in kpis.json: noise-level violations (below a thousandth of the tolerance,
    whose last digits depend on summation order) as 0, the rest to 3 significant digits, so two runs
    of the same input give identical KPIs."""
    from model.results.audit import NOISE_FRAC

    checks = []
    for c in audit["checks"]:
        v, tol = c["max_violation"], c["tolerance"]
        v = 0.0 if (c["passed"] and v <= tol * NOISE_FRAC) else _sig(v)
        checks.append(c | {"max_violation": v, "tolerance": _sig(tol)})
    return {"passed": audit["passed"], "checks": checks}


def with_audit(run: Run) -> Run:
    """Run the independent audit (:mod:`model.results.audit`) on the plan tables; record it in the KPIs."""
    from model.results.audit import audit_run

    t0 = time.perf_counter()
    with progress.phase("independent audit of the plan"):
        rep = audit_run(run)
    kpis = dict(run.solution.kpis)
    kpis["audit"] = _stable(rep.as_dict())
    timings = dict(run.timings_s) | {"audit_s": round(time.perf_counter() - t0, 4)}
    return replace(run, solution=Solution(tables=run.solution.tables, kpis=kpis), timings_s=timings)


def run_case(path: str | Path, options: SolverOptions = SolverOptions(), mode: str = "auto",
             scenario: str | None = None, nonant: str = NONANT_DEFAULT, evpi_vss: bool = True,
             named_overrides: tuple[str, ...] = (), engine: str = "ef", gap: float = 0.0,
             confidence: dict | None = None, workers: int = 1) -> Run:
    """Read the case at ``path`` (with the case's ``overrides:`` entries ``named_overrides`` applied,
    in order) and solve it in ``mode``; a stochastic one with ``engine`` (``ef`` or ``benders``, whose
    target relative gap is ``gap``, see :func:`run_stochastic_data`). ``confidence`` (a sampled case
    only): then the out-of-sample and optimality-gap step, :mod:`model.stochastic.confidence`.
    ``workers`` (``--workers``) above 1: Benders only (an InputError otherwise, before anything is read)."""
    options = budget.start(options)
    if workers > 1 and (engine != "benders" or mode not in ("auto", "stochastic")):
        what = f"--engine {engine}" if mode in ("auto", "stochastic") else "a single-scenario mode"
        raise InputError([InputIssue("(command line)", "--workers", str(workers),
                                     f"1 with {what} (worker processes solve Benders subproblems: --engine benders)")])
    t0 = time.perf_counter()
    with progress.phase("reading the case", show=False):  # its errors stay the only lines
        data = read_case(path, named_overrides=named_overrides)
    read_s = time.perf_counter() - t0
    has_scenarios = data.case.scenarios is not None
    if mode == "auto":
        mode = "stochastic" if has_scenarios else "deterministic"
    if confidence is not None:  # checked before the run, applied after it
        from model.stochastic.confidence import with_confidence

        return with_confidence(data, "(command line)", mode, engine, confidence, options, nonant=nonant, solve=lambda: run_case(
            path, options, mode, scenario, nonant, evpi_vss, named_overrides, engine, gap, workers=workers))
    if mode == "stochastic":
        budget.check_fits(data, str(path))  # before any scenario is generated or built
        return run_stochastic_data(data, options, read_s, nonant=nonant, evpi_vss=evpi_vss, engine=engine, gap=gap,
                                   workers=workers)
    if mode == "deterministic":
        return run_data(data, options, read_s)
    cases = scenario_cases(data)
    budget.check(options, "while generating the scenarios", f"{len(cases):,} generated")
    if mode == "expected_value":
        return run_data(mean_case(cases), options, read_s, mode="expected_value")
    if mode == "scenario":
        by_name = {c.scenario: c for c in cases}
        if scenario not in by_name:
            shown = ", ".join(list(by_name)[:12]) + (" ..." if len(by_name) > 12 else "")
            raise InputError([InputIssue(str(path), "--scenario", scenario, f"a scenario of this case ({shown})")])
        return run_data(replace(by_name[scenario], probability=1.0), options, read_s, mode="perfect_foresight")
    raise ValueError(f"unknown mode {mode!r}")
