"""Observation: a finding read through the map's `observations` rules (or, for an Observation
that is part of an injection Procedure, its relief or a pain score).

A value is read by its kind: `flag`, `none_list`, `integer`, a unit kind (valueQuantity in one of
the map's UCUM units, converted), or the name of a coded table (valueCodeableConcept, valueString
or valueBoolean); a coded word must be a value of the target field's enumeration.
"""
from __future__ import annotations

from typing import Any

from engine.fhir.common import codings, plain, show
from engine.fhir.mapping import NOT_DOCUMENTED, Rule
from engine.fhir.place import place
from engine.fhir.reader import Reader

_USED = {"final", "amended", "corrected", "preliminary"}


def read_observation(r: Reader, i: int, resource: dict[str, Any]) -> None:
    status = resource.get("status")
    if status not in _USED:
        r.warn(i, ("status",), f"is {status!r}; only final, amended, corrected and preliminary "
               "observations are read, so it is not used")
        return
    if not r.subject_ok(i, resource):
        return
    code = resource.get("code")
    role = next((r.m.injection_observations[(c.get("system"), c.get("code"))] for c in codings(code)
                 if (c.get("system"), c.get("code")) in r.m.injection_observations), None)
    if role:
        _injection_observation(r, i, resource, str(role))
        return
    study = _study(r, i, resource)
    holders: list[tuple[dict[str, Any], tuple]] = []
    has_value = any(k.startswith("value") for k in resource) or resource.get("dataAbsentReason")
    if isinstance(r.rule_for(r.m.observations, code), Rule) or has_value or not resource.get("component"):
        holders.append((resource, ()))
    for c, component in enumerate(resource.get("component") or []):
        holders.append((component, ("component", c)))
    for holder, element in holders:
        concept = holder.get("code")
        found = r.rule_for(r.m.observations, concept)
        if not isinstance(found, Rule):
            what = "observation" if not element else "component"
            r.warn(i, element + ("code",), f"{what} {show(concept)} is not in fhir-map.yaml; not used")
            continue
        value = read_value(r, holder, found, i, element)
        if value is None:
            continue
        key = next((k for k in holder if k.startswith("value")), "value[x]")
        place(r, found, value, i, element, r.origin(i, element + (key,)), resource, study=study)


def _study(r: Reader, i: int, resource: dict[str, Any]) -> str | None:
    """The imaging study an Observation reports from (derivedFrom, a report, or a result link)."""
    for ref in resource.get("derivedFrom") or []:
        j = r.resolve(ref)
        if j is not None and r.label(j) in r.studies:
            return r.label(j)
        if j is not None and j in r.report_study:
            return r.report_study[j]
    return r.study_of_obs.get(i)


def read_value(r: Reader, holder: dict[str, Any], rule: Rule, i: int, element: tuple) -> Any:
    """The case value an Observation (or component) gives for a rule; errors are reported."""
    kind = rule.value
    present = [k for k in holder if k.startswith("value") and k != "value"]
    if not present:
        return _no_value(r, holder, rule, i, element)
    key = present[0]
    raw = holder[key]
    here = element + (key,)
    if kind in ("flag", "none_list"):
        return _flag(r, key, raw, rule, i, here)
    if kind == "integer":
        value = raw.get("value") if key == "valueQuantity" and isinstance(raw, dict) else raw
        if key in ("valueInteger", "valueQuantity") and isinstance(value, (int, float)) \
                and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        r.error(i, here, f"{rule.field} needs valueInteger (a whole number)")
        return None
    if kind in r.m.units:
        return _quantity(r, key, raw, rule, i, here)
    if kind in r.m.values or kind in r.m.booleans:
        return _word(r, key, raw, rule, i, here)
    r.error(i, here, f"fhir-map.yaml gives {rule.field} the unknown value kind {kind!r}")
    return None


def _no_value(r: Reader, holder: dict[str, Any], rule: Rule, i: int, element: tuple) -> Any:
    if holder.get("dataAbsentReason") is not None:
        return None
    for concept in holder.get("interpretation") or []:  # a coded reading may come as interpretation
        word = r.coded(str(rule.value), concept)
        if isinstance(word, str) and word in r.allowed(rule.field):
            return word
    r.error(i, element + ("value[x]",), f"is missing; {rule.field} needs a value "
            "(or dataAbsentReason when it is not known)")
    return None


