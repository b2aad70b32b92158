"""Determinations: the one walk from pyDatalog's answers to what every tool reports.

For each requested line, each inpatient admission and each stage, `determine` gives the verdict
and basis (from the kb's interface predicates), the reasons (rule instances of the proof whose
head predicate is flagged `%@ reason`, bookkeeping rules marked `%@ noreason` left out, and the
line's criteria the record shows as met), their citations and, on request, the missing
documentation. `decide` (the decision JSON), rule tests, what-if, kb diffs, corpus summaries,
reports and batch runs all read determinations from here, so they can never disagree.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import Finding, RuleError
from engine.explain.reasons import reasons
from engine.explain.node import Node, missing_leaves
from engine.knowledge.interface import (ADMISSION_VERDICT, CODE_FAMILY, CRITERION, CRITERION_LISTS, CRITERION_MET,
                                        CRITERION_UNMET, DOC_REQUEST, INTERFACE_QUERIES, LINE_VERDICT,
                                        UNDOCUMENTED)
from engine.language import ast

if TYPE_CHECKING:
    from engine.decide.session import CaseSession


@dataclass
class Determination:
    """One determination of a case: a line, an admission or a stage."""

    key: str                       # line id, `admission:N` or `stage:N`
    kind: str                      # line | admission | stage
    stage: Any
    code: str                      # the line's code; `admission` or `stage`
    verdict: str
    basis: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)   # {rule, text, citations}
    missing: list[dict[str, str]] = field(default_factory=list)   # {item, field, criterion[, via]}
    proof: Node | None = None
    line: Any = None               # the session's Line for a line determination
    requested_days: Any = None
    supported_days: Any = None
    trace: dict[str, list[str]] = field(default_factory=dict)     # with `watch` (see determine)
    criteria: list[dict[str, str]] = field(default_factory=list)  # {criterion, role, state} of a line

    @property
    def citations(self) -> list[str]:
        out: list[str] = []
        for reason in self.reasons:
            out += [c for c in reason["citations"] if c not in out]
        return out

    @property
    def rule_ids(self) -> list[str]:
        out: list[str] = []
        for reason in self.reasons:
            if reason["rule"] not in out:
                out.append(reason["rule"])
        return out


def kb_incomplete(what: str) -> RuleError:
    """The error for a kb that leaves an interface predicate unanswered (docs/kb-contract.md)."""
    return RuleError([Finding("kb_incomplete", f"the knowledge base is incomplete: {what} "
                              "(docs/kb-contract.md lists what it must define)")])


def interface_answers(session: "CaseSession") -> tuple[dict, dict, dict, dict]:
    """The kb's interface answers keyed for lookup: line verdicts, stage verdicts, admissions
    and supported days."""
    answers = session.evaluate(INTERFACE_QUERIES)
    return ({row[0]: (row[1], row[2]) for row in answers["line_verdict"]},
            {row[0]: row[1] for row in answers["stage_verdict"]},
            {row[0]: (row[1], row[2]) for row in answers["admission_verdict"]},
            {row[0]: row[1] for row in answers["admission_supported_days"]})


def determine(session: "CaseSession", *, missing: bool = True,
              watch: set[str] | None = None, stages: Any = None) -> list[Determination]:
    """Every determination of the case, stage by stage: its lines in request order, then its
    admission (if inpatient), then the stage itself.

    A line's reasons are complete: the rule instances of its verdict's proof, then every
    criterion the record contradicts (with its proof's reasons), every criterion it is silent
    on, and every criterion it shows as met. Its missing documentation is what the kb asks for
    (`doc_request/2`); a line that rests on another undetermined line (a dependent line and its
    parent fusion) also lists what that line lacks, marked `via` it, so that every undetermined
    line says what would decide it.

    `missing=False` skips the missing documentation (the costly part) for callers that compare
    verdicts and reasons only. With `watch` (ground atoms such as `threshold(translation_mm, 3)`)
    each line and admission also gets a `trace`: `proof_rules` (every rule id in its proof and
    in the proofs of its met and unmet criteria), `criterion_rules` (those criterion proofs'
    rule ids alone) and `kb_facts` (the watched atoms these proofs use).

    With `stages`, only those stages are walked: a session of one policy version, in a case
    whose stages are decided by several, explains only the stages its version decides.
    """
    walk = _Walk(session, missing, watch)
    out: list[Determination] = []
    for request in session.document.get("requests", []):
        if stages is None or request.get("stage") in stages:
            out += walk.stage(request)
    return out


def determine_line(session: "CaseSession", line: Any, full: bool = True) -> Determination:
    """The determination of one requested line (the same walk as `determine`); `full=False`
    gives its verdict, proof and criteria only (no reasons, no missing documentation)."""
    walk = _Walk(session, full, None)
    if full:
        return walk.line(line)
    verdict, basis = walk.verdicts[line.id]
    proof = walk.explainer.why(LINE_VERDICT, (line.id, verdict, basis))
    return Determination(line.id, "line", line.stage, line.code, verdict, basis, proof=proof, line=line,
                         criteria=walk.states(line.id))


class _Walk:
    """The state one `determine` call shares across lines: answers, criteria, the explainer."""

    def __init__(self, session: "CaseSession", missing: bool, watch: set[str] | None) -> None:
        self.session = session
        self.kb = session.kb
        self.explainer = session.explainer
        self.watch = watch
        self.missing = missing
        self.verdicts, self.stage_verdicts, self.admissions, self.supported = interface_answers(session)
        self.criteria = _rows_by_line(session.derived.get(CRITERION, ()))
        self.met = _rows_by_line(session.derived.get(CRITERION_MET, ()))
        self.unmet = _rows_by_line(session.derived.get(CRITERION_UNMET, ()))
        self.undocumented = _rows_by_line(session.derived.get(UNDOCUMENTED, ()))
        self.rank = criterion_order(self.kb)
        self.codes = {line.id: line.code for line in session.lines}
        self.requested: dict[Any, list[Any]] = {}
        self._missing: dict[Any, list[dict[str, str]]] = {}
        if missing:
            for line_id, criterion in sorted(session.derived.get(DOC_REQUEST, ()),
                                             key=lambda r: (str(r[0]), str(r[1]))):
                self.requested.setdefault(line_id, []).append(criterion)
        self.known_rules = set(self.kb.rules_by_id) if watch is not None else set()

    def stage(self, request: dict[str, Any]) -> list[Determination]:
        number = request.get("stage")
        out = [self.line(line) for line in self.session.lines if line.stage == number]
        if number in self.admissions:
            verdict, basis = self.admissions[number]
            proof = self.explainer.why(ADMISSION_VERDICT, (number, verdict, basis))
            out.append(self._traced(Determination(
                f"admission:{number}", "admission", number, "admission", verdict, basis,
                self.reasons(proof), proof=proof, requested_days=request.get("length_of_stay_days"),
                supported_days=self.supported.get(number)), number))
        if number not in self.stage_verdicts:
            raise kb_incomplete(f"stage {number} gets no stage_verdict/2")
        out.append(Determination(f"stage:{number}", "stage", number, "stage", self.stage_verdicts[number]))
        return out

    def line(self, line: Any) -> Determination:
        if line.id not in self.verdicts:
            raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
        verdict, basis = self.verdicts[line.id]
        proof = self.explainer.why(LINE_VERDICT, (line.id, verdict, basis))
        found = self.reasons(proof)
        by_rank = self._by_rank
        # every criterion the record contradicts, then every one it is silent on, then every one
        # it shows as met: a verdict proved through one of them (or through negations) would
        # otherwise name only the first
        for row in by_rank(self.unmet.get(line.id, ())):
            _extend(found, self.reasons(self.explainer.why(CRITERION_UNMET, row)))
        for row in by_rank(self.undocumented.get(line.id, ())):
            _extend(found, self.reasons(self.explainer.top(UNDOCUMENTED, row), top_only=True, any_rule=True))
        for row in by_rank(self.met.get(line.id, ())):
            _extend(found, self.reasons(self.explainer.top(CRITERION_MET, row), top_only=True))
        return self._traced(Determination(line.id, "line", line.stage, line.code, verdict, basis, found,
                                          self.missing_for(line.id, proof), proof, line,
                                          criteria=self.states(line.id)), line.id)

    def _by_rank(self, rows: Any) -> list[tuple]:
        """A line's criterion rows in the order its family (then its code) lists them."""
        return sorted(rows, key=lambda r: (self.rank.get((self.codes.get(r[0]), r[1]), len(self.rank)), str(r[1])))

    def states(self, line_id: Any) -> list[dict[str, str]]:
        """Each criterion of the line with its role and state (met, unmet, undocumented)."""
        met = {r[1] for r in self.met.get(line_id, ())}
        unmet = {r[1] for r in self.unmet.get(line_id, ())}
        out = []
        for _line, criterion, role in self._by_rank(self.criteria.get(line_id, ())):
            state = "met" if criterion in met else "unmet" if criterion in unmet else "undocumented"
            out.append({"criterion": criterion, "role": role, "state": state})
        return out

    def reasons(self, proof: Node, top_only: bool = False, any_rule: bool = False) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        preds = self.kb.reason_predicates
        for node in ([proof] if top_only else reasons(proof, preds, self.kb.reason_leads)):
            if node.kind != "conclusion" or (node.predicate not in preds and not any_rule):
                continue
            if node.rule in self.kb.noreason_rules:
                continue
            _extend(out, [{"rule": node.rule, "text": node.text, "citations": list(node.citations)}])
        return out

    def missing_for(self, line_id: Any, proof: Node) -> list[dict[str, str]]:
        """The line's own missing documentation, then that of the undetermined lines its verdict
        rests on (marked `via`)."""
        out = list(self.missing_of(line_id))
        if not self.missing or self.verdicts[line_id][0] != self.kb.verdicts["undetermined"]:
            return out
        positive = self.kb.verdicts["positive"]
        wanted = {other for other, (verdict, _basis) in self.verdicts.items()
                  if other != line_id and verdict != positive}
        for other in _lines_in(proof, wanted):
            for item in self.missing_of(other):
                inherited = {**item, "via": item.get("via", other)}
                if all(m["field"] != inherited["field"] for m in out):
                    out.append(inherited)
        return out

    def missing_of(self, line_id: Any) -> list[dict[str, str]]:
        known = self._missing.get(line_id)
        if known is not None:
            return known
        out: list[dict[str, str]] = []
        voice = self.session.voice
        for _line, criterion in self._by_rank((line_id, c) for c in self.requested.get(line_id, ())):
            goal = ast.Atom(CRITERION_MET[0], (ast.Const(line_id), ast.Const(criterion)))
            for leaf in missing_leaves(self.explainer.why_not(goal)):
                key = (leaf.predicate, len(leaf.args))
                decl = self.kb.program.decls.get(key)
                if decl is not None and decl.norequest:
                    continue
                field_path = leaf.field or leaf.label
                item = {"item": voice.field_text(key, leaf.args) or leaf.text or leaf.label, "field": field_path,
                        "criterion": criterion}
                if all(m["field"] != field_path for m in out):
                    out.append(item)
        out = [m for m in out if not any(o is not m and _covers(m["field"], o["field"]) for o in out)]
        self._missing[line_id] = out
        return out

    def _traced(self, found: Determination, subject: Any) -> Determination:
        if self.watch is None or found.proof is None:
            return found
        proofs = [(found.proof, False)]
        for key, rows in ((CRITERION_MET, self.met), (CRITERION_UNMET, self.unmet)):
            proofs += [(self.explainer.why(key, row), True) for row in rows.get(subject, ())]
        rules: list[str] = []
        criterion_rules: list[str] = []
        facts: list[str] = []
        for tree, of_criterion in proofs:
            for node in tree.walk():
                if node.rule in self.known_rules:
                    _add(rules, node.rule)
                    if of_criterion:
                        _add(criterion_rules, node.rule)
                if node.label in self.watch:
                    _add(facts, node.label)
        found.trace = {"proof_rules": rules, "criterion_rules": criterion_rules, "kb_facts": facts}
        return found


_ORDERS: "weakref.WeakKeyDictionary[Any, dict[tuple[Any, Any], int]]" = weakref.WeakKeyDictionary()


def criterion_order(kb) -> dict[tuple[Any, Any], int]:
    """(code, criterion) -> position: each code's criteria in the order the kb lists them, its
    family's (`family_criterion/3`, through `code_family/2`) before its own (`code_criterion/3`).
    Computed once per program (a scan of every clause would otherwise grow each case's cost with
    the kb's tables)."""
    program = kb.program
    order = _ORDERS.get(program)
    if order is None:
        order = _ORDERS[program] = _criterion_order(program)
    return order


def _criterion_order(program) -> dict[tuple[Any, Any], int]:
    facts = [c.head for c in program.clauses if c.is_fact]
    family_of = {h.args[0].value: h.args[1].value for h in facts if h.key == CODE_FAMILY}
    listed = [h for h in facts if h.key in CRITERION_LISTS]
    order: dict[tuple[Any, Any], int] = {}
    for code, family in family_of.items():
        for n, head in enumerate(listed):
            owner = head.args[0].value
            if owner == family or owner == code:
                order.setdefault((code, head.args[1].value), n + (0 if owner == family else len(listed)))
    return order


def _extend(items: list[dict[str, Any]], more: list[dict[str, Any]]) -> None:
    """Add reasons not yet listed (one statement once, whichever rule made it)."""
    for item in more:
        if all(r["text"] != item["text"] for r in items):
            items.append(item)


def _lines_in(proof: Node, wanted: set[Any]) -> list[Any]:
    """The `wanted` lines a proof mentions (a dependent line's parent fusion), in proof order;
    the walk stops when it has found them all (with none wanted, it does not start)."""
    out: list[Any] = []
    if not wanted:
        return out
    for node in proof.walk():
        for arg in node.args:
            if arg in wanted and arg not in out:
                out.append(arg)
                if len(out) == len(wanted):
                    return out
    return out


def _covers(wild: str, specific: str) -> bool:
    """Whether a field with `*` steps (`a.b.*`) is a wider spelling
    of another listed field (`a.b.c`)."""
    if "*" not in wild or wild == specific:
        return False
    a, b = wild.split("."), specific.split(".")
    return len(a) == len(b) and all(x == y or x == "*" for x, y in zip(a, b))


def _rows_by_line(rows: Any) -> dict[Any, list[tuple]]:
    out: dict[Any, list[tuple]] = {}
    for row in sorted(rows, key=lambda r: [str(v) for v in r]):
        out.setdefault(row[0], []).append(tuple(row))
    return out


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
