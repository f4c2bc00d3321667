"""Property-based tests of the input layer (hypothesis, derandomized so every run draws the same cases).

(a) Random VALID small instances (1-3 elements, 1-3 origin groups, 1-4 spot/contract offers, 0-2 licence
    rules of random regimes, 1-2 grades with 1-2 recipes, 1-2 streams, optional stockpile, swarf loop,
    diversification limit and two listed scenarios, 1-6 periods) are accepted and solve to optimal.
    When ``model.results.audit`` is present, its independent audit of the plan must pass as well (the test works
    without it).
(b) Random MUTATIONS of valid cases (``inputs/base.yaml``, ``tests.tiny.base_case`` and the bad-input
    corpus's valid case) - a key deleted, a leaf set to a value of another type / negative / huge / NaN /
    random text, a list entry duplicated, an id renamed, an unknown key added - either load, or raise
    ``InputError`` whose every issue prints as ONE line containing ``: expected ``. Nothing else escapes.
(c) Random corruption of the bytes of a case's YAML or CSV file, read with ``read_case``: the same rule.
"""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from model.errors import InputError
from model.input.io import case_from_mapping, read_case
from model.input.yaml_safe import load_yaml
from model.app.run import run_data, run_stochastic_data
from tests.tiny import base_case

try:  # written concurrently by another engineer; the properties hold with or without it
    from model.results.audit import audit_run
except ImportError:  # pragma: no cover - depends on the checkout
    audit_run = None

ROOT = Path(__file__).resolve().parents[1]
BASE_YAML = ROOT / "inputs" / "base.yaml"
CORPUS_VALID = ROOT / "tests" / "bad_inputs" / "valid" / "case.yaml"

COMMON = dict(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def months(start: str, n: int) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for k in range(n):
        i = y * 12 + m - 1 + k
        out.append(f"{i // 12:04d}-{i % 12 + 1:02d}")
    return out


# --------------------------------------------------------------------------------------------
# (a) random valid instances solve to optimal
# --------------------------------------------------------------------------------------------

money = st.floats(min_value=0.5, max_value=500, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))
tonnes = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))
frac = st.floats(min_value=0, max_value=1, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 4))


