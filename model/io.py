"""Read a case: YAML for structure, CSV for time series, validated once.

``read_case(path) -> CaseData`` is the only function in the package that reads
input files. It collects every problem it can find and raises one
:class:`~model.errors.InputError` listing them, each as
``<file>: <field> = <value>: expected <what>``.

Limits: a YAML or CSV file may be at most ``MAX_FILE_BYTES`` bytes, must be
UTF-8, and YAML anchors/aliases are refused (they are never needed in a case
file and are the vehicle of "billion laughs" expansion).
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from .data import CaseData, freeze_series
from .errors import InputError, InputIssue
from .schema import MONTH_RE, CaseInput, period_labels
from .scenarios import check_scenarios
from .validate import check_references

MAX_FILE_BYTES = 10 * 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            ev = self.peek_event()
            raise yaml.YAMLError(f"YAML alias *{ev.anchor} at line {ev.start_mark.line + 1} (aliases are not allowed)")
        return super().compose_node(parent, index)


def _read_bytes(path: Path, shown: str) -> bytes:
    if not path.is_file():
        raise InputError([InputIssue(shown, "(file)", str(path), "an existing file")])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError([InputIssue(shown, "(file size)", f"{size} bytes", f"at most {MAX_FILE_BYTES} bytes")])
    return path.read_bytes()


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError([InputIssue(shown, "(encoding)", f"byte 0x{raw[e.start]:02x} at offset {e.start}", "UTF-8 text")]) from None


def _loc_label(raw: object, loc: tuple) -> str:
    """Render a pydantic error location, naming list items by their id where they have one."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            ident = node[key].get("id") if isinstance(node, list) and key < len(node) and isinstance(node[key], dict) else None
            parts.append(f"[{ident}]" if isinstance(ident, str) else f"[{key}]")
            node = node[key] if isinstance(node, list) and key < len(node) else None
        else:
            parts.append(("." if parts else "") + str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


_EXPECT = {
    "extra_forbidden": "no such field (unknown key)",
    "missing": "a value (required field)",
}


def _pydantic_issues(err: ValidationError, raw: object, shown: str) -> list[InputIssue]:
    out = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and ("[" in x or x in {"function-after"})))
        expected = _EXPECT.get(e["type"], e["msg"].replace("Input should be", "").replace("Value error, ", "").strip())
        value = e.get("input") if e["type"] != "missing" else "(missing)"
        if isinstance(value, (dict, list)):
            value = type(value).__name__
        out.append(InputIssue(shown, _loc_label(raw, loc), value, expected))
    return out


def load_yaml(path: Path, shown: str) -> object:
    text = _decode(_read_bytes(path, shown), shown)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as e:
        msg = str(e).replace("\n", " ")
        raise InputError([InputIssue(shown, "(YAML syntax)", msg[:120], "well-formed YAML without aliases")]) from None


