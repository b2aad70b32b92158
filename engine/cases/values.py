"""Leaf value checks of a case file, free of pydantic: one copy serves both validation paths.

Each check takes a value read from YAML or JSON and returns it normalised (`l4/5` → `L4-5`,
`+22853` → `22853`, `6.0` → `6` where a whole number is wanted) or raises `ValueProblem` with
a message worded for a clinician editing YAML. `fields.py` wraps the same checks for the
pydantic models; the fast loader (`fast.py`) calls them directly. A check is a `Check`, which
carries the `spec` it was made from: the shape table (`shape.py`, derived from the kb's case
schema) names checks as plain data and `make(*spec)` builds each once.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterable

from engine.knowledge.levels import LevelError, Levels

_BOOL_WORDS = {"yes", "no", "y", "n", "on", "off", "true", "false", "t", "f"}


class ValueProblem(ValueError):
    """A value that does not fit its field; the message is the one the user sees."""


class Check:
    """A leaf check made by `make(*spec)`; calling it checks and normalises one value."""

    __slots__ = ("spec", "func")

    def __init__(self, spec: tuple[Any, ...], func: Callable[[Any], Any]) -> None:
        self.spec = spec
        self.func = func

    def __call__(self, value: Any) -> Any:
        return self.func(value)

    def __repr__(self) -> str:
        return f"Check{self.spec!r}"


def describe(value: Any) -> str:
    """How a wrong value is shown in a message: `the text 'yes'`, `true`, `a list`, `12`."""
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


def closest(value: str, options: Iterable[str]) -> list[str]:
    """The one option a mistyped word most likely meant (a near spelling or a unique prefix)."""
    import difflib  # only messages need it

    word = value.strip().lower()
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close and word:
        close = [o for o in options if o.startswith(word)]
    return close if len(close) == 1 else []


def _format(tag: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value == tag:
            return value
        raise ValueProblem(f"must be {tag!r}, the only case format this version reads "
                           f"(got {value!r})")

    return check


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        raise ValueProblem(f"must be true or false; {value!r} is text here (write true or false "
                           "without quotes)")
    raise ValueProblem(f"must be true or false, not {describe(value)}")


def _as_number(text: str) -> int | float | None:
    """The number a piece of text spells, if it spells one (`"067"` → 67)."""
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if math.isfinite(number) else None
    return None


def _number(low: float | None = None, high: float | None = None,
            whole: bool = False) -> Callable[[Any], int | float]:
    def check(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            plain = _as_number(value) if isinstance(value, str) else None
            hint = f" (write it unquoted, as {plain})" if plain is not None else ""
            raise ValueProblem(f"must be a {'whole ' if whole else ''}number, not "
                               f"{describe(value)}{hint}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueProblem("must be a finite number")
            if whole:
                if not value.is_integer():
                    raise ValueProblem(f"must be a whole number, not {value!r}")
                value = int(value)
        if low is not None and value < low:
            raise ValueProblem(f"must be at least {low}, not {value!r}")
        if high is not None and value > high:
            raise ValueProblem(f"must be at most {high}, not {value!r}")
        return value

    return check


def _choice(absent: str | None, *options: str) -> Callable[[Any], str]:
    """One of `options`; `absent` is the option that records "looked for, not found", if any."""
    allowed = frozenset(options)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        listed = ", ".join(options)
        if isinstance(value, str):
            close = closest(value, options)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueProblem(f"{value!r} is not one of {listed}{hint}")
        if value is False and absent is not None:  # an absent finding has its own word here
            raise ValueProblem(f"must be one of {listed}; write {absent} to record that it is absent")
        raise ValueProblem(f"must be one of {listed}, not {describe(value)}")

    return check


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ValueProblem(f"must be text, not {describe(value)}")


def _name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, str):
        raise ValueProblem("must not be empty")
    raise ValueProblem(f"must be text, not {describe(value)}")


_CODE = re.compile(r"[0-9A-Z]{5}")


def _code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().upper()
    else:
        raise ValueProblem(f"a CPT code is text such as \"22633\", not {describe(value)}")
    if text.startswith("+"):
        text = text[1:].strip()
    if not _CODE.fullmatch(text):
        raise ValueProblem(f"{value!r} is not a CPT code; a code is five letters or digits such "
                           "as \"22633\"")
    return text


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueProblem(f"must be a date written YYYY-MM-DD (or YYYY-MM, YYYY), not "
                           f"{describe(value)}")
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise ValueProblem(f"{value!r} is not a date; write YYYY-MM-DD (or YYYY-MM, YYYY)")
    import datetime  # imported here: most cases have no dates

    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueProblem(f"{value!r} is not a calendar date") from None
    return value.strip()


def _level(kind: str, levels: Levels) -> Callable[[Any], Any]:
    convert = levels.reader(kind)

    def check(value: Any) -> Any:
        try:
            return convert(value)
        except LevelError as exc:
            raise ValueProblem(str(exc)) from None

    return check


_FIXED: dict[str, Callable[[Any], Any]] = {
    "flag": _flag, "text": _text, "name": _name, "code": _code, "date": _date,
}
_CACHE: dict[tuple[Any, ...], Check] = {}


def make(kind: str, *args: Any) -> Check:
    """The check a spec names: `make("number", 0, 100, False)`,
    `make("choice", None, "a", "b")` (the first argument names the option recording absence),
    `make("level", "segment", levels)`, `make("format", "warrant-case/1")`."""
    spec = (kind, *args)
    check = _CACHE.get(spec)
    if check is None:
        if kind in _FIXED and not args:
            func = _FIXED[kind]
        elif kind == "number":
            func = _number(*args)
        elif kind == "choice":
            func = _choice(*args)
        elif kind == "level" and len(args) == 2:
            func = _level(*args)
        elif kind == "format" and len(args) == 1:
            func = _format(args[0])
        else:
            raise ValueError(f"no value check {spec!r}")
        check = _CACHE[spec] = Check(spec, func)
    return check


def flatten(groups: list[tuple[str, ...]]) -> list[str]:
    """Expanded segment groups as one list, first mention first, each segment once."""
    out: list[str] = []
    for group in groups:
        for name in group:
            if name not in out:
                out.append(name)
    return out


# Functions a field may apply after its list is read, by the name the shape table uses.
AFTER: dict[str, Callable[[Any], Any]] = {"flatten": flatten}
