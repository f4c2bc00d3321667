"""Scenario inputs (model.md §6, §2 "every input is validated"): sampling by seed, one-line input
errors for bad scenario definitions, and ``apply_effects`` changing exactly the selected series in
exactly the window.

Tiny cases start from ``tests.tiny.base_case`` (element X, oxide `ox`, spot `a_spot` of origin A
from supplier SA at 10 USD/kg, civil stream `s` of 10 t/period). Periods are months from 2027-01,
so `2027-03` is period 3.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from model.errors import InputError
from model.input.io import read_case
from model.input.scenarios import apply_effects, scenario_cases
from model.input.schema import Effect
from model.components.sets import build_sets
from tests.tiny import base_case, make

ROOT = Path(__file__).resolve().parents[1]
SERIES = ("availability_frac", "quota_factor", "approval_frac", "price_usd_per_kg", "demand_t_per_period",
          "capacity_t_per_period")


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------------------------
# 1. sampling
# --------------------------------------------------------------------------------------------


def sample_case(count: int = 40, seed: int = 7) -> dict:
    """T = 12, window 1. Factor ``outage``: ``none`` (0.5) or ``cut`` (0.5): a_spot unavailable from a
    start drawn in 2027-03..2027-06 (periods 3..6) for 2..4 periods. Factor ``demand``: ``flat`` (0.7)
    or ``high`` (0.3): stream s x1.2 from a start in 2027-02..2027-12 (periods 2..12), to the end."""
    raw = base_case(12)
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["scenarios"] = {"mode": "sample", "count": count, "seed": seed, "factors": [
        {"name": "outage", "options": [
            {"name": "none", "probability": 0.5},
            {"name": "cut", "probability": 0.5, "effects": [
                {"kind": "availability", "select": {"offers": ["a_spot"]}, "factor": 0,
                 "start": "2027-03", "start_latest": "2027-06", "periods": 2, "periods_max": 4}]}]},
        {"name": "demand", "options": [
            {"name": "flat", "probability": 0.7},
            {"name": "high", "probability": 0.3, "effects": [
                {"kind": "demand", "select": {"streams": ["s"]}, "factor": 1.2,
                 "start": "2027-02", "start_latest": "2027-12"}]}]},
    ]}
    return raw


def fingerprint(cases):
    return [(c.scenario, c.probability, tuple((a, dict(getattr(c, a))) for a in SERIES),
             tuple(r.id for r in c.case.licence_rules)) for c in cases]


def runs(series, pred):
    """1-based periods where ``pred(value)`` holds."""
    return [t for t, x in enumerate(series, start=1) if pred(x)]


def check_window(periods: list[int], first: int, last_start: int, n0: int, n1: int, T: int) -> None:
    """A contiguous window starting in [first, last_start], lasting n0..n1 periods clipped to T."""
    assert periods, "no window"
    p = periods[0]
    assert periods == list(range(p, p + len(periods))), periods
    assert first <= p <= last_start, periods
    assert min(n0, T - p + 1) <= len(periods) <= min(n1, T - p + 1), periods


def test_tiny_sample_is_reproducible_and_inside_ranges():
    """40 draws, probability 1/40 each, names s01-... ; windows inside their ranges; the same seed gives
    the same scenarios and a different seed different ones."""
    a = scenario_cases(make(sample_case(seed=7)))
    b = scenario_cases(make(sample_case(seed=7)))
    c = scenario_cases(make(sample_case(seed=8)))
    assert len(a) == 40
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    assert all(x.probability == approx(1 / 40) for x in a)
    assert sum(x.probability for x in a) == approx(1.0)
    assert [x.scenario[:4] for x in a] == [f"s{i:02d}-" for i in range(1, 41)]
    starts, lengths, dstarts = set(), set(), set()
    for x in a:
        outage, demand = x.scenario[4:].split("+")
        assert outage in ("none", "cut") and demand in ("flat", "high")
        av = x.availability_frac["a_spot"]
        if outage == "cut":
            w = runs(av, lambda v: v == 0.0)
            check_window(w, 3, 6, 2, 4, 12)
            assert all(v == 1.0 for t, v in enumerate(av, 1) if t not in w)
            starts.add(w[0])
            lengths.add(len(w))
        else:
            assert set(av) == {1.0}
        d = x.demand_t_per_period["s"]
        if demand == "high":
            w = runs(d, lambda v: v == approx(12.0))
            check_window(w, 2, 12, 12, 12, 12)  # no length given: to the horizon end
            assert all(v == 10.0 for t, v in enumerate(d, 1) if t not in w)
            dstarts.add(w[0])
        else:
            assert set(d) == {10.0}
    # the draws do vary (40 draws over 4 starts and 3 lengths)
    assert len(starts) > 1 and len(lengths) > 1 and len(dstarts) > 1


def test_sampled_yaml_is_reproducible_and_inside_ranges():
    """inputs/sampled.yaml: 200 scenarios of the default case, probability 1/200 each.

    Windows (T = 24, 2027-01 = period 1), clipped to the horizon:
      destination_embargo: cn_ndpr_oxide_spot availability 0 from periods 4..18 for 9..12 periods;
      lynas_outage: lynas_ndpr_oxide_contract availability 0.5 from periods 7..21 for 4..6 periods;
      heavy_tightening: cn_dy_oxide_civil quota factor 0.4615 from periods 2..13 for 12 periods;
      relaxation: cn_dy_oxide_civil approval 0.95 from periods 2..12 to the end.
    Re-reading gives the same scenarios; another seed different ones.
    """
    data = read_case(ROOT / "inputs" / "sampled.yaml")
    a = scenario_cases(data)
    assert fingerprint(a) == fingerprint(scenario_cases(read_case(ROOT / "inputs" / "sampled.yaml")))
    sc = data.case.scenarios
    other = replace(data, case=data.case.model_copy(update={"scenarios": sc.model_copy(update={"seed": sc.seed + 1})}))
    assert fingerprint(a) != fingerprint(scenario_cases(other))
    assert len(a) == 200
    assert all(x.probability == approx(1 / 200) for x in a)
    assert len({x.scenario for x in a}) == 200
    seen = set()
    for x in a:
        policy, outage = x.scenario.split("-", 1)[1].split("+")
        seen |= {policy, outage}
        ndpr = x.availability_frac["cn_ndpr_oxide_spot"]
        if policy == "destination_embargo":
            check_window(runs(ndpr, lambda v: v == 0.0), 4, 18, 9, 12, 24)
        else:
            assert set(ndpr) == {1.0}
        lynas = x.availability_frac["lynas_ndpr_oxide_contract"]
        if outage == "lynas_outage":
            check_window(runs(lynas, lambda v: v == 0.5), 7, 21, 4, 6, 24)
        else:
            assert set(lynas) == {1.0}
        q = x.quota_factor["cn_dy_oxide_civil"]
        if policy == "heavy_tightening":
            check_window(runs(q, lambda v: v == approx(0.4615)), 2, 13, 12, 12, 24)
        else:
            assert set(q) == {1.0}
        ap = x.approval_frac["cn_dy_oxide_civil"]
        if policy == "relaxation":
            w = runs(ap, lambda v: v == 0.95)
            check_window(w, 2, 12, 24, 24, 24)
        else:
            assert set(ap) == {0.6}
    assert {"status_quo", "heavy_tightening", "destination_embargo", "relaxation",
            "no_outage", "myanmar_cut", "lynas_outage"} <= seen


# --------------------------------------------------------------------------------------------
# 2. bad scenario inputs: one line per problem, naming the field and what was expected
# --------------------------------------------------------------------------------------------


def err_case(scenarios: dict, window: int = 1) -> dict:
    raw = base_case(6)
    raw["licence_rules"] = [{"id": "genA", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 50}]
    raw["risk"] = {"non_anticipative_periods": window}
    raw["scenarios"] = scenarios
    return raw


def listed(*effects, prob=1.0, name="x"):
    return {"mode": "listed", "listed": [{"name": name, "probability": prob, "effects": list(effects)}]}


def eff(kind="availability", select=None, **kw):
    e = {"kind": kind, "select": select if select is not None else {"offers": ["a_spot"]}, "start": "2027-03"}
    if kind in ("availability", "quota", "price", "demand") and "factor" not in kw and not kw.pop("no_factor", False):
        kw["factor"] = 0.5
    e.update(kw)
    return e


def issue_lines(raw) -> list[str]:
    with pytest.raises(InputError) as e:
        make(raw)
    lines = [i.line() for i in e.value.issues]
    assert lines and all("\n" not in ln for ln in lines)
    assert all(ln.startswith("<tiny>.yaml: ") for ln in lines)
    return lines


def has(lines: list[str], field: str, *expected: str) -> bool:
    return any(f": {field} = " in ln and all(x in ln.split(": expected ", 1)[-1] for x in expected) for ln in lines)


BAD = {
    "listed probabilities": (
        {"mode": "listed", "listed": [{"name": "a", "probability": 0.5}, {"name": "b", "probability": 0.4}]},
        "scenarios.listed probability", ["probabilities summing to 1"], "0.9"),
    "factor probabilities": (
        {"mode": "product", "factors": [{"name": "policy", "options": [
            {"name": "a", "probability": 0.3}, {"name": "b", "probability": 0.3}]}]},
        "scenarios.factors[policy].options probability", ["probabilities summing to 1"], "0.6"),
    "unknown offer": (
        listed(eff(select={"offers": ["nope"]})),
        "scenarios.listed[x].effects[0].select.offers", ["a known offer", "a_spot"], "'nope'"),
    "unknown rule": (
        listed(eff("quota", select={"licence_rules": ["nope"]})),
        "scenarios.listed[x].effects[0].select.licence_rules", ["a known licence rule", "genA"], "'nope'"),
    "unknown stream": (
        listed(eff("demand", select={"streams": ["nope"]})),
        "scenarios.listed[x].effects[0].select.streams", ["a known stream", "(s)"], "'nope'"),
    "start inside the window": (
        listed(eff(start="2027-01")),
        "scenarios.listed[x].effects[0].start", ["after the non-anticipative window"], "'2027-01'"),
    "start outside the horizon": (
        listed(eff(start="2030-01")),
        "scenarios.listed[x].effects[0].start", ["inside the horizon", "2027-01"], "'2030-01'"),
    "missing factor": (
        listed(eff(no_factor=True)),
        "scenarios.listed[x].effects[0].factor", ["a value for an effect of kind availability"], "'(blank)'"),
    "missing approval": (
        listed(eff("approval", select={"licence_rules": ["genA"]})),
        "scenarios.listed[x].effects[0].approval_frac", ["a value for an effect of kind approval"], "'(blank)'"),
    "streams for availability": (
        listed(eff(select={"streams": ["s"]})),
        "scenarios.listed[x].effects[0].select.streams", ["only offers", "for an effect of kind availability"], None),
    "offers for demand": (
        listed(eff("demand", select={"offers": ["a_spot"]})),
        "scenarios.listed[x].effects[0].select.offers", ["only streams for an effect of kind demand"], None),
    "sample without count": (
        {"mode": "sample", "factors": [{"name": "f", "options": [{"name": "a", "probability": 1.0}]}]},
        "scenarios.count", ["a number of scenarios to draw for mode sample"], "'(blank)'"),
    "duplicate names": (
        {"mode": "listed", "listed": [{"name": "dup", "probability": 0.5}, {"name": "dup", "probability": 0.5}]},
        "scenarios.listed name", ["unique names"], "'dup'"),
    "duplicate option names": (
        {"mode": "product", "factors": [{"name": "f", "options": [
            {"name": "o", "probability": 0.5}, {"name": "o", "probability": 0.5}]}]},
        "scenarios.factors[f].options name", ["unique names"], "'o'"),
}


@pytest.mark.parametrize("what", list(BAD))
def test_bad_scenario_input_is_one_clear_line(what):
    scenarios, field, expected, value = BAD[what]
    lines = issue_lines(err_case(scenarios))
    assert has(lines, field, *expected), lines
    if value is not None:
        assert any(f": {field} = {value}: expected " in ln for ln in lines), lines


def test_sample_ranges_are_validated():
    """Mode sample: a range whose earliest start lies in the non-anticipative window (2 periods here,
    so 2027-02 is inside it) is refused, as is a latest start outside the horizon (T = 6)."""
    sc = {"mode": "sample", "count": 3, "factors": [{"name": "f", "options": [{"name": "a", "probability": 1.0, "effects": [
        eff(start="2027-02", start_latest="2027-04", periods=1, periods_max=3),
        eff(start="2027-04", start_latest="2031-01", periods=1, periods_max=3)]}]}]}
    lines = issue_lines(err_case(sc, window=2))
    assert has(lines, "scenarios.factors[f].options[a].effects[0].start", "after the non-anticipative window"), lines
    assert has(lines, "scenarios.factors[f].options[a].effects[1].start_latest", "inside the horizon"), lines
    assert not has(lines, "scenarios.factors[f].options[a].effects[1].start", ""), lines


def test_several_scenario_errors_are_reported_together():
    sc = {"mode": "listed", "listed": [
        {"name": "a", "probability": 0.5, "effects": [eff(select={"offers": ["nope"]}), eff(start="2027-01")]},
        {"name": "a", "probability": 0.2, "effects": [eff("demand", select={"streams": ["s"]}, no_factor=True)]},
    ]}
    lines = issue_lines(err_case(sc))
    assert has(lines, "scenarios.listed name", "unique names")
    assert has(lines, "scenarios.listed probability", "summing to 1")
    assert has(lines, "scenarios.listed[a].effects[0].select.offers", "a known offer")
    assert has(lines, "scenarios.listed[a].effects[1].start", "non-anticipative window")
    assert has(lines, "scenarios.listed[a].effects[0].factor", "kind demand")
    assert len(lines) >= 5


def test_cli_bad_scenarios_exit_2_with_one_line_errors(tmp_path):
    raw = err_case({"mode": "listed", "listed": [
        {"name": "a", "probability": 0.5, "effects": [eff(select={"streams": ["s"]})]},
        {"name": "b", "probability": 0.4}]})
    case = tmp_path / "bad.yaml"
    case.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(ROOT / "solve.py"), str(case), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) >= 2
    assert all(ln.startswith("input error: ") for ln in lines), p.stderr
    assert "Traceback" not in p.stderr
    assert any("scenarios.listed probability" in ln and "summing to 1" in ln for ln in lines)
    assert any("scenarios.listed[a].effects[0].select.streams" in ln for ln in lines)
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# 3. apply_effects: exactly the selected series, exactly in the window
# --------------------------------------------------------------------------------------------


def effects_case() -> dict:
    """T = 6. Offers a_spot (A, SA, 10 USD/kg) and b_spot (B, SB, 15 USD/kg); streams s (civil, 10 t)
    and d (defense, 4 t); rules genA (general, A, quota 50) and cbcB (case-by-case, B, quota 40,
    approval 0.6); a swarf route ``loop`` (output origin B)."""
    raw = base_case(6)
    raw["offers"].append({"id": "b_spot", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 15})
    raw["streams"].append({"id": "d", "grade": "G", "end_use": "defense", "demand_t_per_period": 4,
                           "shortage_cost_usd_per_kg": 100})
    raw["licence_rules"] = [
        {"id": "genA", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil", "defense"],
         "regime": "general", "quota_t_per_period": 50},
        {"id": "cbcB", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil", "defense"],
         "regime": "case_by_case", "quota_t_per_period": 40, "approval_frac": 0.6},
    ]
    raw["recycling_routes"] = [{"id": "loop", "feed": "swarf", "capacity_t_feed_per_period": 1,
                                "recovery_frac": {"X": 0.9}, "output_origin_group": "B"}]
    raw["risk"] = {"non_anticipative_periods": 1}
    return raw


def changes(before, after) -> dict:
    """{(series, key, period): (old, new)} for every value that differs, over the keys of ``before``."""
    out = {}
    for a in SERIES:
        old, new = getattr(before, a), getattr(after, a)
        for k, v in old.items():
            for t, (x, y) in enumerate(zip(v, new[k]), start=1):
                if x != y:
                    out[(a, k, t)] = (x, y)
    return out


def apply(data, effect: dict, start="2027-03", periods=2, name="x"):
    return apply_effects(data, [(Effect.model_validate(effect | {"start": start}), start, periods)], name, 0.3)


CASES = {
    # kind, selection, extra -> expected changes in periods 3 and 4
    "availability by supplier": (
        {"kind": "availability", "select": {"suppliers": ["SA"]}, "factor": 0.25},
        {("availability_frac", "a_spot"): (1.0, 0.25)}),
    "availability of a recycling route": (
        {"kind": "availability", "select": {"recycling_routes": ["loop"]}, "factor": 0.0},
        {("availability_frac", "loop"): (1.0, 0.0)}),
    "quota by origin group": (
        {"kind": "quota", "select": {"origin_groups": ["A"]}, "factor": 0.5},
        {("quota_factor", "genA"): (1.0, 0.5)}),
    "approval on case-by-case only": (
        {"kind": "approval", "select": {"licence_rules": ["genA", "cbcB"]}, "approval_frac": 0.9},
        {("approval_frac", "cbcB"): (0.6, 0.9)}),
    "price by origin group and material": (
        {"kind": "price", "select": {"origin_groups": ["B"], "materials": ["ox"]}, "factor": 2.0},
        {("price_usd_per_kg", "b_spot"): (15.0, 30.0)}),
    "demand of one stream": (
        {"kind": "demand", "select": {"streams": ["d"]}, "factor": 1.5},
        {("demand_t_per_period", "d"): (4.0, 6.0)}),
}


@pytest.mark.parametrize("what", list(CASES))
def test_apply_effect_changes_exactly_the_selection_in_the_window(what):
    """Window 2027-03 for 2 periods = periods 3 and 4; nothing else moves; scenario name and probability set."""
    effect, expected = CASES[what]
    data = make(effects_case())
    new = apply(data, effect)
    want = {(a, k, t): v for (a, k), v in expected.items() for t in (3, 4)}
    assert changes(data, new) == {k: (approx(x), approx(y)) for k, (x, y) in want.items()}
    assert (new.scenario, new.probability) == ("x", 0.3)
    assert [r.id for r in new.case.licence_rules] == ["genA", "cbcB"]
    assert changes(data, make(effects_case())) == {}  # the input data is untouched


def test_apply_effects_clip_to_horizon_open_end_and_multiply():
    """price x2 from 2027-05 for 5 periods -> periods 5, 6 (clipped to T = 6); availability x0.5 from
    2027-04 with no length -> periods 4..6; a second availability x0.5 from 2027-05 for 1 period
    multiplies: period 5 = 0.25."""
    data = make(effects_case())
    e1 = Effect.model_validate({"kind": "price", "select": {"offers": ["a_spot"]}, "factor": 2, "start": "2027-05",
                                "periods": 5})
    e2 = Effect.model_validate({"kind": "availability", "select": {"offers": ["a_spot"]}, "factor": 0.5,
                                "start": "2027-04"})
    e3 = Effect.model_validate({"kind": "availability", "select": {"countries": ["AA"]}, "factor": 0.5,
                                "start": "2027-05", "periods": 1})
    new = apply_effects(data, [(e1, "2027-05", 5), (e2, "2027-04", None), (e3, "2027-05", 1)], "y", 1.0)
    assert list(new.price_usd_per_kg["a_spot"]) == [10, 10, 10, 10, 20, 20]
    assert list(new.availability_frac["a_spot"]) == [1, 1, 1, 0.5, 0.25, 0.5]
    assert set(changes(data, new)) == {("price_usd_per_kg", "a_spot", t) for t in (5, 6)} | {
        ("availability_frac", "a_spot", t) for t in (4, 5, 6)}


def test_prohibit_end_uses_removes_eligibility_in_the_window():
    """Prohibit A's `ox` for civil use in periods 3-4: a prohibited rule appears, and stream s loses
    (s, X, A, 3) and (s, X, A, 4) from USE; defense stream d and origin B are untouched; no series moves."""
    data = make(effects_case())
    new = apply(data, {"kind": "prohibit_end_uses", "select": {"origin_groups": ["A"], "materials": ["ox"]},
                       "end_uses": ["civil"]}, name="de minimis")
    assert changes(data, new) == {}
    extra = [r for r in new.case.licence_rules if r.id not in ("genA", "cbcB")]
    assert len(extra) == 1
    r = extra[0]
    assert (r.regime, r.origin_groups, r.materials, r.end_uses) == ("prohibited", ["A"], ["ox"], ["civil"])
    assert (r.valid_from, r.valid_to) == ("2027-03", "2027-04")
    assert r.id.startswith("scenario.de_minimis.")
    before = set(build_sets(data).USE)
    after = set(build_sets(new).USE)
    assert ("s", "X", "A", 1) in before
    assert before - after == {("s", "X", "A", 3), ("s", "X", "A", 4)}
    assert after <= before


def test_prohibit_end_uses_by_licence_rule():
    """Selecting rule cbcB prohibits its origin groups x materials (B x ox) for defense from 2027-05 to
    the end: d loses (d, X, B, 5) and (d, X, B, 6)."""
    data = make(effects_case())
    new = apply(data, {"kind": "prohibit_end_uses", "select": {"licence_rules": ["cbcB"]}, "end_uses": ["defense"]},
                start="2027-05", periods=None)
    before, after = set(build_sets(data).USE), set(build_sets(new).USE)
    assert before - after == {("d", "X", "B", 5), ("d", "X", "B", 6)}
    assert after <= before


def test_sampled_option_effects_share_one_window():
    """An option's effects are one event: with identical ranges they get identical windows."""
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases

    cases = scenario_cases(read_case("inputs/sampled.yaml"))
    checked = 0
    for c in cases:
        if "myanmar_cut" not in c.scenario:
            continue
        oxide = c.availability_frac["cn_dy_oxide_spot"]
        magnet = c.availability_frac["cn_sh_magnet_spot"]
        if "destination_embargo" in c.scenario:
            continue  # the embargo also zeroes both series
        cut_oxide = [t for t, a in enumerate(oxide) if a < 1]
        cut_magnet = [t for t, a in enumerate(magnet) if a < 1]
        assert cut_oxide and cut_oxide == cut_magnet, c.scenario
        checked += 1
    assert checked >= 5


def test_a_long_scenario_name_still_gives_a_valid_prohibition_rule_id():
    """A prohibit_end_uses effect adds a rule named after the scenario; a name of 90 characters (several
    factors' options) gives an id within 64 characters, the same every time, distinct per name."""
    from model.input.scenarios import _scenario_rule_id

    long_a = "a_very_long_policy_option_name+another_rather_long_outage_option+a_third_long_factor_option"
    long_b = long_a[:-1] + "x"
    ids = {_scenario_rule_id(n, 0, 0) for n in (long_a, long_b)}
    assert len(ids) == 2 and all(len(i) <= 64 for i in ids)
    assert _scenario_rule_id(long_a, 0, 0) == _scenario_rule_id(long_a, 0, 0)
    assert _scenario_rule_id("short", 1, 2) == "scenario.short.1.2"
    from model.input.schema import LicenceRule

    LicenceRule(id=_scenario_rule_id(long_a, 3, 1), origin_groups=["A"], materials=["m"], end_uses=["defense"],
                regime="prohibited")  # a valid id
