"""Spinal level spellings over the kb's vertebra list: parse what clinicians write, normalise it,
expand ranges.

The vertebrae come from kb/case-schema.yaml (`levels.vertebrae`, head to pelvis); nothing here
names one. A level is one vertebra (`L3`), a motion segment between two neighbours (`L4-5`,
`T12-L1`, `L5-S1`) or a range over several segments (`L2-L4`). A vertebra name is a region prefix
and a number; a segment inside one region drops the second prefix (`L4-5`). Which reading a range
gets depends on where it is used, so parsing keeps the endpoints and the caller decides.
"""
from __future__ import annotations

import re
from typing import Callable

from engine.guard.record import field, record

EXAMPLES_HINT = "a vertebra such as {vertebra} or a motion segment such as {segment}"
# The level kinds a case-schema field may name, and how each reads a text (a method of Levels).
KINDS = ("segment", "vertebra", "level", "segment_range", "segment_or_vertebra")
_NAME = re.compile(r"^([A-Z]+)(\d{1,2})$")


class LevelError(ValueError):
    """A level text that names no vertebra or segment of the vocabulary."""


@record(frozen=True)
class Level:
    """A parsed level: vertebra indexes `first` to `last` (equal for a single vertebra)."""

    first: int
    last: int
    levels: "Levels" = field(repr=False, compare=False)

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
        names = self.levels.vertebrae
        if self.is_vertebra:
            return names[self.first]
        if self.is_segment:
            return self.levels.segment_name(self.first)
        return f"{names[self.first]}-{names[self.last]}"

    def segments(self) -> list[str]:
        """Every motion segment the level covers; a single vertebra covers none."""
        return [self.levels.segment_name(i) for i in range(self.first, self.last)]

    def vertebrae(self) -> list[str]:
        """Every vertebra from the first to the last, both included."""
        return list(self.levels.vertebrae[self.first:self.last + 1])


