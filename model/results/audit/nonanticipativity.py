"""Non-anticipativity: the decisions taken before the scenario is known are the same in every scenario.

Tied across scenarios (``NONANT``: table -> key columns, value column, period column): reservations
and capacity expansions always; purchases, production, element and magnet use, stock, floor
shortfall, recycling feed, shortage, finished-magnet stock and what leaves on lanes between plants in the
first W periods (``risk.non_anticipative_periods``); stock is keyed by plant as well.
Per key, the spread max - min of the value over the scenarios must be <= 1e-6 t + 1e-7 x the
largest magnitude; a key missing in some scenario counts as 0 there. Only a stochastic run with two
or more scenarios is checked.
"""

from __future__ import annotations

import pandas as pd

from .checks import MASS_ABS_T, MASS_REL, Acc, fmt

# decisions tied across scenarios: table -> (key columns, value column, period column or None = always)
NONANT = {
    "reservations": (("offer", "period"), "reserved_t", None),
    "expansions": (("route",), "added_t_feed_per_period", None),
    "purchases": (("offer", "order_period"), "purchased_t", "order_period"),
    "production": (("stream", "recipe", "period"), "made_t", "period"),
    "eligibility_use": (("stream", "element", "origin_group", "period"), "used_t", "period"),
    "magnet_purchases": (("stream", "material", "origin_group", "period"), "used_t", "period"),
    "stock": (("plant", "element", "origin_group", "period"), "stock_t", "period"),
    "stock_by_element": (("plant", "element", "period"), "floor_shortfall_t", "period"),
    "recycling": (("route", "source", "period"), "feed_t", "period"),
    "shortages": (("stream", "period"), "shortage_t", "period"),
    "magnet_stock": (("plant", "material", "origin_group", "period"), "stock_t", "period"),
    "transfers": (("lane", "kind", "item", "origin_group", "sent_period"), "moved_t", "sent_period"),
}


def audit_nonanticipativity(full: dict, cases: list, nacc: Acc, stochastic: bool) -> None:
    if not stochastic or len(cases) < 2:
        return
    n = len(cases)
    W = cases[0].case.risk.non_anticipative_periods
    window = set(cases[0].periods[:W])
    for tname, (keys, col, pcol) in NONANT.items():
        df = full[tname]
        if not len(df):
            continue
        if pcol is not None:
            df = df[df[pcol].isin(window)]
            if not len(df):
                continue
        g = df.groupby(list(keys), sort=False)[col]
        lo, hi, cnt = g.min(), g.max(), g.count()
        lo = lo.where(cnt >= n, lo.clip(upper=0.0))
        hi = hi.where(cnt >= n, hi.clip(lower=0.0))
        spread = hi - lo
        tol = MASS_ABS_T + MASS_REL * pd.concat([lo.abs(), hi.abs()], axis=1).max(axis=1)
        ratio = spread / tol
        bad = int((spread > tol).sum())
        k = ratio.idxmax()
        v, tl = float(spread[k]), float(tol[k])
        key = k if isinstance(k, tuple) else (k,)
        mask = pd.Series(True, index=df.index)
        for c, x in zip(keys, key):
            mask &= df[c] == x
        sub = df[mask]

        def where(sub=sub, key=key, tname=tname, v=v):
            i_lo, i_hi = sub[col].idxmin(), sub[col].idxmax()
            missing = n - len(sub)
            extra = f", missing in {missing} scenario(s)" if missing else ""
            return (f"{tname} {dict(zip(keys, key))}: {col} {fmt(sub.loc[i_lo, col])} in scenario "
                    f"{sub.loc[i_lo, 'scenario']} vs {fmt(sub.loc[i_hi, col])} in scenario {sub.loc[i_hi, 'scenario']}"
                    f"{extra} (spread {fmt(v)} t)")

        nacc.add(v, tl, where)
        if bad > 1:
            nacc.n_bad += bad - 1
