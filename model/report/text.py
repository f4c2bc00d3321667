"""Report wording shared by every output: summary.md (:mod:`model.report.markdown`), report.html
(:mod:`model.report.html`) and the console lines of ``solve.py``. Writes nothing, imports nothing heavy.

Each output marks emphasis its own way, so a notice takes ``em``: a function applied to the words
the output emphasises (markdown bold in summary.md; identity where the whole line is emphasised,
as in report.html). Where the outputs word a thing differently, the shared part is here and the
difference stays, explicit, in the output:

- audit: summary.md and report.html print :func:`audit_notice` (at most :data:`AUDIT_FAILS_SHOWN`
  failed checks); the console prints ``audit: <audit_word>`` and one ``audit failed: ...`` line per
  failed check (every one of them, see :func:`failed_checks`).
- not proven optimal: summary.md (stochastic runs) and report.html print :func:`not_optimal_notice`
  (USD M with 2 decimals); the console prints :data:`NOT_OPTIMAL`, the best plan and the bound with 3
  decimals, :func:`gap_text` and whether the gap is within ``--gap``.
- marginal values: :data:`MV_LEAD` (deterministic runs) and :data:`MV_NOTE` (units) are shared; the
  lead sentence for expected marginal values of a stochastic run differs between summary.md and
  report.html and is kept in each.
"""

from __future__ import annotations

from typing import Callable

from model.components.catalogue import MARGINAL_KINDS


def _plain(s: str) -> str:
    return s


def usd_millions(x: float) -> str:
    """USD as a number of USD millions, two decimals, without the unit: ``301,792,000 -> "301.79"``."""
    return f"{x / 1e6:,.2f}"


# --------------------------------------------------------------------------- titles and header

def mode_title(mode: str, scenario: str | None = None) -> str:
    """The title of a run's summary.md and report.html (followed by ``: <case name>``)."""
    return {"stochastic": "Stochastic supply plan",
            "perfect_foresight": f"Perfect-foresight plan for scenario {scenario}",
            "expected_value": "Plan for the expected-value (mean) scenario"}.get(mode, "Supply plan")


def single_run_phrase(mode: str, scenario: str | None = None) -> str:
    """What a single-scenario run solved, inside a sentence: "the plan for the expected-value (mean) scenario"."""
    if mode in ("perfect_foresight", "expected_value"):
        title = mode_title(mode, scenario)
        return "the " + title[:1].lower() + title[1:]
    return "the case as read"


UNITS = "Money in USD millions (USD M) unless stated; masses in tonnes (t)."


def horizon_text(periods: list[str], months_per_period: int) -> str:
    mpp = months_per_period
    return f"Horizon {periods[0]} to {periods[-1]} ({len(periods)} periods of {mpp} month{'s' if mpp > 1 else ''})."


def solver_text(version, termination, em: Callable[[str], str] = _plain) -> str:
    return f"Solver: HiGHS {version}, status {em(str(termination))}."


# --------------------------------------------------------------------------- notices

AUDIT = "Independent audit"
AUDIT_FAILS_SHOWN = 5  # failed checks named in summary.md and report.html (the console names every one)


def audit_word(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def failed_checks(audit: dict) -> list[str]:
    """``name: detail`` of every failed check of the audit block of the KPIs."""
    return [f"{c['name']}: {c['detail']}" for c in audit["checks"] if not c["passed"]]


def audit_notice(audit: dict, em: Callable[[str], str] = _plain) -> str:
    if audit["passed"]:
        return (f"{AUDIT}: {em(audit_word(True))} ({len(audit['checks'])} checks of every constraint and the "
                "objective, recomputed from the inputs and the plan tables).")
    return em(f"{AUDIT}: {audit_word(False)}.") + " " + "; ".join(failed_checks(audit)[:AUDIT_FAILS_SHOWN])


NOT_OPTIMAL = "NOT PROVEN OPTIMAL"


def gap_text(kpis: dict) -> str:
    return f"gap {100 * kpis['gap_frac']:.3f} %"


def not_optimal_notice(kpis: dict, em: Callable[[str], str] = _plain) -> str:
    """For KPIs with ``proven_optimal`` false: the solver's note, the best plan, the bound and the gap."""
    return (em(f"{NOT_OPTIMAL}.") + f" {kpis.get('status_note', '')}. Best plan found: "
            f"{usd_millions(kpis['objective_usd'])} USD M; no plan can cost less than "
            f"{usd_millions(kpis['best_bound_usd'])} USD M; {gap_text(kpis)}.")


# --------------------------------------------------------------------------- headline and marginal values

EVPI_LABEL = "EVPI: what perfect foresight of the scenario would be worth"
VSS_LABEL = "VSS: what planning for uncertainty saves over planning for the average scenario"

MV_LEAD = "Marginal value: USD saved per extra tonne of the limit, in the periods where it binds (from the LP duals)."
def _unit_note(kinds) -> str:
    """The marginal-value unit note, from the catalogue's families (model.components.catalogue):
    families grouped by unit, the unit shared by most families first."""
    units: dict[str, list[str]] = {}
    for k in kinds:
        units.setdefault(k.unit, []).append(k.label)
    order = sorted(units, key=lambda u: -len(units[u]))
    parts = []
    for i, u in enumerate(order):
        labels = units[u]
        verb = (" rows are" if i == 0 else " rows") if len(labels) > 1 else ""
        parts.append(f"{' and '.join(labels)}{verb} per {u}")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


MV_NOTE = _unit_note(MARGINAL_KINDS)
"""E.g. "Quota and supplier rows are per t of material; stockpile and diversification rows per t of
element; plant per t of magnet; recycling per t of feed." """
NO_LIMIT_BINDS = "No licence, capacity, stockpile or diversification limit binds."
NO_RECYCLING = "No recycling route in this case."


def fill_rate_text(frac: float) -> str:
    """A fill rate (fraction) as a percentage that never reads 100.0 % while something is short:
    one decimal, more where one would round a shortfall to 100 (up to three), else "> 99.999 %"."""
    if frac >= 1.0:
        return "100.0 %"
    for digits in (1, 2, 3):
        text = f"{100 * frac:.{digits}f}"
        if float(text) < 100.0:
            return f"{text} %"
    return "> 99.999 %"
