"""The self-contained HTML report (``model.report.html.render_html``).

Three pages are rendered once per module: a tiny deterministic case with a shortage (most tables
empty: no stockpile, no recycling, no licence), the default case deterministic, and the default
case stochastic (12 scenarios, about 7 s). Without a browser we check the structure: every section
id, every plot an embedded PNG that decodes, no network reference, the input hash. With headless
Chromium we check that the page loads and every image decodes in a real browser.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from model.report.html import SECTION_IDS, render_html
from model.report.manifest import manifest
from model.app.run import run_data
from tests.tiny import base_case, make

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MAX_BYTES_DEFAULT = 2 * 1024 * 1024


class _Tags(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(page: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(page)
    p.close()
    return p.tags


def _tiny_short():
    """Tiny case whose only offer covers 3 of the 5 t of X needed per period: 4 t of magnet short per period."""
    raw = base_case(periods=3)
    raw["offers"][0]["capacity_t_per_period"] = 3
    return run_data(make(raw))


@pytest.fixture(scope="module")
def pages(default_run) -> dict[str, tuple[str, dict, object]]:
    runs = {
        "tiny": _tiny_short(),
        "deterministic": default_run("deterministic"),
        "stochastic": default_run(),
    }
    out = {}
    for name, run in runs.items():
        man = manifest(run, ["solve.py", "--test"])
        out[name] = (render_html(run, man), man, run)
    return out


KINDS = ("tiny", "deterministic", "stochastic")


@pytest.mark.parametrize("kind", KINDS)
def test_every_section_is_present_once(pages, kind):
    page = pages[kind][0]
    ids = [a["id"] for _, a in tags_of(page) if "id" in a]
    for sid in SECTION_IDS:
        assert ids.count(sid) == 1, f"section {sid!r} appears {ids.count(sid)} times"
    assert page.lstrip().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("kind", KINDS)
def test_every_image_is_an_embedded_png_that_decodes(pages, kind):
    imgs = [a for t, a in tags_of(pages[kind][0]) if t == "img"]
    assert imgs, "no plot at all"
    for a in imgs:
        src = a.get("src", "")
        assert src.startswith(DATA_PNG), src[:60]
        try:
            raw = base64.b64decode(src[len(DATA_PNG):], validate=True)
        except binascii.Error as exc:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"image does not decode as base64: {exc}")
        assert raw.startswith(PNG_SIGNATURE)
        assert len(raw) > 1000
        assert a.get("alt"), "every plot has alt text"


@pytest.mark.parametrize("kind", KINDS)
def test_self_contained_no_network_reference(pages, kind):
    page = pages[kind][0]
    for tag, attrs in tags_of(page):
        for key in ("src", "href", "srcset", "data", "action", "poster"):
            v = (attrs.get(key) or "").strip().lower()
            assert not v.startswith(("http://", "https://", "//")), f"<{tag} {key}={v[:60]}>"
            if tag != "img" and key == "src" and key in attrs:
                pytest.fail(f"<{tag}> loads an external file: {v[:60]}")
        assert tag != "link", "no external stylesheet"
        if tag == "a":
            assert attrs.get("href", "#").startswith("#"), "links are in-page anchors only"
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I), "no remote CSS resource"
    assert not re.search(r"@import", page, re.I)


@pytest.mark.parametrize("kind", KINDS)
def test_manifest_and_input_hash_are_shown(pages, kind):
    page, man, run = pages[kind]
    assert man["input_hash"] in page
    assert run.solution.kpis["input_hash"] == man["input_hash"]
    manifest_part = page.split('id="manifest"', 1)[1]
    for f in man["input_files"]:
        assert f["sha256"] in manifest_part
    assert "solve.py --test" in manifest_part
    assert man["packages"]["pyomo"] in manifest_part


def test_headline_numbers_carry_units(pages):
    page, _, run = pages["stochastic"]
    head = page.split('id="headline"', 1)[1].split("<section", 1)[0]
    k = run.solution.kpis
    for key in ("objective_usd", "expected_cost_usd", "cvar_cost_usd", "first_stage_cost_usd", "evpi_usd", "vss_usd"):
        assert f"{k[key] / 1e6:,.2f} USD M" in head, key
    for s in k["streams"]:
        assert f">{s}<" in head
    det, _, drun = pages["deterministic"]
    head = det.split('id="headline"', 1)[1].split("<section", 1)[0]
    assert f"{drun.solution.kpis['objective_usd'] / 1e6:,.2f} USD M" in head
    assert f"{drun.solution.kpis['supply_cost_usd_per_kg_magnet']:,.2f} USD/kg" in head


def test_scenarios_section(pages):
    page, _, run = pages["stochastic"]
    part = page.split('id="scenarios"', 1)[1].split("<section", 1)[0]
    for name in run.solution.tables["scenarios"].scenario:
        assert f">{name}<" in part
    for kind in ("tiny", "deterministic"):
        part = pages[kind][0].split('id="scenarios"', 1)[1].split("<section", 1)[0]
        assert "single-scenario run" in part


def test_tiny_case_shows_its_shortage_and_empty_sections(pages):
    page = pages["tiny"][0]
    short = page.split('id="shortage"', 1)[1].split("<section", 1)[0]
    assert DATA_PNG in short, "a shortage per period plot"
    assert "12.00" in short, "4 t short in each of 3 periods"
    assert "No stockpile in this case." in page
    assert "No recycling route in this case." in page


def test_default_report_is_small(pages):
    size = len(pages["stochastic"][0].encode("utf-8"))
    assert size < MAX_BYTES_DEFAULT, f"{size / 1e6:.2f} MB"


# --------------------------------------------------------------------------- headless browser

def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_headless_chromium_loads_page_and_decodes_every_image(pages, kind, tmp_path):
    exe = _browser()
    if exe is None:
        pytest.skip(f"no headless browser on PATH (searched {', '.join(BROWSERS)}): install Chromium "
                    "(Debian: apt-get install chromium chromium-driver; .ci/run does when CI=true)")
    page = pages[kind][0]
    f = tmp_path / f"report-{kind}.html"
    f.write_text(page, encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", f.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "HOME": str(tmp_path)})
    dom = proc.stdout
    assert proc.returncode == 0 and dom.strip(), f"{exe} failed ({proc.returncode}): {proc.stderr[-2000:]}"
    tags = tags_of(dom)
    ids = {a["id"] for _, a in tags if "id" in a}
    assert set(SECTION_IDS) <= ids, f"missing in the browser DOM: {set(SECTION_IDS) - ids}"
    n = sum(1 for t, _ in tags if t == "img")
    assert n == sum(1 for t, _ in tags_of(page) if t == "img") and n > 0
    body = [a for t, a in tags if t == "body"]
    assert body, "no <body> in the dumped DOM"
    assert body[0].get("data-images-loaded") == f"{n}/{n}", \
        f"images decoded: {body[0].get('data-images-loaded')!r}, expected {n}/{n}"
