r"""Benders subproblems in several processes, on one machine or over MPI: the *subproblem pool*.

``benders.Decomposition`` keeps the master LP, the loop, the canonical stages and the plan's KPIs; it
reaches the scenarios only through a pool (:func:`open_pool`), so the same code runs whatever the
pool is:

- ``W = 1`` (:class:`LocalPool`): no other process. The subproblems live in the calling process and
  are built and solved one after the other, as before this module existed.
- ``W >= 2`` on one machine (:class:`ProcessPool`, ``--workers W``): W ``multiprocessing`` processes
  started with the ``spawn`` method (a fresh interpreter each: no HiGHS thread, lock or Pyomo state
  copied by ``fork``), each connected to the master by one ``Pipe``. The master process only waits
  while they work, so W workers use W cores.
- MPI (:class:`MpiPool`): ``mpiexec -n K python -m model.stochastic.parallel <solve.py arguments>``.
  Rank 0 runs the command line (the master, the report); ranks 1..K-1 are the ``W = K - 1`` workers.
  ``mpi4py`` is imported only there (the optional ``[mpi]`` extra); without it that command prints
  one line and exits 2, and nothing else changes.

What runs where
---------------
Scenario ``i`` (in the order of ``scenario_cases``) belongs to worker ``i mod W``, always. Each
worker builds ITS scenarios' Pyomo models, compiles each once to its standard form (or, stamping,
the first two of each structure, the rest stamped into the first's arrays: :mod:`model.stochastic.stamp`),
hands it to a persistent HiGHS (``benders.ScenarioLP``), solves it with its first stage free (the wait-and-see
value ``WS_s``) and keeps it for the whole run, re-solving it warm at every first stage the master
sends; so building, most of a Benders run's time, is parallel too. It keeps the Pyomo models as well
(``keep_models``) and re-solves its scenarios with the plan's first stage held for the report (a stamped
scenario from its stamped LP, :mod:`model.stochastic.replan`)
(``benders.evaluate_plan``). The master solves the master LP and the expected-value plan (the warm
start), adds the cuts and assembles the report.

What is sent (every message is pickled to bytes, :func:`dumps`)
----------------------------------------------------------------
``open`` (once, master -> worker): its scenarios (``CaseData``; they hold ``MappingProxyType`` maps,
which the standard pickler refuses, so :func:`dumps` pickles each as the dict it wraps and
:func:`loads` wraps it again: the worker gets equal, frozen objects and reads no file), their global
indices, the ``SolverOptions``, ``keep_models`` and ``stamp`` (each worker stamps its own scenarios,
:mod:`model.stochastic.stamp`: its first two of each structure built by Pyomo, the rest stamped; the
``build`` reply carries its ``Stamper.info()``).

``build`` (once): back, per scenario of the worker, a :class:`Built`: a :class:`ScenarioHead` (name,
probability, first-stage costs ``cost1_kusd`` in kUSD per unit of each first-stage variable, the
objective constant ``offset_kusd`` and ``WS_s`` in kUSD, the LP's size), the first-stage variables'
bounds (in their own units: t, t per period), the canonical criteria weights, and the rows of first-stage columns only that the
worker had not seen in an earlier scenario of its own; plus one ``tick`` per scenario built, for the
progress display.

``solve`` (every iteration, every canonical-stage round, and once for EVPI/VSS's EEV): master ->
worker the first stage ``x`` (float64[n1], the master's column order, the variables' units) and the
seconds left to the loop's deadline; back, per scenario, the HiGHS model status, ``Q_s(x)`` (kUSD),
the subgradient ``g_s`` (float64[n1], kUSD per unit of each first-stage variable; not for the EEV)
and, where the subproblem is infeasible at ``x``, the feasibility cut ``(V_s(x), g)`` of its elastic
LP (t, t per unit). At 500 scenarios and 143 first-stage columns that is 1.1 kB out and 0.3 MB back
per worker and iteration.

``plan`` (once): the first stage by name; back, per scenario, its total ``F_s + C_s`` (kUSD) and its
``Solution`` (tables and KPIs, about 0.1 MB a scenario of the default case), and from the worker of
scenario 0 its ``SolveResult`` and first-stage cost (kUSD). ``close``: the worker drops its models and
ends (MPI: waits for the next ``open``, or ``exit``).

Clocks: a worker may be on another machine, so no monotonic stamp is sent; every request carries
the seconds since the run started (``run_elapsed_s``) and, for ``solve``, the seconds left to the
loop's deadline (``deadline_left_s``), and the worker counts from its own clock. A worker stops at
the deadline and says so; the master raises the time-limit error the single-process path would.

Independence of W
-----------------
Every result is put back into scenario order before the master uses it: bounds intersected, weights
summed, first-stage rows added (duplicates dropped) scenario by scenario, cuts and feasibility cuts
added in scenario order, and the first scenario (in order) whose status fails a request raises its
error. Each scenario is the same LP, solved by its own HiGHS instance through the same sequence of
first stages, whichever process holds it. So the master LP, hence the iterations, bounds and plan,
are the same for any W (``tests/test_benders.py`` checks W = 1 against W = 2 and against MPI).

Shutdown
--------
Workers end when the pool closes (``benders.plan_run`` closes it after EVPI/VSS; ``decompose``
closes it on any exception, Ctrl-C and SIGTERM included, :mod:`model.app.boundary`). They ignore
Ctrl-C themselves (the terminal sends it to every process of the group; the master decides), end
with their master (Linux: ``PR_SET_PDEATHSIG``; elsewhere at the next read of a closed pipe), and
are terminated when closing on an exception or when a pool is garbage-collected unclosed. A worker
that dies makes the run fail with one line (:class:`WorkerLost`, a SolveError: exit 3); under MPI,
``mpiexec`` ends the whole job when a rank dies, and rank 0 calls ``MPI_Abort`` when it must stop
while workers are still busy (no rank is left waiting).

Glossary
--------
open_pool           (cases, options, workers, keep_models) -> the pool: Local for 1, Process for more,
                    Mpi under ``python -m model.stochastic.parallel`` with more than one rank
LocalPool / ProcessPool / MpiPool   the three pools, one interface: build, solve, plan, close, ``workers``
ScenarioHead        what the master knows of a scenario held elsewhere (the fields of ``benders.ScenarioLP``
                    it reads); W = 1 hands it the ScenarioLP itself
Built               one scenario built: its head, first-stage names, bounds, criteria weights and new rows
Solved              one ``solve`` in scenario order: status[S], Q_kusd[S], G[S, n1] (or None), cuts {s: cut}
CutFailed           the elastic LP of a feasibility cut did not solve (its SolveError, sent back)
solve_scenarios     the per-scenario solve loop every pool runs (the single-process loop of before)
STOPPED, SKIPPED    statuses of a scenario not solved: the deadline passed; an earlier one already
                    fails the request
WorkerLost          SolveError: a worker process ended without being asked to
dumps / loads       the wire format (pickle with MappingProxyType handled)
mpi_main            the MPI entry point (``python -m model.stochastic.parallel``)
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import signal
import sys
import time
import traceback
import weakref
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from model import progress
from model.errors import InputError, InputIssue, SolveError
from model.solve import budget

STOPPED = "_stopped"  # the deadline passed while solving this scenario (or before it)
SKIPPED = "_skipped"  # not solved: an earlier scenario of the same worker already fails the request
INFEASIBLE = ("Infeasible", "Primal infeasible or unbounded")
POLL_S = 0.5  # the master wakes at least this often while waiting (signals, dead workers)
CLOSE_WAIT_S = 10.0  # a closing worker is given this long to end before it is terminated
MPI_SLEEP_S = (0.0005, 0.01)  # MPI polling: first and longest sleep between probes (Open MPI spins otherwise)
MPI_TAG = 16
CMD = "(command line)"

_MPI_COMM = None  # set by mpi_main on rank 0: the pool is then the MPI ranks
_MPI_BUSY = set()  # worker ranks with a request not yet answered (rank 0 aborts the job if it must end then)


# ----------------------------------------------------------------------------------- wire format

def _proxy(d: dict) -> MappingProxyType:
    return MappingProxyType(d)


def dumps(obj) -> bytes:
    """``obj`` pickled, with every MappingProxyType as the dict it wraps (rebuilt by :func:`loads`)."""
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    p.dispatch_table = copyreg.dispatch_table.copy()
    p.dispatch_table[MappingProxyType] = lambda mp: (_proxy, (dict(mp),))
    p.dump(obj)
    return buf.getvalue()


def loads(data: bytes):
    return pickle.loads(data)


# ----------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ScenarioHead:
    """What the master reads of a scenario held by a worker (the same fields as ``benders.ScenarioLP``)."""

    name: str
    probability: float
    cost1_kusd: np.ndarray  # kUSD per unit of each first-stage variable
    offset_kusd: float
    wait_and_see_kusd: float
    n_columns: int
    n_rows: int
    n_nonzeros: int
    wait_and_see_solve_s: float = 0.0  # the HiGHS run of its wait-and-see solve (its share of the floor)


@dataclass
class Built:
    head: object  # benders.ScenarioLP (W = 1) or ScenarioHead
    names: list  # first-stage variable names (the master's column order)
    lb1: np.ndarray
    ub1: np.ndarray
    weights: dict  # canonical criterion -> weight per first-stage column
    rows: list = field(default_factory=list)  # (cols, vals, lo, hi) new in this worker (W >= 2)


@dataclass(frozen=True)
class CutFailed:
    message: str
    termination: str


@dataclass
class Solved:
    status: list  # per scenario: a HiGHS model status, STOPPED or SKIPPED
    Q_kusd: np.ndarray
    G: np.ndarray | None  # kUSD per unit, one row per scenario
    cuts: dict  # scenario -> (V_s t, g t per unit) | None (no infeasibility found) | CutFailed


class WorkerLost(SolveError):
    """A worker process ended without being asked to."""


@dataclass(frozen=True)
class _Event:
    """A worker's build or plan stopped: at the deadline (``kind`` 'stopped') or by an error."""

    index: int  # global scenario index where it happened
    kind: str  # stopped | error
    when: str = ""  # stopped: which step
    error: tuple = ()  # (type name, message, termination, traceback text)


