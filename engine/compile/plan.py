"""The evaluation plan of a program: which strata a demand needs, which derived predicates no
case can change, and the cheap test that lets a rule go unasked for a case.

Plain data over core clauses (no pyDatalog objects); `backend.py` builds and runs the clauses.
"""
from __future__ import annotations

from engine.compile.lower import CoreClause, CoreProgram, is_aux
from engine.language import ast


class Rule:
    """One rule of a derived predicate, under a head predicate of its own so it can be asked alone.

    `checks` are the positive body literals on relations of lower strata, each with the string
    constants it requires: a rule one of them cannot match derives nothing for this case and is
    not asked. (Only string constants: pyDatalog rounds floats, so numbers are left to it.)"""

    __slots__ = ("pred", "checks", "deltas", "source")

    def __init__(self, pred, checks: list, source: int | None = None) -> None:
        self.pred = pred
        self.checks = checks
        self.source = source  # the source clause (CoreClause.source): where its answers come from
        self.deltas: list = []  # semi-naive variants of a recursive rule (see _add_deltas)

    def live(self, has_rows) -> bool:
        return all(has_rows(key, pattern) for key, pattern in self.checks)


class Presence:
    """The values each column of a relation holds: a necessary condition for a row to match."""

    __slots__ = ("size", "columns")

    def __init__(self, rows) -> None:
        rows = list(rows)
        self.size = len(rows)
        self.columns = [set(column) for column in zip(*rows)]

    def admits(self, pattern: tuple) -> bool:
        """False when no row can have these values at these positions (True may still be none)."""
        return self.size > 0 and all(value in self.columns[i] for i, value in pattern)


def rule_checks(clause: CoreClause, component: dict, own: int) -> list:
    checks = []
    for lit in clause.body:
        if not isinstance(lit, ast.Positive) or is_aux(lit.atom.pred) or component.get(lit.atom.key) == own:
            continue
        pattern = tuple((i, t.value) for i, t in enumerate(lit.atom.args)
                        if isinstance(t, ast.Const) and isinstance(t.value, str))
        checks.append((lit.atom.key, pattern))
    return checks


def closures(core: CoreProgram, component: dict, count: int) -> list[set[int]]:
    """For each component, the components it reads (itself included), through auxiliary clauses."""
    deps: list[set[int]] = [{i} for i in range(count)]
    for clause in core.clauses:
        node = component.get(clause.owner or clause.head.key)
        if node is None:
            continue
        for lit in clause.body:
            for atom in atoms(lit):
                target = component.get(atom.key)
                if target is not None:
                    deps[node].add(target)
    closures: list[set[int]] = []
    for index in range(count):
        closure, todo = set(), [index]
        while todo:
            node = todo.pop()
            if node not in closure:
                closure.add(node)
                todo.extend(deps[node])
        closures.append(closure)
    return closures


def const_value(term: ast.Term):
    return term.value if isinstance(term, ast.Const) else None


class Static:
    """Derived predicates that no case fact can change (computed once per thread), and the
    fact-only predicates they read (asserting into one of those invalidates them)."""

    def __init__(self, keys: set, inputs: set) -> None:
        self.keys = keys
        self.inputs = inputs
        self.input_names = {k[0] for k in inputs}


def static_keys(core: CoreProgram, derived: set) -> Static:
    """Derived predicates that cannot reach a predicate without clauses (a case input).

    Auxiliary clauses fold into the predicate they were lowered from. Everything a static
    predicate depends on is an input: asserting facts into any of them makes it stale.
    """
    deps: dict[tuple[str, int], set] = {}
    defined = {c.head.key for c in core.clauses} | {key for key, _ in core.facts}
    for clause in core.clauses:
        node = clause.owner or clause.head.key
        for lit in clause.body:
            for atom in atoms(lit):
                deps.setdefault(node, set()).add(atom.key)
    users: dict[tuple[str, int], set] = {}
    for node, targets in deps.items():
        for target in targets:
            users.setdefault(target, set()).add(node)
    dynamic = {k for k in core.predicates if k not in defined}
    todo = list(dynamic)
    while todo:  # everything that (transitively) reads a case input is dynamic
        for user in users.get(todo.pop(), ()):
            if user not in dynamic:
                dynamic.add(user)
                todo.append(user)
    keys = {k for k in derived if k not in dynamic}
    inputs: set = set()
    todo = list(keys)
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep not in inputs:
                inputs.add(dep)
                todo.append(dep)
    return Static(keys, inputs | keys)


def atoms(literal) -> list[ast.Atom]:
    if isinstance(literal, (ast.Positive, ast.Negation)):
        return [literal.atom]
    return []