@st.composite
def valid_instance(draw) -> dict:
    T = draw(st.integers(1, 6))
    labels = months("2027-01", T)
    elements = [f"E{i}" for i in range(draw(st.integers(1, 3)))]
    origins = [f"O{i}" for i in range(draw(st.integers(1, 3)))]
    materials = [{"id": f"ox_{e}", "kind": "oxide",
                  "element_content_frac": {e: draw(st.floats(0.3, 1.0).map(lambda x: round(x, 3)))}}
                 for e in elements]
    if len(elements) > 1 and draw(st.booleans()):
        materials.append({"id": "alloy", "kind": "alloy",
                          "element_content_frac": {e: round(0.9 / len(elements), 3) for e in elements}})
    offers = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["spot", "contract"]))
        o = {"id": f"of{i}", "supplier": draw(st.sampled_from(["S1", "S2", "S3"])),
             "country": draw(st.sampled_from(["C1", "C2"])), "origin_group": draw(st.sampled_from(origins)),
             "material": draw(st.sampled_from([m["id"] for m in materials])), "kind": kind,
             "capacity_t_per_period": draw(tonnes), "price_usd_per_kg": draw(money),
             "lead_time_periods": draw(st.integers(0, T - 1))}
        if kind == "contract":
            o["reservation_fee_usd_per_kg"] = draw(st.floats(0, 5).map(lambda x: round(x, 3)))
            o["min_take_frac"] = draw(frac)
        offers.append(o)
    # every element is offered somewhere (a case whose demanded grade needs an element nothing supplies
    # is an input error, model/input/semantics.py): one spot offer per element with some capacity
    for e in elements:
        offers.append({"id": f"base_{e}", "supplier": "S0", "country": "C1", "origin_group": origins[0],
                       "material": f"ox_{e}", "kind": "spot",
                       "capacity_t_per_period": draw(st.floats(1, 100).map(lambda x: round(x, 3))),
                       "price_usd_per_kg": draw(money), "lead_time_periods": 0})
    rules = []
    for i in range(draw(st.integers(0, 2))):
        regime = draw(st.sampled_from(["free", "general", "case_by_case", "prohibited"]))
        r = {"id": f"rule{i}", "origin_groups": draw(st.lists(st.sampled_from(origins), min_size=1, max_size=2, unique=True)),
             "materials": draw(st.lists(st.sampled_from([m["id"] for m in materials]), min_size=1, max_size=2, unique=True)),
             "end_uses": draw(st.lists(st.sampled_from(["civil", "defense"]), min_size=1, unique=True)),
             "regime": regime}
        if regime in ("general", "case_by_case"):
            r["quota_t_per_period"] = draw(tonnes)
        if regime == "case_by_case":
            r["approval_frac"] = draw(frac)
            r["review_lead_time_periods"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            a, b = sorted(draw(st.lists(st.integers(0, T - 1), min_size=2, max_size=2)))
            r["valid_from"], r["valid_to"] = labels[a], labels[b]
        rules.append(r)
    grades = []
    for g in range(draw(st.integers(1, 2))):
        recipes = []
        for k in range(draw(st.integers(1, 2))):
            used = draw(st.lists(st.sampled_from(elements), min_size=1, unique=True))
            recipes.append({"id": f"G{g}_r{k}",
                            "element_t_per_t_magnet": {e: draw(st.floats(0.01, 0.3).map(lambda x: round(x, 4))) for e in used}})
        grades.append({"id": f"G{g}", "recipes": recipes})
    streams = [{"id": f"st{i}", "grade": draw(st.sampled_from([g["id"] for g in grades])),
                "end_use": draw(st.sampled_from(["civil", "defense"])), "demand_t_per_period": draw(tonnes),
                "shortage_cost_usd_per_kg": draw(st.floats(50, 2000).map(lambda x: round(x, 2)))}
               for i in range(draw(st.integers(1, 2)))]
    raw = {
        "name": "random",
        "horizon": {"start_month": "2027-01", "periods": T},
        "elements": elements,
        "origin_groups": [{"id": g} for g in origins],
        "end_uses": ["civil", "defense"],
        "materials": materials,
        "offers": offers,
        "licence_rules": rules,
        "grades": grades,
        "plant": {"capacity_t_per_period": draw(st.floats(0, 200).map(lambda x: round(x, 2))),
                  "yield_frac": draw(st.floats(0.5, 1.0).map(lambda x: round(x, 3))),
                  "conversion_cost_usd_per_kg": draw(st.floats(0, 30).map(lambda x: round(x, 2))),
                  "swarf_credit_usd_per_kg": draw(st.floats(0, 5).map(lambda x: round(x, 2)))},
        "streams": streams,
        "risk": {"non_anticipative_periods": 1 if T > 1 else 0},
    }
    if draw(st.booleans()):
        cap = draw(st.floats(0, 50).map(lambda x: round(x, 2)))
        sp = {"element": draw(st.sampled_from(elements)), "capacity_t": cap,
              "initial_t_by_origin": {draw(st.sampled_from(origins)): round(cap * draw(frac), 3)},
              "holding_cost_usd_per_kg_per_period": draw(st.floats(0, 5).map(lambda x: round(x, 3)))}
        floor = draw(st.sampled_from(["none", "t", "months"]))
        if floor == "t":
            sp |= {"floor_t": round(cap * draw(frac), 3), "floor_penalty_usd_per_kg": draw(money)}
        elif floor == "months":  # room above any months-of-use floor (a floor above capacity is an input error)
            sp |= {"floor_months_of_use": draw(st.floats(0, 3).map(lambda x: round(x, 2))),
                   "floor_penalty_usd_per_kg": draw(money), "capacity_t": 10_000.0}
        if draw(st.booleans()):
            sp["terminal_min_t"] = round(cap * draw(frac), 3)
        raw["stockpile"] = [sp]
    if draw(st.booleans()):
        route = {"id": "loop", "feed": "swarf", "capacity_t_feed_per_period": draw(tonnes),
                 "cost_usd_per_kg_feed": draw(st.floats(0, 20).map(lambda x: round(x, 2))),
                 "recovery_frac": {e: draw(st.floats(0.1, 1.0).map(lambda x: round(x, 3)))
                                   for e in draw(st.lists(st.sampled_from(elements), min_size=1, unique=True))},
                 "output_origin_group": draw(st.sampled_from(origins))}
        if draw(st.booleans()):
            route["grades"] = [grades[0]["id"]]
        if draw(st.booleans()):
            route["expansion"] = {"cost_usd_per_t_per_period": draw(money),
                                  "build_lead_time_periods": draw(st.integers(0, T - 1)), "max_t_per_period": draw(tonnes)}
        raw["recycling_routes"] = [route]
    if draw(st.booleans()):
        lim = {"id": "div", "group_by": "origin_group", "value": draw(st.sampled_from(origins)),
               "max_share_frac": draw(frac), "basis": draw(st.sampled_from(["purchases", "supply"]))}
        if draw(st.booleans()):
            lim["element"] = draw(st.sampled_from(elements))
        raw["diversification_limits"] = [lim]
    if T > 1 and draw(st.booleans()):
        p = draw(st.floats(0.05, 0.95).map(lambda x: round(x, 3)))
        start = draw(st.integers(2, T))
        raw["scenarios"] = {"mode": "listed", "listed": [
            {"name": "calm", "probability": p},
            {"name": "hit", "probability": round(1 - p, 3), "effects": [
                {"kind": "availability", "select": {"offers": [draw(st.sampled_from([o["id"] for o in offers]))]},
                 "factor": draw(frac), "start": labels[start - 1],
                 **({"periods": draw(st.integers(1, T))} if draw(st.booleans()) else {})}]},
        ]}
    return raw


def make(raw: dict):
    return case_from_mapping(copy.deepcopy(raw), Path("<random>.yaml"))


@settings(max_examples=60, **COMMON)
@given(valid_instance())
def test_random_valid_instances_solve_to_optimal(raw):
    data = make(raw)  # a valid instance must be accepted
    event(f"{'stochastic' if data.case.scenarios else 'deterministic'}, T={data.T}, offers={len(data.case.offers)}")
    if data.case.scenarios is not None:
        run = run_stochastic_data(data, evpi_vss=False)
    else:
        run = run_data(data)
    assert run.result.termination == "optimal"
    assert math.isfinite(run.result.objective_kusd)
    if audit_run is not None:
        report = audit_run(run)
        assert report.passed, report


# --------------------------------------------------------------------------------------------
# (b) random mutations of valid cases: load, or InputError with one-line issues
# --------------------------------------------------------------------------------------------

BASE_RAW = load_yaml(BASE_YAML, str(BASE_YAML))
VALID_RAW = load_yaml(CORPUS_VALID, str(CORPUS_VALID))
SOURCES = {
    "base": (BASE_RAW, BASE_YAML),  # its CSVs are read from inputs/base/
    "tiny": (base_case(3), Path("<tiny>.yaml")),
    "corpus": (VALID_RAW, CORPUS_VALID),  # its CSVs are read from tests/bad_inputs/valid/
}

odd_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(10**15, 10**40), st.integers(-10**40, -1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2), st.dates(),
    st.sampled_from([-1, -0.1, 0, 1.5, 2, 1e308, 1e-300, float("nan"), float("inf"), float("-inf"), "", " ", "x",
                     "2027-01", "2027-13", "2031-01", "swarf", "plant", "CN", "NdPr", "-5", "1e999", [], {}, [[]]]),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _ids(node) -> list[str]:
    out = []
    for p in _paths(node):
        if p and p[-1] in ("id", "name", "element"):
            v = node
            for k in p:
                v = v[k]
            if isinstance(v, str):
                out.append(v)
    return out


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SOURCES)))
    src, path = SOURCES[name]
    raw = copy.deepcopy(src)
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(raw))
        p = draw(st.sampled_from(paths))
        parent = raw
        for k in p[:-1]:
            parent = parent[k]
        node = parent[p[-1]] if p else raw
        op = draw(st.sampled_from(["delete", "set", "set", "negate", "duplicate", "rename", "add_key"]))
        if op == "delete" and p:
            del parent[p[-1]]
        elif op == "set" and p:
            parent[p[-1]] = draw(odd_values)
        elif op == "negate" and p and isinstance(node, (int, float)) and not isinstance(node, bool):
            parent[p[-1]] = -node if node else -1
        elif op == "duplicate" and isinstance(node, list) and node:
            node.append(copy.deepcopy(draw(st.sampled_from(node))))
        elif op == "rename" and isinstance(node, dict):
            key = next((k for k in ("id", "name", "element") if k in node), None)
            if key is not None:
                node[key] = draw(st.one_of(st.sampled_from(_ids(raw) or ["x"]), st.text(max_size=10)))
        elif op == "add_key" and isinstance(node, dict):
            node[draw(st.one_of(st.text(max_size=8), st.integers()))] = draw(odd_values)
        ops.append((op, p))
    return name, path, raw, ops


