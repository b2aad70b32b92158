"""Read case text safely and turn it into data: the size, encoding and format checks.

JSON-looking text goes through the standard library first (fast, no positions needed while it is
valid); everything else, and any JSON the fast path cannot take, goes through the YAML reader.
"""
from __future__ import annotations

import json
import re
from typing import Any

from engine.cases.positions import Source, fail
from engine.cases.yamltree import MAX_DEPTH, read_yaml
from engine.errors import CaseError, Finding, Location
from engine.guard.files import TooLarge, read_regular
from engine.guard.limits import LIMITS

MAX_BYTES = LIMITS.case_bytes


def _byte_spot(raw: bytes, index: int) -> tuple[int, int]:
    return raw.count(b"\n", 0, index) + 1, index - (raw.rfind(b"\n", 0, index) + 1) + 1


def read_text(name: str, text: str | None) -> str:
    """The case text, refusing files that are unreadable, too big, binary or not UTF-8."""
    if text is None:
        try:  # a regular file only (a FIFO or device would block or never end), read once
            raw = read_regular(name, MAX_BYTES, "case file")
        except TooLarge as exc:
            raise fail(name, f"the file holds {exc.size} bytes; case files may not exceed 5 MiB") from None
        except OSError as exc:
            message = f"cannot read the case file ({exc.strerror or exc})"
            raise CaseError(f"{name}: {message}",
                            findings=[Finding("invalid_case", message, Location(name))]) from None
    else:
        raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        raise fail(name, f"the text holds more than {MAX_BYTES} bytes; case files may not "
                   "exceed 5 MiB")
    nul = raw.find(b"\0")
    if nul >= 0:
        raise fail(name, "this looks like a binary file (it contains a NUL byte); a case file "
                   "is UTF-8 YAML or JSON text", *_byte_spot(raw, nul))
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(name, f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be "
                   "decoded)", *_byte_spot(raw, exc.start)) from None
    decoded = decoded.removeprefix("\ufeff")
    if not decoded.strip():
        raise fail(name, "the case file is empty")
    return decoded


class _Duplicate(Exception):
    """A JSON object repeats a key; the YAML reader reports it with its position."""


def _unique_keys(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _shallow(data: Any) -> bool:
    """Whether nesting stays within MAX_DEPTH (the YAML reader reports deeper data precisely)."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
        if not level:
            return True
    return False


_SURROGATE_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")
_LOW_ESCAPE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _lone_surrogate(name: str, text: str) -> None:
    """Refuse a `\\uD800`-style escape that does not pair into one character: it is not text,
    and nothing downstream (JSON output, terminals, files) can carry it."""
    paired = -1
    for match in _SURROGATE_ESCAPE.finditer(text):
        start = match.start(2) - 2
        if len(match.group(1)) % 2 == 0 or start == paired:
            continue  # an escaped backslash, or the low half of a pair already checked
        high = match.group(2)[1].lower() in "89ab"
        if high and _LOW_ESCAPE.match(text, start + 6):
            paired = start + 6
            continue
        line = text.count("\n", 0, start) + 1
        raise fail(name, f"the escape \\u{match.group(2)} is half of a surrogate pair, not a character; "
                   "case files hold Unicode text", line, start - text.rfind("\n", 0, start))


def parse(name: str, text: str) -> Source:
    """The data of a case text with its structural problems (positions found when needed)."""
    if "\\u" in text:
        _lone_surrogate(name, text)
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            if name.lower().endswith(".json"):
                raise fail(name, f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno) from None
        except (ValueError, RecursionError, _Duplicate):
            pass
        else:
            if isinstance(data, dict) and _shallow(data):
                return Source(name, text, data)
    return read_yaml(name, text)
