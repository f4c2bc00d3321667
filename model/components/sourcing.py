r"""Sourcing: orders, contract reservations, supplier capacity and arrivals.

Glossary
--------
Purchase_t[o, t]               t of offer o's material ordered in period t (arrives in ``arrival_period[o, t]``)
Reserve_t_per_period[o, t]     contracts: t reserved for period t (first stage)
ElementArrivals_t[p, e, g, a]  t of element e of origin g arriving at plant p (the offer's) in period a (ELEMENT inflow)
ScrapArrivals_t[p, m, a]       t of scrap material m arriving at plant p in a (registered SCRAP inflow)
MagnetArrivals_t[p, m, g, a]   t of finished magnet m of origin g arriving at plant p in a (registered MAGNET inflow)
SpotCapacity[o, t]             spot: Purchase <= capacity x availability                   (t/period)
ContractCapacity[o, t]         contract: Reserve <= nominal capacity                      (t/period)
WithinReservation[o, t]        contract: Purchase <= availability x Reserve
MinimumTake[o, t]              contract with min_take_frac > 0: Purchase >= min_take_frac x availability x Reserve
CommittedReservation[o, t]     contract with committed_t_per_period > 0: Reserve >= committed (hard)
PurchaseCost_kusd              second-stage cost
ReservationFee_kusd            first-stage cost

Contract terms (``offers[].terms``; model.md §5.1; the index sets are in :mod:`model.components.sets`):

Tranche_t_per_period[o, s, L]  t/period signed for the L periods s..s+L-1 (first stage), (o, s, L) in TRANCHE;
                               without tranche terms one-period tranches (L = 1): the reservation month by month
TakeOrPayShortfall_t[o, t]     t of the take-or-pay share of the available reservation not bought (second stage),
                               (o, t) in TAKE_OR_PAY
ContractTranches[o, t]         Reserve = committed + sum of the tranches covering t     (t/period, TRANCHE_COVER)
ContractBandUp[o, t]           Reserve[o, t+1] - Reserve[o, t] <= band                  (t/period, CONTRACT_BAND)
ContractBandDown[o, t]         Reserve[o, t] - Reserve[o, t+1] <= band                  (t/period, CONTRACT_BAND)
TakeOrPay[o, t]                TakeOrPayShortfall >= top x availability x Reserve - Purchase        (t)
TakeOrPayCost_kusd             second-stage cost: sum of price x TakeOrPayShortfall

For a contract with terms the first-stage decisions are its tranches; its reservation is their sum (plus the
committed volume), a column pinned by ``ContractTranches`` rather than a first-stage column of its own, so no
row of the terms holds only first-stage columns (a first stage fixed and re-solved, as for the EEV, then
meets every row within the solver's tolerance). The notice needs no row: no tranche starts inside it.

Math
----
.. math::

    \mathrm{ElementArrivals}_{p,e,g,a} = \sum_{(o,t):\, p_o = p,\ g_o = g,\ a(o,t) = a} c_{m_o,e}\, \mathrm{Purchase}_{o,t}

    \mathrm{Purchase}_{o,t} \le a_{o,t}\,\mathrm{cap}_{o,t} \quad (\text{spot}), \qquad
    \mathrm{Reserve}_{o,t} \le \mathrm{cap}_{o,t},\
    \theta_o a_{o,t} \mathrm{Reserve}_{o,t} \le \mathrm{Purchase}_{o,t} \le a_{o,t} \mathrm{Reserve}_{o,t} \quad (\text{contract})

:math:`a_{o,t}` is the scenario's availability share (1 unless an event cuts it). The reservation
is first stage, so it is bounded by the nominal capacity; availability applies to what can be bought.

    \mathrm{PurchaseCost} = \sum_{o,t} p_{o,t}\, \mathrm{Purchase}_{o,t}, \qquad
    \mathrm{ReservationFee} = \sum_{o,t} f_o\, \mathrm{Reserve}_{o,t}

with :math:`c` in t element per t material, :math:`p, f` in USD/kg, so costs are in kUSD.
Prices are those of the order period.

Contract terms, with :math:`\bar r_o` the committed volume, :math:`b_{o,t}` the band, :math:`\tau_o` the
take-or-pay share and :math:`x_{o,s,L}` = ``Tranche_t_per_period``:

.. math::

    \mathrm{Reserve}_{o,t} = \bar r_o + \sum_{(s,L):\ s \le t \le s+L-1} x_{o,s,L}, \qquad
    |\mathrm{Reserve}_{o,t+1} - \mathrm{Reserve}_{o,t}| \le b_{o,t}, \qquad s \ge n_o + 1

    \mathrm{TakeOrPayShortfall}_{o,t} \ge \tau_o a_{o,t} \mathrm{Reserve}_{o,t} - \mathrm{Purchase}_{o,t}, \qquad
    \mathrm{TakeOrPayCost} = \sum_{o,t} p_{o,t}\, \mathrm{TakeOrPayShortfall}_{o,t}

A term ends inside the horizon (in a period whose orders still arrive in it): a term running past the
horizon would commit fees and take-or-pay the objective does not see. Without ``terms`` none of these
columns or rows exists.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model import terms
from model.input.data import CaseData
from model.components.catalogue import SUPPLIER_CAPACITY, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Balance, Registry
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("SpotCapacity", marginal=Marginal(SUPPLIER_CAPACITY, first, period_label),
                   infeasible=Infeasible("capacity of spot offer {0} in {1}", "offers[{0}].capacity_t_per_period")),
    ConstraintInfo("ContractCapacity", marginal=Marginal(SUPPLIER_CAPACITY, first, period_label),
                   infeasible=Infeasible("capacity of contract offer {0} in {1}", "offers[{0}].capacity_t_per_period")),
    ConstraintInfo("WithinReservation",
                   infeasible=Infeasible("purchases of offer {0} within its reservation in {1}", "offers[{0}]")),
    ConstraintInfo("MinimumTake", infeasible=Infeasible("minimum take of offer {0} in {1}", "offers[{0}].min_take_frac")),
    ConstraintInfo("CommittedReservation",
                   infeasible=Infeasible("committed reservation of offer {0} in {1}", "offers[{0}].committed_t_per_period")),
    ConstraintInfo("ContractTranches",
                   infeasible=Infeasible("reservation of offer {0} in {1} made of its committed volume and tranches",
                                         "offers[{0}].terms")),
    ConstraintInfo("ContractBandUp",
                   infeasible=Infeasible("band on the rise of offer {0}'s reservation after {1}", "offers[{0}].terms")),
    ConstraintInfo("ContractBandDown",
                   infeasible=Infeasible("band on the fall of offer {0}'s reservation after {1}", "offers[{0}].terms")),
    ConstraintInfo("TakeOrPay",
                   infeasible=Infeasible("take-or-pay of offer {0} in {1}", "offers[{0}].terms.take_or_pay_frac")),
)


def _kind(data: CaseData) -> dict:
    return {o.id: o for o in data.case.offers}


def _spot_capacity(data: CaseData, sets: ModelSets):
    offers, cap, avail = _kind(data), data.capacity_t_per_period, data.availability_frac
    return (((o, t), cap[o][t - 1] * avail[o][t - 1]) for o, t in sets.PURCHASE if offers[o].kind == "spot")


def _within_reservation(data: CaseData, sets: ModelSets):
    offers, avail = _kind(data), data.availability_frac
    return ((((o, t), (o, t)), avail[o][t - 1]) for o, t in sets.PURCHASE if offers[o].kind == "contract")


def _minimum_take(data: CaseData, sets: ModelSets):
    offers, avail = _kind(data), data.availability_frac
    return ((((o, t), (o, t)), offers[o].min_take_frac * avail[o][t - 1]) for o, t in sets.PURCHASE
            if offers[o].kind == "contract" and offers[o].min_take_frac > 0)


def _take_or_pay(data: CaseData, sets: ModelSets):
    offers, avail = _kind(data), data.availability_frac
    return ((((o, t), (o, t)), offers[o].terms.take_or_pay_frac * avail[o][t - 1]) for o, t in sets.TAKE_OR_PAY)


# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py): per constraint
# or cost, which series, at which index, as the rule above writes it
STAMP = (
    Stamp("SpotCapacity", "rhs", _spot_capacity),  # capacity x availability
    Stamp("ContractCapacity", "rhs", lambda d, s: ((k, d.capacity_t_per_period[k[0]][k[1] - 1]) for k in s.RESERVE)),
    Stamp("WithinReservation", "coef", _within_reservation, var="Reserve_t_per_period"),  # availability
    Stamp("MinimumTake", "coef", _minimum_take, var="Reserve_t_per_period"),  # min_take_frac x availability
    Stamp("ContractBandUp", "rhs", lambda d, s: s.CONTRACT_BAND.items()),  # the band (from the capacity)
    Stamp("ContractBandDown", "rhs", lambda d, s: s.CONTRACT_BAND.items()),
    Stamp("TakeOrPay", "coef", _take_or_pay, var="Reserve_t_per_period"),  # take_or_pay_frac x availability
    Stamp("Purchase_t", "cost", lambda d, s: ((k, d.price_usd_per_kg[k[0]][k[1] - 1]) for k in s.PURCHASE)),
    Stamp("TakeOrPayShortfall_t", "cost", lambda d, s: ((k, d.price_usd_per_kg[k[0]][k[1] - 1]) for k in s.TAKE_OR_PAY)),
)


def _grouped(keys, rows):
    out = defaultdict(list)
    for k, r in zip(keys, rows):
        out[k].append(r)
    return out


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    offers = {o.id: o for o in data.case.offers}
    price = data.price_usd_per_kg
    cap = data.capacity_t_per_period
    avail = data.availability_frac
    W = data.case.risk.non_anticipative_periods

    # Sets
    m.PURCHASE = pyo.Set(dimen=2, initialize=sets.PURCHASE, ordered=True)
    m.RESERVE = pyo.Set(dimen=2, initialize=sets.RESERVE, ordered=True)
    spot = [k for k in sets.PURCHASE if offers[k[0]].kind == "spot"]
    contract = [k for k in sets.PURCHASE if offers[k[0]].kind == "contract"]
    min_take = [k for k in contract if offers[k[0]].min_take_frac > 0]

    # Variables
    m.Purchase_t = pyo.Var(m.PURCHASE, domain=pyo.NonNegativeReals)
    m.Reserve_t_per_period = pyo.Var(m.RESERVE, domain=pyo.NonNegativeReals)

    # Constraints
    m.SpotCapacity = pyo.Constraint(spot, rule=lambda m, o, t: m.Purchase_t[o, t] <= cap[o][t - 1] * avail[o][t - 1])
    m.ContractCapacity = pyo.Constraint(
        m.RESERVE, rule=lambda m, o, t: m.Reserve_t_per_period[o, t] <= cap[o][t - 1]
    )
    m.WithinReservation = pyo.Constraint(
        contract, rule=lambda m, o, t: m.Purchase_t[o, t] <= avail[o][t - 1] * m.Reserve_t_per_period[o, t]
    )
    m.MinimumTake = pyo.Constraint(
        min_take,
        rule=lambda m, o, t: m.Purchase_t[o, t]
        >= offers[o].min_take_frac * avail[o][t - 1] * m.Reserve_t_per_period[o, t],
    )

    committed = [k for k in sets.RESERVE if offers[k[0]].committed_t_per_period > 0]
    m.CommittedReservation = pyo.Constraint(
        committed, rule=lambda m, o, t: m.Reserve_t_per_period[o, t] >= offers[o].committed_t_per_period
    )

    # Contract terms (model.md §5.1): every index set is empty for a case without terms
    m.TRANCHE = pyo.Set(dimen=3, initialize=sets.TRANCHE, ordered=True)
    m.Tranche_t_per_period = pyo.Var(m.TRANCHE, domain=pyo.NonNegativeReals)
    cover = sets.TRANCHE_COVER
    m.ContractTranches = pyo.Constraint(
        list(cover),
        rule=lambda m, o, t: m.Reserve_t_per_period[o, t]
        == offers[o].committed_t_per_period + sum(m.Tranche_t_per_period[o, s, L] for s, L in cover[o, t]),
    )
    band = sets.CONTRACT_BAND
    m.ContractBandUp = pyo.Constraint(
        list(band), rule=lambda m, o, t: m.Reserve_t_per_period[o, t + 1] - m.Reserve_t_per_period[o, t] <= band[o, t]
    )
    m.ContractBandDown = pyo.Constraint(
        list(band), rule=lambda m, o, t: m.Reserve_t_per_period[o, t] - m.Reserve_t_per_period[o, t + 1] <= band[o, t]
    )
    m.TakeOrPayShortfall_t = pyo.Var(list(sets.TAKE_OR_PAY), domain=pyo.NonNegativeReals)
    m.TakeOrPay = pyo.Constraint(
        list(sets.TAKE_OR_PAY),
        rule=lambda m, o, t: m.TakeOrPayShortfall_t[o, t]
        >= offers[o].terms.take_or_pay_frac * avail[o][t - 1] * m.Reserve_t_per_period[o, t] - m.Purchase_t[o, t],
    )

    # Arrivals (expressions), registered as balance inflows
    ea = sets.ELEM_ARRIVAL
    elem = _grouped(zip(ea.p, ea.e, ea.g, ea.a), zip(ea.frac, ea.o, ea.t))
    m.ElementArrivals_t = pyo.Expression(
        list(elem), rule=lambda m, p, e, g, a: sum(f * m.Purchase_t[o, t] for f, o, t in elem[p, e, g, a])
    )
    sa = sets.SCRAP_ARRIVAL
    scrap = _grouped(zip(sa.p, sa.material, sa.a), zip(sa.o, sa.t))
    m.ScrapArrivals_t = pyo.Expression(
        list(scrap), rule=lambda m, p, mat, a: sum(m.Purchase_t[o, t] for o, t in scrap[p, mat, a])
    )
    ma = sets.MAGNET_ARRIVAL
    mag = _grouped(zip(ma.p, ma.material, ma.g, ma.a), zip(ma.o, ma.t))
    m.MagnetArrivals_t = pyo.Expression(
        list(mag), rule=lambda m, p, mat, g, a: sum(m.Purchase_t[o, t] for o, t in mag[p, mat, g, a])
    )
    reg.add_inflow(Balance.ELEMENT, "arrivals", m.ElementArrivals_t)
    reg.add_inflow(Balance.SCRAP, "arrivals", m.ScrapArrivals_t)
    reg.add_inflow(Balance.MAGNET, "arrivals", m.MagnetArrivals_t)

    # Costs (kUSD)
    m.PurchaseCost_kusd = pyo.Expression(
        expr=sum(price[o][t - 1] * m.Purchase_t[o, t] for o, t in sets.PURCHASE)
    )
    m.ReservationFee_kusd = pyo.Expression(
        expr=sum(offers[o].reservation_fee_usd_per_kg * m.Reserve_t_per_period[o, t] for o, t in sets.RESERVE)
    )
    reg.add_cost(terms.PURCHASES, "second", m.PurchaseCost_kusd)
    reg.add_cost(terms.RESERVATION_FEES, "first", m.ReservationFee_kusd)
    m.TakeOrPayCost_kusd = pyo.Expression(
        expr=sum(price[o][t - 1] * m.TakeOrPayShortfall_t[o, t] for o, t in sets.TAKE_OR_PAY)
    )
    reg.add_cost(terms.TAKE_OR_PAY, "second", m.TakeOrPayCost_kusd)

    # First stage: every reservation (of a contract with terms: its tranches, whose sum it is) and the
    # orders inside the non-anticipative window
    reg.add_first_stage(m.Reserve_t_per_period[k] for k in sets.RESERVE if k not in cover)
    reg.add_first_stage(m.Purchase_t[k] for k in sets.PURCHASE if k[1] <= W)
    reg.add_first_stage(m.Tranche_t_per_period[k] for k in sets.TRANCHE)
