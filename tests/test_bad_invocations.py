"""Bad invocations (``tests/bad_inputs/invocations.yaml``) through ``solve.main``: every subcommand's
options, the baselines ``check`` reads, the report folders ``compare`` reads and the ``--out`` of
each; each gives its exit code and one line, writes nothing and changes no file. Below the corpus:
the failures a table cannot hold (SIGTERM, a full disk, a closed pipe, an unwritable folder).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import solve
from model.app.boundary import EXIT

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
VALID = CORPUS / "valid" / "case.yaml"
INDEX = yaml.safe_load((CORPUS / "invocations.yaml").read_text())["invocations"]
BY_NAME = {c["name"]: c for c in INDEX}

PREFIXES = {2: "input error: ", 3: "solve failed: ", 5: "os error: "}
SUBCOMMANDS = ("sweep", "compare", "check")


def snapshot(*folders: Path) -> dict:
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            out[str(p)] = p.read_bytes() if p.is_file() else "dir"
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report folder the tool wrote (of the corpus's valid case)."""
    out = tmp_path_factory.mktemp("report") / "valid"
    assert solve.main([str(VALID), "--out", str(out), "--no-evpi-vss", "--quiet"]) == 0
    return out


def _subst(text: str, tmp: Path, report: Path) -> str:
    return (text.replace("{valid}", str(VALID)).replace("{tmp}", str(tmp)).replace("{report}", str(report))
            .replace("{digits5000}", "9" * 5000).replace("{long_name}", "x" * 300)
            .replace("{deep}", "[" * 200_000))


def test_index():
    assert len(INDEX) >= 60 and len(BY_NAME) == len(INDEX), "duplicate names"
    cats = {c["category"] for c in INDEX}
    assert cats >= {"option number", "usage", "output", "baseline", "report folder"}, cats
    # every subcommand and every numeric option appears
    argvs = [c["argv"] for c in INDEX]
    for sub in SUBCOMMANDS:
        assert any(a and a[0] == sub for a in argvs), sub
    for opt in ("--time-limit", "--gap", "--threads", "--ranks", "--rtol", "--out", "--set", "--scenario", "--engine",
                "--update"):
        assert any(opt in a for a in argvs), opt


@pytest.mark.parametrize("name", list(BY_NAME))
def test_bad_invocation(name, tmp_path, report, capsys):
    case = BY_NAME[name]
    work = tmp_path / "work"
    work.mkdir()
    for rel, content in (case.get("files") or {}).items():
        f = work / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            f.write_bytes(content)
        else:
            f.write_text(_subst(content, work, report))
    if case.get("copy_valid"):
        shutil.copytree(VALID.parent, work / case["copy_valid"])
    argv = [_subst(a, work, report) for a in case["argv"]]
    if (not argv or argv[0] not in SUBCOMMANDS) and "--out" not in argv:
        argv += ["--out", str(work / "out")]
    before = snapshot(work, report)
    rc = solve.main(argv)
    cap = capsys.readouterr()
    assert rc == case["exit"], (rc, cap.err)
    assert cap.out == "", cap.out
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert 1 <= len(lines) <= case.get("max_lines", 1), lines
    prefix = PREFIXES[case["exit"]]
    assert all(ln.startswith(prefix) for ln in lines), lines
    body = lines[0]
    pos = 0
    for text in case["line"]:
        i = body.find(text, pos)
        assert i >= 0, (text, body)
        pos = i + len(text)
    if prefix == "input error: ":
        assert " = " in body and ": expected " in body, body
    assert snapshot(work, report) == before, "a file was written, changed or removed"
    assert not list(tmp_path.glob("**/.*tmp-*")), "a temporary file or folder was left"


# --------------------------------------------------------------------------------------------
# failures a table cannot hold
# --------------------------------------------------------------------------------------------

