"""Read a case: YAML for structure, CSV for time series, validated once.

``read_case(path) -> CaseData`` is the only function in the package that reads
input files. It collects every problem it can find and raises one
:class:`~model.errors.InputError` listing them, each as
``<file>: <field> = <value>: expected <what>``.

Limits: a YAML or CSV file may be at most ``MAX_FILE_BYTES`` bytes (10 MiB), must be
UTF-8, and YAML anchors/aliases are refused (they are never needed in a case
file and are the vehicle of "billion laughs" expansion). YAML nesting is limited
to ``MAX_YAML_DEPTH`` levels and a key may appear only once in a mapping.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from model.input.data import CaseData, freeze_series
from model.errors import InputError, InputIssue
from model.input.schema import MONTH_RE, CaseInput, period_labels
from model.input.scenarios import check_scenarios
from model.input.validate import check_references

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_YAML_DEPTH = 50
_MAX_ISSUE_TEXT = 300


class _YAMLRefused(yaml.YAMLError):
    """A construct a case file may not use; carries its own field and expectation."""

    def __init__(self, field: str, value: object, expected: str):
        self.field, self.value, self.expected = field, value, expected
        super().__init__(f"{field}: {value}: {expected}")


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases, deep nesting and repeated keys."""

    _depth = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            ev = self.peek_event()
            raise _YAMLRefused(f"(YAML alias, line {ev.start_mark.line + 1})", f"*{ev.anchor}",
                               "no anchors or aliases (&name / *name): write each value out in full")
        ev = self.peek_event()
        if getattr(ev, "anchor", None):
            raise _YAMLRefused(f"(YAML anchor, line {ev.start_mark.line + 1})", f"&{ev.anchor}",
                               "no anchors or aliases (&name / *name): write each value out in full")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _YAMLRefused(f"(YAML nesting, line {ev.start_mark.line + 1})", f"more than {MAX_YAML_DEPTH} levels",
                                   f"at most {MAX_YAML_DEPTH} levels of nested lists and maps")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _YAMLRefused(f"(YAML key, line {key_node.start_mark.line + 1})", key,
                                       f"each key once per mapping (already given on line {seen[key]})")
                seen[key] = key_node.start_mark.line + 1
            except TypeError:
                pass  # unhashable key: SafeLoader reports it below
        return super().construct_mapping(node, deep=deep)


_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _one_line(text: str, limit: int = _MAX_ISSUE_TEXT) -> str:
    """Printable, single-line text: control characters and line separators are escaped."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _plain_value(v: object) -> object:
    """A value as an issue shows it: scalars as they are, containers as short text."""
    import datetime

    if v is None or isinstance(v, (bool, int, float, datetime.date)):
        return v
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list, tuple, set)):
        kind = "map" if isinstance(v, dict) else "list"
        if not v:
            return f"(empty {kind})"
        try:
            text = repr(v)
        except Exception:  # noqa: BLE001 - a value that cannot be shown
            text = ""
        if text and len(text) <= 60 and text.isprintable():
            return v
        return f"(a {kind} of {len(v)} item{'s' if len(v) != 1 else ''})"
    return _one_line(repr(v), 80)


def _tidy(issue: InputIssue) -> InputIssue:
    """The same issue, guaranteed to print as one line."""
    v = issue.value
    if not (v is None or isinstance(v, (str, bool, int, float))):
        v = _plain_value(v)
        if not isinstance(v, str) and not str(v).isprintable():
            v = _one_line(repr(v), 80)
    return InputIssue(_one_line(issue.file), _one_line(issue.field), v, _one_line(issue.expected))


def _tidy_error(e: InputError) -> InputError:
    return InputError([_tidy(i) for i in e.issues])


def _read_bytes(path: Path, shown: str) -> bytes:
    if not path.is_file():
        raise InputError([InputIssue(shown, "(file)", str(path), "an existing file")])
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError([InputIssue(shown, "(file size)", f"{size} bytes",
                                         f"at most {MAX_FILE_BYTES} bytes (10 MiB)")])
        return path.read_bytes()
    except OSError as e:
        raise InputError([InputIssue(shown, "(file)", type(e).__name__, "a readable file")]) from None


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError([InputIssue(shown, "(encoding)", f"byte 0x{raw[e.start]:02x} at offset {e.start}", "UTF-8 text")]) from None


def _key_label(key: object) -> str:
    return str(key) if isinstance(key, str) and _SIMPLE_KEY.match(key) else f"[{_one_line(repr(key), 40)}]"


def _loc_label(raw: object, loc: tuple) -> str:
    """Render a pydantic error location, naming list items by their id (or name, or element) where they have one."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(node, list) and isinstance(key, int):
            item = node[key] if 0 <= key < len(node) else None
            ident = None
            if isinstance(item, dict):
                ident = next((item[k] for k in ("id", "name", "element") if isinstance(item.get(k), str)), None)
            if ident is not None and _ID.match(ident) and [
                    x for x in node if isinstance(x, dict) and ident in (x.get("id"), x.get("name"), x.get("element"))] == [item]:
                parts.append(f"[{ident}]")
            else:
                parts.append(f"[{key}]")
            node = item
        else:
            label = _key_label(key)
            parts.append(label if label.startswith("[") or not parts else "." + label)
            node = node.get(key) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_YAML_BOOL_HINT = "(YAML reads unquoted yes/no/on/off/true/false as true/false)"


