"""Progress of a run (issue 13): phases shown as they start (plain lines in a log, one transient line on
a terminal), nothing with --quiet or in library calls, and the phases' wall times in the manifest."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

from model import progress
from model.progress import Reporter, phase, reporting

ROOT = Path(__file__).resolve().parents[1]


def test_plain_lines_start_each_outer_phase_and_end_the_long_ones(monkeypatch):
    out = io.StringIO()
    r = Reporter(out, started_s=time.monotonic(), live=False)
    monkeypatch.setattr(progress, "PLAIN_END_S", 0.0)  # every end shown
    with reporting(r):
        with phase("reading", show=False):
            pass
        with phase("building", total=3) as p:
            for _ in range(3):
                p.advance()
            with phase("inner solve"):  # nested: part of building, neither shown nor timed alone
                pass
    lines = out.getvalue().splitlines()
    assert [ln.split("] ", 1)[1] for ln in lines] == ["building (3) ...", lines[1].split("] ", 1)[1]]
    assert lines[1].split("] ", 1)[1].startswith("building: done in ")
    assert set(r.phases_s) == {"reading", "building"}
    assert all(v >= 0 for v in r.phases_s.values())


def test_short_phases_get_no_end_line():
    out = io.StringIO()
    with reporting(Reporter(out, live=False)):
        with phase("quick"):
            pass
    assert out.getvalue().count("\n") == 1 and "quick ..." in out.getvalue()


def test_live_line_is_rewritten_and_erased():
    out = io.StringIO()
    with reporting(Reporter(out, live=True)):
        with phase("building", total=2) as p:
            p.advance()
            time.sleep(0.12)
            p.advance()
    text = out.getvalue()
    assert "\n" not in text  # one transient line, never a new one
    assert "building 0/2" in text and text.endswith("\r\x1b[2K")


def test_phases_are_silent_without_a_reporter(capsys):
    with phase("anything", total=2) as p:
        p.advance(2)
    progress.advance()
    assert capsys.readouterr() == ("", "")


def test_the_command_line_logs_phases_on_stdout_and_times_them_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(ROOT / "solve.py"), str(ROOT / "inputs" / "base.yaml"), "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # not a terminal: stderr holds only errors and warnings
    started = [ln.split("] ", 1)[1] for ln in p.stdout.splitlines() if ln.startswith("[")]
    for name in ("building the extensive form of 12 scenarios (12) ...", "solving with HiGHS", "EVPI and VSS",
                 "independent audit of the plan ...", "writing the report (4) ..."):
        assert any(s.startswith(name) for s in started), (name, started)
    assert not any(s.startswith("reading the case") for s in started)
    closing = [ln for ln in p.stdout.splitlines() if ln.startswith("base: optimal stochastic plan")]
    assert len(closing) == 1 and closing[0].endswith(" s wall time")
    man = json.loads((out / "manifest.json").read_text())
    phases = man["phases_s"]
    assert {"reading the case", "building the extensive form", "solving with HiGHS", "EVPI and VSS",
            "independent audit of the plan"} <= set(phases)
    wall = float(closing[0].rsplit("; ", 1)[1].split(" s wall")[0])
    assert sum(phases.values()) <= wall + 0.5


def test_quiet_prints_nothing(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "solve.py"), str(ROOT / "tests" / "bad_inputs" / "valid" / "case.yaml"),
                        "--out", str(tmp_path / "out"), "--quiet", "--no-evpi-vss"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", (p.stdout, p.stderr)
