"""One self-contained HTML page for a run: ``render_html(run, manifest) -> str``. Writes nothing.

The page is read offline by a procurement planner and by finance: no external file, no network.
CSS is inline, every plot is a matplotlib PNG embedded as a base64 ``data:`` URI, and the only
script is a few lines that, on window load, count the images that decoded and write
``data-images-loaded="<ok>/<total>"`` on ``<body>`` (so a headless browser can confirm them).

Sections (each an element with a stable id, in this order: the decision first, then the plan, then
risk, then the rest):

    decide-now       what to sign and order now (:mod:`model.report.decision`): contract lines (supplier,
                     volume per month, from, to, fee), the first-stage orders by supplier and month,
                     recycling capacity to build; and for whom the decision holds
    plan             t ordered per supplier/offer and month (expected over scenarios), a table shaded
                     per row like a heat map, so a planner reads who supplies what and when in a minute
    headline         cost and service KPIs (money in USD M, masses in t, every number with its unit)
    shortage         shortage per stream as a distribution over scenarios (probability-weighted
                     exceedance curve); deterministic: shortage per period per stream
    stockpile        stock per element from the opening stock on, against its floor (the shaded zone
                     below it is penalised) and capacity; stochastic: expected line and min-max band
    scenarios        per-scenario cost and shortage (stochastic); a note for a single-scenario run
    costs            cost breakdown, bar chart and table (expected for a stochastic run)
    sourcing         t of element arriving per period by origin group (purchases plus recycled output),
                     stacked bars per period (buying is lumpy: bars, not areas); expected over scenarios
    recycling        recycled share per element and, per route, feed against its capacity
    marginal-values  binding limits aggregated per constraint and name: a dot per limit (mean) with its
                     range over the binding periods, one panel per unit (USD per kg of material, of
                     element, of magnet, of feed), and the table
    manifest         the run manifest passed in (inputs and hashes, versions, solver, timings, command)

Input warnings, when the case has any, come first, right after the title, in a box with id
``input-warnings`` headed "Warnings" (not a section: it is absent when there are none).

Plots use matplotlib's object API (``Figure`` with the Agg canvas), never pyplot, so rendering
touches no global backend state.
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from model.report.text import (EVPI_LABEL, MV_LEAD, MV_NOTE, NO_LIMIT_BINDS, NO_RECYCLING, UNITS, VSS_LABEL,
                               audit_notice, horizon_text, mode_title, not_optimal_notice, single_run_phrase,
                               solver_text)
from model.input.warnings import WARNINGS_LEAD, WARNINGS_TITLE
from model.components.catalogue import MARGINAL_KINDS
from model.report.decision import (contract_lines, decision_scope, expansions_now, orders_now, transfers_now,
                                   plan_by_supplier_month)
from model.report.finance_view import evpi_vss_unit, pv_note, years
from model.report.plants_view import licence_lead, licence_table, plant_lead, plant_table, several_plants, stock_series
from model.terms import PENALTY_TERMS
from model.units import KG_PER_T

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run

SECTIONS: tuple[tuple[str, str], ...] = (
    ("decide-now", "Decide now: what to sign and order"),
    ("plan", "The plan by supplier and month"),
    ("headline", "Cost and service"),
    ("plants", "Results per plant"),
    ("licences", "Licences by exporter and customer"),
    ("shortage", "Shortage risk"),
    ("stockpile", "Stockpile"),
    ("scenarios", "Scenarios"),
    ("costs", "Cost breakdown"),
    ("sourcing", "Where the elements come from"),
    ("recycling", "Recycling"),
    ("marginal-values", "What relaxing a limit is worth"),
    ("manifest", "Run manifest"),
)
SECTION_IDS: tuple[str, ...] = tuple(s for s, _ in SECTIONS)

FIGSIZE = (8.0, 3.5)  # inches
DPI = 100
SHORT_T = 1e-6  # t: below this a shortage counts as none
MAX_SCENARIO_ROWS = 100
TOP_MARGINAL_BARS = 15

GROUP_COLOURS = {"CN": "#d62728", "allied": "#1f77b4", "domestic": "#2ca02c", "recycled": "#ff7f0e"}
FALLBACK_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78")
STREAM_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1b1b;
 max-width:1360px;margin:0 auto;padding:0 18px 40px;line-height:1.45;background:#fff}
h1{font-size:1.55em;margin:.8em 0 .2em}h2{font-size:1.25em;border-bottom:2px solid #d0d7de;padding-bottom:.2em;
 margin-top:1.8em}h3{font-size:1.05em;margin:1.2em 0 .4em}
p.meta{color:#444;font-size:.92em}
nav{background:#f4f6f8;border:1px solid #d0d7de;border-radius:6px;padding:.5em .9em;font-size:.92em}
nav a{margin-right:1em;white-space:nowrap;color:#0b5cad;text-decoration:none}
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
table.heat{font-size:.74em}table.heat td,table.heat th{padding:2px 4px}
table.heat td.num{min-width:2.6em}
th,td{border:1px solid #d0d7de;padding:3px 6px;vertical-align:top}
td{white-space:nowrap}
td:first-child{white-space:normal;min-width:8em;max-width:19em}
table.kv td:first-child{max-width:none}
th{background:#f4f6f8;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;background:#fafbfc}
figure{margin:.6em 0 1.2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:.6em 0 1em}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.5em .8em;min-width:150px;background:#fafbfc}
.card .v{font-size:1.3em;font-weight:600}.card .l{font-size:.8em;color:#555}
.note{font-size:.9em;color:#444}
.warnings{border:2px solid #bf8700;background:#fff8c5;border-radius:6px;padding:.4em 1em;margin:.6em 0 1em}
.warnings h2{border:0;margin:.2em 0;font-size:1.1em;color:#7d4e00}.warnings li{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
pre{background:#f4f6f8;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
@media print{nav{display:none}section{break-inside:avoid-page}}
"""

LOAD_SCRIPT = """window.addEventListener("load",function(){var im=document.images,ok=0;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){ok++;}}
document.body.setAttribute("data-images-loaded",ok+"/"+im.length);});"""


# --------------------------------------------------------------------------- formatting helpers

def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(x, fmt: str = ",.2f") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return format(int(round(float(x))), fmt) if fmt.endswith("d") else format(float(x), fmt)


def usd_m(x) -> str:
    return "n/a" if x is None else f"{float(x) / 1e6:,.2f} USD M"


def tonnes(x) -> str:
    return "n/a" if x is None else f"{float(x):,.2f} t"


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f} %"


def _table(df: pd.DataFrame, fmt: dict[str, str | Callable] | None = None, total: bool = False) -> str:
    """An HTML table; ``fmt`` maps a column to a format spec or a callable. Numbers are right-aligned."""
    fmt = fmt or {}
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    n = len(df)
    for i, row in enumerate(df.itertuples(index=False)):
        cells = []
        for c, v in zip(df.columns, row):
            f = fmt.get(c)
            if callable(f):
                cells.append(f"<td class=\"num\">{_e(f(v))}</td>")
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                cells.append(f"<td class=\"num\">{_e(_num(v, f or ',.2f'))}</td>")
            else:
                cells.append(f"<td>{_e('' if v is None or (isinstance(v, float) and np.isnan(v)) else v)}</td>")
        cls = " class=\"total\"" if total and i == n - 1 else ""
        rows.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return f"<div class=\"tw\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _kv_table(pairs: Iterable[tuple[str, str]], headers=("measure", "value")) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td class=\"num\">{_e(v)}</td></tr>" for k, v in pairs)
    return f"<table class=\"kv\"><thead><tr><th>{_e(headers[0])}</th><th>{_e(headers[1])}</th></tr></thead><tbody>{rows}</tbody></table>"


def _p(text: str, cls: str | None = None) -> str:
    c = f" class=\"{cls}\"" if cls else ""
    return f"<p{c}>{_e(text)}</p>"


