r"""The cost terms per period, recomputed from one scenario's plan quantities and inputs: the one place
that says, in arithmetic, what each cost term is (USD).

Two readers use it: the audit (:class:`~.scenario.ScenarioAudit` sums each term over the periods and
compares it with the ``costs`` table, and checks the tables' cost columns with the row functions below)
and :mod:`model.results.costs` (cost by period and year, present value, the budget view). Neither
writes the arithmetic again.

Per term and period t = 1..T, in USD (K = 1,000 USD per t per USD/kg; prices, fees and penalties are
the scenario's, in USD/kg):

=====================  =========================================================================
purchases[t]           sum_o price[o, t] x q[o, t] x K: orders placed in t (the order period),
                       at the order period's price
reservation_fees[t]    sum_o fee_o x r[o, t] x K: the reservation of period t, bought or not
take_or_pay[t]         sum_o price[o, t] x max(0, share_o x av[o, t] x r[o, t] - q[o, t]) x K, contracts
                       with ``terms.take_or_pay_frac`` > 0, order periods whose orders arrive in the horizon
conversion[t]          sum_{s, rc} conversion cost_{p(s)} x made[s, rc, t] x K (the cost of the stream's
                       plant p(s))
shortage_penalty[t]    sum_s shortage cost_s x shortage[s, t] x K
holding[t]             sum_{p, e} holding cost_{p,e} x stock[p, e, t] x K (end-of-period stock at plant p,
                       all origin groups; the holding cost of p's stockpile entry for e)
magnet_holding[t]      sum_{p, gr} holding cost_{p,gr} x magnet stock[p, gr, t] x K (end-of-period finished-
                       magnet stock of grade gr at plant p, all materials and origin groups; ``magnet_stock``)
floor_penalty[t]       sum_{p, e} floor penalty_{p,e} x shortfall[p, e, t] x K
terminal_penalty[T]    sum_{p, e} terminal penalty_{p,e} x max(0, requirement_{p,e} - stock[p, e, T]) x K,
                       (plant, element) pairs with stock rows; 0 in every other period (the penalty due at
                       the horizon's end)
recycling[t]           sum_{k, src} cost_k x feed[k, src, t] x K
swarf_credit[t]        - sum_p swarf credit_p x (sum_rc (1/y_p - 1) x made at p[rc, t] - sum_rc swarf fed by
                       p's routes[rc, t]) x K
capacity_expansion[1]  sum_k cost_k x added_k (USD per t/period x t/period): a one-off cost decided
                       at the start, booked in period 1; 0 in every other period
transfer[t]            sum_lane cost_lane x moved[lane, t] x K: element content and finished magnets
                       leaving on the lane in t (the sent period), whatever they are
=====================  =========================================================================

Glossary: o offer, q purchased t (order period t), r reserved t/period, av availability (fraction),
share the take-or-pay share, s stream, p plant (p(s) a stream's, a route's its own), rc recipe, e
element, k recycling route, src its feed source (a recipe for a swarf route, a scrap material
otherwise), y_p plant p's yield, lane a transfer lane; :class:`Plan` holds these quantities for one
scenario (masses in t), :func:`term_period_costs` returns term -> [USD of period 1, ..., USD of period T].
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from model.input.schema import SWARF_FEED

from .checks import COST_TERMS, K


@dataclass
class Plan:
    """One scenario's decisions as the cost terms need them (t, or t/period for r and added)."""

    purchased: dict = field(default_factory=dict)  # (o, t) -> q
    reserved: dict = field(default_factory=dict)  # (o, t) -> r
    made: dict = field(default_factory=dict)  # (s, rc, t) -> t of magnet
    shortage: dict = field(default_factory=dict)  # (s, t) -> t
    stock: dict = field(default_factory=dict)  # (p, e, t) -> t, summed over origin groups, t >= 1
    stocked: set = field(default_factory=set)  # (p, e) with stock rows
    floor_shortfall: dict = field(default_factory=dict)  # (p, e, t) -> t
    feed: dict = field(default_factory=dict)  # (k, src, t) -> t of feed
    expansion: dict = field(default_factory=dict)  # k -> t feed/period added
    magnet_stock: dict = field(default_factory=dict)  # (p, grade, t) -> t of finished magnet, t >= 1
    moved: dict = field(default_factory=dict)  # (lane, t) -> t leaving on the lane in t (elements and magnets)


