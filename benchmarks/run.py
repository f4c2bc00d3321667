"""Scale benchmarks of the extensive form, and the performance targets.

    python benchmarks/run.py                                  # quick set (tiny,small,medium) + 2 targets
    python benchmarks/run.py --sizes tiny,small,medium,large,xlarge
    python benchmarks/run.py --scenarios 1,10,30 --periods 24 --suppliers 20 --streams 3 --elements 3
    python benchmarks/run.py --sizes none --handoff           # per-path hand-off comparison only
    python benchmarks/run.py --sizes none --large --large-time-limit 900

For each size the instance is written by ``benchmarks/generate.py`` (the project's input format)
and measured in a **fresh subprocess** (so the peak resident memory is that size's):
``read_case`` + ``scenario_cases``; ``build_extensive_form(cases, nonant="shared")`` (build);
``solve_extensive_form(ef, SolverOptions(...))`` (hand-off = Pyomo standard form -> highspy, and
HiGHS solve); ``collect(ef, res)`` plus loading values and duals back (extract). The Pyomo
overhead ratio is (build + hand-off + extract) / HiGHS solve. Columns, rows and nonzeros are
those HiGHS received (``SolveResult``). Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` in the
child (and the parent's samples of its ``VmHWM``, if it had to be stopped).

Time limit (``--time-limit``, per size, default 300 s): HiGHS gets whatever the build and the
hand-off have left of it; a size that reaches it is reported as ``time limit`` with what was
measured up to then (the child is stopped if build or hand-off alone overrun it by the grace).

Targets (each printed as a measured figure and HOLDS / DOES NOT HOLD):

1. ``python solve.py`` on ``inputs/base.yaml`` end to end (subprocess wall time, report written to a
   temporary directory) under 60 s;
2. a warm sweep of 10 values of one input scalar (default ``risk.risk_weight_lambda`` 0..0.9 on
   ``inputs/base.yaml``, ``model.app.sweep.run_sweep``) under 3 cold-solve times;
3. (``--large`` only) 500 sampled scenarios x 36 monthly periods x the default case's size solved to
   1e-4 relative gap within 10x the wait-and-see floor (the sum of the 500 single-scenario HiGHS
   solve times), peak memory under 8 GB. The engine is chosen by ``--engine`` (``solve_large``;
   only ``ef`` exists yet).

Figures are wall seconds on a shared machine; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

DEFAULT_SIZE = dict(suppliers=20, periods=24, streams=3, elements=3)  # the default case has 20 offers
SIZES = {  # name -> overrides of DEFAULT_SIZE; scenarios sampled (mode: sample)
    "tiny": dict(scenarios=1),
    "small": dict(scenarios=10),
    "medium": dict(scenarios=30),
    "large": dict(scenarios=100),
    "xlarge": dict(scenarios=200),
    "huge": dict(scenarios=500, periods=36),
}
QUICK = "tiny,small,medium"
GB = 1024 ** 3
DEFAULT_SWEEP_KEY = "risk.risk_weight_lambda"
DEFAULT_SWEEP_VALUES = "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"


# ====================================================================================== helpers

def peak_rss_bytes() -> int:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _vmhwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(cmd: list[str], wall_limit: float | None, log: Path, cwd: Path = ROOT) -> dict:
    """Run ``cmd``; stop it (by its pid) after ``wall_limit`` s. Returns rc, wall_s, peak_rss, killed."""
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        peak, killed = 0, False
        while True:
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                peak = max(peak, _vmhwm(proc.pid))
                if wall_limit is not None and time.perf_counter() - t0 > wall_limit:
                    proc.kill()
                    proc.wait()
                    killed = True
                    break
    return {"rc": proc.returncode, "wall_s": time.perf_counter() - t0, "peak_rss": peak, "killed": killed}


def _tail(path: Path, n: int = 5) -> str:
    try:
        return " | ".join(path.read_text().strip().splitlines()[-n:])
    except OSError:
        return ""


def machine() -> dict:
    from importlib.metadata import version

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    except OSError:
        free = ""
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    vers = {}
    for pkg in ("pyomo", "highspy", "numpy", "scipy", "pandas"):
        try:
            vers[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            vers[pkg] = "?"
    return {"nproc": nproc, "cpu": cpu, "free_h": free, "python": platform.python_version(), "versions": vers,
            "loadavg": os.getloadavg()}


def _fmt_s(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def _fmt_gb(b) -> str:
    return "-" if not b else f"{b / GB:.2f} GB"


# ====================================================================================== child side

class RunClock:
    """Times ``highspy.Highs.run`` and gives it the time left before ``deadline``.

    Benchmark instrumentation only (installed in the measuring subprocess): ``model.solve.highs``
    does not return its hand-off and HiGHS times when the solve stops at a time limit, so the
    run call is wrapped to record when HiGHS starts and stops and to keep the Highs object (for its
    column/row counts and iteration counts). The time limit is set here, just before ``run``, so
    that the budget left after build and hand-off goes to HiGHS.
    """

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self.start = self.end = None
        self.h = None
        self.runs: list[float] = []  # duration of every run call

    def install(self) -> "RunClock":
        import highspy

        orig = highspy.Highs.run
        clock = self

        def run(h, *a, **k):
            if clock.deadline is not None:
                h.setOptionValue("time_limit", max(clock.deadline - time.perf_counter(), 0.01))
            clock.h = h
            clock.start = time.perf_counter()
            try:
                return orig(h, *a, **k)
            finally:
                clock.end = time.perf_counter()
                clock.runs.append(clock.end - clock.start)

        highspy.Highs.run = run
        return self

    def highs_info(self) -> dict:
        if self.h is None:
            return {}
        h = self.h
        info = h.getInfo()
        out = {"n_columns": h.getNumCol(), "n_rows": h.getNumRow(), "n_nonzeros": h.getNumNz(),
               "simplex_iterations": int(info.simplex_iteration_count), "ipm_iterations": int(info.ipm_iteration_count),
               "model_status": h.modelStatusToString(h.getModelStatus())}
        try:
            out["objective_at_stop_kusd"] = float(info.objective_function_value)
        except Exception:  # noqa: BLE001
            pass
        return out


class Recorder:
    """A JSON file rewritten after every phase, so a stopped child still leaves what it measured."""

    def __init__(self, path: Path, **fields):
        self.path = Path(path)
        self.rec = dict(fields)

    def __call__(self, **fields) -> None:
        self.rec.update(fields)
        self.rec["peak_rss"] = peak_rss_bytes()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.rec, indent=2, default=str))
        tmp.replace(self.path)


def _warm_up() -> float:
    """Pay the one-off costs (imports of scipy and Pyomo's standard-form compiler, highspy's first
    call) on a one-variable model, so that the timed hand-off is that of the model, not of imports."""
    import pyomo.environ as pyo

    from model.solve.highs import SolverOptions, solve

    t = time.perf_counter()
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(1, 2))
    m.c = pyo.Constraint(expr=m.x >= 1.5)
    m.o = pyo.Objective(expr=m.x)
    solve(m, SolverOptions())
    return time.perf_counter() - t


def _ef_measure(cases, time_limit: float | None, threads: int, rec: Recorder, t_start: float) -> None:
    """Build, hand off, solve and collect the extensive form, recording each phase."""
    import pyomo.environ as pyo  # noqa: F401  (imported before timing)

    from model.errors import SolveError
    from model.solve.highs import SolverOptions
    from model.stochastic.extensive import build_extensive_form, collect, solve_extensive_form

    deadline = None if time_limit is None else t_start + time_limit
    rec(warmup_s=_warm_up())
    clock = RunClock(deadline).install()
    rec(phase="build")
    t0 = time.perf_counter()
    ef = build_extensive_form(cases, nonant="shared")
    build_s = time.perf_counter() - t0
    rec(build_s=build_s, phase="hand-off")
    if deadline is not None and time.perf_counter() >= deadline:
        rec(status="time limit (during build)", phase="stopped")
        return
    opts = SolverOptions(threads=threads, time_limit_s=None if deadline is None else max(deadline - time.perf_counter(), 1.0))
    t1 = time.perf_counter()
    try:
        res = solve_extensive_form(ef, opts)
    except SolveError as e:
        hs = clock.highs_info()
        fields = {"status": "time limit" if "Time limit" in e.termination else f"failed: {e.termination}",
                  "phase": "stopped", **hs}
        if clock.start is not None:
            fields |= {"handoff_s": clock.start - t1, "solve_s": (clock.end or time.perf_counter()) - clock.start}
        rec(**fields)
        return
    rec(handoff_s=res.handoff_s, solve_s=res.solve_s, n_columns=res.n_columns, n_rows=res.n_rows,
        n_nonzeros=res.n_nonzeros, objective_kusd=res.objective_kusd, phase="extract",
        simplex_iterations=clock.highs_info().get("simplex_iterations"))
    t2 = time.perf_counter()
    collect(ef, res)
    extract_s = time.perf_counter() - t2 + res.load_s
    solve_s = res.solve_s
    rec(extract_s=extract_s, status="optimal", phase="done", rel_gap=0.0,
        overhead_ratio=(build_s + res.handoff_s + extract_s) / solve_s if solve_s > 0 else None,
        wall_to_solution_s=build_s + res.handoff_s + solve_s)


def child_size(case: str, time_limit: float | None, threads: int, out: str) -> int:
    t_start = time.perf_counter()
    rec = Recorder(Path(out), case=case, status="running")
    rec(phase="read")
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases

    data = read_case(case)
    cases = scenario_cases(data)
    rec(read_s=time.perf_counter() - t_start, scenarios=len(cases), periods=data.T, offers=len(data.case.offers))
    _ef_measure(cases, time_limit, threads, rec, t_start)
    return 0


# --------------------------------------------------------------------------- the large target's engines

def _solve_large_ef(cases, time_limit: float | None, threads: int, rec: Recorder) -> None:
    _ef_measure(cases, time_limit, threads, rec, time.perf_counter())


def _solve_large_ph(cases, time_limit: float | None, threads: int, rec: Recorder) -> None:
    """Progressive hedging (mpi-sppy, 3 ranks) through the project's own launcher; reads its report."""
    import json as _json

    from model.stochastic.engine import ph_available, run_ph_subprocess

    ok, why = ph_available()
    if not ok:
        rec(status=f"failed: {why}", phase="stopped")
        return
    out = Path(tempfile.mkdtemp(prefix="bench-ph-")) / "report"
    t0 = time.perf_counter()
    rc = run_ph_subprocess(rec.rec["case"], str(out), 3, 1e-4, time_limit, threads)
    wall = time.perf_counter() - t0
    if not (out / "kpis.json").is_file():
        rec(status=f"failed: exit {rc}", phase="stopped", wall_to_solution_s=wall)
        return
    k = _json.loads((out / "kpis.json").read_text())
    gap = k["gap_frac"]
    peaks = k["engine"].get("peak_rss_gb_per_rank_during_ph", [])
    rec(status="optimal" if gap <= 1e-4 else "time limit", phase="done", rel_gap=gap,
        wall_to_solution_s=wall, solve_s=k["run"]["timings_s"].get("ph_s"),
        objective_kusd=k["objective_usd"] / 1000.0, peak_rss_workers=max(peaks) if peaks else None)


