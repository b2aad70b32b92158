"""`load_case`: read, validate and report every problem of a case file in one go.

Cases are read with a knowledge base's case schema (kb/case-schema.yaml): pass the
`KnowledgeBase` (or its `case_schema`). A valid case takes the fast path (`fast.py`: the shape
table derived from the schema and the shared value checks, no pydantic) and comes back as
immutable records. Anything the fast path cannot accept (a structural problem found while
reading, a value or shape it refuses, a repeated stage or level key) goes to the pydantic path
(`invalid.py`), which reports every problem with its position.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Sequence

from engine.cases import crosschecks, fast
from engine.cases.positions import Path, Source, format_path
from engine.cases.record import Record
from engine.cases.shape import shape_of
from engine.cases.source import parse, read_text
from engine.errors import CaseError, Finding, Location

if TYPE_CHECKING:
    from engine.knowledge.caseschema import CaseSchema


def schema_of(kb: Any) -> "CaseSchema":
    """The case schema of a KnowledgeBase, or the schema itself."""
    return getattr(kb, "case_schema", None) or kb


def load_case(path: str | os.PathLike[str], kb: Any, *, text: str | None = None,
              at: Sequence[str | int] = ()) -> Any:
    """Read a case file (or `text`, named `path`) into a validated case, by the case schema of
    `kb` (a KnowledgeBase or a CaseSchema).

    `at` names where the case sits inside a larger file (`("case",)` for a rule test), so
    messages and positions refer to that file. Raises `CaseError` listing every problem as
    `file:line:col: field.path: message`.

    The case reads like the pydantic `Case` (`case.requests[0].procedures[0].code`,
    `source_name`, `locate`, `finding`, `schema`); a valid case is a `fast` record, built
    without importing pydantic.
    """
    schema = schema_of(kb)
    try:
        source = _read(path, text, at)
        if not source.problems:
            try:
                case = fast.validate(source.data, schema)
            except fast.Invalid:
                pass
            else:
                if next(crosschecks.problems(source, shape_of(schema)), None) is None:
                    return _attach(case, source)
        from engine.cases import invalid

        return _attach(invalid.validate(source, schema), source)
    except CaseError as exc:
        raise _short(exc) from None


_MESSAGE_CHARS = 300


def _short(exc: CaseError) -> CaseError:
    """The same findings, each message escaped for a terminal and cut to a few hundred
    characters: a message quotes at most a short excerpt of what the file holds."""
    from engine.errors import Finding
    from engine.guard.text import excerpt

    findings = [Finding(f.code, excerpt(f.message, _MESSAGE_CHARS, quote=False), f.location, f.severity)
                for f in exc.findings]
    summary = excerpt(exc.args[0] if exc.args else "", _MESSAGE_CHARS, quote=False)
    return CaseError(summary, location=exc.location, findings=findings, code=exc.code)


def load_case_with_pydantic(path: str | os.PathLike[str], kb: Any, *, text: str | None = None,
                            at: Sequence[str | int] = ()) -> Any:
    """`load_case` by the pydantic path alone, always giving a pydantic case model (for tests
    and for checking the fast path)."""
    from engine.cases import invalid

    source = _read(path, text, at)
    return _attach(invalid.validate(source, schema_of(kb)), source)


_CASE_KEYS = ("format", "case_id", "requests")


def _read(path: str | os.PathLike[str], text: str | None, at: Sequence[str | int]) -> Source:
    name = os.fspath(path)
    source = parse(name, read_text(name, text))
    if at:
        _descend(source, tuple(at))
    if isinstance(source.data, dict) and not any(key in source.data for key in _CASE_KEYS):
        raise CaseError(f"{name}: not a case file", findings=[Finding(
            "invalid_case", "this is not a warrant-case/1 file: its top level has none of the keys "
            "format, case_id and requests (its content is not quoted)", Location(name, 1, 1))])
    return source


def _attach(case: Any, source: Source) -> Any:
    source.data = None  # the case holds the values now; keep only text and positions
    if isinstance(case, Record):
        object.__setattr__(case, "_source", source)
    else:
        case._source = source
    return case


def _descend(source: Source, at: Path) -> None:
    """Make the mapping at `at` the case to validate; the rest of the file is the caller's."""
    data = source.data
    for part in at:
        if isinstance(part, int) and isinstance(data, list) and -len(data) <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        else:
            data = None
            break
    if not isinstance(data, dict):
        finding = source.finding(at, "must hold a case: a mapping with format, case_id and "
                                     "requests")
        raise CaseError(f"{source.name}: no case at {format_path(at)}", findings=[finding])
    source.data = data
    source.prefix = at
    source.suppressed = {p[len(at):] for p in source.suppressed if p[:len(at)] == at}
    source.problems = [(p, f) for p, f in source.problems if p[:len(at)] == at]


_EMBEDDED = re.compile(r"^case:[ \t]*(#.*)?$", re.M)
_TOP_FORMAT = re.compile(r"^format:", re.M)


def case_position(text: str) -> tuple[str, ...]:
    """Where the case sits in a file: `("case",)` for a rule test (a top-level `case:` key and
    no top-level `format:`), `()` for a plain case file."""
    if _EMBEDDED.search(text) and not _TOP_FORMAT.search(text):
        return ("case",)
    return ()


def load_case_or_embedded(path: str | os.PathLike[str], kb: Any, text: str | None = None) -> Any:
    """The validated case of a case file or of a rule test file that embeds one under `case:`."""
    name = os.fspath(path)
    text = read_text(name, text)
    return load_case(name, kb, text=text, at=case_position(text))
