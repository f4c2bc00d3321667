"""What the canonical plan and one-sided marginal values cost, as a ratio to the main HiGHS solve.

    python benchmarks/canonical.py [INPUT.yaml ...]   (default: inputs/base.yaml inputs/sampled.yaml)

For each case, the stochastic plan (or the deterministic one for a case without scenarios) is
solved once, EVPI/VSS skipped; printed side by side: the main HiGHS time, the tie-break stages
(``canonical_s``: CN tonnage, stock, order period, generic over the first stage, then block by
block), the one-sided marginal values (``marginal_s``: ranging plus the directional re-solves), and
each as a ratio to the main HiGHS time. Target (issue 10): canonical at most 0.25x.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    from model.app.run import run_case

    cases = argv or [str(ROOT / "inputs" / "base.yaml"), str(ROOT / "inputs" / "sampled.yaml")]
    print(f"{'case':24s} {'columns':>9s} {'main HiGHS s':>13s} {'canonical s':>12s} {'ratio':>6s} "
          f"{'marginal s':>11s} {'ratio':>6s} {'blocks':>7s} {'stages'}")
    for path in cases:
        t0 = time.perf_counter()
        run = run_case(path, evpi_vss=False)
        r = run.result
        c = r.canonical or {}
        print(f"{Path(path).stem:24s} {r.n_columns:9,d} {r.solve_s:13.2f} {r.canonical_s:12.2f} "
              f"{r.canonical_s / r.solve_s:6.2f} {r.marginal_s:11.2f} {r.marginal_s / r.solve_s:6.2f} "
              f"{c.get('blocks', 0):7d} {','.join(c.get('stages', []))}  (run {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