LARGE_WORKERS = 1  # --workers: the Benders engine's worker processes (model/stochastic/parallel.py)


def _solve_large_benders(cases, time_limit: float | None, threads: int, rec: Recorder) -> None:
    """Benders decomposition (``model/stochastic/benders.py``) to the 1e-4 relative gap, its subproblems
    in LARGE_WORKERS processes (``--workers``); wall_to_solution_s from the scenario data to the proven
    gap (build + warm start + loop; the canonical first stage is not asked for at 1e-4), solve_s the
    master's and the subproblems' solves (wall seconds, the subproblems' in parallel), the workers' peak
    RSS from getrusage(RUSAGE_CHILDREN) once they have ended."""
    import resource as _resource

    from model.errors import SolveError
    from model.solve.highs import SolverOptions
    from model.stochastic.benders import decompose

    rec(warmup_s=_warm_up(), workers=LARGE_WORKERS, phase="benders")
    t0 = time.perf_counter()
    try:
        out = decompose(cases, SolverOptions(threads=threads, time_limit_s=time_limit), rel_gap=1e-4,
                        workers=LARGE_WORKERS)
    except SolveError as e:
        rec(status=f"failed: {e}", phase="stopped", wall_to_solution_s=time.perf_counter() - t0)
        return
    wall = time.perf_counter() - t0
    out.decomposition.close()
    ub, lb = out.upper_bound_kusd, out.lower_bound_kusd
    gap = max(0.0, ub - lb) / max(abs(ub), 1e-9)
    rec(status="optimal" if gap <= 1e-4 else "time limit", phase="done", rel_gap=gap, wall_to_solution_s=wall,
        build_s=out.build_s, solve_s=out.master_s + out.subproblem_s, objective_kusd=ub,
        iterations=len(out.iterations) - 1, n_columns=out.sizes["columns"], n_rows=out.sizes["rows"],
        n_nonzeros=out.sizes["nonzeros"],
        peak_rss_workers=_resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss * 1024 if LARGE_WORKERS > 1 else None)


