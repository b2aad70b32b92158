"""A rule's answers reused across cases when everything it reads is the same.

A rule asked in a level's joint question (engine.compile.joint) is not recursive, and every
relation its body reads, directly or through auxiliary clauses (a negation helper, an aggregate's
body), is complete when it is asked. Its answers are therefore a function of those relations'
rows: two cases whose rows agree there get the same answers from pyDatalog. Generated and real
batches repeat such inputs often (`line_code(l1, '22612')`, a family's criteria, a stage's
setting): `AnswerMemo` keeps pyDatalog's answers per rule under the rows it read, so a later case
with the same rows takes them instead of asking again. pyDatalog remains the evaluator of record:
every answer reused was computed by it, for the same input.

Rows are compared as sets, so they are keyed only when equality cannot merge values pyDatalog
keeps apart: atoms and integers only (`1 == 1.0 == True` in Python), and at most ROWS rows per
relation (a large kb table read by a rule makes the rule ask every time rather than hash the
table per case). Each rule keeps at most PER_RULE inputs, the least recently used dropped
first.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from engine.compile.lower import AggCall, AggDef, CoreClause, is_aux
from engine.compile.relations import pattern_number, value_types
from engine.language import ast

Key = tuple[str, int]

ROWS = 256
"""Relations with more rows than this are not keyed (their rules are always asked)."""
PER_RULE = 128
"""How many distinct inputs one rule's answers are kept for."""

_FINGERPRINT = "rows"
"""The memo entry (engine.compile.relations) holding a relation's rows as a set, or None."""
_KEYED = {str, int}


View = tuple  # (id, relation, ((column, constant), ...)): the rows of a relation a literal can match


def _view(key: Key, consts: tuple) -> View:
    """The view with its number (`relations.pattern_number`): its entry in an evaluation's
    `views` and, tagged, in the relation's memo."""
    return (pattern_number(("view", key, consts)), key, consts)


def rule_inputs(clause: CoreClause, aux: Mapping[Key, Sequence[CoreClause]], aggregates: Mapping[str, AggDef],
                materialized: Callable[[Key], bool]) -> tuple[View, ...]:
    """Every relation the rule's body reads, following auxiliary predicates (not materialised) into
    their clauses and aggregate calls into their bodies, each with the constants the literal
    reading it fixes (only the rows holding them can matter), in a fixed order."""
    found: set[View] = set()
    seen: set[Key] = set()
    todo: list[Any] = list(clause.body)
    while todo:
        literal = todo.pop()
        if isinstance(literal, (ast.Positive, ast.Negation)):
            atom = literal.atom
        elif isinstance(literal, AggCall):
            atom = aggregates[literal.name].body
        else:
            continue
        key = atom.key
        if is_aux(key[0]) and not materialized(key):
            if key not in seen:
                seen.add(key)
                todo += [lit for aux_clause in aux.get(key, ()) for lit in aux_clause.body]
        else:
            found.add(_view(key, tuple((i, t.value) for i, t in enumerate(atom.args)
                                       if isinstance(t, ast.Const) and type(t.value) in _KEYED)))
    return tuple(sorted(found, key=repr))


def fingerprint(view: View, relations: Any) -> frozenset | None:
    """The rows of the view (those holding its constants) as a set, kept in the relation's memo
    (for as long as its rows stay); None when the relation cannot be keyed."""
    memo = relations.memo(view[1])
    tag = ("reuse", view[0])
    found = memo.get(tag, memo)
    if found is not memo:
        return found
    whole = memo.get(_FINGERPRINT, memo)
    if whole is memo:
        whole = None
        rows = relations.rows(view[1])
        if len(rows) <= ROWS and value_types(rows, memo) <= _KEYED:
            whole = frozenset(rows)
        memo[_FINGERPRINT] = whole
    consts = view[2]
    if whole is None or not consts:
        found = whole
    elif len(consts) == 1:
        (i, x), = consts
        found = frozenset([row for row in whole if row[i] == x])
    else:
        found = frozenset([row for row in whole if all(row[i] == x for i, x in consts)])
    memo[tag] = found
    return found


class AnswerMemo:
    """pyDatalog's answers of each rule (by number) under the rows of the relations it read."""

    __slots__ = ("kept",)

    def __init__(self) -> None:
        self.kept: dict[int, dict[tuple, list]] = {}

    def split(self, rules: Iterable[Any], relations: Any) -> tuple[dict[int, list], list, list]:
        """The answers already known (by rule number), the rules to ask, and each asked rule's
        input key (to `keep` its answers under), for rules whose inputs can be keyed."""
        known: dict[int, list] = {}
        ask: list = []
        pending: list[tuple[int, tuple]] = []
        views = relations.views
        for rule in rules:
            inputs = rule.inputs
            if inputs is None:
                ask.append(rule)
                continue
            parts = []
            for view in inputs:
                part = views.get(view[0], views)
                if part is views:
                    part = views[view[0]] = fingerprint(view, relations)
                if part is None:
                    break
                parts.append(part)
            else:
                signature = tuple(parts)
                kept = self.kept.get(rule.number)
                answers = kept.pop(signature, None) if kept else None
                if answers is not None:
                    kept[signature] = known[rule.number] = answers  # now the most recently used
                    continue
                pending.append((rule.number, signature))
            ask.append(rule)
        return known, ask, pending

    def keep(self, pending: Sequence[tuple[int, tuple]], answers: Mapping[int, list]) -> None:
        for number, signature in pending:
            kept = self.kept.setdefault(number, {})
            if len(kept) >= PER_RULE:
                del kept[next(iter(kept))]
            kept[signature] = answers[number]
