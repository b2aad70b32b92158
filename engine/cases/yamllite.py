"""The parser events of a plain case file, read without a YAML library.

Importing PyYAML costs a cold `warrant decide` more than reading the case (its reader compiles a
large character class when it is imported). Most case files use a small part of YAML: block
mappings and lists, one-line flow lists and mappings, plain and quoted one-line scalars, and
comments. This reader produces, for exactly that part, the events libyaml produces — the same
kinds, values, styles and start positions (tests/test_case_yaml_lite.py compares both over every
YAML file of the repository) — and answers None for anything else: tabs, non-ASCII text,
anchors, tags, block scalars, multi-line scalars, documents markers, escapes, empty values. The
caller then reads the text with libyaml (or ruamel), which also words every error.
"""
from __future__ import annotations

import re

_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*):(?= |$)")
_BLOCK_PLAIN = re.compile(r"(?:[A-Za-z0-9_.+/()]|-(?=[^ ,\[\]{}]))[A-Za-z0-9_.+\-/() ,;=<>%]*")
_FLOW_PLAIN = re.compile(r"(?:[A-Za-z0-9_.+/()]|-(?=[^ ,\[\]{}]))[A-Za-z0-9_.+\-/() ]*")


class Mark:
    __slots__ = ("line", "column")

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


class Event:
    """What the case builder reads of a libyaml event (plain scalars have style None)."""

    __slots__ = ("value", "style", "tag", "anchor", "start_mark")

    def __init__(self, line: int, column: int, value: str | None = None, style: str | None = None) -> None:
        self.value, self.style, self.tag, self.anchor = value, style, None, None
        self.start_mark = Mark(line, column)


_UNREAD = re.compile(r"[^\x20-\x7e\n]")
"""Anything but printable ASCII and newlines (tabs, carriage returns, control characters)."""
LONGEST = 1000
"""Longer lines go to libyaml: it limits a plain key to 1,024 characters."""
DEEPEST = 40
"""Collections nested deeper go to libyaml (the case reader refuses more than 32 levels)."""


class _Refused(Exception):
    """Outside the part of YAML this reader is certain of."""


def read_events(text: str) -> list[tuple[str, Event | None]] | None:
    """[(kind, event)] for one document whose top level is a block mapping — kind `scalar`,
    `mapping`, `sequence` (node starts, in document order) or `end` (a collection's end) —
    or None when libyaml must read the text."""
    if not text.isascii() or _UNREAD.search(text):
        return None  # libyaml refuses control characters anywhere (comments too) and words why
    if any(len(line) > LONGEST for line in text.split("\n")):
        return None  # libyaml's limit on a plain key's length (1,024) is its to state
    try:
        reader = _Reader(text)
        if reader.at_end() or reader.is_dash(reader.indent()):
            return None
        reader.mapping(reader.indent())
        if not reader.at_end():
            return None
        return reader.events
    except (_Refused, IndexError, ValueError, RecursionError):
        return None


