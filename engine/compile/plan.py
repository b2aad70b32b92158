"""The evaluation plan of a program: which strata a demand needs, which derived predicates no
case can change, and the cheap test that lets a rule go unasked for a case.

Plain data over core clauses (no pyDatalog objects); `backend.py` builds and runs the clauses.
"""
from __future__ import annotations

from typing import Sequence

from engine.compile.lower import AUX, CoreClause, CoreProgram, is_aux
from engine.language import ast


class Rule:
    """One rule of a derived predicate, under a head predicate of its own so it can be asked alone.

    `shape` is what engine.compile.prune reads to find, before pyDatalog is asked, that the rule
    can derive nothing for a case (then it is not asked); None when it holds nothing to test."""

    __slots__ = ("pred", "shape", "deltas", "source", "number", "head", "body", "negated", "inputs")

    def __init__(self, pred, shape, source: int | None = None, number: int = 0) -> None:
        self.pred = pred
        self.shape = shape
        self.source = source  # the source clause (CoreClause.source): where its answers come from
        self.number = number  # its place among the program's rules: its tag in a level's joint query
        self.deltas: list = []  # semi-naive variants of a recursive rule (see _add_deltas)
        self.head: list = []  # its pyDatalog head terms and body literals, for the joint query
        self.body: list = []
        self.negated: list[tuple[int, tuple[str, int]]] = []
        """(place in `body`, relation) of each negation whose relation is complete when the rule
        is asked: with no row there, the negation holds for every binding (see joint.py)."""
        self.inputs: tuple[tuple, ...] | None = None
        """The rows its body reads, as views (engine.compile.reuse.rule_inputs): its answers are
        reused for a case whose rows there are the same; None for a recursive rule."""


def reads(core: CoreProgram, component: dict, count: int) -> list[set[int]]:
    """For each component, the components its clauses read directly (itself included), through
    auxiliary clauses."""
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
    return deps


def levels(deps: list[set[int]]) -> list[int]:
    """Each component's level: one more than the highest level it reads (0: it reads only facts).
    Components of one level read none of each other, so their rules can be asked at once."""
    level = [0] * len(deps)
    changed = True
    while changed:  # one pass when components come in evaluation order (they do), a second to confirm
        changed = False
        for index, read in enumerate(deps):
            want = 1 + max((level[j] for j in read if j != index), default=-1)
            if want > level[index]:
                level[index], changed = want, True
    return level


def closures(core: CoreProgram, component: dict, count: int) -> list[set[int]]:
    """For each component, the components it reads (itself included), through auxiliary clauses."""
    deps = reads(core, component, count)
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


def join_order(body: tuple, bound: frozenset[str] = frozenset()) -> tuple:
    """The body in the order pyDatalog should resolve it: a clause means the same in any order, but
    pyDatalog's top-down resolution opens one subgoal per binding of each literal in turn, so a
    filter placed after a join that multiplies rows is run once per row. Greedily: a filter whose
    variables are bound (negation, comparison, a literal fully bound) as soon as it can run, then
    the positive literal joined on the most bound variables, an aggregate once its group is bound,
    and only then a literal sharing no variable with what is bound — the author's first such: the
    order has no row counts, and constants alone say little (`finding(_, S, compression, true)`
    may match every study at every level), so the author's choice of where to start is kept.
    Ties keep the author's order.
    A literal that never becomes ready keeps its place at the end (the checks rule that out)."""
    rest, out, bound = list(body), [], set(bound)
    while rest:
        best: tuple | None = None
        for index, literal in enumerate(rest):
            score = _readiness(literal, bound)
            if score is not None and (best is None or score > best[0]):
                best = (score, index)
        if best is None:
            return tuple(out + rest)
        literal = rest.pop(best[1])
        out.append(literal)
        bound |= _binds(literal)
    return tuple(out)


def clause_order(clause: CoreClause, component: dict, iterate: set[int]) -> tuple:
    """The body of a clause as pyDatalog should resolve it: a non-recursive rule is asked with
    every argument free, a negation's auxiliary with every argument bound (join_order); a
    recursive rule, a fact or another auxiliary keeps the author's order."""
    key = clause.owner or clause.head.key
    if not clause.body or component.get(key) in iterate:
        return clause.body
    if is_aux(clause.head.pred):
        if not clause.head.pred.startswith("neg" + AUX):
            return clause.body
        return join_order(clause.body, frozenset(t.name for t in clause.head.args if isinstance(t, ast.Var)))
    return join_order(clause.body)


def complete_negations(body: Sequence, own: int, component: dict,
                       negations: dict) -> list[tuple[int, tuple[str, int]]]:
    """(place, relation) of each negation of a rule body (of a rule of component `own`) on a
    relation complete when the rule is asked: lower components and facts; a one-literal
    negation helper (`negations`: prune.single_literal_negations) stands for its literal's
    relation. See Rule.negated."""
    found = []
    for place, lit in enumerate(body):
        if isinstance(lit, ast.Negation):
            key = lit.atom.key
            if key in negations:
                key = negations[key][1].key
            elif is_aux(key[0]):
                continue
            if component.get(key) != own:
                found.append((place, key))
    return found


def _names(terms) -> set[str]:
    return {t.name for t in terms if isinstance(t, ast.Var)}


def _readiness(literal, bound: set) -> tuple | None:
    """How early a literal should run given the bound variables (higher first), None: not yet."""
    if isinstance(literal, ast.Negation):
        return (3, 0) if _names(literal.atom.args) <= bound else None
    if isinstance(literal, ast.Comparison):
        left, right = _names((literal.left,)) - bound, _names((literal.right,)) - bound
        if not (left or right) or (literal.op == "=" and not (left and right)):
            return (3, 0)  # a test, or `=` binding one side to the other, bound, side
        return None
    if isinstance(literal, ast.Positive):
        args = literal.atom.args
        if all(isinstance(t, ast.Const) or t.name in bound for t in args):
            return (2, 0)
        joined = len({t.name for t in args if isinstance(t, ast.Var) and t.name in bound})
        return (1, joined) if joined else (0, 0)
    return (1, 0.5) if _names(literal.group) <= bound else None  # an aggregate call


def _binds(literal) -> set[str]:
    if isinstance(literal, (ast.Positive, ast.Negation)):
        return _names(literal.atom.args)
    if isinstance(literal, ast.Comparison):
        return _names((literal.left, literal.right))
    return _names(literal.group) | _names((literal.result,))


def program_plan(core: CoreProgram, strata, recursive) -> dict:
    """What the backend works out from a program before it builds a clause, as plain data (the kb
    cache keeps it): the derived predicates, their components in evaluation order, which
    components iterate, the static predicates and what each component reads."""
    derived = sorted({c.owner or c.head.key for c in core.clauses if c.body and not is_aux(c.head.pred)})
    known = set(derived)
    component: dict = {}
    order: list = []
    for comp in strata:
        keys = [k for k in comp if k in known]
        if keys:
            for k in keys:
                component[k] = len(order)
            order.append(keys)
    for k in derived:  # predicates the strata did not list (e.g. only-auxiliary heads)
        if k not in component:
            component[k] = len(order)
            order.append([k])
    static = static_keys(core, known)
    return {"derived": derived, "component": component, "order": order,
            "iterate": {i for i, comp in enumerate(order) if any(k in recursive for k in comp)},
            "static": (static.keys, static.inputs), "needs": closures(core, component, len(order)),
            "level": levels(reads(core, component, len(order)))}