def _flag(r: Reader, key: str, raw: Any, rule: Rule, i: int, here: tuple) -> Any:
    if key == "valueBoolean":
        return raw
    if key == "valueCodeableConcept":
        word = r.coded("flag", raw)
        if isinstance(word, bool):
            return word
        if word in ("true", "false"):
            return word == "true"
    r.error(i, here, f"{rule.field} needs valueBoolean (true or false)")
    return None


def _word(r: Reader, key: str, raw: Any, rule: Rule, i: int, here: tuple) -> Any:
    """A coded answer: through the kind's table (or the value system), a string, or a boolean."""
    kind = str(rule.value)
    allowed = r.allowed(rule.field)
    word = None
    if key == "valueCodeableConcept":
        word = r.coded(kind, raw)
        if word is NOT_DOCUMENTED:
            return None
    elif key == "valueString":
        word = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
    elif key == "valueBoolean":
        if rule.appends:
            return raw  # false records the list as empty; true names nothing (place warns)
        word = r.m.booleans.get(kind, {}).get(raw)
    if isinstance(word, str) and word in allowed:
        return word
    shown = show(raw) if isinstance(raw, dict) else repr(raw)
    none = " (or valueBoolean false for none)" if rule.appends else ""
    r.error(i, here, f"{shown} is not a value Warrant reads for {rule.field} "
            f"({', '.join(allowed)}; see fhir-map.yaml){none}")
    return None


def _quantity(r: Reader, key: str, raw: Any, rule: Rule, i: int, here: tuple) -> Any:
    kind = str(rule.value)
    if key != "valueQuantity" or not isinstance(raw, dict):
        r.error(i, here, f"{rule.field} needs valueQuantity with a UCUM unit "
                f"({', '.join(r.m.units[kind])})")
        return None
    value, unit = raw.get("value"), raw.get("code") or raw.get("unit")
    factor = r.m.units[kind].get(unit)
    if factor is None:
        r.error(i, here + ("code",), f"unit {unit!r} cannot be read for {rule.field}; use one of "
                f"{', '.join(r.m.units[kind])} (UCUM)")
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        r.error(i, here + ("value",), "needs a number")
        return None
    return plain(value * factor)


def _injection_observation(r: Reader, i: int, resource: dict[str, Any], role: str) -> None:
    target = None
    for ref in resource.get("partOf") or []:
        j = r.resolve(ref)
        if j is not None and j in r.injections:
            target = j
            break
    if target is None:
        r.warn(i, ("partOf",), f"a {role.replace('_', ' ')} counts only as part of a diagnostic "
               "injection (Observation.partOf a Procedure in the bundle); not used")
        return
    kind, entries = r.injections[target]
    if role == "relief":
        _relief(r, i, resource, kind, entries, target)
        return
    score = resource.get("valueQuantity", {}).get("value") if isinstance(resource.get("valueQuantity"), dict) \
        else resource.get("valueInteger")
    when = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not when:
        r.warn(i, (), "a pain score needs a number (valueQuantity or valueInteger) and "
               "effectiveDateTime to count toward the relief of an injection; not used")
        return
    r.pain_scores.setdefault(target, []).append((str(when), float(score), i))


def _relief(r: Reader, i: int, resource: dict[str, Any], kind: Any, entries: list, target: int) -> None:
    from engine.fhir.targets import target as field_type

    field = f"{kind.entry}.{kind.relief}"
    node = field_type(r.schema, field)
    unit = node.unit if node is not None and node.unit in r.m.units else "percent"
    value = read_value(r, resource, Rule(field, unit), i, ())
    if value is None:
        return
    if node is not None and node.maximum is not None and value > node.maximum:
        r.error(i, ("valueQuantity", "value"), f"relief cannot exceed {node.maximum}%")
        return
    for entry in entries:
        entry[kind.relief] = value
    r.relief_set.add(target)
