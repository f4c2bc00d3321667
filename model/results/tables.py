"""Extract a solved model into tidy pandas tables and a KPI dictionary. Writes nothing.

Tables (one row per key; column names carry units):
    purchases         offer, supplier, country, origin_group, material, kind, order_period, arrival_period,
                      purchased_t, price_usd_per_kg, cost_usd
    reservations      offer, period, reserved_t, purchased_t, fee_usd
    contracts         offer, supplier, material, volume_t_per_period, from_period, to_period, term_periods,
                      fee_usd, take_or_pay_max_t, take_or_pay_max_usd: one row per signed tranche of a
                      contract with tranche terms (model.md §5.1); the take-or-pay columns are what is at
                      stake if nothing is taken at full availability (take_or_pay_frac x volume x term, and
                      that at each period's price); empty for a case without tranche terms
    arrivals          plant, element, origin_group, period, arrived_t (element content of oxide/metal/alloy
                      arrivals at the plant, orders in transit at the start included)
    production        plant, stream, grade, recipe, period, made_t
    eligibility_use   stream, end_use, element, origin_group, period, used_t
    magnet_purchases  stream, material, origin_group, period, used_t (finished magnets used)
    stock             plant, element, origin_group, period, stock_t
    stock_by_element  plant, element, period, stock_t, capacity_t, floor_t, floor_shortfall_t
    magnet_stock      plant, grade, material, origin_group, period, stock_t, capacity_t: finished magnets held at
                      the end of each period (capacity_t the grade's at the plant, all materials and origins); only
                      for a case with ``magnet_stock``
    recycling         plant, route, source, period, feed_t
    expansions        route, added_t_feed_per_period, usable_from, cost_usd
    recovered         plant, element, origin_group, period, recovered_t
    shortages         plant, stream, end_use, period, demand_t, made_t, bought_t, shortage_t
    plants            plant, country, period, made_t, capacity_t, demand_t, shortage_t (results per plant)
    transfers         lane, from_plant, to_plant, kind (element / magnet), item (element or magnet material),
                      origin_group, sent_period, arrival_period, moved_t, cost_usd; only for a case with
                      ``transfers``
    (a one-plant case has the plant ``plant`` in every plant column)
    marginal_values   constraint, name, period, marginal_value_usd_per_t, binding
    costs             term, stage, cost_usd
    cost_by_period, cost_by_year, working_capital, budget
                      cost over time, present value, stock value and the budget view (:mod:`model.results.costs`)

KPIs include ``input_warnings``: the lines of the case's input warnings (``CaseData.warnings``,
:mod:`model.input.warnings`), an empty list when there are none. ``solver.canonical`` appears only
when the canonical plan was asked for and not applied (a stage failed, or the run's time limit cut it:
``skipped: true``); its ``note`` says why, and the plan and marginal values are then the main solve's.

Sign convention for ``marginal_values``: the USD the objective would fall by if the bound were
relaxed by one tonne (positive when binding). For a minimisation, HiGHS's row dual of a binding
``<=`` row is negative, so the marginal value is ``-dual``; duals are in kUSD/t, hence x1000.
When the solve was given a tie-break (every run's plan is), the dual of each reported limit is its
one-sided rate, the right derivative of the optimal cost in that limit (:mod:`model.solve.canonical`),
which is unique where LP duals are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model import terms
from model.components.build import BuiltModel
from model.components.catalogue import marginal_families
from model.results.costs import add_costs
from model.solve.highs import SolveResult
from model.units import KG_PER_T, USD_PER_KUSD

KUSD = USD_PER_KUSD  # USD per kUSD
BINDING_USD_PER_T = 1e-6
# the limits whose marginal values are reported: catalogue entries (model.components.catalogue), in output order
MARGINAL_FAMILIES = marginal_families()


def plan_tie_break(builts, top=None, top_labels=None):
    """The canonical-plan criteria for scenario models ``builts``, reporting marginal values of
    :data:`MARGINAL_FAMILIES` as one-sided rates."""
    from model.solve.canonical import tie_break

    return tie_break(builts, tuple(c.component for c in MARGINAL_FAMILIES), top=top, top_labels=top_labels)


def _val(v) -> float:
    x = v.value
    return 0.0 if x is None or abs(x) < 1e-9 else float(x)


def clean(df: pd.DataFrame, digits: int = 9) -> pd.DataFrame:
    """Round floats to ``digits`` decimals and clear -0.0, for stable output."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(digits) + 0.0
    return out


