"""Non-anticipativity by shared variables: first-stage columns merged into one at hand-off.

The extensive form with ``nonant="shared"`` (``model.stochastic.extensive``) has no equality rows
tying each scenario's first-stage variables to scenario 0's; instead it passes the pairs
(``equal_vars``) to :func:`model.solve.highs.solve`, and the standard-form path merges each group
of paired columns into one column before HiGHS sees the LP.

Glossary
--------
equal_vars       (VarData, VarData) pairs whose values must be equal (scenario k's, scenario 0's)
merge_map        column -> merged column index, by union-find over the pairs; and the merged count
colmap           that index array: merged column of each standard-form column (``x = x_red[colmap]``)
P                the n x n_red 0/1 matrix of ``colmap``: ``A_red = A P``, ``c_red = P^T c``
merge_columns    the merged LP: columns summed, costs summed, bounds intersected (max of lower
                 bounds, min of upper bounds)
share_values     after loading, a paired variable the compiler dropped (in no active row) takes its
                 partner's value
"""

from __future__ import annotations

import numpy as np


def merge_map(columns, equal_vars):
    """Column -> merged column index (union-find over the pairs); returns (index array, n merged)."""
    pos = {id(v): j for j, v in enumerate(columns)}
    parent = list(range(len(columns)))

    def find(j):
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    for a, b in equal_vars:
        ja, jb = pos.get(id(a)), pos.get(id(b))
        if ja is not None and jb is not None:
            ra, rb = find(ja), find(jb)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(j) for j in range(len(columns))], dtype=np.int64)
    uniq, new = np.unique(roots, return_inverse=True)
    return new, len(uniq)


def merge_columns(columns, equal_vars, A, c, lb, ub, inf: float):
    """The LP with each group of paired columns merged: returns (A, c, lb, ub, colmap, n merged)."""
    import scipy.sparse as sp

    n = len(columns)
    colmap, n_red = merge_map(columns, equal_vars)
    P = sp.csc_array((np.ones(n), (np.arange(n), colmap)), shape=(n, n_red))
    A = (A @ P).tocsc()
    c = P.T @ c
    lb_red = np.full(n_red, -inf)
    ub_red = np.full(n_red, inf)
    np.maximum.at(lb_red, colmap, lb)
    np.minimum.at(ub_red, colmap, ub)
    return A, c, lb_red, ub_red, colmap, n_red


def share_values(equal_vars) -> None:
    """A variable the compiler dropped (in no active row) takes its partner's value."""
    for a, b in equal_vars:
        if a.value is None and b.value is not None:
            a.set_value(b.value, skip_validation=True)
        elif b.value is None and a.value is not None:
            b.set_value(a.value, skip_validation=True)
