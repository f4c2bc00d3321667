"""Compare report folders: the same headline in every mode, a cost bridge, the plan and input
differences, and every KPI the runs share. ``write_compare_report`` writes, atomically,
``headline.csv``, ``cost_bridge.csv``, ``plan_differences.csv``, ``input_differences.csv``,
``kpi_differences.csv``, ``summary.md`` and ``manifest.json``.

Runs of different modes name their KPIs differently (a stochastic run reports ``expected_cost_usd``
and ``expected_cost_parts_usd``, a deterministic run ``objective_usd`` and ``cost_parts_usd``), so a
comparison is made on :func:`common_kpis`, one vocabulary for every mode:

``total_cost_usd``        expected total cost (stochastic), the total cost (any single-scenario run)
``objective_usd``         what the run minimised (stochastic with a risk weight: expected + lambda x CVaR)
``cvar_cost_usd``         CVaR of cost (stochastic only)
``present_value_usd``, ``first_stage_cost_usd``, ``spend_decided_now_usd``
``cost_parts_usd.<term>`` cost by term (expected for a stochastic run)
``streams.<s>.fill_rate_frac``, ``streams.<s>.shortage_t``, ``streams.<s>.demand_t``
``supply_share_by_country_frac.<country>``, ``supply_share_by_origin_group_frac.<group>``,
``recycled_share_frac.<element>``, ``element_supply_t.<element>`` (expected for a stochastic run)

A key one run does not have (CVaR of a deterministic run) shows as ``n/a``; nothing else is absent.

``cost_bridge``: B - A per cost term; the terms add up to the change of ``total_cost_usd``.
``plan_differences``: t ordered per offer (probability-weighted), A against B, from each folder's
``purchases.csv``. ``input_differences``: the inputs that changed, by dotted path (list entries by
id: ``offers[cn_dy_oxide_spot].price_usd_per_kg``), from each folder's ``inputs.json`` (the
validated case and its time series, written by every run); a folder without it (an older report)
is compared by its input files' hashes only.

Every number is shown with its unit, chosen from the key's suffix (:func:`shown`): ``_usd`` in USD M,
``_t`` in t, ``_frac`` in %.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from model.flatten import flatten
from model.report.atomic import atomic_dir
from model.report.manifest import environment_entries, input_file_entries
from model.report.markdown import md_table

HEADLINE = ("total_cost_usd", "objective_usd", "cvar_cost_usd", "present_value_usd", "first_stage_cost_usd",
            "spend_decided_now_usd")
TOP_PLAN_ROWS = 25


def _read_json(f: Path, what: str) -> object:
    """A UTF-8 JSON file, checked; one input error naming the file otherwise."""
    from model.errors import InputError, InputIssue

    def bad(value: object, expected: str) -> InputError:
        return InputError([InputIssue(str(f), "(file)", value, expected)])

    if not f.is_file():
        raise bad(str(f), f"a report folder holding {f.name} (as written by solve.py)")
    try:
        size = f.stat().st_size
        if size > 64 * 1024 * 1024:
            raise bad(f"{size} bytes", f"a {f.name} of at most 64 MiB")
        text = f.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise bad("(not UTF-8)", f"a {f.name} in UTF-8, as written by solve.py") from None
    except OSError as e:
        raise bad(e.strerror or type(e).__name__, f"a readable {f.name}") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        where = f"line {e.lineno} column {e.colno}" if hasattr(e, "lineno") else "(too deeply nested)"
        raise bad(where, "well-formed JSON, as written by solve.py") from None


def read_report_kpis(folder: str | Path) -> dict:
    """The ``kpis.json`` of a report folder, checked: a UTF-8 JSON object. Anything else is one input
    error naming the file (``compare`` reads every folder before writing anything)."""
    from model.errors import InputError, InputIssue

    f = Path(folder) / "kpis.json"
    doc = _read_json(f, "kpis")
    if not isinstance(doc, dict):
        raise InputError([InputIssue(str(f), "(file)", f"(a JSON {type(doc).__name__})",
                                     "a JSON object of KPIs, as written by solve.py")])
    return doc


@dataclass(frozen=True)
class Report:
    folder: Path
    kpis: dict
    purchases: pd.DataFrame | None  # purchases.csv, if the folder has it
    inputs: dict | None  # inputs.json, if the folder has it
    input_hashes: dict  # path -> sha256, from manifest.json

    @property
    def label(self) -> str:
        return self.folder.name or str(self.folder)


def read_report(folder: str | Path) -> Report:
    """A report folder's KPIs (required), plan and inputs (when present and readable)."""
    folder = Path(folder)
    kpis = read_report_kpis(folder)
    pur = None
    if (folder / "purchases.csv").is_file():
        try:
            pur = pd.read_csv(folder / "purchases.csv")
            if not {"offer", "order_period", "purchased_t"} <= set(pur.columns):
                pur = None
        except (OSError, ValueError, UnicodeDecodeError):
            pur = None
    inputs = None
    if (folder / "inputs.json").is_file():
        doc = _read_json(folder / "inputs.json", "inputs")
        inputs = doc if isinstance(doc, dict) else None
    hashes = {}
    if (folder / "manifest.json").is_file():
        try:
            man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            hashes = {f.get("path"): f.get("sha256") for f in man.get("input_files", []) if isinstance(f, dict)}
        except (OSError, ValueError, AttributeError, UnicodeDecodeError):
            hashes = {}
    return Report(folder, kpis, pur, inputs, hashes)


