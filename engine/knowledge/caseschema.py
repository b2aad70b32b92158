"""The case schema of a knowledge base (kb/case-schema.yaml) as plain, picklable data.

Every case field is declared in the kb: its type, enumeration (in order, ordinal or not), range
and unit, description, whether it is required, how lists and maps nest, and whether an empty list
records "documented none". The application reads only the fixed warrant-case/1 contract fields
by name (`CONTRACT`); everything else is data it walks. `schemafile.py` reads and checks the file.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Iterator

from engine.guard.record import record

SCHEMA_FORMAT = "warrant-case-schema/1"
SCHEMA_FILE = "case-schema.yaml"

LEAF_KINDS = ("flag", "number", "integer", "enum", "text", "name", "code", "date", "format", "level")
CONTAINER_KINDS = ("object", "list", "map")
ROLES = ("summary",)

# Path steps in schema paths: a field name, "[]" for the items of a list, "{}" for the values of
# a map. Contract fields: (path, kind, required). Application code reads these by name.
EACH, ANY_KEY = "[]", "{}"
_REQUEST = ("requests", EACH)
_PROCEDURE = _REQUEST + ("procedures", EACH)
CONTRACT: dict[tuple[str, ...], tuple[str, bool]] = {
    ("format",): ("format", True),
    ("case_id",): ("name", True),
    ("requests",): ("list", True),
    _REQUEST + ("stage",): ("integer", True),
    _REQUEST + ("setting",): ("enum", False),
    _REQUEST + ("length_of_stay_days",): ("integer", False),
    _REQUEST + ("procedures",): ("list", True),
    _PROCEDURE + ("code",): ("code", True),
    _PROCEDURE + ("levels",): ("list", False),
    _PROCEDURE + ("side",): ("enum", False),
    _PROCEDURE + ("span",): ("list", False),
}
PROCEDURE_PATH = _PROCEDURE
# The keys of a line's entry in the case document (docs/kb-contract.md); procedure fields beyond
# the contract ones join them.
LINE_ENTRY_KEYS = ("stage", "request", "procedure", "code", "level", "side", "span_vertebrae")


@record(frozen=True, eq=False)
class Type:
    """One type of the schema. Which attributes matter depends on `kind`."""

    kind: str
    description: str = ""
    values: tuple[str, ...] = ()  # enum, in order
    ordinal: bool = False  # enum: the order is a scale (grades of severity)
    absent: str | None = None  # enum: the value that records "looked for and not found"
    expands: tuple[tuple[str, tuple[str, ...]], ...] = ()  # enum: a value standing for several
    minimum: int | float | None = None  # number, integer
    maximum: int | float | None = None
    unit: str | None = None
    level_kind: str | None = None  # level
    name: str | None = None  # object: the title of its model
    fields: tuple["Field", ...] = ()  # object, in order
    items: "Type | None" = None  # list
    min_items: int | None = None
    max_items: int | None = None
    empty_means_none: bool = False  # list: [] records "documented none"
    keys: "Type | None" = None  # map: a level type
    entries: "Type | None" = None  # map: the type of each value

    @property
    def is_leaf(self) -> bool:
        return self.kind in LEAF_KINDS

    def field(self, name: str) -> "Field | None":
        for item in self.fields:
            if item.name == name:
                return item
        return None

    def child(self, step: str) -> "Type | None":
        """The type one step down: a field of an object, the items of a list, a map's values."""
        if step == EACH:
            return self.items if self.kind == "list" else None
        if step == ANY_KEY:
            return self.entries if self.kind == "map" else None
        found = self.field(step) if self.kind == "object" else None
        return found.type if found else None


@record(frozen=True, eq=False)
class Field:
    """A named field of an object type."""

    name: str
    type: Type
    required: bool = False
    contract: bool = False
    role: str | None = None
    description: str = ""

    @property
    def text(self) -> str:
        """What the field holds, in words (its own description, else its type's)."""
        return self.description or self.type.description

    @property
    def worded(self) -> str:
        """The description with the unit, as editors and questionnaires show it: `... (mm)`."""
        node = self.type.items if self.type.kind == "list" and self.type.items else self.type
        if node.unit and self.text:
            return f"{self.text} ({node.unit})"
        return self.text or (node.unit or "")


