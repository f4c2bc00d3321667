r"""One canonical optimal plan, and marginal values that mean one thing.

The LP has many equally cheap plans (ties between origin groups of the same element, between
recipes, between periods). Which vertex a simplex code stops at depends on the solver release,
the machine and the order of the input lists, so a regression check on plan values would cry
wolf. This module turns "an optimal plan" into "*the* optimal plan": a documented lexicographic
choice among the optimal plans, and it makes every reported marginal value a one-sided rate, which
is unique even where the LP duals are not.

Canonical plan (lexicographic second solve)
-------------------------------------------
Let :math:`z^* = \min\{c^\top x : x \in X\}` (the main solve, HiGHS dual simplex). The optimal
face is :math:`F_0 = \{x \in X : c^\top x = z^*\}`. For any optimal dual :math:`(y, d)` of the
main solve, :math:`F_0` is exactly the set of feasible points complementary to it, so it is
obtained *without a cost tolerance* by fixing every column with a reduced cost
:math:`|d_j| > \tau` at its bound and holding every row with a dual :math:`|y_i| > \tau` at its
active side (:math:`\tau` = 1e-9 x the largest cost coefficient, noise level). A row
:math:`c^\top x \le z^* + 10^{-9}|z^*| + 10^{-6}` is added as a guard. Then, in order, each stage
minimises one criterion over the face left by the stages before it, and its own reduced costs and
duals cut the face down again:

1. ``cn_t``       t of material bought from China-origin offers (``offers[].country == CN``),
                  probability-weighted: among equally cheap plans, the least dependent on China.
2. ``stock_t``    t x periods of element held in stock: no stock that buys nothing.
3. ``order_period_t``  sum of period x t ordered: earlier orders, the safer of two equal plans.
4. ``generic``    a fixed pseudo-random weight in [1, 2) per column (CRC-32 of
                  ``scenario|variable|index``, so independent of input order and machine; the default
                  plant of a one-plant case is left out of the index, :func:`_hashed_index`), first
                  over the decisions taken now (first-stage columns, and the CVaR level), which are
                  then fixed, then over everything else. With the decisions taken now fixed, the
                  rest splits into independent blocks (the connected components of the remaining
                  rows and columns: one or more per scenario), each solved on its own.

A generic linear objective has a unique minimiser over a polytope, so the result is one point
whatever vertex the main solve returned. Every stage is optimal by construction; the plan's cost
is checked against :math:`z^*` (``cost_drift_kusd``) and if any stage fails the first plan is kept
and the KPIs say so (``solver.canonical.applied = false``).

Marginal values (one-sided rates)
---------------------------------
At a degenerate optimum the row dual of a binding limit is not unique: any value between its
left and right derivative is a valid dual. The value function :math:`v(b)` of the LP is convex in
a limit :math:`b_i`, so its *right* derivative is unique:

.. math::

    \mathrm{MV}_i = -\lim_{\delta \downarrow 0} \frac{v(b + \delta e_i) - v(b)}{\delta}
                  = -\max\{ y_i : y \text{ optimal dual} \} \ \ge 0

"USD saved by one more tonne of this limit, every other input as given". For each reported
limit row with a non-zero dual, HiGHS's ranging says whether the optimal basis stays optimal for
:math:`b_i + \delta` (then its dual *is* the right derivative); for the others (the primal-degenerate
ones) the limit is raised by :math:`\delta` = 1e-3 t and the LP re-solved warm, and the dual of
that optimal basis is the rate. Rows with a zero dual have a zero right derivative.

Glossary
--------
TieBreak          per-column criteria arrays aligned with ``vars`` (Pyomo VarData), plus the
                  first-stage mask and the limit rows whose marginal values are reported
CANONICAL_STAGES  the criteria in order, with what each prefers
deadline          ``time.monotonic()`` deadline of the run (:mod:`model.solve.budget`), or None: every
                  re-solve, stage and block gets the time left (HiGHS counts run time over all runs of
                  an instance, so the limit set is its run time so far plus the time left); when none
                  is left, or a run stops at the limit, :class:`~model.solve.budget.Expired` names the
                  step and the caller keeps the main solve's vertex and duals
skipped           the ``solver.canonical`` record of a stage cut by the time limit: ``applied: false``,
                  ``skipped: true`` and a note with the reason (in ``kpis.json`` whenever not applied)
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from model.components.catalogue import DEFAULT_PLANT

CHINA = "CN"
CANONICAL_STAGES = (
    ("cn_t", "less China-origin tonnage (t of material from offers with country CN)"),
    ("stock_t", "less stock held (t x periods)"),
    ("order_period_t", "earlier orders (period x t ordered)"),
    ("generic", "a fixed generic tie-break: first the decisions taken now, then the rest"),
)
TAU_REL = 1e-9  # reduced costs and duals below TAU_REL x max |cost| are noise (treated as zero)
GUARD_REL, GUARD_ABS_KUSD = 1e-9, 1e-6  # the cost guard row: c'x <= z* (1 + 1e-9) + 1e-6 kUSD
BATCH_COLUMNS = 4000  # blocks are solved together up to this many columns per LP (canonical_plan)
DIRECTIONAL_STEP_T = 1e-3  # t by which a degenerate limit is raised to read its right derivative


@dataclass(frozen=True)
class TieBreak:
    """What the canonical stages minimise, per column of the model handed to HiGHS."""

    vars: tuple  # VarData
    cn_t: np.ndarray
    stock_t: np.ndarray
    order_period_t: np.ndarray
    generic: np.ndarray
    first_stage: np.ndarray  # bool
    limit_rows: frozenset = frozenset()  # ids of ConstraintData whose marginal values are reported


def _generic(label: str) -> float:
    return 1.0 + zlib.crc32(label.encode()) / 2.0**32


def generic_weight(scen: str, name: str, idx) -> float:
    """The ``generic`` criterion's weight of column ``name[idx]`` of scenario ``scen`` (before its probability)."""
    return _generic(f"{scen}|{name}|{_hashed_index(idx)!r}")


