"""The command line as a user meets it: outputs, exit codes, one-line errors, nothing half-written."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest
import yaml

from model.errors import SolveError
from model.solve.highs import solve

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["purchases", "reservations", "arrivals", "production", "eligibility_use", "magnet_purchases", "stock",
          "stock_by_element", "recycling", "expansions", "recovered", "shortages", "marginal_values", "costs"]


def run_cli(*args, cwd=ROOT, env=None):
    import os

    return subprocess.run([sys.executable, str(ROOT / "solve.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env=None if env is None else {**os.environ, **env})


STOCHASTIC_TABLES = TABLES + ["scenarios", "stream_risk", "marginal_values_expected"]


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    """The stochastic plan of the reference case (inputs/base.yaml), as the README's main job makes it for the default case."""
    out = tmp_path_factory.mktemp("r") / "base"
    p = run_cli("inputs/base.yaml", "--out", out)
    assert p.returncode == 0, p.stderr
    return out, p


@pytest.fixture(scope="module")
def deterministic_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("d") / "base"
    p = run_cli("inputs/base.yaml", "--deterministic", "--out", out)
    assert p.returncode == 0, p.stderr
    return out, p


def test_default_run_is_stochastic_and_writes_every_file(default_report):
    out, p = default_report
    for name in STOCHASTIC_TABLES:
        assert (out / f"{name}.csv").is_file(), name
    for name in ("kpis.json", "summary.md", "manifest.json"):
        assert (out / name).is_file(), name
    k = json.loads((out / "kpis.json").read_text())
    assert k["mode"] == "stochastic" and k["scenario_count"] == 12
    assert k["solver"]["termination"] == "optimal"
    for key in ("expected_cost_usd", "cvar_cost_usd", "evpi_usd", "vss_usd", "first_stage_cost_usd", "streams",
                "expected_supply_share_by_origin_group", "expected_recycled_share", "scenarios", "model_size"):
        assert k[key] is not None, key
    for s in k["streams"].values():
        assert set(s) >= {"expected_shortage_t", "expected_fill_rate", "probability_any_shortage", "cvar_shortage_t"}
    assert k["evpi_usd"] >= -1e-6 and k["vss_usd"] >= -1e-6
    assert k["objective_usd"] == pytest.approx(k["expected_cost_usd"])  # lambda = 0 in the default case
    assert set(k["run"]) == {"timings_s", "packages"}
    assert "stochastic plan over 12 scenarios" in p.stdout
    summary = (out / "summary.md").read_text()
    for heading in ("## Headline", "## Decide now", "## Scenarios", "## Where the elements come from",
                    "## Binding constraints"):
        assert heading in summary, heading
    scen = (out / "scenarios.csv").read_text().splitlines()
    assert len(scen) == 13 and scen[0].startswith("scenario,probability,total_cost_usd")


def test_first_stage_identical_across_scenarios_in_report(default_report):
    import pandas as pd

    r = pd.read_csv(default_report[0] / "reservations.csv")
    per = r.pivot_table(index=["offer", "period"], columns="scenario", values="reserved_t")
    assert (per.max(axis=1) - per.min(axis=1)).abs().max() < 1e-6


def test_deterministic_run_writes_every_file(deterministic_report):
    out, p = deterministic_report
    for name in TABLES:
        assert (out / f"{name}.csv").is_file(), name
    k = json.loads((out / "kpis.json").read_text())
    assert k["mode"] == "deterministic"
    for key in ("cost_parts_usd", "streams", "supply_share_by_origin_group", "supply_share_by_country",
                "recycled_share", "total_cost_usd_per_kg_magnet", "model_size", "input_hash"):
        assert key in k, key
    assert sum(k["cost_parts_usd"].values()) == pytest.approx(k["objective_usd"], rel=1e-9)


