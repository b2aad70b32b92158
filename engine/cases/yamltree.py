"""Build plain data from YAML parser events, recording the position of every key and value.

ruamel.yaml's constructors are never used: tags are reported instead of resolved into objects,
aliases are reported instead of expanded (no "billion laughs"), duplicate keys and deep nesting
are caught, and plain scalars follow the YAML 1.2 core schema, so `yes` stays text.
"""
from __future__ import annotations

import re
from typing import Any

from engine.cases.positions import Path, Source, Spot, fail, format_path
from engine.errors import CaseError, Finding, Location

MAX_DEPTH = 32

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")


def resolve_plain(text: str) -> Any:
    """What an unquoted scalar means under the YAML 1.2 core schema.

    One departure: an integer with a leading zero (`022633`, `007`) stays text, because in a
    case file it is far more likely a code or an identifier than a number.
    """
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    try:
        if _INT.fullmatch(text):
            digits = text.lstrip("+-")
            return text if len(digits) > 1 and digits[0] == "0" else int(text)
        if _OCT.fullmatch(text):
            return int(text[2:], 8)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
        if _FLOAT.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than Python converts: leave it as text
        return text
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def _mark(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


class _Frame:
    """An open mapping or list while its events arrive."""

    __slots__ = ("container", "path", "key", "key_spot", "seen", "skip")

    def __init__(self, container: Any, path: Path, skip: bool) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_spot: tuple[int, int] | None = None
        self.seen: dict[str, tuple[int, int]] = {}
        self.skip = skip  # inside a duplicate key's value: read it, keep nothing


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.spots: dict[Path, Spot] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.done = False

    def problem(self, path: Path, spot: tuple[int, int], message: str, *,
                unusable: bool = True) -> None:
        where = format_path(path)
        self.source.problems.append((path, Finding(
            "invalid_case", f"{where}: {message}" if where else message,
            Location(self.source.name, *spot))))
        if unusable:  # later checks must not complain about this value a second time
            self.source.suppressed.add(path)

    def key(self, frame: _Frame, event: Any, spot: tuple[int, int], scalar: bool) -> None:
        if not scalar:
            raise fail(self.source.name, f"{format_path(frame.path) or 'the top level'}: keys "
                       "must be plain names, not lists, mappings or aliases", *spot)
        frame.key, frame.key_spot = event.value, spot
        if event.tag is not None:
            self.problem(frame.path + (event.value,), spot,
                         f"the key carries the tag {event.tag}; tags are not allowed in case files")

    def place(self, frame: _Frame | None, spot: tuple[int, int]) -> tuple[Path, bool]:
        """The path of the value about to arrive, and whether it is to be dropped."""
        if frame is None:
            return (), False
        if isinstance(frame.container, list):
            return frame.path + (len(frame.container),), frame.skip
        key, key_spot = frame.key, frame.key_spot or spot
        assert key is not None
        frame.key = None
        path = frame.path + (key,)
        if frame.skip:
            return path, True
        if key in frame.seen:
            line, col = frame.seen[key]
            self.problem(path, key_spot, f"duplicate key; it already appears at line {line}, "
                         f"column {col}, and a key may appear only once", unusable=False)
            return path, True
        frame.seen[key] = key_spot
        self.spots[path] = Spot(spot, key_spot)
        return path, False

    def value(self, event: Any, kind: str, path: Path, spot: tuple[int, int], skip: bool) -> Any:
        if kind == "alias":
            if not skip:
                self.problem(path, spot, f"aliases (*{event.anchor}) are not allowed in case "
                             "files; write the value out in full")
            return None
        if event.tag is not None and not skip:
            self.problem(path, spot, f"the value carries the tag {event.tag}; tags are not "
                         "allowed in case files (quote the value instead)")
        if kind == "scalar":
            plain = event.style is None and event.tag is None
            return resolve_plain(event.value) if plain else event.value
        return {} if kind == "mapping" else []

    def node(self, event: Any, kind: str) -> None:
        spot = _mark(event.start_mark)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and isinstance(frame.container, dict) and frame.key is None:
            self.key(frame, event, spot, kind == "scalar")
            return
        path, skip = self.place(frame, spot)
        if frame is None:
            self.spots[()] = Spot(spot)
        elif isinstance(frame.container, list) and not skip:
            self.spots[path] = Spot(spot)
        value = self.value(event, kind, path, spot, skip)
        if frame is None:
            self.set_root(value, spot)
        elif not skip:
            if isinstance(frame.container, dict):
                frame.container[path[-1]] = value
            else:
                frame.container.append(value)
        if kind in ("mapping", "sequence"):
            if len(self.stack) >= MAX_DEPTH:
                raise fail(self.source.name, f"the data is nested more than {MAX_DEPTH} levels "
                           "deep; no case file needs that", *spot)
            self.stack.append(_Frame(value, path, skip))

    def set_root(self, value: Any, spot: tuple[int, int]) -> None:
        name = self.source.name
        if value is None:
            raise fail(name, "the case file holds no data (only comments or an empty document)")
        if not isinstance(value, dict):
            kind = "list" if isinstance(value, list) else "single value"
            raise fail(name, f"the top level is a {kind}; a case file is a mapping with keys "
                       "such as format, case_id and requests", *spot)
        self.root, self.done = value, True


def read_yaml(name: str, text: str) -> Source:
    """Data, positions and structural problems of a YAML (or JSON) case text.

    libyaml's C event parser (through PyYAML) reads a well-formed file ten times faster than
    ruamel's pure-Python one and feeds the same builder; anything it cannot read goes to the
    ruamel reader, whose messages say what is wrong and where."""
    fast = _read_plain(name, text)
    if fast is None:
        fast = _read_with_libyaml(name, text)
    return fast if fast is not None else _read_with_ruamel(name, text)


def _read_plain(name: str, text: str) -> Source | None:
    """A plain case file (engine/cases/yamllite.py) without importing a YAML library: the same
    events feed the same builder; None when the reader leaves the text to libyaml."""
    from engine.cases.yamllite import read_events

    events = read_events(text)
    if events is None:
        return None
    source = Source(name, text, None)
    builder = _Builder(source)
    try:
        for kind, event in events:
            if event is None:
                builder.stack.pop()
            else:
                builder.node(event, kind)
    except CaseError:
        return None  # let the other readers report it, in their words
    if not builder.done:
        return None
    source.data, source.spots = builder.root, builder.spots
    return source


def _read_with_libyaml(name: str, text: str) -> Source | None:
    try:
        import yaml
    except ImportError:
        return None
    if not getattr(yaml, "__with_libyaml__", False) or "\t" in text:
        return None  # (libyaml accepts tabs as separators where ruamel refuses them)
    kinds = {yaml.ScalarEvent: "scalar", yaml.AliasEvent: "alias", yaml.MappingStartEvent: "mapping",
             yaml.SequenceStartEvent: "sequence"}
    source = Source(name, text, None)
    builder = _Builder(source)
    documents = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            kind = kinds.get(type(event))
            if kind is not None:
                if kind == "scalar" and not event.style:
                    event.style = None  # libyaml writes '' for a plain scalar, ruamel None
                builder.node(event, kind)
            elif isinstance(event, yaml.CollectionEndEvent):
                builder.stack.pop()
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
    except CaseError:
        return None  # let the ruamel reader report it, in its words
    except Exception:  # anything libyaml refuses goes to the ruamel reader, which words it
        return None
    if documents != 1 or not builder.done:
        return None
    source.data, source.spots = builder.root, builder.spots
    return source


def _read_with_ruamel(name: str, text: str) -> Source:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import (AliasEvent, CollectionEndEvent, DocumentStartEvent,
                                    MappingStartEvent, ScalarEvent, SequenceStartEvent)

    kinds = {ScalarEvent: "scalar", AliasEvent: "alias", MappingStartEvent: "mapping",
             SequenceStartEvent: "sequence"}
    source = Source(name, text, None)
    builder = _Builder(source)
    documents = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            kind = kinds.get(type(event))
            if kind is not None:
                builder.node(event, kind)
            elif isinstance(event, CollectionEndEvent):
                builder.stack.pop()
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail(name, "the file holds more than one YAML document; a case file "
                               "holds exactly one", *_mark(event.start_mark))
    except CaseError:
        raise
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = _mark(mark) if mark is not None else (1, 1)
        raise fail(name, f"YAML syntax error: {exc.problem or exc.context or 'unreadable'}",
                   line, col) from None
    except YAMLError as exc:  # e.g. a control character the reader refuses
        position = getattr(exc, "position", None)
        line, col = 1, 1
        if isinstance(position, int):
            line = text.count("\n", 0, position) + 1
            col = position - (text.rfind("\n", 0, position) + 1) + 1
        raise fail(name, f"YAML error: {exc}".splitlines()[0], line, col) from None
    except RecursionError:
        raise fail(name, "the YAML is nested too deeply to read") from None
    except Exception as exc:  # e.g. `%YAML 1.3`, which the reader asserts against
        from engine.guard.text import excerpt

        raise fail(name, f"YAML the reader cannot take: {excerpt(exc, 80, quote=False)}") from None
    if not builder.done:
        raise fail(name, "the case file holds no data (only comments or an empty document)")
    source.data, source.spots = builder.root, builder.spots
    return source
