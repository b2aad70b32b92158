"""Light, immutable case objects for the fast loader, read like the pydantic models.

`record_classes(shape)` makes one class per model of a schema's shape table, with a slot per
field, so `case.requests[0].procedures[1].levels` reads the same whether the case came from the
fast path or from pydantic. Lists and mappings inside are frozen as well. `CaseMethods` holds
what a case adds to its fields (its source name, positions, findings and the case schema it was
read with); the pydantic `Case` uses the same mixin.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from engine.cases.positions import format_path
from engine.errors import Finding, Location

if TYPE_CHECKING:
    from engine.cases.positions import Path
    from engine.cases.shape import Shape
    from engine.knowledge.caseschema import CaseSchema


class CaseMethods:
    """Source name, positions and findings of a loaded case (`_source` is set by the loader)."""

    __slots__ = ()  # `_source` (the Source or None) is a slot or private attribute of the case
    _schema: "CaseSchema"  # set on each generated class

    @property
    def schema(self) -> "CaseSchema":
        """The case schema (kb/case-schema.yaml) this case was read with."""
        return type(self)._schema

    @property
    def source_name(self) -> str:
        """The file name (or `<stdin>`) the case was read from."""
        return self._source.name if self._source else "<case>"

    def locate(self, path: "Path", *, key: bool = False) -> Location:
        """Where `path` (e.g. `('requests', 1, 'procedures', 5, 'levels', 0)`) is in the source."""
        if self._source is None:
            return Location(self.source_name)
        return self._source.locate(tuple(path), key=key)

    def finding(self, path: "Path", message: str) -> Finding:
        """An `invalid_case` finding about `path`, worded and placed like the loader's own."""
        if self._source is None:
            return Finding("invalid_case", f"{format_path(path)}: {message}",
                           Location(self.source_name))
        return self._source.finding(tuple(path), message)


def _frozen(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(f"{type(self).__name__} of a loaded case cannot be changed")


class FrozenList(list):  # type: ignore[type-arg]
    """A list that refuses changes; it still equals (and JSON-encodes as) a plain list."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _frozen
    append = extend = insert = pop = remove = clear = sort = reverse = _frozen
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle build it whole
        return FrozenList, (list(self),)


class FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes; it still equals a plain dict."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _frozen
    setdefault = update = pop = popitem = clear = _frozen
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)


class Record:
    """One validated mapping of a case: a slot per field, None where the case gave nothing."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _schema: Any = None  # the case schema whose shape made this class (copies and pickles use it)
    _rebuild: Any = None
    """What builds a record of this class again from (schema, class name, values, source): set by
    the reader that made the class (engine.cases.fast.restore), so a copy or a pickle finds it."""

    def __init__(self, values: dict[str, Any]) -> None:
        for name in self._fields:
            object.__setattr__(self, name, values.get(name))

    __setattr__ = __delattr__ = _frozen

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        given = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields
                          if getattr(self, n) is not None)
        return f"{type(self).__name__}({given})"

    def __reduce__(self) -> tuple[Any, ...]:
        values = {name: getattr(self, name) for name in self._fields}
        return type(self)._rebuild, (self._schema, type(self).__name__, values, getattr(self, "_source", None))

    def to_data(self) -> dict[str, Any]:
        """Plain data in field order, leaving out fields that are None (like pydantic's
        `model_dump(exclude_none=True)`); a new structure each call."""
        out: dict[str, Any] = {}
        for name in self._fields:
            value = getattr(self, name)
            if value is not None:
                out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_data()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _root_init(self: Record, values: dict[str, Any]) -> None:
    Record.__init__(self, values)
    object.__setattr__(self, "_source", None)


def record_classes(shape: "Shape") -> dict[str, type[Record]]:
    """One Record class per model of the shape; the root one also carries `CaseMethods` and
    `_source`. Every class remembers the schema, so copies and pickles find their class again."""
    classes: dict[str, type[Record]] = {}
    for name, fields in shape.models.items():
        names = tuple(field[0] for field in fields)
        if name == shape.root:
            cls = type(name, (CaseMethods, Record), {"__slots__": names + ("_source",),
                                                     "_fields": names, "__init__": _root_init})
        else:
            cls = type(name, (Record,), {"__slots__": names, "_fields": names})
        cls._schema = shape.schema
        cls.__module__ = __name__
        cls.__doc__ = f"A validated {name} of a case file (fast loader)."
        classes[name] = cls
    return classes
