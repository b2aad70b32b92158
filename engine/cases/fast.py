"""The fast path: check and normalise a case against the generated shape table, no pydantic.

It answers one question, "is this case valid, and if so what is it?", and leaves every "why
not" to the pydantic path: on the first thing it cannot accept it raises `Invalid`, and the
loader then validates the same data with pydantic, which reports every problem with its
position. The table (`shape.py`) is derived from the pydantic models and the leaf checks are the
models' own (`values.py`), so both paths accept the same cases and give the same values.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.cases import shape, values
from engine.cases.record import FrozenDict, FrozenList, Record, record_classes

Reader = Callable[[Any], Any]


class Invalid(Exception):
    """The data is not a valid case; the pydantic path says why."""


CLASSES: dict[str, type[Record]] = record_classes(shape.MODELS, shape.ROOT, __name__)
_READERS: dict[str, Reader] = {}


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


def _model(name: str) -> Reader:
    def read(value: Any) -> Any:
        return _READERS[name](value)  # looked up when called: models may refer to later ones

    return read


def _reader(spec: tuple[Any, ...]) -> Reader:
    kind = spec[0]
    if kind == "leaf":
        return _leaf(spec[1])
    if kind == "opt":
        return _optional(_reader(spec[1]))
    if kind == "list":
        return _list(_reader(spec[1]), spec[2], spec[3], spec[4])
    if kind == "dict":
        return _dict(_reader(spec[1]), _reader(spec[2]))
    if kind == "model":
        return _model(spec[1])
    raise ValueError(f"unknown type spec {spec!r} in shape.py")


def _model_reader(name: str) -> Reader:
    cls = CLASSES[name]
    fields = [(field, _reader(spec), required) for field, spec, required in shape.MODELS[name]]
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


for _name in shape.MODELS:
    _READERS[_name] = _model_reader(_name)


def validate(data: Any) -> Record:
    """The case `data` holds, as immutable records; raises `Invalid` if pydantic would refuse it."""
    return _READERS[shape.ROOT](data)
