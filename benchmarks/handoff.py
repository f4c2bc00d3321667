"""Measure every way Pyomo can hand this model to HiGHS, on a given case.

    python benchmarks/handoff.py [INPUT.yaml] [--repeat N]

Prints, per path, the median over N repeats of: hand-off time (model -> HiGHS ready to run),
solve time, and the objective (all paths must agree). Paths:

- stdform:    Pyomo LinearStandardFormCompiler -> numpy/scipy arrays -> highspy.passModel   (the default)
- lp_file:    Pyomo LP writer -> temporary file -> highspy.readModel
- contrib:    pyomo.contrib.solver HiGHS (persistent), solve incl. hand-off
- appsi:      pyomo.contrib.appsi Highs (persistent), solve incl. hand-off

Figures are wall seconds on this machine; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import highspy  # noqa: E402
import pyomo.environ as pyo  # noqa: E402

from model.build import build_scenario_model  # noqa: E402
from model.io import read_case  # noqa: E402
from model.solver import SolverOptions, solve  # noqa: E402


def path_stdform(m):
    r = solve(m, SolverOptions(path="stdform"))
    return r.handoff_s, r.solve_s, r.objective_kusd


def path_lp_file(m):
    with tempfile.TemporaryDirectory() as d:
        f = str(Path(d) / "m.lp")
        t0 = time.perf_counter()
        m.write(f, io_options={"symbolic_solver_labels": False})
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.readModel(f)
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, h.getInfo().objective_function_value


def path_contrib(m):
    r = solve(m, SolverOptions(path="persistent"))
    return r.handoff_s, r.solve_s, r.objective_kusd


def path_appsi(m):
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    opt.highs_options = {"threads": 1}
    t0 = time.perf_counter()
    opt.set_instance(m)
    t1 = time.perf_counter()
    res = opt.solve(m)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, res.best_feasible_objective


PATHS = {"stdform": path_stdform, "lp_file": path_lp_file, "contrib": path_contrib, "appsi": path_appsi}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", nargs="?", default="inputs/base.yaml")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    data = read_case(a.input)
    t0 = time.perf_counter()
    b = build_scenario_model(data)
    build_s = time.perf_counter() - t0
    n_vars = sum(1 for v in b.model.component_data_objects(pyo.Var) if not v.fixed)
    n_cons = sum(1 for _ in b.model.component_data_objects(pyo.Constraint))
    print(f"case {data.case.name}: {n_vars} variables, {n_cons} constraints, build {build_s:.3f} s")
    print(f"{'path':10s} {'hand-off s':>11s} {'solve s':>9s} {'objective kUSD':>16s}")
    results = {}
    for name, fn in PATHS.items():
        runs = []
        for _ in range(a.repeat):
            b = build_scenario_model(data)
            runs.append(fn(b.model))
        h = statistics.median(r[0] for r in runs)
        s = statistics.median(r[1] for r in runs)
        results[name] = h
        print(f"{name:10s} {h:11.4f} {s:9.4f} {runs[0][2]:16.3f}")
    best = min(results, key=results.get)
    print("hand-off relative to stdform: " + ", ".join(f"{k} {v / results['stdform']:.2f}x" for k, v in results.items()))
    print(f"fastest hand-off: {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
