"""Choose the stochastic engine from the problem size; launch progressive hedging under MPI.

Engines: ``ef`` (the extensive form, :mod:`model.stochastic.extensive`), ``benders`` (the multi-cut
L-shaped decomposition, :mod:`model.stochastic.benders`, one process, no MPI) and ``ph``
(progressive hedging, below). ``auto`` picks the EF up to ``AUTO_BENDERS_COLUMNS`` estimated
extensive-form columns (about 100 scenarios of the default case's size) and Benders beyond (measured
crossover: ``benchmarks/benders.py``, ``benchmarks/RESULTS.md``, "Benders decomposition");
progressive hedging only when asked for (it is slower than Benders on this model and optimises
expected cost only).
The earlier rule, kept for reference (``AUTO_PH_COLUMNS``): measured on the 2-core machine (README,
``benchmarks/RESULTS.md``), the extensive form (EF) solves the 200-scenario default-size case (354k
columns) in about 22 s of HiGHS time, but its solve time grows much faster than the scenario count,
and in earlier measurements on a synthetic LP extensive forms of about a million columns did not
finish in 10 minutes; ``auto`` therefore picked the EF up to ``AUTO_PH_COLUMNS`` estimated columns
and progressive hedging (mpi-sppy, ``model.decomposition``) beyond, when MPI was available.

Before either engine is chosen (``auto`` or ``ph``), the case is sized from one scenario model
without generating its scenarios (:func:`model.solve.budget.check_fits`): one estimated not to fit in
the machine's memory is refused (InputError on ``scenarios.count`` / ``scenarios``, exit 2). The
ranks of progressive hedging run on the same machine, so their total is held to the same bound.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

AUTO_PH_COLUMNS = 1_000_000
# Measured (benchmarks/benders.py, without EVPI/VSS): the EF is faster up to 30 sampled scenarios (58k columns),
# Benders 1.2x faster at 50 (96k), 1.3x at 200 (386k), 3.4x at 500 (964k); with EVPI/VSS Benders is 2.5x faster
# from 50 on; on the 36-month generated case (RESULTS.md, run J, with stamping) 3.6x at 50 and 29x at 200, and
# against the extensive form from arrays with cheaper marginal values (run K) 2.4x at 50 and 11x at 200.
# The switch sits above the crossover, at about 100 default-size scenarios, so that small and
# medium cases keep the extensive form's marginal values (Benders reports each scenario's with the first
# stage held, model.md §16.4).
AUTO_BENDERS_COLUMNS = 200_000


def ph_available() -> tuple[bool, str]:
    if shutil.which("mpiexec") is None:
        return False, "no mpiexec on PATH (Debian: apt-get install openmpi-bin libopenmpi-dev)"
    import importlib.util

    if importlib.util.find_spec("mpi4py") is None or importlib.util.find_spec("mpisppy") is None:
        return False, "mpi-sppy or mpi4py is not installed (pip install -c constraints.txt -e '.[mpi]')"
    return True, ""


def estimated_columns(path: str) -> tuple[int, int]:
    """(scenario count, estimated EF columns): one scenario's columns times the scenario count, from
    :func:`model.solve.budget.estimate` (no scenario is generated). A case estimated not to fit in
    memory raises InputError (``budget.check_fits``): progressive hedging's ranks share one machine's
    memory, so the bound is the same as the extensive form's."""
    from model.input.io import read_case
    from model.solve.budget import check_fits

    est = check_fits(read_case(path), str(path))
    return est.scenarios, est.columns


def choose_engine(path: str, requested: str) -> tuple[str, str]:
    if requested in ("ef", "benders"):
        return requested, ""  # run_case sizes the case itself
    n, cols = estimated_columns(path)  # refuses a case that cannot fit, before any engine is launched
    ok, why_not = ph_available()
    if requested == "ph":
        if not ok:
            from model.errors import InputError, InputIssue

            raise InputError([InputIssue("--engine", "engine", "ph", f"an MPI setup: {why_not}")])
        return "ph", "requested"
    if n <= 1:
        return "ef", ""
    if cols <= AUTO_BENDERS_COLUMNS:
        return "ef", f"{n} scenarios, about {cols:,} columns: within the extensive form's measured range"
    return "benders", f"{n} scenarios, about {cols:,} columns: Benders decomposition is faster beyond {AUTO_BENDERS_COLUMNS:,}"


# Runtime variables an MPI process (even a singleton, e.g. any process that imported mpi4py) exports
# to its children; a child mpiexec that inherits them fails at once and silently. A user's own
# OMPI_MCA_* transport settings are kept.
_MPI_RUNTIME = ("PMIX_", "ORTE_", "PRTE_", "OMPI_APP_", "OMPI_COMM_", "OMPI_UNIVERSE_", "OMPI_FIRST_",
                "OMPI_ARGV", "OMPI_COMMAND", "OMPI_NUM_APP_CTX", "OMPI_FILE_LOCATION", "OMPI_MCA_ess",
                "OMPI_MCA_orte_", "OMPI_MCA_pmix")


def clean_mpi_env(environ) -> dict:
    return {k: v for k, v in environ.items() if not k.startswith(_MPI_RUNTIME)}


def mpiexec_command(ranks: int) -> list[str]:
    cmd = ["mpiexec"]
    try:
        out = subprocess.run(["mpiexec", "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    if "Open MPI" in out or "OpenRTE" in out:
        cmd += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]
    return cmd + ["-n", str(ranks)]


def run_ph_subprocess(path: str, out: str | None, ranks: int, rel_gap: float, time_limit: float | None,
                      threads: int) -> int:
    """``mpiexec -n RANKS python -m model.decomposition ...``; returns its exit code."""
    if ranks < 3:
        print("input error: --ranks: expected at least 3 (hub, Lagrangian bound, xhat bound)", file=sys.stderr)
        return 2
    import tempfile

    from model.input.io import read_case

    out = Path(out) if out else Path("reports") / f"{read_case(path).case.name}-ph"
    cmd = mpiexec_command(ranks) + [sys.executable, "-m", "model.decomposition", str(Path(path).resolve()),
                                    "--rel-gap", str(rel_gap), "--threads", str(threads), "--out", str(out.resolve())]
    if time_limit is not None:
        cmd += ["--time-limit", str(time_limit)]
    env = clean_mpi_env(os.environ)
    # On one machine, Open MPI's shared-memory transports: measured 2.8 s instead of 116 s for the same
    # PH run with the default one-sided component (busy teardown on an oversubscribed 2-core machine).
    # A user's own OMPI_MCA_* settings win (a cluster needs its network transport).
    env.setdefault("OMPI_MCA_osc", "sm")
    env.setdefault("OMPI_MCA_btl", "self,vader")
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory() as scratch:  # mpi-sppy writes its cylinder logs into the working directory
        rc = subprocess.run(cmd, env=env, cwd=scratch, stdin=subprocess.DEVNULL).returncode
    if rc not in (0, 2, 3, 4, 130):
        print(f"progressive hedging: mpiexec exited {rc} (run `{' '.join(cmd)}` to see MPI's own messages)",
              file=sys.stderr)
    return rc
