"""Command line over :mod:`model.app.run`, :mod:`model.app.sweep` and the reports of :mod:`model.report`.

    python solve.py [INPUT.yaml] [--out DIR] [...]          solve and write reports/<case>/
    python solve.py sweep INPUT.yaml --set KEY=V1,V2,... [--set KEY2=...]   sweep input scalars (a grid): reports/<case>-sweep/
    python solve.py compare REPORT_A REPORT_B [...]         compare report folders (headline, cost bridge, plan, inputs)
    python solve.py check BASELINE.json [--rtol R] [--update]   regression check against a baseline

Every subcommand runs inside one error boundary (:mod:`model.app.boundary`, which lists the exit
codes): 0 done; 1 check: values moved; 2 bad input or command line (one line per problem, nothing
written); 3 no proven optimal plan; 4 audit failed; 5 an OS error (one line naming the path);
130 interrupted; 141 stdout closed; 143 terminated. Options are checked like input fields
(:mod:`model.app.cliargs`).
"""

from __future__ import annotations

import sys
import time

STARTED_S = time.monotonic()  # when the command started: the closing line's wall time counts from here

from pathlib import Path  # noqa: E402

from model.app.boundary import EXIT, guarded, install_signals  # noqa: E402
from model.app.cliargs import OneLineParser, checked_numbers  # noqa: E402

DEFAULT_INPUT = "inputs/base-2026.yaml"  # the 2026 data; inputs/base.yaml is the 2025 reference case
SUBCOMMAND_HELP = """subcommands (each has its own --help):
  sweep INPUT.yaml --set KEY=V1,V2,...   solve the plan for each value of an input scalar (repeat --set: a grid)
  compare REPORT_A REPORT_B [...]        compare report folders: headline, cost bridge, plan and inputs
  check BASELINE.json [--update]         regression check of a case against a baseline

exit codes: 0 done, 1 check found moved values, 2 bad input or option, 3 no proven optimal plan,
4 audit failed, 5 OS error (disk, permission), 130 interrupted, 141 stdout closed, 143 terminated"""


