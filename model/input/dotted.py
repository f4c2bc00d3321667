"""Dotted paths into a raw case mapping, e.g. ``licence_rules[cn_dy].quota_t_per_period``.

A path is field names joined by ``.``; ``name[ID]`` picks the entry of list ``name`` whose id,
element or name is ID. :func:`get_dotted` reads the value at a path, :func:`set_dotted` returns a copy
with the scalar there replaced (``--set`` overrides and sweeps), and :func:`apply_named_overrides`
applies the case's own named overrides. Pure: works on mappings, reads no file.

Named overrides (Calliope style)
--------------------------------
A case may hold, at its top level, ``overrides: {NAME: {DOTTED_PATH: VALUE, ...}, ...}``.
``apply_named_overrides(raw, names)`` sets, for each chosen NAME in the order given, every
``DOTTED_PATH`` to ``VALUE`` (a later name wins over an earlier one on the same path); nothing is
validated here -- the result is validated like any case, and an issue on a field that an override
set is renamed ``overrides.NAME.<field>`` so that the line names the override.

Glossary
--------
raw             the parsed case mapping (after ``extends``), before validation
NAME            an override's name: a key of ``raw["overrides"]``
DOTTED_PATH     a path as above, e.g. ``diversification_limits[crma_max_share_cn].max_share_frac``
applied         dotted path -> the NAME that set it last (to name the override in an issue)
"""

from __future__ import annotations

import re

from model.errors import InputError, InputIssue

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


OVERRIDES = "overrides"
_NOT_OVERRIDABLE = ("overrides", "extends")  # the block itself, and `extends` (resolved before overrides apply)


def apply_named_overrides(raw: object, names: list[str] | tuple[str, ...], shown: str) -> tuple[object, dict[str, str]]:
    """``raw`` with the named overrides ``names`` applied in order, and ``applied`` (path -> NAME).

    Every problem (no ``overrides`` block, an unknown NAME, a NAME that is not a map, a path that is not
    one or does not reach an entry, a value that is not a scalar) is collected into one
    :class:`InputError`; each line names the override."""
    if not names or not isinstance(raw, dict):  # not a mapping: validation reports the top level
        return raw, {}
    block = raw.get(OVERRIDES)
    defined = sorted(str(k) for k in block) if isinstance(block, dict) else []
    listed = ", ".join(defined[:10]) + (", ..." if len(defined) > 10 else "")
    issues: list[InputIssue] = []
    if not isinstance(block, dict):
        got = "(missing)" if block is None else f"(a {type(block).__name__})"
        raise InputError([InputIssue(shown, OVERRIDES, got, f"a top-level `overrides:` map of override names to "
                                                            f"maps of dotted paths to values, to choose "
                                                            f"{', '.join(map(repr, names))} from")])
    applied: dict[str, str] = {}
    out = raw
    for name in names:
        if name not in block:
            issues.append(InputIssue(shown, OVERRIDES, name, f"the name of an override of this case "
                                                             f"({'one of ' + listed if defined else 'it defines none'})"))
            continue
        changes = block[name]
        if not isinstance(changes, dict) or not changes:
            issues.append(InputIssue(shown, f"{OVERRIDES}.{name}", "(empty)" if changes in (None, {}) else
                                     f"(a {type(changes).__name__})", "a map of dotted paths to values"))
            continue
        for key, value in changes.items():
            field = f"{OVERRIDES}.{name}.{key}"
            if not isinstance(key, str) or key.split(".")[0].split("[")[0] in _NOT_OVERRIDABLE:
                issues.append(InputIssue(shown, field, value, "a dotted path into the case (not into "
                                                              "`overrides` or `extends`)"))
                continue
            if isinstance(value, (dict, list)):
                issues.append(InputIssue(shown, field, f"(a {'map' if isinstance(value, dict) else 'list'})",
                                         "a number, text, true/false or blank"))
                continue
            try:
                out = set_dotted(out, key, value, shown)
            except InputError as e:
                issues += [InputIssue(i.file, f"{OVERRIDES}.{name}.{i.field}", i.value, i.expected) for i in e.issues]
                continue
            applied[key] = name
    if issues:
        raise InputError(issues)
    return out, applied


def name_overrides(err: InputError, applied: dict[str, str]) -> InputError:
    """``err`` with each issue on a field that a named override set renamed ``overrides.NAME.<field>``."""
    if not applied:
        return err

    def who(field: str) -> str | None:
        for key, name in applied.items():
            if field == key or field.startswith((key + ".", key + "[")):
                return name
        return None

    out = []
    for i in err.issues:
        name = who(i.field)
        out.append(i if name is None else InputIssue(i.file, f"{OVERRIDES}.{name}.{i.field}", i.value, i.expected))
    return InputError(out)


def override_names(specs: str | list[str] | None) -> tuple[str, ...]:
    """The names of ``--override NAME[,NAME]`` (given once or repeated), in order; one
    ``(command line)`` input error when a name is blank."""
    if not specs:
        return ()
    names = []
    for spec in [specs] if isinstance(specs, str) else specs:
        parts = [s.strip() for s in spec.split(",")]
        if not all(parts):
            raise InputError([InputIssue("(command line)", "--override", spec,
                                         "override names separated by commas (entries of the case's `overrides:`)")])
        names += parts
    return tuple(names)
