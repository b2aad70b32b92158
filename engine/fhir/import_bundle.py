"""A Da Vinci PAS-style prior-authorization Bundle (FHIR R4) → a case dict of the kb's format.

`import_bundle(data, name, text, kb=kb)` returns an `Imported` record: the case as plain data,
the warnings (everything that could not be mapped, each naming its resource), the Claim, the
map from requested procedures back to Claim item sequences (for the response) and the
provenance of every case field (which resource and element supplied it). Problems that make the
bundle unusable raise one `CaseError` listing them all, each as
`file:line:col: ResourceType/id: element: message`.

Which code feeds which field, and what each resource means, is data (kb/fhir-map.yaml, read by
`mapping.py` and checked against the kb's case schema by `targets.py`); the resource readers
(claim, patient, studies, observation, condition, procedure) know the shapes of the resources.
docs/fhir.md documents the mapping as a table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.cases.positions import format_path
from engine.errors import CaseError, Finding, Location, RuleError
from engine.fhir.claim import ClaimReader
from engine.fhir.common import Origin, full_date
from engine.fhir.condition import read_condition
from engine.fhir.studies import finish_studies, register_studies
from engine.fhir.mapping import FhirMap, load_map
from engine.fhir.observation import read_observation
from engine.fhir.patient import read_patient
from engine.fhir.place import finish_lists
from engine.fhir.procedure import finish_courses, finish_injections, read_procedure
from engine.fhir.reader import Reader

__all__ = ["Imported", "Origin", "case_yaml", "import_bundle", "validate_case"]

_HANDLERS = (("Procedure", read_procedure), ("Condition", read_condition),
             ("Observation", read_observation))


@dataclass
class Imported:
    """The result of importing one bundle."""

    name: str
    case: dict[str, Any]
    warnings: list[Finding]
    bundle: dict[str, Any]
    claim: dict[str, Any]
    claim_label: str
    created: str
    items: dict[tuple[int, int], int]
    item_codes: dict[int, str]
    provenance: dict[str, Origin] = field(default_factory=dict)

    @property
    def case_text(self) -> str:
        return json.dumps(self.case, indent=1, ensure_ascii=False)

    def origin_of(self, case_path: str) -> Origin | None:
        """The origin of the longest recorded prefix of a case field path."""
        best: tuple[int, Origin | None] = (-1, None)
        for key, origin in self.provenance.items():
            if (case_path == key or case_path.startswith(key + ".")
                    or case_path.startswith(key + "[")) and len(key) > best[0]:
                best = (len(key), origin)
        return best[1]


def import_bundle(data: dict[str, Any], name: str = "<bundle>", text: str | None = None, *,
                  kb: Any, fhir_map: FhirMap | None = None) -> Imported:
    """Map a FHIR R4 Bundle (parsed JSON) to a case of `kb`'s format; see the module docstring."""
    from engine.fhir import require_models
    from engine.fhir.models import validate_bundle

    require_models(name)
    fmap = fhir_map or checked_map(kb)
    r = Reader(data, name, text, fmap, kb.case_schema, kb.code_units)
    problems: list[Finding] = []
    validate_bundle(data, lambda i: _label(data, i), lambda path, message: problems.append(
        Finding("invalid_bundle", message, r.source.locate(tuple(path)))))
    if problems:
        _raise(name, problems)
    r.index()
    ci, claim = _the_claim(r, data, fmap)
    created_text = claim.get("created") or data.get("timestamp")
    r.created = full_date(created_text)
    if r.created is None:
        r.error(ci, ("created",), "needs a full date: Warrant dates ages, ongoing care and its "
                "answer from the Claim's creation")
    received = fmap.claim.get("created")
    if received and r.created is not None and claim.get("created"):  # the day the request was made
        r.case[str(received)] = r.created.isoformat()
        r.origins[(str(received),)] = r.origin(ci, ("created",))
    _patient(r, ci, claim)
    claim_reader = ClaimReader(r, ci, claim)
    requests = claim_reader.read()
    _resources(r)
    if r.errors:
        _raise(name, r.errors)
    identifier = next((x.get("value") for x in claim.get("identifier") or [] if x.get("value")), None)
    case_id = str(identifier or claim.get("id") or (data.get("identifier") or {}).get("value")
                  or "fhir-bundle")
    summary = f"Imported from FHIR bundle {data.get('id') or name} ({r.label(ci)})."
    case = _assemble(r, case_id, summary, requests)
    provenance = {format_path(path): origin for path, origin in r.origins.items()
                  if path and isinstance(path[0], str) and path[0] != "span"}
    return Imported(name, case, r.warnings, data, claim, r.label(ci), str(created_text or ""),
                    claim_reader.items, claim_reader.item_codes, provenance)


def checked_map(kb: Any) -> FhirMap:
    """The kb's FHIR map, its targets checked against the kb's case schema (RuleError, exit 4)."""
    from engine.fhir.targets import check_map

    fmap = load_map(kb.root)
    problems = check_map(fmap, kb.case_schema)
    if problems:
        raise RuleError(problems)
    return fmap