@dataclass(frozen=True)
class Solution:
    tables: dict[str, pd.DataFrame]
    kpis: dict


def _df(rows, cols) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=cols)


def _marginal_rows(m, b: BuiltModel, duals, scale: float) -> list[tuple]:
    lab = b.data.periods
    rows = []

    for family in MARGINAL_FAMILIES:
        mg = family.marginal
        comp = m.component(family.component)
        for k in comp:
            con = comp[k]
            d = duals.get(con, 0.0) * scale
            mv = -d * KUSD
            mv = 0.0 if abs(mv) < 1e-7 else mv
            rows.append((mg.kind.name, mg.name_of(k), mg.period_of(k, lab), mv, abs(mv) > BINDING_USD_PER_T))
    return rows


CONTRACT_COLUMNS = ["offer", "supplier", "material", "volume_t_per_period", "from_period", "to_period", "term_periods",
                    "fee_usd", "take_or_pay_max_t", "take_or_pay_max_usd"]


def _contracts(m, data, sets) -> pd.DataFrame:
    """The ``contracts`` table: one row per tranche signed (volume > 0) of a contract with tranche terms
    (``min_term_periods``; the one-period tranches of other contracts with terms are the month-by-month
    reservations of ``reservations``), in TRANCHE order."""
    offers = {o.id: o for o in data.case.offers}
    lab, price = data.periods, data.price_usd_per_kg
    rows = []
    for (o, s, L) in sets.TRANCHE:
        v = round(_val(m.Tranche_t_per_period[o, s, L]), 9)  # as reported: the columns below derive from it
        off = offers[o]
        if v <= 0 or off.terms.min_term_periods is None:
            continue
        top = off.terms.take_or_pay_frac
        rows.append((o, off.supplier, off.material, v, lab[s - 1], lab[s + L - 2], L,
                     v * L * off.reservation_fee_usd_per_kg * KUSD, top * v * L,
                     top * v * sum(price[o][t - 1] for t in range(s, s + L)) * KUSD))
    return _df(rows, CONTRACT_COLUMNS).astype({"term_periods": int})


def _magnet_stock(m, data, sets) -> pd.DataFrame:
    """The ``magnet_stock`` table: end-of-period finished-magnet stock per (plant, material, origin group, period)."""
    grade = {x.id: x.grade for x in data.case.materials if x.kind == "magnet"}
    cap = {(data.case.plant_of(x), x.grade): x.capacity_t for x in data.case.magnet_stock}
    return _df([(p, grade[mat], mat, g, data.periods[t - 1], _val(m.MagnetStock_t[p, mat, g, t]), cap[p, grade[mat]])
                for (p, mat, g) in sets.MAGNET_STOCK_PMG for t in sets.periods],
               ["plant", "grade", "material", "origin_group", "period", "stock_t", "capacity_t"])


def _transfers(m, data, sets) -> pd.DataFrame:
    """The ``transfers`` table: what left on each lane in each period (rows with a positive amount)."""
    lanes = {x.id: x for x in data.case.transfers}
    lab = data.periods
    rows = []
    for kind, var, keys in (("element", m.ElementSent_t, sets.TRANSFER_ELEM), ("magnet", m.MagnetSent_t, sets.TRANSFER_MAGNET)):
        for (lane, item, g, t) in keys:
            x = _val(var[lane, item, g, t])
            if x > 0:
                ln = lanes[lane]
                rows.append((lane, ln.from_plant, ln.to_plant, kind, item, g, lab[t - 1], lab[t + ln.lead_time_periods - 1],
                             x, x * ln.cost_usd_per_kg * KG_PER_T))
    return _df(rows, ["lane", "from_plant", "to_plant", "kind", "item", "origin_group", "sent_period", "arrival_period",
                      "moved_t", "cost_usd"])


