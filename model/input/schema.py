"""Input schema: what a case file may contain, with units, defaults and meaning.

Every class here is a frozen pydantic v2 model with ``extra="forbid"``: an
unknown key is an input error, and nothing downstream can mutate the data. Frozen
deeply: list fields hold a :class:`~model.frozen.FrozenList` (a tuple) and map fields
a :class:`~model.frozen.FrozenMap` (a read-only dict); both validate exactly as
``list`` and ``dict`` (same errors) and read as lists and maps in ``docs/inputs.md``.
Each field's docstring is its reference entry; ``docs/inputs.md`` is generated
from these docstrings (``python -m model.input.docgen``) and a test keeps it in sync.

Units: mass in tonnes (t) of the named material or element; prices and costs
in USD per kg as in the spec (``model.md``); time in periods of
``horizon.months_per_period`` months. Fractions end in ``_frac``.

Cross-references (an offer's material, a stream's grade, a rule's origin
groups, ...) are checked in :mod:`model.input.validate`, not here, so that every
broken reference in a file is reported at once with its path.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WrapValidator, field_validator

from pydantic import model_validator

from model.frozen import FrozenList, FrozenMap, freeze

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Frac = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PosFrac = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
NonNegInt = Annotated[int, Field(ge=0, le=10_000)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]

# Upper bounds of magnitudes: far above any real value (the shipped cases' largest price, fee or penalty is
# 6,000 USD/kg, their largest mass 300 t, world NdFeB output is about 250,000 t a year), small enough that
# HiGHS's tolerances (about 1e-9 t) times the largest money per t stay below the audit's 1 USD tolerance:
# with every price and penalty at 1e5 USD/kg and every mass at 1e6 t the plan solves and passes its audit;
# at 1e6 USD/kg one random case in 200 already fails it, and at 1e300 the costs overflow to inf.
MAX_USD_PER_KG = 100_000
"""Largest price, fee, cost, credit or penalty, USD per kg (per period for holding costs)."""
MAX_T = 1_000_000
"""Largest mass: capacity, quota, demand, stock, floor or commitment, t (per period where the field says so)."""
MAX_USD_PER_T_PER_PERIOD = 1000 * MAX_USD_PER_KG
"""Largest capacity-expansion cost, USD per t/period of capacity (1e5 USD/kg)."""
MAX_MONTHS = 1200
"""Largest months-of-use floor (100 years)."""
MAX_FACTOR = 100
"""Largest scenario multiplier of a price, demand, quota or capacity."""
MAX_RISK_WEIGHT = 1000
"""Largest weight of CVaR in the objective."""
LAST_MONTH = "9999-12"
"""The horizon must end by this month (months are written with four-digit years)."""


def bound_text(x: float) -> str:
    """A bound as a message shows it: ``1e5`` for 100000, ``1200`` for 1200."""
    if x >= 10_000:
        mant, exp = f"{x:e}".split("e")
        return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"
    return f"{x:g}"


class AtMost:
    """Upper bound ``le`` of a magnitude, in ``unit``: its error says both ("a number at most 1e5 USD/kg").

    Written as metadata of the field's type (``docs/inputs.md`` shows it as ``<= le``); checked after the
    type's own checks, so -0.0 also reads as 0 here."""

    def __init__(self, le: float, unit: str):
        self.le, self.unit = le, unit

    def __repr__(self) -> str:
        return f"AtMost({self.le!r}, {self.unit!r})"

    def __get_pydantic_core_schema__(self, source, handler):
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, v: float) -> float:
        if v > self.le:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("at_most", "a number at most {bound}" + (" {unit}" if self.unit else ""),
                                      {"bound": bound_text(self.le), "unit": self.unit, "le": self.le})
        return v + 0.0


def _bounded(le: float, unit: str):
    return Annotated[float, Field(ge=0, allow_inf_nan=False), AtMost(le, unit)]


UsdPerKg = _bounded(MAX_USD_PER_KG, "USD/kg")
Tonnes = _bounded(MAX_T, "t")
UsdPerTPerPeriod = _bounded(MAX_USD_PER_T_PER_PERIOD, "USD per t/period")
Months = _bounded(MAX_MONTHS, "months")
Factor = _bounded(MAX_FACTOR, "(a multiplier)")
RiskWeight = _bounded(MAX_RISK_WEIGHT, "")


class _AsciiDigits:
    """A month's digits are 0-9 (the pattern's ``\\d`` also matches other scripts' digits, which Python reads as numbers)."""

    def __get_pydantic_core_schema__(self, source, handler):
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self._check, handler(source))

    @staticmethod
    def _check(v: str) -> str:
        if not v.isascii():
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("month_ascii", 'a month YYYY-MM written with the digits 0-9 (e.g. "2027-01")')
        return v