def common_kpis(k: dict) -> dict[str, float]:
    """The KPIs of any mode in one vocabulary (module docstring), flattened to dotted keys."""
    stoch = "expected_cost_usd" in k
    out: dict[str, float] = {}

    def put(key: str, v) -> None:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = float(v)

    put("total_cost_usd", k.get("expected_cost_usd") if stoch else k.get("objective_usd"))
    put("objective_usd", k.get("objective_usd"))
    put("cvar_cost_usd", k.get("cvar_cost_usd") if stoch else None)
    for key in ("present_value_usd", "first_stage_cost_usd", "spend_decided_now_usd"):
        put(key, k.get(key))
    pre = "expected_" if stoch else ""
    for term, v in (k.get(f"{pre}cost_parts_usd") or {}).items():
        put(f"cost_parts_usd.{term}", v)
    for s, v in (k.get("streams") or {}).items():
        if isinstance(v, dict):
            put(f"streams.{s}.fill_rate_frac", v.get("expected_fill_rate" if stoch else "fill_rate"))
            put(f"streams.{s}.shortage_t", v.get("expected_shortage_t" if stoch else "shortage_t"))
            put(f"streams.{s}.demand_t", v.get("expected_demand_t" if stoch else "demand_t"))
    for src, dst in (("supply_share_by_country", "supply_share_by_country_frac"),
                     ("supply_share_by_origin_group", "supply_share_by_origin_group_frac"),
                     ("recycled_share", "recycled_share_frac"), ("element_supply_t", "element_supply_t")):
        flat: dict[str, float] = {}
        flatten(dst, k.get(f"{pre}{src}") or {}, flat)
        for key, v in flat.items():
            put(key, v)
    return out


def shown(key: str, v: float | None, difference: bool = False) -> str:
    """``v`` with the unit its key names (a difference of fractions in percentage points)."""
    if v is None or v != v:
        return "n/a"
    last = key.rsplit(".", 1)[0] if "." in key and not key.rsplit(".", 1)[1].endswith(("_usd", "_t", "_frac")) else key
    if key.endswith("_usd") or "_usd." in key or last.endswith("_usd"):
        return f"{v / 1e6:,.3f} USD M"
    if key.endswith("_frac") or "_frac." in key or last.endswith("_frac"):
        return f"{100 * v:+,.2f} pp" if difference else f"{100 * v:,.2f} %"
    if key.endswith("_t") or "_t." in key or last.endswith("_t"):
        return f"{v:,.3f} t"
    return f"{v:,.6g}"


def headline_table(reports: list[Report]) -> pd.DataFrame:
    """One row per common KPI, one column per report (values as numbers), in a stable order."""
    views = [common_kpis(r.kpis) for r in reports]
    keys = [k for k in HEADLINE if any(k in v for v in views)]
    keys += sorted({k for v in views for k in v} - set(keys))
    rows = [{"kpi": k, **{r.label if i == 0 or r.label != reports[0].label else f"{r.label} ({i + 1})": v.get(k)
                          for i, (r, v) in enumerate(zip(reports, views))}} for k in keys]
    return pd.DataFrame(rows)


def cost_bridge(a: Report, b: Report) -> pd.DataFrame:
    va, vb = common_kpis(a.kpis), common_kpis(b.kpis)
    terms = sorted({k for k in (*va, *vb) if k.startswith("cost_parts_usd.")})
    rows = [(t.split(".", 1)[1], va.get(t, 0.0), vb.get(t, 0.0)) for t in terms]
    df = pd.DataFrame(rows, columns=["term", "a_usd", "b_usd"])
    df["b_minus_a_usd"] = df.b_usd - df.a_usd
    return df.sort_values("b_minus_a_usd", key=lambda s: -s.abs(), kind="stable").reset_index(drop=True)


def _ordered(pur: pd.DataFrame | None) -> pd.DataFrame:
    if pur is None or not len(pur):
        return pd.DataFrame(columns=["offer", "order_period", "t"])
    w = pur.purchased_t * pur.probability if "probability" in pur.columns else pur.purchased_t
    return pur.assign(t=w).groupby(["offer", "order_period"], as_index=False).t.sum()


