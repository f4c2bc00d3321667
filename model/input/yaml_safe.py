"""Read a case YAML safely: size-limited UTF-8 text, then a loader that refuses what a case never needs.

A YAML or CSV file may be at most ``MAX_FILE_BYTES`` bytes (10 MiB) and must be UTF-8
(:func:`_read_bytes` and :func:`_decode`, which the CSV reader shares). :func:`load_yaml` refuses
YAML anchors/aliases (they are never needed in a case file and are the vehicle of "billion laughs"
expansion), nesting deeper than ``MAX_YAML_DEPTH`` levels, a key given twice in one mapping, tags and
malformed YAML, each as an :class:`~model.errors.InputError` of one issue.

Files are opened only when they are regular files (:func:`_not_a_file`): a folder, a FIFO, a device
such as ``/dev/zero``, a socket, a dangling symbolic link, a loop of links, an unreadable file or a path
too long for the system is one issue naming what it is, and nothing blocks or reads without end (at
most ``MAX_FILE_BYTES`` + 1 bytes are ever read). Whole numbers YAML would read surprisingly (``010``
is octal 8 in YAML 1.1, ``1:30`` is 90) or that have more digits than Python converts are refused. A
file outside the case's folder is read but its content is never quoted back (``quote=False``:
:data:`HIDDEN` instead).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import yaml

from model.errors import InputError, InputIssue

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_YAML_DEPTH = 50
HIDDEN = "(content not shown: file outside the case folder)"
"""Shown instead of any text taken from a file that lies outside the case's folder."""


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

    def construct_checked_int(self, node):
        """A YAML 1.1 int, refusing octal (``010``), base 60 (``1:30``) and more digits than Python converts."""
        text = str(self.construct_scalar(node))
        digits = text.replace("_", "").lstrip("+-")
        where = f"(YAML number, line {node.start_mark.line + 1})"
        if ":" in digits:
            raise _YAMLRefused(where, text, "a decimal number (YAML 1.1 reads 1:30 as base 60, i.e. 90): "
                                            "write the number itself, or quote text")
        if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXbB":
            raise _YAMLRefused(where, text, f"a decimal number without a leading 0 (YAML 1.1 reads {text} as "
                                            f"octal): write {digits.lstrip('0') or '0'}, or quote text")
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise _YAMLRefused(where, f"{digits[:12]}... ({len(digits)} digits)",
                               "a number of a usable size (far fewer digits; write large values as 1.5e9)") from None

    def construct_checked_float(self, node):
        text = str(self.construct_scalar(node))
        if ":" in text:
            raise _YAMLRefused(f"(YAML number, line {node.start_mark.line + 1})", text,
                               "a decimal number (YAML 1.1 reads 1:30.5 as base 60): write the number itself, or quote text")
        return super().construct_yaml_float(node)


_NoAliasLoader.add_constructor("tag:yaml.org,2002:int", _NoAliasLoader.construct_checked_int)
_NoAliasLoader.add_constructor("tag:yaml.org,2002:float", _NoAliasLoader.construct_checked_float)


def _os_problem(e: OSError) -> str:
    """What an ``OSError`` on opening a path means, as ``it ...`` words."""
    return {
        errno.ENOENT: "does not exist",
        errno.ENOTDIR: "does not exist (a part of its path is not a folder)",
        errno.ELOOP: "is a loop of symbolic links",
        errno.ENAMETOOLONG: "is a path too long for the system",
        errno.EACCES: "cannot be read (permission denied)",
        errno.EPERM: "cannot be read (operation not permitted)",
        errno.EISDIR: "is a folder",
    }.get(e.errno, f"cannot be read ({e.strerror or type(e).__name__})")


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be read, as ``it ...`` words; None when it is one.

    Only ``stat`` is called (nothing is opened), so a FIFO or a device is never opened here."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        try:
            os.lstat(path)
        except (OSError, ValueError):
            return "does not exist"
        return "is a symbolic link to a file that does not exist"
    except OSError as e:
        return _os_problem(e)
    except ValueError:
        return "has a NUL character in its name"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return "is " + next((name for test, name in kinds if test(mode)), "not a regular file")