Month = Annotated[Month, _AsciiDigits()]

SWARF_FEED = "swarf"
"""Reserved feed name of a recycling route that takes the plant's own swarf."""


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, strict=False
    )

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy with ``update`` applied. Pydantic does not validate ``update``, so its lists and maps
        are frozen here as validation would (``case.model_copy(update={"offers": [...]})`` stays frozen)."""
        if update:
            update = {k: freeze(v) for k, v in update.items()}
        return super().model_copy(update=update, deep=deep)


class Horizon(Strict):
    start_month: Month
    """First month of period 1, ``YYYY-MM``."""
    periods: Annotated[int, Field(ge=1, le=600)]
    """Number of planning periods."""
    months_per_period: Annotated[int, Field(ge=1, le=12)] = 1
    """Length of one period in months. Every `_per_period` quantity refers to this length."""

    @model_validator(mode="after")
    def _ends_by_last_month(self):
        last = month_index(self.start_month) + self.periods * self.months_per_period - 1
        if last > month_index(LAST_MONTH):
            raise ValueError(f"a horizon that ends by {LAST_MONTH} (start_month {self.start_month} + {self.periods} "
                             f"periods of {self.months_per_period} month(s) ends in {month_label(last)})")
        return self


class OriginGroup(Strict):
    id: Id
    """Origin group name used by offers, licence rules, stock and recycling (e.g. `CN`, `allied`)."""
    description: str = ""
    """Free text shown in reports."""


class Material(Strict):
    id: Id
    """Material name referenced by offers, licence rules and recycling feeds."""
    kind: Literal["oxide", "metal", "alloy", "scrap", "magnet"]
    """`oxide`/`metal`/`alloy` enter element stock on arrival; `scrap` can only feed a recycling route; `magnet` is a finished magnet of `grade`."""
    element_content_frac: FrozenMap[Id, Frac] = Field(default_factory=FrozenMap)
    """t of element per t of material, per tracked element (not for magnets)."""
    grade: Id | None = None
    """Magnet grade, required when `kind` is `magnet`, forbidden otherwise."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class ContractTerms(Strict):
    """Terms that shape a contract's reservation over time (model.md §5.1). Each term is optional; an offer without `terms` reserves freely period by period. Terms are first-stage commitments, so every scenario shares them."""

    min_term_periods: Annotated[int, Field(ge=1, le=600)] | None = None
    """Shortest term, periods. When given, the reservation above `committed_t_per_period` is made of tranches: each a volume in t/period held constant from its start period for a term of `min_term_periods` to `max_term_periods` consecutive periods, starting after the notice and ending inside the horizon (at the latest in the last period whose orders still arrive in the horizon). Tranches may overlap (stack). Blank: no tranches (the reservation may change every period, within any band)."""
    max_term_periods: Annotated[int, Field(ge=1, le=600)] | None = None
    """Longest term, periods (needs `min_term_periods`; at most the horizon). Blank: as long as the horizon allows."""
    max_change_t_per_period: Tonnes | None = None
    """Band: from one period to the next the reservation may rise or fall by at most this many t/period. Give at most one of this and `max_change_frac_per_period`. Blank: no band."""
    max_change_frac_per_period: Frac | None = None
    """Band as a share of nominal capacity: from one period to the next the reservation may rise or fall by at most this share of the larger of the two periods' nominal capacities (`capacity_t_per_period`), t/period. Blank: no band."""
    take_or_pay_frac: Frac = 0.0
    """Take-or-pay: each period the buyer pays, at the offer's price of that period (USD/kg), for the part of this share of the available reservation (availability x reservation, t) that it does not buy. A cost, not a hard constraint (unlike `min_take_frac`). 0: none."""
    notice_periods: NonNegInt = 0
    """Notice, periods: in periods 1 to `notice_periods` the reservation is exactly `committed_t_per_period` (0 if blank), and a tranche starts in period `notice_periods` + 1 at the earliest."""


