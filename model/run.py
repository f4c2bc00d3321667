"""The pipeline as plain calls: read -> build -> solve -> extract. Writes nothing.

``run_case(path, options)`` is what ``solve.py`` and the tests call. Timings are kept apart from
the KPIs so that two runs of the same input give identical KPIs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .build import BuiltModel, build_scenario_model
from .data import CaseData
from .io import read_case
from .results import Solution, extract
from .solver import SolveResult, SolverOptions, solve


@dataclass(frozen=True)
class Run:
    data: CaseData
    built: BuiltModel
    result: SolveResult
    solution: Solution
    timings_s: dict


def run_data(data: CaseData, options: SolverOptions = SolverOptions(), read_s: float = 0.0) -> Run:
    t0 = time.perf_counter()
    built = build_scenario_model(data)
    t1 = time.perf_counter()
    res = solve(built.model, options)
    t2 = time.perf_counter()
    sol = extract(built, res)
    t3 = time.perf_counter()
    timings = {
        "read_s": round(read_s, 4),
        "build_s": round(t1 - t0, 4),
        "handoff_s": round(res.handoff_s, 4),
        "solve_s": round(res.solve_s, 4),
        "extract_s": round(t3 - t2 + res.load_s, 4),
        "total_s": round(read_s + t3 - t0, 4),
    }
    return Run(data=data, built=built, result=res, solution=sol, timings_s=timings)


def run_case(path: str | Path, options: SolverOptions = SolverOptions()) -> Run:
    t0 = time.perf_counter()
    data = read_case(path)
    return run_data(data, options, read_s=time.perf_counter() - t0)
