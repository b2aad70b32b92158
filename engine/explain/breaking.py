"""Breaking what holds: the ways to make every derivation of a fact fail by adding facts, and to
raise an aggregate (a count, a maximum) past a bound. A mixin of `Abducer` (which supplies
`prove`, `_walk`, `_resolve` and the model): a negation that fails is repaired by breaking what
it negates."""
from __future__ import annotations

import itertools
from typing import Any, Mapping

from engine.evaluate.provenance import value_of
from engine.explain.conditions import FLIP
from engine.explain.options import (State, concrete, fits_atom, ground_atom, ground_value, least_size, named_goal,
                                    named_vars, plain, prune_sets, unify, var_name)
from engine.language import ast


class Breaking:
    def refute(self, atom: ast.Atom, env: Mapping[str, Any], depth: int, guard: tuple = ()) -> list[frozenset]:
        """Ways to make every derivation of `atom` (under env) fail by adding facts, none of which
        makes an atom of `guard` (what the caller needs false) true."""
        pattern = tuple(ground_value(t, dict(env)) for t in atom.args)
        memo = (atom.key, pattern, guard)
        if memo in self._refuted:
            return self._refuted[memo]
        if memo in self._active or depth <= 0 or atom.key in self.base or atom.key in self.static:
            return []
        self._active.add(memo)
        try:
            acc = self._refute(atom, pattern, depth, guard)
        finally:
            self._active.discard(memo)
        self._refuted[memo] = acc
        return acc

    def _refute(self, atom: ast.Atom, pattern: tuple, depth: int, guard: tuple) -> list[frozenset]:
        """Every derivation of every matching row must break (AND); each breaks in any of its
        ways (OR). When the derivations can share no fact, the sizes of their smallest ways add
        up, and a sum past the size settles it before any combination is built."""
        instances: list[list[frozenset]] = []
        probe = ast.Atom(atom.key[0], tuple(ast.Var("_") if v is None else ast.Const(v) for v in pattern))
        for _env, row in list(self.model.match_rows(probe, {})):
            for clause in self.clauses_by_head.get(atom.key, ()):
                head_env = unify(clause.head, ast.Atom(atom.key[0], tuple(ast.Const(v) for v in row)), {})
                if head_env is None:
                    continue
                for solution in list(self.model.solve(clause.body, head_env)):
                    ways = self._break(clause, solution, depth, guard)
                    if not ways:
                        return []
                    instances.append(ways)
        if least_size(instances) > self.max_size:
            return []
        acc: list[frozenset] = [frozenset()]
        for ways in instances:
            acc = prune_sets([a | w for a in acc for w in ways if len(a | w) <= self.max_size])
            if not acc:
                return []
        return acc

    def _break(self, clause: ast.Clause, env: dict, depth: int, guard: tuple) -> list[frozenset]:
        ways: list[frozenset] = []
        aggregates: dict = {}
        for literal in clause.body:
            if isinstance(literal, ast.Negation):
                made = ground_atom(literal.atom, env)
                if self._implies(made, guard):
                    continue  # making it hold would make true what the caller needs false
                ways += [o.conditions for o in self.prove(literal.atom, env, depth - 1) if o.conditions]
            elif isinstance(literal, ast.Positive) and literal.atom.key not in self.base \
                    and literal.atom.key not in self.static:
                ways += self.refute(literal.atom, env, depth - 1, guard)
            elif isinstance(literal, ast.Aggregate):
                aggregates[var_name(literal.result)] = (literal, env, self.model)
            elif isinstance(literal, ast.Comparison) and aggregates:
                ways += self._raise(literal, env, aggregates, depth, want=False)
        return prune_sets(ways)

    def _implies(self, made: tuple, guard: tuple, steps: int = 3) -> bool:
        """Whether a ground atom being true would (through rules that use it positively) make one
        of the guarded atoms true: `criterion_unmet(L, C)` implies `blocked(L)`."""
        if not guard:
            return False
        if any(fits_atom(made, g) for g in guard):
            return True
        if steps <= 0:
            return False
        key, row = made
        for head_key, clauses in self.clauses_by_head.items():
            for clause in clauses:
                for literal in clause.body:
                    if not (isinstance(literal, ast.Positive) and literal.atom.key == key):
                        continue
                    env = unify(literal.atom, ast.Atom(key[0], tuple(ast.Const(v) if v is not None else ast.Var("_")
                                                                   for v in row)), {})
                    if env is None:
                        continue
                    head = (head_key, tuple(ground_value(t, env) for t in clause.head.args))
                    if self._implies(head, guard, steps - 1):
                        return True
        return False

    def _raise(self, literal: ast.Comparison, env: dict, aggregates: dict, depth: int, want: bool) -> list[frozenset]:
        """Ways to make a comparison on an aggregate's result come out `want` by adding facts: a
        count or a maximum only grows when solutions are added."""
        for side, other, op in ((literal.left, literal.right, literal.op),
                                (literal.right, literal.left, FLIP.get(literal.op, literal.op))):
            name = var_name(side)
            if name not in aggregates:
                continue
            aggregate, agg_env, model = aggregates[name]
            current, bound = value_of(side, env), value_of(other, env)
            if bound is None or current is None:
                continue
            if not want:
                op = {">=": "<", ">": "=<", "=<": ">", "<": ">="}.get(op)
            if aggregate.kind == "count" and op in (">=", ">"):
                need = int(bound) - int(current) + (1 if op == ">" else 0)
                return self._more_solutions(aggregate, agg_env, need, depth, model)
            if aggregate.kind == "max" and op in (">=", ">") and aggregate.over is not None:
                extra = ast.Comparison(op, aggregate.over, ast.Const(bound))
                found: list[tuple[dict, State]] = []
                self._walk(tuple(aggregate.goal) + (extra,), 0, dict(agg_env), State(), depth - 1, found, {})
                return prune_sets([r for r in (self._resolve(s) for _e, s in found) if r])
        return []

    def _more_solutions(self, aggregate: ast.Aggregate, env: dict, need: int, depth: int, model) -> list[frozenset]:
        if need <= 0 or need > self.max_size:
            return [frozenset()] if need <= 0 else []
        goal = named_goal(aggregate)
        local = sorted({v.name for g in goal for v in named_vars(g) if v.name not in env})
        counted = {tuple(s.get(n) for n in local) for s in model.solve(goal, concrete(env))}
        fresh: dict[tuple, list[frozenset]] = {}
        found: list[tuple[dict, State]] = []
        self._walk(goal, 0, dict(env), State(), depth - 1, found, {})
        for out_env, state in found:
            conds = self._resolve(state)
            if not conds:
                continue
            ident = tuple(plain(out_env.get(n)) for n in local)
            if ident in counted or any(v is None for v in ident):
                continue
            fresh.setdefault(ident, []).append(conds)
        out = []
        for combo in itertools.combinations(sorted(fresh, key=str), need):
            for picks in itertools.product(*(fresh[c] for c in combo)):
                union = frozenset().union(*picks)
                if len(union) <= self.max_size:
                    out.append(union)
        return prune_sets(out)
