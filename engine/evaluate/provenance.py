"""Provenance evaluation: the program's model computed in Python, with one derivation per fact.

pyDatalog answers queries but keeps no derivations. This evaluator runs the same checked AST
bottom-up, stratum by stratum, and records for each derived fact the first clause instance
that produced it, so proofs (`why`) and failure analyses (`why-not`) can be read off. Tests
check that its model equals pyDatalog's answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Iterator, Mapping, Sequence

from engine.errors import EvaluationError
from engine.evaluate.relation import Relation, in_order, shared_relation
from engine.guard import budget as _budget
from engine.guard.memo import ByIdentity
from engine.language import ast
from engine.language.visit import anonymous_renamer, map_terms, order_key, literal_variables

Key = tuple[str, int]
Row = tuple
Env = dict[str, Any]


def compare(op: str, a: Any, b: Any) -> bool:
    if op in ("=", "\\="):
        same = a == b and order_key(a)[0] == order_key(b)[0]
        return same if op == "=" else not same
    ka, kb = order_key(a), order_key(b)
    return {"<": ka < kb, "=<": ka <= kb, ">": ka > kb, ">=": ka >= kb}[op]


def value_of(term: ast.Term, env: Env) -> Any:
    """The term's value under env, or None when it is an unbound variable."""
    if isinstance(term, ast.Const):
        return term.value
    return env.get(term.name)


@dataclass(frozen=True)
class Derivation:
    clause: ast.Clause
    env: tuple[tuple[str, Any], ...]

    @property
    def bindings(self) -> dict[str, Any]:
        return dict(self.env)


class BodySolver:
    """Left-to-right evaluation of a clause body over whatever `match_atom` reads; shared by the
    provenance model and the explainer's hypotheses so that both read bodies the same way."""

    def match_atom(self, atom: ast.Atom, env: Env) -> Iterator[Env]:
        raise NotImplementedError

    def solve(self, body: Sequence[ast.Literal], env: Env) -> Iterator[Env]:
        """Every extension of env that satisfies the literals, left to right."""
        if not body:
            return iter((env,))
        return self._solve(body, 0, env)

    def _solve(self, body: Sequence[ast.Literal], i: int, env: Env) -> Iterator[Env]:
        literal = body[i]
        if isinstance(literal, ast.Positive):
            found = self.match_atom(literal.atom, env)
        else:
            found = self.solve_literal(literal, env)
        if i + 1 == len(body):
            yield from found
        else:
            for extended in found:
                yield from self._solve(body, i + 1, extended)

    def solve_literal(self, literal: ast.Literal, env: Env) -> Iterator[Env]:
        if isinstance(literal, ast.Positive):
            yield from self.match_atom(literal.atom, env)
        elif isinstance(literal, ast.Negation):
            if not any(True for _ in self.match_atom(literal.atom, env)):
                yield env
        elif isinstance(literal, ast.Comparison):
            left, right = value_of(literal.left, env), value_of(literal.right, env)
            if literal.op == "=" and (left is None) != (right is None):
                var = literal.left if left is None else literal.right
                yield {**env, var.name: right if left is None else left}
            elif left is not None and right is not None and compare(literal.op, left, right):
                yield env
        else:
            value = self.aggregate(literal, env)
            if value is None:
                return
            result = value_of(literal.result, env)
            if result is None:
                yield {**env, literal.result.name: value}
            elif compare("=", result, value):
                yield env

    def aggregate(self, literal: ast.Aggregate, env: Env) -> Any:
        bound = set(env)
        literal = _named_anonymous(literal)  # each `_` is its own local variable: distinct bindings count
        local_names: list[str] = []
        for g in literal.goal:
            for v in literal_variables(g):
                if v.name not in bound and v.name not in local_names:
                    local_names.append(v.name)
        seen: set[tuple] = set()
        values = []
        for solution in self.solve(literal.goal, env):
            row = tuple(solution.get(n) for n in local_names)
            if row in seen:
                continue
            seen.add(row)
            if literal.over is not None:
                values.append(solution[literal.over.name])
        if literal.kind == "count":
            return len(seen)
        atoms = sum(1 for v in values if isinstance(v, str))
        if atoms and (atoms < len(values) or literal.kind == "sum"):
            met = "atoms" if literal.kind == "sum" else "both atoms and numbers"
            raise EvaluationError(f"an aggregate_all({literal.kind}) met {met} in the column it aggregates; max "
                                  "and min compare numbers with numbers and atoms with atoms, and sum adds numbers "
                                  "only", location=literal.loc, code="aggregate_types")
        if literal.kind == "sum":
            return sum(values)
        if not values:
            return None
        ordered = sorted(values, key=order_key)
        return ordered[-1] if literal.kind == "max" else ordered[0]


