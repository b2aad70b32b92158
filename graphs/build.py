"""Explanation trees (`engine.explain.Node`) turned into networkx proof graphs.

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

Every node carries ``kind, label, text, rule, citations, field, source, status`` (empty strings
and lists where a value does not apply), so every renderer can read every node the same way.
Edges carry ``kind`` (``derived_by``, ``premise``, ``attempt``, ``fails``, ``holds``,
``not_derived``) and ``order`` (the premise's position in its rule body).
"""
from __future__ import annotations

from typing import Any, Iterable

import networkx as nx

from engine import ast
from engine.explain import Node, node_id

GRAPH_KINDS = ("conclusion", "rule", "fact", "negation", "comparison", "aggregate",
               "not_derived", "failed_rule", "missing", "contradicted", "blocked")
"""Node kinds in the order legends list them."""

EXPAND_DEPTH = 2
"""How many nested why-not expansions a why-not graph follows below a contradicting proof."""

MAX_CONTRADICTING = 8
"""At most this many contradicting facts are drawn under one failed negation."""

_STATUS = {"conclusion": "holds", "rule": "holds", "fact": "holds", "negation": "holds",
           "comparison": "holds", "aggregate": "holds", "not_derived": "fails", "failed_rule": "fails",
           "missing": "fails", "contradicted": "fails", "blocked": "blocked"}


class _Builder:
    def __init__(self, explainer=None, expand_depth: int = 0) -> None:
        self.graph = nx.DiGraph()
        self.explainer = explainer
        self.expand_depth = expand_depth
        self._done: set[tuple[int, int]] = set()   # (id(Node), expansion level) already drawn
        self._keep: list[Node] = []                 # keep expanded trees alive while ids are in use

    # -- nodes ---------------------------------------------------------------------------------
    def _add_node(self, gid: str, kind: str, label: str, *, text: str = "", rule: str | None = None,
                  citations: Iterable[str] = (), field: str | None = None, source: str = "",
                  predicate: str | None = None) -> None:
        if gid in self.graph:
            return
        self.graph.add_node(gid, kind=kind, label=label, text=text or "", rule=rule or "",
                            citations=list(citations or ()), field=field or "", source=source,
                            predicate=predicate or "", status=_STATUS.get(kind, "holds"))

    def _add_edge(self, parent: str | None, child: str, kind: str, order: int) -> None:
        if parent is None or parent == child or self.graph.has_edge(parent, child):
            return
        self.graph.add_edge(parent, child, kind=kind, order=order)

    # -- tree walk --------------------------------------------------------------------------------
    def add(self, node: Node, parent: str | None = None, edge: str = "premise", order: int = 0,
            level: int = 0) -> str:
        """Add `node` and everything below it; return its graph id."""
        gid = node.id or node_id("graph", node.kind, node.label)
        kind = node.kind
        if kind == "conclusion" and not node.children:
            kind = "fact"  # derived from a body-less clause: a table row of the kb
            source = "kb"
        elif kind == "fact":
            source = "case" if node.field or self._is_base(node) else "kb"
        else:
            source = ""
        self._add_node(gid, kind, node.label, text=node.text, rule=node.rule, citations=node.citations,
                       field=node.field, source=source, predicate=node.predicate)
        self._add_edge(parent, gid, edge, order)
        seen = (id(node), level)
        if seen in self._done:
            return gid
        self._done.add(seen)

        if kind == "conclusion":
            rid = node_id("rule-instance", gid)
            self._add_node(rid, "rule", node.rule or "", text=node.text, rule=node.rule,
                           citations=node.citations)
            self._add_edge(gid, rid, "derived_by", 0)
            for i, child in enumerate(node.children):
                self.add(child, rid, "premise", i, level)
        elif kind == "not_derived":
            for i, child in enumerate(node.children):
                self.add(child, gid, "attempt", i, level)
        elif kind == "failed_rule":
            for i, child in enumerate(node.children):
                self.add(child, gid, "fails", i, level)
        elif kind == "contradicted":
            children = list(node.children)
            if children and self.explainer is not None and level < self.expand_depth:
                children += self._other_matches(node, children)
            for i, child in enumerate(children):
                self.add(child, gid, "holds", i, level)
        else:
            for i, child in enumerate(node.children):
                self.add(child, gid, "premise", i, level)

        if kind == "negation" and self.explainer is not None and level < self.expand_depth:
            expansion = self._why_not_of(node)
            if expansion is not None:
                self.add(expansion, gid, "not_derived", 0, level + 1)
        return gid

    def _is_base(self, node: Node) -> bool:
        if self.explainer is None or not node.predicate:
            return False
        return (node.predicate, len(node.args)) in self.explainer.model.base

    def _other_matches(self, node: Node, shown: list[Node]) -> list[Node]:
        """Every further fact that contradicts a failed ``\\+ goal``, each with its proof.

        The explainer proves one matching fact; all of them must go for the negation to hold, so
        a why-not graph shows each (up to MAX_CONTRADICTING).
        """
        from engine.parser import parse_goal

        try:
            literals = parse_goal(node.label)
        except Exception:
            return []
        if len(literals) != 1 or not isinstance(literals[0], ast.Negation):
            return []
        atom = literals[0].atom
        known = {child.id for child in shown}
        extra: list[Node] = []
        for _env, row in self.explainer.model.match_rows(atom, {}):
            proof = self.explainer.why(atom.key, tuple(row))
            if proof.id not in known:
                known.add(proof.id)
                extra.append(proof)
            if len(known) >= MAX_CONTRADICTING:
                break
        return extra

    def _why_not_of(self, negation: Node) -> Node | None:
        """Why the negated goal of a holding `\\+ goal` is not derived: what documenting would break it."""
        if not negation.predicate or not negation.args or any(a is None for a in negation.args):
            return None
        atom = ast.Atom(negation.predicate, tuple(ast.Const(a) for a in negation.args))
        tree = self.explainer.why_not(atom, depth=6)
        self._keep.append(tree)
        return tree if tree.children or tree.kind in ("missing", "contradicted") else None


