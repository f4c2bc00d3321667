"""Cross-reference and consistency checks on a schema-valid case.

``check_references(case, file) -> list[InputIssue]`` never raises: it returns
every problem found so that the user sees them all at once. Field paths name
list items by id, e.g. ``offers[cn_dy_spot].material``.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from model.errors import InputIssue
from model.input.schema import SWARF_FEED, CaseInput, months_in_horizon


def _dups(ids: Iterable[str]) -> list[str]:
    c = Counter(ids)
    return sorted(k for k, n in c.items() if n > 1)


def check_references(case: CaseInput, file: str) -> list[InputIssue]:
    out: list[InputIssue] = []

    def bad(field: str, value: object, expected: str) -> None:
        out.append(InputIssue(file, field, value, expected))

    elements = set(case.elements)
    groups = {g.id for g in case.origin_groups}
    end_uses = set(case.end_uses)
    materials = {m.id: m for m in case.materials}
    grades = {g.id: g for g in case.grades}

    for name, ids in [
        ("elements", case.elements),
        ("origin_groups", [g.id for g in case.origin_groups]),
        ("end_uses", case.end_uses),
        ("materials", [m.id for m in case.materials]),
        ("offers", [o.id for o in case.offers]),
        ("licence_rules", [r.id for r in case.licence_rules]),
        ("grades", [g.id for g in case.grades]),
        ("grades[].recipes", [r.id for g in case.grades for r in g.recipes]),
        ("streams", [s.id for s in case.streams]),
        ("stockpile", [f"{s.element} at plant {case.plant_of(s)}" if case.plants else s.element for s in case.stockpile]),
        ("plants", [p.id for p in case.plants]),
        ("transfers", [x.id for x in case.transfers]),
        ("recycling_routes", [r.id for r in case.recycling_routes]),
        ("diversification_limits", [d.id for d in case.diversification_limits]),
    ]:
        for d in _dups(ids):
            bad(f"{name} id", d, "unique ids (this one appears more than once)")
    # offers, recycling routes and the plant share the capacity CSV's columns
    offer_ids, route_ids = {o.id for o in case.offers}, {r.id for r in case.recycling_routes}
    for d in sorted(offer_ids & route_ids):
        bad(f"recycling_routes[{d}].id", d, "an id not used by an offer (offers and routes share the capacity CSV's columns)")
    for name, pool in (("offers", offer_ids), ("recycling_routes", route_ids)):
        if "plant" in pool:
            bad(f"{name}[plant].id", "plant", "an id other than `plant` (the capacity CSV's column for the plant)")

    def known(field: str, value: str, pool: set[str] | dict, what: str) -> bool:
        if value not in pool:
            shown = ", ".join(sorted(pool)) if len(pool) <= 12 else f"{len(pool)} known {what}"
            bad(field, value, f"a known {what} ({shown})")
            return False
        return True

    for m in case.materials:
        f = f"materials[{m.id}]"
        for e in m.element_content_frac:
            known(f"{f}.element_content_frac", e, elements, "element")
        if m.kind == "magnet":
            if m.grade is None:
                bad(f"{f}.grade", None, "a grade for a material of kind magnet")
            else:
                known(f"{f}.grade", m.grade, grades, "grade")
            if m.element_content_frac:
                bad(f"{f}.element_content_frac", "given", "none for a magnet (its content comes from the grade's recipes)")
        else:
            if m.grade is not None:
                bad(f"{f}.grade", m.grade, "no grade unless kind is magnet")
            if sum(m.element_content_frac.values()) <= 0:
                bad(f"{f}.element_content_frac", dict(m.element_content_frac), "a positive content of at least one tracked element")
            if sum(m.element_content_frac.values()) > 1 + 1e-9:
                bad(f"{f}.element_content_frac", round(sum(m.element_content_frac.values()), 6), "contents summing to at most 1")

    for o in case.offers:
        f = f"offers[{o.id}]"
        known(f"{f}.origin_group", o.origin_group, groups, "origin group")
        if known(f"{f}.material", o.material, materials, "material"):
            pass
        if o.kind == "spot":
            if o.reservation_fee_usd_per_kg:
                bad(f"{f}.reservation_fee_usd_per_kg", o.reservation_fee_usd_per_kg, "0 for a spot offer (fees apply to contracts)")
            if o.min_take_frac:
                bad(f"{f}.min_take_frac", o.min_take_frac, "0 for a spot offer (minimum take applies to contracts)")
            if o.committed_t_per_period:
                bad(f"{f}.committed_t_per_period", o.committed_t_per_period, "0 for a spot offer (commitments apply to contracts)")
        if o.lead_time_periods >= case.horizon.periods:
            bad(f"{f}.lead_time_periods", o.lead_time_periods, f"fewer than the {case.horizon.periods} periods of the horizon")

    for r in case.licence_rules:
        f = f"licence_rules[{r.id}]"
        for g in r.origin_groups:
            known(f"{f}.origin_groups", g, groups, "origin group")
        for m in r.materials:
            known(f"{f}.materials", m, materials, "material")
        for u in r.end_uses:
            known(f"{f}.end_uses", u, end_uses, "end use")
        if r.regime in ("general", "case_by_case") and r.quota_t_per_period is None:
            bad(f"{f}.quota_t_per_period", "(blank)", f"a quota in t per period for regime {r.regime}")
        if r.regime in ("free", "prohibited") and r.quota_t_per_period is not None:
            bad(f"{f}.quota_t_per_period", r.quota_t_per_period, f"no quota for regime {r.regime}")
        if r.regime != "case_by_case":
            if r.approval_frac != 1.0:
                bad(f"{f}.approval_frac", r.approval_frac, "1 unless regime is case_by_case")
            if r.review_lead_time_periods:
                bad(f"{f}.review_lead_time_periods", r.review_lead_time_periods, "0 unless regime is case_by_case")
        p_from = p_to = None
        outside = f"a month inside the horizon starting {case.horizon.start_month} ({case.horizon.periods} periods)"
        for key, v, p in months_in_horizon(r, ("valid_from", "valid_to"), case.horizon, bad, f, outside):
            if key == "valid_from":
                p_from = p
            else:
                p_to = p
        if p_from is not None and p_to is not None and p_from > p_to:
            bad(f"{f}.valid_to", r.valid_to, f"a month not before valid_from {r.valid_from}")

    for g in case.grades:
        if g.reference_recipe is not None:
            known(f"grades[{g.id}].reference_recipe", g.reference_recipe, {rc.id for rc in g.recipes}, f"a recipe of grade {g.id}")
        for rc in g.recipes:
            for e in rc.element_t_per_t_magnet:
                known(f"grades[{g.id}].recipes[{rc.id}].element_t_per_t_magnet", e, elements, "tracked element")
            if sum(rc.element_t_per_t_magnet.values()) <= 0:
                bad(f"grades[{g.id}].recipes[{rc.id}].element_t_per_t_magnet", dict(rc.element_t_per_t_magnet), "a positive content of at least one element")

    for s in case.streams:
        f = f"streams[{s.id}]"
        known(f"{f}.grade", s.grade, grades, "grade")
        known(f"{f}.end_use", s.end_use, end_uses, "end use")

    for sp in case.stockpile:
        f = f"stockpile[{sp.element}]"
        known(f"{f}.element", sp.element, elements, "element")
        _initial_stock(f, sp, groups, bad, known)
        if sp.terminal_min_t is not None and sp.terminal_min_t > sp.capacity_t + 1e-9:
            bad(f"{f}.terminal_min_t", sp.terminal_min_t, f"at most capacity_t {sp.capacity_t}")

    countries = {o.country for o in case.offers}
    for rt in case.recycling_routes:
        f = f"recycling_routes[{rt.id}]"
        countries.add(rt.country or rt.output_origin_group)
        if rt.feed != SWARF_FEED:
            if known(f"{f}.feed", rt.feed, set(materials) | {SWARF_FEED}, "feed (`swarf` or a scrap material)"):
                if materials[rt.feed].kind != "scrap":
                    bad(f"{f}.feed", rt.feed, f"`swarf` or a material of kind scrap (this one is {materials[rt.feed].kind})")
            if rt.grades is not None:
                bad(f"{f}.grades", rt.grades, "no grades unless feed is swarf")
        for g in rt.grades or []:
            known(f"{f}.grades", g, grades, "grade")
        for e in rt.recovery_frac:
            known(f"{f}.recovery_frac", e, elements, "element")
        known(f"{f}.output_origin_group", rt.output_origin_group, groups, "origin group")
        if rt.expansion is not None and rt.expansion.build_lead_time_periods >= case.horizon.periods:
            bad(f"{f}.expansion.build_lead_time_periods", rt.expansion.build_lead_time_periods, f"fewer than the {case.horizon.periods} periods of the horizon")

    for d in case.diversification_limits:
        f = f"diversification_limits[{d.id}]"
        if d.element is not None:
            known(f"{f}.element", d.element, elements, "element")
        if d.group_by == "origin_group":
            known(f"{f}.value", d.value, groups, "origin group")
        else:
            known(f"{f}.value", d.value, countries, "country of an offer or recycling route")

    if case.risk.non_anticipative_periods > case.horizon.periods:
        bad("risk.non_anticipative_periods", case.risk.non_anticipative_periods, f"at most the {case.horizon.periods} periods of the horizon")

    _check_grants_and_magnet_stock(case, bad, known)
    _check_plants(case, bad, known)
    return out


def _check_plants(case: CaseInput, bad, known) -> None:
    """One plant (``plant``) or several (``plants``); every ``plant`` field names one; lanes between two."""
    if (case.plant is None) == (not case.plants):
        bad("plants" if case.plants else "plant", "given" if case.plants else "(blank)",
            "a `plant` block or a `plants` list, not both" if case.plants else "a `plant` block (or a `plants` list)")
        return
    plants = {p.id: p for p in case.site_plants}
    several = len(plants) > 1
    clash = plants.keys() & ({o.id for o in case.offers} | {r.id for r in case.recycling_routes})
    for x in sorted(clash):
        bad(f"plants[{x}].id", x, "an id not used by an offer or recycling route (they share the capacity CSV's columns)")
    grades = {g.id for g in case.grades}
    for p in case.site_plants:
        for g in p.grades or []:
            known(f"plants[{p.id}].grades" if case.plants else "plant.grades", g, grades, "grade")
    entries = ([(f"streams[{x.id}]", x) for x in case.streams] + [(f"offers[{x.id}]", x) for x in case.offers]
               + [(f"stockpile[{x.element}]", x) for x in case.stockpile]
               + [(f"magnet_stock[{x.grade}]", x) for x in case.magnet_stock]
               + [(f"recycling_routes[{x.id}]", x) for x in case.recycling_routes])
    for where, x in entries:
        if x.plant is None:
            if several:
                bad(f"{where}.plant", "(blank)", f"the plant it belongs to (one of {', '.join(plants)}: the case has several)")
        else:
            known(f"{where}.plant", x.plant, plants, "plant")
    for d in case.diversification_limits:
        if d.plant is not None:
            known(f"diversification_limits[{d.id}].plant", d.plant, plants, "plant")
    for s in case.streams:
        p = plants.get(case.plant_of(s))
        if p is not None and p.grades is not None and s.grade not in p.grades:
            bad(f"streams[{s.id}].grade", s.grade, f"a grade plant {p.id} makes ({', '.join(p.grades)})")
    for x in case.transfers:
        f = f"transfers[{x.id}]"
        a = known(f"{f}.from_plant", x.from_plant, plants, "plant")
        b = known(f"{f}.to_plant", x.to_plant, plants, "plant")
        if a and b and x.from_plant == x.to_plant:
            bad(f"{f}.to_plant", x.to_plant, f"a plant other than from_plant {x.from_plant}")
        if x.lead_time_periods >= case.horizon.periods:
            bad(f"{f}.lead_time_periods", x.lead_time_periods, f"fewer than the {case.horizon.periods} periods of the horizon")
    pairs = [(case.plant_of(x), x.grade) for x in case.magnet_stock]
    for d in _dups(f"{g} at plant {p}" for p, g in pairs):
        bad("magnet_stock grade", d, "one entry per grade and plant (this one appears more than once)")


def _initial_stock(f: str, store, groups: set, bad, known) -> float:
    """A store's ``initial_t_by_origin`` (element stockpile or finished magnets): known origin groups, a total
    within ``capacity_t``; returns the total, t."""
    for g in store.initial_t_by_origin:
        known(f"{f}.initial_t_by_origin", g, groups, "origin group")
    init = sum(store.initial_t_by_origin.values())
    if init > store.capacity_t + 1e-9:
        bad(f"{f}.initial_t_by_origin", round(init, 6), f"a total within capacity_t {store.capacity_t}")
    return init


def _check_grants_and_magnet_stock(case: CaseInput, bad, known) -> None:
    """Named licences and renewals (licence_rules[].suppliers/customers/renewal), magnet stock, orders in transit."""
    outside = f"a month inside the horizon starting {case.horizon.start_month} ({case.horizon.periods} periods)"
    suppliers = {o.supplier for o in case.offers}
    for r in case.licence_rules:
        f = f"licence_rules[{r.id}]"
        for x in r.suppliers or []:
            known(f"{f}.suppliers", x, suppliers, "supplier of an offer")
        if r.regime == "prohibited" and r.suppliers is not None:
            bad(f"{f}.suppliers", list(r.suppliers), "no suppliers for a prohibited rule (stock is pooled by origin group)")
        if r.regime == "prohibited" and r.validated_end_users_only:
            bad(f"{f}.validated_end_users_only", True, "false for a prohibited rule (it admits no one)")
        if (r.customers is not None or r.validated_end_users_only) and case.company is None:
            bad(f"{f}.customers" if r.customers is not None else f"{f}.validated_end_users_only",
                list(r.customers) if r.customers is not None else True, "a `company` block saying who the company is")
        if r.renewal is not None:
            if r.regime not in ("general", "case_by_case"):
                bad(f"{f}.renewal", "given", f"no renewal for regime {r.regime} (only general and case_by_case licences lapse)")
            list(months_in_horizon(r.renewal, ("first_due",), case.horizon, bad, f"{f}.renewal", outside))
    grades = {g.id for g in case.grades}
    groups = {g.id for g in case.origin_groups}
    magnets = {}
    for m in case.materials:
        if m.kind == "magnet":
            magnets.setdefault(m.grade, []).append(m.id)
    for x in case.magnet_stock:
        f = f"magnet_stock[{x.grade}]"
        known(f"{f}.grade", x.grade, grades, "grade")
        init = _initial_stock(f, x, groups, bad, known)
        if init > 0 and len(magnets.get(x.grade, [])) != 1:
            bad(f"{f}.initial_t_by_origin", round(init, 6),
                f"initial stock only for a grade with exactly one material of kind magnet (this one has "
                f"{len(magnets.get(x.grade, []))})")
    offers = {o.id for o in case.offers}
    for i, x in enumerate(case.in_transit):
        f = f"in_transit[{i}]"
        known(f"{f}.offer", x.offer, offers, "offer")
        list(months_in_horizon(x, ("arrival_period",), case.horizon, bad, f, outside))
