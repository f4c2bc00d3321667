r"""The objective: the per-scenario totals recomputed by the scenario audit against the reported KPIs.

Deterministic run (one scenario): ``objective_usd`` = total; ``first_stage_cost_usd`` = the
``FIRST_STAGE_TERMS``; ``scenario_cost_usd`` = total - first stage; ``cost_parts_usd[term]`` = each
recomputed term.

Stochastic run, scenario totals c_s with probabilities p_s: each scenario's total against the
``scenarios`` table; ``expected_cost_usd`` = sum_s p_s c_s; ``cvar_cost_usd`` = CVaR_alpha, the expected
cost of the worst 1 - alpha of probability (by sorting the totals, not from the LP); ``objective_usd``
= expected + lambda x CVaR; ``first_stage_cost_usd`` and ``expected_cost_parts_usd[term]`` as
probability-weighted sums. A KPI missing where it is expected fails by its recomputed value + 2 USD.
"""

from __future__ import annotations

from .checks import COST_TERMS, FIRST_STAGE_TERMS, MONEY_ABS_USD, Acc, fmt, money_tol


def cvar(values: list[float], probs: list[float], alpha: float) -> float:
    """Expected value of the worst 1 - alpha of probability (sorting, not the LP)."""
    tail = 1.0 - alpha
    acc = s = 0.0
    for v, p in sorted(zip(values, probs), key=lambda x: -x[0]):
        take = min(p, tail - acc)
        if take <= 0:
            break
        s += take * v
        acc += take
    return s / tail


def audit_objective(run, cases, totals, term_totals, kpis, tables, oacc: Acc, stochastic: bool) -> None:
    def cmp(label, reported, value):
        if reported is None:
            oacc.add(abs(value) + MONEY_ABS_USD * 2, MONEY_ABS_USD, f"kpis {label} missing (recomputed {fmt(value)} USD)")
            return
        r = float(reported)
        oacc.add(abs(r - value), money_tol(r, value), lambda: f"{label}: reported {fmt(r)} USD, recomputed {fmt(value)} USD")

    first = {n: sum(v for t, v in tt.items() if t in FIRST_STAGE_TERMS) for n, tt in term_totals.items()}
    if not stochastic:
        n = cases[0].scenario
        cmp("kpis objective_usd", kpis.get("objective_usd"), totals[n])
        cmp("kpis first_stage_cost_usd", kpis.get("first_stage_cost_usd"), first[n])
        cmp("kpis scenario_cost_usd", kpis.get("scenario_cost_usd"), totals[n] - first[n])
        parts = kpis.get("cost_parts_usd") or {}
        for t, v in term_totals[n].items():
            if t in parts:
                cmp(f"kpis cost_parts_usd[{t}]", parts[t], v)
        return
    probs = [c.probability for c in cases]
    names = [c.scenario for c in cases]
    vals = [totals[n] for n in names]
    scen = tables.get("scenarios")
    if scen is not None and {"scenario", "total_cost_usd"} <= set(scen.columns):
        rep = dict(zip(scen.scenario, scen.total_cost_usd))
        for n in names:
            cmp(f"scenarios table total_cost_usd of scenario {n}", rep.get(n), totals[n])
    expected = sum(p * v for p, v in zip(probs, vals))
    cmp("kpis expected_cost_usd", kpis.get("expected_cost_usd"), expected)
    risk = cases[0].case.risk
    cv = cvar(vals, probs, risk.cvar_alpha)
    if kpis.get("cvar_cost_usd") is not None or risk.risk_weight_lambda > 0:
        cmp(f"kpis cvar_cost_usd (alpha {risk.cvar_alpha})", kpis.get("cvar_cost_usd"), cv)
    cmp(f"kpis objective_usd (expected + lambda {risk.risk_weight_lambda} x CVaR)", kpis.get("objective_usd"),
        expected + risk.risk_weight_lambda * cv)
    cmp("kpis first_stage_cost_usd", kpis.get("first_stage_cost_usd"), sum(p * first[n] for p, n in zip(probs, names)))
    parts = kpis.get("expected_cost_parts_usd") or {}
    for t in COST_TERMS:
        if t in parts:
            cmp(f"kpis expected_cost_parts_usd[{t}]", parts[t], sum(p * term_totals[n][t] for p, n in zip(probs, names)))