def _plants(m, data, sets, production: pd.DataFrame, shortages: pd.DataFrame) -> pd.DataFrame:
    """The ``plants`` table: per plant and period, magnets made against capacity, and its streams' demand and shortage."""
    lab = data.periods
    made = production.groupby(["plant", "period"]).made_t.sum()
    dem = shortages.groupby(["plant", "period"])[["demand_t", "shortage_t"]].sum()
    rows = []
    for p in data.case.site_plants:
        for t in sets.periods:
            k = (p.id, lab[t - 1])
            d = dem.loc[k] if k in dem.index else None
            rows.append((p.id, p.country or "", lab[t - 1], float(made.get(k, 0.0)), data.capacity_t_per_period[p.id][t - 1],
                         0.0 if d is None else float(d.demand_t), 0.0 if d is None else float(d.shortage_t)))
    return _df(rows, ["plant", "country", "period", "made_t", "capacity_t", "demand_t", "shortage_t"])


def _reported(c) -> bool:
    """Whether cost term ``c`` is reported (``costs`` table, ``cost_parts_usd``): always, unless it is an
    optional term (:data:`model.terms.COST_TERMS`) that this case cannot incur (no variable in it)."""
    from pyomo.core.expr.visitor import identify_variables

    if not terms.BY_NAME[c.name].optional:
        return True
    return next(identify_variables(c.expr.expr, include_fixed=True), None) is not None


