"""The pieces abduction works with: values still to be chosen, the state of one clause body, the
options a goal offers, and the small operations on them (shared by `abduction` and `breaking`)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from engine.evaluate.provenance import compare
from engine.explain.conditions import Condition, Slot, interval
from engine.language import ast

Key = tuple[str, int]
MAX_OPTIONS = 80
"""Options kept per goal (the smallest first): a guard, far above what a line needs."""


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
class State:
    facts: tuple = ()        # (key, args) to add; args may hold Abstract and Slot values
    conds: frozenset = frozenset()
    cons: tuple = ()         # (Abstract, op, bound)
    subst: tuple = ()        # (Abstract, value, order)
    guard: tuple = ()        # ground atoms this body needs false (its negations so far)

    def size(self) -> int:
        return len(self.facts) + len(self.conds)


def merge_ordinal(options: list[Option]) -> list[Option]:
    """Options that differ only in the value of one ordinal condition become one option per
    interval of that scale (`grade = moderate | marked | severe` →
    `grade >= moderate`)."""
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


def prune_options(options: list[Option]) -> list[Option]:
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


def prune_sets(sets: Iterable[frozenset]) -> list[frozenset]:
    """Distinct sets, smallest first, without supersets of a kept set."""
    kept: list[frozenset] = []
    for candidate in sorted(set(sets), key=lambda s: (len(s), sorted(c.sort_key() for c in s))):
        if any(k <= candidate for k in kept):
            continue
        kept.append(candidate)
        if len(kept) >= MAX_OPTIONS:
            break
    return kept


def ground_atom(atom: ast.Atom, env: Mapping[str, Any]) -> tuple:
    """(key, row) of an atom under env, None where an argument is open."""
    return (atom.key, tuple(ground_value(t, env) for t in atom.args))


def fits_atom(made: tuple, guarded: tuple) -> bool:
    """Whether a (partly open) atom could be the guarded one: same predicate, no clashing value."""
    return made[0] == guarded[0] and all(a is None or b is None or a == b for a, b in zip(made[1], guarded[1]))


def least_size(families: list[list[frozenset]]) -> int:
    """A lower bound of the size of a set that takes one way from every family: the sum of their
    smallest ways when no two families share a fact, else the largest smallest way."""
    if not families:
        return 0
    pools = [frozenset().union(*ways) for ways in families]
    smallest = [min(len(w) for w in ways) for ways in families]
    if sum(len(p) for p in pools) == len(frozenset().union(*pools)):
        return sum(smallest)
    return max(smallest)


def with_conditions(st: State, conds: frozenset) -> State:
    return replace(st, conds=st.conds | conds)


def ground_value(term: ast.Term, env: Mapping[str, Any]) -> Any:
    if isinstance(term, ast.Const):
        return term.value
    if term.name == "_":
        return None
    value = env.get(term.name)
    return None if isinstance(value, Abstract) else value


def var_shape(atom: ast.Atom) -> tuple:
    """Which arguments are the same variable (p(X, X) differs from p(X, Y))."""
    names = [t.name if isinstance(t, ast.Var) and t.name != "_" else None for t in atom.args]
    return tuple(names.index(n) if n is not None else -1 for n in names)


def plain(value: Any) -> Any:
    return None if isinstance(value, Abstract) else value


def has_abstract(atom: ast.Atom, env: Mapping[str, Any]) -> bool:
    return any(isinstance(t, ast.Var) and isinstance(env.get(t.name), Abstract) for t in atom.args)


def goal_has_abstract(literal: ast.Aggregate, env: Mapping[str, Any]) -> bool:
    return any(isinstance(env.get(v.name), Abstract) for g in literal.goal for v in named_vars(g))


def named_vars(literal: ast.Literal) -> list:
    from engine.language.visit import literal_variables

    return [v for v in literal_variables(literal) if not v.anonymous]


def concrete(env: Mapping[str, Any]) -> dict:
    return {k: v for k, v in env.items() if not isinstance(v, (Abstract, Slot))}


def concrete_env(env: Mapping[str, Any]) -> dict:
    return {k: v for k, v in env.items() if not isinstance(v, Abstract)}


def var_name(term: ast.Term) -> str | None:
    return term.name if isinstance(term, ast.Var) else None


def scale_of(rows: list[tuple], position: int) -> tuple:
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


def unify(head: ast.Atom, atom: ast.Atom, env: Mapping[str, Any]) -> dict | None:
    """Bindings of the head's variables that make it match `atom` under env (None if it cannot)."""
    out: dict[str, Any] = {}
    for h, a in zip(head.args, atom.args):
        value = ground_value(a, env) if not isinstance(a, ast.Const) else a.value
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


def head_value(head: ast.Atom, atom: ast.Atom, name: str, body_env: Mapping[str, Any]) -> Any:
    for h, a in zip(head.args, atom.args):
        if isinstance(a, ast.Var) and a.name == name:
            return h.value if isinstance(h, ast.Const) else body_env.get(h.name)
    return None


_NAMED: dict[int, tuple] = {}


def named_goal(aggregate: ast.Aggregate) -> tuple:
    """The aggregate's goal with each `_` named apart (distinct bindings are what it counts)."""
    known = _NAMED.get(id(aggregate))
    if known is not None and known[0] is aggregate:
        return known[1]
    from engine.language.visit import anonymous_renamer, map_terms

    rename = anonymous_renamer()
    goal = tuple(map_terms(g, rename) for g in aggregate.goal)
    _NAMED[id(aggregate)] = (aggregate, goal)
    return goal
