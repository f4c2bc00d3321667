"""plan.xlsx write time and size, before and after the finance workbook (issue 14, part 2).

    python benchmarks/workbook.py [--cases base,sampled] [--repeat 1]

For the default case (``inputs/base.yaml``, 12 scenarios) and ``inputs/sampled.yaml`` (200 scenarios),
solves the case once (EVPI/VSS skipped: they change a few KPI values, not the size of the workbook),
then times ``model.report.excel.write_excel`` into a temporary folder (best of ``--repeat``), reports
the file size in MB (10^6 bytes) and the rows of all its sheets, and the time the cost tables of
:mod:`model.results.costs` take (``finance s``: ``add_costs`` re-run on every scenario's tables as
``extract`` runs it, plus ``add_expected_costs``) against the run's main solve (``solve_s``).

The "before" columns are the figures of the workbook writer this replaced (every plan table one sheet,
every scenario stacked), measured once with the same script on the same machine on 2026-12-01 and
recorded in ``BEFORE`` (the old writer is gone, so it cannot be re-run here); they are also in
``benchmarks/RESULTS.md``. Numbers depend on the machine's load; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = {"base": ROOT / "inputs" / "base.yaml", "sampled": ROOT / "inputs" / "sampled.yaml"}
# the previous writer (one sheet per stacked plan table), measured with this script: seconds, MB, sheet rows
BEFORE: dict[str, tuple[float, float, int]] = {"base": (4.87, 1.20, 35_310), "sampled": (83.84, 19.28, 573_476)}


def finance_seconds(run) -> float:
    """Seconds the cost-over-time tables take for ``run``: :func:`model.results.costs.add_costs` on every
    scenario's plan tables (as ``extract`` runs it) plus :func:`add_expected_costs` on the stacked tables."""
    from model.results.costs import TABLES, add_costs, add_expected_costs

    sr = run.stochastic
    t = time.perf_counter()
    if sr is None:
        add_costs(dict(run.solution.tables), {}, run.data)
    else:
        for case, sol in zip(sr.cases, sr.solutions):
            add_costs(dict(sol.tables), {}, case)
        stacked = {k: v for k, v in run.solution.tables.items() if k in TABLES}
        add_expected_costs(stacked, {}, sr.cases)
    return time.perf_counter() - t


def measure(name: str, repeat: int) -> dict:
    from model.app.run import run_case
    from model.report.excel import write_excel
    from model.report.manifest import manifest

    t0 = time.perf_counter()
    run = run_case(CASES[name], evpi_vss=False)
    solve_total_s = time.perf_counter() - t0
    man = manifest(run, ["solve.py", str(CASES[name].relative_to(ROOT))])
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.xlsx"
        for _ in range(repeat):
            t = time.perf_counter()
            write_excel(run, man, path)
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
        size_mb = path.stat().st_size / 1e6
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        rows = sum(sum(1 for _ in ws.iter_rows(values_only=True)) for ws in wb.worksheets)
        wb.close()
    n = run.solution.kpis.get("scenario_count", 1)
    return {"case": name, "scenarios": n, "write_s": best, "size_mb": size_mb, "rows": rows,
            "solve_s": run.timings_s.get("solve_s"), "run_s": solve_total_s,
            "finance_s": finance_seconds(run)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="base,sampled")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args(argv)
    print("| case | scenarios | before s | before MB | before rows | after s | after MB | after rows | "
          "finance s | main solve s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in a.cases.split(","):
        r = measure(name, a.repeat)
        b = BEFORE.get(name)
        before = (f"{b[0]:.2f} | {b[1]:.2f} | {b[2]:,}" if b else "- | - | -")
        fin = f"{r['finance_s']:.2f}" if r["finance_s"] is not None else "-"
        sol = f"{r['solve_s']:.2f}" if r["solve_s"] is not None else "-"
        print(f"| {name} | {r['scenarios']} | {before} | {r['write_s']:.2f} | {r['size_mb']:.2f} | {r['rows']:,} | "
              f"{fin} | {sol} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
