"""Requested lines: one per code and level (or side) that needs its own determination.

How a procedure splits depends on the unit the knowledge base gives its code (`code_unit`),
so this runs after the kb is loaded, not while the case file is read. Levels are read with the
case schema's vocabulary, a side that stands for several (`expands` in the schema) gives one
line per side, and procedure fields beyond the contract ones travel with each line (`extra`).
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.cases.positions import Path, format_path
from engine.errors import CaseError, Finding, RuleError
from engine.guard.record import record

UNITS = ("segment", "vertebra", "side", "stage")


@record(frozen=True)
class Line:
    """One requested line: a code at one level or side (or neither) in one stage."""

    id: str
    stage: int
    request: int
    procedure: int
    code: str
    level: str | None = None
    side: str | None = None
    span_vertebrae: int | None = None
    extra: tuple[tuple[str, Any], ...] = ()
    """The procedure's other fields (those the case schema adds to the contract), in order."""
    source: str = ""


# (level, side, where in the case the line comes from)
_Part = tuple[str | None, str | None, Path]


def _split(case: Any, r: int, p: int, proc: Any, unit: str | None,
           problems: list[Finding]) -> list[_Part]:
    here: Path = ("requests", r, "procedures", p)
    side = proc.side
    schema = case.schema
    if unit == "side":
        if side is None:
            return [(None, None, here + ("code",))]
        sides = schema.side_expansion.get(side, (side,))
        return [(None, s, here + ("side",)) for s in sides]
    if unit == "stage" or not proc.levels:
        return [(None, side, here + ("code",))]
    levels = schema.levels
    parts: list[_Part] = []
    for i, text in enumerate(proc.levels):
        level = levels.parse(text)
        where = here + ("levels", i)
        if unit == "vertebra":
            names = level.vertebrae()
        elif unit == "segment":
            if level.is_vertebra:
                problems.append(case.finding(
                    where, f"{text} is a single vertebra, but {proc.code} is billed per motion "
                    "segment; write a segment such as "
                    f"{levels.segment_name(min(level.first, len(levels.vertebrae) - 2))}"))
                continue
            names = level.segments()
        else:  # no policy for the code: read levels the way they look
            names = [str(level)] if level.is_vertebra else level.segments()
        parts.extend((name, side, where) for name in names)
    return parts


def expand_lines(case: Any, code_units: Mapping[str, str]) -> list[Line]:
    """Every requested line of the case, in request order and in the order levels were given.

    `code_units` maps a code to `segment`, `vertebra`, `side` or `stage`; a code it lacks has no
    policy and still gets its lines. Two procedures yielding the same line id in one stage make
    the case invalid (`CaseError`), since one line cannot carry two requests.
    """
    lines: list[Line] = []
    problems: list[Finding] = []
    seen: dict[str, Path] = {}
    schema = case.schema
    extras = schema.procedure_extras
    for r, request in enumerate(case.requests):
        for p, proc in enumerate(request.procedures):
            unit = code_units.get(proc.code)
            if unit is not None and unit not in UNITS:
                raise RuleError([Finding("kb_contract", f"code_unit/2 gives code {proc.code} the unit "
                                         f"{unit!r}, which Warrant cannot split lines by; expected one "
                                         f"of {', '.join(UNITS)}")])
            span = schema.levels.span_count(*proc.span) if proc.span else None
            extra = tuple((name, value) for name in extras
                          if (value := getattr(proc, name)) is not None)
            for level, side, where in _split(case, r, p, proc, unit, problems):
                line_id = f"{request.stage}:{proc.code}:{level or side or '-'}"
                if line_id in seen:
                    first = seen[line_id]
                    at = case.locate(first)
                    problems.append(case.finding(
                        where, f"line {line_id} is requested twice; {format_path(first)} "
                        f"(line {at.line}) already asks for it"))
                    continue
                seen[line_id] = where
                lines.append(Line(line_id, request.stage, r, p, proc.code, level, side, span,
                                  extra, f"requests[{r}].procedures[{p}]"))
    if problems:
        problems.sort(key=lambda f: (f.location.line, f.location.column) if f.location else (0, 0))
        raise CaseError(f"{case.source_name}: the requested lines are not valid "
                        f"({len(problems)} problem{'s' * (len(problems) != 1)})", findings=problems)
    return lines
