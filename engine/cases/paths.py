"""Where case inputs are found: files as given, directories walked in sorted name order.

One walker for every command that takes case files or folders (decide over many cases, diff,
summarize, rule tests, batch): hidden entries are skipped, a folder is read one level at a time
(only the names of the folder being walked are held in memory), and the order is the sorted
order of the path parts, so the same folder always gives the same sequence.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from engine.errors import UsageError

CASE_SUFFIXES = (".yaml", ".yml", ".json")
STREAM_SUFFIXES = (".jsonl", ".ndjson")


def walk(root: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Iterator[str]:
    """The files under `root` whose names end with one of `suffixes` (case-insensitive)."""
    with os.scandir(root) as entries:
        names = sorted((e.name, e.is_dir()) for e in entries if not e.name.startswith("."))
    for name, is_dir in names:
        path = os.path.join(root, name)
        if is_dir:
            yield from walk(path, suffixes)
        elif name.lower().endswith(suffixes):
            yield path


def input_files(paths: Iterable[str | os.PathLike[str]], suffixes: tuple[str, ...] = CASE_SUFFIXES,
                what: str = "case file") -> list[Path]:
    """Files as given and the matching files of each directory, each file once (first mention).

    A path that does not exist is a usage error (exit 2) naming `what` was expected."""
    out: list[Path] = []
    seen: set[Path] = set()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = [Path(p) for p in walk(path, suffixes)]
        elif path.is_file():
            found = [path]
        else:
            raise UsageError(f"no such {what} or directory: {path}")
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                out.append(file)
    return out
