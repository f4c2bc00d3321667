"""Read a case YAML safely: size-limited UTF-8 text, then a loader that refuses what a case never needs.

A YAML or CSV file may be at most ``MAX_FILE_BYTES`` bytes (10 MiB) and must be UTF-8
(:func:`_read_bytes` and :func:`_decode`, which the CSV reader shares). :func:`load_yaml` refuses
YAML anchors/aliases (they are never needed in a case file and are the vehicle of "billion laughs"
expansion), nesting deeper than ``MAX_YAML_DEPTH`` levels, a key given twice in one mapping, tags and
malformed YAML, each as an :class:`~model.errors.InputError` of one issue.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from model.errors import InputError, InputIssue

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_YAML_DEPTH = 50


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
