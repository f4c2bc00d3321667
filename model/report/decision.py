"""What to sign and order now, and the plan by supplier and month, as tables. Writes nothing.

The first thing report.html and summary.md show (:mod:`model.report.html`, :mod:`model.report.markdown`),
in terms a supplier would sign:

``contract_lines(run)``   one row per contract line: supplier, offer, material, country, volume
                          (t per month), from and to month, months, reservation fee (USD) and, with
                          take-or-pay, the exposure (USD at stake if nothing is taken). From the
                          ``contracts`` table when the case gives contract terms; otherwise the
                          month-by-month reservations are cut into runs of equal volume, so a
                          reservation that changes every month shows as many lines (what a supplier
                          would have to be asked for), never as one total.
``orders_now(run)``       the orders of the first stage (placed in the non-anticipative window):
                          supplier, offer, material, country, order month, arrival month, t, price
                          (USD/kg) and cost (USD).
``expansions_now(run)``   recycling capacity built: route, t feed per period, usable from, cost (USD).
``plan_by_supplier_month(run)``  t ordered per (supplier, offer, material) and order month, expected
                          over scenarios (probability-weighted) for a stochastic run; rows sorted by
                          total, columns the horizon's months in order.
``decision_scope(run)``   the sentence that says for whom the decision holds (every scenario, one
                          scenario with perfect foresight, the mean scenario, the case as read).

For a stochastic run the first-stage decisions are the same in every scenario, so they are read
from the first scenario's rows. ``VOLUME_EPS_T`` (1e-6 t) is the tolerance under which two monthly
volumes are the same contract line and under which a quantity is nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from model.app.run import Run

VOLUME_EPS_T = 1e-6

CONTRACT_LINE_COLUMNS = ["supplier", "offer", "material", "country", "volume_t_per_month", "from_month", "to_month",
                         "months", "fee_usd", "take_or_pay_exposure_usd"]
ORDER_COLUMNS = ["supplier", "offer", "material", "country", "order_month", "arrival_month", "ordered_t",
                 "price_usd_per_kg", "cost_usd"]


def _first_scenario(run: "Run", name: str) -> pd.DataFrame:
    df = run.solution.tables.get(name, pd.DataFrame())
    if run.mode == "stochastic" and "scenario" in df.columns and len(df):
        return df[df.scenario == df.scenario.iloc[0]]
    return df


def _per_month(run: "Run") -> float:
    """Periods are ``months_per_period`` months: volumes per period over this are per month."""
    return float(run.data.case.horizon.months_per_period)


def contract_lines(run: "Run") -> pd.DataFrame:
    offers = {o.id: o for o in run.data.case.offers}
    mpp = _per_month(run)
    periods = list(run.data.periods)
    con = _first_scenario(run, "contracts")
    rows = []
    if len(con):
        for r in con.itertuples(index=False):
            o = offers[r.offer]
            top = float(getattr(r, "take_or_pay_max_usd", 0.0) or 0.0)
            rows.append((o.supplier, r.offer, o.material, o.country, r.volume_t_per_period / mpp, r.from_period,
                         r.to_period, int(r.term_periods * mpp), float(r.fee_usd), top))
    else:
        res = _first_scenario(run, "reservations")
        for offer, g in res.groupby("offer", sort=True):
            o = offers[offer]
            vol = g.set_index("period").reserved_t.reindex(periods).fillna(0.0)
            fee = g.set_index("period").fee_usd.reindex(periods).fillna(0.0)
            start = None
            for i, p in enumerate(periods + [None]):
                v = float(vol.iloc[i]) if p is not None else None
                same = start is not None and v is not None and abs(v - float(vol.iloc[start])) <= VOLUME_EPS_T
                if start is not None and not same:
                    v0 = float(vol.iloc[start])
                    if v0 > VOLUME_EPS_T:
                        n = i - start
                        rows.append((o.supplier, offer, o.material, o.country, v0 / mpp, periods[start], periods[i - 1],
                                     int(n * mpp), float(fee.iloc[start:i].sum()), 0.0))
                    start = None
                if start is None and v is not None:
                    start = i
    df = _with_destination(run, pd.DataFrame(rows, columns=CONTRACT_LINE_COLUMNS))
    return df.sort_values(["supplier", "offer", "from_month"], kind="stable").reset_index(drop=True)


def _with_destination(run: "Run", df: pd.DataFrame) -> pd.DataFrame:
    """With several plants, a ``deliver_to`` column after ``country``: the plant the offer delivers to (a
    supplier signs for a delivery site)."""
    case = run.data.case
    if len(case.site_plants) < 2:
        return df
    plant = {o.id: case.plant_of(o) for o in case.offers}
    df.insert(list(df.columns).index("country") + 1, "deliver_to", [plant[o] for o in df.offer])
    return df


def orders_now(run: "Run") -> pd.DataFrame:
    W = run.data.case.risk.non_anticipative_periods
    first = set(run.data.periods[:W])
    pur = _first_scenario(run, "purchases")
    if not len(pur):
        return _with_destination(run, pd.DataFrame(columns=ORDER_COLUMNS))
    now = pur[pur.order_period.isin(first) & (pur.purchased_t > VOLUME_EPS_T)]
    df = pd.DataFrame({"supplier": now.supplier, "offer": now.offer, "material": now.material, "country": now.country,
                       "order_month": now.order_period, "arrival_month": now.arrival_period,
                       "ordered_t": now.purchased_t, "price_usd_per_kg": now.price_usd_per_kg, "cost_usd": now.cost_usd})
    df = _with_destination(run, df)
    return df.sort_values(["order_month", "supplier", "offer"], kind="stable").reset_index(drop=True)


def transfers_now(run: "Run") -> pd.DataFrame:
    """What leaves on a lane between plants in the first-stage periods (the same in every scenario)."""
    W = run.data.case.risk.non_anticipative_periods
    tr = _first_scenario(run, "transfers")
    cols = ["lane", "from_plant", "to_plant", "kind", "item", "origin_group", "sent_period", "arrival_period", "moved_t", "cost_usd"]
    if not len(tr):
        return pd.DataFrame(columns=cols)
    now = tr[tr.sent_period.isin(set(run.data.periods[:W])) & (tr.moved_t > VOLUME_EPS_T)]
    return now[cols].sort_values(["sent_period", "lane", "kind", "item", "origin_group"], kind="stable").reset_index(drop=True)


def expansions_now(run: "Run") -> pd.DataFrame:
    ex = _first_scenario(run, "expansions")
    if not len(ex):
        return pd.DataFrame(columns=["route", "added_t_feed_per_period", "usable_from", "cost_usd"])
    built = ex[ex.added_t_feed_per_period > VOLUME_EPS_T]
    return built[["route", "added_t_feed_per_period", "usable_from", "cost_usd"]].reset_index(drop=True)


def plan_by_supplier_month(run: "Run") -> pd.DataFrame:
    """Rows (supplier, offer, material), one column per order month (t ordered), plus ``total_t``."""
    pur = run.solution.tables.get("purchases", pd.DataFrame())
    periods = list(run.data.periods)
    if not len(pur):
        return pd.DataFrame(columns=["supplier", "offer", "material", *periods, "total_t"])
    w = pur.purchased_t * pur.probability if "probability" in pur.columns else pur.purchased_t
    pv = (pur.assign(_t=w).pivot_table(index=["supplier", "offer", "material"], columns="order_period", values="_t",
                                       aggfunc="sum", fill_value=0.0)
          .reindex(columns=periods, fill_value=0.0))
    pv["total_t"] = pv.sum(axis=1)
    pv = pv[pv.total_t > VOLUME_EPS_T].sort_values("total_t", ascending=False, kind="stable")
    return pv.reset_index()


def decision_scope(run: "Run") -> str:
    W = run.data.case.risk.non_anticipative_periods
    first = ", ".join(run.data.periods[:W])
    if run.mode == "stochastic":
        return (f"Taken now, before the scenario is known, and the same in every scenario: the contracts below, the "
                f"recycling capacity built and every order placed in {first}.")
    if run.mode == "perfect_foresight":
        return (f"The plan with perfect foresight of scenario {run.data.scenario}: what would be signed and ordered if "
                f"that future were certain. A benchmark, not a plan to sign (run the case's scenarios together for that).")
    if run.mode == "expected_value":
        return ("The plan for the mean scenario (every series averaged by probability): what would be signed if the "
                "future were its average. A benchmark; the stochastic plan is the one to sign.")
    return f"The plan for the case as read (no scenario): contracts, recycling capacity and the orders placed in {first}."
