"""Pydantic validation errors as one-line :class:`~model.errors.InputIssue` s.

Each issue prints as ``<file>: <field> = <value>: expected <what>``: the field is the error's
location with list items named by their id, name or element (:func:`_loc_label`), the expectation is
pydantic's error type in plain words (:func:`_expected`), and :func:`_tidy` makes every part print on
one line (control characters escaped, text cut at ``_MAX_ISSUE_TEXT`` characters). Also here: YAML
booleans that the schema took as numbers (:func:`_bool_issues`) and a top level that is not a mapping
(:func:`_top_level_issue`).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ValidationError

from model.errors import InputError, InputIssue
from model.input.schema import CaseInput

_MAX_ISSUE_TEXT = 300
MAX_SCHEMA_ISSUES = 50
"""At most this many schema issues are listed; one more line counts the rest (a hostile file may have thousands)."""

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


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The schema model whose fields live at ``loc`` (a pydantic error location, list indices and map
    keys included), following the field annotations from :class:`CaseInput`; None if not a model."""
    import typing

    def models(ann) -> list[type]:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return [ann]
        return [m for a in typing.get_args(ann) for m in models(a)]

    cls: type[BaseModel] | None = CaseInput
    for key in loc:
        if isinstance(key, int) or cls is None:
            continue
        field = cls.model_fields.get(key)
        if field is None:
            # a map key (e.g. an id) or a tagged union: stay on the candidates we have
            continue
        found = models(field.annotation)
        cls = found[0] if len(found) == 1 else None
    return cls


def _did_you_mean(errors: list[dict]) -> tuple[list[dict], dict[int, str]]:
    """An unknown key next to a missing required field it resembles (``period`` for ``periods``) is
    one defect: the missing-field error is dropped and the unknown key's line names the field. Other
    unknown keys get the closest field name of the schema, if any is close. Returns the errors kept
    and, by position in that list, the hint to add."""
    import difflib

    missing: dict[tuple, list[tuple[int, str]]] = {}
    for i, e in enumerate(errors):
        loc = _err_loc(e)
        if e["type"] == "missing" and loc and isinstance(loc[-1], str):
            missing.setdefault(tuple(loc[:-1]), []).append((i, loc[-1]))
    drop, hints = set(), {}
    for i, e in enumerate(errors):
        loc = _err_loc(e)
        if e["type"] != "extra_forbidden" or not loc or not isinstance(loc[-1], str):
            continue
        key, parent = loc[-1], tuple(loc[:-1])
        near = [(j, f) for j, f in missing.get(parent, []) if j not in drop]
        close = difflib.get_close_matches(key, [f for _, f in near], n=1, cutoff=0.6)
        if close:
            j = next(j for j, f in near if f == close[0])
            drop.add(j)
            hints[i] = f"no such field (unknown key): did you mean `{close[0]}` (a required field, missing here)?"
            continue
        model = _model_at(parent)
        close = difflib.get_close_matches(key, sorted(model.model_fields), n=1, cutoff=0.75) if model else []
        if close:
            hints[i] = f"no such field (unknown key; did you mean `{close[0]}`? the fields are listed in docs/inputs.md)"
    kept, kept_hints = [], {}
    for i, e in enumerate(errors):
        if i in drop:
            continue
        if i in hints:
            kept_hints[len(kept)] = hints[i]
        kept.append(e)
    return kept, kept_hints


def _pydantic_issues(err: ValidationError, raw: object, shown: str) -> list[InputIssue]:
    out = []
    errors, hints = _did_you_mean(err.errors())
    for n, e in enumerate(errors[:MAX_SCHEMA_ISSUES]):
        loc = _err_loc(e)
        value = e.get("input") if e["type"] != "missing" else "(missing)"
        out.append(InputIssue(shown, _loc_label(raw, loc), _plain_value(value), hints.get(n) or _expected(e)))
    if len(errors) > MAX_SCHEMA_ISSUES:
        out.append(InputIssue(shown, "(further problems)", f"{len(errors) - MAX_SCHEMA_ISSUES} more not shown",
                              "a corrected file (fix the problems above and run again)"))
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