class Offer(Strict):
    id: Id
    """Unique offer name; also the column name in the price and capacity CSVs."""
    supplier: str
    """Supplier name (a label for reports and scenario events)."""
    country: str
    """Country of origin, used by diversification limits."""
    origin_group: Id
    """Origin group for licence purposes."""
    material: Id
    """Material sold."""
    plant: Id | None = None
    """The plant the offer delivers to (its destination for licence rules). Required with several `plants`; blank with one: that plant. A supplier that delivers to two plants has an offer per plant."""
    kind: Literal["spot", "contract"]
    """`spot`: buy up to capacity each period. `contract`: reserve first (a first-stage decision), then buy within the reservation."""
    capacity_t_per_period: Tonnes | None = None
    """Maximum t of material orderable per period (or reservable, for contracts). Blank: taken from the capacity CSV column named after the offer."""
    price_usd_per_kg: UsdPerKg | None = None
    """Purchase price, USD per kg of material. Blank: taken from the price CSV column named after the offer."""
    lead_time_periods: NonNegInt = 0
    """Periods between order and arrival. A case-by-case licence adds its review lead time."""
    reservation_fee_usd_per_kg: UsdPerKg = 0.0
    """Contracts: fee per kg of capacity reserved, paid whether bought or not."""
    min_take_frac: Frac = 0.0
    """Contracts: minimum share of the reservation that must be bought each period (take-or-pay). A hard constraint."""
    committed_t_per_period: Tonnes = 0.0
    """Contracts: t per period already committed (a signed contract): the reservation may not be lower. A hard constraint."""
    terms: ContractTerms | None = None
    """Contracts: terms of the contract (flat volume over a term, a band on changes, take-or-pay, notice). Blank: the reservation is chosen freely period by period."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class LicenceRenewal(Strict):
    """The term and renewal of a licence (model.md §6.1): due for renewal every `every_periods` periods from its first due date, and renewed unless `renewed` is false or a scenario effect of kind `renewal` refuses it. From the first renewal not granted to the horizon end the rule's quota is 0."""

    every_periods: Annotated[int, Field(ge=1, le=600)]
    """Term of the licence, periods (12 for a one-year licence in monthly periods): it falls due every this many periods."""
    first_due: Month | None = None
    """First month the licence falls due for renewal (`YYYY-MM`, inside the horizon; the first month of the new term). Blank: `every_periods` periods after `valid_from` (blank: after the horizon start)."""
    renewed: bool = True
    """Whether the licence is renewed when due (the plan's assumption). `false`: it lapses at the first due date."""


class Company(Strict):
    """The planning company's standing under export licences: how licences that name customers name it (model.md §6.1). Blank: no rule may name customers or admit only validated end users."""

    customer_id: Id
    """The company's customer id (its plant or buying entity) as a licence's `customers` list names it."""
    validated_end_user: bool = False
    """Whether the company is a validated end user; a rule with `validated_end_users_only` admits only one."""


class LicenceRule(Strict):
    id: Id
    """Rule name; its quota constraint is reported under this name."""
    origin_groups: FrozenList[Id] = Field(min_length=1)
    """Origin groups whose exports the rule covers."""
    materials: FrozenList[Id] = Field(min_length=1)
    """Materials covered."""
    end_uses: FrozenList[Id] = Field(min_length=1)
    """End uses the rule governs. `prohibited` admits none of them; the other regimes admit them. An end use that no rule in force names for an origin group and material is admitted freely."""
    regime: Literal["free", "general", "case_by_case", "prohibited"]
    """Licence regime."""
    quota_t_per_period: Tonnes | None = None
    """`general` and `case_by_case`: t of covered material orderable per period, all covered offers together. Required for these regimes."""
    approval_frac: Frac = 1.0
    """`case_by_case`: share of the quota expected to be approved (the expected-value view of approval)."""
    review_lead_time_periods: NonNegInt = 0
    """`case_by_case`: extra periods of licence review added to the offer's lead time."""
    valid_from: Month | None = None
    """First month in force (`YYYY-MM`, inside the horizon). Blank: from the horizon start."""
    valid_to: Month | None = None
    """Last month in force (`YYYY-MM`, inside the horizon). Blank: to the horizon end."""
    suppliers: FrozenList[str] | None = None
    """Named exporters (names as in `offers[].supplier`): the rule covers only their offers (a general licence granted to JL Mag, say). While such a rule is in force it governs the orders of the offers it names in place of the rules that name no supplier: their quotas and review lead times do not apply to those orders (prohibitions still do). Not for `prohibited` rules (stock is pooled by origin group, whoever sold it). Blank: every supplier's offers."""
    customers: FrozenList[Id] | None = None
    """Named customers the licence is granted for: the rule admits the company only if `company.customer_id` or the receiving plant's id is among them. A `free`, `general` or `case_by_case` rule in force that does not admit the company bars the orders it governs (they cannot be placed); a `prohibited` rule naming customers applies only when the company is among them. Needs a `company` block. Blank: any customer."""
    validated_end_users_only: bool = False
    """`free`, `general` or `case_by_case`: the rule admits the company only if it is a validated end user (`company.validated_end_user`); otherwise it bars the orders it governs, as for `customers`."""
    destination_countries: FrozenList[str] | None = None
    """Destination countries (as in `plants[].country`): the rule covers only orders delivered to plants in them and, for `prohibited`, the use of covered material at those plants (the January 2026 halt of exports to Japan's military users, say). Blank: every destination."""
    renewal: LicenceRenewal | None = None
    """`general` and `case_by_case`: the licence runs for a term and falls due for renewal (a one-year general licence). A lapsed licence (not renewed, or refused by a scenario effect of kind `renewal`) stays in force with quota 0, so its orders cannot be placed. Blank: no renewal (in force over its whole validity)."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class Recipe(Strict):
    id: Id
    """Recipe name, unique across grades."""
    element_t_per_t_magnet: FrozenMap[Id, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(min_length=1)
    """t of each element contained in 1 t of finished magnet."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class Grade(Strict):
    id: Id
    """Magnet grade (e.g. `SH`)."""
    recipes: FrozenList[Recipe] = Field(min_length=1)
    """Alternative element recipes; the model chooses the mix per period."""
    reference_recipe: Id | None = None
    """The recipe whose element use sets a stockpile's `floor_months_of_use` (a months-of-use floor needs one recipe to count months by). Blank: the first recipe listed, so name it when a grade has several recipes and list order should not matter."""

    @property
    def reference(self) -> "Recipe":
        """The reference recipe: ``reference_recipe`` or else the first listed."""
        if self.reference_recipe is None:
            return self.recipes[0]
        return next(r for r in self.recipes if r.id == self.reference_recipe)


