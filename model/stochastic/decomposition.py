"""Scenario decomposition with mpi-sppy: progressive hedging with bound spokes.

Run under MPI, one rank per cylinder at least (hub + Lagrangian lower-bound spoke + xhat
upper-bound spoke = 3 ranks), e.g.::

    mpiexec -n 3 python -m model.decomposition inputs/sampled.yaml --rel-gap 1e-3 --time-limit 600 --out reports/sampled-ph

or ``python solve.py INPUT --engine ph --ranks 3``, which launches exactly that. mpi-sppy splits
the scenario names among the ranks of each cylinder and calls ``mpisppy_adapter.scenario_creator``
only for a rank's own scenarios, so each rank builds only its scenarios.

The hub runs PH; the Lagrangian spoke proves lower bounds (``BestOuterBound``); the xhat-shuffle
spoke evaluates candidate first-stage decisions in every scenario (``BestInnerBound``, a plan's
true expected cost). They stop at ``rel_gap`` between the two, or at the time limit.

Rank 0 then writes the report: the best first-stage decisions (the incumbent of the inner-bound
spoke) are fixed in every scenario, each scenario is re-optimised, and the ordinary stochastic
report is written from those solutions, with the proven bound and gap. mpi-sppy optimises the
risk-neutral objective; a case with ``risk_weight_lambda > 0`` is refused here (use the extensive
form).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from model.units import USD_PER_KUSD

INSTALL_HINT = ("the ph engine needs mpi-sppy and mpi4py with an MPI library: "
                "apt-get install openmpi-bin libopenmpi-dev && pip install -c constraints.txt -e '.[mpi]'")


def _require():
    try:
        import mpi4py  # noqa: F401
        import mpisppy  # noqa: F401
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e


def ph_config(rel_gap: float, time_limit: float | None, max_iterations: int, default_rho: float, threads: int):
    from mpisppy.utils import config

    cfg = config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.solver_name = "appsi_highs"
    cfg.default_rho = default_rho
    cfg.max_iterations = max_iterations
    cfg.rel_gap = rel_gap
    cfg.abs_gap = 0.0
    cfg.time_limit = time_limit
    cfg.max_solver_threads = threads
    cfg.lagrangian = True
    cfg.xhatshuffle = True
    # stop on the proven gap only: when every scenario agrees at iteration 0 (PH's convergence metric
    # is 0), stopping on convergence could end the hub before the xhat spoke reports a plan
    cfg.intra_hub_conv_thresh = -1.0
    # HiGHS is used as an LP solver here: PH's proximal term is linearised (outer approximation)
    cfg.linearize_proximal_terms = True
    return cfg


def spin(case_path: str, rel_gap: float = 1e-3, time_limit: float | None = None, max_iterations: int = 500,
         default_rho: float | None = None, threads: int = 1):
    """Run PH with a Lagrangian and an xhat-shuffle spoke; returns (wheel, scenario names)."""
    _require()
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpisppy.spin_the_wheel import WheelSpinner

    from model.input.io import read_case
    from model.stochastic.mpisppy_adapter import scenario_creator, scenario_denouement, scenario_names_creator

    data = read_case(case_path)
    if data.case.risk.risk_weight_lambda > 0:
        raise ValueError("the ph engine optimises expected cost only; this case has risk_weight_lambda > 0 "
                         "(use --engine ef)")
    names = scenario_names_creator(case_path=case_path)
    if default_rho is None:
        # rho of the order of the first-stage prices (kUSD per t): the median offer price, USD/kg
        import statistics

        default_rho = max(1.0, statistics.median(p for s in data.price_usd_per_kg.values() for p in s))
    cfg = ph_config(rel_gap, time_limit, max_iterations, default_rho, threads)
    kw = {"case_path": case_path}
    beans = (cfg, scenario_creator, scenario_denouement, names)
    hub = vanilla.ph_hub(*beans, scenario_creator_kwargs=kw)
    spokes = [vanilla.lagrangian_spoke(*beans, scenario_creator_kwargs=kw),
              vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kw)]
    wheel = WheelSpinner(hub, spokes)
    wheel.spin()
    return wheel, names


def first_stage_from_wheel(wheel, comm) -> dict[str, float]:
    """The incumbent first-stage values by variable name, on every rank.

    Only the rank holding the best inner bound writes mpi-sppy's first-stage file; every rank
    writes into its own temporary directory and the values are gathered over MPI, so no shared
    filesystem is assumed."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "first_stage.csv"
        wheel.write_first_stage_solution(str(f))
        if f.is_file():
            for line in f.read_text().splitlines():
                if "," in line:
                    name, value = line.rsplit(",", 1)
                    try:
                        out[name.strip()] = float(value)
                    except ValueError:
                        continue
    found = [d for d in comm.allgather(out or None) if d]
    if not found:
        raise RuntimeError("progressive hedging found no feasible first-stage solution (no inner bound)")
    return found[0]


