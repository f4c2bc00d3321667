"""Several plants (issue 15 part 2; model.md §7.1): plants in countries, licence rules by destination country,
lanes between plants for element stock and finished magnets, per-plant limits and results. Each case is tiny
and its optimum worked out by hand.

:func:`two_plants` starts from ``tests.tiny.base_case`` (element X, grade G needing 0.5 t X per t magnet,
shortage 100 USD/kg) with two plants, ``us`` (country US) and ``jp`` (country JP), both yield 1, capacity
1000 t/period, no conversion cost, one civil stream each of 10 t magnet/period (``s_us``, ``s_jp``), and oxide
``ox`` (1 t X per t) of origin A at 10 USD/kg delivered to each (``a_us``, ``a_jp``). So each plant's stream
costs 5 t x 10 USD/kg = 50 kUSD per period, 100 kUSD for both. Units: t x USD/kg = kUSD.
"""

from __future__ import annotations

import copy

import pytest

from model.app.run import run_data
from model.errors import InputError
from tests.tiny import base_case, make

REL, ABS = 1e-9, 1e-7


def approx(x):
    return pytest.approx(x, rel=REL, abs=ABS)


def offer(id_, plant, origin="A", price=10.0, material="ox", **kw) -> dict:
    return {"id": id_, "supplier": f"S{origin}", "country": {"A": "AA", "B": "CN"}[origin], "origin_group": origin,
            "material": material, "kind": "spot", "capacity_t_per_period": 100, "price_usd_per_kg": price,
            "plant": plant} | kw


def two_plants(periods: int = 1) -> dict:
    raw = base_case(periods)
    del raw["plant"]
    raw["plants"] = [{"id": "us", "country": "US", "capacity_t_per_period": 1000, "yield_frac": 1.0},
                     {"id": "jp", "country": "JP", "capacity_t_per_period": 1000, "yield_frac": 1.0}]
    raw["streams"] = [{"id": f"s_{p}", "grade": "G", "end_use": "civil", "demand_t_per_period": 10,
                       "shortage_cost_usd_per_kg": 100, "plant": p} for p in ("us", "jp")]
    raw["offers"] = [offer("a_us", "us"), offer("a_jp", "jp")]
    return raw


def solve(raw: dict):
    run = run_data(make(raw))
    assert run.solution.kpis["audit"]["passed"], [c for c in run.solution.kpis["audit"]["checks"] if not c["passed"]]
    return run


def cost_kusd(run) -> float:
    return run.solution.kpis["objective_usd"] / 1000


def bought(run) -> dict:
    return run.solution.tables["purchases"].groupby("offer").purchased_t.sum().to_dict()


def test_one_plant_written_as_plants_is_the_plant_case():
    """``plant:`` and a one-entry ``plants:`` are the same case: 5 t x 10 USD/kg = 50 kUSD either way, the same
    plan; the plant's id names it in the per-plant results."""
    one = solve(base_case(2))
    raw = base_case(2)
    raw["plants"] = [dict(raw.pop("plant"), id="mill", country="DE")]
    listed = solve(raw)
    assert cost_kusd(one) == approx(100.0) and cost_kusd(listed) == approx(100.0)
    assert bought(one) == bought(listed)
    assert set(listed.solution.tables["plants"].plant) == {"mill"}
    assert listed.solution.kpis["plants"]["mill"]["made_t"] == approx(20.0)
    assert one.solution.kpis["plants"]["plant"]["made_t"] == approx(20.0)


def test_each_plant_is_supplied_by_what_is_delivered_to_it():
    """Two plants, each supplied only by its own offer: 50 + 50 = 100 kUSD. With ``a_jp`` gone, ``jp`` has no
    supply and no lane: its 10 t are short, 10 t x 100 USD/kg = 1,000 kUSD, plus ``us``'s 50: 1,050 kUSD."""
    assert cost_kusd(solve(two_plants())) == approx(100.0)
    raw = two_plants()
    raw["offers"] = [offer("a_us", "us")]
    run = solve(raw)
    assert cost_kusd(run) == approx(1050.0)
    k = run.solution.kpis["plants"]
    assert k["jp"]["shortage_t"] == approx(10.0) and k["us"]["shortage_t"] == approx(0.0)
    assert k["jp"]["fill_rate"] == approx(0.0) and k["us"]["fill_rate"] == approx(1.0)


