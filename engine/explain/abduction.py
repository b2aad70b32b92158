"""Minimal documentation sets: abduction over a failure tree.

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
from typing import Iterable

from engine.language import ast
from engine.explain.trees import Explainer, Node

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

    def __init__(self, program, facts, fields, domains, explainer: Explainer) -> None:
        self.program = program
        self.facts = facts
        self.fields = fields
        self.domains = domains
        self.explainer = explainer

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
                used = [row[pos] for row in self.facts.get(key, ()) if isinstance(row[pos], int)]
                choices.append([max(used) + 1 if used else 0])
            else:
                choices.append(self.domains.values(key, pos)[:40])
        return [(key, tuple(combo)) for combo in itertools.product(*choices)][:60]

    def _index_positions(self, key) -> set[int]:
        from engine.language.fieldpath import Each

        out = set()
        for decl, path in self.fields.get(key, ()):
            for step in path.steps:
                if isinstance(step, Each) and step.var in decl.params:
                    out.add(decl.params.index(step.var))
        return out

    # -- verification ---------------------------------------------------------------------------
    def verify(self, goal: ast.Atom, candidates: Iterable[frozenset]) -> list[frozenset]:
        found: list[frozenset] = []
        base = self.facts
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