def test_os_error_while_writing_is_one_line_and_exit_5(tmp_path, report, monkeypatch, capsys):
    """A full disk while the report is written: exit 5, one `os error:` line naming the file, the
    previous report intact, no temporary folder left."""
    out = tmp_path / "valid"
    shutil.copytree(report, out)
    before = snapshot(out)
    import pandas as pd

    real = pd.DataFrame.to_csv

    def full_disk(self, path=None, *a, **k):
        if path is not None and str(path).endswith("purchases.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(self, path, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    rc = solve.main([str(VALID), "--out", str(out), "--no-evpi-vss", "--quiet"])
    err = capsys.readouterr().err
    assert rc == EXIT["os"] == 5, err
    (line,) = err.strip().splitlines()
    assert line.startswith("os error: ") and "purchases.csv" in line and "No space left on device" in line, line
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["valid"], list(tmp_path.iterdir())


@pytest.mark.skipif(os.name != "posix" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="needs a POSIX system and a user that file permissions apply to (not root)")
def test_unwritable_out_folder_is_refused_before_solving(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        rc = solve.main([str(VALID), "--out", str(locked / "report")])
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert rc == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("input error: (command line): --out = ") and "is not writable" in line, line
    assert list(locked.iterdir()) == []


def _start(args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "solve.py"), *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="needs POSIX signals")
def test_sigterm_leaves_no_temporary_folder_and_exits_143(tmp_path):
    """SIGTERM at any moment (here: as soon as the temporary report folder appears, i.e. while the
    CSVs are being written) unwinds like Ctrl-C: exit 143, one line, nothing half-written left."""
    out = tmp_path / "reports" / "valid"
    p = _start([VALID, "--out", out, "--no-evpi-vss"], tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        if list((tmp_path / "reports").glob(".valid.tmp-*")) if (tmp_path / "reports").exists() else []:
            break
        time.sleep(0.002)
    if p.poll() is not None:
        pytest.skip("the run finished before its report folder could be caught being written")
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("terminated: "), err
    assert not out.exists()
    assert list((tmp_path / "reports").iterdir()) == []


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="needs POSIX signals")
def test_sigterm_while_solving(tmp_path):
    out = tmp_path / "out"
    p = _start([ROOT / "inputs" / "base.yaml", "--out", out], ROOT)
    time.sleep(3)
    if p.poll() is not None:
        pytest.skip("the run finished before it could be terminated")
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_closed_stdout_is_one_line_and_exit_141(tmp_path):
    """`solve.py ... | head -0`: the reader closes the pipe; no traceback, exit 141, the report whole."""
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, str(ROOT / "solve.py"), str(VALID), "--out", str(out), "--no-evpi-vss"],
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the first line
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert p.returncode == 141, err
    assert "Traceback" not in err and err.strip().splitlines() == ["stopped: standard output was closed by its reader"]
    assert (out / "kpis.json").is_file() or not out.exists()
    assert not list(tmp_path.glob(".*tmp-*"))


def test_compare_ignores_text_kpis(tmp_path, report, capsys):
    """A kpis.json holding text where numbers are expected is still an object: compared, not a crash."""
    r = tmp_path / "r"
    r.mkdir()
    (r / "kpis.json").write_text('{"objective_usd": "a lot", "case": "x"}')
    rc = solve.main(["compare", str(r), str(report), "--out", str(tmp_path / "cmp")])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "cmp" / "kpi_differences.csv").is_file()


def test_check_update_writes_atomically_over_a_baseline(tmp_path, capsys):
    """--update replaces a file that is a baseline, through a temporary file: no temporary left."""
    b = tmp_path / "b.json"
    b.write_text('{"input": "%s", "mode": "deterministic", "values": {"objective_usd": 1}}' % VALID)
    assert solve.main(["check", str(b), "--update"]) == 0, capsys.readouterr().err
    import json

    doc = json.loads(b.read_text())
    assert doc["values"]["objective_usd"] > 1 and doc["mode"] == "deterministic"
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]
    assert solve.main(["check", str(b)]) == 0


def test_help_names_every_subcommand_and_exit_code(capsys):
    with pytest.raises(SystemExit) as e:
        solve.main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for word in ("sweep", "compare", "check", "130", "141", "143", "OS error"):
        assert word in text, word


def test_the_default_input_is_the_2026_data(capsys):
    """With no input the command solves inputs/base-2026.yaml (the data of early 2026); inputs/base.yaml is
    the 2025 reference case the tests and benchmarks use, and it exists too."""
    with pytest.raises(SystemExit):
        solve.main(["--help"])
    assert "default inputs/base-2026.yaml" in " ".join(capsys.readouterr().out.split())
    assert solve.DEFAULT_INPUT == "inputs/base-2026.yaml"
    assert (ROOT / solve.DEFAULT_INPUT).is_file() and (ROOT / "inputs" / "base.yaml").is_file()


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="needs POSIX signals")
def test_sigterm_swallowed_in_a_finaliser_still_terminates(tmp_path):
    """Python swallows an exception raised inside a finaliser ("Exception ignored in ..."): a SIGTERM
    landing there is kept as a flag (model/interrupt.py), so the run still ends with exit 143 and one
    line, and no 'Exception ignored' noise."""
    code = (
        "import os, signal, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from model.app.boundary import guarded, install_signals\n"
        "install_signals()\n"
        "class X:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM); time.sleep(0.05)\n"
        "def body():\n"
        "    x = X(); del x\n"
        "    return 0\n"
        "sys.exit(guarded(body))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 143, (p.stdout, p.stderr)
    assert p.stderr.strip().splitlines() == [
        "terminated: the run stopped; any previous report is intact and nothing half-written is left"], p.stderr
