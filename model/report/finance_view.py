"""Cost over time for the reports: by year, present value and the budget view, from the run's tables
(:mod:`model.results.costs`). Writes nothing.

``years(run)``  one row per calendar year: ``cost_usd`` and ``pv_usd`` (expected over scenarios for a
                stochastic run) and the budget split ``decided_now_usd``, ``committed_usd``,
                ``scenario_dependent_usd`` (undiscounted), sorted by year. Empty when the run has no
                cost tables (a run made before they existed).
``pv_note(run)`` the sentence saying how PV is discounted (or that it equals the undiscounted cost).
``evpi_vss_unit(run)`` "USD" when EVPI and VSS are in USD of expected cost (risk weight 0), else the
                words for objective units (expected cost + lambda x CVaR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run

BUDGET_CATEGORIES = ("decided_now", "committed", "scenario_dependent")


def _table(run: "Run", name: str) -> tuple[pd.DataFrame, str, str]:
    """The table (expected version first), and its cost and PV column names."""
    t = run.solution.tables
    if f"{name}_expected" in t:
        return t[f"{name}_expected"], "expected_cost_usd", "expected_pv_usd"
    return t.get(name, pd.DataFrame()), "cost_usd", "pv_usd"


def years(run: "Run") -> pd.DataFrame:
    cy, c, pv = _table(run, "cost_by_year")
    if not len(cy):
        return pd.DataFrame(columns=["year", "cost_usd", "pv_usd", *(f"{k}_usd" for k in BUDGET_CATEGORIES)])
    out = cy.groupby("year", as_index=False).agg(cost_usd=(c, "sum"), pv_usd=(pv, "sum"))
    b, bc, _ = _table(run, "budget")
    if len(b):
        split = b.pivot_table(index="year", columns="category", values=bc, aggfunc="sum", fill_value=0.0)
        for k in BUDGET_CATEGORIES:
            out[f"{k}_usd"] = out.year.map(split[k] if k in split.columns else {}).fillna(0.0)
    return out.sort_values("year").reset_index(drop=True)


def pv_note(run: "Run") -> str:
    k = run.solution.kpis
    r = k.get("discount_rate_frac_per_year") or 0.0
    if not r:
        return ("No discount rate in the case (finance.discount_rate_frac_per_year = 0): present value equals the "
                "undiscounted cost.")
    return (f"Present value at {100 * r:g} % a year, costs discounted from the end of the period they are paid "
            f"to {k.get('present_value_date', 'the start of the base year')}.")


def evpi_vss_unit(run: "Run") -> str:
    lam = run.data.case.risk.risk_weight_lambda
    return "USD" if lam == 0 else f"objective units (expected cost + {lam:g} x CVaR)"
