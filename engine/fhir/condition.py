"""Condition (and Claim.diagnosis codes): presence of a finding, an entry of a list, or text.

Value kinds of the map's `conditions`: `presence` (true, or false when the condition is refuted),
`{constant: WORD}` (appended to a list), `{entry: {...}, level: FIELD}` (a mapping appended to a
list, FIELD taking the level of bodySite), and `text` (the condition's own words).
"""
from __future__ import annotations

from typing import Any

from engine.fhir.common import codings, show, text_of
from engine.fhir.mapping import Rule
from engine.fhir.place import place
from engine.fhir.reader import Reader

_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CLIN_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def read_condition(r: Reader, i: int, resource: dict[str, Any]) -> None:
    if not r.subject_ok(i, resource):
        return
    verification = {c.get("code") for c in codings(resource.get("verificationStatus"))
                    if c.get("system") in (_VER_STATUS, None)}
    clinical = {c.get("code") for c in codings(resource.get("clinicalStatus"))
                if c.get("system") in (_CLIN_STATUS, None)}
    if "entered-in-error" in verification:
        r.warn(i, ("verificationStatus",), "is entered-in-error; not used")
        return
    if clinical & {"inactive", "resolved", "remission"}:
        r.warn(i, ("clinicalStatus",), f"is {sorted(clinical)[0]}; Warrant reads active "
               "conditions only, so it is not used")
        return
    rule = r.rule_for(r.m.conditions, resource.get("code"))
    if not isinstance(rule, Rule):
        for concept in resource.get("category") or []:
            for coding in codings(concept):
                found = r.m.condition_categories.get((coding.get("system"), coding.get("code")))
                if found:
                    rule = found
    if not isinstance(rule, Rule):
        r.warn(i, ("code",), f"condition {show(resource.get('code'))} is not in fhir-map.yaml; "
               "not used")
        return
    apply_condition(r, i, rule, resource, ("code",), r.origin(i, ("code",)),
                    refuted="refuted" in verification)


def apply_condition(r: Reader, i: int, rule: Rule, resource: dict[str, Any], element: tuple,
                    origin: Any, *, refuted: bool) -> None:
    kind = rule.value
    if kind == "presence":
        place(r, rule, not refuted, i, element, origin, resource)
    elif isinstance(kind, dict) and ("constant" in kind or "entry" in kind):
        if refuted:
            r.warn(i, element, f"is refuted; a refuted entry does not say that {rule.field} is "
                   "empty, so it is not used")
            return
        place(r, rule, _entry(r, i, kind, resource), i, element, origin, resource)
    elif kind == "text":
        if refuted:
            return
        place(r, rule, text_of(resource.get("code")) or "unnamed condition", i, element, origin, resource)


def _entry(r: Reader, i: int, kind: dict[str, Any], resource: dict[str, Any]) -> Any:
    if "constant" in kind:
        return kind["constant"]
    value = dict(kind["entry"])
    if kind.get("level"):
        sites = resource.get("bodySite") or []
        for s, concept in enumerate(sites if isinstance(sites, list) else [sites]):
            level = r.level_of(concept, i, ("bodySite", s))
            if level:
                value[kind["level"]] = level
                break
    return value


def read_diagnoses(r: Reader, i: int, claim: dict[str, Any]) -> None:
    """Claim.diagnosis codes read like Conditions (those that need a level or side cannot be)."""
    for k, diagnosis in enumerate(claim.get("diagnosis") or []):
        concept = diagnosis.get("diagnosisCodeableConcept")
        if concept is None:
            continue  # a diagnosisReference: the Condition is read as a resource of its own
        rule = r.rule_for(r.m.conditions, concept)
        element = ("diagnosis", k, "diagnosisCodeableConcept")
        if isinstance(rule, Rule) and "{" in rule.field:
            r.warn(i, element, f"diagnosis {show(concept)} needs a level or side; send it as a "
                   "Condition with bodySite; not used")
            continue
        if not isinstance(rule, Rule):
            r.warn(i, element, f"diagnosis {show(concept)} is not in fhir-map.yaml; not used")
            continue
        apply_condition(r, i, rule, {"code": concept}, element, r.origin(i, element), refuted=False)
