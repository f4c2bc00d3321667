"""Checks beyond the schema: inputs that each pass validation but contradict one another.

Every check lives in :data:`CATALOGUE`, one :class:`SemanticCheck` each: its name, its severity, the
fields it reads, what it means, and the function that finds it. ``docs/inputs.md`` lists the
catalogue (section "Checks beyond the schema", :mod:`model.input.docgen`).

- ``error``: the inputs cannot mean what they say (a recipe heavier than the magnet, a floor above the
  stock capacity, a scenario effect that changes nothing, a scenario of probability 0, a demand no input
  can ever meet). Reported
  with every other input issue by :func:`check_semantics` (called from
  :func:`model.input.case._case_from_mapping`): ``<file>: <field> = <value>: expected <what>``, exit 2,
  nothing written.
- ``warning``: legal but probably not meant (a planner may model it on purpose: an offer that can
  never be bought, a licence rule that covers nothing, an initial stock below the floor). The case
  solves; the lines are ``CaseData.warnings`` (:mod:`model.input.warnings`), ``kpis["input_warnings"]``
  and a "Warnings" box at the top of summary.md and report.html.

One defect gives one line: a check that could say the same thing several times (per period, per
recipe, per rule named) groups it into one line per item of the case it names. Checks that read a
time series (demand, capacity) run only when every series was read without error (``demand`` /
``capacity`` is then ``None`` and they skip), and every check skips ids that are not known (those are
reported by :mod:`model.input.validate`), so a broken reference never gives a second, derived line.

Glossary
--------
find(case, demand, capacity)  yields ``(field, value, text)``: ``text`` is what was expected (errors)
                              or what the warning says (warnings)
demand[s]                     t of magnet per period of stream s, as read (``None``: not readable)
capacity[x]                   nominal t per period of offer or route x, as read (``None``: not readable)
demanded grade                the grade of a stream whose demand is positive in some period
used element                  an element a recipe of a demanded grade needs, or one with a stockpile
                              floor or terminal requirement above 0
floor_t                       a stockpile's strategic floor in t of element: ``floor_t``, or
                              ``floor_months_of_use`` x average use per month (demand as read x the
                              grade's reference recipe / plant yield), as :mod:`model.components.sets`
TOL_T                         1e-9: t or fractions this close count as equal
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Mapping

from model.errors import InputIssue
from model.input.schema import ELEMENT_KINDS, SWARF_FEED, CaseInput, Effect, period_of_month

TOL_T = 1e-9

Series = Mapping[str, tuple[float, ...]] | None
Finding = tuple[str, object, str]


@dataclass(frozen=True)
class SemanticCheck:
    name: str
    severity: Literal["error", "warning"]
    fields: str
    """The input fields the check reads (as in ``docs/inputs.md``)."""
    meaning: str
    """What the check finds and why it is an error or only a warning."""
    find: Callable[[CaseInput, Series, Series], Iterable[Finding]]


_CHECKS: list[SemanticCheck] = []


def _check(name: str, severity: Literal["error", "warning"], fields: str, meaning: str):
    def register(fn):
        _CHECKS.append(SemanticCheck(name, severity, fields, meaning, fn))
        return fn
    return register


# --------------------------------------------------------------------------------------------- helpers

def _ids(xs: Iterable[str]) -> str:
    return ", ".join(sorted(set(xs)))


def _g(x: float) -> str:
    return f"{x:.4g}"


def _first(items, key) -> dict:
    """id -> the first item with that id (duplicates are reported by validate)."""
    out: dict = {}
    for x in items:
        out.setdefault(key(x), x)
    return out


def _offered_materials(case: CaseInput) -> set[str]:
    return {o.material for o in case.offers}


def _demanded_grades(case: CaseInput, demand: Series) -> dict[str, list[str]]:
    """grade -> the streams demanding it (positive demand in some period; every stream when unknown)."""
    out: dict[str, list[str]] = {}
    for s in case.streams:
        if demand is None or any(v > TOL_T for v in demand.get(s.id, (1.0,))):
            out.setdefault(s.grade, []).append(s.id)
    return out


def _reference(grade):
    """The grade's reference recipe, or None when ``reference_recipe`` names no recipe of it."""
    if grade.reference_recipe is None:
        return grade.recipes[0]
    return next((r for r in grade.recipes if r.id == grade.reference_recipe), None)


