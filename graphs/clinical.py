"""The clinical view of a line's explanation: one node per criterion, the facts behind it.

The logical graph (`graphs.build`, `warrant graph --full`) draws every rule instance, table row
and bookkeeping conclusion a proof touches; a reviewer needs far less. Here the line is the root;
under it each of its criteria, labelled with its name and coloured by its state (met, contradicted
by the record, not documented), with the policy's requirement as its text; under each criterion
the case facts its proof rests on, or the fields that are missing; beside them the request itself
when it decides the line, the lines it depends on, and — in a why-not graph — the documentation
sets that would give it the verdict. Bookkeeping (families, code tables, criterion lists) is folded
into the criterion that uses it. Every label is in the kb's words; identifiers stay in the node's
`ids` attribute (JSON), not in what is drawn.
"""
from __future__ import annotations

from typing import Any

import networkx as nx

from engine.explain.node import node_id

MAX_SETS = 5
"""Documentation sets drawn in a why-not graph (the text answer lists them all)."""


def clinical_graph(session, line, verdict: str | None = None, why_not: bool = False) -> nx.DiGraph:
    """The clinical view of `line`: why it has its verdict or, with `why_not`, why it does not get
    `verdict` (default the kb's positive verdict) and what would give it."""
    from engine.decide.decision import line_verdict
    from engine.decide.whynot import explain_absence

    kb, words, voice = session.kb, session.kb.words, session.voice
    verdict = verdict or kb.verdicts["positive"]
    actual, basis = line_verdict(session, line)
    holds = actual == verdict
    if why_not:
        answer = explain_absence(session, line, verdict, (actual, basis), tree=False)
    else:
        from engine.decide.determination import determine_line
        from engine.decide.whynot import standing

        current = {row[0]: row[1] for row in session.evaluate(["line_verdict"])["line_verdict"]}
        answer = {"standing": standing(session, line, determine_line(session, line, full=False), kb.verdicts["positive"],
                                       current, 0, counts=False)}
    graph = nx.DiGraph()
    phrase = voice.line(line.id)
    label = kb.code_labels.get(line.code, "")
    now = f"{words.verdict(actual)} ({words.basis(basis)})"
    if why_not and not holds:
        title = f"Why {phrase} is not {words.verdict(verdict)}"
        root_kind, root_label, tag = "not_derived", f"{phrase}: why not {words.verdict(verdict)}?", "WHY NOT"
        text = f"now {now} · {label}"
    else:
        title = f"Why {phrase} is {words.verdict(actual)}"
        root_kind = "conclusion" if actual == kb.verdicts["positive"] else "contradicted"
        root_label, tag, text = f"{phrase}: {words.verdict(actual)}", "VERDICT", f"{words.basis(basis)} · {label}"
    root = node_id("clinical", line.id, verdict if why_not else actual)
    _node(graph, root, root_kind, root_label, text, ids={"line": line.id, "verdict": actual, "basis": basis},
          tag=tag)
    _criteria(session, graph, root, line)
    for item in answer.get("standing", []):
        if item["kind"] == "request":
            gid = node_id("clinical-request", line.id, item["text"])
            _node(graph, gid, "contradicted", "the request", item["text"], ids={"fields": item.get("fields", [])},
                  tag="THE REQUEST")
            _edge(graph, root, gid, "because")
        elif item["kind"] == "depends":
            gid = node_id("clinical-parent", item["line"])
            _node(graph, gid, "not_derived", f"depends on {item['text']}", item["verdict_text"],
                  ids={"line": item["line"]}, tag="DEPENDS ON")
            _edge(graph, root, gid, "attempt")
    if why_not and not holds:
        _sets(graph, root, answer, words)
    graph.graph.update(case_id=session.case_id, kb_version=kb.version, kb_digest=kb.digest, root=root,
                       title=title, line=line.id, verdict=verdict if why_not else actual, actual=actual,
                       basis=basis, holds=holds, view="clinical", mode="why_not" if why_not else "why",
                       citations={})
    return graph


