"""Sweeps (warm re-solve equals cold solve; the premium and the cost change worked out by hand; grids;
the console lines), compare and check subcommands.

Costs in the hand-computed cases are t x USD/kg = kUSD; the frontier reports USD."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from model.input.io import case_from_mapping, read_case
from model.stochastic.extensive import run_stochastic
from model.app.sweep import SweepResult, is_warm, run_sweep, speedup_line

ROOT = Path(__file__).resolve().parents[1]
CAP = "diversification_limits[cap_a].max_share_frac"


def tiny_case(tmp_path: Path) -> Path:
    """Two origins, a quota on A, a share cap on A, a swarf route, and two scenarios (A embargoed later)."""
    raw = {
        "name": "tiny_sweep",
        "horizon": {"start_month": "2027-01", "periods": 4},
        "elements": ["X"],
        "origin_groups": [{"id": "A"}, {"id": "B"}, {"id": "R"}],
        "end_uses": ["civil"],
        "materials": [{"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}}],
        "offers": [
            {"id": "a", "supplier": "SA", "country": "AA", "origin_group": "A", "material": "ox", "kind": "spot",
             "capacity_t_per_period": 100, "price_usd_per_kg": 10},
            {"id": "b", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox", "kind": "contract",
             "capacity_t_per_period": 100, "price_usd_per_kg": 14, "reservation_fee_usd_per_kg": 1},
        ],
        "licence_rules": [{"id": "qa", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                           "regime": "general", "quota_t_per_period": 8}],
        "grades": [{"id": "G", "recipes": [{"id": "G_r", "element_t_per_t_magnet": {"X": 0.5}}]}],
        "plant": {"capacity_t_per_period": 1000, "yield_frac": 0.8, "swarf_credit_usd_per_kg": 1},
        "streams": [{"id": "s", "grade": "G", "end_use": "civil", "demand_t_per_period": 20,
                     "shortage_cost_usd_per_kg": 100}],
        "recycling_routes": [{"id": "loop", "feed": "swarf", "capacity_t_feed_per_period": 2,
                              "cost_usd_per_kg_feed": 2, "recovery_frac": {"X": 0.9}, "output_origin_group": "R"}],
        "diversification_limits": [{"id": "cap_a", "group_by": "origin_group", "value": "A", "max_share_frac": 1.0,
                                    "basis": "supply"}],
        "risk": {"non_anticipative_periods": 1, "cvar_alpha": 0.8},
        "scenarios": {"mode": "listed", "listed": [
            {"name": "calm", "probability": 0.7},
            {"name": "cut", "probability": 0.3, "effects": [
                {"kind": "availability", "select": {"origin_groups": ["A"]}, "factor": 0.25, "start": "2027-03"}]}]},
    }
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


@pytest.mark.parametrize("key, values", [
    (CAP, [1.0, 0.7, 0.5, 0.3]),
    ("risk.risk_weight_lambda", [0.0, 0.5, 2.0]),
    ("licence_rules[qa].quota_t_per_period", [12.0, 8.0, 4.0, 0.0]),
    ("recycling_routes[loop].capacity_t_feed_per_period", [0.0, 1.0, 4.0]),
])
def test_warm_sweep_equals_cold_solves(tmp_path, key, values):
    case = tiny_case(tmp_path)
    assert is_warm(key, read_case(case))
    sw = run_sweep(case, key, values, measure_speedup=False)
    assert sw.path == "warm" and sw.cold_solve_s is None and sw.speedup is None
    assert list(sw.frontier[key]) == values and list(sw.frontier.point) == list(range(1, len(values) + 1))
    for v, obj in zip(values, sw.frontier.objective_usd):
        cold = run_stochastic(read_case(case, {key: v}), with_evpi_vss=False).metrics["objective_kusd"] * 1000
        assert obj == pytest.approx(cold, rel=1e-7), (key, v)


def test_tighter_cap_never_lowers_cost_and_premium_is_relative_to_the_same_case_without_the_cap(tmp_path):
    sw = run_sweep(tiny_case(tmp_path), CAP, [1.0, 0.7, 0.5, 0.3], measure_speedup=False)
    f = sw.frontier
    cost = list(f.expected_cost_usd)
    assert all(b >= a - 1e-6 for a, b in zip(cost, cost[1:]))
    assert cost[-1] > cost[0] + 1.0  # the tightest cap binds
    assert sw.solves == 4  # the point at 1.0 is its own reference
    assert (f.expected_cost_without_cap_usd == f.expected_cost_usd.iloc[0]).all()
    assert f.diversification_premium_expected_cost_usd.iloc[0] == 0.0
    assert (f.diversification_premium_expected_cost_usd >= -1e-6).all()
    kg = f.magnets_delivered_t * 1000
    assert f.diversification_premium_expected_cost_usd_per_kg_magnet.iloc[-1] == pytest.approx(
        f.diversification_premium_expected_cost_usd.iloc[-1] / kg.iloc[-1])
    assert f.diversification_premium_expected_cost_usd_per_year.iloc[-1] == pytest.approx(
        f.diversification_premium_expected_cost_usd.iloc[-1] / (4 / 12))
    assert not any(c.startswith("expected_cost_change") for c in f.columns)  # a cap reports a premium only
    assert all(s == 0 for s in f["share_CN_frac"])  # no CN in this case: share reported as 0


def test_other_scalars_sweep_cold_and_report_the_change_not_a_premium(tmp_path):
    sw = run_sweep(tiny_case(tmp_path), "plant.conversion_cost_usd_per_kg", [0.0, 5.0], measure_speedup=False)
    assert sw.path == "cold"
    f = sw.frontier
    assert f.expected_cost_usd.iloc[1] > f.expected_cost_usd.iloc[0]
    assert f.expected_cost_change_vs_first_usd.iloc[1] == pytest.approx(f.expected_cost_usd.iloc[1] - f.expected_cost_usd.iloc[0])
    assert not any("premium" in c or "without_cap" in c for c in f.columns)


# --------------------------------------------------------------------------------------------
# hand-computed premium and cost change
# --------------------------------------------------------------------------------------------

CN_CAP = "diversification_limits[cn_cap].max_share_frac"


def two_offer_case(tmp_path: Path, limits=True) -> Path:
    """Two 12-month periods (calendar years 2027 and 2028), one element X; a stream of 10 t magnet per
    period whose recipe takes 0.5 t X per t: 5 t X per period. Offers of oxide `ox` (1 t X per t, lead 0,
    100 t per period): `cn` from country CN (origin group A) at 10 USD/kg and `bb` from country BB
    (origin group B) at 14 USD/kg. Shortage costs 100 USD/kg of magnet (200 USD/kg of X), never
    cheaper than buying; no stockpile, so X is bought exactly as used. With ``limits``: the swept cap
    `cn_cap` (country CN, sigma) and a kept cap `a_cap` (origin group A, 0.8), both on purchases; both
    cap the `cn` offer, so its share s of purchases is at most min(sigma, 0.8).

    Cost per period with share s from `cn`: 5 t x (10 s + 14 (1 - s)) USD/kg = 70 - 20 s kUSD.
    """
    raw = {
        "name": "two_offers",
        "horizon": {"start_month": "2027-01", "periods": 2, "months_per_period": 12},
        "elements": ["X"],
        "origin_groups": [{"id": "A"}, {"id": "B"}],
        "end_uses": ["civil"],
        "materials": [{"id": "ox", "kind": "oxide", "element_content_frac": {"X": 1.0}}],
        "offers": [
            {"id": "cn", "supplier": "SC", "country": "CN", "origin_group": "A", "material": "ox", "kind": "spot",
             "capacity_t_per_period": 100, "price_usd_per_kg": 10, "lead_time_periods": 0},
            {"id": "bb", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox", "kind": "spot",
             "capacity_t_per_period": 100, "price_usd_per_kg": 14, "lead_time_periods": 0},
        ],
        "grades": [{"id": "G", "recipes": [{"id": "G_r", "element_t_per_t_magnet": {"X": 0.5}}]}],
        "plant": {"capacity_t_per_period": 1000, "yield_frac": 1.0},
        "streams": [{"id": "s", "grade": "G", "end_use": "civil", "demand_t_per_period": 10,
                     "shortage_cost_usd_per_kg": 100}],
        "risk": {"non_anticipative_periods": 0},
    }
    if limits:
        raw["diversification_limits"] = [
            {"id": "cn_cap", "group_by": "country", "value": "CN", "max_share_frac": 1.0},
            {"id": "a_cap", "group_by": "origin_group", "value": "A", "max_share_frac": 0.8},
        ]
    p = tmp_path / "two_offers.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_premium_of_a_cap_by_hand(tmp_path):
    """Premium of `cn_cap` at sigma = 0.6 and 0.2, against the plan without `cn_cap` (`a_cap` kept).

    Without cn_cap: s = 0.8 (a_cap), 70 - 16 = 54 kUSD/period, 2 periods: C = 108,000 USD.
    sigma = 0.6: s = 0.6, 70 - 12 = 58 kUSD/period: C = 116,000 USD; premium 8,000 USD over the
      2-year horizon, 4,000 USD/yr; delivered 2 x 10 t = 20,000 kg: 0.4 USD/kg magnet.
    sigma = 0.2: s = 0.2, 70 - 4 = 66 kUSD/period: C = 132,000 USD; premium 24,000 USD, 12,000 USD/yr,
      1.2 USD/kg magnet.
    (Against the plan with every cap removed, s = 1, 100,000 USD, the old figure would be 16,000 and
    32,000 USD: it charged the cap with a_cap's cost too.) lambda = 0, so the objective premium is the
    same. Neither value is 1, so the plan without the cap is one extra solve.
    """
    case = two_offer_case(tmp_path)
    sw = run_sweep(case, CN_CAP, [0.6, 0.2], measure_speedup=False)
    f = sw.frontier
    assert sw.path == "warm" and sw.solves == 3
    assert list(f.expected_cost_usd) == pytest.approx([116_000, 132_000], rel=1e-9)
    assert list(f.expected_cost_without_cap_usd) == pytest.approx([108_000, 108_000], rel=1e-9)
    assert list(f.diversification_premium_expected_cost_usd) == pytest.approx([8_000, 24_000], rel=1e-9)
    assert list(f.diversification_premium_expected_cost_usd_per_year) == pytest.approx([4_000, 12_000], rel=1e-9)
    assert list(f.diversification_premium_expected_cost_usd_per_kg_magnet) == pytest.approx([0.4, 1.2], rel=1e-9)
    assert list(f.diversification_premium_objective_usd) == pytest.approx([8_000, 24_000], rel=1e-9)
    # "without the cap" is solved as sigma = 1: the same as deleting the limit, a_cap kept
    raw = yaml.safe_load(case.read_text())
    raw["diversification_limits"] = [d for d in raw["diversification_limits"] if d["id"] != "cn_cap"]
    deleted = run_stochastic(case_from_mapping(raw, case), with_evpi_vss=False).metrics["objective_kusd"] * 1000
    assert deleted == pytest.approx(108_000, rel=1e-9)
    (ref,) = sw.references.to_dict("records")
    assert ref["without_cap"] == "cn_cap" and ref["expected_cost_usd"] == pytest.approx(deleted, rel=1e-9)


def test_cost_change_of_a_capacity_sweep_by_hand(tmp_path):
    """Capacity of the cheap `cn` offer, 5, 3 and 1 t per period (no caps in this case).

    5 t: all 5 t X from cn, 50 kUSD/period: C = 100,000 USD (the first point).
    3 t: 3 t x 10 + 2 t x 14 = 58 kUSD/period: C = 116,000 USD, change +16,000 USD, +8,000 USD/yr,
      16,000 USD / 20,000 kg = +0.8 USD/kg magnet.
    1 t: 1 x 10 + 4 x 14 = 66 kUSD/period: C = 132,000 USD, change +32,000 USD, +16,000 USD/yr, +1.6 USD/kg.
    Not a cap: no premium, and the cold path (an offer capacity is not a warm key).
    """
    case = two_offer_case(tmp_path, limits=False)
    sw = run_sweep(case, "offers[cn].capacity_t_per_period", [5, 3, 1], measure_speedup=False)
    f = sw.frontier
    assert sw.path == "cold" and not sw.cap_keys and len(sw.references) == 0
    assert list(f.expected_cost_usd) == pytest.approx([100_000, 116_000, 132_000], rel=1e-9)
    assert list(f.expected_cost_change_vs_first_usd) == pytest.approx([0, 16_000, 32_000], abs=1e-6)
    assert list(f.expected_cost_change_vs_first_usd_per_year) == pytest.approx([0, 8_000, 16_000], abs=1e-6)
    assert list(f.expected_cost_change_vs_first_usd_per_kg_magnet) == pytest.approx([0, 0.8, 1.6], abs=1e-9)
    assert list(f.objective_change_vs_first_usd) == pytest.approx([0, 16_000, 32_000], abs=1e-6)
    assert not any("premium" in c for c in f.columns)


def test_grid_of_a_cap_and_a_price_by_hand(tmp_path):
    """Grid cn_cap in (1.0, 0.6) x price of `bb` in (14, 18) USD/kg, a_cap (0.8) kept. Cost per period
    with share s from cn: 5 (10 s + p (1 - s)) kUSD; s = min(sigma, 0.8).

    point 1 (1.0, 14): s = 0.8: 5 (8 + 2.8) = 54 kUSD/period: 108,000 USD
    point 2 (1.0, 18): s = 0.8: 5 (8 + 3.6) = 58: 116,000 USD
    point 3 (0.6, 14): s = 0.6: 5 (6 + 5.6) = 58: 116,000 USD
    point 4 (0.6, 18): s = 0.6: 5 (6 + 7.2) = 66: 132,000 USD
    Premium of cn_cap (the same price, cn_cap removed = points 1 and 2): 0, 0, 8,000, 16,000 USD.
    Change vs point 1 (the price is not a cap): 0, 8,000, 8,000, 24,000 USD. Four solves in all.
    """
    price = "offers[bb].price_usd_per_kg"
    sw = run_sweep(two_offer_case(tmp_path), [CN_CAP, price], [[1.0, 0.6], [14, 18]], measure_speedup=False)
    f = sw.frontier
    assert sw.path == "cold" and sw.solves == 4 and sw.keys == (CN_CAP, price)
    assert list(zip(f[CN_CAP], f[price])) == [(1.0, 14.0), (1.0, 18.0), (0.6, 14.0), (0.6, 18.0)]
    assert list(f.expected_cost_usd) == pytest.approx([108_000, 116_000, 116_000, 132_000], rel=1e-9)
    assert list(f.diversification_premium_expected_cost_usd) == pytest.approx([0, 0, 8_000, 16_000], abs=1e-6)
    assert list(f.expected_cost_without_cap_usd) == pytest.approx([108_000, 116_000, 108_000, 116_000], rel=1e-9)
    assert list(f.expected_cost_change_vs_first_usd) == pytest.approx([0, 8_000, 8_000, 24_000], abs=1e-6)
    assert list(f.expected_cost_change_vs_first_usd_per_year) == pytest.approx([0, 4_000, 4_000, 12_000], abs=1e-6)


def test_warm_grid_equals_cold_solves_and_objective_premium_is_never_negative(tmp_path):
    case = tiny_case(tmp_path)
    lam = "risk.risk_weight_lambda"
    sw = run_sweep(case, [CAP, lam], [[1.0, 0.5, 0.3], [0.0, 2.0]], measure_speedup=False)
    assert sw.path == "warm" and len(sw.frontier) == 6 and sw.solves == 6
    for v_cap, v_lam, obj in sw.frontier[[CAP, lam, "objective_usd"]].itertuples(index=False, name=None):
        cold = run_stochastic(read_case(case, {CAP: v_cap, lam: v_lam}), with_evpi_vss=False).metrics["objective_kusd"] * 1000
        assert obj == pytest.approx(cold, rel=1e-7)
    assert (sw.frontier.diversification_premium_objective_usd >= -1e-6).all()
    assert "expected_cost_change_vs_first_usd" in sw.frontier.columns


def test_two_caps_in_a_grid_get_one_premium_each(tmp_path):
    """Grid cn_cap x a_cap, each at (1.0, 0.6): s = min of the two. Premium of cn_cap at (0.6, 0.6):
    C(0.6, 0.6) - C(1.0, 0.6) = 0 (a_cap alone already holds s at 0.6); of a_cap: the same, 0. At
    (0.6, 1.0): premium of cn_cap 116,000 - 100,000 = 16,000 USD (s 1 -> 0.6), of a_cap 0."""
    a = "diversification_limits[a_cap].max_share_frac"
    sw = run_sweep(two_offer_case(tmp_path), [CN_CAP, a], [[1.0, 0.6], [1.0, 0.6]], measure_speedup=False)
    f = sw.frontier.set_index([CN_CAP, a])
    assert sw.solves == 4
    assert f.loc[(0.6, 1.0), "diversification_premium_expected_cost_usd[cn_cap]"] == pytest.approx(16_000, rel=1e-9)
    assert f.loc[(0.6, 1.0), "diversification_premium_expected_cost_usd[a_cap]"] == pytest.approx(0, abs=1e-6)
    assert f.loc[(0.6, 0.6), "diversification_premium_expected_cost_usd[cn_cap]"] == pytest.approx(0, abs=1e-6)
    assert f.loc[(1.0, 0.6), "diversification_premium_expected_cost_usd[a_cap]"] == pytest.approx(16_000, rel=1e-9)
    assert "expected_cost_change_vs_first_usd" not in f.columns


def test_speedup_line_says_faster_or_slower():
    from dataclasses import replace

    sw = SweepResult(case="c", keys=("k",), values=((1.0,),), path="warm", frontier=pd.DataFrame({"point": [1]}),
                     references=pd.DataFrame(), sweep_s=10.0, solves=4, cold_solve_s=2.0, share_of="CN", horizon_years=1)
    assert speedup_line(sw).endswith("0.80x: slower than cold solves")
    assert speedup_line(replace(sw, sweep_s=4.0)).endswith("2.00x: faster than cold solves")
    assert "--measure-speedup" in speedup_line(replace(sw, cold_solve_s=None))


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "solve.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_sweep_of_the_default_cn_cap(tmp_path):
    out = tmp_path / "sweep"
    p = cli("sweep", "inputs/base.yaml", "--set",
            "diversification_limits[crma_max_share_cn].max_share_frac=1.0,0.8,0.6,0.4", "--out", out, "--measure-speedup")
    assert p.returncode == 0, p.stderr
    f = (out / "frontier.csv").read_text().splitlines()
    assert len(f) == 5 and "diversification_premium_expected_cost_usd_per_kg_magnet" in f[0]
    for name in ("summary.md", "manifest.json", "cost_vs_cvar_shortage.png", "cost_vs_share.png",
                 "diversification_premium.csv", "report.html", "frontier.xlsx"):
        assert (out / name).is_file(), name
    df = pd.read_csv(out / "frontier.csv")
    assert (df.expected_cost_usd.diff().dropna() >= -1e-3).all()  # costs do not fall as the cap tightens
    page = (out / "report.html").read_text()
    assert '<section id="frontier">' in page and page.count("data:image/png;base64,") == 2 and "**" not in page.split("<section")[0]
    import openpyxl

    wb = openpyxl.load_workbook(out / "frontier.xlsx")
    assert wb.sheetnames == ["Frontier", "Premium", "Manifest"]
    assert list(wb["Frontier"].tables) == ["frontier"] and wb["Frontier"].max_row == 5
    lines = p.stdout.splitlines()
    points = [ln for ln in lines if ln.startswith("  [")]
    assert len(points) == 4 and all("diversification premium" in ln and "USD M/yr" in ln for ln in points)
    assert "faster than cold solves" in lines[-1] and "warm path" in lines[-1]


def test_cli_grid_quiet_and_console_lines(tmp_path):
    case = tiny_case(tmp_path)
    out = tmp_path / "grid"
    quota = "licence_rules[qa].quota_t_per_period"
    p = cli("sweep", case, "--set", f"{CAP}=1.0,0.5", "--set", f"{quota}=8,4", "--out", out, "--quiet")
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr
    df = pd.read_csv(out / "frontier.csv")
    assert list(df.columns[:3]) == ["point", CAP, quota] and len(df) == 4
    assert list(zip(df[CAP], df[quota])) == [(1.0, 8.0), (1.0, 4.0), (0.5, 8.0), (0.5, 4.0)]
    prem = pd.read_csv(out / "diversification_premium.csv")
    assert list(prem.cap) == ["cap_a"] * 4
    m = json.loads((out / "manifest.json").read_text())
    assert m["keys"] == [CAP, quota] and m["points"] == 4 and m["speedup_vs_cold"] is None
    p = cli("sweep", case, "--set", f"{quota}=8,4", "--out", tmp_path / "q")
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and lines[0].startswith(f"  [1/2] {quota} = 8: expected cost ")
    assert "cost change vs point 1 +0.000 USD M/yr" in lines[0] and "premium" not in p.stdout
    assert "--measure-speedup" in lines[-1]
    assert not (tmp_path / "q" / "diversification_premium.csv").exists()


def test_cli_sweep_bad_key_exit_2(tmp_path):
    p = cli("sweep", "inputs/base.yaml", "--set", "licence_rules[nope].quota_t_per_period=1,2", "--out", tmp_path / "x")
    assert p.returncode == 2 and p.stderr.startswith("input error: ") and "Traceback" not in p.stderr
    assert not (tmp_path / "x").exists()
    p = cli("sweep", "inputs/base.yaml", "--set", "risk.risk_weight_lambda=a,b")
    assert p.returncode == 2 and "expected finite numbers" in p.stderr
    p = cli("sweep", "inputs/base.yaml", "--set", "risk.risk_weight_lambda=0,1", "--set", "risk.risk_weight_lambda=2")
    assert p.returncode == 2 and "each key in at most one --set" in p.stderr and p.stdout == ""


def test_check_passes_then_fails_on_a_changed_input_then_update(tmp_path):
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    case = tmp_path / "inputs" / "base.yaml"
    base = json.loads((ROOT / "tests" / "baselines" / "base-deterministic.json").read_text())
    base["input"] = str(case)
    bl = tmp_path / "bl.json"
    bl.write_text(json.dumps(base))
    p = cli("check", bl)
    assert p.returncode == 0, p.stdout + p.stderr
    raw = yaml.safe_load(case.read_text())
    next(o for o in raw["offers"] if o["id"] == "lynas_ndpr_oxide_contract")["price_usd_per_kg"] = 70
    case.write_text(yaml.safe_dump(raw, sort_keys=False))
    p = cli("check", bl)
    assert p.returncode == 1
    assert "moved beyond rtol" in p.stdout and "objective_usd" in p.stdout
    p = cli("check", bl, "--update")
    assert p.returncode == 0 and "updated" in p.stdout
    assert cli("check", bl).returncode == 0


def test_compare_two_runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli("inputs/base.yaml", "--deterministic", "--out", a).returncode == 0
    assert cli("inputs/base.yaml", "--expected-value", "--out", b).returncode == 0
    out = tmp_path / "cmp"
    p = cli("compare", a, b, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "Cost bridge" in p.stdout and "objective_usd" in p.stdout
    df = pd.read_csv(out / "kpi_differences.csv")
    row = df[df.kpi == "objective_usd"].iloc[0]
    ka = json.loads((a / "kpis.json").read_text())["objective_usd"]
    kb = json.loads((b / "kpis.json").read_text())["objective_usd"]
    assert row.a == pytest.approx(ka) and row.b == pytest.approx(kb) and row.b_minus_a == pytest.approx(kb - ka)
    assert cli("compare", a, tmp_path / "nope").returncode == 2
    m = json.loads((out / "manifest.json").read_text())
    assert [f["path"].endswith("kpis.json") for f in m["input_files"]] == [True, True]


def test_every_output_directory_has_a_manifest(tmp_path):
    out = tmp_path / "sw"
    assert cli("sweep", str(tiny_case(tmp_path)), "--set", f"{CAP}=1.0,0.5", "--out", out, "--quiet").returncode == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["input_files"] and m["solver"]["options"]["path"] == "persistent" and m["command_line"][1] == "sweep"
    assert len(m["timings_s"]["per_point_s"]) == 2 and m["packages"]["pyomo"]
