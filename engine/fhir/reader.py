"""The state of one bundle import: references, case values with their origins, and messages.

Each resource reader (claim, patient, studies, observation, condition, procedure) works through
a `Reader`: it resolves references, puts values at case paths (a second, different value for the
same field is a contradiction), records where every value came from, and words errors and
warnings as `ResourceType/id: element: message` at the element's position in the bundle file.
"""
from __future__ import annotations

import datetime
import json
from typing import Any, Iterable, Mapping

from engine.cases.positions import Path, Source, format_path
from engine.errors import Finding, Location
from engine.fhir.common import Origin, codings, get_path, set_path, words
from engine.fhir.mapping import FhirMap, Rule
from engine.fhir.targets import target, words_of

UNLINKED = "unlinked-findings"  # the study that holds imaging findings tied to no study


class Reader:
    def __init__(self, data: dict[str, Any], name: str, text: str | None, fmap: FhirMap,
                 schema: Any, code_units: Mapping[str, str] | None) -> None:
        self.data = data
        self.name = name
        self.source = Source(name, text if text is not None else json.dumps(data), data)
        self.m = fmap
        self.schema = schema
        self.levels = schema.levels
        self.code_units = code_units or {}
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.case: dict[str, Any] = {}
        self.origins: dict[Path, Origin] = {}
        self.entries: list[tuple[int, dict[str, Any]]] = []
        self.refs: dict[str, int] = {}
        self.used: set[int] = set()
        self.studies: dict[str, dict[str, Any]] = {}
        self.study_of_obs: dict[int, str] = {}
        self.report_study: dict[int, str] = {}
        self.empty: dict[Path, Origin] = {}
        self.appended: dict[Path, Origin] = {}
        self.injections: dict[int, tuple[Any, list[dict[str, Any]]]] = {}  # procedure -> (kind, entries)
        self.pain_scores: dict[int, list[tuple[str, float, int]]] = {}
        self.relief_set: set[int] = set()
        self.courses: list[dict[str, Any]] = []
        self.patient_ref: int | None = None
        self.created: datetime.date | None = None
        self.claim_index: int | None = None

    # ---- messages and places
    def label(self, i: int) -> str:
        resource = self.resource(i)
        kind = resource.get("resourceType", "resource")
        rid = resource.get("id")
        return f"{kind}/{rid}" if rid else f"{kind} at entry[{i}]"

    def resource(self, i: int) -> dict[str, Any]:
        entry = (self.data.get("entry") or [])[i]
        return entry.get("resource") or {}

    def where(self, i: int | None, element: Path = ()) -> Location:
        path = ("entry", i, "resource") + tuple(element) if i is not None else tuple(element)
        return self.source.locate(path)

    def origin(self, i: int, element: Path = ()) -> Origin:
        return Origin(self.label(i), tuple(element), self.where(i, element))

    def _message(self, i: int | None, element: Path, message: str) -> str:
        head = self.label(i) if i is not None else "Bundle"
        where = format_path(element)
        return f"{head}: {where}: {message}" if where else f"{head}: {message}"

    def error(self, i: int | None, element: Path, message: str) -> None:
        self.errors.append(Finding("invalid_bundle", self._message(i, element, message),
                                   self.where(i, element)))

    def warn(self, i: int | None, element: Path, message: str) -> None:
        self.warnings.append(Finding("fhir_unmapped", self._message(i, element, message),
                                     self.where(i, element), "warning"))

    # ---- references
    def index(self) -> None:
        for i, entry in enumerate(self.data.get("entry") or []):
            resource = entry.get("resource")
            self.entries.append((i, resource))
            kind, rid = resource.get("resourceType"), resource.get("id")
            if entry.get("fullUrl"):
                self.refs.setdefault(str(entry["fullUrl"]), i)
            if rid:
                self.refs.setdefault(f"{kind}/{rid}", i)

    def resolve(self, ref: Any) -> int | None:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        text = ref["reference"]
        if text in self.refs:
            return self.refs[text]
        parts = text.rstrip("/").split("/")
        if len(parts) >= 2:
            tail = "/".join(parts[-2:])
            if "_history" in parts and len(parts) >= 4:
                tail = "/".join(parts[-4:-2])
            return self.refs.get(tail)
        return None

    # ---- setting case values
    def put(self, path: Path, value: Any, origin: Origin) -> None:
        old = get_path(self.case, path)
        if old is not None:
            if old != value:
                first = self.origins.get(path)
                self.errors.append(Finding(
                    "invalid_bundle", f"{origin.describe()}: gives {self.field_name(path)} = "
                    f"{json.dumps(value)}, but {first.describe() if first else 'another resource'} "
                    f"already gives {json.dumps(old)}; the record contradicts itself", origin.location))
            return
        set_path(self.case, path, value)
        self.origins[path] = origin

    def append(self, path: Path, value: Any, origin: Origin) -> None:
        node = get_path(self.case, path)
        if node is None:
            node = []
            set_path(self.case, path, node)
        node.append(value)
        self.origins[path + (len(node) - 1,)] = origin
        self.appended.setdefault(path, origin)

    def none_list(self, path: Path, origin: Origin) -> None:
        self.empty.setdefault(path, origin)

    def field_name(self, path: Path) -> str:
        """A case path as messages show it; an imaging study (keyed by resource here) is `[]`."""
        if path and path[0] == self.m.study_list:
            return format_path((f"{path[0]}[]",) + tuple(path[2:]))
        return format_path(path)

    def allowed(self, field: str) -> tuple[str, ...]:
        """The words a map target accepts (its enumeration in the case schema)."""
        return words_of(target(self.schema, field))

    # ---- coded values
    def level_of(self, concept: Any, i: int, element: Path) -> str | None:
        """A normalised level from a bodySite (Warrant's level system, or its text); None if none."""
        level_system = self.m.system("level")
        for k, coding in enumerate(codings(concept)):
            if coding.get("system") == level_system:
                try:
                    return self.levels.normalise(coding.get("code"))
                except ValueError as exc:
                    self.error(i, element + ("coding", k, "code"), str(exc))
                    return None
        text = concept.get("text") if isinstance(concept, dict) else None
        if text:
            try:
                return self.levels.normalise(text)
            except ValueError:
                pass
        return None

    def side_of(self, concepts: Iterable[Any]) -> str | None:
        expanding = list(self.schema.side_expansion)
        sides = expanding + [s for s in dict.fromkeys(self.m.laterality.values()) if s not in expanding]
        for concept in concepts:
            for coding in codings(concept):
                side = self.m.laterality.get((coding.get("system"), coding.get("code")))
                if side:
                    return side
            text = concept.get("text") if isinstance(concept, dict) else None
            if text:
                found = words(text)
                for side in sides:
                    if side in found:
                        return side
        return None

    def sides(self, side: str) -> tuple[str, ...]:
        """The sides a side value stands for (bilateral: both)."""
        return self.schema.side_expansion.get(side, (side,))

    def coded(self, kind: str, concept: Any) -> Any:
        for coding in codings(concept):
            word = self.m.value_word(kind, coding.get("system"), coding.get("code"))
            if word is not None:
                return word
        return None

    def rule_for(self, table, concept: Any) -> Rule | str | None:
        for coding in codings(concept):
            found = table.get(coding.get("system"), coding.get("code"))
            if found is not None:
                return found
        return None

    def extensions(self, holder: dict[str, Any], i: int, element: Path,
                   known: Iterable[str]) -> dict[str, tuple[dict[str, Any], Path]]:
        """The holder's extensions by name; unknown, non-administrative ones are warned about."""
        known_urls = {self.m.extensions[k]: k for k in known if k in self.m.extensions}
        out: dict[str, tuple[dict[str, Any], Path]] = {}
        for k, ext in enumerate(holder.get("extension") or []):
            url = ext.get("url", "")
            here = element + ("extension", k)
            if url in known_urls:
                out[known_urls[url]] = (ext, here)
            elif not self.m.ignored_extension(url):
                self.warn(i, here, f"extension {url} has no place in warrant-case/1; not used")
        return out

    def subject_ok(self, i: int, resource: dict[str, Any]) -> bool:
        """Whether a resource is about the Claim's patient (a warning says when it is not)."""
        subject = resource.get("subject") or resource.get("patient")
        if subject is None or self.patient_ref is None:
            return True
        j = self.resolve(subject)
        if j is not None and j != self.patient_ref:
            self.warn(i, ("subject",), f"is about {self.label(j)}, not the Claim's patient "
                      f"{self.label(self.patient_ref)}; not used")
            return False
        return True
