"""Command line: ``python solve.py [INPUT.yaml] [--out DIR]``.

A thin layer over :mod:`model.run` and :mod:`model.report`. Exit codes:
0 optimal plan written; 2 bad input (one line per problem, nothing written);
3 the solver did not prove an optimal plan (nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_INPUT = "inputs/base.yaml"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="magnet-supply-risk",
        description="Licence-aware sourcing, stockpiling and recycling plan for rare-earth magnet production.",
    )
    p.add_argument("input", nargs="?", default=DEFAULT_INPUT, help=f"case YAML (default {DEFAULT_INPUT})")
    p.add_argument("--out", default=None, help="report directory (default reports/<case name>/)")
    p.add_argument("--time-limit", type=float, default=None, help="solver time limit, seconds")
    p.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1, deterministic)")
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
    p.add_argument("--no-evpi-vss", action="store_true",
                   help="skip the wait-and-see and expected-value solves behind EVPI and VSS")
    p.add_argument("--quiet", action="store_true", help="print only errors")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from model.errors import InputError, SolveError
    from model.report import write_report
    from model.run import run_case
    from model.solver import SolverOptions

    opts = SolverOptions(path=args.solver_path, threads=args.threads, time_limit_s=args.time_limit)
    mode = ("scenario" if args.scenario else "expected_value" if args.expected_value
            else "deterministic" if args.deterministic else "auto")
    if args.solver_path != "stdform" and args.nonant == "shared":
        args.nonant = "rows"  # shared columns are merged in the standard-form hand-off only
    try:
        run = run_case(args.input, opts, mode=mode, scenario=args.scenario, nonant=args.nonant,
                       evpi_vss=not args.no_evpi_vss)
    except InputError as e:
        for issue in e.issues:
            print(f"input error: {issue.line()}", file=sys.stderr)
        return 2
    except SolveError as e:
        print(f"solve failed: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    suffix = {"perfect_foresight": f"-{args.scenario}", "expected_value": "-expected-value"}.get(run.mode, "")
    out = Path(args.out) if args.out else Path("reports") / (run.data.case.name + suffix)
    try:
        write_report(run, out, ["solve.py", *argv])
    except KeyboardInterrupt:
        print("interrupted: previous report left intact", file=sys.stderr)
        return 130
    if not args.quiet:
        k = run.solution.kpis
        if run.mode == "stochastic":
            fills = ", ".join(f"{s} {100 * v['expected_fill_rate']:.1f} %" for s, v in k["streams"].items())
            extra = ""
            if k.get("evpi_usd") is not None:
                vss = "n/a" if k["vss_usd"] is None else f"{k['vss_usd'] / 1e6:,.2f}"
                extra = f"; EVPI {k['evpi_usd'] / 1e6:,.2f}, VSS {vss} USD M"
            print(f"{run.data.case.name}: optimal stochastic plan over {k['scenario_count']} scenarios, expected cost "
                  f"{k['expected_cost_usd'] / 1e6:,.2f} USD M, CVaR{k['cvar_alpha']:g} {k['cvar_cost_usd'] / 1e6:,.2f} USD M"
                  f"{extra}; expected fill rate {fills}; {run.timings_s['total_s']:.1f} s")
        else:
            fills = ", ".join(f"{s} {100 * v['fill_rate']:.1f} %" for s, v in k["streams"].items())
            print(f"{run.data.case.name} ({run.mode}{': ' + run.data.scenario if run.mode == 'perfect_foresight' else ''}): "
                  f"optimal, total cost {k['objective_usd'] / 1e6:,.2f} USD M; fill rate {fills}; "
                  f"solved in {run.timings_s['total_s']:.2f} s")
        print(f"report: {out}/summary.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