ENGINES = {
    "ef": _solve_large_ef,
    "ph": _solve_large_ph,
    "benders": _solve_large_benders,  # LARGE_WORKERS worker processes (--workers)
    # A decomposition engine plugs in here: a function (cases, time_limit, threads, rec) that records,
    # through rec(...), at least status ("optimal" when the relative gap <= 1e-4, else "time limit" /
    # "failed: ..."), rel_gap, wall_to_solution_s (from scenario data to the proven gap), solve_s (time in
    # the LP solver), and n_columns/n_rows/n_nonzeros if meaningful. Peak memory is measured by the
    # runner (this process's ru_maxrss; a multi-process engine must add its workers' peaks itself,
    # e.g. rec(peak_rss_workers=...)). Then add the name to --engine's choices (they come from ENGINES).
}


def solve_large(cases, engine: str = "ef", time_limit: float | None = 900.0, threads: int = 1,
                rec: Recorder | None = None) -> dict:
    """Solve the large target's scenarios with ``engine``; returns the record (see ``ENGINES``)."""
    if engine not in ENGINES:
        raise NotImplementedError(f"engine {engine!r} is not available in benchmarks/run.py (known: {', '.join(ENGINES)})")
    rec = rec or Recorder(Path(tempfile.mkstemp(suffix=".json")[1]))
    rec(engine=engine, status="running")
    ENGINES[engine](cases, time_limit, threads, rec)
    return rec.rec


