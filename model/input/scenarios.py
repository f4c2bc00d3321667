"""Disruption scenarios: validate, generate and apply them to frozen case data.

A scenario is a transformation of ``CaseData``: ``apply_effects(data, effects)`` returns new frozen
data whose availability, quota-factor, approval, review-lead, admitted, price and demand series (and,
for ``prohibit_end_uses``, extra prohibited licence rules) reflect the scenario. A refused ``renewal``
sets the rule's quota factor to 0 from the refused due date (:func:`renewal_due_periods`) to the horizon
end. The model builder is the same for every scenario; it never sees an event.

Generation (``scenario_cases``):

- ``listed``: each listed scenario as given.
- ``product``: every combination of one option per factor; probability = product of the options'.
  Effects use their ``start`` and ``periods`` (the sampling ranges are ignored).
- ``sample``: ``count`` scenarios, each drawing one option per factor (by probability) and, for the
  option's event, a start month uniform in [start, start_latest] and a length uniform in [periods,
  periods_max], from ``numpy.random.default_rng(seed)``; each has probability 1/count. The
  effects of one option are one event: they share the same relative position in their ranges
  (identical ranges give identical windows). Draws that give the same combination are kept as
  separate scenarios (so the sample is an unbiased one).

The expected-value case (``mean_case``) averages every series over scenarios by probability; a
prohibition is kept where the scenarios that impose it have probability of at least one half, and
likewise a lifted prohibition (``admitted``); a review lead time is the probability-weighted median
(the smallest lead time with probability at least one half of being at most it).

Effects on the same series multiply (availability, quota, price, demand); for approval and review
lead time the last effect in force wins. Windows are clipped to the horizon.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import replace

import numpy as np

from model.input.data import CaseData, freeze_series
from model.errors import InputIssue
from model.input.schema import CaseInput, Effect, LicenceRule, ScenarioOption, month_index, month_label, months_in_horizon, period_of_month

PROB_TOL = 1e-6
OFFER_KEYS = ("offers", "suppliers", "countries", "origin_groups", "materials")


# ----------------------------------------------------------------------------------- validation

def check_scenarios(case: CaseInput, file: str) -> list[InputIssue]:
    sc = case.scenarios
    if sc is None:
        return []
    out: list[InputIssue] = []

    def bad(field, value, expected):
        out.append(InputIssue(file, field, value, expected))

    def check_list(options: list[ScenarioOption], where: str) -> None:
        names = [o.name for o in options]
        for n in sorted({n for n in names if names.count(n) > 1}):
            bad(f"{where} name", n, "unique names")
        total = sum(o.probability for o in options)
        if abs(total - 1.0) > PROB_TOL:
            bad(f"{where} probability", round(total, 9), "probabilities summing to 1")
        for o in options:
            for i, e in enumerate(o.effects):
                _check_effect(case, e, f"{where}[{o.name}].effects[{i}]", bad)

    if sc.mode == "listed":
        if not sc.listed:
            bad("scenarios.listed", "(empty)", "at least one scenario for mode listed")
        if sc.factors:
            bad("scenarios.factors", "given", "no factors for mode listed (use listed)")
        check_list(sc.listed, "scenarios.listed")
    else:
        if not sc.factors:
            bad("scenarios.factors", "(empty)", f"at least one factor for mode {sc.mode}")
        if sc.listed:
            bad("scenarios.listed", "given", f"no listed scenarios for mode {sc.mode} (use factors)")
        fnames = [f.name for f in sc.factors]
        for n in sorted({n for n in fnames if fnames.count(n) > 1}):
            bad("scenarios.factors name", n, "unique factor names")
        for f in sc.factors:
            check_list(f.options, f"scenarios.factors[{f.name}].options")
        if sc.mode == "sample" and sc.count is None:
            bad("scenarios.count", "(blank)", "a number of scenarios to draw for mode sample")
        if sc.mode == "product":
            n = int(np.prod([len(f.options) for f in sc.factors])) if sc.factors else 0
            if n > 10_000:
                bad("scenarios.factors", f"{n} combinations", "at most 10000 combinations (use mode sample)")
    if sc.mode != "sample" and sc.count is not None:
        bad("scenarios.count", sc.count, "no count unless mode is sample")
    return out


def _check_effect(case: CaseInput, e: Effect, where: str, bad) -> None:
    s = e.select
    pools = {
        "offers": {o.id for o in case.offers},
        "suppliers": {o.supplier for o in case.offers},
        "countries": {o.country for o in case.offers},
        "origin_groups": {g.id for g in case.origin_groups},
        "materials": {m.id for m in case.materials},
        "licence_rules": {r.id for r in case.licence_rules},
        "streams": {x.id for x in case.streams},
        "recycling_routes": {r.id for r in case.recycling_routes},
    }
    for key, pool in pools.items():
        for v in getattr(s, key) or []:
            if v not in pool:
                shown = ", ".join(sorted(pool)) if len(pool) <= 12 else f"{len(pool)} known"
                what = {"countries": "country of an offer", "suppliers": "supplier of an offer"}.get(key, key[:-1].replace("_", " "))
                bad(f"{where}.select.{key}", v, f"a known {what} ({shown})")
    needs = {
        "availability": ("factor", OFFER_KEYS + ("recycling_routes",)),
        "quota": ("factor", ("licence_rules", "origin_groups", "materials")),
        "approval": ("approval_frac", ("licence_rules", "origin_groups", "materials")),
        "prohibit_end_uses": ("end_uses", ("licence_rules", "origin_groups", "materials")),
        "price": ("factor", OFFER_KEYS),
        "demand": ("factor", ("streams",)),
        "review_lead": ("review_lead_time_periods", RULE_KEYS),
        "admit": (None, RULE_KEYS),
        "renewal": (None, RULE_KEYS),
    }
    field, allowed = needs[e.kind]
    if field is not None and getattr(e, field) is None:
        bad(f"{where}.{field}", "(blank)", f"a value for an effect of kind {e.kind}")
    for other in ("factor", "approval_frac", "end_uses", "review_lead_time_periods"):
        if other != field and getattr(e, other) is not None:
            bad(f"{where}.{other}", getattr(e, other), f"no {other} for an effect of kind {e.kind}")
    given = [k for k in selection_keys() if getattr(s, k)]
    if not given:
        bad(f"{where}.select", "(empty)", f"at least one of {', '.join(allowed)}")
    for k in given:
        if k not in allowed:
            bad(f"{where}.select.{k}", getattr(s, k), f"only {', '.join(allowed)} for an effect of kind {e.kind}")
    if e.kind == "prohibit_end_uses":
        if not s.licence_rules and not (s.origin_groups and s.materials):
            bad(f"{where}.select", "incomplete", "licence_rules, or both origin_groups and materials, for prohibit_end_uses")
        for u in e.end_uses or []:
            if u not in set(case.end_uses):
                bad(f"{where}.end_uses", u, f"a known end use ({', '.join(case.end_uses)})")
    if e.kind in LICENCE_EFFECT_NEEDS and any(getattr(s, k) for k in RULE_KEYS):
        has, what = LICENCE_EFFECT_NEEDS[e.kind]
        rules = {r.id: r for r in case.licence_rules}
        if not any(has(rules[r]) for r in selected_rules(case, s)):
            bad(f"{where}.select", "no such rule selected", f"a selection with {what} for an effect of kind {e.kind}")
    W = case.risk.non_anticipative_periods
    outside = f"a month inside the horizon starting {case.horizon.start_month}"
    for key, v, p in months_in_horizon(e, ("start", "start_latest"), case.horizon, bad, where, outside):
        if p <= W:
            bad(f"{where}.{key}", v, f"a month after the non-anticipative window ({W} period(s) from "
                                     f"{case.horizon.start_month}): scenarios are identical inside it")
    if e.start_latest is not None and month_index(e.start_latest) < month_index(e.start):
        bad(f"{where}.start_latest", e.start_latest, f"a month not before start {e.start}")
    if e.periods_max is not None and (e.periods is None or e.periods_max < e.periods):
        bad(f"{where}.periods_max", e.periods_max, "at least `periods` (which must be given)")


RULE_KEYS = ("licence_rules", "origin_groups", "materials")
LICENCE_EFFECT_NEEDS = {  # kind -> (what a selected rule must be for the effect to do anything, its wording)
    "review_lead": (lambda r: r.regime == "case_by_case", "a case_by_case rule (only they have a review lead time)"),
    "admit": (lambda r: r.regime == "prohibited", "a prohibited rule (admit lifts a prohibition)"),
    "renewal": (lambda r: r.renewal is not None, "a rule that has `renewal`"),
}


def renewal_due_periods(case: CaseInput, rule: LicenceRule, T: int) -> tuple[int, ...]:
    """Periods in which ``rule``'s licence falls due for renewal (model.md §6.1): from ``renewal.first_due``
    (blank: the period of ``valid_from``, or 1, plus ``every_periods``) every ``every_periods`` periods, up
    to the rule's last period in force."""
    rn = rule.renewal
    if rn is None:
        return ()
    h = case.horizon
    last = (period_of_month(h, rule.valid_to) if rule.valid_to else None) or T
    if rn.first_due is not None:
        p = period_of_month(h, rn.first_due)
    else:
        p = ((period_of_month(h, rule.valid_from) if rule.valid_from else None) or 1) + rn.every_periods
    out = []
    while p is not None and p <= last:
        out.append(p)
        p += rn.every_periods
    return tuple(out)


