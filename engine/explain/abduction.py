"""Abduction: which documentable facts, added to the case, would make a goal hold.

The rules are read symbolically, the way the failure tree reads them, but instead of reporting
what fails, each failure is turned into what would repair it:

- a positive base literal that matches nothing becomes a fact to add (a `Condition`), if its
  field is not documented at that place already (a documented value is never contradicted by
  a new one) and its predicate is documentable (`fixed` keys — the request itself, red flags —
  are not); the value stays open and is bounded by the literals after it: a comparison with a
  threshold (`P >= MP` → `>= 6`), or a kb table and a comparison on the table's other column
  (`grade_rank(G, R), R >= M` → `G >= moderate` in the table's order);
- a positive derived literal is proved the same way, recursively, through each of its clauses;
- a negation `\\+ A` that fails is repaired by breaking every derivation of A: in each, one of
  its own negated conditions is made to hold (or an aggregate it compares is raised);
- a count compared with a threshold (`aggregate_all(count, ...) >= 3`) is raised by adding that
  many new solutions, each a repair of the counted goal.

Each repair is an `Option`: a set of conditions (at most `max_size`) and the values it gives the
goal's open arguments. Options are candidates: `engine.explain.search` checks each by evaluating
the rules with witness values, keeps the minimal ones and ranks them.
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any, Iterable, Iterator, Mapping, Sequence

from engine.evaluate.provenance import compare, value_of
from engine.explain.breaking import Breaking
from engine.explain.conditions import FLIP, Condition, Slot, numeric_bound
from engine.explain.layout import Layout
from engine.explain.options import (Abstract, Option, State, concrete, concrete_env, goal_has_abstract, ground_atom,
                                    ground_value, has_abstract, head_value, merge_ordinal, plain, prune_options, scale_of, unify,
                                    var_name, var_shape, with_conditions)
from engine.language import ast

Key = tuple[str, int]
MAX_DEPTH = 12


class Abducer(Breaking):
    """Repairs for goals over one case's model (see the module docstring)."""

    def __init__(self, model, clauses_by_head: Mapping[Key, Sequence[ast.Clause]],
                 fields: Mapping[Key, Sequence[tuple[Any, Any]]], static: Mapping[Key, list[tuple]],
                 fixed: Iterable[Key] = (), max_size: int = 3, domains=None) -> None:
        self.model = model
        self.domains = domains
        self.clauses_by_head = clauses_by_head
        self.layout = Layout.of(fields)
        self.base = set(fields) | set(model.base)
        self.static = {k: v for k, v in static.items() if k not in self.base}
        self.fixed = set(fixed)
        self.max_size = max_size
        self._groups = itertools.count(1)
        self._memo: dict[tuple, list[Option]] = {}
        self._refuted: dict[tuple, list[frozenset]] = {}
        self._active: set[tuple] = set()

    # -- proving ------------------------------------------------------------------------------
    def prove(self, atom: ast.Atom, env: Mapping[str, Any] | None = None, depth: int = MAX_DEPTH) -> list[Option]:
        """Ways to make `atom` (under env) hold by adding facts; options that add nothing mean
        it holds already."""
        env = dict(env or {})
        pattern = tuple(ground_value(t, env) for t in atom.args)
        memo = (atom.key, pattern, var_shape(atom))
        if memo in self._memo:
            return self._memo[memo]
        if memo in self._active or depth <= 0:
            return []
        self._active.add(memo)
        try:
            options = self._prove(atom, env, depth)
        finally:
            self._active.discard(memo)
        self._memo[memo] = options
        return options

    def _prove(self, atom: ast.Atom, env: dict, depth: int) -> list[Option]:
        head_vars = [t.name for t in atom.args if isinstance(t, ast.Var) and t.name != "_"]
        results: list[tuple[dict, State]] = []
        if atom.key in self.base or atom.key in self.static or atom.key not in self.clauses_by_head:
            self._walk((ast.Positive(atom),), 0, env, State(), depth, results, {})
        else:
            for clause in self.clauses_by_head[atom.key]:
                head_env = unify(clause.head, atom, env)
                if head_env is None:
                    continue
                local: list[tuple[dict, State]] = []
                self._walk(clause.body, 0, head_env, State(), depth, local, {})
                for body_env, state in local:
                    results.append(({n: head_value(clause.head, atom, n, body_env) for n in head_vars}, state))
        options = []
        for out_env, state in results:
            resolved = self._resolve(state)
            if resolved is None:
                continue
            row = tuple(plain(out_env.get(t.name)) if isinstance(t, ast.Var) and t.name != "_" else
                        (t.value if isinstance(t, ast.Const) else None) for t in atom.args)
            options.append(Option(resolved, row))
        return prune_options(merge_ordinal(options))

    # -- one clause body, left to right -------------------------------------------------------
    def _walk(self, body: Sequence[ast.Literal], i: int, env: dict, st: State, depth: int,
              out: list, aggregates: dict) -> None:
        if st.size() > self.max_size:
            return
        if i == len(body):
            out.append((env, st))
            return
        literal = body[i]
        if isinstance(literal, ast.Positive):
            self._positive(body, i, literal.atom, env, st, depth, out, aggregates)
        elif isinstance(literal, ast.Negation):
            if has_abstract(literal.atom, env):
                self._walk(body, i + 1, env, st, depth, out, aggregates)
                return
            guarded = replace(st, guard=st.guard + (ground_atom(literal.atom, env),))
            if not any(True for _ in self.model.match_atom(literal.atom, concrete(env))):
                self._walk(body, i + 1, env, guarded, depth, out, aggregates)
                return
            for conds in self.refute(literal.atom, env, depth - 1, st.guard):
                self._walk(body, i + 1, env, with_conditions(guarded, conds), depth, out, aggregates)
        elif isinstance(literal, ast.Comparison):
            self._comparison(body, i, literal, env, st, depth, out, aggregates)
        else:
            model = self._with_pending(st)
            value = None if goal_has_abstract(literal, env) else model.aggregate(literal, concrete(env))
            result = literal.result
            extended = dict(env)
            if isinstance(result, ast.Var) and result.name not in env and value is not None:
                extended[result.name] = value
            elif value is not None and not compare("=", value_of(result, env), value):
                return
            self._walk(body, i + 1, extended, st, depth, out, {**aggregates, var_name(result): (literal, env, model)})

    def _with_pending(self, st: State):
        """The model an aggregate counts over: the case's, plus the facts this branch adds that
        are already fully known (a positive test just proposed counts towards the three)."""
        rows: dict[Key, list[tuple]] = {}
        for key, args in st.facts:
            if not any(isinstance(v, (Abstract, Slot)) for v in args):
                rows.setdefault(key, []).append(args)
        for cond in st.conds:
            if not any(isinstance(v, Slot) for v in cond.args):
                rows.setdefault(cond.key, []).append(cond.row())
        if not rows:
            return self.model
        from engine.explain.hypothesis import Hypothesis

        return Hypothesis(self.model, self.clauses_by_head, rows)

    def _positive(self, body, i, atom: ast.Atom, env: dict, st: State, depth: int, out, aggregates) -> None:
        key = atom.key
        if key in self.static:
            for extended, subst in self._table(atom, env):
                self._walk(body, i + 1, extended, replace(st, subst=st.subst + subst),
                           depth, out, aggregates)
            return
        if not has_abstract(atom, env):
            for extended in self.model.match_atom(atom, concrete_env(env)):
                self._walk(body, i + 1, {**env, **extended}, st, depth, out, aggregates)
        if key in self.base:
            if key not in self.fixed:
                for extended, fact in self._abduce(atom, env):
                    self._walk(body, i + 1, extended, replace(st, facts=st.facts + (fact,)),
                               depth, out, aggregates)
            return
        if has_abstract(atom, env):
            return
        if all(ground_value(t, env) is not None for t in atom.args if not (isinstance(t, ast.Var) and t.name == "_")) \
                and any(True for _ in self.model.match_atom(atom, concrete_env(env))):
            return  # it holds as it is: another way of proving it adds nothing
        for bound in self._lookahead(body, i, atom, env):
            for option in self.prove(atom, bound, depth - 1):
                if not option.conditions:
                    continue  # holds already: the model's own answers above cover it
                extended = dict(bound)
                for term, value in zip(atom.args, option.row):
                    if isinstance(term, ast.Var) and term.name != "_" and value is not None:
                        extended.setdefault(term.name, value)
                self._walk(body, i + 1, extended, with_conditions(st, option.conditions), depth, out, aggregates)

    def _comparison(self, body, i, literal: ast.Comparison, env: dict, st: State, depth: int, out,
                    aggregates) -> None:
        left, right = value_of(literal.left, env), value_of(literal.right, env)
        if literal.op == "=" and (left is None) != (right is None):
            var = literal.left if left is None else literal.right
            self._walk(body, i + 1, {**env, var.name: right if left is None else left}, st, depth, out, aggregates)
            return
        if left is None or right is None:
            return
        if isinstance(left, Abstract) or isinstance(right, Abstract):
            if isinstance(left, Abstract) and isinstance(right, Abstract):
                self._walk(body, i + 1, env, st, depth, out, aggregates)
                return
            abstract, op, bound = (left, literal.op, right) if isinstance(left, Abstract) else \
                (right, FLIP.get(literal.op, literal.op), left)
            if op == "\\=":
                self._walk(body, i + 1, env, st, depth, out, aggregates)
                return
            self._walk(body, i + 1, env, replace(st, cons=st.cons + ((abstract, op, bound),)),
                       depth, out, aggregates)
            return
        if compare(literal.op, left, right):
            self._walk(body, i + 1, env, st, depth, out, aggregates)
            return
        for conds in self._raise(literal, env, aggregates, depth, want=True):
            self._walk(body, i + 1, env, with_conditions(st, conds), depth, out, aggregates)

    # -- facts to add ----------------------------------------------------------------------------
    def _abduce(self, atom: ast.Atom, env: dict) -> Iterator[tuple[dict, tuple]]:
        """The new facts that would match `atom`: an open list position becomes an existing entry
        that lacks the field, or a new entry (`_`: any entry, placed later); the value becomes an
        Abstract bounded by later literals; an open name (a test, a finding) takes each name the
        rules use there."""
        key = atom.key
        index = self.layout.index.get(key, set())
        value_pos = self.layout.value.get(key)
        choices: list[list] = []
        for pos, term in enumerate(atom.args):
            known = ground_value(term, env)
            if known is not None:
                choices.append([known])
            elif isinstance(term, ast.Var) and isinstance(env.get(term.name), Slot):
                choices.append([env[term.name]])
            elif pos == value_pos:
                choices.append([Abstract()])
            elif pos in index:
                if isinstance(term, ast.Var) and term.name == "_":
                    choices.append([Slot("any")])
                else:
                    choices.append(self._entries(key, pos, atom, env) + [Slot("new", next(self._groups))])
            else:
                names = [v for v in self.domains.values(key, pos) if isinstance(v, str)] if self.domains else []
                if not names:
                    return
                choices.append(names)
        for combo in itertools.product(*choices):
            if self._documented(key, combo, index, value_pos):
                continue
            extended = dict(env)
            for term, value in zip(atom.args, combo):
                if isinstance(term, ast.Var) and term.name != "_" and term.name not in extended:
                    extended[term.name] = value
            yield extended, (key, tuple(combo))

    def _documented(self, key: Key, combo: tuple, index: set[int], value_pos: int | None) -> bool:
        """Whether the field this fact would fill is documented already at that place (in any
        entry when the rules do not say which)."""
        if any(isinstance(v, Slot) and v.kind == "new" for v in combo):
            return False
        probe = []
        for pos, value in enumerate(combo):
            if pos == value_pos or isinstance(value, (Slot, Abstract)):
                probe.append(ast.Var("_"))
            else:
                probe.append(ast.Const(value))
        return any(True for _ in self.model.match_rows(ast.Atom(key[0], tuple(probe)), {}))

    def _entries(self, key: Key, pos: int, atom: ast.Atom, env: dict) -> list[int]:
        """Existing entries of the list at `pos` (with the same enclosing place)."""
        prefix = tuple(ground_value(atom.args[p], env) for p in self.layout.prefix.get((key, pos), ()))
        return self.layout.entries(self.model, key, pos, prefix)

    def _table(self, atom: ast.Atom, env: dict) -> Iterator[tuple[dict, tuple]]:
        """Rows of a kb table; an Abstract argument takes each row's value (remembered with the
        table's order, so that the values that pass can be written as one comparison)."""
        rows = self.static.get(atom.key, [])
        if not has_abstract(atom, env):
            for extended in self.model.match_atom(atom, concrete_env(env)):
                yield {**env, **extended}, ()
            return
        for row in rows:
            extended = dict(env)
            subst = []
            ok = True
            for pos, (term, value) in enumerate(zip(atom.args, row)):
                current = value_of(term, env) if not (isinstance(term, ast.Var) and term.name == "_") else None
                if isinstance(current, Abstract):
                    subst.append((current, value, scale_of(rows, pos)))
                elif current is not None and not compare("=", current, value):
                    ok = False
                    break
                elif isinstance(term, ast.Var) and term.name != "_":
                    extended[term.name] = value
            if ok:
                yield extended, tuple(subst)

    def _lookahead(self, body, i, atom: ast.Atom, env: dict) -> list[dict]:
        """Bindings worth proving a derived literal with: when an open argument is joined with a
        kb table whose other column a later comparison bounds (`own_verdict(P, V, _),
        verdict_rank(V, R), R >= K`), only the values that pass."""
        open_vars = [t.name for t in atom.args if isinstance(t, ast.Var) and t.name != "_" and t.name not in env]
        for var in open_vars:
            allowed = self._allowed(body, i, var, env)
            if allowed is not None:
                return [{**env, var: value} for value in allowed]
        return [env]

    def _allowed(self, body, i, var: str, env: dict) -> list | None:
        for j in range(i + 1, len(body)):
            lit = body[j]
            if not (isinstance(lit, ast.Positive) and lit.atom.key in self.static):
                continue
            names = [t.name if isinstance(t, ast.Var) else None for t in lit.atom.args]
            if var not in names:
                continue
            at = names.index(var)
            for k in range(j + 1, len(body)):
                cmp = body[k]
                if not isinstance(cmp, ast.Comparison):
                    continue
                for other, name in enumerate(names):
                    if other == at or name is None:
                        continue
                    sides = (cmp.left, cmp.right)
                    if not any(isinstance(s, ast.Var) and s.name == name for s in sides):
                        continue
                    bound_side = cmp.right if isinstance(cmp.left, ast.Var) and cmp.left.name == name else cmp.left
                    bound = value_of(bound_side, env)
                    if bound is None or isinstance(bound, Abstract):
                        continue
                    op = cmp.op if bound_side is cmp.right else FLIP.get(cmp.op, cmp.op)
                    return [row[at] for row in self.static[lit.atom.key] if compare(op, row[other], bound)]
        return None

    # -- breaking what holds ---------------------------------------------------------------------
    # -- from pending facts to conditions ----------------------------------------------------------
    def _resolve(self, st: State) -> frozenset | None:
        """The state's facts as conditions, or None when a value is left unbounded or the bounds
        on one value conflict."""
        subst: dict[Abstract, tuple[Any, tuple]] = {}
        for abstract, value, order in st.subst:
            if abstract in subst and subst[abstract][0] != value:
                return None
            subst[abstract] = (value, order)
        cons: dict[Abstract, list] = {}
        for abstract, op, bound in st.cons:
            cons.setdefault(abstract, []).append((op, bound))
        out = set(st.conds)
        for key, args in st.facts:
            position, op, order = None, "=", ()
            values = list(args)
            for pos, value in enumerate(args):
                if not isinstance(value, Abstract):
                    continue
                position = pos
                if value in subst:
                    values[pos], order = subst[value]
                    if any(not compare(o, values[pos], b) for o, b in cons.get(value, ())):
                        return None
                elif value in cons:
                    bound = numeric_bound(cons[value])
                    if bound is None:
                        return None
                    op, values[pos] = bound
                else:
                    return None
            if position is None:
                position = self.layout.value.get(key)
            out.add(Condition(key, tuple(values), position, op, order))
        places = [c.place for c in out]
        if len(places) != len(set(places)):
            return None  # two values for one field
        return frozenset(out) if len(out) <= self.max_size else None


__all__ = ["Abducer", "Option", "Condition", "Slot", "Layout"]