def test_scenario_and_expected_value_modes(tmp_path):
    p = run_cli("inputs/base.yaml", "--scenario", "relaxation+no_outage", "--out", tmp_path / "pf")
    assert p.returncode == 0, p.stderr
    k = json.loads((tmp_path / "pf" / "kpis.json").read_text())
    assert k["mode"] == "perfect_foresight" and k["scenario"] == "relaxation+no_outage"
    p = run_cli("inputs/base.yaml", "--expected-value", "--out", tmp_path / "ev")
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "ev" / "kpis.json").read_text())["mode"] == "expected_value"
    p = run_cli("inputs/base.yaml", "--scenario", "nope", "--out", tmp_path / "x")
    assert p.returncode == 2 and "--scenario = 'nope'" in p.stderr and not (tmp_path / "x").exists()


def test_manifest_names_inputs_and_versions(default_report):
    m = json.loads((default_report[0] / "manifest.json").read_text())
    paths = {f["path"] for f in m["input_files"]}
    assert "base.yaml" in paths and any(p.endswith(".csv") for p in paths)
    assert m["packages"]["pyomo"] and m["packages"]["highspy"]
    assert m["solver"]["options"]["path"] == "stdform"


def test_two_runs_identical_kpis_apart_from_timings(default_report, tmp_path):
    """Determinism of the default (stochastic) run: every KPI and every CSV byte-identical, even when
    Python's string hashing (and so set iteration order) differs between the two processes."""
    out2 = tmp_path / "again"
    p = run_cli("inputs/base.yaml", "--out", out2, env={"PYTHONHASHSEED": "20261122"})
    assert p.returncode == 0, p.stderr
    k1 = json.loads((default_report[0] / "kpis.json").read_text())
    k2 = json.loads((out2 / "kpis.json").read_text())
    k1.pop("run"), k2.pop("run")
    assert k1 == k2
    for name in STOCHASTIC_TABLES:
        assert (default_report[0] / f"{name}.csv").read_bytes() == (out2 / f"{name}.csv").read_bytes(), name


def _copy_case(tmp_path) -> Path:
    shutil.copytree(ROOT / "inputs", tmp_path / "inputs")
    return tmp_path / "inputs" / "base.yaml"


def _edit(path: Path, fn) -> None:
    raw = yaml.safe_load(path.read_text())
    fn(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.mark.parametrize(
    "mutate, field, expected",
    [
        (lambda r: r["offers"][0].update(price_usd_per_kg=-5), "price_usd_per_kg", "greater than or equal to 0"),
        (lambda r: r["offers"][0].update(material="unobtainium"), "material", "known material"),
        (lambda r: r["streams"][0].update(grade="ZZ"), "grade", "known grade"),
        (lambda r: r["plant"].update(yield_frac=0), "yield_frac", "greater than 0"),
        (lambda r: r["offers"][0].update(colour="red"), "colour", "unknown key"),
        (lambda r: r["licence_rules"][0].update(valid_from="2031-01"), "valid_from", "inside the horizon"),
        (lambda r: r["licence_rules"][0].update(origin_groups=["XX"]), "origin_groups", "known origin group"),
    ],
    ids=["negative-price", "unknown-material", "unknown-grade", "zero-yield", "unknown-key", "date-outside", "unknown-origin"],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, mutate, field, expected):
    case = _copy_case(tmp_path)
    _edit(case, mutate)
    out = tmp_path / "out"
    p = run_cli(case, "--out", out)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines and all(line.startswith("input error: ") for line in lines), p.stderr
    assert "Traceback" not in p.stderr
    assert any(str(case) in line and field in line and expected in line for line in lines), p.stderr
    assert not out.exists()


def test_bad_csv_value_names_file_row_and_column(tmp_path):
    case = _copy_case(tmp_path)
    demand = tmp_path / "inputs" / "base" / "demand.csv"
    lines = demand.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line and not line.startswith("#") and not line.startswith("period"))
    cells = lines[i].split(",")
    cells[1] = "nan"
    lines[i] = ",".join(cells)
    demand.write_text("\n".join(lines) + "\n")
    p = run_cli(case, "--out", tmp_path / "out")
    assert p.returncode == 2
    assert "demand.csv" in p.stderr and "nan" in p.stderr and "finite number" in p.stderr
    assert not (tmp_path / "out").exists()


