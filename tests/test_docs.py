"""Docs generated from code stay in sync with it."""

from pathlib import Path

from model.input.docgen import render

ROOT = Path(__file__).resolve().parents[1]


def test_inputs_reference_is_current():
    committed = (ROOT / "docs" / "inputs.md").read_text()
    assert committed == render(), "docs/inputs.md is stale: run `python -m model.input.docgen > docs/inputs.md`"


def test_every_schema_field_is_documented():
    from model.input import schema
    from model.input.docgen import ORDER

    for cls in ORDER:
        for name, f in cls.model_fields.items():
            assert f.description, f"{cls.__name__}.{name} has no docstring"
    assert set(ORDER) >= {c for c in vars(schema).values() if isinstance(c, type) and issubclass(c, schema.Strict) and c is not schema.Strict}