def parse_args(argv: list[str]):
    import argparse

    p = OneLineParser(
        prog="magnet-supply-risk",
        description="Licence-aware sourcing, stockpiling and recycling plan for rare-earth magnet production.",
        epilog=SUBCOMMAND_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", nargs="?", default=DEFAULT_INPUT, help=f"case YAML (default {DEFAULT_INPUT})")
    p.add_argument("--out", default=None, help="report directory (default reports/<case name>/)")
    p.add_argument("--time-limit", default=None, metavar="S",
                   help="time limit for the whole run, seconds (read, build, solves, EVPI/VSS)")
    p.add_argument("--threads", default="1", metavar="N", help="HiGHS threads (default 1, deterministic)")
    p.add_argument("--gap", default="0", metavar="G",
                   help="relative gap at which a run stopped by --time-limit is accepted (exit 0); default 0: "
                        "a stopped run writes its best plan and exits 3")
    p.add_argument("--solver-path", choices=["stdform", "persistent"], default="stdform",
                   help="how the model is handed to HiGHS (default stdform; see README)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--scenario", default=None, metavar="NAME",
                      help="solve the perfect-foresight plan of one scenario")
    mode.add_argument("--expected-value", action="store_true",
                      help="solve the plan for the mean scenario (every series averaged by probability)")
    mode.add_argument("--deterministic", action="store_true",
                      help="solve the case as read, ignoring its scenarios")
    p.add_argument("--nonant", choices=["shared", "rows"], default="shared",
                   help="non-anticipativity by shared variables (default, measured faster) or equality rows")
    p.add_argument("--engine", choices=["auto", "ef", "benders", "ph"], default="auto",
                   help="stochastic solve: extensive form (ef), multi-cut Benders decomposition (benders), progressive "
                        "hedging with bound spokes under MPI (ph), or chosen from the problem size (auto, default)")
    p.add_argument("--ranks", default="3", metavar="N",
                   help="MPI ranks for --engine ph (at least 3: hub + 2 bound spokes)")
    p.add_argument("--workers", default="1", metavar="N",
                   help="processes solving the subproblems of --engine benders (default 1: this process)")
    p.add_argument("--no-evpi-vss", action="store_true",
                   help="skip the wait-and-see and expected-value solves behind EVPI and VSS")
    p.add_argument("--override", action="append", default=None, metavar="NAME[,NAME]",
                   help="apply these entries of the case's top-level `overrides:` first, in order")
    p.add_argument("--confidence", default=None, metavar="M,R,n",
                   help="sampled cases: evaluate the plan on M new scenarios and bound its optimality gap by R "
                        "replications of n scenarios (blank: 500,5,min(N,50)); see README")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    p.add_argument("--solver-log", action="store_true",
                   help="write HiGHS's own log of every solve to highs.log in the report directory")
    return checked_numbers(p.parse_args(argv))


def _parse_set(spec: str) -> tuple[str, list[float]]:
    """``KEY=V1,V2,...`` as (key, finite values); one input error naming ``--set`` otherwise."""
    import math

    from model.errors import InputError, InputIssue

    def bad(value: str, expected: str):
        return InputError([InputIssue("(command line)", "--set", value, expected)])

    if "=" not in spec:
        raise bad(spec, "KEY=V1,V2,... (a dotted input path, '=', numbers separated by commas)")
    key, vals = spec.split("=", 1)
    texts = [v.strip() for v in vals.split(",") if v.strip()]
    if not key.strip():
        raise bad(spec, "a dotted input path before '='")
    if not texts:
        raise bad(spec, "at least one value after '='")
    values = []
    for v in texts:
        try:
            x = float(v) if len(v) <= 40 else math.nan
        except ValueError:
            x = math.nan
        if not math.isfinite(x):
            raise bad(v, "finite numbers after '=' separated by commas")
        values.append(x)
    return key.strip(), values


def main_sweep(argv: list[str]) -> int:
    p = OneLineParser(prog="magnet-supply-risk sweep",
                      description="Solve the plan for each value of one input scalar (dotted path), or for every "
                                  "combination of several (a grid: one --set per key). A diversification cap "
                                  "(diversification_limits[ID].max_share_frac) reports its premium over the plan "
                                  "without that cap; any other key the cost change versus the first point.")
    p.add_argument("input", help="case YAML")
    p.add_argument("--set", required=True, action="append", metavar="KEY=V1,V2,...",
                   help="e.g. diversification_limits[crma_max_share_cn].max_share_frac=1.0,0.8,0.6,0.4; "
                        "repeat for a grid over several keys (every combination, the first key varying slowest)")
    p.add_argument("--override", action="append", default=None, metavar="NAME[,NAME]",
                   help="apply these entries of the case's top-level `overrides:` first, in order (--set wins)")
    p.add_argument("--out", default=None, help="report directory (default reports/<case>-sweep/)")
    p.add_argument("--share-of", default="CN", help="country whose share of supply the frontier reports (default CN)")
    p.add_argument("--time-limit", default=None, metavar="S", help="solver time limit, seconds")
    p.add_argument("--threads", default="1", metavar="N")
    p.add_argument("--measure-speedup", action="store_true",
                   help="time one extra cold solve of the first point and report the speed-up over cold solves")
    p.add_argument("--quiet", action="store_true", help="print only errors (no line per point)")
    args = checked_numbers(p.parse_args(argv))
    from model.app.sweep import point_line, run_sweep, speedup_line
    from model.input.dotted import override_names
    from model.report.atomic import check_out_dir
    from model.report.sweep import write_sweep_report
    from model.solve.highs import SolverOptions

    keys, values = zip(*[_parse_set(spec) for spec in args.set])
    named = override_names(args.override)
    if args.out:
        check_out_dir(args.out, [args.input])  # before solving: the rule is checked again when writing

    def show(point) -> None:
        if not args.quiet:
            print(point_line(point, keys), flush=True)

    sw = run_sweep(args.input, list(keys), list(values), SolverOptions(threads=args.threads, time_limit_s=args.time_limit),
                   share_of=args.share_of, named_overrides=named, measure_speedup=args.measure_speedup, on_point=show)
    out = Path(args.out) if args.out else Path("reports") / f"{sw.case}-sweep"
    write_sweep_report(sw, out, ["solve.py", "sweep", *argv])
    if not args.quiet:
        print(f"report: {out}/summary.md")
        print(speedup_line(sw))
    return EXIT["done"]


def main_compare(argv: list[str]) -> int:
    p = OneLineParser(prog="magnet-supply-risk compare",
                      description="Compare report folders: headline in one vocabulary for every mode, cost bridge, "
                                  "plan and input differences.")
    p.add_argument("reports", nargs="+", metavar="REPORT", help="two or more report folders (each holds kpis.json)")
    p.add_argument("--out", default=None, help="where to write the tables (default reports/compare-<A>-vs-<B>/)")
    args = p.parse_args(argv)
    from model.errors import InputError, InputIssue
    from model.report.compare import compare_reports, read_report, summary_lines, write_compare_report

    if len(args.reports) < 2:
        raise InputError([InputIssue("(command line)", "reports", " ".join(args.reports),
                                     "at least two report folders to compare")])
    reports = [read_report(d) for d in args.reports]  # every folder checked before anything is written
    c = compare_reports(reports)
    a, b = Path(args.reports[0]), Path(args.reports[1])
    name = f"compare-{a.name}-vs-{b.name}" if len(reports) == 2 else f"compare-{a.name}-and-{len(reports) - 1}-more"
    out = Path(args.out) if args.out else Path("reports") / name
    write_compare_report(c, out, ["solve.py", "compare", *argv])
    lines = summary_lines(c, console=True)
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("## Plan")), len(lines))
    print("\n".join(lines[:cut]).rstrip())
    print(f"tables: {out}/ (headline, cost_bridge, plan_differences, input_differences, kpi_differences .csv)")
    return EXIT["done"]


