"""Patient: the case fields the map's `patient` section names for its gender and its birthDate
(given as the age in whole years on the day of Claim.created)."""
from __future__ import annotations

from typing import Any

from engine.fhir.common import full_date
from engine.fhir.reader import Reader


def read_patient(r: Reader, i: int, resource: dict[str, Any]) -> None:
    fields = r.m.patient
    gender = resource.get("gender")
    if "gender" in fields and gender in r.allowed(fields["gender"]):
        r.put(tuple(fields["gender"].split(".")), gender, r.origin(i, ("gender",)))
    birth = resource.get("birthDate")
    if birth and "birthDate" in fields:
        born = full_date(birth)
        if born is None or r.created is None:
            r.warn(i, ("birthDate",), "a full birthDate and Claim.created are needed to give the age; "
                   "the age is not documented")
        else:
            now = r.created
            age = now.year - born.year - ((now.month, now.day) < (born.month, born.day))
            r.put(tuple(fields["birthDate"].split(".")), age, r.origin(i, ("birthDate",)))
