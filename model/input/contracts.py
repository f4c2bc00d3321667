"""Cross-field checks of contract terms (``offers[].terms``, :class:`~model.input.schema.ContractTerms`).

``check_contract_terms(case, file) -> list[InputIssue]`` never raises: it returns every problem found,
each naming the field (``offers[<id>].terms.<field>``), its value and what was expected. The schema
already bounds each field on its own (whole numbers >= 1 for terms, shares in [0, 1], ...); here:

- ``terms`` only on a contract offer (a spot offer reserves nothing);
- ``max_term_periods`` only with ``min_term_periods``, and min <= max <= horizon (``horizon.periods``);
- a tranche must fit: ``notice_periods + min_term_periods <= T - lead_time_periods`` (a term ends
  inside the horizon, in a period whose orders still arrive in it; a case-by-case review lead time can
  shorten that window further, then the periods that do not fit simply get no tranche);
- without tranches, a notice must leave some period free: ``notice_periods < T - lead_time_periods``;
- the band given one way: not both ``max_change_t_per_period`` and ``max_change_frac_per_period``.

Glossary: T periods of the horizon; lead the offer's ``lead_time_periods``; the *window* T - lead,
the periods whose orders can arrive inside the horizon.
"""

from __future__ import annotations

from model.errors import InputIssue
from model.input.schema import CaseInput


def check_contract_terms(case: CaseInput, file: str) -> list[InputIssue]:
    out: list[InputIssue] = []

    def bad(field: str, value: object, expected: str) -> None:
        out.append(InputIssue(file, field, value, expected))

    T = case.horizon.periods
    for o in case.offers:
        c = o.terms
        if c is None:
            continue
        f = f"offers[{o.id}].terms"
        if o.kind != "contract":
            bad(f, "(given)", "no terms on a spot offer (terms shape a contract's reservation: "
                              "make the offer `kind: contract` or remove `terms`)")
            continue
        window = T - o.lead_time_periods
        why = f"(horizon {T} periods - lead time {o.lead_time_periods}: the periods whose orders arrive inside the horizon)"
        lo, hi, n = c.min_term_periods, c.max_term_periods, c.notice_periods
        if hi is not None and lo is None:
            bad(f"{f}.max_term_periods", hi, "`min_term_periods` as well (a longest term needs a shortest one)")
        if hi is not None and hi > T:
            bad(f"{f}.max_term_periods", hi, f"at most the horizon ({T} periods)")
        if lo is not None:
            if hi is not None and hi < lo:
                bad(f"{f}.max_term_periods", hi, f"at least min_term_periods ({lo})")
            if lo > T:
                bad(f"{f}.min_term_periods", lo, f"at most the horizon ({T} periods)")
            elif n + lo > window:
                bad(f"{f}.min_term_periods", lo, f"a term that fits after the notice: notice_periods ({n}) + "
                                                 f"min_term_periods <= {window} {why}")
        elif n > 0 and n >= window:
            bad(f"{f}.notice_periods", n, f"fewer than {max(window, 0)} periods {why}, or the reservation could never "
                                          "differ from committed_t_per_period")
        if c.max_change_t_per_period is not None and c.max_change_frac_per_period is not None:
            bad(f"{f}.max_change_frac_per_period", c.max_change_frac_per_period,
                "blank when max_change_t_per_period is given (give the band one way)")
    return out