def child_large(case: str, engine: str, time_limit: float | None, threads: int, out: str) -> int:
    t0 = time.perf_counter()
    rec = Recorder(Path(out), case=case, engine=engine, status="running")
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases

    data = read_case(case)
    cases = scenario_cases(data)
    rec(read_s=time.perf_counter() - t0, scenarios=len(cases), periods=data.T, offers=len(data.case.offers))
    solve_large(cases, engine, time_limit, threads, rec)
    return 0


def child_floor(case: str, time_limit: float | None, threads: int, out: str) -> int:
    """Wait-and-see floor: each scenario alone (build_scenario_model + solve); sum of HiGHS solve times."""
    t0 = time.perf_counter()
    rec = Recorder(Path(out), case=case, status="running")
    from model.components.build import build_scenario_model
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.solve.highs import SolverOptions, solve

    cases = scenario_cases(read_case(case))
    opts = SolverOptions(threads=threads)
    solve_s = build_s = handoff_s = 0.0
    done = 0
    for c in cases:
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
        tb = time.perf_counter()
        b = build_scenario_model(c)
        build_s += time.perf_counter() - tb
        r = solve(b.model, opts)
        solve_s += r.solve_s
        handoff_s += r.handoff_s
        done += 1
        if done % 25 == 0:
            rec(solved=done, solve_s_sum=solve_s)
    n = len(cases)
    rec(scenarios=n, solved=done, solve_s_sum=solve_s, build_s_sum=build_s, handoff_s_sum=handoff_s,
        wall_s=time.perf_counter() - t0,
        floor_s=solve_s * n / done if done else None,
        status="done" if done == n else f"time limit after {done} of {n} (floor extrapolated)")
    return 0


def _instrument_sweep() -> dict:
    """Where a warm sweep's time goes: in this child process only, wrap what ``model.app.sweep`` calls
    (EF build, persistent re-solve, collect, KPI tables) and record each call's duration. After the
    warm points, ``run_sweep`` calls the KPI tables twice more (its cold solve and the unconstrained
    reference); ``sweep_parts`` keeps only the first ``points`` calls."""
    import model.app.sweep as msw

    calls: dict = {"ef_build": [], "persistent_solve": [], "highs": [], "collect": [], "point_kpis": []}

    def timed(fn, key, on_result=None):
        def wrapper(*a, **k):
            t = time.perf_counter()
            r = fn(*a, **k)
            calls[key].append(time.perf_counter() - t)
            if on_result:
                on_result(r)
            return r
        return wrapper

    if hasattr(msw, "build_extensive_form"):
        msw.build_extensive_form = timed(msw.build_extensive_form, "ef_build")
    if hasattr(msw, "collect"):
        msw.collect = timed(msw.collect, "collect")
    if hasattr(msw, "_point_kpis"):
        msw._point_kpis = timed(msw._point_kpis, "point_kpis")
    if hasattr(msw, "PersistentHighs"):
        cls = msw.PersistentHighs
        clock = RunClock(None).install()  # HiGHS time per call, measured at highspy.Highs.run

        class Timed(cls):  # measuring subclass
            def solve(self, m):
                n0 = len(clock.runs)
                return timed(super().solve, "persistent_solve",
                             lambda r: calls["highs"].append(sum(clock.runs[n0:])))(m)

        msw.PersistentHighs = Timed
    return calls


def sweep_parts(calls: dict) -> dict:
    n = len(calls["persistent_solve"])
    return {"points": n, "ef_build_s": sum(calls["ef_build"]),
            "persistent_solve_calls_s": sum(calls["persistent_solve"]),
            "first_point_solve_call_s": calls["persistent_solve"][0] if n else None,
            "highs_s": sum(calls["highs"]), "collect_s": sum(calls["collect"][:n]),
            "point_kpis_s": sum(calls["point_kpis"][:n])}


