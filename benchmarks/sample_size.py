"""How the sampled plan settles as the sample grows, and what the confidence step costs.

Solves inputs/sampled.yaml at N = 25, 50, 100, 200 sampled scenarios (``scenarios.count`` overridden,
same seed; EVPI/VSS skipped) and prints, side by side: the L1 distance of each plan's first-stage
decisions to the N = 200 plan's (sum over first-stage variables of |x_N - x_200|, in their own units:
t per period for orders and reservations, t feed per period for expansion), and each plan's
out-of-sample expected cost with its 95 % t interval on the same M = 200 independent scenarios
(:mod:`model.stochastic.confidence`, seed = the case's seed + OUT_OF_SAMPLE_SEED_OFFSET). Then it
times the whole confidence step (out-of-sample M = 500, R = 5 replications of n = 50) on the N = 200
plan, and with ``--full`` also with replications as large as the plan's sample (n = N = 200; about
20 minutes on 2 cores, which is why the default n is min(N, 50)).

    .venv/bin/python benchmarks/sample_size.py [--full]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.input.io import read_case  # noqa: E402
from model.solve.highs import SolverOptions  # noqa: E402
from model.stochastic.confidence import out_of_sample, sampled_plan  # noqa: E402
from model.stochastic.extensive import run_stochastic  # noqa: E402

CASE = ROOT / "inputs" / "sampled.yaml"
SIZES_N = (25, 50, 100, 200)
M_TABLE = 200


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also time the step with n = N = 200")
    args = ap.parse_args()
    opts = SolverOptions()
    plans, solve_s, data = {}, {}, {}
    for n in SIZES_N:
        data[n] = read_case(CASE, overrides={"scenarios.count": n})
        t0 = time.perf_counter()
        sr = run_stochastic(data[n], opts, with_evpi_vss=False)
        solve_s[n] = time.perf_counter() - t0
        plans[n] = sr.first_stage
        print(f"N={n}: solved in {solve_s[n]:.1f} s, objective {sr.metrics['objective_kusd'] / 1e3:,.3f} USD M", flush=True)
    ref = plans[SIZES_N[-1]]
    print(f"\n| N | solve s | L1 to N={SIZES_N[-1]} plan (t) | first-stage variables differing | "
          f"out-of-sample expected cost, M={M_TABLE} (USD M) | 95 % t interval (USD M) | CVaR (USD M) |")
    print("|---|---|---|---|---|---|---|")
    for n in SIZES_N:
        l1 = sum(abs(plans[n][k] - ref[k]) for k in ref)
        differ = sum(abs(plans[n][k] - ref[k]) > 1e-6 for k in ref)
        o = out_of_sample(data[n], plans[n], opts, M_TABLE)
        lo, hi = o["expected_cost_ci95_usd"]
        print(f"| {n} | {solve_s[n]:.1f} | {l1:,.3f} | {differ} of {len(ref)} | {o['expected_cost_usd'] / 1e6:,.3f} | "
              f"{lo / 1e6:,.3f} to {hi / 1e6:,.3f} | {o['cvar_cost_usd'] / 1e6:,.3f} |", flush=True)
    runs = [(500, 5, 50)] + ([(500, 5, SIZES_N[-1])] if args.full else [])
    for m, r, n in runs:
        t0 = time.perf_counter()
        k = sampled_plan(data[SIZES_N[-1]], ref, opts, {"out_of_sample": m, "replications": r, "replication_size": n})
        print(f"\nconfidence step at N={SIZES_N[-1]}, M={m}, R={r}, n={n}: {time.perf_counter() - t0:.1f} s")
        print(f"  gap by replication (USD): {k['gap_by_replication_usd']}")
        print(f"  {k['sentence']}", flush=True)


if __name__ == "__main__":
    main()
