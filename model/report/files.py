"""Report layer: the only code that writes files.

``write_report(run, out_dir, argv)`` writes, atomically (into a temporary sibling directory that
is renamed into place only when complete, so a failed or interrupted run never leaves a
half-written report and never clobbers the previous one):

    <table>.csv      one tidy CSV per table of :mod:`model.results.tables`
    kpis.json        the KPIs (deterministic for a given input) plus a ``run`` block (timings, versions)
    summary.md       a two-minute read for a planner
    plan.xlsx        the KPIs and every table for finance (:mod:`model.report.excel`)
    report.html      one self-contained page with plots (:mod:`model.report.html`)
    manifest.json    input file hashes, package and solver versions, solver options, timings, command line
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from model.report.excel import write_excel
from model.report.html import render_html
from model.results.tables import clean
from model.app.run import Run

PACKAGES = ("magnet-supply-risk", "pyomo", "highspy", "pandas", "pydantic", "numpy", "scipy", "pyyaml")


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def _usd_m(x: float) -> str:
    return f"{x / 1e6:,.2f}"


def _md_table(df: pd.DataFrame, floatfmt: str = ",.2f") -> str:
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


def _header(run: Run, title: str) -> list[str]:
    k = run.solution.kpis
    case = run.data.case
    P = run.data.periods
    mpp = case.horizon.months_per_period
    out = [f"# {title}: {case.name}\n"]
    if case.description:
        out.append(case.description.strip() + "\n")
    out.append(
        f"Horizon {P[0]} to {P[-1]} ({len(P)} periods of {mpp} month{'s' if mpp > 1 else ''}). "
        f"Solver: HiGHS {k['solver']['version']}, status **{k['solver']['termination']}**. "
        f"Money in USD millions (USD M) unless stated; masses in tonnes (t).\n"
    )
    a = k.get("audit")
    if a is not None:
        if a["passed"]:
            out.append(f"Independent audit: **pass** ({len(a['checks'])} checks of every constraint and the "
                       f"objective, recomputed from the inputs and the plan tables).\n")
        else:
            bad = [c for c in a["checks"] if not c["passed"]]
            out.append("> **Independent audit: FAIL.** " + "; ".join(
                f"{c['name']}: {c['detail']}" for c in bad[:5]) + "\n")
    return out


def _sourcing(shares: dict, supply: dict, recycled: dict, magnets: dict | None, lead: str) -> list[str]:
    out = ["## Where the elements come from\n", lead + "\n"]
    rows = []
    for e, sh in shares.items():
        row = {"element": e, "supply (t)": supply.get(e, 0.0)}
        row.update({g: f"{100 * v:.1f} %" for g, v in sh.items()})
        rows.append(row)
    if rows:
        out.append(_md_table(pd.DataFrame(rows).fillna("0.0 %")) + "\n")
        out.append("Recycled share of supply (all recycling routes): " + ", ".join(
            f"{e} {100 * v:.1f} %" for e, v in recycled.items()) + ".\n")
    if magnets:
        fm = ", ".join(f"{g}: {v:,.1f} t" for g, v in magnets.items())
        out.append(f"Finished magnets bought, by origin: {fm}.\n")
    return out


def _decide_now(case, P, t: dict[str, pd.DataFrame], stochastic: bool) -> list[str]:
    W = case.risk.non_anticipative_periods
    out = ["## Decide now (first stage)\n"]
    same = " They are the same in every scenario." if stochastic else ""
    out.append(f"These decisions are taken before the future is known: contract reservations for every period, "
               f"recycling capacity expansion, and all orders of the first {W} period(s).{same}\n")
    resv = t["reservations"]
    resv = resv[resv.reserved_t > 1e-6]
    if len(resv):
        r = resv.groupby("offer", as_index=False).agg(
            periods=("period", "count"), first=("period", "min"), last=("period", "max"),
            reserved_t=("reserved_t", "sum"), fee_usd=("fee_usd", "sum"))
        r["fee (USD M)"] = r.fee_usd / 1e6
        out.append(_md_table(r[["offer", "periods", "first", "last", "reserved_t", "fee (USD M)"]]
                             .rename(columns={"reserved_t": "reserved in total (t)"})) + "\n")
    else:
        out.append("No contract reservation.\n")
    ex = t["expansions"]
    built = ex[ex.added_t_feed_per_period > 1e-6]
    for row in built.itertuples(index=False):
        out.append(f"Expand recycling route **{row.route}** by {row.added_t_feed_per_period:,.2f} t feed per period, "
                   f"usable from {row.usable_from}, for {_usd_m(row.cost_usd)} USD M.\n")
    if not len(built) and len(ex):
        out.append("No recycling capacity expansion is worth its cost.\n")
    now = t["purchases"][t["purchases"].order_period.isin(P[:W]) & (t["purchases"].purchased_t > 1e-6)]
    if len(now):
        out.append(f"Orders in {', '.join(P[:W])}: " + "; ".join(
            f"{o} {q:,.2f} t" for o, q in zip(now.offer, now.purchased_t)) + ".\n")
    return out


MV_NOTE = ("Quota and supplier rows are per t of material; stockpile and diversification rows per t of element; "
           "plant per t of magnet; recycling per t of feed.")


def _marginal(mv: pd.DataFrame, value: str, binding_col: str, lead: str) -> list[str]:
    out = ["## Binding constraints and what relaxing them is worth\n", lead + " " + MV_NOTE + "\n"]
    b = mv[mv[binding_col] > 0] if mv[binding_col].dtype != bool else mv[mv[binding_col]]
    if not len(b):
        return out + ["No licence, capacity, stockpile or diversification limit binds.\n"]
    agg = b.groupby(["constraint", "name"], as_index=False).agg(
        periods_binding=("period", "count"), first=("period", "min"), last=("period", "max"),
        max_usd_per_t=(value, "max"), mean_usd_per_t=(value, "mean"))
    agg = agg.sort_values("max_usd_per_t", ascending=False)
    agg["max (USD/kg)"] = agg.max_usd_per_t / 1000.0
    out.append(_md_table(agg.rename(columns={"max_usd_per_t": "max (USD/t)", "mean_usd_per_t": "mean (USD/t)"}), ",.0f") + "\n")
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
    return [f"## {title}\n", _md_table(by_offer[["offer", "kind", "origin_group", "material", "reserved_t", "purchased_t", "cost (USD M)"]]
                                      .rename(columns={"reserved_t": "reserved (t)", "purchased_t": "bought (t)"})) + "\n",
            "Period by period: `purchases.csv` and `reservations.csv`.\n"]


def summary_markdown(run: Run) -> str:
    if run.mode == "stochastic":
        return stochastic_summary_markdown(run)
    k = run.solution.kpis
    t = run.solution.tables
    case = run.data.case
    P = run.data.periods
    title = {"perfect_foresight": f"Perfect-foresight plan for scenario {run.data.scenario}",
             "expected_value": "Plan for the expected-value (mean) scenario"}.get(run.mode, "Supply plan")
    out = _header(run, title)

    out.append("## Headline\n")
    head = [
        ("Total cost (objective)", f"{_usd_m(k['objective_usd'])} USD M"),
        ("  of which penalties (shortage, floor, terminal)", f"{_usd_m(k['penalties_usd'])} USD M"),
        ("Magnets delivered", f"{k['magnets_delivered_t']:,.1f} t"),
        ("Supply cost per kg of magnet delivered (excl. penalties)",
         f"{k['supply_cost_usd_per_kg_magnet']:,.2f} USD/kg" if k["supply_cost_usd_per_kg_magnet"] is not None else "n/a"),
    ]
    for s, v in k["streams"].items():
        head.append((f"Stream {s}: fill rate", f"{100 * v['fill_rate']:.1f} % (short {v['shortage_t']:,.1f} t of {v['demand_t']:,.1f} t, {v['periods_short']} periods short)"))
    out.append(_md_table(pd.DataFrame(head, columns=["measure", "value"])) + "\n")

    out.append("## Cost breakdown\n")
    c = t["costs"].copy()
    c["cost_usd_m"] = c.cost_usd / 1e6
    out.append(_md_table(c[["term", "stage", "cost_usd_m"]].rename(columns={"cost_usd_m": "cost (USD M)"})) + "\n")
    out += _sourcing(k["supply_share_by_origin_group"], k["element_supply_t"], k["recycled_share"],
                     k["finished_magnets_by_origin_t"],
                     "Share of element supply (purchased oxide/metal content plus recycled output) by origin group, over the horizon:")
    out += _decide_now(case, P, t, stochastic=False)
    out += _purchases(t, None, "What to contract and buy over the horizon")

    out.append("## Production\n")
    prod = t["production"].groupby(["stream", "recipe"], as_index=False).made_t.sum()
    prod = prod[prod.made_t > 1e-6]
    out.append(_md_table(prod.rename(columns={"made_t": "made (t)"})) + "\n")

    out.append("## Stockpile\n")
    sbe = t["stock_by_element"]
    rows = []
    for e, g in sbe.groupby("element", sort=True):
        rows.append((e, g.capacity_t.iloc[0], g.floor_t.iloc[0], g.stock_t.iloc[0], g.stock_t.min(), g.stock_t.iloc[-1],
                     int((g.floor_shortfall_t > 1e-6).sum())))
    out.append(_md_table(pd.DataFrame(rows, columns=["element", "capacity (t)", "floor (t)", f"end of {P[0]} (t)",
                                                     "lowest (t)", f"end of {P[-1]} (t)", "periods below floor"])) + "\n")

    out.append("## Recycling\n")
    rc = t["recycling"].groupby("route", as_index=False).feed_t.sum()
    if len(rc):
        out.append(_md_table(rc.rename(columns={"feed_t": "feed processed (t)"})) + "\n")
    else:
        out.append("No recycling route in this case.\n")

    out += _marginal(t["marginal_values"], "marginal_value_usd_per_t", "binding",
                     "Marginal value: USD saved per extra tonne of the limit, in the periods where it binds (from the LP duals).")
    out.append("## Files\n")
    out.append("Tidy CSVs, one per table (" + ", ".join(f"`{n}.csv`" for n in t) + "); `kpis.json`; `manifest.json`.\n")
    return "\n".join(out)


def stochastic_summary_markdown(run: Run) -> str:
    k = run.solution.kpis
    t = run.solution.tables
    case = run.data.case
    P = run.data.periods
    risk = case.risk
    out = _header(run, "Stochastic supply plan")
    if not k.get("proven_optimal", True):
        out.append(f"> **NOT PROVEN OPTIMAL.** {k['status_note']}. Best plan found: {_usd_m(k['objective_usd'])} USD M; "
                   f"no plan can cost less than {_usd_m(k['best_bound_usd'])} USD M; gap {100 * k['gap_frac']:.3f} %.\n")
    out.append(f"{k['scenario_count']} disruption scenarios (mode `{case.scenarios.mode}`). First-stage decisions are "
               f"common to all scenarios; everything after the first {risk.non_anticipative_periods} period(s) adapts "
               f"to the scenario. Risk: CVaR at alpha = {risk.cvar_alpha:g} with weight lambda = {risk.risk_weight_lambda:g}"
               f"{' (risk neutral)' if risk.risk_weight_lambda == 0 else ''}.\n")

    out.append("## Headline\n")
    head = [
        ("Objective (expected cost + lambda x CVaR)", f"{_usd_m(k['objective_usd'])} USD M"),
        ("Expected total cost", f"{_usd_m(k['expected_cost_usd'])} USD M"),
        (f"CVaR {k['cvar_alpha']:g} of total cost (mean of the worst {100 * (1 - k['cvar_alpha']):.0f} %)", f"{_usd_m(k['cvar_cost_usd'])} USD M"),
        ("First-stage cost (reservation fees, expansion)", f"{_usd_m(k['first_stage_cost_usd'])} USD M"),
    ]
    if k.get("evpi_usd") is not None:
        head.append(("EVPI: what perfect foresight of the scenario would be worth", f"{_usd_m(k['evpi_usd'])} USD M"))
        head.append(("VSS: what planning for uncertainty saves over planning for the average scenario",
                     f"{_usd_m(k['vss_usd'])} USD M" if k["vss_usd"] is not None else f"n/a ({k['vss_note']})"))
    for s, v in k["streams"].items():
        head.append((f"Stream {s}",
                     f"expected fill rate {100 * v['expected_fill_rate']:.1f} %; P(any shortage) {100 * v['probability_any_shortage']:.1f} %; "
                     f"expected shortage {v['expected_shortage_t']:,.1f} t; CVaR shortage {v['cvar_shortage_t']:,.1f} t; worst {v['worst_shortage_t']:,.1f} t"))
    out.append(_md_table(pd.DataFrame(head, columns=["measure", "value"])) + "\n")

    s0 = t["scenarios"].scenario.iloc[0]  # first-stage decisions are the same in every scenario: show one
    first = {name: t[name][t[name].scenario == s0] for name in ("reservations", "expansions", "purchases")}
    out += _decide_now(case, P, first, stochastic=True)

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
    out.append(_md_table(view, ",.3f") + "\n")

    out.append("## Expected cost breakdown\n")
    c = pd.DataFrame(list(k["expected_cost_parts_usd"].items()), columns=["term", "cost_usd"])
    c["expected cost (USD M)"] = c.cost_usd / 1e6
    out.append(_md_table(c[["term", "expected cost (USD M)"]]) + "\n")
    out += _sourcing(k["expected_supply_share_by_origin_group"], k["expected_element_supply_t"], k["expected_recycled_share"], None,
                     "Expected share of element supply (purchased content plus recycled output) by origin group, over the horizon and scenarios:")
    out += _purchases(t, t["purchases"]["probability"], "Expected purchases over the horizon")

    out.append("## Expected production\n")
    prod = t["production"].assign(w=lambda d: d.made_t * d.probability).groupby(["stream", "recipe"], as_index=False).w.sum()
    prod = prod[prod.w > 1e-6]
    out.append(_md_table(prod.rename(columns={"w": "expected made (t)"})) + "\n")

    out.append("## Stockpile across scenarios\n")
    sbe = t["stock_by_element"]
    rows = []
    for e, g in sbe.groupby("element", sort=True):
        end = g[g.period == P[-1]]
        below = g.groupby("scenario").agg(p=("probability", "first"), short=("floor_shortfall_t", "max"))
        rows.append((e, g.capacity_t.iloc[0], g.floor_t.iloc[0], float((end.stock_t * end.probability).sum()),
                     float(g.stock_t.min()), float(below.p[below.short > 1e-6].sum()) * 100))
    out.append(_md_table(pd.DataFrame(rows, columns=["element", "capacity (t)", "floor (t)", f"expected end of {P[-1]} (t)",
                                                     "lowest in any scenario (t)", "P(below floor at some point) (%)"])) + "\n")
    out += _marginal(t["marginal_values_expected"], "expected_marginal_value_usd_per_t", "probability_binding",
                     "Expected marginal value: the probability-weighted USD saved per extra tonne of the limit, in periods where it binds in some scenario.")
    out.append("## Files\n")
    out.append("Tidy CSVs with `scenario` and `probability` columns (" + ", ".join(f"`{n}.csv`" for n in t) +
               "); `kpis.json`; `manifest.json`.\n")
    return "\n".join(out)


def manifest(run: Run, argv: list[str]) -> dict:
    return {
        "command_line": argv,
        "case": run.data.case.name,
        "input_files": [{"path": p, "sha256": h} for p, h in run.data.input_files],
        "input_hash": run.data.input_hash(),
        "packages": package_versions(),
        "solver": {"name": run.result.solver, "version": run.result.solver_version, "options": run.result.options},
        "timings_s": run.timings_s,
        "platform": platform.platform(),
    }


def write_report(run: Run, out_dir: str | Path, argv: list[str] | None = None,
                 extra_files: dict[str, Path] | None = None) -> Path:
    """Write every report file for ``run`` into ``out_dir`` atomically; returns the directory.

    ``extra_files``: name -> a file the run produced (e.g. HiGHS's log), copied in with the rest."""

    def write(tmp: Path) -> None:
        for name, src in (extra_files or {}).items():
            shutil.copyfile(src, tmp / name)
        for name, df in run.solution.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        kpis = dict(run.solution.kpis)
        kpis["run"] = {"timings_s": run.timings_s, "packages": package_versions()}
        (tmp / "kpis.json").write_text(json.dumps(kpis, indent=2, sort_keys=False) + "\n")
        (tmp / "summary.md").write_text(summary_markdown(run))
        man = manifest(run, argv or sys.argv)
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
        write_excel(run, man, tmp / "plan.xlsx")
        (tmp / "report.html").write_text(render_html(run, man), encoding="utf-8")

    return _atomic_dir(Path(out_dir), write)


def _atomic_dir(out_dir: Path, write) -> Path:
    """Run ``write(tmp_dir)`` and rename the result into ``out_dir``; nothing half-written on failure."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write(tmp)
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _sweep_plots(sw, tmp: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = sw.frontier
    files = []
    share_col = f"share_{sw.share_of}_frac"
    for name, x, xlabel in [
        ("cost_vs_cvar_shortage.png", f.cvar_shortage_t, "CVaR of total shortage (t of magnet)"),
        ("cost_vs_share.png", 100 * f[share_col], f"expected share of element supply from {sw.share_of} (%)"),
    ]:
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        ax.plot(x, f.expected_cost_usd / 1e6, marker="o")
        for xi, yi, v in zip(x, f.expected_cost_usd / 1e6, f.value):
            ax.annotate(f"{v:g}", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("expected total cost (USD M)")
        ax.set_title(f"{sw.case}: sweep of {sw.key}")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(tmp / name)
        plt.close(fig)
        files.append(name)
    return files


def sweep_markdown(sw, plots: list[str]) -> str:
    f = sw.frontier
    share_col = f"share_{sw.share_of}_frac"
    view = pd.DataFrame({
        "value": f.value,
        "expected cost (USD M)": f.expected_cost_usd / 1e6,
        "CVaR cost (USD M)": f.cvar_cost_usd / 1e6,
        "expected shortage (t)": f.expected_shortage_t,
        "CVaR shortage (t)": f.cvar_shortage_t,
        f"{sw.share_of} share (%)": 100 * f[share_col],
        "premium (USD M)": f.diversification_premium_usd / 1e6,
        "premium (USD M/yr)": f.diversification_premium_usd_per_year / 1e6,
        "premium (USD/kg magnet)": f.diversification_premium_usd_per_kg_magnet,
    })
    out = [f"# Sweep: {sw.case}, {sw.key}\n",
           f"Each row is the optimal plan (stochastic over the case's scenarios) with `{sw.key}` set to the value. "
           f"The **diversification premium** is the expected cost above the unconstrained plan (every diversification "
           f"limit removed: {_usd_m(sw.reference_expected_cost_usd)} USD M), over the {sw.horizon_years:g}-year horizon, "
           f"per year, and per kg of magnet delivered.\n",
           _md_table(view, ",.3f") + "\n"]
    out += [f"![{p}]({p})\n" for p in plots]
    out.append(f"Solved {len(sw.values)} points by the {sw.path} path in {sw.sweep_s:.1f} s; one cold solve takes "
               f"{sw.cold_solve_s:.1f} s, so {len(sw.values)} cold solves would take about "
               f"{sw.cold_solve_s * len(sw.values):.1f} s ({sw.speedup:.1f}x).\n")
    return "\n".join(out)


def write_sweep_report(sw, out_dir: str | Path, argv: list[str]) -> Path:
    def write(tmp: Path) -> None:
        sw.frontier.pipe(clean).to_csv(tmp / "frontier.csv", index=False, lineterminator="\n")
        prem = sw.frontier[["value", "expected_cost_usd", "diversification_premium_usd",
                            "diversification_premium_usd_per_year", "diversification_premium_usd_per_kg_magnet"]]
        prem.insert(1, "key", sw.key)
        prem.pipe(clean).to_csv(tmp / "diversification_premium.csv", index=False, lineterminator="\n")
        plots = _sweep_plots(sw, tmp)
        (tmp / "summary.md").write_text(sweep_markdown(sw, plots))
        (tmp / "manifest.json").write_text(json.dumps({
            "command_line": argv, "case": sw.case, "key": sw.key, "values": list(sw.values), "path": sw.path,
            "input_files": [{"path": p, "sha256": h} for p, h in sw.input_files],
            "solver": {"name": "highs", "options": sw.solver_options},
            "timings_s": {"sweep_s": round(sw.sweep_s, 3), "cold_solve_s": round(sw.cold_solve_s, 3),
                          "per_point_s": [round(x, 3) for x in sw.frontier.solve_s]},
            "speedup_vs_cold": round(sw.speedup, 3),
            "packages": package_versions(), "platform": platform.platform(),
        }, indent=2) + "\n")

    return _atomic_dir(Path(out_dir), write)


def kpi_differences(a: dict, b: dict) -> pd.DataFrame:
    """Every numeric KPI of two runs side by side (timings excluded), with absolute and relative change."""
    from model.app.baseline import _flatten

    fa, fb = {}, {}
    _flatten("", {k: v for k, v in a.items() if k != "run"}, fa)
    _flatten("", {k: v for k, v in b.items() if k != "run"}, fb)
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        diff = None if va is None or vb is None else vb - va
        rel = None if diff is None or va == 0 else diff / abs(va)
        rows.append((key, va, vb, diff, rel))
    return pd.DataFrame(rows, columns=["kpi", "a", "b", "b_minus_a", "relative_change"])


def write_compare_report(df: pd.DataFrame, a: Path, b: Path, out_dir: str | Path, argv: list[str] | None = None) -> Path:
    import hashlib

    def write(tmp: Path) -> None:
        df.to_csv(tmp / "kpi_differences.csv", index=False, lineterminator="\n")
        (tmp / "manifest.json").write_text(json.dumps({
            "command_line": argv or sys.argv,
            "input_files": [{"path": str(d / "kpis.json"), "sha256": hashlib.sha256((d / "kpis.json").read_bytes()).hexdigest()}
                            for d in (a, b)],
            "packages": package_versions(), "platform": platform.platform(),
        }, indent=2) + "\n")
        moved = df[(df.b_minus_a.fillna(1).abs() > 1e-9)]
        (tmp / "summary.md").write_text(
            f"# KPI differences: {a} vs {b}\n\n{len(moved)} of {len(df)} KPIs differ.\n\n"
            + _md_table(moved.fillna("missing"), ",.4g") + "\n")

    return _atomic_dir(Path(out_dir), write)
