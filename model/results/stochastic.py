"""Tables and KPIs of a stochastic run, from the per-scenario solutions. Writes nothing.

Tables: every per-scenario table of :mod:`model.results.tables`, stacked with ``scenario`` and
``probability`` columns in front, except ``contracts`` (tranches are first stage, the same in every
scenario): one row per tranche, scenario 0's, with ``take_or_pay_max_usd`` the probability-weighted
expectation over the scenarios' prices; plus

    scenarios                   scenario, probability, total_cost_usd, first_stage_cost_usd,
                                perfect_foresight_cost_usd, eev_cost_usd, shortage_t_<stream>...
    cost_by_period_expected, cost_by_year_expected, working_capital_expected, budget_expected
                                the probability-weighted cost-over-time tables (:mod:`model.results.costs`)
    marginal_values_expected    constraint, name, period, expected_marginal_value_usd_per_t,
                                probability_binding (the probability-weighted expectation of the
                                per-scenario marginal values = minus the extensive form's duals)
    stream_risk                 stream, expected_demand_t, expected_shortage_t, expected_fill_rate,
                                probability_any_shortage, cvar_shortage_t

KPIs (``kpis.json``): objective (expected cost + lambda x CVaR), expected cost, CVaR of cost,
first-stage cost, EVPI, VSS, per-stream risk, expected supply shares, recycled share, expected
marginal values, the scenario table, solver and model size, and ``input_warnings`` (the lines of the case's
input warnings, :mod:`model.input.warnings`). When the run's time limit cut EVPI or VSS
(:mod:`model.solve.budget`) the value is None and ``evpi_note`` (present only then) / ``vss_note`` says
why; a canonical stage it cut is in ``solver.canonical`` (``applied: false``, ``skipped: true``, note).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.results.costs import add_expected_costs
from model.results.tables import KUSD, Solution, clean
from model.stochastic.extensive import StochasticRun, cvar

SHORT_T = 1e-6


def _usd(x):
    return None if x is None else round(float(x) * KUSD, 6)


def _first_stage_contracts(stacked: pd.DataFrame, first: str) -> pd.DataFrame:
    """The stacked ``contracts`` table as one row per tranche (scenario ``first``'s rows), its USD at stake
    probability-weighted over the scenarios (prices differ by scenario; the tranches do not)."""
    key = ["offer", "from_period", "term_periods"]
    w = stacked.assign(_w=stacked.probability * stacked.take_or_pay_max_usd).groupby(key, sort=False)["_w"].sum()
    out = stacked[stacked.scenario == first].drop(columns=["scenario", "probability"]).reset_index(drop=True)
    if len(out):
        out["take_or_pay_max_usd"] = [float(w[k]) for k in zip(*(out[c] for c in key))]
    return out


def stochastic_solution(sr: StochasticRun) -> Solution:
    cases = sr.cases
    probs = np.array([c.probability for c in cases])
    names = [c.scenario for c in cases]
    alpha = cases[0].case.risk.cvar_alpha
    lam = cases[0].case.risk.risk_weight_lambda
    met = sr.metrics

    tables: dict[str, pd.DataFrame] = {}
    for key in sr.solutions[0].tables:
        frames = []
        for name, p, sol in zip(names, probs, sr.solutions):
            df = sol.tables[key].copy()
            df.insert(0, "probability", p)
            df.insert(0, "scenario", name)
            frames.append(df)
        tables[key] = pd.concat(frames, ignore_index=True)
    if "contracts" in tables:
        tables["contracts"] = _first_stage_contracts(tables["contracts"], names[0])

    # per-scenario table
    streams = [s.id for s in cases[0].case.streams]
    rows = []
    for k, (name, p, sol) in enumerate(zip(names, probs, sr.solutions)):
        kp = sol.kpis
        row = {"scenario": name, "probability": p, "total_cost_usd": kp["objective_usd"],
               "first_stage_cost_usd": kp["first_stage_cost_usd"]}
        if met.get("perfect_foresight_total_kusd") is not None:
            row["perfect_foresight_cost_usd"] = met["perfect_foresight_total_kusd"][k] * KUSD
        if met.get("eev_total_kusd") is not None:
            row["eev_cost_usd"] = met["eev_total_kusd"][k] * KUSD
        for s in streams:
            row[f"shortage_t_{s}"] = kp["streams"][s]["shortage_t"]
        rows.append(row)
    scen = pd.DataFrame(rows)
    tables["scenarios"] = scen

    # stream risk
    sr_rows = []
    stream_kpis = {}
    for s in streams:
        short = np.array([sol.kpis["streams"][s]["shortage_t"] for sol in sr.solutions])
        dem = np.array([sol.kpis["streams"][s]["demand_t"] for sol in sr.solutions])
        e_short, e_dem = float(probs @ short), float(probs @ dem)
        d = {
            "expected_demand_t": round(e_dem, 9),
            "expected_shortage_t": round(e_short, 9),
            "expected_fill_rate": round(1 - e_short / e_dem, 9) if e_dem > 0 else 1.0,
            "probability_any_shortage": round(float(probs @ (short > SHORT_T)), 9),
            "cvar_shortage_t": round(cvar(short, probs, alpha), 9),
            "worst_shortage_t": round(float(short.max()), 9),
        }
        stream_kpis[s] = d
        sr_rows.append({"stream": s} | d)
    tables["stream_risk"] = pd.DataFrame(sr_rows)

    # expected marginal values
    mv = tables["marginal_values"]
    mv = mv.assign(w=mv.probability * mv.marginal_value_usd_per_t, wb=mv.probability * mv.binding.astype(float))
    exp_mv = mv.groupby(["constraint", "name", "period"], as_index=False, sort=False).agg(
        expected_marginal_value_usd_per_t=("w", "sum"), probability_binding=("wb", "sum"))
    tables["marginal_values_expected"] = exp_mv
    tables = {k: clean(v) for k, v in tables.items()}

    # expected shares by origin group and country, per element
    def expected_shares(key: str) -> dict:
        acc: dict = {}
        for p, sol in zip(probs, sr.solutions):
            sup = sol.kpis["element_supply_t"]
            for e, shares in sol.kpis[key].items():
                for g, frac in shares.items():
                    acc.setdefault(e, {}).setdefault(g, 0.0)
                    acc[e][g] += p * frac * sup.get(e, 0.0)
        out = {}
        for e, by in acc.items():
            tot = sum(by.values())
            out[e] = {g: (round(v / tot, 9) if tot > 0 else 0.0) for g, v in sorted(by.items())}
        return out

    supply = {}
    recycled = {}
    for p, sol in zip(probs, sr.solutions):
        for e, v in sol.kpis["element_supply_t"].items():
            supply[e] = supply.get(e, 0.0) + p * v
            recycled[e] = recycled.get(e, 0.0) + p * v * sol.kpis["recycled_share"].get(e, 0.0)

    binding = exp_mv[exp_mv.probability_binding > 0]
    mv_summary: dict = {}
    for (kind, name), g in binding.groupby(["constraint", "name"], sort=True):
        mv_summary.setdefault(kind, {})[name] = {
            "max_expected_usd_per_t": round(float(g.expected_marginal_value_usd_per_t.max()), 6),
            "periods_with_positive_probability_binding": int(len(g)),
        }

    cost_parts = {}
    for p, sol in zip(probs, sr.solutions):
        for t, v in sol.kpis["cost_parts_usd"].items():
            cost_parts[t] = cost_parts.get(t, 0.0) + p * v
    first = sr.solutions[0].kpis
    res = sr.result
    kpis = {
        "case": cases[0].case.name,
        "mode": "stochastic",
        "input_warnings": [w.line() for w in cases[0].warnings],
        "scenario_count": len(cases),
        "proven_optimal": bool(met.get("proven_optimal", True)),
        "objective_usd": _usd(met["objective_kusd"]),
        "best_bound_usd": _usd(met.get("best_bound_kusd", met["objective_kusd"])),
        "gap_frac": round(float(met.get("gap_frac", 0.0)), 9),
        "status_note": met.get("status_note"),
        "expected_cost_usd": _usd(met["expected_cost_kusd"]),
        "cvar_cost_usd": _usd(met["cvar_cost_kusd"]),
        "cvar_alpha": alpha,
        "risk_weight_lambda": lam,
        "first_stage_cost_usd": _usd(met["first_stage_cost_kusd"]),
        "expected_cost_parts_usd": {t: round(v, 6) for t, v in cost_parts.items()},
        "evpi_usd": _usd(met.get("evpi_kusd")),
        "vss_usd": _usd(met.get("vss_kusd")),
        # the two above are in objective units (expected + lambda x CVaR); these in expected cost, USD
        "evpi_expected_cost_usd": _usd(met.get("evpi_expected_cost_kusd")),
        "vss_expected_cost_usd": _usd(met.get("vss_expected_cost_kusd")),
        "vss_note": met.get("vss_note"),
        **({"evpi_note": met["evpi_note"]} if met.get("evpi_note") else {}),  # only when the time limit cut EVPI
        "wait_and_see_usd": _usd(met.get("wait_and_see_kusd")),
        "eev_usd": _usd(met.get("eev_kusd")),
        "expected_value_plan_objective_usd": _usd(met.get("expected_value_plan_objective_kusd")),
        "streams": stream_kpis,
        "expected_element_supply_t": {e: round(v, 9) for e, v in sorted(supply.items())},
        "expected_supply_share_by_origin_group": expected_shares("supply_share_by_origin_group"),
        "expected_supply_share_by_country": expected_shares("supply_share_by_country"),
        "expected_recycled_share": {e: (round(recycled[e] / supply[e], 9) if supply[e] > 0 else 0.0) for e in sorted(supply)},
        "expected_marginal_values": mv_summary,
        "scenarios": [
            {k: (round(float(v), 6) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()} for r in rows
        ],
        "solver": first["solver"] | {"termination": res.termination},
        "model_size": {"columns": res.n_columns, "rows": res.n_rows, "nonzeros": res.n_nonzeros,
                       "nonanticipativity": sr.ef.nonant if sr.ef is not None else
                       (sr.nonant or sr.result.options.get("path"))},
        "input_hash": cases[0].input_hash(),
    }
    add_expected_costs(tables, kpis, cases)  # *_expected cost-over-time tables; expected PV (model.results.costs)
    return Solution(tables=tables, kpis=kpis)