def _expected(e: dict) -> str:
    text = _expected_text(e)
    if e.get("input", "") is None and e["type"].endswith(("_type", "_parsing")):
        text += " (the value is blank)"
    return text


def _expected_text(e: dict) -> str:
    t, ctx, value = e["type"], e.get("ctx") or {}, e.get("input")
    msg = e["msg"].replace("Input should be ", "").replace("Value error, ", "").strip()
    if t == "extra_forbidden":
        return "no such field (unknown key; the fields are listed in docs/inputs.md)"
    if t == "missing":
        return "a value (required field)"
    if t in ("float_type", "float_parsing"):
        if isinstance(value, int) and not isinstance(value, bool):
            return "a number of a usable size"
        return "a number"
    if t in ("int_type", "int_parsing", "int_from_float"):
        return "a whole number"
    if t == "int_parsing_size":
        return "a whole number of a usable size"
    if t == "finite_number":
        return "a finite number"
    for kind, words in (("greater_than_equal", "greater than or equal to"), ("greater_than", "greater than"),
                        ("less_than_equal", "less than or equal to"), ("less_than", "less than")):
        if t == kind:
            bound = next(iter(ctx.values()), "?")
            if isinstance(bound, float) and bound.is_integer():
                bound = int(bound)
            return f"a number {words} {bound}"
    if t == "string_type":
        if isinstance(value, bool):
            return f"text, not true/false {_YAML_BOOL_HINT}: quote it"
        import datetime

        if isinstance(value, datetime.date):
            return 'text such as a month "YYYY-MM" (a full date is not a month)'
        return "text"
    if t == "string_too_short":
        return f"text of at least {ctx.get('min_length', 1)} character(s)"
    if t == "string_too_long":
        return f"text of at most {ctx.get('max_length')} characters"
    if t == "string_pattern_mismatch":
        if ctx.get("pattern") == _MONTH_PATTERN:
            return 'a month YYYY-MM (e.g. "2027-01")'
        return "an id: letters, digits, `_`, `.` or `-`, starting with a letter or digit"
    if t == "too_short":
        n = ctx.get("min_length", 1)
        return f"at least {n} item{'s' if n != 1 else ''} (this one is empty)" if not value else f"at least {n} items"
    if t == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if t == "list_type":
        return "a list (`[a, b]` or lines starting with `- `)"
    if t == "dict_type":
        return "a map (`key: value` lines)"
    if t in ("model_type", "model_attributes_type", "dataclass_type"):
        name = ctx.get("class_name")
        return f"a map of {name} fields (see docs/inputs.md#{name.lower()})" if name else "a map of fields"
    if t == "literal_error":
        return f"one of {ctx.get('expected', msg)}"
    return msg