def child_sweep(case: str, key: str, values: list[float], cold_repeats: int, threads: int, out: str) -> int:
    rec = Recorder(Path(out), case=case, key=key, values=values, status="running")
    from model.input.io import read_case
    from model.solve.highs import SolverOptions
    from model.stochastic.extensive import run_stochastic
    from model.results.stochastic import stochastic_solution
    from model.app.sweep import run_sweep

    opts = SolverOptions(threads=threads)
    calls = _instrument_sweep()
    sw = run_sweep(case, key, values, opts)
    parts = sweep_parts(calls) if sw.path == "warm" else {}
    colds = [sw.cold_solve_s]
    for i in range(1, max(cold_repeats, 1)):  # more cold solves (of the next values), the way run_sweep times its one
        t = time.perf_counter()
        stochastic_solution(run_stochastic(read_case(case, {key: values[i % len(values)]}), opts, with_evpi_vss=False))
        colds.append(time.perf_counter() - t)
    rec(status="done", path=sw.path, sweep_s=sw.sweep_s, cold_solve_s_run_sweep=sw.cold_solve_s, sweep_parts_s=parts,
        cold_solves_s=colds, cold_solve_s=statistics.median(colds),
        point_solve_s=[float(x) for x in sw.frontier.solve_s])
    return 0


# ====================================================================================== parent side

DIMS = ("scenarios", "periods", "suppliers", "streams", "elements")
DIM_TAG = {"scenarios": "s", "periods": "t", "suppliers": "o", "streams": "st", "elements": "e"}


def size_specs(a) -> list[dict]:
    """Named sizes (``--sizes``), each overridden by any explicit ``--scenarios/--periods/...`` lists
    (their product); explicit lists alone start from the default-case size with 10 scenarios."""
    given = {k: [int(x) for x in str(getattr(a, k)).split(",") if x.strip()] for k in DIMS if getattr(a, k) is not None}
    if a.sizes is None and given:
        bases = [{"name": "", **DEFAULT_SIZE, "scenarios": 10}]
    else:
        names = a.sizes if a.sizes is not None else QUICK
        if names.strip().lower() in ("", "none"):
            return []
        bases = []
        for n in names.split(","):
            n = n.strip()
            if n not in SIZES:
                raise SystemExit(f"unknown size {n!r}; known: {', '.join(SIZES)} (or use --scenarios/--periods/...)")
            bases.append({"name": n, **DEFAULT_SIZE, **SIZES[n]})
    specs = []
    for base in bases:
        lists = {k: given.get(k, [base[k]]) for k in DIMS}
        for combo in itertools.product(*lists.values()):
            spec = dict(zip(DIMS, combo))
            tag = "-".join(f"{DIM_TAG[k]}{spec[k]}" for k in DIMS if not base["name"] or k in given)
            spec["name"] = "-".join(x for x in (base["name"], tag) if x)
            specs.append(spec)
    return specs


SIZE_HEADER = ["size", "scenarios", "periods", "offers", "columns", "rows", "nonzeros", "build s", "hand-off s",
               "HiGHS solve s", "extract s", "overhead ratio", "peak RSS", "load", "status"]


def size_row(spec: dict, r: dict) -> list[str]:
    def n(k):
        v = r.get(k)
        return "-" if v is None else f"{v:,}"

    ratio = r.get("overhead_ratio")
    return [spec["name"], str(spec["scenarios"]), str(spec["periods"]), str(spec["suppliers"]), n("n_columns"),
            n("n_rows"), n("n_nonzeros"), _fmt_s(r.get("build_s")), _fmt_s(r.get("handoff_s")), _fmt_s(r.get("solve_s")),
            _fmt_s(r.get("extract_s")), "-" if ratio is None else f"{ratio:.2f}", _fmt_gb(r.get("peak_rss")),
            f"{r.get('load', 0):.1f}", r.get("status", "?")]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows])


def print_row(cells: list[str], widths: list[int]) -> None:
    print("  ".join(c.rjust(w) for c, w in zip(cells, widths)), flush=True)


def measure_size(spec: dict, a, work: Path) -> dict:
    import generate

    d = work / spec["name"]
    path = generate.write_case(d, suppliers=spec["suppliers"], periods=spec["periods"], scenarios=spec["scenarios"],
                               streams=spec["streams"], elements=spec["elements"], seed=a.seed)
    out = d / "result.json"
    out.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    cmd = [sys.executable, str(HERE / "run.py"), "--child", "size", "--case", str(path), "--time-limit", str(a.time_limit),
           "--threads", str(a.threads), "--out", str(out)]
    grace = max(60.0, 0.5 * a.time_limit)
    ch = run_child(cmd, a.time_limit + grace, d / "child.log")
    r = json.loads(out.read_text()) if out.is_file() else {}
    r["peak_rss"] = max(r.get("peak_rss", 0), ch["peak_rss"])
    r["load"] = load
    r["child_wall_s"] = ch["wall_s"]
    if ch["killed"]:
        r["status"] = f"time limit (stopped during {r.get('phase', '?')})"
    elif ch["rc"] != 0:
        r["status"] = f"error rc={ch['rc']}: {_tail(d / 'child.log', 2)}"
    return r


