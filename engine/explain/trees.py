"""Explanations over a provenance `Model`: proofs of what holds and failure trees of what does not.

A proof (`why`) follows each fact's recorded derivation down to base facts. A failure tree
(`why_not`) tries every clause that could derive the goal, and in each clause every body
condition — it does not stop at the first failure — classifying each failed condition as
*missing* (no documentation), *contradicted* (documentation says otherwise) or *blocked*
(it depends on something missing). Missing base facts carry the case-file field to supply.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Mapping, Sequence

from engine.language import ast
from engine.language.fieldpath import FieldPath
from engine.evaluate.provenance import Model, bound_row, value_of
from engine.language.visit import variable_names
from engine.explain.node import Node
from engine.explain.voice import PlainVoice, render_value
from engine.explain.reasons import SubProof

Key = tuple[str, int]
MAX_BRANCHES = 12


def ground_text(atom: ast.Atom, env: Mapping[str, Any]) -> str:
    args = ["_" if v is None else ast.format_value(v) for v in bound_row(atom, env)]
    return f"{atom.pred}({', '.join(args)})" if args else atom.pred


class Explainer:
    """Builds proofs and failure trees for one program and one case's model."""

    def __init__(self, model: Model, clauses_by_head: Mapping[Key, Sequence[ast.Clause]],
                 decls: Mapping[Key, ast.PredDecl], fields: Mapping[Key, Sequence[tuple[ast.PredDecl, FieldPath]]],
                 field_renamer=None, domains=None, voice: PlainVoice | None = None) -> None:
        self.model = model
        self.voice = voice or PlainVoice()
        self.domains = domains
        self.clauses_by_head = clauses_by_head
        self.decls = decls
        self.fields = fields
        self.rename_field = field_renamer or (lambda f: f)
        self._proofs: dict[tuple[Key, tuple], Node] = {}
        self._failures: dict[tuple[Key, tuple, int], Node] = {}
        self._fields_for: dict[tuple[Key, tuple], str] = {}

    # -- sentences ---------------------------------------------------------------------------
    def _decl_sentence(self, key: Key, args: Sequence[Any], which: str) -> str:
        if key in self.fields:
            worded = self.voice.base_fact(key, tuple(args), which)
            if worded is not None:
                return worded
        decl = self.decls.get(key)
        if not decl:
            return ""
        return self.voice.decl(decl, which, args)

    def field_for(self, key: Key, args: Sequence[Any]) -> str | None:
        """The case path of a (partial) fact, as decisions name it: `*` for an open key, `[]`
        for a list position (`imaging[].segments.L4-5.translation_mm`)."""
        paths = self.fields.get(key)
        if not paths:
            return None
        memo = (key, args) if type(args) is tuple else None
        known = self._fields_for.get(memo) if memo else None
        if known is None:
            decl, path = paths[0]
            binding = {p: a for p, a in zip(decl.params, args) if a is not None}
            known = self.rename_field(path.render(binding))
            if memo:
                self._fields_for[memo] = known
        return known

    def _says(self, clause: ast.Clause, env: Mapping[str, Any], key: Key, row: tuple):
        """The sentence of a rule instance, to be written when first read."""
        if clause.meta and clause.meta.says:
            return lambda: self.voice.rule(clause, env)
        return lambda: self._decl_sentence(key, row, "holds")

    # -- why -------------------------------------------------------------------------------------
    def top(self, key: Key, row: tuple) -> Node:
        """The conclusion a proof starts with — its rule, sentence and citations — without the
        proof below it (what a list of reasons needs)."""
        known = self._proofs.get((key, row))
        if known is not None:
            return known
        derivation = self.model.derivation(key, row) if key not in self.model.base else None
        if derivation is None:
            return self.why(key, row)
        clause, env = derivation.clause, derivation.bindings
        meta = clause.meta
        atom_text = f"{key[0]}({', '.join(map(ast.format_value, row))})" if row else key[0]
        rule_id = meta.id if meta else f"{key[0]}/{key[1]}"
        return Node("conclusion", atom_text, self._says(clause, env, key, row), rule=rule_id,
                    citations=meta.cites if meta else (), predicate=key[0], args=row, ident=(rule_id, atom_text))

    def why(self, key: Key, row: tuple) -> Node:
        memo = self._proofs.get((key, row))
        if memo is not None:
            return memo
        atom_text = f"{key[0]}({', '.join(map(ast.format_value, row))})" if row else key[0]
        if key in self.model.base:
            node = Node("fact", atom_text, lambda: self._decl_sentence(key, row, "holds"), field=self.field_for(key, row),
                        predicate=key[0], args=row, ident=("fact", atom_text))
            self._proofs[(key, row)] = node
            return node
        derivation = self.model.derivation(key, row)
        if derivation is None:
            node = Node("fact", atom_text, lambda: self._decl_sentence(key, row, "holds"), predicate=key[0], args=row,
                        ident=("fact", atom_text))
            self._proofs[(key, row)] = node
            return node
        clause, env = derivation.clause, derivation.bindings
        meta = clause.meta
        rule_id = meta.id if meta else f"{key[0]}/{key[1]}"
        node = Node("conclusion", atom_text, self._says(clause, env, key, row), rule=rule_id,
                    citations=meta.cites if meta else (), predicate=key[0], args=row,
                    ident=(rule_id, atom_text))
        self._proofs[(key, row)] = node
        node.grow = SubProof(self, clause, env)
        return node

    def _why_literal(self, literal: ast.Literal, env: Mapping[str, Any]) -> Node:
        if isinstance(literal, ast.Positive):
            row = bound_row(literal.atom, env)
            if None in row:  # an anonymous argument: show the first matching fact
                for _match, matched in self.model.match_rows(literal.atom, dict(env)):
                    row = matched
                    break
            return self.why(literal.atom.key, row)
        if isinstance(literal, ast.Negation):
            text = ground_text(literal.atom, env)
            args = bound_row(literal.atom, env)
            key = literal.atom.key
            return Node("negation", f"\\+ {text}", lambda: self._decl_sentence(key, args, "missing"),
                        predicate=literal.atom.pred, args=args, ident=("not", text))
        if isinstance(literal, ast.Comparison):
            text = f"{render_value(value_of(literal.left, env))} {literal.op} {render_value(value_of(literal.right, env))}"
            return Node("comparison", text, ident=("cmp", text))
        value = value_of(literal.result, env)
        text = str(literal).replace(str(literal.result), render_value(value))
        return Node("aggregate", text, self.voice.aggregate(literal.kind, value), ident=("agg", text))

    # -- why not ---------------------------------------------------------------------------------
    def why_not(self, atom: ast.Atom, env: Mapping[str, Any] | None = None, depth: int = 8,
                _stack: tuple = ()) -> Node:
        """Why no fact matches `atom` (under env): every clause, every failed condition."""
        env = dict(env or {})
        key = atom.key
        pattern = bound_row(atom, env)
        memo_key = (key, pattern, depth)
        known = self._failures.get(memo_key)
        if known is not None:
            return known
        text = ground_text(atom, env)
        if key in self.fields or (key not in self.clauses_by_head and key in self.decls):
            node = self._base_failure(key, pattern, text)
            self._failures[memo_key] = node
            return node
        node = Node("not_derived", text, lambda: self._decl_sentence(key, pattern, "missing"), predicate=key[0],
                    args=pattern, ident=("whynot", text))
        if depth <= 0 or (key, pattern) in _stack:
            return node
        self._failures[memo_key] = node
        stack = _stack + ((key, pattern),)
        for clause in self.clauses_by_head.get(key, ()):
            head_env = _unify_head(clause.head, pattern)
            if head_env is None:
                continue
            meta = clause.meta
            rule_id = meta.id if meta else f"{key[0]}/{key[1]}"
            branches = list(self._attempt(clause.body, 0, head_env, [], depth, stack, frozenset()))
            shown: set[str] = set()
            for n, failures in enumerate(_distinct_branches(branches)):
                if any(f.kind == "not_derived" and not f.children for f in failures):
                    continue  # the rule cannot apply this way at all (e.g. the kb's tables exclude it)
                missing = {leaf.id for f in failures for leaf in f.walk() if leaf.kind == "missing"}
                if n and not (missing - shown):
                    continue  # another way through the same rule that needs nothing new
                shown |= missing
                label = rule_id if n == 0 else f"{rule_id} (another way)"
                said = (lambda c=clause, e=head_env: self.voice.rule(c, e, "…")) if meta and meta.says else ""
                attempt = Node("failed_rule", label, said,
                               rule=rule_id, citations=meta.cites if meta else (),
                               ident=("attempt", rule_id, text, n))
                attempt.children = failures
                node.children.append(attempt)
        return node

    def _base_failure(self, key: Key, pattern: tuple, text: str) -> Node:
        rows = self.model.rows(key)
        value_positions = self._value_positions(key)
        relaxed = tuple(None if i in value_positions else v for i, v in enumerate(pattern))
        documented = [r for r in rows if all(v is None or v == r[i] for i, v in enumerate(relaxed))]
        if documented and relaxed != pattern:
            def said() -> str:  # written when first read, as every sentence of a failure tree
                shown = ", ".join(ast.format_value(r[i]) for r in documented[:3] for i in sorted(value_positions))
                return self.voice.documented(key, documented[:3]) or \
                    f"{self._decl_sentence(key, relaxed, 'unmet')} (documented: {shown})"

            return Node("contradicted", text, said,
                        field=self.field_for(key, relaxed), predicate=key[0], args=pattern,
                        ident=("contradicted", text))
        return Node("missing", text, lambda: self._decl_sentence(key, pattern, "missing"), field=self.field_for(key, pattern),
                    predicate=key[0], args=pattern, ident=("missing", text))

    def _value_positions(self, key: Key) -> set[int]:
        out = set()
        for decl, path in self.fields.get(key, ()):
            if path.value_var and path.value_var in decl.params:
                out.add(decl.params.index(path.value_var))
        return out

    def _attempt(self, body, i, env, outcomes, depth, stack, lost) -> Iterator[list[Node]]:
        """Every branch of a clause body, continuing past failures. `lost` holds the variables a
        failed literal would have bound: later conditions on them are blocked, not evaluated."""
        if i == len(body):
            yield outcomes
            return
        literal = body[i]
        if (lost and variable_names(literal) & lost) or not _evaluable(literal, env):
            blocked = self._blocked(literal, env)
            yield from self._attempt(body, i + 1, env, outcomes + [blocked], depth, stack, lost)
            return
        solutions = list(self.model.solve_literal(literal, env))
        if solutions:
            count = 0
            branches = [(solution, _OK) for solution in solutions]
            branches += self._open_entries(literal, env)
            for solution, step in branches:
                for branch in self._attempt(body, i + 1, solution, outcomes + [step], depth, stack, lost):
                    yield branch
                    count += 1
                    if count >= MAX_BRANCHES:
                        return
            return
        failure = self._failure(literal, env, depth, stack, body[:i])
        if isinstance(literal, ast.Positive):
            lost = lost | {v.name for v in literal.atom.variables() if not v.anonymous and v.name not in env}
        yield from self._attempt(body, i + 1, env, outcomes + [failure], depth, stack, lost)

    def _open_entries(self, literal, env) -> list[tuple[dict, Node]]:
        """For a case field read in every entry of a list (`si_injection_guided(Side, I, true)`),
        the entries that do not document it: each is another way the condition could hold, so
        it is reported missing there even though another entry matches."""
        if not isinstance(literal, ast.Positive) or literal.atom.key not in self.fields:
            return []
        atom, key = literal.atom, literal.atom.key
        layout = self.layout
        value_pos = layout.value.get(key)
        out = []
        for pos in sorted(layout.index.get(key, ())):
            term = atom.args[pos]
            if not isinstance(term, ast.Var) or term.name == "_" or term.name in env:
                continue
            others = [p for p, t in enumerate(atom.args) if p not in (pos, value_pos)
                      and not (isinstance(t, ast.Const) or (isinstance(t, ast.Var) and t.name in env))]
            if others:
                continue
            prefix = tuple(value_of(atom.args[p], env) for p in layout.prefix.get((key, pos), ()))
            for entry in layout.entries(self.model, key, pos, prefix):
                extended = {**env, term.name: entry}
                probe = tuple(None if p == value_pos else value_of(t, extended) for p, t in enumerate(atom.args))
                if any(all(v is None or v == r[i] for i, v in enumerate(probe)) for r in self.model.rows(key)):
                    continue  # this entry documents the field (with another value)
                pattern = tuple(value_of(t, extended) if not (isinstance(t, ast.Var) and t.name == "_") else None
                                for t in atom.args)
                out.append((extended, self._base_failure(key, pattern, ground_text(atom, extended))))
        return out

    @property
    def layout(self):
        if getattr(self, "_layout", None) is None:
            from engine.explain.layout import Layout

            self._layout = Layout.shared(self.fields)
        return self._layout

    def _counterfactual(self, key: Key, row: tuple, depth: int, stack) -> Node:
        """Why a fact that blocks a conclusion holds, with, under each of its negated conditions,
        what would have to be documented to make that condition fail (and so the fact go away)."""
        proof = self.why(key, row)
        derivation = self.model.derivation(key, row)
        if derivation is None:
            return proof
        env = derivation.bindings
        node = Node(proof.kind, proof.label, proof.text, rule=proof.rule, citations=proof.citations,
                    predicate=proof.predicate, args=proof.args, ident=("because", proof.id))
        for literal in derivation.clause.body:
            if isinstance(literal, ast.Negation):
                negation = self._why_literal(literal, env)
                flipped = Node(negation.kind, negation.label, negation.text, predicate=negation.predicate,
                               args=negation.args, ident=("because", negation.id))
                flipped.children = [self.why_not(literal.atom, env, depth, stack)]
                node.children.append(flipped)
            else:  # shown without its own sub-proof: `why` has that, here it is only context
                step = self._why_literal(literal, env)
                node.children.append(Node(step.kind, step.label, step.text, rule=step.rule, citations=step.citations,
                                          field=step.field, predicate=step.predicate, args=step.args, ident=step.ident))
        return node

    def _blocked(self, literal, env) -> Node:
        """A condition that depends on an earlier failure. A case field that is documented nowhere
        (e.g. no SI-joint work-up on either side) is still reported as missing, with `*` for the
        part that failed earlier; otherwise the condition cannot be judged yet."""
        if isinstance(literal, ast.Positive) and literal.atom.key in self.fields \
                and not any(True for _ in self.model.match_atom(literal.atom, dict(env))):
            atom = literal.atom
            pattern = tuple(value_of(t, env) if not (isinstance(t, ast.Var) and t.name == "_") else None
                            for t in atom.args)
            return self._base_failure(atom.key, pattern, ground_text(atom, env))
        return Node("blocked", str(literal), "depends on a condition that failed earlier",
                    ident=("blocked", str(literal), sorted(env.items())))

    def _failure(self, literal, env, depth, stack, before=()) -> Node:
        if isinstance(literal, ast.Positive):
            return self.why_not(literal.atom, env, depth - 1, stack)
        if isinstance(literal, ast.Negation):
            rows = [row for _match, row in self.model.match_rows(literal.atom, dict(env))][:10]
            text = ground_text(literal.atom, env)
            sentences = lambda: "; ".join(self._decl_sentence(literal.atom.key, row, "holds") for row in rows)  # noqa: E731
            node = Node("contradicted", f"\\+ {text}", sentences, predicate=literal.atom.pred,
                        args=tuple(value_of(t, env) for t in literal.atom.args), ident=("holds", text))
            node.children = [self._counterfactual(literal.atom.key, row, depth - 1, stack) for row in rows]
            return node
        if isinstance(literal, ast.Comparison):
            text = f"{render_value(value_of(literal.left, env))} {literal.op} {render_value(value_of(literal.right, env))}"
            node = Node("contradicted", text, lambda: self.voice.comparison_failed(
                literal.op, value_of(literal.left, env), value_of(literal.right, env)), ident=("cmpfail", text))
            names = variable_names(literal)
            for earlier in before:
                if isinstance(earlier, ast.Aggregate) and isinstance(earlier.result, ast.Var) \
                        and earlier.result.name in names:
                    node.children.append(self._aggregate_shortfall(earlier, env))
            return node
        return Node("contradicted", str(literal), f"{literal.kind} has no value", ident=("aggfail", str(literal)))

    def _aggregate_shortfall(self, literal: ast.Aggregate, env) -> Node:
        """What an aggregate counted, and which undocumented facts it could also have counted."""
        value = value_of(literal.result, env)
        text = str(literal).replace(str(literal.result), render_value(value))
        node = Node("aggregate", text, self.voice.aggregate(literal.kind, value), ident=("agg", text))
        if self.domains is None:
            return node
        for goal in literal.goal:
            if not isinstance(goal, ast.Positive) or goal.atom.key not in self.fields:
                continue
            node.children += self._uncounted(goal.atom, env)
        return node

    def _uncounted(self, atom: ast.Atom, env) -> list[Node]:
        key = atom.key
        values = self._value_positions(key)
        pattern = [value_of(t, env) if not (isinstance(t, ast.Var) and t.name == "_") else None for t in atom.args]
        open_keys = [i for i, v in enumerate(pattern) if v is None and i not in values]
        if not open_keys:
            return []
        documented = {tuple(row[i] for i in open_keys) for row in self.model.rows(key)
                      if all(pattern[i] is None or i in values or row[i] == pattern[i] for i in range(len(row)))}
        choices = [self.domains.values(key, i) for i in open_keys]
        out = []
        for combo in itertools.product(*choices):
            if combo in documented:
                continue
            filled = list(pattern)
            for i, v in zip(open_keys, combo):
                filled[i] = v
            text = f"{key[0]}({', '.join('_' if v is None else ast.format_value(v) for v in filled)})"
            out.append(Node("missing", text, self._decl_sentence(key, filled, "missing"),
                            field=self.field_for(key, filled), predicate=key[0], args=tuple(filled),
                            ident=("missing", text)))
        return out[:20]


