"""Frozen, typed case data: the validated YAML plus resolved time series.

``CaseData`` is the only thing the model builder sees. It is produced once by
:func:`model.input.io.read_case` and never mutated (frozen dataclass, read-only
mappings, tuples): whatever a constructor or ``dataclasses.replace`` is given, every
series map is stored as a ``MappingProxyType`` of its own (no one else holds the dict
behind it) whose values are tuples, and the case itself is deeply frozen
(:mod:`model.input.schema`).

Glossary
--------
periods[k]                 label ``YYYY-MM`` of period k+1 (periods are 1-based in the model)
demand_t_per_period[s]     t of magnet demanded by stream s, per period
price_usd_per_kg[o]        price of offer o's material, USD/kg, per period
capacity_t_per_period[x]   nominal t per period for offer x, recycling route x (t feed) or ``plant`` (t magnet)
demand_as_read_t_per_period[s]  demand of the case as read, before any scenario event (the basis of
                           a months-of-use floor, which must not depend on the scenario)
availability_frac[x]       share of offer or route x's nominal capacity available, per period (1 unless a
                           scenario event says otherwise); contract reservations are bounded by the nominal
                           capacity, purchases by reservation x availability
quota_factor[r]            multiplier on licence rule r's quota, per period (scenario events; default 1)
approval_frac[r]           case-by-case approval share of rule r, per period (default the rule's approval_frac)
review_lead_periods[r]     review lead time of case-by-case rule r for orders placed in each period (scenario
                           effects of kind ``review_lead``); a rule absent here has its
                           ``review_lead_time_periods`` in every period
admitted[r]                1 in the periods where a scenario effect of kind ``admit`` lifts prohibited rule r,
                           else 0; a rule absent here is never lifted
from_csv                   ``kind:id`` of every series taken from a CSV column (e.g. ``capacity:plant``)
scenario                   name of the scenario this data represents (``base`` for the case as read)
probability                its probability
input_files                (path, sha256) of every file read
warnings                   :class:`~model.input.warnings.InputWarning` s of the case as read (legal inputs
                           that look unintended); scenario and expected-value cases keep them unchanged
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from model.input.schema import CaseInput


def freeze_series(d: Mapping[str, Iterable[float]]) -> Mapping[str, tuple[float, ...]]:
    return MappingProxyType({k: tuple(float(x) for x in v) for k, v in d.items()})


def _read_only_series(d: Mapping[str, Iterable[float]]) -> Mapping[str, tuple[float, ...]]:
    """``d`` as a read-only map of tuples (a new dict behind the proxy; tuples are kept as they are)."""
    return MappingProxyType({k: v if type(v) is tuple else tuple(v) for k, v in d.items()})


_SERIES = ("demand_t_per_period", "price_usd_per_kg", "capacity_t_per_period", "demand_as_read_t_per_period",
           "availability_frac", "quota_factor", "approval_frac", "review_lead_periods", "admitted")


@dataclass(frozen=True)
class CaseData:
    case: CaseInput
    periods: tuple[str, ...]
    demand_t_per_period: Mapping[str, tuple[float, ...]]
    price_usd_per_kg: Mapping[str, tuple[float, ...]]
    capacity_t_per_period: Mapping[str, tuple[float, ...]]
    demand_as_read_t_per_period: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    availability_frac: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    quota_factor: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    approval_frac: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    review_lead_periods: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    admitted: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    from_csv: frozenset = frozenset()
    scenario: str = "base"
    probability: float = 1.0
    input_files: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    warnings: tuple = ()

    def __post_init__(self) -> None:
        for name in _SERIES:
            object.__setattr__(self, name, _read_only_series(getattr(self, name)))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "from_csv", frozenset(self.from_csv))
        object.__setattr__(self, "input_files", tuple(tuple(x) for x in self.input_files))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    @property
    def T(self) -> int:
        return len(self.periods)

    def input_hash(self) -> str:
        """One hash over every input file's hash, in a stable order."""
        import hashlib

        h = hashlib.sha256()
        for path, digest in sorted(self.input_files, key=lambda x: x[0]):
            h.update(path.encode())
            h.update(digest.encode())
        return h.hexdigest()
