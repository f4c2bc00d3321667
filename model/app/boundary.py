"""The one error boundary of every subcommand: each failure becomes one line and its exit code.

Exit codes (``EXIT``), the same for ``solve``, ``sweep``, ``compare`` and ``check``:

==== =========================================================================================
0    done (``check``: no value moved)
1    ``check``: values moved beyond the tolerance (a table follows; not an error)
2    bad input: a case file, a CSV, a baseline, a report folder read by ``compare``, or the
     command line; one ``input error:`` line per problem, nothing written
3    the solver did not prove an optimal plan (infeasible: the conflicting inputs follow on
     ``conflict:`` lines; a time limit: the best plan is written, see README "Limits")
4    the independent audit of the plan failed (report written, marked FAIL)
5    the operating system refused a read or a write (disk full, permission, path too long, I/O
     error): one ``os error:`` line naming the path; nothing half-written, no temporary folder
130  interrupted (Ctrl-C, SIGINT)
141  standard output was closed by its reader (``| head``): the run stops
143  terminated (SIGTERM)
==== =========================================================================================

Every report is written through :func:`model.report.atomic.atomic_dir`, which removes its temporary
folder on any exception, so an exception reaching this boundary has left nothing half-written.
SIGTERM is turned into :class:`Terminated` (a ``KeyboardInterrupt``), so it unwinds the same way.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

from model.errors import InputError, SolveError
from model.interrupt import Terminated, request, requested  # Terminated: SIGTERM as an exception

EXIT = {"done": 0, "moved": 1, "input": 2, "solver": 3, "audit": 4, "os": 5, "interrupted": 130,
        "closed_pipe": 141, "terminated": 143}


def _on_sigterm(signum, frame) -> None:
    request()  # kept as a flag too: an exception raised inside a finaliser is swallowed (model.interrupt)
    raise Terminated()


def install_signals() -> None:
    """Ctrl-C stops a run cleanly even when started with SIGINT ignored; SIGTERM unwinds like it."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background with Ctrl-C ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)
    default_hook = sys.unraisablehook

    def quiet_termination(unraisable) -> None:  # a Terminated swallowed in a finaliser: the flag acts on it
        if not isinstance(unraisable.exc_value, Terminated):
            default_hook(unraisable)

    sys.unraisablehook = quiet_termination


def _err(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr itself is gone: nothing more can be said
        pass


def print_input_error(e: InputError) -> int:
    for issue in e.issues:
        _err(f"input error: {issue.line()}")
    return EXIT["input"]


def print_solve_error(e: SolveError) -> int:
    _err(f"solve failed: {e}")
    if e.conflicts:
        _err("these hard inputs conflict (an irreducible infeasible set found by HiGHS):")
        for line in e.conflicts:
            _err(f"  conflict: {line}")
    return EXIT["solver"]


def os_error_line(e: OSError) -> str:
    """``os error: <path>: <what failed>`` (with the second path of a rename, if any)."""
    where = e.filename if e.filename is not None else "(unnamed file)"
    if getattr(e, "filename2", None):
        where = f"{where} -> {e.filename2}"
    what = e.strerror or type(e).__name__
    return f"os error: {where}: {what}; nothing half-written"


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def guarded(body: Callable[[], int]) -> int:
    """Run one subcommand; every exception that is not a bug becomes one line and its exit code."""
    try:
        rc = body()
        if requested():  # SIGTERM arrived where its exception was swallowed: still a terminated run
            raise Terminated()
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return rc
    except InputError as e:
        return print_input_error(e)
    except SolveError as e:
        return print_solve_error(e)
    except BrokenPipeError:
        _silence_stdout()
        _err("stopped: standard output was closed by its reader")
        return EXIT["closed_pipe"]
    except Terminated:
        _err("terminated: the run stopped; any previous report is intact and nothing half-written is left")
        return EXIT["terminated"]
    except KeyboardInterrupt:
        _err("interrupted: the run stopped; any previous report is intact and nothing half-written is left")
        return EXIT["interrupted"]
    except MemoryError:
        _err("os error: (memory): out of memory; nothing half-written (see README \"Limits\")")
        return EXIT["os"]
    except OSError as e:
        _err(os_error_line(e))
        return EXIT["os"]