def _read_series_csv(path: Path, shown: str, periods: tuple[str, ...], allowed: set[str], unit: str,
                     issues: list[InputIssue]) -> dict[str, list[float]]:
    """Wide CSV: a ``period`` column and one numeric column per entity id."""
    try:
        raw = _read_bytes(path, shown)
    except InputError as e:
        issues.extend(e.issues)
        return {}
    try:
        text = _decode(raw, shown)
    except InputError as e:
        issues.extend(e.issues)
        return {}
    import io as _io

    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, comment="#")
    except Exception as e:  # pandas raises several parser errors
        issues.append(InputIssue(shown, "(CSV syntax)", str(e).splitlines()[0][:120], "a comma-separated table with a header row"))
        return {}
    if "period" not in df.columns:
        issues.append(InputIssue(shown, "(header)", ",".join(df.columns), "a `period` column"))
        return {}
    seen_cols = set()
    for c in df.columns:
        if c in seen_cols or c.split(".")[0] in seen_cols and c != c.split(".")[0]:
            issues.append(InputIssue(shown, "(header)", c, "each column once"))
        seen_cols.add(c)
    for c in df.columns:
        if c != "period" and c not in allowed:
            issues.append(InputIssue(shown, f"column {c}", c, f"one of: {', '.join(sorted(allowed))}"))
    labels = [p.strip() for p in df["period"]]
    for i, p in enumerate(labels):
        if not MONTH_RE.match(p):
            issues.append(InputIssue(shown, f"row {i + 2} period", p, "a month YYYY-MM"))
        elif p not in periods:
            issues.append(InputIssue(shown, f"row {i + 2} period", p, f"a period start inside the horizon {periods[0]}..{periods[-1]}"))
    if len(set(labels)) != len(labels):
        dup = sorted({p for p in labels if labels.count(p) > 1})
        issues.append(InputIssue(shown, "period", dup[0], "each period once"))
    missing = [p for p in periods if p not in labels]
    if missing:
        issues.append(InputIssue(shown, "period", f"{len(missing)} missing, first {missing[0]}", f"a row for every period {periods[0]}..{periods[-1]}"))
    out: dict[str, list[float]] = {}
    bad_before = len(issues)
    for c in df.columns:
        if c == "period" or c not in allowed:
            continue
        vals = []
        for i, s in enumerate(df[c]):
            try:
                x = float(s)
            except ValueError:
                issues.append(InputIssue(shown, f"row {i + 2} {c}", s, f"a number ({unit})"))
                continue
            if not math.isfinite(x) or x < 0:
                issues.append(InputIssue(shown, f"row {i + 2} {c}", s, f"a finite number >= 0 ({unit})"))
                continue
            vals.append(x)
        out[c] = vals
    if len(issues) > bad_before or missing or len(set(labels)) != len(labels):
        return {}
    order = [labels.index(p) for p in periods]
    return {c: [v[i] for i in order] for c, v in out.items()}


def read_case(path: str | Path, overrides: dict[str, object] | None = None) -> CaseData:
    """Read and validate a case file and its CSVs into frozen ``CaseData``.

    ``overrides`` maps dotted paths (see :func:`set_dotted`) to values applied to the YAML before
    validation, so an override is checked like any input. Raises ``InputError`` listing every problem.
    """
    path = Path(path)
    shown = str(path)
    raw = load_yaml(path, shown)
    parents: list[Path] = []
    raw = _resolve_extends(raw, path, parents)
    for key, value in (overrides or {}).items():
        raw = set_dotted(raw, key, value, shown)
    data = case_from_mapping(raw, path)
    if parents:
        extra = tuple((str(p.relative_to(path.parent)) if p.is_relative_to(path.parent) else str(p),
                       hashlib.sha256(p.read_bytes()).hexdigest()) for p in parents)
        from dataclasses import replace

        data = replace(data, input_files=data.input_files + extra)
    return data


_SEG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]+)\])?$")


def parse_dotted(key: str) -> list[tuple[str, str | None]]:
    """``'licence_rules[cn_dy].quota_t_per_period'`` -> [('licence_rules', 'cn_dy'), ('quota_t_per_period', None)]."""
    parts = []
    for seg in key.split("."):
        m = _SEG.match(seg)
        if not m:
            raise ValueError(seg)
        parts.append((m.group(1), m.group(2)))
    return parts


def _find(items: list, ident: str):
    for i, it in enumerate(items):
        if isinstance(it, dict) and (it.get("id") == ident or it.get("element") == ident or it.get("name") == ident):
            return i
    return None


def get_dotted(raw: object, key: str, shown: str = "--set"):
    node = raw
    for name, ident in parse_dotted(key):
        if not isinstance(node, dict) or name not in node:
            raise InputError([InputIssue(shown, key, name, "a field of the case (dotted path, e.g. risk.risk_weight_lambda)")])
        node = node[name]
        if ident is not None:
            i = _find(node, ident) if isinstance(node, list) else None
            if i is None:
                raise InputError([InputIssue(shown, key, ident, f"the id of an entry of {name}")])
            node = node[i]
    return node


