"""The report of a sweep (:mod:`model.app.sweep`): ``write_sweep_report(sw, out_dir, argv)`` writes, atomically,

    frontier.csv                  one row per point: ``point``, one column per swept key, the KPIs, and the
                                  diversification premium (cap keys) or the cost change versus point 1 (others)
    diversification_premium.csv   cap sweeps only: one row per point and swept cap, long format
                                  (``cap``, expected cost and objective with and without the cap, premium)
    summary.md                    what the figures mean, the frontier table, the plots (:func:`sweep_markdown`)
    report.html                   the same as one self-contained page (plots embedded, opens offline), in the
                                  style of a run's report.html (:func:`render_sweep_html`)
    frontier.xlsx                 the frontier (and the premium table) as Excel tables with units and number
                                  formats, and the manifest (:func:`write_sweep_excel`)
    cost_vs_cvar_shortage.png, cost_vs_share.png
    manifest.json                 the keys and values, named overrides, the premium's definition and its
                                  reference plans, input file hashes, solver options, timings, versions

Glossary
--------
C(p), J(p)      expected cost and objective (expected cost + lambda CVaR) at point p, USD
p without d     point p with cap d removed (other keys at p's values, other caps kept)
premium         C(p) - C(p without d) (headline), and J(p) - J(p without d); per year: / horizon years;
                per kg: / expected kg of magnet delivered at p
change          C(p) - C(point 1), J(p) - J(point 1); per year and per kg as above

Column names and definitions are those of :mod:`model.app.sweep`; this module only lays them out.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd

from model.app.sweep import CHANGE_COLUMNS, cap_id, premium_columns
from model.report.atomic import atomic_dir
from model.report.manifest import environment_entries, input_file_entries
from model.report.markdown import md_table
from model.results.tables import clean


def _labels(sw, f: pd.DataFrame) -> list[str]:
    return [", ".join(f"{r[k]:g}" for k in sw.keys) for _, r in f.iterrows()]


def _sweep_plots(sw, tmp: Path) -> list[str]:
    """The two frontier plots as PNG files in ``tmp``; returns their names. A grid draws one line per
    combination of the keys after the first (the first key varies along each line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = sw.frontier
    rest = list(sw.keys[1:])
    groups = [(None, f)] if not rest else list(f.groupby(rest, sort=False))
    files = []
    share_col = f"share_{sw.share_of}_frac"
    for name, xcol, scale, xlabel in [
        ("cost_vs_cvar_shortage.png", "cvar_shortage_t", 1.0, "CVaR of total shortage (t of magnet)"),
        ("cost_vs_share.png", share_col, 100.0, f"expected share of element supply from {sw.share_of} (%)"),
    ]:
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        for g, part in groups:
            label = None if g is None else ", ".join(
                f"{k.rsplit('.', 1)[-1]} = {v:g}" for k, v in zip(rest, g if isinstance(g, tuple) else (g,)))
            x, y = scale * part[xcol], part.expected_cost_usd / 1e6
            ax.plot(x, y, marker="o", label=label)
            # one label per distinct point: values that give the same plan share it ("1, 0.8, 0.6")
            spots: dict[tuple, list[str]] = {}
            for xi, yi, v in zip(x, y, part[sw.keys[0]]):
                spots.setdefault((round(float(xi), 9), round(float(yi), 9)), []).append(f"{v:g}")
            for (xi, yi), vals in spots.items():
                ax.annotate(", ".join(vals), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if rest:
            ax.legend(fontsize=8)
        for axis in (ax.xaxis, ax.yaxis):  # never an offset such as "1e-12+4.83": plain numbers
            axis.get_major_formatter().set_useOffset(False)
            axis.get_major_formatter().set_scientific(False)
        ax.margins(x=0.08, y=0.12)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("expected total cost (USD M)")
        title = f"{sw.case}: sweep of {sw.keys[0]}" + (" (grid)" if rest else "")
        ax.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=9)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(tmp / name)
        plt.close(fig)
        files.append(name)
    return files


def premium_table(sw) -> pd.DataFrame:
    """diversification_premium.csv: one row per point and swept cap (empty when no cap is swept)."""
    f, caps, out = sw.frontier, sw.cap_keys, []
    for k in caps:
        col = premium_columns(caps, k)
        part = f[["point", *sw.keys]].copy()
        part["cap"] = cap_id(k)
        part["expected_cost_usd"] = f.expected_cost_usd
        part["expected_cost_without_cap_usd"] = f[col["without_c"]]
        part["diversification_premium_expected_cost_usd"] = f[col["c"]]
        part["diversification_premium_expected_cost_usd_per_year"] = f[col["c_year"]]
        part["diversification_premium_expected_cost_usd_per_kg_magnet"] = f[col["c_kg"]]
        part["objective_usd"] = f.objective_usd
        part["objective_without_cap_usd"] = f[col["without_j"]]
        part["diversification_premium_objective_usd"] = f[col["j"]]
        out.append(part)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _definitions(sw) -> list[str]:
    out = []
    if sw.cap_keys:
        out.append("The **diversification premium** of a cap at a point is the expected cost of the plan with the "
                   "cap at that value minus the expected cost of the plan with *that* cap removed (the other swept "
                   "keys at the point's values, every other input and cap as given), over the "
                   f"{sw.horizon_years:.3g}-year horizon, per year, and per kg of magnet delivered at the point. "
                   "`diversification_premium_objective_usd` is the same difference of objectives (expected cost + "
                   "lambda x CVaR of cost), which is never negative.")
    if sw.reports_change:
        out.append("The **cost change** is the expected cost at the point minus that at point 1 (the first value "
                   "of every key), per year and per kg of magnet delivered at the point; it is not a premium.")
    return out


def sweep_markdown(sw, plots: list[str]) -> str:
    f, caps = sw.frontier, sw.cap_keys
    view = _frontier_view(sw)
    grid = " x ".join(f"{len(v)}" for v in sw.values)
    out = [f"# Sweep: {sw.case}, {sw.key}\n",
           f"Each row is the optimal plan (stochastic over the case's scenarios) with the swept keys set to the "
           f"row's values ({len(f)} points" + (f", a {grid} grid" if len(sw.keys) > 1 else "") + ")"
           + (f", after the case's named overrides {', '.join(sw.named_overrides)}" if sw.named_overrides else "")
           + ". " + " ".join(_definitions(sw)) + "\n",
           md_table(view, ",.3f") + "\n"]
    if caps and len(sw.references):
        r = sw.references
        solo = r[r.same_as_point.isna()]
        out.append(f"Plans without the cap: {len(r)}, of which {len(solo)} solved on their own (a point whose cap "
                   f"is already 1 is its own reference); see `manifest.json`.\n")
    out += [f"![{p}]({p})\n" for p in plots]
    timing = f"Solved {len(f)} points ({sw.solves} solves) by the {sw.path} path in {sw.sweep_s:.1f} s"
    if sw.speedup is not None:
        timing += (f"; one cold solve takes {sw.cold_solve_s:.1f} s, so {sw.solves} cold solves would take about "
                   f"{sw.cold_solve_s * sw.solves:.1f} s ({sw.speedup:.2f}x)")
    out.append(timing + ".\n")
    return "\n".join(out)


def _frontier_view(sw) -> pd.DataFrame:
    """The frontier as shown (units in the headers): the same columns as summary.md's table."""
    f, caps = sw.frontier, sw.cap_keys
    share_col = f"share_{sw.share_of}_frac"
    view = {"point": f.point} | {k: f[k] for k in sw.keys} | {
        "expected cost (USD M)": f.expected_cost_usd / 1e6, "CVaR cost (USD M)": f.cvar_cost_usd / 1e6,
        "expected shortage (t)": f.expected_shortage_t, "CVaR shortage (t)": f.cvar_shortage_t,
        f"{sw.share_of} share (%)": 100 * f[share_col]}
    for k in caps:
        col, of = premium_columns(caps, k), ("" if len(caps) == 1 else f" {cap_id(k)}")
        view |= {f"premium{of} (USD M)": f[col["c"]] / 1e6, f"premium{of} (USD M/yr)": f[col["c_year"]] / 1e6,
                 f"premium{of} (USD/kg magnet)": f[col["c_kg"]]}
    if sw.reports_change:
        view |= {"change vs point 1 (USD M)": f[CHANGE_COLUMNS["c"]] / 1e6,
                 "change vs point 1 (USD M/yr)": f[CHANGE_COLUMNS["c_year"]] / 1e6,
                 "change vs point 1 (USD/kg magnet)": f[CHANGE_COLUMNS["c_kg"]]}
    return pd.DataFrame(view)


def render_sweep_html(sw, plot_files: list[Path], manifest: dict) -> str:
    """One self-contained page: what the figures mean, the frontier table, the plots (base64 PNG), the
    manifest; the CSS and table style of a run's report.html."""
    import base64
    import html as _html

    from model.report.html import CSS, LOAD_SCRIPT, _manifest, _table

    e = _html.escape
    view = _frontier_view(sw)
    fmt = {c: ",.3f" for c in view.columns if c not in ("point", *sw.keys)} | {"point": "d"}
    words = " ".join(_definitions(sw)).replace("**", "").replace("*", "").replace("`", "")  # markdown -> text
    imgs = "".join(
        f"<figure><img alt=\"{e(p.stem.replace('_', ' '))}\" src=\"data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}\"></figure>" for p in plot_files)
    title = f"Sweep: {sw.case}, {sw.key}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{CSS}</style><script>{LOAD_SCRIPT}</script></head>\n<body>"
            f"<h1>{e(title)}</h1><p>{e(words)}</p>"
            f"<section id=\"frontier\"><h2>Frontier ({len(view)} points)</h2>{_table(view, fmt)}{imgs}</section>"
            f"<section id=\"manifest\"><h2>Run manifest</h2>{_manifest(manifest)}</section>"
            "\n</body></html>\n")


