"""The size and memory estimate of ``model.solve.budget`` against what a run really takes.

    python benchmarks/size_estimate.py [--counts 50,200] [--skip-runs]

For the default case (``inputs/base.yaml``, 12 scenarios) and ``inputs/sampled.yaml`` at each
``--counts`` scenario count (a temporary case that ``extends`` it with that ``scenarios.count``), a
fresh child process runs the whole command line (``solve.main``: read, size check, build, hand-off,
HiGHS, canonical stages and one-sided marginal values, EVPI/VSS, tables, audit, report writing into
a temporary folder) and reports its peak resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``,
kB on Linux), then builds the extensive form again and counts its variables, rows and nonzeros.
Printed side by side: estimated vs built columns (Pyomo variables of the extensive form; HiGHS gets
fewer, the shared first-stage columns merged), and estimated vs measured peak memory, with ratios
(estimate / actual: above 1 is conservative). ``--skip-runs`` prints the estimates only (seconds).
Runs one case at a time, single-threaded (the 200-scenario run takes about two minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(case: str) -> int:
    import resource

    import pyomo.environ as pyo

    import solve

    with tempfile.TemporaryDirectory() as tmp:
        rc = solve.main([case, "--out", str(Path(tmp) / "out"), "--quiet"])
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        highs_cols = json.loads((Path(tmp) / "out" / "kpis.json").read_text())["model_size"]["columns"] if rc == 0 else None
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.stochastic.extensive import build_extensive_form

    ef = build_extensive_form(scenario_cases(read_case(case))).model
    cols = sum(1 for _ in ef.component_data_objects(pyo.Var))
    print(json.dumps({"rc": rc, "peak_bytes": peak_kb * 1024, "columns": cols, "highs_columns": highs_cols}))
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", default="50,200", help="scenario counts of inputs/sampled.yaml (default 50,200)")
    p.add_argument("--skip-runs", action="store_true", help="estimates only")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        return child(a.child)
    from model.input.io import read_case
    from model.solve import budget

    with tempfile.TemporaryDirectory() as tmp:
        cases = [("base (12)", str(ROOT / "inputs" / "base.yaml"))]
        for n in [int(x) for x in a.counts.split(",") if x.strip()]:
            f = Path(tmp) / f"sampled-{n}.yaml"
            f.write_text(f"extends: {ROOT / 'inputs' / 'sampled.yaml'}\nname: sampled-{n}\nscenarios:\n  count: {n}\n")
            cases.append((f"sampled ({n})", str(f)))
        print(f"constants: BASE_BYTES {budget.BASE_BYTES / 1e6:,.0f} MB, BYTES_PER_COLUMN {budget.BYTES_PER_COLUMN:,}")
        print(f"{'case':16s} {'est. columns':>13s} {'built cols':>11s} {'HiGHS cols':>11s} {'ratio':>6s} "
              f"{'est. MB':>8s} {'peak MB':>8s} {'ratio':>6s}")
        for label, path in cases:
            est = budget.estimate(read_case(path))
            row = f"{label:16s} {est.columns:13,d}"
            if a.skip_runs:
                print(row + f" {'':>11s} {'':>11s} {'':>6s} {est.memory_bytes / 1e6:8,.0f}")
                continue
            out = subprocess.run([sys.executable, __file__, "--child", path], cwd=ROOT, capture_output=True, text=True)
            if out.returncode != 0 or not out.stdout.strip():
                print(row + f"  child failed: {out.stderr.strip()[-300:]}")
                continue
            m = json.loads(out.stdout.strip().splitlines()[-1])
            hc = f"{m['highs_columns']:11,d}" if m["highs_columns"] is not None else f"{'-':>11s}"
            print(row + f" {m['columns']:11,d} {hc} {est.columns / m['columns']:6.2f} "
                  f"{est.memory_bytes / 1e6:8,.0f} {m['peak_bytes'] / 1e6:8,.0f} {est.memory_bytes / m['peak_bytes']:6.2f}"
                  + ("" if m["rc"] == 0 else f"  (run exit {m['rc']})"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
