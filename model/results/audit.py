r"""Independent audit of a solved plan: every constraint of ``model.md`` §4, re-checked from the raw
inputs and the reported plan tables, never from the Pyomo model. Writes nothing.

``audit_run(run)`` takes a :class:`model.app.run.Run` and returns an :class:`AuditReport`: one
:class:`AuditCheck` per constraint family, each with the worst violation found, the tolerance it was
judged against, and where (scenario, entity, period) it is. A stochastic run is audited scenario by
scenario, each against its own ``CaseData`` (``run.stochastic.cases``; re-derived with
``scenario_cases`` when absent), plus non-anticipativity across scenarios.

Independence. The audit reads only ``run.data`` / the scenario ``CaseData`` (the validated case and its
resolved per-period series), ``run.solution.tables`` and ``run.solution.kpis``. It does not import
``model.components.sets``, the builder or the solver; the derived rules are re-implemented here from their
documented meaning:

- arrival period = order period + offer lead time + the largest review lead time of the
  ``case_by_case`` rules in force in the order period that cover the offer's origin group and material;
  orders only where that arrival falls inside the horizon;
- a rule is in force from ``valid_from`` (blank: period 1) to ``valid_to`` (blank: period T);
- element stock of origin g is ineligible for end use u in t when a ``prohibited`` rule in force in t
  covers g, u and a purchasable oxide/metal/alloy that contains the element; finished magnet m of
  origin g is ineligible when a prohibited rule in force covers g, m and u; magnets must match the
  stream's grade and recipes must belong to it;
- quota in force = quota x approval share (case-by-case; 1 otherwise) x the scenario's quota factor;
- strategic floor = ``floor_t``, or ``floor_months_of_use`` x (sum over streams of mean demand x the
  grade's reference recipe need / plant yield) / months per period;
- terminal requirement = ``terminal_min_t`` or the initial stock; default terminal penalty =
  1.25 x max(largest price per kg of element content among the element's oxide/metal/alloy offers
  + holding cost x T, floor penalty);
- recycling capacity = the route's scalar capacity (or its capacity-CSV column), x availability, plus
  the expansion from period build lead + 1; recovered element = feed x content x recovery, where a
  swarf feed has its recipe's content and a scrap feed its material's content;
- calendar year of a period = the year of its first month.

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

Checks (``AuditCheck.name``):

=====================  ======  ==================================================================
table_integrity        rows    tables and columns present; ids, period labels, descriptive columns
                               (supplier, origin, grade, end use, price), scenario names and
                               probabilities as in the inputs; no duplicate keys
nonnegativity          t       every decision quantity >= 0
arrival_timing         period  reported arrival = order + lead + review lead; no order arriving
                               after the horizon
element_balance        t       stock[t] = stock[t-1] + content x arrivals + recovered - use, per
                               element, origin group and period (stock[0] = initial stock)
reported_arrivals      t       the ``arrivals`` table = element content of purchases at their arrival
bill_of_materials      t       per stream, element, period: sum_g use = sum_r need / yield x made
plant_capacity         t       sum of magnets made <= plant capacity
eligibility            t       no element use or finished-magnet use a licence bars; grade-matching
                               magnets; recipes of the stream's grade
licence_quota          t       covered orders <= quota x approval x quota factor, per rule and period
supplier_capacity      t       spot <= cap x availability; nominal cap >= reservation >= committed;
                               contract purchase <= availability x reservation and
                               >= min take x availability x reservation
finished_magnets       t       magnets used <= magnets arrived, per material, origin, period
demand                 t       made + bought + shortage = demand; shortage within the service level;
                               the ``shortages`` table's columns agree
stock_capacity         t       sum_g stock <= capacity; ``stock_by_element`` agrees with ``stock``
strategic_floor        t       floor as derived; shortfall = max(0, floor - stock) (penalised floor)
                               or stock >= floor (hard floor)
terminal_requirement   USD     the terminal penalty paid covers penalty x max(0, requirement - stock[T])
recycling_capacity     t       feed <= availability x (capacity + expansion once built);
                               expansion <= max
swarf_feed             t       swarf fed <= (1/yield - 1) x made, per recipe; grade-locked routes
scrap_feed             t       scrap fed <= scrap arrived, per material and period
recovery               t       the ``recovered`` table = feed x content x recovery
diversification        t       selected <= max share x basis, per limit and calendar year
non_anticipativity     t       reservations, expansions and every decision of periods <= W identical
                               across scenarios
cost_columns           USD     purchases.cost_usd, reservations.fee_usd, expansions.cost_usd
cost_terms             USD     every term of the ``costs`` table recomputed from tables and inputs
objective              USD     totals vs kpis: objective_usd, first_stage_cost_usd, scenario_cost_usd,
                               cost_parts_usd (deterministic); per-scenario totals (``scenarios`` table),
                               expected_cost_usd, cvar_cost_usd (recomputed from scenario totals),
                               objective_usd = expected + lambda x CVaR (stochastic)
=====================  ======  ==================================================================
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from model.input.schema import SWARF_FEED, month_index, period_of_month

MASS_ABS_T = 1e-6
MASS_REL = 1e-7
MONEY_REL = 1e-6
MONEY_ABS_USD = 1.0
USD_PER_T_PER_USD_PER_KG = 1000.0
ELEMENT_KINDS = ("oxide", "metal", "alloy")
TERMINAL_PENALTY_MARKUP = 1.25
FIRST_STAGE_TERMS = ("reservation_fees", "capacity_expansion")
COST_TERMS = ("purchases", "reservation_fees", "conversion", "shortage_penalty", "holding", "floor_penalty",
              "terminal_penalty", "recycling", "swarf_credit", "capacity_expansion")


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


# ------------------------------------------------------------------------------------ accumulation

class _Acc:
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
    ("diversification", "t", MASS_ABS_T),
    ("non_anticipativity", "t", MASS_ABS_T),
    ("cost_columns", "USD", MONEY_ABS_USD),
    ("cost_terms", "USD", MONEY_ABS_USD),
    ("objective", "USD", MONEY_ABS_USD),
)

# table -> (key columns, value columns that must be numbers)
TABLES = {
    "purchases": (("offer", "order_period"), ("purchased_t", "price_usd_per_kg", "cost_usd"),
                  ("supplier", "country", "origin_group", "material", "kind", "arrival_period")),
    "reservations": (("offer", "period"), ("reserved_t", "purchased_t", "fee_usd"), ()),
    "arrivals": (("element", "origin_group", "period"), ("arrived_t",), ()),
    "production": (("stream", "recipe", "period"), ("made_t",), ("grade",)),
    "eligibility_use": (("stream", "element", "origin_group", "period"), ("used_t",), ("end_use",)),
    "magnet_purchases": (("stream", "material", "origin_group", "period"), ("used_t",), ()),
    "stock": (("element", "origin_group", "period"), ("stock_t",), ()),
    "stock_by_element": (("element", "period"), ("stock_t", "capacity_t", "floor_t", "floor_shortfall_t"), ()),
    "recycling": (("route", "source", "period"), ("feed_t",), ()),
    "expansions": (("route",), ("added_t_feed_per_period", "cost_usd"), ("usable_from",)),
    "recovered": (("element", "origin_group", "period"), ("recovered_t",), ()),
    "shortages": (("stream", "period"), ("demand_t", "made_t", "bought_t", "shortage_t"), ("end_use",)),
    "costs": (("term",), ("cost_usd",), ("stage",)),
}

NONNEG = {
    "purchases": "purchased_t", "reservations": "reserved_t", "production": "made_t", "eligibility_use": "used_t",
    "magnet_purchases": "used_t", "stock": "stock_t", "stock_by_element": "floor_shortfall_t",
    "recycling": "feed_t", "expansions": "added_t_feed_per_period", "shortages": "shortage_t",
}

# decisions tied across scenarios: table -> (key columns, value column, period column or None = always)
NONANT = {
    "reservations": (("offer", "period"), "reserved_t", None),
    "expansions": (("route",), "added_t_feed_per_period", None),
    "purchases": (("offer", "order_period"), "purchased_t", "order_period"),
    "production": (("stream", "recipe", "period"), "made_t", "period"),
    "eligibility_use": (("stream", "element", "origin_group", "period"), "used_t", "period"),
    "magnet_purchases": (("stream", "material", "origin_group", "period"), "used_t", "period"),
    "stock": (("element", "origin_group", "period"), "stock_t", "period"),
    "stock_by_element": (("element", "period"), "floor_shortfall_t", "period"),
    "recycling": (("route", "source", "period"), "feed_t", "period"),
    "shortages": (("stream", "period"), "shortage_t", "period"),
}


class _Table:
    """A stacked table with its columns as arrays (converted once) and its row positions per scenario."""

    def __init__(self, df: pd.DataFrame, stochastic: bool):
        self.df = df
        self._arrays: dict = {}
        self.by_scenario = ({k: v for k, v in df.groupby("scenario", sort=False).indices.items()}
                            if stochastic and len(df) else {})

    def column(self, c: str):
        a = self._arrays.get(c)
        if a is None:
            a = self._arrays[c] = self.df[c].to_numpy()
        return a

    def view(self, scenario: str | None) -> "_View":
        return _View(self, None if scenario is None else self.by_scenario.get(scenario, ()))


class _View:
    def __init__(self, table: _Table, idx):
        self.table, self.idx = table, idx

    def rows(self, cols) -> zip:
        if self.idx is None:
            return zip(*(self.table.column(c).tolist() for c in cols))
        if len(self.idx) == 0:
            return zip(*([] for _ in cols))
        return zip(*(self.table.column(c)[self.idx].tolist() for c in cols))


def _f(x: float) -> str:
    return f"{x:.9g}"


# ------------------------------------------------------------------------------------ derived inputs

class _Inputs:
    """Everything the audit derives from one scenario's CaseData (independently of model.components.sets)."""

    def __init__(self, data):
        self.data = data
        case = self.case = data.case
        self.T = T = len(data.periods)
        self.labels = tuple(data.periods)
        self.t_of = {lab: k + 1 for k, lab in enumerate(self.labels)}
        self.year = {k + 1: month_index(lab) // 12 for k, lab in enumerate(self.labels)}
        self.W = case.risk.non_anticipative_periods
        self.mats = {m.id: m for m in case.materials}
        self.offers = {o.id: o for o in case.offers}
        self.streams = {s.id: s for s in case.streams}
        self.grades = {g.id: g for g in case.grades}
        self.recipe_grade = {rc.id: g.id for g in case.grades for rc in g.recipes}
        self.need = {rc.id: dict(rc.element_t_per_t_magnet) for g in case.grades for rc in g.recipes}
        self.routes = {r.id: r for r in case.recycling_routes}
        self.sp = {x.element: x for x in case.stockpile}
        self.elements = set(case.elements)
        self.groups = {g.id for g in case.origin_groups}
        self.y = case.plant.yield_frac

        def window(r):
            p0 = period_of_month(case.horizon, r.valid_from) if r.valid_from else 1
            p1 = period_of_month(case.horizon, r.valid_to) if r.valid_to else T
            return (p0 or 1), (p1 or T)

        self.rule_window = {r.id: window(r) for r in case.licence_rules}

        # review lead time per (offer, order period)
        self.review = {}
        for o in case.offers:
            cbc = [(self.rule_window[r.id], r.review_lead_time_periods) for r in case.licence_rules
                   if r.regime == "case_by_case" and o.origin_group in r.origin_groups and o.material in r.materials]
            for t in range(1, T + 1):
                self.review[o.id, t] = max((rev for (p0, p1), rev in cbc if p0 <= t <= p1), default=0)

        self._arrival = {(o.id, t): t + o.lead_time_periods + self.review[o.id, t]
                         for o in case.offers for t in range(1, T + 1)}

        # prohibitions in force
        self.blocked_elem: set = set()  # (e, g, end_use, t)
        self.blocked_mag: set = set()  # (material, g, end_use, t)
        for r in case.licence_rules:
            if r.regime != "prohibited":
                continue
            p0, p1 = self.rule_window[r.id]
            elems = {e for m in r.materials if m in self.mats and self.mats[m].kind in ELEMENT_KINDS
                     for e, f in self.mats[m].element_content_frac.items() if f > 0}
            for t in range(p0, p1 + 1):
                for g in r.origin_groups:
                    for u in r.end_uses:
                        for e in elems:
                            self.blocked_elem.add((e, g, u, t))
                        for m in r.materials:
                            self.blocked_mag.add((m, g, u, t))

        # stockpile: floor, terminal requirement and penalty
        mpp = case.horizon.months_per_period
        self.floor, self.terminal, self.terminal_pen = {}, {}, {}
        for e, s in self.sp.items():
            if s.floor_t is not None:
                self.floor[e] = float(s.floor_t)
            elif s.floor_months_of_use is not None:
                use = 0.0
                for st in case.streams:
                    dem = data.demand_as_read_t_per_period[st.id]  # the case as read: no scenario moves it
                    ref = self.grades[st.grade].reference.element_t_per_t_magnet.get(e, 0.0)
                    use += (sum(dem) / T) * ref / self.y
                self.floor[e] = s.floor_months_of_use * use / mpp
            self.terminal[e] = s.terminal_min_t if s.terminal_min_t is not None else sum(s.initial_t_by_origin.values())
            if s.terminal_penalty_usd_per_kg is not None:
                self.terminal_pen[e] = s.terminal_penalty_usd_per_kg
            else:
                per_kg = [max(data.price_usd_per_kg[o.id]) / self.mats[o.material].element_content_frac[e]
                          for o in case.offers
                          if self.mats[o.material].kind in ELEMENT_KINDS
                          and self.mats[o.material].element_content_frac.get(e, 0) > 0]
                meet = (max(per_kg) if per_kg else 0.0) + s.holding_cost_usd_per_kg_per_period * T
                self.terminal_pen[e] = TERMINAL_PENALTY_MARKUP * max(meet, s.floor_penalty_usd_per_kg)

    def arrival(self, o: str, t: int) -> int:
        return self._arrival[o, t]

    def route_capacity(self, k: str, t: int) -> float:
        r = self.routes[k]
        if f"capacity:{k}" in self.data.from_csv or r.capacity_t_feed_per_period is None:
            return self.data.capacity_t_per_period[k][t - 1]
        return float(r.capacity_t_feed_per_period)

    def src_content(self, k: str, src: str) -> dict:
        """t of each element per t of feed from ``src`` on route k."""
        if self.routes[k].feed == SWARF_FEED:
            return self.need.get(src, {})
        m = self.mats.get(src)
        return dict(m.element_content_frac) if m is not None else {}

    def lab(self, t: int) -> str:
        return self.labels[t - 1] if 1 <= t <= self.T else f"period {t}"


# ------------------------------------------------------------------------------------ the audit

def _scenario_cases(run) -> list:
    if run.mode == "stochastic":
        if getattr(run, "stochastic", None) is not None:
            return list(run.stochastic.cases)
        from model.input.scenarios import scenario_cases

        return scenario_cases(run.data)
    return [run.data]


def audit_run(run) -> AuditReport:
    """Re-check every constraint of ``model.md`` §4 and the objective of ``run`` from its inputs and tables."""
    acc = {name: _Acc(name, unit, tol) for name, unit, tol in CHECKS}
    stochastic = run.mode == "stochastic"
    cases = _scenario_cases(run)
    tables = run.solution.tables
    kpis = run.solution.kpis
    bad_row = acc["table_integrity"]

    # tables present with their columns; split per scenario
    full: dict[str, pd.DataFrame] = {}
    for name, (keys, nums, desc) in TABLES.items():
        cols = list(keys) + list(nums) + list(desc) + (["scenario", "probability"] if stochastic else [])
        df = tables.get(name)
        if df is None:
            bad_row.add(1, 0.0, f"table {name} missing")
            df = pd.DataFrame({c: [] for c in cols})
        missing = [c for c in cols if c not in df.columns]
        if missing:
            bad_row.add(1, 0.0, f"table {name}: columns {missing} missing")
            df = df.assign(**{c: (0.0 if c in nums else "") for c in missing})
        full[name] = df

    names = [c.scenario for c in cases]
    prob = {c.scenario: c.probability for c in cases}
    nn = acc["nonnegativity"]
    views: dict[str, _Table] = {}
    for tname, df in full.items():
        keys = list(TABLES[tname][0]) + (["scenario"] if stochastic else [])
        where_of = (lambda i, df=df, keys=keys: ", ".join(f"{k}={df[k].iloc[i]}" for k in keys))
        d = df.duplicated(keys, keep="first").to_numpy()
        if d.any():
            i = int(d.argmax())
            bad_row.add(1, 0.0, lambda i=i, tname=tname, w=where_of: f"table {tname}: duplicate key {w(i)}", count=int(d.sum()))
        col = NONNEG.get(tname)
        if col is not None and len(df):
            v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            neg = (v < 0) | (v != v)
            if neg.any():
                vv = -v.copy()
                vv[v != v] = math.inf
                i = int(vv.argmax())
                nn.add(float(vv[i]), MASS_ABS_T, lambda i=i, tname=tname, col=col, w=where_of, x=v[i]:
                       f"table {tname}: {col} = {_f(x)} at {w(i)}", count=int((vv > MASS_ABS_T).sum()))
        if stochastic:
            known = df["scenario"].isin(names).to_numpy()
            if not known.all():
                i = int((~known).argmax())
                bad_row.add(1, 0.0, lambda i=i, tname=tname: f"table {tname}: unknown scenario {df['scenario'].iloc[i]!r}",
                            count=int((~known).sum()))
            p_in = df["scenario"].map(prob).to_numpy(dtype=float)
            wrong = known & ~(abs(df["probability"].to_numpy(dtype=float) - p_in) <= 1e-9)
            if wrong.any():
                i = int(wrong.argmax())
                bad_row.add(1, 0.0, lambda i=i, tname=tname: f"table {tname}: scenario {df['scenario'].iloc[i]} "
                                                             f"probability {df['probability'].iloc[i]} differs from the input",
                            count=int(wrong.sum()))
        views[tname] = _Table(df, stochastic)

    totals = {}
    term_totals = {}
    for data in cases:
        inp = _Inputs(data)
        scen = f"scenario={data.scenario}, " if stochastic else ""
        tb = {k: v.view(data.scenario if stochastic else None) for k, v in views.items()}
        totals[data.scenario], term_totals[data.scenario] = _audit_scenario(inp, tb, acc, scen)

    _audit_nonanticipativity(full, cases, acc["non_anticipativity"], stochastic)
    _audit_objective(run, cases, totals, term_totals, kpis, tables, acc["objective"], stochastic)

    checks = tuple(a.result() for a in acc.values())
    return AuditReport(passed=all(c.passed for c in checks), checks=checks)


def _audit_scenario(inp: _Inputs, tb: dict, acc: dict, scen: str) -> tuple[float, dict]:
    data, case, T = inp.data, inp.case, inp.T
    t_of, lab = inp.t_of, inp.lab
    integ = acc["table_integrity"]
    K = USD_PER_T_PER_USD_PER_KG

    def period(label, tname):
        t = t_of.get(label)
        if t is None:
            integ.add(1, 0.0, lambda: f"{scen}table {tname}: period {label!r} outside the horizon")
        return t

    def unknown(tname, what, x):
        integ.add(1, 0.0, lambda: f"{scen}table {tname}: unknown {what} {x!r}")

    # ---- purchases: arrival timing, arrivals by kind
    price = data.price_usd_per_kg
    cap = data.capacity_t_per_period
    avail = data.availability_frac
    purchased: dict = {}  # (o, t) -> t
    elem_arr = defaultdict(float)  # (e, g, a)
    scrap_arr = defaultdict(float)  # (m, a)
    mag_arr = defaultdict(float)  # (m, g, a)
    cost_purchases = 0.0
    at = acc["arrival_timing"]
    costcol = acc["cost_columns"]
    for o, op, q, p, c, sup, ctry, g, mat, kind, ap in tb["purchases"].rows((
            "offer", "order_period", "purchased_t", "price_usd_per_kg", "cost_usd", "supplier", "country",
            "origin_group", "material", "kind", "arrival_period")):
        if o not in inp.offers:
            unknown("purchases", "offer", o)
            continue
        t = period(op, "purchases")
        if t is None:
            continue
        off = inp.offers[o]
        if (sup, ctry, g, mat, kind) != (off.supplier, off.country, off.origin_group, off.material, off.kind):
            integ.add(1, 0.0, lambda: f"{scen}purchases: offer {o} order {op}: descriptive columns "
                                      f"{(sup, ctry, g, mat, kind)} differ from the input")
        p_in = price[o][t - 1]
        if abs(p - p_in) > 1e-9 * max(1.0, abs(p_in)):
            integ.add(1, 0.0, lambda: f"{scen}purchases: offer {o} order {op}: price {_f(p)} USD/kg, input {_f(p_in)}")
        a = inp.arrival(o, t)
        a_rep = t_of.get(ap)
        if a_rep is None:
            at.add(float(T), 0.0, lambda: f"{scen}offer {o}, order {op}: reported arrival {ap!r} outside the horizon "
                                          f"(expected {lab(a)})")
        else:
            at.add(float(abs(a_rep - a)), 0.0,
                   lambda: f"{scen}offer {o}, order {op}: reported arrival {ap}, expected {lab(a)} "
                           f"(lead {off.lead_time_periods} + review {inp.review[o, t]})")
        if a > T:
            if abs(q) > MASS_ABS_T:
                at.add(float(a - T), 0.0, lambda: f"{scen}offer {o}, order {op}: {_f(q)} t ordered but it arrives "
                                                  f"{a - T} period(s) after the horizon")
            continue
        purchased[o, t] = purchased.get((o, t), 0.0) + q
        cost = q * p_in * K
        cost_purchases += cost
        costcol.add(abs(c - cost), money_tol(c, cost),
                    lambda: f"{scen}purchases: offer {o}, order {op}: cost_usd {_f(c)}, recomputed {_f(cost)}")
        m = inp.mats[off.material]
        if m.kind in ELEMENT_KINDS:
            for e, f in m.element_content_frac.items():
                if f > 0:
                    elem_arr[e, off.origin_group, a] += f * q
        elif m.kind == "scrap":
            scrap_arr[m.id, a] += q
        elif m.kind == "magnet":
            mag_arr[m.id, off.origin_group, a] += q

    # ---- reported arrivals
    ra = acc["reported_arrivals"]
    rep_arr = defaultdict(float)
    for e, g, pl, x in tb["arrivals"].rows(("element", "origin_group", "period", "arrived_t")):
        t = period(pl, "arrivals")
        if t is not None:
            rep_arr[e, g, t] += x
    for k in set(rep_arr) | set(elem_arr):
        x, y = rep_arr.get(k, 0.0), elem_arr.get(k, 0.0)
        ra.add(abs(x - y), mass_tol(x, y),
               lambda k=k, x=x, y=y: f"{scen}element {k[0]}, origin {k[1]}, period {lab(k[2])}: arrivals table "
                                     f"{_f(x)} t, content of purchases {_f(y)} t")

    # ---- supplier capacity and reservations
    sc = acc["supplier_capacity"]
    reserved: dict = {}
    cost_fees = 0.0
    for o, pl, r, q_rep, fee in tb["reservations"].rows(("offer", "period", "reserved_t", "purchased_t", "fee_usd")):
        if o not in inp.offers:
            unknown("reservations", "offer", o)
            continue
        t = period(pl, "reservations")
        if t is None:
            continue
        off = inp.offers[o]
        if off.kind != "contract":
            integ.add(1, 0.0, lambda: f"{scen}reservations: offer {o} is not a contract")
        if inp.arrival(o, t) > T and r > MASS_ABS_T:
            at.add(float(inp.arrival(o, t) - T), 0.0,
                   lambda: f"{scen}offer {o}: {_f(r)} t reserved for {pl}, whose orders arrive after the horizon")
        reserved[o, t] = reserved.get((o, t), 0.0) + r
        q = purchased.get((o, t), 0.0)
        sc.add(abs(q_rep - q), mass_tol(q_rep, q),
               lambda: f"{scen}reservations: offer {o}, {pl}: purchased_t {_f(q_rep)} t, purchases table {_f(q)} t")
        f_usd = r * off.reservation_fee_usd_per_kg * K
        cost_fees += f_usd
        costcol.add(abs(fee - f_usd), money_tol(fee, f_usd),
                    lambda: f"{scen}reservations: offer {o}, {pl}: fee_usd {_f(fee)}, recomputed {_f(f_usd)}")
        nominal = cap[o][t - 1]
        sc.add(r - nominal, mass_tol(r, nominal),
               lambda: f"{scen}offer {o}, {pl}: reservation {_f(r)} t > nominal capacity {_f(nominal)} t")
        committed = getattr(off, "committed_t_per_period", 0.0) or 0.0
        if committed > 0:
            sc.add(committed - r, mass_tol(r, committed),
                   lambda: f"{scen}offer {o}, {pl}: reservation {_f(r)} t < committed {_f(committed)} t")
    for o, off in inp.offers.items():
        for t in range(1, T + 1):
            if inp.arrival(o, t) > T:
                continue
            q = purchased.get((o, t), 0.0)
            av = avail.get(o, (1.0,) * T)[t - 1]
            if off.kind == "spot":
                lim = cap[o][t - 1] * av
                sc.add(q - lim, mass_tol(q, lim),
                       lambda: f"{scen}offer {o}, {lab(t)}: spot purchase {_f(q)} t > capacity {_f(cap[o][t - 1])} t "
                               f"x availability {_f(av)}")
            else:
                r = reserved.get((o, t), 0.0)
                committed = getattr(off, "committed_t_per_period", 0.0) or 0.0
                if committed > 0 and (o, t) not in reserved:
                    sc.add(committed, mass_tol(committed),
                           lambda: f"{scen}offer {o}, {lab(t)}: no reservation reported, committed {_f(committed)} t")
                lim = av * r
                sc.add(q - lim, mass_tol(q, lim),
                       lambda: f"{scen}offer {o}, {lab(t)}: contract purchase {_f(q)} t > availability {_f(av)} x "
                               f"reservation {_f(r)} t")
                if off.min_take_frac > 0:
                    lo = off.min_take_frac * av * r
                    sc.add(lo - q, mass_tol(q, lo),
                           lambda: f"{scen}offer {o}, {lab(t)}: contract purchase {_f(q)} t < minimum take "
                                   f"{_f(off.min_take_frac)} x availability {_f(av)} x reservation {_f(r)} t")

    # ---- licence quotas
    lq = acc["licence_quota"]
    for r in case.licence_rules:
        if r.regime not in ("general", "case_by_case"):
            continue
        p0, p1 = inp.rule_window[r.id]
        covered = [o.id for o in case.offers if o.origin_group in r.origin_groups and o.material in r.materials]
        qf = data.quota_factor.get(r.id, (1.0,) * T)
        ap = data.approval_frac.get(r.id, (r.approval_frac,) * T)
        for t in range(p0, p1 + 1):
            lhs = sum(purchased.get((o, t), 0.0) for o in covered)
            appr = ap[t - 1] if r.regime == "case_by_case" else 1.0
            rhs = (r.quota_t_per_period or 0.0) * appr * qf[t - 1]
            lq.add(lhs - rhs, mass_tol(lhs, rhs),
                   lambda: f"{scen}rule {r.id}, {lab(t)}: orders {_f(lhs)} t > quota {_f(r.quota_t_per_period)} t x "
                           f"approval {_f(appr)} x factor {_f(qf[t - 1])} = {_f(rhs)} t")

    # ---- production, bill of materials, plant capacity
    el = acc["eligibility"]
    made: dict = defaultdict(float)  # (s, r, t)
    for s, gr, rc, pl, x in tb["production"].rows(("stream", "grade", "recipe", "period", "made_t")):
        if s not in inp.streams:
            unknown("production", "stream", s)
            continue
        if rc not in inp.recipe_grade:
            unknown("production", "recipe", rc)
            continue
        t = period(pl, "production")
        if t is None:
            continue
        sg = inp.streams[s].grade
        if gr != sg:
            integ.add(1, 0.0, lambda: f"{scen}production: stream {s} grade column {gr!r}, input {sg!r}")
        if inp.recipe_grade[rc] != sg:
            el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s}, {pl}: {_f(x)} t made by recipe {rc} of grade "
                                          f"{inp.recipe_grade[rc]}, but the stream's grade is {sg}")
        made[s, rc, t] += x
    plant = data.capacity_t_per_period["plant"]
    made_t = defaultdict(float)
    made_st = defaultdict(float)
    made_rt = defaultdict(float)
    for (s, rc, t), x in made.items():
        made_t[t] += x
        made_st[s, t] += x
        made_rt[rc, t] += x
    pc = acc["plant_capacity"]
    for t in range(1, T + 1):
        x = made_t.get(t, 0.0)
        pc.add(x - plant[t - 1], mass_tol(x, plant[t - 1]),
               lambda: f"{scen}{lab(t)}: magnets made {_f(x)} t > plant capacity {_f(plant[t - 1])} t")

    use: dict = defaultdict(float)  # (s, e, g, t)
    for s, u, e, g, pl, x in tb["eligibility_use"].rows(("stream", "end_use", "element", "origin_group", "period", "used_t")):
        if s not in inp.streams:
            unknown("eligibility_use", "stream", s)
            continue
        if e not in inp.elements:
            unknown("eligibility_use", "element", e)
            continue
        if g not in inp.groups:
            unknown("eligibility_use", "origin group", g)
            continue
        t = period(pl, "eligibility_use")
        if t is None:
            continue
        su = inp.streams[s].end_use
        if u != su:
            integ.add(1, 0.0, lambda: f"{scen}eligibility_use: stream {s} end_use column {u!r}, input {su!r}")
        if (e, g, su, t) in inp.blocked_elem:
            el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} ({su}), {pl}: uses {_f(x)} t {e} of origin {g}, "
                                          f"barred by a prohibited licence rule in force")
        use[s, e, g, t] += x
    bom = acc["bill_of_materials"]
    use_set = defaultdict(float)
    for (s, e, g, t), x in use.items():
        use_set[s, e, t] += x
    need_set = defaultdict(float)
    for (s, rc, t), x in made.items():
        for e, n in inp.need[rc].items():
            if n > 0:
                need_set[s, e, t] += n / inp.y * x
    for k in set(use_set) | set(need_set):
        u_, n_ = use_set.get(k, 0.0), need_set.get(k, 0.0)
        bom.add(abs(u_ - n_), mass_tol(u_, n_),
                lambda k=k, u_=u_, n_=n_: f"{scen}stream {k[0]}, element {k[1]}, {lab(k[2])}: element use {_f(u_)} t, "
                                          f"recipe need / yield x made {_f(n_)} t")

    # ---- finished magnets
    fm = acc["finished_magnets"]
    mag_used = defaultdict(float)  # (m, g, t)
    bought = defaultdict(float)  # (s, t)
    for s, m, g, pl, x in tb["magnet_purchases"].rows(("stream", "material", "origin_group", "period", "used_t")):
        if s not in inp.streams:
            unknown("magnet_purchases", "stream", s)
            continue
        if m not in inp.mats:
            unknown("magnet_purchases", "material", m)
            continue
        t = period(pl, "magnet_purchases")
        if t is None:
            continue
        st = inp.streams[s]
        mat = inp.mats[m]
        if mat.kind != "magnet" or mat.grade != st.grade:
            el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} (grade {st.grade}), {pl}: uses {_f(x)} t of {m} "
                                          f"({mat.kind}, grade {mat.grade})")
        if (m, g, st.end_use, t) in inp.blocked_mag:
            el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} ({st.end_use}), {pl}: uses {_f(x)} t of {m} of origin {g}, "
                                          f"barred by a prohibited licence rule in force")
        mag_used[m, g, t] += x
        bought[s, t] += x
    for k in set(mag_used) | set(mag_arr):
        u_, a_ = mag_used.get(k, 0.0), mag_arr.get(k, 0.0)
        fm.add(u_ - a_, mass_tol(u_, a_),
               lambda k=k, u_=u_, a_=a_: f"{scen}magnet {k[0]}, origin {k[1]}, {lab(k[2])}: used {_f(u_)} t > "
                                         f"arrived {_f(a_)} t")

    # ---- demand
    dm = acc["demand"]
    shortage: dict = {}
    for s, u, pl, d_rep, m_rep, b_rep, sh in tb["shortages"].rows((
            "stream", "end_use", "period", "demand_t", "made_t", "bought_t", "shortage_t")):
        if s not in inp.streams:
            unknown("shortages", "stream", s)
            continue
        t = period(pl, "shortages")
        if t is None:
            continue
        if u != inp.streams[s].end_use:
            integ.add(1, 0.0, lambda: f"{scen}shortages: stream {s} end_use column {u!r}")
        shortage[s, t] = shortage.get((s, t), 0.0) + sh
        d = data.demand_t_per_period[s][t - 1]
        for col, rep, val in (("demand_t", d_rep, d), ("made_t", m_rep, made_st.get((s, t), 0.0)),
                              ("bought_t", b_rep, bought.get((s, t), 0.0))):
            dm.add(abs(rep - val), mass_tol(rep, val),
                   lambda col=col, rep=rep, val=val: f"{scen}shortages: stream {s}, {pl}: {col} {_f(rep)} t, "
                                                     f"recomputed {_f(val)} t")
    for s, st in inp.streams.items():
        level = getattr(st, "min_service_frac", None)
        for t in range(1, T + 1):
            d = data.demand_t_per_period[s][t - 1]
            mk, bg, sh = made_st.get((s, t), 0.0), bought.get((s, t), 0.0), shortage.get((s, t), 0.0)
            res = mk + bg + sh - d
            dm.add(abs(res), mass_tol(mk, bg, sh, d),
                   lambda: f"{scen}stream {s}, {lab(t)}: made {_f(mk)} + bought {_f(bg)} + shortage {_f(sh)} != "
                           f"demand {_f(d)} t")
            if level is not None:
                lim = (1 - level) * d
                dm.add(sh - lim, mass_tol(sh, lim),
                       lambda: f"{scen}stream {s}, {lab(t)}: shortage {_f(sh)} t > (1 - service level {_f(level)}) x "
                               f"demand {_f(d)} t")

    # ---- recycling
    rcap = acc["recycling_capacity"]
    sw = acc["swarf_feed"]
    scr = acc["scrap_feed"]
    feed = defaultdict(float)  # (k, src, t)
    for k, src, pl, x in tb["recycling"].rows(("route", "source", "period", "feed_t")):
        if k not in inp.routes:
            unknown("recycling", "route", k)
            continue
        t = period(pl, "recycling")
        if t is None:
            continue
        rt = inp.routes[k]
        if rt.feed == SWARF_FEED:
            if src not in inp.recipe_grade:
                unknown("recycling", f"swarf source of route {k}", src)
                continue
            if rt.grades is not None and inp.recipe_grade[src] not in rt.grades:
                sw.add(x, MASS_ABS_T, lambda: f"{scen}route {k}, {pl}: {_f(x)} t swarf of recipe {src} (grade "
                                              f"{inp.recipe_grade[src]}); the route takes only {rt.grades}")
        elif src != rt.feed:
            unknown("recycling", f"source of route {k}", src)
            continue
        feed[k, src, t] += x
    expansion: dict = {}
    cost_exp = 0.0
    for k, add, uf, c in tb["expansions"].rows(("route", "added_t_feed_per_period", "usable_from", "cost_usd")):
        if k not in inp.routes or inp.routes[k].expansion is None:
            unknown("expansions", "route with an expansion", k)
            continue
        ex = inp.routes[k].expansion
        expansion[k] = expansion.get(k, 0.0) + add
        lead = ex.build_lead_time_periods
        want = inp.labels[lead] if lead < T else None
        if not ((uf is None or (isinstance(uf, float) and uf != uf)) and want is None) and uf != want:
            integ.add(1, 0.0, lambda: f"{scen}expansions: route {k} usable_from {uf!r}, expected {want!r}")
        rcap.add(add - ex.max_t_per_period, mass_tol(add, ex.max_t_per_period),
                 lambda: f"{scen}route {k}: expansion {_f(add)} t/period > max {_f(ex.max_t_per_period)}")
        cu = add * ex.cost_usd_per_t_per_period
        cost_exp += cu
        costcol.add(abs(c - cu), money_tol(c, cu),
                    lambda: f"{scen}expansions: route {k}: cost_usd {_f(c)}, recomputed {_f(cu)}")
    feed_kt = defaultdict(float)
    swarf_fed = defaultdict(float)  # (recipe, t)
    scrap_fed = defaultdict(float)  # (material, t)
    recovered = defaultdict(float)  # (e, g, t)
    div_recycled = []  # (e, g, country, t, x)
    cost_recycling = 0.0
    for (k, src, t), x in feed.items():
        rt = inp.routes[k]
        feed_kt[k, t] += x
        cost_recycling += rt.cost_usd_per_kg_feed * x * K
        if rt.feed == SWARF_FEED:
            swarf_fed[src, t] += x
        else:
            scrap_fed[src, t] += x
        content = inp.src_content(k, src)
        for e, rho in rt.recovery_frac.items():
            c = content.get(e, 0.0)
            if c > 0:
                recovered[e, rt.output_origin_group, t] += rho * c * x
                div_recycled.append((e, rt.output_origin_group, rt.country or rt.output_origin_group, t, rho * c * x))
    for k, rt in inp.routes.items():
        av = data.availability_frac.get(k, (1.0,) * T)
        for t in range(1, T + 1):
            x = feed_kt.get((k, t), 0.0)
            base = inp.route_capacity(k, t)
            built = rt.expansion is not None and t > rt.expansion.build_lead_time_periods
            E = expansion.get(k, 0.0) if built else 0.0
            lim = av[t - 1] * (base + E)
            rcap.add(x - lim, mass_tol(x, lim, base, E),
                     lambda: f"{scen}route {k}, {lab(t)}: feed {_f(x)} t > availability {_f(av[t - 1])} x (capacity "
                             f"{_f(base)} + expansion {_f(E)}) t")
    swarf_gen_total = 0.0
    for (rc, t), x in made_rt.items():
        swarf_gen_total += (1 / inp.y - 1) * x
    for k in set(swarf_fed) | set(made_rt):
        f_, g_ = swarf_fed.get(k, 0.0), (1 / inp.y - 1) * made_rt.get(k, 0.0)
        sw.add(f_ - g_, mass_tol(f_, g_),
               lambda k=k, f_=f_, g_=g_: f"{scen}recipe {k[0]}, {lab(k[1])}: swarf fed {_f(f_)} t > swarf generated "
                                         f"(1/yield - 1) x made = {_f(g_)} t")
    for k in set(scrap_fed) | set(scrap_arr):
        f_, a_ = scrap_fed.get(k, 0.0), scrap_arr.get(k, 0.0)
        scr.add(f_ - a_, mass_tol(f_, a_),
                lambda k=k, f_=f_, a_=a_: f"{scen}scrap {k[0]}, {lab(k[1])}: fed {_f(f_)} t > arrived {_f(a_)} t")
    rv = acc["recovery"]
    rep_rec = defaultdict(float)
    for e, g, pl, x in tb["recovered"].rows(("element", "origin_group", "period", "recovered_t")):
        t = period(pl, "recovered")
        if t is not None:
            rep_rec[e, g, t] += x
    for k in set(rep_rec) | set(recovered):
        x, y = rep_rec.get(k, 0.0), recovered.get(k, 0.0)
        rv.add(abs(x - y), mass_tol(x, y),
               lambda k=k, x=x, y=y: f"{scen}element {k[0]}, origin {k[1]}, {lab(k[2])}: recovered table {_f(x)} t, "
                                     f"feed x content x recovery {_f(y)} t")

    # ---- stock: balance, capacity, floor, terminal
    stock: dict = defaultdict(float)  # (e, g, t)
    for e, g, pl, x in tb["stock"].rows(("element", "origin_group", "period", "stock_t")):
        if e not in inp.elements:
            unknown("stock", "element", e)
            continue
        t = period(pl, "stock")
        if t is not None:
            stock[e, g, t] += x
    for e, s in inp.sp.items():
        for g, v in s.initial_t_by_origin.items():
            stock[e, g, 0] += v
    use_egt = defaultdict(float)
    for (s, e, g, t), x in use.items():
        use_egt[e, g, t] += x
    eb = acc["element_balance"]
    eg = {(k[0], k[1]) for k in stock} | {(k[0], k[1]) for k in elem_arr} | {(k[0], k[1]) for k in recovered} \
        | {(k[0], k[1]) for k in use_egt}
    for e, g in eg:
        for t in range(1, T + 1):
            s1, s0 = stock.get((e, g, t), 0.0), stock.get((e, g, t - 1), 0.0)
            a_, r_, u_ = elem_arr.get((e, g, t), 0.0), recovered.get((e, g, t), 0.0), use_egt.get((e, g, t), 0.0)
            res = s1 - (s0 + a_ + r_ - u_)
            eb.add(abs(res), mass_tol(s1, s0, a_, r_, u_),
                   lambda: f"{scen}element {e}, origin {g}, {lab(t)}: stock {_f(s1)} t != previous {_f(s0)} + arrived "
                           f"{_f(a_)} + recovered {_f(r_)} - used {_f(u_)} (residual {_f(res)} t)")
    stock_et = defaultdict(float)
    stocked_elements = set()
    for (e, g, t), x in stock.items():
        if t >= 1:
            stock_et[e, t] += x
            stocked_elements.add(e)
    scap = acc["stock_capacity"]
    fl = acc["strategic_floor"]
    by_el: dict = {}
    for e, pl, st_, cap_, fl_, fs in tb["stock_by_element"].rows(("element", "period", "stock_t", "capacity_t",
                                                                     "floor_t", "floor_shortfall_t")):
        t = period(pl, "stock_by_element")
        if t is None:
            continue
        by_el[e, t] = (st_, cap_, fl_, fs)
    cost_holding = cost_floor = 0.0
    for e in inp.elements:
        s = inp.sp.get(e)
        ecap = s.capacity_t if s is not None else 0.0
        floor = inp.floor.get(e, 0.0)
        hard = bool(getattr(s, "floor_hard", False)) if s is not None else False
        fpen = s.floor_penalty_usd_per_kg if s is not None else 0.0
        hold = s.holding_cost_usd_per_kg_per_period if s is not None else 0.0
        for t in range(1, T + 1):
            x = stock_et.get((e, t), 0.0)
            cost_holding += hold * x * K
            scap.add(x - ecap, mass_tol(x, ecap),
                     lambda: f"{scen}element {e}, {lab(t)}: stock {_f(x)} t > capacity {_f(ecap)} t")
            row = by_el.get((e, t))
            if row is None:
                if e in stocked_elements:
                    integ.add(1, 0.0, lambda: f"{scen}stock_by_element: no row for element {e}, {lab(t)}")
                fs = 0.0
            else:
                st_, cap_, fl_, fs = row
                scap.add(abs(st_ - x), mass_tol(st_, x),
                         lambda: f"{scen}stock_by_element: element {e}, {lab(t)}: stock_t {_f(st_)} t, sum of stock {_f(x)} t")
                scap.add(abs(cap_ - ecap), mass_tol(cap_, ecap),
                         lambda: f"{scen}stock_by_element: element {e}, {lab(t)}: capacity_t {_f(cap_)} t, input {_f(ecap)} t")
                fl.add(abs(fl_ - floor), mass_tol(fl_, floor),
                       lambda: f"{scen}stock_by_element: element {e}, {lab(t)}: floor_t {_f(fl_)} t, derived {_f(floor)} t")
            gap = max(0.0, floor - x)
            if hard and floor > 0:
                fl.add(floor - x, mass_tol(floor, x),
                       lambda: f"{scen}element {e}, {lab(t)}: stock {_f(x)} t below the hard floor {_f(floor)} t")
                fl.add(fs, MASS_ABS_T, lambda: f"{scen}element {e}, {lab(t)}: shortfall {_f(fs)} t reported for a hard floor")
            elif floor > 0 and e in stocked_elements:
                fl.add(gap - fs, mass_tol(floor, x, fs),
                       lambda: f"{scen}element {e}, {lab(t)}: floor shortfall {_f(fs)} t < floor {_f(floor)} - stock {_f(x)} t")
                if fpen > 0:
                    fl.add(fs - gap, mass_tol(floor, x, fs),
                           lambda: f"{scen}element {e}, {lab(t)}: floor shortfall {_f(fs)} t > max(0, floor {_f(floor)} - "
                                   f"stock {_f(x)}) t")
            else:
                fl.add(fs, MASS_ABS_T, lambda: f"{scen}element {e}, {lab(t)}: shortfall {_f(fs)} t but no floor")
            cost_floor += fpen * fs * K
    cost_terminal = 0.0
    term_detail = []
    for e in sorted(stocked_elements):
        req = inp.terminal.get(e, 0.0)
        if req <= 0:
            continue
        gap = max(0.0, req - stock_et.get((e, T), 0.0))
        if gap > 0:
            term_detail.append(f"{e} {_f(gap)} t x {_f(inp.terminal_pen[e])} USD/kg")
        cost_terminal += inp.terminal_pen[e] * gap * K

    # ---- diversification
    dv = acc["diversification"]
    basis_p = []  # (e, g, country, t, x)
    for (o, t), q in purchased.items():
        off = inp.offers[o]
        m = inp.mats[off.material]
        if m.kind in ELEMENT_KINDS:
            a = inp.arrival(o, t)
            for e, f in m.element_content_frac.items():
                if f > 0:
                    basis_p.append((e, off.origin_group, off.country, a, f * q))
    for d in case.diversification_limits:
        rows = basis_p + (div_recycled if d.basis == "supply" else [])
        sel = defaultdict(float)
        tot = defaultdict(float)
        for e, g, ctry, t, x in rows:
            if d.element is not None and e != d.element:
                continue
            y = inp.year[t]
            tot[y] += x
            if (g if d.group_by == "origin_group" else ctry) == d.value:
                sel[y] += x
        for y in tot:
            s_, b_ = sel.get(y, 0.0), tot[y]
            dv.add(s_ - d.max_share_frac * b_, mass_tol(s_, b_),
                   lambda y=y, s_=s_, b_=b_: f"{scen}limit {d.id}, year {y}: {d.value} {_f(s_)} t > max share "
                                             f"{_f(d.max_share_frac)} x {_f(b_)} t")

    # ---- cost terms
    conv = case.plant.conversion_cost_usd_per_kg * sum(made.values()) * K
    cost_shortage = sum(inp.streams[s].shortage_cost_usd_per_kg * x * K for (s, t), x in shortage.items())
    swarf_credit = -case.plant.swarf_credit_usd_per_kg * (swarf_gen_total - sum(swarf_fed.values())) * K
    recomputed = {
        "purchases": cost_purchases, "reservation_fees": cost_fees, "conversion": conv,
        "shortage_penalty": cost_shortage, "holding": cost_holding, "floor_penalty": cost_floor,
        "terminal_penalty": cost_terminal, "recycling": cost_recycling, "swarf_credit": swarf_credit,
        "capacity_expansion": cost_exp,
    }
    ct = acc["cost_terms"]
    reported: dict = {}
    for term, stage, c in tb["costs"].rows(("term", "stage", "cost_usd")):
        if term not in recomputed:
            unknown("costs", "term", term)
            continue
        want = "first" if term in FIRST_STAGE_TERMS else "second"
        if stage != want:
            integ.add(1, 0.0, lambda: f"{scen}costs: term {term} stage {stage!r}, expected {want!r}")
        reported[term] = reported.get(term, 0.0) + c
    for term, v in recomputed.items():
        if term not in reported:
            ct.add(abs(v), money_tol(v, 0.0), lambda: f"{scen}costs: term {term} missing (recomputed {_f(v)} USD)")
            continue
        r = reported[term]
        ct.add(abs(r - v), money_tol(r, v),
               lambda: f"{scen}cost term {term}: costs table {_f(r)} USD, recomputed from tables and inputs {_f(v)} USD")
    tr = acc["terminal_requirement"]
    paid = reported.get("terminal_penalty", 0.0)
    tr.add(cost_terminal - paid, money_tol(cost_terminal, paid),
           lambda: f"{scen}terminal penalty paid {_f(paid)} USD < penalty x shortfall {_f(cost_terminal)} USD "
                   f"({'; '.join(term_detail)})")
    return sum(recomputed.values()), recomputed


