r"""What the audit reports: the checks, their tolerances and how the worst row of a check is chosen.

Tolerances (tables are rounded to 9 decimals, and HiGHS's feasibility tolerance is 1e-7 on the
scaled problem):

- masses (t, t/period): a row passes when its violation <= 1e-6 t + 1e-7 x the largest magnitude
  among the row's terms;
- money (USD): |recomputed - reported| <= 1e-6 x max(|recomputed|, |reported|) + 1 USD (the
  absolute 1 USD covers 9-decimal table rounding times prices of up to ~1e7 USD/t);
- periods and table rows (arrival periods, ids, labels, duplicates): exact (tolerance 0).

``max_violation`` and ``tolerance`` of a check are those of its worst row, the row with the largest
ratio violation / tolerance (so ``passed`` is ``max_violation <= tolerance``); when no row comes
within a thousandth of its tolerance (noise), ``tolerance`` is the strictest row's, so that it does not
depend on which noise is largest; ``detail`` says where it
is and how many rows violate, or is ``"ok"``.

Checks (``AuditCheck.name``), in report order:

=====================  ======  ==================================================================
table_integrity        rows    tables and columns present; ids, period labels, descriptive columns
                               (supplier, origin, grade, end use, price), scenario names and
                               probabilities as in the inputs; no duplicate keys
nonnegativity          t       every decision quantity >= 0
arrival_timing         period  reported arrival = order + lead + review lead (of the rules governing
                               the order, in the scenario); no order arriving after the horizon
element_balance        t       stock[t] = stock[t-1] + content x arrivals + recovered + received by
                               lanes - use - sent on lanes, per plant, element, origin group and
                               period (stock[0] = initial stock; arrivals at the offer's plant,
                               orders in transit at the start included; recovered at the route's
                               plant; use by the streams of the plant)
reported_arrivals      t       the ``arrivals`` table = element content of purchases (and orders in
                               transit) at their arrival, per plant
bill_of_materials      t       per stream, element, period: sum_g use = sum_r need / yield x made
                               (the yield of the stream's plant)
plant_capacity         t       sum of magnets made by a plant's streams <= the plant's capacity, per
                               plant and period
plant_results          t       the ``plants`` table, per plant and period: made_t = production of its
                               streams, capacity_t as input, demand_t and shortage_t = sums over its
                               streams; country as input
eligibility            t       no element use or finished-magnet use a licence bars at the stream's
                               plant (destination countries, customers naming the company or the
                               plant); grade-matching magnets; recipes of the stream's grade; no
                               order a governing licence does not admit (named customers or plant,
                               validated end users)
licence_quota          t       governed orders <= quota x approval x quota factor x held (0 once
                               lapsed), per rule and period; only orders delivered to plants the
                               rule reaches (destination countries) count
supplier_capacity      t       spot <= cap x availability; nominal cap >= reservation >= committed;
                               contract purchase <= availability x reservation and
                               >= min take x availability x reservation; contract terms: reservation
                               = committed + tranches covering it, band, notice; the ``contracts``
                               table's terms, starts and take-or-pay tonnes
finished_magnets       t       magnets used + added to magnet stock + sent on lanes <= magnets
                               arrived (and in transit) + received by lanes, per plant, material,
                               origin, period
demand                 t       made + bought + shortage = demand; shortage within the service level;
                               the ``shortages`` table's columns agree
stock_capacity         t       sum_g stock <= capacity, per plant and element; ``stock_by_element``
                               agrees with ``stock``; finished-magnet stock per plant and grade <= its
                               capacity (``magnet_stock``)
strategic_floor        t       floor as derived per plant and element; shortfall = max(0, floor -
                               stock) (penalised floor) or stock >= floor (hard floor)
terminal_requirement   USD     the terminal penalty paid covers penalty x max(0, requirement - stock[T])
                               summed over plants and elements
recycling_capacity     t       feed <= availability x (capacity + expansion once built);
                               expansion <= max
swarf_feed             t       swarf fed by a plant's routes <= (1/yield - 1) x made at the plant, per
                               plant, recipe and period; grade-locked routes
scrap_feed             t       scrap fed by a plant's routes <= scrap arrived at the plant, per plant,
                               material and period
recovery               t       the ``recovered`` table = feed x content x recovery, at the route's plant
transfers              t       the ``transfers`` table: a known lane with its from/to plants, a known
                               element or magnet material and origin; arrival = sent + lead, inside
                               the horizon; moved_t >= 0; sum moved per lane and period <= the lane's
                               capacity (elements and magnets together)
diversification        t       selected <= max share x basis, per limit and calendar year (only the
                               arrivals at and recycling at the limit's plant when it names one)
non_anticipativity     t       reservations, expansions and every decision of periods <= W identical
                               across scenarios
cost_columns           USD     purchases.cost_usd, reservations.fee_usd, expansions.cost_usd,
                               contracts.fee_usd and take_or_pay_max_usd, transfers.cost_usd (moved x
                               the lane's cost per kg x K)
cost_terms             USD     every term of the ``costs`` table recomputed from tables and inputs
objective              USD     totals vs kpis: objective_usd, first_stage_cost_usd, scenario_cost_usd,
                               cost_parts_usd (deterministic); per-scenario totals (``scenarios`` table),
                               expected_cost_usd, cvar_cost_usd (recomputed from scenario totals),
                               objective_usd = expected + lambda x CVaR (stochastic)
=====================  ======  ==================================================================

Glossary: an *accumulator* (:class:`Acc`) collects the rows of one check and keeps the worst; a row's
*where* is its location text (scenario, entity, period), built only when the row may be reported.
Cost terms (``COST_TERMS``) are the rows of the ``costs`` table; ``FIRST_STAGE_TERMS`` are decided
before any scenario is revealed. Prices are in USD/kg and masses in t, so cost = price x mass x ``K``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from model.units import KG_PER_T

MASS_ABS_T = 1e-6
MASS_REL = 1e-7
MONEY_REL = 1e-6
MONEY_ABS_USD = 1.0
USD_PER_T_PER_USD_PER_KG = KG_PER_T
K = USD_PER_T_PER_USD_PER_KG
# The audit states which terms are first-stage itself (from the model's definition), not from
# model.terms: it checks the costs table's stage column against this independent statement.
FIRST_STAGE_TERMS = ("reservation_fees", "capacity_expansion")
COST_TERMS = ("purchases", "reservation_fees", "take_or_pay", "conversion", "magnet_holding", "shortage_penalty", "holding",
              "floor_penalty", "terminal_penalty", "recycling", "swarf_credit", "capacity_expansion", "transfer")


@dataclass(frozen=True)
class AuditCheck:
    name: str
    passed: bool
    max_violation: float
    tolerance: float
    unit: str
    detail: str


@dataclass(frozen=True)
class AuditReport:
    passed: bool
    checks: tuple[AuditCheck, ...]

    def as_dict(self) -> dict:
        return {
            "passed": bool(self.passed),
            "checks": [
                {"name": c.name, "passed": bool(c.passed), "max_violation": float(c.max_violation),
                 "tolerance": float(c.tolerance), "unit": c.unit, "detail": c.detail}
                for c in self.checks
            ],
        }


def mass_tol(*terms: float) -> float:
    return MASS_ABS_T + MASS_REL * max(map(abs, terms))


NOISE_FRAC = 1e-3  # a violation below a thousandth of its tolerance is summation noise


def money_tol(a: float, b: float) -> float:
    return MONEY_ABS_USD + MONEY_REL * max(abs(a), abs(b))


def fmt(x: float) -> str:
    """A number as the audit's messages show it."""
    return f"{x:.9g}"