def evaluate_plan(data, first_stage: dict[str, float], bound_kusd: float, options, elapsed: dict):
    """Fix the first stage in every scenario, re-optimise each, and build the stochastic run for the report."""
    import numpy as np

    from model.input.scenarios import scenario_cases
    from model.solve.highs import SolveResult
    from model.stochastic.evaluate import canonical_plan, evaluate_first_stage
    from model.stochastic.extensive import StochasticRun, cvar

    cases = scenario_cases(data)
    ev = evaluate_first_stage(cases, first_stage, options, keep=True, tie_break=canonical_plan)
    totals, sols, res0 = ev.totals_kusd, ev.solutions, ev.result0
    probs = np.array([c.probability for c in cases])
    plan = float(probs @ totals)
    gap = (plan - bound_kusd) / abs(plan) if plan else 0.0
    result = SolveResult(termination="ph", objective_kusd=plan, handoff_s=0.0, solve_s=elapsed.get("ph_s", 0.0),
                         load_s=0.0, n_columns=0, n_rows=0, n_nonzeros=-1, solver="mpi-sppy PH + highs",
                         solver_version=res0.solver_version, options=res0.options | {"path": "ph"})
    metrics = {
        "proven_optimal": False,
        "objective_kusd": plan,
        "expected_cost_kusd": plan,
        "cvar_cost_kusd": cvar(totals, probs, cases[0].case.risk.cvar_alpha),
        "first_stage_cost_kusd": float(sols[0].kpis["first_stage_cost_usd"] / USD_PER_KUSD),
        "scenario_total_kusd": totals.tolist(),
        "best_bound_kusd": bound_kusd,
        "gap_frac": gap,
        "status_note": "solved by progressive hedging (mpi-sppy) with a Lagrangian bound spoke; the plan is the "
                       "best first stage found, re-optimised in every scenario",
    }
    return StochasticRun(cases=tuple(cases), ef=None, result=result, solutions=tuple(sols), metrics=metrics,
                         timings_s=elapsed, plan_first_stage=dict(first_stage), nonant="ph")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model.decomposition",
                                 description="Progressive hedging over the case's scenarios (run under mpiexec, >= 3 ranks).")
    ap.add_argument("input")
    ap.add_argument("--out", default=None)
    ap.add_argument("--rel-gap", type=float, default=1e-3)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--max-iterations", type=int, default=500)
    ap.add_argument("--rho", type=float, default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    try:
        _require()
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from mpi4py import MPI

    from model.errors import InputError
    from model.input.io import read_case
    from model.report.files import write_report
    from model.app.run import Run, with_audit
    from model.solve.highs import SolverOptions, new_highs
    from model.results.stochastic import stochastic_solution

    new_highs()  # the process's first HiGHS prints a banner: let it be ours, with stdout silenced
    comm = MPI.COMM_WORLD
    if comm.size < 3:
        if comm.rank == 0:
            print("error: the ph engine needs at least 3 MPI ranks (hub, Lagrangian bound, xhat bound): "
                  "mpiexec -n 3 ...", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        data = read_case(args.input)
    except InputError as e:
        if comm.rank == 0:
            for issue in e.issues:
                print(f"input error: {issue.line()}", file=sys.stderr)
        return 2
    wheel, names = spin(args.input, args.rel_gap, args.time_limit, args.max_iterations, args.rho, args.threads)
    t1 = time.perf_counter()
    fs = first_stage_from_wheel(wheel, comm)
    import resource

    peak_gb = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, root=0)  # KiB -> GB
    if wheel.global_rank != 0:
        return 0
    inner, outer = wheel.BestInnerBound, wheel.BestOuterBound
    opts = SolverOptions(threads=args.threads)
    sr = evaluate_plan(data, fs, float(outer), opts, {"ph_s": round(t1 - t0, 3)})
    sr.metrics["ph_inner_bound_kusd"] = float(inner)
    sol = stochastic_solution(sr)
    sol.kpis["engine"] = {"name": "ph", "ranks": comm.size, "rel_gap_target": args.rel_gap,
                          "inner_bound_usd": float(inner) * USD_PER_KUSD, "outer_bound_usd": float(outer) * USD_PER_KUSD,
                          "peak_rss_gb_per_rank_during_ph": [round(x, 3) for x in peak_gb]}
    timings = {"ph_s": round(t1 - t0, 3), "evaluate_s": round(time.perf_counter() - t1, 3),
               "total_s": round(time.perf_counter() - t0, 3)}
    run = with_audit(Run(mode="stochastic", data=data, result=sr.result, solution=sol, timings_s=timings, stochastic=sr))
    out = Path(args.out) if args.out else Path("reports") / f"{data.case.name}-ph"
    write_report(run, out, ["python", "-m", "model.decomposition", *(argv or sys.argv[1:])])
    k = sol.kpis
    print(f"{data.case.name}: PH over {len(names)} scenarios on {comm.size} ranks in {t1 - t0:.1f} s: plan "
          f"{k['objective_usd'] / 1e6:,.3f} USD M, bound {k['best_bound_usd'] / 1e6:,.3f} USD M, "
          f"gap {100 * k['gap_frac']:.4f} %")
    print(f"report: {out}/summary.md")
    print(json.dumps({"gap_frac": k["gap_frac"]}))
    if not run.solution.kpis["audit"]["passed"]:
        print("AUDIT FAILED: the plan is inconsistent with its inputs (see kpis.json audit)", file=sys.stderr)
        return 4
    return 0 if k["gap_frac"] <= args.rel_gap + 1e-12 else 3


if __name__ == "__main__":
    raise SystemExit(main())