def solve_scenarios(subs, x: np.ndarray, deadline: float | None, options, gradients: bool, cuts: bool,
                    tick=None):
    """Every subproblem of ``subs`` at ``x`` in turn: (status list, Q kUSD, G or None, feasibility cuts).
    Stops at the first scenario that fails the request (a status other than Optimal, or infeasible
    with ``cuts`` and no cut): its status stays, the rest are SKIPPED; at the deadline, STOPPED.
    ``tick()`` after each scenario that does not stop the loop."""
    from model.stochastic import benders as B  # at call time: tests replace benders.solve_at

    n = len(subs)
    status = [SKIPPED] * n
    Q = np.full(n, np.nan)
    G = np.zeros((n, len(x))) if gradients else None
    found: dict = {}
    for i, sub in enumerate(subs):
        try:
            st, q, g = B.solve_at(sub, x, deadline)
        except B._Stopped:
            status[i] = STOPPED
            break
        status[i] = st
        if st == "Optimal":
            Q[i] = q
            if gradients:
                G[i] = g
        elif cuts and st in INFEASIBLE:
            try:
                found[i] = B.feasibility_cut(sub, x, options, deadline)
            except B._Stopped:
                status[i] = STOPPED
                break
            except SolveError as e:
                found[i] = CutFailed(str(e), e.termination)
                break
            if found[i] is None:
                break
        else:
            break
        if tick is not None:
            tick()
    return status, Q, G, found


