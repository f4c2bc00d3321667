"""The confidence step of a sampled plan (model.stochastic.confidence, issue 16 part 5).

A tiny sampled case (inputs/sampled.yaml with 6 scenarios), M = 12 out-of-sample scenarios and R = 2
replications of n = 4, so the module runs in well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.app.run import run_case
from model.errors import InputError
from model.input.io import read_case
from model.report.files import write_report
from model.solve.highs import SolverOptions
from model.stochastic.confidence import cvar_usd_equal_weights, sampled_plan
from model.stochastic.extensive import cvar

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"out_of_sample": 12, "replications": 2, "replication_size": 4}
TOL_USD = 1.0  # solver tolerance on costs of about 3e8 USD


def _tiny_sampled(tmp: Path) -> Path:
    p = tmp / "tiny_sampled.yaml"
    p.write_text(f"extends: {(ROOT / 'inputs' / 'sampled.yaml').as_posix()}\nname: tiny-sampled\n"
                 "scenarios:\n  mode: sample\n  count: 6\n  seed: 7\n")
    return p


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    path = _tiny_sampled(tmp_path_factory.mktemp("confidence"))
    run = run_case(path, evpi_vss=False, confidence=SPEC)
    out = write_report(run, tmp_path_factory.mktemp("report") / "out", ["solve.py", "--test"])
    return path, run, out


def test_intervals_contain_their_estimates(sampled):
    k = sampled[1].solution.kpis["sampled_plan"]
    lo, hi = k["expected_cost_ci95_usd"]
    assert lo <= k["expected_cost_usd"] <= hi and lo < hi
    clo, chi = k["cvar_cost_ci95_usd"]
    assert clo <= chi and clo <= k["cvar_cost_usd"] + TOL_USD
    assert k["cvar_cost_usd"] >= k["expected_cost_usd"] - TOL_USD
    assert k["out_of_sample_scenarios"] == 12 and k["gap_replications"] == 2 and k["gap_sample_size"] == 4
    assert k["out_of_sample_seed"] == 7 + 1_000_003 and k["gap_seeds"] == [7 + 2_000_003, 7 + 2_000_004]


def test_gap_is_nonnegative_per_replication(sampled):
    k = sampled[1].solution.kpis["sampled_plan"]
    for best, cand, g in zip(k["saa_optimum_by_replication_usd"], k["candidate_by_replication_usd"],
                             k["gap_by_replication_usd"]):
        assert best <= cand + TOL_USD  # a replication's SAA optimum is at most the candidate's cost on its sample
        assert g >= -TOL_USD
    assert k["gap_upper95_usd"] >= k["gap_usd"] - TOL_USD >= -2 * TOL_USD


def test_seeds_make_it_reproducible(sampled):
    path, run, _ = sampled
    data = read_case(path)
    again = sampled_plan(data, run.stochastic.first_stage, SolverOptions(), SPEC)
    assert again == run.solution.kpis["sampled_plan"]


def test_absent_unless_asked(sampled):
    run = run_case(sampled[0], evpi_vss=False)
    assert "sampled_plan" not in run.solution.kpis


@pytest.mark.parametrize("case", ["inputs/base.yaml", "tests/bad_inputs/valid/case.yaml"])
def test_non_sampled_case_is_refused_with_one_line(case):
    with pytest.raises(InputError) as e:
        run_case(ROOT / case, confidence={})
    msg = str(e.value)
    assert "\n" not in msg and "--confidence" in msg and "sampled case" in msg


def test_bad_sizes_are_refused():
    with pytest.raises(InputError, match="replications"):
        run_case(ROOT / "inputs" / "sampled.yaml", confidence={"replications": 1})


def test_sentence_in_summary_and_html(sampled):
    k = sampled[1].solution.kpis["sampled_plan"]
    out = sampled[2]
    assert k["sentence"].startswith("With 6 scenarios, this plan's expected cost is within ")
    assert "of the best plan with 95 % confidence" in k["sentence"]
    md = (out / "summary.md").read_text()
    head = md[md.index("## Headline"):md.index("## Scenarios")]
    assert k["sentence"] in head and "Out-of-sample expected cost" in head
    html = (out / "report.html").read_text()
    import html as h

    start = html.index('<section id="headline">')
    sec = html[start:html.index("</section>", start)]
    assert h.escape(k["sentence"]) in sec and "Optimality gap" in sec


@pytest.mark.parametrize("m,alpha", [(12, 0.95), (20, 0.9), (7, 0.5), (500, 0.95)])
def test_equal_weight_cvar_matches_extensive_cvar(m, alpha):
    v = np.random.default_rng(m).normal(size=m)
    assert cvar_usd_equal_weights(v, alpha) == pytest.approx(cvar(v, np.full(m, 1 / m), alpha), rel=1e-12, abs=1e-12)


def test_default_sizes():
    from model.stochastic.confidence import confidence_settings

    data = read_case(ROOT / "inputs" / "sampled.yaml")
    assert confidence_settings(data, {}) == {"out_of_sample": 500, "replications": 5, "replication_size": 50}
    assert confidence_settings(data, {"replication_size": 200})["replication_size"] == 200
