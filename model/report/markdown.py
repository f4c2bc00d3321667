"""summary.md of a run: ``summary_markdown(run)`` (deterministic, perfect-foresight and expected-value runs)
and ``stochastic_summary_markdown(run)``, a two-minute read for a planner; plus :func:`md_table`, the
markdown table every summary.md uses. Writes nothing. Input warnings, when there are any, come in a
**Warnings** blockquote right after the title. Wording shared with report.html and the
console is in :mod:`model.report.text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from model.report.text import (EVPI_LABEL, MV_LEAD, MV_NOTE, NO_LIMIT_BINDS, NO_RECYCLING, UNITS, VSS_LABEL,
                               audit_notice, fill_rate_text, horizon_text, mode_title, not_optimal_notice, solver_text,
                               usd_millions)
from model.input.warnings import WARNINGS_LEAD, WARNINGS_TITLE
from model.report.decision import (contract_lines, decision_scope, expansions_now, orders_now,
                                   plan_by_supplier_month, transfers_now)
from model.report.finance_view import evpi_vss_unit, pv_note, years
from model.report.plants_view import licence_lead, licence_table, plant_lead, plant_table, several_plants
from model.units import KG_PER_T

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run


def _bold(s: str) -> str:
    return f"**{s}**"


def md_table(df: pd.DataFrame, floatfmt: str = ",.2f") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(format(v, floatfmt))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _code(s: str) -> str:
    return f"`` {s} ``" if "`" in s else f"`{s}`"


def _warnings_box(lines: list[str]) -> str:
    """The input warnings as a blockquote headed **Warnings** (empty when there are none)."""
    if not lines:
        return ""
    body = [f"> {_bold(WARNINGS_TITLE)} ({len(lines)}): {WARNINGS_LEAD}", ">"]
    body += [f"> - {_code(ln)}" for ln in lines]
    return "\n".join(body) + "\n"


def _header(run: Run, title: str) -> list[str]:
    k = run.solution.kpis
    case = run.data.case
    P = run.data.periods
    out = [f"# {title}: {case.name}\n"]
    box = _warnings_box(list(k.get("input_warnings", [w.line() for w in run.data.warnings])))
    if box:
        out.append(box)
    if case.description:
        out.append(case.description.strip() + "\n")
    out.append(f"{horizon_text(P, case.horizon.months_per_period)} "
               f"{solver_text(k['solver']['version'], k['solver']['termination'], _bold)} {UNITS}\n")
    a = k.get("audit")
    if a is not None:
        out.append(("" if a["passed"] else "> ") + audit_notice(a, _bold) + "\n")
    return out


def _sourcing(shares: dict, supply: dict, recycled: dict, magnets: dict | None, lead: str) -> list[str]:
    out = ["## Where the elements come from\n", lead + "\n"]
    rows = []
    for e, sh in shares.items():
        row = {"element": e, "supply (t)": supply.get(e, 0.0)}
        row.update({g: f"{100 * v:.1f} %" for g, v in sh.items()})
        rows.append(row)
    if rows:
        out.append(md_table(pd.DataFrame(rows).fillna("0.0 %")) + "\n")
        out.append("Recycled share of supply (all recycling routes): " + ", ".join(
            f"{e} {100 * v:.1f} %" for e, v in recycled.items()) + ".\n")
    if magnets:
        fm = ", ".join(f"{g}: {v:,.1f} t" for g, v in magnets.items())
        out.append(f"Finished magnets bought, by origin: {fm}.\n")
    return out


def _decide_now(run: Run) -> list[str]:
    """What to sign and order now, in a supplier's terms (:mod:`model.report.decision`)."""
    P = run.data.periods
    W = run.data.case.risk.non_anticipative_periods
    out = ["## Decide now: what to sign and order\n", decision_scope(run) + "\n", "### Contracts to sign\n"]
    con = contract_lines(run)
    if len(con):
        view = pd.DataFrame({"supplier": con.supplier, "offer": con.offer, "material": con.material,
                             "country": con.country, "volume (t/month)": con.volume_t_per_month.map("{:,.3f}".format),
                             "from": con.from_month, "to": con.to_month, "months": con.months.astype(int),
                             "reservation fee (USD M)": (con.fee_usd / 1e6).map("{:,.3f}".format)})
        if "deliver_to" in con:
            view.insert(4, "deliver to", con.deliver_to)
        if float(con.take_or_pay_exposure_usd.sum()) > 0:
            view["take-or-pay exposure (USD M)"] = (con.take_or_pay_exposure_usd / 1e6).map("{:,.3f}".format)
        out.append(md_table(view) + "\n")
        if not len(run.solution.tables.get("contracts", pd.DataFrame())):
            out.append("Each line is a run of months with the same reserved volume; the case gives no contract terms, "
                       "so the volume may change from month to month.\n")
    else:
        out.append("No contract reservation.\n")
    orders = orders_now(run)
    out.append(f"### Orders to place now ({', '.join(P[:W])})\n")
    if len(orders):
        view = pd.DataFrame({"supplier": orders.supplier, "offer": orders.offer, "material": orders.material,
                             "country": orders.country, "order month": orders.order_month,
                             "arrives": orders.arrival_month, "quantity (t)": orders.ordered_t.map("{:,.3f}".format),
                             "price (USD/kg)": orders.price_usd_per_kg.map("{:,.2f}".format),
                             "cost (USD M)": (orders.cost_usd / 1e6).map("{:,.3f}".format)})
        if "deliver_to" in orders:
            view.insert(4, "deliver to", orders.deliver_to)
        out.append(md_table(view) + "\n")
        out.append(f"Cost of the orders placed now: {usd_millions(float(orders.cost_usd.sum()))} USD M.\n")
    else:
        out.append("No order in the first stage.\n")
    moves = transfers_now(run)
    if len(moves):
        out.append("### Moves between plants now\n")
        out.append(md_table(pd.DataFrame({"lane": moves.lane, "from": moves.from_plant, "to": moves.to_plant,
                                          "what": moves.item + " (" + moves.origin_group + ")", "sent": moves.sent_period,
                                          "arrives": moves.arrival_period, "quantity (t)": moves.moved_t.map("{:,.3f}".format),
                                          "cost (USD M)": (moves.cost_usd / 1e6).map("{:,.3f}".format)})) + "\n")
    ex = expansions_now(run)
    for row in ex.itertuples(index=False):
        out.append(f"Expand recycling route **{row.route}** by {row.added_t_feed_per_period:,.2f} t feed per period, "
                   f"usable from {row.usable_from}, for {usd_millions(row.cost_usd)} USD M.\n")
    if not len(ex) and len(run.solution.tables.get("expansions", pd.DataFrame())):
        out.append("No recycling capacity expansion is worth its cost.\n")
    return out


