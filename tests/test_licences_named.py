"""Licences as they are really granted (issue 15 part 1; model.md §6.1, §15): general licences to named
exporters for named customers, their term and renewal, and the scenario effects ``review_lead``,
``admit`` and ``renewal``. Each case is tiny and its optimum worked out by hand.

Every case starts from ``tests.tiny.base_case``: element X, grade G (0.5 t X per t magnet), plant yield 1
and no conversion cost, a civil stream ``s`` of 10 t magnet/period (shortage 100 USD/kg), oxide ``ox``
from ``a_spot`` (origin A, 10 USD/kg). So **making** 1 t magnet costs 0.5 t x 10 = 5 kUSD.

:func:`magnet_case` adds finished magnets ``mag`` of grade G from origin B (China in the story): ``jl``
sold by supplier "JL Mag" and ``nb`` by "Ningbo Yunsheng", both 4 USD/kg, so **buying** 1 t magnet costs
4 kUSD, 1 kUSD less than making it. The company is ``acme``. Without any licence rule a period costs
10 t x 4 = 40 kUSD. Units: t x USD/kg = kUSD (``objective_kusd``); ``objective_usd`` is x 1000.
"""

from __future__ import annotations

import pytest

from model.app.run import run_data, run_stochastic_data
from model.errors import InputError
from model.input.scenarios import mean_case, scenario_cases
from tests.tiny import base_case, make

REL, ABS = 1e-9, 1e-7


def approx(x):
    return pytest.approx(x, rel=REL, abs=ABS)


