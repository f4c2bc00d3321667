"""Derived sparse index sets and coefficients, computed once with pandas.

Nothing in a Pyomo rule filters with ``if``: every index set below lists only
the keys that exist (Switch PR #34/#83). Periods are integers ``1..T``.

Glossary (key tuples -> meaning)
--------------------------------
PURCHASE            (o, t): offer o can be ordered in period t (its arrival falls inside the horizon)
arrival_period      (o, t) -> period the order arrives: t + lead time + the largest review lead time
                    (``review_lead_periods`` of the scenario, else the rule's) of the case-by-case rules
                    governing (o, t) (below)
governing rules     of (o, t): the free / general / case-by-case rules in force at t covering o's origin
                    group, material, (``suppliers``) supplier and (``destination_countries``) the country of
                    the plant o delivers to; when some of them name suppliers, only
                    those (a named exporter's licence replaces the blanket rules for its offers). An order
                    (o, t) that a governing rule does not admit (``customers``,
                    ``validated_end_users_only``: :func:`admits_company`) is not in PURCHASE
RESERVE             (o, t): contract offer o, period t (first-stage reservation)
TRANCHE             (o, s, L): contract o with terms may sign a volume for the L periods s..s+L-1:
                    min_term <= L <= max_term (blank: T), or L = 1 without min_term (month by month);
                    s > notice; every period s..s+L-1 in RESERVE (the term ends inside the horizon, in a
                    period whose orders still arrive in it)
TRANCHE_COVER       (o, t) -> tuple of (s, L) of TRANCHE covering t, for every (o, t) in RESERVE of a
                    contract with terms (an empty tuple: the reservation is the committed volume)
CONTRACT_BAND       (o, t) -> band, t/period, for t and t+1 both in RESERVE of an offer with a band:
                    max_change_t_per_period, or max_change_frac_per_period x max(cap[o, t], cap[o, t+1])
TAKE_OR_PAY         (o, t) in RESERVE of a contract with take_or_pay_frac > 0
ELEM_ARRIVAL        rows (p, e, g, a, o, t, content_frac): element e of origin g arriving at plant p (the
                    offer's) in a from order (o, t)
SCRAP_ARRIVAL       rows (p, material, a, o, t): scrap arriving at plant p in a from order (o, t)
MAGNET_ARRIVAL      rows (p, m, g, a, o, t): finished magnet material m of origin g arriving at plant p in a
QUOTA               (rule, t) -> list of offers whose orders in t count against the rule's quota (the
                    general / case-by-case rule governs them)
QUOTA_LAPSED        (rule, t) of QUOTA from the period the licence lapses (``renewal.renewed`` false: its
                    first due date) to the horizon end: its quota is 0 there
STOCK_PEG           (p, e, g): element e of origin g can be held at plant p (some offer delivering there, initial
                    stock, recycling there, or a lane from a plant that has it supplies it)
USE                 (s, e, g, t): stream s may use element e of origin g in t: it can be held at the stream's
                    plant and no prohibition in force there (end use, ``customers``, ``destination_countries``)
                    bars it
MAKE                (s, r, t): stream s made by recipe r in period t
MAGNET_USE          (s, m, g, t): stream s may use finished magnet m of origin g in t (grade-matching, not
                    barred for its end use at its plant in t, and at that plant in t: arriving, held in magnet
                    stock or brought by a lane)
MAGNET_STOCK_PMG    (p, m, g): finished magnet m of origin g can be held at plant p (its grade has a
                    ``magnet_stock`` there and some order, order in transit, initial stock or lane supplies it)
TRANSFER_ELEM       (lane, e, g, t): element e of origin g can leave on ``transfers[lane]`` in t (held at its
                    start plant; it arrives at its end in t + lead, inside the horizon)
TRANSFER_MAGNET     (lane, m, g, t): finished magnet m of origin g can leave on the lane in t (at its start in t)
plant_of_stream     s -> the plant that makes stream s's magnets
IN_TRANSIT_ELEM     rows (p, e, g, a, t): t of element e of origin g arriving at plant p in a from orders in transit
IN_TRANSIT_SCRAP    rows (p, m, a, t): t of scrap m arriving at plant p in a from orders in transit
IN_TRANSIT_MAGNET   rows (p, m, g, a, t): t of finished magnet m of origin g arriving at p in a
RECYCLE_X           (route, src, t): route processes feed from src in t; src is a recipe (swarf routes,
                    swarf of that recipe) or the route's scrap material (only when scrap can arrive in t)
RECOVERY            rows (route, src, t, p, e, g, country, coef): t of element e (origin g) recovered at plant p
                    (the route's) per t feed
exp_avail           (route, t) -> () or (route,): whether the route's expansion is usable in t
YEARS               calendar year -> periods starting in it

``ModelSets`` cannot be changed once built: its maps are ``MappingProxyType`` and its row tables
(ELEM_ARRIVAL, SCRAP_ARRIVAL, MAGNET_ARRIVAL, RECOVERY) :class:`~model.frozen.FrozenTable`, whose
columns read as pandas Series (``sets.RECOVERY.coef``) but which has no way to be written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from model.frozen import FrozenTable
from model.input.data import CaseData
from model.input.schema import ELEMENT_KINDS, SWARF_FEED, TERMINAL_PENALTY_MARKUP, period_of_month


@dataclass(frozen=True)
class ModelSets:
    T: int
    periods: tuple[int, ...]
    PURCHASE: tuple[tuple[str, int], ...]
    arrival_period: Mapping
    RESERVE: tuple[tuple[str, int], ...]
    TRANCHE: tuple[tuple[str, int, int], ...]
    TRANCHE_COVER: Mapping  # (o, t) -> tuple of (s, L)
    CONTRACT_BAND: Mapping  # (o, t) -> t/period
    TAKE_OR_PAY: tuple[tuple[str, int], ...]
    ELEM_ARRIVAL: FrozenTable
    SCRAP_ARRIVAL: FrozenTable
    MAGNET_ARRIVAL: FrozenTable
    QUOTA: Mapping
    rule_in_force: Mapping
    QUOTA_LAPSED: tuple[tuple[str, int], ...]
    MAGNET_STOCK_PMG: tuple[tuple[str, str, str], ...]
    IN_TRANSIT_ELEM: tuple[tuple[str, str, int, float], ...]
    IN_TRANSIT_SCRAP: tuple[tuple[str, int, float], ...]
    IN_TRANSIT_MAGNET: tuple[tuple[str, str, int, float], ...]
    STOCK_PEG: tuple[tuple[str, str, str], ...]
    USE: tuple[tuple[str, str, str, int], ...]
    MAKE: tuple[tuple[str, str, int], ...]
    MAGNET_USE: tuple[tuple[str, str, str, int], ...]
    TRANSFER_ELEM: tuple[tuple[str, str, str, int], ...]
    TRANSFER_MAGNET: tuple[tuple[str, str, str, int], ...]
    plant_of_stream: Mapping  # s -> plant
    RECYCLE_X: tuple[tuple[str, str, int], ...]
    RECOVERY: FrozenTable
    exp_avail: Mapping
    recipe_need: Mapping  # (r, e) -> t element per t magnet
    recipe_grade: Mapping  # r -> grade
    YEARS: Mapping  # year -> tuple of periods
    floor_t: Mapping  # (p, e) -> t
    terminal_t: Mapping  # (p, e) -> t
    terminal_penalty_usd_per_kg: Mapping  # (p, e) -> USD/kg

    def __post_init__(self) -> None:
        """Store every map as a read-only copy (MappingProxyType), every table as a FrozenTable."""
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, pd.DataFrame):
                object.__setattr__(self, f.name, FrozenTable(v))
            elif isinstance(v, Mapping):
                object.__setattr__(self, f.name, MappingProxyType(dict(v)))
            elif isinstance(v, list):
                object.__setattr__(self, f.name, tuple(v))


def _rules_in_force(data: CaseData) -> pd.DataFrame:
    """One row per (rule, period) the rule is in force."""
    case = data.case
    rows = []
    for r in case.licence_rules:
        p0 = period_of_month(case.horizon, r.valid_from) if r.valid_from else 1
        p1 = period_of_month(case.horizon, r.valid_to) if r.valid_to else data.T
        rows += [(r.id, t) for t in range(p0, p1 + 1)]
    return pd.DataFrame(rows, columns=["rule", "t"])


def _rule_cover(data: CaseData) -> pd.DataFrame:
    """One row per (rule, origin group, material, end use) with the regime."""
    rows = [
        (r.id, g, m, u, r.regime)
        for r in data.case.licence_rules
        for g in r.origin_groups
        for m in r.materials
        for u in r.end_uses
    ]
    return pd.DataFrame(rows, columns=["rule", "g", "material", "end_use", "regime"])


def admits_company(rule, company, plant: str | None = None) -> bool:
    """Whether licence ``rule`` admits the planning company at ``plant``: the company or the plant is among
    the rule's ``customers`` (when named) and the company is a validated end user when the rule admits
    only those."""
    if rule.customers is not None and plant not in rule.customers and (
            company is None or company.customer_id not in rule.customers):
        return False
    if rule.validated_end_users_only and (company is None or not company.validated_end_user):
        return False
    return True


def reaches(rule, country: str | None) -> bool:
    """Whether ``rule`` covers a destination (a plant) in ``country``: it names no destination, or this one."""
    return rule.destination_countries is None or country in rule.destination_countries


def _orders_governed(data: CaseData, in_force: pd.DataFrame) -> dict:
    """(o, t) -> the rules governing orders of offer o placed in t (see the glossary), in input order."""
    case = data.case
    live = set(zip(in_force.rule, in_force.t.astype(int)))
    order_rules = [r for r in case.licence_rules if r.regime != "prohibited"]
    country = {p.id: p.country for p in case.site_plants}
    out = {}
    for o in case.offers:
        dest = country.get(case.plant_of(o))
        cov = [r for r in order_rules if o.origin_group in r.origin_groups and o.material in r.materials
               and (r.suppliers is None or o.supplier in r.suppliers) and reaches(r, dest)]
        for t in range(1, data.T + 1):
            now = [r for r in cov if (r.id, t) in live]
            named = [r for r in now if r.suppliers is not None]
            if now:
                out[o.id, t] = tuple(named or now)
    return out


def _over_lanes(keys: set, transfers) -> set:
    """``keys`` (tuples led by a plant id) closed over the lanes: what is at a lane's start can reach its end."""
    out, changed = set(keys), True
    while changed:
        changed = False
        for x in transfers:
            for k in [k for k in out if k[0] == x.from_plant]:
                if (x.to_plant, *k[1:]) not in out:
                    out.add((x.to_plant, *k[1:]))
                    changed = True
    return out


