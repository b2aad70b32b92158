"""Stratification: negation and aggregation may not go through recursion.

pyDatalog hangs on negative cycles; this pass rejects them and, for programs that pass,
computes the strata that the Prolog export and the provenance evaluator use.
"""
from __future__ import annotations

from typing import Sequence

from engine.language import ast
from engine.errors import Finding, Location
from engine.guard.record import record

Key = tuple[str, int]


@record(frozen=True)
class Edge:
    head: Key
    body: Key
    negative: bool
    loc: Location | None


def dependency_edges(clauses: Sequence[ast.Clause]) -> list[Edge]:
    edges = []
    for clause in clauses:
        for literal in clause.body:
            for atom, negative in ast.body_atoms(literal):
                loc = literal.loc if negative and getattr(literal, "loc", None) else atom.loc
                edges.append(Edge(clause.head.key, atom.key, negative, loc))
    return edges


def components(nodes: Sequence[Key], edges: Sequence[Edge]) -> list[list[Key]]:
    """Strongly connected components (Tarjan, iterative), dependencies before dependants."""
    graph: dict[Key, list[Key]] = {n: [] for n in nodes}
    for e in edges:
        graph.setdefault(e.head, []).append(e.body)
        graph.setdefault(e.body, [])
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    on_stack: set[Key] = set()
    stack: list[Key] = []
    result: list[list[Key]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                result.append(sorted(component))
    return result


def recursive_keys(clauses: Sequence[ast.Clause]) -> set[Key]:
    """Predicates that take part in a cycle (SWI-Prolog tables them)."""
    edges = dependency_edges(clauses)
    comps = components(sorted({c.head.key for c in clauses}), edges)
    self_loops = {e.head for e in edges if e.head == e.body}
    return {k for comp in comps for k in comp if len(comp) > 1 or k in self_loops}


def check_stratification(modules: Sequence[ast.Module]) -> list[Finding]:
    clauses = [c for m in modules for c in m.clauses]
    edges = dependency_edges(clauses)
    comp_of: dict[Key, int] = {}
    comps = components(sorted({c.head.key for c in clauses}), edges)
    for i, comp in enumerate(comps):
        for key in comp:
            comp_of[key] = i
    findings = []
    for e in edges:
        if e.negative and comp_of.get(e.head) == comp_of.get(e.body) and e.head in comp_of:
            cycle = " → ".join(f"{k[0]}/{k[1]}" for k in comps[comp_of[e.head]])
            findings.append(Finding("unstratifiable",
                                    f"{e.body[0]}/{e.body[1]} is negated or aggregated inside its own "
                                    f"recursion ({cycle}); the program cannot be stratified", e.loc))
    return findings