class _Reader:
    def __init__(self, text: str) -> None:
        self.lines: list[tuple[int, str]] = []
        for number, line in enumerate(text.split("\n")):
            content = line.lstrip(" ")
            if not content or content.startswith("#"):
                continue
            if line.startswith(("---", "...", "%")):
                raise _Refused
            self.lines.append((number, line))
        self.i = 0
        self.col: int | None = None  # where the current line's node starts, when not its indent
        self.events: list[tuple[str, Event | None]] = []
        self.depth = 0

    # -- the cursor ----------------------------------------------------------------------
    def at_end(self) -> bool:
        return self.i >= len(self.lines)

    def indent(self) -> int:
        if self.col is not None:
            return self.col
        line = self.lines[self.i][1]
        return len(line) - len(line.lstrip(" "))

    def is_dash(self, col: int) -> bool:
        line = self.lines[self.i][1]
        return line.startswith("-", col) and (len(line) == col + 1 or line[col + 1] == " ")

    def next_line(self) -> None:
        self.i += 1
        self.col = None

    # -- block collections -------------------------------------------------------------------
    def open(self, kind: str, number: int, col: int) -> None:
        """Start a collection; deeper than DEEPEST is libyaml's to read (and the reader's to refuse)."""
        self.depth += 1
        if self.depth > DEEPEST:
            raise _Refused
        self.events.append((kind, Event(number, col)))

    def close(self) -> None:
        self.depth -= 1
        self.events.append(("end", None))

    def mapping(self, ind: int) -> None:
        number = self.lines[self.i][0]
        self.open("mapping", number, ind)
        while not self.at_end() and self.indent() == ind:
            number, line = self.lines[self.i]
            found = _KEY.match(line, ind)
            if found is None:
                raise _Refused  # a list entry here, a quoted or odd key, a continuation
            self.events.append(("scalar", Event(number, ind, found.group(1))))
            col = _skip(line, found.end())
            if col == len(line) or line[col] == "#":
                self.block_value(ind)
            else:
                self.line_end(line, self.inline(number, line, col))
                self.next_line()
            if not self.at_end() and self.indent() > ind:
                raise _Refused  # (a continuation line or a stray indentation)
        self.close()

    def block_value(self, ind: int) -> None:
        """The collection below `key:` — more indented, or a list at the key's own indent."""
        self.next_line()
        if self.at_end():
            raise _Refused  # an empty value: libyaml says where its null stands
        col = self.indent()
        if col > ind:
            if self.is_dash(col):
                self.sequence(col)
            else:
                self.mapping(col)
        elif col == ind and self.is_dash(col):
            self.sequence(col)
        else:
            raise _Refused

    def sequence(self, ind: int) -> None:
        number = self.lines[self.i][0]
        self.open("sequence", number, ind)
        while not self.at_end() and self.indent() == ind and self.is_dash(ind):
            number, line = self.lines[self.i]
            col = _skip(line, ind + 1)
            if col == len(line) or line[col] == "#" or line.startswith("-", col):
                raise _Refused  # an item on the lines below, or a list in a list
            if _KEY.match(line, col):
                self.col = col
                self.mapping(col)
            else:
                self.line_end(line, self.inline(number, line, col))
                self.next_line()
            if not self.at_end() and self.indent() > ind:
                raise _Refused
        self.close()

    # -- values on one line ------------------------------------------------------------------
    @staticmethod
    def line_end(line: str, col: int) -> None:
        """Only blanks or a comment may follow a value."""
        rest = _skip(line, col)
        if rest < len(line) and not (line[rest] == "#" and rest > col):
            raise _Refused

    def inline(self, number: int, line: str, col: int) -> int:
        char = line[col]
        if char == "[":
            return self.flow_sequence(number, line, col)
        if char == "{":
            return self.flow_mapping(number, line, col)
        if char in "\"'":
            return self.quoted(number, line, col)
        return self.plain(_BLOCK_PLAIN, number, line, col)

    def flow_value(self, number: int, line: str, col: int) -> int:
        char = line[col]
        if char == "[":
            return self.flow_sequence(number, line, col)
        if char == "{":
            return self.flow_mapping(number, line, col)
        if char in "\"'":
            return self.quoted(number, line, col)
        return self.plain(_FLOW_PLAIN, number, line, col)

    def plain(self, pattern: re.Pattern, number: int, line: str, col: int) -> int:
        found = pattern.match(line, col)
        if found is None:
            raise _Refused
        value = found.group().rstrip(" ")
        self.events.append(("scalar", Event(number, col, value)))
        return col + len(value)

    def flow_sequence(self, number: int, line: str, col: int) -> int:
        self.open("sequence", number, col)
        return self._flow_items(line, col, "]", lambda at: self.flow_value(number, line, at))

    def flow_mapping(self, number: int, line: str, col: int) -> int:
        self.open("mapping", number, col)

        def entry(at: int) -> int:
            found = _KEY.match(line, at)
            if found is None:
                raise _Refused
            self.events.append(("scalar", Event(number, at, found.group(1))))
            return self.flow_value(number, line, _skip(line, found.end()))
        return self._flow_items(line, col, "}", entry)

    def _flow_items(self, line: str, col: int, closer: str, item) -> int:
        """The items of a one-line flow collection opened at `col`, each read by `item(at)`
        (which returns where it ends), separated by commas; no empty item, no trailing comma."""
        col = _skip(line, col + 1)
        if line[col] != closer:
            while True:
                col = _skip(line, item(col))
                if line[col] == closer:
                    break
                if line[col] != ",":
                    raise _Refused
                col = _skip(line, col + 1)
                if line[col] in "," + closer:
                    raise _Refused
        self.close()
        return col + 1

    def quoted(self, number: int, line: str, col: int) -> int:
        quote = line[col]
        end = col + 1
        parts = []
        while True:
            close = line.index(quote, end)  # ValueError: not closed on this line
            parts.append(line[end:close])
            if quote == "'" and line.startswith("'", close + 1):
                parts.append("'")
                end = close + 2
                continue
            break
        value = "".join(parts)
        if (quote == '"' and "\\" in value) or not value.isprintable():
            raise _Refused
        self.events.append(("scalar", Event(number, col, value, quote)))
        return close + 1


def _skip(line: str, col: int) -> int:
    while col < len(line) and line[col] == " ":
        col += 1
    return col