def main_check(argv: list[str]) -> int:
    p = OneLineParser(prog="magnet-supply-risk check",
                      description="Solve a baseline's input and compare objective, KPIs and plan totals.")
    p.add_argument("baseline", help="baseline JSON (e.g. tests/baselines/base.json)")
    p.add_argument("--rtol", default=None, metavar="R", help="relative tolerance (default: the baseline's, 1e-6)")
    p.add_argument("--update", action="store_true", help="rewrite the baseline with the current values")
    args = checked_numbers(p.parse_args(argv))
    from model.app.baseline import baseline_values, compare, environment, read_baseline, verdict, write_baseline
    from model.app.run import run_case

    bpath = Path(args.baseline)
    doc = read_baseline(bpath)  # checked whole before the (long) solve
    run = run_case(doc["input"], mode=doc["mode"])
    if args.update:
        write_baseline(run, doc["input"], bpath, doc["mode"])
        print(f"updated {bpath}: objective {run.solution.kpis['objective_usd']:,.2f} USD")
        return EXIT["done"]
    rtol = args.rtol if args.rtol is not None else doc["rtol"]
    moved = compare(doc["values"], baseline_values(run), rtol=rtol)
    if not moved:
        print(f"check {bpath}: {len(doc['values'])} values within rtol {rtol:g}")
        return EXIT["done"]
    print(f"check {bpath}: {len(moved)} of {len(doc['values'])} values moved beyond rtol {rtol:g}")
    print(f"check {bpath}: {verdict(doc, moved, environment(run))}")
    print(f"  {'value':60s} {'baseline':>18s} {'now':>18s} {'rel change':>11s}")
    for k, e, a, r in moved:
        print(f"  {k:60s} {str(e):>18s} {str(a):>18s} {r:11.2e}")
    return EXIT["moved"]


