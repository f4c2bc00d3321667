"""Sweeps (warm re-solve equals cold solve; frontier monotone), compare and check subcommands."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from model.input.io import read_case
from model.stochastic.extensive import run_stochastic
from model.app.sweep import is_warm, run_sweep

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
    sw = run_sweep(case, key, values)
    assert sw.path == "warm"
    for v, obj in zip(values, sw.frontier.objective_usd):
        cold = run_stochastic(read_case(case, {key: v}), with_evpi_vss=False).metrics["objective_kusd"] * 1000
        assert obj == pytest.approx(cold, rel=1e-7), (key, v)


def test_tighter_cap_never_lowers_cost_and_premium_is_relative_to_no_limit(tmp_path):
    sw = run_sweep(tiny_case(tmp_path), CAP, [1.0, 0.7, 0.5, 0.3])
    cost = list(sw.frontier.expected_cost_usd)
    assert all(b >= a - 1e-6 for a, b in zip(cost, cost[1:]))
    assert cost[-1] > cost[0] + 1.0  # the tightest cap binds
    assert sw.frontier.diversification_premium_usd.iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert (sw.frontier.diversification_premium_usd >= -1e-6).all()
    kg = sw.frontier.magnets_delivered_t * 1000
    assert sw.frontier.diversification_premium_usd_per_kg_magnet.iloc[-1] == pytest.approx(
        sw.frontier.diversification_premium_usd.iloc[-1] / kg.iloc[-1])
    assert sw.frontier.diversification_premium_usd_per_year.iloc[-1] == pytest.approx(
        sw.frontier.diversification_premium_usd.iloc[-1] / (4 / 12))
    shares = list(sw.frontier["share_CN_frac"])  # no CN in this case: share reported as 0
    assert all(s == 0 for s in shares)


def test_other_scalars_sweep_cold(tmp_path):
    sw = run_sweep(tiny_case(tmp_path), "plant.conversion_cost_usd_per_kg", [0.0, 5.0])
    assert sw.path == "cold"
    assert sw.frontier.expected_cost_usd.iloc[1] > sw.frontier.expected_cost_usd.iloc[0]


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "solve.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_cli_sweep_of_the_default_cn_cap(tmp_path):
    out = tmp_path / "sweep"
    p = cli("sweep", "inputs/base.yaml", "--set",
            "diversification_limits[crma_max_share_cn].max_share_frac=1.0,0.8,0.6,0.4", "--out", out)
    assert p.returncode == 0, p.stderr
    f = (out / "frontier.csv").read_text().splitlines()
    assert len(f) == 5 and "diversification_premium_usd_per_kg_magnet" in f[0]
    for name in ("summary.md", "manifest.json", "cost_vs_cvar_shortage.png", "cost_vs_share.png",
                 "diversification_premium.csv"):
        assert (out / name).is_file(), name
    import pandas as pd

    df = pd.read_csv(out / "frontier.csv")
    assert (df.expected_cost_usd.diff().dropna() >= -1e-3).all()  # costs do not fall as the cap tightens
    assert "faster" in p.stdout.splitlines()[-1] and "warm path" in p.stdout


def test_cli_sweep_bad_key_exit_2(tmp_path):
    p = cli("sweep", "inputs/base.yaml", "--set", "licence_rules[nope].quota_t_per_period=1,2", "--out", tmp_path / "x")
    assert p.returncode == 2 and p.stderr.startswith("input error: ") and "Traceback" not in p.stderr
    assert not (tmp_path / "x").exists()
    p = cli("sweep", "inputs/base.yaml", "--set", "risk.risk_weight_lambda=a,b")
    assert p.returncode == 2 and "expected finite numbers" in p.stderr


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
    assert "KPIs differ" in p.stdout and "objective_usd" in p.stdout
    import pandas as pd

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
    assert cli("sweep", str(tiny_case(tmp_path)), "--set", f"{CAP}=1.0,0.5", "--out", out).returncode == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["input_files"] and m["solver"]["options"]["path"] == "persistent" and m["command_line"][1] == "sweep"
    assert len(m["timings_s"]["per_point_s"]) == 2 and m["packages"]["pyomo"]
