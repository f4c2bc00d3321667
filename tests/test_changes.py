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


def test_a_scalar_and_a_csv_column_for_one_series_is_an_error(folder):
    """a_ox_spot's price is the price CSV's column; a price_usd_per_kg beside it would be ignored."""
    (folder / "child.yaml").write_text("extends: valid/case.yaml\nname: child\nchanges:\n"
                                       "  offers[a_ox_spot].price_usd_per_kg: 99\n")
    with pytest.raises(InputError) as e:
        read_case(folder / "child.yaml")
    (issue,) = e.value.issues
    assert issue.field == "offers[a_ox_spot].price_usd_per_kg" and issue.value == 99
    assert "the price CSV (timeseries.price) has a `a_ox_spot` column" in issue.expected
