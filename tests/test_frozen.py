"""Validated data is deeply frozen: the case, its lists and maps, ``CaseData``'s series and the sparse
``ModelSets`` cannot be changed once built, and the copies that scenarios, overrides and
``model_copy(update=...)`` make are frozen in the same way.

Every mutation below must raise; against a case held in plain lists and dicts (the state before
``model.frozen``) ``case.offers.append``, ``element_content_frac[...] = ...``, ``sets.QUOTA[...] = ...``
and ``sets.RECOVERY.loc[...] = ...`` all succeed, and these tests fail.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path
from types import MappingProxyType

import pytest
from pydantic import BaseModel, ValidationError

from model.components.sets import ModelSets, build_sets
from model.frozen import FrozenList, FrozenMap, FrozenTable
from model.input.io import read_case
from model.input.scenarios import apply_effects, mean_case, scenario_cases
from model.input.schema import CaseInput, Effect

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"

MAP_MUTATIONS = {
    "setitem": lambda d, k: d.__setitem__(k, 0.5),
    "delitem": lambda d, k: d.__delitem__(k),
    "update": lambda d, k: d.update({k: 0.5}),
    "pop": lambda d, k: d.pop(k),
    "popitem": lambda d, k: d.popitem(),
    "clear": lambda d, k: d.clear(),
    "setdefault": lambda d, k: d.setdefault("new-key", 0.5),
    "ior": lambda d, k: d.__ior__({k: 0.5}),
}
LIST_MUTATIONS = {
    "append": lambda xs: xs.append(xs[0]),
    "extend": lambda xs: xs.extend([xs[0]]),
    "insert": lambda xs: xs.insert(0, xs[0]),
    "setitem": lambda xs: xs.__setitem__(0, xs[0]),
    "delitem": lambda xs: xs.__delitem__(0),
    "pop": lambda xs: xs.pop(),
    "remove": lambda xs: xs.remove(xs[0]),
    "sort": lambda xs: xs.sort(key=repr),
    "reverse": lambda xs: xs.reverse(),
    "clear": lambda xs: xs.clear(),
}


@pytest.fixture(scope="module")
def data():
    return read_case(BASE)


@pytest.fixture(scope="module")
def sets(data):
    return build_sets(data)


def containers(obj, path="case"):
    """Every list-like and map-like value reachable from a validated model, with its path."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from containers(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        yield path, obj
        for i, v in enumerate(obj):
            yield from containers(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        yield path, obj
        for k, v in obj.items():
            yield from containers(v, f"{path}[{k!r}]")


def assert_deeply_frozen(case: CaseInput) -> None:
    found = list(containers(case))
    assert found, "no lists or maps found: the walk is broken"
    wrong = [(p, type(v).__name__) for p, v in found if type(v) not in (FrozenList, FrozenMap)]
    assert not wrong, wrong[:10]


# --------------------------------------------------------------------------------------------
# the case (CaseInput)
# --------------------------------------------------------------------------------------------


def test_every_list_and_map_in_the_case_is_frozen(data):
    assert_deeply_frozen(data.case)
    kinds = {type(v) for _, v in containers(data.case)}
    assert kinds == {FrozenList, FrozenMap}  # the base case exercises both


@pytest.mark.parametrize("field,value", [("name", "other"), ("horizon", None), ("offers", ()), ("scenarios", None)])
def test_a_top_level_field_cannot_be_set(data, field, value):
    with pytest.raises(ValidationError, match="frozen"):
        setattr(data.case, field, value)


def test_a_list_field_cannot_be_replaced_in_place(data):
    case = data.case
    with pytest.raises(ValidationError, match="frozen"):
        case.offers += (case.offers[0],)
    assert len(case.offers) == len(read_case(BASE).case.offers)


@pytest.mark.parametrize("how", list(LIST_MUTATIONS))
@pytest.mark.parametrize("where", ["offers", "elements", "licence_rules", "grades", "streams", "stockpile",
                                   "recycling_routes", "diversification_limits"])
def test_a_list_in_the_case_cannot_change(data, where, how):
    xs = getattr(data.case, where)
    before = tuple(xs)
    with pytest.raises((AttributeError, TypeError)):
        LIST_MUTATIONS[how](xs)
    assert tuple(xs) == before


def test_nested_lists_cannot_change(data):
    case = data.case
    rule = case.licence_rules[0]
    route = next(r for r in case.recycling_routes if r.grades is not None)
    option = next(o for f in case.scenarios.factors for o in f.options if o.effects)
    effect = option.effects[0]
    selected = next(getattr(effect.select, k) for k in type(effect.select).model_fields if getattr(effect.select, k))
    for xs in (rule.origin_groups, rule.materials, rule.end_uses, case.grades[0].recipes, route.grades,
               case.scenarios.factors, case.scenarios.factors[0].options, option.effects, selected):
        with pytest.raises(AttributeError):
            xs.append(xs[0])
        with pytest.raises(TypeError):
            xs[0] = xs[0]


@pytest.mark.parametrize("field,value", [("price_usd_per_kg", 1.0), ("origin_group", "X"), ("kind", "spot")])
def test_an_entry_of_a_list_cannot_change(data, field, value):
    with pytest.raises(ValidationError, match="frozen"):
        setattr(data.case.offers[0], field, value)
    with pytest.raises(ValidationError, match="frozen"):
        data.case.licence_rules[0].quota_t_per_period = 0.0
    with pytest.raises(ValidationError, match="frozen"):
        data.case.grades[0].recipes[0].id = "other"


def _maps(case):
    material = next(m for m in case.materials if m.element_content_frac)
    stock = next(s for s in case.stockpile if s.initial_t_by_origin)
    return {
        "element_content_frac": material.element_content_frac,
        "element_t_per_t_magnet": case.grades[0].recipes[0].element_t_per_t_magnet,
        "initial_t_by_origin": stock.initial_t_by_origin,
        "recovery_frac": case.recycling_routes[0].recovery_frac,
    }


@pytest.mark.parametrize("how", list(MAP_MUTATIONS))
@pytest.mark.parametrize("which", ["element_content_frac", "element_t_per_t_magnet", "initial_t_by_origin", "recovery_frac"])
def test_a_nested_map_cannot_change(data, which, how):
    d = _maps(data.case)[which]
    before = dict(d)
    key = next(iter(d))
    with pytest.raises(TypeError, match="read-only"):
        MAP_MUTATIONS[how](d, key)
    assert dict(d) == before
    d.__init__({key: 0.5}, other=0.5)  # refills a plain dict; a FrozenMap is filled once, by __new__
    assert dict(d) == before


def test_frozen_containers_read_and_print_as_lists_and_maps(data):
    case = data.case
    rule = case.licence_rules[0]
    assert isinstance(case.offers, tuple) and isinstance(_maps(case)["recovery_frac"], dict)
    assert str(rule.origin_groups) == str(list(rule.origin_groups))  # error lines show input values as written
    assert rule.origin_groups == list(rule.origin_groups) and list(rule.origin_groups) == rule.origin_groups
    assert rule.origin_groups != list(rule.origin_groups) + ["other"]
    m = _maps(case)["element_content_frac"]
    assert repr(m) == repr(dict(m))
    dumped = case.model_dump()
    assert type(dumped["offers"]) is list and type(dumped["materials"][0]["element_content_frac"]) is dict
    copies = m.copy(), m | {}
    for c in copies:  # copies are the caller's own, ordinary dicts
        assert type(c) is dict and c == dict(m)


def test_frozen_case_pickles_and_deep_copies_frozen(data):
    for again in (pickle.loads(pickle.dumps(data.case)), copy.deepcopy(data.case), data.case.model_copy(deep=True)):
        assert again == data.case
        assert_deeply_frozen(again)


# --------------------------------------------------------------------------------------------
# copies: model_copy(update=...), scenarios, overrides, extends
# --------------------------------------------------------------------------------------------


def test_model_copy_with_plain_lists_and_maps_stays_frozen(data):
    case = data.case
    offers = list(case.offers)
    material = case.materials[0].model_copy(update={"element_content_frac": {"NdPr": 0.5}})
    new = case.model_copy(update={"offers": offers, "materials": [material, *case.materials[1:]]})
    assert_deeply_frozen(new)
    offers.append(offers[0])  # the list given is not the list stored
    assert len(new.offers) == len(case.offers)
    with pytest.raises(AttributeError):
        new.offers.append(case.offers[0])
    with pytest.raises(TypeError):
        new.materials[0].element_content_frac["NdPr"] = 0.1


def test_scenario_copies_are_frozen(data):
    cases = scenario_cases(data)
    assert len(cases) > 1
    assert any(len(c.case.licence_rules) > len(data.case.licence_rules) for c in cases)  # prohibit_end_uses adds rules
    for c in cases + [mean_case(cases)]:
        assert_deeply_frozen(c.case)
        with pytest.raises(AttributeError):
            c.case.licence_rules.append(c.case.licence_rules[0])
        with pytest.raises(TypeError):
            c.availability_frac[next(iter(c.availability_frac))] = (0.0,)


def test_apply_effects_leaves_frozen_data(data):
    effect = Effect.model_validate({"kind": "prohibit_end_uses", "select": {"licence_rules": [data.case.licence_rules[0].id]},
                                    "end_uses": [data.case.end_uses[0]], "start": data.periods[2]})
    new = apply_effects(data, [(effect, effect.start, None)], "t", 1.0)
    assert len(new.case.licence_rules) == len(data.case.licence_rules) + 1
    assert_deeply_frozen(new.case)


def test_overrides_and_extends_give_frozen_cases():
    over = read_case(BASE, overrides={"risk.risk_weight_lambda": 0.5})
    assert over.case.risk.risk_weight_lambda == 0.5
    assert_deeply_frozen(over.case)
    sampled = read_case(ROOT / "inputs" / "sampled.yaml")  # `extends: base.yaml`
    assert_deeply_frozen(sampled.case)


# --------------------------------------------------------------------------------------------
# CaseData
# --------------------------------------------------------------------------------------------

SERIES = ("demand_t_per_period", "price_usd_per_kg", "capacity_t_per_period", "demand_as_read_t_per_period",
          "availability_frac", "quota_factor", "approval_frac")


@pytest.mark.parametrize("name", SERIES)
def test_case_data_series_maps_and_their_tuples_cannot_change(data, name):
    series = getattr(data, name)
    assert type(series) is MappingProxyType and series
    key = next(iter(series))
    before = series[key]
    with pytest.raises(TypeError):
        series[key] = (0.0,) * data.T
    with pytest.raises(TypeError):
        del series[key]
    with pytest.raises(AttributeError):
        series.update({key: (0.0,)})
    with pytest.raises(TypeError):
        series[key][0] = 0.0
    with pytest.raises(AttributeError):
        series[key].append(0.0)
    assert series[key] == before and type(before) is tuple


def test_case_data_fields_cannot_be_set(data):
    for name, value in (("case", None), ("scenario", "x"), ("periods", ()), ("price_usd_per_kg", {})):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(data, name, value)
    assert type(data.periods) is tuple and type(data.from_csv) is frozenset and type(data.input_files) is tuple


def test_case_data_given_plain_dicts_stores_its_own_read_only_copy(data):
    given = {k: list(v) for k, v in data.availability_frac.items()}
    new = dataclasses.replace(data, availability_frac=given, periods=list(data.periods))
    key = next(iter(given))
    given[key][0] = 123.0
    given["intruder"] = [1.0]
    assert type(new.availability_frac) is MappingProxyType and "intruder" not in new.availability_frac
    assert new.availability_frac[key] == data.availability_frac[key] and type(new.availability_frac[key]) is tuple
    assert type(new.periods) is tuple
    bare = type(data)(case=data.case, periods=data.periods, demand_t_per_period={}, price_usd_per_kg={},
                      capacity_t_per_period={})
    for name in SERIES:  # the defaults too
        assert type(getattr(bare, name)) is MappingProxyType


# --------------------------------------------------------------------------------------------
# ModelSets
# --------------------------------------------------------------------------------------------

MAPS = ("arrival_period", "QUOTA", "rule_in_force", "exp_avail", "recipe_need", "recipe_grade", "YEARS", "floor_t", "plant_of_stream",
        "terminal_t", "terminal_penalty_usd_per_kg")
TABLES = ("ELEM_ARRIVAL", "SCRAP_ARRIVAL", "MAGNET_ARRIVAL", "RECOVERY")


# maps empty in the base case (no contract terms there): their type is checked, their content by
# tests/test_contract_terms.py
MAPS_EMPTY_IN_BASE = ("CONTRACT_BAND", "TRANCHE_COVER")


def test_every_model_sets_field_is_immutable(sets):
    kinds = {f.name: type(getattr(sets, f.name)) for f in dataclasses.fields(ModelSets)}
    assert {k for k, t in kinds.items() if t is MappingProxyType} == set(MAPS) | set(MAPS_EMPTY_IN_BASE)
    assert {k for k, t in kinds.items() if t is FrozenTable} == set(TABLES)
    assert all(t in (int, tuple, MappingProxyType, FrozenTable) for t in kinds.values()), kinds


@pytest.mark.parametrize("name", MAPS)
def test_a_model_sets_map_cannot_change(sets, name):
    d = getattr(sets, name)
    assert d, f"{name} is empty in the base case: the test would prove nothing"
    key = next(iter(d))
    before = dict(d)
    with pytest.raises(TypeError):
        d[key] = d[key]
    with pytest.raises(TypeError):
        del d[key]
    with pytest.raises(AttributeError):
        d.update({key: d[key]})
    assert dict(d) == before
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sets, name, {})


