"""An interrupted run (SIGINT) leaves the previous report intact, no temporary files, and exits 130."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sigint_mid_run_keeps_previous_report(tmp_path):
    out = tmp_path / "reports" / "sampled"
    out.mkdir(parents=True)
    (out / "kpis.json").write_text('{"previous": true}\n')
    (out / "summary.md").write_text("previous report\n")
    # a report folder this tool wrote (its manifest says so): the only kind it may replace
    (out / "manifest.json").write_text('{"packages": {"magnet-supply-risk": "0.1.0"}}\n')
    # the 200-scenario case takes well over a minute; interrupt it while it builds
    p = subprocess.Popen([sys.executable, str(ROOT / "solve.py"), "inputs/sampled.yaml", "--engine", "ef", "--out", str(out)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    assert p.poll() is None, "the run finished before it could be interrupted"
    p.send_signal(signal.SIGINT)
    try:
        stdout, stderr = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        raise
    assert p.returncode == 130, stdout + stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert (out / "kpis.json").read_text() == '{"previous": true}\n'
    assert sorted(os.listdir(out)) == ["kpis.json", "manifest.json", "summary.md"]
    assert [x.name for x in out.parent.iterdir()] == ["sampled"]  # no .tmp- or .old- directories left


def test_interrupt_while_writing_leaves_previous_report(tmp_path, monkeypatch):
    """A KeyboardInterrupt raised inside the report writer: the temporary directory is removed."""
    from model.report import files as report

    from tests.conftest import solved_default

    run = solved_default("deterministic")
    out = tmp_path / "base"
    report.write_report(run, out, ["test"])
    before = (out / "kpis.json").read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "render_html", boom)
    try:
        report.write_report(run, out, ["test"])
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt was swallowed")
    assert (out / "kpis.json").read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == ["base"]
    shutil.rmtree(out)