class Acc:
    """Worst row of one check: the largest violation / tolerance ratio."""

    def __init__(self, name: str, unit: str, default_tol: float):
        self.name, self.unit = name, unit
        self.key = (-1.0, 0.0)
        self.viol, self.tol = 0.0, default_tol
        self.where = "ok"
        self.n_bad = 0
        self.min_tol = math.inf  # the strictest row's tolerance, shown when every violation is noise

    def add(self, viol: float, tol: float, where, count: int = 1) -> None:
        if tol < self.min_tol:
            self.min_tol = tol
        if viol <= 0 and self.key[0] >= 0:
            return  # fast path: a satisfied row cannot be the worst once one row is recorded
        v = viol if viol > 0 else 0.0
        if v != v:  # NaN
            v = math.inf
        bad = v > tol
        if bad:
            self.n_bad += count
        ratio = (v / tol) if tol > 0 else (math.inf if v > 0 else 0.0)
        key = (ratio, v)
        if key > self.key:
            self.key = key
            self.viol, self.tol = v, tol
            if bad or v > 0:
                self.where = where() if callable(where) else str(where)

    def result(self) -> AuditCheck:
        passed = self.n_bad == 0
        if passed:
            detail = "ok"
        else:
            more = f" ({self.n_bad} rows violate)" if self.n_bad > 1 else ""
            detail = f"{self.where}{more}"
        viol = self.viol if math.isfinite(self.viol) else 1e300
        tol = self.tol
        if passed and viol <= NOISE_FRAC * tol and math.isfinite(self.min_tol):
            tol = self.min_tol  # no row is near its tolerance: which row is "worst" is noise, so show the strictest
        return AuditCheck(self.name, passed, float(viol), float(tol), self.unit, detail)


CHECKS = (
    ("table_integrity", "rows", 0.0),
    ("nonnegativity", "t", MASS_ABS_T),
    ("arrival_timing", "periods", 0.0),
    ("element_balance", "t", MASS_ABS_T),
    ("reported_arrivals", "t", MASS_ABS_T),
    ("bill_of_materials", "t", MASS_ABS_T),
    ("plant_capacity", "t", MASS_ABS_T),
    ("plant_results", "t", MASS_ABS_T),
    ("eligibility", "t", MASS_ABS_T),
    ("licence_quota", "t", MASS_ABS_T),
    ("supplier_capacity", "t", MASS_ABS_T),
    ("finished_magnets", "t", MASS_ABS_T),
    ("demand", "t", MASS_ABS_T),
    ("stock_capacity", "t", MASS_ABS_T),
    ("strategic_floor", "t", MASS_ABS_T),
    ("terminal_requirement", "USD", MONEY_ABS_USD),
    ("recycling_capacity", "t", MASS_ABS_T),
    ("swarf_feed", "t", MASS_ABS_T),
    ("scrap_feed", "t", MASS_ABS_T),
    ("recovery", "t", MASS_ABS_T),
    ("transfers", "t", MASS_ABS_T),
    ("diversification", "t", MASS_ABS_T),
    ("non_anticipativity", "t", MASS_ABS_T),
    ("cost_columns", "USD", MONEY_ABS_USD),
    ("cost_terms", "USD", MONEY_ABS_USD),
    ("objective", "USD", MONEY_ABS_USD),
)


def accumulators() -> dict[str, Acc]:
    """One empty accumulator per check, in report order."""
    return {name: Acc(name, unit, tol) for name, unit, tol in CHECKS}
