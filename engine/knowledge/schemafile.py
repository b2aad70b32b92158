"""Read and check kb/case-schema.yaml: every problem is a finding with `file:line:col`.

The file is composed into YAML nodes (PyYAML, libyaml when present) so that each key and value
keeps its position; nothing is constructed from tags. Checks: known keys for each type, types
that exist, enumerations of distinct text values, ranges with min <= max, level kinds the level
reader knows, unique model names, at most one field per role, and the fixed contract fields
(`caseschema.CONTRACT`) present with their kinds.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError
from engine.knowledge.caseschema import (CONTRACT, LEAF_KINDS, LINE_ENTRY_KEYS, PROCEDURE_PATH, ROLES,
                                         SCHEMA_FORMAT, CaseSchema, Field, Type, path_text)
from engine.knowledge.levels import KINDS, vertebra_name_problem

_COMMON = {"type", "description"}
_FIELD_KEYS = {"required", "contract", "role"}
_KIND_KEYS = {
    "flag": set(), "text": set(), "name": set(), "code": set(), "date": set(), "format": set(),
    "number": {"min", "max", "unit"}, "integer": {"min", "max", "unit"},
    "enum": {"values", "ordinal", "expands", "absent"}, "level": {"kind"},
    "object": {"fields", "name"}, "list": {"items", "min_items", "max_items", "empty_means_none"},
    "map": {"keys", "values"},
}
_TOP_KEYS = {"format", "case_format", "title", "description", "levels", "types", "fields"}


class _Node:
    """A YAML node with its position: `.scalar()` for scalars, `.pairs()` and `.sequence()` for
    mappings and lists. Scalars are read by their resolved tag, without PyYAML's constructors."""

    __slots__ = ("node", "file", "_pairs")

    def __init__(self, node: Any, file: str) -> None:
        self.node, self.file = node, file
        self._pairs: list[tuple[Any, "_Node", "_Node"]] | None = None

    @property
    def loc(self) -> Location:
        mark = self.node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    @property
    def kind(self) -> str:
        return type(self.node).__name__[:-4].lower()  # scalar, sequence, mapping

    def scalar(self) -> Any:
        if self.kind != "scalar":
            return _Shape(self.kind)
        return _plain(self.node)

    def pairs(self) -> list[tuple[Any, "_Node", "_Node"]]:
        if self._pairs is None:
            self._pairs = []
            if self.kind == "mapping":
                for k, v in self.node.value:
                    key = _Node(k, self.file)
                    self._pairs.append((key.scalar(), key, _Node(v, self.file)))
        return self._pairs

    def sequence(self) -> list["_Node"]:
        return [_Node(v, self.file) for v in self.node.value] if self.kind == "sequence" else []


_BOOLS = {word: value for value, words in ((True, "yes Yes YES true True TRUE on On ON"),
                                          (False, "no No NO false False FALSE off Off OFF"))
          for word in words.split()}