def selection_keys() -> tuple[str, ...]:
    return OFFER_KEYS + ("licence_rules", "streams", "recycling_routes")


# ----------------------------------------------------------------------------------- selection

def _match(values: list | None, x) -> bool:
    return values is None or x in values


def selected_offers(case: CaseInput, s) -> list[str]:
    if not any(getattr(s, k) for k in OFFER_KEYS):
        return []
    return [o.id for o in case.offers
            if _match(s.offers, o.id) and _match(s.suppliers, o.supplier) and _match(s.countries, o.country)
            and _match(s.origin_groups, o.origin_group) and _match(s.materials, o.material)]


def selected_rules(case: CaseInput, s) -> list[str]:
    return [r.id for r in case.licence_rules
            if _match(s.licence_rules, r.id)
            and (s.origin_groups is None or set(s.origin_groups) & set(r.origin_groups))
            and (s.materials is None or set(s.materials) & set(r.materials))]


# ----------------------------------------------------------------------------------- application

def _window(case: CaseInput, start: str, periods: int | None, T: int) -> range:
    p0 = period_of_month(case.horizon, start)
    p1 = T if periods is None else min(T, p0 + periods - 1)
    return range(p0, p1 + 1)


def _scenario_rule_id(name: str, i: int, j: int) -> str:
    """The id of the prohibited rule a scenario's ``prohibit_end_uses`` effect adds: ``scenario.<name>.<i>.<j>``,
    within the 64 characters an id may have (a long scenario name, e.g. of several factors, is cut and
    a CRC-32 of the whole name keeps it unique and the same on every machine)."""
    import zlib

    clean = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    rid = f"scenario.{clean}.{i}.{j}"
    if len(rid) <= 64:
        return rid
    tail = f"-{zlib.crc32(name.encode()):08x}.{i}.{j}"
    return f"scenario.{clean[:64 - len('scenario.') - len(tail)]}{tail}"


