"""Results per plant and licences by exporter and customer, as report tables (summary.md and report.html).

Both are pandas DataFrames built from a run's tidy tables and its inputs; the two reports render them.
In a stochastic run every amount is the probability-weighted expectation over the scenarios.

Glossary
--------
plant_table(run)     one row per plant: country, the grades and streams it serves, magnets made (t), its
                     capacity over the horizon (t), utilisation (made / capacity), its streams' demand and
                     shortage (t), fill rate, element stock at the horizon end (t), t sent and received by lanes
licence_table(run)   one row per licence rule: regime, exporters (``suppliers``; "any"), customers ("any"),
                     destination countries ("any"), what it covers, when it is in force, its renewal, its
                     quota (t/period, with the approval share of a case-by-case rule), t ordered under it
                     over the horizon (orders the rule governs, ``model.components.sets`` QUOTA; "-" for a
                     free or prohibited rule) and whom it admits: the company and each plant (``admits``)
stock_series(case)   the (plant, element) pairs with a stockpile entry, with their label (the element, or
                     "element at plant" when the case has several plants) and opening stock (t)
"""

from __future__ import annotations

import pandas as pd

from model.components.sets import admits_company, build_sets, reaches
from model.input.scenarios import renewal_due_periods


def _weighted(df: pd.DataFrame, value: str) -> pd.Series:
    return df[value] * df["probability"] if "probability" in df.columns else df[value]


def _sum_by(df: pd.DataFrame, by: str, value: str) -> dict:
    if not len(df):
        return {}
    return df.assign(_w=_weighted(df, value)).groupby(by)["_w"].sum().to_dict()


def several_plants(case) -> bool:
    return len(case.site_plants) > 1


def stock_series(case) -> list[tuple[str, str, str, float]]:
    """(plant, element, label, opening stock t) of every stockpile entry, in element then plant order."""
    order = {e: i for i, e in enumerate(case.elements)}
    many = several_plants(case)
    out = [(case.plant_of(x), x.element, f"{x.element} at {case.plant_of(x)}" if many else x.element,
            float(sum(x.initial_t_by_origin.values()))) for x in case.stockpile]
    return sorted(out, key=lambda r: (order.get(r[1], len(order)), r[0]))


def plant_table(run) -> pd.DataFrame:
    case, t = run.data.case, run.solution.tables
    made = _sum_by(t["production"], "plant", "made_t")
    sh = t["shortages"]
    dem, short = _sum_by(sh, "plant", "demand_t"), _sum_by(sh, "plant", "shortage_t")
    sbe = t["stock_by_element"]
    end = _sum_by(sbe[sbe.period == run.data.periods[-1]], "plant", "stock_t")
    tr = t.get("transfers", pd.DataFrame(columns=["from_plant", "to_plant", "moved_t"]))
    sent, got = _sum_by(tr, "from_plant", "moved_t"), _sum_by(tr, "to_plant", "moved_t")
    cap = {p.id: float(sum(run.data.capacity_t_per_period[p.id])) for p in case.site_plants}
    rows = []
    for p in case.site_plants:
        streams = [s.id for s in case.streams if case.plant_of(s) == p.id]
        d, s_ = dem.get(p.id, 0.0), short.get(p.id, 0.0)
        rows.append({
            "plant": p.id, "country": p.country or "-", "grades": ", ".join(p.grades) if p.grades else "all",
            "streams": ", ".join(streams) or "-", "made (t)": made.get(p.id, 0.0), "capacity (t)": cap[p.id],
            "utilisation (%)": 100 * made.get(p.id, 0.0) / cap[p.id] if cap[p.id] > 0 else 0.0,
            "demand (t)": d, "shortage (t)": s_, "fill rate (%)": 100 * (1 - s_ / d) if d > 0 else 100.0,
            "element stock at the end (t)": end.get(p.id, 0.0),
            "sent by lanes (t)": sent.get(p.id, 0.0), "received by lanes (t)": got.get(p.id, 0.0),
        })
    return pd.DataFrame(rows)


