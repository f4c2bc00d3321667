r"""The audit of one scenario's plan against that scenario's inputs: one method per constraint family.

:class:`ScenarioAudit` reads each table once (through :class:`~.rows.RowReader`), keeps what later
families need (the sums below), and records every row of every check in its accumulator. The methods
run in a fixed order (:meth:`ScenarioAudit.run`): each check's rows are recorded in the same order on
every run, so the worst row and its text do not depend on anything else.

Families and what they check (masses in t; t = 1..T; ``x`` the reported value). Every flow is kept at a
plant (model.md §7.1; a one-plant case has the one plant, id ``plant`` unless named): an offer's orders
arrive at its plant, a stream is made at its plant from that plant's stock, a route recycles at its
plant; a lane moves stock and finished magnets between plants. A table's ``plant`` column that is not a
key (``production``, ``shortages``, ``recycling``) must be the input's plant of its stream or route
(``table_integrity``); the audit sums by the input's plant.

- arrivals (``purchases``): reported arrival = order + lead + review lead; an order arriving after T
  must be 0; descriptive columns and price as in the inputs; cost_usd = purchased x price x K.
  Arrivals by kind, at the offer's plant p: element content f_e x q of oxide/metal/alloy at
  (p, e, g, arrival); scrap at (p, m, arrival); finished magnets at (p, m, g, arrival). ``arrivals``
  table = the element arrivals;
- transfers (``transfers``, one row per lane, kind, item, origin and sent period): a known lane, its
  from_plant / to_plant the lane's, kind ``element`` with an element or ``magnet`` with a magnet
  material, a known origin; arrival_period = sent + the lane's lead, inside the horizon; moved_t >= 0;
  per lane and sent period, sum of moved (elements and magnets) <= the lane's capacity; cost_usd =
  moved x cost per kg x K (``cost_columns``). What a row moves leaves its lane's from-plant in the sent
  period and reaches the to-plant in sent + lead (the balances below);
- supplier capacity (``reservations``): only contracts reserve; nominal cap >= reservation >=
  committed; the table's purchased_t = the purchases; fee = reserved x fee x K; spot q <= cap x
  availability; contract q <= availability x reservation and >= min take x availability x reservation;
- contract terms (:mod:`.contracts`): reservation = committed + the tranches of the ``contracts`` table
  covering the period; within the band; at most the committed volume within the notice; the
  take-or-pay cost = sum of price x max(0, share x availability x reservation - purchased) x K;
- licence quota: sum of the orders the rule governs (:mod:`.grants`: named exporters' rules replace the
  blanket ones for their offers) <= quota x approval (case-by-case; 1 otherwise) x the scenario's quota
  factor x held (0 once a licence with ``renewed: false`` lapsed), per rule and period in force; no t
  ordered where a governing rule does not admit the company (``eligibility``);
- production: recipes of the stream's grade; per plant p and period, sum of made by p's streams <=
  p's capacity (``capacity_t_per_period[p]``);
- the ``plants`` table (``plant_results``), per plant and period: made_t = sum of made by its streams,
  capacity_t = its capacity, demand_t = sum of its streams' demand, shortage_t = sum of its streams'
  shortage (the ``shortages`` table), country as input; a row for every plant and period;
- eligibility and bill of materials (``eligibility_use``): no use a prohibited rule in force bars at the
  stream's plant (:mod:`.grants`); per (s, e, t): sum_g use = sum_rc need[rc, e] / y[p(s)] x made[s, rc, t];
- finished magnets (``magnet_purchases``, ``magnet_stock``): grade-matching magnets not barred at the
  stream's plant; per (p, m, g, t): used by p's streams + stock[t] - stock[t-1] + sent <= arrived
  (orders and orders in transit) + received; magnet stock within its plant and grade's capacity
  (:mod:`.magnet_stock`);
- demand (``shortages``): made + bought + shortage = demand; shortage <= (1 - service level) x
  demand; the table's demand_t, made_t, bought_t recomputed;
- recycling: feed <= availability x (capacity + expansion once built, i.e. from period build lead
  + 1); expansion <= max, cost = added x cost per t; per plant p, swarf fed by p's routes <= (1/y[p] - 1)
  x made at p per recipe, only grades a grade-locked route takes; scrap fed by p's routes <= scrap
  arrived at p; recovered[p, e, output origin, t] = sum over p's routes of feed x content x recovery;
- element balance: stock[p, e, g, t] = stock[p, e, g, t-1] + arrived + recovered + received - used -
  sent (stock[p, e, g, 0] = initial stock of p's stockpile entry);
- stock capacity: sum_g stock <= capacity, per (p, e); ``stock_by_element`` stock_t and capacity_t agree;
- strategic floor: floor_t as derived per (p, e); a hard floor: stock >= floor and no shortfall; a
  penalised floor: shortfall >= floor - stock (and <= max(0, floor - stock) when the penalty is
  positive); no floor: no shortfall;
- terminal requirement: the terminal penalty paid >= sum_{p, e} penalty x max(0, requirement - stock[p, e, T]) x K;
- diversification: per limit and calendar year, selected <= max share x basis, the basis being
  the element content of purchases at arrival (plus recovered element, origin group and route
  country, for ``basis: supply``); a limit naming a ``plant`` counts only arrivals at that plant and
  its routes' recovery;
- cost terms: every row of ``costs`` = the term recomputed from the tables and inputs (``stage``
  first for ``FIRST_STAGE_TERMS``, second otherwise): the sum over the periods of
  :func:`.costing.term_period_costs` on the plan read here (:meth:`ScenarioAudit.plan`), the one
  statement of each term's arithmetic, which :mod:`model.results.costs` reports by period.

Glossary of the short names: o offer, op / pl a period label as reported, t period number, a arrival
period, q purchased t, r reserved t, e element, g origin group, m material, s stream, rc recipe, k
route (or a key), src recycling source, p plant (p(s) a stream's), lane a transfer lane, x the row's
value, lim / lo a limit, K USD per t per USD/kg,
``scen`` the location prefix ``scenario=<name>, `` of a stochastic run ("" otherwise).
"""

from __future__ import annotations

from collections import defaultdict

from model.input.schema import SWARF_FEED

from .checks import COST_TERMS, FIRST_STAGE_TERMS, MASS_ABS_T, fmt as _f, mass_tol, money_tol
from .contracts import check_reservations
from .costing import Plan, expansion_usd, fee_usd, purchase_usd, term_period_costs, terminal_gaps, transfer_usd
from .grants import check_admitted_orders
from .inputs import ELEMENT_KINDS, ScenarioInputs
from .magnet_stock import add_in_transit, read_magnet_stock, stock_change
from .rows import RowReader, View