# ----------------------------------------------------------------------------------- W = 1


def _keep_highs(total: int) -> bool:
    """Whether the subproblems of a run of ``total`` scenarios keep their HiGHS instances between solves."""
    from model.stochastic import benders as B

    return total <= B.KEEP_SUBPROBLEMS_UP_TO


class LocalPool:
    """The subproblems in this process (W = 1): the single-process path."""

    workers = 1

    def __init__(self, cases, options, keep_models: bool, stamp: bool = True):
        from model.stochastic.stamp import Stamper

        self.cases, self.options, self.keep_models = list(cases), options, keep_models
        self.subs: list = []
        self.builts: list = []  # per scenario: its BuiltModel (None where stamped: re-solved from its stamped LP)
        self.stamper = Stamper(stamp)
        self.stamper.keep_highs = _keep_highs(len(self.cases))

    def stamp_info(self) -> dict:
        """What stamping did (:meth:`model.stochastic.stamp.Stamper.info`)."""
        return self.stamper.info()

    def build(self, rows, advance):
        """Yield each scenario's :class:`Built` in order (its rows go straight into ``rows``)."""
        from model.stochastic import benders as B

        opts, S = self.options, len(self.cases)
        deadline = budget.deadline_s(opts)
        names = None
        for i, d in enumerate(self.cases):
            budget.check(opts, "while building the Benders subproblems", lambda: f"{i:,} of {S:,} scenarios built")
            sub, names, lo, hi, w, b = self.stamper.compile(d, names, rows, opts)
            if self.keep_models:
                self.builts.append(b)
            try:
                B.wait_and_see(sub, deadline)
            except B._Stopped:
                raise budget.out_of_time(opts, "while solving each scenario with its first stage free",
                                         f"{i:,} of {S:,} scenarios done") from None
            self.subs.append(sub)
            yield Built(sub, names, lo, hi, w)
            advance()

    def solve(self, x, deadline, gradients: bool = True, cuts: bool = True) -> Solved:
        status, Q, G, found = solve_scenarios(self.subs, x, deadline, self.options, gradients, cuts, progress.advance)
        return Solved(status, Q, G, found)

    def plan(self, first_stage, options):
        """(Evaluation, first-stage cost kUSD) of ``benders.evaluate_plan`` over every scenario (a stamped
        scenario from its stamped LP, :mod:`model.stochastic.replan`)."""
        from model.stochastic import benders as B

        ev = B.evaluate_plan(self.cases, first_stage, options, self.builts, self.stamper)
        return ev, ev.first_cost0_kusd

    def close(self, force: bool = False) -> None:
        """Nothing to end: the subproblems stay with the outcome, as before (garbage-collected with it)."""

    def pids(self) -> list[int]:
        return []


