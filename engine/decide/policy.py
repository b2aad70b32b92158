"""Which policy version decides each stage of a case (POLICIES.md §4), and what a decision
records about it.

The policy is `--policy` (ID or ID@VERSION), else the case's own policy field, else the table's
default. The date that picks the version is `--as-of`, else the stage's date of service, else
the case's received date, else today; `ID@VERSION` pins the version whatever the dates. Which
case fields carry the policy and the dates is the policy table's data (kb/policies.yaml).
Anything that cannot be chosen is a case error for the whole case (exit 3), anchored to the
field (or the case file) it comes from: never a silent fallback.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from engine.errors import CaseError, Finding, Location
from engine.knowledge.policies import PolicyChoiceError, PolicyTable, PolicyVersion, parse_date


@dataclass(frozen=True)
class PolicyChoice:
    """The policy version a stage is decided under, and why that one."""

    version: PolicyVersion
    as_of: dt.date
    as_of_from: str
    """Where the date came from: option, date_of_service, received or today (field names are the table's)."""
    pinned: bool = False

    @property
    def key(self) -> str:
        return self.version.key

    def record(self, digest: str) -> dict[str, Any]:
        """What a decision says about its policy, per stage (additive field `policy`)."""
        return {"id": self.version.id, "version": self.version.version,
                "effective_from": self.version.effective_from.isoformat(), "as_of": self.as_of.isoformat(),
                "as_of_from": self.as_of_from, "digest": digest}


def parse_as_of(text: str | None) -> dt.date | None:
    """`--as-of` as a date; a usage error (exit 2) when it is not YYYY-MM-DD."""
    if text is None:
        return None
    found = parse_date(text)
    if found is None:
        from engine.errors import UsageError

        raise UsageError(f"--as-of expects a date written YYYY-MM-DD, got {text!r}")
    return found


def choose_policies(table: PolicyTable, case: Any, document: dict[str, Any], source: str,
                    policy: str | None = None, as_of: dt.date | None = None,
                    today: dt.date | None = None) -> dict[int, PolicyChoice]:
    """The choice for every stage of the case, or one CaseError naming every problem."""
    findings: list[Finding] = []
    where = _locator(case, source)
    spec, spec_at = policy, None
    if spec is None and table.policy_field and document.get(table.policy_field) is not None:
        spec, spec_at = str(document[table.policy_field]), (table.policy_field,)
        if "@" in spec:
            findings.append(_finding(where(spec_at), f"{table.policy_field} names a policy id only; pin a version "
                                     "with --policy ID@VERSION"))
    spec = spec or table.default
    received = _date(document, table.case_date_field, (table.case_date_field,), where, findings)
    choices: dict[int, PolicyChoice] = {}
    pinned = None
    if "@" in spec and not findings:
        try:
            pinned = table.get(spec)
        except PolicyChoiceError as exc:
            findings.append(_finding(where(spec_at), str(exc)))
    for index, request in enumerate(document.get("requests") or []):
        stage = request.get("stage")
        path = ("requests", index, table.stage_date_field)
        served = _date(request, table.stage_date_field, path, where, findings)
        if as_of is not None:
            date, origin, at = as_of, "option", spec_at
        elif served is not None:
            date, origin, at = served, table.stage_date_field or "", path
        elif received is not None:
            date, origin, at = received, table.case_date_field or "", (table.case_date_field,)
        else:
            date, origin, at = today or dt.date.today(), "today", spec_at
        if pinned is not None:
            choices[stage] = PolicyChoice(pinned, date, origin, True)
            continue
        if "@" in spec:
            continue
        try:
            choices[stage] = PolicyChoice(table.choose(spec, date), date, origin)
        except PolicyChoiceError as exc:
            findings.append(_finding(where(at if "before" in str(exc) else spec_at), str(exc)))
    if findings:
        unique = list(dict.fromkeys(findings))
        raise CaseError(unique[0].message, findings=unique, code="policy")
    return choices


def _date(data: dict[str, Any], name: str | None, path: tuple, where, findings: list[Finding]) -> dt.date | None:
    if not name or data.get(name) is None:
        return None
    found = parse_date(data[name])
    if found is None:
        findings.append(_finding(where(path), f"{name} {data[name]} is not a full date (YYYY-MM-DD); the policy "
                                 "version is chosen by day"))
    return found


def _finding(loc: Location, message: str) -> Finding:
    return Finding("policy", f"policy: {message}", loc)


def _locator(case: Any, source: str):
    """Where a case path sits in its file (the whole file for a command-line option)."""
    located = getattr(case, "_source", None)

    def where(path: tuple | None) -> Location:
        if path is None or located is None:
            return Location(source, 1, 1)
        return located.locate(path)
    return where
