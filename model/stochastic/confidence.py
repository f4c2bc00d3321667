r"""How far a sampled plan can be trusted: out-of-sample evaluation and an optimality-gap interval.

A plan solved over N sampled scenarios (``scenarios: {mode: sample}``) is optimal for that sample
only. Opt-in (it costs solves: ``run_case(..., confidence={...})``, ``docs/model.md`` §16.5), this
step adds ``kpis["sampled_plan"]``:

1. **Out-of-sample evaluation.** An independent sample of M scenarios is drawn by the same generator
   (``scenario_cases``) with the count and seed overridden (seed = the case's seed +
   ``OUT_OF_SAMPLE_SEED_OFFSET``); the plan's first stage is fixed in each and every scenario is
   re-optimised (``evaluate_first_stage``), giving totals :math:`v_1..v_M` (USD). Expected cost: the
   sample mean :math:`\bar v` with the two-sided 95 % **Student-t** interval
   :math:`\bar v \pm t_{M-1,0.975}\, s_v/\sqrt{M}`. CVaR_alpha: the empirical CVaR of the M totals
   (each of probability 1/M) with a 95 % **percentile bootstrap** interval (``BOOTSTRAP_RESAMPLES``
   resamples of size M with replacement, ``numpy.random.default_rng(out_of_sample_seed)``: fixed).
2. **Optimality gap by multiple replications** (the MRP of Mak, Morton and Wood 1999). For r = 1..R,
   an independent sample of n scenarios (seed = the case's seed + ``GAP_SEED_OFFSET`` + r - 1) is
   solved as its own SAA (``run_stochastic``, no EVPI/VSS), optimum :math:`z^*_r`; the candidate plan
   (its first stage fixed) is evaluated on the same n scenarios, :math:`\hat z_r = \varrho_n(v^r)`;
   :math:`G_r = \hat z_r - z^*_r \ge 0` (the SAA optimum is at most any plan's value on its own
   sample, up to solver tolerance). Point estimate :math:`\bar G = \frac1R \sum_r G_r`; one-sided
   95 % upper bound :math:`\bar G + t_{R-1,0.95}\, s_G/\sqrt{R}` (:math:`s_G = 0` when R = 1 is
   refused). :math:`\varrho_n` is the case's objective on the n-sample: the mean with lambda = 0, and
   mean + lambda x CVaR_alpha (both empirical) with lambda > 0, so the gap is in objective units then.

Glossary
--------
out_of_sample_scenarios   M, the out-of-sample sample size (default 500)
out_of_sample_seed        the case's seed + OUT_OF_SAMPLE_SEED_OFFSET (mod 2**63)
gap_replications          R (default 5), at least 2
gap_sample_size           n, each replication's sample size (default: the case's count, at most
                          DEFAULT_REPLICATION_SIZE_MAX = 50: each replication solves an extensive form of n
                          scenarios; a smaller n keeps the bound valid, only looser, benchmarks/RESULTS.md)
gap_seeds                 the case's seed + GAP_SEED_OFFSET + r, r = 0..R-1 (mod 2**63)
gap_usd / gap_upper95_usd the MRP point estimate and one-sided 95 % upper bound, USD
gap_by_replication_usd    G_r; candidate_by_replication_usd: hat z_r; saa_optimum_by_replication_usd: z*_r
objective                 "expected cost" (lambda = 0) or "expected cost + lambda x CVaR" (the gap's unit)
cvar_usd_equal_weights    the CVaR_alpha of values of probability 1/M each (sorted tail, exact)
sentence                  the plain sentence shown in summary.md and report.html

Seeds are fixed, so two calls give identical numbers (HiGHS is deterministic on the same model).
The step uses the run's time budget (:mod:`model.solve.budget`); when it is spent, ``sampled_plan``
holds only ``note`` (why) and ``sentence``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np
from scipy import stats

from model import progress
from model.errors import InputError, InputIssue, SolveError
from model.input.data import CaseData
from model.input.scenarios import scenario_cases
from model.results.tables import KUSD, Solution
from model.solve import budget
from model.solve.highs import SolverOptions
from model.stochastic.evaluate import evaluate_first_stage
from model.stochastic.extensive import NONANT_DEFAULT, run_stochastic

OUT_OF_SAMPLE_SEED_OFFSET = 1_000_003  # out-of-sample seed = case seed + this
GAP_SEED_OFFSET = 2_000_003  # replication r (0-based): case seed + this + r
BOOTSTRAP_RESAMPLES = 2000  # CVaR interval: percentile bootstrap, rng seeded with the out-of-sample seed
LEVEL = 0.95
DEFAULTS = {"out_of_sample": 500, "replications": 5, "replication_size": None}  # None: min(count, 50)
DEFAULT_REPLICATION_SIZE_MAX = 50
SEED_MOD = 2**63


def _refuse(where: str, value, expected: str) -> InputError:
    return InputError([InputIssue(where, "--confidence", value, expected)])


def confidence_settings(data: CaseData, spec: dict, where: str = "(command line)") -> dict:
    """``spec`` (keys out_of_sample, replications, replication_size; missing or None: the default) checked
    against the case: an InputError unless the case is ``mode: sample`` and every size is a whole number
    (M >= 2, R >= 2, n >= 1)."""
    sc = data.case.scenarios
    if sc is None or sc.mode != "sample":
        raise _refuse(where, "given", "a sampled case (scenarios: mode: sample); this case "
                      + ("has no scenarios" if sc is None else f"has scenarios of mode {sc.mode}"))
    unknown = sorted(set(spec) - set(DEFAULTS))
    if unknown:
        raise _refuse(where, ", ".join(unknown), f"only {', '.join(DEFAULTS)}")
    out = {k: (DEFAULTS[k] if spec.get(k) is None else spec[k]) for k in DEFAULTS}
    if out["replication_size"] is None:
        out["replication_size"] = min(sc.count, DEFAULT_REPLICATION_SIZE_MAX)
    for k, low in (("out_of_sample", 2), ("replications", 2), ("replication_size", 1)):
        v = out[k]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low or v > 100_000:
            raise _refuse(where, f"{k}={v}", f"a whole number from {low} to 100000 for {k}")
        out[k] = int(v)
    return out


def resampled(data: CaseData, count: int, seed: int) -> CaseData:
    """``data`` with its sampled scenarios' count and seed overridden (the same generator otherwise)."""
    sc = data.case.scenarios.model_copy(update={"count": int(count), "seed": int(seed) % SEED_MOD})
    return replace(data, case=data.case.model_copy(update={"scenarios": sc}))


