"""Explicit registry of cost terms and balance terms (GridPath/Switch style, typed).

Each model module adds its Pyomo components and registers them here; the
balance and objective modules then assemble constraints and the objective
from what was registered. There are no lists of strings and no ``hasattr``
guards: a term is a Pyomo component object plus its stage or balance.

Balances (``Balance``)
----------------------
ELEMENT  key (e, g, t)  t of element e of origin g:      inflows == outflows  (stock change is an outflow)
DEMAND   key (s, t)     t of magnet for stream s:         supply == demand (from data)
MAGNET   key (m, g, t)  t of finished magnet m, origin g: inflows >= outflows (surplus is discarded; the change
                        of finished-magnet stock is an outflow)
SCRAP    key (m, t)     t of scrap material m:            inflows >= outflows (surplus is discarded)

Orders in transit at the start are constant inflows (``in_transit``) of ELEMENT, SCRAP and MAGNET.
SWARF    key (r, t)     t of swarf from recipe r:         inflows >= outflows (the rest is sold)

Tunables: a sweep asks the builder to make a few input scalars mutable Params (only those: a
mutable Param costs hand-off time); modules read such scalars through ``reg.scalar(key, value)``.

Costs are scalar Pyomo expressions in USD thousands (kUSD); with masses in t
and prices in USD/kg, ``price_usd_per_kg * t`` is kUSD exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import pyomo.environ as pyo


class Balance(Enum):
    ELEMENT = "element"
    DEMAND = "demand"
    MAGNET = "magnet"
    SCRAP = "scrap"
    SWARF = "swarf"


Stage = Literal["first", "second"]


@dataclass(frozen=True)
class CostTerm:
    name: str
    stage: Stage
    expr: pyo.Expression  # scalar Expression component, kUSD


@dataclass(frozen=True)
class BalanceTerm:
    name: str
    balance: Balance
    direction: Literal["in", "out"]
    component: pyo.Expression | pyo.Var  # indexed by the balance's key


class RegistryClosedError(RuntimeError):
    pass


@dataclass
class Registry:
    costs: list[CostTerm] = field(default_factory=list)
    balance_terms: list[BalanceTerm] = field(default_factory=list)
    first_stage_vars: list = field(default_factory=list)  # VarData, in a stable order
    tunables: dict = field(default_factory=dict)  # dotted input key -> mutable ParamData (sweeps only)
    _closed: bool = False
    _names: set = field(default_factory=set)

    def _check(self, name: str) -> None:
        if self._closed:
            raise RegistryClosedError(f"registry is closed; cannot register {name!r}")
        if name in self._names:
            raise ValueError(f"term {name!r} registered twice")
        self._names.add(name)

    def add_cost(self, name: str, stage: Stage, expr) -> None:
        self._check(f"cost:{name}")
        self.costs.append(CostTerm(name, stage, expr))

    def add_inflow(self, balance: Balance, name: str, component) -> None:
        self._check(f"{balance.value}:in:{name}")
        self.balance_terms.append(BalanceTerm(name, balance, "in", component))

    def add_outflow(self, balance: Balance, name: str, component) -> None:
        self._check(f"{balance.value}:out:{name}")
        self.balance_terms.append(BalanceTerm(name, balance, "out", component))

    def add_first_stage(self, vardatas) -> None:
        if self._closed:
            raise RegistryClosedError("registry is closed; cannot add first-stage variables")
        self.first_stage_vars.extend(vardatas)

    def scalar(self, key: str, value: float):
        """The input scalar at dotted ``key``: its mutable Param when a sweep tunes it, else ``value``."""
        return self.tunables.get(key, value)

    def close(self) -> None:
        self._closed = True

    def terms_by_key(self, balance: Balance, direction: str) -> dict:
        """key -> list of expressions, from every registered term of this balance and direction."""
        out: dict = defaultdict(list)
        for term in self.balance_terms:
            if term.balance is balance and term.direction == direction:
                comp = term.component
                for k in comp:
                    out[k].append(comp[k])
        return out

    def cost_terms(self, stage: Stage) -> list[CostTerm]:
        return [c for c in self.costs if c.stage == stage]
