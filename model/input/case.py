"""Assemble a case: resolve ``extends``, validate the mapping, fill its series from scalars and CSVs.

``extends: other.yaml`` starts from that case and overrides its keys (maps merged, lists replaced; at
most 5 levels, no cycles; the file may lie outside the case's folder, but then no issue quotes its text).
:func:`_case_from_mapping` validates the mapping with the schema, checks its
references and scenarios, takes each demand, price and capacity series from its CSV column or else
its scalar field and runs the semantic error checks (:mod:`model.input.semantics`), collecting every
problem into one :class:`~model.errors.InputError`; a case that passes gets its warnings
(:mod:`model.input.warnings`) in ``CaseData.warnings``. The public entry
points are :func:`model.input.io.read_case` and :func:`model.input.io.case_from_mapping`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import ValidationError

from model.input.data import CaseData, freeze_series
from model.errors import InputError, InputIssue
from model.input.schema import MAX_T, MAX_USD_PER_KG, CaseInput, period_labels
from model.input.scenarios import check_scenarios
from model.input.validate import check_references
from model.input.semantics import check_semantics
from model.input.warnings import check_warnings
from model.input.csv_series import _read_series_csv
from model.input.issues import _bool_issues, _plain_value, _pydantic_issues, _top_level_issue
from model.input.yaml_safe import HIDDEN, _not_a_file, _read_bytes, load_yaml


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _inside(p: Path, folder: Path) -> bool:
    """Whether ``p`` (symbolic links resolved) lies inside ``folder``: only then may an issue quote its text."""
    try:
        real, top = os.path.realpath(p), os.path.realpath(folder)
        return os.path.commonpath([real, top]) == top
    except (OSError, ValueError):
        return False


def _named(p: Path) -> str:
    """``p`` as an expectation names it: in full unless too long to read (the value already shows it)."""
    return str(p) if len(str(p)) <= 120 else f"this path of {len(str(p))} characters"


def _resolve_extends(raw: object, path: Path, parents: list[Path], depth: int = 0, root: Path | None = None,
                     changed: list[str] | None = None) -> object:
    """``extends: other.yaml`` starts from that case and overrides its keys (maps merged, lists replaced).

    ``root``: the folder of the case first read; a case extended from outside it is read, but no issue
    quotes its text, and its top-level keys must all be case fields."""
    if not isinstance(raw, dict) or "extends" not in raw:
        if isinstance(raw, dict) and CHANGES in raw and depth == 0:
            raise InputError([InputIssue(str(path), CHANGES, "(given)", "`changes` only in a case that `extends` another "
                                                                       "(edit the fields themselves here)")])
        return raw
    root = path.parent if root is None else root
    shown = str(path)
    rel = raw["extends"]
    if not isinstance(rel, str) or not rel.strip():
        raise InputError([InputIssue(shown, "extends", _plain_value(rel), "the path of another case YAML, relative to this file")])
    if depth >= 5:
        raise InputError([InputIssue(shown, "extends", rel, "at most 5 levels of `extends`")])
    target = path.parent / rel
    problem = _not_a_file(target)
    if problem is not None:
        raise InputError([InputIssue(shown, "extends", rel, f"an existing case YAML, relative to this file's folder "
                                                             f"({_named(target)} {problem})")])
    ppath = Path(os.path.realpath(target))
    if ppath == Path(os.path.realpath(path)) or ppath in parents:
        raise InputError([InputIssue(shown, "extends", rel, "a case that does not extend itself (directly or through the cases it extends)")])
    quote = _inside(ppath, root)
    parent = load_yaml(ppath, str(target), quote)
    parents.append(ppath)
    parent = _resolve_extends(parent, ppath, parents, depth + 1, root, changed)
    if not isinstance(parent, dict):
        issue = _top_level_issue(parent, str(target))
        if not quote and parent is not None and not isinstance(parent, list):
            issue = InputIssue(issue.file, issue.field, HIDDEN, issue.expected)
        raise InputError([issue])
    if not quote:
        unknown = [k for k in parent if k not in CaseInput.model_fields]
        if unknown:
            raise InputError([InputIssue(shown, "extends", rel, f"a case YAML ({len(unknown)} of the top-level keys of "
                                                                 f"{_named(target)} are not case fields; {HIDDEN[1:-1]})")])
    ts = parent.get("timeseries")
    if isinstance(ts, dict):  # keep the parent's CSV paths pointing at the parent's files
        parent = dict(parent)
        parent["timeseries"] = {k: (os.path.relpath(ppath.parent / v, path.parent) if isinstance(v, str) else v)
                                for k, v in ts.items()}
    child = {k: v for k, v in raw.items() if k not in ("extends", CHANGES)}
    if changed is not None and isinstance(raw.get(CHANGES), dict):
        changed.extend(k for k in raw[CHANGES] if isinstance(k, str))
    return _apply_changes(_deep_merge(parent, child), raw.get(CHANGES), shown)


CHANGES = "changes"  # in a case that extends another: dotted path -> value, applied after the merge


def _apply_changes(merged: dict, changes: object, shown: str) -> dict:
    """``changes: {offers[cn_dy_oxide_spot].price_usd_per_kg: 300, ...}`` in a case that ``extends``
    another changes single fields of the merged case, list entries addressed by id (lists are
    otherwise replaced whole by the child's). Each path and value is checked like any input."""
    if changes is None:
        return merged
    if not isinstance(changes, dict) or not changes:
        raise InputError([InputIssue(shown, CHANGES, _plain_value(changes),
                                     "a map of dotted paths to values, e.g. offers[ID].price_usd_per_kg: 300")])
    from model.input.dotted import set_dotted

    for key, value in changes.items():
        if not isinstance(key, str) or isinstance(value, (dict, list)):
            raise InputError([InputIssue(shown, f"{CHANGES}.{key}", _plain_value(value),
                                         "a dotted path (text) mapped to a single value")])
        merged = set_dotted(merged, key, value, shown)
    return merged


def _case_from_mapping(raw: object, path: Path) -> CaseData:
    shown = str(path)
    if not isinstance(raw, dict):
        raise InputError([_top_level_issue(raw, shown)])
    try:
        case = CaseInput.model_validate(raw)
    except ValidationError as e:
        raise InputError(_pydantic_issues(e, raw, shown)) from None
    bools = _bool_issues(raw, case, shown)
    if bools:
        raise InputError(bools)

    from model.input.contracts import check_contract_terms

    issues = check_references(case, shown) + check_scenarios(case, shown) + check_contract_terms(case, shown)
    before_series = len(issues)  # semantic checks read the series only when all of them were read cleanly
    periods = period_labels(case.horizon)
    files = [(path.name, hashlib.sha256(path.read_bytes()).hexdigest())] if path.is_file() else []

    ts = case.timeseries
    offer_ids = {o.id for o in case.offers}
    route_ids = {r.id for r in case.recycling_routes}
    stream_ids = {s.id for s in case.streams}
    series: dict[str, dict[str, list[float]]] = {"demand": {}, "price": {}, "capacity": {}}
    specs = {
        "demand": (stream_ids, "t of magnet per period"),
        "price": (offer_ids, "USD per kg"),
        "capacity": (offer_ids | route_ids | {p.id for p in case.site_plants}, "t per period"),
    }
    csv_bounds = {"demand": MAX_T, "price": MAX_USD_PER_KG, "capacity": MAX_T}
    unchecked: dict[str, set[str] | None] = {}  # per kind: columns whose blank scalar is not reported again
    for kind, (allowed, unit) in specs.items():
        rel = getattr(ts, kind)
        if rel is None:
            continue
        p = path.parent / rel
        problem = None if not rel.strip() else _not_a_file(p)
        if problem is not None or not rel.strip():
            why = "the value is blank" if problem is None else f"{_named(p)} {problem}"
            issues.append(InputIssue(shown, f"timeseries.{kind}", rel,
                                     f"an existing CSV file, relative to the case file's folder ({why})"))
            unchecked[kind] = None
            continue
        shown_csv = str(p)
        before, cols = len(issues), set()
        try:
            content = _read_bytes(p, shown_csv)  # read once: the series and the manifest's hash use the same bytes
        except InputError as e:
            issues.extend(e.issues)
            unchecked[kind] = None
            continue
        series[kind] = _read_series_csv(p, shown_csv, periods, allowed, unit, issues, cols, content=content,
                                        quote=_inside(p, path.parent), at_most=csv_bounds[kind])
        if len(issues) > before:
            unchecked[kind] = cols or None
        files.append((rel, hashlib.sha256(content).hexdigest()))

    T = len(periods)
    from_csv: set[str] = set()

    def resolve(kind: str, ident: str, scalar: float | None, field: str, where: str) -> list[float]:
        if ident in series[kind]:
            from_csv.add(f"{kind}:{ident}")  # the column wins over a scalar (an override of that scalar is
            return series[kind][ident]        # refused: model.input.io.read_case)
        if scalar is None:
            if kind in unchecked and (unchecked[kind] is None or ident in unchecked[kind]):
                return [0.0] * T  # the CSV itself is reported broken
            issues.append(InputIssue(shown, f"{where}.{field}", "(blank)", f"a number, or a `{ident}` column in the {kind} CSV (timeseries.{kind})"))
            return [0.0] * T
        return [float(scalar)] * T

    demand = {s.id: resolve("demand", s.id, s.demand_t_per_period, "demand_t_per_period", f"streams[{s.id}]") for s in case.streams}
    price = {o.id: resolve("price", o.id, o.price_usd_per_kg, "price_usd_per_kg", f"offers[{o.id}]") for o in case.offers}
    cap = {o.id: resolve("capacity", o.id, o.capacity_t_per_period, "capacity_t_per_period", f"offers[{o.id}]") for o in case.offers}
    for r in case.recycling_routes:
        cap[r.id] = resolve("capacity", r.id, r.capacity_t_feed_per_period, "capacity_t_feed_per_period", f"recycling_routes[{r.id}]")
    for pl in case.site_plants:
        cap[pl.id] = resolve("capacity", pl.id, pl.capacity_t_per_period, "capacity_t_per_period",
                             "plant" if case.plant is not None else f"plants[{pl.id}]")

    series_ok = len(issues) == before_series
    issues += check_semantics(case, shown, demand if series_ok else None, cap if series_ok else None)
    if issues:
        raise InputError(issues)
    data = CaseData(
        case=case,
        periods=periods,
        demand_t_per_period=freeze_series(demand),
        price_usd_per_kg=freeze_series(price),
        capacity_t_per_period=freeze_series(cap),
        demand_as_read_t_per_period=freeze_series(demand),
        availability_frac=freeze_series({k: [1.0] * T for k in cap if k not in {pl.id for pl in case.site_plants}}),
        quota_factor=freeze_series({r.id: [1.0] * T for r in case.licence_rules}),
        approval_frac=freeze_series({r.id: [r.approval_frac] * T for r in case.licence_rules}),
        from_csv=frozenset(from_csv),
        input_files=tuple(files),
    )
    from dataclasses import replace

    return replace(data, warnings=check_warnings(case, data, shown))
