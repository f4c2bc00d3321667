r"""Parameter sweeps (one input scalar, or a grid of several) and the diversification premium. Writes nothing.

``run_sweep(path, key, values)`` solves the case's plan (stochastic when it has scenarios) for each
value of one input scalar addressed by a dotted path (:mod:`model.input.dotted`), e.g.

    diversification_limits[crma_max_share_cn].max_share_frac    a country or origin-group share cap
    risk.risk_weight_lambda                                      the CVaR weight
    licence_rules[cn_dy_oxide_civil].quota_t_per_period          a licence quota
    recycling_routes[swarf_short_loop].capacity_t_feed_per_period  a recycling capacity

``run_sweep(path, [key_a, key_b], [values_a, values_b])`` solves every combination (a grid; the
first key varies slowest). Every point is read and validated first, like any input
(``io.read_case`` with the dotted overrides, after the case's chosen ``named_overrides``).

Glossary
--------
key         a dotted input path; the frontier has one column per key, named by the key
point p     one combination of the swept values (row of the frontier), numbered from 1
cap key     a key ``diversification_limits[ID].max_share_frac``: the share cap sigma_ID of limit ID
C(p)        expected cost of the optimal plan at p: sum_k pi_k cost_k, USD over the horizon
            (``expected_cost_usd``; pi_k the probability of scenario k)
J(p)        the objective at p, the quantity the plan minimises: C(p) + lambda CVaR_alpha(cost), USD
            (``objective_usd``; equals C(p) when ``risk.risk_weight_lambda`` is 0)
p \ d       point p with cap d removed: the other keys at p's values, every other cap kept
Y           horizon in years: periods x months_per_period / 12
D(p)        expected magnets delivered at p, kg (demand less shortage, probability-weighted)

Math
----
Diversification premium of cap d at point p, reported only for cap keys (columns
``diversification_premium_*``; the plan without the cap in ``*_without_cap_usd``)::

    premium_C(d, p) = C(p) - C(p \ d)        USD over the horizon; / Y per year; / D(p) per kg magnet
    premium_J(d, p) = J(p) - J(p \ d)        >= 0: removing a constraint never raises the optimum

Every other key reports the cost change versus the first point p_1 instead (never a premium)::

    change_C(p) = C(p) - C(p_1)              USD; / Y per year; / D(p) per kg magnet
    change_J(p) = J(p) - J(p_1)

The headline figure (console, summary, per year and per kg) is on expected cost C: what the plan
costs on average. With lambda > 0 the plan trades C against CVaR, and premium_C may then be negative
(the plan without the cap may accept a higher expected cost for a lower CVaR); premium_J may not.

``p \ d`` is solved as sigma_d = 1. The cap's row, selected - sigma_d x all <= 0 per calendar year
(:mod:`model.components.diversification`), then reads -(supply not from d's value) <= 0, which
every plan meets (coefficients and flows are >= 0): the same feasible set, so the same optimum, as
deleting the limit, and a warm sweep reaches it by changing one Param. A point whose cap value is
already 1 is its own reference (premium 0, no extra solve); otherwise each distinct reference is
solved once, before the first point that needs it. The warm path sets a cap of 1 as sigma_d = 2: the
row then reads -(selected + 2 x the rest) <= 0, again met by every plan (every sigma >= 1 is), but its
coefficients c (1 - sigma_d) stay non-zero; at exactly 1 they are 0, which HiGHS's coefficient update
refuses with a warning on the console.

Paths
-----
**Warm** (every swept key is one of the four kinds above, and no swept recycling capacity comes
from a CSV column): the extensive form is built once with those scalars as mutable Params, handed
once to Pyomo's persistent HiGHS interface, and for each point (and reference) the Params are changed
and HiGHS re-solves from the previous basis (only parameter updates are checked). A single key and a
grid of such keys both take it. **Cold** (any other key in the sweep or grid): the case is read, built
and solved afresh for each point and reference. ``measure_speedup`` adds one cold solve of the first
point, timed, so the speed-up (cold solve time x solves / sweep time) is measured, not assumed;
without it ``cold_solve_s`` and ``speedup`` are None.

Frontier columns (per point): ``point``, one column per key, ``objective_usd``,
``expected_cost_usd``, ``cvar_cost_usd``, ``first_stage_cost_usd``, ``expected_shortage_t`` and
``cvar_shortage_t`` (all streams), ``share_<share_of>_frac`` (expected share of element supply from a
country, default CN), ``magnets_delivered_t``; then, for a cap key, ``expected_cost_without_cap_usd``,
``objective_without_cap_usd``, ``diversification_premium_expected_cost_usd`` (``_per_year``,
``_per_kg_magnet``) and ``diversification_premium_objective_usd`` -- suffixed ``[ID]`` when a grid
holds more than one cap; when any key is not a cap, ``expected_cost_change_vs_first_usd``
(``_per_year``, ``_per_kg_magnet``) and ``objective_change_vs_first_usd``; last ``solve_s``.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from model.errors import InputError, InputIssue
from model.input.io import read_case
from model.input.scenarios import scenario_cases
from model.solve.highs import SolverOptions
from model.solve.persistent import PersistentHighs
from model.stochastic.extensive import build_extensive_form, cvar, run_stochastic
from model.units import KG_PER_T, USD_PER_KUSD

LAMBDA_KEY = "risk.risk_weight_lambda"
CAP_KEY = re.compile(r"^diversification_limits\[([^\]]+)\]\.max_share_frac$")
WARM_KEYS = (
    re.compile(r"^risk\.risk_weight_lambda$"),
    CAP_KEY,
    re.compile(r"^licence_rules\[[^\]]+\]\.quota_t_per_period$"),
    re.compile(r"^recycling_routes\[([^\]]+)\]\.capacity_t_feed_per_period$"),
)
NO_CAP = 1.0  # a share cap of 1 holds for every plan: the same optimum as no cap (module docstring)
WARM_NO_CAP = 2.0  # how the warm path sets a cap of 1 (also holds for every plan; module docstring)
MAX_POINTS = 1000  # grid points per sweep (each is read, validated and solved)


def is_warm(key: str, data) -> bool:
    if not any(p.match(key) for p in WARM_KEYS):
        return False
    m = WARM_KEYS[3].match(key)
    return not (m and f"capacity:{m.group(1)}" in data.from_csv)


def cap_id(key: str) -> str | None:
    """The limit id of a cap key ``diversification_limits[ID].max_share_frac``, else None."""
    m = CAP_KEY.match(key)
    return m.group(1) if m else None


def premium_columns(cap_keys: Sequence[str], key: str) -> dict[str, str]:
    """Frontier column names of cap ``key``'s premium (suffixed ``[ID]`` when several caps are swept)."""
    sfx = "" if len(cap_keys) == 1 else f"[{cap_id(key)}]"
    return {
        "without_c": f"expected_cost_without_cap_usd{sfx}",
        "without_j": f"objective_without_cap_usd{sfx}",
        "c": f"diversification_premium_expected_cost_usd{sfx}",
        "c_year": f"diversification_premium_expected_cost_usd_per_year{sfx}",
        "c_kg": f"diversification_premium_expected_cost_usd_per_kg_magnet{sfx}",
        "j": f"diversification_premium_objective_usd{sfx}",
    }