# ---- row costs (the tables' cost columns are checked against these)


def purchase_usd(price_usd_per_kg: float, q_t: float) -> float:
    """USD of an order of q t at price USD/kg."""
    return price_usd_per_kg * q_t * K


def fee_usd(offer, r_t: float) -> float:
    """USD of a reservation of r t/period for one period."""
    return offer.reservation_fee_usd_per_kg * r_t * K


def expansion_usd(expansion, added_t: float) -> float:
    """USD of a capacity expansion of ``added_t`` t feed/period."""
    return expansion.cost_usd_per_t_per_period * added_t


def transfer_usd(lane, moved_t: float) -> float:
    """USD of ``moved_t`` t moved on ``lane`` (element content or finished magnet)."""
    return lane.cost_usd_per_kg * moved_t * K


def take_or_pay_short_t(inp, o: str, t: int, reserved: dict, purchased: dict) -> float:
    """t paid for and not taken under take-or-pay: max(0, share x av x r - q); 0 without take-or-pay."""
    off = inp.offers[o]
    c = off.terms
    if off.kind != "contract" or c is None or c.take_or_pay_frac <= 0 or inp.arrival(o, t) > inp.T:
        return 0.0
    av = inp.data.availability_frac.get(o, (1.0,) * inp.T)[t - 1]
    return max(0.0, c.take_or_pay_frac * av * reserved.get((o, t), 0.0) - purchased.get((o, t), 0.0))


def terminal_gaps(inp, plan: Plan) -> dict:
    """(plant, element) -> t below its terminal requirement at the end of period T (pairs with stock rows)."""
    out = {}
    for pe in sorted(plan.stocked):
        req = inp.terminal.get(pe, 0.0)
        if req > 0:
            out[pe] = max(0.0, req - plan.stock.get((*pe, inp.T), 0.0))
    return out


# ---- every term, per period


def term_period_costs(inp, plan: Plan) -> dict[str, list[float]]:
    """term -> [USD in period 1, ..., USD in period T] for every term of ``COST_TERMS`` (module docstring)."""
    T, data, case = inp.T, inp.data, inp.case
    price = data.price_usd_per_kg
    out = {term: [0.0] * T for term in COST_TERMS}

    def add(term: str, t: int, usd: float) -> None:
        out[term][t - 1] += usd

    for (o, t), q in plan.purchased.items():
        add("purchases", t, purchase_usd(price[o][t - 1], q))
    for (o, t), r in plan.reserved.items():
        add("reservation_fees", t, fee_usd(inp.offers[o], r))
    for o, off in inp.offers.items():
        if off.kind == "contract" and off.terms is not None and off.terms.take_or_pay_frac > 0:
            for t in range(1, T + 1):
                short = take_or_pay_short_t(inp, o, t, plan.reserved, plan.purchased)
                if short > 0:
                    add("take_or_pay", t, purchase_usd(price[o][t - 1], short))
    swarf_gen = defaultdict(float)  # (p, t)
    for (s, rc, t), x in plan.made.items():
        p = inp.plant_of_stream[s]
        add("conversion", t, inp.plants[p].conversion_cost_usd_per_kg * x * K)
        swarf_gen[p, t] += (1 / inp.y[p] - 1) * x
    for (s, t), x in plan.shortage.items():
        add("shortage_penalty", t, inp.streams[s].shortage_cost_usd_per_kg * x * K)
    for p in inp.plants:  # input order: the same sums whatever the hash seed
        for e in case.elements:
            s = inp.sp.get((p, e))
            if s is None:
                continue
            for t in range(1, T + 1):
                add("holding", t, s.holding_cost_usd_per_kg_per_period * plan.stock.get((p, e, t), 0.0) * K)
                add("floor_penalty", t, s.floor_penalty_usd_per_kg * plan.floor_shortfall.get((p, e, t), 0.0) * K)
    for x in case.magnet_stock:
        p = case.plant_of(x)
        for t in range(1, T + 1):
            add("magnet_holding", t,
                x.holding_cost_usd_per_kg_per_period * plan.magnet_stock.get((p, x.grade, t), 0.0) * K)
    for pe, gap in terminal_gaps(inp, plan).items():
        add("terminal_penalty", T, inp.terminal_pen[pe] * gap * K)
    swarf_fed = defaultdict(float)  # (p, t)
    for (k, src, t), x in plan.feed.items():
        rt = inp.routes[k]
        add("recycling", t, rt.cost_usd_per_kg_feed * x * K)
        if rt.feed == SWARF_FEED:
            swarf_fed[inp.plant_of_route[k], t] += x
    for (p, t) in sorted(set(swarf_gen) | set(swarf_fed)):
        credit = inp.plants[p].swarf_credit_usd_per_kg
        add("swarf_credit", t, -credit * (swarf_gen.get((p, t), 0.0) - swarf_fed.get((p, t), 0.0)) * K)
    for k, x in plan.expansion.items():
        add("capacity_expansion", 1, expansion_usd(inp.routes[k].expansion, x))
    for (lane, t), x in sorted(plan.moved.items()):
        add("transfer", t, transfer_usd(inp.lanes[lane], x))
    return out


