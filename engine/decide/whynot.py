"""Why-not answers for a requested line: the failure tree of its verdict, what stands in the
way, and the minimal documentation sets that would give it (engine.explain.abduction)."""
from __future__ import annotations

from typing import Any

from engine.explain.abduction import MAX_FACTS, Abduction, Fact
from engine.explain.trees import Explainer, Node
from engine.knowledge.interface import LINE_VERDICT
from engine.language import ast


def verdict_goal(line_id: str, verdict: str) -> ast.Atom:
    """`line_verdict(Line, Verdict, Basis)` with the basis left open."""
    return ast.Atom(LINE_VERDICT[0], (ast.Const(line_id), ast.Const(verdict), ast.Var("Basis")))


def failure_tree(session, line, verdict: str) -> Node:
    """Why `line` does not get `verdict`: the failure tree of its line_verdict goal."""
    return session.explainer.why_not(verdict_goal(line.id, verdict))


def explain_absence(session, line, verdict: str, actual: tuple[str, str]) -> dict[str, Any]:
    """The why-not answer for one line and verdict, as plain data (the CLI formats it)."""
    explainer = session.explainer
    goal = verdict_goal(line.id, verdict)
    result: dict[str, Any] = {"line": line.id, "verdict": verdict,
                              "actual": {"verdict": actual[0], "basis": actual[1]}, "holds": actual[0] == verdict}
    if result["holds"]:
        return result
    tree = failure_tree(session, line, verdict)
    result["tree"] = tree.to_dict()
    nodes = list(tree.walk())
    result["missing"] = _leaf_list(n for n in nodes if n.kind == "missing")
    result["contradicted"] = _leaf_list(n for n in nodes if n.kind == "contradicted" and n.field)
    result["blocking"] = _blocking(tree, explainer)
    abduction = Abduction(session.kb.program, session.facts, session.kb.fields, session.kb.domains,
                          explainer)
    found = abduction.verify(goal, abduction.fixes(tree))
    result["minimal_sets"] = [{"size": len(s), "facts": [_describe_fact(session, explainer, f) for f in sorted(s, key=repr)]}
                              for s in found]
    if not found:
        if result["missing"]:
            result["minimal_note"] = (f"no set of at most {MAX_FACTS} documented facts makes it {verdict}; "
                                      "more must be documented at once (see what blocks it above)")
        else:
            result["minimal_note"] = (f"nothing left to document would make it {verdict}: the documented "
                                      "facts contradict it on every path")
    return result


def _blocking(tree: Node, explainer: Explainer) -> list[dict[str, Any]]:
    """The facts that stand in the way (e.g. each undocumented criterion), each with the case
    fields that are missing beneath it and the documented facts that contradict it."""
    out, seen = [], set()
    for node in tree.walk():
        if node.kind != "contradicted" or not node.children:
            continue
        for because in node.children:
            if because.id in seen or because.kind not in ("conclusion", "fact"):
                continue
            seen.add(because.id)
            leaves = list(because.walk())
            proof = explainer.why((because.predicate, len(because.args)), because.args) if because.predicate else because
            # the request itself (codes, levels) is context; clinical documentation is what contradicts
            documented = {n.label for n in proof.walk()
                          if n.kind == "fact" and n.field and not n.field.startswith("requests[")}
            out.append({"fact": because.label, "text": because.text, "rule": because.rule,
                        "missing": sorted({n.field for n in leaves if n.kind == "missing" and n.field}),
                        "contradicted_by": sorted(documented)})
    return out


def _leaf_list(nodes) -> list[dict[str, Any]]:
    out, seen = [], set()
    for n in nodes:
        if n.id in seen:
            continue
        seen.add(n.id)
        out.append({"fact": n.label, "field": n.field, "text": n.text})
    return out


def _describe_fact(session, explainer: Explainer, fact: Fact) -> dict[str, Any]:
    key, row = fact
    field = explainer.field_for(key, row)
    decl = session.kb.program.decls.get(key)
    value = None
    for d, path in session.kb.fields.get(key, ()):
        if path.value_var and path.value_var in d.params:
            value = row[d.params.index(path.value_var)]
    text = f"{key[0]}({', '.join(ast.format_value(v) for v in row)})"
    return {"fact": text, "field": field, "value": value if value is not None else "documented",
            "text": explainer._decl_sentence(key, row, "holds") if decl else ""}
