"""Benders decomposition (``model/stochastic/benders.py``, ``--engine benders``) against the extensive
form (EF): the same optimum on the default case, a 30-scenario sampled case and the hand-computed
cases of ``tests/test_stochastic.py``, with lambda = 0 and lambda > 0; valid cuts (finite
differences); feasibility cuts; the trust region and cut aggregation; the time budget; the audit and
the report on the Benders plan.

Tolerances: objectives, expected costs, CVaR and scenario totals at 1e-6 relative (the engine's
target gap); first-stage values at 1e-6 relative + 1e-6 absolute. The Benders first stage is made
canonical by the first-stage parts of the EF's criteria (module docstring); on every case here it
comes out as the EF's canonical first stage in every column, the tied ones included (34 of the
default case's 143 first-stage columns are tied over its optimal face), so the whole first stage is
compared.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from model.errors import SolveError
from model.input.io import read_case
from model.input.scenarios import scenario_cases
from model.solve.highs import SolverOptions
from model.stochastic import benders
from model.stochastic.benders import Decomposition, decompose, feasibility_cut, plan_run, run_stochastic_benders, solve_at
from model.stochastic.extensive import _expected_value_plan, run_stochastic
from tests.test_stochastic import _deminimis_case, boom_case, stock_case
from tests.tiny import base_case, make

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
SAMPLED = ROOT / "inputs" / "sampled.yaml"
REL = 1e-6


def close(x, rel=REL, abs_=1e-7):
    return pytest.approx(x, rel=rel, abs=abs_)


def assert_same_first_stage(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    bad = {k: (got[k], want[k]) for k in want if abs(got[k] - want[k]) > 1e-6 * max(1.0, abs(want[k]))}
    assert not bad, f"{len(bad)} first-stage values differ from the EF's: {dict(list(bad.items())[:8])}"


def benders_run(data, **kw):
    """(StochasticRun, BendersOutcome) of ``data``."""
    evpi_vss = kw.pop("with_evpi_vss", True)
    cases = scenario_cases(data)
    out = decompose(cases, SolverOptions(), **kw)
    return plan_run(cases, out, SolverOptions(), with_evpi_vss=evpi_vss), out


# --------------------------------------------------------------------------------------------
# the default case (12 product scenarios), whole pipeline: run_case -> report tables -> audit
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_benders():
    from model.app.run import run_case

    return run_case(BASE, engine="benders")


def test_default_case_reaches_the_extensive_form(default_run, base_benders):
    """Objective, expected cost, CVaR, first-stage cost, every scenario total, EVPI and VSS as the EF's;
    proven optimal (gap at most 1e-6, the bound from the master); the audit passes on the Benders plan."""
    ef, bd = default_run("auto", True), base_benders
    ke, kb = ef.solution.kpis, bd.solution.kpis
    for key in ("objective_usd", "expected_cost_usd", "cvar_cost_usd", "first_stage_cost_usd", "evpi_usd", "vss_usd",
                "wait_and_see_usd", "eev_usd", "expected_value_plan_objective_usd"):
        assert kb[key] == close(ke[key]), key
    me, mb = ef.stochastic.metrics, bd.stochastic.metrics
    assert mb["scenario_total_kusd"] == [close(v) for v in me["scenario_total_kusd"]]
    assert kb["proven_optimal"] is True and kb["solver"]["termination"] == "optimal"
    assert 0.0 <= kb["gap_frac"] <= benders.DEFAULT_GAP_FRAC
    assert kb["best_bound_usd"] <= kb["objective_usd"] * (1 + 1e-12)
    assert kb["audit"]["passed"], [c for c in kb["audit"]["checks"] if not c["passed"]]
    assert kb["model_size"]["nonanticipativity"] == "benders"


def test_default_case_report_values_are_the_extensive_forms_but_marginal_values(default_run, base_benders):
    """The regression-baseline values (KPIs and plan totals) of the Benders run equal the EF's at
    1e-6, except expected marginal values: the plan is re-solved per scenario with its first stage
    held, so a limit's marginal value is the scenario's with the first stage fixed, not the EF's where
    the first stage may move too (measured: 12 of 155 baseline values, all marginal values)."""
    from model.app.baseline import baseline_values, compare

    ef, bd = baseline_values(default_run("auto", True)), baseline_values(base_benders)
    moved = compare(ef, bd, rtol=1e-6)
    assert len(ef) > 100
    assert all(k.startswith("expected_marginal_values.") for k, *_ in moved), moved


def test_default_case_reports_every_iteration(base_benders):
    """solver.benders.iterations: iteration 0 is the warm start (the expected-value plan, an upper bound,
    no bound yet); then the lower bound never falls, the upper bound never rises and the last gap is
    within the target; the first stage was made canonical."""
    info = base_benders.solution.kpis["solver"]["benders"]
    its = info["iterations"]
    assert its[0]["iteration"] == 0 and its[0]["lower_bound_usd"] is None and its[0]["upper_bound_usd"] > 0
    lbs = [i["lower_bound_usd"] for i in its[1:]]
    ubs = [i["upper_bound_usd"] for i in its]
    assert all(a <= b + 1e-6 for a, b in zip(lbs, lbs[1:])) and all(a >= b - 1e-6 for a, b in zip(ubs, ubs[1:]))
    assert its[-1]["gap_frac"] <= benders.DEFAULT_GAP_FRAC and len(its) <= 20
    assert {"iteration", "lower_bound_usd", "upper_bound_usd", "gap_frac"} == set(its[1])  # no time: kpis are stable
    assert info["cut_groups"] == 12 and info["optimality_cuts"] > 0 and info["feasibility_cuts"] == 0
    assert info["canonical_first_stage"]["applied"] is True
    assert info["canonical_first_stage"]["stages"] == ["cn_t", "stock_t", "order_period_t", "generic"]


def test_default_case_first_stage_is_the_extensive_forms(default_run):
    ef = default_run("auto", True).stochastic
    out = decompose(list(ef.cases), SolverOptions())
    assert out.termination == "optimal"
    assert_same_first_stage(out.first_stage, ef.first_stage)


def test_default_case_report_is_written(base_benders, tmp_path):
    from model.report.files import write_report

    write_report(base_benders, tmp_path / "rep", ["solve.py", "--engine", "benders"])
    assert {"summary.md", "kpis.json", "report.html", "plan.xlsx", "scenarios.csv"} <= {p.name for p in (tmp_path / "rep").iterdir()}


# --------------------------------------------------------------------------------------------
# a smaller sampled case (30 scenarios), lambda = 0 and 0.5
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_sampled_case_reaches_the_extensive_form(lam):
    data = read_case(SAMPLED, overrides={"scenarios.count": 30, "risk.risk_weight_lambda": lam})
    ef = run_stochastic(data, with_evpi_vss=False)
    sr, out = benders_run(data, with_evpi_vss=False)
    for key in ("objective_kusd", "expected_cost_kusd", "cvar_cost_kusd", "first_stage_cost_kusd"):
        assert sr.metrics[key] == close(ef.metrics[key]), key
    assert sr.metrics["scenario_total_kusd"] == [close(v) for v in ef.metrics["scenario_total_kusd"]]
    assert sr.metrics["proven_optimal"] and out.groups == 30
    assert_same_first_stage(out.first_stage, ef.first_stage)


# --------------------------------------------------------------------------------------------
# the hand-computed cases of tests/test_stochastic.py
# --------------------------------------------------------------------------------------------


def test_boom_case_by_hand():
    """``boom_case(0.25)``: reserve r = 10 t of b_c for period 2, buy 5 t from A in period 1; RP = 200,
    totals (150, 350); WS 162.5, EVPI 37.5; EEV 500, VSS 300 (test_rp_ws_eev_evpi_vss_by_hand)."""
    sr, out = benders_run(make(boom_case(0.25)))
    m = sr.metrics
    assert m["objective_kusd"] == close(200.0)
    assert m["scenario_total_kusd"] == [close(150.0), close(350.0)]
    assert out.first_stage["Reserve_t_per_period[b_c,2]"] == close(10.0)
    assert out.first_stage["Purchase_t[a_spot,1]"] == close(5.0)
    assert m["wait_and_see_kusd"] == close(162.5) and m["evpi_kusd"] == close(37.5)
    assert m["eev_total_kusd"] == [close(112.5), close(1662.5)]
    assert m["eev_kusd"] == close(500.0) and m["vss_kusd"] == close(300.0)


def test_stock_case_by_hand():
    """``stock_case``: both scenarios buy 10 t in period 1 and hold 5 t: 105 each, RP = 105."""
    sr, out = benders_run(make(stock_case()), with_evpi_vss=False)
    assert sr.metrics["objective_kusd"] == close(105.0)
    assert sr.metrics["scenario_total_kusd"] == [close(105.0), close(105.0)]
    assert out.first_stage["Purchase_t[a_spot,1]"] == close(10.0)
    assert out.first_stage["Stock_t[plant,X,A,1]"] == close(5.0)


def test_cvar_case_by_hand():
    """``boom_case(0.02, alpha=0.9)``: lambda = 0: r = 0, E = 140, CVaR 500; lambda = 1: r = 10, objective
    344, E 154, CVaR 190, totals (150, 350), WS 255, EVPI 89, EEV 634.08, VSS 290.08
    (test_cvar_weight_buys_insurance)."""
    neutral, n_out = benders_run(make(boom_case(0.02, lam=0.0, alpha=0.9)), with_evpi_vss=False)
    averse, a_out = benders_run(make(boom_case(0.02, lam=1.0, alpha=0.9)))
    n, a = neutral.metrics, averse.metrics
    assert (n["objective_kusd"], n["cvar_cost_kusd"]) == (close(140.0), close(500.0))
    assert n_out.first_stage["Reserve_t_per_period[b_c,2]"] == close(0.0)
    assert a["objective_kusd"] == close(344.0)
    assert (a["expected_cost_kusd"], a["cvar_cost_kusd"]) == (close(154.0), close(190.0))
    assert a["scenario_total_kusd"] == [close(150.0), close(350.0)]
    assert a_out.first_stage["Reserve_t_per_period[b_c,2]"] == close(10.0)
    assert a["wait_and_see_kusd"] == close(255.0) and a["evpi_kusd"] == close(89.0)
    assert a["eev_kusd"] == close(634.08) and a["vss_kusd"] == close(290.08)


def test_single_scenario_is_the_deterministic_plan():
    """One listed scenario (probability 1, no effects): 100 kUSD, EVPI = VSS = 0."""
    raw = stock_case()
    raw["scenarios"] = {"mode": "listed", "listed": [{"name": "only", "probability": 1.0}]}
    sr, _ = benders_run(make(raw))
    assert sr.metrics["objective_kusd"] == close(100.0)
    assert sr.metrics["evpi_kusd"] == close(0.0) and sr.metrics["vss_kusd"] == close(0.0)


@pytest.mark.parametrize("first", ["calm", "deminimis"])
def test_deminimis_case_by_hand(first):
    """RP 175 (calm 150, deminimis 200), EV plan 200, EVPI = VSS = 0, whichever scenario is first."""
    m = benders_run(make(_deminimis_case(first)))[0].metrics
    assert m["objective_kusd"] == close(175.0)
    assert m["expected_value_plan_objective_kusd"] == close(200.0)
    assert m["evpi_kusd"] == close(0.0) and m["vss_kusd"] == close(0.0)


# --------------------------------------------------------------------------------------------
# cuts
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_decomposition():
    cases = scenario_cases(read_case(BASE))
    dec = Decomposition(cases, SolverOptions(), keep_models=False)
    dec.build()
    _, ev = _expected_value_plan(cases, SolverOptions())
    return dec, np.array([ev[n] for n in dec.names])


def test_optimality_cut_is_a_subgradient_by_finite_differences(base_decomposition):
    """HiGHS's reduced cost of a first-stage column held by its bounds is the derivative of Q_s along it:
    for a convex piecewise-linear Q_s the right difference quotient is >= g_j >= the left one, equal
    where Q_s is smooth (most columns here); and the cut Q_s(x0) + g (x - x0) lies below Q_s at other
    first stages."""
    dec, x0 = base_decomposition
    sub = dec.subs[3]
    status, q0, g = solve_at(sub, x0)
    assert status == "Optimal" and np.abs(g).max() > 1.0
    lb, ub, h = dec.master.lb1, dec.master.ub1, 1e-3
    smooth = 0
    for j in np.argsort(-np.abs(g))[:12]:
        up = (solve_at(sub, np.where(np.arange(len(x0)) == j, x0 + h, x0))[1] - q0) / h if x0[j] + h <= ub[j] else None
        down = (q0 - solve_at(sub, np.where(np.arange(len(x0)) == j, x0 - h, x0))[1]) / h if x0[j] - h >= lb[j] else None
        tol = 1e-6 * max(1.0, abs(g[j]))
        assert up is None or up >= g[j] - tol, (dec.names[j], up, g[j])
        assert down is None or down <= g[j] + tol, (dec.names[j], down, g[j])
        smooth += up is not None and abs(up - g[j]) <= tol
    assert smooth >= 6
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(10):
        x = np.clip(x0 * rng.uniform(0.8, 1.2, len(x0)), lb, ub)
        status, q, _ = solve_at(sub, x)
        if status == "Optimal":
            assert q >= q0 + g @ (x - x0) - 1e-7 * max(1.0, abs(q)), (q, q0 + g @ (x - x0))
            checked += 1
    assert checked >= 5


def _slump_case() -> dict:
    """T = 2, window 1; plant capacity 10 t magnet/period (5 t X); contract b_c (B) at 5 USD/kg, fee 1,
    min take 100 % of its reservation; scenarios calm (0.5) and slump (0.5, no demand in period 2).
    Made magnets must meet demand exactly and there is no stockpile, so X bought must be used: a
    period-2 reservation r2 is feasible in calm up to 5 t and in slump only at 0.
    EF by hand: period 1 from b_c, 5 t x (5 + 1) = 30; period 2 calm from A, 5 t x 10 = 50, slump 0:
    totals (80, 30), RP = 55, r2 = 0 (reserving would cost 6 per kg in both, saving 10 in calm only)."""
    raw = base_case(2)
    raw["plant"]["capacity_t_per_period"] = 10
    raw["offers"].append({"id": "b_c", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "contract", "capacity_t_per_period": 100, "price_usd_per_kg": 5,
                          "reservation_fee_usd_per_kg": 1, "min_take_frac": 1.0})
    raw["risk"] = {"non_anticipative_periods": 1}
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "calm", "probability": 0.5},
        {"name": "slump", "probability": 0.5, "effects": [
            {"kind": "demand", "select": {"streams": ["s"]}, "factor": 0, "start": "2027-02"}]}]}
    return raw


def test_feasibility_cuts_by_hand():
    """``_slump_case`` started from the EF's plan with r2 = 8 t: both scenarios reject it. The elastic LP
    measures calm's excess as r2 - 5 = 3 t and slump's as r2 + the stock left after period 1 = 8 t, with
    gradient 1 on those columns; the cuts r2 <= 5 and r2 + stock <= 0 lead to the EF's optimum, 55."""
    data = make(_slump_case())
    ef = run_stochastic(data, with_evpi_vss=False)
    assert ef.metrics["objective_kusd"] == close(55.0)
    start = ef.first_stage | {"Reserve_t_per_period[b_c,2]": 8.0}
    cases = scenario_cases(data)
    dec = Decomposition(cases, SolverOptions(), keep_models=False)
    dec.build()
    x = np.array([start[n] for n in dec.names])
    r2 = dec.names.index("Reserve_t_per_period[b_c,2]")
    stock = [j for j, n in enumerate(dec.names) if n.startswith("Stock_t")]
    assert solve_at(dec.subs[0], x)[0] == "Infeasible" and solve_at(dec.subs[1], x)[0] == "Infeasible"
    v_calm, g_calm = feasibility_cut(dec.subs[0], x, SolverOptions())
    v_slump, g_slump = feasibility_cut(dec.subs[1], x, SolverOptions())
    assert (v_calm, g_calm[r2]) == (close(3.0), close(1.0))
    assert (v_slump, g_slump[r2]) == (close(8.0), close(1.0)) and list(g_slump[stock]) == [close(1.0)] * len(stock)
    out = decompose(cases, SolverOptions(), x0=start)
    assert out.feasibility_cuts == 2 and out.termination == "optimal"
    assert out.upper_bound_kusd == close(55.0) and out.first_stage["Reserve_t_per_period[b_c,2]"] == close(0.0)


