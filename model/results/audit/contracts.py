r"""Contract terms (``offers[].terms``, ``model.md`` §5.1): the ``contracts`` table and the reservation rules
the terms add, re-derived from their documented meaning (never from ``model.components.sets``).

The ``contracts`` table has one row per tranche signed, and no scenario columns even in a stochastic
run (tranches are first stage). Each row (``read_tranches``):

- ``table_integrity``: the table and its columns present; a known offer whose terms have tranches
  (``min_term_periods``); supplier and material as in the input; ``from_period`` / ``to_period`` labels
  inside the horizon with to = from + term - 1; no duplicate (offer, from, term);
- ``nonnegativity``: volume >= 0;
- ``supplier_capacity`` (violation: the tranche's volume, t/period): min term <= term <= max term
  (blank: T); start > notice; every period of the term has orders arriving inside the horizon (a term
  ends inside the horizon); take_or_pay_max_t = take-or-pay share x volume x term;
- ``cost_columns``: fee_usd = volume x term x fee x K; take_or_pay_max_usd = sum over scenarios of
  probability x take-or-pay share x volume x the term's prices x K (one scenario with probability 1
  in a deterministic run).

Per scenario, for each contract with terms, over the periods t whose orders arrive inside the horizon
(``check_reservations``, all under ``supplier_capacity``; r the ``reservations`` table's reserved_t):

- tranches: r[t] = committed + sum of the volumes of the tranches covering t;
- band: |r[t+1] - r[t]| <= max_change_t_per_period, or max_change_frac_per_period x the larger
  nominal capacity of t and t+1, for t and t+1 both such periods;
- notice: r[t] <= committed for t <= notice_periods;

and the take-or-pay cost (``take_or_pay_cost``, compared with the ``costs`` table's ``take_or_pay``
row under ``cost_terms``): sum over t of price x max(0, share x availability x r[t] - purchased[t]) x K,
as :mod:`.costing` states it per period.

Glossary: o offer, c its terms, s / L a tranche's start period and term (periods), v its volume
(t/period), T periods, K USD per t per USD/kg, ``scen`` the location prefix of a stochastic run.
"""

from __future__ import annotations

from .checks import MASS_ABS_T, K, fmt as _f, mass_tol, money_tol

COLUMNS = ("offer", "supplier", "material", "volume_t_per_period", "from_period", "to_period", "term_periods",
           "fee_usd", "take_or_pay_max_t", "take_or_pay_max_usd")
NUMBERS = ("volume_t_per_period", "term_periods", "fee_usd", "take_or_pay_max_t", "take_or_pay_max_usd")


def orderable(inp, o: str) -> list[int]:
    """The periods whose orders of offer o arrive inside the horizon."""
    return [t for t in range(1, inp.T + 1) if inp.arrival(o, t) <= inp.T]


