"""Why-not answers for a requested line: what stands in the way, grouped by criterion with the
policy's requirement, and the minimal documentation sets that would give the verdict; the full
failure tree stays in the answer for those who want the proof (`why-not --tree`, JSON `tree`).

The answer is plain data (the CLI and the HTTP service format it). Identifiers (`criterion`,
`field`, line ids) sit beside their words (`name`, `requirement`, `text`).
"""
from __future__ import annotations

from typing import Any

from engine.decide.determination import determine_line
from engine.decide.minimal import DEFAULT_MAX_SIZE, find_sets, least_facts, set_entry, verdict_goal
from engine.explain.node import Node, missing_leaves
from engine.explain.trees import Explainer
from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET
from engine.language import ast

__all__ = ["explain_absence", "failure_tree", "verdict_goal"]
CRITERION_CAP = 8
"""Largest set searched when counting how many facts one criterion still needs."""


def failure_tree(session, line, verdict: str) -> Node:
    """Why `line` does not get `verdict`: the failure tree of its line_verdict goal."""
    return session.explainer.why_not(verdict_goal(line.id, verdict))


def explain_absence(session, line, verdict: str, actual: tuple[str, str],
                    max_size: int = DEFAULT_MAX_SIZE, tree: bool = True) -> dict[str, Any]:
    """The why-not answer for one line and verdict (see the module docstring); `tree=False`
    leaves out the full failure tree and the flat lists read off it (the answer-first view)."""
    words, voice = session.kb.words, session.voice
    result: dict[str, Any] = {
        "line": line.id, "verdict": verdict, "actual": {"verdict": actual[0], "basis": actual[1]},
        "holds": actual[0] == verdict,
        "words": {"line": voice.line(line.id), "label": session.kb.code_labels.get(line.code, ""),
                  "verdict": words.verdict(verdict), "actual": words.verdict(actual[0]),
                  "basis": words.basis(actual[1]), "basis_means": words.basis_means(actual[1]),
                  "lines": {ln.id: voice.line(ln.id) for ln in session.lines}}}
    if result["holds"]:
        return result
    if tree:
        failures = failure_tree(session, line, verdict)
        result["tree"] = failures.to_dict()
        nodes = list(failures.walk())
        result["missing"] = _leaf_list(n for n in nodes if n.kind == "missing")
        result["contradicted"] = _leaf_list(n for n in nodes if n.kind == "contradicted" and n.field)
        result["blocking"] = _blocking(failures, session.explainer)
    found = determine_line(session, line, full=False)
    current = {ln: v for ln, (v, _b) in _verdicts(session).items()}
    result["max_size"] = max_size
    result["standing"] = standing(session, line, found, verdict, current, max_size)
    out_of_reach = [item for item in result["standing"] if item["kind"] == "depends"]
    if out_of_reach and all(item["least_facts"] is None for item in out_of_reach):
        # the line can be no better than the lines it depends on, and none of them can reach
        # the verdict within the size: nothing to search
        result["minimal_sets"] = []
        result["search"] = {"candidates": 0, "checks": 0, "complete": True}
    else:
        outcome = find_sets(session, line, verdict, max_size, current)
        result["minimal_sets"] = [set_entry(session, f) for f in outcome.found]
        result["search"] = {"candidates": outcome.candidates, "checks": outcome.checks,
                            "complete": not outcome.exhausted}
    if not result["minimal_sets"]:
        result["minimal_note"] = no_set_note(session, result, max_size, not result["search"]["complete"])
    return result


def _verdicts(session) -> dict[str, tuple[str, str]]:
    return {row[0]: (row[1], row[2]) for row in session.evaluate(["line_verdict"])["line_verdict"]}


# -- what stands in the way ------------------------------------------------------------------------
def standing(session, line, found, verdict: str, current: dict[str, str], max_size: int,
             counts: bool = True) -> list[dict[str, Any]]:
    """Each obstacle between the line and the verdict: its criteria that are not met (with the
    requirement, what is missing, what the record shows against it, and how many facts would
    meet it), the request itself when it decides the line (no level, incidental, no policy), and
    the lines it depends on that do not have the verdict (with how many facts would give it)."""
    words, voice, explainer = session.kb.words, session.voice, session.explainer
    out: list[dict[str, Any]] = []
    basis = found.basis
    if basis in _REQUEST_BASES:
        out.append({"kind": "request", "basis": basis, "text": words.basis_means(basis)})
    parents = _alternatives(session, found.proof, line.id, current) if basis == "dependent" else []
    for state in found.criteria:
        criterion = state["criterion"]
        goal = ast.Atom(CRITERION_MET[0], (ast.Const(line.id), ast.Const(criterion)))
        if state["state"] == "met":
            if state["role"] == "parent":  # the lines that satisfy it cap this one's verdict
                proof = explainer.why(CRITERION_MET, (line.id, criterion))
                parents += [p for p in _alternatives(session, proof, line.id, current) if p not in parents]
            continue
        entry: dict[str, Any] = {"kind": "criterion", "criterion": criterion, "role": state["role"],
                                 "state": state["state"], "name": words.criterion(criterion),
                                 "requirement": words.requirement(criterion),
                                 "role_text": words.term(state["role"]), "state_text": words.state(state["state"])}
        if state["state"] == "unmet":
            entry["documented"] = _documented(explainer.why(CRITERION_UNMET, (line.id, criterion)))
        else:
            entry["missing"] = missing_fields(session, explainer.why_not(goal))
            if counts:
                entry["least_facts"] = least_facts(session, goal, max_size)
        out.append(entry)
    asked = [m for item in out for m in item.get("missing", ()) if m["field"].startswith(_REQUEST_FIELDS)]
    if asked and basis not in _REQUEST_BASES:
        out.insert(0, {"kind": "request", "basis": None, "fields": [m["field"] for m in asked],
                       "text": "the request does not give " + ", ".join(dict.fromkeys(m["text"] for m in asked))})
    for other in parents:
        if current.get(other) == verdict:
            continue
        reach = least_facts(session, verdict_goal(other, verdict), max_size) if counts else None
        out.append({"kind": "depends", "line": other, "text": voice.line(other), "verdict": current.get(other),
                    "verdict_text": words.verdict(current.get(other)), "least_facts": reach})
    return out