def test_a_scenario_infeasible_whatever_the_first_stage_is_a_solve_error():
    """A hard floor above what any supply can meet: the scenario fails on its own, first stage free."""
    raw = _slump_case()
    raw["offers"][0]["capacity_t_per_period"] = 1
    raw["offers"][1]["capacity_t_per_period"] = 1
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "floor_t": 50, "floor_hard": True}]
    data = make(raw)
    with pytest.raises(SolveError, match="with its first stage free"):
        run_stochastic_benders(data, with_evpi_vss=False)


# --------------------------------------------------------------------------------------------
# regularisation and aggregation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [{"trust_region": True}, {"aggregate": 3}, {"aggregate": 1}])
def test_trust_region_and_aggregated_cuts_reach_the_same_optimum(default_run, kw):
    ef = default_run("auto", True).stochastic
    out = decompose(list(ef.cases), SolverOptions(), **kw)
    assert out.termination == "optimal"
    assert out.upper_bound_kusd == close(ef.metrics["objective_kusd"])
    assert out.lower_bound_kusd == close(ef.metrics["objective_kusd"])
    assert out.groups == kw.get("aggregate", 12)
    assert out.trust_region_used == bool(kw.get("trust_region"))
    assert_same_first_stage(out.first_stage, ef.first_stage)


