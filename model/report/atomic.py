"""The atomic directory writer under every report: a failed or interrupted write leaves nothing
half-written and never clobbers the previous report."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def atomic_dir(out_dir: str | Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp_dir)`` and rename the result into ``out_dir``; nothing half-written on failure.

    ``tmp_dir`` is a new sibling of ``out_dir``. Only a complete ``tmp_dir`` is renamed into place: a
    previous ``out_dir`` is moved aside just before that rename and removed after it."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        write(tmp)
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
