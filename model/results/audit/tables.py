"""The plan tables as a whole, before any row is read: presence, columns, keys, signs and scenarios.

``TABLES`` lists, per table, its key columns, the value columns that must be numbers, and its
descriptive columns; a stochastic run's tables also carry ``scenario`` and ``probability``. Checked
here (whole-table, vectorised):

- ``table_integrity``: every table and column present (a missing one is reported and read as empty /
  zero); no duplicate key (per scenario); every scenario name known and its probability the input's
  (within 1e-9);
- ``nonnegativity``: the decision column ``NONNEG[table]`` >= 0 (NaN counts as an infinite violation).
"""

from __future__ import annotations

import math

import pandas as pd

from .checks import MASS_ABS_T, Acc, fmt
from .rows import Table

# table -> (key columns, value columns that must be numbers)
TABLES = {
    "purchases": (("offer", "order_period"), ("purchased_t", "price_usd_per_kg", "cost_usd"),
                  ("supplier", "country", "origin_group", "material", "kind", "arrival_period")),
    "reservations": (("offer", "period"), ("reserved_t", "purchased_t", "fee_usd"), ()),
    "arrivals": (("plant", "element", "origin_group", "period"), ("arrived_t",), ()),
    "production": (("stream", "recipe", "period"), ("made_t",), ("plant", "grade")),
    "eligibility_use": (("stream", "element", "origin_group", "period"), ("used_t",), ("end_use",)),
    "magnet_purchases": (("stream", "material", "origin_group", "period"), ("used_t",), ()),
    "stock": (("plant", "element", "origin_group", "period"), ("stock_t",), ()),
    "stock_by_element": (("plant", "element", "period"), ("stock_t", "capacity_t", "floor_t", "floor_shortfall_t"), ()),
    "recycling": (("route", "source", "period"), ("feed_t",), ("plant",)),
    "expansions": (("route",), ("added_t_feed_per_period", "cost_usd"), ("usable_from",)),
    "recovered": (("plant", "element", "origin_group", "period"), ("recovered_t",), ()),
    "shortages": (("stream", "period"), ("demand_t", "made_t", "bought_t", "shortage_t"), ("plant", "end_use")),
    "plants": (("plant", "period"), ("made_t", "capacity_t", "demand_t", "shortage_t"), ("country",)),
    "costs": (("term",), ("cost_usd",), ("stage",)),
    "magnet_stock": (("plant", "material", "origin_group", "period"), ("stock_t", "capacity_t"), ("grade",)),
    "transfers": (("lane", "kind", "item", "origin_group", "sent_period"), ("moved_t", "cost_usd"),
                  ("from_plant", "to_plant", "arrival_period")),
}
# tables only a case with the matching input has (a missing one is read as empty; ``audit_run`` checks that
# a case with that input reports it)
OPTIONAL = {"magnet_stock": "magnet_stock", "transfers": "transfers"}  # table -> the CaseInput field that makes it required

NONNEG = {
    "purchases": "purchased_t", "reservations": "reserved_t", "production": "made_t", "eligibility_use": "used_t",
    "magnet_purchases": "used_t", "stock": "stock_t", "stock_by_element": "floor_shortfall_t",
    "recycling": "feed_t", "expansions": "added_t_feed_per_period", "shortages": "shortage_t",
    "magnet_stock": "stock_t", "transfers": "moved_t",
}


def present_tables(tables: dict, stochastic: bool, bad_row: Acc) -> dict[str, pd.DataFrame]:
    """Every table of ``TABLES``, a missing table or column reported and filled in (empty / 0 / "")."""
    full: dict[str, pd.DataFrame] = {}
    for name, (keys, nums, desc) in TABLES.items():
        cols = list(keys) + list(nums) + list(desc) + (["scenario", "probability"] if stochastic else [])
        df = tables.get(name)
        if df is None and name in OPTIONAL:
            df = pd.DataFrame({c: [] for c in cols})
        elif df is None:
            bad_row.add(1, 0.0, f"table {name} missing")
            df = pd.DataFrame({c: [] for c in cols})
        missing = [c for c in cols if c not in df.columns]
        if missing:
            bad_row.add(1, 0.0, f"table {name}: columns {missing} missing")
            df = df.assign(**{c: (0.0 if c in nums else "") for c in missing})
        full[name] = df
    return full


def check_tables(full: dict[str, pd.DataFrame], cases: list, stochastic: bool, bad_row: Acc,
                 nn: Acc) -> dict[str, Table]:
    """Duplicate keys, nonnegativity, scenario names and probabilities; the tables ready to be read."""
    names = [c.scenario for c in cases]
    prob = {c.scenario: c.probability for c in cases}
    views: dict[str, Table] = {}
    for tname, df in full.items():
        keys = list(TABLES[tname][0]) + (["scenario"] if stochastic else [])
        where_of = (lambda i, df=df, keys=keys: ", ".join(f"{k}={df[k].iloc[i]}" for k in keys))
        d = df.duplicated(keys, keep="first").to_numpy()
        if d.any():
            i = int(d.argmax())
            bad_row.add(1, 0.0, lambda i=i, tname=tname, w=where_of: f"table {tname}: duplicate key {w(i)}", count=int(d.sum()))
        col = NONNEG.get(tname)
        if col is not None and len(df):
            v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            neg = (v < 0) | (v != v)
            if neg.any():
                vv = -v.copy()
                vv[v != v] = math.inf
                i = int(vv.argmax())
                nn.add(float(vv[i]), MASS_ABS_T, lambda i=i, tname=tname, col=col, w=where_of, x=v[i]:
                       f"table {tname}: {col} = {fmt(x)} at {w(i)}", count=int((vv > MASS_ABS_T).sum()))
        if stochastic:
            known = df["scenario"].isin(names).to_numpy()
            if not known.all():
                i = int((~known).argmax())
                bad_row.add(1, 0.0, lambda i=i, tname=tname: f"table {tname}: unknown scenario {df['scenario'].iloc[i]!r}",
                            count=int((~known).sum()))
            p_in = df["scenario"].map(prob).to_numpy(dtype=float)
            wrong = known & ~(abs(df["probability"].to_numpy(dtype=float) - p_in) <= 1e-9)
            if wrong.any():
                i = int(wrong.argmax())
                bad_row.add(1, 0.0, lambda i=i, tname=tname: f"table {tname}: scenario {df['scenario'].iloc[i]} "
                                                             f"probability {df['probability'].iloc[i]} differs from the input",
                            count=int(wrong.sum()))
        views[tname] = Table(df, stochastic)
    return views
