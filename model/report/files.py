"""A run's report: ``write_report(run, out_dir, argv)`` writes, atomically (:mod:`model.report.atomic`: into a
temporary sibling directory that is renamed into place only when complete, so a failed or interrupted run
never leaves a half-written report and never clobbers the previous one):

    <table>.csv      one tidy CSV per table of :mod:`model.results.tables`
    kpis.json        the KPIs (deterministic for a given input) plus a ``run`` block (timings, versions)
    inputs.json      the validated case and the time series it was solved with (``compare`` diffs it)
    summary.md       a two-minute read for a planner (:mod:`model.report.markdown`)
    plan.xlsx        the finance workbook: overview, cost by year, budget, expected plan, contracts,
                     scenarios, assumptions (:mod:`model.report.excel`)
    report.html      one self-contained page with plots (:mod:`model.report.html`)
    manifest.json    input file hashes, package and solver versions, solver options, timings, command line
                     (:mod:`model.report.manifest`)

The other reports: a sweep's in :mod:`model.report.sweep`, the comparison of report folders in
:mod:`model.report.compare`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from model import progress
from model.report.atomic import atomic_dir
from model.report.excel import write_excel
from model.report.html import render_html
from model.report.manifest import manifest, package_versions
from model.report.markdown import summary_markdown

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run


def inputs_document(run: Run) -> dict:
    """inputs.json: the validated case and the time series it was solved with (``compare`` diffs it),
    to 9 significant digits (an expected-value run's mean series then differ from the case's only
    where a scenario changes them)."""
    d = run.data

    def series(m) -> dict:
        return {k: [float(f"{x:.9g}") for x in v] for k, v in m.items()}

    return {"case": d.case.model_dump(mode="json"),
            "series": {"demand_t_per_period": series(d.demand_t_per_period),
                       "price_usd_per_kg": series(d.price_usd_per_kg),
                       "capacity_t_per_period": series(d.capacity_t_per_period)}}


def write_report(run: Run, out_dir: str | Path, argv: list[str] | None = None,
                 extra_files: dict[str, Path] | None = None, phases_s: dict[str, float] | None = None) -> Path:
    """Write every report file for ``run`` into ``out_dir`` atomically; returns the directory.

    ``extra_files``: name -> a file the run produced (e.g. HiGHS's log), copied in with the rest.
    ``phases_s``: the wall time of each phase of the command so far (:mod:`model.progress`), written to
    the manifest as ``phases_s``."""

    def write(tmp: Path) -> None:
        with progress.phase("writing the report", total=4) as shown:
            for name, src in (extra_files or {}).items():
                shutil.copyfile(src, tmp / name)
            for name, df in run.solution.tables.items():
                df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            kpis = dict(run.solution.kpis)
            kpis["run"] = {"timings_s": run.timings_s, "packages": package_versions()}
            (tmp / "kpis.json").write_text(json.dumps(kpis, indent=2, sort_keys=False) + "\n")
            (tmp / "inputs.json").write_text(json.dumps(inputs_document(run), indent=1, sort_keys=True) + "\n")
            (tmp / "summary.md").write_text(summary_markdown(run))
            man = manifest(run, argv or sys.argv)
            if phases_s:
                man["phases_s"] = dict(phases_s)
            (tmp / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
            shown.advance()
            write_excel(run, man, tmp / "plan.xlsx")
            shown.advance()
            (tmp / "report.html").write_text(render_html(run, man), encoding="utf-8")
            shown.advance(2)

    return atomic_dir(out_dir, write, protect=[p for p, _ in run.data.input_files])
