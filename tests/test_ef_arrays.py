"""The extensive form assembled from the scenarios' LPs (``model/stochastic/ef_arrays.py``) is the Pyomo one.

``run_stochastic`` builds it by default (``nonant="shared"``, stdform path): each scenario compiled by
Pyomo alone or stamped into its structure's template, laid side by side with the first-stage columns
merged and the CVaR rows added. Against the Pyomo extensive form (``arrays=False``) on shipped cases: the
same LP size, the same plan (first stage to 1e-9), metrics, EVPI and VSS, and every scenario's tables and
KPIs (``tests/test_stamp._same_solution``). The tiny hand-computed cases of ``tests/test_stochastic.py``
(RP, WS, EEV, non-anticipativity, CVaR, one scenario) run on both paths too.
"""

from __future__ import annotations

import pytest

from model.input.io import read_case
from model.input.scenarios import scenario_cases
from model.solve.highs import SolverOptions
from model.stochastic import ef_arrays
from model.stochastic.extensive import run_stochastic
from tests.test_stamp import _same_solution


def _same_run(got, want):
    assert (got.result.n_columns, got.result.n_rows, got.result.n_nonzeros) == \
        (want.result.n_columns, want.result.n_rows, want.result.n_nonzeros)
    for k, w in want.metrics.items():
        g = got.metrics[k]
        if isinstance(w, list):
            assert g == pytest.approx(w, rel=1e-9, abs=1e-7), k
        elif isinstance(w, float):
            assert g == pytest.approx(w, rel=1e-9, abs=1e-7), k
        else:
            assert g == w, k
    assert got.metrics.keys() == want.metrics.keys()
    fg, fw = got.first_stage, want.first_stage
    assert fg.keys() == fw.keys()
    assert max(abs(fg[n] - fw[n]) for n in fw) < 1e-7
    for g, w in zip(got.solutions, want.solutions, strict=True):
        _same_solution(g, w)


@pytest.mark.parametrize("path,lam,evpi,stamped", [("inputs/base.yaml", 0.5, True, 8),
                                                  ("inputs/defence.yaml", None, False, 7)])
def test_the_extensive_form_from_arrays_is_the_pyomo_one(path, lam, evpi, stamped):
    """base: 12 scenarios of 2 structures (8 stamped) with a risk weight of 0.5 (the CVaR columns and rows
    over stamped blocks: 21,396 columns, 19,428 rows, 79,404 nonzeros in both), EVPI and VSS from the same
    blocks (base without a risk weight is the committed baseline, ``tests/test_regression.py``); defence:
    9 scenarios of one structure with two plants and lanes (7 stamped).
    Measured: first stage within 7e-14 t, tables within 1e-9 relative."""
    data = read_case(path, None if lam is None else {"risk.risk_weight_lambda": lam})
    got = run_stochastic(data, with_evpi_vss=evpi)
    assert got.ef is None and got.timings_s["ef_stamp"]["stamped"] == stamped
    want = run_stochastic(data, with_evpi_vss=evpi, arrays=False)
    assert want.ef is not None
    _same_run(got, want)


def test_a_stamped_scenario_whose_costs_do_not_split_is_read_through_its_own_model(monkeypatch):
    """Four of defence's scenarios (its template, the one checked and two stamped): with every stamped
    scenario's cost-term split refused (``PlanTemplate.term_values`` None), each is built by Pyomo to be read,
    and the tables and KPIs are those of the stamped read."""
    cases = scenario_cases(read_case("inputs/defence.yaml"))[:4]
    risk = cases[0].case.risk
    blocks, info = ef_arrays.scenario_blocks(cases, SolverOptions())
    assert info["stamped"] == 2 and [b.built is None for b in blocks] == [False, False, True, True]
    want = ef_arrays.solve_and_read(blocks, SolverOptions(), risk, 0.0)
    from model.stochastic import replan

    monkeypatch.setattr(replan.PlanTemplate, "term_values", lambda self, f, x: None)
    got = ef_arrays.solve_and_read(blocks, SolverOptions(), risk, 0.0)
    assert got[2]["scenario_total_kusd"] == pytest.approx(want[2]["scenario_total_kusd"], rel=1e-12)
    for g, w in zip(got[1], want[1], strict=True):
        _same_solution(g, w)


def test_an_infeasible_extensive_form_is_explained_from_the_pyomo_one():
    """The stamped extensive form cannot name Pyomo constraints, so an infeasible one is built again in Pyomo
    and its error carries the conflict (``results.diagnose.explain``), as with ``arrays=False``."""
    from model.errors import SolveError
    from tests.tiny import base_case, make

    raw = base_case(2)
    raw["streams"][0]["min_service_frac"] = 1.0  # 10 t magnet a period needs 5 t X; the offer gives 1
    raw["offers"][0]["capacity_t_per_period"] = 1
    raw["scenarios"] = {"mode": "listed", "listed": [{"name": "a", "probability": 0.5},
                                                     {"name": "b", "probability": 0.5}]}
    with pytest.raises(SolveError) as got:
        run_stochastic(make(raw), with_evpi_vss=False)
    with pytest.raises(SolveError) as want:
        run_stochastic(make(raw), with_evpi_vss=False, arrays=False)
    assert got.value.termination == want.value.termination
    assert str(got.value) == str(want.value)
    assert got.value.conflicts and got.value.conflicts == want.value.conflicts
