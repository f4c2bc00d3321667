r"""What the audit derives from one scenario's ``CaseData``, re-implemented from the documented meaning
of each rule (never from ``model.components.sets``):

- a rule is in force from ``valid_from`` (blank: period 1) to ``valid_to`` (blank: period T);
- arrival period = order period + offer lead time + the largest review lead time of the
  ``case_by_case`` rules governing the order (:mod:`.grants`: the rules in force in the order period that
  cover the offer's origin group, material and supplier, the named exporters' rules first; the scenario's
  review lead times where given); orders only where that arrival falls inside the horizon and every
  governing rule admits the company;
- plants (model.md §7.1): ``plant`` (one, id ``plant`` unless named) or ``plants``; every entry with an
  optional ``plant`` field (stream, offer, stockpile, magnet stock, recycling route) belongs to the plant it
  names, else to the only plant (``case.plant_of``, the input's own reading). A stream is made at its
  plant, with that plant's yield, capacity (``capacity_t_per_period[plant id]``) and conversion cost; an
  offer delivers to its plant; a route recycles at its plant;
- element stock of origin g is ineligible at plant p for end use u in t when a ``prohibited`` rule in
  force in t that bars the company at p (:mod:`.grants`: its customers naming the company or p, its
  destination countries naming p's country, a scenario lifting it) covers g, u and a purchasable
  oxide/metal/alloy that contains the element; finished magnet m of origin g (bought, in transit, held
  in magnet stock or brought by a lane) is ineligible at p when such a rule covers g, m and u;
- strategic floor per (plant p, element e) = ``floor_t``, or ``floor_months_of_use`` x (sum over the
  streams of p of mean demand x the grade's reference recipe need / p's yield) / months per period;
- terminal requirement per (p, e) = ``terminal_min_t`` or the initial stock; default terminal penalty =
  1.25 x max(largest price per kg of element content among the element's oxide/metal/alloy offers
  (every plant's) + holding cost x T, floor penalty);
- a lane (``transfers[]``) moves element stock and finished magnets from ``from_plant`` in t to
  ``to_plant`` in t + ``lead_time_periods``, within ``capacity_t_per_period`` (blank: no limit) at
  ``cost_usd_per_kg``;
- recycling capacity of a route = its scalar capacity (or its capacity-CSV column); a swarf feed has its
  recipe's element content (t per t of magnet), a scrap feed its material's content;
- calendar year of a period = the year of its first month.

Glossary: T periods, numbered 1..T (``t_of`` maps a period label to its number, ``lab`` back); e
element, g origin group, u end use, o offer, m material, k recycling route, s stream, rc recipe, p plant,
``lane`` a transfer lane; ``y[p]`` plant p's yield; ``plant_of_stream`` / ``plant_of_offer`` /
``plant_of_route`` the plant of each entry; ``W`` the non-anticipative window (periods).
"""

from __future__ import annotations

from model.input.schema import ELEMENT_KINDS, SWARF_FEED, TERMINAL_PENALTY_MARKUP, month_index, period_of_month

from .grants import Grants