def _hashed_index(idx):
    """A variable's index as its generic weight hashes it: the default plant (``plant``, a one-plant case's)
    left out of an index it leads, so that indexing stock and balances by plant left every one-plant plan
    what it was (the same weights, so the same plan and the same baselines)."""
    if isinstance(idx, tuple) and len(idx) > 1 and idx[0] == DEFAULT_PLANT:
        return idx[1] if len(idx) == 2 else idx[1:]
    return idx


def tie_break(builts, limit_components=(), top=None, top_labels=None) -> TieBreak:
    """Criteria for the scenario models ``builts`` (BuiltModel), probability-weighted.

    ``limit_components``: names of constraint components whose rows' marginal values are reported.
    ``top``: the extensive form's own block (CVaR level and tail excess), whose variables count as
    decisions taken now; ``top_labels`` maps an index of ``TailExcess_kusd`` to its scenario name.
    """
    import pyomo.environ as pyo

    vs, cn, st, op, gen, first = [], [], [], [], [], []
    limit_rows = set()
    for b in builts:
        p = float(b.data.probability) if len(builts) > 1 else 1.0
        scen = b.data.scenario or ""
        country = {o.id: o.country for o in b.data.case.offers}
        fs = {id(v) for v in b.first_stage_vars}
        for comp in b.model.component_objects(pyo.Var, descend_into=False):
            name = comp.local_name
            for idx, v in comp.items():
                vs.append(v)
                gen.append(p * generic_weight(scen, name, idx))
                first.append(id(v) in fs)
                if name == "Purchase_t":
                    cn.append(p if country[idx[0]] == CHINA else 0.0)
                    op.append(p * idx[1])
                    st.append(0.0)
                else:
                    cn.append(0.0)
                    op.append(0.0)
                    st.append(p if name == "Stock_t" else 0.0)
        for cname in limit_components:
            comp = b.model.component(cname)
            if comp is not None:
                limit_rows.update(id(c) for c in comp.values())
    if top is not None:
        for comp in top.component_objects(pyo.Var, descend_into=False):
            for idx, v in comp.items():
                label = (top_labels or {}).get(idx, idx) if idx is not None else ""
                vs.append(v)
                gen.append(_generic(f"|{comp.local_name}|{label!r}"))
                first.append(True)
                cn.append(0.0)
                st.append(0.0)
                op.append(0.0)
    f = lambda a: np.asarray(a, dtype=float)  # noqa: E731
    return TieBreak(vars=tuple(vs), cn_t=f(cn), stock_t=f(st), order_period_t=f(op), generic=f(gen),
                    first_stage=np.asarray(first, dtype=bool), limit_rows=frozenset(limit_rows))


@dataclass
class CanonicalInfo:
    applied: bool = False
    stages: list = field(default_factory=list)  # (stage, iterations, seconds)
    blocks: int = 0
    cost_drift_kusd: float = 0.0
    note: str = ""
    seconds: float = 0.0
    marginal_s: float = 0.0
    degenerate_limits: int = 0

    def as_dict(self) -> dict:
        return {"applied": self.applied, "stages": [s for s, _, _ in self.stages], "blocks": self.blocks,
                "note": self.note}