def _review_lead(data: CaseData, rule, t: int) -> int:
    """Review lead time of case-by-case ``rule`` for an order placed in t (periods)."""
    series = data.review_lead_periods.get(rule.id)
    return int(round(series[t - 1])) if series is not None else rule.review_lead_time_periods


def _lapse_period(data: CaseData, rule) -> int | None:
    """First period of quota 0 of a licence that is not renewed (``renewal.renewed`` false), else None."""
    from model.input.scenarios import renewal_due_periods

    if rule.renewal is None or rule.renewal.renewed:
        return None
    due = renewal_due_periods(data.case, rule, data.T)
    return due[0] if due else None


def _contract_terms(data: CaseData, RESERVE) -> dict:
    """TRANCHE, TRANCHE_COVER, CONTRACT_BAND and TAKE_OR_PAY (see the glossary)."""
    periods_of: dict[str, list[int]] = defaultdict(list)
    for o, t in RESERVE:
        periods_of[o].append(t)
    cap = data.capacity_t_per_period
    tranche, cover, band, top = [], {}, {}, []
    for off in sorted(data.case.offers, key=lambda x: x.id):
        c = off.terms
        if c is None or off.kind != "contract":
            continue
        ts = sorted(periods_of.get(off.id, ()))
        orderable = set(ts)
        if c.min_term_periods is None:  # no tranche terms: one-period tranches, the reservation month by month
            shortest = longest = 1
        else:
            shortest = c.min_term_periods
            longest = c.max_term_periods if c.max_term_periods is not None else data.T
        covering: dict[int, list] = {t: [] for t in ts}
        for s in ts:
            if s <= c.notice_periods:
                continue
            for L in range(1, longest + 1):
                if s + L - 1 not in orderable:
                    break  # the term would leave the periods whose orders arrive in the horizon
                if L >= shortest:
                    tranche.append((off.id, s, L))
                    for t in range(s, s + L):
                        covering[t].append((s, L))
        cover.update({(off.id, t): tuple(v) for t, v in covering.items()})
        if c.max_change_t_per_period is not None or c.max_change_frac_per_period is not None:
            for t in ts:
                if t + 1 in orderable:
                    band[off.id, t] = (c.max_change_t_per_period if c.max_change_t_per_period is not None
                                       else c.max_change_frac_per_period * max(cap[off.id][t - 1], cap[off.id][t]))
        if c.take_or_pay_frac > 0:
            top += [(off.id, t) for t in ts]
    return {"TRANCHE": tuple(tranche), "TRANCHE_COVER": cover, "CONTRACT_BAND": band, "TAKE_OR_PAY": tuple(top)}