def read_tranches(tables: dict, inputs: list, acc: dict, stochastic: bool) -> dict[str, list[tuple[int, int, float]]]:
    """offer -> [(start, term, volume)] from the ``contracts`` table, every row checked (module docstring)."""
    integrity, sc, costcol, nn = (acc["table_integrity"], acc["supplier_capacity"], acc["cost_columns"],
                                  acc["nonnegativity"])
    df = tables.get("contracts")
    if df is None:
        integrity.add(1, 0.0, "table contracts missing")
        return {}
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        integrity.add(1, 0.0, f"table contracts: columns {missing} missing")
        df = df.assign(**{c: (0.0 if c in NUMBERS else "") for c in missing})
    inp = inputs[0]
    weights = [(i, i.data.probability if stochastic else 1.0) for i in inputs]
    out: dict[str, list] = {}
    seen = set()
    for row in zip(*(df[c].tolist() for c in COLUMNS)):
        o, sup, mat, v, fp, tp, L, fee, top_t, top_usd = row
        off = inp.offers.get(o)
        if off is None:
            integrity.add(1, 0.0, lambda: f"table contracts: unknown offer {o!r}")
            continue
        c = off.terms
        if off.kind != "contract" or c is None or c.min_term_periods is None:
            integrity.add(1, 0.0, lambda: f"contracts: offer {o} has no tranche terms (terms.min_term_periods)")
            continue
        s, e = inp.t_of.get(fp), inp.t_of.get(tp)
        if s is None or e is None:
            integrity.add(1, 0.0, lambda: f"table contracts: offer {o}: period {fp!r} or {tp!r} outside the horizon")
            continue
        if (sup, mat) != (off.supplier, off.material):
            integrity.add(1, 0.0, lambda: f"contracts: offer {o} from {fp}: supplier, material {(sup, mat)} differ from the input")
        try:
            L = int(L)
        except (TypeError, ValueError):
            integrity.add(1, 0.0, lambda: f"contracts: offer {o} from {fp}: term_periods {L!r} is not a whole number")
            continue
        if e - s + 1 != L:
            integrity.add(1, 0.0, lambda: f"contracts: offer {o}: from {fp} to {tp} is not a term of {L} periods")
            continue
        if (o, s, L) in seen:
            integrity.add(1, 0.0, lambda: f"table contracts: duplicate key offer={o}, from_period={fp}, term_periods={L}")
            continue
        seen.add((o, s, L))
        v = float(v)
        if not v >= 0:
            nn.add(abs(v) if v == v else float("inf"), MASS_ABS_T,
                   lambda: f"table contracts: volume_t_per_period = {_f(v)} at offer={o}, from_period={fp}")
        longest = c.max_term_periods if c.max_term_periods is not None else inp.T
        x = abs(v)
        if not c.min_term_periods <= L <= longest:
            sc.add(x, mass_tol(x), lambda: f"contracts: offer {o} from {fp}: term {L} periods outside "
                                           f"[{c.min_term_periods}, {longest}], {_f(v)} t/period")
        if s <= c.notice_periods:
            sc.add(x, mass_tol(x), lambda: f"contracts: offer {o}: tranche starts in {fp}, within the notice of "
                                           f"{c.notice_periods} periods, {_f(v)} t/period")
        late = [t for t in range(s, e + 1) if inp.arrival(o, t) > inp.T]
        if late:
            sc.add(x, mass_tol(x), lambda: f"contracts: offer {o} from {fp} to {tp}: orders of {inp.lab(late[0])} "
                                           f"arrive after the horizon (a term ends inside it), {_f(v)} t/period")
        want_t = c.take_or_pay_frac * v * L
        sc.add(abs(float(top_t) - want_t), mass_tol(float(top_t), want_t),
               lambda: f"contracts: offer {o} from {fp}: take_or_pay_max_t {_f(top_t)}, recomputed {_f(want_t)}")
        want_fee = v * L * off.reservation_fee_usd_per_kg * K
        costcol.add(abs(float(fee) - want_fee), money_tol(float(fee), want_fee),
                    lambda: f"contracts: offer {o} from {fp}: fee_usd {_f(fee)}, recomputed {_f(want_fee)}")
        want_usd = sum(p * c.take_or_pay_frac * v * sum(i.data.price_usd_per_kg[o][t - 1] for t in range(s, e + 1)) * K
                       for i, p in weights)
        costcol.add(abs(float(top_usd) - want_usd), money_tol(float(top_usd), want_usd),
                    lambda: f"contracts: offer {o} from {fp}: take_or_pay_max_usd {_f(top_usd)}, recomputed {_f(want_usd)}")
        out.setdefault(o, []).append((s, L, v))
    return out


def check_reservations(inp, reserved: dict, tranches: dict, sc, scen: str) -> None:
    """Tranche sums, band and notice of every contract with terms, in one scenario (module docstring)."""
    cap, lab = inp.data.capacity_t_per_period, inp.lab
    for o, off in inp.offers.items():
        c = off.terms
        if off.kind != "contract" or c is None:
            continue
        ts = orderable(inp, o)
        r = {t: reserved.get((o, t), 0.0) for t in ts}
        committed = off.committed_t_per_period
        if c.min_term_periods is not None:
            mine = tranches.get(o, [])
            for t in ts:
                want = committed + sum(v for s, L, v in mine if s <= t <= s + L - 1)
                sc.add(abs(r[t] - want), mass_tol(r[t], want),
                       lambda t=t, want=want: f"{scen}offer {o}, {lab(t)}: reservation {_f(r[t])} t, committed "
                                              f"{_f(committed)} + tranches covering it {_f(want - committed)} t")
        if c.max_change_t_per_period is not None or c.max_change_frac_per_period is not None:
            for t in ts:
                if t + 1 not in r:
                    continue
                b = (c.max_change_t_per_period if c.max_change_t_per_period is not None
                     else c.max_change_frac_per_period * max(cap[o][t - 1], cap[o][t]))
                d = r[t + 1] - r[t]
                sc.add(abs(d) - b, mass_tol(r[t], r[t + 1], b),
                       lambda t=t, d=d, b=b: f"{scen}offer {o}: reservation changes by {_f(d)} t from {lab(t)} to "
                                             f"{lab(t + 1)}, band {_f(b)} t/period")
        for t in ts:
            if t <= c.notice_periods:
                sc.add(r[t] - committed, mass_tol(r[t], committed),
                       lambda t=t: f"{scen}offer {o}, {lab(t)}: reservation {_f(r[t])} t within the notice of "
                                   f"{c.notice_periods} periods, committed {_f(committed)} t")


def take_or_pay_cost(inp, reserved: dict, purchased: dict) -> float:
    """USD of take-or-pay in one scenario: the ``take_or_pay`` term of :func:`.costing.term_period_costs`
    summed over the periods."""
    from .costing import Plan, term_period_costs

    return sum(term_period_costs(inp, Plan(purchased=purchased, reserved=reserved))["take_or_pay"])

