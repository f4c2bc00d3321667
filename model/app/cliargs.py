"""Command-line arguments checked like input fields: one ``input error:`` line each, exit 2.

:class:`OneLineParser` is an ``argparse.ArgumentParser`` whose usage errors (an unknown option, a
missing value, an invalid choice, two exclusive modes) raise :class:`~model.errors.InputError`
instead of printing usage and exiting, so that they reach the one error boundary
(:mod:`model.app.boundary`) as one line ``(command line): <option> = <value>: expected <what>``.

Numbers are taken as text and checked by :func:`checked_numbers` against :data:`NUMBERS`, the one
table of the options' ranges (finite, in range, the accepted range in the message), so that
``--time-limit nan``, ``--gap -1``, ``--threads 0`` or an integer of 5,000 digits is refused before
anything is read or solved. ``--workers`` above 1 is refused there with an explicit ``--engine`` other
than ``benders`` (with ``auto``, by :func:`model.app.run.run_case` once the engine is chosen).
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass

from model.errors import InputError, InputIssue

CMD = "(command line)"


@dataclass(frozen=True)
class NumberOption:
    kind: type  # int or float
    low: float
    high: float
    low_open: bool  # the low end is excluded
    what: str  # e.g. "seconds"

    def expected(self) -> str:
        lo = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        noun = "a whole number" if self.kind is int else "a finite number"
        return f"{noun} {lo} and <= {self.high:g}" + (f" ({self.what})" if self.what else "")

    def parse(self, text: str) -> int | float | None:
        """The value, or None if it is not acceptable."""
        t = text.strip()
        if len(t) > 40:  # also keeps int() away from 5,000-digit literals
            return None
        try:
            v = int(t) if self.kind is int else float(t)
        except ValueError:
            return None
        if not math.isfinite(v) or v > self.high or v < self.low or (self.low_open and v == self.low):
            return None
        return v


YEAR_S = 366 * 24 * 3600.0
NUMBERS: dict[str, NumberOption] = {
    "time_limit": NumberOption(float, 0.0, YEAR_S, False, "seconds for the whole run"),
    "gap": NumberOption(float, 0.0, 1.0, False, "relative gap, e.g. 0.001"),
    "threads": NumberOption(int, 1, 256, False, "HiGHS threads"),
    "ranks": NumberOption(int, 3, 4096, False, "MPI ranks: hub + 2 bound spokes at least"),
    "workers": NumberOption(int, 1, 1024, False, "processes solving the Benders subproblems"),
    "rtol": NumberOption(float, 0.0, 1.0, False, "relative tolerance"),
}


def checked_numbers(args: argparse.Namespace) -> argparse.Namespace:
    """Replace every numeric option given as text by its value; raise one issue per bad option."""
    issues = []
    for dest, spec in NUMBERS.items():
        text = getattr(args, dest, None)
        if text is None or not isinstance(text, str):
            continue
        v = spec.parse(text)
        if v is None:
            issues.append(InputIssue(CMD, "--" + dest.replace("_", "-"), text if len(text) <= 40 else text[:37] + "...",
                                     spec.expected()))
        else:
            setattr(args, dest, v)
    workers, engine = getattr(args, "workers", None), getattr(args, "engine", None)
    if isinstance(workers, int) and workers > 1 and engine not in (None, "auto", "benders"):
        issues.append(InputIssue(CMD, "--workers", str(workers), f"1 with --engine {engine} (worker processes solve "
                                                                 "Benders subproblems: --engine benders)"))
    if issues:
        raise InputError(issues)
    return args


_PATTERNS = (
    (re.compile(r"^unrecognized arguments: (.*)$"), lambda m: ("arguments", m[1], "only the options listed by --help")),
    (re.compile(r"^argument (\S+?)(?:/\S+)?: invalid choice: (.*?) \(choose from (.*)\)$"),
     lambda m: (m[1], m[2].strip("'"), f"one of {m[3]}")),
    (re.compile(r"^argument (\S+?)(?:/\S+)?: expected one argument$"),
     lambda m: (m[1], "(missing)", f"a value after {m[1]}")),
    (re.compile(r"^argument (\S+?)(?:/\S+)?: not allowed with argument (\S+)$"),
     lambda m: (m[1], f"with {m[2]}", f"at most one of {m[1]} and {m[2]}")),
    (re.compile(r"^the following arguments are required: (.*)$"),
     lambda m: (m[1], "(missing)", "a value (required)")),
    (re.compile(r"^argument (\S+?)(?:/\S+)?: (.*)$"), lambda m: (m[1], "(given)", m[2])),
)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one-line input errors (module docstring)."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        for pattern, parts in _PATTERNS:
            m = pattern.match(message)
            if m:
                field, value, expected = parts(m)
                break
        else:
            field, value, expected = "(arguments)", "(as given)", message
        raise InputError([InputIssue(CMD, field, value, f"{expected} (see {self.prog} --help)")])