CHANGE_COLUMNS = {
    "c": "expected_cost_change_vs_first_usd",
    "c_year": "expected_cost_change_vs_first_usd_per_year",
    "c_kg": "expected_cost_change_vs_first_usd_per_kg_magnet",
    "j": "objective_change_vs_first_usd",
}


@dataclass(frozen=True)
class PointDone:
    """One finished solve, for a console line: a frontier point (``number`` from 1) or a reference
    solved on its own (``number`` None, ``removed`` the cap key set to 1)."""

    number: int | None
    total: int
    values: dict  # key -> value (a reference: the removed cap's key is absent)
    row: dict  # the frontier row (KPIs and premium or change), or the reference's KPIs
    removed: str | None = None


@dataclass(frozen=True)
class SweepResult:
    case: str
    keys: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]  # per key, as given
    path: str  # "warm" or "cold"
    frontier: pd.DataFrame  # one row per point (module docstring)
    references: pd.DataFrame  # one row per plan without a cap: without_cap (limit id), the keys, KPIs, point
    sweep_s: float  # every point and reference
    solves: int  # points and references solved (repeated points once)
    cold_solve_s: float | None  # one measured cold solve (read + build + solve + KPIs), measure_speedup only
    share_of: str
    horizon_years: float
    input_files: tuple = ()
    solver_options: dict | None = None
    named_overrides: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The swept key (a grid: the keys joined by `` x ``)."""
        return " x ".join(self.keys)

    @property
    def cap_keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if cap_id(k))

    @property
    def reports_change(self) -> bool:
        """Whether the frontier has the cost change versus the first point (some key is not a cap)."""
        return len(self.cap_keys) < len(self.keys)

    @property
    def speedup(self) -> float | None:
        if self.cold_solve_s is None or not self.sweep_s > 0:
            return None
        return self.cold_solve_s * self.solves / self.sweep_s


def _point_kpis(ef, share_of: str) -> dict:
    """Frontier KPIs read straight from a solved extensive form (no table extraction: a sweep point
    needs a handful of numbers, and extracting every table was most of a warm point's time)."""
    import pyomo.environ as pyo

    builts = ef.scenarios
    probs = np.array([b.data.probability for b in builts])
    alpha = builts[0].data.case.risk.cvar_alpha
    totals = np.array([pyo.value(ef.model.ScenarioTotal_kusd[k]) for k in range(len(builts))]) * USD_PER_KUSD
    short, delivered, sel, tot = [], [], [], []
    for b in builts:
        m, sets = b.model, b.sets
        sh = sum(m.Shortage_t[k].value or 0.0 for k in m.Shortage_t)
        short.append(sh)
        delivered.append(sum(sum(v) for v in b.data.demand_t_per_period.values()) - sh)
        country = {o.id: o.country for o in b.data.case.offers}
        ea = sets.ELEM_ARRIVAL
        x = np.array([m.Purchase_t[o, t].value or 0.0 for o, t in zip(ea.o, ea.t)]) * ea.frac.to_numpy()
        is_sel = np.array([country[o] == share_of for o in ea.o], dtype=bool)
        rc = sets.RECOVERY
        y = np.array([m.RecycleFeed_t[k, s, t].value or 0.0 for k, s, t in zip(rc.route, rc.src, rc.t)]) * rc.coef.to_numpy()
        y_sel = (rc.country == share_of).to_numpy(dtype=bool)
        sel.append(float(x[is_sel].sum() + y[y_sel].sum()))
        tot.append(float(x.sum() + y.sum()))
    short = np.array(short)
    e_tot = float(probs @ np.array(tot))
    return {
        "objective_usd": float(pyo.value(ef.model.RiskAdjustedCost)) * USD_PER_KUSD,
        "expected_cost_usd": float(probs @ totals),
        "cvar_cost_usd": cvar(totals, probs, alpha),
        "first_stage_cost_usd": float(pyo.value(builts[0].model.FirstStageCost_kusd)) * USD_PER_KUSD,
        "expected_shortage_t": float(probs @ short),
        "cvar_shortage_t": cvar(short, probs, alpha),
        f"share_{share_of}_frac": float(probs @ np.array(sel)) / e_tot if e_tot > 0 else 0.0,
        "magnets_delivered_t": float(probs @ np.array(delivered)),
    }


def _stochastic_kpis(data, options: SolverOptions, share_of: str) -> dict:
    # the Pyomo extensive form: its KPIs are read straight off its model (``arrays`` would build none)
    return _point_kpis(run_stochastic(data, options, with_evpi_vss=False, arrays=False).ef, share_of)


def _grid(keys, values) -> tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]:
    """(keys, values per key) from one key and its values, or lists of both; checked."""
    if isinstance(keys, str):
        keys, values = [keys], [values]
    keys, values = tuple(keys), tuple(tuple(float(v) for v in vs) for vs in values)
    issues = []
    if not keys or len(keys) != len(values) or any(not vs for vs in values):
        raise ValueError("run_sweep needs one list of values per key, none empty")
    seen = set()
    for k in keys:
        if k in seen:
            issues.append(InputIssue("(command line)", "--set", k, "each key in at most one --set"))
        seen.add(k)
    n = int(np.prod([len(vs) for vs in values]))
    if n > MAX_POINTS:
        issues.append(InputIssue("(command line)", "--set", f"{n:,} points",
                                 f"a grid of at most {MAX_POINTS:,} points (the product of the numbers of values)"))
    if issues:
        raise InputError(issues)
    return keys, values


