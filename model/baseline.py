"""Regression baselines: the values CI compares, flattened to ``dotted.key -> float``.

A baseline JSON holds the input path (relative to the repository root) and the values:
the objective and every cost part, each KPI number (fill rates, shares, recycled share, cost per
kg), and the aggregated plan (t bought per offer, t reserved per offer, t made per recipe, end
stock per element, feed per recycling route).

Update the committed baseline of the default case after an intended change with::

    python -m model.baseline inputs/base.yaml tests/baselines/base.json

and say in the commit message why the values moved.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from .run import Run

DEFAULT_RTOL = 1e-6
ABS_TOL = 1e-6  # t or USD: values this close to each other are equal whatever their size


def _flatten(prefix: str, obj, out: dict) -> None:
    if isinstance(obj, dict):
        for k in sorted(obj):
            _flatten(f"{prefix}.{k}" if prefix else str(k), obj[k], out)
    elif isinstance(obj, bool):
        return
    elif isinstance(obj, (int, float)):
        out[prefix] = float(obj)


def baseline_values(run: Run) -> dict[str, float]:
    k = run.solution.kpis
    t = run.solution.tables
    out: dict[str, float] = {}
    for key in ("objective_usd", "first_stage_cost_usd", "scenario_cost_usd", "penalties_usd", "magnets_delivered_t",
                "total_cost_usd_per_kg_magnet", "supply_cost_usd_per_kg_magnet", "cost_parts_usd", "streams",
                "element_supply_t", "supply_share_by_origin_group", "supply_share_by_country", "recycled_share",
                "finished_magnets_by_origin_t"):
        _flatten(key, k.get(key), out)
    plan = {
        "purchased_t": t["purchases"].groupby("offer").purchased_t.sum().to_dict(),
        "reserved_t": t["reservations"].groupby("offer").reserved_t.sum().to_dict(),
        "made_t": t["production"].groupby("recipe").made_t.sum().to_dict(),
        "magnets_bought_t": t["magnet_purchases"].groupby("material").used_t.sum().to_dict(),
        "end_stock_t": t["stock_by_element"].groupby("element").stock_t.last().to_dict(),
        "recycling_feed_t": t["recycling"].groupby("route").feed_t.sum().to_dict(),
    }
    _flatten("plan", plan, out)
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


def write_baseline(run: Run, input_path: str, path: str | Path) -> None:
    doc = {"input": input_path, "rtol": DEFAULT_RTOL, "values": baseline_values(run)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m model.baseline INPUT.yaml BASELINE.json", file=sys.stderr)
        return 2
    from .run import run_case

    run = run_case(argv[0])
    write_baseline(run, argv[0], argv[1])
    print(f"wrote {argv[1]}: objective {run.solution.kpis['objective_usd']:,.2f} USD")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
