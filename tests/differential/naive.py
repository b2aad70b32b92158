"""A naive bottom-up Datalog evaluator, independent of Warrant, for the differential test.

It shares no code with Warrant: it evaluates programs in its own plain representation (the
random generator renders the same programs as rule text for Warrant), with its own
stratification given by the generator, its own joins, negation, comparisons (standard order:
numbers before atoms) and aggregates. It is written to be obviously right, not fast: every
stratum is iterated naively until nothing new is derived.

    term     ("var", name) | ("const", value) | ("anon",)
    atom     (pred, (term, ...))
    literal  ("pos", atom) | ("neg", atom) | ("cmp", op, term, term)
             | ("agg", kind, over_name | None, atom, result_name)   kind: count, sum, max, min
    rule     (head_atom, [literal, ...])
"""
from __future__ import annotations

from typing import Any, Iterator

Env = dict[str, Any]


def order(value: Any) -> tuple:
    """Standard order of terms: every number before every atom."""
    return (1, value) if isinstance(value, str) else (0, value)


def value(term: tuple, env: Env) -> Any:
    return term[1] if term[0] == "const" else env.get(term[1])


def match(atom: tuple, row: tuple, env: Env) -> Env | None:
    out = dict(env)
    for term, v in zip(atom[1], row):
        if term[0] == "anon":
            continue
        if term[0] == "const":
            if term[1] != v:
                return None
        elif term[1] in out:
            if out[term[1]] != v:
                return None
        else:
            out[term[1]] = v
    return out


def matches(atom: tuple, db: dict, env: Env) -> Iterator[Env]:
    for row in sorted(db.get(atom[0], ()), key=lambda r: [order(v) for v in r]):
        found = match(atom, row, env)
        if found is not None:
            yield found


def compare(op: str, a: Any, b: Any) -> bool:
    ka, kb = order(a), order(b)
    return {"<": ka < kb, "=<": ka <= kb, ">": ka > kb, ">=": ka >= kb, "=": ka == kb, "\\=": ka != kb}[op]


def aggregate(kind: str, over: str | None, atom: tuple, db: dict, env: Env) -> Any:
    """Over the distinct matching rows (each `_` and each unbound variable is local)."""
    rows = {row for row in db.get(atom[0], ()) if match(atom, row, env) is not None}
    if kind == "count":
        return len(rows)
    values = [match(atom, row, env)[over] for row in rows]
    if kind == "sum":
        return sum(values)
    if not values:
        return None
    return max(values, key=order) if kind == "max" else min(values, key=order)


def solve(body: list, db: dict, env: Env) -> Iterator[Env]:
    if not body:
        yield env
        return
    lit, rest = body[0], body[1:]
    if lit[0] == "pos":
        for found in matches(lit[1], db, env):
            yield from solve(rest, db, found)
    elif lit[0] == "neg":
        if next(matches(lit[1], db, env), None) is None:
            yield from solve(rest, db, env)
    elif lit[0] == "cmp":
        _, op, left, right = lit
        a, b = value(left, env), value(right, env)
        if op == "=" and (a is None) != (b is None):
            name = (left if a is None else right)[1]
            yield from solve(rest, db, {**env, name: b if a is None else a})
        elif a is not None and b is not None and compare(op, a, b):
            yield from solve(rest, db, env)
    else:
        _, kind, over, atom, result = lit
        got = aggregate(kind, over, atom, db, env)
        if got is not None:
            yield from solve(rest, db, {**env, result: got})


def evaluate(facts: dict[str, set[tuple]], rules: list, strata: list[list[str]]) -> dict[str, set[tuple]]:
    """The model: facts, then each stratum (a list of predicates) to its fixpoint, in order."""
    db = {pred: set(rows) for pred, rows in facts.items()}
    for stratum in strata:
        mine = [r for r in rules if r[0][0] in stratum]
        changed = True
        while changed:
            changed = False
            for head, body in mine:
                for env in list(solve(body, db, {})):
                    row = tuple(value(t, env) for t in head[1])
                    target = db.setdefault(head[0], set())
                    if row not in target:
                        target.add(row)
                        changed = True
    return db
