"""Regression: the default case's objective, KPIs and aggregated plan against the committed baseline.

Relative tolerance 1e-6 (absolute 1e-6 for values near zero). After an intended change, update with
``python -m model.baseline inputs/base.yaml tests/baselines/base.json`` (and
``... tests/baselines/base-deterministic.json deterministic``) and explain the move in the commit.
"""

import json
from pathlib import Path

import pytest

from model.app.baseline import baseline_values, compare
from model.app.run import run_case

ROOT = Path(__file__).resolve().parents[1]
BASELINES = sorted((ROOT / "tests" / "baselines").glob("*.json"))


@pytest.mark.parametrize("path", BASELINES, ids=[p.stem for p in BASELINES])
def test_baseline_unchanged(path, default_run):
    doc = json.loads(path.read_text())
    same = (ROOT / doc["input"]).resolve() == (ROOT / "inputs" / "base.yaml").resolve()
    run = default_run(doc.get("mode", "auto")) if same else run_case(ROOT / doc["input"], mode=doc.get("mode", "auto"))
    moved = compare(doc["values"], baseline_values(run), rtol=doc["rtol"])
    table = "\n".join(f"  {k}: expected {e}, got {a} (rel {r:.2e})" for k, e, a, r in moved)
    assert not moved, f"{len(moved)} values moved beyond rtol {doc['rtol']}:\n{table}"


def test_default_baseline_exists():
    assert (ROOT / "tests" / "baselines" / "base.json").is_file()


def test_compare_flags_a_moved_value():
    base = {"objective_usd": 100.0, "plan.purchased_t.x": 0.0}
    assert compare(base, {"objective_usd": 100.0 * (1 + 2e-6), "plan.purchased_t.x": 0.0})
    assert not compare(base, {"objective_usd": 100.0 * (1 + 5e-7), "plan.purchased_t.x": 1e-7})
    assert compare(base, {"objective_usd": 100.0})  # a missing key is a change
