r"""The extensive form assembled from the scenarios' LPs as arrays, stamped where a structure repeats.

``extensive.build_extensive_form`` puts every scenario's Pyomo model in one Pyomo model and compiles
the whole of it. Here each scenario is one *block*: its standard form (``benders.StandardForm``), either
compiled from its own Pyomo model (the first two scenarios of each structure, and every scenario of a
structure whose stamp check fails) or stamped into its group's template (:mod:`model.stochastic.stamp`,
the same check and groups as the Benders build). The blocks are laid side by side in one LP, the
first-stage columns merged (non-anticipativity by shared columns, ``nonant="shared"``), and the
CVaR rows added, which is the LP the Pyomo extensive form hands to HiGHS, up to the order of its
columns and rows. It is solved with the same tie-break (:func:`model.solve.highs.solve_lp`: one-sided
duals on the reported limits, then the canonical plan), and each scenario's plan is read into the
report's tables through its own model or its group's template model, as the plan's re-solve of a
stamped scenario is (:mod:`model.stochastic.replan`).

Math
----
Block ``k`` (probability :math:`p_k`) is :math:`\min c_k^\top y_k + o_k : l_k \le A_k y_k \le u_k`,
its first-stage columns :math:`y_k[J_k]` (``cols1``) in master order. With ``x`` the merged first-stage
columns (each the intersection of its members' bounds) and :math:`P_k` the map of block ``k``'s columns
to the extensive form's:

.. math::

    \min\ \sum_k p_k (c_k^\top y_k + o_k) + \lambda\Big(\eta + \frac{1}{1-\alpha}\sum_k p_k z_k\Big)
    \quad\text{s.t.}\quad l_k \le A_k y_k \le u_k,\quad z_k + \eta - c_k^\top y_k \ge o_k,\quad z_k \ge 0,

the CVaR columns and rows only when :math:`\lambda > 0` (``extensive``'s module docstring). The
canonical criteria are the Pyomo extensive form's: every block's column criteria (its scenario's
``generic`` weights) times :math:`p_k` (1 with one scenario), merged columns summing their members';
``VaR_kusd`` and ``TailExcess_kusd[k]`` are decisions taken now, with the generic weights of the
extensive form's own block. A row dual of block ``k`` is :math:`p_k` times the scenario's, so it is
read with ``dual_scale = 1/p_k`` as ``extensive.collect`` reads it.

EVPI and VSS from the same blocks: each block solved alone with its first stage free (wait-and-see),
then again from that basis with the expected-value plan's first stage held by its bounds (EEV).

What stays on the Pyomo extensive form (``extensive.build_extensive_form``): non-anticipativity by rows
(``nonant="rows"``), the persistent solver path, a sweep's tunable Params (``model.app.sweep``), and
the explanation of an infeasible extensive form (its conflict is mapped to Pyomo constraints; the run
builds the Pyomo form again for it).

Glossary
--------
Block            one scenario: data, StandardForm, its own BuiltModel (built) or its group's PlanTemplate
                 (stamped), the limit mask per row and the canonical criteria per column (not weighted)
scenario_blocks  (blocks, stamp info) of the cases, within the run's time budget
ArrayEF          the assembled LP (ArrayLP), the limit mask, the criteria, and where each block sits
                 (``cols``: the extensive form's column of each block column; ``row0``: its first row)
assemble         (blocks, lambda, alpha) -> ArrayEF
solve_and_read   the solve and every scenario's Solution; the metrics of ``extensive.collect``
block_totals     F_k + C_k per block, kUSD: first stage free (wait-and-see) or held at a plan (EEV)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from model import progress
from model.errors import SolveError
from model.solve import budget


@dataclass
class Block:
    """One scenario of the extensive form (module docstring)."""

    data: object  # CaseData
    form: object  # benders.StandardForm
    built: object | None  # its own BuiltModel (compiled by Pyomo), or None: stamped
    plan: object | None  # stamped: its group's replan.PlanTemplate
    names: list  # first-stage variable names, master order
    lb1: np.ndarray
    ub1: np.ndarray
    limit: np.ndarray  # bool per row of ``form``: a reported limit
    crit: dict  # cn_t, stock_t, order_period_t, generic per column of ``form`` (not probability-weighted)
    basis: object = None  # after its wait-and-see solve (block_totals), where its EEV solve starts


def _built_block(d, b, f, names, lb1, ub1) -> Block:
    from model.results.tables import plan_tie_break
    from model.solve.canonical import column_criteria

    tb = plan_tie_break([b])
    crit = column_criteria(tb, f.columns, None, len(f.columns))
    return Block(data=d, form=f, built=b, plan=None, names=names, lb1=lb1, ub1=ub1,
                 limit=np.array([id(r.constraint) in tb.limit_rows for r in f.rows], dtype=bool),
                 crit={k: crit[k] for k in ("cn_t", "stock_t", "order_period_t", "generic")})


def _build(d, sets=None):
    from model.components.build import build_scenario_model
    from model.stochastic.benders import first_stage_bounds, standard_form

    b = build_scenario_model(d, sets=sets, name=d.scenario)
    lb1, ub1 = first_stage_bounds(b)
    return b, standard_form(b), [v.getname(fully_qualified=False) for v in b.first_stage_vars], lb1, ub1


def scenario_blocks(cases, options, stamp: bool = True) -> tuple[list[Block], dict]:
    """Every case as a block, in order, and the stamp info (groups, stamped, built, note), checking the
    run's time budget before each. A structure's first scenario is compiled by Pyomo and its second
    compiled and compared with its stamp (:class:`model.stochastic.stamp.Stamper`'s rule); the others of
    a structure that passed are stamped, unless its cost terms cannot be split per scenario
    (``PlanTemplate``), when they are compiled by Pyomo too. ``stamp`` False: every scenario by Pyomo."""
    from model.stochastic import stamp as st

    groups: dict = {}
    blocks, stamped = [], 0
    with progress.phase(f"building the extensive form of {len(cases):,} scenarios", total=len(cases),
                        key="building the extensive form") as shown:
        for i, d in enumerate(cases):
            budget.check(options, "while building the extensive form", lambda: f"{i:,} of {len(cases):,} scenarios built")
            scen = st.evaluate(d) if stamp else None
            g = None if scen is None else groups.get(scen.signature)
            plan = g.plan_template() if g is not None and g.state == "stamping" else None
            if plan is not None:
                g.members.append(d.scenario)
                crit = plan.criteria(d.scenario or "")
                blocks.append(Block(data=d, form=g.stamp(scen), built=None, plan=plan, names=list(g.names),
                                    lb1=g.lb1, ub1=g.ub1, limit=plan.limit,
                                    crit={k: crit[k] for k in ("cn_t", "stock_t", "order_period_t", "generic")}))
                stamped += 1
                shown.advance()
                continue
            b, f, names, lb1, ub1 = _build(d, None if scen is None else scen.sets)
            if scen is not None and g is None:
                groups[scen.signature] = st.Group.of(scen, b, f, names, lb1, ub1)
            elif g is not None and g.state == "checking":
                g.check(scen, f)
            elif g is not None:
                g.members.append(d.scenario)
            blocks.append(_built_block(d, b, f, names, lb1, ub1))
            shown.advance()
    for blk in blocks[1:]:
        if blk.names != blocks[0].names:
            raise ValueError(f"scenario {blk.data.scenario!r} has different first-stage variables from "
                             f"{blocks[0].data.scenario!r}")
    notes = [g.note for g in groups.values() if g.state == "refused"]
    notes += [f"the structure of {g.members[0]!r} compiled by Pyomo for every scenario: {g.plan_note}"
              for g in groups.values() if g.plan is False]
    info = {"groups": len(groups), "stamped": stamped, "built": len(blocks) - stamped,
            "note": "; ".join(notes) if stamp else "stamping off: every scenario built by Pyomo"}
    return blocks, info


@dataclass
class ArrayEF:
    """The assembled extensive form (module docstring)."""

    lp: object  # highs.ArrayLP
    limit: np.ndarray  # bool per row
    crit: dict  # per column: cn_t, stock_t, order_period_t, generic (weighted), first_stage
    cols: list  # per block: the extensive form's column of each of its columns
    row0: np.ndarray  # per block: its first row (CVaR rows after the last block)
    first_cols: np.ndarray  # per first-stage variable (master order): its merged column, -1 in no block
    n_top: int  # CVaR columns (VaR, then one tail excess per scenario) at the end, 0 when risk neutral


def assemble(blocks: list[Block], lam: float, alpha: float) -> ArrayEF:
    """The extensive form of ``blocks`` (module docstring)."""
    import scipy.sparse as sp

    from model.solve.canonical import _generic

    K, n1 = len(blocks), len(blocks[0].names)
    present = np.zeros(n1, dtype=bool)
    for blk in blocks:
        present[blk.form.cols1 >= 0] = True
    first_cols = np.full(n1, -1, dtype=np.int64)
    first_cols[present] = np.arange(int(present.sum()))
    n = int(present.sum())
    cols = []
    for blk in blocks:
        f = blk.form
        cm = np.full(f.A.shape[1], -1, dtype=np.int64)
        pres = f.cols1 >= 0
        cm[f.cols1[pres]] = first_cols[pres]
        own = np.nonzero(cm < 0)[0]
        cm[own] = n + np.arange(len(own))
        n += len(own)
        cols.append(cm)
    cvar = lam > 0
    n_top = 1 + K if cvar else 0
    N = n + n_top
    inf = np.inf
    c, lb, ub = np.zeros(N), np.full(N, -inf), np.full(N, inf)
    crit = {k: np.zeros(N) for k in ("cn_t", "stock_t", "order_period_t", "generic")}
    first = np.zeros(N, dtype=bool)
    first[first_cols[present]] = True
    probs = np.array([float(b.data.probability) for b in blocks])
    w = probs if K > 1 else np.ones(1)  # the tie-break weights (canonical.tie_break)
    r_i, c_i, vals, row_lo, row_hi, limit = [], [], [], [], [], []
    row0 = np.zeros(K + 1, dtype=np.int64)
    offset, r = 0.0, 0
    for k, (blk, cm) in enumerate(zip(blocks, cols)):
        f = blk.form
        np.add.at(c, cm, probs[k] * f.c)
        np.maximum.at(lb, cm, f.col_lower)
        np.minimum.at(ub, cm, f.col_upper)
        for name in crit:
            np.add.at(crit[name], cm, w[k] * blk.crit[name])
        A = f.A.tocoo()
        r_i.append(A.row + r)
        c_i.append(cm[A.col])
        vals.append(A.data)
        row_lo.append(f.row_lower)
        row_hi.append(f.row_upper)
        limit.append(blk.limit)
        offset += probs[k] * f.offset_kusd
        row0[k] = r
        r += A.shape[0]
    row0[K] = r
    if cvar:
        eta = n
        c[eta] = lam
        crit["generic"][eta] = _generic("|VaR_kusd|''")
        first[n:] = True
        for k, (blk, cm) in enumerate(zip(blocks, cols)):
            z = n + 1 + k
            c[z] = lam * probs[k] / (1 - alpha)
            lb[z] = 0.0
            crit["generic"][z] = _generic(f"|TailExcess_kusd|{blk.data.scenario!r}")
            nz = np.nonzero(blk.form.c)[0]  # z_k + eta - c_k y_k >= o_k
            r_i.append(np.full(len(nz) + 2, r + k))
            c_i.append(np.concatenate([[z, eta], cm[nz]]))
            vals.append(np.concatenate([[1.0, 1.0], -blk.form.c[nz]]))
        row_lo.append(np.array([b.form.offset_kusd for b in blocks]))
        row_hi.append(np.full(K, inf))
        limit.append(np.zeros(K, dtype=bool))
    n_rows = r + (K if cvar else 0)
    A = sp.csc_matrix((np.concatenate(vals), (np.concatenate(r_i), np.concatenate(c_i))), shape=(n_rows, N))
    A.sum_duplicates()
    A.sort_indices()
    from model.solve.highs import ArrayLP

    lp = ArrayLP(c=c, lb=lb, ub=ub, row_lo=np.concatenate(row_lo), row_hi=np.concatenate(row_hi), A=A, offset=offset)
    return ArrayEF(lp=lp, limit=np.concatenate(limit), crit=crit | {"first_stage": first}, cols=cols, row0=row0,
                   first_cols=first_cols, n_top=n_top)


def _read(blk: Block, x: np.ndarray, y: np.ndarray, x1: np.ndarray, res):
    """(Solution, total kUSD, first-stage cost kUSD) of one block from its column values ``x`` and row
    duals ``y`` (the extensive form's: p times the scenario's), through its own model or its group's template."""
    import pyomo.environ as pyo

    from model.results.tables import extract
    from model.solve.highs import _ensure_dual_suffix

    f, p = blk.form, float(blk.data.probability)
    total = float(np.dot(f.c, x) + f.offset_kusd)
    if blk.plan is not None:
        vals = blk.plan.term_values(f, x)
        if vals is not None:
            plan = blk.plan
            for v, val in zip(plan.columns, x):
                v.set_value(float(val), skip_validation=True)
            duals = _ensure_dual_suffix(plan.built.model)
            for row, d in zip(plan.rows, y):
                duals[row.constraint] = duals.get(row.constraint, 0.0) + float(d)
            first = float(vals[plan.first].sum())
            sol = extract(replace(plan.built, data=blk.data), res, dual_scale=1.0 / p,
                          term_kusd=dict(zip(plan.names, vals.tolist())), totals_kusd=(float(vals.sum()), first))
            return sol, total, first
        b, f2, *_ = _build(blk.data)  # its costs do not split into the template's terms: read through its own model
        blk = replace(blk, built=b, form=replace(f, columns=f2.columns, rows=f2.rows))
    b, f = blk.built, blk.form
    for v, val in zip(f.columns, x):
        v.set_value(float(val), skip_validation=True)
    for v, j, val in zip(b.first_stage_vars, f.cols1, x1):  # one the compiler dropped takes the merged value
        if j < 0:
            v.set_value(float(val), skip_validation=True)
    duals = _ensure_dual_suffix(b.model)
    for row, d in zip(f.rows, y):
        duals[row.constraint] = duals.get(row.constraint, 0.0) + float(d)
    sol = extract(b, res, dual_scale=1.0 / p)
    return sol, total, float(pyo.value(b.model.FirstStageCost_kusd))


def solve_and_read(blocks: list[Block], options, risk, t_built: float):
    """Assemble, solve (the tie-break of ``extensive.solve_extensive_form``) and read every block:
    (SolveResult, solutions, metrics as ``extensive.collect``'s, first stage by name, seconds reading)."""
    from model.solve.highs import SolveResult, _highs_version, _recorded, solve_lp
    from model.stochastic.extensive import cvar

    t0 = time.perf_counter()
    lam, alpha = float(risk.risk_weight_lambda), float(risk.cvar_alpha)
    ef = assemble(blocks, lam, alpha)
    t1 = time.perf_counter()
    out = solve_lp(ef.lp, options, ef.limit if options.canonical else None, lambda: ef.crit)
    t2 = time.perf_counter()
    x = np.asarray(out.x, dtype=float)
    pres = ef.first_cols >= 0
    x1 = np.zeros(len(ef.first_cols))
    x1[pres] = x[ef.first_cols[pres]]
    res = SolveResult(termination="optimal", objective_kusd=float(np.dot(ef.lp.c, x) + ef.lp.offset),
                      handoff_s=t1 - t0 + out.pass_s, solve_s=out.solve_s, load_s=0.0, n_columns=len(x),
                      n_rows=len(ef.lp.row_lo), n_nonzeros=int(ef.lp.A.nnz), solver="highs",
                      solver_version=_highs_version(), options=_recorded(options), canonical=out.canonical,
                      canonical_s=out.canonical_s, marginal_s=out.marginal_s)
    sols, totals, first0 = [], [], None
    with progress.phase("reading the plan of every scenario", total=len(blocks), key="reading the plan of every scenario"):
        for k, (blk, cm) in enumerate(zip(blocks, ef.cols)):
            sol, total, first = _read(blk, x[cm], out.row_dual[ef.row0[k]:ef.row0[k + 1]], x1, res)
            sols.append(sol)
            totals.append(total)
            if k == 0:
                first0 = first
            progress.advance()
    totals = np.array(totals)
    probs = np.array([float(b.data.probability) for b in blocks])
    metrics = {
        "proven_optimal": True,
        "objective_kusd": res.objective_kusd,
        "expected_cost_kusd": float(np.dot(probs, totals)),
        "cvar_cost_kusd": cvar(totals, probs, alpha),
        "first_stage_cost_kusd": first0,
        "scenario_total_kusd": totals.tolist(),
    }
    first_stage = dict(zip(blocks[0].names, x1.tolist()))
    return res, tuple(sols), metrics, first_stage, time.perf_counter() - t2


def block_totals(blocks: list[Block], options, first_stage: dict | None = None) -> np.ndarray:
    """F_k + C_k of every block, kUSD: optimised alone with its first stage free (``first_stage`` None, the
    wait-and-see solves; each block keeps its basis), or with ``first_stage`` (by name) held by its bounds,
    started from that basis (EEV). SolveError naming the scenario where one is not optimal (termination
    ``time_limit`` at the run's deadline)."""
    from model.stochastic.benders import _Stopped, _passed, _run

    deadline = budget.deadline_s(options)
    when = ("while solving each scenario with perfect foresight (wait-and-see)" if first_stage is None else
            "while re-solving the scenarios with the expected-value plan's first stage fixed")
    out = np.zeros(len(blocks))
    for k, blk in enumerate(blocks):
        f = blk.form
        h = _passed(f, options)
        if first_stage is not None:
            if blk.basis is not None:
                h.setBasis(blk.basis)
            x1 = np.clip(np.array([first_stage[n] for n in blk.names], dtype=float), blk.lb1, blk.ub1)
            pres = f.cols1 >= 0
            cols = f.cols1[pres].astype(np.int32)
            h.changeColsBounds(len(cols), cols, x1[pres], x1[pres])
        try:
            status = _run(h, deadline)
        except _Stopped:
            raise budget.out_of_time(options, when, f"{k:,} of {len(blocks):,} scenarios done", outcome=None) from None
        if status != "Optimal":
            what = "with its first stage free" if first_stage is None else "with this first stage"
            raise SolveError(f"scenario {blk.data.scenario}: '{status}' {what}", termination=status)
        out[k] = float(h.getInfo().objective_function_value) + f.offset_kusd
        if first_stage is None:
            basis = h.getBasis()
            blk.basis = basis if basis.valid else None
        progress.advance()
    return out