def test_missing_input_file_exit_2(tmp_path):
    p = run_cli(tmp_path / "nope.yaml", "--out", tmp_path / "out")
    assert p.returncode == 2
    assert "nope.yaml" in p.stderr and "an existing file" in p.stderr


def test_failed_run_keeps_previous_report(tmp_path, default_report):
    out = tmp_path / "keep"
    shutil.copytree(default_report[0], out)
    before = (out / "kpis.json").read_bytes()
    case = _copy_case(tmp_path)
    _edit(case, lambda r: r["plant"].update(yield_frac=2))
    p = run_cli(case, "--out", out)
    assert p.returncode == 2
    assert (out / "kpis.json").read_bytes() == before


def test_solver_failure_raises_clear_error():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x >= 2)
    m.o = pyo.Objective(expr=m.x)
    with pytest.raises(SolveError, match="Infeasible"):
        solve(m)


def test_time_limit_hit_deterministic_exits_3_and_writes_nothing(tmp_path):
    p = run_cli("inputs/base.yaml", "--deterministic", "--out", tmp_path / "out", "--time-limit", "0")
    assert p.returncode == 3, p.stdout + p.stderr
    assert "time limit" in p.stderr.lower()
    assert not (tmp_path / "out").exists()


def test_time_limit_zero_stochastic_stops_before_any_plan(tmp_path):
    """--time-limit bounds the whole run: 0 s leaves no time to build, so there is no plan to report
    (exit 3, one line, nothing written). A main solve stopped by the limit with time left still
    reports its best plan, bound and gap: tests/test_limits.py."""
    out = tmp_path / "out"
    p = run_cli("inputs/base.yaml", "--out", out, "--time-limit", "0", "--no-evpi-vss")
    assert p.returncode == 3, p.stdout + p.stderr
    (line,) = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert line.startswith("solve failed: time limit of 0 s reached") and "no plan" in line, line
    assert not out.exists()


def test_failed_audit_exits_4_and_marks_the_report(tmp_path, monkeypatch, capsys):
    """The audit is independent of the solve: make it fail and the run must say so and exit 4."""
    import solve
    from model.results import audit

    real = audit.audit_run

    def failing(run):
        rep = real(run)
        bad = audit.AuditCheck("element_balance", False, 1.0, 1e-6, "t", "X of origin A, 2027-01: off by 1 t")
        return audit.AuditReport(False, rep.checks + (bad,))

    monkeypatch.setattr(audit, "audit_run", failing)
    out = tmp_path / "out"
    assert solve.main(["inputs/base.yaml", "--deterministic", "--out", str(out)]) == 4
    err = capsys.readouterr().err
    assert "audit failed: element_balance: X of origin A, 2027-01: off by 1 t" in err
    k = json.loads((out / "kpis.json").read_text())
    assert k["audit"]["passed"] is False
    assert "Independent audit: FAIL" in (out / "summary.md").read_text()


def test_default_run_reports_audit_pass(default_report):
    k = json.loads((default_report[0] / "kpis.json").read_text())
    assert k["audit"]["passed"] is True and len(k["audit"]["checks"]) >= 20
    assert "audit: pass" in default_report[1].stdout


def test_warnings_are_printed_with_the_run_and_not_with_quiet(tmp_path, capsys):
    """An input a planner may mean (initial stock below its floor) solves, with one `warning:` line."""
    import solve as cli

    case = tmp_path / "case"
    shutil.copytree(ROOT / "tests" / "bad_inputs" / "valid", case)
    text = (case / "case.yaml").read_text()
    assert "    B: 0.5\n" in text
    (case / "case.yaml").write_text(text.replace("    B: 0.5\n", "    B: 0.1\n"))
    assert cli.main([str(case / "case.yaml"), "--out", str(tmp_path / "out"), "--no-evpi-vss"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [ln for ln in err if ln.startswith("warning: ")] == [
        f"warning: {case / 'case.yaml'}: stockpile[Y].initial_t_by_origin = 0.1: below the strategic floor of 0.2 t "
        "of Y: the run starts under it (the shortfall is penalised from period 1)"]
    assert cli.main([str(case / "case.yaml"), "--out", str(tmp_path / "out"), "--no-evpi-vss", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