class Plant(Strict):
    """A magnet plant (model.md §7). A case has one (`plant:`) or several (`plants:`, model.md §7.1)."""

    id: Id = "plant"
    """Plant name, unique among plants; what `plant` fields of streams, offers, stockpile, magnet stock and recycling routes name. Blank (a single `plant:`): `plant`."""
    country: str | None = None
    """Country the plant is in: licence rules with `destination_countries` select plants by it. Blank: no country (no destination rule applies to it)."""
    grades: FrozenList[Id] | None = None
    """Grades the plant can make; a stream served by the plant must demand one of them. Blank: every grade."""
    capacity_t_per_period: Tonnes | None = None
    """Magnet output capacity, t of magnet per period. Blank: the capacity CSV column `plant` (single plant) or the column named after the plant (`plants:`)."""
    yield_frac: PosFrac
    """t of magnet per t of alloy input; the rest is swarf."""
    conversion_cost_usd_per_kg: UsdPerKg = 0.0
    """Oxide-to-magnet conversion cost per kg of magnet made."""
    swarf_credit_usd_per_kg: UsdPerKg = 0.0
    """Credit per kg of swarf that is sold rather than recycled."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class Stream(Strict):
    id: Id
    """Demand stream name; also the column name in the demand CSV."""
    grade: Id
    """Magnet grade demanded."""
    end_use: Id
    """End use (e.g. `civil`, `defense`) that licence rules admit or not."""
    plant: Id | None = None
    """The plant that makes this stream's magnets and receives the finished magnets bought for it. Required with several `plants`; blank with one: that plant."""
    demand_t_per_period: Tonnes | None = None
    """t of magnet per period. Blank: the demand CSV column named after the stream."""
    shortage_cost_usd_per_kg: UsdPerKg
    """Penalty per kg of demand left unmet."""
    min_service_frac: Frac | None = None
    """Hard demand-service level: in every period at least this share of demand must be met (a hard constraint; blank: none)."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class StockpileElement(Strict):
    element: Id
    """Element stocked (one entry per element and plant)."""
    plant: Id | None = None
    """The plant holding this stock. Required with several `plants`; blank with one: that plant."""
    initial_t_by_origin: FrozenMap[Id, Tonnes] = Field(default_factory=FrozenMap)
    """Stock at the start of period 1, t of element, by origin group."""
    capacity_t: Tonnes
    """Maximum stock at the end of any period, t of element, all origin groups."""
    holding_cost_usd_per_kg_per_period: UsdPerKg = 0.0
    """Cost of holding 1 kg of element for one period (end-of-period stock)."""
    floor_t: Tonnes | None = None
    """Strategic floor, t of element (soft: shortfall is penalised). Give at most one of `floor_t` and `floor_months_of_use`."""
    floor_months_of_use: Months | None = None
    """Strategic floor in months of average use, where use is the demand of the case as read (scenario events do not move the floor) under each grade's reference recipe divided by the plant yield."""
    floor_penalty_usd_per_kg: UsdPerKg = 0.0
    """Penalty per kg below the floor, per period."""
    floor_hard: bool = False
    """When true the floor is a hard constraint (stock may never end a period below it) instead of a penalised target."""
    terminal_min_t: Tonnes | None = None
    """Stock required at the end of the horizon, t of element (soft). Blank: the initial stock."""
    terminal_penalty_usd_per_kg: UsdPerKg | None = None
    """Penalty per kg below the terminal requirement. Blank: 1.25 x the larger of (the largest price per kg of element content among this element's offers + the holding cost over the whole horizon) and the floor penalty, so that meeting it is cheaper than missing it."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""

    @field_validator("floor_months_of_use")
    @classmethod
    def _one_floor(cls, v, info):
        if v is not None and info.data.get("floor_t") is not None:
            raise ValueError("give floor_t or floor_months_of_use, not both")
        return v


class MagnetStock(Strict):
    """A store of finished magnets of one grade (model.md §8.1), kept by magnet material and origin group: a magnet held keeps its origin, and drawing it for a stream obeys that stream's end-use eligibility in the period drawn, as a magnet bought then would."""

    grade: Id
    """Magnet grade stored (one entry per grade and plant); every magnet material of this grade can be held."""
    plant: Id | None = None
    """The plant holding this store. Required with several `plants`; blank with one: that plant."""
    capacity_t: Tonnes
    """Maximum stock at the end of any period, t of magnet, all materials and origin groups of the grade."""
    holding_cost_usd_per_kg_per_period: UsdPerKg = 0.0
    """Cost of holding 1 kg of finished magnet for one period (end-of-period stock)."""
    initial_t_by_origin: FrozenMap[Id, Tonnes] = Field(default_factory=FrozenMap)
    """Stock at the start of period 1, t of magnet, by origin group; of the grade's magnet material (the grade must then have exactly one). No terminal requirement: what is left at the horizon end is not valued."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class InTransit(Strict):
    """An order placed before the horizon and still under way at its start (model.md §5.2). It is already licensed and paid: it arrives as ordered, counts against no capacity, quota or diversification limit of the horizon, and costs nothing in it. What arrives obeys eligibility like any arrival of its origin."""

    offer: Id
    """The offer it was placed under: its material, origin group and supplier."""
    arrival_period: Month
    """Month it arrives (`YYYY-MM`, inside the horizon)."""
    quantity_t: Tonnes
    """t of the offer's material."""