def plan_differences(a: Report, b: Report) -> pd.DataFrame:
    """t ordered per offer and order period, A and B (expected over scenarios), and the change."""
    pa, pb = _ordered(a.purchases), _ordered(b.purchases)
    m = pa.merge(pb, on=["offer", "order_period"], how="outer", suffixes=("_a", "_b")).fillna({"t_a": 0.0, "t_b": 0.0})
    m = m.rename(columns={"t_a": "a_t", "t_b": "b_t"})
    m["b_minus_a_t"] = m.b_t - m.a_t
    return m.sort_values(["offer", "order_period"]).reset_index(drop=True)


def _flat_inputs(obj, prefix: str, out: dict) -> None:
    """Dotted paths of an inputs.json value; list entries named by id (or element, name) when they have one."""
    if isinstance(obj, dict):
        for k in sorted(obj):
            _flat_inputs(obj[k], f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj) and any(
            any(key in x for key in ("id", "element", "name")) for x in obj):
        for i, x in enumerate(obj):
            name = next((x[key] for key in ("id", "element", "name") if key in x), i)
            _flat_inputs({k: v for k, v in x.items()}, f"{prefix}[{name}]", out)
    else:
        out[prefix] = json.dumps(obj, sort_keys=True)


def input_differences(a: Report, b: Report) -> pd.DataFrame:
    """The inputs that differ, by dotted path (module docstring)."""
    cols = ["input", "a", "b"]
    if a.inputs is None or b.inputs is None:
        rows = [(p, a.input_hashes.get(p, "(absent)"), b.input_hashes.get(p, "(absent)"))
                for p in sorted(set(a.input_hashes) | set(b.input_hashes))
                if a.input_hashes.get(p) != b.input_hashes.get(p)]
        return pd.DataFrame([(f"(file {p}, sha256)", x, y) for p, x, y in rows], columns=cols)
    fa, fb = {}, {}
    _flat_inputs(_series_by_period(a.inputs), "", fa)
    _flat_inputs(_series_by_period(b.inputs), "", fb)
    rows = [(k, fa.get(k, "(absent)"), fb.get(k, "(absent)")) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    return pd.DataFrame(rows, columns=cols)


def _series_by_period(doc: dict) -> dict:
    """inputs.json with each time series as a map period label -> value, so a change is named by its
    period (``series.price_usd_per_kg.cn_dy_oxide_spot.2027-05``)."""
    h = (doc.get("case") or {}).get("horizon") or {}
    try:
        y, m = map(int, str(h["start_month"]).split("-"))
        step = int(h.get("months_per_period", 1))
    except (KeyError, ValueError, TypeError):
        return doc

    def label(i: int) -> str:
        k = y * 12 + m - 1 + i * step
        return f"{k // 12:04d}-{k % 12 + 1:02d}"

    series = {kind: {key: {label(i): v for i, v in enumerate(vals)} if isinstance(vals, list) else vals
                     for key, vals in (per or {}).items()}
              for kind, per in (doc.get("series") or {}).items()}
    return {**doc, "series": series}


def kpi_differences(a: dict, b: dict) -> pd.DataFrame:
    """Every numeric KPI both runs have (timings excluded), with absolute and relative change; a KPI
    only one run has is left to :func:`common_kpis` (counted in the summary)."""
    fa, fb = {}, {}
    flatten("", {k: v for k, v in a.items() if k != "run"}, fa)
    flatten("", {k: v for k, v in b.items() if k != "run"}, fb)
    rows = []
    for key in sorted(set(fa) & set(fb)):
        va, vb = fa[key], fb[key]
        diff = vb - va
        rel = None if va == 0 else diff / abs(va)
        rows.append((key, va, vb, diff, rel))
    df = pd.DataFrame(rows, columns=["kpi", "a", "b", "b_minus_a", "relative_change"])
    return df.astype({"kpi": str, "a": float, "b": float, "b_minus_a": float, "relative_change": float})


@dataclass(frozen=True)
class Comparison:
    reports: tuple[Report, ...]
    headline: pd.DataFrame
    bridge: pd.DataFrame  # first vs second
    plan: pd.DataFrame
    inputs: pd.DataFrame
    kpis: pd.DataFrame
    only_one_side: int  # raw KPIs only one of the first two runs has


def compare_reports(reports: list[Report]) -> Comparison:
    a, b = reports[0], reports[1]
    fa, fb = {}, {}
    flatten("", {k: v for k, v in a.kpis.items() if k != "run"}, fa)
    flatten("", {k: v for k, v in b.kpis.items() if k != "run"}, fb)
    return Comparison(tuple(reports), headline_table(reports), cost_bridge(a, b), plan_differences(a, b),
                      input_differences(a, b), kpi_differences(a.kpis, b.kpis), len(set(fa) ^ set(fb)))


def _console_row(key: str) -> bool:
    return key in HEADLINE or key.endswith((".fill_rate_frac", ".shortage_t")) or key.startswith("supply_share_by_country_frac")


def summary_lines(c: Comparison, console: bool = False) -> list[str]:
    """The comparison in words and tables: summary.md, or (``console``) the headline rows and the
    bridge for the terminal."""
    a, b = c.reports[0], c.reports[1]
    cols = list(c.headline.columns[1:])
    head = c.headline.copy()
    if console:
        head = head[[_console_row(k) for k in head.kpi]]
    view = pd.DataFrame({"kpi": head.kpi})
    for col in cols:
        view[col] = [shown(k, v) for k, v in zip(head.kpi, head[col])]
    if len(c.reports) == 2:
        va, vb = head[cols[0]], head[cols[1]]
        view["B - A"] = [shown(k, (y - x) if x == x and y == y and x is not None and y is not None else None, True)
                         for k, x, y in zip(head.kpi, va, vb)]
    out = [f"# Comparison: {', '.join(r.label for r in c.reports)}\n",
           "Headline in one vocabulary for every mode (a value a mode does not have is n/a):\n",
           md_table(view) + "\n"]
    br = c.bridge
    if len(br):
        ta = common_kpis(a.kpis).get("total_cost_usd")
        tb = common_kpis(b.kpis).get("total_cost_usd")
        out.append(f"## Cost bridge from {a.label} to {b.label}\n")
        if ta is not None and tb is not None:
            out.append(f"Total cost {shown('x_usd', ta)} -> {shown('x_usd', tb)}: the terms below add up to the change of "
                       f"{shown('x_usd', tb - ta)}.\n")
        bv = pd.DataFrame({"term": br.term, a.label: [shown("x_usd", v) for v in br.a_usd],
                           b.label: [shown("x_usd", v) for v in br.b_usd],
                           "B - A": [shown("x_usd", v, True) for v in br.b_minus_a_usd]})
        out.append(md_table(bv) + "\n")
    pl = c.plan
    if len(pl):
        by = pl.groupby("offer", as_index=False)[["a_t", "b_t", "b_minus_a_t"]].sum()
        by = by[(by.a_t.abs() > 1e-9) | (by.b_t.abs() > 1e-9)]
        by = by.reindex(by.b_minus_a_t.abs().sort_values(ascending=False).index)
        out.append("## Plan: t ordered per offer over the horizon (expected over scenarios)\n")
        out.append(md_table(pd.DataFrame({"offer": by.offer, a.label: [shown("x_t", v) for v in by.a_t],
                                          b.label: [shown("x_t", v) for v in by.b_t],
                                          "B - A": [shown("x_t", v) for v in by.b_minus_a_t]})) + "\n")
        out.append("By offer and period: `plan_differences.csv`.\n")
    out.append("## Inputs that differ\n")
    if len(c.inputs):
        shown_rows = c.inputs.head(40)
        out.append(md_table(shown_rows) + "\n")
        if len(c.inputs) > 40:
            out.append(f"The first 40 of {len(c.inputs)} (all in `input_differences.csv`).\n")
    else:
        out.append("None: both runs read the same inputs (the difference is in how they were run: mode, options).\n")
    out.append(f"Every KPI both runs report: `kpi_differences.csv` ({len(c.kpis)} values; {c.only_one_side} more are "
               "reported by one run only, as modes name them differently; the headline above maps them).\n")
    return out


def write_compare_report(c: Comparison, out_dir: str | Path, argv: list[str] | None = None) -> Path:
    folders = [r.folder for r in c.reports]

    def write(tmp: Path) -> None:
        c.headline.to_csv(tmp / "headline.csv", index=False, lineterminator="\n")
        c.bridge.to_csv(tmp / "cost_bridge.csv", index=False, lineterminator="\n")
        c.plan.to_csv(tmp / "plan_differences.csv", index=False, lineterminator="\n")
        c.inputs.to_csv(tmp / "input_differences.csv", index=False, lineterminator="\n")
        c.kpis.to_csv(tmp / "kpi_differences.csv", index=False, lineterminator="\n")
        (tmp / "manifest.json").write_text(json.dumps({
            "command_line": argv or sys.argv,
            "input_files": input_file_entries((str(d / "kpis.json"), hashlib.sha256((d / "kpis.json").read_bytes()).hexdigest())
                                              for d in folders),
            **environment_entries(),
        }, indent=2) + "\n")
        (tmp / "summary.md").write_text("\n".join(summary_lines(c)))

    return atomic_dir(out_dir, write, protect=[d / "kpis.json" for d in folders])