def _compare(acc, a: dict, b: dict, where, signed: bool = False, scale: float = 1.0) -> None:
    """One row per key of ``a`` or ``b``: x = a[k] against y = scale x b[k] (missing: 0); the violation is
    x - y when ``signed`` (x <= y), |x - y| otherwise; ``where(k, x, y)`` the row's text."""
    for k in set(a) | set(b):
        x, y = a.get(k, 0.0), scale * b.get(k, 0.0)
        acc.add(x - y if signed else abs(x - y), mass_tol(x, y), lambda k=k, x=x, y=y: where(k, x, y))


class ScenarioAudit:
    """The checks of one scenario; :meth:`run` returns its recomputed total cost and cost terms."""

    def __init__(self, inp: ScenarioInputs, views: dict[str, View], acc: dict, scen: str,
                 tranches: dict | None = None):
        self.inp, self.acc, self.scen = inp, acc, scen
        self.tranches = tranches or {}  # offer -> [(start, term, volume)], from the contracts table
        self.data, self.case, self.T, self.lab = inp.data, inp.case, inp.T, inp.lab
        self.rows = RowReader(views, inp.t_of, acc["table_integrity"], scen)
        self.cost: dict[str, float] = {}  # recomputed cost terms

    def run(self) -> tuple[float, dict]:
        self.purchases()
        add_in_transit(self.inp, self.elem_arr, self.scrap_arr, self.mag_arr)  # :mod:`.magnet_stock`
        check_admitted_orders(self.inp, self.purchased, self.acc["eligibility"], self.scen)  # :mod:`.grants`
        self.reported_arrivals()
        self.reservations()
        self.supplier_capacity()
        self.contract_terms()
        self.licence_quota()
        self.transfers()
        self.production()
        self.element_use()
        self.bill_of_materials()
        self.finished_magnets()
        self.demand()
        self.plant_results()
        self.recycling_feed()
        self.expansions()
        self.recycling_flows()
        self.recycling_capacity()
        self.swarf_and_scrap()
        self.recovery()
        self.element_balance()
        self.stock_capacity()
        self.strategic_floor()
        self.terminal()
        self.diversification()
        self.cost_by_period = term_period_costs(self.inp, self.plan())  # term -> USD per period
        self.cost = recomputed = {term: sum(self.cost_by_period[term]) for term in COST_TERMS}
        self.cost_terms(recomputed)
        self.terminal_requirement()
        return sum(recomputed.values()), recomputed

    # ---- arrivals and lead times

    def purchases(self) -> None:
        """Arrival timing, descriptive columns and cost of each purchase; what arrives, by material kind."""
        inp, T, lab, scen, rows = self.inp, self.T, self.lab, self.scen, self.rows
        t_of, price = inp.t_of, self.data.price_usd_per_kg
        self.purchased = purchased = {}  # (o, t) -> t
        self.elem_arr = elem_arr = defaultdict(float)  # (p, e, g, a), p the offer's plant
        self.scrap_arr = scrap_arr = defaultdict(float)  # (p, m, a)
        self.mag_arr = mag_arr = defaultdict(float)  # (p, m, g, a)
        at = self.acc["arrival_timing"]
        costcol = self.acc["cost_columns"]
        for t, (o, op, q, p, c, sup, ctry, g, mat, kind, ap) in rows.read("purchases", (
                "offer", "order_period", "purchased_t", "price_usd_per_kg", "cost_usd", "supplier", "country",
                "origin_group", "material", "kind", "arrival_period"), (("offer", "offer", inp.offers),),
                "order_period"):
            off = inp.offers[o]
            if (sup, ctry, g, mat, kind) != (off.supplier, off.country, off.origin_group, off.material, off.kind):
                rows.problem(lambda: f"purchases: offer {o} order {op}: descriptive columns "
                                     f"{(sup, ctry, g, mat, kind)} differ from the input")
            p_in = price[o][t - 1]
            if abs(p - p_in) > 1e-9 * max(1.0, abs(p_in)):
                rows.problem(lambda: f"purchases: offer {o} order {op}: price {_f(p)} USD/kg, input {_f(p_in)}")
            a = inp.arrival(o, t)
            a_rep = t_of.get(ap)
            if a_rep is None:
                at.add(float(T), 0.0, lambda: f"{scen}offer {o}, order {op}: reported arrival {ap!r} outside the horizon "
                                              f"(expected {lab(a)})")
            else:
                at.add(float(abs(a_rep - a)), 0.0,
                       lambda: f"{scen}offer {o}, order {op}: reported arrival {ap}, expected {lab(a)} "
                               f"(lead {off.lead_time_periods} + review {inp.review[o, t]})")
            if a > T:
                if abs(q) > MASS_ABS_T:
                    at.add(float(a - T), 0.0, lambda: f"{scen}offer {o}, order {op}: {_f(q)} t ordered but it arrives "
                                                      f"{a - T} period(s) after the horizon")
                continue
            purchased[o, t] = purchased.get((o, t), 0.0) + q
            cost = purchase_usd(p_in, q)
            costcol.add(abs(c - cost), money_tol(c, cost),
                        lambda: f"{scen}purchases: offer {o}, order {op}: cost_usd {_f(c)}, recomputed {_f(cost)}")
            m = inp.mats[off.material]
            dest = inp.plant_of_offer[o]
            if m.kind in ELEMENT_KINDS:
                for e, f in m.element_content_frac.items():
                    if f > 0:
                        elem_arr[dest, e, off.origin_group, a] += f * q
            elif m.kind == "scrap":
                scrap_arr[dest, m.id, a] += q
            elif m.kind == "magnet":
                mag_arr[dest, m.id, off.origin_group, a] += q

    def reported_arrivals(self) -> None:
        """The ``arrivals`` table = the element content of the purchases, at their arrival and plant."""
        scen, lab = self.scen, self.lab
        self._by_element_origin("reported_arrivals", "arrivals", "arrived_t", self.elem_arr,
                                lambda k, x, y: f"{scen}plant {k[0]}, element {k[1]}, origin {k[2]}, period {lab(k[3])}: "
                                                f"arrivals table {_f(x)} t, content of purchases {_f(y)} t")

    def _by_element_origin(self, check: str, tname: str, col: str, expected: dict, where) -> None:
        """Table ``tname``'s ``col`` summed per (plant, element, origin group, period) = ``expected`` (``check``)."""
        reported = defaultdict(float)
        for t, (p, e, g, _, x) in self.rows.read(tname, ("plant", "element", "origin_group", "period", col),
                                                 (("plant", "plant", self.inp.plants),), period="period"):
            reported[p, e, g, t] += x
        _compare(self.acc[check], reported, expected, where)

    # ---- supplier capacity and reservations

    def reservations(self) -> None:
        """Each reservation row: a contract, arriving in the horizon, within nominal capacity and commitments."""
        inp, T, scen, rows, purchased = self.inp, self.T, self.scen, self.rows, self.purchased
        cap = self.data.capacity_t_per_period
        sc, at, costcol = self.acc["supplier_capacity"], self.acc["arrival_timing"], self.acc["cost_columns"]
        self.reserved = reserved = {}
        for t, (o, pl, r, q_rep, fee) in rows.read("reservations", ("offer", "period", "reserved_t", "purchased_t",
                                                                    "fee_usd"), (("offer", "offer", inp.offers),),
                                                   "period"):
            off = inp.offers[o]
            if off.kind != "contract":
                rows.problem(lambda: f"reservations: offer {o} is not a contract")
            if inp.arrival(o, t) > T and r > MASS_ABS_T:
                at.add(float(inp.arrival(o, t) - T), 0.0,
                       lambda: f"{scen}offer {o}: {_f(r)} t reserved for {pl}, whose orders arrive after the horizon")
            reserved[o, t] = reserved.get((o, t), 0.0) + r
            q = purchased.get((o, t), 0.0)
            sc.add(abs(q_rep - q), mass_tol(q_rep, q),
                   lambda: f"{scen}reservations: offer {o}, {pl}: purchased_t {_f(q_rep)} t, purchases table {_f(q)} t")
            f_usd = fee_usd(off, r)
            costcol.add(abs(fee - f_usd), money_tol(fee, f_usd),
                        lambda: f"{scen}reservations: offer {o}, {pl}: fee_usd {_f(fee)}, recomputed {_f(f_usd)}")
            nominal = cap[o][t - 1]
            sc.add(r - nominal, mass_tol(r, nominal),
                   lambda: f"{scen}offer {o}, {pl}: reservation {_f(r)} t > nominal capacity {_f(nominal)} t")
            committed = getattr(off, "committed_t_per_period", 0.0) or 0.0
            if committed > 0:
                sc.add(committed - r, mass_tol(r, committed),
                       lambda: f"{scen}offer {o}, {pl}: reservation {_f(r)} t < committed {_f(committed)} t")

    def supplier_capacity(self) -> None:
        """Per offer and order period arriving in the horizon: spot within capacity, contracts within reservation."""
        inp, T, lab, scen, purchased, reserved = self.inp, self.T, self.lab, self.scen, self.purchased, self.reserved
        cap, avail = self.data.capacity_t_per_period, self.data.availability_frac
        sc = self.acc["supplier_capacity"]
        for o, off in inp.offers.items():
            for t in range(1, T + 1):
                if inp.arrival(o, t) > T:
                    continue
                q = purchased.get((o, t), 0.0)
                av = avail.get(o, (1.0,) * T)[t - 1]
                if off.kind == "spot":
                    lim = cap[o][t - 1] * av
                    sc.add(q - lim, mass_tol(q, lim),
                           lambda: f"{scen}offer {o}, {lab(t)}: spot purchase {_f(q)} t > capacity {_f(cap[o][t - 1])} t "
                                   f"x availability {_f(av)}")
                else:
                    r = reserved.get((o, t), 0.0)
                    committed = getattr(off, "committed_t_per_period", 0.0) or 0.0
                    if committed > 0 and (o, t) not in reserved:
                        sc.add(committed, mass_tol(committed),
                               lambda: f"{scen}offer {o}, {lab(t)}: no reservation reported, committed {_f(committed)} t")
                    lim = av * r
                    sc.add(q - lim, mass_tol(q, lim),
                           lambda: f"{scen}offer {o}, {lab(t)}: contract purchase {_f(q)} t > availability {_f(av)} x "
                                   f"reservation {_f(r)} t")
                    if off.min_take_frac > 0:
                        lo = off.min_take_frac * av * r
                        sc.add(lo - q, mass_tol(q, lo),
                               lambda: f"{scen}offer {o}, {lab(t)}: contract purchase {_f(q)} t < minimum take "
                                       f"{_f(off.min_take_frac)} x availability {_f(av)} x reservation {_f(r)} t")

    def contract_terms(self) -> None:
        """Reservations made of tranches, within the band and the notice (:mod:`.contracts`)."""
        check_reservations(self.inp, self.reserved, self.tranches, self.acc["supplier_capacity"], self.scen)

    # ---- licence quotas

    def licence_quota(self) -> None:
        """Covered orders <= quota x approval x quota factor, per general / case-by-case rule and period in force."""
        inp, data, case, T, lab, scen = self.inp, self.data, self.case, self.T, self.lab, self.scen
        purchased = self.purchased
        lq = self.acc["licence_quota"]
        for r in case.licence_rules:
            if r.regime not in ("general", "case_by_case"):
                continue
            p0, p1 = inp.rule_window[r.id]
            qf = data.quota_factor.get(r.id, (1.0,) * T)
            ap = data.approval_frac.get(r.id, (r.approval_frac,) * T)
            for t in range(p0, p1 + 1):
                covered = inp.grants.governed_by(r.id, t)  # the orders the rule governs (:mod:`.grants`)
                lhs = sum(purchased.get((o, t), 0.0) for o in covered)
                appr = ap[t - 1] if r.regime == "case_by_case" else 1.0
                held = inp.grants.held(r.id, t)
                rhs = (r.quota_t_per_period or 0.0) * appr * qf[t - 1] * held
                lq.add(lhs - rhs, mass_tol(lhs, rhs),
                       lambda: f"{scen}rule {r.id}, {lab(t)}: orders {_f(lhs)} t > quota {_f(r.quota_t_per_period)} t x "
                               f"approval {_f(appr)} x factor {_f(qf[t - 1])}"
                               f"{' x held 0 (lapsed licence)' if held == 0 else ''} = {_f(rhs)} t")

    # ---- transfers between plants

    def transfers(self) -> None:
        """Each ``transfers`` row: a known lane and item, arriving sent + lead, within the lane's capacity; its cost.

        Sets what leaves and reaches each plant: ``sent_elem`` / ``recv_elem`` (p, e, g, t) and ``sent_mag`` /
        ``recv_mag`` (p, m, g, t), from the input's lane (its plants and lead), and ``moved`` (lane, t)."""
        inp, T, lab, scen, rows = self.inp, self.T, self.lab, self.scen, self.rows
        tr, costcol = self.acc["transfers"], self.acc["cost_columns"]
        self.sent_elem, self.recv_elem = sent_elem, recv_elem = defaultdict(float), defaultdict(float)
        self.sent_mag, self.recv_mag = sent_mag, recv_mag = defaultdict(float), defaultdict(float)
        self.moved = moved = defaultdict(float)  # (lane, sent period) -> t, elements and magnets
        magnets = {k for k, m in inp.mats.items() if m.kind == "magnet"}
        for t, (lane, fp, tp, kind, item, g, sp_, ap, x, c) in rows.read("transfers", (
                "lane", "from_plant", "to_plant", "kind", "item", "origin_group", "sent_period", "arrival_period",
                "moved_t", "cost_usd"), (("origin_group", "origin group", inp.groups),), "sent_period"):
            where = f"{scen}transfers: lane {lane}, {kind} {item} of origin {g}, sent {sp_}"
            if -x > 0:
                tr.add(-x, MASS_ABS_T, lambda where=where, x=x: f"{where}: moved_t {_f(x)} t < 0")
            ln = inp.lanes.get(lane)
            if ln is None:
                tr.add(abs(x), MASS_ABS_T, lambda where=where, x=x: f"{where}: {_f(x)} t moved on a lane the inputs do "
                                                                    f"not have (transfers[].id)")
                continue
            if (fp, tp) != (ln.from_plant, ln.to_plant):
                tr.add(abs(x), MASS_ABS_T, lambda where=where, x=x, fp=fp, tp=tp, ln=ln:
                       f"{where}: {_f(x)} t reported from {fp} to {tp}, but the lane runs from {ln.from_plant} to "
                       f"{ln.to_plant}")
            if not ((kind == "element" and item in inp.elements) or (kind == "magnet" and item in magnets)):
                tr.add(abs(x), MASS_ABS_T, lambda where=where, x=x: f"{where}: {_f(x)} t of an unknown item (kind "
                                                                    f"element: an element; magnet: a magnet material)")
                continue
            a = t + ln.lead_time_periods
            a_rep = inp.t_of.get(ap)
            if a > T:
                tr.add(abs(x), MASS_ABS_T, lambda where=where, x=x, a=a:
                       f"{where}: {_f(x)} t arrive in period {a}, after the horizon (lead {ln.lead_time_periods})")
                continue
            if a_rep != a:
                tr.add(abs(x), MASS_ABS_T, lambda where=where, x=x, a=a:
                       f"{where}: reported arrival {ap!r}, expected {lab(a)} (sent + lead {ln.lead_time_periods}) "
                       f"for {_f(x)} t")
            cu = transfer_usd(ln, x)
            costcol.add(abs(c - cu), money_tol(c, cu),
                        lambda where=where, c=c, cu=cu: f"{where}: cost_usd {_f(c)}, recomputed {_f(cu)}")
            moved[lane, t] += x
            if kind == "element":
                sent_elem[ln.from_plant, item, g, t] += x
                recv_elem[ln.to_plant, item, g, a] += x
            else:
                sent_mag[ln.from_plant, item, g, t] += x
                recv_mag[ln.to_plant, item, g, a] += x
        for lane, ln in inp.lanes.items():
            if ln.capacity_t_per_period is None:
                continue
            cap = float(ln.capacity_t_per_period)
            for t in range(1, T + 1):
                x = moved.get((lane, t), 0.0)
                tr.add(x - cap, mass_tol(x, cap),
                       lambda: f"{scen}lane {lane}, {lab(t)}: moved {_f(x)} t > capacity {_f(cap)} t/period")

    # ---- production, eligibility, bill of materials

    def production(self) -> None:
        """Recipes of the stream's grade; magnets made within the capacity of the stream's plant."""
        inp, T, lab, scen, rows = self.inp, self.T, self.lab, self.scen, self.rows
        el = self.acc["eligibility"]
        self.made = made = defaultdict(float)  # (s, r, t)
        for t, (p, s, gr, rc, pl, x) in rows.read("production", ("plant", "stream", "grade", "recipe", "period", "made_t"),
                                                  (("stream", "stream", inp.streams),
                                                   ("recipe", "recipe", inp.recipe_grade)), "period"):
            sg = inp.streams[s].grade
            if gr != sg:
                rows.problem(lambda: f"production: stream {s} grade column {gr!r}, input {sg!r}")
            if p != inp.plant_of_stream[s]:
                rows.problem(lambda: f"production: stream {s} plant column {p!r}, input {inp.plant_of_stream[s]!r}")
            if inp.recipe_grade[rc] != sg:
                el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s}, {pl}: {_f(x)} t made by recipe {rc} of grade "
                                              f"{inp.recipe_grade[rc]}, but the stream's grade is {sg}")
            made[s, rc, t] += x
        made_pt = defaultdict(float)  # (p, t)
        self.made_st = made_st = defaultdict(float)
        self.made_prt = made_prt = defaultdict(float)  # (p, rc, t)
        for (s, rc, t), x in made.items():
            p = inp.plant_of_stream[s]
            made_pt[p, t] += x
            made_st[s, t] += x
            made_prt[p, rc, t] += x
        self.made_pt = made_pt
        pc = self.acc["plant_capacity"]
        for p in inp.plants:
            for t in range(1, T + 1):
                x, cap = made_pt.get((p, t), 0.0), inp.plant_capacity(p, t)
                pc.add(x - cap, mass_tol(x, cap),
                       lambda: f"{scen}plant {p}, {lab(t)}: magnets made {_f(x)} t > plant capacity {_f(cap)} t")

    def element_use(self) -> None:
        """No element use that a prohibited licence rule in force bars for the stream's end use."""
        inp, scen, rows = self.inp, self.scen, self.rows
        el = self.acc["eligibility"]
        self.use = use = defaultdict(float)  # (s, e, g, t)
        for t, (s, u, e, g, pl, x) in rows.read("eligibility_use", ("stream", "end_use", "element", "origin_group",
                                                                    "period", "used_t"),
                                                (("stream", "stream", inp.streams), ("element", "element", inp.elements),
                                                 ("origin_group", "origin group", inp.groups)), "period"):
            su = inp.streams[s].end_use
            p = inp.plant_of_stream[s]
            if u != su:
                rows.problem(lambda: f"eligibility_use: stream {s} end_use column {u!r}, input {su!r}")
            if (p, e, g, su, t) in inp.blocked_elem:
                el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} ({su}), {pl}: uses {_f(x)} t {e} of origin {g}, "
                                              f"barred by a prohibited licence rule in force at plant {p}")
            use[s, e, g, t] += x

    def bill_of_materials(self) -> None:
        """Per stream, element, period: element use over all origins = recipe need / yield of its plant x made."""
        inp, scen, lab = self.inp, self.scen, self.lab
        use_set = defaultdict(float)
        for (s, e, g, t), x in self.use.items():
            use_set[s, e, t] += x
        need_set = defaultdict(float)
        for (s, rc, t), x in self.made.items():
            for e, n in inp.need[rc].items():
                if n > 0:
                    need_set[s, e, t] += n / inp.y[inp.plant_of_stream[s]] * x
        _compare(self.acc["bill_of_materials"], use_set, need_set,
                 lambda k, u_, n_: f"{scen}stream {k[0]}, element {k[1]}, {lab(k[2])}: element use {_f(u_)} t, "
                                   f"recipe need / yield x made {_f(n_)} t")

    def finished_magnets(self) -> None:
        """Finished magnets of the stream's grade, not barred for its end use at its plant; per plant, used +
        added to stock + sent <= arrived + received."""
        inp, scen, lab, rows = self.inp, self.scen, self.lab, self.rows
        el = self.acc["eligibility"]
        mag_used = defaultdict(float)  # (p, m, g, t)
        self.bought = bought = defaultdict(float)  # (s, t)
        for t, (s, m, g, pl, x) in rows.read("magnet_purchases", ("stream", "material", "origin_group", "period",
                                                                  "used_t"),
                                             (("stream", "stream", inp.streams), ("material", "material", inp.mats)),
                                             "period"):
            st = inp.streams[s]
            mat = inp.mats[m]
            p = inp.plant_of_stream[s]
            if mat.kind != "magnet" or mat.grade != st.grade:
                el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} (grade {st.grade}), {pl}: uses {_f(x)} t of {m} "
                                              f"({mat.kind}, grade {mat.grade})")
            if (p, m, g, st.end_use, t) in inp.blocked_mag:
                el.add(x, MASS_ABS_T, lambda: f"{scen}stream {s} ({st.end_use}), {pl}: uses {_f(x)} t of {m} of origin {g}, "
                                              f"barred by a prohibited licence rule in force at plant {p}")
            mag_used[p, m, g, t] += x
            bought[s, t] += x
        # finished-magnet stock (:mod:`.magnet_stock`): what a period adds to stock counts as used
        self.magnet_stock, self.magnet_stock_grade = read_magnet_stock(self)
        for k, x in stock_change(self.magnet_stock, self.T).items():
            mag_used[k] += x
        for k, x in self.sent_mag.items():  # what leaves on a lane counts as used at its start
            mag_used[k] += x
        came = defaultdict(float, self.mag_arr)
        for k, x in self.recv_mag.items():  # what a lane brings counts as arrived at its end
            came[k] += x
        more = (" + added to stock" if self.magnet_stock else "") + (" + sent" if self.sent_mag else "")
        also = " (with received)" if self.recv_mag else ""
        _compare(self.acc["finished_magnets"], mag_used, came,
                 lambda k, u_, a_: f"{scen}plant {k[0]}, magnet {k[1]}, origin {k[2]}, {lab(k[3])}: used{more} {_f(u_)} t > "
                                   f"arrived{also} {_f(a_)} t", signed=True)

    # ---- demand

    def demand(self) -> None:
        """made + bought + shortage = demand; shortage within the service level; the ``shortages`` columns."""
        inp, data, T, lab, scen, rows = self.inp, self.data, self.T, self.lab, self.scen, self.rows
        made_st, bought = self.made_st, self.bought
        dm = self.acc["demand"]
        self.shortage = shortage = {}
        for t, (p, s, u, pl, d_rep, m_rep, b_rep, sh) in rows.read("shortages", (
                "plant", "stream", "end_use", "period", "demand_t", "made_t", "bought_t", "shortage_t"),
                (("stream", "stream", inp.streams),), "period"):
            if u != inp.streams[s].end_use:
                rows.problem(lambda: f"shortages: stream {s} end_use column {u!r}")
            if p != inp.plant_of_stream[s]:
                rows.problem(lambda: f"shortages: stream {s} plant column {p!r}, input {inp.plant_of_stream[s]!r}")
            shortage[s, t] = shortage.get((s, t), 0.0) + sh
            d = data.demand_t_per_period[s][t - 1]
            for col, rep, val in (("demand_t", d_rep, d), ("made_t", m_rep, made_st.get((s, t), 0.0)),
                                  ("bought_t", b_rep, bought.get((s, t), 0.0))):
                dm.add(abs(rep - val), mass_tol(rep, val),
                       lambda col=col, rep=rep, val=val: f"{scen}shortages: stream {s}, {pl}: {col} {_f(rep)} t, "
                                                         f"recomputed {_f(val)} t")
        for s, st in inp.streams.items():
            level = getattr(st, "min_service_frac", None)
            for t in range(1, T + 1):
                d = data.demand_t_per_period[s][t - 1]
                mk, bg, sh = made_st.get((s, t), 0.0), bought.get((s, t), 0.0), shortage.get((s, t), 0.0)
                res = mk + bg + sh - d
                dm.add(abs(res), mass_tol(mk, bg, sh, d),
                       lambda: f"{scen}stream {s}, {lab(t)}: made {_f(mk)} + bought {_f(bg)} + shortage {_f(sh)} != "
                               f"demand {_f(d)} t")
                if level is not None:
                    lim = (1 - level) * d
                    dm.add(sh - lim, mass_tol(sh, lim),
                           lambda: f"{scen}stream {s}, {lab(t)}: shortage {_f(sh)} t > (1 - service level {_f(level)}) x "
                                   f"demand {_f(d)} t")

    def plant_results(self) -> None:
        """The ``plants`` table: per plant and period, made_t, capacity_t, demand_t and shortage_t recomputed."""
        inp, data, T, lab, scen, rows = self.inp, self.data, self.T, self.lab, self.scen, self.rows
        pr = self.acc["plant_results"]
        seen = set()
        for t, (p, ctry, pl, m_rep, c_rep, d_rep, s_rep) in rows.read("plants", (
                "plant", "country", "period", "made_t", "capacity_t", "demand_t", "shortage_t"),
                (("plant", "plant", inp.plants),), "period"):
            seen.add((p, t))
            want = inp.plants[p].country
            if (ctry if isinstance(ctry, str) and ctry else None) != (want or None):
                rows.problem(lambda: f"plants: plant {p} country column {ctry!r}, input {want!r}")
            mine = [s for s, q in inp.plant_of_stream.items() if q == p]
            made = self.made_pt.get((p, t), 0.0)
            dem = sum(data.demand_t_per_period[s][t - 1] for s in mine)
            short = sum(self.shortage.get((s, t), 0.0) for s in mine)
            for col, rep_, val in (("made_t", m_rep, made), ("capacity_t", c_rep, inp.plant_capacity(p, t)),
                                   ("demand_t", d_rep, dem), ("shortage_t", s_rep, short)):
                pr.add(abs(rep_ - val), mass_tol(rep_, val),
                       lambda col=col, rep_=rep_, val=val: f"{scen}plants: plant {p}, {pl}: {col} {_f(rep_)} t, "
                                                           f"recomputed {_f(val)} t")
        for p in inp.plants:
            for t in range(1, T + 1):
                if (p, t) not in seen:
                    rows.problem(lambda: f"plants: no row for plant {p}, {lab(t)}")

    # ---- recycling, swarf, scrap, recovery

    def recycling_feed(self) -> None:
        """Feed rows: a known source for the route; swarf only of the grades a grade-locked route takes."""
        inp, scen, rows = self.inp, self.scen, self.rows
        sw = self.acc["swarf_feed"]
        self.feed = feed = defaultdict(float)  # (k, src, t)
        for t, (p, k, src, pl, x) in rows.read("recycling", ("plant", "route", "source", "period", "feed_t"),
                                               (("route", "route", inp.routes),), "period"):
            rt = inp.routes[k]
            if p != inp.plant_of_route[k]:
                rows.problem(lambda: f"recycling: route {k} plant column {p!r}, input {inp.plant_of_route[k]!r}")
            if rt.feed == SWARF_FEED:
                if src not in inp.recipe_grade:
                    rows.unknown("recycling", f"swarf source of route {k}", src)
                    continue
                if rt.grades is not None and inp.recipe_grade[src] not in rt.grades:
                    sw.add(x, MASS_ABS_T, lambda: f"{scen}route {k}, {pl}: {_f(x)} t swarf of recipe {src} (grade "
                                                  f"{inp.recipe_grade[src]}); the route takes only {rt.grades}")
            elif src != rt.feed:
                rows.unknown("recycling", f"source of route {k}", src)
                continue
            feed[k, src, t] += x

    def expansions(self) -> None:
        """Each expansion: usable from period build lead + 1, within its maximum, its cost recomputed."""
        inp, T, scen, rows = self.inp, self.T, self.scen, self.rows
        rcap, costcol = self.acc["recycling_capacity"], self.acc["cost_columns"]
        self.expansion = expansion = {}
        for _, (k, add, uf, c) in rows.read("expansions", ("route", "added_t_feed_per_period", "usable_from", "cost_usd"),
                                            (("route", "route with an expansion", inp.expandable),)):
            ex = inp.routes[k].expansion
            expansion[k] = expansion.get(k, 0.0) + add
            lead = ex.build_lead_time_periods
            want = inp.labels[lead] if lead < T else None
            if not ((uf is None or (isinstance(uf, float) and uf != uf)) and want is None) and uf != want:
                rows.problem(lambda: f"expansions: route {k} usable_from {uf!r}, expected {want!r}")
            rcap.add(add - ex.max_t_per_period, mass_tol(add, ex.max_t_per_period),
                     lambda: f"{scen}route {k}: expansion {_f(add)} t/period > max {_f(ex.max_t_per_period)}")
            cu = expansion_usd(ex, add)
            costcol.add(abs(c - cu), money_tol(c, cu),
                        lambda: f"{scen}expansions: route {k}: cost_usd {_f(c)}, recomputed {_f(cu)}")

    def recycling_flows(self) -> None:
        """Feed per route, swarf and scrap fed, element recovered (feed x content x recovery), at the route's plant."""
        inp = self.inp
        self.feed_kt = feed_kt = defaultdict(float)
        self.swarf_fed = swarf_fed = defaultdict(float)  # (p, recipe, t)
        self.scrap_fed = scrap_fed = defaultdict(float)  # (p, material, t)
        self.recovered = recovered = defaultdict(float)  # (p, e, g, t)
        self.div_recycled = div_recycled = []  # (p, e, g, country, t, x)
        for (k, src, t), x in self.feed.items():
            rt = inp.routes[k]
            p = inp.plant_of_route[k]
            feed_kt[k, t] += x
            if rt.feed == SWARF_FEED:
                swarf_fed[p, src, t] += x
            else:
                scrap_fed[p, src, t] += x
            content = inp.src_content(k, src)
            for e, rho in rt.recovery_frac.items():
                c = content.get(e, 0.0)
                if c > 0:
                    recovered[p, e, rt.output_origin_group, t] += rho * c * x
                    div_recycled.append((p, e, rt.output_origin_group, rt.country or rt.output_origin_group, t,
                                         rho * c * x))

    def recycling_capacity(self) -> None:
        """Feed <= availability x (capacity + expansion once built), per route and period."""
        inp, data, T, lab, scen = self.inp, self.data, self.T, self.lab, self.scen
        feed_kt, expansion = self.feed_kt, self.expansion
        rcap = self.acc["recycling_capacity"]
        for k, rt in inp.routes.items():
            av = data.availability_frac.get(k, (1.0,) * T)
            for t in range(1, T + 1):
                x = feed_kt.get((k, t), 0.0)
                base = inp.route_capacity(k, t)
                built = rt.expansion is not None and t > rt.expansion.build_lead_time_periods
                E = expansion.get(k, 0.0) if built else 0.0
                lim = av[t - 1] * (base + E)
                rcap.add(x - lim, mass_tol(x, lim, base, E),
                         lambda: f"{scen}route {k}, {lab(t)}: feed {_f(x)} t > availability {_f(av[t - 1])} x (capacity "
                                 f"{_f(base)} + expansion {_f(E)}) t")

    def swarf_and_scrap(self) -> None:
        """Per plant: swarf fed by its routes <= (1/yield - 1) x made there, per recipe and period; scrap fed by its
        routes <= scrap arrived there."""
        inp, lab, scen = self.inp, self.lab, self.scen
        generated = {(p, rc, t): (1 / inp.y[p] - 1) * x for (p, rc, t), x in self.made_prt.items()}
        _compare(self.acc["swarf_feed"], self.swarf_fed, generated,
                 lambda k, f_, g_: f"{scen}plant {k[0]}, recipe {k[1]}, {lab(k[2])}: swarf fed {_f(f_)} t > swarf "
                                   f"generated there (1/yield - 1) x made = {_f(g_)} t", signed=True)
        _compare(self.acc["scrap_feed"], self.scrap_fed, self.scrap_arr,
                 lambda k, f_, a_: f"{scen}plant {k[0]}, scrap {k[1]}, {lab(k[2])}: fed {_f(f_)} t > arrived {_f(a_)} t",
                 signed=True)

    def recovery(self) -> None:
        """The ``recovered`` table = feed x content x recovery, per plant, element, output origin and period."""
        scen, lab = self.scen, self.lab
        self._by_element_origin("recovery", "recovered", "recovered_t", self.recovered,
                                lambda k, x, y: f"{scen}plant {k[0]}, element {k[1]}, origin {k[2]}, {lab(k[3])}: "
                                                f"recovered table {_f(x)} t, feed x content x recovery {_f(y)} t")

    # ---- stock: balance, capacity, floor, terminal

    def element_balance(self) -> None:
        """stock[t] = stock[t-1] + arrived + recovered + received - used - sent, per plant, element, origin group
        and period."""
        inp, T, lab, scen = self.inp, self.T, self.lab, self.scen
        elem_arr, recovered, sent, recv = self.elem_arr, self.recovered, self.sent_elem, self.recv_elem
        stock: dict = defaultdict(float)  # (p, e, g, t)
        for t, (p, e, g, pl, x) in self.rows.read("stock", ("plant", "element", "origin_group", "period", "stock_t"),
                                                  (("plant", "plant", inp.plants), ("element", "element", inp.elements)),
                                                  "period"):
            stock[p, e, g, t] += x
        for (p, e), s in inp.sp.items():
            for g, v in s.initial_t_by_origin.items():
                stock[p, e, g, 0] += v
        use_pegt = defaultdict(float)
        for (s, e, g, t), x in self.use.items():
            use_pegt[inp.plant_of_stream[s], e, g, t] += x
        eb = self.acc["element_balance"]
        peg = set()
        for d in (stock, elem_arr, recovered, use_pegt, sent, recv):
            peg |= {k[:3] for k in d}
        for p, e, g in sorted(peg):
            for t in range(1, T + 1):
                s1, s0 = stock.get((p, e, g, t), 0.0), stock.get((p, e, g, t - 1), 0.0)
                k = (p, e, g, t)
                a_, r_, u_ = elem_arr.get(k, 0.0), recovered.get(k, 0.0), use_pegt.get(k, 0.0)
                i_, o_ = recv.get(k, 0.0), sent.get(k, 0.0)
                res = s1 - (s0 + a_ + r_ + i_ - u_ - o_)
                lanes = f" + received {_f(i_)} - sent {_f(o_)}" if (i_ or o_) else ""
                eb.add(abs(res), mass_tol(s1, s0, a_, r_, u_, i_, o_),
                       lambda: f"{scen}plant {p}, element {e}, origin {g}, {lab(t)}: stock {_f(s1)} t != previous {_f(s0)} "
                               f"+ arrived {_f(a_)} + recovered {_f(r_)} - used {_f(u_)}{lanes} (residual {_f(res)} t)")
        self.stock_et = stock_et = defaultdict(float)  # (p, e, t)
        self.stocked_elements = stocked_elements = set()  # (p, e)
        for (p, e, g, t), x in stock.items():
            if t >= 1:
                stock_et[p, e, t] += x
                stocked_elements.add((p, e))

    def _element_periods(self):
        """(p, e, its stockpile or None, t, sum_g stock[p, e, t], its ``stock_by_element`` row or None) per plant,
        element and period."""
        inp, T, stock_et, by_el = self.inp, self.T, self.stock_et, self.by_el
        for p in inp.plants:
            for e in sorted(inp.elements):
                s = inp.sp.get((p, e))
                for t in range(1, T + 1):
                    yield p, e, s, t, stock_et.get((p, e, t), 0.0), by_el.get((p, e, t))

    def stock_capacity(self) -> None:
        """sum_g stock <= capacity per plant and element; ``stock_by_element`` present for stocked (plant, element)
        pairs, its stock_t and capacity_t."""
        inp, lab, scen, rows, stocked_elements = self.inp, self.lab, self.scen, self.rows, self.stocked_elements
        self.by_el = by_el = {}
        for t, (p, e, pl, st_, cap_, fl_, fs) in rows.read("stock_by_element", (
                "plant", "element", "period", "stock_t", "capacity_t", "floor_t", "floor_shortfall_t"),
                (("plant", "plant", inp.plants),), period="period"):
            by_el[p, e, t] = (st_, cap_, fl_, fs)
        scap = self.acc["stock_capacity"]
        for p, e, s, t, x, row in self._element_periods():
            ecap = s.capacity_t if s is not None else 0.0
            scap.add(x - ecap, mass_tol(x, ecap),
                     lambda: f"{scen}plant {p}, element {e}, {lab(t)}: stock {_f(x)} t > capacity {_f(ecap)} t")
            if row is None:
                if (p, e) in stocked_elements:
                    rows.problem(lambda: f"stock_by_element: no row for plant {p}, element {e}, {lab(t)}")
            else:
                st_, cap_ = row[0], row[1]
                scap.add(abs(st_ - x), mass_tol(st_, x),
                         lambda: f"{scen}stock_by_element: plant {p}, element {e}, {lab(t)}: stock_t {_f(st_)} t, sum of "
                                 f"stock {_f(x)} t")
                scap.add(abs(cap_ - ecap), mass_tol(cap_, ecap),
                         lambda: f"{scen}stock_by_element: plant {p}, element {e}, {lab(t)}: capacity_t {_f(cap_)} t, "
                                 f"input {_f(ecap)} t")

    def strategic_floor(self) -> None:
        """floor_t as derived; hard floor: stock >= floor; penalised floor: shortfall = max(0, floor - stock)."""
        inp, lab, scen, stocked_elements = self.inp, self.lab, self.scen, self.stocked_elements
        fl = self.acc["strategic_floor"]
        self.floor_shortfall = shortfall = {}  # (p, e, t) -> t, as the floor penalty counts it
        for p, e, s, t, x, row in self._element_periods():
            floor = inp.floor.get((p, e), 0.0)
            hard = bool(getattr(s, "floor_hard", False)) if s is not None else False
            fpen = s.floor_penalty_usd_per_kg if s is not None else 0.0
            if row is None:
                fs = 0.0
            else:
                fl_, fs = row[2], row[3]
                fl.add(abs(fl_ - floor), mass_tol(fl_, floor),
                       lambda: f"{scen}stock_by_element: plant {p}, element {e}, {lab(t)}: floor_t {_f(fl_)} t, derived {_f(floor)} t")
            gap = max(0.0, floor - x)
            if hard and floor > 0:
                fl.add(floor - x, mass_tol(floor, x),
                       lambda: f"{scen}plant {p}, element {e}, {lab(t)}: stock {_f(x)} t below the hard floor {_f(floor)} t")
                fl.add(fs, MASS_ABS_T, lambda: f"{scen}plant {p}, element {e}, {lab(t)}: shortfall {_f(fs)} t reported for a hard floor")
            elif floor > 0 and (p, e) in stocked_elements:
                fl.add(gap - fs, mass_tol(floor, x, fs),
                       lambda: f"{scen}plant {p}, element {e}, {lab(t)}: floor shortfall {_f(fs)} t < floor {_f(floor)} - stock {_f(x)} t")
                if fpen > 0:
                    fl.add(fs - gap, mass_tol(floor, x, fs),
                           lambda: f"{scen}plant {p}, element {e}, {lab(t)}: floor shortfall {_f(fs)} t > max(0, floor {_f(floor)} - "
                                   f"stock {_f(x)}) t")
            else:
                fl.add(fs, MASS_ABS_T, lambda: f"{scen}plant {p}, element {e}, {lab(t)}: shortfall {_f(fs)} t but no floor")
            shortfall[p, e, t] = fs

    def terminal(self) -> None:
        """What the terminal penalty due is made of (its cost: :func:`.costing.term_period_costs`), for the messages."""
        inp = self.inp
        gaps = terminal_gaps(inp, Plan(stock=self.stock_et, stocked=self.stocked_elements))
        self.term_detail = [f"{e} at {p} {_f(gap)} t x {_f(inp.terminal_pen[p, e])} USD/kg"
                            for (p, e), gap in gaps.items() if gap > 0]

    def terminal_requirement(self) -> None:
        """The terminal penalty the ``costs`` table pays covers the penalty due."""
        scen, cost_terminal, term_detail = self.scen, self.cost["terminal_penalty"], self.term_detail
        paid = self.reported.get("terminal_penalty", 0.0)
        self.acc["terminal_requirement"].add(
            cost_terminal - paid, money_tol(cost_terminal, paid),
            lambda: f"{scen}terminal penalty paid {_f(paid)} USD < penalty x shortfall {_f(cost_terminal)} USD "
                    f"({'; '.join(term_detail)})")

    # ---- diversification

    def diversification(self) -> None:
        """Selected <= max share x basis, per limit and calendar year of arrival (at the limit's plant if it names one)."""
        inp, case, scen = self.inp, self.case, self.scen
        dv = self.acc["diversification"]
        basis_p = []  # (p, e, g, country, t, x), p the plant the purchase arrives at
        for (o, t), q in self.purchased.items():
            off = inp.offers[o]
            m = inp.mats[off.material]
            if m.kind in ELEMENT_KINDS:
                a = inp.arrival(o, t)
                for e, f in m.element_content_frac.items():
                    if f > 0:
                        basis_p.append((inp.plant_of_offer[o], e, off.origin_group, off.country, a, f * q))
        for d in case.diversification_limits:
            basis = basis_p + (self.div_recycled if d.basis == "supply" else [])
            sel = defaultdict(float)
            tot = defaultdict(float)
            for p, e, g, ctry, t, x in basis:
                if d.element is not None and e != d.element:
                    continue
                if d.plant is not None and p != d.plant:
                    continue
                y = inp.year[t]
                tot[y] += x
                if (g if d.group_by == "origin_group" else ctry) == d.value:
                    sel[y] += x
            for y in tot:
                s_, b_ = sel.get(y, 0.0), tot[y]
                dv.add(s_ - d.max_share_frac * b_, mass_tol(s_, b_),
                       lambda y=y, s_=s_, b_=b_: f"{scen}limit {d.id}, year {y}: {d.value} {_f(s_)} t > max share "
                                                 f"{_f(d.max_share_frac)} x {_f(b_)} t")

    # ---- cost terms

    def plan(self) -> Plan:
        """The plan as read and checked here, as the cost terms need it (:class:`.costing.Plan`)."""
        return Plan(purchased=self.purchased, reserved=self.reserved, made=self.made, shortage=self.shortage,
                    stock=self.stock_et, stocked=self.stocked_elements, floor_shortfall=self.floor_shortfall,
                    feed=self.feed, expansion=self.expansion, magnet_stock=self.magnet_stock_grade, moved=self.moved)

    def cost_terms(self, recomputed: dict) -> None:
        """Each row of the ``costs`` table: a known term, of its stage, = the term recomputed."""
        scen, rows = self.scen, self.rows
        ct = self.acc["cost_terms"]
        self.reported = reported = {}
        for _, (term, stage, c) in rows.read("costs", ("term", "stage", "cost_usd"), (("term", "term", recomputed),)):
            want = "first" if term in FIRST_STAGE_TERMS else "second"
            if stage != want:
                rows.problem(lambda: f"costs: term {term} stage {stage!r}, expected {want!r}")
            reported[term] = reported.get(term, 0.0) + c
        for term, v in recomputed.items():
            if term not in reported:
                ct.add(abs(v), money_tol(v, 0.0), lambda: f"{scen}costs: term {term} missing (recomputed {_f(v)} USD)")
                continue
            r = reported[term]
            ct.add(abs(r - v), money_tol(r, v),
                   lambda: f"{scen}cost term {term}: costs table {_f(r)} USD, recomputed from tables and inputs {_f(v)} USD")