def target_default_case(a, work: Path) -> dict:
    out = work / "default-case-report"
    cmd = [sys.executable, "solve.py", "inputs/base.yaml", "--out", str(out), "--quiet"]
    ch = run_child(cmd, 600, work / "default-case.log")
    ok = ch["rc"] == 0 and not ch["killed"]
    holds = ok and ch["wall_s"] < 60
    return {"name": "default stochastic case end to end (python solve.py inputs/base.yaml)",
            "command": " ".join(shlex.quote(c) for c in cmd[1:]), "wall_s": ch["wall_s"], "peak_rss": ch["peak_rss"],
            "rc": ch["rc"], "holds": holds,
            "figure": f"{ch['wall_s']:.1f} s wall (target < 60 s; exit code {ch['rc']}; peak RSS {_fmt_gb(ch['peak_rss'])})"}


def target_sweep(a, work: Path) -> dict:
    out = work / "sweep.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE / "run.py"), "--child", "sweep", "--case", a.sweep_case, "--sweep-key", a.sweep_key,
           "--sweep-values", a.sweep_values, "--sweep-cold", str(a.sweep_cold), "--threads", str(a.threads), "--out", str(out)]
    ch = run_child(cmd, 1800, work / "sweep.log")
    r = json.loads(out.read_text()) if out.is_file() else {}
    if r.get("status") != "done":
        return {"name": "warm sweep", "holds": False, "figure": f"failed: {_tail(work / 'sweep.log', 3)}"}
    n = len(r["values"])
    ratio = r["sweep_s"] / r["cold_solve_s"]
    return {"name": f"warm sweep of {n} values of {r['key']} on {a.sweep_case} vs cold solves", **r,
            "ratio": ratio, "holds": ratio < 3.0, "peak_rss": ch["peak_rss"],
            "figure": (f"{n} warm points ({r['path']} path) {r['sweep_s']:.1f} s = {ratio:.2f} cold-solve times "
                       f"(one cold solve {r['cold_solve_s']:.2f} s, median of {len(r['cold_solves_s'])}; "
                       f"{n} cold solves ~ {n * r['cold_solve_s']:.1f} s, speed-up {n / ratio:.1f}x; target < 3)"
                       + _sweep_breakdown(r.get("sweep_parts_s") or {}))}


def _sweep_breakdown(p: dict) -> str:
    if not p.get("points"):
        return ""
    other = p["persistent_solve_calls_s"] - p["highs_s"]
    return (f"; inside the sweep: EF build {p['ef_build_s']:.1f} s, persistent solve calls {p['persistent_solve_calls_s']:.1f} s "
            f"(HiGHS {p['highs_s']:.1f} s, hand-off/updates/loading {other:.1f} s, first point {p['first_point_solve_call_s']:.1f} s), "
            f"collect {p['collect_s']:.1f} s, KPI tables {p['point_kpis_s']:.1f} s")


