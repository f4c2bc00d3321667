"""`compare` compares (issue 14): one vocabulary for every mode, a cost bridge that adds up, the plan
and the inputs that differ, more than two folders side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import solve
from model.report.compare import common_kpis, compare_reports, read_report, shown

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "bad_inputs" / "valid"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """The tiny valid case as a stochastic run, its expected-value run, its deterministic run, and a
    stochastic run of a copy whose contract price is 14 -> 15 USD/kg."""
    root = tmp_path_factory.mktemp("cmp")
    case = root / "case"
    shutil.copytree(VALID, case)
    raw = yaml.safe_load((case / "case.yaml").read_text())
    dearer = root / "dearer"
    shutil.copytree(VALID, dearer)
    (raw["offers"][1]).update(price_usd_per_kg=15)
    assert raw["offers"][1]["id"] == "b_ox_con"
    (dearer / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    out = {}
    for name, args in (("stoch", [case / "case.yaml"]), ("ev", [case / "case.yaml", "--expected-value"]),
                       ("det", [case / "case.yaml", "--deterministic"]), ("dearer", [dearer / "case.yaml"])):
        out[name] = root / "reports" / name
        assert solve.main([*map(str, args), "--out", str(out[name]), "--quiet", "--no-evpi-vss"]) == 0
    return out


def test_every_mode_has_the_headline(reports):
    for name in ("stoch", "ev", "det"):
        v = common_kpis(read_report(reports[name]).kpis)
        for key in ("total_cost_usd", "objective_usd", "present_value_usd", "first_stage_cost_usd",
                    "spend_decided_now_usd", "streams.civ.fill_rate_frac", "cost_parts_usd.purchases"):
            assert key in v, (name, key)
    assert "cvar_cost_usd" in common_kpis(read_report(reports["stoch"]).kpis)
    assert "cvar_cost_usd" not in common_kpis(read_report(reports["det"]).kpis)


def test_the_cost_bridge_adds_up_to_the_change_of_total_cost(reports):
    a, b = read_report(reports["stoch"]), read_report(reports["ev"])
    c = compare_reports([a, b])
    change = common_kpis(b.kpis)["total_cost_usd"] - common_kpis(a.kpis)["total_cost_usd"]
    assert c.bridge.b_minus_a_usd.sum() == pytest.approx(change, rel=1e-9, abs=1e-6)
    assert len(c.headline) and not c.headline.drop(columns="kpi").isna().all(axis=1).any()


def test_one_changed_price_is_the_only_input_difference(reports):
    c = compare_reports([read_report(reports["stoch"]), read_report(reports["dearer"])])
    diffs = c.inputs[~c.inputs.input.str.startswith("case.name")]
    periods = ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert diffs.input.tolist() == ["case.offers[b_ox_con].price_usd_per_kg"] + [
        f"series.price_usd_per_kg.b_ox_con.{p}" for p in periods]  # the scalar, and the series it gives
    assert set(diffs.a) == {"14.0"} and set(diffs.b) == {"15.0"}
    # the plan difference is what each run bought, probability-weighted
    pur = pd.read_csv(reports["dearer"] / "purchases.csv")
    exp = (pur.purchased_t * pur.probability).groupby(pur.offer).sum()
    got = c.plan.groupby("offer").b_t.sum()
    for offer, t in exp.items():
        assert got[offer] == pytest.approx(t, rel=1e-9, abs=1e-12)


def test_the_command_compares_three_folders_side_by_side(reports, tmp_path, capsys):
    out = tmp_path / "cmp"
    rc = solve.main(["compare", str(reports["stoch"]), str(reports["ev"]), str(reports["det"]), "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    head = pd.read_csv(out / "headline.csv")
    assert list(head.columns) == ["kpi", "stoch", "ev", "det"]
    assert "(absent)" not in text and "total_cost_usd" in text and " USD M" in text
    for f in ("headline.csv", "cost_bridge.csv", "plan_differences.csv", "input_differences.csv",
              "kpi_differences.csv", "summary.md", "manifest.json"):
        assert (out / f).is_file(), f


def test_units_are_shown_with_every_number():
    assert shown("total_cost_usd", 308_097_483.8) == "308.097 USD M"
    assert shown("streams.civ.fill_rate_frac", 0.99992) == "99.99 %"
    assert shown("streams.civ.fill_rate_frac", -0.0108, difference=True) == "-1.08 pp"
    assert shown("element_supply_t.Dy", 93.6164) == "93.616 t"
    assert shown("supply_share_by_country_frac.Dy.CN", 0.2995) == "29.95 %"
    assert shown("cvar_cost_usd", None) == "n/a"


def test_one_folder_is_refused(reports, capsys):
    assert solve.main(["compare", str(reports["stoch"])]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "at least two report folders" in line