def build_sets(data: CaseData) -> ModelSets:
    case = data.case
    T = data.T
    periods = tuple(range(1, T + 1))
    mats = {m.id: m for m in case.materials}
    rules = {r.id: r for r in case.licence_rules}

    plants = {p.id: p for p in case.site_plants}
    offers = pd.DataFrame(
        [(o.id, case.plant_of(o), o.origin_group, o.material, mats[o.material].kind, o.lead_time_periods, o.kind,
          o.country) for o in case.offers],
        columns=["o", "p", "g", "material", "mkind", "lead", "okind", "country"],
    )
    in_force = _rules_in_force(data)
    cover = _rule_cover(data)

    # --- the rules governing each (offer, order period): review lead time, admission of the company
    governed = _orders_governed(data, in_force)
    ot = offers.merge(pd.DataFrame({"t": periods}), how="cross")
    gov = [governed.get((o, int(t)), ()) for o, t in zip(ot.o, ot.t)]
    ot["review"] = [max((_review_lead(data, r, int(t)) for r in g if r.regime == "case_by_case"), default=0)
                    for g, t in zip(gov, ot.t)]
    ot["barred"] = [not all(admits_company(r, case.company, p) for r in g) for g, p in zip(gov, ot.p)]
    ot["a"] = ot.t + ot.lead + ot.review.astype(int)
    ot = ot[(ot.a <= T) & ~ot.barred].reset_index(drop=True)
    PURCHASE = tuple(zip(ot.o, ot.t.astype(int)))
    arrival_period = dict(zip(PURCHASE, ot.a.astype(int)))
    RESERVE = tuple(zip(ot.o[ot.okind == "contract"], ot.t[ot.okind == "contract"].astype(int)))

    # --- arrivals by kind
    content = pd.DataFrame(
        [(m.id, e, f) for m in case.materials if m.kind in ELEMENT_KINDS for e, f in m.element_content_frac.items() if f > 0],
        columns=["material", "e", "frac"],
    )
    ea = ot.merge(content, on="material")[["p", "e", "g", "a", "o", "t", "frac"]]
    ea = ea.astype({"a": int, "t": int}).sort_values(["p", "e", "g", "a", "o", "t"]).reset_index(drop=True)
    sa = ot[ot.mkind == "scrap"][["p", "material", "a", "o", "t"]].astype({"a": int, "t": int}).reset_index(drop=True)
    ma = ot[ot.mkind == "magnet"][["p", "material", "g", "a", "o", "t"]].astype({"a": int, "t": int}).reset_index(drop=True)

    # --- quotas: orders each general / case-by-case rule in force governs
    QUOTA: dict = defaultdict(list)
    for o, t in PURCHASE:
        for r in governed.get((o, t), ()):
            if r.regime in ("general", "case_by_case"):
                QUOTA[(r.id, t)].append(o)
    # a rule in force with no orderable offer still gets a (vacuous) key only if it has members
    QUOTA = {k: tuple(sorted(v)) for k, v in sorted(QUOTA.items())}
    rule_in_force = {(r, int(t)): True for r, t in zip(in_force.rule, in_force.t)}
    lapse = {r.id: _lapse_period(data, r) for r in case.licence_rules}
    QUOTA_LAPSED = tuple(k for k in QUOTA if lapse[k[0]] is not None and k[1] >= lapse[k[0]])

    # --- prohibited (p, g, material, end_use, t): prohibitions that apply to the company at plant p
    # (``customers``, ``destination_countries``), in force and not lifted (``admitted``, a scenario's ``admit``)
    live = in_force.merge(pd.DataFrame({"p": list(plants)}), how="cross")
    bars = pd.Series([rules[r].regime == "prohibited" and admits_company(rules[r], case.company, p)
                      and reaches(rules[r], plants[p].country)
                      and data.admitted.get(r, (0.0,) * T)[int(t) - 1] <= 0.5
                      for r, t, p in zip(live.rule, live.t, live.p)], index=live.index, dtype=bool)
    proh = cover[cover.regime == "prohibited"].merge(live[bars], on="rule")[["p", "g", "material", "end_use", "t"]]

    # --- orders in transit at the start (already licensed and paid): what arrives, by kind
    transit_elem: dict = defaultdict(float)
    transit_scrap: dict = defaultdict(float)
    transit_mag: dict = defaultdict(float)
    offer_of = {o.id: o for o in case.offers}
    for x in case.in_transit:
        o = offer_of[x.offer]
        mat = mats[o.material]
        a = period_of_month(case.horizon, x.arrival_period)
        p = case.plant_of(o)
        if mat.kind in ELEMENT_KINDS:
            for e, f in mat.element_content_frac.items():
                if f > 0:
                    transit_elem[p, e, o.origin_group, a] += f * x.quantity_t
        elif mat.kind == "scrap":
            transit_scrap[p, mat.id, a] += x.quantity_t
        else:
            transit_mag[p, mat.id, o.origin_group, a] += x.quantity_t

    # --- element stock keys (p, e, g): what arrives at, is held at or is recovered at plant p, and what a
    # lane can bring there (closed over chains of lanes)
    peg = set(zip(ea.p, ea.e, ea.g)) | {(p, e, g) for (p, e, g, _) in transit_elem}
    for sp in case.stockpile:
        peg |= {(case.plant_of(sp), sp.element, g) for g, v in sp.initial_t_by_origin.items() if v > 0}
    for rt in case.recycling_routes:
        peg |= {(case.plant_of(rt), e, rt.output_origin_group) for e in rt.recovery_frac}
    peg = _over_lanes(peg, case.transfers)
    STOCK_PEG = tuple(sorted(peg))

    # --- recipes
    recipe_need = {(rc.id, e): f for g in case.grades for rc in g.recipes for e, f in rc.element_t_per_t_magnet.items() if f > 0}
    recipe_grade = {rc.id: g.id for g in case.grades for rc in g.recipes}
    streams = pd.DataFrame([(s.id, case.plant_of(s), s.grade, s.end_use) for s in case.streams],
                           columns=["s", "p", "grade", "end_use"])
    recipes = pd.DataFrame(list(recipe_grade.items()), columns=["r", "grade"])
    make = streams.merge(recipes, on="grade").merge(pd.DataFrame({"t": periods}), how="cross")
    MAKE = tuple(zip(make.s, make.r, make.t.astype(int)))

    # --- eligibility of element stock: (s, e, g, t) for element e of origin g held at the stream's plant,
    # unless a prohibited rule in force there covers origin g, the stream's end use and a material that
    # contains element e.
    need_e = pd.DataFrame([(r, e) for (r, e) in recipe_need], columns=["r", "e"])
    s_e = streams.merge(recipes, on="grade").merge(need_e, on="r")[["s", "p", "e", "end_use"]].drop_duplicates()
    pegdf = pd.DataFrame(list(STOCK_PEG), columns=["p", "e", "g"])
    cand = s_e.merge(pegdf, on=["p", "e"]).merge(pd.DataFrame({"t": periods}), how="cross")
    blocked = proh.merge(content[["material", "e"]], on="material")[["p", "g", "e", "end_use", "t"]].drop_duplicates()
    cand = cand.merge(blocked.assign(_b=1), on=["p", "g", "e", "end_use", "t"], how="left")
    cand = cand[cand._b.isna()].sort_values(["s", "e", "g", "t"])
    USE = tuple(zip(cand.s, cand.e, cand.g, cand.t.astype(int)))

    # --- finished magnets: (s, m, g, t) for magnets of the stream's grade at the stream's plant, not prohibited
    mag = pd.DataFrame(
        [(m.id, m.grade) for m in case.materials if m.kind == "magnet"], columns=["material", "grade"]
    )
    grade_of = dict(zip(mag.material, mag.grade))
    # magnet stock: (p, m, g) of a grade with a store at p that some order, order in transit, initial stock
    # or lane supplies
    store = {(case.plant_of(x), x.grade): x for x in case.magnet_stock}
    magnets_of: dict = defaultdict(list)
    for m_ in case.materials:
        if m_.kind == "magnet":
            magnets_of[m_.grade].append(m_.id)
    only_magnet = {gr: ms[0] for gr, ms in magnets_of.items() if len(ms) == 1}
    present = _over_lanes(set(zip(ma.p, ma.material, ma.g)) | {(p, m_, g_) for (p, m_, g_, _) in transit_mag} | {
        (p, only_magnet[gr], g_) for (p, gr), x in store.items() if gr in only_magnet
        for g_, v in x.initial_t_by_origin.items() if v > 0}, case.transfers)
    MAGNET_STOCK_PMG = tuple(sorted(k for k in present if (k[0], grade_of.get(k[1])) in store))
    # magnets that can be at plant p in t: arriving (orders, in transit), held there, or brought by a lane
    lane_to = defaultdict(list)  # from plant -> [(lane, to plant, lead)]
    for x in case.transfers:
        lane_to[x.from_plant].append((x.id, x.to_plant, x.lead_time_periods))
    here = ({(p, m_, g_, int(a)) for p, m_, g_, a in zip(ma.p, ma.material, ma.g, ma.a)}
            | {(p, m_, g_, a) for (p, m_, g_, a) in transit_mag}
            | {(p, m_, g_, t) for (p, m_, g_) in MAGNET_STOCK_PMG for t in periods})
    TRANSFER_MAGNET, frontier = [], set(here)
    seen_lane = set()
    while frontier:  # a magnet at p in t can leave by a lane and be at its end in t + lead
        nxt = set()
        for (p, m_, g_, t) in frontier:
            for lane, q, lead in lane_to.get(p, ()):
                if t + lead <= T and (lane, m_, g_, t) not in seen_lane:
                    seen_lane.add((lane, m_, g_, t))
                    if (q, m_, g_, t + lead) not in here:
                        here.add((q, m_, g_, t + lead))
                        nxt.add((q, m_, g_, t + lead))
        frontier = nxt
    TRANSFER_MAGNET = tuple(sorted(seen_lane))
    mcand = streams.merge(mag, on="grade").merge(pd.DataFrame({"t": periods}), how="cross")
    at = pd.DataFrame(sorted(here), columns=["p", "material", "g", "t"]) if here else pd.DataFrame(
        columns=["p", "material", "g", "t"]).astype({"t": int})
    mcand = mcand.merge(at, on=["p", "material", "t"])
    mcand = mcand.merge(proh.assign(_b=1), on=["p", "g", "material", "end_use", "t"], how="left")
    mcand = mcand[mcand._b.isna()].sort_values(["s", "material", "g", "t"])
    MAGNET_USE = tuple(zip(mcand.s, mcand.material, mcand.g, mcand.t.astype(int)))
    TRANSFER_ELEM = tuple(sorted((x.id, e, g, t) for x in case.transfers for (p, e, g) in STOCK_PEG if p == x.from_plant
                                 for t in periods if t + x.lead_time_periods <= T))

    # --- recycling throughput keys: (route, source, t); source = recipe (swarf of the route's plant) or
    # scrap material (delivered to the route's plant)
    made_at = defaultdict(set)  # plant -> recipes made there
    plant_of_stream = dict(zip(streams.s, streams.p))
    for (s_, r, _) in MAKE:
        made_at[plant_of_stream[s_]].add(r)
    scrap_avail = set(zip(sa.p, sa.material, sa.a)) | set(transit_scrap)  # (p, m, a) keys
    rx = [
        (rt.id, r, t)
        for rt in case.recycling_routes if rt.feed == SWARF_FEED
        for r in sorted(made_at[case.plant_of(rt)]) if rt.grades is None or recipe_grade[r] in rt.grades
        for t in periods
    ] + [
        (rt.id, rt.feed, t)
        for rt in case.recycling_routes if rt.feed != SWARF_FEED
        for t in periods if (case.plant_of(rt), rt.feed, t) in scrap_avail
    ]
    RECYCLE_X = tuple(rx)
    routes = {rt.id: rt for rt in case.recycling_routes}
    # element content of a t of feed from each source
    src_content = {(r, e): f for (r, e), f in recipe_need.items()}
    src_content.update({(m.id, e): f for m in case.materials if m.kind == "scrap" for e, f in m.element_content_frac.items() if f > 0})
    RECOVERY = pd.DataFrame(
        [
            (route, src, t, case.plant_of(routes[route]), e, routes[route].output_origin_group,
             routes[route].country or routes[route].output_origin_group, rec * src_content[(src, e)])
            for (route, src, t) in RECYCLE_X
            for e, rec in routes[route].recovery_frac.items() if (src, e) in src_content
        ],
        columns=["route", "src", "t", "p", "e", "g", "country", "coef"],
    )
    exp_avail = {
        (rt.id, t): ((rt.id,) if rt.expansion is not None and t > rt.expansion.build_lead_time_periods else ())
        for rt in case.recycling_routes for t in periods
    }

    # --- calendar years
    from model.input.schema import month_index

    years: dict[int, list[int]] = defaultdict(list)
    for t, label in zip(periods, data.periods):
        years[month_index(label) // 12].append(t)
    YEARS = {y: tuple(v) for y, v in sorted(years.items())}

    # --- floors and terminal requirement per (plant, element)
    mpp = case.horizon.months_per_period
    floor_t, terminal_t, term_pen = {}, {}, {}
    grades = {g.id: g for g in case.grades}
    for sp in case.stockpile:
        e, p = sp.element, case.plant_of(sp)
        if sp.floor_t is not None:
            floor_t[p, e] = sp.floor_t
        elif sp.floor_months_of_use is not None:
            use_per_period = sum(
                (sum(data.demand_as_read_t_per_period[s.id]) / T)
                * grades[s.grade].reference.element_t_per_t_magnet.get(e, 0.0) / plants[p].yield_frac
                for s in case.streams if case.plant_of(s) == p
            )
            floor_t[p, e] = sp.floor_months_of_use * use_per_period / mpp
        terminal_t[p, e] = sp.terminal_min_t if sp.terminal_min_t is not None else sum(sp.initial_t_by_origin.values())
        if sp.terminal_penalty_usd_per_kg is not None:
            term_pen[p, e] = sp.terminal_penalty_usd_per_kg
        else:
            best = [
                max(data.price_usd_per_kg[o.id]) / mats[o.material].element_content_frac[e]
                for o in case.offers
                if mats[o.material].kind in ELEMENT_KINDS and mats[o.material].element_content_frac.get(e, 0) > 0
            ]
            # strictly dearer than the dearest way to meet it: buy at the top price and hold all horizon
            meet = (max(best) if best else 0.0) + sp.holding_cost_usd_per_kg_per_period * T
            term_pen[p, e] = TERMINAL_PENALTY_MARKUP * max(meet, sp.floor_penalty_usd_per_kg)

    return ModelSets(
        T=T, periods=periods, PURCHASE=PURCHASE, arrival_period=arrival_period, RESERVE=RESERVE,
        **_contract_terms(data, RESERVE),
        ELEM_ARRIVAL=ea, SCRAP_ARRIVAL=sa, MAGNET_ARRIVAL=ma, QUOTA=QUOTA,
        rule_in_force=rule_in_force, QUOTA_LAPSED=QUOTA_LAPSED, MAGNET_STOCK_PMG=MAGNET_STOCK_PMG,
        IN_TRANSIT_ELEM=tuple((*k, v) for k, v in sorted(transit_elem.items())),
        IN_TRANSIT_SCRAP=tuple((*k, v) for k, v in sorted(transit_scrap.items())),
        IN_TRANSIT_MAGNET=tuple((*k, v) for k, v in sorted(transit_mag.items())),
        STOCK_PEG=STOCK_PEG, USE=USE, MAKE=MAKE, MAGNET_USE=MAGNET_USE,
        TRANSFER_ELEM=TRANSFER_ELEM, TRANSFER_MAGNET=TRANSFER_MAGNET, plant_of_stream=plant_of_stream,
        RECYCLE_X=RECYCLE_X, RECOVERY=RECOVERY, exp_avail=exp_avail, recipe_need=recipe_need, recipe_grade=recipe_grade,
        YEARS=YEARS, floor_t=floor_t, terminal_t=terminal_t, terminal_penalty_usd_per_kg=term_pen,
    )