def write_sweep_excel(sw, manifest: dict, path: Path) -> None:
    """frontier.xlsx: the frontier and, for a cap sweep, the premium table, each an Excel table with
    units in the headers and number formats by unit; then the manifest."""
    from openpyxl import Workbook

    from model.report.excel import _emit, _manifest_sheet, write_table

    wb = Workbook(write_only=True)
    write_table(wb, "Frontier", clean(sw.frontier), "frontier")
    if sw.cap_keys:
        write_table(wb, "Premium", clean(premium_table(sw)), "premium")
    _emit(wb, _manifest_sheet(manifest))
    wb.save(path)


def _json_safe(df: pd.DataFrame) -> list[dict]:
    return json.loads(clean(df).to_json(orient="records"))


def write_sweep_report(sw, out_dir: str | Path, argv: list[str]) -> Path:
    def write(tmp: Path) -> None:
        sw.frontier.pipe(clean).to_csv(tmp / "frontier.csv", index=False, lineterminator="\n")
        if sw.cap_keys:
            premium_table(sw).pipe(clean).to_csv(tmp / "diversification_premium.csv", index=False, lineterminator="\n")
        plots = _sweep_plots(sw, tmp)
        (tmp / "summary.md").write_text(sweep_markdown(sw, plots))
        man = {
            "command_line": argv, "case": sw.case, "keys": list(sw.keys),
            "values": {k: list(v) for k, v in zip(sw.keys, sw.values)}, "points": len(sw.frontier),
            "named_overrides": list(sw.named_overrides), "path": sw.path,
            "measures": {"premium_of": [cap_id(k) for k in sw.cap_keys], "cost_change_vs_first": sw.reports_change},
            "definitions": _definitions(sw),
            "plans_without_cap": _json_safe(sw.references) if len(sw.references) else [],
            "input_files": input_file_entries(sw.input_files),
            "solver": {"name": "highs", "options": sw.solver_options},
            "timings_s": {"sweep_s": round(sw.sweep_s, 3), "solves": sw.solves,
                          "cold_solve_s": None if sw.cold_solve_s is None else round(sw.cold_solve_s, 3),
                          "per_point_s": [round(x, 3) for x in sw.frontier.solve_s]},
            "speedup_vs_cold": None if sw.speedup is None else round(sw.speedup, 3),
            **environment_entries(),
        }
        (tmp / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
        (tmp / "report.html").write_text(render_sweep_html(sw, [tmp / p for p in plots], man), encoding="utf-8")
        write_sweep_excel(sw, man, tmp / "frontier.xlsx")

    return atomic_dir(out_dir, write, protect=[p for p, _ in sw.input_files])
