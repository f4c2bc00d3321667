"""Dotted paths into a raw case mapping, e.g. ``licence_rules[cn_dy].quota_t_per_period``.

A path is field names joined by ``.``; ``name[ID]`` picks the entry of list ``name`` whose id,
element or name is ID. :func:`get_dotted` reads the value at a path, :func:`set_dotted` returns a copy
with the scalar there replaced (``--set`` overrides and sweeps). Pure: works on mappings, reads no file.
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