def test_destination_country_rule_binds_one_plant_and_not_the_other():
    """Cheaper China-origin oxide (origin B, 6 USD/kg) is delivered to both plants. A prohibition of B for civil
    use with ``destination_countries: [JP]`` bars its use at ``jp`` only:
      us: 5 t B x 6 = 30 kUSD; jp: 5 t A x 10 = 50 kUSD; total 80 kUSD (without the rule 60: both on B).
    A general licence for B with ``destination_countries: [JP]`` and a quota of 2 t/period instead caps only the
    orders delivered to jp: jp 2 t B x 6 + 3 t A x 10 = 42, us 5 t B x 6 = 30: 72 kUSD."""
    raw = two_plants()
    raw["offers"] += [offer("b_us", "us", "B", 6.0), offer("b_jp", "jp", "B", 6.0)]
    assert cost_kusd(solve(raw)) == approx(60.0)

    barred = copy.deepcopy(raw)
    barred["licence_rules"] = [{"id": "no_b_to_japan", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"],
                                "regime": "prohibited", "destination_countries": ["JP"]}]
    run = solve(barred)
    assert cost_kusd(run) == approx(80.0)
    use = set(run.built.sets.USE)
    assert ("s_jp", "X", "B", 1) not in use and ("s_us", "X", "B", 1) in use
    assert bought(run)["b_us"] == approx(5.0) and bought(run)["a_jp"] == approx(5.0)

    quota = copy.deepcopy(raw)
    quota["licence_rules"] = [{"id": "b_to_japan", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"],
                               "regime": "general", "quota_t_per_period": 2, "destination_countries": ["JP"]}]
    run = solve(quota)
    assert cost_kusd(run) == approx(72.0)
    assert run.built.sets.QUOTA[("b_to_japan", 1)] == ("b_jp",)
    assert bought(run)["b_jp"] == approx(2.0) and bought(run)["a_jp"] == approx(3.0)


def test_a_licence_for_a_named_plant_admits_its_orders_only():
    """A general licence for B's oxide naming the customer ``jp`` (the plant, not the company ``acme``) admits
    orders delivered to jp and bars those delivered to us: us 5 t A x 10 = 50, jp 5 t B x 6 = 30: 80 kUSD."""
    raw = two_plants()
    raw["offers"] += [offer("b_us", "us", "B", 6.0), offer("b_jp", "jp", "B", 6.0)]
    raw["company"] = {"customer_id": "acme"}
    raw["licence_rules"] = [{"id": "b_for_jp", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"],
                             "regime": "general", "quota_t_per_period": 100, "customers": ["jp"]}]
    run = solve(raw)
    assert ("b_us", 1) not in run.built.sets.PURCHASE and ("b_jp", 1) in run.built.sets.PURCHASE
    assert cost_kusd(run) == approx(80.0)


def test_element_transfer_between_plants():
    """Only ``us`` has an offer; a lane us -> jp costs 1 USD/kg.
    Lead 0, T = 1: us buys 10 t (100 kUSD), sends 5 t (5 kUSD): 105 kUSD (shortage at jp would cost 1,000).
    Lead 1, T = 2: jp is short in period 1 (10 t x 100 = 1,000); us buys 5 + 5 for itself (100) and 5 t in period
    1 for jp, sent then and received in period 2 (50 + 5): 1,155 kUSD."""
    raw = two_plants()
    raw["offers"] = [offer("a_us", "us")]
    raw["transfers"] = [{"id": "us_jp", "from_plant": "us", "to_plant": "jp", "cost_usd_per_kg": 1}]
    run = solve(raw)
    assert cost_kusd(run) == approx(105.0)
    tr = run.solution.tables["transfers"]
    assert list(tr.moved_t) == approx([5.0]) and list(tr.kind) == ["element"] and list(tr.cost_usd) == approx([5000.0])
    assert run.solution.kpis["cost_parts_usd"]["transfer"] == approx(5000.0)

    slow = two_plants(2)
    slow["offers"] = [offer("a_us", "us")]
    slow["transfers"] = [{"id": "us_jp", "from_plant": "us", "to_plant": "jp", "cost_usd_per_kg": 1, "lead_time_periods": 1}]
    run = solve(slow)
    assert cost_kusd(run) == approx(1155.0)
    tr = run.solution.tables["transfers"]
    assert list(zip(tr.sent_period, tr.arrival_period, tr.moved_t)) == [("2027-01", "2027-02", approx(5.0))]


