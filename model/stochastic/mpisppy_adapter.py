"""mpi-sppy entry points over the same per-scenario builder.

mpi-sppy (Pyomo's stochastic-programming library) calls ``scenario_creator(name, **kwargs)`` on
each rank for the scenarios that rank owns, and expects back the scenario's Pyomo model with its
probability in ``_mpisppy_probability`` and a root node listing the first-stage cost expression
and the non-anticipative variables (``sputils.attach_root_node``). Here that model is exactly the
one ``build_scenario_model`` makes for the deterministic run and for our extensive form.

    from model.stochastic.mpisppy_adapter import scenario_creator, scenario_names_creator
    names = scenario_names_creator(case_path="inputs/base.yaml")
    ef = mpisppy.utils.sputils.create_EF(names, scenario_creator,
                                          scenario_creator_kwargs={"case_path": "inputs/base.yaml"})

Only the risk-neutral objective (first-stage + scenario cost) is attached; the CVaR term of our
own extensive form is not passed to mpi-sppy. mpi-sppy is optional: importing this module works
without it, and calling ``scenario_creator`` then raises an error naming the extra to install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyomo.environ as pyo

from model.components.build import build_scenario_model
from model.input.data import CaseData
from model.input.io import read_case
from model.input.scenarios import scenario_cases

INSTALL_HINT = "mpi-sppy is not installed: pip install -c constraints.txt -e '.[mpi]' (or '.[test]')"


@lru_cache(maxsize=8)
def _cases_for(case_path: str) -> tuple[CaseData, ...]:
    return tuple(scenario_cases(read_case(Path(case_path))))


def _lookup(case_path: str | None, cases) -> dict[str, CaseData]:
    if cases is None:
        if case_path is None:
            raise ValueError("scenario_creator needs case_path= or cases=")
        cases = _cases_for(str(case_path))
    return {c.scenario: c for c in cases}


def scenario_names_creator(num_scens: int | None = None, start: int | None = None, case_path: str | None = None,
                           cases=None) -> list[str]:
    """Scenario names in the case's stable order (optionally ``num_scens`` of them from ``start``)."""
    names = list(_lookup(case_path, cases))
    s = start or 0
    return names[s:] if num_scens is None else names[s:s + num_scens]


def scenario_creator(scenario_name: str, case_path: str | None = None, cases=None) -> pyo.ConcreteModel:
    try:
        from mpisppy.utils import sputils
    except ImportError as e:  # pragma: no cover - exercised when the extra is absent
        raise ImportError(INSTALL_HINT) from e
    by_name = _lookup(case_path, cases)
    if scenario_name not in by_name:
        raise KeyError(f"unknown scenario {scenario_name!r}")
    d = by_name[scenario_name]
    b = build_scenario_model(d, name=scenario_name)
    m = b.model
    sputils.attach_root_node(m, m.FirstStageCost_kusd, list(b.first_stage_vars))
    m._mpisppy_probability = d.probability
    return m


def kw_creator(case_path: str, **_) -> dict:
    return {"case_path": case_path}


def scenario_denouement(rank, scenario_name, scenario) -> None:
    """mpi-sppy calls this after a solve; reporting is done by rank 0 through model.report.files instead."""
    return None