class Transfer(Strict):
    """A lane between two plants (model.md §7.1): element stock and finished magnets move from `from_plant` to `to_plant`, arriving `lead_time_periods` later, keeping their origin group. What moves obeys eligibility where it is used; it counts against no licence quota (the export was licensed to the first plant)."""

    id: Id
    """Lane name."""
    from_plant: Id
    """Plant it leaves."""
    to_plant: Id
    """Plant it reaches."""
    lead_time_periods: NonNegInt = 0
    """Periods in transit."""
    cost_usd_per_kg: UsdPerKg = 0.0
    """Cost per kg moved (element content, or finished magnet)."""
    capacity_t_per_period: Tonnes | None = None
    """Largest t moved per period, elements and magnets together. Blank: no limit."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class CapacityExpansion(Strict):
    cost_usd_per_t_per_period: UsdPerTPerPeriod
    """One-off cost per t/period of added feed capacity (for the horizon; annualise or pro-rate before entering)."""
    build_lead_time_periods: NonNegInt = 0
    """Periods before added capacity is available (usable from period lead+1)."""
    max_t_per_period: Tonnes
    """Largest expansion, t feed per period."""


class RecyclingRoute(Strict):
    id: Id
    """Route name; also the column name in the capacity CSV."""
    feed: Id
    """`swarf` (the swarf of the route's plant) or a material of kind `scrap` (delivered to the route's plant)."""
    plant: Id | None = None
    """The plant where the route runs: it recycles that plant's swarf and scrap and returns the recovered elements to its stock. Required with several `plants`; blank with one: that plant."""
    grades: FrozenList[Id] | None = None
    """Swarf routes: grades whose swarf the route accepts (a grade-locked short loop). Blank: all grades."""
    capacity_t_feed_per_period: Tonnes | None = None
    """Feed capacity, t of feed per period. Blank: the capacity CSV column named after the route."""
    cost_usd_per_kg_feed: UsdPerKg = 0.0
    """Processing cost per kg of feed."""
    recovery_frac: FrozenMap[Id, PosFrac] = Field(min_length=1)
    """Share of each element in the feed recovered into element stock. Elements not listed are not recovered."""
    output_origin_group: Id
    """Origin group of the recovered elements."""
    country: str | None = None
    """Country of the recovered elements for diversification limits. Blank: the output origin group's name."""
    expansion: CapacityExpansion | None = None
    """Optional capacity expansion, a first-stage decision."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class DiversificationLimit(Strict):
    id: Id
    """Limit name, reported with its dual."""
    element: Id | None = None
    """Element limited. Blank: all tracked elements together (t of element content)."""
    group_by: Literal["origin_group", "country"]
    """Whether `value` names an origin group or a country."""
    value: str
    """The origin group or country whose share is capped."""
    plant: Id | None = None
    """Limit the supply of one plant (arrivals at it and its recycling). Blank: all plants together."""
    max_share_frac: Frac
    """Largest share of the basis, per calendar year, from `value`."""
    basis: Literal["purchases", "supply"] = "purchases"
    """`purchases`: element content of arrivals of purchased oxide/metal/alloy. `supply`: the same plus recycled output."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class Risk(Strict):
    cvar_alpha: Annotated[float, Field(gt=0, lt=1)] = 0.95
    """CVaR confidence level alpha (the tail is the worst 1 - alpha of probability)."""
    risk_weight_lambda: RiskWeight = 0.0
    """Weight of CVaR in the objective; 0 is risk neutral."""
    non_anticipative_periods: NonNegInt = 1
    """Periods decided before the scenario is known (first stage)."""