def _criteria(session, graph: nx.DiGraph, root: str, line) -> None:
    from engine.decide.determination import determine_line
    from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET

    words, explainer = session.kb.words, session.explainer
    found = determine_line(session, line, full=False)
    for order, state in enumerate(found.criteria):
        criterion = state["criterion"]
        kind = {"met": "conclusion", "unmet": "contradicted", "undocumented": "not_derived"}[state["state"]]
        gid = node_id("clinical-criterion", line.id, criterion)
        text = words.requirement(criterion)
        if state["role"] == "indication":
            text = f"{words.term('indication')}: {text}" if text else words.term("indication")
        _node(graph, gid, kind, words.criterion(criterion), text,
              ids={"criterion": criterion, "role": state["role"], "state": state["state"]},
              tag=words.state(state["state"]).upper())
        _edge(graph, root, gid, "premise" if state["state"] == "met" else "fails", order)
        if state["state"] == "undocumented":
            from engine.decide.whynot import missing_fields
            from engine.language import ast

            goal = ast.Atom(CRITERION_MET[0], (ast.Const(line.id), ast.Const(criterion)))
            for n, item in enumerate(missing_fields(session, explainer.why_not(goal))):
                leaf = node_id("clinical-missing", item["field"])
                _node(graph, leaf, "missing", item["text"], "", ids={"field": item["field"]},
                      tag=words.state("undocumented").upper())
                _edge(graph, gid, leaf, "fails", n)
            continue
        key = CRITERION_MET if state["state"] == "met" else CRITERION_UNMET
        proof = explainer.why(key, (line.id, criterion))
        for n, fact in enumerate(_case_facts(proof)):
            leaf = node_id("clinical-fact", fact.label)
            _node(graph, leaf, "fact", fact.text, "", ids={"field": fact.field, "fact": fact.label},
                  source="case", tag="IN THE RECORD")
            _edge(graph, gid, leaf, "because" if state["state"] == "unmet" else "premise", n)


def _case_facts(proof) -> list:
    out, seen = [], set()
    for node in proof.walk():
        if node.kind == "fact" and node.field and not node.field.startswith(("requests[", "lines.")) \
                and node.id not in seen:
            seen.add(node.id)
            out.append(node)
    return out


def _sets(graph: nx.DiGraph, root: str, answer: dict[str, Any], words) -> None:
    sets = answer.get("minimal_sets", [])
    if not sets:
        if answer.get("minimal_note"):
            gid = node_id("clinical-note", answer["line"])
            _node(graph, gid, "blocked", "no documentation set found", answer["minimal_note"], tag="TO DOCUMENT")
            _edge(graph, root, gid, "attempt", 99)
        return
    for n, found in enumerate(sets[:MAX_SETS]):
        texts = [f["text"] for f in found["facts"]]
        gid = node_id("clinical-set", answer["line"], *[f["field"] for f in found["facts"]])
        head = "document" + (" (any one of these sets)" if len(sets) > 1 else "")
        _node(graph, gid, "option", head, "; and ".join(texts),
              ids={"facts": found["facts"], "unblocks": found["unblocks"]}, tag="TO DOCUMENT")
        _edge(graph, root, gid, "would_count", 100 + n)


def _node(graph: nx.DiGraph, gid: str, kind: str, label: str, text: str, ids: dict | None = None,
          source: str = "", tag: str = "") -> None:
    if gid in graph:
        return
    graph.add_node(gid, kind=kind, label=label, text=text, rule="", citations=[], field="", source=source,
                   predicate="", status={"conclusion": "holds", "fact": "holds", "option": "option"}.get(kind, "fails"),
                   collapsed=False, ids=ids or {}, tag=tag)


def _edge(graph: nx.DiGraph, parent: str, child: str, kind: str, order: int = 0) -> None:
    if not graph.has_edge(parent, child) and parent != child:
        graph.add_edge(parent, child, kind=kind, order=order)