def _plan_by_month(run: Run) -> list[str]:
    pv = plan_by_supplier_month(run)
    stoch = run.mode == "stochastic"
    out = ["## The plan by supplier and month\n",
           ("Expected t" if stoch else "t") + " ordered per offer in each order month"
           + (" (probability-weighted over scenarios)" if stoch else "") + "; `.` is nothing. Every row: `purchases.csv`.\n"]
    if not len(pv):
        return out + ["Nothing is ordered over the horizon.\n"]
    P = list(run.data.periods)

    def cell(v: float) -> str:
        return "." if v <= 1e-9 else f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" if v >= 1 else f"{v:.2f}"

    view = pd.DataFrame({"offer (material)": [f"{o} ({m})" for o, m in zip(pv.offer, pv.material)]})
    for p in P:
        view[p] = [cell(float(v)) for v in pv[p]]
    view["total (t)"] = [f"{v:,.1f}" for v in pv.total_t]
    out.append(md_table(view) + "\n")
    return out


def _marginal(mv: pd.DataFrame, value: str, binding_col: str, lead: str) -> list[str]:
    out = ["## Binding constraints and what relaxing them is worth\n", lead + " " + MV_NOTE + "\n"]
    b = mv[mv[binding_col] > 0] if mv[binding_col].dtype != bool else mv[mv[binding_col]]
    if not len(b):
        return out + [NO_LIMIT_BINDS + "\n"]
    agg = b.groupby(["constraint", "name"], as_index=False).agg(
        periods_binding=("period", "count"), first=("period", "min"), last=("period", "max"),
        max_usd_per_t=(value, "max"), mean_usd_per_t=(value, "mean"))
    agg = agg.sort_values("max_usd_per_t", ascending=False)
    agg["max (USD/kg)"] = agg.max_usd_per_t / KG_PER_T
    out.append(md_table(agg.rename(columns={"max_usd_per_t": "max (USD/t)", "mean_usd_per_t": "mean (USD/t)"}), ",.0f") + "\n")
    return out


