"""Explanation trees (`engine.explain.node.Node`) turned into networkx proof graphs.

A tree from `Explainer.why` or `Explainer.why_not` repeats a sub-proof wherever it is used; the
graph keys every node by the tree node's content-hash id, so a sub-proof used twice is one node
with two parents. Between a derived conclusion and its premises the graph adds a *rule instance*
node (the clause that fired, with its citations), so "what holds" and "which rule made it hold"
are separate things a reader can point at.

Graph node kinds (attribute `kind`):

==============  ======================================================================
conclusion      a derived fact that holds
rule            a rule instance: the clause that derived the conclusion above it
fact            a fact: from the case file (``source == "case"``) or a kb table (``"kb"``)
negation        a ``\\+ goal`` condition that holds
comparison      a comparison that holds
aggregate       an aggregate condition and its value
not_derived     a conclusion that does not hold (why-not graphs)
failed_rule     a rule that could have derived it and did not (why-not graphs)
missing         a base fact the case file does not document; ``field`` names where to add it
contradicted    a condition the documented facts contradict
blocked         a condition not evaluated because an earlier one failed
==============  ======================================================================

Every node carries ``kind, label, text, rule, citations, field, source, predicate, status,
collapsed`` (empty strings and lists where a value does not apply), so every renderer reads every
node the same way. ``collapsed`` marks a conclusion the tree shows for context only, without its
proof. Edges carry ``kind`` and ``order`` (the premise's position in its rule body):

==============  ======================================================================
derived_by      conclusion -> the rule instance that derived it
premise         rule instance -> a condition of its body that held
attempt         not_derived -> a rule that could have derived it
fails           failed_rule -> a condition of its body that failed
because         contradicted -> the facts that contradict it
not_derived     negation -> why the negated goal does not hold (what would make it hold)
would_count     aggregate -> undocumented facts it would also have counted
==============  ======================================================================
"""
from __future__ import annotations

from typing import Any

import networkx as nx

from engine.explain.node import Node, node_id

GRAPH_KINDS = ("conclusion", "rule", "fact", "negation", "comparison", "aggregate",
               "not_derived", "failed_rule", "missing", "contradicted", "blocked")
"""Node kinds in the order legends list them."""

MAX_NODES = 5000
"""A graph stops growing at this many nodes and says so in ``graph.graph["truncated"]`` (a guard:
real explanations are far smaller)."""

_STATUS = {"conclusion": "holds", "rule": "holds", "fact": "holds", "negation": "holds",
           "comparison": "holds", "aggregate": "holds", "not_derived": "fails", "failed_rule": "fails",
           "missing": "fails", "contradicted": "fails", "blocked": "blocked"}

_EDGE_BY_PARENT = {"conclusion": "derived_by", "rule": "premise", "not_derived": "attempt",
                   "failed_rule": "fails", "contradicted": "because", "negation": "not_derived",
                   "aggregate": "would_count"}


class _Builder:
    def __init__(self, explainer=None) -> None:
        self.graph = nx.DiGraph()
        self.explainer = explainer
        self._done: set[int] = set()   # id() of the tree nodes already drawn

    def _add_node(self, gid: str, kind: str, node: Node, source: str = "", collapsed: bool = False) -> None:
        if gid in self.graph:
            if not collapsed and self.graph.nodes[gid].get("collapsed"):
                self.graph.nodes[gid]["collapsed"] = False
            return
        self.graph.add_node(gid, kind=kind, label=node.label, text=node.text or "", rule=node.rule or "",
                            citations=list(node.citations or ()), field=node.field or "", source=source,
                            predicate=node.predicate or "", status=_STATUS.get(kind, "holds"),
                            collapsed=collapsed)

    def _add_edge(self, parent: str | None, child: str, kind: str, order: int) -> None:
        if parent is None or parent == child or self.graph.has_edge(parent, child):
            return
        self.graph.add_edge(parent, child, kind=kind, order=order)

    def add(self, node: Node, parent: str | None = None, parent_kind: str = "", order: int = 0) -> str:
        """Add `node` and everything below it (each tree node once); return its graph id."""
        gid = node.id or node_id("graph", node.kind, node.label)
        kind, source, collapsed = node.kind, "", False
        if kind == "conclusion" and not node.children:
            if self._is_table_row(node):
                kind, source = "fact", "kb"
            else:
                collapsed = True  # a conclusion shown for context; its proof is drawn elsewhere or not at all
        elif kind == "fact":
            source = "kb" if self._is_table_row(node) else "case"
        if self.graph.number_of_nodes() >= MAX_NODES and gid not in self.graph:
            self.graph.graph["truncated"] = True
            return gid
        self._add_node(gid, kind, node, source, collapsed)
        if parent is not None and gid in self.graph:
            self._add_edge(parent, gid, _EDGE_BY_PARENT.get(parent_kind, "premise"), order)
        if id(node) in self._done or gid not in self.graph:
            return gid
        self._done.add(id(node))
        if kind == "conclusion" and node.children:
            rid = node_id("rule-instance", gid)
            rule = Node("rule", node.rule or "", node.text, rule=node.rule, citations=node.citations, ident=rid)
            self._add_node(rid, "rule", rule)
            self._add_edge(gid, rid, "derived_by", 0)
            gid_children, child_parent_kind = rid, "rule"
        else:
            gid_children, child_parent_kind = gid, kind
        for i, child in enumerate(node.children):
            self.add(child, gid_children, child_parent_kind, i)
        return gid

    def _is_table_row(self, node: Node) -> bool:
        """True for a fact of the knowledge base itself (a body-less clause, not the case file)."""
        if node.field:
            return False
        if self.explainer is not None and node.predicate:
            key = (node.predicate, len(node.args))
            if key in self.explainer.model.base:
                return False
            derivation = self.explainer.model.derivation(key, tuple(node.args))
            if derivation is not None:
                return derivation.clause.is_fact
            return node.kind == "fact"
        return node.kind == "fact" or (node.rule or "").count("/") == 1 and not node.citations


