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
        assert ref.decomposition.stamp_info == {"groups": 0, "stamped": 0, "built": 12, "replanned": 0,
                                                 "note": "stamping off: every scenario built by Pyomo"}
        assert outs["on"].decomposition.stamp_info == {"groups": 2, "stamped": 8, "built": 4, "replanned": 0, "note": ""}
        # each worker groups its own: worker 1 holds 5 + 1 scenarios of the two groups (3 stamped), worker 2 4 + 2 (2)
        assert outs["on, 2 workers"].decomposition.stamp_info == {"groups": 4, "stamped": 5, "built": 7, "replanned": 0,
                                                                  "note": ""}
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


def test_by_default_stamping_is_on():
    """Stamping is on whether or not the models are kept: the plan's re-solve reads a stamped scenario from its
    stamped LP (model.stochastic.replan), so it needs no model of its own (benchmarks/RESULTS.md, "Run I")."""
    cases = scenario_cases(read_case("inputs/base.yaml"))
    assert Decomposition(cases, SolverOptions()).stamp is True
    assert Decomposition(cases, SolverOptions(), keep_models=False).stamp is True
    assert Decomposition(cases, SolverOptions(), stamp=False).stamp is False


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


# --------------------------------------------------------------------------------------------
# the plan's re-solve from the stamped LP (model/stochastic/replan.py)
# --------------------------------------------------------------------------------------------


def _same_solution(got, want, rel=1e-9):
    import pandas as pd

    assert got.tables.keys() == want.tables.keys()
    for name, w in want.tables.items():
        g = got.tables[name]
        assert list(g.columns) == list(w.columns) and len(g) == len(w), name
        for c in w.columns:
            if pd.api.types.is_float_dtype(w[c]):
                assert np.allclose(g[c].to_numpy(), w[c].to_numpy(), rtol=rel, atol=1e-6, equal_nan=True), (name, c)
            else:
                assert g[c].astype(str).tolist() == w[c].astype(str).tolist(), (name, c)

    def flat(d, pre=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from flat(v, f"{pre}{k}.")
            else:
                yield f"{pre}{k}", v
    gk, wk = dict(flat(got.kpis)), dict(flat(want.kpis))
    assert gk.keys() == wk.keys()
    for k, w in wk.items():
        if isinstance(w, float):
            assert gk[k] == pytest.approx(w, rel=rel, abs=1e-6), k
        else:
            assert gk[k] == w, k


@pytest.mark.parametrize("path,replanned", [("inputs/base-2026.yaml", 24), ("inputs/defence.yaml", 9)])
def test_the_plan_re_solved_from_stamped_lps_is_the_pyomo_one(path, replanned):
    """Every scenario of a stamping group re-solved from its stamped LP and read through its group's template
    model gives the tables and KPIs its own Pyomo model gives (measured: 2e-13 relative at most; base-2026 has
    6 structures, defence 2 plants and lanes), scenario by scenario, and the same first-stage cost."""
    from model.stochastic.benders import evaluate_plan

    cases = scenario_cases(read_case(path))
    out = decompose(cases, SolverOptions(), stamp=True)
    pool = out.decomposition.pool
    fast, _ = pool.plan(out.first_stage, SolverOptions())
    assert pool.stamper.replanned == replanned
    slow = evaluate_plan(cases, out.first_stage, SolverOptions())
    assert fast.first_cost0_kusd == pytest.approx(slow.first_cost0_kusd, rel=1e-12)
    assert fast.totals_kusd == pytest.approx(slow.totals_kusd, rel=1e-12)
    for got, want in zip(fast.solutions, slow.solutions):
        _same_solution(got, want)


def test_a_cost_term_split_that_fails_falls_back_to_pyomo(monkeypatch):
    """A stamped cost column in no cost term refuses the group's template (StampRefused, its plans re-solved
    through Pyomo, the note says so); a scenario whose terms do not add up to its objective is re-solved
    through Pyomo on its own; both give the Pyomo plan. (Four of defence's scenarios: its template, the one
    checked and two stamped.)"""
    from model.stochastic import replan
    from model.stochastic.benders import evaluate_plan

    cases = scenario_cases(read_case("inputs/defence.yaml"))[:4]
    out = decompose(cases, SolverOptions(), stamp=True)
    g = next(iter(out.decomposition.pool.stamper.groups.values()))
    b, f = g.source
    use = next(j for j, v in enumerate(f.columns) if v.parent_component().local_name == "Use_t")
    with pytest.raises(stamp.StampRefused, match="in 0 cost terms"):
        replan.PlanTemplate.build(b, f, np.array([use]))
    slow = evaluate_plan(cases, out.first_stage, SolverOptions())
    monkeypatch.setattr(replan.PlanTemplate, "term_values", lambda self, f, x: None)
    ev = evaluate_plan(cases, out.first_stage, SolverOptions(), stamper=out.decomposition.pool.stamper)
    assert out.decomposition.pool.stamper.replanned == 0
    for got, want in zip(ev.solutions, slow.solutions):
        _same_solution(got, want)
    monkeypatch.undo()
    g.plan = None
    monkeypatch.setattr(replan.PlanTemplate, "build", classmethod(lambda cls, *a: (_ for _ in ()).throw(
        stamp.StampRefused("two terms"))))
    ev = evaluate_plan(cases, out.first_stage, SolverOptions(), stamper=out.decomposition.pool.stamper)
    assert g.plan is False and "plan re-solved through Pyomo" in out.decomposition.pool.stamper.info()["note"]
    assert ev.totals_kusd == pytest.approx(slow.totals_kusd, rel=1e-12)


def test_the_extensive_forms_evpi_and_vss_come_from_stamped_lps_with_the_pyomo_values():
    """The EF's wait-and-see totals (each scenario alone, first stage free) and EEV totals (the mean-scenario
    plan's first stage held) from the stamped subproblems equal those of building every scenario twice in
    Pyomo (``perfect_foresight_totals``, ``evaluate_first_stage``), to 1e-9 relative."""
    from model.stochastic.evaluate import evaluate_first_stage, perfect_foresight_totals
    from model.stochastic.extensive import _expected_value_plan, stamped_evpi_vss

    cases = scenario_cases(read_case("inputs/base.yaml"))
    ws, eev_of, close = stamped_evpi_vss(cases, SolverOptions())
    try:
        _, ev_first = _expected_value_plan(cases, SolverOptions())
        assert ws() == pytest.approx(perfect_foresight_totals(cases, SolverOptions()).tolist(), rel=1e-9)
        assert eev_of(ev_first) == pytest.approx(evaluate_first_stage(cases, ev_first, SolverOptions()).totals_kusd,
                                                 rel=1e-9)
    finally:
        close()