class Finance(Strict):
    """How the finance outputs value the plan's costs over time (the cost by period and year, present value and budget tables, model.md §14.1). They change no decision: the model minimises undiscounted cost."""

    discount_rate_frac_per_year: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """Discount rate, fraction per year (0.08 = 8 %/yr, compounded yearly). Each period's cost is paid at the end of the period and discounted by (1 + rate) ^ -(months from 1 January of `base_year` to that end / 12). 0: present value = undiscounted cost."""
    base_year: Annotated[int, Field(ge=1900, le=2200)] | None = None
    """Calendar year whose 1 January is the present-value date. Blank: the year of `horizon.start_month`."""


class Selection(Strict):
    """What a scenario effect applies to. Every criterion given must match (AND); within one criterion any listed value matches (OR). Offer criteria (`offers`, `suppliers`, `countries`, `origin_groups`, `materials`) select offers; `licence_rules` (or `origin_groups` + `materials`) select licence rules; `streams` select demand streams; `recycling_routes` select routes."""

    offers: FrozenList[Id] | None = None
    """Offer ids."""
    suppliers: FrozenList[str] | None = None
    """Supplier names."""
    countries: FrozenList[str] | None = None
    """Countries of offers."""
    origin_groups: FrozenList[Id] | None = None
    """Origin groups (of offers, or covered by licence rules)."""
    materials: FrozenList[Id] | None = None
    """Materials (of offers, or covered by licence rules)."""
    licence_rules: FrozenList[Id] | None = None
    """Licence rule ids."""
    streams: FrozenList[Id] | None = None
    """Demand stream ids."""
    recycling_routes: FrozenList[Id] | None = None
    """Recycling route ids."""


class Effect(Strict):
    """One change a scenario makes to the inputs, over a window of periods."""

    kind: Literal["availability", "quota", "approval", "prohibit_end_uses", "price", "demand", "review_lead", "admit", "renewal"]
    """`availability`: multiply selected offers' and routes' available capacity by `factor` (0 = embargo or outage). `quota`: multiply selected rules' quota by `factor`. `approval`: set selected case-by-case rules' approval share to `approval_frac`. `prohibit_end_uses`: selected origin groups x materials may not serve `end_uses` (a de-minimis or end-user rule in force). `price`: multiply selected offers' prices by `factor`. `demand`: multiply selected streams' demand by `factor`. `review_lead`: set selected case-by-case rules' review lead time to `review_lead_time_periods` for orders placed in the window. `admit`: selected prohibited rules admit their end uses over the window (the prohibition is lifted). `renewal`: the first renewal of each selected rule with `renewal` that falls due in the window is refused: from that due date to the horizon end the rule's quota is 0."""
    select: Selection
    """What the effect applies to."""
    factor: Factor | None = None
    """Multiplier for `availability`, `quota`, `price` and `demand`."""
    approval_frac: Frac | None = None
    """New approval share for `approval`."""
    end_uses: FrozenList[Id] | None = None
    """End uses prohibited by `prohibit_end_uses`."""
    review_lead_time_periods: NonNegInt | None = None
    """New review lead time for `review_lead`, periods (added to the lead time of orders placed in the window)."""
    start: Month
    """First month of the window (must start after the non-anticipative window)."""
    periods: Annotated[int, Field(ge=1, le=600)] | None = None
    """Length of the window in periods. Blank: to the end of the horizon."""
    start_latest: Month | None = None
    """Sampling only: the start is drawn uniformly between `start` and this month."""
    periods_max: Annotated[int, Field(ge=1, le=600)] | None = None
    """Sampling only: the length is drawn uniformly between `periods` and this."""


