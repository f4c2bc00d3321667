r"""Cost over time for finance: the plan's cost by period, calendar year and cost term, its present
value, the stockpile's working capital and the budget view. Writes nothing.

The cost of each term in each period is :func:`model.results.audit.costing.term_period_costs`, the
audit's own recomputation from the plan tables and inputs (the audit sums it over the periods and
checks the sum against the ``costs`` table): what a term means is stated there once, and the totals
by term here equal the KPIs' ``cost_parts_usd`` (to table rounding). Only the terms the ``costs``
table reports are listed. Money is undiscounted USD unless the name says ``pv``.

Tables (one scenario, added by :func:`add_costs` in ``extract``; a stochastic run stacks them with
``scenario`` and ``probability`` in front like every table, and :func:`add_expected_costs` adds the
probability-weighted ``<name>_expected`` of each):

    cost_by_period    term, stage, period, year, discount_factor, cost_usd, pv_usd: every reported term
                      x every period (zeros included)
    cost_by_year      term, stage, year, cost_usd, pv_usd
    working_capital   element, period, stock_t, valuation_usd_per_kg, value_usd: elements with stock (at
                      any plant; stock_t summed over the plants)
    budget            year, category, cost_usd, pv_usd: categories ``decided_now``, ``committed``,
                      ``scenario_dependent`` (below), every year

    (expected: cost_by_period_expected and cost_by_year_expected with expected_cost_usd, expected_pv_usd;
    working_capital_expected with expected_stock_t, expected_value_usd; budget_expected with
    expected_cost_usd, expected_pv_usd)

KPIs (top level): ``present_value_usd`` (expected over scenarios in a stochastic run),
``discount_rate_frac_per_year``, ``present_value_date`` (``YYYY-01-01`` of the base year),
``spend_decided_now_usd`` (the ``decided_now`` category over the horizon; expected).

Timing and discounting (period t = 1..T of M months, r = ``finance.discount_rate_frac_per_year``,
Y = ``finance.base_year``, default the year of the horizon start):

- a term's cost of period t is paid at the **end** of period t (end-of-period convention);
  purchases and take-or-pay in their order period, reservation fees in the reserved period, the
  terminal penalty in period T, capacity expansion (one-off) in period 1, transfers between plants in the
  period they are sent (not the one they arrive in);
- m_t = months from 1 January of Y to the end of period t = (month index of t's first month - 12 Y) + M;
- discount_factor_t = (1 + r) ^ (-m_t / 12); pv_usd = cost_usd x discount_factor_t. With r = 0
  every factor is 1 and PV = the undiscounted cost;
- year = the calendar year of the period's first month.

Working capital: value_usd[e, t] = stock[e, t] (t, end of period, all plants and origin groups) x 1,000 x
valuation[e] (USD/kg of element). The valuation is the scenario's average purchase price of the
element: over the purchases of oxide/metal/alloy offers containing e, the price per kg of tracked
element content, price[o, t] / sum_e' f[m, e'] (a material's price split over its elements by
content mass), weighted by the t of e bought, f[m, e] x q[o, t]. Nothing of e bought in the
scenario: the plain mean of that price per kg of content over e's offers and all periods (the list
price). Initial and recovered stock are valued the same way (one price per element).

Budget view (every USD of the total falls in exactly one category, checked in that order):

- ``decided_now``: reservation fees and capacity expansion (the first-stage terms) and every order
  placed in the non-anticipative window (order period t <= W = ``risk.non_anticipative_periods``) at
  its price: what signing the plan today commits to;
- ``committed``: for orders after the window, the contract volume that must be paid for whatever
  happens: per contract and period price x min(q, max(min take, take-or-pay share) x availability x
  reservation) x K, plus the take-or-pay term;
- ``scenario_dependent``: the rest (spot orders and contract orders above the required take after
  the window, conversion, holding, recycling, swarf credit, transfers between plants, penalties).

Glossary: o offer, m material, f element content fraction, q purchased t, e element, K 1,000 USD per
t per USD/kg, W the non-anticipative window (periods), p_s scenario probability; ``expected`` =
sum_s p_s x (the scenario's value).
"""

from __future__ import annotations

import pandas as pd

from model import terms
from model.input.schema import ELEMENT_KINDS, month_index
from model.results.audit.checks import K
from model.results.audit.costing import plan_from_tables, purchase_usd, term_period_costs
from model.results.audit.inputs import ScenarioInputs

