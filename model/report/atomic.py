"""The atomic directory writer under every report: a failed or interrupted write leaves nothing
half-written and never clobbers the previous report; and the one rule for where a report may go.

Output rule (:func:`check_out_dir`, applied by :func:`atomic_dir`, so by every writer): the tool only
replaces a folder it wrote itself, recognised by its ``manifest.json`` naming magnet-supply-risk
among its packages. It refuses, as an input error (exit 2, nothing written), an ``--out`` that is an
existing file, an existing non-empty folder it did not write, or a folder holding one of the run's
input files (the case, its CSVs, the report folders a comparison reads). A new folder is created,
wherever it is. Nothing is ever renamed aside and left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from model.errors import InputError, InputIssue


MARKER_PACKAGE = "magnet-supply-risk"


def written_by_us(folder: Path) -> bool:
    """Whether ``folder`` is a report folder this tool wrote (its manifest names the package)."""
    try:
        man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(man, dict) and isinstance(man.get("packages"), dict) and MARKER_PACKAGE in man["packages"]


def check_out_dir(out_dir: str | Path, protect: Iterable[str | Path] = ()) -> None:
    """Raise :class:`~model.errors.InputError` when writing a report to ``out_dir`` could lose a file
    the tool did not write (module docstring); ``protect``: the run's input files."""
    try:
        expected = _refusal(Path(out_dir), protect)
    except OSError as e:  # a name too long: the path itself is unusable
        expected = f"a path this system accepts ({e.strerror or type(e).__name__})"
    except RuntimeError:  # Path.resolve() on a loop of symbolic links (Python 3.11)
        expected = "a path this system accepts (a loop of symbolic links)"
    if expected is not None:
        raise InputError([InputIssue("(command line)", "--out", str(out_dir), expected)])


def _refusal(out: Path, protect: Iterable[str | Path]) -> str | None:
    """Why writing to ``out`` is refused, or None."""
    expected = None
    if out.exists() and not out.is_dir():
        expected = "a new folder or a report folder this tool wrote (this is an existing file)"
    elif out.is_dir() and any(out.iterdir()) and not written_by_us(out):
        expected = ("a new folder or a report folder this tool wrote (this folder holds other files and "
                    "no manifest.json of magnet-supply-risk)")
    elif not out.exists():
        anc = out.absolute().parent
        while not anc.exists() and anc != anc.parent:
            anc = anc.parent
        if not anc.is_dir():
            expected = f"a folder path (its parent {anc} is a file)"
        elif not os.access(anc, os.W_OK | os.X_OK):
            expected = f"a folder that can be created ({anc} is not writable)"
    if expected is None:
        resolved = out.resolve()
        for p in protect:
            f = Path(p).resolve()
            if resolved == f or resolved in f.parents:
                expected = f"a folder that holds none of the run's inputs (it holds {p})"
                break
    return expected


def atomic_file(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary sibling renamed into place: a failed or
    interrupted write leaves the previous file as it was and no temporary file. The caller decides
    whether ``path`` may be replaced (e.g. :func:`model.app.baseline.write_baseline`)."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise InputError([InputIssue("(command line)", "baseline", str(path), "a file path (this is a folder)")])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_dir(out_dir: str | Path, write: Callable[[Path], None], protect: Iterable[str | Path] = ()) -> Path:
    """Run ``write(tmp_dir)`` and rename the result into ``out_dir``; nothing half-written on failure.

    ``tmp_dir`` is a new sibling of ``out_dir``. Only a complete ``tmp_dir`` is renamed into place: a
    previous ``out_dir`` is moved aside just before that rename and removed after it."""
    out_dir = Path(out_dir)
    check_out_dir(out_dir, protect)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write(tmp)
        from model.interrupt import raise_if_requested

        raise_if_requested()  # a terminated run never renames a report into place
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
