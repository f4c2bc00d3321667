"""The report of a sweep (:mod:`model.app.sweep`): ``write_sweep_report(sw, out_dir, argv)`` writes, atomically,

    frontier.csv                  one row per value of the swept input
    diversification_premium.csv   the expected cost above the unconstrained plan, per value
    summary.md                    the frontier table and the plots (:func:`sweep_markdown`)
    cost_vs_cvar_shortage.png, cost_vs_share.png
    manifest.json                 the key and values, input file hashes, solver options, timings, versions
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from model.report.atomic import atomic_dir
from model.report.manifest import environment_entries, input_file_entries
from model.report.markdown import md_table
from model.report.text import usd_millions
from model.results.tables import clean


def _sweep_plots(sw, tmp: Path) -> list[str]:
    """The two frontier plots as PNG files in ``tmp``; returns their names."""
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
           f"limit removed: {usd_millions(sw.reference_expected_cost_usd)} USD M), over the {sw.horizon_years:g}-year horizon, "
           f"per year, and per kg of magnet delivered.\n",
           md_table(view, ",.3f") + "\n"]
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
            "input_files": input_file_entries(sw.input_files),
            "solver": {"name": "highs", "options": sw.solver_options},
            "timings_s": {"sweep_s": round(sw.sweep_s, 3), "cold_solve_s": round(sw.cold_solve_s, 3),
                          "per_point_s": [round(x, 3) for x in sw.frontier.solve_s]},
            "speedup_vs_cold": round(sw.speedup, 3),
            **environment_entries(),
        }, indent=2) + "\n")

    return atomic_dir(out_dir, write, protect=[p for p, _ in sw.input_files])