# ---- the plan of one scenario, read from its tables (no checks: the audit's reader checks)


def _rows(df, cols):
    return zip(*(df[c].tolist() for c in cols)) if len(df) else iter(())


def plan_from_tables(inp, tables: dict) -> Plan:
    """The :class:`Plan` of one scenario from its plan tables (``tables``: name -> DataFrame of that
    scenario only). Rows with an id or period the inputs do not know are skipped."""
    t_of, offers, streams, routes = inp.t_of, inp.offers, inp.streams, inp.routes
    p = Plan()
    for o, pl, q in _rows(tables["purchases"], ("offer", "order_period", "purchased_t")):
        t = t_of.get(pl)
        if t is not None and o in offers:
            p.purchased[o, t] = p.purchased.get((o, t), 0.0) + q
    for o, pl, r in _rows(tables["reservations"], ("offer", "period", "reserved_t")):
        t = t_of.get(pl)
        if t is not None and o in offers:
            p.reserved[o, t] = p.reserved.get((o, t), 0.0) + r
    for s, rc, pl, x in _rows(tables["production"], ("stream", "recipe", "period", "made_t")):
        t = t_of.get(pl)
        if t is not None and s in streams and rc in inp.recipe_grade:
            p.made[s, rc, t] = p.made.get((s, rc, t), 0.0) + x
    for s, pl, x in _rows(tables["shortages"], ("stream", "period", "shortage_t")):
        t = t_of.get(pl)
        if t is not None and s in streams:
            p.shortage[s, t] = p.shortage.get((s, t), 0.0) + x
    for q, e, pl, x in _rows(tables["stock"], ("plant", "element", "period", "stock_t")):
        t = t_of.get(pl)
        if t is not None and e in inp.elements and q in inp.plants:
            p.stock[q, e, t] = p.stock.get((q, e, t), 0.0) + x
            p.stocked.add((q, e))
    for q, e, pl, x in _rows(tables["stock_by_element"], ("plant", "element", "period", "floor_shortfall_t")):
        t = t_of.get(pl)
        if t is not None and q in inp.plants:
            p.floor_shortfall[q, e, t] = p.floor_shortfall.get((q, e, t), 0.0) + x
    for k, src, pl, x in _rows(tables["recycling"], ("route", "source", "period", "feed_t")):
        t = t_of.get(pl)
        if t is not None and k in routes:
            p.feed[k, src, t] = p.feed.get((k, src, t), 0.0) + x
    for k, x in _rows(tables["expansions"], ("route", "added_t_feed_per_period")):
        if k in inp.expandable:
            p.expansion[k] = p.expansion.get(k, 0.0) + x
    if "magnet_stock" in tables:
        for q, gr, pl, x in _rows(tables["magnet_stock"], ("plant", "grade", "period", "stock_t")):
            t = t_of.get(pl)
            if t is not None and q in inp.plants:
                p.magnet_stock[q, gr, t] = p.magnet_stock.get((q, gr, t), 0.0) + x
    if "transfers" in tables:
        for lane, pl, x in _rows(tables["transfers"], ("lane", "sent_period", "moved_t")):
            t = t_of.get(pl)
            if t is not None and lane in inp.lanes:
                p.moved[lane, t] = p.moved.get((lane, t), 0.0) + x
    return p
