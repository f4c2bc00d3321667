"""The tutorial, the output data dictionary and the input examples stay true to the code.

- ``docs/tutorial/defence.yaml`` (the tutorial's case) solves, passes the audit, and no China-origin
  element or finished magnet reaches a defence stream;
- the YAML snippets of ``docs/tutorial.md`` are the case files: a snippet marked
  ``<!-- case: PATH -->`` equals the file PATH, the snippets marked ``<!-- part of: PATH -->`` joined in
  order (one blank line between them) equal PATH, and the parts before ``<!-- checkpoint -->`` are a
  valid case on their own; every YAML snippet parses;
- ``docs/outputs.md`` documents every file, every CSV column and every top-level ``kpis.json`` key that
  the default case writes, stochastic and deterministic (the test fails with the names it misses);
- every section of ``docs/inputs.md`` has an example in ``model/input/examples.py``, and each example
  validates against its schema class (the ``CaseInput`` example is read as a whole case).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from model.input.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
OUTPUTS = ROOT / "docs" / "outputs.md"
CASE = ROOT / "docs" / "tutorial" / "defence.yaml"

FENCE = re.compile(r"```yaml\n(.*?)```", re.S)
MARKER = re.compile(r"<!--\s*(case|part of):\s*(\S+)\s*-->\s*$")


# ------------------------------------------------------------------------------------ the tutorial case

@pytest.fixture(scope="module")
def tutorial_run():
    from model.app.run import run_case

    return run_case(CASE, evpi_vss=False)


def test_tutorial_case_solves_audited_without_warnings(tutorial_run):
    k = tutorial_run.solution.kpis
    assert tutorial_run.mode == "stochastic" and k["scenario_count"] == 5
    assert k["audit"]["passed"], [c for c in k["audit"]["checks"] if not c["passed"]]
    assert k["input_warnings"] == []


def test_no_china_origin_supply_reaches_defence(tutorial_run):
    """Element drawn from stock (``eligibility_use``) and finished magnets used (``magnet_purchases``),
    per stream and origin group: the defence streams get nothing of origin CN, in any scenario."""
    tables = tutorial_run.solution.tables
    defence = {s.id for s in tutorial_run.data.case.streams if s.end_use == "defence"}
    assert defence == {"defence_eh", "defence_uh"}
    use, mag = tables["eligibility_use"], tables["magnet_purchases"]
    cn_use = use[(use.origin_group == "CN") & use.stream.isin(defence)]
    cn_mag = mag[(mag.origin_group == "CN") & mag.stream.isin(defence)]
    assert float(cn_use.used_t.sum()) == 0.0 and float(cn_mag.used_t.sum()) == 0.0
    assert cn_use.empty and cn_mag.empty, "the prohibited rule should remove these pairs from the model"
    # not vacuous: China-origin material is used, by the civil stream
    assert float(use[(use.origin_group == "CN") & (use.end_use == "civil")].used_t.sum()) > 0
    assert float(mag[(mag.origin_group == "CN") & (mag.stream == "civil_uh")].used_t.sum()) > 0


# ------------------------------------------------------------------------------------ the tutorial's snippets

def _snippets() -> list[tuple[str | None, str | None, str, int]]:
    """(marker kind, path, YAML text, offset) of every ```yaml block; the marker is an HTML comment on
    the line before the fence (blank lines allowed)."""
    md = TUTORIAL.read_text()
    out = []
    for m in FENCE.finditer(md):
        before = md[: m.start()].rstrip("\n").splitlines()
        mk = MARKER.search(before[-1]) if before else None
        out.append((mk.group(1) if mk else None, mk.group(2) if mk else None, m.group(1), m.start()))
    return out


def _joined(parts: list[str]) -> str:
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def test_every_tutorial_snippet_parses():
    snippets = _snippets()
    assert len(snippets) >= 16
    for _, path, text, at in snippets:
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as e:  # pragma: no cover - the message says where
            pytest.fail(f"docs/tutorial.md: the YAML block at character {at} does not parse: {e}")


def test_complete_case_snippets_equal_their_files():
    snippets = _snippets()
    cases = [(p, t) for kind, p, t, _ in snippets if kind == "case"]
    parts: dict[str, list[str]] = {}
    for kind, p, t, _ in snippets:
        if kind == "part of":
            parts.setdefault(p, []).append(t)
    assert cases and "docs/tutorial/defence.yaml" in parts
    for p, text in cases:
        assert text == (ROOT / p).read_text(), f"docs/tutorial.md: the case snippet of {p} differs from the file"
    for p, texts in parts.items():
        assert _joined(texts) == (ROOT / p).read_text(), (
            f"docs/tutorial.md: the snippets marked 'part of: {p}', joined in order, differ from the file")


def test_the_case_so_far_is_valid_at_the_checkpoint(tmp_path):
    from model.input.io import read_case

    md = TUTORIAL.read_text()
    cut = md.index("<!-- checkpoint -->")
    parts = [t for kind, p, t, at in _snippets() if kind == "part of" and at < cut]
    path = tmp_path / "so_far.yaml"
    path.write_text(_joined(parts))
    data = read_case(path)
    assert data.case.scenarios is None and not data.case.stockpile


# ------------------------------------------------------------------------------------ docs/outputs.md

def _section(md: str, heading: str) -> str:
    """The text under the heading line ``heading`` (e.g. ``### `purchases.csv` ``), up to the next heading of
    the same or a higher level; empty when there is no such heading."""
    level = len(heading) - len(heading.lstrip("#"))
    m = re.search(rf"^{re.escape(heading)}[^\n]*$", md, re.M)
    if m is None:
        return ""
    nxt = re.search(rf"^#{{1,{level}}} ", md[m.end():], re.M)
    return md[m.end(): m.end() + nxt.start()] if nxt else md[m.end():]


def _first_cells(text: str) -> set[str]:
    """The backticked names in the first cell of a Markdown table's rows."""
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.M))


def _is_documented(name: str, documented: set[str]) -> bool:
    """``name`` is listed, or matches a listed pattern such as ``shortage_t_<stream>``."""
    if name in documented:
        return True
    patterns = [re.escape(d) for d in documented if "<" in d]
    return any(re.fullmatch(re.sub(r"<[^>]+>", ".+", p), name) for p in patterns)


def _undocumented(out: Path) -> list[str]:
    md = OUTPUTS.read_text()
    missing = []
    files = _first_cells(_section(md, "## Files in a report folder"))
    gone = sorted(p.name for p in out.iterdir() if p.name not in files)
    if gone:
        missing.append(f"files: {', '.join(gone)}")
    for f in sorted(out.glob("*.csv")):
        section = _section(md, f"### `{f.name}`")
        if not section:
            missing.append(f"{f.name}: no section")
            continue
        header = f.read_text().splitlines()[0].split(",")
        gone = [c for c in header if not _is_documented(c, _first_cells(section))]
        if gone:
            missing.append(f"{f.name}: {', '.join(gone)}")
    keys = _first_cells(_section(md, "## `kpis.json`"))
    gone = [k for k in json.loads((out / "kpis.json").read_text()) if not _is_documented(k, keys)]
    if gone:
        missing.append(f"kpis.json: {', '.join(gone)}")
    return missing


@pytest.mark.parametrize("mode", ["auto", "deterministic"])
def test_outputs_doc_covers_every_file_column_and_kpi(default_run, tmp_path, mode):
    from model.report.files import write_report

    out = write_report(default_run(mode), tmp_path / mode, ["test"])
    missing = _undocumented(Path(out))
    assert not missing, "docs/outputs.md does not document: " + "; ".join(missing)


# ------------------------------------------------------------------------------------ input examples

def test_every_input_section_has_an_example():
    from model.input.docgen import ORDER
    from model.input.examples import PLACES

    assert {c.__name__ for c in ORDER} <= set(EXAMPLES), "a section of docs/inputs.md has no example"
    assert set(EXAMPLES) == set(PLACES)


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_input_example_validates(section, tmp_path):
    from model.input import schema
    from model.input.io import read_case

    cls = getattr(schema, section)
    value = yaml.safe_load(EXAMPLES[section])
    entries = value if isinstance(value, list) else [value]
    assert entries and all(isinstance(e, dict) for e in entries)
    for e in entries:
        cls.model_validate(e)
    if section == "CaseInput":  # a whole case: the reference checks and semantic checks too
        path = tmp_path / "example.yaml"
        path.write_text(EXAMPLES[section])
        assert not read_case(path).warnings, "the minimal case should raise no input warning"
