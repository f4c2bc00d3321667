"""Extensive form vs Benders decomposition (``model/stochastic/benders.py``), one process each.

    python benchmarks/benders.py                                   # 50, 200, 500 scenarios of inputs/sampled.yaml
    python benchmarks/benders.py --scenarios 12,30 --lambda 0.5
    python benchmarks/benders.py --scenarios 500 --from-base-periods 36   # benchmarks/generate.py's large instance
    python benchmarks/benders.py --scenarios 200 --engines benders,benders:agg=20,benders:agg=1,benders:tr
    python benchmarks/benders.py --markdown out.md                 # also write the tables as Markdown
    python benchmarks/benders.py --scenarios 100 --from-base-periods 36 --engines benders --workers 1,2 --no-ef

For each scenario count the case is ``--case`` (default ``inputs/sampled.yaml``) with
``scenarios.count`` overridden, or, with ``--from-base-periods P``, the instance
``benchmarks/generate.py --from-base inputs/base.yaml --periods P --scenarios N`` writes. Each
engine runs in a **fresh subprocess** (so its peak memory is its own): from the case data read to a
``StochasticRun`` ready for the report (scenario generation, build, solve, canonical plan, per-scenario
solutions; EVPI and VSS only with ``--evpi-vss``):

- ``ef``: ``model.stochastic.extensive.run_stochastic`` (shared non-anticipativity; the extensive form
  assembled from the scenarios' stamped LPs, :mod:`model.stochastic.ef_arrays`); ``ef:nostamp`` the Pyomo
  extensive form (``arrays=False``), so ``--engines ef:nostamp,ef`` gives what assembling from arrays saves;
- ``benders``: ``model.stochastic.benders.run_stochastic_benders`` (multi-cut unless the size says
  otherwise); options after a colon, joined by ``+``: ``agg=G`` G cut groups, ``tr`` the trust region
  from the first iteration, ``nokeep`` the scenario models built again for the plan instead of kept
  (less memory), ``w=N`` the subproblems in N worker processes (``--workers N``,
  :mod:`model.stochastic.parallel`), e.g. ``benders:agg=20+nokeep``. ``--workers 1,2`` runs every
  Benders engine of ``--engines`` once per worker count, side by side (``benders:w=1``,
  ``benders:w=2``); the first engine is the reference of the ratio columns, so ``ef / benders:w=2``,
  or with ``--no-ef`` and ``--engines benders``, ``benders:w=1 / benders:w=2`` is the speed-up.
  ``rebuild`` (one process) keeps no HiGHS instance per scenario between solves, as past
  ``KEEP_SUBPROBLEMS_UP_TO`` scenarios (``model/stochastic/benders.py``): the memory and the time it costs.
  ``nostamp`` builds every scenario in Pyomo instead of stamping the scenarios of one structure
  (:mod:`model.stochastic.stamp`), ``stamp`` stamps even with the models kept (by default Benders stamps
  only when it does not keep them, past 1,000 scenarios): ``--engines benders:nostamp,benders:stamp`` gives
  the stamping speed-up.
  ``--loop-only`` stops a Benders run after the decomposition (the loop's figures only: no
  per-scenario plans).
- ``ph``: progressive hedging on mpi-sppy, as ``solve.py --engine ph`` runs it
  (``model.stochastic.engine.run_ph_subprocess``: ``mpiexec``, 3 ranks unless ``ph:ranks=R``, a 1e-4
  target gap, ``--time-limit`` unless ``ph:limit=S``), the report written to a temporary directory; its status is
  ``optimal`` or the gap it reached, its peak memory the largest rank's (no iteration count).
  Without an MPI setup it is reported as not run.

The *wait-and-see floor* is the sum of the single-scenario HiGHS solve times (each scenario built
alone and solved with its first stage free, ``SolveResult.solve_s``; build and hand-off not counted;
with ``--floor-from-benders N``, from N scenarios on, the sum of the Benders subproblems' own first solves,
the same LPs solved alone and cold, ``timings_s.wait_and_see_solve_s``, marked "(ws)"),
the least any method that solves every scenario once must spend in HiGHS. Columns: wall seconds,
Benders iterations (iteration 0 is the warm start, the polishing ones included), peak RSS
(``ru_maxrss`` of the child; with worker processes also the largest worker's, ``workers peak GB``),
ratios EF / Benders, Benders / floor, and the relative difference of
the two objectives, and the first-stage values that differ from the first engine's (by more than 1e-6
relative, of every first-stage variable). The machine is shared: the 1-minute load average is printed
per size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

GB = 1e9


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _workers_peak_rss_bytes() -> int:
    """The largest peak RSS of this process's ended children (the Benders workers, once closed)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _loads() -> str:
    """``uptime``'s three load averages (1, 5, 15 minutes)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "-"


def _read(case: str, scenarios: int | None, lam: float | None):
    from model.input.io import read_case

    ov = {}
    if scenarios is not None:
        ov["scenarios.count"] = scenarios
    if lam is not None:
        ov["risk.risk_weight_lambda"] = lam
    return read_case(case, overrides=ov or None)


def _with_count(case: str, n: int, work: Path) -> str:
    """``case`` with ``scenarios.count`` = n, written next to it (PH reads a file)."""
    import yaml

    raw = yaml.safe_load(Path(case).read_text())
    raw.setdefault("scenarios", {})["count"] = n
    if isinstance(raw.get("extends"), str):  # the case it extends stays where it is
        raw["extends"] = str((Path(case).resolve().parent / raw["extends"]).resolve())
    out = work / Path(case).name  # a case with series in CSV files next to it would need them too
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(out)


def _engine(spec: str) -> tuple[str, dict]:
    name, _, opts = spec.partition(":")
    kw: dict = {}
    for o in filter(None, opts.split("+")):
        if o.startswith("agg="):
            kw["aggregate"] = int(o[4:])
        elif o == "tr":
            kw["trust_region"] = True
        elif o == "nokeep":
            kw["keep_models"] = False
        elif o.startswith("w="):
            kw["workers"] = int(o[2:])
        elif o == "nostamp":
            kw["stamp"] = False
        elif o == "stamp":
            kw["stamp"] = True
        elif o.startswith("ranks="):
            kw["ranks"] = int(o[6:])
        elif o == "rebuild":
            kw["rebuild"] = True
        elif o.startswith("limit="):
            kw["time_limit"] = float(o[6:])
        else:
            raise SystemExit(f"unknown engine option {o!r} in {spec!r}")
    return name, kw


def child_run(a) -> int:
    """One engine on one case; writes a JSON record."""
    from model.solve.highs import SolverOptions, new_highs

    new_highs()
    data = _read(a.case, a.n, a.lam)
    name, kw = _engine(a.engine)
    opts = SolverOptions(time_limit_s=a.time_limit)
    rec: dict = {"engine": a.engine, "status": "running"}
    t0 = time.perf_counter()
    if name == "ef":
        from model.stochastic.extensive import run_stochastic

        sr = run_stochastic(data, opts, with_evpi_vss=a.evpi_vss, arrays=kw.get("stamp"))  # ef:nostamp = the Pyomo EF
        res = sr.result
        rec |= {"solve_s": res.solve_s, "canonical_s": res.canonical_s, "marginal_s": res.marginal_s,
                "columns": res.n_columns}
        first = sr.first_stage
    elif name == "benders":
        from model.input.scenarios import scenario_cases
        from model.solve import budget
        from model.stochastic import benders as B
        from model.stochastic.benders import decompose, plan_run

        opts = budget.start(opts)
        if kw.pop("rebuild", False):  # one process only: spawned workers read the module's own value
            B.KEEP_SUBPROBLEMS_UP_TO = 0
        cases = scenario_cases(data)  # run_stochastic_benders, in two steps to keep the first stage
        out = decompose(cases, opts, **kw)
        first = out.first_stage
        rec |= {"iterations": len(out.iterations) - 1, "cut_groups": out.groups, "cuts": out.cuts,
                "canonical": out.canonical["applied"], "trust_region_used": out.trust_region_used,
                "workers": kw.get("workers", 1)}
        if a.loop_only:  # the decomposition only: no per-scenario plans
            out.decomposition.close()
            Path(a.out).write_text(json.dumps(rec | {"peak_rss_workers": _workers_peak_rss_bytes(),
                "status": out.termination, "wall_s": time.perf_counter() - t0, "objective_kusd": out.upper_bound_kusd,
                "gap_frac": (out.upper_bound_kusd - out.lower_bound_kusd) / abs(out.upper_bound_kusd),
                "scenarios": len(cases), "peak_rss": _peak_rss_bytes(), "first_stage": first,
                "timings_s": {"build_s": out.build_s, "benders_s": out.loop_s, "benders_master_s": out.master_s,
                              "benders_subproblems_s": out.subproblem_s,
                              "benders_stamp": out.decomposition.stamp_info}}))
            return 0
        sr = plan_run(cases, out, opts, with_evpi_vss=a.evpi_vss, t0=t0)
    elif name == "ph":  # progressive hedging on mpi-sppy: solve.py's own path (mpiexec, 3 ranks), to a 1e-4 gap
        from model.stochastic.engine import ph_available, run_ph_subprocess

        ok, why = ph_available()
        if not ok:
            Path(a.out).write_text(json.dumps(rec | {"status": f"not run: {why}"}))
            return 0
        out_dir = Path(tempfile.mkdtemp(prefix="bench-ph-"))
        rc = run_ph_subprocess(a.case if a.n is None else _with_count(a.case, a.n, out_dir), str(out_dir / "rep"),
                               kw.get("ranks", 3), 1e-4, kw.get("time_limit", a.time_limit), 1)
        k = json.loads((out_dir / "rep" / "kpis.json").read_text()) if (out_dir / "rep" / "kpis.json").is_file() else {}
        Path(a.out).write_text(json.dumps(rec | {
            "status": ("optimal" if k.get("proven_optimal") else f"gap {k['gap_frac']:.1e}") if k else f"exit {rc}",
            "wall_s": time.perf_counter() - t0, "objective_kusd": (k.get("objective_usd") or 0) / 1000.0 or None,
            "gap_frac": k.get("gap_frac"), "scenarios": k.get("scenario_count"), "iterations": None,
            "peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "first_stage": {},
            "timings_s": {}}))
        return 0
    else:
        raise SystemExit(f"unknown engine {name!r}")
    rec |= {"status": sr.result.termination, "wall_s": time.perf_counter() - t0, "timings_s": sr.timings_s,
            "objective_kusd": sr.metrics["objective_kusd"], "gap_frac": sr.metrics.get("gap_frac", 0.0),
            "scenarios": len(sr.cases), "peak_rss": _peak_rss_bytes(), "first_stage": first,
            "peak_rss_workers": _workers_peak_rss_bytes()}
    Path(a.out).write_text(json.dumps(rec))
    return 0


def child_floor(a) -> int:
    """Each scenario built alone and solved with its first stage free: the sum of HiGHS solve times."""
    from model.components.build import build_scenario_model
    from model.input.scenarios import scenario_cases
    from model.solve.highs import SolverOptions, new_highs, solve

    new_highs()
    cases = scenario_cases(_read(a.case, a.n, a.lam))
    solve_s = build_s = 0.0
    for c in cases:
        t = time.perf_counter()
        b = build_scenario_model(c)
        build_s += time.perf_counter() - t
        solve_s += solve(b.model, SolverOptions()).solve_s
    Path(a.out).write_text(json.dumps({"floor_s": solve_s, "build_s_sum": build_s, "scenarios": len(cases)}))
    return 0


def _child(args: list[str], out: Path, limit: float | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--out", str(out)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "killed at the wall limit", "wall_s": time.perf_counter() - t0}
    if p.returncode != 0 or not out.is_file():
        tail = " | ".join((p.stderr or p.stdout).strip().splitlines()[-2:])
        return {"status": f"failed rc={p.returncode}: {tail}", "wall_s": time.perf_counter() - t0}
    return json.loads(out.read_text())


def _stamped(info) -> str:
    if not info:
        return "-"
    return f"{info['stamped']} / {info['built']} ({info['groups']})" + (f"; {info['note']}" if info.get("note") else "")


def _highs(r: dict, t: dict) -> str:
    """A Benders run's HiGHS seconds (the subproblems' wait-and-see solves, the loop's master and subproblem
    solves, the plan's re-solves with their canonical stages) and the rest of its wall time over them."""
    parts = [t.get("wait_and_see_solve_s"), (t.get("benders_master_s") or 0) + (t.get("benders_subproblems_s") or 0),
             t.get("plan_highs_s")]
    if any(p is None for p in parts) or not r.get("wall_s"):
        return "- | -"
    tot = sum(parts)
    return f"{_s(parts[0])} + {_s(parts[1])} + {_s(parts[2])} = {_s(tot)} | {_r((r['wall_s'] - tot) / tot)}"