def _err_loc(e: dict) -> tuple:
    return tuple(x for x in e["loc"] if not (isinstance(x, str) and ("[" in x or x in {"function-after"})))


def _pydantic_issues(err: ValidationError, raw: object, shown: str) -> list[InputIssue]:
    out = []
    for e in err.errors():
        loc = _err_loc(e)
        value = e.get("input") if e["type"] != "missing" else "(missing)"
        out.append(InputIssue(shown, _loc_label(raw, loc), _plain_value(value), _expected(e)))
    return out


def _bool_issues(raw: object, case: CaseInput, shown: str) -> list[InputIssue]:
    """true/false that the schema took as a number (pydantic's lax mode reads true as 1).

    Each boolean of the raw mapping is looked up in the validated case: where it became a number
    rather than a bool, the field is a number field given ``yes``/``no``/``true``/``false``.
    """
    out: list[InputIssue] = []

    def validated(loc: tuple) -> object:
        node: object = case
        for key in loc:
            if isinstance(node, (list, tuple)) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(key, str) and isinstance(node, BaseModel) and key in type(node).model_fields:
                node = getattr(node, key)
            else:
                return None
        return node

    def walk(node: object, loc: tuple) -> None:
        if isinstance(node, bool):
            v = validated(loc)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(InputIssue(shown, _loc_label(raw, loc), node, f"a number, not true/false {_YAML_BOOL_HINT}"))
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, loc + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, loc + (i,))

    walk(raw, ())
    return out


def _top_level_issue(raw: object, shown: str) -> InputIssue:
    value = "(empty file)" if raw is None else "(a list)" if isinstance(raw, list) else _plain_value(raw)
    return InputIssue(shown, "(top level)", value, "a mapping of case fields (`name: ...`, `horizon: ...`, ...)")


def load_yaml(path: Path, shown: str) -> object:
    text = _decode(_read_bytes(path, shown), shown)
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except _YAMLRefused as e:
        raise InputError([InputIssue(shown, e.field, e.value, e.expected)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"(YAML syntax, line {mark.line + 1} column {mark.column + 1})" if mark is not None else "(YAML syntax)"
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
        if "could not determine a constructor" in problem:
            expected = "plain YAML without tags (`!!python/...`, `!custom`): maps, lists, text and numbers"
        else:
            expected = "well-formed YAML (maps of `key: value`, lists, quoted text where needed)"
        raise InputError([InputIssue(shown, where, " ".join(problem.split())[:120], expected)]) from None
    except RecursionError:
        raise InputError([InputIssue(shown, "(YAML nesting)", f"more than {MAX_YAML_DEPTH} levels",
                                     f"at most {MAX_YAML_DEPTH} levels of nested lists and maps")]) from None


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NONFINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)


def _csv_lines(text: str) -> list[int]:
    """1-based file line of the header and of each data row as pandas reads them (``#`` comments and
    blank lines skipped); empty when a quoted field spans lines (then rows are numbered by position)."""
    if '"' in text:
        return []
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.split("#", 1)[0].strip()]