def _floor_t(case: CaseInput, sp, demand: Series) -> float | None:
    """The strategic floor in t (None: none given, or a months-of-use floor whose demand is unreadable)."""
    if sp.floor_t is not None:
        return sp.floor_t
    if sp.floor_months_of_use is None or demand is None:
        return None
    grades = _first(case.grades, lambda g: g.id)
    use = 0.0
    yields = {p.id: p.yield_frac for p in case.site_plants}
    for s in case.streams:
        g = grades.get(s.grade)
        ref = _reference(g) if g is not None else None
        series = demand.get(s.id)
        if ref is None or not series or case.plant_of(s) != case.plant_of(sp) or case.plant_of(s) not in yields:
            continue
        use += sum(series) / len(series) * ref.element_t_per_t_magnet.get(sp.element, 0.0) / yields[case.plant_of(s)]
    return sp.floor_months_of_use * use / case.horizon.months_per_period


def _window(case: CaseInput, rule) -> tuple[int, int]:
    """First and last period a licence rule is in force (a month outside the horizon: the horizon's end)."""
    T = case.horizon.periods
    p0 = (period_of_month(case.horizon, rule.valid_from) or 1) if rule.valid_from else 1
    p1 = (period_of_month(case.horizon, rule.valid_to) or T) if rule.valid_to else T
    return p0, p1


def _covers(rule, offer) -> bool:
    return offer.origin_group in rule.origin_groups and offer.material in rule.materials


def _review_periods(case: CaseInput, offer, t: int) -> int:
    """Review lead time added to an order of ``offer`` in period ``t`` (the longest case-by-case rule in force)."""
    out = 0
    for r in case.licence_rules:
        if r.regime == "case_by_case" and _covers(r, offer):
            p0, p1 = _window(case, r)
            if p0 <= t <= p1:
                out = max(out, r.review_lead_time_periods)
    return out


def _used_elements(case: CaseInput, demand: Series) -> set[str]:
    grades = _first(case.grades, lambda g: g.id)
    used = {e for g in _demanded_grades(case, demand) if g in grades
            for rc in grades[g].recipes for e, f in rc.element_t_per_t_magnet.items() if f > 0}
    for sp in case.stockpile:
        if (sp.floor_t or 0) > 0 or (sp.floor_months_of_use or 0) > 0 or (sp.terminal_min_t or 0) > 0:
            used.add(sp.element)
    return used


def _effects(case: CaseInput) -> Iterator[tuple[str, Effect]]:
    """Every scenario effect with its field path, as :func:`model.input.scenarios.check_scenarios` names it."""
    sc = case.scenarios
    if sc is None:
        return
    lists = [("scenarios.listed", sc.listed)] + [(f"scenarios.factors[{f.name}].options", f.options) for f in sc.factors]
    for where, options in lists:
        for o in options:
            for i, e in enumerate(o.effects):
                yield f"{where}[{o.name}].effects[{i}]", e


def _effect_is_valid(case: CaseInput, e: Effect, where: str) -> bool:
    """True when :func:`model.input.scenarios._check_effect` finds nothing wrong with the effect itself."""
    from model.input.scenarios import _check_effect

    found: list = []
    _check_effect(case, e, where, lambda *a: found.append(a))
    return not found


def _selection_text(s) -> str:
    from model.input.scenarios import selection_keys

    return "; ".join(f"{k} {', '.join(map(str, getattr(s, k)))}" for k in selection_keys() if getattr(s, k))


# --------------------------------------------------------------------------------------------- errors

@_check("floor_above_capacity", "error", "stockpile[].floor_t, stockpile[].floor_months_of_use, stockpile[].capacity_t",
        "The strategic floor (in t, or months of use converted to t with the demand as read) is above the stock "
        "capacity: the stock can never reach it, so a soft floor is a penalty paid every period whatever the plan "
        "and a hard floor is infeasible.")
