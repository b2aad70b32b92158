"""The FHIR map's targets against the kb's case schema: every `field` must name a case field, and
every coded word it can write must be a value that field accepts.

`target(schema, text)` resolves a map path (`imaging[].segments.{segment}.translation_mm`,
`si_joint.{side}.diagnostic_injections[]`) to the schema type of the value written there; the
importer uses it for the words a field accepts. `check_map(m, schema)` lists every problem as a
finding at the place in fhir-map.yaml that names the path (`warrant check` and the importer).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from engine.errors import Finding, Location
from engine.fhir.mapping import FhirMap
from engine.knowledge.caseschema import CaseSchema, Type

_PLACEHOLDERS = ("{segment}", "{side}")
_VALUE_KINDS = ("flag", "none_list", "integer")
_ENTRY_SOURCES = ("body_site_levels", "performed_year")


def target(schema: CaseSchema, text: str) -> Type | None:
    """The type a value written at a map path gets (the item type for a trailing `[]`)."""
    return _target(schema, text)


@lru_cache(maxsize=512)
def _target(schema: CaseSchema, text: str) -> Type | None:
    node: Type | None = schema.root
    for part in text.split("."):
        if node is None:
            return None
        each = part.endswith("[]")
        name = part[:-2] if each else part
        if name == "{segment}":
            node = node.entries if node.kind == "map" else None
        elif name == "{side}":
            node = node.fields[0].type if node.kind == "object" and node.fields else None
        else:
            found = node.field(name) if node.kind == "object" else None
            node = found.type if found else None
        if each and node is not None:
            node = node.items if node.kind == "list" else None
    return node


def words_of(node: Type | None) -> tuple[str, ...]:
    """The enumeration a field (or a list of such values) accepts; () when it is not one."""
    if node is not None and node.kind == "list":
        node = node.items
    return node.values if node is not None and node.kind == "enum" else ()


def check_map(m: FhirMap, schema: CaseSchema) -> list[Finding]:
    """Every map target the schema does not have and every word its field cannot hold."""
    problems = list(_problems(m, schema))
    if not problems:
        return []
    # shown like the other kb files: next to the schema's own display path (kb/fhir-map.yaml)
    display = str(PurePosixPath(schema.source).with_name(Path(m.path).name)) if "/" in schema.source else m.path
    spots = _positions(m.path, display)
    return [Finding("fhir_map", message, spots.get(anchor) or Location(display))
            for anchor, message in problems]


def _problems(m: FhirMap, schema: CaseSchema) -> Iterator[tuple[str, str]]:
    study = m.study_list
    for rule in m.observation_rules + m.condition_rules:
        yield from _rule(m, schema, rule.field, rule.value, study)
    for field in m.patient.values():
        yield from _exists(schema, field)
    if study:
        for key in ("id", "modality", "date"):
            if key in m.studies:
                yield from _exists(schema, f"{study}[].{m.studies[key]}")
        table = m.studies.get("modality_codes", "")
        words = words_of(target(schema, f"{study}[].{m.studies.get('modality', '')}"))
        yield from _words(m.values.get(table, {}).values(), words, f"values.{table}", table)
    for name, spec in m.item_fields.items():
        yield from _exists(schema, f"requests[].procedures[].{name}", anchor=name)
    for kind in m.procedure_kinds.values():
        if kind.entry:
            yield from _exists(schema, kind.entry)
            for name, _ in kind.fields:
                yield from _exists(schema, f"{kind.entry}.{name}", anchor=name)
            if kind.relief:
                yield from _exists(schema, f"{kind.entry}.{kind.relief}", anchor=kind.relief)
    for rule in m.courses:
        yield from _exists(schema, str(rule.get("field", "")))
        if rule.get("outcome"):
            table = m.values.get(str(rule.get("values")), {}).values()
            allowed = words_of(target(schema, str(rule["field"])))
            yield from _words(list(table) + [rule.get("in_progress")], allowed, str(rule["field"]),
                              str(rule["field"]))


def _exists(schema: CaseSchema, text: str, anchor: str | None = None) -> Iterator[tuple[str, str]]:
    if target(schema, text) is None:
        yield anchor or text, f"{text} is not a field of the case schema (case-schema.yaml)"


def _rule(m: FhirMap, schema: CaseSchema, text: str, value: Any, study: str | None) -> Iterator[tuple[str, str]]:
    parts = text.split(".")
    lists = [p[:-2] for p in parts[:-1] if p.endswith("[]")]
    if any(name != study for name in lists):
        yield text, f"{text}: only the imaging list ({study}[]) may be stepped into inside a path"
    node = target(schema, text)
    if node is None:
        yield text, f"{text} is not a field of the case schema (case-schema.yaml)"
        return
    if isinstance(value, dict) and "constant" in value:
        yield from _words([value["constant"]], words_of(node), text, text)
    elif isinstance(value, dict) and "entry" in value:
        for name, word in (value.get("entry") or {}).items():
            sub = node.field(name) if node.kind == "object" else None
            if sub is None:
                yield text, f"{text}: an entry has no field {name}"
            else:
                yield from _words([word], words_of(sub.type), f"{text}.{name}", text)
        if value.get("level") and (node.kind != "object" or node.field(value["level"]) is None):
            yield text, f"{text}: an entry has no field {value['level']}"
    elif isinstance(value, str) and value not in _VALUE_KINDS + ("presence", "text") \
            and value not in m.units:
        table = list(m.values.get(value, {}).values()) + list(m.booleans.get(value, {}).values())
        if not table and value not in m.values:
            yield text, f"{text}: {value!r} is no value kind and no table under values"
        yield from _words(table, words_of(node), text, text)


def _words(found: Any, allowed: tuple[str, ...], where: str, anchor: str) -> Iterator[tuple[str, str]]:
    """Each word not in `allowed`, anchored at the word itself (the field when it is not found)."""
    if not allowed:
        return
    for word in found:
        if isinstance(word, str) and word not in allowed:
            yield word, f"{where} holds {', '.join(allowed)}; {word!r} is not one of them"


def _positions(path: str, display: str) -> dict[str, Location]:
    """Where each scalar of the map file first appears (only read when there is a problem)."""
    import yaml

    out: dict[str, Location] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            root = yaml.compose(handle.read(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return out
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.ScalarNode):
            spot = Location(display, node.start_mark.line + 1, node.start_mark.column + 1)
            key = str(node.value)
            if key not in out or (spot.line, spot.column) < (out[key].line, out[key].column):
                out[key] = spot
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                pending.extend((key_node, value))
    return out