class ScenarioOption(Strict):
    """A scenario (mode `listed`) or one option of a factor (modes `product` and `sample`)."""

    name: Id
    """Name, unique within its list."""
    probability: Frac
    """Probability; within a list they must sum to 1."""
    effects: FrozenList[Effect] = Field(default_factory=FrozenList)
    """Changes this scenario or option makes."""
    description: str = ""
    """Free text shown in reports."""
    source: str = ""
    """Where the figures come from (dossier code) or `EST`."""


class ScenarioFactor(Strict):
    """A source of uncertainty with mutually exclusive options (e.g. the policy state)."""

    name: Id
    """Factor name."""
    options: FrozenList[ScenarioOption] = Field(min_length=1)
    """Mutually exclusive options; probabilities sum to 1."""


class Scenarios(Strict):
    """Disruption scenarios. Absent: one scenario, the case as read, with probability 1."""

    mode: Literal["listed", "product", "sample"]
    """`listed`: the scenarios in `listed`. `product`: every combination of one option per factor, probability the product. `sample`: `count` scenarios, each drawing one option per factor and each effect's window from its ranges, with `seed`; each has probability 1/count."""
    listed: FrozenList[ScenarioOption] = Field(default_factory=FrozenList)
    """Mode `listed`: the scenarios."""
    factors: FrozenList[ScenarioFactor] = Field(default_factory=FrozenList)
    """Modes `product` and `sample`: independent factors."""
    count: Annotated[int, Field(ge=1, le=100_000)] | None = None
    """Mode `sample`: number of scenarios drawn."""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    """Mode `sample`: random seed (the same seed gives the same scenarios)."""


class TimeSeriesFiles(Strict):
    demand: str | None = None
    """CSV, relative to the case file: a `period` column (`YYYY-MM`) and one column per stream, t of magnet per period."""
    price: str | None = None
    """CSV: `period` and one column per offer, USD per kg of material."""
    capacity: str | None = None
    """CSV: `period` and one column per offer, recycling route, or `plant`, t per period."""


def _one_override_value(value, handler):
    """A named override's value, with one error (not one per type tried) when it is not a scalar."""
    from pydantic import ValidationError
    from pydantic_core import PydanticCustomError

    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError("override_value", "a number, text, true/false or blank") from None


OverrideValue = Annotated[bool | float | str | None, WrapValidator(_one_override_value)]