DECIDED_NOW, COMMITTED, SCENARIO_DEPENDENT = "decided_now", "committed", "scenario_dependent"
BUDGET_CATEGORIES = (DECIDED_NOW, COMMITTED, SCENARIO_DEPENDENT)
TABLES = ("cost_by_period", "cost_by_year", "working_capital", "budget")
PV_NOTE = "discount rate 0: present value = undiscounted cost"


def base_year(case) -> int:
    """The present-value year: ``finance.base_year`` or the year of the horizon start."""
    y = case.finance.base_year
    return y if y is not None else month_index(case.horizon.start_month) // 12


def discount_factors(case, labels) -> list[float]:
    """(1 + r) ^ -(months from 1 January of the base year to the end of each period / 12)."""
    r = case.finance.discount_rate_frac_per_year
    y0, mpp = base_year(case), case.horizon.months_per_period
    return [(1.0 + r) ** (-(month_index(lab) - 12 * y0 + mpp) / 12.0) for lab in labels]


def valuation_usd_per_kg(inp, plan) -> dict[str, float]:
    """element -> USD/kg of element content: the scenario's average purchase price (module docstring)."""
    price = inp.data.price_usd_per_kg
    per_kg: dict[str, list] = {e: [] for e in inp.case.elements}  # (weight t, USD/kg of content)
    listed: dict[str, list] = {e: [] for e in inp.case.elements}
    for o, off in inp.offers.items():
        m = inp.mats[off.material]
        if m.kind not in ELEMENT_KINDS:
            continue
        content = {e: f for e, f in m.element_content_frac.items() if f > 0 and e in per_kg}
        total = sum(content.values())
        if total <= 0:
            continue
        for e, f in content.items():
            listed[e] += [p / total for p in price[o]]
            for t in range(1, inp.T + 1):
                q = plan.purchased.get((o, t), 0.0)
                if q > 0:
                    per_kg[e].append((f * q, price[o][t - 1] / total))
    out = {}
    for e in inp.case.elements:
        w = sum(x for x, _ in per_kg[e])
        if w > 0:
            out[e] = sum(x * v for x, v in per_kg[e]) / w
        else:
            out[e] = sum(listed[e]) / len(listed[e]) if listed[e] else 0.0
    return out


def budget_by_period(inp, plan, by_term: dict[str, list[float]]) -> dict[str, list[float]]:
    """category -> USD per period (module docstring): every term's cost split over the categories."""
    T, W, price = inp.T, inp.W, inp.data.price_usd_per_kg
    out = {c: [0.0] * T for c in BUDGET_CATEGORIES}
    first = set(terms.FIRST_STAGE_TERMS)
    for term, usd in by_term.items():
        if term == terms.PURCHASES:
            continue
        cat = DECIDED_NOW if term in first else COMMITTED if term == terms.TAKE_OR_PAY else SCENARIO_DEPENDENT
        for t in range(T):
            out[cat][t] += usd[t]
    for (o, t), q in plan.purchased.items():
        usd = purchase_usd(price[o][t - 1], q)
        if t <= W:
            out[DECIDED_NOW][t - 1] += usd
            continue
        off = inp.offers[o]
        must = 0.0
        if off.kind == "contract":
            share = max(off.min_take_frac, off.terms.take_or_pay_frac if off.terms is not None else 0.0)
            av = inp.data.availability_frac.get(o, (1.0,) * T)[t - 1]
            must = purchase_usd(price[o][t - 1], min(q, share * av * plan.reserved.get((o, t), 0.0)))
        out[COMMITTED][t - 1] += must
        out[SCENARIO_DEPENDENT][t - 1] += usd - must
    return out