def magnet_case(periods: int = 1, offers=("jl", "nb")) -> dict:
    raw = base_case(periods)
    raw["materials"].append({"id": "mag", "kind": "magnet", "grade": "G"})
    names = {"jl": "JL Mag", "nb": "Ningbo Yunsheng"}
    for o in offers:
        raw["offers"].append({"id": o, "supplier": names[o], "country": "CN", "origin_group": "B", "material": "mag",
                              "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 4})
    raw["company"] = {"customer_id": "acme"}
    return raw


def rule(id_, regime, **kw) -> dict:
    r = {"id": id_, "origin_groups": ["B"], "materials": ["mag"], "end_uses": ["civil"], "regime": regime}
    return r | kw


def jl_general(**kw) -> dict:
    return rule("jl_general", "general", suppliers=["JL Mag"], customers=["acme"], quota_t_per_period=4) | kw


def solve(raw_or_data):
    data = make(raw_or_data) if isinstance(raw_or_data, dict) else raw_or_data
    run = run_data(data)
    assert run.solution.kpis["audit"]["passed"], [c for c in run.solution.kpis["audit"]["checks"] if not c["passed"]]
    return run


def cost_kusd(run) -> float:
    return run.solution.kpis["objective_usd"] / 1000


def scenario(raw: dict, name: str):
    return {c.scenario: c for c in scenario_cases(make(raw))}[name]


# --------------------------------------------------------------------------------------------
# named exporters and named customers
# --------------------------------------------------------------------------------------------


def test_named_exporter_general_licence_admits_one_supplier_and_not_another():
    """Individual licences (case-by-case) for all of B's magnets take a review of 1 period, so in T = 1
    no order under them can arrive; JL Mag holds a general licence for acme of 4 t/period.

    The named rule governs JL Mag's orders in place of the blanket rule (no review), so
      jl: 4 t at 4 USD/kg = 16 kUSD (quota binding); make the other 6 t: 6 x 5 = 30 kUSD; cost 46 kUSD.
      nb: governed by the blanket rule only: arrival 1 + 1 = 2 > T, so (nb, 1) cannot be ordered.
    Dual of LicenceQuota[jl_general, 1]: one more t bought replaces 1 t made: 5 - 4 = 1 kUSD/t saved.
    The same rule without `suppliers` is a blanket rule too: both blanket rules govern both offers, the
    review applies, nothing is bought: 10 t made = 50 kUSD.
    """
    raw = magnet_case()
    raw["licence_rules"] = [rule("cn_individual", "case_by_case", quota_t_per_period=100, review_lead_time_periods=1),
                            jl_general()]
    run = solve(raw)
    b = run.built
    assert ("jl", 1) in b.sets.PURCHASE and ("nb", 1) not in b.sets.PURCHASE
    assert b.sets.QUOTA[("jl_general", 1)] == ("jl",)
    assert ("cn_individual", 1) not in b.sets.QUOTA
    assert cost_kusd(run) == approx(46.0)
    pur = run.solution.tables["purchases"]
    assert pur.set_index("offer").purchased_t["jl"] == approx(4.0)
    assert b.model.dual[b.model.LicenceQuota["jl_general", 1]] == approx(-1.0)

    blanket = magnet_case()
    blanket["licence_rules"] = [raw["licence_rules"][0], jl_general(suppliers=None, customers=None)]
    run2 = solve(blanket)
    assert not {("jl", 1), ("nb", 1)} & set(run2.built.sets.PURCHASE)
    assert cost_kusd(run2) == approx(50.0)


@pytest.mark.parametrize("customers, validated_only, validated, admitted, cost", [
    (["bmw"], False, False, False, 50.0),          # acme not named: jl barred, make 10 t = 50
    (["acme", "bmw"], False, False, True, 46.0),   # named: 4 t x 4 + 6 t x 5 = 46
    (None, True, False, False, 50.0),              # validated end users only, acme is not one: barred
    (None, True, True, True, 46.0),                # acme is a validated end user: admitted
])
def test_company_not_among_a_rules_customers_is_not_admitted(customers, validated_only, validated, admitted, cost):
    """One offer (JL Mag, 4 USD/kg); a general licence of 4 t/period for the customers named.

    Not admitted: the order (jl, 1) does not exist; all 10 t are made at 5 kUSD/t = 50 kUSD.
    Admitted: 4 t bought (16 kUSD) + 6 t made (30 kUSD) = 46 kUSD.
    """
    raw = magnet_case(offers=("jl",))
    raw["company"] = {"customer_id": "acme", "validated_end_user": validated}
    raw["licence_rules"] = [jl_general(customers=customers, validated_end_users_only=validated_only)]
    run = solve(raw)
    assert (("jl", 1) in run.built.sets.PURCHASE) is admitted
    assert cost_kusd(run) == approx(cost)


def test_prohibition_naming_customers_applies_only_to_them():
    """A prohibition of B's magnets for civil use naming customer `bmw` does not bar acme: buy 10 t at 4
    = 40 kUSD; naming `acme` bars it: MagnetUse (s, mag, B, 1) does not exist, make 10 t = 50 kUSD."""
    for customers, cost in ((["bmw"], 40.0), (["acme"], 50.0)):
        raw = magnet_case(offers=("jl",))
        raw["licence_rules"] = [rule("deny", "prohibited", customers=customers)]
        run = solve(raw)
        assert cost_kusd(run) == approx(cost)
        assert (("s", "mag", "B", 1) in run.built.sets.MAGNET_USE) is (cost == 40.0)


# --------------------------------------------------------------------------------------------
# term and renewal
# --------------------------------------------------------------------------------------------


def renewal_case(first_due: str = "2027-03", quota: float = 4.0, renewed: bool = True) -> dict:
    raw = magnet_case(periods=4, offers=("jl",))
    raw["licence_rules"] = [jl_general(quota_t_per_period=quota,
                                       renewal={"every_periods": 2, "first_due": first_due, "renewed": renewed})]
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "renewed", "probability": 0.5},
        {"name": "refused", "probability": 0.5, "effects": [
            {"kind": "renewal", "select": {"licence_rules": ["jl_general"]}, "start": "2027-02"}]},
    ]}
    return raw


def test_refused_renewal_mid_horizon_raises_cost():
    """T = 4; JL Mag's general licence (4 t/period) falls due in 2027-03 (period 3), then every 2 periods.

    renewed: every period 4 t x 4 + 6 t x 5 = 46 kUSD: 4 x 46 = 184 kUSD.
    refused (the first due date in the window from 2027-02, period 3): quota 0 in periods 3 and 4, so
      46 + 46 + 50 + 50 = 192 kUSD: 8 kUSD more = 2 periods x 4 t x (5 - 4).
    Stochastic with W = 0 (nothing decided before the scenario is known): expected = (184 + 192) / 2 = 188.
    `renewed: false` in the input gives the refused plan without any scenario: 192 kUSD.
    """
    raw = renewal_case()
    refused = scenario(raw, "refused")
    assert refused.quota_factor["jl_general"] == (1.0, 1.0, 0.0, 0.0)
    assert cost_kusd(solve(scenario(raw, "renewed"))) == approx(184.0)
    assert cost_kusd(solve(refused)) == approx(192.0)
    st = run_stochastic_data(make(raw), evpi_vss=False)
    assert st.solution.kpis["audit"]["passed"]
    assert st.solution.kpis["expected_cost_usd"] / 1000 == approx(188.0)

    lapsed = renewal_case(renewed=False)
    del lapsed["scenarios"]
    run = solve(lapsed)
    assert run.built.sets.QUOTA_LAPSED == (("jl_general", 3), ("jl_general", 4))
    assert cost_kusd(run) == approx(192.0)


