r"""The plan's re-solve of a stamped scenario from its stamped LP: no Pyomo model built for it.

After the decomposition, every scenario is re-solved with the plan's first stage held, made canonical,
and read into the report's tables (``benders.evaluate_plan``). Built through Pyomo that is about 0.27 s
a scenario of the 36-month generated case (build 117 ms, compile 42 ms, solve 30 ms, canonical 21 ms,
tables 40 ms; measured), most of a large run. A scenario of a *stamping* group
(:mod:`model.stochastic.stamp`) already has its LP as arrays: its group's template standard form with
the scenario's declared values written in. So here the group's first scenario's Pyomo model (the
*template*, built once) serves every scenario of the group:

1. the scenario's LP is stamped (:meth:`stamp.Group.stamp`), its first-stage columns held at the plan
   (lower = upper bound, as ``benders.evaluate_plan`` holds the variables), and solved with the same
   tie-break as a Pyomo-built scenario (``model.solve.highs.solve_lp``: one-sided duals on the reported
   limits, the canonical plan), from scratch like the Pyomo path: started from its Benders subproblem's
   last basis instead, one limit's one-sided marginal value moved by 0.8 % (defence, scenario 7, the Tb
   quota of 2027-09: 5.596 against 5.642 M USD/t, the finite difference 5.642), so the start is not reused;
2. the column values and row duals are loaded into the template's variables and ``dual`` suffix, in
   the template's column and row order (a stamping group's scenarios have the same columns and rows,
   checked entry by entry on its second scenario);
3. the tables are read from the template with the scenario's own data (``results.tables.extract``):
   every quantity there is a variable, or an expression whose coefficients come from the structure
   (element contents, recovery and yield factors: part of the group's signature); the one exception,
   the cost terms (prices are data), is given to ``extract`` from the LP as below.

Math
----
The objective is the sum of the registered cost terms, :math:`c^\top y + k = \sum_T (a_T^\top y + k_T)`
(``components.objective``). For the template ``G`` each term's coefficients :math:`a_T` and constant
:math:`k_T` are read once from its Pyomo expression (``generate_standard_repn``), and
:math:`\sum_T a_T = c_G` is checked. A scenario ``s`` differs from ``G`` only in the declared ``cost``
entries (``Purchase_t``, ``TakeOrPayShortfall_t``, ``TerminalShortfall_t``), each of which must belong
to exactly one term (its *owner*); so

.. math::

    \mathrm{term}_T(s) = k_T + \sum_{j \notin J} a_{T,j}\, y_j + \sum_{j \in J:\ \mathrm{owner}(j) = T} c_{s,j}\, y_j ,

with ``J`` the stamped cost columns (the owner's coefficient there is the scenario's own cost: no
other term has one). Nothing of the template's own prices enters, so a scenario's tables do not depend
on which scenario of its group is the template (the same for any ``--workers``),

and :math:`\sum_T \mathrm{term}_T(s) = c_s^\top y + k` is checked for every scenario (relative 1e-9):
where it fails, or a cost differs from the template's in a column with no owner, the scenario is
re-solved through Pyomo instead (``replan`` returns None). The canonical criteria are the template's,
except the ``generic`` weights, which hash the scenario's name (``canonical.generic_weight``).

Glossary
--------
PlanTemplate     what a group's scenarios share for the plan's re-solve: the template's BuiltModel, its
                 columns and rows, the criteria per column, the limit mask per row, the term matrix
                 (terms x columns), constants and owners
build            PlanTemplate.build(group): from the group's template BuiltModel and full standard form;
                 StampRefused when the cost terms do not add up to the objective or a cost entry has no
                 single owner (the group's scenarios are then re-solved through Pyomo)
replan           (total kUSD, Solution, SolveResult, first-stage cost kUSD) of one scenario, or None
TOTAL_REL        1e-9: the sum of the terms must equal the objective to this, relative
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model.stochastic.stamp import StampRefused

TOTAL_REL = 1e-9


@dataclass
class PlanTemplate:
    """The template of a stamping group, ready to re-solve and read any of its scenarios (module docstring)."""

    built: object  # BuiltModel of the group's first scenario
    columns: list  # VarData per column
    rows: list  # RowEntry per row
    keys: list  # (component name, index) per column, for the generic weights
    crit: dict  # cn_t, stock_t, order_period_t, first_stage per column (the template's; generic per scenario)
    limit: np.ndarray  # bool per row: a reported limit
    names: list  # cost term names, registry order
    first: np.ndarray  # bool per term: first stage
    T: object  # scipy CSR, terms x columns, kUSD per unit
    const: np.ndarray  # per term, kUSD
    owner: np.ndarray  # per column: the term owning its stamped cost, -1 none
    c0: np.ndarray  # the template's objective coefficients
    stamped: np.ndarray  # the columns whose cost is stamped (each with an owner)
    T_rest: object  # T without the stamped columns

    @classmethod
    def build(cls, b, f, cost_columns: np.ndarray) -> "PlanTemplate":
        """From the template BuiltModel ``b``, its full StandardForm ``f`` (columns and rows kept) and the
        columns whose cost the group's declarations stamp."""
        import scipy.sparse as sp
        from pyomo.repn import generate_standard_repn

        from model.results.tables import plan_tie_break
        from model.solve.canonical import column_criteria

        n = len(f.columns)
        tb = plan_tie_break([b])
        crit = column_criteria(tb, f.columns, None, n)
        col_of = {id(v): j for j, v in enumerate(f.columns)}
        terms = list(b.registry.costs)
        r_i, c_i, vals, const = [], [], [], np.zeros(len(terms))
        for t, term in enumerate(terms):
            rep = generate_standard_repn(term.expr, compute_values=True, quadratic=False)
            if rep.nonlinear_expr is not None:
                raise StampRefused(f"cost term {term.name} is not linear")
            const[t] = float(rep.constant)
            for v, a in zip(rep.linear_vars, rep.linear_coefs):
                j = col_of.get(id(v))
                if j is None:
                    if a != 0:
                        raise StampRefused(f"cost term {term.name}: {v.name} is not a column")
                    continue
                r_i.append(t)
                c_i.append(j)
                vals.append(float(a))
        T = sp.csr_matrix((vals, (r_i, c_i)), shape=(len(terms), n))
        T.sum_duplicates()
        c0 = np.asarray(f.c, dtype=float)
        colsum = np.asarray(T.sum(axis=0)).ravel()
        if not np.allclose(colsum, c0, rtol=1e-12, atol=1e-12):
            j = int(np.argmax(np.abs(colsum - c0)))
            raise StampRefused(f"the cost terms do not add up to the objective at {f.columns[j].name}")
        Tc = T.tocsc()
        owner = np.full(n, -1, dtype=np.int64)
        for j in np.unique(np.asarray(cost_columns, dtype=np.int64)):
            who = Tc.indices[Tc.indptr[j]:Tc.indptr[j + 1]][Tc.data[Tc.indptr[j]:Tc.indptr[j + 1]] != 0]
            if len(who) != 1:
                raise StampRefused(f"the stamped cost of {f.columns[j].name} is in {len(who)} cost terms, not 1")
            owner[j] = int(who[0])
        stamped = np.nonzero(owner >= 0)[0]
        keep = np.ones(n)
        keep[stamped] = 0.0
        T_rest = (T @ sp.diags(keep)).tocsr()
        T_rest.eliminate_zeros()
        T_rest.sort_indices()
        return cls(built=b, columns=list(f.columns), rows=list(f.rows),
                   keys=[(v.parent_component().local_name, v.index()) for v in f.columns],
                   crit={k: crit[k] for k in ("cn_t", "stock_t", "order_period_t", "first_stage")},
                   limit=np.array([id(r.constraint) in tb.limit_rows for r in f.rows], dtype=bool),
                   names=[t.name for t in terms], first=np.array([t.stage == "first" for t in terms], dtype=bool),
                   T=T, const=const, owner=owner, c0=c0, stamped=stamped, T_rest=T_rest)

    def criteria(self, scenario: str) -> dict:
        """The canonical criteria of scenario ``scenario`` on the template's columns."""
        from model.solve.canonical import generic_weight

        return self.crit | {"generic": np.array([generic_weight(scenario, name, idx) for name, idx in self.keys],
                                                dtype=float)}

    def term_values(self, f, x: np.ndarray) -> np.ndarray | None:
        """kUSD per cost term of scenario LP ``f`` at column values ``x`` (module docstring); None where the
        scenario's costs cannot be split into the terms."""
        c = np.asarray(f.c, dtype=float)
        moved = np.nonzero(c != self.c0)[0]
        if len(moved) and (self.owner[moved] < 0).any():
            return None
        j = self.stamped  # their term's coefficient is the scenario's own cost (one owner each)
        vals = self.const + self.T_rest @ x + np.bincount(self.owner[j], weights=c[j] * x[j], minlength=len(self.names))
        total, want = float(vals.sum()), float(np.dot(f.c, x) + f.offset_kusd)
        if abs(total - want) > TOTAL_REL * max(1.0, abs(want)):
            return None
        return vals

    def replan(self, d, f, x1: np.ndarray, options):
        """Scenario ``d`` with LP ``f`` (stamped) re-solved with first stage ``x1`` (master order) held:
        (total kUSD, Solution, SolveResult, first-stage cost kUSD), or None (re-solve it through Pyomo)."""
        import time

        from model.results.tables import extract
        from model.solve.highs import ArrayLP, SolveResult, _ensure_dual_suffix, _highs_version, _recorded, solve_lp

        lb, ub = np.array(f.col_lower, dtype=float), np.array(f.col_upper, dtype=float)
        pres = f.cols1 >= 0
        lb[f.cols1[pres]] = x1[pres]
        ub[f.cols1[pres]] = x1[pres]
        crit = self.criteria(d.scenario or "")
        out = solve_lp(ArrayLP(c=f.c, lb=lb, ub=ub, row_lo=f.row_lower, row_hi=f.row_upper, A=f.A, offset=f.offset_kusd),
                       options, self.limit, lambda: crit)
        x = np.asarray(out.x, dtype=float)
        vals = self.term_values(f, x)
        if vals is None:
            return None
        t2 = time.perf_counter()
        for v, val in zip(self.columns, x):
            v.set_value(float(val), skip_validation=True)
        duals = _ensure_dual_suffix(self.built.model)
        for r, y in zip(self.rows, out.row_dual):
            duals[r.constraint] = duals.get(r.constraint, 0.0) + float(y)
        total, first = float(vals.sum()), float(vals[self.first].sum())
        res = SolveResult(termination="optimal", objective_kusd=float(np.dot(f.c, x) + f.offset_kusd),
                          handoff_s=out.pass_s, solve_s=out.solve_s, load_s=time.perf_counter() - t2,
                          n_columns=len(x), n_rows=len(self.rows), n_nonzeros=int(f.A.nnz), solver="highs",
                          solver_version=_highs_version(), options=_recorded(options), canonical=out.canonical,
                          canonical_s=out.canonical_s, marginal_s=out.marginal_s)
        sol = extract(replace(self.built, data=d), res, term_kusd=dict(zip(self.names, vals.tolist())),
                      totals_kusd=(total, first))
        return total, sol, res, first
