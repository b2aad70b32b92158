"""Rule tests: a case with the determinations a rule author expects from it.

A rule test is a YAML file:

    name: one line saying what is tested
    description: why the expectations follow from the policy
    case: {format: warrant-case/1, ...}            # a whole warrant-case/1 case
    expect:
      lines:
        "2:22633:L4-5": {verdict: ..., basis: ..., missing: [field, ...]}
      stages: {2: partially_medically_necessary}
      admissions: {2: {verdict: ..., basis: ..., supported_days: 3}}

Only what is listed is checked: a line, stage or admission left out may come out any way, and
`missing` lists fields that must be among the line's missing documentation (others may be
there too). A test whose file or case is invalid fails with the validation messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from engine.errors import CaseError, WarrantError

_TOP_KEYS = ("name", "description", "policy", "as_of", "case", "expect")
_EXPECT_KEYS = ("lines", "stages", "admissions")
_LINE_KEYS = ("verdict", "basis", "missing")
_ADMISSION_KEYS = ("verdict", "basis", "supported_days")


@dataclass
class Mismatch:
    """One expectation the actual determination does not meet."""

    kind: str                 # line, stage, admission
    key: str                  # line id or stage number
    expected: dict[str, Any]
    actual: dict[str, Any] | None
    rules: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "key": self.key, "expected": self.expected, "actual": self.actual,
               "rules": self.rules}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class RuleTestResult:
    path: str
    name: str
    mismatches: list[Mismatch] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked: int = 0
    policy: str = ""
    """The policy versions (ID@VERSION, comma-separated) the test's stages were decided under."""

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.errors

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "name": self.name, "passed": self.passed,
                               "checked": self.checked, "policy": self.policy}
        if self.errors:
            out["errors"] = self.errors
        if self.mismatches:
            out["mismatches"] = [m.to_dict() for m in self.mismatches]
        return out


def rule_test_files(paths: Iterable[str | Path]) -> list[Path]:
    """Rule test files: files as given, directories searched for *.yaml / *.yml (sorted)."""
    from engine.cases.paths import input_files

    return input_files(paths, (".yaml", ".yml"), "rule test file")


def run_rule_tests(kb, paths: Iterable[str | Path], coverage=None) -> list[RuleTestResult]:
    """Run every rule test against `kb`; `coverage` (engine.authoring.coverage.Coverage) collects tallies."""
    return [run_rule_test(kb, path, coverage) for path in paths]


def run_rule_test(kb, path: str | Path, coverage=None) -> RuleTestResult:
    from engine.cases import load_case
    from engine.cases.source import parse, read_text
    from engine.decide.outcomes import policy_determinations
    from engine.decide.session import CaseSession

    name = str(path)
    result = RuleTestResult(name, Path(name).stem)
    try:
        text = read_text(name, None)
        source = parse(name, text)
    except CaseError as exc:
        result.errors = exc.messages
        return result
    data = source.data if isinstance(source.data, dict) else {}
    result.name = str(data.get("name") or result.name)
    problems = _check_shape(source, data)
    try:
        case = load_case(name, kb, text=text, at=("case",))
        session = CaseSession.from_case(kb, case, name)
        session = session.with_policies(*_policy_keys(source, data, name))
        result.policy = ",".join(dict.fromkeys(c.key for c in session.policies.values()))
        actual = policy_determinations(session, missing=True)
    except WarrantError as exc:
        result.errors = problems + exc.messages
        return result
    if problems:
        result.errors = problems
        return result
    if coverage is not None:
        coverage.add(session)
    expect = data.get("expect") or {}
    result.mismatches, result.checked = compare(expect, actual)
    return result


def _policy_keys(source, data: dict[str, Any], name: str) -> tuple[str | None, Any]:
    """The test's `policy: ID|ID@VERSION` and `as_of: YYYY-MM-DD` (absent: the case decides,
    as `warrant decide` would without --policy and --as-of)."""
    from engine.errors import Finding
    from engine.knowledge.policies import parse_date

    policy = data.get("policy")
    as_of = data.get("as_of")
    when = parse_date(as_of) if as_of is not None else None
    if as_of is not None and when is None:
        raise CaseError("as_of", findings=[Finding("invalid_test", f"as_of: {as_of} is not a date written "
                                                   "YYYY-MM-DD", source.locate(("as_of",)))])
    if policy is not None and not isinstance(policy, str):
        raise CaseError("policy", findings=[Finding("invalid_test", "policy: write ID or ID@VERSION",
                                                    source.locate(("policy",)))])
    return policy, when


