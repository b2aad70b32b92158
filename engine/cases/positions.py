"""Field paths and source positions: what every case message is anchored to."""
from __future__ import annotations

from typing import Any, Iterable, Union

from engine.errors import CaseError, Finding, Location
from engine.guard.record import field, record

PathKey = Union[str, int]
Path = tuple[PathKey, ...]


@record(frozen=True)
class Spot:
    """Where a value sits (and, inside a mapping, where its key sits): 1-based line and column."""

    value: tuple[int, int]
    key: tuple[int, int] | None = None


def format_path(path: Iterable[PathKey]) -> str:
    """`('requests', 0, 'procedures', 1, 'code')` → `requests[0].procedures[1].code`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def fail(name: str, message: str, line: int = 1, col: int = 1) -> CaseError:
    """A CaseError with one finding about the file as a whole (or one spot in it)."""
    return CaseError(f"{name}: {message}",
                     findings=[Finding("invalid_case", message, Location(name, line, col))])


@record
class Source:
    """One case text, its data, and the structural problems found while reading it.

    `spots` is None after the JSON fast path; the first `locate` then reads the text again
    with the YAML reader (JSON is YAML) to find positions, so valid JSON never pays for them.
    """

    name: str
    text: str
    data: Any
    spots: dict[Path, Spot] | None = None
    problems: list[tuple[Path, Finding]] = field(default_factory=list)  # found while reading
    suppressed: set[Path] = field(default_factory=set)  # values already reported as unusable
    prefix: Path = ()  # where the case sits when it is embedded in a larger file

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The source position of `path` (its key if asked and known), else of its nearest parent."""
        if self.spots is None:
            from engine.cases.yamltree import read_yaml
            try:
                self.spots = read_yaml(self.name, self.text).spots or {}
            except CaseError:
                self.spots = {}
        path = self.prefix + tuple(path)
        while True:
            spot = self.spots.get(path)
            if spot is not None:
                line, col = spot.key if key and spot.key else spot.value
                return Location(self.name, line, col)
            if not path:
                return Location(self.name, 1, 1)
            path, key = path[:-1], False

    def finding(self, path: Path, message: str, *, key: bool = False) -> Finding:
        """An `invalid_case` finding worded `field.path: message` at the path's position."""
        where = format_path(self.prefix + tuple(path))
        return Finding("invalid_case", f"{where}: {message}" if where else message,
                       self.locate(path, key=key))