def _floor_above_capacity(case, demand, capacity):
    for sp in case.stockpile:
        floor = _floor_t(case, sp, demand)
        if floor is None or floor <= sp.capacity_t + TOL_T:
            continue
        f = f"stockpile[{sp.element}]"
        if sp.floor_t is not None:
            yield (f"{f}.floor_t", sp.floor_t,
                   f"a floor of at most capacity_t {sp.capacity_t:g} t (the stock can never reach it)")
        else:
            yield (f"{f}.floor_months_of_use", sp.floor_months_of_use,
                   f"a floor within capacity_t {sp.capacity_t:g} t ({sp.floor_months_of_use:g} months of average use "
                   f"is {_g(floor)} t of {sp.element} here, more than the stock can hold)")


@_check("grade_never_available", "error",
        "grades[].recipes, streams[].grade, offers[].material, materials[].element_content_frac, "
        "stockpile[].initial_t_by_origin, recycling_routes[].feed",
        "Every recipe of a grade that a stream demands needs an element that no offered material contains, no "
        "initial stock holds and no scrap recycling route recovers from an offered scrap (swarf only returns "
        "what was bought), and no finished magnet of the grade is offered: that demand can never be met.")
def _grade_never_available(case, demand, capacity):
    tracked = set(case.elements)
    mats = _first(case.materials, lambda m: m.id)
    offered = _offered_materials(case)
    have = {e for o in case.offers if (m := mats.get(o.material)) is not None and m.kind in ELEMENT_KINDS
            for e, f in m.element_content_frac.items() if f > 0}
    have |= {sp.element for sp in case.stockpile if sum(sp.initial_t_by_origin.values()) > TOL_T}
    for rt in case.recycling_routes:
        m = mats.get(rt.feed)
        if rt.feed != SWARF_FEED and m is not None and m.kind == "scrap" and rt.feed in offered:
            have |= {e for e in rt.recovery_frac if m.element_content_frac.get(e, 0) > 0}
    magnet_grades = {m.grade for m in mats.values() if m.kind == "magnet" and m.id in offered}
    # finished magnets held at the start, or in transit, can serve a grade too (partly: not a contradiction)
    magnet_grades |= {ms.grade for ms in case.magnet_stock if sum(ms.initial_t_by_origin.values()) > TOL_T}
    offers = _first(case.offers, lambda o: o.id)
    for it in case.in_transit:
        m = mats.get(offers[it.offer].material) if it.offer in offers else None
        if m is not None and m.kind == "magnet":
            magnet_grades.add(m.grade)
        elif m is not None and m.kind in ELEMENT_KINDS:
            have |= {e for e, f in m.element_content_frac.items() if f > 0}
    grades = _first(case.grades, lambda g: g.id)
    for g, streams in sorted(_demanded_grades(case, demand).items()):
        if g not in grades or g in magnet_grades:
            continue
        missing = [{e for e, f in rc.element_t_per_t_magnet.items() if f > 0 and e in tracked and e not in have}
                   for rc in grades[g].recipes]
        if all(missing):
            els = _ids(set().union(*missing))
            yield (f"grades[{g}].recipes", els,
                   f"a recipe the plant can make: every recipe of grade {g} needs {els}, which no offered material, "
                   f"initial stock or scrap recycling supplies, and no magnet of grade {g} is offered, so the demand "
                   f"of stream(s) {_ids(streams)} can never be met")


@_check("recipe_heavier_than_magnet", "error", "grades[].recipes[].element_t_per_t_magnet",
        "A recipe's element contents add up to more than 1 t per t of magnet: physically impossible.")
def _recipe_heavier_than_magnet(case, demand, capacity):
    for g in case.grades:
        for rc in g.recipes:
            total = sum(rc.element_t_per_t_magnet.values())
            if total > 1 + TOL_T:
                yield (f"grades[{g.id}].recipes[{rc.id}].element_t_per_t_magnet", round(total, 6),
                       "contents summing to at most 1 t per t of magnet (a magnet cannot hold more than its own mass)")


@_check("committed_above_capacity", "error", "offers[].committed_t_per_period, offers[].capacity_t_per_period",
        "A signed contract's committed reservation is above the offer's capacity in a period it can be reserved: "
        "the reservation must be at least the commitment and at most the capacity, so the plan is infeasible.")
