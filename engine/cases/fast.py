"""The fast path: check and normalise a case against its schema's shape table, no pydantic.

It answers one question, "is this case valid, and if so what is it?", and leaves every "why
not" to the pydantic path: on the first thing it cannot accept it raises `Invalid`, and the
loader then validates the same data with pydantic, which reports every problem with its
position. The table (`shape.py`) and the pydantic models come from the same case schema and the
leaf checks are shared (`values.py`), so both paths accept the same cases and give the same values.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.cases import values
from engine.cases.record import FrozenDict, FrozenList, Record, record_classes
from engine.cases.shape import Shape, shape_of
from engine.knowledge.caseschema import CaseSchema

Reader = Callable[[Any], Any]


class Invalid(Exception):
    """The data is not a valid case; the pydantic path says why."""


def _leaf(spec: tuple[Any, ...]) -> Reader:
    check = values.make(*spec).func

    def read(value: Any) -> Any:
        try:
            return check(value)
        except Exception:  # ValueProblem, or anything odd: pydantic decides
            raise Invalid from None

    return read


def _optional(inner: Reader) -> Reader:
    def read(value: Any) -> Any:
        return None if value is None else inner(value)

    return read


def _list(item: Reader, low: int | None, high: int | None, after: tuple[str, ...]) -> Reader:
    afters = [values.AFTER[name] for name in after]

    def read(value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid
        out = [item(v) for v in value]
        if (low is not None and len(out) < low) or (high is not None and len(out) > high):
            raise Invalid
        for func in afters:
            out = func(out)
        return FrozenList(out)

    return read


def _dict(key: Reader, item: Reader) -> Reader:
    def read(value: Any) -> Any:
        if not isinstance(value, dict):
            raise Invalid
        return FrozenDict({key(k): item(v) for k, v in value.items()})

    return read


class FastReader:
    """Readers for every model of one shape table, and the record classes they fill."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.classes: dict[str, type[Record]] = record_classes(shape)
        for cls in self.classes.values():
            cls._rebuild = restore
        self.readers: dict[str, Reader] = {}
        for name in shape.models:
            self.readers[name] = self._model_reader(name)
        self.validate_root = self.readers[shape.root]

    def _model(self, name: str) -> Reader:
        readers = self.readers

        def read(value: Any) -> Any:
            return readers[name](value)  # looked up when called: models may refer to later ones

        return read

    def _reader(self, spec: tuple[Any, ...]) -> Reader:
        kind = spec[0]
        if kind == "leaf":
            return _leaf(spec[1])
        if kind == "opt":
            return _optional(self._reader(spec[1]))
        if kind == "list":
            return _list(self._reader(spec[1]), spec[2], spec[3], spec[4])
        if kind == "dict":
            return _dict(self._reader(spec[1]), self._reader(spec[2]))
        if kind == "model":
            return self._model(spec[1])
        raise ValueError(f"unknown type spec {spec!r} in the shape table")

    def _model_reader(self, name: str) -> Reader:
        cls = self.classes[name]
        fields = [(field, self._reader(spec), required)
                  for field, spec, required in self.shape.models[name]]
        known = frozenset(field for field, _, _ in fields)

        def read(value: Any) -> Record:
            if not isinstance(value, dict) or not known.issuperset(value):
                raise Invalid
            out: dict[str, Any] = {}
            for field, reader, required in fields:
                if field in value:
                    out[field] = reader(value[field])
                elif required:
                    raise Invalid
            return cls(out)

        return read

    def validate(self, data: Any) -> Record:
        """The case `data` holds, as immutable records; raises `Invalid` if pydantic would refuse it."""
        return self.validate_root(data)


_READERS: dict[Any, FastReader] = {}


def reader_for(schema: CaseSchema) -> FastReader:
    """The fast reader of a case schema, built on first use."""
    shape = shape_of(schema)
    found = _READERS.get(id(shape))
    if found is None or found.shape is not shape:
        found = _READERS[id(shape)] = FastReader(shape)
    return found


def restore(schema: CaseSchema, name: str, values: dict[str, Any], source: Any) -> Record:
    """A record of the named class of the schema's reader, from its field values (how copies and
    pickles of a case are built again: Record.__reduce__)."""
    record = reader_for(schema).classes[name](values)
    if source is not None:
        object.__setattr__(record, "_source", source)
    return record


def validate(data: Any, schema: CaseSchema) -> Record:
    """The case `data` holds, read with `schema`; raises `Invalid` if pydantic would refuse it."""
    return reader_for(schema).validate(data)