def from_tree(tree: Node, *, explainer=None, expand_depth: int = 0, **graph_attrs: Any) -> nx.DiGraph:
    """A proof graph for one explanation tree.

    With an `explainer` and `expand_depth > 0`, every ground ``\\+ goal`` that holds inside the
    tree is followed by the why-not tree of ``goal``: in a why-not graph this shows which missing
    documentation would break a contradicting fact.
    """
    builder = _Builder(explainer, expand_depth)
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
    from engine.decision import LINE_VERDICT, line_verdict

    verdict, basis = line_verdict(session, line)
    graph = proof_graph(session, LINE_VERDICT, (line.id, verdict, basis),
                        title=f"Why line {line.id} is {verdict} ({basis})")
    graph.graph.update(line=line.id, verdict=verdict, basis=basis)
    return graph


def why_not_graph(session, line, verdict: str = "medically_necessary", *,
                  expand_depth: int = EXPAND_DEPTH) -> nx.DiGraph:
    """The failure graph of "`line` is `verdict`": every rule that could have concluded it, every
    condition that failed in each, down to missing and contradicting facts.

    When the line already has that verdict there is nothing to explain: the graph is its proof,
    with ``graph.graph["holds"] = True``.
    """
    from engine.decision import line_verdict

    actual, basis = line_verdict(session, line)
    if actual == verdict:
        graph = line_proof_graph(session, line)
        graph.graph["holds"] = True
        return graph
    goal = ast.Atom("line_verdict", (ast.Const(line.id), ast.Const(verdict), ast.Var("Basis")))
    tree = session.explainer.why_not(goal)
    graph = from_tree(tree, explainer=session.explainer, expand_depth=expand_depth, **_meta(
        session, mode="why_not", title=f"Why line {line.id} is not {verdict} (it is {actual}, {basis})",
        line=line.id, verdict=verdict, actual=actual, basis=basis, holds=False))
    _citations(graph, session.kb)
    return graph


def kinds_present(graph: nx.DiGraph) -> list[str]:
    """The node kinds a graph uses, in legend order."""
    used = {data["kind"] for _, data in graph.nodes(data=True)}
    return [k for k in GRAPH_KINDS if k in used]


def ordered_edges(graph: nx.DiGraph) -> list[tuple[str, str, dict[str, Any]]]:
    """Edges grouped by source in node order, each source's edges in body order."""
    out = []
    for source in graph.nodes:
        edges = sorted(graph.out_edges(source, data=True), key=lambda e: e[2].get("order", 0))
        out.extend(edges)
    return out


def line_file_name(line, fmt: str) -> str:
    """`2-22633-L4-5.svg` for line 2:22633:L4-5; a line without level or side drops the `-`."""
    parts = [p for p in str(line.id).split(":") if p and p != "-"]
    return "-".join(parts) + "." + fmt


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
