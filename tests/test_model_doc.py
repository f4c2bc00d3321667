"""docs/model.md documents every component of the built model.

The default deterministic model of ``inputs/base.yaml`` and the extensive form over its scenarios
(non-anticipativity as rows, CVaR active through a positive risk weight) are built, not solved.
Every Var, Constraint, Expression and Objective component's name, and every registered cost and
balance term name, must appear in ``docs/model.md`` as code: backticked, either alone
(`` `Purchase_t` ``) or with its indices (`` `Purchase_t[o,t]` ``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pyomo.environ as pyo
import pytest

from tests.conftest import default_models


ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
KINDS = (pyo.Var, pyo.Constraint, pyo.Expression, pyo.Objective)


def documented(name: str, text: str) -> bool:
    """``name`` appears as inline code: `` `name` `` or `` `name[...]` ``."""
    return re.search(r"`" + re.escape(name) + r"(`|\[)", text) is not None


def component_names(m: pyo.Block) -> set[str]:
    return {c.local_name for c in m.component_objects(KINDS, descend_into=True)}


built = default_models  # shared with the other tests, built once per session


@lru_cache(maxsize=None)
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def all_component_names() -> set[str]:
    det, ef = built()
    return component_names(det.model) | component_names(ef.model)


def test_the_built_models_have_the_components_the_test_relies_on():
    """Guards the test itself: the CVaR and non-anticipativity rows are really built and the
    collection descends into the scenario blocks."""
    det, ef = built()
    names = all_component_names()
    assert {"VaR_kusd", "TailExcess_kusd", "CVaRTail", "CVaR_kusd", "RiskAdjustedCost", "NonAnticipativity"} <= names
    assert {"Purchase_t", "LicenceQuota", "ElementBalance", "TotalCost"} <= component_names(det.model)
    assert component_names(det.model) <= component_names(ef.model)
    assert len(names) >= 60


def test_every_model_component_is_documented():
    text = doc_text()
    missing = sorted(n for n in all_component_names() if not documented(n, text))
    assert not missing, f"docs/model.md does not name these model components (as `Name` or `Name[...]`): {missing}"


def test_every_registered_cost_term_is_documented():
    det, ef = built()
    text = doc_text()
    names = {c.name for c in det.registry.costs} | {c.name for b in ef.scenarios for c in b.registry.costs}
    assert names
    missing = sorted(n for n in names if not documented(n, text))
    assert not missing, f"docs/model.md does not name these registered cost terms: {missing}"


def test_every_registered_balance_term_is_documented():
    det, _ = built()
    text = doc_text()
    names = {t.name for t in det.registry.balance_terms}
    assert names
    missing = sorted(n for n in names if not documented(n, text))
    assert not missing, f"docs/model.md does not name these registered balance terms: {missing}"


@pytest.mark.parametrize("pattern", [r"\.\./", "/" + "work/", r"shared/spec", r"(?<![\w.])/(home|tmp|usr|etc)/"])
def test_doc_refers_to_nothing_outside_the_repository(pattern):
    assert re.search(pattern, doc_text()) is None, f"docs/model.md refers outside the repository ({pattern})"


def test_documented_is_strict():
    """`Name` must be code, not prose, and a longer name does not count for a shorter one."""
    assert documented("Purchase_t", "see `Purchase_t[o,t]`")
    assert documented("Purchase_t", "see `Purchase_t`")
    assert not documented("Purchase_t", "see Purchase_t")
    assert not documented("Stock_t", "see `StockChange_t`")
    assert not documented("Make_t", "see `Make_tt`")