@pytest.mark.parametrize("name", TABLES)
def test_a_model_sets_table_cannot_change(sets, name):
    table = getattr(sets, name)
    assert len(table), f"{name} is empty in the base case: the test would prove nothing"
    col = table.columns[-1]
    before = table.frame()
    with pytest.raises(AttributeError):
        table.loc[0, col] = 99  # no loc/iloc/at/iat
    with pytest.raises(AttributeError):
        table.iloc[0, 0] = 99
    with pytest.raises(TypeError):
        table[col] = 99
    with pytest.raises(AttributeError):
        setattr(table, col, 99)
    with pytest.raises(AttributeError):
        table.drop(columns=[col], inplace=True)
    with pytest.raises(TypeError):
        table[table[col] == table[col].iloc[0]]  # row selection goes through frame(), a copy
    with pytest.raises(ValueError, match="read-only"):
        table[col].to_numpy()[0] = table[col].iloc[0]
    series = getattr(table, col)
    series.iloc[0] = series.iloc[-1]  # the caller's own copy (pandas copy-on-write) ...
    mine = table.frame()
    mine.loc[0, col] = mine.loc[len(mine) - 1, col]
    assert table.frame().equals(before)  # ... so the table is as it was
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sets, name, before)


def test_model_sets_tuples_cannot_change(sets):
    for name in ("periods", "PURCHASE", "RESERVE", "STOCK_PEG", "USE", "MAKE", "MAGNET_USE", "RECYCLE_X"):
        xs = getattr(sets, name)
        assert type(xs) is tuple and xs, name
        with pytest.raises(AttributeError):
            xs.append(xs[0])


def test_model_sets_given_plain_dicts_and_frames_store_their_own(sets):
    frame = sets.RECOVERY.frame()
    quota = dict(sets.QUOTA)
    new = dataclasses.replace(sets, RECOVERY=frame, QUOTA=quota)
    quota.clear()
    frame.loc[0, "coef"] = -1.0
    assert dict(new.QUOTA) == dict(sets.QUOTA)
    assert new.RECOVERY.frame().equals(sets.RECOVERY.frame())