_OK = Node("ok", "")
"""A condition that holds, in a branch of `_attempt` (only the failures of a branch are kept)."""

MAX_WAYS = 4
"""Distinct ways through one clause shown in a failure tree (each adds missing facts)."""


def _distinct_branches(branches: list[list[Node]]) -> list[list[Node]]:
    """The failed conditions of each branch, fewest real failures first (a condition blocked by
    an earlier failure does not count), without repeats, at most MAX_WAYS."""
    scored = []
    for branch in branches:
        failures = [o for o in branch if o.kind != "ok"]
        if not failures:
            return []  # some branch succeeds: the clause would prove the goal
        scored.append((sum(1 for o in failures if o.kind != "blocked"), failures))
    scored.sort(key=lambda item: item[0])
    out, seen = [], set()
    for _score, failures in scored:
        signature = tuple(f.id for f in failures)
        if signature in seen:
            continue
        seen.add(signature)
        out.append(failures)
        if len(out) >= MAX_WAYS:
            break
    return out


def _evaluable(literal, env) -> bool:
    if isinstance(literal, ast.Negation):
        return all(v.name in env for v in literal.atom.variables() if not v.anonymous)
    if isinstance(literal, ast.Comparison):
        sides = [isinstance(t, ast.Const) or t.name in env for t in (literal.left, literal.right)]
        return all(sides) or (literal.op == "=" and any(sides))
    return True  # a positive literal or an aggregate


def _unify_head(head: ast.Atom, pattern: tuple) -> dict[str, Any] | None:
    consts, names = head.slots
    for pos, value in enumerate(consts):
        if value is not None and pattern[pos] is not None and not (value == pattern[pos]):
            return None
    env: dict[str, Any] = {}
    for pos, name in names:
        v = pattern[pos]
        if v is not None:
            if name in env and env[name] != v:
                return None
            env[name] = v
    return env
