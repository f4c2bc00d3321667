"""Permuting the input lists never changes the plan (the canonical plan of ``model.solve.canonical``).

A permuted copy of a case reverses every list of entries or ids in the YAML (offers, materials,
licence rules and their selections, grades and their recipes, streams, stockpile, recycling routes,
diversification limits, scenario options and effects, elements, end uses, origin groups) and the
columns of every CSV (the period column stays first). Lists of numbers (series) keep their order:
they mean something in order; so do scenario factors, whose order names the scenarios. The plan tables (as sets of rows) and ``kpis.json``
(apart from ``run`` and the input hash) must agree to 1e-7 relative.
"""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from model.app.run import run_case
from tests.conftest import ROOT

RTOL, ATOL = 1e-7, 1e-7
SKIP_KPIS = {"run", "input_hash", "model_size"}  # model_size: merged columns are counted, not the plan


KEEP_ORDER = {"factors"}  # scenario factors: their order names the scenarios (``policy+outage``)


def _permute(obj, rng: random.Random | None, key: str = ""):
    if isinstance(obj, dict):
        return {k: _permute(v, rng, k) for k, v in obj.items()}
    if isinstance(obj, list) and key in KEEP_ORDER:
        return [_permute(v, rng) for v in obj]
    if isinstance(obj, list):
        items = [_permute(v, rng) for v in obj]
        if items and all(isinstance(v, (dict, str)) for v in items):
            if rng is None:
                items = items[::-1]
            else:
                rng.shuffle(items)
        return items
    return obj


def _permute_csv(src: Path, dst: Path, rng: random.Random | None) -> None:
    lines = src.read_text().splitlines()
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    rows = [ln.split(",") for ln in body]
    rest = list(range(1, len(rows[0])))
    rest = rest[::-1] if rng is None else rng.sample(rest, len(rest))
    order = [0] + rest
    dst.write_text("\n".join(",".join(r[i] for i in order) for r in rows) + "\n")


def permuted_copy(case: Path, out: Path, rng: random.Random | None = None) -> Path:
    """Copy ``case`` (and the folder of its CSVs) into ``out`` with every list permuted."""
    out.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(case.read_text())
    if "extends" in raw:
        raise ValueError("permuted_copy takes a case without extends")
    new = _permute(raw, rng)
    for kind, rel in (raw.get("timeseries") or {}).items():
        src = (case.parent / rel)
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        _permute_csv(src, dst, rng)
    path = out / case.name
    path.write_text(yaml.safe_dump(new, sort_keys=False))
    return path


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    df = df[sorted(df.columns)]
    keys = [c for c in df.columns if not pd.api.types.is_float_dtype(df[c])]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


def _flat(prefix, obj, out):
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flat(f"{prefix}.{k}", v, out)
    elif isinstance(obj, list) and obj and all(isinstance(v, dict) for v in obj):
        for v in sorted(obj, key=repr):
            _flat(f"{prefix}[]", v, out)
    elif isinstance(obj, list):
        out.setdefault(prefix, []).append(tuple(sorted(map(repr, obj))) if all(isinstance(v, str) for v in obj) else tuple(obj))
    else:
        out.setdefault(prefix, []).append(obj)


def assert_same_plan(a, b) -> None:
    ta, tb = a.solution.tables, b.solution.tables
    assert set(ta) == set(tb)
    for name in ta:
        x, y = _sorted(ta[name]), _sorted(tb[name])
        assert list(x.columns) == list(y.columns), name
        assert len(x) == len(y), f"{name}: {len(x)} rows vs {len(y)}"
        for c in x.columns:
            if pd.api.types.is_float_dtype(x[c]):
                bad = ~((x[c] - y[c]).abs() <= ATOL + RTOL * y[c].abs()) & ~(x[c].isna() & y[c].isna())
                assert not bad.any(), f"{name}.{c} differs:\n{pd.concat([x[bad], y[bad]], axis=1).head()}"
            else:
                assert (x[c].astype(str).values == y[c].astype(str).values).all(), f"{name}.{c} differs"
    fa, fb = {}, {}
    _flat("", {k: v for k, v in a.solution.kpis.items() if k not in SKIP_KPIS}, fa)
    _flat("", {k: v for k, v in b.solution.kpis.items() if k not in SKIP_KPIS}, fb)
    assert set(fa) == set(fb), set(fa) ^ set(fb)
    for k in fa:
        va, vb = sorted(fa[k], key=repr), sorted(fb[k], key=repr)
        for p, q in zip(va, vb):
            if isinstance(p, float) and isinstance(q, float):
                assert math.isclose(p, q, rel_tol=RTOL, abs_tol=ATOL), f"kpis{k}: {p} vs {q}"
            else:
                assert p == q, f"kpis{k}: {p} vs {q}"


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_permuting_the_default_case_leaves_the_plan_unchanged(tmp_path, mode, default_run):
    case = ROOT / "inputs" / "base.yaml"
    a = default_run(mode, evpi_vss=False)
    b = run_case(permuted_copy(case, tmp_path / "perm"), mode=mode, evpi_vss=False)
    assert_same_plan(a, b)


def tie_case_files(folder: Path) -> Path:
    """``tests.test_properties.prop_case`` (6 periods, quota, embargo, stock, swarf loop) plus a twin of
    `a_spot` (`a_twin`: same origin, prices and capacities) and a second B spot at b_spot's price
    from another country: three ties the canonical order has to settle."""
    from tests.test_properties import CAP_A, PRICE_A, prop_case

    folder.mkdir(parents=True)
    raw = prop_case()
    twin = dict(raw["offers"][0], id="a_twin", supplier="SA2")
    b2 = dict(raw["offers"][1], id="b_spot2", supplier="SB2", country="B2")
    raw["offers"] += [twin, b2]
    raw["licence_rules"][0]["materials"] = ["ox"]
    (folder / "price.csv").write_text("period,a_spot,a_twin\n" + "".join(
        f"2027-{t:02d},{p},{p}\n" for t, p in enumerate(PRICE_A, 1)))
    (folder / "capacity.csv").write_text("period,a_spot,a_twin\n" + "".join(
        f"2027-{t:02d},{c},{c}\n" for t, c in enumerate(CAP_A, 1)))
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffling_a_small_case_leaves_the_plan_unchanged(tmp_path, seed):
    case = tie_case_files(tmp_path / "orig")
    a = run_case(case, mode="deterministic")
    b = run_case(permuted_copy(case, tmp_path / "perm", random.Random(seed)), mode="deterministic")
    assert_same_plan(a, b)


def test_permuted_copy_really_permutes(tmp_path):
    case = ROOT / "inputs" / "base.yaml"
    p = permuted_copy(case, tmp_path / "perm")
    a, b = yaml.safe_load(case.read_text()), yaml.safe_load(p.read_text())
    assert [o["id"] for o in a["offers"]] == [o["id"] for o in b["offers"]][::-1]
    assert a["elements"] == b["elements"][::-1]
    shutil.rmtree(tmp_path / "perm")
