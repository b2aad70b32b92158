"""The node of an explanation tree (a proof or a failure tree), and what is read off one.

Trees are built by engine.explain.trees; decisions, why-not answers and proof graphs read them.
A node writes its sentence and grows its children only when they are first read: most steps of
a proof are never shown.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterator


def node_id(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


@dataclass
class Node:
    """One step of an explanation; `kind` is one of the NODE_KINDS."""

    kind: str
    label: str
    said: Any = ""   # the sentence, or a function that writes it when it is first read
    rule: str | None = None
    citations: tuple[str, ...] = ()
    field: str | None = None
    predicate: str | None = None
    args: tuple = ()
    kids: list["Node"] = dc_field(default_factory=list, repr=False)
    ident: Any = ""  # the id, or the parts it is hashed from when first read (most never are)
    grow: Any = dc_field(default=None, repr=False, compare=False)
    """A function that gives the children when they are first read (a proof below a reason
    that no decision shows is never built)."""

    @property
    def children(self) -> list["Node"]:
        grow = self.grow
        if grow is not None:
            self.grow = None
            self.kids = grow()
        return self.kids

    @children.setter
    def children(self, value: list["Node"]) -> None:
        self.grow = None
        self.kids = value

    @property
    def id(self) -> str:
        ident = self.ident
        if isinstance(ident, tuple):
            ident = self.ident = node_id(*ident)
        return ident

    @property
    def text(self) -> str:
        """The node's sentence (written on first use: most proof steps are never shown)."""
        if callable(self.said):
            self.said = self.said()
        return self.said

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "label": self.label}
        if self.text:
            out["text"] = self.text
        if self.rule:
            out["rule"] = self.rule
        if self.citations:
            out["citations"] = list(self.citations)
        if self.field:
            out["field"] = self.field
        if self.children and (depth is None or depth > 0):
            out["children"] = [c.to_dict(None if depth is None else depth - 1) for c in self.children]
        return out

    def walk(self) -> Iterator["Node"]:
        """This node and every node below it, in pre-order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


NODE_KINDS = ("conclusion", "rule", "fact", "missing", "contradicted", "negation", "comparison",
              "aggregate", "not_derived", "failed_rule", "blocked")


def missing_leaves(node: Node) -> list[Node]:
    """The missing base facts under a failure tree, in tree order, without repeats."""
    seen, out = set(), []
    for n in node.walk():
        if n.kind == "missing" and n.id not in seen:
            seen.add(n.id)
            out.append(n)
    return out