class Model(BodySolver):
    """All facts of a program for one set of base facts, with the derivation of each derived fact.

    Given `derived` (the answers another engine computed, e.g. pyDatalog's), the model takes
    them as they are and reconstructs a derivation only when one is asked for: for a fact of
    a non-recursive predicate, the first clause whose body holds with the head bound to it.
    Without `derived` it evaluates the program itself, bottom-up, recording derivations.
    """

    def __init__(self, clauses: Sequence[ast.Clause], facts: Mapping[Key, Sequence[Row]],
                 strata: Sequence[Sequence[Key]], recursive: set[Key],
                 derived: Mapping[Key, Sequence[Row]] | None = None,
                 fact_rows: Mapping[Key, Sequence[Row]] | None = None,
                 by_head: Mapping[Key, list[ast.Clause]] | None = None,
                 origins: Mapping[Key, Mapping[Row, set]] | None = None,
                 budget: "_budget.Budget | None" = None) -> None:
        self.budget = budget or _budget.Budget.default()
        self.relations: dict[Key, Relation] = {}
        self.derivations: dict[Key, dict[Row, Derivation]] = {}
        self.base: set[Key] = set()
        self.recursive = recursive
        self._pending: tuple[Mapping, Mapping] | None = None
        self.lazy = derived is not None and not recursive
        self._case = facts if self.lazy else {}  # lazy: the case's rows go in when first read (_load)
        for key, rows in facts.items():
            self.base.add(key)
            if not self.lazy:
                rel = self.relation(key)
                for row in rows:
                    rel.add(tuple(row))
        if by_head is None:
            by_head = {}
            for clause in clauses:
                by_head.setdefault(clause.head.key, []).append(clause)
        self.clauses_by_head = by_head
        self.origins = origins or {}
        if self.lazy:  # relations are filled from the answers when first read (_load)
            self._pending = (fact_rows if fact_rows is not None else kb_fact_rows(clauses), derived)
            self._loaded: set[Key] = set()
            return
        with _budget.metering(self.budget, "the rules (provenance)"):  # one row matched: one step
            self._evaluate(strata, recursive, by_head)

    def _evaluate(self, strata: Sequence[Sequence[Key]], recursive: set[Key],
                  by_head: Mapping[Key, list[ast.Clause]]) -> None:
        for component in strata:
            rules = [c for key in component for c in by_head.get(key, ())]
            if not rules:
                continue
            if any(k in recursive for k in component):
                changed = True
                while changed:
                    changed = False
                    for clause in rules:
                        changed |= self._fire(clause)
            else:
                for clause in rules:
                    self._fire(clause)

    def derivation(self, key: Key, row: Row) -> Derivation | None:
        """How a derived fact was obtained (reconstructed on first request in lazy mode, within
        the evaluation budget)."""
        known = self.derivations.get(key)
        if known is not None and row in known:
            return known[row]
        with _budget.metering(self.budget, "a derivation"):
            return self._derivation(key, row)

    def _derivation(self, key: Key, row: Row) -> Derivation | None:
        known = self.derivations.get(key, {}).get(row)
        if known is not None or not self.lazy or not self.holds(key, row):
            return known
        clauses = self.clauses_by_head.get(key, ())
        origin = self.origins.get(key, {}).get(row)
        # with pyDatalog's word on which rules derive the row, only those (and stated facts)
        for index in range(len(clauses)) if origin is None else _candidates(clauses, origin):
            clause = clauses[index]
            env = _head_env(clause.head, row)
            if env is None:
                continue
            solution = self._first(clause.body, 0, env)
            if solution is not None:
                found = Derivation(clause, tuple(sorted(solution.items())))
                self.derivations.setdefault(key, {})[row] = found
                return found
        return None

    def _first(self, body: Sequence[ast.Literal], i: int, env: Env) -> Env | None:
        """The first solution `solve(body[i:], env)` gives, depth first: a derivation needs one
        solution, so no chain of generators is built over the whole body."""
        if i == len(body):
            return env
        literal = body[i]
        if not isinstance(literal, ast.Positive):
            for extended in self.solve_literal(literal, env):
                found = self._first(body, i + 1, extended)
                if found is not None:
                    return found
            return None
        for out in self._matches(literal.atom, env, False):
            found = self._first(body, i + 1, out)
            if found is not None:
                return found
        return None

    def relation(self, key: Key) -> Relation:
        rel = self._get(key)
        if rel is None:
            rel = self.relations[key] = Relation()
        return rel

    def _get(self, key: Key) -> Relation | None:
        rel = self.relations.get(key)
        if self._pending is not None and key not in self._loaded:
            rel = self._load(key, rel)
        return rel

    def _load(self, key: Key, rel: Relation | None) -> Relation | None:
        """A relation in lazy mode: the case's facts, then the kb's, then the answers in sorted order
        (pyDatalog answers come in hash order; sorting makes every explanation repeatable)."""
        self._loaded.add(key)
        kb_rows, derived = self._pending
        fixed, answers = kb_rows.get(key, ()), derived.get(key, ())
        if rel is None and key in self._case:
            rel = self.relations[key] = Relation()
            for row in self._case[key]:
                rel.add(tuple(row))
        if not fixed and not answers:
            return rel
        if rel is None:  # no case rows: a kb table, or answers that may be every case's
            rel = self.relations[key] = shared_relation(kb_rows, key, answers)
            return rel
        for row in fixed:
            rel.add(row)
        for row in in_order(answers):
            rel.add(row)
        return rel

    def rows(self, key: Key) -> list[Row]:
        rel = self._get(key)
        return list(rel.rows) if rel else []

    def holds(self, key: Key, row: Row) -> bool:
        rel = self._get(key)
        return bool(rel) and tuple(row) in rel.rows

    def _fire(self, clause: ast.Clause) -> bool:
        key = clause.head.key
        rel = self.relation(key)
        new = False
        derivs = self.derivations.setdefault(key, {})
        for env in list(self.solve(clause.body, {})):
            row = tuple(value_of(t, env) for t in clause.head.args)
            if rel.add(row):
                new = True
                derivs[row] = Derivation(clause, tuple(sorted(env.items())))
        return new

    def match_atom(self, atom: ast.Atom, env: Env) -> Iterator[Env]:
        return self._matches(atom, env, False)

    def match_rows(self, atom: ast.Atom, env: Env) -> Iterator[tuple[Env, Row]]:
        """Each matching row with env extended by it (anonymous `_` arguments bind nothing)."""
        return self._matches(atom, env, True)

    def _matches(self, atom: ast.Atom, env: Env, with_rows: bool) -> Iterator[Any]:
        """match_rows' pairs, or (without `with_rows`) the extended envs alone."""
        rel = self._get(atom.key)
        if not rel:
            return
        pattern, free = _pattern(atom, env)
        meter = _budget._ACTIVE.meter
        for row in rel.match(pattern):
            if meter is not None:
                meter.tick()
            out = _extended(env, free, row) if free else env
            if out is not None:
                yield (out, row) if with_rows else out