def test_lambda_positive_never_aggregates():
    assert len(benders._groups(5000, 0.5, None)) == 5000
    assert len(benders._groups(5000, 0.0, None)) == benders.AGGREGATE_GROUPS
    assert len(benders._groups(100, 0.0, None)) == 100


def test_a_looser_target_gap_stops_early_and_says_so():
    """``rel_gap`` (``--gap``) 5 %: the loop stops at the first iteration within it; the plan is the
    incumbent, not proven optimal (its gap is above 1e-6), not made canonical, and the KPIs say why."""
    sr = run_stochastic_benders(read_case(BASE), with_evpi_vss=False, rel_gap=0.05)
    m, info = sr.metrics, sr.solutions[0].kpis["solver"]["benders"]
    assert sr.result.termination == "gap_reached" and m["proven_optimal"] is False
    assert benders.DEFAULT_GAP_FRAC < m["gap_frac"] <= 0.05 and "requested gap" in m["status_note"]
    assert info["target_gap_frac"] == 0.05 and len(info["iterations"]) <= 3
    assert info["canonical_first_stage"]["applied"] is False and "target gap" in info["canonical_first_stage"]["note"]


# --------------------------------------------------------------------------------------------
# time budget
# --------------------------------------------------------------------------------------------


def test_the_time_budget_stops_it_with_a_bound_and_a_gap(monkeypatch):
    """The loop's share of the budget spent after iteration 1 (simulated: the subproblem runs stop
    there): the plan is the incumbent re-solved per scenario (an upper bound), the bound is the
    master's, the gap between them is reported, termination time_limit, not proven optimal; EVPI and
    VSS are not computed (as after the EF's time-limit fallback); the audit passes."""
    from model.app.run import Run, with_audit
    from model.results.stochastic import stochastic_solution

    data = read_case(BASE)
    calls = {"n": 0}
    real = benders.solve_at

    def stopping(sub, x, deadline=None):
        calls["n"] += 1
        if calls["n"] > 2 * 12 + 5:  # warm start + iteration 1, then 5 solves into iteration 2
            raise benders._Stopped()
        return real(sub, x, deadline)

    monkeypatch.setattr(benders, "solve_at", stopping)
    sr = run_stochastic_benders(data, SolverOptions(time_limit_s=3600))
    m = sr.metrics
    assert sr.result.termination == "time_limit" and m["proven_optimal"] is False
    assert m["best_bound_kusd"] < m["objective_kusd"] and m["gap_frac"] == close((m["objective_kusd"] - m["best_bound_kusd"]) / m["objective_kusd"], rel=1e-9)
    assert 0 < m["gap_frac"] < 0.05 and "time limit" in m["status_note"]
    assert "evpi_kusd" not in m
    its = sr.solutions[0].kpis["solver"]["benders"]["iterations"]
    assert [i["iteration"] for i in its] == [0, 1, 2]  # iteration 2 cut after its master solve: its bound counts
    assert its[-1]["lower_bound_usd"] == close(m["best_bound_kusd"] * 1000)
    run = with_audit(Run(mode="stochastic", data=data, result=sr.result, solution=stochastic_solution(sr),
                         timings_s=sr.timings_s, stochastic=sr))
    k = run.solution.kpis
    assert k["audit"]["passed"] and k["proven_optimal"] is False and k["solver"]["termination"] == "time_limit"