def column_criteria(tb: TieBreak, columns, colmap, n: int) -> dict[str, np.ndarray]:
    """Scatter the criteria onto the LP's columns (merged columns sum their members)."""
    pos = {id(v): k for k, v in enumerate(tb.vars)}
    at = np.array([pos.get(id(v), -1) for v in columns], dtype=np.int64)
    have = at >= 0
    tgt = np.arange(len(columns)) if colmap is None else np.asarray(colmap)
    out = {}
    for name in ("cn_t", "stock_t", "order_period_t", "generic"):
        w = np.zeros(n)
        np.add.at(w, tgt[have], getattr(tb, name)[at[have]])
        out[name] = w
    fs = np.zeros(n, dtype=bool)
    fs[tgt[have]] = tb.first_stage[at[have]]
    out["first_stage"] = fs
    return out


def _highs_new(threads: int):
    from model.solve.highs import new_highs

    h = new_highs()
    for k, v in (("output_flag", False), ("threads", threads), ("random_seed", 0)):
        h.setOptionValue(k, v)
    return h


def one_sided_duals(h, limit_mask: np.ndarray, tau: float, deadline: float | None = None) -> tuple[np.ndarray, int]:
    """Row duals with each limit row's replaced by its right derivative (see the module docstring).

    ``h`` holds the main solve's optimal basis; on return it holds an optimal basis again.
    ``deadline`` (``time.monotonic()``): every re-solve gets the time left; when none is left,
    :class:`model.solve.budget.Expired` (``h`` is then left in no particular state)."""
    sol = h.getSolution()
    y = np.asarray(sol.row_dual, dtype=float).copy()
    lp = h.getLp()
    lo, hi = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    cand = limit_mask & (np.abs(y) > tau) & np.isfinite(hi)
    if not cand.any():
        return y, 0
    _, rg = h.getRanging()
    up = np.asarray(rg.row_bound_up.value_, dtype=float)
    if len(up) != len(hi):  # no ranging (HiGHS refused it): every candidate takes the directional re-solve
        up = np.asarray(hi, dtype=float).copy()
    degenerate = np.nonzero(cand & ~(up > hi + 1e-9))[0]
    # Group testing: raise a group G of limits together. The new optimal basis's dual maximises
    # sum_{i in G} y_i over the optimal duals, so a row whose new dual is 0 has right derivative 0
    # (0 is the largest a dual of a binding <= row can be); a group of one gives the rate itself.
    # A group is raised again without the rows found 0 while that finds more. A group that finds none is
    # halved, since smaller groups find zeros a larger one misses; a half that finds none either (its
    # parent's split was fruitless) has each of its rows raised alone, since halving on without zeros costs
    # two re-solves a row. Measured, re-solves (halving only / singletons at once / this): base-2026
    # 66 / 634 / 42, 50 x 36 months 928 / 466 / 468, sampled 140 / 72 / 74, base 46 / 25 / 27.
    queue = [(degenerate, False)] if len(degenerate) else []  # (rows, their parent's split found no zero)
    done = 0
    while queue:
        where = f"during the one-sided marginal values ({done:,} of {len(degenerate):,} degenerate limits done)"
        _time_left(h, deadline, where)
        grp, fruitless = queue.pop()
        step = np.maximum(DIRECTIONAL_STEP_T, 1e-6 * np.abs(hi[grp]))
        h.changeRowsBounds(len(grp), grp.astype(np.int32), lo[grp], hi[grp] + step)
        _run_within(h, deadline, where)
        ok = h.modelStatusToString(h.getModelStatus()) == "Optimal"
        y_new = np.asarray(h.getSolution().row_dual, dtype=float)[grp] if ok else np.full(len(grp), np.nan)
        h.changeRowsBounds(len(grp), grp.astype(np.int32), lo[grp], hi[grp])
        if not ok:
            continue  # keep the basis duals of this group (cannot happen for a feasible LP with a looser limit)
        zero = np.abs(y_new) <= tau
        y[grp[zero]] = 0.0
        rest = grp[~zero]
        if len(grp) == 1:
            y[grp] = y_new
            done += 1
        elif len(rest) == len(grp) and fruitless:
            queue += [(rest[k:k + 1], True) for k in range(len(rest))]
        elif len(rest) == len(grp):
            queue += [(rest[: len(rest) // 2], True), (rest[len(rest) // 2:], True)]
        elif len(rest):
            queue.append((rest, False))
    if len(degenerate):
        _time_left(h, deadline, "restoring the optimal basis after the one-sided marginal values")
        _run_within(h, deadline, "restoring the optimal basis after the one-sided marginal values")
    return y, len(degenerate)


def _time_left(h, deadline: float | None, where: str) -> None:
    """Give ``h`` the time left before ``deadline`` as its time limit; :class:`~model.solve.budget.Expired`
    (``where``) when none is. No deadline: ``h`` keeps its own limit."""
    if deadline is None:
        return
    from model.solve import budget

    try:
        budget.set_highs_limit(h, deadline)
    except budget.Expired:
        raise budget.Expired(where) from None


def _run_within(h, deadline: float | None, where: str) -> None:
    """``h.run()``; a run stopped by the time limit of ``deadline`` raises Expired(``where``)."""
    h.run()
    if deadline is not None and h.modelStatusToString(h.getModelStatus()) == "Time limit reached":
        from model.solve.budget import Expired

        raise Expired(where)


def skipped(reason: str, marginal_values_done: bool) -> dict:
    """``CanonicalInfo.as_dict()`` of a canonical stage cut short by the run's time limit: the plan
    stands as the main solve left it (an optimal vertex, not the canonical plan)."""
    mv = "" if marginal_values_done else "; marginal values are that vertex's LP duals, not one-sided rates"
    return {"applied": False, "stages": [], "blocks": 0, "skipped": True,
            "note": f"skipped: {reason}; the plan is the main solve's optimal vertex, not the canonical plan{mv}"}


def _restrict(h, cost: np.ndarray, n_rows: int) -> None:
    """Cut the current face down to the optimal face of the current objective (complementarity)."""
    sol = h.getSolution()
    lp = h.getLp()
    x, d = np.asarray(sol.col_value), np.asarray(sol.col_dual)
    y = np.asarray(sol.row_dual)[:n_rows]
    lb, ub = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    tau = TAU_REL * max(1.0, float(np.abs(cost).max()) if len(cost) else 1.0)
    fix = np.nonzero((np.abs(d) > tau) & (lb < ub))[0]
    if len(fix):
        val = np.where(np.abs(x[fix] - lb[fix]) <= np.abs(x[fix] - ub[fix]), lb[fix], ub[fix])
        h.changeColsBounds(len(fix), fix.astype(np.int32), val, val)
    rlo, rhi = np.asarray(lp.row_lower_)[:n_rows], np.asarray(lp.row_upper_)[:n_rows]
    act = np.nonzero((np.abs(y) > tau) & (rlo < rhi))[0]
    if len(act):
        rv = np.where(y[act] > 0, rlo[act], rhi[act])
        h.changeRowsBounds(len(act), act.astype(np.int32), rv, rv)


def _run_stage(h, w: np.ndarray, deadline: float | None = None, name: str = "") -> tuple[bool, int]:
    where = f"during the canonical stage {name}"
    _time_left(h, deadline, where)
    n = len(w)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), w)
    h.setOptionValue("simplex_strategy", 4)  # primal: the basis stays primal feasible across stages
    _run_within(h, deadline, where)
    ok = h.modelStatusToString(h.getModelStatus()) == "Optimal"
    return ok, int(h.getInfo().simplex_iteration_count)


def canonical_plan(h, A, c: np.ndarray, crit: dict, z: float, threads: int = 1,
                   deadline: float | None = None) -> tuple[np.ndarray | None, CanonicalInfo]:
    """The canonical plan (module docstring), starting from ``h`` holding an optimal basis of ``min c'x``.

    Returns the plan's column values, or ``None`` with ``info.note`` saying why the first plan stands.
    ``deadline`` (``time.monotonic()``): every stage and block gets the time left; when none is left,
    :class:`model.solve.budget.Expired` naming the stage (the caller keeps the first plan)."""
    import highspy
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    t0 = time.perf_counter()
    info = CanonicalInfo()
    nr = A.shape[0]
    inf = highspy.kHighsInf
    nz = np.nonzero(c)[0]
    h.addRow(-inf, z + GUARD_REL * abs(z) + GUARD_ABS_KUSD, len(nz), nz.astype(np.int32), c[nz])
    prev = c
    for name in ("cn_t", "stock_t", "order_period_t"):
        w = crit[name]
        if not w.any():
            continue
        _restrict(h, prev, nr)
        ts = time.perf_counter()
        ok, its = _run_stage(h, w, deadline, name)
        info.stages.append((name, its, time.perf_counter() - ts))
        if not ok:
            info.note = f"stage {name} ended '{h.modelStatusToString(h.getModelStatus())}'"
            return None, info
        prev = w
    # generic, first over the decisions taken now
    _restrict(h, prev, nr)
    g, fs = crit["generic"], crit["first_stage"]
    if fs.any():
        ts = time.perf_counter()
        ok, its = _run_stage(h, np.where(fs, g, 0.0), deadline, "generic_first_stage")
        info.stages.append(("generic_first_stage", its, time.perf_counter() - ts))
        if not ok:
            info.note = f"stage generic_first_stage ended '{h.modelStatusToString(h.getModelStatus())}'"
            return None, info
        _restrict(h, np.where(fs, g, 0.0), nr)
    sol = h.getSolution()
    lp = h.getLp()
    x = np.asarray(sol.col_value, dtype=float).copy()
    lb, ub = np.asarray(lp.col_lower_, dtype=float).copy(), np.asarray(lp.col_upper_, dtype=float).copy()
    rlo, rhi = np.asarray(lp.row_lower_)[:nr].copy(), np.asarray(lp.row_upper_)[:nr].copy()
    lb[fs], ub[fs] = x[fs], x[fs]
    free = lb < ub
    # the rest: independent blocks once the fixed columns move to the right-hand side
    ts = time.perf_counter()
    Acsc = A.tocsc()
    fixed_part = Acsc[:, ~free] @ x[~free]
    Af = Acsc[:, free].tocsr()
    rows_used = np.nonzero(np.diff(Af.indptr) > 0)[0]
    free_cols = np.nonzero(free)[0]
    Ab = Af[rows_used]
    m_r, m_c = Ab.shape
    graph = sp.bmat([[None, Ab], [Ab.T, None]], format="csr")
    ncomp, label = connected_components(graph, directed=False)
    lab_r, lab_c = label[:m_r], label[m_r:]
    info.blocks = int(ncomp)
    Ab = Ab.tocsc()
    r_ord, c_ord = np.argsort(lab_r, kind="stable"), np.argsort(lab_c, kind="stable")
    r_cut = np.searchsorted(lab_r[r_ord], np.arange(ncomp + 1))
    c_cut = np.searchsorted(lab_c[c_ord], np.arange(ncomp + 1))
    Ab = Ab[r_ord][:, c_ord].tocsc()
    its_total = 0
    # consecutive blocks are solved together, up to BATCH_COLUMNS columns per LP: a block-diagonal LP
    # has the blocks' optima, and one HiGHS instance per handful of columns costs more than it solves
    bounds, k0 = [], 0
    for k in range(ncomp):
        if c_cut[k + 1] - c_cut[k0] >= BATCH_COLUMNS or k == ncomp - 1:
            bounds.append((k0, k + 1))
            k0 = k + 1
    for bi, (k0, k1) in enumerate(bounds):
        rs, cs = slice(r_cut[k0], r_cut[k1]), slice(c_cut[k0], c_cut[k1])
        cols = free_cols[c_ord[cs]]
        if cs.stop == cs.start:
            continue
        rows = rows_used[r_ord[rs]]
        sub = Ab[rs, cs].tocsc()
        sub.sort_indices()
        hk = _highs_new(threads)
        lpk = highspy.HighsLp()
        lpk.num_col_, lpk.num_row_ = len(cols), len(rows)
        lpk.col_cost_ = g[cols]
        lpk.col_lower_, lpk.col_upper_ = lb[cols], ub[cols]
        lpk.row_lower_ = rlo[rows] - fixed_part[rows]
        lpk.row_upper_ = rhi[rows] - fixed_part[rows]
        lpk.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lpk.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lpk.a_matrix_.index_ = sub.indices.astype(np.int32)
        lpk.a_matrix_.value_ = sub.data.astype(float)
        hk.passModel(lpk)
        where = f"during the canonical stage generic (block LP {bi + 1:,} of {len(bounds):,})"
        _time_left(hk, deadline, where)
        _run_within(hk, deadline, where)
        status = hk.modelStatusToString(hk.getModelStatus())
        if status != "Optimal":
            info.note = f"a tie-break block ({len(cols)} columns) ended '{status}'"
            return None, info
        x[cols] = np.asarray(hk.getSolution().col_value)
        its_total += int(hk.getInfo().simplex_iteration_count)
    info.stages.append(("generic", its_total, time.perf_counter() - ts))
    info.cost_drift_kusd = float(c @ x - z)
    if info.cost_drift_kusd > GUARD_REL * abs(z) + GUARD_ABS_KUSD:
        info.note = f"the canonical plan cost {info.cost_drift_kusd:.3g} kUSD more than the optimum"
        return None, info
    info.applied = True
    info.seconds = time.perf_counter() - t0
    return x, info