def _extended(env: Mapping[str, Any], free: Sequence[tuple[int, str]], row: tuple) -> dict | None:
    """env with the row's values at the free variables' places; None when a variable that
    occurs twice would need two values."""
    out = dict(env)
    for pos, name in free:
        current = out.get(name)
        if current is None:
            out[name] = row[pos]
        elif current != row[pos]:
            return None
    return out


def bound_row(atom: ast.Atom, env: Mapping[str, Any]) -> tuple:
    """The atom's arguments under env: each constant's value, each bound variable's value, None
    for an unbound or anonymous (`_`) one (`value_of` of each argument)."""
    consts, names = atom.slots
    if not names:
        return consts
    row = list(consts)
    for pos, name in names:
        row[pos] = env.get(name)
    return tuple(row)


def _pattern(atom: ast.Atom, env: Env) -> tuple[list[Any], list[tuple[int, str]]]:
    """The values env gives the atom's arguments (None: open), and the named variables it leaves
    open, with their positions."""
    consts, names = atom.slots
    pattern = list(consts)
    free = []
    for pos, name in names:
        value = env.get(name)
        if value is None:
            free.append((pos, name))
        else:
            pattern[pos] = value
    return pattern, free


def _head_env(head: ast.Atom, row: Row) -> Env | None:
    """The bindings that make a clause head equal to the row (None: it cannot)."""
    consts, names = head.slots
    for pos, value in enumerate(consts):
        if value is not None and not _same(value, row[pos]):
            return None
    env: Env = {}
    for pos, name in names:
        if name in env:
            if not _same(env[name], row[pos]):
                return None
        else:
            env[name] = row[pos]
    return env


def _same(a: Any, b: Any) -> bool:
    """compare("=", a, b), without its term order when both values are of one type."""
    return a == b if type(a) is type(b) else compare("=", a, b)


def _candidates(clauses: Sequence[ast.Clause], origin: Collection[int]) -> list[int]:
    """The clauses (by index, in order) that may derive a row whose deriving rules are `origin`:
    those rules and the predicate's stated facts (found once per list of clauses, not per row)."""
    stated = _STATED.get(clauses, _stated_at)
    return sorted({*origin, *stated} if stated else origin)


def _stated_at(clauses: Sequence[ast.Clause]) -> frozenset[int]:
    return frozenset(i for i, clause in enumerate(clauses) if not clause.body)


_STATED: ByIdentity[frozenset[int]] = ByIdentity(4096)


def kb_fact_rows(clauses: Sequence[ast.Clause]) -> dict[Key, list[Row]]:
    """The rows the program states as facts, per predicate, in clause order."""
    rows: dict[Key, list[Row]] = {}
    for clause in clauses:
        if clause.is_fact:
            rows.setdefault(clause.head.key, []).append(tuple(a.value for a in clause.head.args))
    return rows


_RENAMED: dict[int, tuple[ast.Aggregate, ast.Aggregate]] = {}


def _named_anonymous(literal: ast.Aggregate) -> ast.Aggregate:
    """The aggregate with each `_` of its goal renamed apart (memoised per literal object)."""
    known = _RENAMED.get(id(literal))
    if known is not None and known[0] is literal:
        return known[1]
    term = anonymous_renamer()
    goal = tuple(map_terms(g, term) for g in literal.goal)
    renamed = ast.Aggregate(literal.kind, literal.over, goal, literal.result, literal.loc)  # type: ignore[arg-type]
    _RENAMED[id(literal)] = (literal, renamed)
    return renamed
