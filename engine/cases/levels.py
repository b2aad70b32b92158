"""Spinal level spellings: parse what clinicians write, normalise it, expand ranges.

A level is either one vertebra (`L3`), a motion segment between two neighbouring vertebrae
(`L4-5`, `T12-L1`, `L5-S1`) or a range over several segments (`L2-L4`). Which reading a range
gets depends on the code it belongs to, so parsing keeps the endpoints and the caller decides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

VERTEBRAE: tuple[str, ...] = (
    tuple(f"T{n}" for n in range(1, 13)) + tuple(f"L{n}" for n in range(1, 6)) + ("S1",)
)
_INDEX = {name: i for i, name in enumerate(VERTEBRAE)}

# One vertebra, or two joined by '-', '/' or an en dash; the second may omit its region letter.
_LEVEL = re.compile(
    r"^\s*([TLS])\s*(\d{1,2})\s*(?:[-/\u2013]\s*([TLS])?\s*(\d{1,2}))?\s*$", re.IGNORECASE
)

EXAMPLES = "a vertebra such as L3 or a motion segment such as L4-5"


class LevelError(ValueError):
    """A level text that names no vertebra or segment Warrant knows (T1 to S1)."""


@dataclass(frozen=True)
class Level:
    """A parsed level: vertebra indexes `first` to `last` (equal for a single vertebra)."""

    first: int
    last: int

    @property
    def is_vertebra(self) -> bool:
        return self.first == self.last

    @property
    def is_segment(self) -> bool:
        return self.last == self.first + 1

    @property
    def is_range(self) -> bool:
        return self.last > self.first + 1

    def __str__(self) -> str:
        if self.is_vertebra:
            return VERTEBRAE[self.first]
        if self.is_segment:
            return segment_name(self.first)
        return f"{VERTEBRAE[self.first]}-{VERTEBRAE[self.last]}"

    def segments(self) -> list[str]:
        """Every motion segment the level covers; a single vertebra covers none."""
        return [segment_name(i) for i in range(self.first, self.last)]

    def vertebrae(self) -> list[str]:
        """Every vertebra from the first to the last, both included."""
        return list(VERTEBRAE[self.first:self.last + 1])


def segment_name(upper: int) -> str:
    """The name of the segment below vertebra index `upper`: `L4-5`, or `T12-L1` across regions."""
    top, bottom = VERTEBRAE[upper], VERTEBRAE[upper + 1]
    if top[0] == bottom[0]:
        return f"{top}-{bottom[1:]}"
    return f"{top}-{bottom}"


def _vertebra(region: str, number: str, text: str) -> int:
    name = f"{region.upper()}{int(number)}"
    if name not in _INDEX:
        raise LevelError(f"{text.strip()!r} names {name}, which is not a vertebra from T1 to S1")
    return _INDEX[name]


def parse_level(text: object) -> Level:
    """Read one level spelling (`l4-5`, `L4/L5`, ` l5 - s1 `, `L2-L4`, `L3`)."""
    if not isinstance(text, str):
        raise LevelError(f"a level is text such as L4-5, not {type(text).__name__} {text!r}")
    match = _LEVEL.match(text)
    if not match:
        raise LevelError(f"{text!r} is not a spinal level; write {EXAMPLES}")
    region, number, region2, number2 = match.groups()
    first = _vertebra(region, number, text)
    if number2 is None:
        return Level(first, first)
    last = _vertebra(region2 or region, number2, text)
    if last == first:
        raise LevelError(f"{text!r} names the same vertebra twice; write {EXAMPLES}")
    if last < first:
        raise LevelError(f"{text!r} runs from bottom to top; name the upper vertebra first "
                         f"({Level(last, first)})")
    return Level(first, last)


def normalise_level(text: object) -> str:
    """The canonical spelling of any level: `L4-5`, `L5-S1`, `L3`, or a range `L2-L4`."""
    return str(parse_level(text))


def segment(text: object) -> str:
    """Exactly one motion segment (`L4-L5` → `L4-5`); vertebrae and wider ranges are refused."""
    level = parse_level(text)
    if level.is_vertebra:
        raise LevelError(f"{text!r} is a single vertebra; a motion segment such as "
                         f"{segment_name(min(level.first, len(VERTEBRAE) - 2))} is needed here")
    if level.is_range:
        raise LevelError(f"{text!r} spans {len(level.segments())} segments "
                         f"({', '.join(level.segments())}); give each segment its own entry")
    return str(level)


def segments(text: object) -> list[str]:
    """The motion segments a segment field means: a range `L2-L4` gives `L2-3`, `L3-4`."""
    level = parse_level(text)
    if level.is_vertebra:
        raise LevelError(f"{text!r} is a single vertebra; a motion segment such as "
                         f"{segment_name(min(level.first, len(VERTEBRAE) - 2))} is needed here")
    return level.segments()


def vertebra(text: object) -> str:
    """Exactly one vertebra (`l3` → `L3`)."""
    level = parse_level(text)
    if not level.is_vertebra:
        raise LevelError(f"{text!r} covers more than one vertebra; name a single vertebra such as "
                         f"{VERTEBRAE[level.first]}")
    return str(level)


def segment_or_vertebra(text: object) -> str:
    """One segment or one vertebra, normalised; a wider range is refused as ambiguous."""
    level = parse_level(text)
    if level.is_range:
        raise LevelError(f"{text!r} spans several segments; name the one segment or vertebra "
                         "where it was found")
    return str(level)


def span_count(first: str, last: str) -> int:
    """Vertebrae from `first` to `last`, both counted, in either order (`L3`, `L5` → 3)."""
    a, b = parse_level(first), parse_level(last)
    return abs(b.first - a.first) + 1
