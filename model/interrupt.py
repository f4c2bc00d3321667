"""A termination request (SIGTERM) that is not lost.

The command line's SIGTERM handler (:mod:`model.app.boundary`) calls :func:`request` and raises
:class:`Terminated`. Python swallows an exception raised while a signal handler runs inside a
finaliser or an import-lock callback ("Exception ignored in ..."), so the request is also kept as a
flag, and the run stops at the next point that asks (:func:`raise_if_requested`): the start of every
phase (:mod:`model.progress`) and the moment a finished report folder would be renamed into place
(:mod:`model.report.atomic`), so a terminated run never leaves a report that looks complete.
"""

from __future__ import annotations

_requested = False


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Python next runs, so that every ``finally`` and cleanup runs."""


def request() -> None:
    global _requested
    _requested = True


def requested() -> bool:
    return _requested


def raise_if_requested() -> None:
    if _requested:
        raise Terminated()
