"""What a report records about how it was made: package versions and the run manifest. Writes nothing."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run

PACKAGES = ("magnet-supply-risk", "pyomo", "highspy", "pandas", "pydantic", "numpy", "scipy", "pyyaml")


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def input_file_entries(files: Iterable[tuple[str, str]]) -> list[dict]:
    """``[(path, sha256), ...]`` as the manifest's ``input_files`` list."""
    return [{"path": p, "sha256": h} for p, h in files]


def environment_entries() -> dict:
    """The ``packages`` and ``platform`` entries that close the sweep and compare manifests."""
    return {"packages": package_versions(), "platform": platform.platform()}


def manifest(run: Run, argv: list[str]) -> dict:
    """A run's manifest.json: command line, input hashes, package and solver versions, solver options, timings."""
    return {
        "command_line": argv,
        "case": run.data.case.name,
        "input_files": input_file_entries(run.data.input_files),
        "input_hash": run.data.input_hash(),
        "packages": package_versions(),
        "solver": {"name": run.result.solver, "version": run.result.solver_version, "options": run.result.options},
        "timings_s": run.timings_s,
        "platform": platform.platform(),
    }
