"""Read a case: YAML for structure, CSV for time series, validated once.

``read_case(path) -> CaseData`` is the only function in the package that reads
input files. It collects every problem it can find and raises one
:class:`~model.errors.InputError` listing them, each as
``<file>: <field> = <value>: expected <what>``.

Limits: a YAML or CSV file may be at most ``MAX_FILE_BYTES`` bytes (10 MiB), must be
UTF-8, and YAML anchors/aliases are refused (they are never needed in a case
file and are the vehicle of "billion laughs" expansion). YAML nesting is limited
to ``MAX_YAML_DEPTH`` levels and a key may appear only once in a mapping.

The pieces: :mod:`model.input.yaml_safe` (loading), :mod:`model.input.dotted` (``--set``
paths and the case's named ``overrides``), :mod:`model.input.case` (``extends`` and assembly), :mod:`model.input.csv_series`
(time-series CSVs) and :mod:`model.input.issues` (one-line issues from pydantic errors).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from model.input.data import CaseData
from model.errors import InputError, InputIssue
from model.input.case import _case_from_mapping, _resolve_extends
from model.input.dotted import apply_named_overrides, name_overrides, set_dotted
from model.input.issues import _tidy_error
from model.input.yaml_safe import load_yaml


def read_case(path: str | Path, overrides: dict[str, object] | None = None,
              named_overrides: list[str] | tuple[str, ...] = ()) -> CaseData:
    """Read and validate a case file and its CSVs into frozen ``CaseData``.

    ``named_overrides``: names of entries of the case's own top-level ``overrides:`` block
    (``--override NAME[,NAME]``), applied in the order given after ``extends`` is resolved
    (:func:`~model.input.dotted.apply_named_overrides`). ``overrides`` then maps dotted paths (see
    :func:`~model.input.dotted.set_dotted`) to values (``sweep --set``), so it wins over a named
    override on the same path. Both apply to the YAML before validation, so every override is checked
    like any input; an issue on a field a named override set is shown as ``overrides.NAME.<field>``.
    Raises ``InputError`` listing every problem.
    """
    path = Path(path)
    shown = str(path)
    try:
        raw = load_yaml(path, shown)
        parents: list[Path] = []
        changed: list[str] = []
        raw = _resolve_extends(raw, path, parents, changed=changed)
        raw, applied = apply_named_overrides(raw, tuple(named_overrides), shown)
        for key, value in (overrides or {}).items():
            raw = set_dotted(raw, key, value, shown)
            applied.pop(key, None)
        try:
            data = case_from_mapping(raw, path)
        except InputError as e:
            raise name_overrides(e, applied) from None
        shadowed = [InputIssue(shown, key, key, f"a field that sets its series: a column `{col.split(':', 1)[1]}` of the "
                                                 f"{col.split(':', 1)[0]} CSV gives this series, so setting the scalar "
                                                 "would change nothing (change the CSV, or blank its column)")
                    for key in [*changed, *applied, *(overrides or {})] for col in [csv_column_of(key)]
                    if col is not None and col in data.from_csv]
        if shadowed:
            raise InputError(list({i.field: i for i in shadowed}.values()))
    except InputError as e:
        raise _tidy_error(e) from None
    if parents:
        extra = tuple((str(p.relative_to(path.parent)) if p.is_relative_to(path.parent) else str(p),
                       hashlib.sha256(p.read_bytes()).hexdigest()) for p in parents)
        from dataclasses import replace

        data = replace(data, input_files=data.input_files + extra)
    return data


_SERIES_FIELDS = {  # a scalar field that a CSV column overrides: (list, field) -> the series kind
    ("streams", "demand_t_per_period"): "demand", ("offers", "price_usd_per_kg"): "price",
    ("offers", "capacity_t_per_period"): "capacity", ("recycling_routes", "capacity_t_feed_per_period"): "capacity",
}


def csv_column_of(key: str) -> str | None:
    """``kind:id`` of the CSV column that would override the scalar at dotted ``key`` (``from_csv``
    naming), or None when no column can (e.g. ``offers[a].price_usd_per_kg`` -> ``price:a``)."""
    import re

    if key == "plant.capacity_t_per_period":
        return "capacity:plant"
    m = re.fullmatch(r"(streams|offers|recycling_routes)\[([^\]]+)\]\.(\w+)", key.strip())
    if m and (m[1], m[3]) in _SERIES_FIELDS:
        return f"{_SERIES_FIELDS[(m[1], m[3])]}:{m[2]}"
    return None


def case_from_mapping(raw: object, path: Path) -> CaseData:
    """Validate an already-parsed case mapping; CSV paths resolve relative to ``path``'s folder.

    ``path`` need not exist when the case uses no CSV (tests build cases this way).
    """
    try:
        return _case_from_mapping(raw, path)
    except InputError as e:
        raise _tidy_error(e) from None
