"""User-supplied text made safe for each place it is shown.

A case id, a code or a value comes from whoever wrote the case file; printed raw it could move
a terminal's cursor or set its title (escape sequences), forge output lines (newlines), reorder
what is read (bidirectional controls), or, in a Markdown or HTML report, open a link or a
script. Each output escapes such text its own way, and error messages quote at most a short
excerpt.
"""
from __future__ import annotations

import json
import re
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_BIDI}]")
_CONTROL_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_BIDI}]")
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029\ud800-\udfff{_BIDI}]")
_MARKDOWN = re.compile(r"([\\`\[\]<>&|])")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: Any) -> str:
    """One value on one line: every control character (newlines too), DEL, C1 control and
    bidirectional override is shown as a `\\xNN` / `\\uNNNN` escape instead of acting."""
    return _CONTROL.sub(_visible, str(text))


def terminal_block(text: str) -> str:
    """Text of several lines that Warrant laid out: newlines and tabs stay, every other control
    character is shown escaped (a last line of defence for values not escaped one by one)."""
    return _CONTROL_IN_BLOCK.sub(_visible, text)


def markdown(text: Any) -> str:
    """A value as Markdown text that cannot change the document's structure: no code span,
    link, image, autolink, HTML tag, entity or table cell can start or end inside it (emphasis
    characters are left alone: at worst they style a word)."""
    return _MARKDOWN.sub(r"\\\1", terminal(text))


def markdown_code(text: Any) -> str:
    """A value as a Markdown code span that no backtick inside it can close early (the fence is
    longer than any run of backticks in the value; CommonMark shows the content literally)."""
    value = terminal(text)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip(" ") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def json_text(text: str) -> str:
    """Serialised JSON with DEL, C1 controls, line separators and bidirectional controls as
    `\\uNNNN` escapes: the same data, but inert on a terminal (json.dumps already escapes C0).
    ASCII text without DEL (most decisions) holds none of them: it is returned unscanned."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps(data: Any, **options: Any) -> str:
    """`json.dumps` (ensure_ascii=False unless given) followed by `json_text`."""
    options.setdefault("ensure_ascii", False)
    return json_text(json.dumps(data, **options))


def excerpt(text: Any, limit: int = 40, *, quote: bool = True) -> str:
    """A short, escaped excerpt of user text for an error message (quoted unless told)."""
    value = str(text)
    cut = terminal(value[:limit])
    more = "..." if len(value) > limit else ""
    return "'" + cut.replace("'", "\\'") + "'" + more if quote else cut + more