# ----------------------------------------------------------------------------------- the worker side


class _Worker:
    """A worker's scenarios and what it does with them (the same in a process and on an MPI rank)."""

    def __init__(self, cases, indices, options, keep_models: bool, total: int, stamp: bool = True):
        from model.stochastic.stamp import Stamper

        self.cases, self.indices, self.options, self.keep_models = list(cases), list(indices), options, keep_models
        self.total = total  # scenarios over every worker
        self.subs: list = []
        self.builts: list = []
        self.stamper = Stamper(stamp)  # groups of this worker's own scenarios
        self.stamper.keep_highs = _keep_highs(total)

    def _opts(self, run_elapsed_s):
        """The options with the run's start moved to this process's clock."""
        if self.options.started_s is None or run_elapsed_s is None:
            return self.options
        return replace(self.options, started_s=budget.now() - float(run_elapsed_s))

    def build(self, run_elapsed_s, tick):
        from model.stochastic import benders as B

        opts = self._opts(run_elapsed_s)
        deadline = budget.deadline_s(opts)
        rows = B.FirstStageRows()
        names, out, event = None, [], None
        for k, d in enumerate(self.cases):
            gi = self.indices[k]
            if budget.expired(opts):
                event = _Event(gi, "stopped", "build")
                break
            try:
                before = len(rows.cols)
                sub, names, lo, hi, w, b = self.stamper.compile(d, names, rows, opts)
                B.wait_and_see(sub, deadline)
            except B._Stopped:
                event = _Event(gi, "stopped", "wait_and_see")
                break
            except Exception as e:  # noqa: BLE001 - sent back, raised by the master in scenario order
                event = _Event(gi, "error", error=_describe(e))
                break
            if self.keep_models:
                self.builts.append(b)
            self.subs.append(sub)
            new = list(zip(rows.cols[before:], rows.vals[before:], rows.lower[before:], rows.upper[before:]))
            head = ScenarioHead(sub.name, sub.probability, sub.cost1_kusd, sub.offset_kusd, sub.wait_and_see_kusd,
                                sub.n_columns, sub.n_rows, sub.n_nonzeros, sub.wait_and_see_solve_s)
            out.append(Built(head, names, lo, hi, w, new))
            tick(1)
        return {"built": out, "event": event, "stamp": self.stamper.info()}

    def solve(self, x, deadline_left_s, gradients, cuts, tick):
        deadline = None if deadline_left_s is None else budget.now() + float(deadline_left_s)
        status, Q, G, found = solve_scenarios(self.subs, np.asarray(x, dtype=float), deadline, self.options,
                                              gradients, cuts)
        return {"status": status, "Q": Q, "G": G, "cuts": found}

    def plan(self, first_stage, run_elapsed_s, tick):
        from model.stochastic import benders as B

        opts = self._opts(run_elapsed_s)
        totals, sols, first, event, highs_s = [], [], None, None, 0.0
        for k, d in enumerate(self.cases):
            gi = self.indices[k]
            b = [self.builts[k]] if self.keep_models and k < len(self.builts) else None
            try:
                ev = B.evaluate_plan([d], first_stage, opts, b, self.stamper)
            except Exception as e:  # noqa: BLE001
                event = (_Event(gi, "stopped", "plan") if budget.is_time_limit(e) else _Event(gi, "error", error=_describe(e)))
                break
            if b is not None:
                self.builts[k] = None  # released, as the single-process path does
            totals.append(float(ev.totals_kusd[0]))
            sols.append(ev.solutions[0])
            highs_s += ev.highs_s
            if k == 0:
                first = (ev.result0, ev.first_cost0_kusd)
            tick(1)
        return {"totals": totals, "solutions": sols, "first": first, "event": event,
                "replanned": self.stamper.replanned, "highs_s": highs_s}