def cvar_usd_equal_weights(values, alpha: float) -> np.ndarray | float:
    """CVaR_alpha of values of probability 1/M each, along the last axis: the mean of the worst
    (1 - alpha) of probability, the boundary value counted by the fraction of it inside the tail
    (equal to ``extensive.cvar`` with probabilities 1/M)."""
    v = np.sort(np.asarray(values, dtype=float), axis=-1)[..., ::-1]  # descending
    m = v.shape[-1]
    tail = m * (1.0 - alpha)  # tail mass in units of 1/M
    j = min(int(np.floor(tail + 1e-12)), m)
    frac = tail - j
    total = v[..., :j].sum(axis=-1) + (frac * v[..., j] if j < m and frac > 1e-12 else 0.0)
    return total / tail


def _objective(totals, alpha: float, lam: float) -> float:
    t = np.asarray(totals, dtype=float)
    return float(t.mean()) + (lam * float(cvar_usd_equal_weights(t, alpha)) if lam > 0 else 0.0)


def out_of_sample(data: CaseData, first_stage: dict[str, float], options: SolverOptions, m: int) -> dict:
    """The plan (``first_stage``) on M new scenarios: expected cost with its t interval, CVaR_alpha with
    its bootstrap interval, USD."""
    risk = data.case.risk
    seed = (data.case.scenarios.seed + OUT_OF_SAMPLE_SEED_OFFSET) % SEED_MOD
    with progress.phase(f"out-of-sample check: the plan in {m:,} new scenarios", total=m,
                        key="confidence: out of sample"):
        cases = scenario_cases(resampled(data, m, seed))
        totals_usd = evaluate_first_stage(cases, first_stage, options).totals_kusd * KUSD
    mean = float(totals_usd.mean())
    half = float(stats.t.ppf(0.5 + LEVEL / 2, m - 1) * totals_usd.std(ddof=1) / np.sqrt(m))
    rng = np.random.default_rng(seed)
    boot = cvar_usd_equal_weights(totals_usd[rng.integers(0, m, size=(BOOTSTRAP_RESAMPLES, m))], risk.cvar_alpha)
    lo, hi = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return {"out_of_sample_scenarios": m, "out_of_sample_seed": int(seed),
            "expected_cost_usd": mean, "expected_cost_ci95_usd": [mean - half, mean + half],
            "cvar_alpha": risk.cvar_alpha, "cvar_cost_usd": float(cvar_usd_equal_weights(totals_usd, risk.cvar_alpha)),
            "cvar_cost_ci95_usd": [float(lo), float(hi)], "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
            "objective_usd": _objective(totals_usd, risk.cvar_alpha, risk.risk_weight_lambda)}