def _committed_above_capacity(case, demand, capacity):
    if capacity is None:
        return
    T = case.horizon.periods
    for o in case.offers:
        if o.kind != "contract" or o.committed_t_per_period <= 0 or o.id not in capacity:
            continue
        cap = capacity[o.id]
        short = [t for t in range(1, T + 1)
                 if t + o.lead_time_periods + _review_periods(case, o, t) <= T
                 and cap[t - 1] < o.committed_t_per_period - TOL_T]
        if short:
            t = min(short, key=lambda t: (cap[t - 1], t))
            yield (f"offers[{o.id}].committed_t_per_period", o.committed_t_per_period,
                   f"at most the offer's capacity in every period it can be reserved (it is {cap[t - 1]:g} t in "
                   f"period {t}, and below the commitment in {len(short)} period(s))")


@_check("effect_selects_nothing", "error", "scenarios.listed[].effects[].select, scenarios.factors[].options[].effects[].select",
        "An availability or price effect whose selection matches no offer or recycling route, or a quota or "
        "approval effect matching no licence rule (every criterion must match): the effect does nothing.")
def _effect_selects_nothing(case, demand, capacity):
    from model.input.scenarios import selected_offers, selected_rules

    for where, e in _effects(case):
        if e.kind not in ("availability", "price", "quota", "approval") or not _effect_is_valid(case, e, where):
            continue
        s = e.select
        if e.kind in ("availability", "price"):
            hit = selected_offers(case, s) + (list(s.recycling_routes or []) if e.kind == "availability" else [])
            what = "offer or recycling route" if e.kind == "availability" else "offer"
        else:
            hit, what = selected_rules(case, s), "licence rule"
        if not hit:
            yield (f"{where}.select", _selection_text(s),
                   f"a selection matching at least one {what} (every criterion must match; none does), "
                   f"else the {e.kind} effect does nothing")


@_check("effect_on_wrong_regime", "error", "scenario effects' select.licence_rules (or origin_groups + materials), licence_rules[].regime",
        "An `approval` effect on a rule that is not `case_by_case`, or a `quota` effect on a `free` or "
        "`prohibited` rule (which have no quota): the effect cannot change that rule. Rules named in "
        "`licence_rules` must all be changeable; rules selected by origin group and material must include one.")
def _effect_on_wrong_regime(case, demand, capacity):
    from model.input.scenarios import selected_rules

    allowed = {"approval": ("case_by_case",), "quota": ("general", "case_by_case")}
    rules = _first(case.licence_rules, lambda r: r.id)
    for where, e in _effects(case):
        if e.kind not in allowed or not _effect_is_valid(case, e, where):
            continue
        ok = allowed[e.kind]
        hit = selected_rules(case, e.select)
        if not hit:
            continue  # effect_selects_nothing
        wrong = sorted(r for r in hit if rules[r].regime not in ok)
        named = e.select.licence_rules
        if named and wrong:
            field, value = f"{where}.select.licence_rules", ", ".join(wrong)
        elif not named and len(wrong) == len(hit):
            field, value = f"{where}.select", _selection_text(e.select)
        else:
            continue
        regimes = "; ".join(f"{r} is {rules[r].regime}" for r in wrong)
        article = "an" if e.kind == "approval" else "a"
        yield (field, value, f"only {' or '.join(ok)} rules for {article} {e.kind} effect ({regimes}), "
                             f"which the effect cannot change")


@_check("scenario_without_probability", "error", "scenarios.listed[].probability, scenarios.factors[].options[].probability",
        "A listed scenario, or an option of a factor in mode `product`, with probability 0: it would never weigh in "
        "the plan or in any expectation, and the stochastic run cannot scale its marginal values (divided by the "
        "probability). Leave it out instead. (In mode `sample` an option of probability 0 is simply never drawn.)")
def _scenario_without_probability(case, demand, capacity):
    sc = case.scenarios
    if sc is None or sc.mode == "sample":
        return
    lists = [("scenarios.listed", sc.listed)] + [(f"scenarios.factors[{f.name}].options", f.options) for f in sc.factors]
    for where, options in lists:
        for o in options:
            if o.probability <= 0:
                yield (f"{where}[{o.name}].probability", o.probability,
                       "a probability above 0 (a scenario of probability 0 never weighs in the plan; leave it out)")


