"""Procedure: what it means comes from the map's `procedures` kinds.

A kind with `entry` adds an entry to a case list (a prior operation, a diagnostic injection), its
fields read from the Procedure; a not-done Procedure records the list as empty. A kind with
`course: true` is a course of care, counted at the end by the map's `courses` rules (weeks
added up or spanned, the latest outcome, the names). Relief of an injection comes from its
Observations (observation.py) and, failing a stated relief, from pain scores before and after.
"""
from __future__ import annotations

import datetime
import re
from typing import Any

from engine.fhir.common import codings, full_date, get_path, performed_date, plain, show, tenths, text_of
from engine.fhir.mapping import ProcedureKind, Rule
from engine.fhir.place import place
from engine.fhir.reader import Reader

_DONE = {"completed", "in-progress", "stopped"}


def read_procedure(r: Reader, i: int, resource: dict[str, Any]) -> None:
    status = resource.get("status")
    if status == "entered-in-error" or (status not in _DONE and status != "not-done"):
        r.warn(i, ("status",), f"is {status!r}; only completed, in-progress, stopped and not-done "
               "procedures are read, so it is not used")
        return
    if not r.subject_ok(i, resource):
        return
    name = r.rule_for(r.m.procedures, resource.get("code"))
    kind = r.m.procedure_kinds.get(name) if isinstance(name, str) else None
    if kind is None:
        r.warn(i, ("code",), f"procedure {show(resource.get('code'))} is not in fhir-map.yaml; "
               "not used")
        return
    if kind.course:
        _course(r, i, resource, status)
    elif kind.entry:
        _entry(r, i, resource, kind, done=status != "not-done")


def _entry(r: Reader, i: int, resource: dict[str, Any], kind: ProcedureKind, *, done: bool) -> None:
    rule = Rule(str(kind.entry), "entry")
    if not done:
        place(r, rule, False, i, ("status",), r.origin(i, ("status",)), resource)
        return
    names = [src["extension"] for _, src in kind.fields if isinstance(src, dict) and src.get("extension")]
    ext = r.extensions(resource, i, (), names) if names else {}
    entry: dict[str, Any] = {}
    for field, source in kind.fields:
        value = _entry_value(r, i, resource, source, ext)
        if value is not None:
            entry[field] = value
    placed = place(r, rule, entry, i, ("code",), r.origin(i, ("code",)), resource)
    if kind.relief and placed:
        r.injections[i] = (kind, placed)


def _entry_value(r: Reader, i: int, resource: dict[str, Any], source: Any, ext: dict[str, Any]) -> Any:
    """One entry field from the Procedure: `body_site_levels`, `performed_year`, or
    {extension: NAME, focal_device: true, codes: [...]} (a boolean)."""
    if source == "body_site_levels":
        found = []
        for s, concept in enumerate(resource.get("bodySite") or []):
            level = r.level_of(concept, i, ("bodySite", s))
            if level:
                found.append(level)
        return found or None
    if source == "performed_year":
        when = performed_date(resource)
        return int(when[:4]) if isinstance(when, str) and re.match(r"^\d{4}", when) else None
    if isinstance(source, dict):
        name = source.get("extension")
        if name in ext and isinstance(ext[name][0].get("valueBoolean"), bool):
            return ext[name][0]["valueBoolean"]
        if source.get("focal_device") and resource.get("focalDevice"):
            return True
        codes = {r.m.code(c) for c in source.get("codes") or []}
        if any((c.get("system"), c.get("code")) in codes for c in codings(resource.get("code"))):
            return True
    return None


def _course(r: Reader, i: int, resource: dict[str, Any], status: str) -> None:
    done = status != "not-done"
    period = resource.get("performedPeriod") or {}
    start = full_date(period.get("start") or resource.get("performedDateTime"))
    end = full_date(period.get("end")) or (r.created if status == "in-progress" and start else None)
    if done and (start is None or end is None):
        r.warn(i, ("performedPeriod",), "a course of care needs performedPeriod with full start "
               "and end dates (an in-progress course may omit the end) to count its weeks; "
               "its weeks are not counted")
    rule = next((c for c in r.m.courses if c.get("outcome")), None)
    outcome = None
    if rule and resource.get("outcome"):
        outcome = r.coded(str(rule.get("values")), resource.get("outcome"))
        if outcome is None:
            r.warn(i, ("outcome",), f"outcome {show(resource.get('outcome'))} is not in "
                   "fhir-map.yaml; not used")
    if rule and status == "in-progress":
        outcome = rule.get("in_progress")
    name = r.rule_for(r.m.procedures, resource.get("code"))
    r.courses.append({"kind": name, "done": done, "start": start, "end": end, "outcome": outcome,
                      "text": text_of(resource.get("code")), "i": i})


def finish_courses(r: Reader) -> None:
    """Each `courses` rule gives its field from the courses of care, unless it is already given."""
    if not r.courses:
        return
    for rule in r.m.courses:
        path = tuple(str(rule.get("field", "")).split("."))
        if get_path(r.case, path) is not None:
            continue
        if rule.get("weeks") == "sum":
            _sum_weeks(r, path, [c for c in r.courses if c["kind"] in (rule.get("of") or [c["kind"]])])
        elif rule.get("weeks") == "span":
            _span_weeks(r, path)
        elif rule.get("outcome"):
            with_outcome = [c for c in r.courses if c["outcome"]]
            if with_outcome:
                latest = max(with_outcome, key=lambda c: (c["end"] or datetime.date.max, c["i"]))
                r.put(path, latest["outcome"], r.origin(latest["i"], ("outcome",)))
        elif rule.get("names"):
            texts = list(dict.fromkeys(c["text"] for c in r.courses if c["done"] and c["text"]))
            if texts:
                r.put(path, texts, r.origin(r.courses[0]["i"], ("code",)))


def _sum_weeks(r: Reader, path: tuple, courses: list[dict[str, Any]]) -> None:
    days, counted = 0, False
    for course in courses:
        if not course["done"]:
            counted = True
        elif course["start"] and course["end"]:
            days += max(0, (course["end"] - course["start"]).days)
            counted = True
    if counted:
        r.put(path, tenths(days / 7), r.origin(courses[0]["i"], ("performedPeriod",)))


def _span_weeks(r: Reader, path: tuple) -> None:
    done = [c for c in r.courses if c["done"] and c["start"] and c["end"]]
    if done:
        first = min(c["start"] for c in done)
        last = max(c["end"] for c in done)
        r.put(path, tenths((last - first).days / 7), r.origin(done[0]["i"], ("performedPeriod",)))


def finish_injections(r: Reader) -> None:
    """Relief from pain scores (the first before, the last after) where none was stated."""
    for target, scores in r.pain_scores.items():
        if target in r.relief_set:
            continue
        label = r.label(target)
        if len(scores) < 2:
            r.warn(scores[0][2], (), f"one pain score cannot give the relief of {label}; send a "
                   "score before and one after the injection, or its relief in %")
            continue
        scores.sort()
        before, after = scores[0][1], scores[-1][1]
        if before <= 0:
            r.warn(scores[0][2], (), f"the pain score before {label} is 0, so no relief can be "
                   "computed; not used")
            continue
        relief = max(0.0, (before - after) / before * 100)
        kind, entries = r.injections[target]
        for entry in entries:
            entry[kind.relief] = plain(round(relief, 1))