def _purchases(t: dict[str, pd.DataFrame], weight: pd.Series | None, title: str) -> list[str]:
    pur = t["purchases"].copy()
    res = t["reservations"].copy()
    if weight is not None:
        for df in (pur, res):
            w = df["probability"]
            for col in [c for c in df.columns if c.endswith("_t") or c.endswith("_usd")]:
                df[col] = df[col] * w
    by_offer = pur.groupby(["offer", "kind", "origin_group", "material"], as_index=False).agg(
        purchased_t=("purchased_t", "sum"), cost_usd=("cost_usd", "sum"))
    r = res.groupby("offer", as_index=False).agg(reserved_t=("reserved_t", "sum"), fee_usd=("fee_usd", "sum"))
    by_offer = by_offer.merge(r, on="offer", how="left").fillna({"reserved_t": 0.0, "fee_usd": 0.0})
    by_offer = by_offer[(by_offer.purchased_t > 1e-6) | (by_offer.reserved_t > 1e-6)].sort_values("cost_usd", ascending=False)
    by_offer["cost (USD M)"] = (by_offer.cost_usd + by_offer.fee_usd) / 1e6
    return [f"## {title}\n", md_table(by_offer[["offer", "kind", "origin_group", "material", "reserved_t", "purchased_t", "cost (USD M)"]]
                                     .rename(columns={"reserved_t": "reserved (t)", "purchased_t": "bought (t)"})) + "\n",
            "Period by period: `purchases.csv` and `reservations.csv`.\n"]


def _by_year(run: Run) -> list[str]:
    y = years(run)
    if not len(y):
        return []
    stoch = run.mode == "stochastic"
    view = pd.DataFrame({"year": y.year.astype(str), ("expected cost (USD M)" if stoch else "cost (USD M)"): y.cost_usd / 1e6,
                         "present value (USD M)": y.pv_usd / 1e6})
    for k, lbl in (("decided_now", "decided now (USD M)"), ("committed", "committed (USD M)"),
                   ("scenario_dependent", "scenario-dependent (USD M)")):
        if f"{k}_usd" in y.columns:
            view[lbl] = y[f"{k}_usd"] / 1e6
    view.loc[len(view)] = ["total", *[float(view[c].sum()) for c in view.columns[1:]]]
    return ["## Cost by year, present value and budget\n",
            "Each cost falls in the period it is paid. Decided now: fees, recycling expansion and every order of the "
            "first stage; committed: what contracts oblige later (minimum take, take-or-pay); scenario-dependent: the "
            "rest. " + pv_note(run) + " By period: `cost_by_period.csv`; by term and year: `cost_by_year.csv`.\n",
            md_table(view) + "\n"]