_REQUEST_BASES = ("no_policy", "incidental", "levels_not_specified")
_REQUEST_FIELDS = ("requests[", "lines.")
"""Bases where the request itself, not the record, decides the line (CRITERIA 1, steps 1, 2, 5)."""


def _alternatives(session, proof: Node | None, line_id: str, current: dict[str, str]) -> list[str]:
    """The other requested lines a proof rests on, with every line that could stand in the same
    place: a proof names one parent fusion, the model knows each row that would have served."""
    out: list[str] = []
    for node in (proof.walk() if proof is not None else ()):
        if node.kind != "conclusion" or line_id not in node.args:
            continue
        for position, arg in enumerate(node.args):
            if arg == line_id or arg not in current:
                continue
            key = (node.predicate, len(node.args))
            for row in session.model.rows(key):
                if all(v == w for i, (v, w) in enumerate(zip(row, node.args)) if i != position) \
                        and row[position] in current and row[position] not in out:
                    out.append(row[position])
    return out


def _documented(proof: Node) -> list[dict[str, Any]]:
    """The case facts a proof rests on (not the request): what the record shows."""
    out: list[dict[str, Any]] = []
    for node in proof.walk():
        if node.kind == "fact" and node.field and not node.field.startswith(("requests[", "lines.")):
            item = {"field": node.field, "text": node.text}
            if item not in out:
                out.append(item)
    return out


def missing_fields(session, tree: Node) -> list[dict[str, Any]]:
    """The case fields missing under a failure tree, with their words (wider `*` spellings of a
    listed field dropped); facts the kb never asks for (`%@ norequest`) left out."""
    out: list[dict[str, Any]] = []
    decls = session.kb.program.decls
    for leaf in missing_leaves(tree):
        key = (leaf.predicate, len(leaf.args))
        if decls.get(key) is not None and decls[key].norequest:
            continue
        text = session.voice.field_text(key, leaf.args) or leaf.text
        item = {"field": leaf.field or leaf.label, "text": text}
        if all(m["field"] != item["field"] for m in out):
            out.append(item)
    wild = [m for m in out if "*" in m["field"]]
    return [m for m in out if m not in wild or not any(_covers(m["field"], o["field"]) for o in out if o is not m)]


def _covers(wild: str, specific: str) -> bool:
    a, b = wild.split("."), specific.split(".")
    return len(a) == len(b) and all(x == y or x == "*" for x, y in zip(a, b))


def no_set_note(session, result: dict[str, Any], max_size: int, exhausted: bool) -> str:
    """Why no set of at most `max_size` facts gives the verdict, in words: first what no
    documentation can change (the request, a contradiction, a line it depends on that cannot get
    there), then how many facts each open criterion still needs."""
    verdict = session.kb.words.verdict(result["verdict"])
    settled: list[str] = []
    parents: list[dict[str, Any]] = []
    counts: list[str] = []
    needed = 0
    beyond = False
    for item in result["standing"]:
        if item["kind"] == "request":
            settled.append(item["text"])
        elif item["kind"] == "depends":
            parents.append(item)
        elif item["state"] == "unmet":
            shown = "; ".join(d["text"] for d in item.get("documented", [])) or "the record"
            settled.append(f"the record contradicts {item['name']} ({shown})")
        elif item.get("least_facts") is None:
            beyond = True
            counts.append(f"{item['name']}: more than {max_size}")
        else:
            needed += item["least_facts"]
            counts.append(f"{item['name']}: {item['least_facts']}")
    if parents:
        named = " and ".join(f"{p['text']} ({p['verdict_text']})" for p in parents)
        stuck = all(p["least_facts"] is None for p in parents)
        settled.append(f"it can be no better than {'the best of ' if len(parents) > 1 else ''}{named}"
                       + (f", and {'none of them' if len(parents) > 1 else 'it'} can get there with at most "
                          f"{max_size} facts" if stuck else ""))
    if any(item["kind"] == "request" or item.get("state") == "unmet" for item in result["standing"]):
        head = f"no documentation can make it {verdict}"
    else:
        head = f"no set of at most {max_size} documented facts makes it {verdict}"
    if exhausted:
        head += " (the search stopped early, so a larger set was not ruled out)"
    parts = list(settled)
    if counts:
        total = f"more than {max(needed, max_size)}" if beyond else f"at least {needed}"
        parts.append(f"the criteria still open need {total} facts ({'; '.join(counts)})")
    if not parts:
        return head + ": the documented facts contradict it on every path"
    return head + ": " + "; ".join(parts)


# -- the older flat lists (kept in the JSON for tools that read them) ------------------------------
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