# --------------------------------------------------------------------------------------------- warnings

@_check("case_by_case_never_arrives", "warning",
        "licence_rules[].review_lead_time_periods, licence_rules[].valid_from, offers[].lead_time_periods",
        "A case-by-case rule's review lead time plus the covered offers' lead time reaches past the horizon from "
        "the rule's first period: nothing ordered under it can arrive, so it acts as a ban. A planner may mean "
        "\"nothing licensed will come in time\", hence only a warning.")
def _case_by_case_never_arrives(case, demand, capacity):
    T = case.horizon.periods
    for r in case.licence_rules:
        if r.regime != "case_by_case":
            continue
        covered = [o for o in case.offers if _covers(r, o)]
        p0, _ = _window(case, r)
        if covered and all(p0 + o.lead_time_periods + r.review_lead_time_periods > T for o in covered):
            lead = min(o.lead_time_periods for o in covered)
            yield (f"licence_rules[{r.id}].review_lead_time_periods", r.review_lead_time_periods,
                   f"with the covered offers' lead time (at least {lead} period(s)), nothing ordered under this rule "
                   f"from period {p0} arrives within the {T}-period horizon: the rule acts as a ban on "
                   f"{_ids(o.id for o in covered)}")


@_check("initial_stock_below_floor", "warning", "stockpile[].initial_t_by_origin, stockpile[].floor_t, stockpile[].floor_months_of_use",
        "The initial stock is below the strategic floor: the run starts under it (a soft floor is penalised "
        "from period 1; a hard floor must be restored by the end of period 1).")
def _initial_stock_below_floor(case, demand, capacity):
    for sp in case.stockpile:
        floor = _floor_t(case, sp, demand)
        init = sum(sp.initial_t_by_origin.values())
        if floor is None or floor <= TOL_T or init >= floor - TOL_T or floor > sp.capacity_t + TOL_T:
            continue
        then = ("the hard floor must be restored by the end of period 1" if sp.floor_hard
                else "the shortfall is penalised from period 1")
        yield (f"stockpile[{sp.element}].initial_t_by_origin", round(init, 6),
               f"below the strategic floor of {_g(floor)} t of {sp.element}: the run starts under it ({then})")


@_check("offer_never_bought", "warning", "offers[].material, offers[].capacity_t_per_period, offers[].min_take_frac",
        "An offer that can never be bought: its capacity is 0 in every period (a contract's min_take then applies "
        "to nothing), or no stream needs what it sells (no recipe of a demanded grade or stockpile floor uses its "
        "elements; no recycling route takes its scrap; no stream demands its magnet grade).")
def _offer_never_bought(case, demand, capacity):
    mats = _first(case.materials, lambda m: m.id)
    used = _used_elements(case, demand)
    demanded = _demanded_grades(case, demand)
    for o in case.offers:
        m = mats.get(o.material)
        reasons = []
        if m is not None:
            if m.kind in ELEMENT_KINDS:
                els = {e for e, f in m.element_content_frac.items() if f > 0}
                if not els & used:
                    reasons.append((f"offers[{o.id}].material", o.material,
                                    f"no recipe of a demanded grade (or stockpile floor) uses its element(s) {_ids(els)}"))
            elif m.kind == "scrap":
                els = {e for e, f in m.element_content_frac.items() if f > 0}
                if not any(rt.feed == m.id and set(rt.recovery_frac) & els & used for rt in case.recycling_routes):
                    reasons.append((f"offers[{o.id}].material", o.material,
                                    "no recycling route takes this scrap and recovers an element a demanded grade uses"))
            elif m.grade not in demanded:
                reasons.append((f"offers[{o.id}].material", o.material, f"no stream demands magnet grade {m.grade}"))
        if capacity is not None and o.id in capacity and not any(v > TOL_T for v in capacity[o.id]):
            take = (f"; its min_take_frac {o.min_take_frac:g} applies to nothing"
                    if o.kind == "contract" and o.min_take_frac > 0 else "")
            reasons.append((f"offers[{o.id}].capacity_t_per_period", 0, f"its capacity is 0 in every period{take}"))
        if reasons:
            field, value, _ = reasons[0]
            yield field, value, "never bought: " + "; ".join(r for _, _, r in reasons)


