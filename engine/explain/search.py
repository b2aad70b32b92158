"""Minimal documentation sets: candidates from abduction, each checked against the rules.

`MinimalSets.find(goal)` takes the abducer's candidate condition sets, smallest first, places
their list entries, adds the witness facts (and the facts they imply: a field inside a new
injection implies the injection and the list) to a `Hypothesis`, and keeps the sets under which
the goal holds and no proper subset does. A candidate that fails is extended once by abducing
again in its own hypothesis (what it still lacks once its facts are in), within the size.
Checks are incremental: a hypothesis evaluates only what its facts reach, top-down, for the
goals asked.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from engine.explain.abduction import Abducer
from engine.explain.layout import Layout
from engine.explain.conditions import Condition, Slot
from engine.explain.hypothesis import Dependents, Hypothesis, Shared
from engine.language import ast
from engine.language.fieldpath import Each, Key as PathKey, Keys

Key = tuple[str, int]
MAX_EXTENDED = 5
MAX_HYPOTHESES = 256
"""Hypotheses kept per session (cleared when full)."""
"""Failed candidates abduced again when no candidate works (see `find`)."""
MAX_CHECKS = 400
"""Candidate checks per goal: a guard against a kb whose repairs explode (reported, not hidden)."""


@dataclass
class Found:
    conditions: tuple[Condition, ...]
    unblocks: list[Any] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.conditions)


@dataclass
class Outcome:
    found: list[Found]
    holds: bool = False            # the goal holds without adding anything
    candidates: int = 0            # candidate sets the abduction proposed
    checks: int = 0                # hypotheses evaluated
    exhausted: bool = False        # MAX_CHECKS reached: the list may be incomplete


class MinimalSets:
    def __init__(self, model, clauses_by_head: Mapping[Key, Sequence[ast.Clause]],
                 fields: Mapping[Key, Sequence[tuple[Any, Any]]], static: Mapping[Key, list[tuple]],
                 fixed: set[Key], domains=None, recursive: set[Key] | frozenset = frozenset(),
                 placer: Callable[[Sequence[Condition]], tuple[Condition, ...]] | None = None,
                 dependents: Dependents | None = None) -> None:
        self.model = model
        self.clauses_by_head = clauses_by_head
        self.fields = fields
        self.static = static
        self.fixed = fixed
        self.domains = domains
        self.recursive = recursive
        self.layout = Layout.of(fields)
        self.placer = placer or self.place
        self.dependents = dependents or Dependents(clauses_by_head)
        self.shared = Shared()

    def abducer(self, model, max_size: int) -> Abducer:
        """An abducer over `model`; the one over the case's own model is kept per size, so that
        the goals of one case share what they have worked out."""
        if model is not self.model:
            return Abducer(model, self.clauses_by_head, self.fields, self.static, self.fixed, max_size, self.domains)
        cache = self.__dict__.setdefault("_abducers", {})
        if max_size not in cache:
            cache[max_size] = Abducer(model, self.clauses_by_head, self.fields, self.static, self.fixed, max_size,
                                      self.domains)
        return cache[max_size]

    def find(self, goal: ast.Atom, max_size: int = 3, others: Sequence[tuple[Any, ast.Atom]] = (),
             first: bool = False) -> Outcome:
        """Every minimal set of at most `max_size` conditions that makes `goal` hold, smallest
        first; `others` are (label, goal) pairs whose labels a set lists in `unblocks` when it
        makes them hold too. With `first`, stop at the first (a smallest) set."""
        options = self.abducer(self.model, max_size).prove(goal)
        if any(not o.conditions for o in options):
            return Outcome([], holds=True)
        queue = sorted({_canonical(o.conditions) for o in options}, key=_order)
        outcome = Outcome([], candidates=len(queue))
        verdicts: dict[frozenset, bool] = {}
        found: list[frozenset] = []
        failed = self._sweep(goal, queue, found, verdicts, outcome, first)
        if not found and failed:
            # nothing the first reading proposed works: each failed candidate, once its facts are
            # in, may lack something the first reading could not see (a repair that uncovers
            # another obstacle); abduce again inside its hypothesis
            more: set[frozenset] = set()
            for candidate in failed[:MAX_EXTENDED]:
                if len(candidate) < max_size:
                    more |= self._extend(goal, candidate, max_size)
            outcome.candidates += len(more)
            self._sweep(goal, sorted(more, key=_order), found, verdicts, outcome, first)
        results = []
        for conds in found:
            placed = self.placer(sorted(conds, key=Condition.sort_key))
            hypothesis = self.hypothesis(placed)
            unblocks = [label for label, other in others if any(True for _ in hypothesis.match_atom(other, {}))]
            results.append(Found(tuple(placed), unblocks))
        outcome.found = sorted(results, key=lambda f: (f.size, -len(f.unblocks), [c.sort_key() for c in f.conditions]))
        return outcome

    def _sweep(self, goal: ast.Atom, queue: list[frozenset], found: list[frozenset], verdicts: dict,
               outcome: Outcome, first: bool) -> list[frozenset]:
        """Check candidates smallest first; keep the minimal ones that work in `found`, return the
        ones that failed."""
        failed = []
        while queue:
            if outcome.checks >= MAX_CHECKS:
                outcome.exhausted = True
                break
            candidate = queue.pop(0)
            if any(f <= candidate for f in found):
                continue
            if not self._holds(goal, candidate, verdicts, outcome):
                failed.append(candidate)
                continue
            smaller = [frozenset(s) for s in itertools.combinations(candidate, len(candidate) - 1) if s]
            working = [s for s in smaller if self._holds(goal, s, verdicts, outcome)]
            if working:
                queue = sorted(set(queue) | set(working), key=_order)
                continue
            found.append(candidate)
            if first:
                break
        return failed

    # -- checking a candidate ----------------------------------------------------------------------
    def hypothesis(self, placed: Sequence[Condition]) -> Hypothesis:
        """The case with these conditions' witness facts (and what they imply) added; one per set
        of facts, kept for the session, so checking a set and asking what else it decides (and
        the same set met again for another line) share their evaluations."""
        cache = self.__dict__.setdefault("_hypotheses", {})
        facts = frozenset((c.key, c.row()) for c in placed)
        if facts in cache:
            return cache[facts]
        if len(cache) >= MAX_HYPOTHESES:
            cache.clear()
        rows: dict[Key, list[tuple]] = {}
        for cond in placed:
            for key, row in [(cond.key, cond.row())] + self.implied(cond.key, cond.row()):
                if row not in rows.setdefault(key, []):
                    rows[key].append(row)
        cache[facts] = Hypothesis(self.model, self.clauses_by_head, rows, self.dependents, self.recursive, self.shared)
        return cache[facts]

    def _holds(self, goal: ast.Atom, conds: frozenset, verdicts: dict, outcome: Outcome) -> bool:
        if conds not in verdicts:
            outcome.checks += 1
            hypothesis = self.hypothesis(self.placer(sorted(conds, key=Condition.sort_key)))
            verdicts[conds] = any(True for _ in hypothesis.match_atom(goal, {}))
        return verdicts[conds]

    def _extend(self, goal: ast.Atom, candidate: frozenset, max_size: int) -> set[frozenset]:
        """What a failed candidate still lacks once its facts are in, abduced in its hypothesis."""
        hypothesis = self.hypothesis(self.placer(sorted(candidate, key=Condition.sort_key)))
        options = self.abducer(hypothesis, max_size - len(candidate)).prove(goal)
        out = set()
        for option in options:
            union = candidate | option.conditions
            if option.conditions and len(union) <= max_size:
                out.add(union)
        return out

    # -- list entries and implied facts -------------------------------------------------------------
    def place(self, conds: Sequence[Condition]) -> tuple[Condition, ...]:
        """Give each open list position an index: `any` goes to an existing entry that already
        records the same place (the study that reports the segment), else to a new entry; each
        `new` group gets the next index past the list's end. Entries a set adds share one new
        entry per list when their places do not collide."""
        next_free: dict[tuple, int] = {}
        groups: dict[tuple, int] = {}
        out = []
        for cond in conds:
            args = list(cond.args)
            for pos, value in enumerate(cond.args):
                if not isinstance(value, Slot):
                    continue
                signature, prefix = self._list_of(cond, pos)
                if value.kind == "any":
                    existing = self._hosting_entry(cond, pos)
                    if existing is not None:
                        args[pos] = existing
                        continue
                    group = (signature, prefix, "any")
                else:
                    group = (signature, prefix, value.group)
                if group not in groups:
                    start = next_free.get((signature, prefix))
                    if start is None:
                        start = self._list_end(cond, pos)
                    groups[group] = start
                    next_free[(signature, prefix)] = start + 1
                args[pos] = groups[group]
            out.append(Condition(cond.key, tuple(args), cond.position, cond.op, cond.order))
        return tuple(out)

    def _list_of(self, cond: Condition, pos: int) -> tuple[tuple, tuple]:
        signature = self.layout.lists.get((cond.key, pos), (cond.key, pos))
        prefix = tuple(cond.args[p] for p in self.layout.prefix.get((cond.key, pos), ()))
        return signature, prefix

    def _list_end(self, cond: Condition, pos: int) -> int:
        signature, prefix = self._list_of(cond, pos)
        used = [-1]
        for (other, other_pos), other_sig in self.layout.lists.items():
            if other_sig != signature:
                continue
            before = self.layout.prefix.get((other, other_pos), ())
            for row in self.model.rows(other):
                if tuple(row[p] for p in before) == prefix and isinstance(row[other_pos], int):
                    used.append(row[other_pos])
        return max(used) + 1

    def _hosting_entry(self, cond: Condition, pos: int) -> int | None:
        """An existing entry whose record of the same place (all arguments but the list position,
        the field name and the value) exists and lacks this field."""
        key = cond.key
        name_pos = self._name_position(key)
        keep = [p for p in range(len(cond.args)) if p not in (pos, cond.position, name_pos)]
        candidates = sorted({row[pos] for row in self.model.rows(key)
                             if all(row[p] == cond.args[p] for p in keep) and isinstance(row[pos], int)})
        for index in candidates:
            taken = [row for row in self.model.rows(key) if row[pos] == index
                     and all(row[p] == cond.args[p] for p in range(len(row)) if p not in (pos, cond.position))]
            if not taken:
                return index
        return None

    def _name_position(self, key: Key) -> int | None:
        """The argument that names the field (the last `{Var}` step of its path), if any."""
        for decl, path in self.fields.get(key, ())[:1]:
            last = path.steps[-1]
            if isinstance(last, Keys):
                return decl.params.index(last.var)
        return None

    def implied(self, key: Key, row: tuple) -> list[tuple[Key, tuple]]:
        """Facts a new fact brings with it: those of fields whose path leads to it (the list it is
        an entry of, the entry itself, a history key that now holds something)."""
        paths = self.fields.get(key)
        if not paths:
            return []
        decl, path = paths[0]
        binding = {p: v for p, v in zip(decl.params, row)}
        trail: list[tuple[str, Any]] = []  # (step name, value bound by the step or None)
        for step in path.steps:
            if isinstance(step, PathKey):
                trail.append((step.name, None))
            elif isinstance(step, Each):
                trail.append((step.name, None))
                trail.append(("[]", binding.get(step.var) if step.var else None))
            else:
                trail.append(("*", binding.get(step.var)))
        out = []
        for other, other_paths in self.fields.items():
            if other == key:
                continue
            other_decl, other_path = other_paths[0]
            if other_path.value_var:
                continue
            bound = _prefix_binding(other_path, trail)
            if bound is None or any(p not in bound for p in other_decl.params):
                continue
            out.append((other, tuple(bound[p] for p in other_decl.params)))
        return out


def _prefix_binding(path, trail: list[tuple[str, Any]]) -> dict | None:
    """The binding of `path`'s variables if `path` is a proper prefix of the trail, else None."""
    out: dict[str, Any] = {}
    i = 0
    for step in path.steps:
        if i >= len(trail):
            return None
        name, value = trail[i]
        if isinstance(step, PathKey):
            if name != step.name and not (name == "*" and value == step.name):
                return None
            i += 1
        elif isinstance(step, Keys):
            label = value if name == "*" else name
            if label is None or label == "[]":
                return None
            out[step.var] = label
            i += 1
        else:
            if name != step.name and not (name == "*" and value == step.name):
                return None
            i += 1
            if step.var:
                if i >= len(trail) or trail[i][0] != "[]" or trail[i][1] is None:
                    return None
                out[step.var] = trail[i][1]
                i += 1
            elif i < len(trail) and trail[i][0] == "[]":
                i += 1
    return out if i < len(trail) or not path.value_var else None


def _canonical(conds: frozenset) -> frozenset:
    """The same set with its new-entry groups numbered 1, 2, ... in order of use, so that two
    readings that add the same new entry compare equal."""
    renumber: dict[int, int] = {}
    for cond in sorted(conds, key=lambda c: (c.key, c.op, [str(a) for a in c.args if not isinstance(a, Slot)])):
        for arg in cond.args:
            if isinstance(arg, Slot) and arg.kind == "new" and arg.group not in renumber:
                renumber[arg.group] = len(renumber) + 1
    if not renumber:
        return conds
    return frozenset(Condition(c.key, tuple(Slot("new", renumber[a.group]) if isinstance(a, Slot) and a.kind == "new"
                                            else a for a in c.args), c.position, c.op, c.order) for c in conds)


def _order(conds: frozenset) -> tuple:
    return (len(conds), sorted(c.sort_key() for c in conds))