def _figure(fig: Figure, alt: str, caption: str | None = None) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{_e(alt)}\">{cap}</figure>"


def _new_fig(size=FIGSIZE) -> tuple[Figure, object]:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot(1, 1, 1)


def _period_axis(ax, periods: list[str], months_per_period: int) -> None:
    n = len(periods)
    step = max(1, int(np.ceil(n / 12)))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([periods[i] for i in ticks], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.5, n - 0.5)
    unit = "month" if months_per_period == 1 else f"{months_per_period} months"
    ax.set_xlabel(f"period (start month; 1 period = {unit})")
    ax.grid(True, axis="y", alpha=0.3)


def _colours(names: list[str], known: dict[str, str] | None = None, palette=FALLBACK_COLOURS) -> dict[str, str]:
    known = known or {}
    out, k = {}, 0
    for n in names:
        base = n.split(" (")[0]
        if base in known and n == base:
            out[n] = known[base]
        else:
            out[n] = palette[k % len(palette)]
            k += 1
    return out


def _expected(df: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """Probability-weighted sum of ``value`` over scenarios (a plain sum when there is no ``probability``)."""
    if not len(df):
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, value: pd.Series(dtype=float)})
    w = df[value] * df["probability"] if "probability" in df.columns else df[value]
    return df.assign(_w=w).groupby(keys, as_index=False, sort=False)["_w"].sum().rename(columns={"_w": value})


# --------------------------------------------------------------------------- context

class _Ctx:
    def __init__(self, run: "Run"):
        self.run = run
        self.stoch = run.mode == "stochastic"
        self.k = run.solution.kpis
        self.t = run.solution.tables
        self.case = run.data.case
        self.periods = list(run.data.periods)
        self.mpp = self.case.horizon.months_per_period
        self.streams = [s.id for s in self.case.streams]

    def table(self, name: str) -> pd.DataFrame:
        return self.t.get(name, pd.DataFrame())

    def first_scenario(self, name: str) -> pd.DataFrame:
        df = self.table(name)
        if self.stoch and "scenario" in df.columns and len(df):
            return df[df.scenario == df.scenario.iloc[0]]
        return df

    @property
    def exp_word(self) -> str:
        return "expected " if self.stoch else ""

    def cap(self, text: str) -> str:
        """``text`` prefixed with "Expected " for a stochastic run, capitalised either way."""
        text = self.exp_word + text
        return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- sections

def _decide_now(c: _Ctx) -> str:
    out = [_p(decision_scope(c.run))]
    con = contract_lines(c.run)
    out.append("<h3>Contracts to sign</h3>")
    if len(con):
        tab = pd.DataFrame({"supplier": con.supplier, "offer": con.offer, "material": con.material,
                            "country": con.country, "volume (t/month)": con.volume_t_per_month,
                            "from": con.from_month, "to": con.to_month, "months": con.months,
                            "reservation fee (USD M)": con.fee_usd / 1e6})
        if "deliver_to" in con:
            tab.insert(4, "deliver to", con.deliver_to)
        if float(con.take_or_pay_exposure_usd.sum()) > 0:
            tab["take-or-pay exposure (USD M)"] = con.take_or_pay_exposure_usd / 1e6
        out.append(_table(tab, {"volume (t/month)": ",.3f", "months": "d", "reservation fee (USD M)": ",.3f",
                                "take-or-pay exposure (USD M)": ",.3f"}))
        if not len(c.table("contracts")):
            out.append(_p("Each line is a run of months with the same reserved volume. The case gives no contract "
                          "terms, so the volume may change from month to month; with terms (a volume held over a "
                          "term, a band, take-or-pay) each line is a contract as signed.", "note"))
    else:
        out.append(_p("No contract reservation."))
    orders = orders_now(c.run)
    W = c.case.risk.non_anticipative_periods
    out.append(f"<h3>Orders to place now ({_e(', '.join(c.periods[:W]))})</h3>")
    if len(orders):
        tab = pd.DataFrame({"supplier": orders.supplier, "offer": orders.offer, "material": orders.material,
                            "country": orders.country, "order month": orders.order_month,
                            "arrives": orders.arrival_month, "quantity (t)": orders.ordered_t,
                            "price (USD/kg)": orders.price_usd_per_kg, "cost (USD M)": orders.cost_usd / 1e6})
        if "deliver_to" in orders:
            tab.insert(4, "deliver to", orders.deliver_to)
        tab.loc[len(tab)] = {c: "" for c in tab.columns} | {"supplier": "total", "quantity (t)": float("nan"),
                                                          "price (USD/kg)": float("nan"),
                                                          "cost (USD M)": float(orders.cost_usd.sum()) / 1e6}
        blank = lambda spec: (lambda v: "" if v != v else format(v, spec))  # noqa: E731 - the total row's blanks
        out.append(_table(tab, {"quantity (t)": blank(",.3f"), "cost (USD M)": ",.3f", "price (USD/kg)": blank(",.2f")},
                          total=True))
    else:
        out.append(_p("No order in the first stage."))
    moves = transfers_now(c.run)
    if len(moves):
        out.append("<h3>Moves between plants now</h3>")
        out.append(_table(pd.DataFrame({"lane": moves.lane, "from": moves.from_plant, "to": moves.to_plant,
                                        "what": moves.item + " (" + moves.origin_group + ")", "sent": moves.sent_period,
                                        "arrives": moves.arrival_period, "quantity (t)": moves.moved_t,
                                        "cost (USD M)": moves.cost_usd / 1e6}),
                          {"quantity (t)": ",.3f", "cost (USD M)": ",.3f"}))
    ex = expansions_now(c.run)
    if len(ex):
        out.append("<h3>Recycling capacity to build</h3>")
        out.append(_table(pd.DataFrame({"route": ex.route, "added (t feed/period)": ex.added_t_feed_per_period,
                                        "usable from": ex.usable_from, "cost (USD M)": ex.cost_usd / 1e6}),
                          {"cost (USD M)": ",.3f"}))
    if c.stoch:
        out.append(_p("Everything later adapts to the scenario as it unfolds: the next section shows the expected "
                      "orders by supplier and month.", "note"))
    return "".join(out)


def _heat_cell(v: float, row_max: float) -> str:
    if v <= 1e-9:
        return "<td class=\"num\" style=\"color:#999\">&middot;</td>"
    a = 0.12 + 0.68 * (v / row_max if row_max > 0 else 0.0)
    txt = f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" if v >= 1 else f"{v:.2f}"
    colour = "#fff" if a > 0.55 else "#111"
    return f"<td class=\"num\" style=\"background:rgba(31,119,180,{a:.2f});color:{colour}\">{txt}</td>"


def _plan(c: _Ctx) -> str:
    pv = plan_by_supplier_month(c.run)
    if not len(pv):
        return _p("Nothing is ordered over the horizon.")
    out = [_p(c.cap("t ordered per supplier and offer in each order month") + (" (probability-weighted over "
              "scenarios)" if c.stoch else "") + ". Shading is per row: the darkest cell is that offer's largest "
              "month. Arrival is the order month plus the offer's lead time. Every row: purchases.csv.")]
    years: dict[str, int] = {}
    for p in c.periods:
        years[p[:4]] = years.get(p[:4], 0) + 1
    head1 = ("<tr><th rowspan=\"2\">supplier</th><th rowspan=\"2\">offer (material)</th>"
             + "".join(f"<th colspan=\"{n}\">{_e(y)}</th>" for y, n in years.items())
             + "<th rowspan=\"2\">total (t)</th></tr>")
    head2 = "<tr>" + "".join(f"<th>{_e(p[5:])}</th>" for p in c.periods) + "</tr>"
    rows = []
    for r in pv.itertuples(index=False):
        vals = [float(x) for x in r[3:3 + len(c.periods)]]
        mx = max(vals) if vals else 0.0
        rows.append(f"<tr><td>{_e(r[0])}</td><td>{_e(r[1])} ({_e(r[2])})</td>"
                    + "".join(_heat_cell(v, mx) for v in vals) + f"<td class=\"num\"><b>{r[-1]:,.1f}</b></td></tr>")
    out.append("<div class=\"tw\"><table class=\"heat\"><thead>" + head1 + head2 + "</thead><tbody>"
               + "".join(rows) + "</tbody></table></div>")
    return "".join(out)


