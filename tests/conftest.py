"""Shared by every test: the repository on ``sys.path``, and the default case solved once per session.

``default_run(mode="auto", evpi_vss=True)`` returns the default case's run (``model.app.run.run_case``
on ``inputs/base.yaml``), solved once per (mode, evpi_vss) for the whole session: the audit, canonical,
Excel, HTML, interrupt, permutation and regression tests share it instead of each solving it again.
A run is frozen, but its tables are pandas DataFrames: a test that changes one works on a copy
(``tests.test_audit.tampered`` does).

``default_models()`` returns the default deterministic model and the extensive form with CVaR and
non-anticipativity rows, built (not solved) once: the catalogue and model-documentation tests share it.
"""

import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BASE = ROOT / "inputs" / "base.yaml"
RISK_WEIGHT = 0.5  # any positive lambda turns the CVaR components on


@lru_cache(maxsize=None)
def solved_default(mode: str = "auto", evpi_vss: bool = True):
    from model.app.run import run_case

    return run_case(BASE, mode=mode, evpi_vss=evpi_vss)


@pytest.fixture(scope="session")
def default_run():
    return solved_default


@lru_cache(maxsize=None)
def default_models():
    """(deterministic BuiltModel, ExtensiveForm with CVaR and non-anticipativity rows)."""
    from dataclasses import replace

    from model.components.build import build_scenario_model
    from model.input.io import read_case
    from model.input.scenarios import scenario_cases
    from model.stochastic.extensive import build_extensive_form

    data = read_case(BASE)
    det = build_scenario_model(data)
    risk = data.case.risk.model_copy(update={"risk_weight_lambda": RISK_WEIGHT})
    averse = replace(data, case=data.case.model_copy(update={"risk": risk}))
    cases = scenario_cases(averse)
    assert len(cases) > 1, "the default case is expected to have several scenarios"
    ef = build_extensive_form(cases, nonant="rows")
    return det, ef
