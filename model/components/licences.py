r"""Licences: export-licence quotas, and (through the index sets) eligibility.

Eligibility is structural: ``sets.USE`` and ``sets.MAGNET_USE`` only contain
(stream, origin) pairs whose licence admits the stream's end use in that
period, so a stream cannot draw ineligible material at all. A ``prohibited``
rule in force removes the pairs for its origin groups, materials and end uses;
element stock of origin g is ineligible for end use u in t when a prohibited
rule in force covers g, u and a material containing that element.

Quotas bound orders of covered materials from covered origin groups in each
period in force, all covered offers together. A case-by-case review lead time
is already in ``sets.arrival_period``.

Licences as granted (model.md §6.1). A rule naming ``suppliers`` covers only their offers and, while in
force, governs their orders in place of the rules naming no supplier (``sets`` lists, per order, the rules
governing it: only those count it against a quota or add a review lead time). A governing rule that does
not admit the company (``customers`` without ``company.customer_id``, ``validated_end_users_only`` for a
company that is not one) bars the order: it is not in ``sets.PURCHASE``, so it needs no row. A
``prohibited`` rule naming customers applies only to them; an ``admit`` scenario effect lifts a
prohibition over its window (``CaseData.admitted``). A licence with ``renewal`` that lapses (``renewed``
false, or a refused renewal: a scenario effect of kind ``renewal`` sets the quota factor to 0) has quota 0
from its lapse to the horizon end: :math:`h_{\ell,t}` = 0 for (rule, t) in ``sets.QUOTA_LAPSED``, else 1.

Glossary
--------
LicenceQuota[rule, t]   sum of Purchase_t[o, t] over the offers the rule governs in t
                        <= quota_t_per_period x approval_frac x quota factor x held  (t/period)

.. math::

    \sum_{o \in \mathcal{O}(r,t)} \mathrm{Purchase}_{o,t} \le q_r\, \pi_{r,t}\, \beta_{r,t}\, h_{r,t} \qquad \forall (r,t)\ \text{in force}

with :math:`q_r` the quota (t/period), :math:`\pi_{r,t}` the approval share (1 unless case-by-case),
:math:`\beta_{r,t}` the scenario's quota factor and :math:`h_{r,t}` 1 while the licence is held.
The dual of this row is the marginal value of one more t of licensed quota.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.input.data import CaseData
from model.components.catalogue import LICENCE_QUOTA, ConstraintInfo, Infeasible, Marginal, first, period_label
from model.components.registry import Registry
from model.components.sets import ModelSets
from model.stochastic.stamp import Stamp

CATALOGUE = (
    ConstraintInfo("LicenceQuota", marginal=Marginal(LICENCE_QUOTA, first, period_label),
                   infeasible=Infeasible("licence quota of rule {0} in {1} (0 once a licence with renewal lapses)",
                                         "licence_rules[{0}].quota_t_per_period")),
)



def _quota(data: CaseData, sets: ModelSets):
    """LicenceQuota's right-hand side, as the rule writes it."""
    rules = {r.id: r for r in data.case.licence_rules}
    lapsed = set(sets.QUOTA_LAPSED)
    return (((r, t), rules[r].quota_t_per_period * (data.approval_frac[r][t - 1] * data.quota_factor[r][t - 1]
                                                     * (0.0 if (r, t) in lapsed else 1.0))) for r, t in sets.QUOTA)


# What of the compiled scenario LP the scenario data write (model/stochastic/stamp.py)
STAMP = (Stamp("LicenceQuota", "rhs", _quota),)  # quota x approval x quota factor x held


def add_components(m: pyo.ConcreteModel, data: CaseData, sets: ModelSets, reg: Registry) -> None:
    rules = {r.id: r for r in data.case.licence_rules}
    quota = {r: reg.scalar(f"licence_rules[{r}].quota_t_per_period", rules[r].quota_t_per_period)
             for r in {k[0] for k in sets.QUOTA}}
    held = {k: 1.0 for k in sets.QUOTA} | {k: 0.0 for k in sets.QUOTA_LAPSED}  # h[rule, t]: 0 once lapsed
    m.QUOTA = pyo.Set(dimen=2, initialize=list(sets.QUOTA), ordered=True)
    m.LicenceQuota = pyo.Constraint(
        m.QUOTA,
        rule=lambda m, r, t: sum(m.Purchase_t[o, t] for o in sets.QUOTA[r, t])
        <= quota[r] * (data.approval_frac[r][t - 1] * data.quota_factor[r][t - 1] * held[r, t]),
    )
