"""Resource limits that hold: the whole-run time budget, and a size and memory estimate made before building.

Time budget
-----------
``--time-limit S`` is a deadline for the whole run, not a per-solve HiGHS option. The clock starts at
``SolverOptions.started_s`` (a ``time.monotonic()`` stamp; the command line stamps it when it starts,
and when it is None :func:`start` stamps it as ``run_case`` / ``run_data`` / ``run_stochastic_data``
/ ``run_stochastic`` begin); the deadline is ``started_s + time_limit_s``. Every HiGHS solve is given
the time left as its ``time_limit``. Phase by phase:

- reading the case, generating the scenarios, building the model (``build_extensive_form`` checks
  between scenarios) and handing it to HiGHS: if the deadline passes before the main solve starts,
  :class:`~model.errors.SolveError` (termination ``time_limit``), e.g. "time limit of 20 s reached
  while building the extensive form (1,234 of 100,000 scenarios built); no plan" (exit 3, nothing
  written). Scenario generation (:func:`model.input.scenarios.scenario_cases`) runs to its end and is
  checked after: it is fast (measured 1.05 s and 93 MB for 5,000 sampled scenarios) and, for a
  stochastic run, the size estimate has bounded it already.
- the main solve of a plan (one followed by the canonical stage) gets :data:`MAIN_SOLVE_SHARE` of the
  time left, so that the canonical stage, or a stopped extensive form's fallback plan (expected-value
  plan re-optimised per scenario, wait-and-see bound), still has time. Stopped by the limit: the
  deterministic run fails (exit 3); the extensive form falls back as before, its sub-solves sharing
  what is left; when they cannot finish, SolveError saying which were done (exit 3, nothing written).
- after the main solve: the one-sided marginal values and the canonical stages check the deadline
  before every HiGHS run; when it has passed they stop, the plan and duals of the main solve's
  optimal vertex stand, and ``kpis.solver.canonical`` says ``applied: false`` with the reason. EVPI
  and VSS check it before every scenario; when cut, ``evpi_usd`` / ``vss_usd`` are None and
  ``evpi_note`` / ``vss_note`` say why. The plan is still proven optimal: exit 0 (4 if the audit fails).
- extracting the tables, the audit and writing the report are never cut (a report is written whole
  or not at all), so a run can end after its deadline by that much: at 200 scenarios, extracting
  5 to 17 s, the audit 1 to 2 s, writing the report about 40 s (the shared 2-core machine, loaded).

Size and memory estimate
------------------------
:func:`estimate` builds ONE scenario model of the case as read (about 0.05 s) and counts its
variables, active constraints and nonzeros (variables in each constraint body); the scenario count
comes from the scenario definition without generating anything (:func:`scenario_count`). The
extensive form is about that many times one scenario (plus a CVaR level and tail per scenario when
the risk weight is positive). Memory (peak resident set of the whole run: build, hand-off, HiGHS
solve, canonical stages, EVPI/VSS, tables, audit) is modelled as

    memory_bytes = BASE_BYTES + BYTES_PER_COLUMN x columns

Measured (``benchmarks/size_estimate.py``: the whole command line, report writing included, in a
fresh process, peak RSS by ``resource.getrusage``; Python 3.11, 1 HiGHS thread, the 2-core machine)
on the extensive form of ``inputs/sampled.yaml`` (1,928 variables per scenario as read):

    case                 built columns   peak RSS    estimate (ratio)
    base.yaml (12)             23,100      340 MB      439 MB (1.29)
    sampled, 50                96,292      717 MB      878 MB (1.23)
    sampled, 200              385,108    2,227 MB    2,614 MB (1.17)

The slope between 50 and 200 scenarios is 5.2 kB a column, the intercept 213 MB; the constants
below round both up (6 kB a column, 300 MB), so the estimate is 1.15 to 1.3 times the measured peak
(and the estimated columns are within 0.5 % of the built ones): conservative.

:func:`check_fits` refuses a case whose estimate exceeds :data:`MEMORY_SHARE` of the available
memory with an :class:`~model.errors.InputError` on ``scenarios.count`` (mode sample) or
``scenarios`` (listed, product) saying how many scenarios would fit (exit 2, nothing built). The
available memory is, in order: the environment variable ``MSR_MEMORY_BYTES`` (bytes; for tests and
for a machine shared with other jobs), ``MemAvailable`` of ``/proc/meminfo`` (Linux), the physical
memory ``os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")`` (other POSIX systems: total, not
free, memory); where none is readable the check is skipped. Progressive hedging spreads the
scenarios over MPI ranks of the same machine, so the same bound applies to the total.

Glossary
--------
MAIN_SOLVE_SHARE   fraction of the time left given to the main HiGHS run of a plan solve (0.8)
start              options with ``started_s`` stamped now, if not stamped yet
deadline_s         monotonic deadline, None without a limit or a start stamp (a bare ``solve()``
                   call without ``started_s`` keeps the per-solve limit of old)
remaining_s        seconds to the deadline (>= 0), None without one
expired            the deadline has passed
out_of_time        the SolveError (termination ``time_limit``) saying what was reached
Expired            raised inside a solve step (canonical stages, one-sided duals) to stop it
is_time_limit      a SolveError due to the limit (ours, or HiGHS's "Time limit reached")
SizeEstimate       scenarios, columns, rows, nonzeros, memory_bytes of the extensive form, with
                   the one-scenario figures it was made from
scenario_count     scenarios of a case without generating them (listed: len; product: product of
                   the factors' option counts; sample: count; none: 1)
available_memory   (bytes, where it was read) or (None, why not)
check_fits         raise InputError when the estimate exceeds MEMORY_SHARE of available memory
set_highs_limit    a Highs instance's ``time_limit`` for its next run: its run time so far (HiGHS sums
                   run time over all runs of an instance) plus the time left
BASE_BYTES, BYTES_PER_COLUMN   the memory model's constants (measured above, rounded up)
MEMORY_SHARE       the share of the available memory a case may be estimated at (0.8)
MEMORY_ENV         ``MSR_MEMORY_BYTES``: the available memory in bytes, overriding what the system says
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace

from model.errors import InputError, InputIssue, SolveError

MAIN_SOLVE_SHARE = 0.8
BASE_BYTES = 300_000_000  # interpreter, Pyomo, HiGHS, pandas: measured intercept 213 MB, rounded up
BYTES_PER_COLUMN = 6_000  # measured 5.2 kB per extensive-form column (sampled.yaml, 50 -> 200 scenarios), rounded up
MEMORY_SHARE = 0.8  # refuse a case estimated above this share of the available memory
MEMORY_ENV = "MSR_MEMORY_BYTES"
TIME_LIMIT_TERMINATIONS = ("time_limit", "Time limit reached")


# ----------------------------------------------------------------------------------- time budget

def now() -> float:
    return time.monotonic()


def start(options):
    """``options`` with the run clock started now, unless it already runs."""
    return options if options.started_s is not None else replace(options, started_s=now())


def deadline_s(options) -> float | None:
    if options.time_limit_s is None or options.started_s is None:
        return None
    return options.started_s + float(options.time_limit_s)


def remaining_s(options) -> float | None:
    d = deadline_s(options)
    return None if d is None else max(0.0, d - now())


def expired(options) -> bool:
    d = deadline_s(options)
    return d is not None and now() >= d


def limit_text(options) -> str:
    return f"time limit of {float(options.time_limit_s):g} s"


def out_of_time(options, when: str, progress: str = "", outcome: str | None = "no plan") -> SolveError:
    """SolveError(termination ``time_limit``): "time limit of 20 s reached ``when`` (``progress``); ``outcome``",
    e.g. "time limit of 20 s reached while building the extensive form (1,234 of 100,000 scenarios built); no plan"."""
    where = f" ({progress})" if progress else ""
    tail = f"; {outcome}" if outcome else ""
    return SolveError(f"{limit_text(options)} reached {when}{where}{tail}", termination="time_limit")


def check(options, when: str, progress=None, outcome: str | None = "no plan") -> None:
    """Raise :func:`out_of_time` if the deadline has passed; ``progress`` may be a callable (built lazily)."""
    if expired(options):
        raise out_of_time(options, when, progress() if callable(progress) else (progress or ""), outcome)


def is_time_limit(e: BaseException) -> bool:
    return isinstance(e, SolveError) and e.termination in TIME_LIMIT_TERMINATIONS


class Expired(Exception):
    """The deadline passed inside a solve step; ``str(e)`` names the step."""


def set_highs_limit(h, deadline: float | None, share: float = 1.0) -> None:
    """Give a ``highspy.Highs`` the time left (times ``share``) for its next run; raise
    :class:`Expired` when none is left. No deadline: leave the option as it is.

    HiGHS compares ``time_limit`` with its run time summed over every ``run()`` of the instance
    (measured: highspy 1.x, four runs of 0.35 s, then ``time_limit`` 0.5 stops at once), so the
    limit set is the instance's run time so far plus the time left."""
    if deadline is None:
        return
    left = deadline - now()
    if left <= 0:
        raise Expired("the deadline passed")
    h.setOptionValue("time_limit", float(h.getRunTime() + left * share))


