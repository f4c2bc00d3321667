"""The infeasible set: an irreducible infeasible subset (IIS) from HiGHS, as Pyomo components.

When the standard-form solve ends infeasible, :func:`model.solve.highs.solve` asks HiGHS for an
IIS and attaches it to the :class:`~model.errors.SolveError` it raises;
:mod:`model.results.diagnose` turns it into input terms.

Glossary
--------
IIS               a set of rows and column bounds that is infeasible, and feasible without any one of them
iis_strategy      HiGHS option; here "from the LP" + "irreducible" (the default "light" strategy can
                  return none after presolve has proved infeasibility)
conflict_rows     the IIS's rows, as Pyomo ConstraintData (``sf.rows[i].constraint``)
conflict_bounds   the IIS's column bounds, as (VarData, "lower" | "upper" | "bounds"); plain
                  non-negativity is not an input, so only upper bounds and non-zero lower bounds
colmap            merged column of each standard-form column (:mod:`model.solve.merge`), or None;
                  a merged column is reported as its first standard-form variable
infeasible_subset (conflict_rows, conflict_bounds), both empty when HiGHS finds no IIS
"""

from __future__ import annotations


def infeasible_subset(h, sf, colmap) -> tuple[list, list]:
    """Ask HiGHS for an irreducible infeasible subset (IIS) and map it back to Pyomo components."""
    import highspy

    rows, bounds = [], []
    try:
        # from the LP, reduced to an irreducible set (the default "light" strategy can return none
        # after presolve has proved infeasibility)
        h.setOptionValue("iis_strategy", int(highspy.IisStrategy.kIisStrategyFromLp) | int(highspy.IisStrategy.kIisStrategyIrreducible))
        st, iis = h.getIis()
        if st != highspy.HighsStatus.kError and iis.valid_:
            rows = [sf.rows[i].constraint for i in iis.row_index_]
            first_col = {}
            for j in range(len(sf.columns)):
                first_col.setdefault(int(colmap[j]) if colmap is not None else j, j)
            names = {int(highspy.IisBoundStatus.kIisBoundStatusLower): "lower",
                     int(highspy.IisBoundStatus.kIisBoundStatusUpper): "upper",
                     int(highspy.IisBoundStatus.kIisBoundStatusBoxed): "bounds"}
            for j, b in zip(iis.col_index_, iis.col_bound_):
                var = sf.columns[first_col[int(j)]]
                side = names.get(int(b))
                # plain non-negativity is not an input; report upper bounds and non-zero lower bounds
                if side == "upper" or (side in ("lower", "bounds") and (var.lb or 0.0) != 0.0):
                    bounds.append((var, side))
    except Exception:  # noqa: BLE001 - IIS is a diagnosis aid; the infeasibility is reported either way
        rows, bounds = [], []
    return rows, bounds