class Levels:
    """The level vocabulary of one knowledge base; equal vertebra lists give equal vocabularies."""

    def __init__(self, vertebrae: tuple[str, ...]) -> None:
        self.vertebrae = tuple(vertebrae)
        self._index = {name: i for i, name in enumerate(self.vertebrae)}
        split = {name: _parts(name) for name in self.vertebrae}
        self._segments = tuple(_segment(self.vertebrae[i], self.vertebrae[i + 1], split)
                               for i in range(len(self.vertebrae) - 1))
        regions = sorted({region for region, _ in split.values()}, key=lambda r: (-len(r), r))
        alternatives = "|".join(re.escape(r) for r in regions) or "(?!)"
        # One vertebra, or two joined by '-', '/' or an en dash; the second may omit its region.
        self._pattern = re.compile(
            rf"^\s*({alternatives})\s*(\d{{1,2}})\s*(?:[-/\u2013]\s*({alternatives})?\s*(\d{{1,2}}))?\s*$",
            re.IGNORECASE)
        # Examples near the bottom of the list, where most requests are (L3, L4-5 today).
        self.examples = EXAMPLES_HINT.format(vertebra=self.vertebrae[max(len(self.vertebrae) - 4, 0)],
                                             segment=self.example_segment())
        self._readers: dict[str, Callable[[object], object]] = {
            "segment": self.segment, "vertebra": self.vertebra, "level": self.normalise,
            "segment_range": lambda text: tuple(self.segments(text)),
            "segment_or_vertebra": self.segment_or_vertebra}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Levels) and other.vertebrae == self.vertebrae

    def __hash__(self) -> int:
        return hash(self.vertebrae)

    def __repr__(self) -> str:
        return f"Levels({self.vertebrae[0]}..{self.vertebrae[-1]})" if self.vertebrae else "Levels()"

    def __reduce__(self) -> tuple:
        return Levels, (self.vertebrae,)

    @property
    def span_text(self) -> str:
        """`T1 to S1`: the vocabulary's extent, for messages."""
        return f"{self.vertebrae[0]} to {self.vertebrae[-1]}"

    def segment_name(self, upper: int) -> str:
        """The segment below vertebra index `upper`: `L4-5`, or `T12-L1` across regions."""
        return self._segments[upper]

    def example_segment(self) -> str:
        return self.segment_name(max(len(self.vertebrae) - 3, 0))

    def example_span(self) -> str:
        """A range to show in messages: from the fourth-last vertebra to the last (L4-S1)."""
        return f"{self.vertebrae[max(len(self.vertebrae) - 3, 0)]}-{self.vertebrae[-1]}"

    def reader(self, kind: str) -> Callable[[object], object]:
        """How a field of this level kind reads its text (see KINDS)."""
        return self._readers[kind]

    def _vertebra(self, region: str, number: str, text: str) -> int:
        name = f"{region.upper()}{int(number)}"
        if name not in self._index:
            raise LevelError(f"{text.strip()!r} names {name}, which is not a vertebra from "
                             f"{self.span_text}")
        return self._index[name]

    def parse(self, text: object) -> Level:
        """Read one level spelling (`l4-5`, `L4/L5`, ` l5 - s1 `, `L2-L4`, `L3`)."""
        if not isinstance(text, str):
            raise LevelError(f"a level is text such as {self.example_segment()}, "
                             f"not {type(text).__name__} {text!r}")
        match = self._pattern.match(text)
        if not match:
            raise LevelError(f"{text!r} is not a spinal level; write {self.examples}")
        region, number, region2, number2 = match.groups()
        first = self._vertebra(region, number, text)
        if number2 is None:
            return Level(first, first, self)
        last = self._vertebra(region2 or region, number2, text)
        if last == first:
            raise LevelError(f"{text!r} names the same vertebra twice; write {self.examples}")
        if last < first:
            raise LevelError(f"{text!r} runs from bottom to top; name the upper vertebra first "
                             f"({Level(last, first, self)})")
        return Level(first, last, self)

    def normalise(self, text: object) -> str:
        """The canonical spelling of any level: `L4-5`, `L5-S1`, `L3`, or a range `L2-L4`."""
        return str(self.parse(text))

    def _example_segment(self, level: Level) -> str:
        return self.segment_name(min(level.first, len(self.vertebrae) - 2))

    def segment(self, text: object) -> str:
        """Exactly one motion segment (`L4-L5` → `L4-5`); vertebrae and wider ranges are refused."""
        level = self.parse(text)
        if level.is_vertebra:
            raise LevelError(f"{text!r} is a single vertebra; a motion segment such as "
                             f"{self._example_segment(level)} is needed here")
        if level.is_range:
            raise LevelError(f"{text!r} spans {len(level.segments())} segments "
                             f"({', '.join(level.segments())}); give each segment its own entry")
        return str(level)

    def segments(self, text: object) -> list[str]:
        """The motion segments a segment field means: a range `L2-L4` gives `L2-3`, `L3-4`."""
        level = self.parse(text)
        if level.is_vertebra:
            raise LevelError(f"{text!r} is a single vertebra; a motion segment such as "
                             f"{self._example_segment(level)} is needed here")
        return level.segments()

    def vertebra(self, text: object) -> str:
        """Exactly one vertebra (`l3` → `L3`)."""
        level = self.parse(text)
        if not level.is_vertebra:
            raise LevelError(f"{text!r} covers more than one vertebra; name a single vertebra such "
                             f"as {self.vertebrae[level.first]}")
        return str(level)

    def segment_or_vertebra(self, text: object) -> str:
        """One segment or one vertebra, normalised; a wider range is refused as ambiguous."""
        level = self.parse(text)
        if level.is_range:
            raise LevelError(f"{text!r} spans several segments; name the one segment or vertebra "
                             "where it was found")
        return str(level)

    def span_count(self, first: str, last: str) -> int:
        """Vertebrae from `first` to `last`, both counted, in either order (`L3`, `L5` → 3)."""
        a, b = self.parse(first), self.parse(last)
        return abs(b.first - a.first) + 1

    def ends(self, segment: str) -> tuple[str, str]:
        """The upper and lower vertebra of a level (`L4-5` → `L4`, `L5`)."""
        level = self.parse(segment)
        return self.vertebrae[level.first], self.vertebrae[level.last]


def _segment(top: str, bottom: str, split: dict[str, tuple[str, str]]) -> str:
    """`L4-5` within a region, `T12-L1` across two."""
    (top_region, _), (bottom_region, bottom_number) = split[top], split[bottom]
    return f"{top}-{bottom_number}" if top_region == bottom_region else f"{top}-{bottom}"


def _parts(name: str) -> tuple[str, str]:
    match = _NAME.match(name)
    if not match:
        raise ValueError(f"{name!r} is not a vertebra name (capital letters, then a number)")
    return match.group(1), match.group(2)


def vertebra_name_problem(name: object) -> str | None:
    """Why `name` cannot be a vertebra of the vocabulary (None when it can)."""
    if not isinstance(name, str) or not _NAME.match(name):
        return f"{name!r} is not a vertebra name: capital letters, then a number (L4, S1)"
    return None