def _s(x) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _r(x) -> str:
    return "-" if x is None else f"{x:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default="50,200,500")
    ap.add_argument("--case", default="inputs/sampled.yaml")
    ap.add_argument("--from-base-periods", type=int, default=None, metavar="P",
                    help="use benchmarks/generate.py --from-base inputs/base.yaml --periods P instead of --case")
    ap.add_argument("--engines", default="ef,benders")
    ap.add_argument("--workers", default=None, metavar="N,M",
                    help="run each Benders engine once per worker count, side by side (e.g. 1,2)")
    ap.add_argument("--no-ef", action="store_true", help="leave the extensive form out of --engines")
    ap.add_argument("--lambda", dest="lam", type=float, default=None, help="override risk.risk_weight_lambda")
    ap.add_argument("--time-limit", type=float, default=900.0, help="per run, seconds (the engines' budget)")
    ap.add_argument("--evpi-vss", action="store_true", help="include EVPI and VSS in each engine's run")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--floor-from-benders", type=int, default=None, metavar="N",
                    help="from N scenarios on, take the floor from the Benders runs' own wait-and-see solves (the "
                         "smallest sum over the engines run) instead of building every scenario alone")
    ap.add_argument("--loop-only", action="store_true",
                    help="Benders engines: stop after the decomposition (no per-scenario plans, no EVPI/VSS)")
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--child", choices=["run", "floor"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--engine", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child == "run":
        return child_run(a)
    if a.child == "floor":
        return child_floor(a)

    engines = [e for e in a.engines.split(",") if not (a.no_ef and e == "ef")]
    if a.workers:
        counts = [int(w) for w in a.workers.split(",") if w.strip()]
        engines = [x for e in engines for x in ([f"{e}{'+' if ':' in e else ':'}w={w}" for w in counts]
                                                   if e.startswith("benders") else [e])]
    work = Path(tempfile.mkdtemp(prefix="bench-benders-"))
    rows = []
    for n in [int(s) for s in a.scenarios.split(",")]:
        case, n_arg = a.case, n
        if a.from_base_periods:
            import generate

            case = str(generate.write_from_base(work / f"gen-{n}", ROOT / "inputs" / "base.yaml", a.from_base_periods, n, 0))
            n_arg = None
        base = ["--case", case] + (["--n", str(n_arg)] if n_arg is not None else []) + \
               (["--lambda", str(a.lam)] if a.lam is not None else [])
        row = {"n": n, "load": _load(), "runs": {}, "uptime_start": _loads()}
        if not a.no_floor and not (a.floor_from_benders and n >= a.floor_from_benders):
            row["floor"] = _child(["--child", "floor", *base], work / f"floor-{n}.json", a.time_limit * 2)
        for e in engines:
            extra = ["--time-limit", str(a.time_limit)] + (["--evpi-vss"] if a.evpi_vss else []) + \
                    (["--loop-only"] if a.loop_only else [])
            row["runs"][e] = _child(["--child", "run", "--engine", e, *base, *extra],
                                    work / f"{e.replace(':', '_')}-{n}.json", a.time_limit + 300)
            r = row["runs"][e]
            print(f"{n} scenarios, {e}: {r.get('status')} in {_s(r.get('wall_s'))} s, peak "
                  f"{(r.get('peak_rss') or 0) / GB:.2f} GB, objective {r.get('objective_kusd')}", flush=True)
        if "floor" not in row and not a.no_floor:  # the Benders runs' own wait-and-see solves: the same LPs, alone
            ws = [(r.get("timings_s") or {}).get("wait_and_see_solve_s") for r in row["runs"].values()]
            ws = [w for w in ws if w]
            row["floor"] = {"floor_s": min(ws) if ws else None, "from_benders": True}
        row["uptime_end"] = _loads()
        print(f"{n} scenarios: load averages (1, 5, 15 min) {row['uptime_start']} at the start, {row['uptime_end']} "
              f"at the end", flush=True)
        rows.append(row)

    ref = engines[0]
    head = ["scenarios", "load"] + [f"{e} s" for e in engines] + [f"{ref} / {e}" for e in engines[1:]] + \
           [f"{e} iterations" for e in engines if e.startswith(("benders", "ph"))] + [f"{e} peak GB" for e in engines] + \
           [f"{e} workers peak GB" for e in engines if "w=" in e] + \
           (["floor s"] + [f"{e} / floor" for e in engines] if not a.no_floor else []) + \
           [f"objective rel. diff {e}" for e in engines[1:]] + [f"first stage differing {e}" for e in engines[1:]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        runs = row["runs"]
        w = {e: runs[e].get("wall_s") if runs[e].get("objective_kusd") is not None else None for e in engines}
        cells = [f"{row['n']:,}", f"{row['load']:.1f}"] + [_s(w[e]) if w[e] else runs[e].get("status", "-")
                                                            for e in engines]
        cells += [_r(w[ref] / w[e]) if w[ref] and w[e] else "-" for e in engines[1:]]
        cells += ["-" if runs[e].get("iterations") is None else str(runs[e]["iterations"]) for e in engines
                  if e.startswith(("benders", "ph"))]
        cells += [f"{runs[e]['peak_rss'] / GB:.2f}" if runs[e].get("peak_rss") else "-" for e in engines]
        cells += [f"{runs[e]['peak_rss_workers'] / GB:.2f}" if runs[e].get("peak_rss_workers") else "-"
                  for e in engines if "w=" in e]
        if not a.no_floor:
            fl = row["floor"].get("floor_s")
            cells += [_s(fl) + (" (ws)" if row["floor"].get("from_benders") else "")] + \
                [_r(w[e] / fl) if w[e] and fl else "-" for e in engines]
        o0 = runs[ref].get("objective_kusd")
        cells += [f"{(runs[e]['objective_kusd'] - o0) / abs(o0):.1e}" if o0 and runs[e].get("objective_kusd") else "-"
                  for e in engines[1:]]
        f0 = runs[ref].get("first_stage") or {}
        for e in engines[1:]:
            f = runs[e].get("first_stage") or {}
            diff = sum(abs(f[k] - v) > 1e-6 * max(1.0, abs(v)) for k, v in f0.items() if k in f)
            cells.append(f"{diff} of {len(f0)}" if f0 and f else "-")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [""] + [f"Load averages (1, 5, 15 min) at {row['n']:,} scenarios: {row['uptime_start']} at the start, "
                     f"{row['uptime_end']} at the end." for row in rows]
    lines += ["", "Breakdown (seconds):", ""]
    lines += ["| scenarios | engine | status | build | main solve | master / subproblems | canonical + marginal | "
              "per-scenario plans | EVPI/VSS | cut groups | cuts | stamped / built (groups) | "
              "HiGHS: wait-and-see + loop + plans = sum | not HiGHS / HiGHS |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for e in engines:
            r = row["runs"][e]
            t = r.get("timings_s") or {}
            if e.partition(":")[0] == "ef":
                main_s, canon = r.get("solve_s"), (r.get("canonical_s") or 0) + (r.get("marginal_s") or 0)
                build = (t.get("build_s") or 0) + (t.get("handoff_s") or 0)
            else:
                main_s, canon, build = t.get("benders_s"), None, t.get("build_s")
            split = (f"{_s(t.get('benders_master_s'))} / {_s(t.get('benders_subproblems_s'))}"
                     if "benders_master_s" in t else "-")
            lines.append(f"| {row['n']:,} | {e} | {r.get('status')} | {_s(build)} | {_s(main_s)} | {split} | {_s(canon)} | "
                         f"{_s(t.get('extract_s'))} | {_s(t.get('evpi_vss_s'))} | {r.get('cut_groups', '-')} | "
                         f"{r.get('cuts', '-')} | {_stamped(t.get('benders_stamp') or t.get('ef_stamp'))} | {_highs(r, t)} |")
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
