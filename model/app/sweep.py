"""Parameter sweeps and the diversification frontier. Writes nothing.

``run_sweep(path, key, values)`` solves the case's plan (stochastic when it has scenarios) for each
value of one input scalar addressed by a dotted path, e.g.

    diversification_limits[crma_max_share_cn].max_share_frac    a country or origin-group share cap
    risk.risk_weight_lambda                                      the CVaR weight
    licence_rules[cn_dy_oxide_civil].quota_t_per_period          a licence quota
    recycling_routes[swarf_short_loop].capacity_t_feed_per_period  a recycling capacity

Every value is validated first, like any input (``io.read_case`` with overrides).

**Warm path** (the four kinds of key above, when the scalar is not overridden by a CSV column):
the extensive form is built once with that scalar as a mutable Param, handed once to Pyomo's
persistent HiGHS interface, and for each value the Param is changed and HiGHS re-solves from the
previous basis (only parameter updates are checked). **Cold path** (any other scalar): the case is
read, built and solved afresh for each value. Either way the result says which path ran and how
long one cold solve takes, so the speed-up is measured, not assumed.

Frontier columns (per value): objective, expected cost, CVaR of cost, expected and CVaR total
shortage (all streams), the expected share of element supply from ``share_of`` (a country,
default CN), expected magnets delivered, and the **diversification premium**: the expected cost
above the unconstrained plan (the same case with every diversification limit removed), in USD over
the horizon, USD per year, and USD per kg of magnet delivered.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from model.input.io import read_case
from model.input.scenarios import scenario_cases
from model.solve.highs import SolverOptions
from model.solve.persistent import PersistentHighs
from model.stochastic.extensive import build_extensive_form, cvar, run_stochastic
from model.units import KG_PER_T, USD_PER_KUSD

WARM_KEYS = (
    re.compile(r"^risk\.risk_weight_lambda$"),
    re.compile(r"^diversification_limits\[[^\]]+\]\.max_share_frac$"),
    re.compile(r"^licence_rules\[[^\]]+\]\.quota_t_per_period$"),
    re.compile(r"^recycling_routes\[([^\]]+)\]\.capacity_t_feed_per_period$"),
)


def is_warm(key: str, data) -> bool:
    if not any(p.match(key) for p in WARM_KEYS):
        return False
    m = WARM_KEYS[3].match(key)
    return not (m and f"capacity:{m.group(1)}" in data.from_csv)


@dataclass(frozen=True)
class SweepResult:
    case: str
    key: str
    values: tuple[float, ...]
    path: str  # "warm" or "cold"
    frontier: pd.DataFrame
    reference_expected_cost_usd: float
    sweep_s: float
    cold_solve_s: float  # one measured cold solve (read + build + hand-off + solve + extract)
    share_of: str
    horizon_years: float
    input_files: tuple = ()
    solver_options: dict | None = None

    @property
    def speedup(self) -> float:
        return (self.cold_solve_s * len(self.values)) / self.sweep_s if self.sweep_s > 0 else float("nan")


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
    return _point_kpis(run_stochastic(data, options, with_evpi_vss=False).ef, share_of)


def run_sweep(path: str | Path, key: str, values: list[float], options: SolverOptions = SolverOptions(),
              share_of: str = "CN", progress: Callable[[int, int, float], None] | None = None) -> SweepResult:
    datas = [read_case(path, {key: v}) for v in values]  # validate every value before solving anything
    base = datas[0]
    case = base.case
    horizon_years = case.horizon.periods * case.horizon.months_per_period / 12.0
    warm = is_warm(key, base)

    t0 = time.perf_counter()
    rows = []
    if warm:
        tunable = frozenset({key})
        ef = build_extensive_form(scenario_cases(base), nonant="rows", tunable=tunable)
        solver = PersistentHighs(options)
        for i, (v, d) in enumerate(zip(values, datas)):
            if progress:
                progress(i, len(values), v)
            if key == "risk.risk_weight_lambda":
                ef.model.RiskWeight.set_value(v)
            else:
                for b in ef.scenarios:
                    b.model.Tunable[key].set_value(v)
            ts = time.perf_counter()
            solver.solve(ef.model)
            rows.append({"value": v} | _point_kpis(ef, share_of) | {"solve_s": time.perf_counter() - ts})
    else:
        for i, (v, d) in enumerate(zip(values, datas)):
            if progress:
                progress(i, len(values), v)
            ts = time.perf_counter()
            rows.append({"value": v} | _stochastic_kpis(d, options, share_of) | {"solve_s": time.perf_counter() - ts})
    if progress:
        progress(len(values), len(values), values[-1])
    sweep_s = time.perf_counter() - t0

    # one measured cold solve of the first value, for the speed-up figure
    tc = time.perf_counter()
    _stochastic_kpis(read_case(path, {key: values[0]}), options, share_of)
    cold_s = time.perf_counter() - tc

    # the unconstrained reference: the case with no diversification limit (at the case's own values)
    ref_data = read_case(path)
    ref_data = replace(ref_data, case=ref_data.case.model_copy(update={"diversification_limits": []}))
    ref = _stochastic_kpis(ref_data, options, share_of)["expected_cost_usd"]

    df = pd.DataFrame(rows)
    df["diversification_premium_usd"] = df.expected_cost_usd - ref
    df["diversification_premium_usd_per_year"] = df.diversification_premium_usd / horizon_years
    kg = df.magnets_delivered_t * KG_PER_T
    df["diversification_premium_usd_per_kg_magnet"] = np.where(kg > 0, df.diversification_premium_usd / kg.where(kg > 0, 1), np.nan)
    return SweepResult(case=case.name, key=key, values=tuple(values), path="warm" if warm else "cold", frontier=df,
                       reference_expected_cost_usd=ref, sweep_s=sweep_s, cold_solve_s=cold_s, share_of=share_of,
                       horizon_years=horizon_years, input_files=base.input_files,
                       solver_options=options.highs_options() | {"path": "persistent" if warm else options.path})
