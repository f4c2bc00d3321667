"""The project stands on its own: every cited source is listed in inputs/SOURCES.md, and no
tracked file points outside the repository (the shared folder beside it, this machine's paths).

(a) Every bracketed source code cited under ``inputs/`` (YAML comments and strings, CSV ``#``
    header lines, Markdown text) has an entry in ``inputs/SOURCES.md``: a heading such as
    ``### [U26] ...`` or a table row whose first cell is the code.
(b) No tracked text file (``git ls-files``; binary files, ``.ci/`` and this file skipped)
    contains a relative path to the shared folder beside the repository, the absolute path of the
    repository's parent, or the machine's work root (the strings are built in ``forbidden_needles``,
    so that this file does not hold them literally).

The helpers take text (or a directory), so the tests below also check, on copies in
``tmp_path``, that a bogus code or a bogus path is caught.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / "inputs"
SOURCES = INPUTS / "SOURCES.md"
THIS = Path(__file__).resolve()

# A source code: upper-case letters and digits, optionally hyphenated (U26, GP2, EST-LIC).
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
# A bracket group on one line; a Markdown link's text ([text](url)) is not a citation.
BRACKET = re.compile(r"\[([^\[\]\n]+)\](?!\()")
# Entries in SOURCES.md: "## [U26] title" / "### U26 - title", or "| U26 | ..." / "| [U26] | ...".
ENTRY_HEADING = re.compile(r"^#{1,6}[ \t]+\[?([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\]?(?=[\s:.,]|$)", re.M)
ENTRY_ROW = re.compile(r"^\|[ \t]*(?:\*\*)?\[?([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\]?(?:\*\*)?[ \t]*\|", re.M)
# A bracketed reference to a section of an outside document, e.g. [dossier §7] or [U26 §2].
SECTION_REF = re.compile(r"\[[^\[\]\n]*§[^\[\]\n]*\]|\bdossier\s+§")

INPUT_SUFFIXES = {".yaml", ".yml", ".csv", ".md"}


def _codes_in(text: str) -> list[str]:
    """Codes in the bracket groups of a piece of prose: [U26], [TM,SD], [EST-LIC, SZ,DH]."""
    out = []
    for m in BRACKET.finditer(text):
        out += [p.strip() for p in m.group(1).split(",") if CODE.match(p.strip())]
    return out


def _yaml_prose(line: str) -> str:
    """The parts of one YAML line that are prose: the comment, quoted strings, plain scalars.

    A ``[`` outside quotes and comments that follows ``:``, ``-``, ``{``, ``,``, ``[`` or starts
    the line opens a flow sequence (``origin_groups: [CN]``), not a citation: it is masked.
    """
    out, quote, i = [], None, 0
    while i < len(line):
        c = line[i]
        if quote:
            out.append(c)
            if c == "\\" and quote == '"' and i + 1 < len(line):
                out.append(line[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            out.append(line[i:])
            break
        elif c in "\"'" and (not "".join(out).strip() or "".join(out).rstrip()[-1] in ":-{,["):
            quote = c
            out.append(c)
        elif c == "[" and (not "".join(out).strip() or "".join(out).rstrip()[-1] in ":-{,["):
            out.append("\0")  # flow sequence: never the start of a citation
        else:
            out.append(c)
        i += 1
    return "".join(out)


def cited_codes(text: str, suffix: str) -> list[tuple[int, str]]:
    """(line number, code) for every source code cited in a file's text, by file type."""
    found = []
    block_indent = None  # inside a YAML block scalar (key: > / |): lines more indented are prose
    for n, line in enumerate(text.splitlines(), 1):
        if suffix in (".yaml", ".yml"):
            indent = len(line) - len(line.lstrip())
            if block_indent is not None and (not line.strip() or indent > block_indent):
                prose = line
            else:
                block_indent = None
                prose = _yaml_prose(line)
                if re.search(r":\s*[>|][-+0-9]*\s*(#.*)?$", line.split(" #")[0] + " "):
                    block_indent = indent
        elif suffix == ".csv":
            prose = line if line.lstrip().startswith("#") else ""
        else:
            prose = line
        found += [(n, c) for c in _codes_in(prose)]
    return found


def cited_codes_in_tree(root: Path) -> dict[str, list[str]]:
    """code -> ["file:line", ...] for every code cited in the YAML/CSV/Markdown files under root."""
    out: dict[str, list[str]] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in INPUT_SUFFIXES:
            for n, code in cited_codes(p.read_text(encoding="utf-8", errors="replace"), p.suffix):
                out.setdefault(code, []).append(f"{p.relative_to(root)}:{n}")
    return out


def source_entries(text: str) -> set[str]:
    """Codes that have an entry (heading or first table cell) in a SOURCES.md text."""
    return set(ENTRY_HEADING.findall(text)) | set(ENTRY_ROW.findall(text))


def missing_codes(cited: dict[str, list[str]], sources_text: str) -> dict[str, list[str]]:
    entries = source_entries(sources_text)
    return {c: where for c, where in sorted(cited.items()) if c not in entries}


def section_refs_in_tree(root: Path) -> list[str]:
    """'file:line: text' for every reference to a section of an outside document (§)."""
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in INPUT_SUFFIXES:
            for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if SECTION_REF.search(line):
                    out.append(f"{p.relative_to(root)}:{n}: {line.strip()}")
    return out


def forbidden_needles(root: Path = ROOT) -> list[str]:
    """Strings that point outside the repository (or at this machine)."""
    up, work = "..", "work"
    return sorted({f"{up}/shared", str(root.parent) + "/", f"/{work}/"})


def find_forbidden(text: str, needles: list[str]) -> list[tuple[int, str, str]]:
    """(line number, needle, line) for every occurrence of a needle in a text."""
    return [(n, s, line.strip()) for n, line in enumerate(text.splitlines(), 1) for s in needles if s in line]


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def repository_text_files(root: Path = ROOT) -> list[Path]:
    """Tracked files (plus inputs/SOURCES.md), minus .ci/, this test file, binaries and deleted files."""
    try:
        res = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:  # pragma: no cover - not a git checkout
        pytest.skip(f"git ls-files failed: {e}")
    names = {n for n in res.stdout.decode("utf-8", "surrogateescape").split("\0") if n}
    names.add("inputs/SOURCES.md")
    out = []
    for name in sorted(names):
        p = root / name
        if name.startswith(".ci/") or not p.is_file() or p.resolve() == THIS:
            continue
        if _is_binary(p.read_bytes()):
            continue
        out.append(p)
    return out


# ----------------------------------------------------------------------------------------------
# (a) every cited code has an entry in inputs/SOURCES.md
# ----------------------------------------------------------------------------------------------

def test_sources_file_exists():
    assert SOURCES.is_file(), "inputs/SOURCES.md is missing"


def test_inputs_cite_codes():
    cited = cited_codes_in_tree(INPUTS)
    assert {"U26", "BMI", "EST-LIC", "EST-SCN"} <= set(cited), sorted(cited)


def test_every_cited_code_has_an_entry():
    missing = missing_codes(cited_codes_in_tree(INPUTS), SOURCES.read_text(encoding="utf-8"))
    assert not missing, "codes cited under inputs/ without an entry in inputs/SOURCES.md:\n" + "\n".join(
        f"  [{c}] at {', '.join(w[:5])}" for c, w in missing.items())


def test_no_section_references_to_outside_documents():
    refs = section_refs_in_tree(INPUTS)
    assert not refs, "section references (§) to a document outside the repository:\n" + "\n".join(refs)


def test_a_bogus_code_in_a_copy_is_caught(tmp_path):
    copy = tmp_path / "inputs"
    shutil.copytree(INPUTS, copy)
    sources_text = (copy / "SOURCES.md").read_text(encoding="utf-8")
    assert not missing_codes(cited_codes_in_tree(copy), sources_text)
    with open(copy / "base.yaml", "a", encoding="utf-8") as f:
        f.write("# a figure from a source nobody listed [ZZBOGUS9]\n")
    with open(copy / "base" / "demand.csv", "r+", encoding="utf-8") as f:
        body = f.read()
        f.seek(0)
        f.write("# header citing [QQBOGUS, U26]\n" + body)
    missing = missing_codes(cited_codes_in_tree(copy), sources_text)
    assert set(missing) == {"ZZBOGUS9", "QQBOGUS"}
    assert missing["ZZBOGUS9"] == [f"base.yaml:{len((copy / 'base.yaml').read_text().splitlines())}"]
    # once listed (heading or table row), it is no longer missing
    listed = sources_text + "\n### [ZZBOGUS9] A listed source\n\n| code | title |\n|---|---|\n| QQBOGUS | x |\n"
    assert not missing_codes(cited_codes_in_tree(copy), listed)
    # and a section reference to an outside document is caught too
    (copy / "README.md").write_text("terms as in [dossier §7]\n", encoding="utf-8")
    assert section_refs_in_tree(copy) == ["README.md:1: terms as in [dossier §7]"]


def test_citation_parsing():
    yaml = "\n".join([
        "elements: [NdPr, Dy, Tb]          # tracked as in [EST-COMP]",
        "  - origin_groups: [CN]",
        "    select: {origin_groups: [CN], materials: [SH, UH]}",
        '    source: "[MD] MDPI; price [BMI,AR2]; fee EST"',
        "    description: no licence [HK]",
        "    note: '[JT]' # see [TM,SD] and [a link](http://x) and [start, periods]",
        "description: >-",
        "  folded prose citing [RM]",
        "  [CY] at the start of a folded line",
        "name: x",
    ])
    assert [c for _, c in cited_codes(yaml, ".yaml")] == ["EST-COMP", "MD", "BMI", "AR2", "HK", "JT", "TM", "SD", "RM", "CY"]
    csv = "# header [U26]: 69 USD/kg\nperiod,a\n2027-01,[X1]\n"
    assert cited_codes(csv, ".csv") == [(1, "U26")]
    md = "| a | b [L1], [N1,N2] |\nsee [`SOURCES.md`](SOURCES.md) and [brackets]\n"
    assert cited_codes(md, ".md") == [(1, "L1"), (1, "N1"), (1, "N2")]
    entries = source_entries("# Sources\n### [U26] USGS\n## BMI: Benchmark\n| code | t |\n|---|---|\n| **RM** | x |\n| [CY] | y |\n")
    assert entries >= {"U26", "BMI", "RM", "CY"} and "Sources" not in entries


# ----------------------------------------------------------------------------------------------
# (b) nothing points outside the repository
# ----------------------------------------------------------------------------------------------

def test_forbidden_paths_are_caught_in_text():
    needles = forbidden_needles()
    shared, work = forbidden_needles()[0], "/" + "work" + "/"
    text = f"ok line\nsee `{shared}/spec/model.md`\nfrom " + str(ROOT.parent) + f"/shared/data/x.md\nand {work}x\n"
    hits = find_forbidden(text, needles)
    assert {n for n, _, _ in hits} == {2, 3, 4}
    assert find_forbidden("a self-contained line\nsee docs/model.md\n", needles) == []


def test_repository_file_list_skips_ci_binaries_and_this_file(tmp_path):
    files = {p.relative_to(ROOT).as_posix() for p in repository_text_files()}
    assert "inputs/base.yaml" in files and "inputs/SOURCES.md" in files
    assert not any(f.startswith(".ci/") for f in files)
    assert THIS.relative_to(ROOT).as_posix() not in files
    assert _is_binary(b"PK\x03\x04\0\0") and not _is_binary("§ text".encode())


def test_no_file_points_outside_the_repository():
    needles = forbidden_needles()
    bad = []
    for p in repository_text_files():
        text = p.read_bytes().decode("utf-8", errors="replace")
        bad += [f"{p.relative_to(ROOT)}:{n}: [{s}] {line}" for n, s, line in find_forbidden(text, needles)]
    assert not bad, "files pointing outside the repository:\n" + "\n".join(bad)