def _listed(xs) -> str:
    return "any" if xs is None else ", ".join(xs)


def _window(case, r) -> str:
    lab = lambda m, d: m if m else d  # noqa: E731
    return f"{lab(r.valid_from, 'start')} to {lab(r.valid_to, 'end')}"


def _renewal(case, r, periods) -> str:
    if r.renewal is None:
        return "-"
    due = renewal_due_periods(case, r, len(periods))
    first = f", first due {periods[due[0] - 1]}" if due else ""
    return f"every {r.renewal.every_periods} periods{first}; " + ("renewed" if r.renewal.renewed else "lapses when due")


def _admits(case, r) -> str:
    """Whom the rule admits (a prohibition: whom it applies to)."""
    plants = [p for p in case.site_plants if reaches(r, p.country)]
    if not plants:
        return "no plant of this case (destination)"
    ok = [p.id for p in plants if admits_company(r, case.company, p.id)]
    if not several_plants(case):
        if r.regime == "prohibited":
            return "applies to the company" if ok else "does not apply to the company (customers)"
        return "admits the company" if ok else "bars the company's orders (customers)"
    verb = "applies at" if r.regime == "prohibited" else "admits orders to"
    if not ok:
        return "applies to no plant (customers)" if r.regime == "prohibited" else "bars orders to " + ", ".join(p.id for p in plants)
    return f"{verb} " + ", ".join(ok)


def licence_table(run) -> pd.DataFrame:
    """One row per licence rule (see the glossary); empty when the case has none."""
    data, case = run.data, run.data.case
    if not case.licence_rules:
        return pd.DataFrame()
    sets = build_sets(data)
    pur = run.solution.tables["purchases"]
    t_of = {lab: k + 1 for k, lab in enumerate(data.periods)}
    ordered = pur.assign(_w=_weighted(pur, "purchased_t"), _t=pur.order_period.map(t_of))
    per = ordered.groupby(["offer", "_t"])["_w"].sum().to_dict()
    rows = []
    for r in case.licence_rules:
        if r.regime in ("general", "case_by_case"):
            got = sum(per.get((o, t), 0.0) for (rule, t), offers in sets.QUOTA.items() if rule == r.id for o in offers)
            quota = f"{r.quota_t_per_period:g}" + (f" x approval {r.approval_frac:g}" if r.regime == "case_by_case" else "")
        else:
            got, quota = None, "-"
        rows.append({
            "licence": r.id, "regime": r.regime.replace("_", "-"), "exporters": _listed(r.suppliers),
            "customers": _listed(r.customers) + (" (validated end users only)" if r.validated_end_users_only else ""),
            "destinations": _listed(r.destination_countries),
            "covers": f"{'/'.join(r.origin_groups)} {'/'.join(r.materials)} for {'/'.join(r.end_uses)}",
            "in force": _window(case, r), "renewal": _renewal(case, r, data.periods), "quota (t/period)": quota,
            "ordered under it (t)": "-" if got is None else f"{got:,.2f}", "for this company": _admits(case, r),
        })
    df = pd.DataFrame(rows)
    return df.drop(columns=["renewal"]) if (df.renewal == "-").all() else df  # no rule with a term: no column


def licence_lead(run) -> str:
    stoch = run.mode == "stochastic"
    return ("Every licence rule of the case: who it was granted to (exporters, customers, destination countries), what it "
            "covers, when it is in force and renewed, its quota, the t ordered under it over the horizon"
            + (" (expected over scenarios)" if stoch else "") + ", and whom it admits. Scenario events can change quotas, "
            "approvals, review times and renewals (see Scenarios).")


def plant_lead(run) -> str:
    stoch = run.mode == "stochastic"
    return ("Results per plant over the horizon" + (" (expected over scenarios)" if stoch else "") + ": magnets made against "
            "capacity, the demand of the streams each plant serves and what was short, element stock left at the end, and "
            "what lanes moved between plants (`transfers.csv`).")

