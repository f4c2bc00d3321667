"""Generate ``docs/inputs.md`` from the schema's field docstrings: ``python -m model.input.docgen``.

The last section, "Checks beyond the schema", lists the semantic errors and warnings of
:data:`model.input.semantics.CATALOGUE` (name, severity, fields, meaning).

The schema is the single source of truth for field names, types, defaults and meanings; a test
fails when the committed page differs from what this prints.
"""

from __future__ import annotations

import sys
import typing


from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from model.frozen import FrozenList, FrozenMap
from model.input import schema

ORDER = [
    schema.CaseInput, schema.Horizon, schema.OriginGroup, schema.Material, schema.Offer, schema.ContractTerms, schema.LicenceRule,
    schema.LicenceRenewal, schema.Company,
    schema.Grade, schema.Recipe, schema.Plant, schema.Stream, schema.StockpileElement, schema.MagnetStock, schema.InTransit, schema.Transfer,
    schema.RecyclingRoute,
    schema.CapacityExpansion, schema.DiversificationLimit, schema.Risk, schema.Finance, schema.TimeSeriesFiles,
    schema.Scenarios, schema.ScenarioFactor, schema.ScenarioOption, schema.Effect, schema.Selection,
]


def _type_name(ann) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        base, *meta = args
        bounds = []
        consts = [c for m in meta for c in (getattr(m, "metadata", None) or [m])]
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            for c in consts:
                if getattr(c, attr, None) is not None:
                    bounds.append(f"{sym} {getattr(c, attr)}")
        pat = next((c.pattern for c in consts if getattr(c, "pattern", None)), None)
        if pat == r"^\d{4}-(0[1-9]|1[0-2])$":
            return "month `YYYY-MM`"
        if pat and base is str:
            return "id"
        name = _type_name(base)
        return f"{name} ({', '.join(bounds)})" if bounds else name
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = [_type_name(a) for a in args if a is not type(None)]
        s = " or ".join(parts)
        return s + " or blank" if type(None) in args else s
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, FrozenList):  # a case's lists are stored frozen; the user writes a YAML list
        return f"list of {_type_name(args[0])}"
    if origin in (dict, FrozenMap):
        return f"map {_type_name(args[0])} -> {_type_name(args[1])}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    return getattr(ann, "__name__", str(ann))


def _default(f) -> str:
    if f.is_required():
        return "required"
    if f.default_factory is not None:
        v = f.default_factory()
        return "empty" if not v else str(v)
    d = f.default
    if d is None:
        return "blank"
    if d == "":
        return "empty"
    if d is PydanticUndefined:
        return "required"
    if isinstance(d, BaseModel):
        return "defaults"
    return f"`{d}`"


def render() -> str:
    out = [
        "# Input reference",
        "",
        "Generated from `model/input/schema.py` by `python -m model.input.docgen > docs/inputs.md`; do not edit by hand.",
        "",
        "A case is one YAML file (the default is `inputs/base.yaml`) plus optional time-series CSVs named in its",
        "`timeseries` block. Units: masses in tonnes (t) of the named material or element, prices in USD per kg,",
        "time in periods of `horizon.months_per_period` months; `_frac` fields are fractions in [0, 1].",
        "Unknown keys are errors. Every problem found is reported as",
        "`<file>: <field> = <value>: expected <what>` and the run exits with code 2, writing nothing.",
        "",
        "Time-series CSVs are wide: a `period` column (`YYYY-MM`, every period of the horizon once) and one",
        "column per entity id, finite numbers >= 0. A column overrides the entity's scalar field; an entity",
        "whose scalar is blank must have a column. Lines starting with `#` are comments. Setting a scalar that",
        "a column overrides (by `changes`, `--override` or `sweep --set`) is refused: it would change nothing.",
        "",
        "A case may start with `extends: other.yaml`: it then starts from that case and overrides its keys",
        "(maps are merged key by key, lists and values replaced). `inputs/sampled.yaml` extends `base.yaml`",
        "this way, changing only its name and scenario sampling. To change one entry of a list rather than",
        "replace the list, give `changes:`, a map of dotted paths (list entries by id) to values, applied after",
        "the merge and checked like any input:",
        "",
        "```yaml",
        "extends: base.yaml",
        "name: dear_dysprosium",
        "changes:",
        "  offers[lynas_dy_oxide_contract].price_usd_per_kg: 900",
        "  stockpile[Dy].floor_months_of_use: 4",
        "```",
        "",
    ]
    from model.input.examples import example_lines  # a short YAML example per section (model/input/examples.py)

    for cls in ORDER:
        out += [f"## {cls.__name__}", ""]
        doc = (cls.__doc__ or "").strip()
        if doc and not doc.startswith("Usage docs"):
            out += [doc, ""]
        out += example_lines(cls.__name__) + ["| field | type | default | meaning |", "|---|---|---|---|"]
        for name, f in cls.model_fields.items():
            desc = (f.description or "").replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{name}` | {_type_name(f.annotation if not f.metadata else typing.Annotated[(f.annotation, *f.metadata)])} | {_default(f)} | {desc} |")
        out.append("")
    out += _semantic_checks()
    return "\n".join(out)


def _semantic_checks() -> list[str]:
    """The section listing :data:`model.input.semantics.CATALOGUE`."""
    from model.input.semantics import CATALOGUE

    out = [
        "## Checks beyond the schema",
        "",
        "Inputs that each pass the schema and the reference checks but contradict one another. An **error** is",
        "reported like any input error (`<file>: <field> = <value>: expected <what>`, exit 2, nothing written): the",
        "inputs cannot mean what they say. A **warning** is printed as `warning: <file>: <field> = <value>: <message>`",
        "and the case is solved as it is (a planner may mean it); warnings are listed in `kpis.json`",
        "(`input_warnings`) and in a \"Warnings\" box at the top of `summary.md` and `report.html`. Checks that read",
        "the demand or capacity series run only when every series was read without error. Generated from",
        "`model/input/semantics.py`.",
        "",
        "| check | severity | fields | meaning |",
        "|---|---|---|---|",
    ]

    def cell(x: str) -> str:
        return x.replace("|", "\\|").replace("\n", " ")

    for c in CATALOGUE:
        out.append(f"| `{c.name}` | {c.severity} | {cell(c.fields)} | {cell(c.meaning)} |")
    out.append("")
    return out


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


