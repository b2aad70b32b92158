"""A hypothetical model: the case's model with some facts added, evaluated only where it changes.

Checking a candidate documentation set means asking "would this goal hold with these facts?".
Re-evaluating the whole program for each candidate is what made why-not slow. A `Hypothesis`
answers the same questions as `engine.evaluate.provenance.Model` (match, solve, aggregate,
derivation), but:

- a predicate the added facts cannot reach (not downstream of them in the dependency graph) is
  read straight from the base model, already computed and indexed;
- a predicate they can reach is evaluated top-down, on demand, for the bound arguments a query
  gives, and memoised — so only the strata a changed fact reaches, and within them only the rows
  the goal needs, are ever computed.

The kb is stratified and, when it has recursion, a recursive predicate downstream of the
change is computed bottom-up over its component instead (see `_component`).

Hypotheses of one case also share work: each answer a hypothesis derives remembers what it read
(base rows and unaffected relations, as (predicate, pattern) pairs); an answer that read none of
its own hypothesis's added facts is the case's answer, kept in a `Shared` cache, and any later
hypothesis whose added facts it did not read reuses it as it is.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from engine.evaluate.provenance import BodySolver, Derivation, compare, value_of
from engine.language import ast

Key = tuple[str, int]
Row = tuple
Env = dict[str, Any]


def downstream(changed: set[Key], clauses_by_head: Mapping[Key, Sequence[ast.Clause]]) -> set[Key]:
    """Every predicate whose answers may differ when facts of `changed` are added."""
    users: dict[Key, set[Key]] = {}
    for head, clauses in clauses_by_head.items():
        for clause in clauses:
            for literal in clause.body:
                for atom, _ in ast.body_atoms(literal):
                    users.setdefault(atom.key, set()).add(head)
    out, todo = set(changed), list(changed)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in out:
                out.add(user)
                todo.append(user)
    return out


class Dependents:
    """`downstream` memoised for one program (the same changed keys recur across candidates)."""

    def __init__(self, clauses_by_head: Mapping[Key, Sequence[ast.Clause]]) -> None:
        self.clauses_by_head = clauses_by_head
        self._memo: dict[frozenset, frozenset] = {}

    def __call__(self, changed: set[Key]) -> frozenset:
        key = frozenset(changed)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = frozenset(downstream(set(changed), self.clauses_by_head))
        return found


class Reads:
    """What an answer was computed from: base rows by predicate and pattern, and derived
    relations read as the case had them (by predicate)."""

    __slots__ = ("rows", "derived")

    def __init__(self) -> None:
        self.rows: dict[Key, set[tuple]] = {}
        self.derived: set[Key] = set()

    def base(self, key: Key, pattern: tuple) -> None:
        self.rows.setdefault(key, set()).add(pattern)

    def derived_key(self, key: Key) -> None:
        self.derived.add(key)

    def merge(self, other: "Reads") -> None:
        for key, patterns in other.rows.items():
            mine = self.rows.get(key)
            if mine is None:
                self.rows[key] = set(patterns)
            else:
                mine |= patterns
        self.derived |= other.derived


class Shared:
    """The case's own answers found while evaluating hypotheses, with what each read."""

    def __init__(self) -> None:
        self.answers: dict[tuple[Key, tuple], tuple[list[Row], Reads]] = {}


