"""Stamping (``model/stochastic/stamp.py``): a stamped scenario is the LP Pyomo builds and compiles.

Each shipped case's scenarios, grouped by structure, are stamped from their group's first scenario and
compared entry by entry with their own Pyomo build (``check_stamp``: columns and rows by name, c, A,
row and column bounds, objective constant, to 1e-12 relative). Scenarios whose every data series is
perturbed check every declaration (each one, left out, makes a difference that ``check_stamp`` finds).
Benders gives the same plan with and without stamping, and refuses to stamp a group whose check fails.

Glossary
--------
perturbed(d, n)   ``d`` and n copies of it with every per-scenario series scaled by factors in [0.5, 1.5]
                  (zeros stay zero, so the structure is ``d``'s)
contract_case()   a tiny 6-period case with a contract with terms (band, take-or-pay) and a hard service
                  level: the declarations the shipped cases do not exercise
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model.components import balance, demand, licences, production, recycling, sourcing, stockpile
from model.input.io import read_case
from model.input.scenarios import scenario_cases
from model.solve.highs import SolverOptions
from model.stochastic import stamp
from model.stochastic.benders import Decomposition, decompose
from tests.tiny import base_case, make

SERIES = ("demand_t_per_period", "price_usd_per_kg", "capacity_t_per_period", "availability_frac", "quota_factor",
          "approval_frac")
DECLARING = (sourcing, licences, balance, demand, production, recycling, stockpile)


def perturbed(d, n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = [d]
    for i in range(n):
        change = {f: {k: tuple(float(x) * rng.uniform(0.5, 1.5) for x in v) for k, v in getattr(d, f).items()}
                  for f in SERIES}
        out.append(replace(d, scenario=f"{d.scenario}~{i}", **change))
    return out


def contract_case():
    raw = base_case(periods=6)
    raw["offers"].append({"id": "c", "supplier": "SC", "country": "CC", "origin_group": "A", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 100, "price_usd_per_kg": 8,
                          "lead_time_periods": 0, "reservation_fee_usd_per_kg": 1.5,
                          "terms": {"min_term_periods": 2, "max_change_frac_per_period": 0.5, "take_or_pay_frac": 0.5}})
    raw["streams"][0]["min_service_frac"] = 0.5
    return make(raw)


def differences(cases) -> list[str]:
    return [x for g, members in stamp.group_cases(cases) for x in stamp.check_stamp(g, members)]


@pytest.mark.parametrize("path,count,groups", [("inputs/base.yaml", None, 2), ("inputs/defence.yaml", None, 1),
                                                ("inputs/sampled.yaml", 20, 3)])
def test_every_stamped_scenario_is_the_compiled_one(path, count, groups):
    cases = scenario_cases(read_case(path, overrides=None if count is None else {"scenarios.count": count}))
    grouped = stamp.group_cases(cases)
    assert sum(len(m) for _, m in grouped) == len(cases) == {"inputs/base.yaml": 12, "inputs/defence.yaml": 9}.get(path, 20)
    assert len(grouped) == groups
    assert all(g.state == "checking" and g.note == "" for g, _ in grouped)  # every declaration fits the template
    assert [x for g, m in grouped for x in stamp.check_stamp(g, m)] == []


def test_scenarios_that_change_structure_get_their_own_groups_and_still_match():
    """base-2026: review_lead, prohibit_end_uses and renewal effects change the index sets."""
    cases = scenario_cases(read_case("inputs/base-2026.yaml"))
    grouped = stamp.group_cases(cases)
    assert len(grouped) > 1
    sigs = {stamp.evaluate(d).signature for d in cases}
    assert len(sigs) == len(grouped)
    assert [x for g, m in grouped for x in stamp.check_stamp(g, m)] == []


def test_a_stamped_scenario_differs_from_its_template_where_the_data_do():
    """The check compares something: a perturbed scenario's LP is not its template's."""
    d0, d1 = perturbed(scenario_cases(read_case("inputs/base.yaml"))[0], 1)
    (g, _), = stamp.group_cases([d0, d1])
    got = g.stamp(stamp.evaluate(d1))
    found = stamp.compare_forms(got, g.template, (g.col_names, g.row_names))  # the template is the unperturbed one
    assert any(x.startswith("matrix entry") for x in found) and any(x.startswith("objective coefficient") for x in found)
    assert g.stamp(stamp.evaluate(d0)).c.tolist() == pytest.approx(g.template.c.tolist(), rel=1e-12)
    assert not np.allclose(got.c, g.template.c)
    assert not np.allclose(got.row_upper[np.isfinite(got.row_upper)], g.template.row_upper[np.isfinite(g.template.row_upper)])
    assert not np.allclose(got.A.data, g.template.A.data)
    assert stamp.check_stamp(g, [d1]) == []


def _declared(case_name: str):
    if case_name == "contract":
        return perturbed(contract_case(), 1, seed=1)
    return perturbed(scenario_cases(read_case("inputs/base.yaml"))[0], 1, seed=1)


WHERE = {("TakeOrPay", "coef"): "contract", ("ContractBandUp", "rhs"): "contract", ("ContractBandDown", "rhs"): "contract",
         ("TakeOrPayShortfall_t", "cost"): "contract", ("ServiceLevel", "rhs"): "contract"}


@pytest.mark.parametrize("mod,i", [(m, i) for m in DECLARING for i in range(len(m.STAMP))],
                         ids=lambda x: x.__name__.rsplit(".", 1)[-1] if hasattr(x, "STAMP") else str(x))
def test_every_declaration_is_needed_and_check_stamp_catches_a_missing_one(monkeypatch, mod, i):
    st = mod.STAMP[i]
    cases = _declared(WHERE.get((st.component, st.part), "base"))
    assert differences(cases) == []
    monkeypatch.setattr(mod, "STAMP", mod.STAMP[:i] + mod.STAMP[i + 1:])
    missing = differences(cases)
    assert missing, f"{st.component} {st.part}: leaving it out changed nothing"


def test_benders_plan_is_the_same_with_and_without_stamping():
    cases = scenario_cases(read_case("inputs/base.yaml"))
    outs = {}
    try:
        for key, kw in (("off", {"stamp": False}), ("on", {"stamp": True}), ("on, 2 workers", {"workers": 2, "stamp": True})):
            outs[key] = decompose(cases, SolverOptions(), **kw)
        ref = outs["off"]
        assert ref.decomposition.stamp_info == {"groups": 0, "stamped": 0, "built": 12,
                                                 "note": "stamping off: every scenario built by Pyomo"}
        assert outs["on"].decomposition.stamp_info == {"groups": 2, "stamped": 8, "built": 4, "note": ""}
        # each worker groups its own: worker 1 holds 5 + 1 scenarios of the two groups (3 stamped), worker 2 4 + 2 (2)
        assert outs["on, 2 workers"].decomposition.stamp_info == {"groups": 4, "stamped": 5, "built": 7, "note": ""}
        for key in ("on", "on, 2 workers"):
            out = outs[key]
            assert out.first_stage.keys() == ref.first_stage.keys()
            for n, v in ref.first_stage.items():
                assert out.first_stage[n] == pytest.approx(v, rel=1e-9, abs=1e-9), (key, n)
            assert out.upper_bound_kusd == pytest.approx(ref.upper_bound_kusd, rel=1e-12)
            assert out.lower_bound_kusd == pytest.approx(ref.lower_bound_kusd, rel=1e-9)
            assert len(out.iterations) == len(ref.iterations)
    finally:
        for out in outs.values():
            out.decomposition.close()


def test_by_default_stamping_is_on_exactly_when_the_models_are_not_kept():
    """Measured: with the models kept for the report's re-solve, stamping is slower end to end (0.87x at 100
    scenarios x 36 periods), without them faster (1.3x); see benchmarks/RESULTS.md, "Stamping"."""
    cases = scenario_cases(read_case("inputs/base.yaml"))
    assert Decomposition(cases, SolverOptions()).stamp is False
    assert Decomposition(cases, SolverOptions(), keep_models=False).stamp is True
    assert Decomposition(cases, SolverOptions(), keep_models=True, stamp=True).stamp is True


def test_a_group_whose_check_fails_is_built_by_pyomo_and_says_so(monkeypatch):
    """SpotCapacity's declaration left out: availability cuts then differ, so both groups are refused."""
    monkeypatch.setattr(sourcing, "STAMP", tuple(s for s in sourcing.STAMP if s.component != "SpotCapacity"))
    cases = scenario_cases(read_case("inputs/base.yaml"))
    dec = Decomposition(cases, SolverOptions(), stamp=True)
    try:
        dec.build()
        info = dec.stamp_info
        assert info["stamped"] == 0 and info["built"] == 12 and info["groups"] == 2
        assert info["note"].startswith("stamping refused for the structure of scenario 'status_quo+no_outage'")
        assert "SpotCapacity" in info["note"] and "(and 1 more)" in info["note"]
        ref = Decomposition(cases, SolverOptions(), stamp=False)
        ref.build()
        assert [s.wait_and_see_kusd for s in dec.subs] == [s.wait_and_see_kusd for s in ref.subs]
    finally:
        dec.close()
