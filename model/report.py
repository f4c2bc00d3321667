"""Report layer: the only code that writes files.

``write_report(run, out_dir, argv)`` writes, atomically (into a temporary sibling directory that
is renamed into place only when complete, so a failed or interrupted run never leaves a
half-written report and never clobbers the previous one):

    <table>.csv      one tidy CSV per table of :mod:`model.results`
    kpis.json        the KPIs (deterministic for a given input) plus a ``run`` block (timings, versions)
    summary.md       a two-minute read for a planner
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

from .run import Run

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


def summary_markdown(run: Run) -> str:
    k = run.solution.kpis
    t = run.solution.tables
    case = run.data.case
    P = run.data.periods
    mpp = case.horizon.months_per_period
    out: list[str] = []
    out.append(f"# Supply plan: {case.name}\n")
    if case.description:
        out.append(case.description.strip() + "\n")
    out.append(
        f"Horizon {P[0]} to {P[-1]} ({len(P)} periods of {mpp} month{'s' if mpp > 1 else ''}). "
        f"Solver: HiGHS {k['solver']['version']}, status **{k['solver']['termination']}**. "
        f"Money in USD millions (USD M) unless stated; masses in tonnes (t).\n"
    )

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

    out.append("## Where the elements come from\n")
    out.append("Share of element supply (purchased oxide/metal content plus recycled output) by origin group, over the horizon:\n")
    rows = []
    for e, shares in k["supply_share_by_origin_group"].items():
        row = {"element": e, "supply (t)": k["element_supply_t"].get(e, 0.0)}
        row.update({g: f"{100 * v:.1f} %" for g, v in shares.items()})
        row["recycled"] = f"{100 * k['recycled_share'].get(e, 0.0):.1f} %"
        rows.append(row)
    if rows:
        out.append(_md_table(pd.DataFrame(rows).fillna("0.0 %")) + "\n")
    if k["finished_magnets_by_origin_t"]:
        fm = ", ".join(f"{g}: {v:,.1f} t" for g, v in k["finished_magnets_by_origin_t"].items())
        out.append(f"Finished magnets bought, by origin: {fm}.\n")

    out.append("## Decide now (first stage)\n")
    W = case.risk.non_anticipative_periods
    out.append(f"These decisions are taken before the future is known: contract reservations for every period, "
               f"recycling capacity expansion, and all orders of the first {W} period(s).\n")
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
    ex = ex[ex.added_t_feed_per_period > 1e-6]
    for row in ex.itertuples(index=False):
        out.append(f"Expand recycling route **{row.route}** by {row.added_t_feed_per_period:,.2f} t feed per period, "
                   f"usable from {row.usable_from}, for {_usd_m(row.cost_usd)} USD M.\n")
    if not len(ex) and len(t["expansions"]):
        out.append("No recycling capacity expansion is worth its cost.\n")
    now = t["purchases"][t["purchases"].order_period.isin(P[:W]) & (t["purchases"].purchased_t > 1e-6)]
    if len(now):
        out.append(f"Orders in {', '.join(P[:W])}: " + "; ".join(
            f"{o} {q:,.2f} t" for o, q in zip(now.offer, now.purchased_t)) + ".\n")

    out.append("## What to contract and buy over the horizon\n")
    pur = t["purchases"]
    by_offer = pur.groupby(["offer", "kind", "origin_group", "material"], as_index=False).agg(
        purchased_t=("purchased_t", "sum"), cost_usd=("cost_usd", "sum"))
    res = t["reservations"].groupby("offer", as_index=False).agg(reserved_t=("reserved_t", "sum"), fee_usd=("fee_usd", "sum"))
    by_offer = by_offer.merge(res, on="offer", how="left").fillna({"reserved_t": 0.0, "fee_usd": 0.0})
    by_offer = by_offer[(by_offer.purchased_t > 1e-6) | (by_offer.reserved_t > 1e-6)].sort_values("cost_usd", ascending=False)
    by_offer["cost (USD M)"] = (by_offer.cost_usd + by_offer.fee_usd) / 1e6
    out.append(_md_table(by_offer[["offer", "kind", "origin_group", "material", "reserved_t", "purchased_t", "cost (USD M)"]]
                         .rename(columns={"reserved_t": "reserved (t)", "purchased_t": "bought (t)"})) + "\n")
    out.append("Period by period: `purchases.csv` and `reservations.csv`.\n")

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
        out.append("Recycled share of element supply: " + ", ".join(
            f"{e} {100 * v:.1f} %" for e, v in k["recycled_share"].items()) + ".\n")
    else:
        out.append("No recycling route in this case.\n")

    out.append("## Binding constraints and what relaxing them is worth\n")
    out.append("Marginal value: USD saved per extra tonne of the limit, in the periods where it binds (from the LP duals). "
               "Quota and supplier rows are per t of material; stockpile and diversification rows per t of element; "
               "plant per t of magnet; recycling per t of feed.\n")
    mv = t["marginal_values"]
    b = mv[mv.binding]
    if len(b):
        agg = b.groupby(["constraint", "name"], as_index=False).agg(
            periods_binding=("period", "count"), first=("period", "min"), last=("period", "max"),
            max_usd_per_t=("marginal_value_usd_per_t", "max"), mean_usd_per_t=("marginal_value_usd_per_t", "mean"))
        agg = agg.sort_values("max_usd_per_t", ascending=False)
        agg["max (USD/kg)"] = agg.max_usd_per_t / 1000.0
        out.append(_md_table(agg.rename(columns={"max_usd_per_t": "max (USD/t)", "mean_usd_per_t": "mean (USD/t)"}), ",.0f") + "\n")
    else:
        out.append("No licence, capacity, stockpile or diversification limit binds.\n")

    out.append("## Files\n")
    out.append("Tidy CSVs, one per table (`purchases.csv`, `reservations.csv`, `arrivals.csv`, `production.csv`, "
               "`eligibility_use.csv`, `magnet_purchases.csv`, `stock.csv`, `stock_by_element.csv`, `recycling.csv`, "
               "`expansions.csv`, `recovered.csv`, `shortages.csv`, `marginal_values.csv`, `costs.csv`); `kpis.json`; `manifest.json`.\n")
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


def write_report(run: Run, out_dir: str | Path, argv: list[str] | None = None) -> Path:
    """Write every report file for ``run`` into ``out_dir`` atomically; returns the directory."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, df in run.solution.tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
        kpis = dict(run.solution.kpis)
        kpis["run"] = {"timings_s": run.timings_s, "packages": package_versions()}
        (tmp / "kpis.json").write_text(json.dumps(kpis, indent=2, sort_keys=False) + "\n")
        (tmp / "summary.md").write_text(summary_markdown(run))
        (tmp / "manifest.json").write_text(json.dumps(manifest(run, argv or sys.argv), indent=2) + "\n")
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