SUBCOMMANDS = {"sweep": main_sweep, "compare": main_compare, "check": main_check}


def main(argv: list[str] | None = None) -> int:
    started_s = STARTED_S if argv is None else time.monotonic()  # in-process callers: from the call
    install_signals()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        return guarded(lambda: SUBCOMMANDS[argv[0]](argv[1:]))
    return guarded(lambda: main_solve(argv, started_s))


def main_solve(argv: list[str], started_s: float | None = None) -> int:
    args = parse_args(argv)
    from model.solve.highs import SolverOptions

    log_dir = None
    if args.solver_log:
        import tempfile

        log_dir = Path(tempfile.mkdtemp(prefix="msr-highs-log-"))
    opts = SolverOptions(path=args.solver_path, threads=args.threads, time_limit_s=args.time_limit,
                         log_file=str(log_dir / "highs.log") if log_dir else None, started_s=started_s)
    from model.progress import Reporter, reporting

    live = sys.stderr.isatty()  # a terminal: one transient line on stderr; else plain lines in stdout's log
    reporter = None if args.quiet else Reporter(sys.stderr if live else sys.stdout, started_s=started_s, live=live)
    try:
        with reporting(reporter):
            return _main_solve(args, argv, opts, log_dir, reporter)
    finally:
        if log_dir is not None:
            import shutil

            shutil.rmtree(log_dir, ignore_errors=True)  # our own temporary folder


def _confidence(spec: str | None) -> dict | None:
    """``--confidence M,R,n`` (any field blank: its default) as run_case's ``confidence`` argument."""
    if spec is None:
        return None
    from model.errors import InputError, InputIssue

    parts = [x.strip() for x in spec.split(",")]
    if len(parts) > 3 or not all(x == "" or (x.isdigit() and len(x) <= 9) for x in parts):
        raise InputError([InputIssue("(command line)", "--confidence", spec,
                                     "M,R,n: whole numbers (out-of-sample scenarios, replications, scenarios per "
                                     "replication), a blank field for its default, e.g. 500,5,50 or 1000,,")])
    keys = ("out_of_sample", "replications", "replication_size")
    return {k: int(x) for k, x in zip(keys, parts) if x != ""}


