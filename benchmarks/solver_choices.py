"""HiGHS algorithm and option choices on one extensive form, compiled once.

    python benchmarks/solver_choices.py [INPUT.yaml] [--scenarios N] [--time-limit S]

Builds the extensive form of the case (shared-variable non-anticipativity, as the default path
does), compiles it to standard form once, then solves the same arrays with each HiGHS choice and
prints the time, status and objective. Also prints the coefficient ranges (|A|, |c|, |b|), which
the units (tonnes, USD/kg, costs in kUSD) are chosen to keep narrow. Figures only; no assertion.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHOICES = [
    ("dual simplex (default 'choose')", {"solver": "choose"}),
    ("dual simplex, presolve off", {"solver": "simplex", "presolve": "off"}),
    ("IPM with crossover", {"solver": "ipm", "run_crossover": "on"}),
    ("IPM without crossover", {"solver": "ipm", "run_crossover": "off"}),
    ("HiPO interior point", {"solver": "hipo"}),
    ("PDLP", {"solver": "pdlp"}),
    ("dual simplex, 2 threads (parallel on)", {"solver": "simplex", "parallel": "on", "threads": 2}),
]


def main() -> int:
    import highspy
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.stochastic.extensive import build_extensive_form

    ap = argparse.ArgumentParser()
    ap.add_argument("input", nargs="?", default="inputs/sampled.yaml")
    ap.add_argument("--scenarios", type=int, default=50, help="sampled scenario count (mode sample only)")
    ap.add_argument("--time-limit", type=float, default=300)
    a = ap.parse_args()
    over = {"scenarios.count": a.scenarios} if "sampled" in a.input else {}
    cases = scenario_cases(read_case(a.input, over))
    ef = build_extensive_form(cases, nonant="rows")
    sf = LinearStandardFormCompiler().write(ef.model, mixed_form=True, set_sense=None)
    A = sf.A.tocsc()
    c = np.asarray(sf.c.toarray()).ravel()
    b = np.asarray(sf.rhs, dtype=float)
    nz = np.abs(A.data[A.data != 0])
    cz, bz = np.abs(c[c != 0]), np.abs(b[b != 0])
    print(f"{len(cases)} scenarios: {A.shape[1]:,} columns, {A.shape[0]:,} rows, {A.nnz:,} nonzeros")
    print(f"coefficient ranges: |A| {nz.min():.3g}..{nz.max():.3g}, |c| {cz.min():.3g}..{cz.max():.3g}, "
          f"|b| {bz.min():.3g}..{bz.max():.3g}")
    inf = highspy.kHighsInf
    bt = np.array([r.bound_type for r in sf.rows])
    lb = np.array([-inf if v.lb is None else v.lb for v in sf.columns])
    ub = np.array([inf if v.ub is None else v.ub for v in sf.columns])
    print(f"{'choice':42s} {'status':>20s} {'seconds':>9s} {'objective kUSD':>16s}")
    for name, opts in CHOICES:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(a.time_limit))
        h.setOptionValue("threads", 1)
        ok = True
        for k, v in opts.items():
            if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
                ok = False
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
        lp.row_lower_ = np.where(bt <= 0, b, -inf)
        lp.row_upper_ = np.where(bt >= 0, b, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        lp.offset_ = float(sf.c_offset[0]) if len(sf.c_offset) else 0.0
        h.passModel(lp)
        t0 = time.perf_counter()
        st = h.run()
        dt = time.perf_counter() - t0
        status = h.modelStatusToString(h.getModelStatus()) if st != highspy.HighsStatus.kError else "rejected"
        if not ok:
            status = "option rejected"
        obj = h.getInfo().objective_function_value
        print(f"{name:42s} {status:>20s} {dt:9.2f} {obj:16.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
