"""Rules that span several entries of a case: stage numbers and segment keys must not repeat.

They read the raw data (before validation), so they run the same on the fast path, where the
first problem sends the case to the pydantic path, and on the pydantic path, which reports all.
"""
from __future__ import annotations

from typing import Iterator

from engine.cases import levels
from engine.cases.positions import Path, Source
from engine.errors import Finding

Found = tuple[Path, Finding]


def made(source: Source, path: Path, message: str, *, key: bool = False) -> Found:
    return path, source.finding(path, message, key=key)


def problems(source: Source) -> Iterator[Found]:
    """Each repeated stage number and each segment key that normalises to an earlier one."""
    data = source.data
    requests = data.get("requests") if isinstance(data, dict) else None
    if isinstance(requests, list):
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
    imaging = data.get("imaging") if isinstance(data, dict) else None
    for index, study in enumerate(imaging if isinstance(imaging, list) else []):
        segments = study.get("segments") if isinstance(study, dict) else None
        if not isinstance(segments, dict):
            continue
        seen: dict[str, str] = {}
        for key in segments:
            try:
                name = levels.segment(key)
            except levels.LevelError:
                continue
            if name in seen:
                first = source.locate(("imaging", index, "segments", seen[name]), key=True)
                yield made(source, ("imaging", index, "segments", key),
                           f"names segment {name} again (already given as {seen[name]!r} at "
                           f"line {first.line}); merge the two entries", key=True)
            else:
                seen[name] = key