def _describe(e: BaseException) -> tuple:
    return (type(e).__name__, str(e), getattr(e, "termination", None), traceback.format_exc(limit=20))


def _serve(link, keep_waiting: bool) -> None:
    """Answer the master's requests until ``close`` (``keep_waiting``: until ``exit``)."""
    worker = None
    while True:
        msg = loads(link.recv())
        cmd = msg[0]
        if cmd == "exit":
            return
        if cmd == "close":
            worker = None
            if keep_waiting:
                continue
            return
        if cmd == "open":
            worker = _Worker(*msg[1:])
            continue

        def tick(n: int) -> None:
            link.send(dumps(("tick", n)))

        try:
            reply = ("ok", getattr(worker, cmd)(*msg[1:], tick=tick))
        except MemoryError:
            reply = ("error", ("MemoryError", "out of memory in a Benders worker", None, ""))
        except Exception as e:  # noqa: BLE001 - a bug or a failed request: the master raises it
            reply = ("error", _describe(e))
        link.send(dumps(reply))


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent ends (no orphan even if the master is killed)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _PipeLink:
    def __init__(self, conn):
        self.conn = conn

    def send(self, data: bytes) -> None:
        self.conn.send_bytes(data)

    def recv(self) -> bytes:
        return self.conn.recv_bytes()


def _process_main(conn, parent_pid: int) -> None:
    """A ``spawn``-ed worker process: serve until ``close``, or until the master is gone."""
    import multiprocessing

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group: the master decides
    _die_with_parent()
    if os.getppid() != parent_pid:  # the master ended before the line above took effect
        return
    if "fork" in multiprocessing.get_all_start_methods():
        # This process starts none. Under "spawn" the locks libraries make (Pyomo makes one on import)
        # are named semaphores registered with the master's resource tracker, which then warns about
        # "leaked semaphore objects" when a worker is terminated; under "fork" they are anonymous.
        multiprocessing.set_start_method("fork", force=True)
    try:
        _serve(_PipeLink(conn), keep_waiting=False)
    except (EOFError, OSError):
        pass  # the master closed its end or died: nothing left to answer
    finally:
        conn.close()


# ----------------------------------------------------------------------------------- the master side