def sampled_plan_rows(sp: dict, millions) -> list[tuple[str, str]]:
    """Headline rows of ``kpis["sampled_plan"]`` (``--confidence``); ``millions``: USD -> "301.79"."""
    if "gap_upper95_usd" not in sp:
        return [("Confidence of the sampled plan", sp.get("note", "not computed"))]
    lo, hi = sp["expected_cost_ci95_usd"]
    clo, chi = sp["cvar_cost_ci95_usd"]
    unit = "" if sp["objective"] == "expected cost" else ", objective units (expected cost + lambda x CVaR)"
    return [
        (f"Out-of-sample expected cost ({sp['out_of_sample_scenarios']:,} new scenarios, seed {sp['out_of_sample_seed']})",
         f"{millions(sp['expected_cost_usd'])} USD M (95 % t interval {millions(lo)} to {millions(hi)})"),
        (f"Out-of-sample CVaR {sp['cvar_alpha']:g} of total cost",
         f"{millions(sp['cvar_cost_usd'])} USD M (95 % bootstrap interval {millions(clo)} to {millions(chi)})"),
        (f"Optimality gap ({sp['gap_replications']} replications of {sp['gap_sample_size']:,} scenarios{unit})",
         f"{millions(sp['gap_usd'])} USD M; 95 % upper bound {millions(sp['gap_upper95_usd'])} USD M"),
    ]


def _headline(head: list[tuple[str, str]]) -> list[str]:
    return ["## Headline\n", md_table(pd.DataFrame(head, columns=["measure", "value"])) + "\n"]


def _production(prod: pd.DataFrame, col: str, heading: str, label: str) -> list[str]:
    prod = prod[prod[col] > 1e-6]
    return [f"## {heading}\n", md_table(prod.rename(columns={col: label})) + "\n"]


def _stockpile(sbe: pd.DataFrame, heading: str, row, columns: list[str]) -> list[str]:
    """One row per element (per element and plant when there are several plants): capacity, floor, then
    ``row(rows of the element)``, headed ``columns``."""
    many = sbe.plant.nunique() > 1
    rows = [(f"{e} at {p}" if many else e, g.capacity_t.iloc[0], g.floor_t.iloc[0], *row(g))
            for (e, p), g in sbe.groupby(["element", "plant"], sort=True)]
    return [f"## {heading}\n", md_table(pd.DataFrame(rows, columns=["element", "capacity (t)", "floor (t)", *columns])) + "\n"]


def _plants_and_licences(run: Run) -> list[str]:
    """Results per plant (a case with several plants) and the licences by exporter and customer (a case with rules)."""
    out = []
    if several_plants(run.data.case):
        out += ["## Results per plant\n", plant_lead(run) + "\n", md_table(plant_table(run), ",.1f") + "\n"]
    lic = licence_table(run)
    if len(lic):
        out += ["## Licences by exporter and customer\n", licence_lead(run) + "\n", md_table(lic) + "\n"]
    return out


def _files(t: dict[str, pd.DataFrame], what: str) -> list[str]:
    return ["## Files\n", f"Tidy CSVs{what} (" + ", ".join(f"`{n}.csv`" for n in t) + "); `kpis.json`; `manifest.json`.\n"]


