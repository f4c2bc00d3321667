"""Read-only containers for validated data: nothing downstream of validation can change an input.

- :class:`FrozenList` -- a tuple; the schema's list fields hold one (``case.offers.append`` fails).
- :class:`FrozenMap` -- a dict that refuses every change; the schema's map fields hold one.
- :class:`FrozenTable` -- a read-only view of a pandas DataFrame (the sparse arrival and recovery
  tables of :class:`~model.components.sets.ModelSets`).
- :func:`freeze` -- lists and dicts, nested, as ``FrozenList`` and ``FrozenMap``.

``FrozenList`` and ``FrozenMap`` validate exactly as ``list`` and ``dict`` do (the same pydantic
errors, so the same input-error lines) and print as the list or map the user wrote (``['CN']``, not
``('CN',)``), so error messages and reports that show an input value are unchanged. Both pickle and
deep-copy. A frozen dataclass holding plain mappings wraps them in ``types.MappingProxyType`` instead
(:class:`~model.input.data.CaseData`, ``ModelSets``).

In pydantic, ``model_copy(update=...)`` does not validate: :class:`model.input.schema.Strict` freezes
the update itself.
"""

from __future__ import annotations

from typing import Any, Iterable, TypeVar, get_args

from pydantic_core import core_schema

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class FrozenList(tuple[T, ...]):
    """A tuple that validates (pydantic) as a list, prints as one and equals a list of the same items
    (``rule.origin_groups == ["CN"]`` holds, as it did when the field held a list)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(list(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return list(self) == other
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        (item,) = get_args(source) or (Any,)
        as_list = handler.generate_schema(list[item])
        return core_schema.no_info_after_validator_function(
            cls, as_list,
            serialization=core_schema.wrap_serializer_function_ser_schema(_as_list, schema=as_list),
        )


def _as_list(value: Iterable, serialize: Any) -> Any:
    return serialize(list(value))


def _read_only(self, *args, **kwargs):
    raise TypeError(f"{type(self).__name__} is read-only")


class FrozenMap(dict[K, V]):
    """A dict that refuses every change (item assignment, deletion, ``update``, ``|=``, ``setdefault``,
    ``pop``, ``clear``). ``copy()`` and ``|`` give an ordinary, mutable dict."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        dict.__init__(self, *args, **kwargs)
        return self

    def __init__(self, *args, **kwargs) -> None:  # filled once, by __new__
        pass

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return (type(self), (dict(self),))

    @classmethod
    def fromkeys(cls, keys, value=None):
        return cls(dict.fromkeys(keys, value))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        key, value = get_args(source) or (Any, Any)
        return core_schema.no_info_after_validator_function(cls, handler.generate_schema(dict[key, value]))


def freeze(value: Any) -> Any:
    """Lists and tuples as ``FrozenList``, dicts as ``FrozenMap``, recursively; anything else as it is."""
    if isinstance(value, (list, tuple)) and not isinstance(value, FrozenList) and not hasattr(value, "_fields"):
        return FrozenList(freeze(v) for v in value)
    if isinstance(value, dict) and not isinstance(value, FrozenMap):
        return FrozenMap({k: freeze(v) for k, v in value.items()})
    return value


class FrozenTable:
    """A read-only table: the reading side of a pandas DataFrame, none of the writing side.

    ``table.col`` (or ``table["col"]``) is the column as a Series; pandas' copy-on-write makes it the
    caller's own (changing it leaves the table as it was). ``len``, ``columns``, ``merge`` and
    ``itertuples`` read the table; ``frame()`` returns a mutable copy. There is no ``loc``/``iloc``,
    no item or attribute assignment and no in-place method.
    """

    __slots__ = ("_df",)

    def __init__(self, df: Any) -> None:
        object.__setattr__(self, "_df", df.copy(deep=False))  # a distinct object: changes to ``df`` do not reach it

    def __getattr__(self, name: str) -> Any:
        df = object.__getattribute__(self, "_df")
        if name in df.columns:
            return df[name]
        raise AttributeError(f"{type(self).__name__} has no column or attribute {name!r}")

    def __getitem__(self, column: str) -> Any:
        if not isinstance(column, str):
            raise TypeError("a FrozenTable is indexed by a column name; use frame() for anything else")
        return self._df[column]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __len__(self) -> int:
        return len(self._df)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(\n{self._df!r})"

    def __reduce__(self):
        return (type(self), (self._df,))

    @property
    def columns(self) -> Any:
        return self._df.columns

    def merge(self, right: Any, *args, **kwargs) -> Any:
        """``DataFrame.merge``: a new frame."""
        return self._df.merge(right, *args, **kwargs)

    def itertuples(self, *args, **kwargs):
        return self._df.itertuples(*args, **kwargs)

    def frame(self) -> Any:
        """A mutable copy as a DataFrame."""
        return self._df.copy()