class _RemotePool:
    """What the process and MPI pools share: scenario i at worker i mod W, requests, replies in order."""

    workers: int

    def __init__(self, cases, options, keep_models: bool, workers: int, stamp: bool = True):
        self.cases, self.options, self.keep_models, self.workers = list(cases), options, keep_models, workers
        self.stamp = bool(stamp)
        S = len(self.cases)
        self.parts = [list(range(w, S, workers)) for w in range(workers)]
        self.subs: list = []  # ScenarioHead per scenario, after build
        self.closed = False
        self._stamp_info: dict = {}

    def stamp_info(self) -> dict:
        """What stamping did in the workers, summed (:func:`model.stochastic.stamp.merge_info`)."""
        return self._stamp_info

    # transport: _send(w, data), _gather(advance) -> list of replies (one per worker)
    def _request(self, msg: tuple, advance=None) -> list:
        if self.closed:
            raise RuntimeError("the Benders subproblem pool is closed")
        data = dumps(msg)
        for w in range(self.workers):
            self._send(w, data)
        replies = self._gather(advance)
        for w, r in enumerate(replies):
            if r[0] == "error":
                _raise_remote(w, self.workers, r[1])
        return [r[1] for r in replies]

    def _elapsed(self):
        return None if self.options.started_s is None else budget.now() - self.options.started_s

    def _order(self, per_worker: list[list]) -> list:
        """Per-worker lists (in each worker's scenario order) as one list in scenario order."""
        out = [None] * len(self.cases)
        for w, items in enumerate(per_worker):
            for k, item in enumerate(items):
                out[self.parts[w][k]] = item
        return out

    def _first_event(self, replies) -> _Event | None:
        events = [r["event"] for r in replies if r["event"] is not None]
        return min(events, key=lambda e: e.index) if events else None

    def build(self, rows, advance):
        from model.stochastic.stamp import merge_info

        replies = self._request(("build", self._elapsed()), advance=advance)
        self._stamp_info = merge_info([r["stamp"] for r in replies])
        S = len(self.cases)
        done = sum(len(r["built"]) for r in replies)
        ev = self._first_event(replies)
        if ev is not None:
            if ev.kind == "error":
                _raise_remote(ev.index % self.workers, self.workers, ev.error)
            if ev.when == "wait_and_see":
                raise budget.out_of_time(self.options, "while solving each scenario with its first stage free",
                                         f"{done:,} of {S:,} scenarios done")
            raise budget.out_of_time(self.options, "while building the Benders subproblems", f"{done:,} of {S:,} scenarios built")
        for b in self._order([r["built"] for r in replies]):
            for c, v, lo, hi in b.rows:
                rows.add(c, v, lo, hi)
            self.subs.append(b.head)
            yield b

    def solve(self, x, deadline, gradients: bool = True, cuts: bool = True) -> Solved:
        left = None if deadline is None else deadline - budget.now()
        replies = self._request(("solve", np.asarray(x, dtype=float), left, gradients, cuts))
        S = len(self.cases)
        status = self._order([r["status"] for r in replies])
        Q = np.full(S, np.nan)
        G = np.zeros((S, len(x))) if gradients else None
        found = {}
        for w, r in enumerate(replies):
            idx = self.parts[w]
            Q[idx] = r["Q"]
            if gradients:
                G[idx] = r["G"]
            found |= {idx[k]: c for k, c in r["cuts"].items()}
        progress.advance(S)
        return Solved(status, Q, G, found)

    def plan(self, first_stage, options):
        from model.stochastic.evaluate import Evaluation

        replies = self._request(("plan", dict(first_stage), self._elapsed()), advance=progress.advance)
        S = len(self.cases)
        ev = self._first_event(replies)
        if ev is not None:
            if ev.kind == "error":
                _raise_remote(ev.index % self.workers, self.workers, ev.error)
            done = sum(len(r["totals"]) for r in replies)
            raise budget.out_of_time(options, "while re-solving the scenarios with the plan's first stage fixed",
                                     f"{done:,} of {S:,} scenarios done", outcome=None)
        self._stamp_info = self._stamp_info | {"replanned": sum(r.get("replanned", 0) for r in replies)}
        totals = np.array(self._order([r["totals"] for r in replies]), dtype=float)
        sols = tuple(self._order([r["solutions"] for r in replies]))
        result0, first_cost = replies[0]["first"]
        return Evaluation(totals_kusd=totals, solutions=sols, built0=None, result0=result0,  # the workers' HiGHS time
                          highs_s=sum(r.get("highs_s", 0.0) for r in replies)), first_cost


def _raise_remote(w: int, W: int, err: tuple):
    """Raise, in the master, what worker ``w`` raised (SolveError as itself; MemoryError; else the same
    built-in type with the worker's traceback as a note)."""
    import builtins

    name, message, termination, tb = err
    if name in ("SolveError", "WorkerLost") or termination is not None:
        raise SolveError(message, termination=termination or "error")
    if name == "MemoryError":
        raise MemoryError(message)
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = RuntimeError
        message = f"{name}: {message}"
    e = cls(f"{message} (in Benders worker {w + 1} of {W})")
    if tb:
        e.add_note(f"the worker's traceback:\n{tb}")
    raise e


def _lost_line(w: int, W: int, pid, code) -> str:
    how = "" if code is None else (f", killed by signal {-code}" if code < 0 else f", exit code {code}")
    return f"Benders worker {w + 1} of {W} (process {pid}) ended unexpectedly{how}; no plan"


