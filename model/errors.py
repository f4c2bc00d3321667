"""Error types that the command line turns into exit codes.

``InputError`` (exit 2) carries every problem found in the inputs, one line
each: ``<file>: <field> = <value>: expected <what>``. ``SolveError`` (exit 3)
says why the solver did not return an optimal plan.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputIssue:
    file: str
    field: str
    value: object
    expected: str

    def line(self) -> str:
        v = self.value
        shown = repr(v) if isinstance(v, str) else str(v)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.file}: {self.field} = {shown}: expected {self.expected}"


class InputError(Exception):
    """One or more problems in the inputs; nothing was solved or written."""

    def __init__(self, issues: list[InputIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(i.line() for i in self.issues))


class SolveError(Exception):
    """The solver did not prove an optimal plan (infeasible, unbounded, limit, error).

    For an infeasible model, ``conflict_rows`` (Pyomo ConstraintData) and ``conflict_bounds``
    ((VarData, "lower"|"upper") pairs) hold an irreducible infeasible subset found by HiGHS;
    :mod:`model.results.diagnose` turns them into input terms.
    """

    def __init__(self, message: str, termination: str = "error", conflict_rows=(), conflict_bounds=()):
        self.termination = termination
        self.conflict_rows = list(conflict_rows)
        self.conflict_bounds = list(conflict_bounds)
        self.conflicts: list[str] = []  # the IIS in input terms, filled in by model.results.diagnose
        super().__init__(message)
