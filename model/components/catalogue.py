"""The constraint catalogue: what the rest of the code needs to know about each constraint component.

Each component module declares, next to the constraints it builds, a module-level tuple
``CATALOGUE`` with one :class:`ConstraintInfo` per constraint component (the extensive form's own
rows are in :mod:`model.stochastic.extensive`). An entry says

- ``component``    the Pyomo constraint component's name (``m.LicenceQuota`` -> ``"LicenceQuota"``);
- ``marginal``     whether its rows' marginal values are reported (``marginal_values.csv``), as which
                   family (:class:`MarginalKind`: reported name and unit), and how a row is named and
                   dated from its index (functions of the index and the period labels); ``None``: not
                   reported;
- ``infeasible``   how an infeasibility diagnosis words one of its rows in input terms, and the input
                   field behind it (:class:`Infeasible`); ``None``: the row's Pyomo name is printed;
- ``period_last``  whether the last entry of its index is a period number (1-based; the diagnosis
                   prints the period's label in its place).

Results (:mod:`model.results.tables`: the marginal values and the limits the canonical plan reports
as one-sided rates) and the diagnosis (:mod:`model.results.diagnose`) read the entries;
``tests/test_catalogue.py`` fails when a built constraint component has no entry or an entry names
no built component.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, Sequence

Index = Any  # a row's index: a tuple, or a scalar when the component is indexed by a one-dimensional set


@dataclass(frozen=True)
class MarginalKind:
    """A family of reported limits: the ``constraint`` column of ``marginal_values.csv``."""

    name: str  # e.g. "licence_quota"
    unit: str  # what one more unit of the limit is: marginal values are USD per this (e.g. "t of material")
    label: str  # how report prose names its rows (e.g. "quota")


LICENCE_QUOTA = MarginalKind("licence_quota", "t of material", "quota")
SUPPLIER_CAPACITY = MarginalKind("supplier_capacity", "t of material", "supplier")
PLANT_CAPACITY = MarginalKind("plant_capacity", "t of magnet", "plant")
STOCKPILE_CAPACITY = MarginalKind("stockpile_capacity", "t of element", "stockpile")
RECYCLING_CAPACITY = MarginalKind("recycling_capacity", "t of feed", "recycling")
DIVERSIFICATION_CAP = MarginalKind("diversification_cap", "t of element", "diversification")
MAGNET_STOCK_CAPACITY = MarginalKind("magnet_stock_capacity", "t of magnet", "magnet stock")
TRANSFER_CAPACITY = MarginalKind("transfer_capacity", "t of element or magnet moved", "lane")
MARGINAL_KINDS = (  # the order of families in marginal_values.csv (an output: do not reorder; append new ones)
    LICENCE_QUOTA, SUPPLIER_CAPACITY, PLANT_CAPACITY, STOCKPILE_CAPACITY, RECYCLING_CAPACITY, DIVERSIFICATION_CAP,
    MAGNET_STOCK_CAPACITY, TRANSFER_CAPACITY,
)


@dataclass(frozen=True)
class Marginal:
    kind: MarginalKind
    name_of: Callable[[Index], str]  # index -> the row's ``name``
    period_of: Callable[[Index, Sequence[str]], str]  # (index, period labels) -> the row's ``period``


@dataclass(frozen=True)
class Infeasible:
    """``text`` and ``field`` are format templates over the index entries ({0}, {1}, ...), the period
    (when ``period_last``) already replaced by its label. A ``field`` in parentheses, such as
    ``"(balance)"``, names no input and is not printed."""

    text: str  # e.g. "licence quota of rule {0} in {1}"
    field: str  # e.g. "licence_rules[{0}].quota_t_per_period"


@dataclass(frozen=True)
class ConstraintInfo:
    component: str
    marginal: Marginal | None = None
    infeasible: Infeasible | None = None
    period_last: bool = True


# how rows are named and dated, for Marginal
def first(k: Index) -> str:
    """The first index entry (the offer, rule, element, route or limit id)."""
    return k[0]


DEFAULT_PLANT = "plant"  # the id of a one-plant case's plant (``plant:``)


def at_plant(k: Index) -> str:
    """A (plant, id, ...) index named by its id, with ``@plant`` unless the plant is the default one."""
    return k[1] if k[0] == DEFAULT_PLANT else f"{k[1]}@{k[0]}"


def period_label(k: Index, periods: Sequence[str]) -> str:
    """The label of the period the index ends in (or is)."""
    t = k[-1] if isinstance(k, tuple) else k
    return periods[t - 1]


def year(k: Index, periods: Sequence[str]) -> str:
    """The calendar year the index ends in."""
    return str(k[-1])


@cache
def scenario_catalogue() -> tuple[ConstraintInfo, ...]:
    """The entries of one scenario model's constraint components, in build order."""
    from model.components import balance, build

    return tuple(c for mod in (*build.MODULES, balance) for c in mod.CATALOGUE)


@cache
def full_catalogue() -> tuple[ConstraintInfo, ...]:
    """The scenario model's entries, then the extensive form's own."""
    from model.stochastic import extensive

    return scenario_catalogue() + tuple(extensive.CATALOGUE)


@cache
def by_component() -> dict[str, ConstraintInfo]:
    out: dict[str, ConstraintInfo] = {}
    for c in full_catalogue():
        if c.component in out:
            raise ValueError(f"constraint component {c.component!r} is catalogued twice")
        out[c.component] = c
    return out


@cache
def marginal_families() -> tuple[ConstraintInfo, ...]:
    """The entries whose marginal values are reported, in the order of :data:`MARGINAL_KINDS`
    (within a family, in build order)."""
    order = {k: i for i, k in enumerate(MARGINAL_KINDS)}
    reported = [c for c in scenario_catalogue() if c.marginal is not None]
    unknown = sorted(c.component for c in reported if c.marginal.kind not in order)
    if unknown:
        raise ValueError(f"marginal kinds of {unknown} are not in MARGINAL_KINDS")
    return tuple(sorted(reported, key=lambda c: order[c.marginal.kind]))
