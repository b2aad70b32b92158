"""Determinations: the one walk from pyDatalog's answers to what every tool reports.

For each requested line, each inpatient admission and each stage, `determine` gives the verdict
and basis (from the kb's interface predicates), the reasons (rule instances of the proof whose
head predicate is flagged `%@ reason`, bookkeeping rules marked `%@ noreason` left out, and the
line's criteria the record shows as met), their citations and, on request, the missing
documentation. `decide` (the decision JSON), rule tests, what-if, kb diffs, corpus summaries,
reports and batch runs all read determinations from here, so they can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import Finding, RuleError
from engine.explain.trees import Node, missing_leaves, reasons
from engine.knowledge.interface import (ADMISSION_VERDICT, CRITERION_MET, CRITERION_UNMET, DOC_REQUEST,
                                        INTERFACE_QUERIES, LINE_VERDICT)
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
    missing: list[dict[str, str]] = field(default_factory=list)   # {item, field}
    proof: Node | None = None
    line: Any = None               # the session's Line for a line determination
    requested_days: Any = None
    supported_days: Any = None
    trace: dict[str, list[str]] = field(default_factory=dict)     # with `watch` (see determine)

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
              watch: set[str] | None = None) -> list[Determination]:
    """Every determination of the case, stage by stage: its lines in request order, then its
    admission (if inpatient), then the stage itself.

    `missing=False` skips the missing documentation (the costly part) for callers that compare
    verdicts and reasons only. With `watch` (ground atoms such as `threshold(translation_mm, 3)`)
    each line and admission also gets a `trace`: `proof_rules` (every rule id in its proof and
    in the proofs of its met and unmet criteria), `criterion_rules` (those criterion proofs'
    rule ids alone) and `kb_facts` (the watched atoms these proofs use).
    """
    walk = _Walk(session, missing, watch)
    out: list[Determination] = []
    for request in session.document.get("requests", []):
        out += walk.stage(request)
    return out


class _Walk:
    """The state one `determine` call shares across lines: answers, criteria, the explainer."""

    def __init__(self, session: "CaseSession", missing: bool, watch: set[str] | None) -> None:
        self.session = session
        self.kb = session.kb
        self.explainer = session.explainer
        self.watch = watch
        self.verdicts, self.stage_verdicts, self.admissions, self.supported = interface_answers(session)
        self.met = _rows_by_line(session.derived.get(CRITERION_MET, ()))
        self.unmet = _rows_by_line(session.derived.get(CRITERION_UNMET, ()))
        self.requested: dict[Any, list[Any]] = {}
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
        # the criteria the record shows as met: a verdict proved through negations ("no
        # criterion is unmet or undocumented") would otherwise not say which ones they are
        for row in self.met.get(line.id, ()):
            for reason in self.reasons(self.explainer.why(CRITERION_MET, row), top_only=True):
                if reason not in found:
                    found.append(reason)
        return self._traced(Determination(line.id, "line", line.stage, line.code, verdict, basis, found,
                                          self.missing_of(line.id), proof, line), line.id)

    def reasons(self, proof: Node, top_only: bool = False) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        preds = self.kb.reason_predicates
        for node in ([proof] if top_only else reasons(proof, preds)):
            if node.kind != "conclusion" or node.predicate not in preds:
                continue
            clause = self.kb.rules_by_id.get(node.rule)
            if clause is not None and clause.meta.noreason:
                continue
            item = {"rule": node.rule, "text": node.text, "citations": list(node.citations)}
            if item not in out:
                out.append(item)
        return out

    def missing_of(self, line_id: Any) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for criterion in self.requested.get(line_id, ()):
            goal = ast.Atom(CRITERION_MET[0], (ast.Const(line_id), ast.Const(criterion)))
            for leaf in missing_leaves(self.explainer.why_not(goal)):
                decl = self.kb.program.decls.get((leaf.predicate, len(leaf.args)))
                if decl is not None and decl.norequest:
                    continue
                item = {"item": leaf.text or leaf.label, "field": leaf.field or leaf.label}
                if item not in out:
                    out.append(item)
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


def _rows_by_line(rows: Any) -> dict[Any, list[tuple]]:
    out: dict[Any, list[tuple]] = {}
    for row in sorted(rows, key=lambda r: [str(v) for v in r]):
        out.setdefault(row[0], []).append(tuple(row))
    return out


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