def _per(usd: float, years: float, kg: float) -> tuple[float, float]:
    return usd / years, (usd / kg if kg > 0 else float("nan"))


def run_sweep(path: str | Path, key: str | Sequence[str], values: Sequence[float] | Sequence[Sequence[float]],
              options: SolverOptions = SolverOptions(), share_of: str = "CN", *,
              named_overrides: Sequence[str] = (), measure_speedup: bool = True,
              on_point: Callable[[PointDone], None] | None = None) -> SweepResult:
    """Solve every point of the sweep (module docstring). ``key`` one dotted path and ``values`` its
    values, or a list of paths and a list of value lists (a grid). ``named_overrides``: the case's
    ``overrides`` entries to apply first (``--override``). ``on_point`` is called after each solve,
    in order. ``measure_speedup`` (the CLI's ``--measure-speedup``; default True for API callers such
    as ``benchmarks/run.py``) times one extra cold solve of the first point."""
    keys, grid = _grid(key, values)
    named = tuple(named_overrides)
    points = list(itertools.product(*grid))
    caps = tuple(k for k in keys if cap_id(k))

    def reference(pt: tuple, k: str) -> tuple:
        i = keys.index(k)
        return pt[:i] + (NO_CAP,) + pt[i + 1:]

    wanted = list(dict.fromkeys(points + [reference(pt, k) for pt in points for k in caps]))
    datas = {pt: read_case(path, dict(zip(keys, pt)), named) for pt in wanted}  # validate all before solving
    base = datas[points[0]]
    case = base.case
    horizon_years = case.horizon.periods * case.horizon.months_per_period / 12.0
    warm = all(is_warm(k, base) for k in keys)

    if warm:
        ef = build_extensive_form(scenario_cases(base), nonant="rows", tunable=frozenset(keys))
        solver = PersistentHighs(options)

        def solve_point(pt: tuple) -> dict:
            for k, v in zip(keys, pt):
                if k == LAMBDA_KEY:
                    ef.model.RiskWeight.set_value(v)
                else:
                    v = WARM_NO_CAP if cap_id(k) and v >= NO_CAP else v
                    for b in ef.scenarios:
                        b.model.Tunable[k].set_value(v)
            solver.solve(ef.model)
            return _point_kpis(ef, share_of)
    else:
        def solve_point(pt: tuple) -> dict:
            return _stochastic_kpis(datas[pt], options, share_of)

    t0 = time.perf_counter()
    solved: dict[tuple, dict] = {}

    def solve(pt: tuple) -> dict:
        if pt not in solved:
            ts = time.perf_counter()
            kpis = solve_point(pt)
            solved[pt] = kpis | {"solve_s": time.perf_counter() - ts}
        return solved[pt]

    rows, refs = [], {}
    for n, pt in enumerate(points, start=1):
        for k in caps:
            ref = reference(pt, k)
            if ref != pt and ref not in solved:
                kp = solve(ref)
                if on_point:
                    on_point(PointDone(None, len(points), {kk: v for kk, v in zip(keys, ref) if kk != k}, kp, k))
        kp = solve(pt)
        kg = kp["magnets_delivered_t"] * KG_PER_T
        row = {"point": n} | dict(zip(keys, pt)) | {k: v for k, v in kp.items() if k != "solve_s"}
        for k in caps:
            ref = reference(pt, k)
            r, col = solved[ref], premium_columns(caps, k)
            refs.setdefault((k, ref), r)
            prem = kp["expected_cost_usd"] - r["expected_cost_usd"]
            py, pkg = _per(prem, horizon_years, kg)
            row |= {col["without_c"]: r["expected_cost_usd"], col["without_j"]: r["objective_usd"],
                    col["c"]: prem, col["c_year"]: py, col["c_kg"]: pkg,
                    col["j"]: kp["objective_usd"] - r["objective_usd"]}
        if len(caps) < len(keys):
            first = solved[points[0]]
            ch = kp["expected_cost_usd"] - first["expected_cost_usd"]
            cy, ckg = _per(ch, horizon_years, kg)
            row |= {CHANGE_COLUMNS["c"]: ch, CHANGE_COLUMNS["c_year"]: cy, CHANGE_COLUMNS["c_kg"]: ckg,
                    CHANGE_COLUMNS["j"]: kp["objective_usd"] - first["objective_usd"]}
        row["solve_s"] = kp["solve_s"]
        rows.append(row)
        if on_point:
            on_point(PointDone(n, len(points), dict(zip(keys, pt)), row))
    sweep_s = time.perf_counter() - t0

    cold_s = None
    if measure_speedup:  # one measured cold solve of the first point, for the speed-up figure
        tc = time.perf_counter()
        _stochastic_kpis(read_case(path, dict(zip(keys, points[0])), named), options, share_of)
        cold_s = time.perf_counter() - tc

    number = {pt: n for n, pt in reversed(list(enumerate(points, start=1)))}
    ref_rows = [{"without_cap": cap_id(k)} | {kk: (np.nan if kk == k else v) for kk, v in zip(keys, ref)}
                | {c: v for c, v in r.items() if c != "solve_s"}
                | {"same_as_point": number.get(ref), "solve_s": r["solve_s"]}
                for (k, ref), r in refs.items()]
    return SweepResult(case=case.name, keys=keys, values=grid, path="warm" if warm else "cold",
                       frontier=pd.DataFrame(rows), references=pd.DataFrame(ref_rows), sweep_s=sweep_s,
                       solves=len(solved), cold_solve_s=cold_s, share_of=share_of, horizon_years=horizon_years,
                       input_files=base.input_files, named_overrides=named,
                       solver_options=options.highs_options() | {"path": "persistent" if warm else options.path})