def summary_markdown(run: Run) -> str:
    if run.mode == "stochastic":
        return stochastic_summary_markdown(run)
    k = run.solution.kpis
    t = run.solution.tables
    P = run.data.periods
    out = _header(run, mode_title(run.mode, run.data.scenario))
    head = [
        ("Total cost (objective)", f"{usd_millions(k['objective_usd'])} USD M"),
        ("  of which penalties (shortage, floor, terminal)", f"{usd_millions(k['penalties_usd'])} USD M"),
        ("Present value of the total cost", f"{usd_millions(k['present_value_usd'])} USD M"
         if k.get("present_value_usd") is not None else "n/a"),
        ("Spend decided now (fees, expansion, first-stage orders)", f"{usd_millions(k['spend_decided_now_usd'])} USD M"
         if k.get("spend_decided_now_usd") is not None else "n/a"),
        ("Magnets delivered", f"{k['magnets_delivered_t']:,.1f} t"),
        ("Supply cost per kg of magnet delivered (excl. penalties)",
         f"{k['supply_cost_usd_per_kg_magnet']:,.2f} USD/kg" if k["supply_cost_usd_per_kg_magnet"] is not None else "n/a"),
    ]
    for s, v in k["streams"].items():
        head.append((f"Stream {s}: fill rate", f"{fill_rate_text(v['fill_rate'])} (short {v['shortage_t']:,.1f} t of {v['demand_t']:,.1f} t, {v['periods_short']} periods short)"))
    out += _decide_now(run)
    out += _plan_by_month(run)
    out += _headline(head)
    out += _plants_and_licences(run)

    out.append("## Cost breakdown\n")
    c = t["costs"].copy()
    c["cost_usd_m"] = c.cost_usd / 1e6
    out.append(md_table(c[["term", "stage", "cost_usd_m"]].rename(columns={"cost_usd_m": "cost (USD M)"})) + "\n")
    out += _by_year(run)
    out += _sourcing(k["supply_share_by_origin_group"], k["element_supply_t"], k["recycled_share"],
                     k["finished_magnets_by_origin_t"],
                     "Share of element supply (purchased oxide/metal content plus recycled output) by origin group, over the horizon:")
    out += _purchases(t, None, "What is bought over the horizon, by offer")

    out += _production(t["production"].groupby(["stream", "recipe"], as_index=False).made_t.sum(),
                       "made_t", "Production", "made (t)")
    out += _stockpile(t["stock_by_element"], "Stockpile",
                      lambda g: (g.stock_t.iloc[0], g.stock_t.min(), g.stock_t.iloc[-1], int((g.floor_shortfall_t > 1e-6).sum())),
                      [f"end of {P[0]} (t)", "lowest (t)", f"end of {P[-1]} (t)", "periods below floor"])

    out.append("## Recycling\n")
    rc = t["recycling"].groupby("route", as_index=False).feed_t.sum()
    if len(rc):
        out.append(md_table(rc.rename(columns={"feed_t": "feed processed (t)"})) + "\n")
    else:
        out.append(NO_RECYCLING + "\n")

    out += _marginal(t["marginal_values"], "marginal_value_usd_per_t", "binding", MV_LEAD)
    out += _files(t, ", one per table")
    return "\n".join(out)