def check_outcome(load) -> None:
    """``load()`` returns case data, or raises InputError whose issues are one line each."""
    try:
        load()
        event("loaded")
    except InputError as e:
        event(f"InputError, {min(len(e.issues), 3)}{'+' if len(e.issues) > 3 else ''} issue(s)")
        assert e.issues, "an InputError without issues"
        for issue in e.issues:
            line = issue.line()
            assert len(line.splitlines()) == 1 and "\n" not in line and "\r" not in line, repr(line)
            assert ": expected " in line, line
            assert line.startswith(f"{issue.file}: {issue.field} = "), line
            assert issue.expected.strip(), line


@settings(max_examples=1500, **COMMON)
@given(mutated())
def test_mutated_cases_load_or_fail_with_one_line_issues(m):
    name, path, raw, ops = m
    check_outcome(lambda: case_from_mapping(raw, path))


def test_the_mutation_sources_are_valid():
    for raw, path in SOURCES.values():
        case_from_mapping(copy.deepcopy(raw), path)


# --------------------------------------------------------------------------------------------
# (c) corrupted file bytes through read_case
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corrupt_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corrupt")
    for f in (CORPUS_VALID.parent).iterdir():
        shutil.copy(f, d / f.name)
    return d


FILES = ("case.yaml", "demand.csv", "price.csv", "capacity.csv")


@st.composite
def corruption(draw):
    name = draw(st.sampled_from(FILES))
    data = bytearray((CORPUS_VALID.parent / name).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(st.one_of(st.binary(min_size=1, max_size=6),
                               st.sampled_from([b":", b"- ", b"\t", b"&a ", b"*a", b"[", b"{", b"#", b",", b"\n", b'"',
                                                b"\xff", b"\xc3", b"nan", b"-1", b"!!python/name:os.system ",
                                                b"\x00", b"  ", b"yes", b"2027-02"])))
        if op == "insert":
            data[i:i] = chunk
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 20))]
        else:
            data[i:i + len(chunk)] = chunk
    return name, bytes(data)


@settings(max_examples=300, **COMMON)
@given(corruption())
def test_corrupted_files_load_or_fail_with_one_line_issues(corrupt_dir, c):
    name, data = c
    for f in FILES:
        (corrupt_dir / f).write_bytes((CORPUS_VALID.parent / f).read_bytes())
    (corrupt_dir / name).write_bytes(data)
    check_outcome(lambda: read_case(corrupt_dir / "case.yaml"))
