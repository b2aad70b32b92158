"""The reasons of a proof, found without building the parts of it that cannot hold one.

A decision lists the rule instances of a verdict's proof whose head predicate is flagged
`%@ reason`; it shows the rest of the proof only on request. A proof's conclusions therefore
build their sub-proofs when first read (`SubProof`), and `reasons` reads only the premises
that can lead to a reason: those of a reason predicate, or of one whose rules reach a reason
predicate through positive premises (`reaching`). The reasons found, and their order, are
those of a walk of the whole proof.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping, Sequence

from engine.language import ast

Key = tuple[str, int]


class SubProof:
    """The premises of one rule instance in a proof, each built when first asked for (the
    explainer's proofs are memoised, so a premise built early is the one the full tree shows)."""

    __slots__ = ("explainer", "clause", "env", "built")

    def __init__(self, explainer: Any, clause: ast.Clause, env: Mapping[str, Any]) -> None:
        self.explainer, self.clause, self.env = explainer, clause, env
        self.built: list[Any] = [None] * len(clause.body)

    def premise(self, i: int) -> Any:
        node = self.built[i]
        if node is None:
            node = self.built[i] = self.explainer._why_literal(self.clause.body[i], self.env)
        return node

    def __call__(self) -> list[Any]:
        return [self.premise(i) for i in range(len(self.built))]


def reasons(node: Any, reason_preds: Collection[str], leads: Collection[Key] | None = None) -> list[Any]:
    """Rule instances of a proof whose head predicate is flagged `%@ reason`, in proof order.
    With `leads` (see `reaching`), premises that cannot lead to one are neither walked nor built."""
    seen, out = set(), []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.kind == "conclusion" and n.predicate in reason_preds and n.id not in seen:
            seen.add(n.id)
            out.append(n)
        if leads is None:
            stack.extend(reversed(n.children))
            continue
        grow = n.grow
        if isinstance(grow, SubProof):  # not built yet: build the premises that matter only
            body = grow.clause.body
            kids = [grow.premise(i) for i in range(len(body)) if isinstance(body[i], ast.Positive)
                    and _leads(body[i].atom.key, reason_preds, leads)]
        else:
            kids = [k for k in n.children if k.kind != "conclusion"
                    or _leads((k.predicate, len(k.args)), reason_preds, leads)]
        stack.extend(reversed(kids))
    return out


def _leads(key: Key, reason_preds: Collection[str], leads: Collection[Key]) -> bool:
    return key[0] in reason_preds or key in leads


def reaching(clauses_by_head: Mapping[Key, Sequence[ast.Clause]], reason_preds: Collection[str]) -> frozenset[Key]:
    """The derived predicates whose proofs can hold a reason below their own conclusion: a
    positive body literal of one of their clauses leads, however deep, to a reason predicate."""
    below = {key: {lit.atom.key for c in clauses for lit in c.body if isinstance(lit, ast.Positive)}
             for key, clauses in clauses_by_head.items()}
    found = {key for key, keys in below.items() if any(k[0] in reason_preds for k in keys)}
    grew = True
    while grew:
        more = {key for key, keys in below.items() if key not in found and keys & found}
        found |= more
        grew = bool(more)
    return frozenset(found)