def _main_solve(args, argv, opts, log_dir, reporter=None) -> int:
    from model.app.run import run_case
    from model.report.atomic import check_out_dir
    from model.report.files import write_report
    from model.report.text import NOT_OPTIMAL, audit_word, failed_checks, fill_rate_text, gap_text

    from model.input.dotted import override_names

    named = override_names(args.override)
    confidence = _confidence(args.confidence)
    if args.out:
        check_out_dir(args.out, [args.input])  # before solving: the rule is checked again when writing
    if confidence is not None:  # a case it cannot apply to is refused before anything is printed or built
        from model.input.io import read_case
        from model.stochastic.confidence import confidence_settings

        confidence_settings(read_case(args.input, named_overrides=named), confidence)
    engine = "ef"
    if not (args.scenario or args.expected_value or args.deterministic):
        from model.stochastic.engine import choose_engine, run_ph_subprocess

        engine, why = choose_engine(args.input, args.engine)
        if confidence is not None and args.engine == "auto" and engine != "ef":
            engine, why = "ef", "--confidence re-solves the extensive form's plan"
        if engine == "ph" and confidence is not None:
            from model.errors import InputError, InputIssue

            raise InputError([InputIssue("(command line)", "--confidence", args.confidence,
                                         "the extensive form (--engine ef): the confidence step re-solves the "
                                         "extensive form's plan, progressive hedging does not report one here")])
        if engine == "ph" and named:
            from model.errors import InputError, InputIssue

            raise InputError([InputIssue("(command line)", "--override", ",".join(named),
                                         "no --override with progressive hedging (--engine ph, or auto on a case this "
                                         "size): put the changes in a case that extends this one")])
        if engine == "ph":
            if not args.quiet:
                print(f"engine: progressive hedging ({why})")
            return run_ph_subprocess(args.input, args.out, args.ranks, args.gap or 1e-3, args.time_limit, args.threads)
        if args.engine == "auto" and not args.quiet and why:
            print(f"engine: {'extensive form' if engine == 'ef' else 'Benders decomposition'} ({why})")
    mode = ("scenario" if args.scenario else "expected_value" if args.expected_value
            else "deterministic" if args.deterministic else "auto")
    if args.solver_path != "stdform" and args.nonant == "shared":
        args.nonant = "rows"  # shared columns are merged in the standard-form hand-off only
    run = run_case(args.input, opts, mode=mode, scenario=args.scenario, nonant=args.nonant,
                   evpi_vss=not args.no_evpi_vss, named_overrides=named, confidence=confidence,
                   engine=engine, gap=args.gap if engine == "benders" else 0.0, workers=args.workers)
    suffix = {"perfect_foresight": f"-{args.scenario}", "expected_value": "-expected-value"}.get(run.mode, "")
    out = Path(args.out) if args.out else Path("reports") / (run.data.case.name + suffix)
    extra = {"highs.log": log_dir / "highs.log"} if log_dir and (log_dir / "highs.log").exists() else {}
    write_report(run, out, ["solve.py", *argv], extra_files=extra,
                 phases_s=reporter.phases_s if reporter is not None else None)
    wall_s = time.monotonic() - opts.started_s  # from the command's start to the report on disk
    k = run.solution.kpis
    if not args.quiet:
        for w in run.data.warnings:
            print(f"warning: {w.line()}", file=sys.stderr)
        if run.mode == "stochastic":
            fills = ", ".join(f"{s} {fill_rate_text(v['expected_fill_rate'])}" for s, v in k["streams"].items())
            extra = ""
            if k.get("evpi_usd") is not None:
                vss = "n/a" if k["vss_usd"] is None else f"{k['vss_usd'] / 1e6:,.2f}"
                extra = f"; EVPI {k['evpi_usd'] / 1e6:,.2f}, VSS {vss} USD M"
            print(f"{run.data.case.name}: optimal stochastic plan over {k['scenario_count']} scenarios, expected cost "
                  f"{k['expected_cost_usd'] / 1e6:,.2f} USD M, CVaR{k['cvar_alpha']:g} {k['cvar_cost_usd'] / 1e6:,.2f} USD M"
                  f"{extra}; expected fill rate {fills}; {wall_s:.1f} s wall time")
        else:
            fills = ", ".join(f"{s} {fill_rate_text(v['fill_rate'])}" for s, v in k["streams"].items())
            print(f"{run.data.case.name} ({run.mode}{': ' + run.data.scenario if run.mode == 'perfect_foresight' else ''}): "
                  f"optimal, total cost {k['objective_usd'] / 1e6:,.2f} USD M; fill rate {fills}; "
                  f"{wall_s:.1f} s wall time")
        print(f"report: {out}/summary.md")
        print(f"audit: {audit_word(k['audit']['passed'])}")
    if not k["audit"]["passed"]:
        for line in failed_checks(k["audit"]):
            print(f"audit failed: {line}", file=sys.stderr)
        return EXIT["audit"]
    if not k.get("proven_optimal", True):
        print(f"{NOT_OPTIMAL}: {k['status_note']}; best plan {k['objective_usd'] / 1e6:,.3f} USD M, "
              f"bound {k['best_bound_usd'] / 1e6:,.3f} USD M, {gap_text(k)} "
              f"({'within' if k['gap_frac'] <= args.gap else 'above'} --gap {args.gap:g})", file=sys.stderr)
        return EXIT["done"] if k["gap_frac"] <= args.gap else EXIT["solver"]
    return EXIT["done"]


if __name__ == "__main__":
    sys.exit(main())