def target_large(a, work: Path) -> dict:
    import generate

    d = work / "large"
    path = generate.write_from_base(d, ROOT / "inputs" / "base.yaml", a.large_periods, a.large_scenarios, a.seed)
    fl_out, ef_out = d / "floor.json", d / "large.json"
    for f in (fl_out, ef_out):
        f.unlink(missing_ok=True)
    print(f"  large instance: {path} ({a.large_scenarios} scenarios x {a.large_periods} periods, default case size)",
          flush=True)
    cmd = [sys.executable, str(HERE / "run.py"), "--child", "floor", "--case", str(path), "--time-limit",
           str(a.large_time_limit), "--threads", str(a.threads), "--out", str(fl_out)]
    chf = run_child(cmd, a.large_time_limit + 120, d / "floor.log")
    fl = json.loads(fl_out.read_text()) if fl_out.is_file() else {}
    print(f"  wait-and-see floor: {fl.get('status')}: sum of {fl.get('solved')} HiGHS solve times "
          f"{_fmt_s(fl.get('solve_s_sum'))} s (wall {chf['wall_s']:.0f} s incl. builds)", flush=True)
    cmd = [sys.executable, str(HERE / "run.py"), "--child", "large", "--case", str(path), "--engine", a.engine,
           "--time-limit", str(a.large_time_limit), "--threads", str(a.threads), "--out", str(ef_out),
           "--workers", str(a.workers)]
    grace = max(120.0, 0.5 * a.large_time_limit)
    ch = run_child(cmd, a.large_time_limit + grace, d / "large.log")
    r = json.loads(ef_out.read_text()) if ef_out.is_file() else {}
    r["peak_rss"] = max(r.get("peak_rss", 0), ch["peak_rss"])
    if ch["killed"]:
        r["status"] = f"time limit (stopped during {r.get('phase', '?')})"
    elif ch["rc"] != 0:
        r["status"] = f"error rc={ch['rc']}: {_tail(d / 'large.log', 2)}"
    floor = fl.get("floor_s")
    wall = r.get("wall_to_solution_s")
    ok = r.get("status") == "optimal" and (r.get("rel_gap") or 0.0) <= 1e-4
    mem_ok = r["peak_rss"] < 8 * GB
    if ok and floor:
        ratio = wall / floor
        time_txt = (f"solved in {wall:.0f} s (build {_fmt_s(r.get('build_s'))} + hand-off {_fmt_s(r.get('handoff_s'))} + "
                    f"HiGHS {_fmt_s(r.get('solve_s'))} s) = {ratio:.1f}x the floor {floor:.1f} s "
                    f"(HiGHS alone {r['solve_s'] / floor:.1f}x)")
        holds = ratio <= 10 and mem_ok
    else:
        spent = sum(r.get(k) or 0.0 for k in ("build_s", "handoff_s", "solve_s"))
        ratio = spent / floor if floor else None
        time_txt = (f"{r.get('status')} after {spent:.0f} s (build {_fmt_s(r.get('build_s'))}, hand-off "
                    f"{_fmt_s(r.get('handoff_s'))}, HiGHS {_fmt_s(r.get('solve_s'))} s")
        if r.get("simplex_iterations"):
            time_txt += f", {r['simplex_iterations']:,} simplex iterations"
        time_txt += ")"
        if floor:
            time_txt += f", i.e. > {ratio:.1f}x the wait-and-see floor {floor:.1f} s"
        holds = False
    cols = r.get("n_columns")
    figure = (f"engine {a.engine}: {time_txt}; target <= 10x; peak RSS {_fmt_gb(r['peak_rss'])} (target < 8 GB)"
              + (f"; {cols:,} columns, {r.get('n_rows', 0):,} rows, {r.get('n_nonzeros', 0):,} nonzeros" if cols else ""))
    return {"name": f"{a.large_scenarios} scenarios x {a.large_periods} periods x default size, 1e-4 gap, "
                    f"<= 10x wait-and-see floor, < 8 GB", "holds": holds, "figure": figure, "floor": fl, "result": r,
            "ratio": ratio, "case": str(path)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=None, help=f"comma list of {', '.join(SIZES)} (default {QUICK}; 'none' to skip)")
    for k in ("scenarios", "periods", "suppliers", "streams", "elements"):
        ap.add_argument(f"--{k}", default=None, help=f"explicit size: comma list of {k} (product with the others)")
    ap.add_argument("--seed", type=int, default=0, help="generator seed (also the scenario sampling seed)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="per size, seconds (default 300)")
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1)")
    ap.add_argument("--workdir", default=None, help="where instances and logs go (default a new temporary directory)")
    ap.add_argument("--markdown", default=None, help="write the tables as Markdown to this file "
                                                     "(default <workdir>/results.md)")
    ap.add_argument("--no-targets", action="store_true", help="skip the default-case and sweep targets")
    ap.add_argument("--sweep-case", default="inputs/base.yaml")
    ap.add_argument("--sweep-key", default=DEFAULT_SWEEP_KEY)
    ap.add_argument("--sweep-values", default=DEFAULT_SWEEP_VALUES)
    ap.add_argument("--sweep-cold", type=int, default=3, help="cold solves timed for the comparison, of the first values in turn (median; default 3; "
                         "10 = one per value)")
    ap.add_argument("--large", action="store_true", help="run the large target (slow)")
    ap.add_argument("--large-scenarios", type=int, default=500)
    ap.add_argument("--large-periods", type=int, default=36)
    ap.add_argument("--large-time-limit", type=float, default=900.0)
    ap.add_argument("--engine", choices=list(ENGINES), default="ef", help="engine for the large target (default ef)")
    ap.add_argument("--workers", type=int, default=1, help="--engine benders: worker processes (default 1)")
    ap.add_argument("--handoff", action="store_true", help="per-path hand-off comparison on one mid-size instance")
    ap.add_argument("--handoff-scenarios", type=int, default=30)
    ap.add_argument("--handoff-repeat", type=int, default=1)
    # internal: the measuring subprocesses
    ap.add_argument("--child", choices=["size", "floor", "large", "sweep"], help=argparse.SUPPRESS)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child == "size":
        return child_size(a.case, a.time_limit, a.threads, a.out)
    if a.child == "floor":
        return child_floor(a.case, a.time_limit, a.threads, a.out)
    if a.child == "large":
        global LARGE_WORKERS
        LARGE_WORKERS = a.workers
        return child_large(a.case, a.engine, a.time_limit, a.threads, a.out)
    if a.child == "sweep":
        vals = [float(v) for v in a.sweep_values.split(",") if v.strip()]
        return child_sweep(a.case, a.sweep_key, vals, a.sweep_cold, a.threads, a.out)

    specs = size_specs(a)
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="msr-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    md_path = Path(a.markdown) if a.markdown else work / "results.md"
    mach = machine()
    started = _dt.datetime.now().isoformat(timespec="seconds")
    command = "python benchmarks/run.py " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    print(f"{command}\n{started}; {mach['nproc']} cores ({mach['cpu']}); Python {mach['python']}, "
          + ", ".join(f"{k} {v}" for k, v in mach["versions"].items())
          + f"; load average {mach['loadavg'][0]:.1f}; work dir {work}", flush=True)
    md = [f"## Run of {started}", "", f"`{command}`", "",
          f"{mach['nproc']} cores, {mach['cpu']}; Python {mach['python']}, "
          + ", ".join(f"{k} {v}" for k, v in mach["versions"].items())
          + f"; 1-min load average at start {mach['loadavg'][0]:.1f}.", ""]
    results: dict = {"machine": mach, "command": command, "sizes": []}

    if specs:
        print(f"\nExtensive form per size (nonant shared, HiGHS {a.threads} thread(s), time limit {a.time_limit:g} s/size; "
              "'load' = 1-min load average when the size started)", flush=True)
        widths = [max(len(h), 8) for h in SIZE_HEADER[:-1]] + [10]
        widths[0] = max(widths[0], *(len(s["name"]) for s in specs))
        print_row(SIZE_HEADER, widths)
        rows = []
        for spec in specs:
            r = measure_size(spec, a, work)
            results["sizes"].append({"spec": spec, "result": r})
            rows.append(size_row(spec, r))
            print_row(rows[-1], widths)
        md += ["### Extensive form by size", "",
               f"Generated instances (`benchmarks/generate.py`, seed {a.seed}), nonant shared, HiGHS {a.threads} thread(s), "
               f"time limit {a.time_limit:g} s per size. Overhead ratio = (build + hand-off + extract) / HiGHS solve.", "",
               md_table(SIZE_HEADER, rows), ""]

    if a.handoff:
        import generate

        d = work / "handoff"
        path = generate.write_case(d, scenarios=a.handoff_scenarios, seed=a.seed, **DEFAULT_SIZE)
        out = d / "handoff.json"
        print(f"\nHand-off paths on the extensive form of {path} ({a.handoff_scenarios} scenarios, nonant rows, "
              f"median of {a.handoff_repeat}):", flush=True)
        cmd = [sys.executable, str(HERE / "handoff.py"), str(path), "--ef", "--repeat", str(a.handoff_repeat), "--json", str(out)]
        ch = run_child(cmd, 3600, d / "handoff.log")
        print(Path(d / "handoff.log").read_text().rstrip())
        if out.is_file():
            import handoff

            hr = json.loads(out.read_text())
            results["handoff"] = hr
            md += [f"### Hand-off paths ({a.handoff_scenarios}-scenario generated instance, extensive form with nonant rows, "
                   f"{hr['variables']:,} variables, {hr['constraints']:,} constraints, median of {a.handoff_repeat})", "",
                   handoff.markdown_table(hr), ""]
        else:
            print(f"  hand-off comparison failed (rc {ch['rc']})")

    targets = []
    if not a.no_targets:
        print("\nTargets:", flush=True)
        t = target_default_case(a, work)
        targets.append(t)
        print(f"  [{'HOLDS' if t['holds'] else 'DOES NOT HOLD'}] {t['name']}: {t['figure']}", flush=True)
        t = target_sweep(a, work)
        targets.append(t)
        print(f"  [{'HOLDS' if t['holds'] else 'DOES NOT HOLD'}] {t['name']}: {t['figure']}", flush=True)
    if a.large:
        if a.no_targets:
            print("\nTargets:", flush=True)
        t = target_large(a, work)
        targets.append(t)
        print(f"  [{'HOLDS' if t['holds'] else 'DOES NOT HOLD'}] {t['name']}: {t['figure']}", flush=True)
    else:
        targets.append({"name": f"{a.large_scenarios} scenarios x {a.large_periods} periods x default size", "holds": None,
                        "figure": "not run (use --large)"})
        print(f"  [NOT RUN] {targets[-1]['name']}: not run (use --large)", flush=True)
    results["targets"] = targets
    md += ["### Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for t in targets:
        verdict = "not run" if t["holds"] is None else ("HOLDS" if t["holds"] else "DOES NOT HOLD")
        md.append(f"| {t['name']} | {t['figure']} | {verdict} |")
    md.append("")
    md.append(f"1-min load average at the end: {os.getloadavg()[0]:.1f}.")
    md_path.write_text("\n".join(md) + "\n")
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nMarkdown: {md_path}\nJSON: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
