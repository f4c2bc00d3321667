"""The mpi-sppy scenario_creator builds the same scenario models as our extensive form."""

import pytest

mpisppy = pytest.importorskip("mpisppy", reason="mpi-sppy not installed (pip install -e '.[test]')")

from mpisppy.utils import sputils  # noqa: E402

from model.input.io import read_case  # noqa: E402
from model.stochastic.mpisppy_adapter import scenario_creator, scenario_names_creator  # noqa: E402
from model.input.scenarios import scenario_cases  # noqa: E402
from model.solve.highs import solve  # noqa: E402
from model.stochastic.extensive import run_stochastic  # noqa: E402
from tests.tiny import base_case, make  # noqa: E402


def _two_scenario_cases():
    raw = base_case(3)
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["offers"].append({"id": "b_c", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 100, "price_usd_per_kg": 12,
                          "reservation_fee_usd_per_kg": 1})
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.5},
        {"name": "embargo", "probability": 0.5, "effects": [
            {"kind": "availability", "select": {"origin_groups": ["A"]}, "factor": 0, "start": "2027-02"}]}]}
    data = make(raw)
    return data, scenario_cases(data)


def test_scenario_model_carries_probability_and_root_node():
    data, cases = _two_scenario_cases()
    m = scenario_creator("embargo", cases=cases)
    assert m._mpisppy_probability == 0.5
    node = m._mpisppy_node_list[0]
    assert node.name == "ROOT"
    # 3 reservations + period-1 decisions; every entry is a first-stage variable of this model
    assert len(node.nonant_vardata_list) > 3
    assert all(v.model() is m for v in node.nonant_vardata_list)


def test_mpisppy_extensive_form_matches_ours_on_a_tiny_case():
    data, cases = _two_scenario_cases()
    names = scenario_names_creator(cases=cases)
    assert names == ["calm", "embargo"]
    ef = sputils.create_EF(names, scenario_creator, scenario_creator_kwargs={"cases": cases})
    assert solve(ef).objective_kusd == pytest.approx(170.0, rel=1e-9)
    assert run_stochastic(data, with_evpi_vss=False).metrics["objective_kusd"] == pytest.approx(170.0, rel=1e-9)


def test_mpisppy_extensive_form_matches_ours_on_the_default_case():
    names = scenario_names_creator(case_path="inputs/base.yaml")
    assert len(names) == 12
    ef = sputils.create_EF(names, scenario_creator, scenario_creator_kwargs={"case_path": "inputs/base.yaml"})
    ours = run_stochastic(read_case("inputs/base.yaml"), with_evpi_vss=False).metrics["objective_kusd"]
    assert solve(ef).objective_kusd == pytest.approx(ours, rel=1e-9)