def point_line(p: PointDone, keys: Sequence[str]) -> str:
    """One console line for a finished solve: its values, expected cost, and premium or cost change."""
    vals = ", ".join(f"{k} = {v:g}" for k, v in p.values.items())
    cost = f"expected cost {p.row['expected_cost_usd'] / 1e6:,.3f} USD M"
    if p.number is None:
        return f"  reference without {cap_id(p.removed)} ({vals or 'other inputs as given'}): {cost}"
    caps = [k for k in keys if cap_id(k)]
    parts = [f"  [{p.number}/{p.total}] {vals}: {cost}"]
    for k in caps:
        col = premium_columns(caps, k)
        parts.append(f"diversification premium{'' if len(caps) == 1 else ' of ' + str(cap_id(k))} "
                     f"{p.row[col['c_year']] / 1e6:,.3f} USD M/yr ({p.row[col['c_kg']]:,.2f} USD/kg magnet)")
    if len(caps) < len(keys):
        parts.append(f"cost change vs point 1 {p.row[CHANGE_COLUMNS['c_year']] / 1e6:+,.3f} USD M/yr "
                     f"({p.row[CHANGE_COLUMNS['c_kg']]:+,.2f} USD/kg magnet)")
    return ", ".join(parts)


def speedup_line(sw: SweepResult) -> str:
    """The closing console line: the path, the time, and (measured only) the speed-up over cold solves."""
    s = (f"sweep of {len(sw.frontier)} points ({sw.solves} solves) by the {sw.path} path in {sw.sweep_s:.1f} s")
    if sw.speedup is None:
        return s + " (--measure-speedup to compare with cold solves)"
    word = "faster" if sw.speedup >= 1 else "slower"
    return (s + f"; {sw.solves} cold solves would take about {sw.cold_solve_s * sw.solves:.1f} s: "
            f"{sw.speedup:.2f}x: {word} than cold solves")
