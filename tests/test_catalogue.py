"""The constraint catalogue and the cost-term names match the model that is built.

The default deterministic model of ``inputs/base.yaml`` and the extensive form over its scenarios
(non-anticipativity as rows, CVaR active through a positive risk weight) are built, not solved.
Every constraint component must have a catalogue entry (``CATALOGUE`` of the module that builds it,
see ``model/components/catalogue.py``), every entry must name a built component, and every
registered cost term must be one of the names in ``model/terms.py``.
"""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo

from model import terms
from model.components import catalogue
from model.results.diagnose import _label
from tests.conftest import default_models

ROOT = Path(__file__).resolve().parents[1]


built = default_models  # shared with the other tests, built once per session


def constraint_components(m: pyo.Block) -> dict[str, pyo.Constraint]:
    """name -> one constraint component of that name (scenario blocks share names)."""
    return {c.local_name: c for c in m.component_objects(pyo.Constraint, descend_into=True)}


def all_constraint_components() -> dict[str, pyo.Constraint]:
    det, ef = built()
    return {**constraint_components(ef.model), **constraint_components(det.model)}


def test_the_built_models_have_the_components_the_test_relies_on():
    det, ef = built()
    names = set(all_constraint_components())
    assert {"NonAnticipativity", "CVaRTail", "LicenceQuota", "ElementBalance", "DiversificationCap"} <= names
    assert set(constraint_components(det.model)) <= set(constraint_components(ef.model))
    assert len(names) >= 20


def test_every_constraint_component_has_a_catalogue_entry():
    entries = catalogue.by_component()  # also fails on an entry catalogued twice
    missing = sorted(n for n in all_constraint_components() if n not in entries)
    assert not missing, f"constraint components with no catalogue entry (add one to CATALOGUE of the module that builds them): {missing}"


def test_every_catalogue_entry_names_a_built_component():
    built_names = set(all_constraint_components())
    stale = sorted(c.component for c in catalogue.full_catalogue() if c.component not in built_names)
    assert not stale, f"catalogue entries that name no built constraint component: {stale}"


def test_scenario_entries_name_scenario_components():
    det, _ = built()
    det_names = set(constraint_components(det.model))
    assert {c.component for c in catalogue.scenario_catalogue()} == det_names


def test_marginal_families_keep_the_output_order():
    """The row order of marginal_values.csv is an output."""
    fams = catalogue.marginal_families()
    assert [(c.marginal.kind.name, c.component) for c in fams] == [
        ("licence_quota", "LicenceQuota"), ("supplier_capacity", "SpotCapacity"), ("supplier_capacity", "ContractCapacity"),
        ("plant_capacity", "PlantCapacity"), ("stockpile_capacity", "StockCapacity"),
        ("recycling_capacity", "RecyclingCapacity"), ("diversification_cap", "DiversificationCap"),
        ("magnet_stock_capacity", "MagnetStockCapacity"), ("transfer_capacity", "TransferCapacity"),
    ]
    assert {c.marginal.kind for c in fams} == set(catalogue.MARGINAL_KINDS)
    assert all(k.unit.startswith("t of ") for k in catalogue.MARGINAL_KINDS)


def test_marginal_rows_are_named_and_dated_from_every_index():
    det, _ = built()
    periods = det.data.periods
    for c in catalogue.marginal_families():
        comp = det.model.component(c.component)
        for k in comp:
            assert isinstance(c.marginal.name_of(k), str), (c.component, k)
            assert isinstance(c.marginal.period_of(k, periods), str), (c.component, k)


def test_infeasibility_wording_fits_every_index():
    """Each template takes as many index entries as the component's rows have (no fallback to the Pyomo name)."""
    det, _ = built()
    periods = det.data.periods
    comps = all_constraint_components()
    for c in catalogue.full_catalogue():
        if c.infeasible is None:
            continue
        for k in comps[c.component]:
            args = _label(k, periods, c.period_last)
            c.infeasible.text.format(*args)
            if not c.infeasible.field.startswith("("):
                c.infeasible.field.format(*args)
            if c.period_last:
                assert args[-1] in periods, (c.component, k)


def test_cost_term_constants_are_the_catalogued_terms():
    constants = {v for k, v in vars(terms).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(terms.BY_NAME)
    assert len(terms.BY_NAME) == len(terms.COST_TERMS)
    assert set(terms.PENALTY_TERMS) <= constants
    assert set(terms.FIRST_STAGE_TERMS) == {t.name for t in terms.COST_TERMS if t.stage == "first"}
    assert all(t.unit == "kUSD" for t in terms.COST_TERMS)


def test_every_registered_cost_term_is_a_constant():
    det, ef = built()
    registered = list(det.registry.costs) + [c for b in ef.scenarios for c in b.registry.costs]
    assert registered
    unknown = sorted({c.name for c in registered if c.name not in terms.BY_NAME})
    assert not unknown, f"cost terms registered under names that are not constants of model/terms.py: {unknown}"
    for c in registered:
        info = terms.BY_NAME[c.name]
        assert c.stage == info.stage, f"cost term {c.name!r} is registered as {c.stage} stage, catalogued as {info.stage}"
        assert c.expr.local_name == info.expression, (c.name, c.expr.local_name)
    assert [c.name for c in det.registry.costs] == [t.name for t in terms.COST_TERMS]