def _audit_nonanticipativity(full: dict, cases: list, nacc: _Acc, stochastic: bool) -> None:
    if not stochastic or len(cases) < 2:
        return
    n = len(cases)
    W = cases[0].case.risk.non_anticipative_periods
    window = set(cases[0].periods[:W])
    for tname, (keys, col, pcol) in NONANT.items():
        df = full[tname]
        if not len(df):
            continue
        if pcol is not None:
            df = df[df[pcol].isin(window)]
            if not len(df):
                continue
        g = df.groupby(list(keys), sort=False)[col]
        lo, hi, cnt = g.min(), g.max(), g.count()
        lo = lo.where(cnt >= n, lo.clip(upper=0.0))
        hi = hi.where(cnt >= n, hi.clip(lower=0.0))
        spread = hi - lo
        tol = MASS_ABS_T + MASS_REL * pd.concat([lo.abs(), hi.abs()], axis=1).max(axis=1)
        ratio = spread / tol
        bad = int((spread > tol).sum())
        k = ratio.idxmax()
        v, tl = float(spread[k]), float(tol[k])
        key = k if isinstance(k, tuple) else (k,)
        mask = pd.Series(True, index=df.index)
        for c, x in zip(keys, key):
            mask &= df[c] == x
        sub = df[mask]

        def where(sub=sub, key=key, tname=tname, v=v):
            i_lo, i_hi = sub[col].idxmin(), sub[col].idxmax()
            missing = n - len(sub)
            extra = f", missing in {missing} scenario(s)" if missing else ""
            return (f"{tname} {dict(zip(keys, key))}: {col} {_f(sub.loc[i_lo, col])} in scenario "
                    f"{sub.loc[i_lo, 'scenario']} vs {_f(sub.loc[i_hi, col])} in scenario {sub.loc[i_hi, 'scenario']}"
                    f"{extra} (spread {_f(v)} t)")

        nacc.add(v, tl, where)
        if bad > 1:
            nacc.n_bad += bad - 1


