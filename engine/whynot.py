"""Why-not with minimal documentation sets.

The failure tree of a conclusion is an AND/OR tree: a conclusion fails when every clause for it
fails (OR), and a clause fails through each of its failed conditions (AND). Walking it bottom-up
gives candidate sets of base facts that, if documented, would repair every failed condition of
some clause; each candidate is then checked by re-evaluating the whole program with the facts
added, and only sets that really make the conclusion hold (and have no smaller subset that does)
are reported, smallest first. A contradicted fact cannot be repaired by adding documentation, so
a path through one contributes no set.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable

from engine import ast
from engine.explain import Explainer, Node

MAX_FACTS = 3
"""Largest documentation set searched (documented in the README)."""
MAX_CANDIDATES = 150
MAX_RESULTS = 5
MAX_OPTIONS = 20
"""Alternatives kept per failed condition when combining them (the smallest first)."""

Fact = tuple[tuple[str, int], tuple]


@dataclass(frozen=True)
class Fix:
    facts: frozenset  # of Fact


class Abduction:
    """Collects candidate fact sets for a failure tree and verifies them against the program."""

    def __init__(self, session, explainer: Explainer) -> None:
        self.session = session
        self.explainer = explainer
        self.program = session.kb.program

    # -- candidate sets -----------------------------------------------------------------------
    def fixes(self, node: Node, depth: int = 4) -> list[frozenset]:
        kind = node.kind
        if kind == "missing":
            return [frozenset([fact]) for fact in self._leaf_facts(node)]
        if kind == "not_derived":
            out: list[frozenset] = []
            for child in node.children:
                out += self.fixes(child, depth)
            return _prune(out)
        if kind == "failed_rule":
            families = []
            for child in node.children:
                if child.kind == "blocked":
                    continue
                options = self.fixes(child, depth)[:MAX_OPTIONS]
                if not options:
                    return []
                families.append(options)
            return _combine(families)
        if kind == "contradicted" and node.children and depth > 0 and node.predicate:
            # every fact that blocks the negation must go: AND over them, each through one of its
            # negated conditions becoming true (OR)
            families = []
            for because in node.children:
                options: list[frozenset] = []
                for step in because.children:
                    if step.kind == "negation" and step.children:
                        options += self.fixes(step.children[0], depth - 1)
                options = _prune(options, MAX_OPTIONS)
                if not options:
                    return []
                families.append(options)
            return _combine(families)
        return []

    def _leaf_facts(self, node: Node) -> list[Fact]:
        key = (node.predicate, len(node.args))
        index_positions = self._index_positions(key)
        choices = []
        for pos, value in enumerate(node.args):
            if value is not None:
                choices.append([value])
            elif pos in index_positions:  # a new list entry (a new study, a new injection...)
                used = [row[pos] for row in self.session.facts.get(key, ()) if isinstance(row[pos], int)]
                choices.append([max(used) + 1 if used else 0])
            else:
                choices.append(self.session.kb.domains.values(key, pos)[:40])
        return [(key, tuple(combo)) for combo in itertools.product(*choices)][:60]

    def _index_positions(self, key) -> set[int]:
        from engine.fieldpath import Each

        out = set()
        for decl, path in self.session.kb.fields.get(key, ()):
            for step in path.steps:
                if isinstance(step, Each) and step.var in decl.params:
                    out.add(decl.params.index(step.var))
        return out

    # -- verification ---------------------------------------------------------------------------
    def verify(self, goal: ast.Atom, candidates: Iterable[frozenset]) -> list[frozenset]:
        found: list[frozenset] = []
        base = self.session.facts
        for facts in sorted(set(candidates), key=lambda s: (len(s), sorted(map(repr, s))))[:MAX_CANDIDATES]:
            if any(prev <= facts for prev in found):
                continue
            extended = {k: list(v) for k, v in base.items()}
            for key, row in facts:
                extended.setdefault(key, []).append(row)
            model = self.program.model(extended)
            if any(True for _ in model.match_atom(goal, {})):
                found.append(facts)
                if len(found) >= MAX_RESULTS:
                    break
        return found


def _combine(families: list[list[frozenset]]) -> list[frozenset]:
    """Sets that take one option from every family (AND), at most MAX_FACTS facts each.

    When the families share no fact, the smallest options' sizes add up, so a sum above
    MAX_FACTS proves there is nothing to find without enumerating the product."""
    if not families:
        return [frozenset()]
    pools = [frozenset().union(*options) for options in families]
    disjoint = sum(len(p) for p in pools) == len(frozenset().union(*pools))
    if disjoint and sum(min(len(o) for o in options) for options in families) > MAX_FACTS:
        return []
    combined = [frozenset()]
    for options in families:
        combined = _prune([a | b for a in combined for b in options if len(a | b) <= MAX_FACTS])
        if not combined:
            return []
    return combined


def _prune(sets: list[frozenset], limit: int = MAX_CANDIDATES) -> list[frozenset]:
    """Distinct sets, smallest first (then in a stable textual order), without supersets of
    sets already kept; at most `limit` of them."""
    keyed = {s: (len(s), tuple(sorted(map(repr, s)))) for s in set(sets)}
    kept: list[frozenset] = []
    for candidate in sorted(keyed, key=keyed.__getitem__):
        if any(k <= candidate for k in kept):
            continue
        kept.append(candidate)
        if len(kept) >= limit:
            break
    return kept


def verdict_goal(line_id: str, verdict: str) -> ast.Atom:
    """`line_verdict(Line, Verdict, Basis)` with the basis left open."""
    from engine.interface import LINE_VERDICT

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
    abduction = Abduction(session, explainer)
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