def apply_effects(data: CaseData, effects: list[tuple[Effect, str, int | None]], name: str, probability: float) -> CaseData:
    """New case data with ``effects`` applied; each effect comes with its resolved (start, periods)."""
    case = data.case
    T = data.T
    avail = {k: list(v) for k, v in data.availability_frac.items()}
    quota = {k: list(v) for k, v in data.quota_factor.items()}
    appr = {k: list(v) for k, v in data.approval_frac.items()}
    price = {k: list(v) for k, v in data.price_usd_per_kg.items()}
    demand = {k: list(v) for k, v in data.demand_t_per_period.items()}
    review = {k: list(v) for k, v in data.review_lead_periods.items()}
    admitted = {k: list(v) for k, v in data.admitted.items()}
    rules = {r.id: r for r in case.licence_rules}
    extra_rules: list[LicenceRule] = []
    for i, (e, start, periods) in enumerate(effects):
        win = _window(case, start, periods, T)
        s = e.select
        if e.kind in ("availability", "price"):
            target = avail if e.kind == "availability" else price
            ids = selected_offers(case, s) + (list(s.recycling_routes or []) if e.kind == "availability" else [])
            for k in ids:
                for t in win:
                    target[k][t - 1] *= e.factor
        elif e.kind == "quota":
            for r in selected_rules(case, s):
                for t in win:
                    quota[r][t - 1] *= e.factor
        elif e.kind == "approval":
            for r in selected_rules(case, s):
                if rules[r].regime == "case_by_case":
                    for t in win:
                        appr[r][t - 1] = e.approval_frac
        elif e.kind == "demand":
            for k in s.streams or []:
                for t in win:
                    demand[k][t - 1] *= e.factor
        elif e.kind == "review_lead":
            for r in selected_rules(case, s):
                if rules[r].regime == "case_by_case":
                    lead = review.setdefault(r, [float(rules[r].review_lead_time_periods)] * T)
                    for t in win:
                        lead[t - 1] = float(e.review_lead_time_periods)
        elif e.kind == "admit":
            for r in selected_rules(case, s):
                if rules[r].regime == "prohibited":
                    lifted = admitted.setdefault(r, [0.0] * T)
                    for t in win:
                        lifted[t - 1] = 1.0
        elif e.kind == "renewal":
            for r in selected_rules(case, s):
                refused = [p for p in renewal_due_periods(case, rules[r], T) if p in win]
                if refused:
                    for t in range(refused[0], T + 1):
                        quota[r][t - 1] = 0.0
        elif e.kind == "prohibit_end_uses":
            if s.licence_rules:
                pairs = [(rules[r].origin_groups, rules[r].materials) for r in s.licence_rules]
            else:
                pairs = [(s.origin_groups, s.materials)]
            for j, (groups, mats) in enumerate(pairs):
                extra_rules.append(LicenceRule(
                    id=_scenario_rule_id(name, i, j), origin_groups=list(groups), materials=list(mats),
                    end_uses=list(e.end_uses), regime="prohibited",
                    valid_from=data.periods[win.start - 1], valid_to=data.periods[win.stop - 2],
                    source=f"scenario {name}",
                ))
    new_case = case if not extra_rules else case.model_copy(update={"licence_rules": list(case.licence_rules) + extra_rules})
    extra_ones = {r.id: [1.0] * T for r in extra_rules}
    return replace(
        data, case=new_case,
        availability_frac=freeze_series(avail),
        quota_factor=freeze_series(quota | extra_ones),
        approval_frac=freeze_series(appr | extra_ones),
        review_lead_periods=freeze_series(review), admitted=freeze_series(admitted),
        price_usd_per_kg=freeze_series(price),
        demand_t_per_period=freeze_series(demand),
        scenario=name, probability=probability,
    )


