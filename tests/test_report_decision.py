"""The report leads with the decision (issue 13): what to sign and order now, then the plan by
supplier and month, then risk; in report.html and summary.md alike (:mod:`model.report.decision`)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from model.report.decision import contract_lines, decision_scope, orders_now, plan_by_supplier_month
from model.report.html import SECTION_IDS, render_html
from model.report.markdown import summary_markdown
from model.report.text import fill_rate_text


def _stub(reserved: list[float], mpp: int = 1, fee_usd_per_t: float = 1000.0) -> SimpleNamespace:
    periods = [f"2027-{m:02d}" for m in range(1, len(reserved) + 1)]
    offer = SimpleNamespace(id="c", supplier="Supplier C", material="ox", country="EE")
    res = pd.DataFrame({"offer": "c", "period": periods, "reserved_t": reserved,
                        "purchased_t": reserved, "fee_usd": [fee_usd_per_t * v for v in reserved]})
    case = SimpleNamespace(offers=[offer], horizon=SimpleNamespace(months_per_period=mpp),
                           risk=SimpleNamespace(non_anticipative_periods=1), site_plants=(SimpleNamespace(id="plant"),))
    return SimpleNamespace(mode="deterministic", data=SimpleNamespace(case=case, periods=periods, scenario="base"),
                           solution=SimpleNamespace(tables={"reservations": res}))


def test_reservations_without_terms_become_runs_of_equal_volume():
    """0, 0, 2, 2, 2, 0, 5, 5 t/month -> two lines: 2 t/month 2027-03..05 (3 months, fee 3 x 2,000 USD)
    and 5 t/month 2027-07..08 (2 months, fee 2 x 5,000 USD); the zero months are no line."""
    lines = contract_lines(_stub([0, 0, 2, 2, 2, 0, 5, 5]))
    assert lines[["volume_t_per_month", "from_month", "to_month", "months", "fee_usd"]].values.tolist() == [
        [2.0, "2027-03", "2027-05", 3, 6000.0], [5.0, "2027-07", "2027-08", 2, 10000.0]]
    assert set(lines.supplier) == {"Supplier C"} and set(lines.country) == {"EE"}


def test_a_volume_that_changes_every_month_shows_as_many_lines():
    lines = contract_lines(_stub([1, 2, 3]))
    assert lines.volume_t_per_month.tolist() == [1.0, 2.0, 3.0]
    assert lines.months.tolist() == [1, 1, 1]


def test_volumes_are_per_month_when_periods_are_quarters():
    """6 t per 3-month period for two periods = 2 t/month over 6 months."""
    (line,) = contract_lines(_stub([6, 6], mpp=3)).itertuples(index=False)
    assert line.volume_t_per_month == 2.0 and line.months == 6


@pytest.fixture(scope="module")
def stochastic(default_run):
    return default_run("stochastic", evpi_vss=False)


@pytest.fixture(scope="module")
def deterministic(default_run):
    return default_run("deterministic", evpi_vss=False)


def test_html_leads_with_the_decision(stochastic):
    assert SECTION_IDS[:2] == ("decide-now", "plan")
    assert SECTION_IDS.index("headline") > SECTION_IDS.index("plan")
    assert SECTION_IDS.index("shortage") < SECTION_IDS.index("costs") < SECTION_IDS.index("manifest")
    page = render_html(stochastic, {"input_hash": "x"})
    decide = page[page.index('<section id="decide-now">'):page.index('<section id="plan">')]
    for offer in contract_lines(stochastic).offer:
        assert offer in decide
    orders = orders_now(stochastic)
    assert len(orders) and set(orders.order_month) == {stochastic.data.periods[0]}
    for supplier in orders.supplier:
        assert supplier in decide
    assert page.index('<section id="decide-now">') < page.index('<section id="headline">')


def test_plan_by_month_matches_the_expected_purchases(stochastic):
    pv = plan_by_supplier_month(stochastic)
    pur = stochastic.solution.tables["purchases"]
    expected = (pur.purchased_t * pur.probability).groupby(pur.offer).sum()
    got = pv.set_index("offer").total_t
    for offer, v in got.items():
        assert v == pytest.approx(expected[offer], rel=1e-9)
    assert list(pv.columns[3:-1]) == list(stochastic.data.periods)
    assert list(got) == sorted(got, reverse=True)


def test_summary_has_the_same_order(stochastic, deterministic):
    for run in (stochastic, deterministic):
        md = summary_markdown(run)
        i = md.index("## Decide now: what to sign and order")
        assert i < md.index("## The plan by supplier and month") < md.index("## Headline")
        assert "### Contracts to sign" in md and "### Orders to place now" in md


def test_perfect_foresight_is_not_called_a_decision_before_the_future(default_run):
    from model.app.run import run_case
    from tests.conftest import BASE

    run = run_case(BASE, mode="scenario", scenario="status_quo+no_outage", evpi_vss=False)
    text = decision_scope(run)
    assert "perfect foresight" in text and "before the scenario is known" not in text
    assert "before the future is known" not in summary_markdown(run)


def test_fill_rate_never_reads_100_while_short():
    assert fill_rate_text(1.0) == "100.0 %"
    assert fill_rate_text(0.5) == "50.0 %"
    assert fill_rate_text(0.99992) == "99.99 %"
    assert fill_rate_text(0.999993) == "99.999 %"
    assert fill_rate_text(0.9999999) == "> 99.999 %"