def extract(b: BuiltModel, res: SolveResult, duals=None, dual_scale: float = 1.0, term_kusd: dict | None = None,
            totals_kusd: tuple[float, float] | None = None) -> Solution:
    """Tables and KPIs of one scenario model.

    ``duals`` maps constraints to duals (default: the model's own ``dual`` suffix). Inside an
    extensive form a scenario's duals are weighted by its probability; pass ``dual_scale = 1/p`` to
    report them per scenario. ``term_kusd`` (cost term name -> kUSD) and ``totals_kusd`` (total,
    first stage) replace the values of the model's cost expressions: a stamped scenario read from its
    group's template model, whose expressions hold the template's prices (:mod:`model.stochastic.replan`).
    """
    m, data, sets = b.model, b.data, b.sets
    duals = m.dual if duals is None else duals
    case = data.case
    lab = data.periods
    offers = {o.id: o for o in case.offers}
    streams = {s.id: s for s in case.streams}
    price = data.price_usd_per_kg

    purchases = _df(
        [
            (o, offers[o].supplier, offers[o].country, offers[o].origin_group, offers[o].material, offers[o].kind,
             lab[t - 1], lab[sets.arrival_period[o, t] - 1], _val(m.Purchase_t[o, t]), price[o][t - 1],
             _val(m.Purchase_t[o, t]) * price[o][t - 1] * KUSD)
            for (o, t) in sets.PURCHASE
        ],
        ["offer", "supplier", "country", "origin_group", "material", "kind", "order_period", "arrival_period",
         "purchased_t", "price_usd_per_kg", "cost_usd"],
    )
    reservations = _df(
        [
            (o, lab[t - 1], _val(m.Reserve_t_per_period[o, t]), _val(m.Purchase_t[o, t]),
             _val(m.Reserve_t_per_period[o, t]) * offers[o].reservation_fee_usd_per_kg * KUSD)
            for (o, t) in sets.RESERVE
        ],
        ["offer", "period", "reserved_t", "purchased_t", "fee_usd"],
    )
    contracts = _contracts(m, data, sets)
    arrived = {k: pyo.value(m.ElementArrivals_t[k]) for k in m.ElementArrivals_t}
    for k in m.InTransitElement_t:  # orders in transit at the start arrive like any order
        arrived[k] = arrived.get(k, 0.0) + pyo.value(m.InTransitElement_t[k])
    arrivals = _df([(p, e, g, lab[a - 1], x) for (p, e, g, a), x in arrived.items()],
                   ["plant", "element", "origin_group", "period", "arrived_t"])
    at = sets.plant_of_stream
    production = _df(
        [(at[s], s, streams[s].grade, r, lab[t - 1], _val(m.Make_t[s, r, t])) for (s, r, t) in sets.MAKE],
        ["plant", "stream", "grade", "recipe", "period", "made_t"],
    )
    use = _df(
        [(s, streams[s].end_use, e, g, lab[t - 1], _val(m.Use_t[s, e, g, t])) for (s, e, g, t) in sets.USE],
        ["stream", "end_use", "element", "origin_group", "period", "used_t"],
    )
    magnets = _df(
        [(s, mat, g, lab[t - 1], _val(m.MagnetUse_t[s, mat, g, t])) for (s, mat, g, t) in sets.MAGNET_USE],
        ["stream", "material", "origin_group", "period", "used_t"],
    )
    stock = _df(
        [(p, e, g, lab[t - 1], _val(m.Stock_t[p, e, g, t])) for (p, e, g) in sets.STOCK_PEG for t in sets.periods],
        ["plant", "element", "origin_group", "period", "stock_t"],
    )
    sp = {(case.plant_of(x), x.element): x for x in case.stockpile}
    by_el = stock.groupby(["plant", "element", "period"], as_index=False, sort=False)["stock_t"].sum()
    pe = list(zip(by_el.plant, by_el.element))
    by_el["capacity_t"] = [sp[k].capacity_t if k in sp else 0.0 for k in pe]
    by_el["floor_t"] = [sets.floor_t.get(k, 0.0) for k in pe]
    fs = {(p, e, lab[t - 1]): _val(m.FloorShortfall_t[p, e, t]) for (p, e, t) in m.FloorShortfall_t}
    by_el["floor_shortfall_t"] = [fs.get(k, 0.0) for k in zip(by_el.plant, by_el.element, by_el.period)]
    routes = {r.id: r for r in case.recycling_routes}
    recycling = _df(
        [(case.plant_of(routes[k]), k, src, lab[t - 1], _val(m.RecycleFeed_t[k, src, t])) for (k, src, t) in sets.RECYCLE_X],
        ["plant", "route", "source", "period", "feed_t"],
    )
    expansions = _df(
        [
            (k, _val(m.CapacityExpansion_t_per_period[k]),
             lab[routes[k].expansion.build_lead_time_periods] if routes[k].expansion.build_lead_time_periods < len(lab) else None,
             _val(m.CapacityExpansion_t_per_period[k]) * routes[k].expansion.cost_usd_per_t_per_period)
            for k in m.CapacityExpansion_t_per_period
        ],
        ["route", "added_t_feed_per_period", "usable_from", "cost_usd"],
    )
    recovered = _df(
        [(p, e, g, lab[t - 1], pyo.value(m.RecoveredElement_t[p, e, g, t])) for (p, e, g, t) in m.RecoveredElement_t],
        ["plant", "element", "origin_group", "period", "recovered_t"],
    )
    made = {k: pyo.value(m.MagnetsMade_t[k]) for k in m.MagnetsMade_t}
    bought = {k: pyo.value(m.MagnetsBought_t[k]) for k in m.MagnetsBought_t}
    shortages = _df(
        [
            (at[s], s, streams[s].end_use, lab[t - 1], data.demand_t_per_period[s][t - 1], made.get((s, t), 0.0),
             bought.get((s, t), 0.0), _val(m.Shortage_t[s, t]))
            for (s, t) in m.STREAM_PERIOD
        ],
        ["plant", "stream", "end_use", "period", "demand_t", "made_t", "bought_t", "shortage_t"],
    )
    marginal = _df(_marginal_rows(m, b, duals, dual_scale), ["constraint", "name", "period", "marginal_value_usd_per_t", "binding"])
    costs = _df(
        [(c.name, c.stage, (pyo.value(c.expr) if term_kusd is None else term_kusd[c.name]) * KUSD)
         for c in b.registry.costs if _reported(c)],
        ["term", "stage", "cost_usd"],
    )
    tables = {
        "purchases": purchases, "reservations": reservations, "contracts": contracts, "arrivals": arrivals, "production": production,
        "eligibility_use": use, "magnet_purchases": magnets, "stock": stock, "stock_by_element": by_el,
        "recycling": recycling, "expansions": expansions, "recovered": recovered, "shortages": shortages, "marginal_values": marginal,
        "costs": costs, "plants": _plants(m, data, sets, production, shortages),
    }
    if case.transfers:  # only a case with lanes between plants has the table
        tables["transfers"] = _transfers(m, data, sets)
    if case.magnet_stock:  # only a case with finished-magnet stores has the table
        tables["magnet_stock"] = _magnet_stock(m, data, sets)
    tables = {k: clean(v) for k, v in tables.items()}
    kpis = compute_kpis(b, res, tables, totals_kusd)
    add_costs(tables, kpis, data)  # cost_by_period, cost_by_year, working_capital, budget; PV KPIs
    return Solution(tables=tables, kpis=kpis)