_NULLS = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0b[01_]+|0[0-7_]+)")
_FLOAT = re.compile(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?")


def _plain(node: Any) -> Any:
    """A scalar's value: quoted text stays text; a plain scalar is read as YAML 1.1 reads it
    (the file is composed without PyYAML's resolver, which is the slow part)."""
    text = node.value
    if node.style:  # quoted or block text
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.fullmatch(text):
        return _int(text.replace("_", ""))
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    return text


def _int(text: str) -> int:
    """A YAML 1.1 integer: decimal, 0x hex, 0b binary, or octal with a leading 0."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0b"):
        return sign * int(body, 0)
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body, 8)
    return sign * int(body)


class _Shape(str):
    """Stands for a mapping or list where a scalar was expected (shows as `a mapping`)."""

    def __new__(cls, kind: str) -> "_Shape":
        return super().__new__(cls, "a mapping" if kind == "mapping" else "a list")


def read_case_schema(path: Path, display: str, raw: bytes | None = None) -> CaseSchema:
    """The schema in `path` (named `display` in messages; `raw`, its bytes when already read),
    or RuleError with every problem."""
    import yaml

    raw = path.read_bytes() if raw is None else raw
    try:
        loader_class = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
        root = yaml.compose(raw.decode("utf-8"), Loader=loader_class)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(display, mark.line + 1, mark.column + 1) if mark else Location(display)
        raise RuleError([Finding("case_schema", f"cannot read {path.name}: "
                                 f"{getattr(exc, 'problem', None) or exc}", where)]) from None
    reader = _Reader(display)
    schema = reader.schema(_Node(root, display) if root is not None else None,
                           "sha256:" + hashlib.sha256(raw).hexdigest())
    if reader.findings or schema is None:
        raise RuleError(reader.findings or [Finding("case_schema", "the case schema is empty",
                                                    Location(display))])
    return schema


class _Reader:
    def __init__(self, display: str) -> None:
        self.display = display
        self.findings: list[Finding] = []
        self.named: dict[str, _Node] = {}
        self.built: dict[str, Type | None] = {}
        self.building: list[str] = []
        self.model_names: dict[str, Location] = {}
        self.vertebrae: tuple[str, ...] = ()
        self.kinds: dict[str, str] = {}

    def fail(self, where: _Node | Location, message: str) -> None:
        loc = where.loc if isinstance(where, _Node) else where
        self.findings.append(Finding("case_schema", message, loc))

    # -- the file --------------------------------------------------------------------------
    def schema(self, root: _Node | None, digest: str) -> CaseSchema | None:
        if root is None or root.kind != "mapping":
            self.fail(root or Location(self.display), "the case schema must be a mapping with "
                      f"format: {SCHEMA_FORMAT}, levels, types and fields")
            return None
        top = {key: (knode, value) for key, knode, value in root.pairs()}
        for key, (knode, _) in top.items():
            if key not in _TOP_KEYS:
                self.fail(knode, f"unknown key {key!r}; expected one of {', '.join(sorted(_TOP_KEYS))}")
        if self._text(top, "format", root) != SCHEMA_FORMAT:
            self.fail(top.get("format", (root, root))[1], f"format must be {SCHEMA_FORMAT}")
        case_format = self._text(top, "case_format", root)
        self._levels(top.get("levels", (root, None))[1], root)
        for name, knode, value in (top["types"][1].pairs() if "types" in top else []):
            if not isinstance(name, str) or name in _KIND_KEYS:
                self.fail(knode, f"{name!r} cannot name a type: it is a built-in type")
            else:
                self.named[name] = value
        fields_node = top.get("fields", (root, None))[1]
        if fields_node is None or fields_node.kind != "mapping":
            self.fail(fields_node or root, "fields: the top-level fields of a case, a mapping")
            return None
        title = self._text(top, "title", root, required=False) or case_format or "case"
        root_type = Type("object", name="Case", fields=self._fields(fields_node, ()))
        for name, node in self.named.items():  # a type nobody uses is still checked
            self._named(name, node)
        self._contract(root_type, root)
        self._roles(root_type, fields_node)
        if self.findings:
            return None
        description = self._text(top, "description", root, required=False) or ""
        return CaseSchema(case_format or "", title, description, root_type, self.vertebrae,
                          tuple(self.kinds.items()), self.display, digest)

    def _text(self, top: dict[str, tuple[_Node, _Node]], key: str, root: _Node,
              required: bool = True) -> str | None:
        if key not in top:
            if required:
                self.fail(root, f"{key} is required")
            return None
        value = top[key][1].scalar()
        if not isinstance(value, str) or not value.strip():
            self.fail(top[key][1], f"{key} must be text")
            return None
        return value.strip()

    def _levels(self, node: _Node | None, root: _Node) -> None:
        if node is None or node.kind != "mapping":
            self.fail(node or root, "levels: needs vertebrae (in order, head to pelvis) and kinds")
            return
        parts = {key: (knode, value) for key, knode, value in node.pairs()}
        for key, (knode, _) in parts.items():
            if key not in ("vertebrae", "kinds"):
                self.fail(knode, f"unknown key {key!r} under levels; expected vertebrae and kinds")
        names: list[str] = []
        vertebrae = parts.get("vertebrae", (node, None))[1]
        for item in vertebrae.sequence() if vertebrae is not None else []:
            value = item.scalar()
            problem = vertebra_name_problem(value)
            if problem:
                self.fail(item, problem)
            elif value in names:
                self.fail(item, f"vertebra {value} is listed twice")
            else:
                names.append(value)
        if len(names) < 2:
            self.fail(vertebrae or node, "levels.vertebrae must list at least two vertebrae, in order")
        self.vertebrae = tuple(names)
        kinds = parts.get("kinds", (node, None))[1]
        for kind, knode, value in kinds.pairs() if kinds is not None else []:
            if kind not in KINDS:
                self.fail(knode, f"level kind {kind!r} is not one Warrant reads; the kinds are "
                          f"{', '.join(KINDS)}")
            else:
                text = value.scalar()
                self.kinds[kind] = text if isinstance(text, str) else ""
        if not self.kinds:
            self.fail(kinds or node, f"levels.kinds must describe the level kinds used ({', '.join(KINDS)})")

    # -- fields and types ------------------------------------------------------------------
    def _fields(self, node: _Node, path: tuple[str, ...]) -> tuple[Field, ...]:
        out = []
        for name, knode, value in node.pairs():
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                self.fail(knode, f"{name!r} is not a field name (letters, digits and _, not first _)")
                continue
            field = self._field(name, value, path + (name,))
            if field is not None:
                out.append(field)
        if not out and node.kind != "mapping":
            self.fail(node, "fields must be a mapping of field names to types")
        return tuple(out)

    def _field(self, name: str, node: _Node, path: tuple[str, ...]) -> Field | None:
        spec = {key: (knode, value) for key, knode, value in node.pairs()}
        flags = {}
        for key in ("required", "contract"):
            value = spec[key][1].scalar() if key in spec else False
            if not isinstance(value, bool):
                self.fail(spec[key][1], f"{key} must be true or false")
            flags[key] = value is True
        role = spec["role"][1].scalar() if "role" in spec else None
        if role is not None and role not in ROLES:
            self.fail(spec["role"][1], f"role {role!r} is not one of {', '.join(ROLES)}")
            role = None
        type_ = self._type(node, path, field_keys=_FIELD_KEYS)
        if type_ is None:
            return None
        description = spec["description"][1].scalar() if "description" in spec else ""
        return Field(name, type_, flags["required"], flags["contract"], role,
                     description if isinstance(description, str) else "")

    def _type(self, node: _Node, path: tuple[str, ...], field_keys: set[str] = frozenset()) -> Type | None:
        where = path_text(path) or "the case"
        if node.kind == "scalar":
            name = node.scalar()
            return self._reference(name, node, where)
        if node.kind != "mapping":
            self.fail(node, f"{where}: a type is a mapping with `type:` (or the name of a type)")
            return None
        spec = {key: (knode, value) for key, knode, value in node.pairs()}
        if "type" not in spec:
            self.fail(node, f"{where}: `type` is missing")
            return None
        kind = spec["type"][1].scalar()
        if kind not in _KIND_KEYS:
            found = self._reference(kind, spec["type"][1], where)
            for key, (knode, _) in spec.items():
                if key not in _COMMON | field_keys:
                    self.fail(knode, f"{where}: {key!r} cannot change the named type {kind}; "
                                     "only description may be given here")
            return found
        allowed = _COMMON | field_keys | _KIND_KEYS[kind]
        for key, (knode, _) in spec.items():
            if key not in allowed:
                self.fail(knode, f"{where}: unknown key {key!r} for a {kind}; expected one of "
                                 f"{', '.join(sorted(allowed))}")
        build = getattr(self, f"_build_{kind}", None)
        return build(spec, node, path, where) if build else Type(kind, _description(spec))

    def _reference(self, name: Any, node: _Node, where: str) -> Type | None:
        if name in _KIND_KEYS:
            if name in LEAF_KINDS and not _KIND_KEYS[name]:
                return Type(name)
            self.fail(node, f"{where}: a {name} needs its details; write {{type: {name}, ...}}")
            return None
        if not isinstance(name, str) or name not in self.named:
            known = sorted(_KIND_KEYS) + sorted(self.named)
            self.fail(node, f"{where}: unknown type {name!r}; the types are {', '.join(known)}")
            return None
        return self._named(name, node)

    def _named(self, name: str, used_at: _Node) -> Type | None:
        if name in self.built:
            return self.built[name]
        if name in self.building:
            self.fail(used_at, f"type {name} contains itself ({' -> '.join(self.building + [name])})")
            return None
        self.building.append(name)
        self.built[name] = self._type(self.named[name], (f"types.{name}",))
        self.building.pop()
        return self.built[name]

    def _build_number(self, spec, node, path, where) -> Type:
        bounds = {}
        for key in ("min", "max"):
            value = spec[key][1].scalar() if key in spec else None
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                self.fail(spec[key][1], f"{where}: {key} must be a number")
                value = None
            bounds[key] = value
        if None not in bounds.values() and bounds["min"] > bounds["max"]:
            self.fail(spec["min"][1], f"{where}: min {bounds['min']} is above max {bounds['max']}")
        unit = spec["unit"][1].scalar() if "unit" in spec else None
        return Type(spec["type"][1].scalar(), _description(spec), minimum=bounds["min"],
                    maximum=bounds["max"], unit=unit if isinstance(unit, str) else None)

    _build_integer = _build_number

    def _build_enum(self, spec, node, path, where) -> Type | None:
        values_node = spec.get("values", (node, None))[1]
        values: list[str] = []
        for item in values_node.sequence() if values_node is not None else []:
            value = item.scalar()
            if not isinstance(value, str) or not value:
                self.fail(item, f"{where}: enumeration values are words; write {value!r} in quotes")
            elif value in values:
                self.fail(item, f"{where}: {value} is listed twice")
            else:
                values.append(value)
        if not values:
            self.fail(values_node or node, f"{where}: an enum needs values: [...]")
            return None
        ordinal = spec["ordinal"][1].scalar() if "ordinal" in spec else False
        expands = []
        for value, knode, targets in spec["expands"][1].pairs() if "expands" in spec else []:
            parts = tuple(t.scalar() for t in targets.sequence())
            if value not in values or not parts or any(p not in values for p in parts):
                self.fail(knode, f"{where}: expands maps a value to other values of the enumeration")
            expands.append((value, parts))
        absent = spec["absent"][1].scalar() if "absent" in spec else None
        if absent is not None and absent not in values:
            self.fail(spec["absent"][1], f"{where}: absent names the value that records absence; "
                                         f"{absent!r} is not one of the values")
            absent = None
        return Type("enum", _description(spec), values=tuple(values), ordinal=ordinal is True,
                    expands=tuple(expands), absent=absent)

    def _build_level(self, spec, node, path, where) -> Type | None:
        kind = spec["kind"][1].scalar() if "kind" in spec else None
        if kind not in self.kinds:
            self.fail(spec.get("kind", (node, node))[1], f"{where}: a level needs kind: one of "
                      f"{', '.join(self.kinds) or ', '.join(KINDS)} (levels.kinds)")
            return None
        return Type("level", _description(spec), level_kind=kind)

    def _build_object(self, spec, node, path, where) -> Type | None:
        if "fields" not in spec:
            self.fail(node, f"{where}: an object needs fields")
            return None
        name = spec["name"][1].scalar() if "name" in spec else _camel(path[-1] if path else "Case")
        if not isinstance(name, str) or not name.isidentifier():
            self.fail(spec.get("name", (node, node))[1], f"{where}: name must be a word such as Patient")
            return None
        if name in self.model_names:
            self.fail(spec.get("name", (node, node))[1], f"{where}: the object name {name} is "
                      f"already used at {self.model_names[name]}; give it another name")
        self.model_names[name] = node.loc
        return Type("object", _description(spec), name=name, fields=self._fields(spec["fields"][1], path))

    def _build_list(self, spec, node, path, where) -> Type | None:
        if "items" not in spec:
            self.fail(node, f"{where}: a list needs items")
            return None
        items = self._type(spec["items"][1], path + ("[]",))
        counts = {}
        for key in ("min_items", "max_items"):
            value = spec[key][1].scalar() if key in spec else None
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                self.fail(spec[key][1], f"{where}: {key} must be a whole number, 0 or more")
                value = None
            counts[key] = value
        empty = spec["empty_means_none"][1].scalar() if "empty_means_none" in spec else False
        if items is None:
            return None
        return Type("list", _description(spec), items=items, min_items=counts["min_items"],
                    max_items=counts["max_items"], empty_means_none=empty is True)

    def _build_map(self, spec, node, path, where) -> Type | None:
        keys = self._type(spec["keys"][1], path + ("{key}",)) if "keys" in spec else None
        if keys is not None and keys.kind != "level":
            self.fail(spec["keys"][1], f"{where}: map keys must be a level type ({{type: level, kind: ...}})")
            keys = None
        if keys is None or "values" not in spec:
            if "keys" not in spec or "values" not in spec:
                self.fail(node, f"{where}: a map needs keys (a level type) and values")
            return None
        entries = self._type(spec["values"][1], path + ("{}",))
        return Type("map", _description(spec), keys=keys, entries=entries) if entries else None

    # -- whole-schema rules ----------------------------------------------------------------
    def _contract(self, root: Type, node: _Node) -> None:
        from engine.knowledge.caseschema import _walk

        marked = {path: field for path, field in _walk(root, ()) if field.contract}
        for path, (kind, required) in CONTRACT.items():
            field = marked.get(path)
            if field is None:
                self.fail(node, f"the contract field {path_text(path)} ({kind}"
                                f"{', required' if required else ''}) must be declared with contract: true")
            elif field.type.kind != kind or field.required != required:
                self.fail(node, f"the contract field {path_text(path)} must be a {kind}"
                                f"{' and required' if required else ' and not required'}")
        for path in marked:
            if path not in CONTRACT:
                self.fail(node, f"{path_text(path)} is marked contract: true, but warrant-case/1 "
                                "fixes only " + ", ".join(path_text(p) for p in CONTRACT))
        procedure = _at(root, PROCEDURE_PATH)
        for field in procedure.fields if procedure is not None else ():
            if not field.contract and field.name in LINE_ENTRY_KEYS:
                self.fail(node, f"requests[].procedures[].{field.name}: the procedure fields travel with "
                                f"each line, whose entry already has a key {field.name}; choose another name")

    def _roles(self, root: Type, node: _Node) -> None:
        from engine.knowledge.caseschema import _walk

        seen: dict[str, str] = {}
        for path, field in _walk(root, ()):
            if field.role and field.role in seen:
                self.fail(node, f"{path_text(path)} and {seen[field.role]} both claim role {field.role}")
            elif field.role:
                seen[field.role] = path_text(path)


def _at(root: Type, path: tuple[str, ...]) -> Type | None:
    node: Type | None = root
    for step in path:
        node = node.child(step) if node is not None else None
    return node


def _description(spec: dict[str, tuple[_Node, _Node]]) -> str:
    value = spec["description"][1].scalar() if "description" in spec else ""
    return value if isinstance(value, str) else ""


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Entry"