def set_dotted(raw: object, key: str, value: object, shown: str = "--set") -> dict:
    """A copy of the mapping with the scalar at ``key`` replaced, e.g.
    ``diversification_limits[crma_max_share_cn].max_share_frac``, ``risk.risk_weight_lambda``,
    ``stockpile[Dy].capacity_t`` (list entries are addressed by their id, element or name)."""
    import copy

    try:
        path = parse_dotted(key)
    except ValueError as e:
        raise InputError([InputIssue(shown, key, str(e), "a dotted path like licence_rules[ID].quota_t_per_period")]) from None
    out = copy.deepcopy(raw)
    node = out
    for k, (name, ident) in enumerate(path):
        last = k == len(path) - 1
        if not isinstance(node, dict):
            raise InputError([InputIssue(shown, key, name, "a field of the case")])
        if last and ident is None:
            if isinstance(node.get(name), (dict, list)):
                raise InputError([InputIssue(shown, key, name, "a scalar field (not a map or list)")])
            node[name] = value
            return out
        if name not in node:
            if last:
                node[name] = value
                return out
            node[name] = {}
        node = node[name]
        if ident is not None:
            i = _find(node, ident) if isinstance(node, list) else None
            if i is None:
                raise InputError([InputIssue(shown, key, ident, f"the id of an entry of {name}")])
            if last:
                raise InputError([InputIssue(shown, key, ident, "a scalar field after the entry, e.g. [ID].field")])
            node = node[i]
    return out


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
    if not isinstance(rel, str) or depth >= 5:
        raise InputError([InputIssue(shown, "extends", rel, "the path of another case YAML (at most 5 levels)")])
    ppath = (path.parent / rel).resolve()
    if ppath == path.resolve() or ppath in parents:
        raise InputError([InputIssue(shown, "extends", rel, "a case that does not extend itself")])
    parent = load_yaml(ppath, str(path.parent / rel))
    parents.append(ppath)
    parent = _resolve_extends(parent, ppath, parents, depth + 1)
    if not isinstance(parent, dict):
        raise InputError([InputIssue(str(path.parent / rel), "(top level)", type(parent).__name__, "a mapping of case fields")])
    ts = parent.get("timeseries")
    if isinstance(ts, dict):  # keep the parent's CSV paths pointing at the parent's files
        import os

        parent = dict(parent)
        parent["timeseries"] = {k: (os.path.relpath(ppath.parent / v, path.parent) if isinstance(v, str) else v)
                                for k, v in ts.items()}
    child = {k: v for k, v in raw.items() if k != "extends"}
    return _deep_merge(parent, child)


def case_from_mapping(raw: object, path: Path) -> CaseData:
    """Validate an already-parsed case mapping; CSV paths resolve relative to ``path``'s folder.

    ``path`` need not exist when the case uses no CSV (tests build cases this way).
    """
    shown = str(path)
    if not isinstance(raw, dict):
        raise InputError([InputIssue(shown, "(top level)", type(raw).__name__, "a mapping of case fields")])
    try:
        case = CaseInput.model_validate(raw)
    except ValidationError as e:
        raise InputError(_pydantic_issues(e, raw, shown)) from None

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
    for kind, (allowed, unit) in specs.items():
        rel = getattr(ts, kind)
        if rel is None:
            continue
        p = path.parent / rel
        shown_csv = str(p)
        series[kind] = _read_series_csv(p, shown_csv, periods, allowed, unit, issues)
        if p.is_file():
            files.append((rel, hashlib.sha256(p.read_bytes()).hexdigest()))

    T = len(periods)
    from_csv: set[str] = set()

    def resolve(kind: str, ident: str, scalar: float | None, field: str, where: str) -> list[float]:
        if ident in series[kind]:
            from_csv.add(f"{kind}:{ident}")
            return series[kind][ident]
        if scalar is None:
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
        availability_frac=freeze_series({k: [1.0] * T for k in cap if k != "plant"}),
        quota_factor=freeze_series({r.id: [1.0] * T for r in case.licence_rules}),
        approval_frac=freeze_series({r.id: [r.approval_frac] * T for r in case.licence_rules}),
        from_csv=frozenset(from_csv),
        input_files=tuple(files),
    )