class ScenarioInputs:
    """Everything the audit derives from one scenario's CaseData (independently of model.components.sets)."""

    def __init__(self, data):
        self.data = data
        case = self.case = data.case
        self.T = T = len(data.periods)
        self.labels = tuple(data.periods)
        self.t_of = {lab: k + 1 for k, lab in enumerate(self.labels)}
        self.year = {k + 1: month_index(lab) // 12 for k, lab in enumerate(self.labels)}
        self.W = case.risk.non_anticipative_periods
        self.mats = {m.id: m for m in case.materials}
        self.offers = {o.id: o for o in case.offers}
        self.streams = {s.id: s for s in case.streams}
        self.grades = {g.id: g for g in case.grades}
        self.recipe_grade = {rc.id: g.id for g in case.grades for rc in g.recipes}
        self.need = {rc.id: dict(rc.element_t_per_t_magnet) for g in case.grades for rc in g.recipes}
        self.routes = {r.id: r for r in case.recycling_routes}
        self.expandable = {k for k, r in self.routes.items() if r.expansion is not None}
        self.plants = {p.id: p for p in case.site_plants}
        self.plant_of_stream = {s.id: case.plant_of(s) for s in case.streams}
        self.plant_of_offer = {o.id: case.plant_of(o) for o in case.offers}
        self.plant_of_route = {r.id: case.plant_of(r) for r in case.recycling_routes}
        self.lanes = {x.id: x for x in case.transfers}
        self.sp = {(case.plant_of(x), x.element): x for x in case.stockpile}  # (p, e) -> stockpile entry
        self.elements = set(case.elements)
        self.groups = {g.id for g in case.origin_groups}
        self.y = {p: x.yield_frac for p, x in self.plants.items()}

        def window(r):
            p0 = period_of_month(case.horizon, r.valid_from) if r.valid_from else 1
            p1 = period_of_month(case.horizon, r.valid_to) if r.valid_to else T
            return (p0 or 1), (p1 or T)

        self.rule_window = {r.id: window(r) for r in case.licence_rules}
        self.grants = Grants(data, self.rule_window)
        self._review_and_arrival()
        self._prohibitions()
        self._stockpile()

    def _review_and_arrival(self) -> None:
        """Review lead time and arrival period per (offer, order period)."""
        case, T = self.case, self.T
        self.review = self.grants.review

        self._arrival = {(o.id, t): t + o.lead_time_periods + self.review[o.id, t]
                         for o in case.offers for t in range(1, T + 1)}

    def _prohibitions(self) -> None:
        """The (plant, element, origin, end use, period) and (plant, magnet, origin, end use, period) a prohibited
        rule bars."""
        self.blocked_elem: set = set()  # (p, e, g, end_use, t)
        self.blocked_mag: set = set()  # (p, material, g, end_use, t)
        for r in self.case.licence_rules:
            if r.regime != "prohibited":
                continue
            p0, p1 = self.rule_window[r.id]
            elems = {e for m in r.materials if m in self.mats and self.mats[m].kind in ELEMENT_KINDS
                     for e, f in self.mats[m].element_content_frac.items() if f > 0}
            for p in self.plants:
                for t in range(p0, p1 + 1):
                    if not self.grants.bars(r, t, p):
                        continue
                    for g in r.origin_groups:
                        for u in r.end_uses:
                            for e in elems:
                                self.blocked_elem.add((p, e, g, u, t))
                            for m in r.materials:
                                self.blocked_mag.add((p, m, g, u, t))

    def _stockpile(self) -> None:
        """Per (plant, element): strategic floor, terminal requirement and terminal penalty."""
        data, case, T = self.data, self.case, self.T
        mpp = case.horizon.months_per_period
        self.floor, self.terminal, self.terminal_pen = {}, {}, {}  # (p, e) ->
        for (p, e), s in self.sp.items():
            if s.floor_t is not None:
                self.floor[p, e] = float(s.floor_t)
            elif s.floor_months_of_use is not None:
                use = 0.0
                for st in case.streams:
                    if self.plant_of_stream[st.id] != p:
                        continue
                    dem = data.demand_as_read_t_per_period[st.id]  # the case as read: no scenario moves it
                    ref = self.grades[st.grade].reference.element_t_per_t_magnet.get(e, 0.0)
                    use += (sum(dem) / T) * ref / self.y[p]
                self.floor[p, e] = s.floor_months_of_use * use / mpp
            self.terminal[p, e] = s.terminal_min_t if s.terminal_min_t is not None else sum(s.initial_t_by_origin.values())
            if s.terminal_penalty_usd_per_kg is not None:
                self.terminal_pen[p, e] = s.terminal_penalty_usd_per_kg
            else:
                per_kg = [max(data.price_usd_per_kg[o.id]) / self.mats[o.material].element_content_frac[e]
                          for o in case.offers
                          if self.mats[o.material].kind in ELEMENT_KINDS
                          and self.mats[o.material].element_content_frac.get(e, 0) > 0]
                meet = (max(per_kg) if per_kg else 0.0) + s.holding_cost_usd_per_kg_per_period * T
                self.terminal_pen[p, e] = TERMINAL_PENALTY_MARKUP * max(meet, s.floor_penalty_usd_per_kg)

    def arrival(self, o: str, t: int) -> int:
        return self._arrival[o, t]

    def plant_capacity(self, p: str, t: int) -> float:
        """Magnet output capacity of plant p in t (t magnet/period)."""
        return self.data.capacity_t_per_period[p][t - 1]

    def route_capacity(self, k: str, t: int) -> float:
        r = self.routes[k]
        if f"capacity:{k}" in self.data.from_csv or r.capacity_t_feed_per_period is None:
            return self.data.capacity_t_per_period[k][t - 1]
        return float(r.capacity_t_feed_per_period)

    def src_content(self, k: str, src: str) -> dict:
        """t of each element per t of feed from ``src`` on route k."""
        if self.routes[k].feed == SWARF_FEED:
            return self.need.get(src, {})
        m = self.mats.get(src)
        return dict(m.element_content_frac) if m is not None else {}

    def lab(self, t: int) -> str:
        return self.labels[t - 1] if 1 <= t <= self.T else f"period {t}"
