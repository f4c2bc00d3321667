"""Assemble a case: resolve ``extends``, validate the mapping, fill its series from scalars and CSVs.

``extends: other.yaml`` starts from that case and overrides its keys (maps merged, lists replaced; at
most 5 levels, no cycles). :func:`_case_from_mapping` validates the mapping with the schema, checks its
references and scenarios, and takes each demand, price and capacity series from its CSV column or else
its scalar field, collecting every problem into one :class:`~model.errors.InputError`. The public entry
points are :func:`model.input.io.read_case` and :func:`model.input.io.case_from_mapping`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError

from model.input.data import CaseData, freeze_series
from model.errors import InputError, InputIssue
from model.input.schema import CaseInput, period_labels
from model.input.scenarios import check_scenarios
from model.input.validate import check_references
from model.input.csv_series import _read_series_csv
from model.input.issues import _bool_issues, _plain_value, _pydantic_issues, _top_level_issue
from model.input.yaml_safe import load_yaml


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _resolve_extends(raw: object, path: Path, parents: list[Path], depth: int = 0) -> object:
    """``extends: other.yaml`` starts from that case and overrides its keys (maps merged, lists replaced)."""
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    shown = str(path)
    rel = raw["extends"]
    if not isinstance(rel, str) or not rel.strip():
        raise InputError([InputIssue(shown, "extends", _plain_value(rel), "the path of another case YAML, relative to this file")])
    if depth >= 5:
        raise InputError([InputIssue(shown, "extends", rel, "at most 5 levels of `extends`")])
    ppath = (path.parent / rel).resolve()
    if ppath == path.resolve() or ppath in parents:
        raise InputError([InputIssue(shown, "extends", rel, "a case that does not extend itself (directly or through the cases it extends)")])
    if not ppath.is_file():
        raise InputError([InputIssue(shown, "extends", rel, f"an existing case YAML, relative to this file's folder "
                                                             f"(there is no {path.parent / rel})")])
    parent = load_yaml(ppath, str(path.parent / rel))
    parents.append(ppath)
    parent = _resolve_extends(parent, ppath, parents, depth + 1)
    if not isinstance(parent, dict):
        raise InputError([_top_level_issue(parent, str(path.parent / rel))])
    ts = parent.get("timeseries")
    if isinstance(ts, dict):  # keep the parent's CSV paths pointing at the parent's files
        import os

        parent = dict(parent)
        parent["timeseries"] = {k: (os.path.relpath(ppath.parent / v, path.parent) if isinstance(v, str) else v)
                                for k, v in ts.items()}
    child = {k: v for k, v in raw.items() if k != "extends"}
    return _deep_merge(parent, child)


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

    issues = check_references(case, shown) + check_scenarios(case, shown)
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
        "capacity": (offer_ids | route_ids | {"plant"}, "t per period"),
    }
    unchecked: dict[str, set[str] | None] = {}  # per kind: columns whose blank scalar is not reported again
    for kind, (allowed, unit) in specs.items():
        rel = getattr(ts, kind)
        if rel is None:
            continue
        p = path.parent / rel
        if not rel.strip() or not p.is_file():
            issues.append(InputIssue(shown, f"timeseries.{kind}", rel,
                                     f"an existing CSV file, relative to the case file's folder ({p} is not one)"))
            unchecked[kind] = None
            continue
        shown_csv = str(p)
        before, cols = len(issues), set()
        series[kind] = _read_series_csv(p, shown_csv, periods, allowed, unit, issues, cols)
        if len(issues) > before:
            unchecked[kind] = cols or None
        files.append((rel, hashlib.sha256(p.read_bytes()).hexdigest()))

    T = len(periods)
    from_csv: set[str] = set()

    def resolve(kind: str, ident: str, scalar: float | None, field: str, where: str) -> list[float]:
        if ident in series[kind]:
            from_csv.add(f"{kind}:{ident}")
            return series[kind][ident]
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
    cap["plant"] = resolve("capacity", "plant", case.plant.capacity_t_per_period, "capacity_t_per_period", "plant")

    if issues:
        raise InputError(issues)
    return CaseData(
        case=case,
        periods=periods,
        demand_t_per_period=freeze_series(demand),
        price_usd_per_kg=freeze_series(price),
        capacity_t_per_period=freeze_series(cap),
        demand_as_read_t_per_period=freeze_series(demand),
        availability_frac=freeze_series({k: [1.0] * T for k in cap if k != "plant"}),
        quota_factor=freeze_series({r.id: [1.0] * T for r in case.licence_rules}),
        approval_frac=freeze_series({r.id: [r.approval_frac] * T for r in case.licence_rules}),
        from_csv=frozenset(from_csv),
        input_files=tuple(files),
    )
