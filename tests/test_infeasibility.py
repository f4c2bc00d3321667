"""Conflicting hard inputs: the run names them in input terms (from HiGHS's IIS) and exits 3."""

import copy

import pytest
import yaml

import solve
from model.errors import SolveError
from model.app.run import run_data, run_stochastic_data
from tests.tiny import base_case, make


def committed_overbuy() -> dict:
    """A signed contract forces 20 t/period of X at full take, the plant needs 5 t and nothing can be stored."""
    raw = base_case(periods=2)
    raw["offers"].append({"id": "b", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 50, "price_usd_per_kg": 12,
                          "min_take_frac": 1.0, "committed_t_per_period": 20})
    return raw


def test_min_take_and_commitment_conflict_named_in_input_terms():
    with pytest.raises(SolveError) as e:
        run_data(make(committed_overbuy()))
    text = "\n".join(e.value.conflicts)
    period = "2027-01" if "minimum take of offer b in 2027-01" in text else "2027-02"
    assert f"minimum take of offer b in {period} (offers[b].min_take_frac)" in text
    assert f"committed reservation of offer b in {period} (offers[b].committed_t_per_period)" in text
    assert f"balance of element X of origin B in {period}" in text
    other = "2027-02" if period == "2027-01" else "2027-01"
    assert other not in text  # irreducible: one period's conflict suffices


def test_hard_floor_conflicts_with_supply_capacity():
    raw = base_case(periods=2)
    raw["offers"][0]["capacity_t_per_period"] = 8  # 8 t/period; demand needs 5 t
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "floor_t": 10, "floor_hard": True}]
    with pytest.raises(SolveError) as e:
        run_data(make(raw))
    text = "\n".join(e.value.conflicts)
    assert "hard strategic floor of element X at the end of 2027-01 (stockpile[X].floor_hard)" in text
    assert "capacity of spot offer a_spot in 2027-01" in text
    assert len(e.value.conflicts) <= 7
    # the cause, in words: no initial stock, a floor of 10 t from the first period
    assert e.value.conflicts[-1] == (
        "cause: the initial stock of X (0 t) is below its hard floor (10 t), and the floor cannot be reached by the "
        "end of 2027-01: lower the floor, set stockpile[X].floor_hard: false (a priced floor) or raise "
        "stockpile[X].initial_t_by_origin")


def test_hard_floor_met_by_initial_stock_names_no_cause():
    """A committed over-buy with a hard floor the initial stock already meets (12 t >= 10 t): the
    conflict is the commitment, and no initial-stock cause is claimed."""
    raw = committed_overbuy()
    raw["stockpile"] = [{"element": "X", "capacity_t": 13, "floor_t": 10, "floor_hard": True,
                         "initial_t_by_origin": {"A": 12}}]
    with pytest.raises(SolveError) as e:
        run_data(make(raw))
    assert e.value.conflicts
    assert not [c for c in e.value.conflicts if c.startswith("cause:")], e.value.conflicts


def test_hard_service_level_conflicts_with_licence_quota():
    raw = base_case(periods=1)
    raw["licence_rules"] = [{"id": "q", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 3}]
    raw["streams"][0]["min_service_frac"] = 0.9
    with pytest.raises(SolveError) as e:
        run_data(make(raw))
    text = "\n".join(e.value.conflicts)
    assert "hard service level of stream s in 2027-01 (streams[s].min_service_frac)" in text
    assert "licence quota of rule q in 2027-01" in text


def test_conflict_in_one_scenario_names_the_scenario():
    raw = base_case(periods=3)
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["streams"][0]["min_service_frac"] = 1.0
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.5},
        {"name": "embargo", "probability": 0.5, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["A"]}, "factor": 0, "start": "2027-02"}]}]}
    with pytest.raises(SolveError) as e:
        run_stochastic_data(make(raw), evpi_vss=False)
    text = "\n".join(e.value.conflicts)
    assert "[scenario embargo]" in text and "hard service level of stream s" in text
    assert "[scenario calm]" not in text


def test_cli_prints_conflicts_and_exits_3(tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(copy.deepcopy(committed_overbuy())))
    out = tmp_path / "out"
    assert solve.main([str(case), "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "solve failed: solver status 'Infeasible'" in err
    assert "  conflict: minimum take of offer b in 2027-0" in err
    assert not out.exists()
