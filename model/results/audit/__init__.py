r"""Independent audit of a solved plan: every constraint of ``model.md`` §4, re-checked from the raw
inputs and the reported plan tables, never from the Pyomo model. Writes nothing.

``audit_run(run)`` takes a :class:`model.app.run.Run` and returns an :class:`AuditReport`: one
:class:`AuditCheck` per constraint family, each with the worst violation found, the tolerance it was
judged against, and where (scenario, entity, period) it is. A stochastic run is audited scenario by
scenario, each against its own ``CaseData`` (``run.stochastic.cases``; re-derived with
``scenario_cases`` when absent), plus non-anticipativity across scenarios.

Independence. The audit reads only ``run.data`` / the scenario ``CaseData`` (the validated case and its
resolved per-period series), ``run.solution.tables`` and ``run.solution.kpis``. It does not import
``model.components.sets``, the builder or the solver; the derived rules are re-implemented here from their
documented meaning.

Modules (each one's docstring holds its rules and maths):

- :mod:`.checks`: the report types, the list of checks, tolerances, the worst-row accumulator;
- :mod:`.inputs`: what the audit derives from a scenario's ``CaseData`` (plants and what belongs to each,
  lanes, arrival periods, rules in force, prohibitions per plant, floors and terminal requirements per
  plant and element, recycling capacity, calendar years);
- :mod:`.tables`: the tables as a whole (presence, columns, duplicate keys, nonnegativity, scenarios);
- :mod:`.rows`: the one row reader (id checks, period labels to numbers);
- :mod:`.scenario`: one scenario's checks, a method per constraint family (balances per plant, lanes
  between plants, the ``plants`` table);
- :mod:`.contracts`: contract terms (the ``contracts`` table of tranches, which has no scenario
  columns; tranche sums, band, notice, take-or-pay cost);
- :mod:`.grants`: licences as granted (named exporters, customers naming the company or a plant,
  destination countries, renewals, the scenario's review lead times and lifted prohibitions): which rules
  govern an order, which orders are barred, which prohibitions apply at which plant, lapsed quotas;
- :mod:`.magnet_stock`: finished-magnet stock per plant and grade (``magnet_stock`` table: capacity,
  balance, holding cost) and orders in transit at the start (their arrivals, at their offer's plant);
- :mod:`.costing`: every cost term per period (the transfer term included), shared with
  :mod:`model.results.costs`;
- :mod:`.nonanticipativity` and :mod:`.objective`: the checks across scenarios.
"""

from __future__ import annotations

from .checks import (CHECKS, COST_TERMS, FIRST_STAGE_TERMS, MASS_ABS_T, MASS_REL, MONEY_ABS_USD, MONEY_REL,
                     NOISE_FRAC, USD_PER_T_PER_USD_PER_KG, AuditCheck, AuditReport, accumulators, mass_tol,
                     money_tol)
from .contracts import read_tranches
from .inputs import ELEMENT_KINDS, TERMINAL_PENALTY_MARKUP, ScenarioInputs
from .nonanticipativity import NONANT, audit_nonanticipativity
from .objective import audit_objective, cvar
from .scenario import ScenarioAudit
from .tables import NONNEG, OPTIONAL, TABLES, check_tables, present_tables

__all__ = [
    "audit_run", "AuditCheck", "AuditReport", "CHECKS", "NOISE_FRAC", "MASS_ABS_T", "MASS_REL", "MONEY_REL",
    "MONEY_ABS_USD", "USD_PER_T_PER_USD_PER_KG", "ELEMENT_KINDS", "TERMINAL_PENALTY_MARKUP", "FIRST_STAGE_TERMS",
    "COST_TERMS", "TABLES", "NONNEG", "NONANT", "mass_tol", "money_tol", "cvar", "ScenarioAudit", "ScenarioInputs",
]


def _scenario_cases(run) -> list:
    if run.mode == "stochastic":
        if getattr(run, "stochastic", None) is not None:
            return list(run.stochastic.cases)
        from model.input.scenarios import scenario_cases

        return scenario_cases(run.data)
    return [run.data]


def audit_run(run) -> AuditReport:
    """Re-check every constraint of ``model.md`` §4 and the objective of ``run`` from its inputs and tables."""
    acc = accumulators()
    stochastic = run.mode == "stochastic"
    cases = _scenario_cases(run)
    tables = run.solution.tables
    kpis = run.solution.kpis

    full = present_tables(tables, stochastic, acc["table_integrity"])
    for name, field in OPTIONAL.items():  # a table only some cases have: required when the case has its input
        if name not in tables and getattr(cases[0].case, field):
            acc["table_integrity"].add(1, 0.0, f"table {name} missing")
    views = check_tables(full, cases, stochastic, acc["table_integrity"], acc["nonnegativity"])

    totals = {}
    term_totals = {}
    inputs = [ScenarioInputs(data) for data in cases]
    tranches = read_tranches(tables, inputs, acc, stochastic)  # first stage: one table for every scenario
    for data, inp in zip(cases, inputs):
        scen = f"scenario={data.scenario}, " if stochastic else ""
        tb = {k: v.view(data.scenario if stochastic else None) for k, v in views.items()}
        totals[data.scenario], term_totals[data.scenario] = ScenarioAudit(inp, tb, acc, scen, tranches).run()

    audit_nonanticipativity(full, cases, acc["non_anticipativity"], stochastic)
    audit_objective(run, cases, totals, term_totals, kpis, tables, acc["objective"], stochastic)

    checks = tuple(a.result() for a in acc.values())
    return AuditReport(passed=all(c.passed for c in checks), checks=checks)