def test_finished_magnets_move_between_plants():
    """Finished magnets of G (origin B, 4 USD/kg) are delivered to us only; a lane us -> jp at 0.5 USD/kg.
    us buys 10 t magnets (40 kUSD) for itself; for jp, buying and moving costs 4.5 < making 5: 45 kUSD.
    Total 85 kUSD."""
    raw = two_plants()
    raw["materials"].append({"id": "mag", "kind": "magnet", "grade": "G"})
    raw["offers"].append(offer("m_us", "us", "B", 4.0, material="mag"))
    raw["transfers"] = [{"id": "us_jp", "from_plant": "us", "to_plant": "jp", "cost_usd_per_kg": 0.5}]
    run = solve(raw)
    assert cost_kusd(run) == approx(85.0)
    tr = run.solution.tables["transfers"]
    assert list(zip(tr.kind, tr.item, tr.moved_t)) == [("magnet", "mag", approx(10.0))]


def test_adding_a_plant_with_stock_never_raises_cost():
    """Property, with its hand-computed instance: us has no stock capacity and X costs 5 USD/kg in period 1 and
    20 in period 2 (one plant: 5 t x 5 + 5 t x 20 = 125 kUSD). Adding a depot plant with a 100 t stockpile and
    free lanes both ways lets us buy 10 t in period 1 (50 kUSD), park 5 t at the depot and bring it back: 50
    kUSD. Adding a plant adds columns and no row that binds the old plan, so the cost never rises."""
    def case(depot: bool) -> dict:
        raw = base_case(2)
        del raw["plant"]
        raw["plants"] = [{"id": "us", "country": "US", "capacity_t_per_period": 1000, "yield_frac": 1.0}]
        raw["streams"][0]["plant"] = "us"
        raw["offers"] = [offer("a_us", "us", price=None)]
        del raw["offers"][0]["price_usd_per_kg"]
        raw["overrides"] = {}
        if depot:
            raw["plants"].append({"id": "depot", "country": "US", "capacity_t_per_period": 0, "yield_frac": 1.0})
            raw["stockpile"] = [{"element": "X", "plant": "depot", "capacity_t": 100}]
            raw["transfers"] = [{"id": "in", "from_plant": "us", "to_plant": "depot"},
                                {"id": "out", "from_plant": "depot", "to_plant": "us"}]
        return raw

    import tempfile
    from pathlib import Path

    from model.input.io import case_from_mapping

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "price.csv").write_text("period,a_us\n2027-01,5\n2027-02,20\n")
        costs = []
        for depot in (False, True):
            raw = case(depot)
            raw["timeseries"] = {"price": "price.csv"}
            run = run_data(case_from_mapping(raw, Path(d) / "case.yaml"))
            assert run.solution.kpis["audit"]["passed"]
            costs.append(cost_kusd(run))
    assert costs == [approx(125.0), approx(50.0)]
    assert costs[1] <= costs[0]


def test_a_diversification_limit_of_one_plant():
    """B's oxide (6 USD/kg) at both plants; a limit of B's share to 0.4 at ``jp`` only: jp buys 2 t B + 3 t A
    (12 + 30 = 42), us 5 t B (30): 72 kUSD. The same limit for all plants: 4 t B + 6 t A in all,
    24 + 60 = 84 kUSD."""
    raw = two_plants()
    raw["offers"] += [offer("b_us", "us", "B", 6.0), offer("b_jp", "jp", "B", 6.0)]
    lim = {"id": "b_share", "group_by": "origin_group", "value": "B", "max_share_frac": 0.4, "plant": "jp"}
    raw["diversification_limits"] = [lim]
    assert cost_kusd(solve(raw)) == approx(72.0)
    raw["diversification_limits"] = [{k: v for k, v in lim.items() if k != "plant"}]
    assert cost_kusd(solve(raw)) == approx(84.0)