@record(frozen=True, eq=False)
class CaseSchema:
    """The parsed kb/case-schema.yaml. `root` is the object type of a whole case."""

    case_format: str
    title: str
    description: str
    root: Type
    vertebrae: tuple[str, ...]
    level_kinds: tuple[tuple[str, str], ...]
    source: str = SCHEMA_FILE
    digest: str = ""

    @cached_property
    def levels(self) -> Any:
        """The level vocabulary (`engine.knowledge.levels.Levels`) over the declared vertebrae."""
        from engine.knowledge.levels import Levels

        return Levels(self.vertebrae)

    def level_kind_text(self, kind: str) -> str:
        return dict(self.level_kinds).get(kind, kind)

    def walk(self) -> Iterator[tuple[tuple[str, ...], Field]]:
        """Every field with its path (`("imaging", "[]", "segments", "{}", "translation_mm")`),
        parents before children, in declaration order; a shared type is walked at each use."""
        yield from _walk(self.root, ())

    def at(self, path: tuple[str, ...]) -> Type | None:
        """The type at a schema path, or None when the path leaves the schema."""
        node: Type | None = self.root
        for step in path:
            if node is None:
                return None
            node = node.child(step)
        return node

    def field_at(self, path: tuple[str, ...]) -> Field | None:
        parent = self.at(path[:-1]) if path else None
        return parent.field(path[-1]) if parent is not None and parent.kind == "object" else None

    @cached_property
    def clinical_names(self) -> frozenset[str]:
        """The names of every field that is not a contract field (the kb's own vocabulary)."""
        return frozenset(f.name for _, f in self.walk() if not f.contract)

    @cached_property
    def procedure_extras(self) -> tuple[str, ...]:
        """Procedure fields beyond the contract ones, in order: they reach each line's entry."""
        procedure = self.at(PROCEDURE_PATH)
        if procedure is None:
            return ()
        return tuple(f.name for f in procedure.fields if not f.contract)

    def role(self, role: str) -> tuple[str, ...] | None:
        """The path of the field that plays `role` (see ROLES), if the schema names one."""
        for path, item in self.walk():
            if item.role == role:
                return path
        return None

    @cached_property
    def side_expansion(self) -> dict[str, tuple[str, ...]]:
        """Side values that stand for several sides (`bilateral` → left, right)."""
        side = self.at(PROCEDURE_PATH + ("side",))
        return {value: sides for value, sides in side.expands} if side is not None else {}

    def objects(self) -> Iterator[Type]:
        """Every object type once, depth first in field order (the root first)."""
        seen: set[int] = set()
        yield from _objects(self.root, seen)

    def __getstate__(self) -> dict[str, Any]:  # cached properties are rebuilt, not pickled
        return {k: v for k, v in self.__dict__.items()
                if k not in ("levels", "clinical_names", "procedure_extras", "side_expansion")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _walk(node: Type, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Field]]:
    if node.kind == "object":
        for item in node.fields:
            here = path + (item.name,)
            yield here, item
            yield from _walk(item.type, here)
    elif node.kind == "list" and node.items is not None:
        yield from _walk(node.items, path + (EACH,))
    elif node.kind == "map" and node.entries is not None:
        yield from _walk(node.entries, path + (ANY_KEY,))


def _objects(node: Type, seen: set[int]) -> Iterator[Type]:
    if node.kind == "object":
        if id(node) in seen:
            return
        seen.add(id(node))
        yield node
        for item in node.fields:
            yield from _objects(item.type, seen)
    elif node.kind == "list" and node.items is not None:
        yield from _objects(node.items, seen)
    elif node.kind == "map" and node.entries is not None:
        yield from _objects(node.entries, seen)


def path_text(path: tuple[str, ...]) -> str:
    """`("imaging", "[]", "segments", "{}", "translation_mm")` → `imaging[].segments.*.translation_mm`."""
    out = ""
    for step in path:
        if step == EACH:
            out += "[]"
        elif step == ANY_KEY:
            out += ".*"
        else:
            out += f".{step}" if out else step
    return out