def _read_series_csv(path: Path, shown: str, periods: tuple[str, ...], allowed: set[str], unit: str,
                     issues: list[InputIssue], columns: set[str] | None = None) -> dict[str, list[float]]:
    """Wide CSV: a ``period`` column and one numeric column per entity id.

    ``columns``, when given, receives the header's column names (so that the caller does not also report
    blank scalars of entities whose column is present but broken); it stays empty when the header could
    not be read.
    """
    try:
        raw = _read_bytes(path, shown)
    except InputError as e:
        issues.extend(e.issues)
        return {}
    try:
        text = _decode(raw, shown).removeprefix("\ufeff")  # a byte-order mark (Excel writes one) is not data
    except InputError as e:
        issues.extend(e.issues)
        return {}
    import csv
    import io as _io

    lines = _csv_lines(text)
    try:
        rows = list(csv.reader(_io.StringIO("\n".join(ln.split("#", 1)[0] for ln in text.splitlines()
                                                      if ln.split("#", 1)[0].strip())))) if lines else []
    except csv.Error:
        rows = []
    if rows and len(rows) == len(lines):
        header = [c.strip() for c in rows[0]]
        if columns is not None:
            columns.update(header)
        ragged = [(lines[k], len(r)) for k, r in enumerate(rows) if len(r) != len(header)]
        for ln, n in ragged[:5]:
            issues.append(InputIssue(shown, f"line {ln}", f"{n} cells", f"{len(header)} cells, one per header column ({','.join(header)})"))
        dup = sorted({c for c in header if header.count(c) > 1})
        for c in dup:
            issues.append(InputIssue(shown, "(header)", c, "each column once"))
        if ragged or dup:
            return {}
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True, comment="#")
    except Exception as e:  # noqa: BLE001 - pandas raises several parser errors
        first = (str(e).splitlines() or [type(e).__name__])[0]
        issues.append(InputIssue(shown, "(CSV syntax)", first[:120], "a comma-separated table with a header row"))
        return {}
    if columns is not None:
        columns.update(str(c) for c in df.columns)
    if len(lines) != len(df) + 1:
        lines = []

    def row(i: int) -> str:
        return f"line {lines[i + 1]}" if lines else f"row {i + 2}"

    if "period" not in df.columns:
        issues.append(InputIssue(shown, "(header)", ",".join(map(str, df.columns)), "a `period` column"))
        return {}
    for c in df.columns:
        if c != "period" and c not in allowed:
            issues.append(InputIssue(shown, f"column {c}", c, f"one of: {', '.join(sorted(allowed))}"))
    labels = [p.strip() for p in df["period"]]
    for i, p in enumerate(labels):
        if not MONTH_RE.match(p):
            issues.append(InputIssue(shown, f"{row(i)} period", p, "a month YYYY-MM"))
        elif p not in periods:
            issues.append(InputIssue(shown, f"{row(i)} period", p, f"a period start inside the horizon {periods[0]}..{periods[-1]}"))
    if len(set(labels)) != len(labels):
        again = next(i for i, p in enumerate(labels) if p in labels[:i])
        first = labels.index(labels[again])
        issues.append(InputIssue(shown, f"{row(again)} period", labels[again],
                                 f"each period once (also on {row(first)})"))
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
            cell = s.strip()
            if _NONFINITE.match(cell):
                issues.append(InputIssue(shown, f"{row(i)} {c}", s, f"a finite number >= 0 ({unit})"))
                continue
            if not _NUMBER.match(cell):
                issues.append(InputIssue(shown, f"{row(i)} {c}", s, f"a number ({unit})"))
                continue
            x = float(cell)
            if not math.isfinite(x) or x < 0:
                issues.append(InputIssue(shown, f"{row(i)} {c}", s, f"a finite number >= 0 ({unit})"))
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
    try:
        raw = load_yaml(path, shown)
        parents: list[Path] = []
        raw = _resolve_extends(raw, path, parents)
        for key, value in (overrides or {}).items():
            raw = set_dotted(raw, key, value, shown)
        data = case_from_mapping(raw, path)
    except InputError as e:
        raise _tidy_error(e) from None
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


def case_from_mapping(raw: object, path: Path) -> CaseData:
    """Validate an already-parsed case mapping; CSV paths resolve relative to ``path``'s folder.

    ``path`` need not exist when the case uses no CSV (tests build cases this way).
    """
    try:
        return _case_from_mapping(raw, path)
    except InputError as e:
        raise _tidy_error(e) from None


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