def test_in_transit_order_arrives_at_its_offers_plant():
    """5 t of ``a_jp``'s oxide are in transit, arriving in period 1: jp needs nothing more, us buys its 5 t:
    50 kUSD."""
    raw = two_plants()
    raw["in_transit"] = [{"offer": "a_jp", "arrival_period": "2027-01", "quantity_t": 5}]
    run = solve(raw)
    assert cost_kusd(run) == approx(50.0)
    assert bought(run).get("a_jp", 0.0) == approx(0.0)


@pytest.mark.parametrize("edit, field, expected", [
    (lambda r: r["streams"][0].pop("plant"), "streams[s_us].plant", "the plant it belongs to"),
    (lambda r: r["offers"][0].update(plant="mx"), "offers[a_us].plant", "a known plant"),
    (lambda r: r["plants"][1].update(grades=["H"]), "plants[jp].grades", "a known grade"),
    (lambda r: r.update(plant={"yield_frac": 1.0}), "plants", "a `plant` block or a `plants` list, not both"),
    (lambda r: r.update(transfers=[{"id": "x", "from_plant": "us", "to_plant": "us"}]), "transfers[x].to_plant",
     "a plant other than from_plant"),
    (lambda r: r["plants"][1].update(id="a_us"), "plants[a_us].id", "an id not used by an offer"),
])
def test_bad_plant_inputs_are_one_line_each(edit, field, expected):
    raw = two_plants()
    edit(raw)
    with pytest.raises(InputError) as e:
        make(raw)
    lines = [str(i) for i in e.value.issues if field in str(i)]
    assert lines and expected in lines[0], [str(i) for i in e.value.issues]


def test_reports_show_results_per_plant_and_licences_by_exporter_and_customer():
    """The destination case above: summary.md has a row per plant (us makes 10 t on 5 t of B, jp 10 t on A) and
    a row per licence saying whom it was granted to and where it applies; report.html has both sections."""
    from model.report.html import render_html
    from model.report.markdown import summary_markdown
    from model.report.plants_view import licence_table, plant_table

    raw = two_plants()
    raw["offers"] += [offer("b_us", "us", "B", 6.0), offer("b_jp", "jp", "B", 6.0)]
    raw["company"] = {"customer_id": "acme"}
    raw["licence_rules"] = [
        {"id": "no_b_to_japan", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"],
         "regime": "prohibited", "destination_countries": ["JP"]},
        {"id": "b_general_named", "origin_groups": ["B"], "materials": ["ox"], "end_uses": ["civil"], "regime": "general",
         "suppliers": ["SB"], "customers": ["acme"], "quota_t_per_period": 100,
         "renewal": {"every_periods": 1, "first_due": "2027-01"}}]
    raw["risk"]["non_anticipative_periods"] = 1  # the orders of period 1 are decided now: "Orders to place now"
    run = solve(raw)
    pl = plant_table(run).set_index("plant")
    assert pl.loc["us", "made (t)"] == approx(10.0) and pl.loc["jp", "made (t)"] == approx(10.0)
    assert pl.loc["jp", "country"] == "JP" and pl.loc["us", "fill rate (%)"] == approx(100.0)
    lic = licence_table(run).set_index("licence")
    assert lic.loc["no_b_to_japan", "destinations"] == "JP"
    assert lic.loc["no_b_to_japan", "for this company"] == "applies at jp"
    assert lic.loc["b_general_named", "exporters"] == "SB" and lic.loc["b_general_named", "customers"] == "acme"
    assert lic.loc["b_general_named", "renewal"] == "every 1 periods, first due 2027-01; renewed"
    assert lic.loc["b_general_named", "ordered under it (t)"] == "5.00"  # b_us's 5 t; b_jp's B cannot be used at jp
    md = summary_markdown(run)
    assert "## Results per plant" in md and "## Licences by exporter and customer" in md
    assert "| deliver to |" in md
    page = render_html(run, {})
    assert 'id="plants"' in page and 'id="licences"' in page
