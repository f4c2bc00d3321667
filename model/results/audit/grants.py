r"""Licences as they are granted, re-derived for the audit from their documented meaning (model.md §6.1),
never from ``model.components.sets``:

- a rule *reaches* a plant when it names no ``destination_countries`` or names the plant's country (a plant
  without a country is reached only by rules naming none);
- an *order rule* (regime ``free``, ``general`` or ``case_by_case``) covers offer o when o's origin group
  and material are among the rule's, when the rule names ``suppliers``, o's supplier is among them, and
  the rule reaches the plant o delivers to (``offers[].plant``);
- the rules *governing* the orders of o placed in t are the covering order rules in force in t; when some of
  them name suppliers, only those (a named exporter's licence replaces the blanket rules for its offers);
- a rule *admits* the company at plant p unless it names ``customers`` among which are neither
  ``company.customer_id`` nor p's id, or admits only validated end users and the company is not one; an
  order that a governing rule does not admit at the offer's plant cannot be placed (``barred``: any t
  ordered there is a violation of ``eligibility``);
- the review lead time of (o, t) is the largest among the governing ``case_by_case`` rules, each the
  scenario's ``review_lead_periods[rule][t]`` where given, else the rule's ``review_lead_time_periods``;
- a ``prohibited`` rule bars the company at plant p only when it names no customers or names the company or
  p, reaches p, and not in the periods where the scenario lifts it (``admitted[rule][t]`` = 1);
- a licence with ``renewal`` falls due in ``first_due`` (blank: the period of ``valid_from``, or 1, plus
  ``every_periods``) and every ``every_periods`` periods after, up to its last period in force; one with
  ``renewed: false`` *lapses* at its first due date: its quota is 0 (``held`` = 0) from then to the horizon
  end. A renewal a scenario refuses is already in that scenario's quota factor.

Glossary: o offer, t order period (1..T), r rule, p plant, ``governing[o, t]`` the list of governing rules (absent:
none), ``barred`` the set of (o, t) that cannot be ordered, ``review[o, t]`` periods, ``held(r, t)`` 1 or 0.
"""

from __future__ import annotations

from .checks import MASS_ABS_T, fmt


def admits(rule, company, plant: str | None = None) -> bool:
    """Whether ``rule`` admits the planning company at ``plant`` (``customers`` naming the company or the
    plant, ``validated_end_users_only``)."""
    if rule.customers is not None and plant not in rule.customers and (
            company is None or company.customer_id not in rule.customers):
        return False
    return not rule.validated_end_users_only or (company is not None and company.validated_end_user)


def reaches(rule, country) -> bool:
    """Whether ``rule`` covers a plant in ``country`` (``destination_countries`` blank, or naming it)."""
    return rule.destination_countries is None or (country is not None and country in rule.destination_countries)


def due_periods(case, rule, T: int) -> list[int]:
    """The periods in which ``rule``'s licence falls due for renewal: the input's own reading of its
    dates (:func:`model.input.scenarios.renewal_due_periods`); the audit recomputes what the plan must
    respect from there, never from the model."""
    from model.input.scenarios import renewal_due_periods

    return list(renewal_due_periods(case, rule, T))


class Grants:
    """Governing rules, barred orders, review lead times and lapses of one scenario's licence rules."""

    def __init__(self, data, rule_window: dict):
        case, T = data.case, len(data.periods)
        self.data, self.case, self.T = data, case, T
        company = case.company
        self.country = {p.id: p.country for p in case.site_plants}  # plant -> country (None: none)
        self.plant_of_offer = {o.id: case.plant_of(o) for o in case.offers}
        order_rules = [r for r in case.licence_rules if r.regime != "prohibited"]
        self.governing: dict = {}
        self.barred: set = set()
        self.review: dict = {}
        for o in case.offers:
            p = self.plant_of_offer[o.id]
            cov = [r for r in order_rules if o.origin_group in r.origin_groups and o.material in r.materials
                   and (r.suppliers is None or o.supplier in r.suppliers) and reaches(r, self.country.get(p))]
            for t in range(1, T + 1):
                now = [r for r in cov if rule_window[r.id][0] <= t <= rule_window[r.id][1]]
                gov = [r for r in now if r.suppliers is not None] or now
                self.review[o.id, t] = max((self._lead(r, t) for r in gov if r.regime == "case_by_case"), default=0)
                if gov:
                    self.governing[o.id, t] = gov
                    if not all(admits(r, company, p) for r in gov):
                        self.barred.add((o.id, t))
        self.lapse = {}
        for r in case.licence_rules:
            due = due_periods(case, r, T)
            if r.renewal is not None and not r.renewal.renewed and due:
                self.lapse[r.id] = due[0]

    def _lead(self, rule, t: int) -> int:
        series = self.data.review_lead_periods.get(rule.id)
        return int(round(series[t - 1])) if series is not None else rule.review_lead_time_periods

    def governed_by(self, rule_id: str, t: int) -> list[str]:
        """The offers whose orders placed in t rule ``rule_id`` governs (so counts against its quota)."""
        return [o.id for o in self.case.offers if any(r.id == rule_id for r in self.governing.get((o.id, t), ()))]

    def held(self, rule_id: str, t: int) -> float:
        """1 while the licence is held in t, 0 once it lapsed (``renewed: false``)."""
        p = self.lapse.get(rule_id)
        return 0.0 if p is not None and t >= p else 1.0

    def bars(self, rule, t: int, plant: str) -> bool:
        """Whether prohibited ``rule`` (in force in t) bars the company at ``plant`` in t."""
        company = self.case.company
        if rule.customers is not None and plant not in rule.customers and (
                company is None or company.customer_id not in rule.customers):
            return False
        if not reaches(rule, self.country.get(plant)):
            return False
        return self.data.admitted.get(rule.id, (0.0,) * self.T)[t - 1] <= 0.5


def check_admitted_orders(inp, purchased: dict, acc, scen: str) -> None:
    """No t ordered where a governing licence rule does not admit the company (``eligibility``)."""
    for (o, t), q in purchased.items():
        if (o, t) in inp.grants.barred:
            p = inp.plant_of_offer[o]
            names = [r.id for r in inp.grants.governing[o, t] if not admits(r, inp.case.company, p)]
            acc.add(q, MASS_ABS_T, lambda o=o, t=t, q=q, names=names, p=p:
                    f"{scen}offer {o}, order {inp.lab(t)}: {fmt(q)} t ordered, but licence rule(s) {', '.join(names)} "
                    f"governing it do not admit the company at plant {p}")
