"""Leaf value types of a case file for the pydantic models: a check from `values.py` plus the
JSON Schema editors see. `leaf_type(spec)` gives the type of a shape-table leaf.

pydantic checks structure (mappings, lists, required and unknown keys); the checks in
`values.py` check the values themselves, so every message is worded for a clinician editing
YAML rather than for a Python programmer, and numbers keep the type they were written with (6
stays 6, not 6.0). The fast loader calls the very same checks without pydantic.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from engine.cases.values import Check, ValueProblem, closest, describe, make

__all__ = ["Code", "Date", "Flag", "Name", "Text", "check_of", "choice", "closest", "describe",
           "leaf_type", "number", "reject"]


def reject(message: str) -> PydanticCustomError:
    """An error pydantic reports with exactly this message."""
    return PydanticCustomError("case_value", "{message}", {"message": message})


def _validator(check: Check) -> Any:
    def validate(value: Any) -> Any:
        try:
            return check(value)
        except ValueProblem as exc:
            raise reject(str(exc)) from None

    validate.check = check  # type: ignore[attr-defined]  # read by check_of
    return PlainValidator(validate)


def check_of(validator: Any) -> Check | None:
    """The `values` check behind a PlainValidator made here (None for any other validator)."""
    return getattr(getattr(validator, "func", None), "check", None)


def _leaf(base: Any, check: Check, schema: dict[str, Any]) -> Any:
    return Annotated[base, _validator(check), WithJsonSchema(schema)]


Flag = _leaf(bool, make("flag"), {"type": "boolean"})


def number(low: float | None = None, high: float | None = None, *, whole: bool = False) -> Any:
    """A number type within [low, high]; `whole` asks for an integer."""
    schema: dict[str, Any] = {"type": "integer" if whole else "number"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return _leaf(int if whole else float, make("number", low, high, whole), schema)


def choice(absent: str | None, *options: str) -> Any:
    """One of a fixed set of words; a near miss gets a suggestion."""
    return _leaf(Literal[options], make("choice", absent, *options),  # type: ignore[valid-type]
                 {"type": "string", "enum": list(options)})


Text = _leaf(str, make("text"), {"type": "string"})
Name = _leaf(str, make("name"), {"type": ["string", "integer"], "minLength": 1})
Code = _leaf(str, make("code"), {
    "anyOf": [{"type": "string", "pattern": r"^\s*\+?\s*[0-9A-Za-z]{5}\s*$"},
              {"type": "integer", "minimum": 10000, "maximum": 99999}],
    "description": "CPT code; a leading + (add-on marker) is dropped, an unquoted number is read "
                   "as its digits",
})
Date = _leaf(str, make("date"), {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
                                 "description": "YYYY-MM-DD, YYYY-MM or YYYY"})
_FIXED = {"flag": Flag, "text": Text, "name": Name, "code": Code, "date": Date}


def _level_pattern(levels: Any) -> str:
    """A JSON Schema pattern for level spellings over the vocabulary's region letters."""
    regions = sorted({name.rstrip("0123456789") for name in levels.vertebrae}, key=lambda r: (-len(r), r))
    letters = "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in region) for region in regions)
    return (rf"^\s*({letters})\s*\d{{1,2}}(\s*[-/\u2013]\s*({letters})?\s*\d{{1,2}})?\s*$")


def leaf_type(spec: tuple[Any, ...], description: str = "") -> Any:
    """The pydantic type of a shape-table leaf spec (`("number", 0, 100, False)`, ...)."""
    kind, *args = spec
    if kind in _FIXED and not args:
        return _FIXED[kind]
    if kind == "number":
        low, high, whole = args
        return number(low, high, whole=whole)
    if kind == "choice":
        return choice(*args)
    if kind == "format":
        return _leaf(str, make("format", args[0]), {"const": args[0]})
    if kind == "level":
        level_kind, levels = args
        return _leaf(str, make("level", level_kind, levels), {
            "type": "string", "pattern": _level_pattern(levels), "description": description})
    raise ValueError(f"no pydantic type for the value check {spec!r}")