@_check("stream_without_demand", "warning", "streams[].demand_t_per_period (or its demand CSV column)",
        "A stream whose demand is 0 in every period: it asks for nothing, and a scenario demand factor cannot "
        "change that.")
def _stream_without_demand(case, demand, capacity):
    if demand is None:
        return
    for s in case.streams:
        if s.id in demand and not any(v > TOL_T for v in demand[s.id]):
            yield (f"streams[{s.id}].demand_t_per_period", 0,
                   "0 in every period: the stream asks for nothing (scenario demand factors multiply 0)")


@_check("cvar_is_the_worst_scenario", "warning", "risk.cvar_alpha, risk.risk_weight_lambda, scenarios",
        "With a risk weight above 0, the CVaR tail (1 - alpha of probability) holds at most one scenario (it is no "
        "larger than the least likely scenario's probability): CVaR is then the worst scenario's cost, and the "
        "objective weighs that one scenario.")
def _cvar_is_the_worst_scenario(case, demand, capacity):
    risk = case.risk
    if risk.risk_weight_lambda <= 0:
        return
    sc = case.scenarios
    if sc is None:
        pmin = 1.0
    elif sc.mode == "listed":
        pmin = min((o.probability for o in sc.listed if o.probability > 0), default=None)
    elif sc.mode == "product":
        mins = [min((o.probability for o in f.options if o.probability > 0), default=None) for f in sc.factors]
        pmin = None if not mins or None in mins else math.prod(mins)
    else:
        pmin = 1.0 / sc.count if sc.count else None
    tail = 1 - risk.cvar_alpha
    if pmin is None or tail > pmin + TOL_T:
        return
    if sc is None:
        msg = (f"there are no scenarios, so CVaR is the cost of the case as read and risk_weight_lambda "
               f"{risk.risk_weight_lambda:g} only scales the objective")
    else:
        msg = (f"the CVaR tail (1 - alpha = {tail:g} of probability) is no larger than the least likely scenario's "
               f"probability {pmin:g}: CVaR is the worst scenario's cost, and risk_weight_lambda "
               f"{risk.risk_weight_lambda:g} weighs that one scenario")
    yield "risk.cvar_alpha", risk.cvar_alpha, msg


@_check("licence_rule_covers_nothing", "warning", "licence_rules[].origin_groups, licence_rules[].materials, licence_rules[].end_uses",
        "A licence rule that no offer falls under (origin group and material), or, for `prohibited`, that bars "
        "nothing: no offer, initial stock or recycling output of its origin groups and materials, or no stream "
        "with one of its end uses.")
def _licence_rule_covers_nothing(case, demand, capacity):
    mats = _first(case.materials, lambda m: m.id)
    for r in case.licence_rules:
        f = f"licence_rules[{r.id}]"
        if any(_covers(r, o) for o in case.offers):
            if r.regime == "prohibited" and not any(s.end_use in r.end_uses for s in case.streams):
                yield (f"{f}.end_uses", ", ".join(r.end_uses),
                       "no stream has any of these end uses: the prohibition bars nothing")
            continue
        if r.regime == "prohibited":
            els = {e for m in r.materials if m in mats for e, x in mats[m].element_content_frac.items() if x > 0}
            stock = any(g in r.origin_groups and v > 0 and sp.element in els
                        for sp in case.stockpile for g, v in sp.initial_t_by_origin.items())
            recycled = any(rt.output_origin_group in r.origin_groups and set(rt.recovery_frac) & els
                           for rt in case.recycling_routes)
            if stock or recycled:
                continue
        yield (f"{f}.materials", ", ".join(r.materials),
               f"no offer from origin group(s) {_ids(r.origin_groups)} sells any of these materials: the rule covers nothing")


@_check("diversification_limit_never_binds", "warning",
        "diversification_limits[].value, diversification_limits[].element, diversification_limits[].basis, "
        "diversification_limits[].max_share_frac",
        "A diversification limit that can never bind: no offer (nor, with basis `supply`, recycling route) of its "
        "origin group or country supplies its element, or its cap is a share of 1.")
