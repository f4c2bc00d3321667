"""`extends` with `changes:` changes one list entry by id (issue 13); a scalar that a CSV column
overrides is an input error (an override, a sweep or `changes` of it would silently do nothing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.errors import InputError
from model.input.io import read_case

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "bad_inputs" / "valid"


@pytest.fixture
def folder(tmp_path) -> Path:
    shutil.copytree(VALID, tmp_path / "valid")
    return tmp_path


def test_changes_edit_one_entry_and_keep_the_rest(folder):
    (folder / "child.yaml").write_text("extends: valid/case.yaml\nname: child\nchanges:\n"
                                       "  offers[b_ox_con].price_usd_per_kg: 15\n  stockpile[Y].capacity_t: 4\n")
    base, child = read_case(folder / "valid" / "case.yaml"), read_case(folder / "child.yaml")
    assert [o.id for o in child.case.offers] == [o.id for o in base.case.offers]  # the list is kept, not replaced
    assert {o.id: o.price_usd_per_kg for o in child.case.offers}["b_ox_con"] == 15
    assert child.price_usd_per_kg["b_ox_con"] == (15.0,) * 4
    assert child.case.stockpile[0].capacity_t == 4
    others = [o for o in child.case.offers if o.id != "b_ox_con"]
    assert others == [o for o in base.case.offers if o.id != "b_ox_con"]


@pytest.mark.parametrize("changes, field, expected", [
    ("  offers[nosuch].price_usd_per_kg: 15\n", "offers[nosuch].price_usd_per_kg", "the id of an entry of offers"),
    ("  offers[b_ox_con].price_usd_per_kg: -1\n", "offers[b_ox_con].price_usd_per_kg", "a number greater than or equal to 0"),
    ("  offers: 3\n", "offers", "a scalar field (not a map or list)"),
])
def test_a_bad_change_is_one_line(folder, changes, field, expected):
    (folder / "child.yaml").write_text("extends: valid/case.yaml\nname: child\nchanges:\n" + changes)
    with pytest.raises(InputError) as e:
        read_case(folder / "child.yaml")
    (issue,) = e.value.issues
    assert field in issue.field and expected in issue.expected, issue.line()


def test_changes_without_extends_are_refused(folder):
    text = (folder / "valid" / "case.yaml").read_text() + "changes:\n  risk.cvar_alpha: 0.5\n"
    (folder / "valid" / "case.yaml").write_text(text)
    with pytest.raises(InputError) as e:
        read_case(folder / "valid" / "case.yaml")
    (issue,) = e.value.issues
    assert issue.field == "changes" and "only in a case that `extends` another" in issue.expected


def test_changing_a_scalar_that_a_csv_column_overrides_is_an_error(folder):
    """a_ox_spot's price is the price CSV's column, which wins over any scalar: a `changes` entry, a
    named override or a sweep value for that scalar would change nothing, so it is refused."""
    (folder / "child.yaml").write_text("extends: valid/case.yaml\nname: child\nchanges:\n"
                                       "  offers[a_ox_spot].price_usd_per_kg: 99\n")
    with pytest.raises(InputError) as e:
        read_case(folder / "child.yaml")
    (issue,) = e.value.issues
    assert issue.field == "offers[a_ox_spot].price_usd_per_kg"
    assert "a column `a_ox_spot` of the price CSV gives this series" in issue.expected
    with pytest.raises(InputError) as e:
        read_case(folder / "valid" / "case.yaml", overrides={"offers[a_ox_spot].price_usd_per_kg": 99})
    assert e.value.issues[0].field == "offers[a_ox_spot].price_usd_per_kg"
    # a scalar the case gives beside its column stays allowed (the column wins, as documented)
    text = (folder / "valid" / "case.yaml").read_text()
    assert "id: a_ox_spot" in text


def test_csv_column_of():
    from model.input.io import csv_column_of

    assert csv_column_of("offers[a].price_usd_per_kg") == "price:a"
    assert csv_column_of("streams[civ].demand_t_per_period") == "demand:civ"
    assert csv_column_of("recycling_routes[r].capacity_t_feed_per_period") == "capacity:r"
    assert csv_column_of("plant.capacity_t_per_period") == "capacity:plant"
    assert csv_column_of("offers[a].lead_time_periods") is None