def _cvar(values: list[float], probs: list[float], alpha: float) -> float:
    """Expected value of the worst 1 - alpha of probability (sorting, not the LP)."""
    tail = 1.0 - alpha
    acc = s = 0.0
    for v, p in sorted(zip(values, probs), key=lambda x: -x[0]):
        take = min(p, tail - acc)
        if take <= 0:
            break
        s += take * v
        acc += take
    return s / tail


def _audit_objective(run, cases, totals, term_totals, kpis, tables, oacc: _Acc, stochastic: bool) -> None:
    def cmp(label, reported, value):
        if reported is None:
            oacc.add(abs(value) + MONEY_ABS_USD * 2, MONEY_ABS_USD, f"kpis {label} missing (recomputed {_f(value)} USD)")
            return
        r = float(reported)
        oacc.add(abs(r - value), money_tol(r, value), lambda: f"{label}: reported {_f(r)} USD, recomputed {_f(value)} USD")

    first = {n: sum(v for t, v in tt.items() if t in FIRST_STAGE_TERMS) for n, tt in term_totals.items()}
    if not stochastic:
        n = cases[0].scenario
        cmp("kpis objective_usd", kpis.get("objective_usd"), totals[n])
        cmp("kpis first_stage_cost_usd", kpis.get("first_stage_cost_usd"), first[n])
        cmp("kpis scenario_cost_usd", kpis.get("scenario_cost_usd"), totals[n] - first[n])
        parts = kpis.get("cost_parts_usd") or {}
        for t, v in term_totals[n].items():
            if t in parts:
                cmp(f"kpis cost_parts_usd[{t}]", parts[t], v)
        return
    probs = [c.probability for c in cases]
    names = [c.scenario for c in cases]
    vals = [totals[n] for n in names]
    scen = tables.get("scenarios")
    if scen is not None and {"scenario", "total_cost_usd"} <= set(scen.columns):
        rep = dict(zip(scen.scenario, scen.total_cost_usd))
        for n in names:
            cmp(f"scenarios table total_cost_usd of scenario {n}", rep.get(n), totals[n])
    expected = sum(p * v for p, v in zip(probs, vals))
    cmp("kpis expected_cost_usd", kpis.get("expected_cost_usd"), expected)
    risk = cases[0].case.risk
    cv = _cvar(vals, probs, risk.cvar_alpha)
    if kpis.get("cvar_cost_usd") is not None or risk.risk_weight_lambda > 0:
        cmp(f"kpis cvar_cost_usd (alpha {risk.cvar_alpha})", kpis.get("cvar_cost_usd"), cv)
    cmp(f"kpis objective_usd (expected + lambda {risk.risk_weight_lambda} x CVaR)", kpis.get("objective_usd"),
        expected + risk.risk_weight_lambda * cv)
    cmp("kpis first_stage_cost_usd", kpis.get("first_stage_cost_usd"), sum(p * first[n] for p, n in zip(probs, names)))
    parts = kpis.get("expected_cost_parts_usd") or {}
    for t in COST_TERMS:
        if t in parts:
            cmp(f"kpis expected_cost_parts_usd[{t}]", parts[t], sum(p * term_totals[n][t] for p, n in zip(probs, names)))