def _check_shape(source, data: dict[str, Any]) -> list[str]:
    """Messages for unknown or malformed keys of a test file (typos must not pass silently)."""
    out: list[str] = []

    def where(path: tuple, message: str) -> None:
        loc = source.locate(path)
        label = ".".join(str(p) for p in path)
        out.append(f"{loc}: {label}: {message}")

    for key in data:
        if key not in _TOP_KEYS:
            where((key,), f"unknown key; a rule test has {', '.join(_TOP_KEYS)}")
    if "expect" not in data:
        where((), "a rule test needs an expect: mapping")
        return out
    expect = data["expect"]
    if not isinstance(expect, dict):
        where(("expect",), "must be a mapping with lines, stages and/or admissions")
        return out
    for key, value in expect.items():
        if key not in _EXPECT_KEYS:
            where(("expect", key), f"unknown key; expect takes {', '.join(_EXPECT_KEYS)}")
        elif value is not None and not isinstance(value, dict):
            where(("expect", key), "must be a mapping")
    for line_id, entry in (expect.get("lines") or {}).items():
        if not isinstance(entry, dict):
            where(("expect", "lines", line_id), "must be a mapping with verdict, basis and/or missing")
            continue
        for key in entry:
            if key not in _LINE_KEYS:
                where(("expect", "lines", line_id, key), f"unknown key; a line takes {', '.join(_LINE_KEYS)}")
        if "missing" in entry and not isinstance(entry["missing"], list):
            where(("expect", "lines", line_id, "missing"), "must be a list of case-file fields")
    for stage, entry in (expect.get("admissions") or {}).items():
        if not isinstance(entry, dict):
            where(("expect", "admissions", stage), "must be a mapping with verdict, basis and/or supported_days")
            continue
        for key in entry:
            if key not in _ADMISSION_KEYS:
                where(("expect", "admissions", stage, key),
                      f"unknown key; an admission takes {', '.join(_ADMISSION_KEYS)}")
    return out


def compare(expect: dict[str, Any], actual: dict[str, dict[str, Any]]) -> tuple[list[Mismatch], int]:
    """The mismatches between a test's expectations and the actual determinations, and how many
    expectations were checked."""
    out: list[Mismatch] = []
    checked = 0
    lines = {k: v for k, v in actual.items() if v["kind"] == "line"}
    for line_id, want in (expect.get("lines") or {}).items():
        checked += 1
        line_id = str(line_id)
        got = lines.get(line_id)
        wanted = {k: want[k] for k in ("verdict", "basis") if k in want}
        if "missing" in want:
            wanted["missing"] = [str(f) for f in want["missing"] or []]
        if got is None:
            out.append(Mismatch("line", line_id, wanted, None,
                                note="the case has no such line; its lines are " + ", ".join(lines)))
            continue
        shown = {k: got[k] for k in ("verdict", "basis")}
        wrong = any(str(want[k]) != got[k] for k in ("verdict", "basis") if k in want)
        absent = [f for f in wanted.get("missing", []) if f not in got["missing"]]
        if "missing" in wanted:
            shown["missing"] = got["missing"]
        if wrong or absent:
            note = f"not among the missing documentation: {', '.join(absent)}" if absent else ""
            out.append(Mismatch("line", line_id, wanted, shown, list(got["rules"]), note))
    for stage, want in (expect.get("stages") or {}).items():
        checked += 1
        got = actual.get(f"stage:{stage}")
        if got is None:
            out.append(Mismatch("stage", str(stage), {"verdict": want}, None, note="the case has no such stage"))
        elif got["verdict"] != str(want):
            rules = sorted({r for v in lines.values() if str(v["stage"]) == str(stage) for r in v["rules"]})
            out.append(Mismatch("stage", str(stage), {"verdict": want}, {"verdict": got["verdict"]}, rules))
    for stage, want in (expect.get("admissions") or {}).items():
        checked += 1
        got = actual.get(f"admission:{stage}")
        if got is None:
            out.append(Mismatch("admission", str(stage), dict(want), None,
                                note="the case has no inpatient stage with this number"))
            continue
        shown = {k: got.get(k) for k in want}
        if any(_differs(want[k], got.get(k)) for k in want):
            out.append(Mismatch("admission", str(stage), dict(want), shown, list(got["rules"])))
    return out, checked


def _differs(expected: Any, actual: Any) -> bool:
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(expected, bool):
        return expected != actual
    return str(expected) != str(actual) if expected is not None else actual is not None


def _fmt(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "(none)"
    parts = []
    for key, value in entry.items():
        if isinstance(value, list):
            value = "[" + ", ".join(map(str, value)) + "]"
        parts.append(f"{key}: {value}")
    return "{" + ", ".join(parts) + "}"


def failure_text(result: RuleTestResult) -> str:
    """A failed test as text: each mismatch as a small diff (- expected, + actual) with the
    rule ids of the actual determination's reasons."""
    out = [f"FAIL {result.path}: {result.name}"]
    for message in result.errors:
        out.append(f"  error: {message}")
    for m in result.mismatches:
        label = {"line": f"line {m.key}", "stage": f"stage {m.key}", "admission": f"admission of stage {m.key}"}[m.kind]
        out.append(f"  {label}")
        out.append(f"    - expected {_fmt(m.expected)}")
        out.append(f"    + actual   {_fmt(m.actual)}")
        if m.note:
            out.append(f"    ({m.note})")
        if m.rules:
            out.append(f"    rules: {', '.join(m.rules)}")
    return "\n".join(out) + "\n"
