"""Leaf value types of a case file, each a checking function plus the JSON Schema editors see.

pydantic checks structure (mappings, lists, required and unknown keys); these functions check
the values themselves, so every message is worded for a clinician editing YAML rather than for a
Python programmer, and numbers keep the type they were written with (6 stays 6, not 6.0).
"""
from __future__ import annotations

import datetime
import difflib
import math
import re
from typing import Annotated, Any, Callable, Iterable, Literal

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from engine.case import levels as _levels

_BOOL_WORDS = {"yes", "no", "y", "n", "on", "off", "true", "false", "t", "f"}


def reject(message: str) -> PydanticCustomError:
    """An error pydantic reports with exactly this message."""
    return PydanticCustomError("case_value", "{message}", {"message": message})


def describe(value: Any) -> str:
    """How a wrong value is shown in a message: `the text 'yes'`, `true`, `a list`, `12`."""
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


def _leaf(base: Any, check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    return Annotated[base, PlainValidator(check), WithJsonSchema(schema)]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        raise reject(f"must be true or false; {value!r} is text here (write true or false "
                     "without quotes)")
    raise reject(f"must be true or false, not {describe(value)}")


Flag = _leaf(bool, _flag, {"type": "boolean"})


def number(low: float | None = None, high: float | None = None, *, whole: bool = False) -> Any:
    """A number type within [low, high]; `whole` asks for an integer."""

    def check(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            plain = _as_number(value) if isinstance(value, str) else None
            hint = f" (write it unquoted, as {plain})" if plain is not None else ""
            raise reject(f"must be a {'whole ' if whole else ''}number, not {describe(value)}{hint}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise reject("must be a finite number")
            if whole:
                if not value.is_integer():
                    raise reject(f"must be a whole number, not {value!r}")
                value = int(value)
        if low is not None and value < low:
            raise reject(f"must be at least {low}, not {value!r}")
        if high is not None and value > high:
            raise reject(f"must be at most {high}, not {value!r}")
        return value

    schema: dict[str, Any] = {"type": "integer" if whole else "number"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return _leaf(int if whole else float, check, schema)


def _as_number(text: str) -> int | float | None:
    """The number a piece of text spells, if it spells one (`"067"` → 67)."""
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if math.isfinite(number) else None
    return None


def closest(value: str, options: Iterable[str]) -> list[str]:
    """The one option a mistyped word most likely meant (a near spelling or a unique prefix)."""
    word = value.strip().lower()
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close and word:
        close = [o for o in options if o.startswith(word)]
    return close if len(close) == 1 else []


def choice(*options: str) -> Any:
    """One of a fixed set of words; a near miss gets a suggestion."""
    allowed = frozenset(options)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        listed = ", ".join(options)
        if isinstance(value, str):
            close = closest(value, options)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise reject(f"{value!r} is not one of {listed}{hint}")
        if value is False and "none" in allowed:  # an absent finding is the word none here
            raise reject(f"must be one of {listed}; write none to record that it is absent")
        raise reject(f"must be one of {listed}, not {describe(value)}")

    return _leaf(Literal[options], check, {"type": "string", "enum": list(options)})  # type: ignore[valid-type]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise reject(f"must be text, not {describe(value)}")


Text = _leaf(str, _text, {"type": "string"})


def _name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, str):
        raise reject("must not be empty")
    raise reject(f"must be text, not {describe(value)}")


Name = _leaf(str, _name, {"type": ["string", "integer"], "minLength": 1})

_CODE = re.compile(r"[0-9A-Z]{5}")


def _code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().upper()
    else:
        raise reject(f"a CPT code is text such as \"22633\", not {describe(value)}")
    if text.startswith("+"):
        text = text[1:].strip()
    if not _CODE.fullmatch(text):
        raise reject(f"{value!r} is not a CPT code; a code is five letters or digits such as "
                     "\"22633\"")
    return text


Code = _leaf(str, _code, {
    "anyOf": [{"type": "string", "pattern": r"^\s*\+?\s*[0-9A-Za-z]{5}\s*$"},
              {"type": "integer", "minimum": 10000, "maximum": 99999}],
    "description": "CPT code; a leading + (add-on marker) is dropped, an unquoted number is read "
                   "as its digits",
})

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise reject(f"must be a date written YYYY-MM-DD (or YYYY-MM, YYYY), not {describe(value)}")
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise reject(f"{value!r} is not a date; write YYYY-MM-DD (or YYYY-MM, YYYY)")
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise reject(f"{value!r} is not a calendar date") from None
    return value.strip()


Date = _leaf(str, _date, {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
                          "description": "YYYY-MM-DD, YYYY-MM or YYYY"})

_LEVEL_PATTERN = r"^\s*[TtLlSs]\s*\d{1,2}(\s*[-/\u2013]\s*[TtLlSs]?\s*\d{1,2})?\s*$"


def _level_type(convert: Callable[[Any], Any], description: str) -> Any:
    def check(value: Any) -> Any:
        try:
            return convert(value)
        except _levels.LevelError as exc:
            raise reject(str(exc)) from None

    return _leaf(str, check, {"type": "string", "pattern": _LEVEL_PATTERN,
                              "description": description})


SegmentName = _level_type(_levels.segment, "one motion segment, e.g. L4-5, L5-S1 or T12-L1")
LevelSpec = _level_type(_levels.normalise_level,
                        "a vertebra (L3), a motion segment (L4-5) or a range (L2-L4)")
SegmentRange = _level_type(
    lambda v: tuple(_levels.segments(v)),
    "a motion segment (L4-5) or a range of segments (L2-L4 means L2-3 and L3-4)")
VertebraName = _level_type(_levels.vertebra, "one vertebra, e.g. L3 or S1")
SegmentOrVertebra = _level_type(_levels.segment_or_vertebra,
                                "one motion segment (L5-S1) or one vertebra (S1)")