class ProcessPool(_RemotePool):
    """W ``spawn``-ed processes on this machine, one Pipe each (module docstring)."""

    def __init__(self, cases, options, keep_models: bool, workers: int, stamp: bool = True):
        import multiprocessing as mp

        super().__init__(cases, options, keep_models, workers, stamp)
        ctx = mp.get_context("spawn")
        self.procs, self.conns = [], []
        self._finalizer = weakref.finalize(self, _terminate, self.procs, self.conns)
        try:
            for w in range(workers):
                parent, child = ctx.Pipe(duplex=True)
                p = ctx.Process(target=_process_main, args=(child, os.getpid()), name=f"benders-worker-{w + 1}",
                                daemon=True)
                p.start()
                child.close()  # only the worker holds its end: its death is an EOF here
                self.procs.append(p)
                self.conns.append(parent)
            S = len(self.cases)
            for w in range(workers):
                self._send(w, dumps(("open", [self.cases[i] for i in self.parts[w]], self.parts[w], options,
                                     keep_models, S, self.stamp)))
        except BaseException:
            self.close(force=True)
            raise

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _send(self, w: int, data: bytes) -> None:
        try:
            self.conns[w].send_bytes(data)
        except (OSError, EOFError):
            self._lost(w)

    def _lost(self, w: int):
        from model.interrupt import Terminated, requested

        if requested():
            raise Terminated()
        p = self.procs[w]
        p.join(timeout=1.0)
        raise WorkerLost(_lost_line(w, self.workers, p.pid, p.exitcode), termination="error")

    def _gather(self, advance=None) -> list:
        from multiprocessing.connection import wait

        replies = [None] * self.workers
        pending = set(range(self.workers))
        while pending:
            by_conn = {self.conns[w]: w for w in pending}
            by_sentinel = {self.procs[w].sentinel: w for w in pending}
            for obj in wait(list(by_conn) + list(by_sentinel), timeout=POLL_S):
                if obj in by_conn:
                    w = by_conn[obj]
                    if w not in pending:
                        continue
                    try:
                        msg = loads(obj.recv_bytes())
                    except (EOFError, OSError):
                        self._lost(w)
                    if _take(msg, w, replies, pending, advance):
                        continue
                else:
                    w = by_sentinel[obj]
                    if w in pending and not self.conns[w].poll():
                        self._lost(w)
        return replies

    def close(self, force: bool = False) -> None:
        """End the workers: asked to (``close``), then terminated if they do not end in CLOSE_WAIT_S;
        ``force`` (an exception is unwinding): terminated at once."""
        if self.closed:
            return
        self.closed = True
        if not force:
            for w in range(len(self.conns)):
                try:
                    self.conns[w].send_bytes(dumps(("close",)))
                except (OSError, EOFError):
                    pass
            end = time.monotonic() + CLOSE_WAIT_S
            for p in self.procs:
                p.join(timeout=max(0.0, end - time.monotonic()))
        _terminate(self.procs, self.conns)
        self._finalizer.detach()