def _fixed(effects: list[Effect]) -> list[tuple[Effect, str, int | None]]:
    return [(e, e.start, e.periods) for e in effects]


def scenario_cases(data: CaseData) -> list[CaseData]:
    """One ``CaseData`` per scenario, in a stable order. No scenarios: the case itself, probability 1."""
    sc = data.case.scenarios
    if sc is None:
        return [data]
    if sc.mode == "listed":
        return [apply_effects(data, _fixed(o.effects), o.name, o.probability) for o in sc.listed]
    if sc.mode == "product":
        out = []
        for combo in itertools.product(*[f.options for f in sc.factors]):
            name = "+".join(o.name for o in combo)
            prob = float(np.prod([o.probability for o in combo]))
            effects = [x for o in combo for x in _fixed(o.effects)]
            out.append(apply_effects(data, effects, name, prob))
        return out
    rng = np.random.default_rng(sc.seed)
    out = []
    width = len(str(sc.count))
    for i in range(sc.count):
        combo, effects = [], []
        for f in sc.factors:
            p = np.array([o.probability for o in f.options], dtype=float)
            o = f.options[int(rng.choice(len(f.options), p=p / p.sum()))]
            combo.append(o)
            # one event: the option's effects share one draw of where in their ranges they start and end
            u_start, u_len = rng.random(), rng.random()
            for e in o.effects:
                s0 = month_index(e.start)
                s1 = month_index(e.start_latest) if e.start_latest else s0
                start = month_label(s0 + int(u_start * (s1 - s0 + 1)))
                n0, n1 = e.periods, (e.periods_max if e.periods_max is not None else e.periods)
                periods = None if n0 is None else n0 + int(u_len * (n1 - n0 + 1))
                effects.append((e, start, periods))
        name = f"s{i + 1:0{width}d}-" + "+".join(o.name for o in combo)
        out.append(apply_effects(data, effects, name, 1.0 / sc.count))
    return out


