"""Decisions (DESIGN.md §4): verdicts from pyDatalog, reasons and missing documentation from proofs.

This module knows the *shape* of a decision (stages, lines, admissions, requests) and the names
of the kb's interface predicates; what any verdict means is decided by the kb's clauses.
"""
from __future__ import annotations

from typing import Any

from engine.language import ast
from engine.explain.trees import Node, missing_leaves, node_id, reasons
from engine.decide.session import CaseSession

from engine.knowledge.interface import ADMISSION_VERDICT, CRITERION_MET, INTERFACE_QUERIES, LINE_VERDICT  # noqa: F401


def interface_answers(session: CaseSession) -> tuple[dict, dict, dict, dict]:
    """The kb's interface answers keyed for lookup: line verdicts, stage verdicts, admissions
    and supported days."""
    answers = session.evaluate(INTERFACE_QUERIES)
    return ({row[0]: (row[1], row[2]) for row in answers["line_verdict"]},
            {row[0]: row[1] for row in answers["stage_verdict"]},
            {row[0]: (row[1], row[2]) for row in answers["admission_verdict"]},
            {row[0]: row[1] for row in answers["admission_supported_days"]})


def decide(session: CaseSession, *, explain: bool = False) -> dict[str, Any]:
    """The decision for one case as plain data, deterministic for the same case and kb."""
    kb = session.kb
    answers = session.evaluate(["doc_request"])
    verdicts, stage_verdicts, admissions, supported = interface_answers(session)
    met_by_line: dict[str, list[tuple]] = {}
    for row in sorted(session.derived.get(CRITERION_MET, ()), key=lambda r: (str(r[0]), str(r[1]))):
        met_by_line.setdefault(row[0], []).append(row)
    requested: dict[str, list[str]] = {}
    for line_id, criterion in sorted(answers["doc_request"], key=lambda r: (str(r[0]), str(r[1]))):
        requested.setdefault(line_id, []).append(criterion)

    explainer = session.explainer
    merged: dict[str, dict[str, Any]] = {}
    cited: set[str] = set()
    stages: list[dict[str, Any]] = []
    requests = session.document.get("requests", [])
    for request in requests:
        stage = request.get("stage")
        stage_lines = []
        for line in (ln for ln in session.lines if ln.stage == stage):
            if line.id not in verdicts:
                raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
            verdict, basis = verdicts[line.id]
            proof = explainer.why(LINE_VERDICT, (line.id, verdict, basis))
            line_reasons = _reasons(proof, kb)
            # the criteria the record shows as met: a verdict proved through negations ("no
            # criterion is unmet or undocumented") would otherwise not say which ones they are
            for row in met_by_line.get(line.id, ()):
                for reason in _reasons(explainer.why(CRITERION_MET, row), kb, top_only=True):
                    if reason not in line_reasons:
                        line_reasons.append(reason)
            cited.update(c for r in line_reasons for c in r["citations"])
            missing = []
            for criterion in requested.get(line.id, []):
                tree = explainer.why_not(ast.Atom("criterion_met", (ast.Const(line.id), ast.Const(criterion))))
                for leaf in missing_leaves(tree):
                    decl = kb.program.decls.get((leaf.predicate, len(leaf.args)))
                    if decl is not None and decl.norequest:
                        continue
                    item = {"item": leaf.text or leaf.label, "field": leaf.field or leaf.label}
                    if item not in missing:
                        missing.append(item)
            for item in missing:
                entry = merged.setdefault(item["field"], {"item": item["item"], "field": item["field"],
                                                          "unblocks": []})
                if line.id not in entry["unblocks"]:
                    entry["unblocks"].append(line.id)
            entry = {"code": line.code, "label": kb.code_labels.get(line.code, kb.meta.get("unknown_code_label")),
                     "level": line.level, "side": line.side, "verdict": verdict, "basis": basis,
                     "reasons": line_reasons, "missing_documentation": missing, "proof": proof.id}
            if explain:
                entry["explanation"] = proof.to_dict()
            stage_lines.append(entry)
        if stage not in stage_verdicts:
            raise kb_incomplete(f"stage {stage} gets no stage_verdict/2")
        stage_entry: dict[str, Any] = {"stage": stage, "verdict": stage_verdicts[stage]}
        if stage in admissions:
            verdict, basis = admissions[stage]
            proof = explainer.why(ADMISSION_VERDICT, (stage, verdict, basis))
            adm_reasons = _reasons(proof, kb)
            cited.update(c for r in adm_reasons for c in r["citations"])
            stage_entry["admission"] = {"verdict": verdict, "basis": basis,
                                        "requested_days": request.get("length_of_stay_days"),
                                        "supported_days": supported.get(stage), "reasons": adm_reasons,
                                        "proof": proof.id}
        stage_entry["lines"] = stage_lines
        stages.append(stage_entry)
    documentation_requests = sorted(merged.values(), key=lambda e: e["field"])
    citations = [{"id": c, "title": kb.citations.get(c, {}).get("title", ""),
                  "source": kb.citations.get(c, {}).get("source", "")} for c in sorted(cited)]
    return {"case_id": session.case_id,
            "knowledge_base": {"version": kb.version, "digest": kb.digest},
            "stages": stages, "documentation_requests": documentation_requests, "citations": citations}


