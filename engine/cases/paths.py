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


def walk(root: str | os.PathLike[str], suffixes: tuple[str, ...],
         problems: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """The files under `root` whose names end with one of `suffixes` (case-insensitive).

    A symbolic link that leads back into a folder being walked (a loop), a link that cannot be
    resolved and a folder that cannot be read are skipped; each is appended to `problems` as
    (path, message) when a list is given, else raised as a UsageError (exit 2)."""
    try:
        info = os.stat(root)
    except OSError as exc:
        _problem(problems, os.fspath(root), f"cannot read this folder ({exc.strerror or exc})")
        return
    yield from _walk(os.fspath(root), suffixes, problems, ((info.st_dev, info.st_ino),))


def _problem(problems: list[tuple[str, str]] | None, path: str, message: str) -> None:
    if problems is None:
        raise UsageError(f"{path}: {message}")
    problems.append((path, message))


def _walk(root: str, suffixes: tuple[str, ...], problems: list[tuple[str, str]] | None,
          ancestors: tuple[tuple[int, int], ...]) -> Iterator[str]:
    try:
        with os.scandir(root) as entries:
            names = sorted((e.name, _is_dir(e)) for e in entries if not e.name.startswith("."))
    except OSError as exc:
        _problem(problems, root, f"cannot read this folder ({exc.strerror or exc})")
        return
    for name, is_dir in names:
        path = os.path.join(root, name)
        if is_dir is None:
            _problem(problems, path, "a symbolic link that leads nowhere or loops; skipped")
        elif is_dir:
            try:
                info = os.stat(path)
            except OSError as exc:
                _problem(problems, path, f"cannot read this folder ({exc.strerror or exc})")
                continue
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                _problem(problems, path, "a symbolic link back into a folder being walked (a loop); skipped")
                continue
            yield from _walk(path, suffixes, problems, ancestors + (key,))
        elif name.lower().endswith(suffixes):
            yield path


def _is_dir(entry: os.DirEntry) -> bool | None:
    """Whether an entry is a folder (following links); None for a link that loops or dangles
    while its name looks like an input."""
    try:
        return entry.is_dir()
    except OSError:
        return None


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