@pytest.mark.parametrize("first_due", ["2027-02", "2027-03", "2027-04"])
@pytest.mark.parametrize("quota", [0.0, 2.0, 4.0, 20.0])
def test_property_a_refused_renewal_never_lowers_cost(first_due, quota):
    """Refusing a renewal only removes quota, so the refused scenario's optimum is never below the
    renewed one's; it is higher by (periods after the due date) x min(quota, 10) x 1 kUSD."""
    raw = renewal_case(first_due=first_due, quota=quota)
    renewed, refused = cost_kusd(solve(scenario(raw, "renewed"))), cost_kusd(solve(scenario(raw, "refused")))
    after = 4 - int(first_due[-2:]) + 1
    assert refused >= renewed - 1e-9
    assert refused - renewed == approx(after * min(quota, 10.0) * 1.0)


# --------------------------------------------------------------------------------------------
# scenario effects: admit, review_lead
# --------------------------------------------------------------------------------------------


def test_admit_effect_lifting_a_prohibition_lowers_cost():
    """B sells oxide at 8 USD/kg, but B's oxide is prohibited for civil use; T = 2.

    As read: 5 t X from A at 10 = 50 kUSD per period, 100 kUSD.
    Scenario `lifted` (admit from 2027-02): period 2 takes 5 t from B at 8 = 40 kUSD: 50 + 40 = 90 kUSD.
    Use_t (s, X, B, t) exists only where the prohibition is lifted (t = 2).
    """
    raw = base_case(2)
    raw["offers"].append({"id": "b_spot", "supplier": "SB", "country": "BB", "origin_group": "B", "material": "ox",
                          "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": 8})
    raw["licence_rules"] = [{"id": "no_b", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "prohibited"}]
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "as_is", "probability": 0.6},
        {"name": "lifted", "probability": 0.4, "effects": [
            {"kind": "admit", "select": {"licence_rules": ["no_b"]}, "start": "2027-02"}]},
    ]}
    as_is, lifted = solve(scenario(raw, "as_is")), solve(scenario(raw, "lifted"))
    assert cost_kusd(as_is) == approx(100.0)
    assert cost_kusd(lifted) == approx(90.0)
    use = set(lifted.built.sets.USE)
    assert ("s", "X", "B", 2) in use and ("s", "X", "B", 1) not in use
    assert mean_case(scenario_cases(make(raw))).admitted["no_b"] == (0.0, 0.0)  # lifted with p 0.4 < 1/2


