"""Rules that span several entries of a case: stage numbers and level keys must not repeat.

They read the raw data (before validation), so they run the same on the fast path, where the
first problem sends the case to the pydantic path, and on the pydantic path, which reports all.
Stages are the contract's `requests[].stage`; level-keyed maps are found in the shape table.
"""
from __future__ import annotations

from typing import Any, Iterator

from engine.cases.positions import Path, Source
from engine.cases.shape import Shape
from engine.errors import Finding
from engine.knowledge.levels import LevelError

Found = tuple[Path, Finding]
_KIND_WORD = {"segment": "segment", "vertebra": "vertebra"}


def made(source: Source, path: Path, message: str, *, key: bool = False) -> Found:
    return path, source.finding(path, message, key=key)


def problems(source: Source, shape: Shape) -> Iterator[Found]:
    """Each repeated stage number and each level key that normalises to an earlier one."""
    data = source.data
    if not isinstance(data, dict):
        return
    yield from _stages(source, data)
    levels = shape.schema.levels
    for path, kind in shape.level_maps:
        read = levels.reader(kind)
        for where, mapping in _maps(data, path, ()):
            yield from _repeated_keys(source, where, mapping, read, _KIND_WORD.get(kind, "level"))


def _stages(source: Source, data: dict[str, Any]) -> Iterator[Found]:
    requests = data.get("requests")
    if not isinstance(requests, list):
        return
    stages: dict[int, int] = {}
    for index, request in enumerate(requests):
        stage = request.get("stage") if isinstance(request, dict) else None
        if isinstance(stage, float) and stage.is_integer():
            stage = int(stage)
        if isinstance(stage, bool) or not isinstance(stage, int):
            continue
        if stage in stages:
            first = stages[stage]
            where = source.locate(("requests", first, "stage"))
            yield made(source, ("requests", index, "stage"),
                       f"stage {stage} is already requested by requests[{first}] "
                       f"(line {where.line}); put its procedures in one request")
        else:
            stages[stage] = index


def _maps(node: Any, path: tuple[Any, ...], here: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The mappings at a shape path (None steps through every list item, other steps are keys)."""
    if not path:
        if isinstance(node, dict):
            yield here, node
        return
    step, rest = path[0], path[1:]
    if step is None:
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield from _maps(item, rest, here + (index,))
    elif step == "{}":
        for key, item in (node.items() if isinstance(node, dict) else []):
            yield from _maps(item, rest, here + (key,))
    elif isinstance(node, dict) and step in node:
        yield from _maps(node[step], rest, here + (step,))


def _repeated_keys(source: Source, where: Path, mapping: dict[str, Any], read: Any,
                   word: str) -> Iterator[Found]:
    seen: dict[str, str] = {}
    for key in mapping:
        try:
            name = read(key)
        except LevelError:
            continue
        if name in seen:
            first = source.locate(where + (seen[name],), key=True)
            yield made(source, where + (key,),
                       f"names {word} {name} again (already given as {seen[name]!r} at "
                       f"line {first.line}); merge the two entries", key=True)
        else:
            seen[name] = key
