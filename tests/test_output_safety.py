"""The tool never deletes, moves or overwrites a file it did not write (issue 12, output rule).

Every subcommand writes through ``model.report.atomic.atomic_dir``, which applies
``check_out_dir``: only a folder the tool wrote (its manifest.json names magnet-supply-risk) is
replaced; an existing file, a non-empty folder it did not write, or a folder holding an input is
refused with exit 2 and one line, and nothing is written or moved.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "solve.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def case(tmp_path) -> Path:
    d = tmp_path / "mycase"
    d.mkdir()
    shutil.copy(ROOT / "inputs" / "base.yaml", d / "base.yaml")
    shutil.copytree(ROOT / "inputs" / "base", d / "base")
    return d / "base.yaml"


def _refused(p, what: str):
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("input error: (command line): --out = ") and what in lines[0], lines


def test_out_set_to_the_case_folder_is_refused_and_deletes_nothing(case):
    before = snapshot(case.parent)
    _refused(cli(case, "--deterministic", "--out", case.parent), "holds other files")
    assert snapshot(case.parent) == before


def test_out_set_to_a_parent_of_the_case_is_refused(case, tmp_path):
    before = snapshot(tmp_path)
    _refused(cli(case, "--deterministic", "--out", tmp_path), "holds other files")
    assert snapshot(tmp_path) == before


def test_out_naming_an_existing_file_is_refused_and_the_file_stays(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    _refused(cli("--deterministic", "--out", f), "existing file")
    assert f.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_sweep_and_compare_follow_the_same_rule(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    _refused(cli("sweep", "inputs/base.yaml", "--set", "risk.risk_weight_lambda=0", "--out", f), "existing file")
    rep = tmp_path / "r"
    assert cli("--deterministic", "--out", rep, "--quiet").returncode == 0
    before = snapshot(rep)
    _refused(cli("compare", rep, rep, "--out", rep), "holds none of the run's inputs")
    assert snapshot(rep) == before
    _refused(cli("compare", rep, rep, "--out", f), "existing file")
    assert f.read_text() == "mine"


def test_a_report_folder_the_tool_wrote_is_replaced_and_nothing_is_left_aside(tmp_path):
    rep = tmp_path / "r"
    assert cli("--deterministic", "--out", rep, "--quiet").returncode == 0
    assert cli("--deterministic", "--out", rep, "--quiet").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no .r.old-* or .r.tmp-* left


def test_a_new_folder_and_an_empty_folder_are_written(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("--deterministic", "--out", empty, "--quiet").returncode == 0
    assert (empty / "manifest.json").is_file()
    assert cli("--deterministic", "--out", tmp_path / "new" / "deeper", "--quiet").returncode == 0