def _headline(c: _Ctx) -> str:
    k = c.k
    out = []
    if c.stoch:
        a = k["cvar_alpha"]
        unit = evpi_vss_unit(c.run)
        cards = [("Expected total cost", usd_m(k["expected_cost_usd"])),
                 (f"CVaR {a:g} of cost", usd_m(k["cvar_cost_usd"])),
                 ("Present value of expected cost", usd_m(k.get("present_value_usd"))),
                 ("Spend decided now", usd_m(k.get("spend_decided_now_usd"))),
                 ("EVPI" + ("" if unit == "USD" else " (objective units)"), usd_m(k.get("evpi_usd"))),
                 ("VSS" + ("" if unit == "USD" else " (objective units)"), usd_m(k.get("vss_usd")))]
        pairs = [
            ("Objective (expected cost + lambda x CVaR of cost)", usd_m(k["objective_usd"])),
            ("Expected total cost", usd_m(k["expected_cost_usd"])),
            (f"CVaR {a:g} of total cost (mean of the worst {100 * (1 - a):.0f} % of outcomes)", usd_m(k["cvar_cost_usd"])),
            ("Present value of the expected cost", usd_m(k.get("present_value_usd"))),
            ("First-stage cost (reservation fees, capacity expansion)", usd_m(k["first_stage_cost_usd"])),
            ("Spend decided now (fees, expansion and every order of the first stage)",
             usd_m(k.get("spend_decided_now_usd"))),
            (f"{EVPI_LABEL} ({unit})", usd_m(k.get("evpi_usd")) if k.get("evpi_usd") is not None
             else f"n/a ({k.get('evpi_note') or 'not computed'})"),
            (f"{VSS_LABEL} ({unit})",
             usd_m(k["vss_usd"]) if k.get("vss_usd") is not None else f"n/a ({k.get('vss_note') or 'not computed'})"),
        ] + ([] if unit == "USD" else [
            ("EVPI in expected cost (USD)", usd_m(k.get("evpi_expected_cost_usd"))),
            ("VSS in expected cost (USD; negative: the plan pays expected cost for a lower CVaR)",
             usd_m(k.get("vss_expected_cost_usd"))),
        ]) + [
            ("Scenarios", f"{k['scenario_count']} scenarios"),
            ("Risk weight lambda on CVaR", f"{k['risk_weight_lambda']:g} (dimensionless)"),
        ]
        rows = [(s, v["expected_demand_t"], v["expected_shortage_t"], 100 * v["expected_fill_rate"],
                 100 * v["probability_any_shortage"], v["cvar_shortage_t"], v["worst_shortage_t"])
                for s, v in k["streams"].items()]
        streams = pd.DataFrame(rows, columns=["stream", "expected demand (t)", "expected shortage (t)",
                                              "expected fill rate (%)", "P(any shortage) (%)",
                                              f"CVaR {a:g} shortage (t)", "worst shortage (t)"])
        fmt = {"expected fill rate (%)": ",.2f", "P(any shortage) (%)": ",.1f"}
        lead = (f"{k['scenario_count']} disruption scenarios; the plan is optimal for expected cost"
                f"{'' if k['risk_weight_lambda'] == 0 else ' plus lambda x CVaR of cost'}. "
                "Fill rate = 1 - shortage / demand over the horizon.")
    else:
        cpk = k.get("supply_cost_usd_per_kg_magnet")
        tpk = k.get("total_cost_usd_per_kg_magnet")
        cards = [("Total cost", usd_m(k["objective_usd"])),
                 ("of which penalties", usd_m(k["penalties_usd"])),
                 ("Supply cost per kg magnet", "n/a" if cpk is None else f"{cpk:,.2f} USD/kg"),
                 ("Magnets delivered", tonnes(k["magnets_delivered_t"]))]
        pairs = [
            ("Total cost (objective)", usd_m(k["objective_usd"])),
            ("of which penalties (shortage, stockpile floor, terminal stock)", usd_m(k["penalties_usd"])),
            ("Present value of the total cost", usd_m(k.get("present_value_usd"))),
            ("First-stage cost (reservation fees, capacity expansion)", usd_m(k["first_stage_cost_usd"])),
            ("Spend decided now (fees, expansion and every order of the first stage)",
             usd_m(k.get("spend_decided_now_usd"))),
            ("Magnets delivered", tonnes(k["magnets_delivered_t"])),
            ("Supply cost per kg of magnet delivered (excl. penalties)", "n/a" if cpk is None else f"{cpk:,.2f} USD/kg"),
            ("Total cost per kg of magnet delivered", "n/a" if tpk is None else f"{tpk:,.2f} USD/kg"),
        ]
        rows = [(s, v["demand_t"], v["shortage_t"], 100 * v["fill_rate"], v["periods_short"])
                for s, v in k["streams"].items()]
        streams = pd.DataFrame(rows, columns=["stream", "demand (t)", "shortage (t)", "fill rate (%)",
                                              "periods short (count)"])
        fmt = {"fill rate (%)": ",.2f", "periods short (count)": "d"}
        lead = "Fill rate = 1 - shortage / demand over the horizon."
    out.append("<div class=\"cards\">" + "".join(
        f"<div class=\"card\"><div class=\"v\">{_e(v)}</div><div class=\"l\">{_e(lbl)}</div></div>" for lbl, v in cards)
        + "</div>")
    sp = k.get("sampled_plan")  # only with --confidence (model.stochastic.confidence)
    if sp:
        from model.report.markdown import sampled_plan_rows

        pairs += sampled_plan_rows(sp, lambda x: f"{x / 1e6:,.2f}")
    out.append(_kv_table(pairs))
    if sp:
        out.append(_p("How far this sampled plan can be trusted. " + sp["sentence"], "note"))
    out.append("<h3>Demand streams</h3>")
    out.append(_p(lead, "note"))
    out.append(_table(streams, fmt))
    return "".join(out)


