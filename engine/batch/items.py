"""Batch input: every case of the inputs, in order, read lazily, each with its identity.

Inputs are case files, directories (walked in sorted name order, `*.yaml`, `*.yml`, `*.json`,
`*.jsonl`, `*.ndjson`, hidden entries skipped) and JSON Lines streams (`*.jsonl`, `*.ndjson`,
or `-` for standard input: one case object per line, blank lines ignored).

Case files are read here, in the parent, as regular files within the case size limit (a FIFO,
a device or a link loop becomes an error record, never a hang), so workers only ever see text.
What cannot be read becomes an item with a problem and then one error record; the run goes on.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import IO, Iterable, Iterator, Sequence

from engine.cases.paths import CASE_SUFFIXES, STREAM_SUFFIXES, walk
from engine.guard.files import check_regular, read_regular
from engine.guard.limits import LIMITS

STDIN = "-"

# One unit of work: (source, text, line, problem).
#   source  the case file's path, or the stream's path ("<stdin>" for standard input)
#   text    the case text
#   line    1-based line number in the stream; 0 for a case file
#   problem a message when the input could not be read as text; else None
Item = tuple[str, "str | None", int, "str | None"]


def label(item: Item) -> str:
    """Where an item came from: the file, or `stream:line`."""
    return f"{item[0]}:{item[2]}" if item[2] else item[0]


def identity(item: Item) -> tuple[str, str]:
    """What a resumed run recognises an input by: where it came from and a hash of its text
    (a file edited since, or a stream line that moved, is a new input)."""
    text = item[1] if item[1] is not None else f"\0{item[3]}"
    return label(item), hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def iter_items(paths: Sequence[str | os.PathLike[str]], *, stdin: IO[bytes] | None = None) -> Iterator[Item]:
    """Every case of the inputs, in order, read lazily."""
    for raw in paths:
        path = os.fspath(raw)
        if path == STDIN:
            yield from _stream_items("<stdin>", stdin if stdin is not None else sys.stdin.buffer)
        elif os.path.isdir(path):
            yield from _dir_items(path)
        else:
            yield from _file_items(path)


def _dir_items(root: str) -> Iterator[Item]:
    problems: list[tuple[str, str]] = []
    for path in walk(root, CASE_SUFFIXES + STREAM_SUFFIXES, problems=problems):
        while problems:
            where, message = problems.pop(0)
            yield (where, None, 0, f"{where}: {message}")
        yield from _file_items(path)
    for where, message in problems:
        yield (where, None, 0, f"{where}: {message}")


def _file_items(path: str) -> Iterator[Item]:
    if not path.lower().endswith(STREAM_SUFFIXES):
        yield read_case_file(path)
        return
    try:
        check_regular(path, "stream")
        handle = open(path, "rb")
    except OSError as exc:
        yield (path, None, 0, f"{path}: cannot read the stream ({exc.strerror or exc})")
        return
    with handle:
        yield from _stream_items(path, handle)


def read_case_file(path: str) -> Item:
    """A case file's item with its text (or the reason it has none)."""
    try:
        raw = read_regular(path, LIMITS.case_bytes, "case file")
    except OSError as exc:
        return (path, None, 0, f"{path}: cannot read the case file ({exc.strerror or exc})")
    try:
        return (path, raw.decode("utf-8"), 0, None)
    except UnicodeDecodeError as exc:
        return (path, None, 0, f"{path}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                               f"offset {exc.start} cannot be decoded)")


def _stream_items(source: str, handle: IO[bytes]) -> Iterator[Item]:
    limit = LIMITS.case_bytes
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the over-long line
                raw = handle.readline(limit + 1)
            yield (source, None, number, f"{source}:{number}: the line holds more than {limit} bytes; "
                                         "a case may not exceed that")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            yield (source, raw.decode("utf-8").rstrip("\r\n"), number, None)
        except UnicodeDecodeError as exc:
            yield (source, None, number, f"{source}:{number}:{exc.start + 1}: the line is not UTF-8 text "
                                         f"(byte 0x{raw[exc.start]:02x} cannot be decoded)")


def count_items(paths: Sequence[str | os.PathLike[str]]) -> int | None:
    """How many items the inputs hold (for a progress bar's ETA); None when a stream is stdin."""
    total = 0
    for raw in paths:
        path = os.fspath(raw)
        if path == STDIN:
            return None
        names = walk(path, CASE_SUFFIXES + STREAM_SUFFIXES, problems=[]) if os.path.isdir(path) else [path]
        for name in names:
            total += _count_lines(name) if name.lower().endswith(STREAM_SUFFIXES) else 1
    return total


def _count_lines(path: str) -> int:
    try:
        check_regular(path, "stream")
        with open(path, "rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    except OSError:
        return 1


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