def from_tree(tree: Node, *, explainer=None, **graph_attrs: Any) -> nx.DiGraph:
    """A proof graph for one explanation tree (`explainer`, when given, tells case facts from
    knowledge-base table rows); keyword arguments become graph attributes."""
    builder = _Builder(explainer)
    root = builder.add(tree)
    graph = builder.graph
    graph.graph.update(graph_attrs)
    graph.graph["root"] = root
    return graph


# -- graphs of a case session -------------------------------------------------------------------------
def _meta(session, **extra: Any) -> dict[str, Any]:
    kb = session.kb
    return {"case_id": session.case_id, "kb_version": kb.version, "kb_digest": kb.digest, **extra}


def _citations(graph: nx.DiGraph, kb) -> None:
    cited = sorted({c for _, data in graph.nodes(data=True) for c in data["citations"]})
    graph.graph["citations"] = {c: kb.citations.get(c, {}).get("title", "") for c in cited}


def proof_graph(session, key: tuple[str, int], row: tuple, *, title: str | None = None) -> nx.DiGraph:
    """The proof graph of a derived fact (`key` = (predicate, arity), `row` its arguments)."""
    tree = session.explainer.why(key, tuple(row))
    graph = from_tree(tree, explainer=session.explainer, **_meta(
        session, mode="why", title=title or f"Why {tree.label}"))
    _citations(graph, session.kb)
    return graph


def line_proof_graph(session, line) -> nx.DiGraph:
    """The proof of a requested line's verdict, down to the case facts."""
    from engine.decide.decision import LINE_VERDICT, line_verdict

    verdict, basis = line_verdict(session, line)
    words = session.kb.words
    graph = proof_graph(session, LINE_VERDICT, (line.id, verdict, basis),
                        title=f"Why {session.voice.line(line.id)} is {words.verdict(verdict)} ({words.basis(basis)})")
    graph.graph.update(line=line.id, verdict=verdict, basis=basis)
    return graph


def why_not_graph(session, line, verdict: str | None = None) -> nx.DiGraph:
    """The failure graph of "`line` is `verdict`": every rule that could have concluded it, every
    condition that failed in each, down to missing and contradicting facts.

    When the line already has that verdict there is nothing to explain: the graph is its proof,
    with ``graph.graph["holds"] = True``.
    """
    from engine.decide.decision import line_verdict
    from engine.decide.whynot import failure_tree

    verdict = verdict or session.kb.verdicts["positive"]
    actual, basis = line_verdict(session, line)
    if actual == verdict:
        graph = line_proof_graph(session, line)
        graph.graph["holds"] = True
        return graph
    tree = failure_tree(session, line, verdict)
    graph = from_tree(tree, explainer=session.explainer, **_meta(
        session, mode="why_not", title=f"Why {session.voice.line(line.id)} is not {session.kb.words.verdict(verdict)} "
                                       f"(it is {session.kb.words.verdict(actual)}: {session.kb.words.basis(basis)})",
        line=line.id, verdict=verdict, actual=actual, basis=basis, holds=False))
    _citations(graph, session.kb)
    return graph


def ordered_edges(graph: nx.DiGraph) -> list[tuple[str, str, dict[str, Any]]]:
    """Edges grouped by source in node order, each source's edges in body order."""
    out = []
    for source in graph.nodes:
        edges = sorted(graph.out_edges(source, data=True), key=lambda e: e[2].get("order", 0))
        out.extend(edges)
    return out


def layers(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's depth: the longest path to it from the root (edges closing a cycle ignored)."""
    root = graph.graph.get("root")
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}
    starts = ([root] if root in graph else []) + [n for n in graph.nodes if graph.in_degree(n) == 0]
    for start in starts + list(graph.nodes):
        if start in state:
            continue
        stack = [(start, iter(_successors(graph, start)))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(_successors(graph, child))))
    depth = {n: 0 for n in graph.nodes}
    for node in reversed(order):  # a topological order of the graph without back edges
        for child in _successors(graph, node):
            if (node, child) not in back:
                depth[child] = max(depth[child], depth[node] + 1)
    return depth


def _successors(graph: nx.DiGraph, node: str) -> list[str]:
    return [t for _, t, _ in sorted(graph.out_edges(node, data=True), key=lambda e: e[2].get("order", 0))]


def orientation(graph: nx.DiGraph, depth: dict[str, int] | None = None) -> str:
    """`TB` (top to bottom) or `LR` (left to right), whichever gives the less elongated drawing."""
    depth = depth if depth is not None else layers(graph)
    if not depth:
        return "TB"
    ranks = max(depth.values()) + 1
    breadth = max(list(depth.values()).count(r) for r in range(ranks))
    node_w, node_h = 300.0, 64.0

    def elongation(w: float, h: float) -> float:
        return max(w, h) / max(min(w, h), 1.0)

    tb = elongation(breadth * node_w, ranks * (node_h + 30))
    lr = elongation(ranks * (node_w + 40), breadth * node_h)
    return "TB" if tb <= lr else "LR"
