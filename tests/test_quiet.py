"""`--quiet` prints nothing on success (HiGHS's banner included); `--solver-log` keeps HiGHS's log."""

import subprocess
import sys

from tests.conftest import ROOT


def test_quiet_prints_nothing_and_solver_log_goes_to_the_report(tmp_path):
    out = tmp_path / "r"
    p = subprocess.run([sys.executable, str(ROOT / "solve.py"), "--deterministic", "--quiet", "--solver-log",
                        "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == "", (p.stdout, p.stderr)
    log = (out / "highs.log").read_text()
    assert "HiGHS" in log and "Model status" in log
    assert not list(tmp_path.glob("msr-highs-log-*"))


def test_without_quiet_no_highs_banner(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "solve.py"), "--deterministic", "--out", str(tmp_path / "r")],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "Running HiGHS" not in p.stdout + p.stderr
    assert "optimal, total cost" in p.stdout
