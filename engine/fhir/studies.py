"""ImagingStudy and DiagnosticReport: one entry of the case's study list per study.

Studies are registered first (in entry order) so that Observations can name the study they come
from (derivedFrom, or a report's result). Which case list holds the studies and which of its
fields take a study's id, modality and date is the map's `studies` section.
"""
from __future__ import annotations

from typing import Any

from engine.fhir.common import DATE, codings
from engine.fhir.reader import Reader

_KINDS = ("ImagingStudy", "DiagnosticReport")


def register_studies(r: Reader) -> None:
    """Register imaging studies (ImagingStudy, DiagnosticReport) in entry order."""
    for i, resource in r.entries:
        kind = resource.get("resourceType")
        if kind not in _KINDS:
            continue
        if kind == "DiagnosticReport" and _report_of_one_study(r, i, resource):
            continue
        key = r.label(i)
        fields = r.m.studies
        study: dict[str, Any] = {fields.get("id", "id"): resource.get("id") or key}
        modality = _modality(r, resource)
        if modality and "modality" in fields:
            study[fields["modality"]] = modality
        when = resource.get("started") or resource.get("effectiveDateTime") or \
            (resource.get("effectivePeriod") or {}).get("start")
        if isinstance(when, str) and DATE.match(when) and "date" in fields:
            study[fields["date"]] = when[:10]
        study["_entry"] = i
        r.studies[key] = study
        r.used.add(i)
        for ref in resource.get("result") or []:
            j = r.resolve(ref)
            if j is not None:
                r.study_of_obs.setdefault(j, key)


def _report_of_one_study(r: Reader, i: int, resource: dict[str, Any]) -> bool:
    """A report on exactly one ImagingStudy: its results belong to that study."""
    linked = [r.resolve(ref) for ref in resource.get("imagingStudy") or []]
    linked = [j for j in linked if j is not None]
    if len(linked) != 1:
        return False
    r.report_study[i] = r.label(linked[0])
    for ref in resource.get("result") or []:
        j = r.resolve(ref)
        if j is not None:
            r.study_of_obs.setdefault(j, r.report_study[i])
    r.used.add(i)
    return True


def _modality(r: Reader, resource: dict[str, Any]) -> Any:
    modality_system = r.m.system("modality")
    modality = None
    for concept in [resource.get("code")] + list(resource.get("procedureCode") or []):
        for coding in codings(concept):
            if coding.get("system") == modality_system:
                modality = coding.get("code")
    if modality is None:
        found = list(resource.get("modality") or [])
        found += [s.get("modality") for s in resource.get("series") or [] if s.get("modality")]
        for coding in found:
            modality = r.m.value_word(r.m.studies.get("modality_codes", ""), coding.get("system"),
                                      coding.get("code"))
            if modality:
                break
    return modality


def finish_studies(r: Reader) -> None:
    """Studies with findings become the entries of the study list, in registration order; the
    origins recorded under a study's key move to its index."""
    name = r.m.study_list
    if not name:
        return
    item = r.schema.root.field(name)
    order = [f.name for f in item.type.items.fields] if item and item.type.items else []
    studies = []
    remap: dict[str, int] = {}
    found = r.case.get(name) if isinstance(r.case.get(name), dict) else {}
    for key, study in r.studies.items():
        body = found.get(key)
        if not body:
            if "_entry" in study:
                r.warn(study["_entry"], (), "no Observation reports findings from this study; not used")
            continue
        entry = {k: v for k, v in study.items() if not k.startswith("_")}
        for part in order:
            if part in body:
                entry[part] = body[part]
        remap[key] = len(studies)
        studies.append(entry)
    r.case.pop(name, None)
    if studies:
        r.case[name] = studies
    for path in [p for p in r.origins if p and p[0] == name]:
        origin = r.origins.pop(path)
        if path[1] in remap:
            r.origins[(name, remap[path[1]]) + tuple(path[2:])] = origin