def _sourcing(c: _Ctx) -> str:
    out = [_p(c.cap("tonnes of each element arriving per period, by origin group: the element "
              "content of purchased oxide, metal and alloy (by arrival period) plus recycled output. "
              + ("Expectation over scenarios, weighted by probability. " if c.stoch else "")
              + "Finished magnets bought are not element supply; they are listed below the table."))]
    arr = _expected(c.table("arrivals"), "arrived_t", ["element", "origin_group", "period"])
    rec = _expected(c.table("recovered"), "recovered_t", ["element", "origin_group", "period"])
    group_order = [g.id for g in c.case.origin_groups]
    arr_groups = set(arr.origin_group) if len(arr) else set()
    if len(rec):
        rec = rec.assign(origin_group=[g if g not in arr_groups else f"{g} (recycled)" for g in rec.origin_group])
    both = pd.concat([x for x in (arr.rename(columns={"arrived_t": "t"}), rec.rename(columns={"recovered_t": "t"})) if len(x)],
                     ignore_index=True) if len(arr) or len(rec) else pd.DataFrame(columns=["element", "origin_group", "period", "t"])
    both["t"] = both["t"].astype(float)
    if not len(both) or float(both.t.abs().sum()) <= SHORT_T:
        return "".join(out) + _p("No element arrives over the horizon.")
    present = list(dict.fromkeys(both.origin_group))
    order = [g for g in group_order if g in present] + [g for g in present if g not in group_order]
    colours = _colours(order, GROUP_COLOURS)
    totals = []
    for e in [e for e in c.case.elements if e in set(both.element)]:
        g = both[both.element == e]
        pv = g.pivot_table(index="period", columns="origin_group", values="t", aggfunc="sum").reindex(c.periods).fillna(0.0)
        cols = [x for x in order if x in pv.columns and pv[x].abs().sum() > SHORT_T]
        fig, ax = _new_fig()
        x = np.arange(len(c.periods))
        bottom = np.zeros(len(c.periods))
        for col in cols:  # bars: buying is lumpy, and an area would draw ramps between months that do not exist
            v = pv[col].clip(lower=0).to_numpy()
            ax.bar(x, v, bottom=bottom, width=0.85, color=colours[col], label=col, alpha=0.9)
            bottom += v
        ax.set_title(f"{e}: {c.exp_word}t of {e} arriving per period, by origin group")
        ax.set_ylabel(f"t of {e} per period")
        _period_axis(ax, c.periods, c.mpp)
        if cols:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="origin group", title_fontsize=8)
        else:  # an element nothing is bought or recycled for: say so instead of an empty legend
            ax.text(0.5, 0.5, f"no {e} arrives in any period", ha="center", va="center", transform=ax.transAxes)
        out.append(_figure(fig, f"Stacked bars: {e} arriving per period by origin group",
                           f"{e}: purchases by arrival period plus recycled output, t of {e} per period."))
        tot = pv[cols].sum() if cols else pd.Series(dtype=float)
        row = {"element": e, "total supply (t)": float(tot.sum())}
        for col in order:
            v = float(tot.get(col, 0.0))
            row[f"{col} (t)"] = v
            row[f"{col} (%)"] = 100 * v / float(tot.sum()) if tot.sum() > 0 else 0.0
        totals.append(row)
    out.append(f"<h3>{_e(c.cap('supply over the horizon by origin group'))}</h3>")
    tab = pd.DataFrame(totals).fillna(0.0)
    out.append(_table(tab, {col: ",.1f" for col in tab.columns if col.endswith("(%)")}))
    mp = c.table("magnet_purchases")
    if len(mp):
        by = _expected(mp, "used_t", ["origin_group"])
        by = by[by.used_t > SHORT_T]
        if len(by):
            out.append(_p(f"Finished magnets bought ({c.exp_word}t over the horizon), by origin group: "
                          + "; ".join(f"{g} {v:,.2f} t" for g, v in zip(by.origin_group, by.used_t)) + "."))
    return "".join(out)


def _plants(c: _Ctx) -> str:
    if not several_plants(c.case):
        p = c.case.site_plants[0]
        return _p(f"One plant ({p.id}{', ' + p.country if p.country else ''}): every result in this report is its own.")
    pl = plant_table(c.run)
    return _p(plant_lead(c.run)) + _table(pl, {k: ",.1f" for k in pl.columns if k.endswith(")")})


def _licences(c: _Ctx) -> str:
    lic = licence_table(c.run)
    if not len(lic):
        return _p("No licence rules: every origin is free for every end use.")
    return _p(licence_lead(c.run)) + _table(lic)