def add_costs(tables: dict, kpis: dict, data) -> None:
    """Add the tables and KPIs of the module docstring for one scenario (``data``: its CaseData) to
    ``tables`` and ``kpis``, from the plan tables already in ``tables``."""
    from model.results.tables import clean

    inp = ScenarioInputs(data)
    plan = plan_from_tables(inp, tables)
    all_terms = term_period_costs(inp, plan)
    reported = [t for t in tables["costs"].term.tolist() if t in all_terms]
    by_term = {t: all_terms[t] for t in reported}
    case, labels = data.case, inp.labels
    dfac = discount_factors(case, labels)
    years = [inp.year[t] for t in range(1, inp.T + 1)]

    rows = [(term, terms.BY_NAME[term].stage if term in terms.BY_NAME else "", labels[i], years[i], dfac[i],
             usd[i], usd[i] * dfac[i]) for term, usd in by_term.items() for i in range(inp.T)]
    cbp = pd.DataFrame(rows, columns=["term", "stage", "period", "year", "discount_factor", "cost_usd", "pv_usd"])
    cby = cbp.groupby(["term", "stage", "year"], as_index=False, sort=False)[["cost_usd", "pv_usd"]].sum()

    val = valuation_usd_per_kg(inp, plan)
    stocked = {e for (_, e) in plan.stocked}
    held = {(e, t): sum(plan.stock.get((p, e, t), 0.0) for p in inp.plants) for e in stocked for t in range(1, inp.T + 1)}
    wc = pd.DataFrame([(e, labels[t - 1], held[e, t], val[e], held[e, t] * K * val[e])
                       for e in case.elements if e in stocked for t in range(1, inp.T + 1)],
                      columns=["element", "period", "stock_t", "valuation_usd_per_kg", "value_usd"])

    bud = budget_by_period(inp, plan, by_term)
    brows = {}
    for c in BUDGET_CATEGORIES:
        for i, usd in enumerate(bud[c]):
            acc = brows.setdefault((years[i], c), [0.0, 0.0])
            acc[0] += usd
            acc[1] += usd * dfac[i]
    budget = pd.DataFrame([(y, c, u, p) for (y, c), (u, p) in sorted(brows.items(), key=lambda x: (x[0][0], BUDGET_CATEGORIES.index(x[0][1])))],
                          columns=["year", "category", "cost_usd", "pv_usd"])

    for name, df in zip(TABLES, (cbp, cby, wc, budget)):
        tables[name] = clean(df)
    kpis.update(_finance_kpis(case, float(cbp.pv_usd.sum()), sum(bud[DECIDED_NOW])))


def _finance_kpis(case, pv_usd: float, decided_now_usd: float) -> dict:
    return {
        "present_value_usd": round(pv_usd, 6),
        "discount_rate_frac_per_year": case.finance.discount_rate_frac_per_year,
        "present_value_date": f"{base_year(case):04d}-01-01",
        "spend_decided_now_usd": round(decided_now_usd, 6),
    }


EXPECTED = {  # stacked table -> (keys, value columns -> expected column names)
    "cost_by_period": (["term", "stage", "period", "year", "discount_factor"],
                       {"cost_usd": "expected_cost_usd", "pv_usd": "expected_pv_usd"}),
    "cost_by_year": (["term", "stage", "year"], {"cost_usd": "expected_cost_usd", "pv_usd": "expected_pv_usd"}),
    "working_capital": (["element", "period"], {"stock_t": "expected_stock_t", "value_usd": "expected_value_usd"}),
    "budget": (["year", "category"], {"cost_usd": "expected_cost_usd", "pv_usd": "expected_pv_usd"}),
}


def expected_table(df: pd.DataFrame, keys: list[str], values: dict[str, str]) -> pd.DataFrame:
    """sum_s p_s x value per key of a stacked table (``scenario`` and ``probability`` columns), keys in
    first-seen order; ``values`` maps each value column to its expected column's name."""
    w = df[keys].copy()
    for c, name in values.items():
        w[name] = df[c] * df["probability"]
    return w.groupby(keys, as_index=False, sort=False)[list(values.values())].sum()


def add_expected_costs(tables: dict, kpis: dict, cases) -> None:
    """A stochastic run: add ``<name>_expected`` of each stacked table of :data:`TABLES` and the KPIs
    (expected present value and spend decided now) to ``tables`` and ``kpis``."""
    from model.results.tables import clean

    if not all(n in tables for n in TABLES):
        return
    for name, (keys, values) in EXPECTED.items():
        tables[f"{name}_expected"] = clean(expected_table(tables[name], keys, values))
    b = tables["budget"]
    now = b[b.category == DECIDED_NOW]
    kpis.update(_finance_kpis(cases[0].case, float((tables["cost_by_period"].pv_usd * tables["cost_by_period"].probability).sum()),
                              float((now.cost_usd * now.probability).sum())))
