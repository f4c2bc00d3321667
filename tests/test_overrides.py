"""Named overrides in a case file (``overrides: {NAME: {dotted.path: value}}``), chosen by name:
``read_case(path, named_overrides=[...])`` and ``sweep --override NAME[,NAME]``.

The case is the two-offer case of ``tests.test_sweep`` (cn at 10 USD/kg, bb at 14 USD/kg, caps
`cn_cap` 1.0 and `a_cap` 0.8) with an ``overrides`` block.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import solve
from model.errors import InputError
from model.input.io import read_case
from tests.test_sweep import CN_CAP, two_offer_case

OVERRIDES = {
    "tight_cn": {CN_CAP: 0.6},
    "tighter_cn": {CN_CAP: 0.2},
    "dear_bb": {"offers[bb].price_usd_per_kg": 18, "risk.risk_weight_lambda": 0.5},
}


def case_with(tmp_path: Path, overrides=OVERRIDES, **extra) -> Path:
    p = two_offer_case(tmp_path)
    raw = yaml.safe_load(p.read_text())
    if overrides is not None:
        raw["overrides"] = overrides
    raw.update(extra)
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def cap(data, ident="cn_cap") -> float:
    return next(d.max_share_frac for d in data.case.diversification_limits if d.id == ident)


def one_line(e: pytest.ExceptionInfo) -> str:
    assert len(e.value.issues) == 1, e.value.issues
    return e.value.issues[0].line()


def test_unchosen_overrides_change_nothing_and_are_kept_as_read(tmp_path):
    d = read_case(case_with(tmp_path))
    assert cap(d) == 1.0 and d.case.risk.risk_weight_lambda == 0
    assert dict(d.case.overrides["dear_bb"]) == {"offers[bb].price_usd_per_kg": 18.0, "risk.risk_weight_lambda": 0.5}


def test_chosen_overrides_apply_in_order_and_set_wins(tmp_path):
    p = case_with(tmp_path)
    d = read_case(p, named_overrides=["tight_cn", "dear_bb"])
    assert cap(d) == 0.6 and d.case.risk.risk_weight_lambda == 0.5
    assert d.price_usd_per_kg["bb"] == (18.0, 18.0)
    assert cap(read_case(p, named_overrides=["tight_cn", "tighter_cn"])) == 0.2  # the later name wins
    assert cap(read_case(p, named_overrides=["tighter_cn", "tight_cn"])) == 0.6
    assert cap(read_case(p, {CN_CAP: 0.4}, named_overrides=["tight_cn"])) == 0.4  # --set wins


def test_an_extending_case_inherits_the_overrides(tmp_path):
    case_with(tmp_path)
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": "two_offers.yaml", "name": "child",
                                     "overrides": {"loose_a": {"diversification_limits[a_cap].max_share_frac": 1.0}}}))
    d = read_case(child, named_overrides=["tight_cn", "loose_a"])
    assert d.case.name == "child" and cap(d) == 0.6 and cap(d, "a_cap") == 1.0


def test_unknown_name_is_one_line_listing_the_defined_ones(tmp_path):
    with pytest.raises(InputError) as e:
        read_case(case_with(tmp_path), named_overrides=["tight_cn", "nope"])
    line = one_line(e)
    assert line.endswith("overrides = 'nope': expected the name of an override of this case "
                         "(one of dear_bb, tight_cn, tighter_cn)"), line


def test_no_overrides_block(tmp_path):
    with pytest.raises(InputError) as e:
        read_case(case_with(tmp_path, overrides=None), named_overrides=["tight_cn"])
    assert "overrides = '(missing)': expected a top-level `overrides:` map" in one_line(e)


@pytest.mark.parametrize("changes, field, expected", [
    ({"diversification_limits[nope].max_share_frac": 0.5}, "overrides.bad.diversification_limits[nope].max_share_frac = 'nope'",
     "the id of an entry of diversification_limits"),
    ({"risk.no_such_field": 1}, "overrides.bad.risk.no_such_field = 1", "no such field"),
    ({CN_CAP: 2}, f"overrides.bad.{CN_CAP} = 2", "less than or equal to 1"),
    ({"offers[bb].price_usd_per_kg": "dear"}, "overrides.bad.offers[bb].price_usd_per_kg = 'dear'", "a number"),
    ({"extends": "other.yaml"}, "overrides.bad.extends = 'other.yaml'", "not into `overrides` or `extends`"),
    ({"risk": {"risk_weight_lambda": 1}}, "overrides.bad.risk = '(a map)'", "a number, text, true/false or blank"),
    ({"risk..x": 1}, "overrides.bad.risk..x", "a dotted path"),
])
def test_a_bad_override_is_one_line_naming_it(tmp_path, changes, field, expected):
    with pytest.raises(InputError) as e:
        read_case(case_with(tmp_path, overrides=OVERRIDES | {"bad": changes}), named_overrides=["bad"])
    line = one_line(e)
    assert field in line and expected in line, line


def test_a_badly_shaped_block_is_reported_even_when_unused(tmp_path):
    with pytest.raises(InputError) as e:
        read_case(case_with(tmp_path, overrides={"x": [1, 2]}))
    assert "overrides.x = " in one_line(e)


def test_sweep_override_option(tmp_path, capsys):
    p = case_with(tmp_path)
    out = tmp_path / "sw"
    price = "offers[bb].price_usd_per_kg"
    assert solve.main(["sweep", str(p), "--set", f"{price}=14,18", "--override", "tight_cn", "--out", str(out),
                       "--quiet"]) == 0, capsys.readouterr().err
    import json

    import pandas as pd

    f = pd.read_csv(out / "frontier.csv")
    # cn_cap 0.6 from the override, a_cap 0.8: 5 t X x (0.6 x 10 + 0.4 x p) per period, 2 periods
    assert list(f.expected_cost_usd) == pytest.approx([116_000, 132_000], rel=1e-9)
    assert json.loads((out / "manifest.json").read_text())["named_overrides"] == ["tight_cn"]
    # dear_bb: bb at 18 USD/kg and lambda 0.5; one scenario, so CVaR = cost and the objective is 1.5 x cost.
    # cn_cap 0.6: 5 (6 + 0.4 x 18) = 66 kUSD/period, C = 132,000, J = 198,000 USD; without cn_cap (a_cap
    # 0.8): 5 (8 + 0.2 x 18) = 58, C = 116,000, J = 174,000: premium 16,000 USD (C) and 24,000 USD (J)
    assert solve.main(["sweep", str(p), "--set", f"{CN_CAP}=0.6", "--override", "dear_bb", "--override", "tight_cn",
                       "--out", str(tmp_path / "sw2"), "--quiet"]) == 0
    r = pd.read_csv(tmp_path / "sw2" / "frontier.csv").iloc[0]
    assert (r.expected_cost_usd, r.objective_usd) == pytest.approx((132_000, 198_000), rel=1e-9)
    assert (r.diversification_premium_expected_cost_usd, r.diversification_premium_objective_usd) == pytest.approx(
        (16_000, 24_000), rel=1e-9)


def test_sweep_unknown_override_is_exit_2_and_writes_nothing(tmp_path, capsys):
    p = case_with(tmp_path)
    for names, text in [("nope", "overrides = 'nope'"), ("tight_cn,", "--override = 'tight_cn,'")]:
        rc = solve.main(["sweep", str(p), "--set", f"{CN_CAP}=0.5", "--override", names, "--out", str(tmp_path / "x")])
        cap_ = capsys.readouterr()
        assert rc == 2 and cap_.out == "", cap_
        (line,) = cap_.err.strip().splitlines()
        assert line.startswith("input error: ") and text in line, line
    assert not (tmp_path / "x").exists()