def optimality_gap(data: CaseData, first_stage: dict[str, float], options: SolverOptions, r: int, n: int,
                   nonant: str = NONANT_DEFAULT) -> dict:
    """The MRP (module docstring): R replications of n scenarios, USD in the case's objective."""
    risk = data.case.risk
    seeds = [(data.case.scenarios.seed + GAP_SEED_OFFSET + i) % SEED_MOD for i in range(r)]
    cand, best = [], []
    with progress.phase(f"optimality gap: {r} replications of {n:,} scenarios (each solved, then the plan in it)",
                        total=r * n, key="confidence: optimality gap"):
        for s in seeds:
            sr = run_stochastic(resampled(data, n, s), options, nonant=nonant, with_evpi_vss=False)
            if not sr.metrics.get("proven_optimal", False):
                raise budget.out_of_time(options, "while solving a replication of the optimality gap", outcome=None)
            best.append(sr.metrics["objective_kusd"] * KUSD)
            totals_usd = evaluate_first_stage(list(sr.cases), first_stage, options).totals_kusd * KUSD
            cand.append(_objective(totals_usd, risk.cvar_alpha, risk.risk_weight_lambda))
    g = np.array(cand) - np.array(best)
    mean = float(g.mean())
    upper = mean + float(stats.t.ppf(LEVEL, r - 1) * g.std(ddof=1) / np.sqrt(r))
    return {"gap_replications": r, "gap_sample_size": n, "gap_seeds": [int(s) for s in seeds],
            "gap_usd": mean, "gap_upper95_usd": upper, "gap_by_replication_usd": g.tolist(),
            "candidate_by_replication_usd": cand, "saa_optimum_by_replication_usd": best}


def _m(x: float) -> str:
    return f"{x / 1e6:,.2f}"


def sentence(k: dict, n_scenarios: int, lam: float) -> str:
    what = "expected cost" if lam == 0 else f"objective (expected cost + {lam:g} x CVaR)"
    lo, hi = k["expected_cost_ci95_usd"]
    clo, chi = k["cvar_cost_ci95_usd"]
    return (f"With {n_scenarios:,} scenarios, this plan's {what} is within {_m(k['gap_upper95_usd'])} USD M of the "
            f"best plan with 95 % confidence (gap estimate {_m(k['gap_usd'])} USD M, {k['gap_replications']} "
            f"replications of {k['gap_sample_size']:,} scenarios). On {k['out_of_sample_scenarios']:,} independent "
            f"scenarios its expected cost is {_m(k['expected_cost_usd'])} USD M (95 % t interval {_m(lo)} to "
            f"{_m(hi)}) and its CVaR {k['cvar_alpha']:g} {_m(k['cvar_cost_usd'])} USD M (95 % bootstrap interval "
            f"{_m(clo)} to {_m(chi)}).")


def _rounded(x):
    if isinstance(x, float):
        return round(x, 6)
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    return x


def sampled_plan(data: CaseData, first_stage: dict[str, float], options: SolverOptions, settings: dict,
                 nonant: str = NONANT_DEFAULT) -> dict:
    """``kpis["sampled_plan"]`` of a plan solved on ``data`` (a sampled case), ``settings`` from
    :func:`confidence_settings`."""
    lam = data.case.risk.risk_weight_lambda
    try:
        k = out_of_sample(data, first_stage, options, settings["out_of_sample"])
        k |= optimality_gap(data, first_stage, options, settings["replications"], settings["replication_size"], nonant)
    except SolveError as e:
        if not budget.is_time_limit(e):
            raise
        note = f"not computed: {e}"
        return {"note": note, "sentence": f"The confidence of the sampled plan was {note}"}
    k = {key: _rounded(v) for key, v in k.items()}
    k["objective"] = "expected cost" if lam == 0 else "expected cost + lambda x CVaR"
    k["sentence"] = sentence(k, data.case.scenarios.count, lam)
    return k


def with_confidence(data: CaseData, where: str, mode: str, engine: str, spec: dict, options: SolverOptions,
                    solve: Callable[[], "Run"], nonant: str = NONANT_DEFAULT) -> "Run":  # noqa: F821
    """``solve()`` (the run as without ``--confidence``) followed by this step: refused (InputError naming
    ``--confidence``) before any solve unless the case is sampled and solved stochastic with the
    extensive form; the Run with ``kpis["sampled_plan"]`` and ``timings_s["confidence_s"]``."""
    settings = confidence_settings(data, spec, where)
    if mode != "stochastic":
        raise _refuse(where, "given", f"a stochastic run (this one is {mode})")
    if engine != "ef":
        raise _refuse(where, "given", f"the extensive-form engine (ef; got {engine})")
    run = solve()
    sr = run.stochastic
    t0 = time.perf_counter()
    if not sr.metrics.get("proven_optimal", False):
        k = {"note": "not computed: the plan is not proven optimal",
             "sentence": "The confidence of the sampled plan was not computed: the plan is not proven optimal."}
    else:
        k = sampled_plan(data, sr.first_stage, options, settings, nonant)
    kpis = dict(run.solution.kpis) | {"sampled_plan": k}
    return replace(run, solution=Solution(tables=run.solution.tables, kpis=kpis),
                   timings_s=dict(run.timings_s) | {"confidence_s": round(time.perf_counter() - t0, 4)})