def _label(data: dict[str, Any], i: int) -> str:
    entry = (data.get("entry") or [])[i]
    res = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(res, dict):
        return f"entry[{i}]"
    kind, rid = res.get("resourceType", "resource"), res.get("id")
    return f"{kind}/{rid}" if rid else f"{kind} at entry[{i}]"


def _the_claim(r: Reader, data: dict[str, Any], fmap: FhirMap) -> tuple[int, dict[str, Any]]:
    """The one prior-authorization Claim of the bundle (other Claims are warned about)."""
    claims = [(i, res) for i, res in r.entries if res.get("resourceType") == "Claim"]
    if not claims:
        _raise(r.name, [Finding("invalid_bundle", "Bundle: entry: holds no Claim; a prior-authorization "
                                "bundle (Da Vinci PAS) holds a Claim with use preauthorization and the "
                                "resources it references", r.where(None, ("entry",)))])
    preauth = [c for c in claims if c[1].get("use") == fmap.claim.get("use", "preauthorization")]
    chosen = preauth or claims
    if len(chosen) > 1:
        _raise(r.name, [Finding("invalid_bundle", f"{r.label(i)}: the bundle holds {len(chosen)} "
                                "prior-authorization Claims; send one Claim per bundle", r.where(i))
                        for i, _ in chosen[1:]])
    ci, claim = chosen[0]
    r.claim_index = ci
    r.used.add(ci)
    for i, _ in claims:
        if i != ci:
            r.warn(i, ("use",), f"a Claim with use {r.resource(i).get('use')!r} beside the "
                   "prior-authorization Claim; not used")
            r.used.add(i)
    return ci, claim


def _patient(r: Reader, ci: int, claim: dict[str, Any]) -> None:
    j = r.resolve(claim.get("patient"))
    if j is not None and r.resource(j).get("resourceType") == "Patient":
        r.patient_ref = j
        r.used.add(j)
        read_patient(r, j, r.resource(j))
    else:
        r.warn(ci, ("patient",), "the Claim's patient is not in the bundle; age and sex are not "
               "documented")


def _resources(r: Reader) -> None:
    """Every other resource, by kind; then what is computed across resources."""
    register_studies(r)
    for kind, handler in _HANDLERS:
        for i, resource in r.entries:
            if resource.get("resourceType") == kind:
                r.used.add(i)
                handler(r, i, resource)
    for i, resource in r.entries:
        kind = resource.get("resourceType")
        if i in r.used or kind in r.m.administrative:
            continue
        if kind == "Patient":
            r.warn(i, (), "a second Patient, not the Claim's; not used")
        else:
            r.warn(i, (), f"{kind} has no place in warrant-case/1; not used")
    finish_injections(r)
    finish_courses(r)
    finish_lists(r)
    finish_studies(r)


def _assemble(r: Reader, case_id: str, summary: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The case in the schema's field order: format, id, summary, the findings, the requests."""
    schema = r.schema
    given = {"format": schema.case_format, "case_id": case_id, "requests": requests}
    role = schema.role("summary")
    if role and len(role) == 1:
        given[role[0]] = summary
    case: dict[str, Any] = {}
    for item in schema.root.fields:
        if item.name in given:
            case[item.name] = given[item.name]
        elif item.name in r.case:
            case[item.name] = r.case[item.name]
    return case


def _raise(name: str, findings: list[Finding]) -> None:
    findings = sorted(findings, key=lambda f: (f.location.line, f.location.column) if f.location else (0, 0))
    count = len(findings)
    raise CaseError(f"{name}: invalid FHIR bundle ({count} problem{'s' * (count != 1)})", findings=findings)


def validate_case(imported: Imported, kb: Any, *, lines: bool = True):
    """Validate an imported case through `load_case` by `kb`'s case schema (and expand its lines
    unless `lines` is false); problems are reported against the FHIR resource and element that
    supplied the field."""
    from engine.cases import expand_lines, load_case

    try:
        case = load_case(f"{imported.name} (as {kb.case_schema.case_format})", kb, text=imported.case_text)
        expanded = expand_lines(case, kb.code_units) if lines else []
    except CaseError as exc:
        raise CaseError(f"{imported.name}: the bundle does not make a valid case",
                        findings=[_remap(imported, f) for f in exc.findings]) from None
    return case, expanded


def _remap(imported: Imported, finding: Finding) -> Finding:
    path, sep, rest = finding.message.partition(": ")
    origin = imported.origin_of(path) if sep else None
    if origin is None:
        return Finding(finding.code, f"converted case: {finding.message}", Location(imported.name))
    return Finding(finding.code, f"{origin.describe()}: {rest} (case field {path})", origin.location)


def case_yaml(case: dict[str, Any], *, source: str = "", case_format: str = "warrant-case/1") -> str:
    """The case as YAML text the case loader reads back unchanged (codes stay quoted strings)."""
    from engine.knowledge.yamlio import dump_yaml

    header = f"# {case_format} imported by `warrant import fhir`" + (f" from {source}" if source else "")
    return dump_yaml(case, header + "\n")
