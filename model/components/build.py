"""Build one scenario's Pyomo model from frozen case data, with its first-stage variables identified.

``build_scenario_model(data)`` is pure: it reads no files and no global state. The same function
serves the deterministic run, the extensive form and mpi-sppy's ``scenario_creator``.

Module order is explicit. Each module adds its components and registers its cost and balance
terms with the ``Registry``; ``balance`` and ``objective`` then assemble from the registry, which
is closed before the objective is built so nothing can be added late.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from model.components import (balance, demand, diversification, finished_magnets, licences, magnet_stock, objective, production,
                              recycling, sourcing, stockpile, transfers)
from model.input.data import CaseData
from model.components.registry import Registry
from model.components.sets import ModelSets, build_sets

MODULES = (sourcing, licences, production, finished_magnets, magnet_stock, demand, stockpile, recycling, transfers,
           diversification)


@dataclass(frozen=True)
class BuiltModel:
    model: pyo.ConcreteModel
    registry: Registry
    sets: ModelSets
    data: CaseData

    @property
    def first_stage_vars(self) -> list:
        return self.registry.first_stage_vars


def input_scalar(data: CaseData, key: str) -> float:
    """The value of the input scalar at a dotted path, e.g. ``risk.risk_weight_lambda``."""
    from model.input.dotted import get_dotted

    v = get_dotted(data.case.model_dump(), key)
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise ValueError(f"{key} is not a number in this case (got {v!r})")
    return float(v)


def build_scenario_model(data: CaseData, sets: ModelSets | None = None, name: str = "magnet_supply_risk",
                         tunable: frozenset[str] = frozenset()) -> BuiltModel:
    """Build one scenario. ``tunable``: dotted input keys to hold in mutable Params (for warm sweeps)."""
    sets = sets if sets is not None else build_sets(data)
    m = pyo.ConcreteModel(name)
    reg = Registry()
    model_keys = sorted(k for k in tunable if not k.startswith("risk."))
    if model_keys:
        m.TUNABLE = pyo.Set(initialize=model_keys, ordered=True)
        m.Tunable = pyo.Param(m.TUNABLE, mutable=True, initialize={k: input_scalar(data, k) for k in model_keys})
        reg.tunables.update({k: m.Tunable[k] for k in model_keys})
    for module in MODULES:
        module.add_components(m, data, sets, reg)
    balance.add_components(m, data, sets, reg)
    reg.close()
    objective.add_components(m, data, sets, reg)
    return BuiltModel(model=m, registry=reg, sets=sets, data=data)