def _shares(df: pd.DataFrame, key: str, value: str) -> dict:
    out: dict = {}
    for e, g in df.groupby("element", sort=True):
        tot = g[value].sum()
        by = g.groupby(key, sort=True)[value].sum()
        out[e] = {k: (round(float(v / tot), 9) if tot > 0 else 0.0) for k, v in by.items()}
    return out


def _plant_kpis(pl: pd.DataFrame) -> dict:
    """Per plant: magnets made, capacity, utilisation, its streams' demand, shortage and fill rate (t)."""
    out = {}
    for p, g in pl.groupby("plant", sort=False):
        made, cap, dem, short = (float(g[c].sum()) for c in ("made_t", "capacity_t", "demand_t", "shortage_t"))
        out[p] = {"made_t": round(made, 9), "capacity_t": round(cap, 9),
                  "utilisation_frac": round(made / cap, 9) if cap > 0 else 0.0,
                  "demand_t": round(dem, 9), "shortage_t": round(short, 9),
                  "fill_rate": round(1 - short / dem, 9) if dem > 0 else 1.0}
    return out


def compute_kpis(b: BuiltModel, res: SolveResult, tables: dict[str, pd.DataFrame],
                 totals_kusd: tuple[float, float] | None = None) -> dict:
    """The KPIs of one scenario's tables; ``totals_kusd`` (total, first stage) instead of the model's
    cost expressions (see :func:`extract`)."""
    data = b.data
    m = b.model
    case = data.case
    costs = tables["costs"]
    if totals_kusd is None:
        total = float(pyo.value(m.FirstStageCost_kusd + m.ScenarioCost_kusd) * KUSD)
        first = float(pyo.value(m.FirstStageCost_kusd) * KUSD)
    else:
        total, first = (float(v) * KUSD for v in totals_kusd)
    penalties = float(costs[costs.term.isin(list(terms.PENALTY_TERMS))].cost_usd.sum())

    sh = tables["shortages"]
    streams = {}
    for s, g in sh.groupby("stream", sort=True):
        dem, short = float(g.demand_t.sum()), float(g.shortage_t.sum())
        streams[s] = {
            "demand_t": round(dem, 9),
            "shortage_t": round(short, 9),
            "fill_rate": round(1 - short / dem, 9) if dem > 0 else 1.0,
            "periods_short": int((g.shortage_t > 1e-6).sum()),
        }
    delivered_kg = float((sh.demand_t - sh.shortage_t).sum()) * KG_PER_T

    # supply by origin and country: element content of purchased arrivals plus recycled output
    pur = tables["purchases"]
    mats = {mm.id: mm for mm in case.materials}
    rows = []
    for o, g, c, mat, a, q in zip(pur.offer, pur.origin_group, pur.country, pur.material, pur.arrival_period, pur.purchased_t):
        for e, f in mats[mat].element_content_frac.items():
            if mats[mat].kind in ("oxide", "metal", "alloy"):
                rows.append((e, g, c, q * f, "purchased"))
    # recycled output by route, so that two routes sharing an origin group keep their own countries
    rec = b.sets.RECOVERY
    if len(rec):
        feed = tables["recycling"].assign(t=lambda d: d.period.map({p: i + 1 for i, p in enumerate(data.periods)}))
        got = rec.merge(feed.rename(columns={"source": "src"})[["route", "src", "t", "feed_t"]], on=["route", "src", "t"])
        for e, g, c, q in zip(got.e, got.g, got.country, got.coef * got.feed_t):
            rows.append((e, g, c, q, "recycled"))
    supply = pd.DataFrame(rows, columns=["element", "origin_group", "country", "t", "how"])
    share_group = _shares(supply, "origin_group", "t") if len(supply) else {}
    share_country = _shares(supply, "country", "t") if len(supply) else {}
    recycled_share = {}
    supply_t = {}
    for e, g in supply.groupby("element", sort=True):
        tot = float(g.t.sum())
        supply_t[e] = round(tot, 9)
        recycled_share[e] = round(float(g[g.how == "recycled"].t.sum()) / tot, 9) if tot > 0 else 0.0

    mp = tables["magnet_purchases"]
    magnets_by_origin = {k: round(float(v), 9) for k, v in mp.groupby("origin_group", sort=True).used_t.sum().items()}

    mv = tables["marginal_values"]
    binding = mv[mv.binding]
    marginal_summary = {}
    for (kind, name), g in binding.groupby(["constraint", "name"], sort=True):
        marginal_summary.setdefault(kind, {})[name] = {
            "max_usd_per_t": round(float(g.marginal_value_usd_per_t.max()), 6),
            "mean_over_binding_usd_per_t": round(float(g.marginal_value_usd_per_t.mean()), 6),
            "binding_periods": list(g.period),
        }
    return {
        "case": case.name,
        "input_warnings": [w.line() for w in data.warnings],
        "objective_usd": round(total, 6),
        "first_stage_cost_usd": round(first, 6),
        "scenario_cost_usd": round(total - first, 6),
        "cost_parts_usd": {t: round(float(v), 6) for t, v in zip(costs.term, costs.cost_usd)},
        "penalties_usd": round(penalties, 6),
        "magnets_delivered_t": round(delivered_kg / KG_PER_T, 9),
        "plants": _plant_kpis(tables["plants"]),
        "total_cost_usd_per_kg_magnet": round(total / delivered_kg, 9) if delivered_kg > 0 else None,
        "supply_cost_usd_per_kg_magnet": round((total - penalties) / delivered_kg, 9) if delivered_kg > 0 else None,
        "streams": streams,
        "element_supply_t": supply_t,
        "supply_share_by_origin_group": share_group,
        "supply_share_by_country": share_country,
        "recycled_share": recycled_share,
        "finished_magnets_by_origin_t": magnets_by_origin,
        "marginal_values": marginal_summary,
        "solver": {
            "termination": res.termination,
            "name": res.solver,
            "version": res.solver_version,
            "path": res.options.get("path"),
            "options": {k: v for k, v in res.options.items() if k != "path"},
        } | ({"canonical": res.canonical} if res.canonical is not None and not res.canonical.get("applied") else {}),
        "model_size": {"columns": res.n_columns, "rows": res.n_rows, "nonzeros": res.n_nonzeros},
        "input_hash": data.input_hash(),
    }