def stochastic_summary_markdown(run: Run) -> str:
    k = run.solution.kpis
    t = run.solution.tables
    case = run.data.case
    P = run.data.periods
    risk = case.risk
    out = _header(run, mode_title("stochastic"))
    if not k.get("proven_optimal", True):
        out.append("> " + not_optimal_notice(k, _bold) + "\n")
    out.append(f"{k['scenario_count']} disruption scenarios (mode `{case.scenarios.mode}`). First-stage decisions are "
               f"common to all scenarios; everything after the first {risk.non_anticipative_periods} period(s) adapts "
               f"to the scenario. Risk: CVaR at alpha = {risk.cvar_alpha:g} with weight lambda = {risk.risk_weight_lambda:g}"
               f"{' (risk neutral)' if risk.risk_weight_lambda == 0 else ''}.\n")

    head = [
        ("Objective (expected cost + lambda x CVaR)", f"{usd_millions(k['objective_usd'])} USD M"),
        ("Expected total cost", f"{usd_millions(k['expected_cost_usd'])} USD M"),
        (f"CVaR {k['cvar_alpha']:g} of total cost (mean of the worst {100 * (1 - k['cvar_alpha']):.0f} %)", f"{usd_millions(k['cvar_cost_usd'])} USD M"),
        ("Present value of the expected cost", f"{usd_millions(k['present_value_usd'])} USD M"
         if k.get("present_value_usd") is not None else "n/a"),
        ("First-stage cost (reservation fees, expansion)", f"{usd_millions(k['first_stage_cost_usd'])} USD M"),
        ("Spend decided now (fees, expansion, first-stage orders)", f"{usd_millions(k['spend_decided_now_usd'])} USD M"
         if k.get("spend_decided_now_usd") is not None else "n/a"),
    ]
    unit = evpi_vss_unit(run)
    if k.get("evpi_usd") is not None:
        head.append((f"{EVPI_LABEL} ({unit})", f"{usd_millions(k['evpi_usd'])} USD M"))
        head.append((f"{VSS_LABEL} ({unit})", f"{usd_millions(k['vss_usd'])} USD M" if k["vss_usd"] is not None
                     else f"n/a ({k['vss_note']})"))
        if unit != "USD":
            for key, label in (("evpi_expected_cost_usd", "EVPI in expected cost"),
                               ("vss_expected_cost_usd", "VSS in expected cost")):
                if k.get(key) is not None:
                    head.append((label, f"{usd_millions(k[key])} USD M"))
    elif k.get("evpi_note"):
        head.append((EVPI_LABEL, f"n/a ({k['evpi_note']})"))
    for s, v in k["streams"].items():
        head.append((f"Stream {s}",
                     f"expected fill rate {fill_rate_text(v['expected_fill_rate'])}; P(any shortage) {100 * v['probability_any_shortage']:.1f} %; "
                     f"expected shortage {v['expected_shortage_t']:,.1f} t; CVaR shortage {v['cvar_shortage_t']:,.1f} t; worst {v['worst_shortage_t']:,.1f} t"))
    sp = k.get("sampled_plan")  # only with --confidence (model.stochastic.confidence)
    head += sampled_plan_rows(sp, usd_millions) if sp else []
    out += _decide_now(run) + _plan_by_month(run)
    out += _headline(head)
    out += _plants_and_licences(run)
    if sp:
        out.append(f"**How far this sampled plan can be trusted.** {sp['sentence']}\n")

    out.append("## Scenarios\n")
    sc = t["scenarios"].copy()
    shown = sc.sort_values("total_cost_usd", ascending=False)
    view = pd.DataFrame({"scenario": shown.scenario, "probability": shown.probability, "cost (USD M)": shown.total_cost_usd / 1e6})
    if "perfect_foresight_cost_usd" in shown:
        view["with perfect foresight (USD M)"] = shown.perfect_foresight_cost_usd / 1e6
    if "eev_cost_usd" in shown:
        view["with the mean-scenario plan (USD M)"] = shown.eev_cost_usd / 1e6
    for c in [c for c in shown.columns if c.startswith("shortage_t_")]:
        view[f"short {c[len('shortage_t_'):]} (t)"] = shown[c]
    n = len(view)
    if n > 25:
        out.append(f"The 25 costliest of {n} scenarios (all in `scenarios.csv`):\n")
        view = view.head(25)
    out.append(md_table(view, ",.3f") + "\n")

    out.append("## Expected cost breakdown\n")
    c = pd.DataFrame(list(k["expected_cost_parts_usd"].items()), columns=["term", "cost_usd"])
    c["expected cost (USD M)"] = c.cost_usd / 1e6
    out.append(md_table(c[["term", "expected cost (USD M)"]]) + "\n")
    out += _by_year(run)
    out += _sourcing(k["expected_supply_share_by_origin_group"], k["expected_element_supply_t"], k["expected_recycled_share"], None,
                     "Expected share of element supply (purchased content plus recycled output) by origin group, over the horizon and scenarios:")
    out += _purchases(t, t["purchases"]["probability"], "Expected purchases over the horizon")

    out += _production(t["production"].assign(w=lambda d: d.made_t * d.probability)
                       .groupby(["stream", "recipe"], as_index=False).w.sum(), "w", "Expected production", "expected made (t)")

    def stock_row(g: pd.DataFrame) -> tuple:
        end = g[g.period == P[-1]]
        below = g.groupby("scenario").agg(p=("probability", "first"), short=("floor_shortfall_t", "max"))
        return (float((end.stock_t * end.probability).sum()), float(g.stock_t.min()),
                float(below.p[below.short > 1e-6].sum()) * 100)

    out += _stockpile(t["stock_by_element"], "Stockpile across scenarios", stock_row,
                      [f"expected end of {P[-1]} (t)", "lowest in any scenario (t)", "P(below floor at some point) (%)"])
    out += _marginal(t["marginal_values_expected"], "expected_marginal_value_usd_per_t", "probability_binding",
                     "Expected marginal value: the probability-weighted USD saved per extra tonne of the limit, in periods where it binds in some scenario.")
    out += _files(t, " with `scenario` and `probability` columns")
    return "\n".join(out)