def _diversification_limit_never_binds(case, demand, capacity):
    mats = _first(case.materials, lambda m: m.id)
    for d in case.diversification_limits:
        f = f"diversification_limits[{d.id}]"
        if d.max_share_frac >= 1 - TOL_T:
            yield f"{f}.max_share_frac", d.max_share_frac, "a share cap of 1 never binds"
            continue
        els = {d.element} if d.element is not None else set(case.elements)

        def origin(group: str, country: str) -> str:
            return group if d.group_by == "origin_group" else country

        touched = any(origin(o.origin_group, o.country) == d.value and (m := mats.get(o.material)) is not None
                      and m.kind in ELEMENT_KINDS and any(m.element_content_frac.get(e, 0) > 0 for e in els)
                      for o in case.offers)
        if d.basis == "supply":
            touched |= any(origin(rt.output_origin_group, rt.country or rt.output_origin_group) == d.value
                           and set(rt.recovery_frac) & els for rt in case.recycling_routes)
        if not touched:
            what = "offer" + (" or recycling route" if d.basis == "supply" else "")
            yield (f"{f}.value", d.value,
                   f"no {what} from this {d.group_by.replace('_', ' ')} supplies {_ids(els)}: its share is always 0 "
                   f"and the limit never binds")


@_check("recycling_route_never_fed", "warning", "recycling_routes[].feed, recycling_routes[].grades, recycling_routes[].recovery_frac",
        "A recycling route that never recovers anything: its scrap is never offered, its swarf grades are not "
        "demanded, or it recovers none of the elements its feed contains.")
def _recycling_route_never_fed(case, demand, capacity):
    mats = _first(case.materials, lambda m: m.id)
    grades = _first(case.grades, lambda g: g.id)
    demanded = _demanded_grades(case, demand)
    offered = _offered_materials(case)
    for rt in case.recycling_routes:
        f = f"recycling_routes[{rt.id}]"
        if rt.feed == SWARF_FEED:
            gs = [g for g in demanded if g in grades and (rt.grades is None or g in rt.grades)]
            if not gs:
                yield (f"{f}.grades", ", ".join(rt.grades or []),
                       "no stream demands any of these grades: the route never gets swarf")
                continue
            content = {e for g in gs for rc in grades[g].recipes for e, x in rc.element_t_per_t_magnet.items() if x > 0}
        else:
            m = mats.get(rt.feed)
            if m is None:
                continue
            if rt.feed not in offered:
                yield f"{f}.feed", rt.feed, "no offer sells this scrap: the route never gets feed"
                continue
            content = {e for e, x in m.element_content_frac.items() if x > 0}
        if not set(rt.recovery_frac) & content:
            yield (f"{f}.recovery_frac", ", ".join(rt.recovery_frac),
                   f"none of these elements is in the route's feed ({_ids(content)}): it recovers nothing")


CATALOGUE: tuple[SemanticCheck, ...] = tuple(_CHECKS)
"""Every semantic check, errors first, in the order their lines are reported."""


def _shown(v: object) -> object:
    """A value as the line shows it: a whole float as an int (``5`` as written, not ``5.0``)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def _findings(severity: str, case: CaseInput, demand: Series, capacity: Series) -> list[tuple[SemanticCheck, Finding]]:
    out = []
    for chk in CATALOGUE:
        if chk.severity == severity:
            found = sorted(chk.find(case, demand, capacity), key=lambda f: f[0])
            out += [(chk, (field, _shown(value), text)) for field, value, text in found]
    return out


def check_semantics(case: CaseInput, file: str, demand: Series = None, capacity: Series = None) -> list[InputIssue]:
    """Every semantic error of ``case`` as an input issue (``demand``/``capacity``: the series as read, or None)."""
    return [InputIssue(file, field, value, expected) for _, (field, value, expected) in
            _findings("error", case, demand, capacity)]


def warning_findings(case: CaseInput, demand: Series, capacity: Series) -> list[tuple[SemanticCheck, Finding]]:
    """Every semantic warning of ``case``, with its check (for :func:`model.input.warnings.check_warnings`)."""
    return _findings("warning", case, demand, capacity)