class Hypothesis(BodySolver):
    """The base model plus `added` base facts; see the module docstring."""

    def __init__(self, base, clauses_by_head: Mapping[Key, Sequence[ast.Clause]],
                 added: Mapping[Key, Sequence[Row]], dependents: Dependents | None = None,
                 recursive: set[Key] | frozenset = frozenset(), shared: Shared | None = None) -> None:
        self.base_model = base
        self.clauses_by_head = clauses_by_head
        self.added = {key: [tuple(r) for r in rows] for key, rows in added.items() if rows}
        self.affected = (dependents or Dependents(clauses_by_head))(set(self.added))
        self.recursive = recursive
        self.base = base.base | set(self.added)
        self.shared = shared
        self._answers: dict[tuple[Key, tuple], list[Row]] = {}
        self._reads: dict[tuple[Key, tuple], Reads] = {}
        self._frames: list[Reads] = []
        self._full: dict[Key, set[Row]] = {}
        self._active: set[tuple[Key, tuple]] = set()

    # -- the Model interface ---------------------------------------------------------------
    def rows(self, key: Key) -> list[Row]:
        if key not in self.affected:
            return self.base_model.rows(key)
        return self._lookup(key, (None,) * key[1])

    def holds(self, key: Key, row: Row) -> bool:
        return tuple(row) in set(self._lookup(key, tuple(row)))

    def match_atom(self, atom: ast.Atom, env: Env) -> Iterator[Env]:
        for extended, _row in self.match_rows(atom, env):
            yield extended

    def match_rows(self, atom: ast.Atom, env: Env) -> Iterator[tuple[Env, Row]]:
        if atom.key not in self.affected:
            if self._frames:
                if atom.key in self.clauses_by_head:
                    self._frames[-1].derived_key(atom.key)
                else:
                    self._frames[-1].base(atom.key, _pattern(atom, env))
            yield from self.base_model.match_rows(atom, env)
            return
        pattern = _pattern(atom, env)
        for row in self._lookup(atom.key, pattern):
            out = env
            ok = True
            for t, v in zip(atom.args, row):
                if isinstance(t, ast.Var) and t.name != "_":
                    current = out.get(t.name)
                    if current is None:
                        if out is env:
                            out = dict(env)
                        out[t.name] = v
                    elif current != v:
                        ok = False
                        break
            if ok:
                yield out, row

    def derivation(self, key: Key, row: Row) -> Derivation | None:
        if key not in self.affected:
            return self.base_model.derivation(key, row)
        if key in self.base or not self.holds(key, row):
            return None
        for clause in self.clauses_by_head.get(key, ()):
            env = _unify(clause.head, row)
            if env is None:
                continue
            for solution in self.solve(clause.body, env):
                return Derivation(clause, tuple(sorted(solution.items())))
        return None

    # -- evaluation -----------------------------------------------------------------------
    def _lookup(self, key: Key, pattern: tuple) -> list[Row]:
        if key in self.recursive:
            return [r for r in self._component(key) if _fits(r, pattern)]
        memo = (key, pattern)
        found = self._answers.get(memo)
        if found is not None:
            if self._frames:
                self._frames[-1].merge(self._reads[memo])
            return found
        if key in self.base_model.base or key in self.added:
            probe = ast.Atom(key[0], tuple(ast.Var("_") if v is None else ast.Const(v) for v in pattern))
            rows = [row for _env, row in self.base_model.match_rows(probe, {})]
            rows += [r for r in self.added.get(key, ()) if _fits(r, pattern) and r not in rows]
            reads = Reads()
            reads.base(key, pattern)
        else:
            known = self.shared.answers.get(memo) if self.shared is not None else None
            if known is not None and not self._hit(known[1]):
                rows, reads = known
            else:
                self._frames.append(Reads())
                try:
                    rows = self._derive(key, pattern, memo)
                finally:
                    reads = self._frames.pop()
                if self.shared is not None and not self._hit(reads):
                    self.shared.answers[memo] = (rows, reads)
        self._answers[memo] = rows
        self._reads[memo] = reads
        if self._frames:
            self._frames[-1].merge(reads)
        return rows

    def _hit(self, reads: "Reads") -> bool:
        """Whether answers that read these could differ here: an added fact fits a pattern read
        of its predicate, or a derived relation read as the case had it changes here."""
        if reads.derived & self.affected:
            return True
        for key, rows in self.added.items():
            patterns = reads.rows.get(key)
            if patterns and any(_fits(row, pattern) for pattern in patterns for row in rows):
                return True
        return False

    def _derive(self, key: Key, pattern: tuple, memo) -> list[Row]:
        if memo in self._active:  # only a recursive predicate can ask for itself
            return []
        self._active.add(memo)
        try:
            out: dict[Row, None] = {}
            for clause, head in _heads(self.clauses_by_head, key):
                env = _bind(head, pattern)
                if env is None:
                    continue
                for solution in self.solve(clause.body, env):
                    out.setdefault(tuple(value_of(t, solution) for t in clause.head.args), None)
            return list(out)
        finally:
            self._active.discard(memo)

    def _component(self, key: Key) -> set[Row]:
        """A recursive predicate, computed bottom-up to its fixpoint over this hypothesis."""
        if key not in self._full:
            self._full[key] = set()
            changed = True
            while changed:
                changed = False
                for clause in self.clauses_by_head.get(key, ()):
                    for solution in list(self.solve(clause.body, {})):
                        row = tuple(value_of(t, solution) for t in clause.head.args)
                        if row not in self._full[key]:
                            self._full[key].add(row)
                            changed = True
        return self._full[key]


def _pattern(atom: ast.Atom, env: Env) -> tuple:
    return tuple(t.value if isinstance(t, ast.Const) else (env.get(t.name) if t.name != "_" else None)
                 for t in atom.args)


def _fits(row: Row, pattern: tuple) -> bool:
    return all(p is None or p == v for p, v in zip(pattern, row))


_HEADS: dict[int, tuple] = {}


def _heads(clauses_by_head, key: Key) -> list:
    """The clauses of a predicate with their heads precompiled as (is_const, value-or-name) pairs."""
    clauses = clauses_by_head.get(key, ())
    known = _HEADS.get(id(clauses))
    if known is not None and known[0] is clauses:
        return known[1]
    compiled = [(c, tuple((True, t.value) if isinstance(t, ast.Const) else (False, t.name) for t in c.head.args))
                for c in clauses]
    _HEADS[id(clauses)] = (clauses, compiled)
    return compiled


def _bind(head: tuple, pattern: Sequence[Any]) -> Env | None:
    env: Env = {}
    for (const, item), value in zip(head, pattern):
        if value is None:
            continue
        if const:
            if item != value:
                return None
        elif item != "_":
            if item in env and env[item] != value:
                return None
            env[item] = value
    return env


def _unify(head: ast.Atom, pattern: Sequence[Any]) -> Env | None:
    env: Env = {}
    for term, value in zip(head.args, pattern):
        if value is None:
            continue
        if isinstance(term, ast.Const):
            if not compare("=", term.value, value):
                return None
        elif term.name != "_":
            if term.name in env and not compare("=", env[term.name], value):
                return None
            env[term.name] = value
    return env