def kb_incomplete(what: str):
    """The error for a kb that leaves an interface predicate unanswered (docs/kb-contract.md)."""
    from engine.errors import Finding, RuleError

    return RuleError([Finding("kb_incomplete", f"the knowledge base is incomplete: {what} "
                              "(docs/kb-contract.md lists what it must define)")])


def _reasons(proof: Node, kb, top_only: bool = False) -> list[dict[str, Any]]:
    out = []
    nodes = [proof] if top_only else reasons(proof, kb.reason_predicates)
    for node in nodes:
        if node.kind != "conclusion" or node.predicate not in kb.reason_predicates:
            continue
        clause = kb.rules_by_id.get(node.rule)
        if clause is not None and clause.meta.noreason:
            continue
        item = {"rule": node.rule, "text": node.text, "citations": list(node.citations)}
        if item not in out:
            out.append(item)
    return out


def proof_index(session: CaseSession, decision: dict[str, Any]) -> dict[str, tuple]:
    """Map each proof id of a decision back to the conclusion it proves."""
    index = {}
    for stage in decision["stages"]:
        lines = [ln for ln in session.lines if ln.stage == stage["stage"]]  # the order decide() used
        for line, entry in zip(lines, stage["lines"]):
            index[entry["proof"]] = (LINE_VERDICT, (line.id, entry["verdict"], entry["basis"]))
        if "admission" in stage:
            adm = stage["admission"]
            index[adm["proof"]] = (ADMISSION_VERDICT, (stage["stage"], adm["verdict"], adm["basis"]))
    return index


__all__ = ["decide", "proof_index", "node_id"]


def find_line(session: CaseSession, code: str, level: str | None = None, side: str | None = None,
              stage: int | None = None):
    """The one requested line a command names; a usage error lists the choices otherwise."""
    from engine.errors import UsageError

    code = code.lstrip("+")
    wanted_level = _normal_level(session.kb.levels, level) if level else None
    matches = [ln for ln in session.lines if ln.code == code
               and (stage is None or ln.stage == stage)
               and (wanted_level is None or ln.level == wanted_level)
               and (side is None or ln.side == side)]
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(_describe(ln) for ln in session.lines if ln.code == code) or "none"
    if not matches:
        raise UsageError(f"case {session.case_id} has no line {code}"
                         f"{' at ' + wanted_level if wanted_level else ''}{' on the ' + side + ' side' if side else ''}"
                         f"{' in stage ' + str(stage) if stage is not None else ''}; lines with this code: {choices}")
    raise UsageError(f"{code} names several lines in case {session.case_id} ({choices}); "
                     "choose one with --level, --side or --stage")


def _describe(line) -> str:
    where = line.level or line.side
    return f"stage {line.stage}" + (f" {where}" if where else " (no level)")


def _normal_level(levels, text: str) -> str:
    try:
        return levels.normalise(text)
    except Exception:
        return text


def line_verdict(session: CaseSession, line) -> tuple[str, str]:
    answers = session.evaluate(["line_verdict"])["line_verdict"]
    for row in answers:
        if row[0] == line.id:
            return row[1], row[2]
    raise kb_incomplete(f"line {line.id} gets no line_verdict/3")
