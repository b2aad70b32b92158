"""What a population of decisions comes to: rates by code, family and policy, the criteria that
stand in the way most often, the documentation most often missing, and decisions over time.

One accumulator for every producer: `warrant summarize` feeds it decisions read from batch output
(streamed, one at a time) or made from cases, and its result is what the workbench's dashboard
draws too (the store computes the same figures in SQL, `engine/service/store/population.py`;
a test checks that they agree). Memory does not grow with the number of decisions: counters per
key, plus the first `keep` case references behind each bar.

Counting rules (the ones the issue asks for, written down here once):
- rates by code, family and policy count every line (admissions apart, as `admission`);
- criteria and missing documentation are counted among the lines that were *not approved* on
  their own account: a line held to the verdict of the fusion it depends on (basis `dependent`,
  an add-on) is counted apart, since its gaps are its parent's; each line counts once per
  criterion and once per missing field (in general form: `imaging[].segments.*.translation_mm`);
- a criterion's rate is the share of those not-approved lines it stands in the way of; its
  `of_applicable` rate is the share of all lines requiring it where the record left it that way.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, Iterable

from engine.decide.outcomes import DEPENDENT_BASIS, decision_outcome, policy_of

OUTCOMES = ("approved", "partial", "pended", "denied")
STATES = ("unmet", "undocumented")
_INDEX = re.compile(r"\[\d+\]")


def general_field(path: str, levels: Any = None) -> str:
    """`requests[1].procedures[2].levels` → `requests[].procedures[].levels`; level keys (in the
    vocabulary `levels`, the kb's) → `*`."""
    parts = []
    for part in _INDEX.sub("[]", path).split("."):
        try:
            if levels is None:
                raise ValueError(part)
            levels.parse(part)
            parts.append("*")
        except (ValueError, TypeError):
            parts.append(part)
    return ".".join(parts)


class Bars:
    """Counts per key (and per segment of a key), with the first `keep` references behind each."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.refs: dict[tuple[str, str], list[str]] = defaultdict(list)

    def add(self, key: str, segment: str, ref: str | None) -> None:
        self.counts[key][segment] += 1
        if ref is not None:
            kept = self.refs[(key, segment)]
            if len(kept) < self.keep and ref not in kept:
                kept.append(ref)


class Population:
    """Feed decisions with `add`; read the figures with `result`."""

    def __init__(self, kb, keep: int = 50) -> None:
        from engine.knowledge.interface import CODE_FAMILY

        self.kb = kb
        self.roles = {verdict: role for role, verdict in kb.verdicts.items()}
        self.families = {str(c): str(f) for c, f in kb.program.query(*CODE_FAMILY)}
        self.keep = keep
        self.decisions = 0
        self.outcomes: Counter = Counter()
        self.by = {name: Bars(keep) for name in ("code", "family", "policy", "time")}
        self.criteria = {state: Bars(keep) for state in STATES}
        self.applicable: Counter = Counter()
        self.missing = Bars(keep)
        self.lines = self.blocked = self.addons = self.admissions = 0
        self.kb_versions: Counter = Counter()
        self.errors: list[dict[str, Any]] = []

    def add(self, decision: dict[str, Any], *, when: str | None = None, ref: str | None = None) -> None:
        """One decision; `when` (YYYY-MM) places it in time, `ref` (a case id or a decision id)
        is what a bar links to."""
        ref = ref if ref is not None else str(decision.get("case_id", ""))
        self.decisions += 1
        outcome = decision_outcome(self.kb, decision)
        self.outcomes[outcome] += 1
        self.kb_versions[str(decision.get("knowledge_base", {}).get("digest", ""))] += 1
        if when:
            self.by["time"].add(when, outcome, ref)
        for stage in decision.get("stages", []):
            policy = policy_of(self.kb, decision, stage)
            for line in stage.get("lines", []):
                self._line(line, policy, ref)
            if stage.get("admission"):
                self.admissions += 1
                role = self._role(stage["admission"]["verdict"])
                self.by["code"].add("admission", role, ref)
                self.by["policy"].add(policy, role, ref)

    def add_error(self, record: dict[str, Any]) -> None:
        self.errors.append(record)

    def _role(self, verdict: str) -> str:
        return self.roles.get(verdict, "undetermined")

    def _line(self, line: dict[str, Any], policy: str, ref: str) -> None:
        role = self._role(line["verdict"])
        code = str(line["code"])
        self.lines += 1
        self.by["code"].add(code, role, ref)
        self.by["family"].add(self.families.get(code, ""), role, ref)
        self.by["policy"].add(policy, role, ref)
        if line.get("basis") == DEPENDENT_BASIS:
            self.addons += 1
            return
        for item in line.get("criteria", []):
            self.applicable[item["criterion"]] += 1
        if role == "positive":
            return
        self.blocked += 1
        for criterion, state in sorted({(c["criterion"], c["state"]) for c in line.get("criteria", [])}):
            if state in self.criteria:
                self.criteria[state].add(criterion, state, ref)
        for field in sorted({general_field(m["field"], self.kb.levels) for m in line.get("missing_documentation", [])
                             if "via" not in m}):
            self.missing.add(field, "missing", ref)

    # ------------------------------------------------------------------------------ result
    def result(self, top: int = 15) -> dict[str, Any]:
        words = self.kb.words
        labels = self.kb.code_labels
        unknown = str(self.kb.meta.get("unknown_code_label", ""))
        codes = rate_rows(self.by["code"], lambda c: "" if c == "admission" else labels.get(c, unknown),
                          order=lambda c: (c == "admission", c))
        families = rate_rows(self.by["family"], lambda f: words.family(f) if f else unknown)
        policies = rate_rows(self.by["policy"], lambda p: p.replace("@", " ", 1))   # as the pages name it
        time = [{"key": k, "label": k, "counts": {o: self.by["time"].counts[k].get(o, 0) for o in OUTCOMES},
                 "total": sum(self.by["time"].counts[k].values()),
                 "refs": {o: self.by["time"].refs.get((k, o), []) for o in OUTCOMES}}
                for k in sorted(self.by["time"].counts)]
        return {
            "decisions": self.decisions, "lines": self.lines, "admissions": self.admissions,
            "blocked_lines": self.blocked, "addon_lines": self.addons,
            "roles": ["positive", "negative", "undetermined"],
            "verdicts": {role: self.kb.verdicts[role] for role in ("positive", "negative", "undetermined")},
            "verdict_words": {role: words.verdict(self.kb.verdicts[role]) for role in ("positive", "negative", "undetermined")},
            "outcomes": {o: self.outcomes.get(o, 0) for o in OUTCOMES},
            "by_code": codes, "by_family": families, "by_policy": policies, "over_time": time,
            "unmet": self._criteria("unmet", top), "undocumented": self._criteria("undocumented", top),
            "missing": [{"key": f, "label": words.field_phrase(f), "lines": n, "rate": _rate(n, self.blocked),
                         "refs": self.missing.refs.get((f, "missing"), [])}
                        for f, n in _top(self.missing, "missing", top)],
            "kb_digests": dict(self.kb_versions), "errors": self.errors,
            "keep": self.keep,      # the most cases a bar's `refs` list (more may lie behind it)
        }

    def _criteria(self, state: str, top: int) -> list[dict[str, Any]]:
        bars = self.criteria[state]
        labels = criterion_labels(self.kb)
        return [{"key": c, "label": labels.get(c) or self.kb.words.criterion(c), "lines": n, "rate": _rate(n, self.blocked),
                 "of_applicable": _rate(n, self.applicable.get(c, 0)), "refs": bars.refs.get((c, state), [])}
                for c, n in _top(bars, state, top)]


def criterion_labels(kb) -> dict[str, str]:
    """Each criterion in words; criteria the kb words alike (conservative care for fusion and for
    decompression) get the family that lists them added, so two bars never read the same."""
    from engine.knowledge.interface import CRITERION_LISTS

    words = kb.words
    owners: dict[str, list[str]] = defaultdict(list)
    for key in sorted(CRITERION_LISTS):
        for row in kb.program.query(*key):
            owner = words.family(row[0]) if key[0].startswith("family") else str(row[0])
            if owner not in owners[str(row[1])]:
                owners[str(row[1])].append(owner)
    named: dict[str, list[str]] = defaultdict(list)
    for criterion in owners:
        named[words.criterion(criterion)].append(criterion)
    out = {}
    for name, criteria in named.items():
        for criterion in criteria:
            out[criterion] = name if len(criteria) == 1 else f"{name} ({', '.join(owners[criterion][:2])})"
    return out


def _top(bars: Bars, segment: str, top: int) -> list[tuple[str, int]]:
    ranked = sorted(((k, c[segment]) for k, c in bars.counts.items() if c[segment]), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:top]


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def rate_rows(bars: Bars, label, order=None) -> list[dict[str, Any]]:
    """One row per key: counts and rates per verdict role, and the references behind each."""
    roles = ("positive", "negative", "undetermined")
    rows = []
    for key in sorted(bars.counts, key=order or (lambda k: k)):
        counts = bars.counts[key]
        total = sum(counts.values())
        rows.append({"key": key, "label": label(key), "total": total,
                     "counts": {r: counts.get(r, 0) for r in roles},
                     "rates": {r: _rate(counts.get(r, 0), total) for r in roles},
                     "refs": {r: bars.refs.get((key, r), []) for r in roles}})
    return rows


def population(kb, decisions: Iterable[dict[str, Any]], top: int = 15, keep: int = 50) -> dict[str, Any]:
    """The figures of a stream of decisions and batch error records."""
    pop = Population(kb, keep)
    for item in decisions:
        if "error" in item and "stages" not in item:
            pop.add_error(item)
        else:
            pop.add(item)
    return pop.result(top)
