"""Resource limits that hold (``model.solve.budget``): a case too large for the machine is refused before
it is built, and ``--time-limit`` bounds the whole run, phase by phase, saying what it cut.

Every run goes through the command line in-process (``solve.main``); the clock is made to jump with a
patched ``budget.now`` where a test needs the deadline to pass at a precise point.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import solve
from model.solve import budget

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
SAMPLED = ROOT / "inputs" / "sampled.yaml"


def sampled_with(tmp_path: Path, count: int) -> Path:
    f = tmp_path / f"sampled-{count}.yaml"
    f.write_text(f"extends: {SAMPLED}\nname: sampled-{count}\nscenarios:\n  count: {count}\n")
    return f


def one_line(err: str, prefix: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err
    return lines[0]


def jump_after_first_highs_run(monkeypatch, stop_main_solve: bool = False, jump_s: float = 1e6):
    """From the first HiGHS run on, the run clock reads ``jump_s`` later (the deadline has passed);
    ``stop_main_solve``: that first run (the main solve) also stops at once at HiGHS's time limit."""
    import highspy

    offset, runs = [0.0], [0]
    real_run = highspy.Highs.run

    def run(self):
        runs[0] += 1
        if runs[0] == 1 and stop_main_solve:
            self.setOptionValue("time_limit", 0.0)
        r = real_run(self)
        offset[0] = jump_s
        return r

    monkeypatch.setattr(budget, "now", lambda: time.monotonic() + offset[0])
    monkeypatch.setattr(highspy.Highs, "run", run)
    return offset


def test_the_schema_maximum_sample_is_refused_at_once(tmp_path, capsys):
    case = sampled_with(tmp_path, 100_000)
    t0 = time.perf_counter()
    rc = solve.main([str(case), "--time-limit", "20", "--out", str(tmp_path / "out")])
    took = time.perf_counter() - t0
    assert rc == 2
    assert took < 15, took  # about 2 s: one scenario model is built, none generated
    line = one_line(capsys.readouterr().err, "input error: ")
    assert f"{case}: scenarios.count = 100000: expected at most " in line, line
    assert re.search(r"estimated [\d,]+ columns, [\d,.]+ GB of memory; [\d,.]+ GB available", line), line
    assert not (tmp_path / "out").exists()


def test_memory_override_refuses_the_sampled_case_and_says_what_fits(tmp_path, monkeypatch, capsys):
    from model.input.io import read_case

    avail = 1_000_000_000
    monkeypatch.setenv(budget.MEMORY_ENV, str(avail))
    rc = solve.main([str(SAMPLED), "--out", str(tmp_path / "out")])
    assert rc == 2
    line = one_line(capsys.readouterr().err, "input error: ")
    assert "scenarios.count = 200: expected at most " in line, line
    n = int(re.search(r"at most ([\d,]+) scenarios", line).group(1).replace(",", ""))
    est = budget.estimate(read_case(SAMPLED))
    assert est.scenarios == 200 and f"{est.columns:,} columns" in line
    limit = budget.MEMORY_SHARE * avail
    assert est.for_scenarios(n).memory_bytes <= limit < est.for_scenarios(n + 1).memory_bytes
    assert not (tmp_path / "out").exists()
    # and that many do fit: the same case cut to n scenarios passes the check (sized, not solved)
    budget.check_fits(read_case(sampled_with(tmp_path, n)), "x.yaml")


def test_a_deadline_passing_while_building_fails_cleanly(tmp_path, monkeypatch, capsys):
    """The clock jumps past the deadline once 5 scenarios are built (each scenario's structure is read,
    ``stamp.evaluate``, as it is built or stamped into the extensive form, ``model.stochastic.ef_arrays``)."""
    from model.stochastic import stamp

    offset, built = [0.0], [0]
    real_evaluate = stamp.evaluate

    def evaluate(*a, **k):
        built[0] += 1
        if built[0] == 5:
            offset[0] = 1e6
        return real_evaluate(*a, **k)

    monkeypatch.setattr(budget, "now", lambda: time.monotonic() + offset[0])
    monkeypatch.setattr(stamp, "evaluate", evaluate)
    rc = solve.main([str(SAMPLED), "--engine", "ef", "--time-limit", "60", "--out", str(tmp_path / "out")])
    assert rc == 3
    line = one_line(capsys.readouterr().err, "solve failed: ")
    assert line == "solve failed: time limit of 60 s reached while building the extensive form " \
                   "(5 of 200 scenarios built); no plan", line
    assert not (tmp_path / "out").exists()


def test_a_tiny_limit_fails_before_the_main_solve(tmp_path, capsys):
    rc = solve.main([str(SAMPLED), "--engine", "ef", "--time-limit", "0.3", "--out", str(tmp_path / "out")])
    assert rc == 3
    line = one_line(capsys.readouterr().err, "solve failed: ")
    assert re.search(r"time limit of 0\.3 s reached while (generating the scenarios|building the extensive form) "
                     r"\(.*\); no plan$", line), line
    assert not (tmp_path / "out").exists()