class CaseInput(Strict):
    """A case file. File limits: the case YAML (and any YAML it `extends`) and each time-series CSV may be at most 10 MiB (10,485,760 bytes) and must be UTF-8 text. YAML anchors and aliases (`&name`, `*name`), tags (`!!python/...`), a key repeated within one mapping, and nesting deeper than 50 levels are refused. Unquoted `yes`/`no`/`on`/`off`/`true`/`false` are booleans in YAML, which no text or number field accepts: quote such text (e.g. the country code `"NO"`). Whole numbers with a leading 0 (YAML reads `010` as octal) or a colon (`1:30`, base 60) are refused. Magnitudes are bounded far above any real value, so that the solver's tolerances stay below the audit's: prices, fees, costs, credits and penalties at most 1e5 USD/kg, masses at most 1e6 t, expansion costs at most 1e8 USD per t/period, scenario factors at most 100, the CVaR weight at most 1000, a months-of-use floor at most 1200 months; time-series CSV cells are bounded like their fields. The horizon must end by 9999-12. A CSV or an extended YAML may lie outside the case's folder, but then no error message quotes its content."""

    name: Id
    """Case name; the default report directory is `reports/<name>/`."""
    description: str = ""
    """Free text shown at the top of the summary."""
    horizon: Horizon
    """Planning horizon."""
    elements: FrozenList[Id] = Field(min_length=1)
    """Tracked elements (default NdPr, Dy, Tb)."""
    origin_groups: FrozenList[OriginGroup] = Field(min_length=1)
    """Origin groups."""
    end_uses: FrozenList[Id] = Field(min_length=1)
    """End uses that streams and licence rules name."""
    materials: FrozenList[Material] = Field(min_length=1)
    """Purchasable materials."""
    offers: FrozenList[Offer] = Field(min_length=1)
    """Supplier offers."""
    licence_rules: FrozenList[LicenceRule] = Field(default_factory=FrozenList)
    """Licence rules. No rule in force for an origin group and material means free."""
    grades: FrozenList[Grade] = Field(min_length=1)
    """Magnet grades and their recipes."""
    plant: Plant | None = None
    """The magnet plant of a one-plant case. Give `plant` or `plants`, not both."""
    plants: FrozenList[Plant] = Field(default_factory=FrozenList)
    """The magnet plants of a case with several (model.md §7.1), each with an `id`. Give `plant` or `plants`, not both."""
    transfers: FrozenList[Transfer] = Field(default_factory=FrozenList)
    """Lanes between plants along which element stock and finished magnets can move."""
    streams: FrozenList[Stream] = Field(min_length=1)
    """Demand streams."""
    stockpile: FrozenList[StockpileElement] = Field(default_factory=FrozenList)
    """Stockpile settings per element. An element without an entry has no stock capacity."""
    magnet_stock: FrozenList[MagnetStock] = Field(default_factory=FrozenList)
    """Finished-magnet stores, one per grade. A grade without an entry cannot hold finished magnets: what arrives is used in its period or discarded."""
    in_transit: FrozenList[InTransit] = Field(default_factory=FrozenList)
    """Orders placed before the horizon that arrive in it (already licensed and paid)."""
    company: Company | None = None
    """The planning company's standing under export licences (needed when a licence rule names `customers` or admits only validated end users)."""
    recycling_routes: FrozenList[RecyclingRoute] = Field(default_factory=FrozenList)
    """Recycling routes."""
    diversification_limits: FrozenList[DiversificationLimit] = Field(default_factory=FrozenList)
    """Diversification limits."""
    risk: Risk = Risk()
    """Risk settings."""
    finance: Finance = Finance()
    """Finance settings: discount rate and present-value date of the cost-over-time outputs. Blank: no discounting."""
    timeseries: TimeSeriesFiles = TimeSeriesFiles()
    """Time-series CSV files."""
    scenarios: Scenarios | None = None
    """Disruption scenarios. Blank: the deterministic plan for the case as read."""
    overrides: FrozenMap[Id, FrozenMap[str, OverrideValue]] = Field(default_factory=FrozenMap)
    """Named overrides, applied only when chosen with `--override NAME[,NAME]` (plain solve and `sweep`): each maps dotted paths (`risk.risk_weight_lambda`, list entries by id: `diversification_limits[ID].max_share_frac`) to the value set there before the case is validated. Chosen names apply in the order given (a later one wins on the same path), then `sweep --set`. An issue on a field an override set is reported as `overrides.NAME.<field>`. A case that `extends` another inherits its overrides (maps merged)."""

    @property
    def site_plants(self) -> tuple["Plant", ...]:
        """The plants: ``(plant,)`` for a one-plant case, else ``plants`` (input order)."""
        return (self.plant,) if self.plant is not None else tuple(self.plants)  # () when neither (an input error)

    def plant_of(self, x) -> str:
        """The plant id an entry with an optional ``plant`` field names: its own, else the only plant's."""
        p = getattr(x, "plant", None)
        return p if p is not None else (self.site_plants[0].id if self.site_plants else "plant")


def month_index(month: str) -> int:
    """``'2027-03'`` -> months since year 0, for arithmetic on periods."""
    y, m = month.split("-")
    return int(y) * 12 + int(m) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_labels(h: Horizon) -> tuple[str, ...]:
    """Start month of each period, ``YYYY-MM``."""
    s = month_index(h.start_month)
    return tuple(month_label(s + k * h.months_per_period) for k in range(h.periods))


ELEMENT_KINDS = ("oxide", "metal", "alloy")
"""Material kinds whose element content goes into element stock (magnets and scrap do not)."""
TERMINAL_PENALTY_MARKUP = 1.25
"""Default terminal penalty = 1.25 x (largest price per kg of element + holding cost over the horizon)."""


def period_of_month(h: Horizon, month: str) -> int | None:
    """1-based period containing ``month``, or None when outside the horizon."""
    d = month_index(month) - month_index(h.start_month)
    if d < 0 or d >= h.periods * h.months_per_period:
        return None
    return d // h.months_per_period + 1


def months_in_horizon(obj, keys: tuple[str, ...], h: Horizon, bad, where: str, outside: str):
    """``(key, month, period)`` for each month field of ``obj`` named in ``keys`` that is set and inside
    the horizon; one outside is reported as ``bad(f"{where}.{key}", month, outside)``."""
    for key in keys:
        v = getattr(obj, key)
        if v is None:
            continue
        p = period_of_month(h, v)
        if p is None:
            bad(f"{where}.{key}", v, outside)
        else:
            yield key, v, p


def is_finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