# ----------------------------------------------------------------------------------- size and memory

@dataclass(frozen=True)
class SizeEstimate:
    scenarios: int
    columns: int
    rows: int
    nonzeros: int
    memory_bytes: int
    scenario_columns: int = 0  # one scenario model, as read
    scenario_rows: int = 0
    scenario_nonzeros: int = 0
    risk_columns: bool = False  # CVaR level and tail columns (risk weight > 0)

    def for_scenarios(self, n: int) -> "SizeEstimate":
        """The same case with ``n`` scenarios."""
        cols = n * self.scenario_columns + ((n + 1) if self.risk_columns and n > 1 else 0)
        rows = n * self.scenario_rows + (n if self.risk_columns and n > 1 else 0)
        nnz = n * self.scenario_nonzeros + (3 * n if self.risk_columns and n > 1 else 0)
        return replace(self, scenarios=n, columns=cols, rows=rows, nonzeros=nnz, memory_bytes=memory_bytes(cols))

    def max_scenarios(self, limit_bytes: float) -> int:
        """The most scenarios whose estimated memory is within ``limit_bytes`` (0 if not even one)."""
        per = BYTES_PER_COLUMN * (self.scenario_columns + (1 if self.risk_columns else 0))
        n = max(0, int((limit_bytes - BASE_BYTES - BYTES_PER_COLUMN) // per) + 1) if per > 0 else 0
        while n > 0 and self.for_scenarios(n).memory_bytes > limit_bytes:
            n -= 1
        while self.for_scenarios(n + 1).memory_bytes <= limit_bytes:
            n += 1
        return n


def memory_bytes(columns: int) -> int:
    return int(BASE_BYTES + BYTES_PER_COLUMN * columns)


def scenario_count(case) -> int:
    """Scenarios the case defines, counted from its definition (nothing is generated)."""
    sc = case.scenarios
    if sc is None:
        return 1
    if sc.mode == "listed":
        return len(sc.listed or ())
    if sc.mode == "product":
        return math.prod(len(f.options) for f in sc.factors) if sc.factors else 0
    return int(sc.count or 0)


def estimate(data) -> SizeEstimate:
    """The extensive form's size and the run's peak memory, from one scenario model of ``data`` (module docstring)."""
    import pyomo.environ as pyo
    from pyomo.core.expr.visitor import identify_variables

    from model.components.build import build_scenario_model

    m = build_scenario_model(data).model
    cols = sum(1 for _ in m.component_data_objects(pyo.Var, descend_into=True))
    cons = list(m.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    nnz = sum(sum(1 for _ in identify_variables(c.body, include_fixed=False)) for c in cons)
    one = SizeEstimate(scenarios=1, columns=cols, rows=len(cons), nonzeros=nnz, memory_bytes=memory_bytes(cols),
                       scenario_columns=cols, scenario_rows=len(cons), scenario_nonzeros=nnz,
                       risk_columns=data.case.risk.risk_weight_lambda > 0)
    return one.for_scenarios(scenario_count(data.case))


def available_memory() -> tuple[int | None, str]:
    """(bytes available, where that was read), or (None, why the check is skipped)."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return int(float(env)), MEMORY_ENV
        except ValueError:
            pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "MemAvailable"
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")), "physical memory"
    except (AttributeError, ValueError, OSError):
        return None, "no memory figure readable on this system"


def _gb(b: float) -> str:
    return f"{b / 1e9:,.0f} GB" if b >= 1e11 else f"{b / 1e9:.3g} GB"


def check_fits(data, file: str) -> SizeEstimate:
    """The estimate of ``data``; raise InputError when it exceeds MEMORY_SHARE of the available memory."""
    est = estimate(data)
    avail, _ = available_memory()
    if avail is None or est.scenarios <= 1:
        return est
    limit = MEMORY_SHARE * avail
    if est.memory_bytes <= limit:
        return est
    sc = data.case.scenarios
    field, value = ("scenarios.count", sc.count) if sc.mode == "sample" else ("scenarios", f"{est.scenarios} {sc.mode} scenarios")
    n = est.max_scenarios(limit)
    figures = (f"estimated {est.columns:,} columns, {_gb(est.memory_bytes)} of memory; {_gb(avail)} available, "
               f"{MEMORY_SHARE:.0%} of it usable")
    want = f"at most {n:,} scenarios on this machine" if n >= 2 else "a smaller case: not even two scenarios fit on this machine"
    raise InputError([InputIssue(file, field, value, f"{want} ({figures})")])