def test_a_tiny_time_limit_fails_before_any_plan():
    with pytest.raises(SolveError, match="time limit of 0.001 s reached") as e:
        run_stochastic_benders(read_case(BASE), SolverOptions(time_limit_s=0.001))
    assert e.value.termination == "time_limit" and "no plan" in str(e.value)


def test_a_deadline_passing_while_building_fails_cleanly():
    """The deadline has passed when the build starts (the scenarios generated): it stops before the first."""
    from model.solve import budget

    cases = scenario_cases(read_case(BASE))
    opts = SolverOptions(time_limit_s=1.0, started_s=budget.now() - 2.0)
    with pytest.raises(SolveError, match=r"reached while building the Benders subproblems \(0 of 12 scenarios built\); no plan"):
        decompose(cases, opts)


def test_no_time_left_for_the_loop_fails_with_no_plan(monkeypatch):
    """Building done, but nothing left of the budget for the iterations (the loop's share set to 0):
    no first stage has been evaluated in every scenario, so there is no plan to report."""
    cases = scenario_cases(read_case(BASE))
    _, x0 = _expected_value_plan(cases, SolverOptions())
    monkeypatch.setattr(benders.budget, "MAIN_SOLVE_SHARE", 0.0)
    with pytest.raises(SolveError, match="during the Benders iterations .* no first stage yet feasible") as e:
        decompose(cases, SolverOptions(time_limit_s=600), x0=x0)
    assert e.value.termination == "time_limit"