def _file_expected(problem: str) -> str:
    head = "an existing file" if problem.startswith("does not exist") else "a readable regular file"
    return f"{head} (it {problem})"


def _size_issue(shown: str, value: str) -> InputError:
    return InputError([InputIssue(shown, "(file size)", value, f"at most {MAX_FILE_BYTES} bytes (10 MiB)")])


def _read_bytes(path: Path, shown: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``; anything else is one issue.

    The file is checked with ``stat`` before it is opened, opened non-blocking and checked again on the
    open descriptor, and read in chunks up to one byte over the limit (a file that grows is cut short)."""
    problem = _not_a_file(path)
    if problem is not None:
        raise InputError([InputIssue(shown, "(file)", str(path), _file_expected(problem))])
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputError([InputIssue(shown, "(file)", str(path), _file_expected(_os_problem(e)))]) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced between the two checks
            raise InputError([InputIssue(shown, "(file)", str(path), _file_expected("is not a regular file"))])
        if st.st_size > MAX_FILE_BYTES:
            raise _size_issue(shown, f"{st.st_size} bytes")
        chunks, n = [], 0
        while n <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - n))
            if not chunk:
                break
            chunks.append(chunk)
            n += len(chunk)
        if n > MAX_FILE_BYTES:
            raise _size_issue(shown, f"more than {MAX_FILE_BYTES} bytes")
        return b"".join(chunks)
    except OSError as e:
        raise InputError([InputIssue(shown, "(file)", str(path), _file_expected(_os_problem(e)))]) from None
    finally:
        os.close(fd)


_OTHER_ENCODINGS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
                    (b"\xff\xfe", "UTF-16"))


def _decode(raw: bytes, shown: str) -> str:
    """UTF-8 text without NUL bytes (a UTF-16 file or a binary file is one issue saying so)."""
    enc = next((name for bom, name in _OTHER_ENCODINGS if raw.startswith(bom)), None)
    if enc is not None:
        raise InputError([InputIssue(shown, "(encoding)", f"byte 0x{raw[0]:02x} at offset 0",
                                     f"UTF-8 text (the file starts with a {enc} byte-order mark: save it as UTF-8)")])
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise InputError([InputIssue(shown, "(encoding)", f"NUL byte at offset {nul} (line {line})",
                                     "UTF-8 text without NUL bytes (is it UTF-16 or a binary file?)")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError([InputIssue(shown, "(encoding)", f"byte 0x{raw[e.start]:02x} at offset {e.start}", "UTF-8 text")]) from None


def load_yaml(path: Path, shown: str, quote: bool = True) -> object:
    """The YAML document of ``path``; ``quote=False`` (a file outside the case folder): no issue quotes its text."""
    text = _decode(_read_bytes(path, shown), shown)
    if text.startswith("\ufeff\ufeff"):
        raise InputError([InputIssue(shown, "line 1", "U+FEFF (a byte-order mark) repeated",
                                     "at most one byte-order mark, at the very start of the file (save it once as UTF-8)")])
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except _YAMLRefused as e:
        raise InputError([InputIssue(shown, e.field, e.value if quote else HIDDEN, e.expected)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"(YAML syntax, line {mark.line + 1} column {mark.column + 1})" if mark is not None else "(YAML syntax)"
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
        if "could not determine a constructor" in problem:
            expected = "plain YAML without tags (`!!python/...`, `!custom`): maps, lists, text and numbers"
        elif "could not find expected ':'" in problem and mark is not None and mark.column >= 1024:
            expected = "keys shorter than 1024 characters (YAML's limit for a `key:`), each `key: value` on one line"
        else:
            expected = "well-formed YAML (maps of `key: value`, lists, quoted text where needed)"
        raise InputError([InputIssue(shown, where, " ".join(problem.split())[:120] if quote else HIDDEN, expected)]) from None
    except RecursionError:
        raise InputError([InputIssue(shown, "(YAML nesting)", f"more than {MAX_YAML_DEPTH} levels",
                                     f"at most {MAX_YAML_DEPTH} levels of nested lists and maps")]) from None
