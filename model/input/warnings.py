"""Input warnings: inputs that are legal but probably not what the planner meant. The case still solves.

``check_warnings(case, data, file)`` runs the warning checks of the semantic catalogue
(:data:`model.input.semantics.CATALOGUE`, severity ``warning``) once, when a case is read
(:func:`model.input.case._case_from_mapping`, after every error check passed); the result is
``CaseData.warnings``, carried unchanged into every scenario and the expected-value case. Reports
show them as ``kpis["input_warnings"]`` (the lines) and a "Warnings" box at the top of summary.md and
report.html; the console prints ``warning: <line>``.

Glossary
--------
InputWarning(file, field, value, message)  one warning; ``line()`` -> ``<file>: <field> = <value>: <message>``
                                           (one line, the value shown as in an input error)
WARNINGS_TITLE                             heading of the reports' warnings box
WARNINGS_LEAD                              the sentence under it
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from model.input.schema import CaseInput

if TYPE_CHECKING:  # pragma: no cover
    from model.input.data import CaseData

WARNINGS_TITLE = "Warnings"
WARNINGS_LEAD = ("The inputs passed every check but these look unintended (see \"Checks beyond the schema\" in "
                 "docs/inputs.md); the plan below was solved as they are:")


@dataclass(frozen=True)
class InputWarning:
    file: str
    field: str
    value: object
    message: str

    def line(self) -> str:
        from model.input.issues import _one_line

        v = self.value
        shown = repr(v) if isinstance(v, str) else str(v)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return _one_line(f"{self.file}: {self.field} = {shown}: {self.message}", 600)


def check_warnings(case: CaseInput, data: "CaseData", file: str) -> tuple[InputWarning, ...]:
    """Every warning for ``case`` read as ``data`` (its demand and capacity series as read), in catalogue order."""
    from model.input.semantics import warning_findings

    found = warning_findings(case, data.demand_as_read_t_per_period or data.demand_t_per_period,
                             data.capacity_t_per_period)
    return tuple(InputWarning(file, field, value, message) for _, (field, value, message) in found)