def _stockpile(c: _Ctx) -> str:
    sbe = c.table("stock_by_element")
    held = {(c.case.plant_of(x), x.element) for x in c.case.stockpile}
    sbe = sbe[[k in held for k in zip(sbe.plant, sbe.element)]] if len(sbe) else sbe
    if not len(sbe):
        return _p("No stockpile in this case.")
    out = [_p("Stock at the end of each period, t of element, against the stockpile floor (below it a penalty applies) "
              "and the capacity. " + ("Line: expectation over scenarios; band: lowest to highest across scenarios."
                                      if c.stoch else ""))]
    rows = []
    present = set(zip(sbe.plant, sbe.element))
    for plant, e, name, opening in [x for x in stock_series(c.case) if x[:2] in present]:
        g = sbe[(sbe.element == e) & (sbe.plant == plant)]
        exp = _expected(g, "stock_t", ["period"]).set_index("period").stock_t.reindex(c.periods)
        lo = g.groupby("period").stock_t.min().reindex(c.periods)
        hi = g.groupby("period").stock_t.max().reindex(c.periods)
        floor = g.groupby("period").floor_t.first().reindex(c.periods)
        cap = g.groupby("period").capacity_t.first().reindex(c.periods)
        x = np.arange(len(c.periods) + 1)  # x = 0: the opening stock, x = k: end of period k
        fig, ax = _new_fig()
        fl = np.concatenate([[floor.iloc[0]], floor.to_numpy()])
        ax.fill_between(x, 0, fl, step="mid", color="#d62728", alpha=0.10, lw=0, label="below the floor (penalised)")
        ax.step(x, fl, where="mid", color="#d62728", lw=1.2, label=f"floor ({floor.iloc[0]:,.2f} t)")
        ax.plot(x, np.full(len(x), cap.iloc[0]), color="#555555", ls=":", lw=1.3, label=f"capacity ({cap.iloc[0]:,.1f} t)")
        series = np.concatenate([[opening], exp.to_numpy()])
        if c.stoch:
            ax.fill_between(x, np.concatenate([[opening], lo.to_numpy()]), np.concatenate([[opening], hi.to_numpy()]),
                            color="#1f77b4", alpha=0.2, label="min-max across scenarios")
            ax.plot(x, series, color="#1f77b4", lw=2, marker="o", ms=2.5, label="expected stock", zorder=3)
        else:
            ax.plot(x, series, color="#1f77b4", lw=2, marker="o", ms=3, label="stock", zorder=3)
        ax.plot([0], [opening], marker="s", ms=6, color="#0b3d6b", ls="", label=f"opening stock ({opening:,.2f} t)", zorder=4)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{name}: stockpile at end of period" + (" (expected and range over scenarios)" if c.stoch else ""))
        ax.set_ylabel(f"t of {e}")
        _period_axis(ax, ["start"] + c.periods, c.mpp)
        ax.set_xlabel("end of period (start: opening stock)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        out.append(_figure(fig, f"Stockpile of {name} over time from the opening stock, against floor and capacity"))
        row = {"element": name, "capacity (t)": float(cap.iloc[0]), "floor (t)": float(floor.iloc[0]),
               f"{c.exp_word}end of {c.periods[0]} (t)": float(exp.iloc[0]),
               "lowest (t)" if not c.stoch else "lowest in any scenario (t)": float(g.stock_t.min()),
               f"{c.exp_word}end of {c.periods[-1]} (t)": float(exp.iloc[-1])}
        if c.stoch:
            below = g.groupby("scenario").agg(p=("probability", "first"), s=("floor_shortfall_t", "max"),
                                              n=("floor_shortfall_t", lambda v: int((v > SHORT_T).sum())))
            row["P(below floor at some point) (%)"] = 100 * float(below.p[below.s > SHORT_T].sum())
            row["expected periods below floor (count)"] = float((below.p * below.n).sum())
            row["deepest shortfall below floor (t)"] = float(below.s.max())
        else:
            row["periods below floor (count)"] = int((g.floor_shortfall_t > SHORT_T).sum())
            row["deepest shortfall below floor (t)"] = float(g.floor_shortfall_t.max())
        rows.append(row)
    out.append(_table(pd.DataFrame(rows), {"P(below floor at some point) (%)": ",.1f", "periods below floor (count)": "d",
                                           "expected periods below floor (count)": ",.1f"}))
    return "".join(out)


def _recycling(c: _Ctx) -> str:
    routes = list(c.case.recycling_routes)
    share = c.k.get("expected_recycled_share" if c.stoch else "recycled_share") or {}
    rc = c.table("recycling")
    if not routes and not rc.shape[0]:
        return _p(NO_RECYCLING)
    out = []
    if share:
        els = [e for e in c.case.elements if e in share]
        fig, ax = _new_fig((8.0, 0.6 + 0.45 * max(2, len(els))))
        vals = [100 * share[e] for e in els]
        bars = ax.barh(els, vals, color="#ff7f0e")
        ax.bar_label(bars, labels=[f"{v:.1f} %" for v in vals], padding=3, fontsize=8)
        ax.set_xlim(0, max(100.0, max(vals) * 1.15) if vals else 100.0)
        ax.invert_yaxis()
        ax.set_xlabel("recycled share of element supply (%)")
        ax.set_ylabel("element")
        ax.set_title(c.cap("recycled share of supply per element (all routes, over the horizon)"))
        ax.grid(True, axis="x", alpha=0.3)
        out.append(_figure(fig, "Recycled share of supply per element",
                           "Recycled output as a share of each element's supply (purchased content plus recycled output)."))
    feed = _expected(rc, "feed_t", ["route", "period"]) if len(rc) else pd.DataFrame(columns=["route", "period", "feed_t"])
    names = [r.id for r in routes] or list(dict.fromkeys(feed.route))
    ex = c.first_scenario("expansions")
    if len(feed):
        pv = feed.pivot_table(index="period", columns="route", values="feed_t", aggfunc="sum").reindex(c.periods).fillna(0.0)
        shown = [r for r in names if r in pv.columns]
        fig = Figure(figsize=(FIGSIZE[0], 0.6 + 1.9 * len(shown)), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
        x = np.arange(len(c.periods))
        for i, (ax, r) in enumerate(zip(axes, shown)):
            col = STREAM_COLOURS[i % len(STREAM_COLOURS)]
            capacity = _route_capacity(c, r, ex)
            if capacity is not None:  # an area behind the line: a route at capacity shows its line on the edge
                ax.fill_between(x, 0, capacity, step="mid", color="#bbbbbb", alpha=0.45, lw=0,
                                label="capacity (incl. expansion)")
            ax.plot(x, pv[r].to_numpy(), lw=2, marker="o", ms=3, color=col, label=f"{c.exp_word}feed", zorder=3)
            ax.set_ylim(bottom=0)
            ax.set_title(f"{r}", fontsize=9, loc="left")
            ax.set_ylabel("t feed/period", fontsize=8)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
            ax.grid(True, axis="y", alpha=0.3)
        _period_axis(axes[-1], c.periods, c.mpp)
        fig.suptitle(c.cap("feed processed per recycling route, against its capacity"), fontsize=10)
        out.append(_figure(fig, "Feed processed per recycling route over time, one panel per route, with its capacity"))
    rows = []
    for r in routes:
        tot = float(feed[feed.route == r.id].feed_t.sum()) if len(feed) else 0.0
        nominal = r.capacity_t_feed_per_period
        if nominal is None:
            series = c.run.data.capacity_t_per_period.get(r.id)
            nominal = max(series) if series else None
        e = ex[ex.route == r.id] if len(ex) else ex
        added = float(e.added_t_feed_per_period.iloc[0]) if len(e) else 0.0
        rows.append({"route": r.id, "feed material": r.feed, f"{c.exp_word}feed over horizon (t)": tot,
                     "nominal capacity (t feed/period)": nominal if nominal is not None else "unlimited",
                     "expansion (t feed/period)": added,
                     "expansion usable from": (e.usable_from.iloc[0] if len(e) and added > SHORT_T else ""),
                     "expansion cost (USD M)": (float(e.cost_usd.iloc[0]) / 1e6 if len(e) else 0.0)})
    if rows:
        out.append(_table(pd.DataFrame(rows)))
        out.append(_p("Capacity expansion is a first-stage decision (the same in every scenario).", "note") if c.stoch else "")
    return "".join(out)


def _route_capacity(c: _Ctx, route: str, ex: pd.DataFrame) -> np.ndarray | None:
    """t feed per period the route can process: nominal (scalar or CSV column) plus the expansion from
    the period it is usable (first scenario; expansion is first stage). None: no stated capacity."""
    rt = next((r for r in c.case.recycling_routes if r.id == route), None)
    if rt is None:
        return None
    series = c.run.data.capacity_t_per_period.get(route)
    if series is not None:
        cap = np.array(series, dtype=float)
    elif rt.capacity_t_feed_per_period is not None:
        cap = np.full(len(c.periods), float(rt.capacity_t_feed_per_period))
    else:
        return None
    e = ex[ex.route == route] if len(ex) else ex
    if len(e) and float(e.added_t_feed_per_period.iloc[0]) > SHORT_T and e.usable_from.iloc[0] in c.periods:
        cap[c.periods.index(e.usable_from.iloc[0]):] += float(e.added_t_feed_per_period.iloc[0])
    return cap


def _exceedance(values: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, P(X > x)) of the probability-weighted exceedance step function, from x = 0."""
    order = np.argsort(values)
    v, p = values[order], probs[order]
    xs = np.unique(np.concatenate([[0.0], v]))
    ys = np.array([float(p[v > x].sum()) for x in xs])
    return xs, ys


def _quantile(values: np.ndarray, probs: np.ndarray, level: float) -> float:
    """Smallest value whose cumulative probability reaches ``level``."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(probs[order])
    i = min(int(np.searchsorted(cum, level * cum[-1] - 1e-12)), len(values) - 1)
    return float(values[order][i])


def _shortage(c: _Ctx) -> str:
    out = []
    if c.stoch:
        sc = c.table("scenarios")
        probs = sc.probability.to_numpy(dtype=float)
        short_cols = {s: f"shortage_t_{s}" for s in c.streams if f"shortage_t_{s}" in sc.columns}
        hit = [s for s, col in short_cols.items() if float(sc[col].max()) > SHORT_T]
        out.append(_p("Total shortage over the horizon per stream, t of magnet, as a distribution over scenarios. "
                      "The curve gives the probability that a stream's shortage exceeds x t; dashed: expected "
                      "shortage, dotted: CVaR (mean of the worst 1 - alpha)."))
        if hit:
            fig, ax = _new_fig()
            for i, s in enumerate(hit):
                col = STREAM_COLOURS[i % len(STREAM_COLOURS)]
                xs, ys = _exceedance(sc[short_cols[s]].to_numpy(dtype=float), probs)
                xmax = float(xs.max())
                ax.step(np.append(xs, xmax * 1.05), 100 * np.append(ys, 0.0), where="post", lw=2, color=col,
                        label=f"{s}: P(any shortage) {100 * float(ys[0]):.1f} %")
                kv = c.k["streams"][s]
                ax.axvline(kv["expected_shortage_t"], color=col, ls="--", lw=1)
                ax.axvline(kv["cvar_shortage_t"], color=col, ls=":", lw=1)
            ax.set_xlim(left=0)
            top = max(100 * c.k["streams"][s]["probability_any_shortage"] for s in hit)
            ax.set_ylim(0, min(100.0, top * 1.25) if top > 0 else 100.0)
            ax.set_xlabel("total shortage over the horizon, x (t of magnet)")
            ax.set_ylabel("P(shortage > x) (%)")
            ax.set_title("Shortage exceedance per stream (probability-weighted over scenarios)")
            ax.grid(True, alpha=0.3)
            handles, _ = ax.get_legend_handles_labels()
            handles += [Line2D([], [], color="#555", ls="--", lw=1, label="expected shortage"),
                        Line2D([], [], color="#555", ls=":", lw=1, label=f"CVaR {c.k['cvar_alpha']:g} shortage")]
            ax.legend(handles=handles, loc="upper right", fontsize=8, title="stream", title_fontsize=8)
            out.append(_figure(fig, "Probability-weighted exceedance curve of shortage per stream"))
            # when: expected and worst shortage per period
            sh = c.table("shortages")
            sh = sh[sh.stream.isin(hit)]
            e_by = _expected(sh, "shortage_t", ["stream", "period"])
            mx = sh.groupby(["stream", "period"], as_index=False).shortage_t.max()
            fig, ax = _new_fig()
            x = np.arange(len(c.periods))
            width = 0.8 / max(1, len(hit))
            for i, s in enumerate(hit):
                col = STREAM_COLOURS[i % len(STREAM_COLOURS)]
                ev = e_by[e_by.stream == s].set_index("period").shortage_t.reindex(c.periods).fillna(0.0)
                wv = mx[mx.stream == s].set_index("period").shortage_t.reindex(c.periods).fillna(0.0)
                off = (i - (len(hit) - 1) / 2) * width
                ax.bar(x + off, wv.to_numpy(), width=width, color=col, alpha=0.3, label=f"{s}: worst scenario")
                ax.bar(x + off, ev.to_numpy(), width=width, color=col, label=f"{s}: expected")
            ax.set_title("When shortages happen: expected and worst-scenario shortage per period")
            ax.set_ylabel("t of magnet short per period")
            _period_axis(ax, c.periods, c.mpp)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
            out.append(_figure(fig, "Expected and worst-scenario shortage per period per stream"))
        else:
            out.append(_p("No stream is short in any scenario."))
        none = [s for s in c.streams if s not in hit]
        if hit and none:
            out.append(_p("Never short in any scenario: " + ", ".join(none) + "."))
        rows = []
        for s in c.streams:
            kv = c.k["streams"][s]
            col = short_cols.get(s)
            if col is None:
                continue
            v = sc[col].to_numpy(dtype=float)
            rows.append({"stream": s, "P(any shortage) (%)": 100 * kv["probability_any_shortage"],
                         "expected (t)": kv["expected_shortage_t"], "median (t)": _quantile(v, probs, 0.5), "90th percentile (t)": _quantile(v, probs, 0.9),
                         f"CVaR {c.k['cvar_alpha']:g} (t)": kv["cvar_shortage_t"], "worst (t)": kv["worst_shortage_t"]})
        out.append("<h3>Shortage distribution per stream (t of magnet over the horizon)</h3>")
        out.append(_table(pd.DataFrame(rows), {"P(any shortage) (%)": ",.1f"}))
        if hit:
            bad = sc[(sc[[short_cols[s] for s in hit]] > SHORT_T).any(axis=1)]
            bad = bad.sort_values([short_cols[s] for s in hit], ascending=False)
            view = pd.DataFrame({"scenario": bad.scenario, "probability (%)": 100 * bad.probability})
            for s in hit:
                view[f"short {s} (t)"] = bad[short_cols[s]]
            out.append("<h3>Scenarios with a shortage</h3>")
            out.append(_table(view, {"probability (%)": ",.2f"}))
        return "".join(out)
    sh = c.table("shortages")
    out.append(_p("Shortage per period and stream, t of magnet (demand not met by magnets made or bought)."))
    if len(sh) and float(sh.shortage_t.max()) > SHORT_T:
        hit = [s for s in c.streams if float(sh[sh.stream == s].shortage_t.max()) > SHORT_T]
        fig, ax = _new_fig()
        x = np.arange(len(c.periods))
        bottom = np.zeros(len(c.periods))
        for i, s in enumerate(hit):
            v = sh[sh.stream == s].groupby("period").shortage_t.sum().reindex(c.periods).fillna(0.0).to_numpy()
            ax.bar(x, v, bottom=bottom, color=STREAM_COLOURS[i % len(STREAM_COLOURS)], label=s)
            bottom += v
        ax.set_title("Shortage per period by stream")
        ax.set_ylabel("t of magnet short per period")
        _period_axis(ax, c.periods, c.mpp)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="stream", title_fontsize=8)
        out.append(_figure(fig, "Shortage per period by stream"))
    else:
        out.append(_p("No shortage in any period: every stream's demand is met in full."))
    if len(sh):
        agg = sh.groupby("stream", as_index=False, sort=False).agg(
            demand=("demand_t", "sum"), made=("made_t", "sum"), bought=("bought_t", "sum"), short=("shortage_t", "sum"),
            periods_short=("shortage_t", lambda v: int((v > SHORT_T).sum())), worst=("shortage_t", "max"))
        agg.columns = ["stream", "demand (t)", "made (t)", "bought as magnets (t)", "shortage (t)",
                       "periods short (count)", "worst period (t)"]
        out.append(_table(agg, {"periods short (count)": "d"}))
    return "".join(out)


def _costs(c: _Ctx) -> str:
    costs = c.table("costs")
    stage = dict(zip(costs.term, costs.stage)) if len(costs) else {}
    if c.stoch:
        parts = c.k["expected_cost_parts_usd"]
        df = pd.DataFrame({"term": list(parts), "cost_usd": [float(v) for v in parts.values()]})
        total = float(c.k["expected_cost_usd"])
        lead = "Expected cost per term over the horizon (probability-weighted over scenarios), USD M. Negative terms are credits."
    else:
        df = costs[["term", "cost_usd"]].copy()
        total = float(c.k["objective_usd"])
        lead = "Cost per term over the horizon, USD M. Negative terms are credits."
    df["stage"] = [stage.get(t, "") for t in df.term]
    df["usd_m"] = df.cost_usd / 1e6
    out = [_p(lead)]
    fig, ax = _new_fig((8.0, 0.8 + 0.32 * max(3, len(df))))
    cols = ["#2ca02c" if v < 0 else ("#d62728" if t in PENALTY_TERMS else "#1f77b4") for t, v in zip(df.term, df.usd_m)]
    bars = ax.barh(df.term, df.usd_m, color=cols)
    ax.bar_label(bars, labels=[f"{v:,.2f}" for v in df.usd_m], padding=3, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#333", lw=0.8)
    lo, hi = float(min(0.0, df.usd_m.min())), float(max(0.0, df.usd_m.max()))
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - 0.12 * span * (lo < 0), hi + 0.15 * span)
    ax.set_xlabel(f"{c.exp_word}cost (USD M)")
    ax.set_ylabel("cost term")
    ax.set_title(c.cap(f"cost breakdown, total {total / 1e6:,.2f} USD M"))
    ax.legend(handles=[Patch(color="#1f77b4", label="cost"), Patch(color="#d62728", label="penalty"),
                       Patch(color="#2ca02c", label="credit")], loc="lower right", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    out.append(_figure(fig, "Horizontal bar chart of the cost breakdown"))
    tab = pd.DataFrame({"term": df.term, "stage": df.stage, f"{c.exp_word}cost (USD M)": df.usd_m,
                        "share of total (%)": 100 * df.cost_usd / total if total else 0.0})
    tab.loc[len(tab)] = ["total", "", float(df.cost_usd.sum()) / 1e6, 100.0 * float(df.cost_usd.sum()) / total if total else 0.0]
    out.append(_table(tab, {"share of total (%)": ",.1f"}, total=True))
    out.append(_cost_by_year(c))
    return "".join(out)


def _cost_by_year(c: _Ctx) -> str:
    """Cost by calendar year, its present value and the budget view (decided now, committed, the rest)."""
    y = years(c.run)
    if not len(y):
        return ""
    out = [f"<h3>{_e(c.cap('cost by year, present value and budget'))}</h3>",
           _p("Each cost falls in the period it is paid (orders in their order month, fees in the reserved month). "
              "Decided now: reservation fees, recycling expansion and every order of the first stage. Committed: "
              "what later contracts oblige (minimum take, take-or-pay). Scenario-dependent: the rest, which adapts "
              "to the scenario. " + pv_note(c.run), "note")]
    fig, ax = _new_fig((8.0, 3.2))
    x = np.arange(len(y))
    bottom = np.zeros(len(y))
    colours = {"decided_now": "#1f77b4", "committed": "#9467bd", "scenario_dependent": "#aec7e8"}
    labels = {"decided_now": "decided now", "committed": "committed by contracts", "scenario_dependent": "scenario-dependent"}
    for k in ("decided_now", "committed", "scenario_dependent"):
        if f"{k}_usd" in y.columns:
            v = y[f"{k}_usd"].to_numpy(dtype=float) / 1e6
            ax.bar(x, v, bottom=bottom, color=colours[k], label=labels[k], width=0.6)
            bottom += v
    ax.plot(x, y.pv_usd / 1e6, "D", color="#111", ms=5, label="present value")
    ax.set_xticks(x)
    ax.set_xticklabels([str(v) for v in y.year])
    ax.set_ylabel(f"{c.exp_word}cost (USD M)")
    ax.set_title(c.cap("cost by year: budget view"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    out.append(_figure(fig, "Stacked bars of cost by year: decided now, committed, scenario-dependent; present value"))
    tab = pd.DataFrame({"year": y.year.astype(str), "cost (USD M)": y.cost_usd / 1e6, "present value (USD M)": y.pv_usd / 1e6})
    for k, lbl in (("decided_now", "decided now (USD M)"), ("committed", "committed (USD M)"),
                   ("scenario_dependent", "scenario-dependent (USD M)")):
        if f"{k}_usd" in y.columns:
            tab[lbl] = y[f"{k}_usd"] / 1e6
    tab.loc[len(tab)] = ["total", *[float(tab[col].sum()) for col in tab.columns[1:]]]
    out.append(_table(tab, {col: ",.2f" for col in tab.columns[1:]}, total=True))
    return "".join(out)


def _marginal_values(c: _Ctx) -> str:
    if c.stoch:
        mv = c.table("marginal_values_expected")
        b = mv[mv.probability_binding > 0] if len(mv) else mv
        lead = ("Expected marginal value: the probability-weighted USD saved per extra tonne of a limit, in the periods "
                "where it binds in some scenario (from the LP duals).")
        value = "expected_marginal_value_usd_per_t"
    else:
        mv = c.table("marginal_values")
        b = mv[mv.binding.astype(bool)] if len(mv) else mv
        lead = MV_LEAD
        value = "marginal_value_usd_per_t"
    out = [_p(lead + " " + MV_NOTE)]
    if not len(b):
        return "".join(out) + _p(NO_LIMIT_BINDS)
    spec = dict(periods=("period", "count"), first=("period", "min"), last=("period", "max"),
                mx=(value, "max"), mean=(value, "mean"))
    if c.stoch:
        spec["pb"] = ("probability_binding", "max")
    agg = b.groupby(["constraint", "name"], as_index=False).agg(**spec).sort_values("mx", ascending=False)
    tab = pd.DataFrame({
        "constraint": agg.constraint, "name": agg.name,
        ("periods with P(binding) > 0 (count)" if c.stoch else "periods binding (count)"): agg.periods,
        "binds": [a if a == z else f"{a} to {z}" for a, z in zip(agg["first"], agg["last"])],
        "max (USD/t)": agg.mx, "mean (USD/t)": agg["mean"],
        "max (USD/kg)": agg.mx / KG_PER_T, "mean (USD/kg)": agg["mean"] / KG_PER_T,
    })
    if c.stoch:
        tab["max P(binding) (%)"] = 100 * agg.pb
    unit_of = {k.name: k.unit for k in MARGINAL_KINDS}
    tab.insert(2, "USD per", [unit_of.get(k, "t") for k in agg.constraint])  # USD/t and USD/kg of this
    mn = b.groupby(["constraint", "name"]).agg(lo=(value, "min"))
    agg = agg.join(mn, on=["constraint", "name"])
    top = agg[agg.mx > 0].head(TOP_MARGINAL_BARS)
    if len(top):
        units = [u for u in dict.fromkeys(unit_of.get(k, "t") for k in top.constraint)]
        heights = [sum(1 for k in top.constraint if unit_of.get(k, "t") == u) for u in units]
        fig = Figure(figsize=(8.0, 0.9 + 0.32 * sum(heights) + 0.55 * len(units)), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(units), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
        for ax, u in zip(axes, units):
            g = top[[unit_of.get(k, "t") == u for k in top.constraint]]
            y = np.arange(len(g))
            lo_kg, mx_kg, mean_kg = g.lo / KG_PER_T, g.mx / KG_PER_T, g["mean"] / KG_PER_T
            ax.hlines(y, lo_kg.clip(lower=mx_kg * 1e-6), mx_kg, color="#9467bd", lw=2, alpha=0.5)
            ax.plot(mean_kg, y, "o", color="#5b2a86", ms=5, label="mean over binding periods")
            ax.plot(mx_kg, y, "|", color="#5b2a86", ms=10, label="highest period")
            ax.set_yticks(y)
            ax.set_yticklabels([f"{n} ({k})" for k, n in zip(g.constraint, g.name)], fontsize=7)
            ax.invert_yaxis()
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"USD per kg of {u[5:] if u.startswith('t of ') else u} (log scale)", fontsize=8)
            ax.grid(True, axis="x", alpha=0.3, which="both")
        axes[0].legend(loc="lower right", fontsize=7)
        fig.suptitle(f"Top {len(top)} binding limits by {c.exp_word}marginal value: dot = mean, line = range over "
                     "the binding periods", fontsize=9)
        out.append(_figure(fig, "Dot chart of the largest marginal values, one panel per unit"))
    if c.stoch:
        out.append(_p("Values in the table are expected marginal values; mean over the periods listed.", "note"))
    else:
        out.append(_p("Mean over the binding periods.", "note"))
    out.append(_table(tab, {"max (USD/t)": ",.0f", "mean (USD/t)": ",.0f",
                            "periods with P(binding) > 0 (count)": "d", "periods binding (count)": "d",
                            "max P(binding) (%)": ",.1f"}))
    return "".join(out)


def _scenarios(c: _Ctx) -> str:
    if not c.stoch:
        what = single_run_phrase(c.run.mode, c.run.data.scenario)
        return _p(f"This is a single-scenario run (mode {c.run.mode}: {what}); there is no scenario table. "
                  "For a case with scenarios, run solve.py without --deterministic, --scenario or --expected-value for the "
                  "two-stage stochastic plan over every scenario.")
    sc = c.table("scenarios").sort_values("total_cost_usd", ascending=False)
    out = [_p("Each scenario's total cost under the stochastic plan, with perfect foresight of that scenario, and "
              "under the plan made for the mean scenario; and its shortage per stream over the horizon.")]
    n = len(sc)
    has_pf = "perfect_foresight_cost_usd" in sc.columns
    has_eev = "eev_cost_usd" in sc.columns
    if n <= 30:
        fig, ax = _new_fig((8.0, 1.0 + 0.28 * max(4, n)))
        y = np.arange(n)
        ax.barh(y, sc.total_cost_usd / 1e6, color="#1f77b4", label="stochastic plan")
        if has_pf:
            ax.scatter(sc.perfect_foresight_cost_usd / 1e6, y, marker="D", s=18, color="#2ca02c", edgecolors="#0b3d0b",
                       zorder=3, label="perfect foresight")
        if has_eev:
            ax.scatter(sc.eev_cost_usd / 1e6, y, marker="x", s=30, color="#d62728", zorder=3, label="mean-scenario plan")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{s} (p={100 * p:.1f} %)" for s, p in zip(sc.scenario, sc.probability)], fontsize=7)
        ax.invert_yaxis()
        lo = float(np.nanmin(np.concatenate([sc.total_cost_usd.to_numpy(dtype=float)] +
                                            ([sc.eev_cost_usd.to_numpy(dtype=float)] if has_eev else [])))) / 1e6
        ax.set_xlim(left=lo * 0.9)
        ax.set_xlabel("total cost (USD M; axis does not start at 0)")
        ax.set_ylabel("scenario (probability)")
    else:
        fig, ax = _new_fig()
        for col, lbl, colr in (("total_cost_usd", "stochastic plan", "#1f77b4"),
                               ("perfect_foresight_cost_usd", "perfect foresight", "#2ca02c"),
                               ("eev_cost_usd", "mean-scenario plan", "#d62728")):
            if col in sc.columns:
                v = sc[col].to_numpy(dtype=float) / 1e6
                xs, ys = _exceedance(v, sc.probability.to_numpy(dtype=float))
                keep = xs >= v.min()
                xs, ys = np.concatenate([[v.min()], xs[keep]]), np.concatenate([[1.0], ys[keep]])
                top_plan = col == "total_cost_usd"  # the recommended plan: drawn last, thickest
                ax.step(xs, 100 * ys, where="post", color=colr, label=lbl + (" (recommended)" if top_plan else ""),
                        lw=2.6 if top_plan else 1.3, zorder=4 if top_plan else 2, alpha=1.0 if top_plan else 0.8)
        ax.set_xlabel("total cost, x (USD M)")
        ax.set_ylabel("P(cost > x) (%)")
        ax.grid(True, alpha=0.3)
    ax.set_title("Total cost per scenario" if n <= 30 else f"Distribution of total cost over {n} scenarios")
    ax.legend(loc="lower right", fontsize=8)
    out.append(_figure(fig, "Total cost per scenario under the stochastic plan, perfect foresight and the mean-scenario plan"))
    view = pd.DataFrame({"scenario": sc.scenario, "probability (%)": 100 * sc.probability,
                         "cost (USD M)": sc.total_cost_usd / 1e6})
    if has_pf:
        view["with perfect foresight (USD M)"] = sc.perfect_foresight_cost_usd / 1e6
        view["regret vs perfect foresight (USD M)"] = (sc.total_cost_usd - sc.perfect_foresight_cost_usd) / 1e6
    if has_eev:
        view["with the mean-scenario plan (USD M)"] = sc.eev_cost_usd / 1e6
    for col in [col for col in sc.columns if col.startswith("shortage_t_")]:
        view[f"short {col[len('shortage_t_'):]} (t)"] = sc[col]
    if n > MAX_SCENARIO_ROWS:
        out.append(_p(f"The {MAX_SCENARIO_ROWS} costliest of {n} scenarios (all in scenarios.csv)."))
        view = view.head(MAX_SCENARIO_ROWS)
    out.append(_table(view, {"probability (%)": ",.2f", "cost (USD M)": ",.3f", "with perfect foresight (USD M)": ",.3f",
                             "regret vs perfect foresight (USD M)": ",.3f", "with the mean-scenario plan (USD M)": ",.3f"}))
    return "".join(out)


def _manifest(manifest: dict) -> str:
    m = dict(manifest or {})
    out = []
    if "command_line" in m:
        cmd = m.pop("command_line")
        out.append("<h3>Command line</h3><pre>" + _e(" ".join(map(str, cmd)) if isinstance(cmd, (list, tuple)) else cmd) + "</pre>")
    pairs = []
    for key in ("case", "input_hash", "platform"):
        if key in m:
            pairs.append((key, str(m.pop(key))))
    if pairs:
        out.append("<table><tbody>" + "".join(
            f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in pairs) + "</tbody></table>")
    if "input_files" in m:
        files = m.pop("input_files") or []
        out.append("<h3>Input files</h3>")
        if files:
            out.append("<table><thead><tr><th>path</th><th>sha256</th></tr></thead><tbody>" + "".join(
                f"<tr><td>{_e(f.get('path', ''))}</td><td><code>{_e(f.get('sha256', ''))}</code></td></tr>" for f in files)
                + "</tbody></table>")
        else:
            out.append(_p("No input file (case built in memory)."))
    if "packages" in m:
        out.append("<h3>Package versions</h3>")
        out.append(_kv_table(((k, "not installed" if v is None else str(v)) for k, v in m.pop("packages").items()),
                             ("package", "version")))
    if "solver" in m:
        s = m.pop("solver") or {}
        out.append("<h3>Solver</h3>")
        rows = [("name", str(s.get("name"))), ("version", str(s.get("version")))]
        rows += [(f"option {k}", v if isinstance(v, str) else json.dumps(v)) for k, v in (s.get("options") or {}).items()]
        rows += [(k, json.dumps(v, default=str)) for k, v in s.items() if k not in ("name", "version", "options")]
        out.append(_kv_table(rows, ("setting", "value")))
    if "timings_s" in m:
        out.append("<h3>Timings</h3>")
        out.append(_kv_table(((k, f"{float(v):,.3f} s" if isinstance(v, (int, float)) and not isinstance(v, bool)
                               else json.dumps(v)) for k, v in m.pop("timings_s").items()), ("step", "time")))
    if isinstance(m.get("phases_s"), dict):
        out.append("<h3>Phases (wall time)</h3>")
        out.append(_kv_table(((k, f"{float(v):,.3f} s") for k, v in m.pop("phases_s").items()), ("phase", "time")))
    if m:
        out.append("<h3>Other</h3><pre>" + _e(json.dumps(m, indent=2, default=str)) + "</pre>")
    return "".join(out)


# --------------------------------------------------------------------------- page

def render_html(run: "Run", manifest: dict) -> str:
    """The whole report of ``run`` as one self-contained HTML page (inline CSS, base64 PNG plots, no network)."""
    c = _Ctx(run)
    k = c.k
    case = c.case
    title = mode_title(run.mode, run.data.scenario)
    P = c.periods
    solver = k.get("solver", {})
    meta = (f"{horizon_text(P, c.mpp)} Mode {run.mode}. "
            f"{solver_text(solver.get('version', '?'), solver.get('termination', '?'))} {UNITS} "
            f"Input hash {manifest.get('input_hash', k.get('input_hash', ''))}.")
    if c.stoch:
        risk = case.risk
        meta += (f" {k['scenario_count']} scenarios; first-stage decisions are common to all scenarios, everything after "
                 f"the first {risk.non_anticipative_periods} period(s) adapts. CVaR alpha = {risk.cvar_alpha:g}, "
                 f"lambda = {risk.risk_weight_lambda:g}.")
    builders = {
        "decide-now": lambda: _decide_now(c), "plan": lambda: _plan(c),
        "headline": lambda: _headline(c), "sourcing": lambda: _sourcing(c), "stockpile": lambda: _stockpile(c),
        "recycling": lambda: _recycling(c), "shortage": lambda: _shortage(c), "costs": lambda: _costs(c),
        "marginal-values": lambda: _marginal_values(c), "scenarios": lambda: _scenarios(c),
        "plants": lambda: _plants(c), "licences": lambda: _licences(c),
        "manifest": lambda: _manifest(manifest),
    }
    body = []
    for sid, heading in SECTIONS:
        body.append(f"<section id=\"{sid}\"><h2>{_e(heading)}</h2>{builders[sid]()}</section>")
    nav = "<nav>" + " ".join(f"<a href=\"#{sid}\">{_e(h)}</a>" for sid, h in SECTIONS) + "</nav>"
    desc = _p(case.description.strip()) if case.description else ""
    warned = list(k.get("input_warnings", [w.line() for w in run.data.warnings]))
    if warned:  # right after the title, before everything else
        desc = (f"<div id=\"input-warnings\" class=\"warnings\" role=\"note\"><h2>{_e(WARNINGS_TITLE)}</h2>"
                f"<p>{_e(WARNINGS_LEAD)}</p><ul>" + "".join(f"<li>{_e(w)}</li>" for w in warned) + "</ul></div>" + desc)
    notices = []
    if not k.get("proven_optimal", True):
        notices.append(not_optimal_notice(k))
    if k.get("audit") is not None:
        notices.append(audit_notice(k["audit"]))
    desc += "".join(f"<p class=\"meta\"><strong>{_e(n)}</strong></p>" for n in notices)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}: {_e(case.name)}</title><style>{CSS}</style>"
        f"<script>{LOAD_SCRIPT}</script></head>\n<body>"
        f"<h1>{_e(title)}: {_e(case.name)}</h1>{desc}<p class=\"meta\">{_e(meta)}</p>{nav}\n"
        + "\n".join(body) + "\n</body></html>\n"
    )
