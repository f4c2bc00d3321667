"""Checks beyond the schema (:mod:`model.input.semantics`): contradictions between inputs that each pass
the schema. Errors exit 2 with one ``input error:`` line and write nothing; warnings let the case solve
and appear in ``CaseData.warnings``, ``kpis.json`` (``input_warnings``) and at the top of summary.md and
report.html.

Every case is the tiny valid case of the bad-input corpus (``tests/bad_inputs/valid/``), copied to a
temporary folder with one contradiction written into its YAML.
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
from pathlib import Path

import pytest
import yaml

import solve
from model.input.io import read_case
from model.input.scenarios import mean_case, scenario_cases
from model.input.semantics import CATALOGUE
from model.input.warnings import InputWarning, WARNINGS_TITLE

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
VALID = CORPUS / "valid"
PREFIX = "input error: "


def valid_raw() -> dict:
    return yaml.safe_load((VALID / "case.yaml").read_text())


def write_case(tmp_path: Path, mutate) -> Path:
    """The valid case (with its CSVs) in ``tmp_path/case``, its YAML edited by ``mutate(raw)``."""
    folder = tmp_path / "case"
    shutil.copytree(VALID, folder)
    raw = valid_raw()
    mutate(raw)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _offer(raw, oid):
    return next(o for o in raw["offers"] if o["id"] == oid)


def _cut_effect(raw, effect):
    raw["scenarios"]["listed"][1]["effects"] = [effect]


# --------------------------------------------------------------------------------------------
# errors: (check, mutation, field, value as shown, text of the expectation)
# --------------------------------------------------------------------------------------------

def _floor_t(raw):
    raw["stockpile"][0]["floor_t"] = 5


def _floor_months(raw):
    sp = raw["stockpile"][0]
    del sp["floor_t"]
    sp["floor_months_of_use"] = 100  # 100 x (12.75 t magnet x 0.03 t Y / 0.8) = 47.8 t > capacity 3 t


def _no_source_of_z(raw):
    raw["elements"].append("Z")
    for rc in raw["grades"][0]["recipes"]:
        rc["element_t_per_t_magnet"]["Z"] = 0.01
    raw["offers"] = [o for o in raw["offers"] if o["id"] != "a_mag_spot"]  # no finished magnet of G either


def _heavy_recipe(raw):
    raw["grades"][0]["recipes"][1]["element_t_per_t_magnet"]["X"] = 0.99  # + Y 0.015 = 1.005


def _committed(raw):
    _offer(raw, "b_ox_con")["committed_t_per_period"] = 25  # capacity 20


def _selects_nothing(raw):
    _cut_effect(raw, {"kind": "availability", "select": {"origin_groups": ["A"], "materials": ["oy"]},
                      "factor": 0.5, "start": "2027-03"})


def _approval_on_general(raw):
    _cut_effect(raw, {"kind": "approval", "select": {"licence_rules": ["a_ox_general"]}, "approval_frac": 0.5,
                      "start": "2027-03"})


def _quota_on_free(raw):
    raw["licence_rules"].append({"id": "b_ox_free", "origin_groups": ["B"], "materials": ["ox"],
                                 "end_uses": ["civil"], "regime": "free"})
    _cut_effect(raw, {"kind": "quota", "select": {"licence_rules": ["b_ox_free"]}, "factor": 0.5, "start": "2027-03"})


def _zero_probability(raw):
    raw["scenarios"]["listed"].append({"name": "never", "probability": 0})


ERRORS = {
    "floor_t above capacity": ("floor_above_capacity", _floor_t, "stockpile[Y].floor_t", "5",
                               "at most capacity_t 3 t"),
    "months-of-use floor above capacity": ("floor_above_capacity", _floor_months, "stockpile[Y].floor_months_of_use",
                                           "100", "100 months of average use is 47.81 t of Y"),
    "no source of an element": ("grade_never_available", _no_source_of_z, "grades[G].recipes", "'Z'",
                                "every recipe of grade G needs Z"),
    "recipe heavier than the magnet": ("recipe_heavier_than_magnet", _heavy_recipe,
                                       "grades[G].recipes[G_lean].element_t_per_t_magnet", "1.005",
                                       "at most 1 t per t of magnet"),
    "commitment above capacity": ("committed_above_capacity", _committed, "offers[b_ox_con].committed_t_per_period",
                                  "25", "at most the offer's capacity"),
    "effect selects nothing": ("effect_selects_nothing", _selects_nothing, "scenarios.listed[cut].effects[0].select",
                               "'origin_groups A; materials oy'", "a selection matching at least one offer"),
    "approval on a general rule": ("effect_on_wrong_regime", _approval_on_general,
                                   "scenarios.listed[cut].effects[0].select.licence_rules", "'a_ox_general'",
                                   "only case_by_case rules for an approval effect (a_ox_general is general)"),
    "quota on a free rule": ("effect_on_wrong_regime", _quota_on_free,
                             "scenarios.listed[cut].effects[0].select.licence_rules", "'b_ox_free'",
                             "only general or case_by_case rules for a quota effect (b_ox_free is free)"),
    "zero-probability scenario": ("scenario_without_probability", _zero_probability,
                                  "scenarios.listed[never].probability", "0", "a probability above 0"),
}


@pytest.mark.parametrize("what", list(ERRORS))
def test_contradiction_exits_2_with_one_line(what, tmp_path, capsys):
    _, mutate, field, value, expected = ERRORS[what]
    case = write_case(tmp_path, mutate)
    out = tmp_path / "out"
    rc = solve.main([str(case), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith(PREFIX)]
    assert len(lines) == 1, err
    head, _, expect = lines[0][len(PREFIX):].partition(": expected ")
    assert head == f"{case}: {field} = {value}", lines[0]
    assert expected in expect, lines[0]
    assert not out.exists()


def test_the_corpus_holds_every_semantic_error():
    """tests/bad_inputs/ has a `contradiction` case, named after its check, for every error of the catalogue."""
    index = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]
    names = [c["name"] for c in index if c["category"] == "contradiction"]
    errors = {c.name for c in CATALOGUE if c.severity == "error"}
    assert errors == {name for name, *_ in ERRORS.values()}
    for name in errors:
        assert any(n.startswith(name) for n in names), (name, names)


# --------------------------------------------------------------------------------------------
# warnings: (check, mutation, field, text of the message)
# --------------------------------------------------------------------------------------------

def _long_review(raw):
    raw["licence_rules"][1]["review_lead_time_periods"] = 3  # from 2027-02 (period 2): 2 + 0 + 3 > 4 periods


def _low_initial(raw):
    raw["stockpile"][0]["floor_t"] = 1.0  # initial 0.5 t


def _zero_capacity(raw):
    _offer(raw, "b_ox_con")["capacity_t_per_period"] = 0


def _unused_material(raw):
    raw["elements"].append("W")
    raw["materials"].append({"id": "ow", "kind": "oxide", "element_content_frac": {"W": 0.9}})
    raw["offers"].append({"id": "a_ow_spot", "supplier": "SA", "country": "AA", "origin_group": "A",
                          "material": "ow", "kind": "spot", "capacity_t_per_period": 5, "price_usd_per_kg": 9})


def _no_demand(raw):
    next(s for s in raw["streams"] if s["id"] == "def")["demand_t_per_period"] = 0


def _cvar_one_scenario(raw):
    raw["risk"]["risk_weight_lambda"] = 0.5  # alpha 0.9: tail 0.1 <= the least likely scenario's 0.3


def _rule_without_offer(raw):
    raw["licence_rules"].append({"id": "r_ox_general", "origin_groups": ["R"], "materials": ["ox"],
                                 "end_uses": ["civil"], "regime": "general", "quota_t_per_period": 5})


def _idle_limit(raw):
    raw["diversification_limits"].append({"id": "cap_r", "group_by": "origin_group", "value": "R",
                                          "max_share_frac": 0.5})


def _unfed_route(raw):
    raw["materials"].append({"id": "scr", "kind": "scrap", "element_content_frac": {"X": 0.2}})
    raw["recycling_routes"].append({"id": "scrap_loop", "feed": "scr", "capacity_t_feed_per_period": 1,
                                    "recovery_frac": {"X": 0.9}, "output_origin_group": "R"})


WARNINGS = {
    "review beyond the horizon": ("case_by_case_never_arrives", _long_review,
                                  "licence_rules[b_oy_cbc].review_lead_time_periods", "acts as a ban on b_oy_spot"),
    "initial stock below the floor": ("initial_stock_below_floor", _low_initial, "stockpile[Y].initial_t_by_origin",
                                      "below the strategic floor of 1 t of Y"),
    "zero capacity with a min take": ("offer_never_bought", _zero_capacity, "offers[b_ox_con].capacity_t_per_period",
                                      "its capacity is 0 in every period; its min_take_frac 0.5 applies to nothing"),
    "material no recipe uses": ("offer_never_bought", _unused_material, "offers[a_ow_spot].material",
                                "no recipe of a demanded grade (or stockpile floor) uses its element(s) W"),
    "stream without demand": ("stream_without_demand", _no_demand, "streams[def].demand_t_per_period",
                              "the stream asks for nothing"),
    "CVaR of one scenario": ("cvar_is_the_worst_scenario", _cvar_one_scenario, "risk.cvar_alpha",
                             "CVaR is the worst scenario's cost"),
    "rule covering no offer": ("licence_rule_covers_nothing", _rule_without_offer, "licence_rules[r_ox_general].materials",
                               "the rule covers nothing"),
    "limit that never binds": ("diversification_limit_never_binds", _idle_limit, "diversification_limits[cap_r].value",
                               "the limit never binds"),
    "route never fed": ("recycling_route_never_fed", _unfed_route, "recycling_routes[scrap_loop].feed",
                        "the route never gets feed"),
}


@pytest.mark.parametrize("what", list(WARNINGS))
def test_warning_solves_and_is_reported_everywhere(what, tmp_path, capsys):
    name, mutate, field, message = WARNINGS[what]
    case = write_case(tmp_path, mutate)
    data = read_case(case)
    mine = [w for w in data.warnings if w.field == field]
    assert len(mine) == 1 and message in mine[0].message, [w.line() for w in data.warnings]
    line = mine[0].line()
    assert line.startswith(f"{case}: {field} = ") and "\n" not in line

    out = tmp_path / "out"
    rc = solve.main([str(case), "--out", str(out), "--no-evpi-vss", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    kpis = json.loads((out / "kpis.json").read_text())
    assert line in kpis["input_warnings"]
    summary = (out / "summary.md").read_text()
    title, rest = summary.split("\n", 1)
    assert title.startswith("# ")
    box = rest.lstrip("\n").split("\n\n", 1)[0]  # the block right after the title
    assert box.startswith(f"> **{WARNINGS_TITLE}**") and line in box, summary[:2000]
    page = (out / "report.html").read_text()
    after_title = page.split("</h1>", 1)[1]
    assert after_title.startswith('<div id="input-warnings" class="warnings"')
    assert html.escape(line, quote=True) in after_title.split("</div>", 1)[0]


def test_every_check_is_exercised_and_documented():
    tested = {name for name, *_ in ERRORS.values()} | {name for name, *_ in WARNINGS.values()}
    assert tested == {c.name for c in CATALOGUE}
    assert len({c.name for c in CATALOGUE}) == len(CATALOGUE)
    doc = (ROOT / "docs" / "inputs.md").read_text()
    section = doc.split("## Checks beyond the schema", 1)[1]
    for c in CATALOGUE:
        assert f"| `{c.name}` | {c.severity} |" in section, c.name


# --------------------------------------------------------------------------------------------
# no warning where none is meant; warnings travel with the data
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["inputs/base.yaml", "inputs/sampled.yaml", "tests/bad_inputs/valid/case.yaml"])
def test_shipped_cases_have_no_warning(path):
    assert read_case(ROOT / path).warnings == ()


def test_no_warning_box_without_warnings(tmp_path, capsys):
    out = tmp_path / "out"
    assert solve.main([str(VALID / "case.yaml"), "--out", str(out), "--deterministic", "--quiet"]) == 0, \
        capsys.readouterr().err
    assert json.loads((out / "kpis.json").read_text())["input_warnings"] == []
    assert WARNINGS_TITLE not in (out / "summary.md").read_text().split("\n## ", 1)[0]
    assert 'id="input-warnings"' not in (out / "report.html").read_text()


def test_warnings_are_frozen_and_kept_by_scenarios_and_replace(tmp_path):
    case = write_case(tmp_path, lambda raw: (_no_demand(raw), _rule_without_offer(raw)))
    data = read_case(case)
    assert type(data.warnings) is tuple and len(data.warnings) == 2
    assert all(isinstance(w, InputWarning) for w in data.warnings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.warnings = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.warnings[0].message = "x"
    cases = scenario_cases(data)
    assert all(c.warnings == data.warnings for c in cases)
    assert mean_case(cases).warnings == data.warnings
    assert dataclasses.replace(data, scenario="x").warnings == data.warnings
    again = dataclasses.replace(data, warnings=list(data.warnings))
    assert type(again.warnings) is tuple


def test_a_warning_line_is_one_line_and_shows_the_value_like_an_error():
    w = InputWarning("c.yaml", "streams[s].demand_t_per_period", "a\nb", "says\tthis")
    assert w.line() == "c.yaml: streams[s].demand_t_per_period = 'a\\nb': says\\tthis"
    assert InputWarning("c.yaml", "risk.cvar_alpha", 0.9, "m").line() == "c.yaml: risk.cvar_alpha = 0.9: m"


def test_checks_do_not_repeat_a_broken_reference(tmp_path):
    """A broken reference is reported once, by validate; no semantic line is derived from it."""
    from model.errors import InputError

    def mutate(raw):
        raw["streams"][0]["grade"] = "SH"
        _cut_effect(raw, {"kind": "approval", "select": {"licence_rules": ["nope"]}, "approval_frac": 0.5,
                          "start": "2027-03"})

    with pytest.raises(InputError) as e:
        read_case(write_case(tmp_path, mutate))
    fields = [i.field for i in e.value.issues]
    assert fields == ["streams[civ].grade", "scenarios.listed[cut].effects[0].select.licence_rules"], fields


def test_semantic_errors_come_with_the_other_issues(tmp_path):
    from model.errors import InputError

    def mutate(raw):
        _heavy_recipe(raw)
        _offer(raw, "a_ox_spot")["material"] = "nope"

    with pytest.raises(InputError) as e:
        read_case(write_case(tmp_path, mutate))
    fields = [i.field for i in e.value.issues]
    assert "offers[a_ox_spot].material" in fields
    assert "grades[G].recipes[G_lean].element_t_per_t_magnet" in fields
