"""Progress of a run, phase by phase; and the phases' wall times for the manifest.

The library marks its phases (``with phase("building the extensive form", total=200) as p:
p.advance()``); nothing is shown unless a command line installs a :class:`Reporter` with
:func:`reporting`, so library calls and tests stay silent. A reporter shows:

- on a terminal (``live``, on stderr): one transient line rewritten in place, ``[  12.3 s] building
  the extensive form 120/200 [#########.....]``, refreshed at most 10 times a second and, for a phase
  with no steps (a HiGHS solve), by a ticker every half second so the elapsed time moves; it is
  erased when the run ends, so what stays on the terminal is the result, or the one error line;
- elsewhere (CI logs, a pipe; on stdout, the run's log, so stderr keeps only errors and warnings):
  one plain line when a phase starts, ``[   3.2 s] solving with HiGHS ...``, and, for a phase that
  took at least ``PLAIN_END_S`` (5 s), one when it ends, ``[  30.1 s] solving with HiGHS: done in
  26.9 s``;
- with ``--quiet``: nothing (the command line installs no reporter).

A phase marked ``show=False`` (reading the case: its errors must stay the only lines) is timed, not shown.

Elapsed times count from the reporter's ``started_s`` (the command line passes the moment it
started, so imports count). Every finished outermost phase is kept in ``Reporter.phases_s`` (key ->
seconds, a repeated key is summed), which the command line writes to ``manifest.json``. Phases nest:
a phase inside another (a HiGHS solve inside EVPI) is part of it, neither shown nor timed on its own.

Glossary
--------
phase(name, total)   context manager marking a phase; ``.advance(n)`` moves its step count
advance(n)           move the step count of the phase on show (from a loop nested inside it)
reporting(reporter)  context manager installing a reporter for the calls inside it
Reporter             the stderr display and the phase timings
"""

from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

_current: contextvars.ContextVar["Reporter | None"] = contextvars.ContextVar("msr_progress", default=None)
REFRESH_S = 0.1
TICK_S = 0.5
PLAIN_END_S = 5.0  # plain lines: a phase's end is shown when it took at least this long
BAR_WIDTH = 24


class _Phase:
    def __init__(self, reporter: "Reporter | None", name: str, total: int | None, shown: bool):
        # shown: the outermost phase (timed); drawn: shown and not show=False (on screen)
        self.reporter, self.name, self.total, self.shown = reporter, name, total, shown
        self.done = 0
        self.drawn = shown
        self.t0 = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.reporter is not None and self.drawn:
            self.reporter._draw(self)


class Reporter:
    """Phase display on ``stream`` (module docstring); ``live``: rewrite one line (a terminal)."""

    def __init__(self, stream: TextIO, started_s: float | None = None, live: bool | None = None):
        self.stream = stream
        self.started_s = time.monotonic() if started_s is None else started_s
        self.live = stream.isatty() if live is None else live
        self.phases_s: dict[str, float] = {}
        self._depth = 0
        self._last_draw = 0.0
        self._lock = threading.Lock()
        self._active: _Phase | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_s

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed: progress is not worth failing for
            pass

    def _line(self, p: _Phase) -> str:
        head = f"[{self.elapsed_s():7.1f} s] {p.name}"
        if p.total:
            fill = int(BAR_WIDTH * min(p.done, p.total) / p.total)
            return f"{head} {p.done:,}/{p.total:,} [{'#' * fill}{'.' * (BAR_WIDTH - fill)}]"
        return f"{head} ... {time.monotonic() - p.t0:5.1f} s"

    def _draw(self, p: _Phase, force: bool = False) -> None:
        if not self.live or not p.drawn:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_draw < REFRESH_S:
                return
            self._last_draw = now
            self._write("\r\x1b[2K" + self._line(p))

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            p = self._active
            if p is not None:
                self._draw(p, force=True)

    def start(self, p: _Phase) -> None:
        self._active = p
        if not p.drawn:
            return
        if self.live:
            self._draw(p, force=True)
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="msr-progress", daemon=True)
                self._ticker.start()
        else:
            self._write(f"[{self.elapsed_s():7.1f} s] {p.name}" + (f" ({p.total:,})" if p.total else "") + " ...\n")

    def end(self, p: _Phase, ok: bool) -> None:
        took = time.monotonic() - p.t0
        self._active = None
        word = "done" if ok else "stopped"
        if self.live or not p.drawn:  # live: the next phase overwrites the line; close() erases it
            return
        if took >= PLAIN_END_S:  # a short phase's end is the next line's start
            self._write(f"[{self.elapsed_s():7.1f} s] {p.name}: {word} in {took:.1f} s\n")

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
        if self.live and self._last_draw:
            with self._lock:
                self._write("\r\x1b[2K")  # the transient line goes: the result or the error follows


@contextmanager
def phase(name: str, total: int | None = None, key: str | None = None, show: bool = True) -> Iterator[_Phase]:
    """Mark a phase of the run (module docstring): ``name`` is shown, ``key`` (default ``name``) is its
    entry in ``phases_s``. Outermost phases are shown and timed; nested ones are neither (they are
    part of the phase around them, so the timed phases partition the run)."""
    from model.interrupt import raise_if_requested

    raise_if_requested()  # a SIGTERM whose exception was swallowed stops the run here
    r = _current.get()
    shown = r is not None and r._depth == 0
    p = _Phase(r, name, total, shown)
    p.drawn = shown and show
    if r is not None:
        r._depth += 1
        if shown:
            r.start(p)
    ok = False
    try:
        yield p
        ok = True
    finally:
        if r is not None:
            r._depth -= 1
            if shown:
                k = key or name
                r.phases_s[k] = round(r.phases_s.get(k, 0.0) + time.monotonic() - p.t0, 3)
                r.end(p, ok)


def advance(n: int = 1) -> None:
    """Move the step count of the phase on show (the outermost one), if any: for loops deep inside
    a phase, e.g. the scenario solves behind EVPI."""
    r = _current.get()
    if r is not None and r._active is not None:
        r._active.advance(n)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[Reporter | None]:
    """Install ``reporter`` for the calls inside (None: silent)."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)
        if reporter is not None:
            reporter.close()