# --------------------------------------------------------------------------------------------
# progress, engine choice
# --------------------------------------------------------------------------------------------


def test_progress_shows_each_iteration_with_its_bound_and_gap():
    from model.progress import Reporter, reporting

    buf = io.StringIO()
    with reporting(Reporter(buf, live=False)):
        run_stochastic_benders(make(boom_case(0.25)), with_evpi_vss=False)
    text = buf.getvalue()
    assert "building the Benders subproblems of 2 scenarios" in text
    assert "Benders iteration 0: the expected-value plan's first stage" in text
    assert "Benders iteration 1: plan 500.0 kUSD, no bound yet" in text  # the EV plan: EEV = 500
    assert "Benders iteration 2: bound " in text and ", gap " in text


def test_engine_choice(monkeypatch, tmp_path):
    from model.stochastic import engine

    assert engine.choose_engine(str(BASE), "benders") == ("benders", "")
    monkeypatch.setattr(engine, "estimated_columns", lambda path: (500, 2 * engine.AUTO_BENDERS_COLUMNS))
    name, why = engine.choose_engine(str(BASE), "auto")
    assert name == "benders" and "Benders" in why
    monkeypatch.setattr(engine, "estimated_columns", lambda path: (12, engine.AUTO_BENDERS_COLUMNS // 10))
    assert engine.choose_engine(str(BASE), "auto")[0] == "ef"


def test_an_unknown_engine_is_refused():
    from model.app.run import run_case

    with pytest.raises(ValueError, match="unknown engine"):
        run_case(BASE, engine="simplex")


# --------------------------------------------------------------------------------------------
# subproblems in worker processes (model/stochastic/parallel.py, --workers) and over MPI
# --------------------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    """The process ``pid`` has ended and been reaped (no orphan, no zombie of ours)."""
    import os

    return not os.path.exists(f"/proc/{pid}") if os.path.isdir("/proc") else True


@pytest.fixture
def pools(monkeypatch):
    """Every ProcessPool opened during the test (to look at its worker processes afterwards)."""
    from model.stochastic import parallel

    opened, real = [], parallel.ProcessPool.__init__

    def spy(self, *a, **kw):
        opened.append(self)
        real(self, *a, **kw)

    monkeypatch.setattr(parallel.ProcessPool, "__init__", spy)
    return opened


def test_two_workers_give_the_single_process_run_on_the_default_case(base_benders, pools):
    """W = 2 (spawned processes) against W = 1 (base_benders): identical KPIs (every value, the
    iterations with their bounds included) and identical plan tables; the worker count is in the
    timings, not in the KPIs; both workers have ended when the run returns."""
    from model.app.run import run_case

    two = run_case(BASE, engine="benders", workers=2)
    assert two.timings_s["benders_workers"] == 2 and base_benders.timings_s["benders_workers"] == 1
    k1, k2 = base_benders.solution.kpis, two.solution.kpis
    assert k2 == k1
    assert k2["objective_usd"] == pytest.approx(k1["objective_usd"], rel=1e-9)
    assert len(k2["solver"]["benders"]["iterations"]) == len(k1["solver"]["benders"]["iterations"])
    t1, t2 = base_benders.solution.tables, two.solution.tables
    assert set(t1) == set(t2) and all(t1[n].equals(t2[n]) for n in t1), [n for n in t1 if not t1[n].equals(t2[n])]
    assert len(pools) == 1 and len(pools[0].pids()) == 2
    assert all(not p.is_alive() for p in pools[0].procs) and all(_gone(pid) for pid in pools[0].pids())


def test_two_workers_give_the_single_process_plan_on_a_sampled_case(pools):
    """10 sampled scenarios with lambda 0.5 (the CVaR master, one cut group per scenario), split 5 and
    5: the same first stage (1e-9), bounds, iteration count, plan value, scenario totals, EVPI and VSS."""
    data = read_case(SAMPLED, overrides={"scenarios.count": 10, "risk.risk_weight_lambda": 0.5})
    runs = {}
    for w in (1, 2):
        cases = scenario_cases(data)
        out = decompose(cases, SolverOptions(), workers=w)
        runs[w] = (out, plan_run(cases, out, SolverOptions()))
    (o1, s1), (o2, s2) = runs[1], runs[2]
    assert set(o2.first_stage) == set(o1.first_stage)
    assert all(o2.first_stage[k] == pytest.approx(v, rel=1e-9, abs=1e-9) for k, v in o1.first_stage.items())
    assert len(o2.iterations) == len(o1.iterations) and o2.termination == o1.termination == "optimal"
    assert (o2.lower_bound_kusd, o2.upper_bound_kusd) == (pytest.approx(o1.lower_bound_kusd, rel=1e-9),
                                                          pytest.approx(o1.upper_bound_kusd, rel=1e-9))
    m1, m2 = s1.metrics, s2.metrics
    for key in ("objective_kusd", "expected_cost_kusd", "cvar_cost_kusd", "first_stage_cost_kusd", "evpi_kusd", "vss_kusd"):
        assert m2[key] == pytest.approx(m1[key], rel=1e-9), key
    assert m2["scenario_total_kusd"] == [pytest.approx(v, rel=1e-9) for v in m1["scenario_total_kusd"]]
    assert o2.groups == 10 and [p.pid for p in pools[0].procs] and all(_gone(p) for p in pools[0].pids())


def test_a_worker_error_is_raised_in_scenario_order_and_ends_the_workers(pools):
    """A scenario infeasible whatever the first stage (held by worker 2 of 2): the master raises the
    SolveError the single-process path raises, and no worker outlives it."""
    raw = _slump_case()
    raw["offers"][0]["capacity_t_per_period"] = 1
    raw["offers"][1]["capacity_t_per_period"] = 1
    raw["stockpile"] = [{"element": "X", "capacity_t": 100, "floor_t": 50, "floor_hard": True}]
    with pytest.raises(SolveError, match="with its first stage free") as e:
        run_stochastic_benders(make(raw), with_evpi_vss=False, workers=2)
    assert not isinstance(e.value, benders.parallel.WorkerLost)
    assert all(_gone(p) for p in pools[0].pids())


def test_a_worker_that_dies_fails_the_run_with_one_line():
    """A worker killed (SIGKILL) between two requests: the next one raises WorkerLost, a SolveError
    (exit 3 at the command line) of one line naming the worker and the signal; closing reaps the other."""
    import os
    import signal

    from model.app.boundary import EXIT, print_solve_error

    cases = scenario_cases(make(boom_case(0.25)))
    dec = Decomposition(cases, SolverOptions(), workers=2)
    dec.build()
    pids = dec.pool.pids()
    os.kill(pids[1], signal.SIGKILL)
    dec.pool.procs[1].join(timeout=10)
    try:
        with pytest.raises(benders.parallel.WorkerLost, match=r"^Benders worker 2 of 2 \(process \d+\) ended "
                                                              r"unexpectedly, killed by signal 9; no plan$") as e:
            dec.evaluate(np.zeros(dec.n1), None, None)
    finally:
        dec.close(force=True)
    assert isinstance(e.value, SolveError) and "\n" not in str(e.value)
    assert print_solve_error(e.value) == EXIT["solver"]
    assert all(_gone(p) for p in pids)


def test_a_deadline_passing_while_two_workers_build_fails_cleanly(pools):
    from model.solve import budget

    cases = scenario_cases(read_case(BASE))
    opts = SolverOptions(time_limit_s=1.0, started_s=budget.now() - 2.0)
    with pytest.raises(SolveError, match=r"reached while building the Benders subproblems \(0 of 12 scenarios built\); no plan"):
        decompose(cases, opts, workers=2)
    assert all(_gone(p) for p in pools[0].pids())


@pytest.mark.parametrize("argv, expected", [
    (["--engine", "ef", "--workers", "2"], "--workers = '2': expected 1 with --engine ef"),
    (["--engine", "ph", "--workers", "3"], "--workers = '3': expected 1 with --engine ph"),
    (["--engine", "benders", "--workers", "0"], "--workers = '0': expected a whole number >= 1"),
    (["--engine", "benders", "--scenario", "high", "--workers", "2"], "expected 1 with a single-scenario mode"),
])
def test_workers_with_another_engine_is_one_input_error(argv, expected, capsys, tmp_path):
    import solve

    rc = solve.main([str(BASE), "--out", str(tmp_path / "rep"), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("input error: (command line): ") and expected in err[0], err
    assert not (tmp_path / "rep").exists()


def test_the_wire_format_carries_the_case_data():
    """CaseData holds MappingProxyType maps, which pickle refuses; parallel.dumps sends them as dicts and
    loads wraps them again: equal, still read-only, no file read."""
    import pickle
    from types import MappingProxyType

    from model.stochastic.parallel import dumps, loads

    cases = scenario_cases(read_case(SAMPLED, overrides={"scenarios.count": 3}))
    with pytest.raises(TypeError, match="mappingproxy"):
        pickle.dumps(cases)
    back = loads(dumps(cases))
    assert back == cases and isinstance(back[1].demand_t_per_period, MappingProxyType)
    assert back[2].scenario == cases[2].scenario and back[2].probability == cases[2].probability


def _mpi_ready() -> str:
    import importlib.util
    import shutil

    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (the [mpi] extra)"
    if shutil.which("mpiexec") is None:
        return "no mpiexec on PATH"
    return ""


@pytest.mark.skipif(bool(_mpi_ready()), reason=_mpi_ready() or "MPI available")
def test_mpiexec_two_ranks_give_the_single_process_report(base_benders, tmp_path):
    """``mpiexec -n 2 python -m model.stochastic.parallel`` (rank 0 the master, rank 1 the one worker):
    the same kpis.json (but its ``run`` block) and byte-identical CSVs as the single-process run."""
    import json
    import os
    import subprocess
    import sys

    from model.report.files import write_report
    from model.stochastic.engine import clean_mpi_env, mpiexec_command

    write_report(base_benders, tmp_path / "one", ["solve.py", "--engine", "benders"])
    env = clean_mpi_env(os.environ) | {"OMPI_MCA_osc": "sm", "OMPI_MCA_btl": "self,vader",
                                       "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = mpiexec_command(2) + [sys.executable, "-m", "model.stochastic.parallel", str(BASE), "--engine", "benders",
                                "--out", str(tmp_path / "mpi"), "--quiet"]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    one, mpi = (json.loads((tmp_path / d / "kpis.json").read_text()) for d in ("one", "mpi"))
    assert mpi.pop("run")["timings_s"]["benders_workers"] == 1 and one.pop("run")["timings_s"]["benders_workers"] == 1
    assert mpi == one
    csvs = sorted(f.name for f in (tmp_path / "one").glob("*.csv"))
    assert csvs and all((tmp_path / "one" / f).read_bytes() == (tmp_path / "mpi" / f).read_bytes() for f in csvs)


# --------------------------------------------------------------------------------------------
# first-stage rows implied through pinned columns (a contract's later reservation = its tranches)
# --------------------------------------------------------------------------------------------


def test_implied_first_stage_rows_substitute_a_pinned_column():
    """Columns x0, x1 first stage, y second stage. Row 0: y - x0 - x1 = 2 pins y = 2 + x0 + x1; row 1:
    y <= 10 is then x0 + x1 <= 8; row 2: y + z >= 1 has a free second-stage column z, so it binds
    nothing alone; y's bounds [0, 7] give -2 <= x0 + x1 <= 5."""
    import scipy.sparse as sp

    inf = np.inf
    A = sp.csc_matrix(np.array([[-1.0, -1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    f = benders.StandardForm(c=np.zeros(4), col_lower=np.array([0.0, 0.0, 0.0, 0.0]),
                             col_upper=np.array([inf, inf, 7.0, inf]), row_lower=np.array([2.0, -inf, 1.0]),
                             row_upper=np.array([2.0, 10.0, inf]), A=A, offset_kusd=0.0, cols1=np.array([0, 1]),
                             only1=np.zeros(0, dtype=np.int32), columns=[], rows=[])
    got = [(list(c), list(v), lo, hi) for c, v, lo, hi in benders.implied_first_stage_rows(f)]
    assert got == [([0, 1], [1.0, 1.0], -inf, 8.0), ([0, 1], [1.0, 1.0], -2.0, 5.0)]


def test_default_input_converges_without_feasibility_cuts():
    """``inputs/base-2026.yaml`` (the command's default input: Lynas contracts signed as 6-12 month
    tranches, whose later months' reservations are second-stage columns pinned by the tranches) reaches
    its baseline optimum (the EF's, ``tests/baselines/base-2026.json``) at 1e-6, with no feasibility cut:
    the capacity and band rows of those months reach the master through the pinned columns. Before
    they did, every iterate signed more than a later month's capacity, the 24 feasibility cuts of each
    iteration never closed the gap (bound unmoved for 100 iterations) and the master LP ended 'Unknown'."""
    import json

    want = json.loads((ROOT / "tests" / "baselines" / "base-2026.json").read_text())["values"]["objective_usd"]
    out = decompose(scenario_cases(read_case(ROOT / "inputs" / "base-2026.yaml")), SolverOptions())
    assert out.termination == "optimal" and out.feasibility_cuts == 0 and len(out.iterations) <= 20
    assert out.upper_bound_kusd * 1000.0 == close(want)


def test_subproblems_made_again_for_each_solve_give_the_same_plan(monkeypatch):
    """Past KEEP_SUBPROBLEMS_UP_TO scenarios no HiGHS instance is kept between solves: each solve makes one
    from the scenario's arrays (stamped again from its declared values, or the Pyomo-built arrays) and its
    last basis. Forced here on the reference case: the same proven optimum and first stage as with
    persistent subproblems, and no scenario holds a HiGHS instance."""
    from model.stochastic import stamp as stamp_mod

    cases = scenario_cases(read_case(BASE))
    ref = decompose(cases, SolverOptions())
    monkeypatch.setattr(benders, "KEEP_SUBPROBLEMS_UP_TO", 0)
    out = decompose(cases, SolverOptions())
    assert all(s.highs is None and s.basis is not None for s in out.decomposition.subs)
    assert isinstance(out.decomposition.pool.stamper, stamp_mod.Stamper) and out.decomposition.stamp_info["stamped"] > 0
    assert out.termination == "optimal"
    assert out.upper_bound_kusd == pytest.approx(ref.upper_bound_kusd, rel=1e-9)
    assert_same_first_stage(out.first_stage, ref.first_stage)
    run = plan_run(cases, out, SolverOptions(), with_evpi_vss=True)
    want = plan_run(cases, ref, SolverOptions(), with_evpi_vss=True)
    assert run.metrics["scenario_total_kusd"] == [close(v) for v in want.metrics["scenario_total_kusd"]]
    assert run.metrics["vss_kusd"] == close(want.metrics["vss_kusd"])