def test_review_lead_effect_delays_arrivals():
    """A case-by-case licence on A's oxide (quota 100, review 0); scenario `slow` sets its review lead
    time to 1 for orders placed from 2027-02; T = 3, no stockpile.

    As read: 5 t X bought and used each period: 3 x 50 = 150 kUSD.
    slow: the order of period 1 arrives in 1 (50 kUSD); the order of period 2 arrives in 3 (50 kUSD); an
      order of period 3 would arrive in 4 > T (no such order); period 2 gets nothing: 10 t short x 100 =
      1000 kUSD. Cost 50 + 1000 + 50 = 1100 kUSD.
    Expected-value case with p(slow) = 0.6: the median review lead time, 1 from period 2.
    """
    raw = base_case(3)
    raw["licence_rules"] = [{"id": "cbc", "origin_groups": ["A"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "case_by_case", "quota_t_per_period": 100}]
    raw["scenarios"] = {"mode": "listed", "listed": [
        {"name": "as_is", "probability": 0.4},
        {"name": "slow", "probability": 0.6, "effects": [
            {"kind": "review_lead", "select": {"licence_rules": ["cbc"]}, "review_lead_time_periods": 1,
             "start": "2027-02"}]},
    ]}
    assert cost_kusd(solve(scenario(raw, "as_is"))) == approx(150.0)
    slow = solve(scenario(raw, "slow"))
    sets = slow.built.sets
    assert sets.arrival_period[("a_spot", 1)] == 1 and sets.arrival_period[("a_spot", 2)] == 3
    assert ("a_spot", 3) not in sets.PURCHASE
    assert cost_kusd(slow) == approx(1100.0)
    pur = slow.solution.tables["purchases"]
    assert list(pur.arrival_period) == ["2027-01", "2027-03"]
    assert mean_case(scenario_cases(make(raw))).review_lead_periods["cbc"] == (0.0, 1.0, 1.0)


# --------------------------------------------------------------------------------------------
# validation: one line per problem
# --------------------------------------------------------------------------------------------


def issue_lines(raw) -> list[str]:
    with pytest.raises(InputError) as e:
        make(raw)
    lines = [i.line() for i in e.value.issues]
    assert lines and all("\n" not in ln for ln in lines)
    return lines


def test_bad_named_licences_and_effects_are_one_line_each():
    raw = magnet_case(periods=3)
    del raw["company"]
    raw["licence_rules"] = [
        jl_general(suppliers=["Nobody"]),                                         # unknown supplier; no company
        rule("deny", "prohibited", suppliers=["JL Mag"]),                         # suppliers on a prohibition
        rule("free_r", "free", renewal={"every_periods": 1}),                     # renewal on a free rule
    ]
    raw["scenarios"] = {"mode": "listed", "listed": [{"name": "x", "probability": 1.0, "effects": [
        {"kind": "admit", "select": {"licence_rules": ["free_r"]}, "start": "2027-02"},
        {"kind": "review_lead", "select": {"licence_rules": ["jl_general"]}, "start": "2027-02"},
        {"kind": "renewal", "select": {"licence_rules": ["jl_general"]}, "start": "2027-02", "factor": 2},
    ]}]}
    lines = issue_lines(raw)
    want = [
        "licence_rules[jl_general].suppliers = 'Nobody': expected a known supplier of an offer",
        "licence_rules[jl_general].customers = ['acme']: expected a `company` block",
        "licence_rules[deny].suppliers = ['JL Mag']: expected no suppliers for a prohibited rule",
        "licence_rules[free_r].renewal = 'given': expected no renewal for regime free",
        "effects[0].select = 'no such rule selected': expected a selection with a prohibited rule",
        "effects[1].review_lead_time_periods = '(blank)': expected a value for an effect of kind review_lead",
        "effects[1].select = 'no such rule selected': expected a selection with a case_by_case rule",
        "effects[2].factor = 2.0: expected no factor for an effect of kind renewal",
        "effects[2].select = 'no such rule selected': expected a selection with a rule that has `renewal`",
    ]
    for w in want:
        assert any(w in ln for ln in lines), (w, lines)


# --------------------------------------------------------------------------------------------
# the audit catches a violated grant
# --------------------------------------------------------------------------------------------


def test_audit_catches_an_order_a_licence_does_not_admit_and_a_lapsed_quota():
    """Tampered tables: an order of Ningbo's magnets (barred: governed by the blanket rule that names
    `bmw` only) fails ``eligibility``; buying 4 t from JL Mag after its licence lapsed fails
    ``licence_quota``."""
    from dataclasses import replace

    import pandas as pd

    from model.results.audit import audit_run
    from model.results.tables import Solution

    def tamper(run, name, df):
        return replace(run, solution=Solution(tables=dict(run.solution.tables) | {name: df}, kpis=run.solution.kpis))

    raw = magnet_case(periods=4)
    raw["licence_rules"] = [rule("others", "general", customers=["bmw"], quota_t_per_period=100),
                            jl_general(renewal={"every_periods": 2, "renewed": False})]  # lapses in period 3
    run = solve(raw)
    assert cost_kusd(run) == approx(2 * 46.0 + 2 * 50.0)
    pur = run.solution.tables["purchases"]
    row = pur[pur.offer == "jl"].iloc[[0]].assign(offer="nb", supplier="Ningbo Yunsheng", purchased_t=1.0,
                                                  cost_usd=4000.0)
    bad = {c.name: c for c in audit_run(tamper(run, "purchases", pd.concat([pur, row], ignore_index=True))).checks
           if not c.passed}
    assert "eligibility" in bad and "do not admit the company" in bad["eligibility"].detail
    assert "offer nb" in bad["eligibility"].detail and "others" in bad["eligibility"].detail

    jl3 = (pur.offer == "jl") & (pur.order_period == "2027-03")
    assert pur[jl3].purchased_t.iloc[0] == approx(0.0)
    pur2 = pur.copy()
    pur2.loc[jl3, "purchased_t"] = 4.0
    pur2.loc[jl3, "cost_usd"] = 16000.0
    bad = {c.name: c for c in audit_run(tamper(run, "purchases", pur2)).checks if not c.passed}
    assert "licence_quota" in bad and "lapsed licence" in bad["licence_quota"].detail
