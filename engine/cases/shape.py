"""The case schema of a knowledge base as a shape table: what the fast loader walks and the
pydantic models are built from.

`shape_of(schema)` derives the table once per schema (at run time, from kb/case-schema.yaml):

  ("leaf", SPEC)                       a value check, `values.make(*SPEC)`
  ("opt", TYPE)                        null allowed (then the field is None)
  ("model", NAME)                      a mapping with the fields of models[NAME]
  ("list", TYPE, MIN, MAX, AFTER)      a list; length bounds or None; AFTER names functions
                                       of `values.AFTER` applied to the checked list
  ("dict", KEY, VALUE)                 a mapping with checked keys and values

Each model is a tuple of (field, type, required) in field order; model names are the schema's
object names (the root is `Case`).
"""
from __future__ import annotations

from typing import Any

from engine.cases import values
from engine.knowledge.caseschema import EACH, CaseSchema, Type
from engine.guard.record import record

Spec = tuple[Any, ...]
Models = dict[str, tuple[tuple[str, Spec, bool], ...]]
ROOT = "Case"


@record(frozen=True, eq=False)
class Shape:
    """The shape table of one case schema, plus what the loaders need alongside it."""

    schema: CaseSchema
    models: Models
    descriptions: dict[tuple[str, str], str]  # (model, field) -> description with its unit
    docs: dict[str, str]  # model -> description
    level_maps: tuple[tuple[tuple[Any, ...], str], ...]  # (path to a level-keyed map, level kind)

    root = ROOT


_SHAPES: dict[Any, Shape] = {}


def shape_of(schema: CaseSchema) -> Shape:
    """The shape table of `schema` (built on first use, then reused)."""
    key = schema.digest or id(schema)
    found = _SHAPES.get(key)
    if found is None or found.schema is not schema and not schema.digest:
        found = _SHAPES[key] = _derive(schema)
    return found


def _derive(schema: CaseSchema) -> Shape:
    builder = _Builder(schema)
    builder.model(schema.root)
    for fields in builder.models.values():  # every check must build, or the table is useless
        for _, spec, _ in fields:
            _build_checks(spec)
    level_maps = tuple((tuple(None if step == EACH else step for step in path), item.type.keys.level_kind)
                       for path, item in schema.walk()
                       if item.type.kind == "map" and item.type.keys is not None
                       and item.type.keys.kind == "level")
    return Shape(schema, builder.models, builder.descriptions, builder.docs, level_maps)


class _Builder:
    def __init__(self, schema: CaseSchema) -> None:
        self.schema = schema
        self.models: Models = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.docs: dict[str, str] = {}

    def model(self, node: Type) -> str:
        name = ROOT if node is self.schema.root else str(node.name)
        if name in self.models:
            return name
        self.models[name] = ()  # reserve the name (and its place) before nested models
        self.docs[name] = node.description
        fields = []
        for item in node.fields:
            spec = self.type(item.type)
            if not item.required:
                spec = ("opt", spec)
            fields.append((item.name, spec, item.required))
            self.descriptions[(name, item.name)] = item.worded
        self.models[name] = tuple(fields)
        return name

    def type(self, node: Type) -> Spec:
        kind = node.kind
        if kind == "object":
            return ("model", self.model(node))
        if kind == "list":
            item = self.type(node.items)
            after = ("flatten",) if node.items.kind == "level" and node.items.level_kind == "segment_range" else ()
            return ("list", item, node.min_items, node.max_items, after)
        if kind == "map":
            return ("dict", self.type(node.keys), self.type(node.entries))
        return ("leaf", self.leaf(node))

    def leaf(self, node: Type) -> Spec:
        kind = node.kind
        if kind in ("number", "integer"):
            return ("number", node.minimum, node.maximum, kind == "integer")
        if kind == "enum":
            return ("choice", node.absent, *node.values)
        if kind == "level":
            return ("level", node.level_kind, self.schema.levels)
        if kind == "format":
            return ("format", self.schema.case_format)
        return (kind,)


def _build_checks(spec: Spec) -> None:
    kind = spec[0]
    if kind == "leaf":
        values.make(*spec[1])
    elif kind in ("opt", "list"):
        _build_checks(spec[1])
    elif kind == "dict":
        _build_checks(spec[1])
        _build_checks(spec[2])
