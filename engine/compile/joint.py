"""One question to pyDatalog for all the rules of one level.

Components of one level (engine.compile.plan.levels) read only lower, complete relations and
none of each other, so their rules can be resolved together. Asked together, under one head,
pyDatalog's tables are shared between them for the whole question: a subgoal several rules open
for the same binding (`line_level(l1, S)`, a negated helper, a lower relation scanned by every
rule of a predicate) is resolved once instead of once per rule, and the question's own fixed
costs are paid once per level instead of once per rule. The joint head carries each rule's
number first, so every answer is still known by the rule that derived it (provenance needs
that); rules whose heads are shorter than the widest are padded with a constant.

Which rules take part changes from case to case (prune.live skips those that cannot fire): the
joint predicate's clauses are built once per level, and only the live ones are stored in it for
the one question and removed after it.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Sequence

from pyDatalog import pyEngine

from engine.compile.plan import Rule

PAD = 0
"""What fills the columns a rule's head does not have."""


class JointQuery:
    """The rules of one level as clauses of one pyDatalog predicate, `(number, args..., pads...)`."""

    __slots__ = ("pred", "clauses", "arity", "variants")

    def __init__(self, pred, rules: Sequence[Rule]) -> None:
        width = pred.arity - 1
        self.pred = pred
        self.clauses: dict[int, object] = {}
        self.arity: dict[int, int] = {}
        for rule in rules:
            terms = [pyEngine.Term_of(rule.number), *rule.head, *[pyEngine.Term_of(PAD)] * (width - len(rule.head))]
            self.clauses[rule.number] = pyEngine.Clause(pyEngine.Literal(pred, terms), list(rule.body))
            self.arity[rule.number] = len(rule.head)
        self.variants: dict[tuple[int, tuple[int, ...]], object] = {}

    def answers(self, rules: Sequence[Rule], ask: Callable, empty: Callable[[tuple[str, int]], bool]) -> dict[int, list[tuple]]:
        """Each given rule's answers (by rule number), from one question. `empty` says which
        complete relations have no row in this case: a negation of one holds whatever its
        arguments, so the rule is asked without it (pyDatalog would prove it once per binding)."""
        pred = self.pred
        chosen = [self._clause(rule, empty) for rule in rules]
        fast = type(pred.db) in (dict, OrderedDict) and type(pred.clauses) in (dict, OrderedDict)
        for clause in chosen:
            if fast:  # what assert_ stores for a rule, without the retraction it tries first
                pred.db[clause.get_id()] = clause
                pred.clauses[clause.get_id()] = clause
            else:
                pyEngine.assert_(clause)
        try:
            rows = ask(pred)
        finally:
            if fast:
                pred.db.clear()
                pred.clauses.clear()
            else:
                for clause in chosen:
                    pyEngine.retract(clause)
        found: dict[int, list[tuple]] = {rule.number: [] for rule in rules}
        arity = self.arity
        for row in rows:
            number = row[0]
            found[number].append(row[1:1 + arity[number]])
        return found

    def _clause(self, rule: Rule, empty: Callable[[tuple[str, int]], bool]):
        """The rule's clause, less its negations of relations that are empty in this case."""
        dropped = tuple(place for place, key in rule.negated if empty(key))
        if not dropped:
            return self.clauses[rule.number]
        variant = self.variants.get((rule.number, dropped))
        if variant is None:
            whole = self.clauses[rule.number]
            body = [literal for place, literal in enumerate(whole.body) if place not in dropped]
            variant = self.variants[(rule.number, dropped)] = pyEngine.Clause(whole.head, body)
        return variant