def test_a_deadline_passing_after_the_main_solve_skips_and_says_so(tmp_path, monkeypatch, capsys):
    """The plan is proven optimal (exit 0); the canonical stage, the one-sided marginal values and
    EVPI/VSS are skipped, and kpis.json says so instead of reporting them."""
    jump_after_first_highs_run(monkeypatch)
    out = tmp_path / "out"
    rc = solve.main([str(BASE), "--time-limit", "1000", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0, err
    k = json.loads((out / "kpis.json").read_text())
    assert k["proven_optimal"] is True and k["solver"]["termination"] == "optimal"
    can = k["solver"]["canonical"]
    assert can["applied"] is False and can["skipped"] is True
    assert "time limit of 1000 s reached" in can["note"] and "not the canonical plan" in can["note"]
    assert k["evpi_usd"] is None and k["vss_usd"] is None
    assert "not computed: time limit of 1000 s reached before the wait-and-see solves" in k["evpi_note"]
    assert "not computed: time limit of 1000 s reached before the expected-value solves" in k["vss_note"]


def test_nothing_skipped_keeps_the_kpis_as_they_were(default_run):
    k = default_run().solution.kpis
    assert "canonical" not in k["solver"] and "evpi_note" not in k
    assert k["evpi_usd"] is not None and k["vss_usd"] is not None and k["vss_note"] is None


def test_a_stopped_main_solve_falls_back_within_the_budget(tmp_path, monkeypatch, capsys):
    """The extensive form stops at the limit with time left: the fallback plan, bound and gap, as before."""
    jump_after_first_highs_run(monkeypatch, stop_main_solve=True, jump_s=0.0)
    out = tmp_path / "out"
    rc = solve.main([str(BASE), "--time-limit", "1000", "--out", str(out), "--no-evpi-vss", "--quiet"])
    assert rc == 3
    k = json.loads((out / "kpis.json").read_text())
    assert k["proven_optimal"] is False and k["solver"]["termination"] == "time_limit"
    assert k["best_bound_usd"] <= k["objective_usd"]
    assert "NOT PROVEN OPTIMAL" in capsys.readouterr().err


def test_a_stopped_main_solve_with_no_time_left_ends_at_once(tmp_path, monkeypatch, capsys):
    jump_after_first_highs_run(monkeypatch, stop_main_solve=True)
    t0 = time.perf_counter()
    rc = solve.main([str(BASE), "--time-limit", "1000", "--out", str(tmp_path / "out")])
    assert rc == 3 and time.perf_counter() - t0 < 30
    line = one_line(capsys.readouterr().err, "solve failed: ")
    assert "time limit of 1000 s reached before the fallback plan could start" in line, line
    assert "the extensive form stopped at the limit" in line and "no plan" in line
    assert not (tmp_path / "out").exists()


def test_the_whole_run_stays_within_the_limit(tmp_path, capsys):
    """A bound, not a benchmark: limit + report writing (loosely)."""
    t0 = time.perf_counter()
    rc = solve.main([str(SAMPLED), "--engine", "ef", "--time-limit", "5", "--out", str(tmp_path / "out")])
    took = time.perf_counter() - t0
    assert rc in (0, 3), capsys.readouterr().err
    assert took < 5 + 30, took


def test_estimate_of_the_default_case_is_within_2x_of_the_built_extensive_form():
    import pyomo.environ as pyo

    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.stochastic.extensive import build_extensive_form

    data = read_case(BASE)
    est = budget.estimate(data)
    ef = build_extensive_form(scenario_cases(data))
    cols = sum(1 for _ in ef.model.component_data_objects(pyo.Var))
    assert est.scenarios == len(ef.scenarios) == 12
    assert 0.5 <= est.columns / cols <= 2.0, (est.columns, cols)


def test_scenario_counts_come_from_the_definition():
    from model.input.io import read_case

    assert budget.scenario_count(read_case(BASE).case) == 12  # product of 4 x 3 options
    assert budget.scenario_count(read_case(SAMPLED).case) == 200


def test_available_memory_override_and_fallbacks(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_ENV, "12345")
    assert budget.available_memory() == (12345, budget.MEMORY_ENV)
    monkeypatch.delenv(budget.MEMORY_ENV)
    b, where = budget.available_memory()
    assert b is None or (b > 0 and where in ("MemAvailable", "physical memory"))


def test_a_stopped_plan_within_gap_exits_0(tmp_path, monkeypatch, capsys):
    """The tiny stochastic case whose main solve stops at the limit: exit 3 at --gap 0, exit 0 with a
    --gap at least its gap (the fallback plan, bound and gap reported either way)."""
    valid = ROOT / "tests" / "bad_inputs" / "valid" / "case.yaml"
    jump_after_first_highs_run(monkeypatch, stop_main_solve=True, jump_s=0.0)
    rc = solve.main([str(valid), "--time-limit", "1000", "--out", str(tmp_path / "a"), "--no-evpi-vss", "--quiet"])
    err = capsys.readouterr().err
    k = json.loads((tmp_path / "a" / "kpis.json").read_text())
    assert k["proven_optimal"] is False, k["solver"]
    assert (rc == 3 and "above --gap 0" in err) or (rc == 0 and k["gap_frac"] == 0), (rc, err)
    jump_after_first_highs_run(monkeypatch, stop_main_solve=True, jump_s=0.0)
    rc = solve.main([str(valid), "--time-limit", "1000", "--out", str(tmp_path / "b"), "--no-evpi-vss", "--quiet",
                     "--gap", "1"])
    assert rc == 0 and "within --gap 1" in capsys.readouterr().err
