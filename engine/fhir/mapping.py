"""kb/fhir-map.yaml as lookups: which coded FHIR element feeds which warrant-case/1 field.

The map is data in the knowledge base (a rule author edits it without touching Python). This
module only reads it: short system names are expanded, `SYSTEM#CODE` strings become
(system URL, code) pairs, and codes ending in `*` become prefixes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from engine.errors import Finding, Location, RuleError

MAP_FILE = "fhir-map.yaml"
MAP_FORMAT = "warrant-fhir-map/1"


@dataclass(frozen=True)
class Rule:
    """One mapping row: codes that feed `field`, read as `value` (a kind or a constant)."""

    field: str
    value: Any
    codes: tuple[tuple[str, str], ...] = ()
    category: tuple[str, str] | None = None

    @property
    def appends(self) -> bool:
        return self.field.endswith("[]")


class CodeTable:
    """Exact codes and prefixes (`M47.1*`) of one system each, mapped to a value."""

    def __init__(self) -> None:
        self.exact: dict[tuple[str, str], Any] = {}
        self.prefixes: list[tuple[str, str, Any]] = []

    def add(self, key: tuple[str, str], value: Any) -> None:
        system, code = key
        if code.endswith("*"):
            self.prefixes.append((system, code[:-1], value))
        else:
            self.exact.setdefault(key, value)

    def get(self, system: str | None, code: str | None) -> Any:
        if not system or code is None:
            return None
        found = self.exact.get((system, code))
        if found is not None:
            return found
        for sys_, prefix, value in self.prefixes:
            if sys_ == system and code.startswith(prefix):
                return value
        return None


NOT_DOCUMENTED = object()  # a coded answer the map reads as "not documented" (a ~ in a table)


@dataclass(frozen=True)
class ProcedureKind:
    """What one kind of Procedure means (fhir-map.yaml `procedures`)."""

    name: str
    entry: str | None = None  # the list field each completed Procedure adds an entry to
    fields: tuple[tuple[str, Any], ...] = ()  # entry field -> what of the Procedure gives it
    relief: str | None = None  # the entry field injection_observations fill
    course: bool = False  # a course of care, counted by `courses`


@dataclass
class FhirMap:
    """The parsed map; see kb/fhir-map.yaml for the meaning of every part."""

    path: str
    systems: dict[str, str]
    extensions: dict[str, str]
    ignored_extensions: list[str]
    administrative: set[str]
    claim: dict[str, Any]
    laterality: dict[tuple[str, str], str]
    values: dict[str, dict[tuple[str, str], Any]]
    units: dict[str, dict[str, float]]
    observations: CodeTable = field(default_factory=CodeTable)
    conditions: CodeTable = field(default_factory=CodeTable)
    condition_categories: dict[tuple[str, str], Rule] = field(default_factory=dict)
    injection_observations: dict[tuple[str, str], str] = field(default_factory=dict)
    procedures: CodeTable = field(default_factory=CodeTable)
    procedure_kinds: dict[str, ProcedureKind] = field(default_factory=dict)
    courses: list[dict[str, Any]] = field(default_factory=list)
    booleans: dict[str, dict[bool, Any]] = field(default_factory=dict)
    patient: dict[str, str] = field(default_factory=dict)
    studies: dict[str, str] = field(default_factory=dict)
    item_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    observation_rules: list[Rule] = field(default_factory=list)
    condition_rules: list[Rule] = field(default_factory=list)
    response: dict[str, Any] = field(default_factory=dict)
    crd: dict[str, Any] = field(default_factory=dict)

    def system(self, short: str) -> str:
        return self.systems.get(short, short)

    def code(self, text: str) -> tuple[str, str]:
        """`finding#translation_mm` → (the finding system's URL, `translation_mm`)."""
        system, _, code = str(text).partition("#")
        return self.system(system), code

    def ignored_extension(self, url: str) -> bool:
        return any(url.startswith(p[:-1]) if p.endswith("*") else url == p
                   for p in self.ignored_extensions)

    def value_word(self, kind: str, system: str | None, code: str | None) -> Any:
        """The case value a coded answer stands for, for one kind of value (None if unknown,
        NOT_DOCUMENTED when the map says the answer documents nothing)."""
        if system is None or code is None:
            return None
        table = self.values.get(kind, {})
        if (system, code) in table:
            found = table[(system, code)]
            return NOT_DOCUMENTED if found is None else found
        if system == self.system("value"):
            return code
        return None

    @property
    def study_list(self) -> str | None:
        """The case list that holds one entry per imaging study (`studies.list`)."""
        return self.studies.get("list")

    def laterality_text(self) -> str:
        """The laterality codes the map reads, for messages: `7771000 left, 24028007 right, ...`."""
        coded = [f"{code} {word}" for (system, code), word in self.laterality.items()
                 if system != self.system("value")]
        return ", ".join(coded)

    def field_code(self, leaf: str) -> tuple[str, str] | None:
        """The code an Observation uses to answer a case field ending in `leaf` (for questionnaires)."""
        for rule in self.observation_rules:
            if rule.field.rstrip("[]").rsplit(".", 1)[-1] == leaf and rule.codes:
                return rule.codes[0]
        if any(kind.relief == leaf for kind in self.procedure_kinds.values()):
            for key, role in self.injection_observations.items():
                if role == "relief":
                    return key
        return None


def _fail(path: Path, message: str) -> RuleError:
    return RuleError([Finding("fhir_map", f"{MAP_FILE}: {message}", Location(str(path)))])


def _codes(m: FhirMap, items: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    return tuple(m.code(str(item)) for item in items or ())


def _read(path: Path) -> Any:
    """The map's data; a JSON copy in the kb cache (keyed by the file's hash) skips the YAML parse.

    The copy is read only from the private cache store (a folder and file no other user can
    have written) and must name the hash of the map it was made from."""
    import hashlib
    import json

    from engine.guard.files import read_private, write_private
    from engine.knowledge.base import cache_dir
    from engine.knowledge.kbfiles import read_kb_file
    from engine.knowledge.yamlio import read_yaml

    digest = hashlib.sha256(read_kb_file(path)).hexdigest()
    cached = cache_dir() / f"fhir-map-{digest[:32]}.json"
    data = read_private(cached, 16 * 1024 * 1024)
    if data is not None:
        try:
            document = json.loads(data)
            if isinstance(document, dict) and document.get("source_sha256") == digest:
                return document["map"]
        except (ValueError, KeyError):
            pass
    raw = read_yaml(path) or {}
    try:
        write_private(cached, json.dumps({"source_sha256": digest, "map": raw}).encode("utf-8"))
    except (TypeError, ValueError):
        pass  # a cache that cannot be written only costs time
    return raw


@lru_cache(maxsize=8)
def _load(path_text: str, stamp: float) -> FhirMap:
    path = Path(path_text)
    raw = _read(path)
    if not isinstance(raw, dict) or raw.get("format") != MAP_FORMAT:
        raise _fail(path, f"must be a mapping with format: {MAP_FORMAT}")
    systems = {str(k): str(v) for k, v in (raw.get("systems") or {}).items()}
    m = FhirMap(str(path), systems, {}, [], set(), {}, {}, {}, {})
    m.extensions = {str(k): str(v) for k, v in (raw.get("extensions") or {}).items()}
    m.ignored_extensions = [str(u) for u in raw.get("ignored_extensions") or []]
    m.administrative = {str(t) for t in raw.get("administrative") or []}
    m.claim = dict(raw.get("claim") or {})
    m.item_fields = {str(k): dict(v) for k, v in (m.claim.get("item_fields") or {}).items()}
    m.response = dict(raw.get("response") or {})
    m.patient = {str(k): str(v) for k, v in (raw.get("patient") or {}).items()}
    m.studies = {str(k): str(v) for k, v in (raw.get("studies") or {}).items()}
    m.crd = dict(raw.get("crd") or {})
    m.laterality = {m.code(k): str(v) for k, v in (raw.get("laterality") or {}).items()}
    _values(m, raw.get("values") or {})
    m.units = {str(kind): {str(u): float(f) for u, f in (table or {}).items()}
               for kind, table in (raw.get("units") or {}).items()}
    for entry in raw.get("observations") or []:
        rule = Rule(str(entry["field"]), entry["value"], _codes(m, entry.get("codes")))
        m.observation_rules.append(rule)
        for key in rule.codes:
            m.observations.add(key, rule)
    for role, items in (raw.get("injection_observations") or {}).items():
        for key in _codes(m, items):
            m.injection_observations[key] = str(role)
    for entry in raw.get("conditions") or []:
        rule = Rule(str(entry["field"]), entry["value"], _codes(m, entry.get("codes")),
                    category=m.code(entry["category"]) if entry.get("category") else None)
        m.condition_rules.append(rule)
        for key in rule.codes:
            m.conditions.add(key, rule)
        if rule.category:
            m.condition_categories[rule.category] = rule
    for name, spec in (raw.get("procedures") or {}).items():
        spec = spec or {}
        m.procedure_kinds[str(name)] = ProcedureKind(
            str(name), spec.get("entry"), tuple((str(k), v) for k, v in (spec.get("fields") or {}).items()),
            spec.get("relief"), spec.get("course") is True)
        for key in _codes(m, spec.get("codes")):
            m.procedures.add(key, str(name))
    m.courses = [dict(rule) for rule in raw.get("courses") or []]
    return m


def _values(m: FhirMap, tables: dict[str, Any]) -> None:
    """Coded answer tables; `true`/`false` keys (valueBoolean) go to `booleans` (a JSON copy of
    the map spells them as text)."""
    for kind, table in tables.items():
        coded: dict[tuple[str, str], Any] = {}
        for key, value in (table or {}).items():
            if isinstance(key, bool) or key in ("true", "false"):
                m.booleans.setdefault(str(kind), {})[key in (True, "true")] = value
            else:
                coded[m.code(key)] = value
        m.values[str(kind)] = coded


def load_map(kb_root: str | Path | None = None) -> FhirMap:
    """The FHIR map of a knowledge base directory, or the bundled one when it has none."""
    from engine.knowledge.base import bundled_kb

    candidates = [Path(kb_root) / MAP_FILE] if kb_root else []
    candidates.append(bundled_kb() / MAP_FILE)
    for path in candidates:
        if path.is_file():
            try:
                return _load(str(path), path.stat().st_mtime)
            except (KeyError, TypeError, ValueError) as exc:
                raise _fail(path, f"malformed entry ({type(exc).__name__}: {exc})") from None
    raise RuleError([Finding("fhir_map", f"no {MAP_FILE} in the knowledge base",
                             Location(str(candidates[0])))])
