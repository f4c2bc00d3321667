"""Regression baselines: the values CI compares, flattened to ``dotted.key -> float``.

A baseline JSON holds the input path (relative to the repository root), the run mode, the
environment it was made in (Python, pyomo, highspy and the HiGHS library, numpy, pandas, scipy)
with the solver options, and the values: the objective and every cost part, each KPI number (fill
rates, shares, recycled share, cost per kg; for stochastic runs expected cost, CVaR, EVPI, VSS and
stream risk), the marginal values of binding limits (one-sided rates, unique), and the aggregated
plan (t bought per offer, t reserved per offer, t made per recipe, end stock per element, feed per
recycling route, expansion; probability-weighted over scenarios, plus each scenario's total cost).

The plan is the canonical optimal plan (:mod:`model.solve.canonical`), so it does not depend on the
machine, the HiGHS release or the order of the input lists. ``verdict`` tells a regression (the
objective moved) from an equally cheap plan (the objective did not, plan values did), naming any
version that differs from the baseline's.

Update the committed baselines after an intended change with::

    python -m model.baseline inputs/base.yaml tests/baselines/base.json
    python -m model.baseline inputs/base.yaml tests/baselines/base-deterministic.json deterministic

and say in the commit message why the values moved.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from model.app.run import Run
from model.flatten import flatten

DEFAULT_RTOL = 1e-6
ABS_TOL = 1e-6  # t or USD: values this close to each other are equal whatever their size


DETERMINISTIC_KPIS = (
    "objective_usd", "first_stage_cost_usd", "scenario_cost_usd", "penalties_usd", "magnets_delivered_t",
    "total_cost_usd_per_kg_magnet", "supply_cost_usd_per_kg_magnet", "cost_parts_usd", "streams",
    "element_supply_t", "supply_share_by_origin_group", "supply_share_by_country", "recycled_share",
    "finished_magnets_by_origin_t", "marginal_values",
)
STOCHASTIC_KPIS = (
    "objective_usd", "expected_cost_usd", "cvar_cost_usd", "first_stage_cost_usd", "evpi_usd", "vss_usd",
    "wait_and_see_usd", "eev_usd", "expected_value_plan_objective_usd", "expected_cost_parts_usd", "streams",
    "expected_element_supply_t", "expected_supply_share_by_origin_group", "expected_supply_share_by_country",
    "expected_recycled_share", "expected_marginal_values",
)
ENVIRONMENT = ("python", "pyomo", "highspy", "highs", "numpy", "pandas", "scipy")


def environment(run: Run | None = None) -> dict:
    """The versions a baseline is made or checked with (``highs``: the solver library itself)."""
    from model.report.manifest import package_versions
    from model.solve.highs import _highs_version

    pv = package_versions()
    return {k: (_highs_version() if k == "highs" else pv.get(k)) for k in ENVIRONMENT}


def _weighted_sum(df, by: str, col: str) -> dict:
    w = df[col] * df["probability"] if "probability" in df.columns else df[col]
    return w.groupby(df[by]).sum().to_dict()


def baseline_values(run: Run) -> dict[str, float]:
    """Objective, KPIs and the aggregated plan (probability-weighted for stochastic runs)."""
    k = run.solution.kpis
    t = run.solution.tables
    out: dict[str, float] = {}
    for key in (STOCHASTIC_KPIS if run.mode == "stochastic" else DETERMINISTIC_KPIS):
        flatten(key, k.get(key), out)
    sbe = t["stock_by_element"]
    last = sbe[sbe.period == sbe.period.max()]
    plan = {
        "purchased_t": _weighted_sum(t["purchases"], "offer", "purchased_t"),
        "reserved_t": _weighted_sum(t["reservations"], "offer", "reserved_t"),
        "made_t": _weighted_sum(t["production"], "recipe", "made_t"),
        "magnets_bought_t": _weighted_sum(t["magnet_purchases"], "material", "used_t"),
        "end_stock_t": _weighted_sum(last, "element", "stock_t"),
        "recycling_feed_t": _weighted_sum(t["recycling"], "route", "feed_t"),
        "expansion_t_per_period": _weighted_sum(t["expansions"], "route", "added_t_feed_per_period"),
    }
    if t["production"].plant.nunique() > 1:  # several plants: what each makes, and what each lane moves
        plan["made_t_by_plant"] = _weighted_sum(t["production"], "plant", "made_t")
    if "transfers" in t:
        plan["moved_t_by_lane"] = _weighted_sum(t["transfers"], "lane", "moved_t")
    if "scenarios" in t:
        plan["scenario_cost_usd"] = dict(zip(t["scenarios"].scenario, t["scenarios"].total_cost_usd))
    flatten("plan", plan, out)
    return {key: round(v, 9) for key, v in out.items()}


def compare(expected: dict[str, float], actual: dict[str, float], rtol: float = DEFAULT_RTOL) -> list[tuple]:
    """Rows (key, expected, actual, relative difference) for every value that moved or is missing."""
    rows = []
    for key in sorted(set(expected) | set(actual)):
        e, a = expected.get(key), actual.get(key)
        if e is None or a is None:
            rows.append((key, e, a, math.inf))
            continue
        if not math.isclose(e, a, rel_tol=rtol, abs_tol=ABS_TOL):
            rows.append((key, e, a, abs(a - e) / max(abs(e), 1e-12)))
    return rows


def verdict(doc: dict, moved: list[tuple], now_env: dict) -> str:
    """One line saying what kind of change ``moved`` (rows of :func:`compare`) is."""
    was = doc.get("environment") or {}
    differ = [f"{k} {was.get(k)} -> {now_env.get(k)}" for k in ENVIRONMENT if was.get(k) != now_env.get(k)]
    versions = ("; versions differing from the baseline's: " + ", ".join(differ)) if differ else \
        "; every recorded version is the baseline's"
    if not moved:
        return "no value moved"
    if any(k == "objective_usd" for k, *_ in moved):
        return f"REGRESSION: the objective moved, with {len(moved)} values in all" + versions
    return (f"equally cheap plan: the objective is unchanged within rtol but {len(moved)} plan values moved "
            f"(a different optimal plan, not a cost regression)" + versions)


MODES = ("auto", "stochastic", "deterministic", "expected_value")


def read_baseline(path: str | Path) -> dict:
    """A baseline JSON, checked whole (before any solve): an object with ``input`` (a case file that
    exists), ``values`` (a map of finite numbers), optional ``mode`` (one of :data:`MODES`, default
    auto) and ``rtol`` (a finite number in [0, 1], default 1e-6). Returns it with the defaults filled
    in; raises one :class:`~model.errors.InputError` naming the file and the field otherwise."""
    from model.errors import InputError, InputIssue

    path = Path(path)
    shown = str(path)

    def bad(field: str, value: object, expected: str) -> InputError:
        return InputError([InputIssue(shown, field, value, expected)])

    if not path.is_file():
        raise bad("(file)", shown, "an existing baseline JSON file (e.g. tests/baselines/base.json)")
    try:
        if path.stat().st_size > 64 * 1024 * 1024:
            raise bad("(file size)", f"{path.stat().st_size} bytes", "a baseline of at most 64 MiB")
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise bad("(file)", "(not UTF-8)", "a baseline JSON in UTF-8") from None
    except (ValueError, RecursionError) as e:
        where = f"line {e.lineno} column {e.colno}" if hasattr(e, "lineno") else "(too deeply nested)"
        raise bad("(JSON syntax)", where, "well-formed JSON") from None
    except OSError as e:
        raise bad("(file)", e.strerror or type(e).__name__, "a readable baseline JSON") from None
    if not isinstance(doc, dict):
        raise bad("(top level)", f"(a JSON {type(doc).__name__})", "an object with input, mode, rtol and values")
    inp = doc.get("input")
    if not isinstance(inp, str) or not inp.strip():
        raise bad("input", inp, "the path of the baseline's case YAML (text)")
    if not Path(inp).is_file():
        raise bad("input", inp, "an existing case file (paths are relative to the folder check runs in)")
    mode = doc.get("mode", "auto")
    if mode not in MODES:
        raise bad("mode", mode, f"one of {', '.join(MODES)}")
    rtol = doc.get("rtol", DEFAULT_RTOL)
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not math.isfinite(rtol) or not 0 <= rtol <= 1:
        raise bad("rtol", rtol, "a finite number in [0, 1]")
    values = doc.get("values")
    if not isinstance(values, dict) or not values:
        raise bad("values", "(missing)" if values is None else f"(a JSON {type(values).__name__})",
                  "a non-empty object of dotted.key -> number (as written by --update)")
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise bad(f"values.{k}", v, "a finite number")
    return doc | {"mode": mode, "rtol": float(rtol)}


def write_baseline(run: Run, input_path: str, path: str | Path, mode: str = "auto") -> None:
    """Write the baseline of ``run`` to ``path``: a new file, or over a file that is a baseline
    (:func:`read_baseline` accepts it); atomically (a temporary file renamed into place)."""
    from model.report.atomic import atomic_file

    path = Path(path)
    if path.exists():
        read_baseline(path)  # refuses to overwrite a file that is not a baseline
    doc = {"input": input_path, "mode": mode, "rtol": DEFAULT_RTOL, "environment": environment(run),
           "solver_options": {k: v for k, v in run.result.options.items()}, "values": baseline_values(run)}
    atomic_file(path, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python -m model.baseline INPUT.yaml BASELINE.json [auto|deterministic|stochastic]", file=sys.stderr)
        return 2
    from model.app.boundary import guarded
    from model.app.run import run_case

    def body() -> int:
        mode = argv[2] if len(argv) == 3 else "auto"
        run = run_case(argv[0], mode=mode)
        write_baseline(run, argv[0], argv[1], mode)
        print(f"wrote {argv[1]}: objective {run.solution.kpis['objective_usd']:,.2f} USD")
        return 0

    return guarded(body)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