def _terminate(procs, conns) -> None:
    """Terminate (then kill) every worker still running and reap it; close the pipes."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5.0)
        if p.is_alive():
            p.kill()
            p.join(timeout=5.0)
    for c in conns:
        try:
            c.close()
        except OSError:
            pass


# ----------------------------------------------------------------------------------- MPI


class _MpiLink:
    """Point-to-point messages to and from one rank, polled (Open MPI's blocking receive spins a core)."""

    def __init__(self, comm, peer: int):
        self.comm, self.peer = comm, peer

    def send(self, data: bytes) -> None:
        self.comm.send(data, dest=self.peer, tag=MPI_TAG)

    def poll(self) -> bool:
        return bool(self.comm.Iprobe(source=self.peer, tag=MPI_TAG))

    def recv(self) -> bytes:
        pause = MPI_SLEEP_S[0]
        while not self.poll():
            time.sleep(pause)
            pause = min(MPI_SLEEP_S[1], pause * 2)
        return self.comm.recv(source=self.peer, tag=MPI_TAG)


class MpiPool(_RemotePool):
    """Ranks 1..K-1 of ``MPI.COMM_WORLD`` as the workers (module docstring)."""

    def __init__(self, comm, cases, options, keep_models: bool, stamp: bool = True):
        super().__init__(cases, options, keep_models, comm.Get_size() - 1, stamp)
        self.links = [_MpiLink(comm, r) for r in range(1, comm.Get_size())]
        S = len(self.cases)
        for w in range(self.workers):
            self._send(w, dumps(("open", [self.cases[i] for i in self.parts[w]], self.parts[w], options, keep_models, S,
                                 self.stamp)))

    def pids(self) -> list[int]:
        return []

    def _send(self, w: int, data: bytes) -> None:
        self.links[w].send(data)

    def _request(self, msg: tuple, advance=None) -> list:
        _MPI_BUSY.update(range(self.workers))
        out = super()._request(msg, advance)
        return out

    def _gather(self, advance=None) -> list:
        replies = [None] * self.workers
        pending = set(range(self.workers))
        pause = MPI_SLEEP_S[0]
        while pending:
            got = False
            for w in sorted(pending):
                if self.links[w].poll():
                    msg = loads(self.links[w].recv())
                    got = True
                    if _take(msg, w, replies, pending, advance):
                        continue
                    _MPI_BUSY.discard(w)
            if not got:
                time.sleep(pause)  # signal handlers run here (Ctrl-C, SIGTERM)
                pause = min(MPI_SLEEP_S[1], pause * 2)
            else:
                pause = MPI_SLEEP_S[0]
        return replies

    def close(self, force: bool = False) -> None:
        """The workers drop their scenarios and wait for the next pool (or ``exit``). A worker still busy
        with a request cannot be reached: rank 0 then aborts the job when it ends (:func:`mpi_main`)."""
        if self.closed:
            return
        self.closed = True
        for w in range(self.workers):
            if w not in _MPI_BUSY:
                self._send(w, dumps(("close",)))


# ----------------------------------------------------------------------------------- choosing a pool


def _take(msg, w: int, replies: list, pending: set, advance) -> bool:
    """One message of worker ``w``: a progress tick (passed to ``advance``; True: keep waiting for its reply)
    or its reply (stored in ``replies[w]``, ``w`` no longer pending; False)."""
    if msg[0] == "tick":
        if advance is not None:
            advance(msg[1])
        return True
    replies[w] = msg
    pending.discard(w)
    return False


def open_pool(cases, options, workers: int, keep_models: bool, stamp: bool = True):
    """The pool for ``workers`` (module docstring). Under :func:`mpi_main` with K > 1 ranks, the K - 1
    worker ranks (``workers`` must then be 1, the default, or K - 1). ``stamp``: build each structure once
    in Pyomo and stamp the other scenarios (:mod:`model.stochastic.stamp`; each worker groups its own)."""
    workers = int(workers)
    if _MPI_COMM is not None and _MPI_COMM.Get_size() > 1:
        k = _MPI_COMM.Get_size() - 1
        if workers not in (1, k):
            raise InputError([InputIssue(CMD, "--workers", str(workers),
                                         f"1 or {k} under mpiexec -n {k + 1} (the ranks after rank 0 are the workers)")])
        return MpiPool(_MPI_COMM, cases, options, keep_models, stamp)
    if workers <= 1:
        return LocalPool(cases, options, keep_models, stamp)
    return ProcessPool(cases, options, keep_models, min(workers, len(cases)), stamp)


def mpi_main(argv: list[str] | None = None) -> int:
    """``mpiexec -n K python -m model.stochastic.parallel <solve.py arguments>``: rank 0 runs
    ``solve.main`` with ranks 1..K-1 as its Benders workers; they serve until rank 0 ends. One rank
    (no mpiexec): the command line as usual."""
    global _MPI_COMM
    try:
        from mpi4py import MPI
    except ImportError as e:
        print(f"mpi unavailable: this entry point needs mpi4py (pip install -e '.[mpi]' with an MPI library): {e}",
              file=sys.stderr)
        return 2
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if rank > 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # rank 0 decides; mpiexec ends the job
        _serve(_MpiLink(comm, 0), keep_waiting=True)
        return 0
    import solve

    _MPI_COMM = comm
    rc = 1
    try:
        rc = solve.main(sys.argv[1:] if argv is None else argv)
    finally:
        if _MPI_BUSY:  # a worker is mid-request and will not read another message: end the job
            sys.stderr.flush()
            comm.Abort(rc if rc else 1)
        for r in range(1, size):
            comm.send(dumps(("exit",)), dest=r, tag=MPI_TAG)
    return rc


if __name__ == "__main__":  # run as a script this file is ``__main__``: use the module the engine imports
    from model.stochastic.parallel import mpi_main as _main

    raise SystemExit(_main())
