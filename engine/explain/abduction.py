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
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from engine.evaluate.provenance import compare, value_of
from engine.explain.conditions import FLIP, Condition, Slot, interval, numeric_bound
from engine.language import ast
from engine.explain.layout import Layout

Key = tuple[str, int]
MAX_OPTIONS = 80
"""Options kept per goal (the smallest first): a guard, far above what a line needs."""
MAX_DEPTH = 12


class Abstract:
    """A value still to be chosen: the value of a fact to be added, bounded by later literals."""

    __slots__ = ("n",)
    _count = itertools.count()

    def __init__(self) -> None:
        self.n = next(Abstract._count)

    def __repr__(self) -> str:
        return f"?{self.n}"


@dataclass(frozen=True)
class Option:
    conditions: frozenset
    row: tuple = ()          # the goal's arguments under this repair (None where still open)


@dataclass(frozen=True)
class _State:
    facts: tuple = ()        # (key, args) to add; args may hold Abstract and Slot values
    conds: frozenset = frozenset()
    cons: tuple = ()         # (Abstract, op, bound)
    subst: tuple = ()        # (Abstract, value, order)
    guard: tuple = ()        # ground atoms this body needs false (its negations so far)

    def size(self) -> int:
        return len(self.facts) + len(self.conds)


class Abducer:
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
        pattern = tuple(_ground(t, env) for t in atom.args)
        memo = (atom.key, pattern, _shape(atom))
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
        results: list[tuple[dict, _State]] = []
        if atom.key in self.base or atom.key in self.static or atom.key not in self.clauses_by_head:
            self._walk((ast.Positive(atom),), 0, env, _State(), depth, results, {})
        else:
            for clause in self.clauses_by_head[atom.key]:
                head_env = _unify(clause.head, atom, env)
                if head_env is None:
                    continue
                local: list[tuple[dict, _State]] = []
                self._walk(clause.body, 0, head_env, _State(), depth, local, {})
                for body_env, state in local:
                    results.append(({n: _head_value(clause.head, atom, n, body_env) for n in head_vars}, state))
        options = []
        for out_env, state in results:
            resolved = self._resolve(state)
            if resolved is None:
                continue
            row = tuple(_plain(out_env.get(t.name)) if isinstance(t, ast.Var) and t.name != "_" else
                        (t.value if isinstance(t, ast.Const) else None) for t in atom.args)
            options.append(Option(resolved, row))
        return _prune(_merge(options))

    # -- one clause body, left to right -------------------------------------------------------
    def _walk(self, body: Sequence[ast.Literal], i: int, env: dict, st: _State, depth: int,
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
            if _has_abstract(literal.atom, env):
                self._walk(body, i + 1, env, st, depth, out, aggregates)
                return
            guarded = replace(st, guard=st.guard + (_ground_atom(literal.atom, env),))
            if not any(True for _ in self.model.match_atom(literal.atom, _concrete(env))):
                self._walk(body, i + 1, env, guarded, depth, out, aggregates)
                return
            for conds in self.refute(literal.atom, env, depth - 1, st.guard):
                self._walk(body, i + 1, env, _with(guarded, conds), depth, out, aggregates)
        elif isinstance(literal, ast.Comparison):
            self._comparison(body, i, literal, env, st, depth, out, aggregates)
        else:
            model = self._with_pending(st)
            value = None if _goal_has_abstract(literal, env) else model.aggregate(literal, _concrete(env))
            result = literal.result
            extended = dict(env)
            if isinstance(result, ast.Var) and result.name not in env and value is not None:
                extended[result.name] = value
            elif value is not None and not compare("=", value_of(result, env), value):
                return
            self._walk(body, i + 1, extended, st, depth, out, {**aggregates, _name(result): (literal, env, model)})

    def _with_pending(self, st: _State):
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

    def _positive(self, body, i, atom: ast.Atom, env: dict, st: _State, depth: int, out, aggregates) -> None:
        key = atom.key
        if key in self.static:
            for extended, subst in self._table(atom, env):
                self._walk(body, i + 1, extended, replace(st, subst=st.subst + subst),
                           depth, out, aggregates)
            return
        if not _has_abstract(atom, env):
            for extended in self.model.match_atom(atom, _concrete_env(env)):
                self._walk(body, i + 1, {**env, **extended}, st, depth, out, aggregates)
        if key in self.base:
            if key not in self.fixed:
                for extended, fact in self._abduce(atom, env):
                    self._walk(body, i + 1, extended, replace(st, facts=st.facts + (fact,)),
                               depth, out, aggregates)
            return
        if _has_abstract(atom, env):
            return
        if all(_ground(t, env) is not None for t in atom.args if not (isinstance(t, ast.Var) and t.name == "_")) \
                and any(True for _ in self.model.match_atom(atom, _concrete_env(env))):
            return  # it holds as it is: another way of proving it adds nothing
        for bound in self._lookahead(body, i, atom, env):
            for option in self.prove(atom, bound, depth - 1):
                if not option.conditions:
                    continue  # holds already: the model's own answers above cover it
                extended = dict(bound)
                for term, value in zip(atom.args, option.row):
                    if isinstance(term, ast.Var) and term.name != "_" and value is not None:
                        extended.setdefault(term.name, value)
                self._walk(body, i + 1, extended, _with(st, option.conditions), depth, out, aggregates)

    def _comparison(self, body, i, literal: ast.Comparison, env: dict, st: _State, depth: int, out,
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
            self._walk(body, i + 1, env, _with(st, conds), depth, out, aggregates)

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
            known = _ground(term, env)
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
        prefix = tuple(_ground(atom.args[p], env) for p in self.layout.prefix.get((key, pos), ()))
        return self.layout.entries(self.model, key, pos, prefix)

    def _table(self, atom: ast.Atom, env: dict) -> Iterator[tuple[dict, tuple]]:
        """Rows of a kb table; an Abstract argument takes each row's value (remembered with the
        table's order, so that the values that pass can be written as one comparison)."""
        rows = self.static.get(atom.key, [])
        if not _has_abstract(atom, env):
            for extended in self.model.match_atom(atom, _concrete_env(env)):
                yield {**env, **extended}, ()
            return
        for row in rows:
            extended = dict(env)
            subst = []
            ok = True
            for pos, (term, value) in enumerate(zip(atom.args, row)):
                current = value_of(term, env) if not (isinstance(term, ast.Var) and term.name == "_") else None
                if isinstance(current, Abstract):
                    subst.append((current, value, _scale(rows, pos)))
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
    def refute(self, atom: ast.Atom, env: Mapping[str, Any], depth: int, guard: tuple = ()) -> list[frozenset]:
        """Ways to make every derivation of `atom` (under env) fail by adding facts, none of which
        makes an atom of `guard` (what the caller needs false) true."""
        pattern = tuple(_ground(t, dict(env)) for t in atom.args)
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
                head_env = _unify(clause.head, ast.Atom(atom.key[0], tuple(ast.Const(v) for v in row)), {})
                if head_env is None:
                    continue
                for solution in list(self.model.solve(clause.body, head_env)):
                    ways = self._break(clause, solution, depth, guard)
                    if not ways:
                        return []
                    instances.append(ways)
        if _least(instances) > self.max_size:
            return []
        acc: list[frozenset] = [frozenset()]
        for ways in instances:
            acc = _prune_sets([a | w for a in acc for w in ways if len(a | w) <= self.max_size])
            if not acc:
                return []
        return acc

    def _break(self, clause: ast.Clause, env: dict, depth: int, guard: tuple) -> list[frozenset]:
        ways: list[frozenset] = []
        aggregates: dict = {}
        for literal in clause.body:
            if isinstance(literal, ast.Negation):
                made = _ground_atom(literal.atom, env)
                if self._implies(made, guard):
                    continue  # making it hold would make true what the caller needs false
                ways += [o.conditions for o in self.prove(literal.atom, env, depth - 1) if o.conditions]
            elif isinstance(literal, ast.Positive) and literal.atom.key not in self.base \
                    and literal.atom.key not in self.static:
                ways += self.refute(literal.atom, env, depth - 1, guard)
            elif isinstance(literal, ast.Aggregate):
                aggregates[_name(literal.result)] = (literal, env, self.model)
            elif isinstance(literal, ast.Comparison) and aggregates:
                ways += self._raise(literal, env, aggregates, depth, want=False)
        return _prune_sets(ways)

    def _implies(self, made: tuple, guard: tuple, steps: int = 3) -> bool:
        """Whether a ground atom being true would (through rules that use it positively) make one
        of the guarded atoms true: `criterion_unmet(L, C)` implies `blocked(L)`."""
        if not guard:
            return False
        if any(_fits_atom(made, g) for g in guard):
            return True
        if steps <= 0:
            return False
        key, row = made
        for head_key, clauses in self.clauses_by_head.items():
            for clause in clauses:
                for literal in clause.body:
                    if not (isinstance(literal, ast.Positive) and literal.atom.key == key):
                        continue
                    env = _unify(literal.atom, ast.Atom(key[0], tuple(ast.Const(v) if v is not None else ast.Var("_")
                                                                   for v in row)), {})
                    if env is None:
                        continue
                    head = (head_key, tuple(_ground(t, env) for t in clause.head.args))
                    if self._implies(head, guard, steps - 1):
                        return True
        return False

    def _raise(self, literal: ast.Comparison, env: dict, aggregates: dict, depth: int, want: bool) -> list[frozenset]:
        """Ways to make a comparison on an aggregate's result come out `want` by adding facts: a
        count or a maximum only grows when solutions are added."""
        for side, other, op in ((literal.left, literal.right, literal.op),
                                (literal.right, literal.left, FLIP.get(literal.op, literal.op))):
            name = _name(side)
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
                found: list[tuple[dict, _State]] = []
                self._walk(tuple(aggregate.goal) + (extra,), 0, dict(agg_env), _State(), depth - 1, found, {})
                return _prune_sets([r for r in (self._resolve(s) for _e, s in found) if r])
        return []

    def _more_solutions(self, aggregate: ast.Aggregate, env: dict, need: int, depth: int, model) -> list[frozenset]:
        if need <= 0 or need > self.max_size:
            return [frozenset()] if need <= 0 else []
        goal = _named_goal(aggregate)
        local = sorted({v.name for g in goal for v in _vars(g) if v.name not in env})
        counted = {tuple(s.get(n) for n in local) for s in model.solve(goal, _concrete(env))}
        fresh: dict[tuple, list[frozenset]] = {}
        found: list[tuple[dict, _State]] = []
        self._walk(goal, 0, dict(env), _State(), depth - 1, found, {})
        for out_env, state in found:
            conds = self._resolve(state)
            if not conds:
                continue
            ident = tuple(_plain(out_env.get(n)) for n in local)
            if ident in counted or any(v is None for v in ident):
                continue
            fresh.setdefault(ident, []).append(conds)
        out = []
        for combo in itertools.combinations(sorted(fresh, key=str), need):
            for picks in itertools.product(*(fresh[c] for c in combo)):
                union = frozenset().union(*picks)
                if len(union) <= self.max_size:
                    out.append(union)
        return _prune_sets(out)

    # -- from pending facts to conditions ----------------------------------------------------------
    def _resolve(self, st: _State) -> frozenset | None:
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


# -- helpers ---------------------------------------------------------------------------------
def _merge(options: list[Option]) -> list[Option]:
    """Options that differ only in the value of one ordinal condition become one option per
    interval of that scale (`central_stenosis = moderate | moderate_severe | severe` →
    `central_stenosis >= moderate`)."""
    groups: dict[tuple, list[Condition]] = {}
    passthrough: list[Option] = []
    for option in options:
        ordinal = [c for c in option.conditions if c.order and c.op == "="]
        if len(ordinal) != 1:
            passthrough.append(option)
            continue
        cond = ordinal[0]
        rest = option.conditions - {cond}
        groups.setdefault((rest, option.row, cond.place, cond.order, cond.position, cond.key), []).append(cond)
    out = list(passthrough)
    for (rest, row, _place, order, position, key), conds in groups.items():
        values = sorted({c.value for c in conds}, key=order.index)
        template = conds[0]
        for op, value in interval(values, order):
            args = template.args[:position] + (value,) + template.args[position + 1:]
            out.append(Option(rest | {Condition(key, args, position, op, order)}, row))
    return out


def _prune(options: list[Option]) -> list[Option]:
    seen: set = set()
    unique = []
    for option in sorted(options, key=lambda o: (len(o.conditions), sorted(c.sort_key() for c in o.conditions),
                                                 tuple(str(v) for v in o.row))):
        ident = (option.conditions, option.row)
        if ident in seen:
            continue
        seen.add(ident)
        unique.append(option)
    return unique[:MAX_OPTIONS]


def _prune_sets(sets: Iterable[frozenset]) -> list[frozenset]:
    """Distinct sets, smallest first, without supersets of a kept set."""
    kept: list[frozenset] = []
    for candidate in sorted(set(sets), key=lambda s: (len(s), sorted(c.sort_key() for c in s))):
        if any(k <= candidate for k in kept):
            continue
        kept.append(candidate)
        if len(kept) >= MAX_OPTIONS:
            break
    return kept


def _ground_atom(atom: ast.Atom, env: Mapping[str, Any]) -> tuple:
    """(key, row) of an atom under env, None where an argument is open."""
    return (atom.key, tuple(_ground(t, env) for t in atom.args))


def _fits_atom(made: tuple, guarded: tuple) -> bool:
    """Whether a (partly open) atom could be the guarded one: same predicate, no clashing value."""
    return made[0] == guarded[0] and all(a is None or b is None or a == b for a, b in zip(made[1], guarded[1]))


def _least(families: list[list[frozenset]]) -> int:
    """A lower bound of the size of a set that takes one way from every family: the sum of their
    smallest ways when no two families share a fact, else the largest smallest way."""
    if not families:
        return 0
    pools = [frozenset().union(*ways) for ways in families]
    smallest = [min(len(w) for w in ways) for ways in families]
    if sum(len(p) for p in pools) == len(frozenset().union(*pools)):
        return sum(smallest)
    return max(smallest)


def _with(st: _State, conds: frozenset) -> _State:
    return replace(st, conds=st.conds | conds)


def _ground(term: ast.Term, env: Mapping[str, Any]) -> Any:
    if isinstance(term, ast.Const):
        return term.value
    if term.name == "_":
        return None
    value = env.get(term.name)
    return None if isinstance(value, Abstract) else value


def _shape(atom: ast.Atom) -> tuple:
    """Which arguments are the same variable (p(X, X) differs from p(X, Y))."""
    names = [t.name if isinstance(t, ast.Var) and t.name != "_" else None for t in atom.args]
    return tuple(names.index(n) if n is not None else -1 for n in names)


def _plain(value: Any) -> Any:
    return None if isinstance(value, Abstract) else value


def _has_abstract(atom: ast.Atom, env: Mapping[str, Any]) -> bool:
    return any(isinstance(t, ast.Var) and isinstance(env.get(t.name), Abstract) for t in atom.args)


def _goal_has_abstract(literal: ast.Aggregate, env: Mapping[str, Any]) -> bool:
    return any(isinstance(env.get(v.name), Abstract) for g in literal.goal for v in _vars(g))


def _vars(literal: ast.Literal) -> list:
    from engine.language.visit import literal_variables

    return [v for v in literal_variables(literal) if not v.anonymous]


def _concrete(env: Mapping[str, Any]) -> dict:
    return {k: v for k, v in env.items() if not isinstance(v, (Abstract, Slot))}


def _concrete_env(env: Mapping[str, Any]) -> dict:
    return {k: v for k, v in env.items() if not isinstance(v, Abstract)}


def _name(term: ast.Term) -> str | None:
    return term.name if isinstance(term, ast.Var) else None


def _scale(rows: list[tuple], position: int) -> tuple:
    """A kb table's values at `position` in the table's order: by its numeric column when it
    has one (a rank), else as written."""
    numeric = [p for p in range(len(rows[0])) if p != position
               and all(isinstance(r[p], (int, float)) and not isinstance(r[p], bool) for r in rows)] if rows else []
    ordered = sorted(rows, key=lambda r: r[numeric[0]]) if numeric else rows
    out: list = []
    for row in ordered:
        if row[position] not in out:
            out.append(row[position])
    return tuple(out)


def _unify(head: ast.Atom, atom: ast.Atom, env: Mapping[str, Any]) -> dict | None:
    """Bindings of the head's variables that make it match `atom` under env (None if it cannot)."""
    out: dict[str, Any] = {}
    for h, a in zip(head.args, atom.args):
        value = _ground(a, env) if not isinstance(a, ast.Const) else a.value
        if isinstance(a, ast.Var) and isinstance(env.get(a.name), (Abstract, Slot)):
            value = env[a.name]
        if value is None:
            continue
        if isinstance(h, ast.Const):
            if isinstance(value, (Abstract, Slot)) or not compare("=", h.value, value):
                return None
        elif h.name != "_":
            if h.name in out and out[h.name] != value:
                return None
            out[h.name] = value
    return out


def _head_value(head: ast.Atom, atom: ast.Atom, name: str, body_env: Mapping[str, Any]) -> Any:
    for h, a in zip(head.args, atom.args):
        if isinstance(a, ast.Var) and a.name == name:
            return h.value if isinstance(h, ast.Const) else body_env.get(h.name)
    return None


_NAMED: dict[int, tuple] = {}


def _named_goal(aggregate: ast.Aggregate) -> tuple:
    """The aggregate's goal with each `_` named apart (distinct bindings are what it counts)."""
    known = _NAMED.get(id(aggregate))
    if known is not None and known[0] is aggregate:
        return known[1]
    from engine.language.visit import anonymous_renamer, map_terms

    rename = anonymous_renamer()
    goal = tuple(map_terms(g, rename) for g in aggregate.goal)
    _NAMED[id(aggregate)] = (aggregate, goal)
    return goal


__all__ = ["Abducer", "Option", "Condition", "Slot", "Layout"]
Fact = tuple[Key, tuple]
Placer = Callable[[Condition], Condition]