def mean_case(cases: list[CaseData]) -> CaseData:
    """The expected-value case: every series averaged by probability; majority prohibitions kept."""
    base = cases[0]
    probs = np.array([c.probability for c in cases])

    def avg(attr: str, keys=None) -> dict:
        keys = getattr(base, attr).keys() if keys is None else keys
        return {k: list(np.tensordot(probs, np.array([getattr(c, attr)[k] for c in cases]), axes=1)) for k in keys}

    # prohibitions: per (origin groups, materials, end uses, window) signature, keep when p >= 1/2
    weight: dict = defaultdict(float)
    example: dict = {}
    base_ids = {r.id for r in base.case.licence_rules if not r.id.startswith("scenario.")}
    for c in cases:
        seen = set()
        for r in c.case.licence_rules:
            if r.id in base_ids:
                continue
            sig = (tuple(r.origin_groups), tuple(r.materials), tuple(r.end_uses), r.valid_from, r.valid_to)
            if sig not in seen:
                weight[sig] += c.probability
                seen.add(sig)
                example[sig] = r
    kept = [example[s].model_copy(update={"id": f"expected.{i}"}) for i, s in enumerate(sorted(weight)) if weight[s] >= 0.5 - 1e-12]
    root_rules = [r for r in base.case.licence_rules if r.id in base_ids]
    case = base.case.model_copy(update={"licence_rules": root_rules + kept})
    T = base.T
    own = sorted(base_ids)  # the case's own rules; scenario-generated ones differ between scenarios
    q = avg("quota_factor", own) | {r.id: [1.0] * T for r in kept}
    a = avg("approval_frac", own) | {r.id: [1.0] * T for r in kept}
    rules = {r.id: r for r in root_rules}
    review, admitted = {}, {}
    for r in sorted({k for c in cases for k in c.review_lead_periods}):
        default = (float(rules[r].review_lead_time_periods),) * T
        review[r] = [_weighted_median([c.review_lead_periods.get(r, default)[t] for c in cases], probs) for t in range(T)]
    for r in sorted({k for c in cases for k in c.admitted}):
        admitted[r] = [1.0 if sum(p for c, p in zip(cases, probs) if c.admitted.get(r, (0.0,) * T)[t] > 0.5) >= 0.5 - 1e-12
                       else 0.0 for t in range(T)]
    return replace(
        base, case=case,
        availability_frac=freeze_series(avg("availability_frac")),
        quota_factor=freeze_series(q), approval_frac=freeze_series(a),
        review_lead_periods=freeze_series(review), admitted=freeze_series(admitted),
        price_usd_per_kg=freeze_series(avg("price_usd_per_kg")),
        demand_t_per_period=freeze_series(avg("demand_t_per_period")),
        scenario="expected_value", probability=1.0,
    )


def _weighted_median(values: list[float], probs) -> float:
    """The smallest value v with probability at least 1/2 of a value <= v."""
    acc = 0.0
    for v, p in sorted(zip(values, probs)):
        acc += p
        if acc >= 0.5 - 1e-12:
            return float(v)
    return float(max(values))
