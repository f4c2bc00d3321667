"""Measure every way Pyomo can hand this model to HiGHS, on a given case.

    python benchmarks/handoff.py [INPUT.yaml] [--repeat N] [--ef] [--paths stdform,lp_file,...] [--json FILE]

Prints, per path, the median over N repeats of: hand-off time (model -> HiGHS ready to run),
solve time, and the objective (all paths must agree). Each repeat builds the model afresh; every
path is first run once, untimed, on the one-scenario model (imports and first-call costs).

By default the model is the case as read (one scenario, ``build_scenario_model``). With ``--ef``
it is the extensive form over the case's scenarios, with non-anticipativity as equality rows
(``nonant="rows"``) so that every path is handed the very same model (the shared-variable merge
exists only on the stdform path). ``benchmarks/run.py --handoff`` runs this on a generated
mid-size instance. Paths:

- stdform:    Pyomo LinearStandardFormCompiler -> numpy/scipy arrays -> highspy.passModel   (the default)
- lp_file:    Pyomo LP writer -> temporary file -> highspy.readModel
- contrib:    pyomo.contrib.solver HiGHS (persistent), solve incl. hand-off
- appsi:      pyomo.contrib.appsi Highs (persistent), solve incl. hand-off

Figures are wall seconds on this machine; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import highspy  # noqa: E402
import pyomo.environ as pyo  # noqa: E402

from model.components.build import build_scenario_model  # noqa: E402
from model.input.io import read_case  # noqa: E402
from model.solve.highs import SolverOptions, solve  # noqa: E402


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
PATH_LABELS = {
    "stdform": "standard form (`LinearStandardFormCompiler` -> `highspy.passModel`)",
    "lp_file": "LP file -> `highspy.readModel`",
    "contrib": "`pyomo.contrib.solver` HiGHS (persistent)",
    "appsi": "appsi HiGHS (persistent)",
}


def model_builder(data, ef: bool = False):
    """A function returning a freshly built Pyomo model of ``data`` (its scenarios' EF when ``ef``)."""
    if not ef:
        return lambda: build_scenario_model(data).model
    from model.input.scenarios import scenario_cases
    from model.stochastic.extensive import build_extensive_form

    cases = scenario_cases(data)
    return lambda: build_extensive_form(cases, nonant="rows").model


def measure(data, repeat: int = 5, paths=tuple(PATHS), ef: bool = False, progress=None) -> dict:
    """Median hand-off and solve time per path; returns a JSON-able dict (see ``print_table``)."""
    build = model_builder(data, ef)
    t0 = time.perf_counter()
    m = build()
    build_s = time.perf_counter() - t0
    n_vars = sum(1 for v in m.component_data_objects(pyo.Var) if not v.fixed)
    n_cons = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    del m
    out = {"case": data.case.name, "ef": ef, "scenarios": None, "variables": n_vars, "constraints": n_cons,
           "build_s": build_s, "repeat": repeat, "paths": {}}
    if ef:
        from model.input.scenarios import scenario_cases

        out["scenarios"] = len(scenario_cases(data))
    for name in paths:  # warm-up (imports, first-call costs) on the one-scenario model, not timed
        PATHS[name](build_scenario_model(data).model)
    for name in paths:
        runs = []
        for _ in range(repeat):
            runs.append(PATHS[name](build()))
        out["paths"][name] = {"handoff_s": statistics.median(r[0] for r in runs),
                              "solve_s": statistics.median(r[1] for r in runs),
                              "objective_kusd": float(runs[0][2])}
        if progress:
            progress(name, out["paths"][name])
    return out


def markdown_table(res: dict) -> str:
    """The per-path comparison as a Markdown table (hand-off relative to the standard form)."""
    ref = res["paths"].get("stdform", {}).get("handoff_s")
    lines = ["| path | hand-off | vs standard form | HiGHS solve | objective (kUSD) |", "|---|---|---|---|---|"]
    for k, v in res["paths"].items():
        rel = f"{v['handoff_s'] / ref:.2f}x" if ref else "-"
        lines.append(f"| {PATH_LABELS.get(k, k)} | {v['handoff_s']:.3f} s | {rel} | {v['solve_s']:.3f} s | {v['objective_kusd']:,.3f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", nargs="?", default="inputs/base.yaml")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ef", action="store_true", help="hand off the extensive form over the case's scenarios (nonant rows)")
    ap.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated subset of {','.join(PATHS)}")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = ap.parse_args()
    paths = [p.strip() for p in a.paths.split(",") if p.strip()]
    bad = [p for p in paths if p not in PATHS]
    if bad:
        ap.error(f"unknown path(s) {bad}; choose from {list(PATHS)}")
    data = read_case(a.input)
    print(f"{'path':10s} {'hand-off s':>11s} {'solve s':>9s} {'objective kUSD':>16s}", flush=True)
    res = measure(data, a.repeat, paths, ef=a.ef,
                  progress=lambda n, r: print(f"{n:10s} {r['handoff_s']:11.4f} {r['solve_s']:9.4f} {r['objective_kusd']:16.3f}",
                                              flush=True))
    what = f"extensive form over {res['scenarios']} scenarios" if a.ef else "one scenario"
    print(f"case {res['case']} ({what}): {res['variables']} variables, {res['constraints']} constraints, "
          f"build {res['build_s']:.3f} s, median of {a.repeat}")
    results = {k: v["handoff_s"] for k, v in res["paths"].items()}
    if "stdform" in results:
        print("hand-off relative to stdform: " + ", ".join(f"{k} {v / results['stdform']:.2f}x" for k, v in results.items()))
    print(f"fastest hand-off: {min(results, key=results.get)}")
    objs = [v["objective_kusd"] for v in res["paths"].values()]
    if max(objs) - min(objs) > 1e-6 * max(1.0, abs(max(objs))):
        print(f"WARNING: the paths' objectives differ: {objs}")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
