"""The pyDatalog backend: core clauses → pyDatalog clauses built from its Python objects.

No text reaches pyDatalog's `load`/`ask`: every term, literal and clause is constructed here.
pyDatalog keeps one program per thread (its `Logic`); a `Backend` owns one Logic object and
installs it in whichever thread uses it, so several programs can live in one process.
Names and terms are made in terms.py, the tables holding every relation's rows (and the
negations of them) in tables.py, aggregates in aggregates.py, the level's joint question in
joint.py; what prune reads of a case in relations.py.
"""
from __future__ import annotations

import threading
from itertools import groupby
import weakref
from typing import Any, Iterable, Sequence

from pyDatalog import pyEngine, pyParser
from pyDatalog.Logic import Logic

from engine.guard import budget as _budget, gcpause
from engine.language import ast
from engine.compile.lower import AUX, AggDef, CoreClause, CoreProgram, is_aux
from engine.compile.tables import FactTable, absence, normal as _normal
from engine.compile.metered import MeteredLogic, mixed_values
from engine.compile.aggregates import aggregate_call, define_aggregate
from engine.compile.joint import JointQuery
from engine.compile.plan import (Rule, Static, atoms, clause_order, complete_negations, const_value, levels,
                                 program_plan, reads)
from engine.compile.prune import live, rule_shape, single_literal_negations, some_binding
from engine.compile.relations import CaseRelations
from engine.compile.reuse import AnswerMemo, rule_inputs
from engine.compile.terms import (DELTA, MATERIALIZED, compare_primitive, engine_term, mangle, new_pred,
                                  row as row_of)

_COMPARE = {"<": "<", "=<": "<=", ">": ">", ">=": ">=", "=": "==", "\\=": "!="}


_QUERIES: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


class Backend:
    """One program's pyDatalog state, per thread: rules loaded once, facts asserted and retracted."""

    def __init__(self, core: CoreProgram, strata: Sequence[Sequence[tuple[str, int]]],
                 recursive: Iterable[tuple[str, int]] = (), plan: dict | None = None) -> None:
        self.core = core
        self.strata = [list(c) for c in strata]
        self.recursive = set(recursive)
        self.plan = plan  # `plan.program_plan` of this program, when the kb cache kept it
        self.budget = _budget.Budget.default()
        self._local = threading.local()

    # -- thread state -------------------------------------------------------------------
    def activate(self) -> "_ThreadState":
        state = getattr(self._local, "state", None)
        if state is None:
            with gcpause.paused():  # every clause's pyDatalog objects, all kept
                if self.plan is None:
                    self.plan = program_plan(self.core, self.strata, self.recursive)
                state = self._local.state = _ThreadState(self.core, self.plan)
        if getattr(Logic.tl, "logic", None) is not state.logic:
            Logic.tl.logic = state.logic
        state.budget = self.budget
        return state


class _ThreadState:
    """pyDatalog state of one program in one thread.

    Evaluation is stratified materialisation: every body literal on a derived predicate `q`
    reads `wm_q`, its *materialised* relation. After the facts of a case are stored, the
    strata are evaluated in order and each answer set stored into `wm_p`'s table (facts and
    materialised rows are tables pyDatalog reads by lookup: engine.compile.tables); a recursive
    component is iterated to a fixpoint. pyDatalog thus never re-derives a lower stratum inside
    a higher one (its top-down tabling otherwise re-proves every negated or aggregated subgoal
    per binding) and never recurses itself (it does not terminate on right-recursive rules over
    cycles), and a case costs one flat query per derived predicate.
    """

    def __init__(self, core: CoreProgram, plan: dict) -> None:
        logic = object.__new__(MeteredLogic)
        Logic.tl.logic = logic
        pyParser.clear()
        pyEngine.clear()
        for op in ("<", "<=", ">", ">=", "!="):
            pyEngine.Pred(op, 2).prim = compare_primitive
        self.logic = logic
        self.derived = plan["derived"]
        self.component: dict[tuple[str, int], int] = plan["component"]
        self.order: list[list[tuple[str, int]]] = plan["order"]
        self.iterate: set[int] = plan["iterate"]
        self.level: list[int] = plan.get("level") or levels(reads(core, self.component, len(self.order)))
        self._joint: dict[int, JointQuery] = {}  # per level, built when first asked
        self._rule_count = 0
        self.preds: dict[tuple[str, int], Any] = {}
        self.mpreds: dict[tuple[str, int], Any] = {}
        # every relation a body reads is a table (engine.compile.tables), made with its predicate
        # (_pred_object): the program's and the case's facts (`w_`), materialised rows (`wm_`),
        # a recursive round's new rows (`wd_`)
        self.tables: dict[tuple[str, int], FactTable] = {}
        self.mtables: dict[tuple[str, int], FactTable] = {}
        self.dtables: dict[tuple[str, int], FactTable] = {}
        for name, arity in core.predicates:
            self._pred_object((name, arity), mangle(name))
        for key in self.derived:
            self._pred_object(key, MATERIALIZED + key[0])
        self.static = Static(*plan["static"])
        self.needs: list[set[int]] = plan["needs"]
        self.rules: dict[tuple[str, int], list[Rule]] = {k: [] for k in self.derived}
        self.kb_rows: dict[tuple[str, int], list[tuple]] = {key: list(rows) for key, rows in core.facts}
        self.dpreds: dict[tuple[str, int], Any] = {}
        self._negations = single_literal_negations(core.clauses)
        self._aux: dict[tuple[str, int], list[CoreClause]] = {}
        for clause in core.clauses:
            if is_aux(clause.head.pred):
                self._aux.setdefault(clause.head.key, []).append(clause)
        self._aggregates = {agg.name: agg for agg in core.aggregates}
        self._answers = AnswerMemo()  # joint rules' answers reused across cases (engine.compile.reuse)
        self._absences: dict[tuple[str, int], Any] = {}  # negated relation -> its Absence predicate
        for agg in core.aggregates:
            define_aggregate(agg)
        for clause in core.clauses:
            self._add_clause(clause)
        # The program's facts of a table are stored in its FactTable when a component reading it is
        # first evaluated, or the table itself is asked for (see _supply): not at all for a table
        # no requested answer needs.
        self._reads: dict[int, set[tuple[str, int]]] = {i: set(keys) for i, keys in enumerate(self.order)}
        self._unsupplied = set(self.kb_rows)
        for clause in core.clauses:
            node = self.component.get(clause.owner or clause.head.key)
            for lit in clause.body:
                for atom in atoms(lit):
                    if node is None:
                        self._supply(atom.key)
                    else:
                        self._reads.setdefault(node, set()).add(atom.key)
        self.asserted: set[tuple[str, int]] = set()  # tables holding rows of this thread's case
        self.budget = _budget.Budget.default()
        self._evaluating: tuple[str, int] | None = None
        self.case_rows: dict[tuple[str, int], list[tuple]] = {}
        self.materialized: dict[tuple[str, int], list[tuple]] | None = None
        self.origins: dict[tuple[str, int], dict[tuple, set]] = {}  # key -> row -> source clauses
        self._static_origins: dict[tuple[str, int], dict[tuple, set]] = {}
        self._case_memo: dict[tuple[str, int], dict] = {}  # what prune computed from this case's relations
        self._stable_memo: dict[tuple[str, int], dict] = {}  # ... from the kb's facts and static relations
        self._done: set[int] = set()
        self._filled: set[tuple[str, int]] = set()  # materialised tables holding this evaluation's rows
        self._static_rows: dict[tuple[str, int], list[tuple]] | None = None
        self._static_filled: set[tuple[str, int]] = set()  # ... rows kept across cases (static strata)
        self.installed: set[tuple[str, int]] = set()  # query heads compiled into this thread
        self.supplied: set[tuple[str, int]] = set()  # predicates given facts in this thread

    def _supply(self, key: tuple[str, int]) -> None:
        """Store the program's facts of a relation in its table, the first time they are needed."""
        if key in self._unsupplied:
            self._unsupplied.discard(key)
            self._table(key).add(_normal(self.kb_rows[key]), keep=True)

    def _table(self, key: tuple[str, int]) -> FactTable:
        """The table of a relation read from facts (made, with its predicate, when first named)."""
        table = self.tables.get(key)
        if table is None:
            self._pred_object(key, mangle(key[0]))
            table = self.tables[key]
        return table

    def _name(self, pred: str, arity: int) -> str:
        """The pyDatalog predicate a body literal reads: a derived predicate is always read from
        its materialised relation, so pyDatalog never recurses (recursion is iterated here)."""
        if (pred, arity) in self.mpreds:
            return MATERIALIZED + pred
        return mangle(pred)

    # -- building clauses -----------------------------------------------------------------
    def _add_clause(self, clause: CoreClause) -> None:
        """Build the clause from pyEngine terms and literals directly."""
        key = clause.head.key
        if clause.body and key in self.rules:  # a rule of a derived predicate: its own head (see plan.Rule)
            rules = self.rules[key]
            name = f"{mangle(key[0])}{AUX}rule{len(rules) + 1}"
            pred = new_pred((name, key[1]))
            own = self.component[key]
            shape = rule_shape(clause, lambda k: self.component.get(k) != own, self._negations)
            rule = Rule(pred, shape or None, clause.source, self._rule_count)  # None: nothing to test
            self._rule_count += 1
            rules.append(rule)
            if self.component[key] in self.iterate:
                self._add_deltas(clause, name, rule)
            else:
                rule.inputs = rule_inputs(clause, self._aux, self._aggregates, self.mpreds.__contains__)
        else:
            pred = self._pred_object(key, mangle(clause.head.pred))
            if not clause.body and not is_aux(key[0]):  # stored in its table when first needed (_supply)
                self.kb_rows.setdefault(key, []).append(tuple(const_value(t) for t in clause.head.args))
                return
        head = pyEngine.Literal(pred, [engine_term(t) for t in clause.head.args])
        ordered = clause_order(clause, self.component, self.iterate)
        body = [self._engine_literal(lit) for lit in ordered]
        if clause.body and key in self.rules:
            rule.head, rule.body = head.terms, body
            rule.negated = complete_negations(ordered, self.component[key], self.component,
                                              self._negations)
        if not pyEngine.assert_(pyEngine.Clause(head, body)):  # pragma: no cover - pyDatalog refuses nothing we build
            raise RuntimeError(f"pyDatalog refused the clause for {clause.head}")

    def _add_deltas(self, clause: CoreClause, name: str, rule: "Rule") -> None:
        """Semi-naive evaluation of a recursive rule: one variant per body literal on its own
        component, reading that literal from the rows new in the last round (`wd_`)."""
        own = self.component[clause.head.key]
        head_terms = [engine_term(t) for t in clause.head.args]
        for j, lit in enumerate(clause.body):
            if not (isinstance(lit, ast.Positive) and self.component.get(lit.atom.key) == own):
                continue
            dpred = self.dpreds.get(lit.atom.key)
            if dpred is None:
                dpred = self.dpreds[lit.atom.key] = new_pred((DELTA + lit.atom.pred, len(lit.atom.args)))
                self.dtables[lit.atom.key] = FactTable(dpred)
            body = [pyEngine.Literal(dpred, [engine_term(t) for t in lit.atom.args]) if i == j
                    else self._engine_literal(other) for i, other in enumerate(clause.body)]
            variant = new_pred((f"{name}{AUX}d{j}", len(head_terms)))
            pyEngine.assert_(pyEngine.Clause(pyEngine.Literal(variant, head_terms), body))
            rule.deltas.append(variant)

    def _pred_object(self, key: tuple[str, int], name: str):
        """The predicate a name stands for (made on first use; a relation read from facts gets its
        table with it)."""
        materialized = name.startswith(MATERIALIZED)
        preds = self.mpreds if materialized else self.preds
        pred = preds.get(key)
        if pred is None:
            pred = preds[key] = new_pred((name, key[1]))
            if materialized:
                self.mtables[key] = FactTable(pred)
            elif not is_aux(key[0]):
                self.tables[key] = FactTable(pred)
        return pred

    def _engine_literal(self, literal):
        if isinstance(literal, ast.Positive):
            atom = literal.atom
            name = self._name(atom.pred, len(atom.args))
            return pyEngine.Literal(self._pred_object(atom.key, name), [engine_term(t) for t in atom.args])
        if isinstance(literal, ast.Negation):
            atom = literal.atom
            absence = self._absence(atom.key)
            if absence is not None:
                return pyEngine.Literal(absence, [engine_term(t) for t in atom.args])
            name = self._name(atom.pred, len(atom.args))
            self._pred_object(atom.key, name)
            return pyEngine.Literal("~" + name, [engine_term(t) for t in atom.args])
        if isinstance(literal, ast.Comparison):
            return pyEngine.Literal(_COMPARE[literal.op], [engine_term(literal.left), engine_term(literal.right)])
        return aggregate_call(literal)

    def _absence(self, key: tuple[str, int]):
        """The predicate standing for a negation of a table (tables.absence), or None."""
        if key not in self._absences:
            self._absences[key] = absence(key, self._negations, self._relation_table, len(self._absences))
        return self._absences[key]

    def _relation_table(self, key: tuple[str, int]) -> FactTable:
        """The table a body literal on this relation reads (its facts, or its materialised rows)."""
        name = self._name(*key)
        self._pred_object(key, name)
        return self.mtables[key] if name.startswith(MATERIALIZED) else self.tables[key]

    # -- facts and queries ----------------------------------------------------------------
    def assert_facts(self, key: tuple[str, int], rows: Iterable[Sequence[Any]]) -> None:
        table = self._table(key)
        if key in self.static.inputs:
            self._forget_static()
        kept = self.case_rows.setdefault(key, [])
        start = len(kept)
        kept += map(row_of, rows)
        # a row that is already a fact of the program stays the program's (the table keeps it)
        if table.add(kept[start:]):
            self.asserted.add(key)
        self._forget()

    def retract_all(self) -> None:
        touched_static = any(key[0] in self.static.input_names for key in self.asserted)
        for key in self.asserted:
            self.tables[key].drop()
        self.asserted = set()
        self.case_rows = {}
        self._forget()
        if touched_static:
            self._forget_static()

    def _forget_static(self) -> None:
        for key in self._static_filled:
            self.mtables[key].drop(kept=True)
        self._static_filled = set()
        self._static_rows = None
        self._stable_memo = {}

    def _forget(self) -> None:
        for key in self._filled:
            self.mtables[key].drop()
        self._filled = set()
        self.materialized = None
        self.origins: dict[tuple[str, int], dict[tuple, set]] = {}
        self._case_memo = {}
        self._done = set()

    def materialize(self, demand: Iterable[tuple[str, int]] | None = None) -> dict[tuple[str, int], list[tuple]]:
        """Evaluate derived predicates, stratum by stratum, into their `wm_` relations: those the
        `demand`ed predicates depend on (every one without a demand). Strata evaluated for this
        thread's facts stay asserted, so a later, wider demand evaluates only what is new.
        Evaluation runs within the budget; one that fails leaves nothing half-materialised."""
        try:
            with _budget.metering(self.budget, "the rules"), gcpause.paused():
                return self._materialize(demand)
        except BaseException as exc:
            self._forget()
            self._forget_static()
            if isinstance(exc, TypeError):
                raise mixed_values(exc, self._evaluating) from None
            raise

    def _materialize(self, demand: Iterable[tuple[str, int]] | None) -> dict[tuple[str, int], list[tuple]]:
        if self.materialized is None:
            self.materialized = {}
        if self._static_rows is None:
            self._static_rows = {}
        if demand is None:
            wanted = set(range(len(self.order)))
        else:
            wanted = set()
            for key in demand:
                index = self.component.get(key)
                if index is not None:
                    wanted |= self.needs[index]
        result = self.materialized
        relations = CaseRelations(self, result)  # what prune reads, one view for this evaluation
        level = self.level
        for height, group in groupby(sorted(wanted - self._done, key=lambda i: (level[i], i)), key=level.__getitem__):
            joint = []
            for index in group:
                component = self.order[index]
                static = component[0] in self.static.keys
                if static and all(key in self._static_rows for key in component):
                    for key in component:
                        result[key] = self._static_rows[key]
                        self.origins[key] = self._static_origins.get(key, {})
                elif static or index in self.iterate:
                    self._evaluate(index, component, result, static, relations)
                else:
                    joint.append(index)
                    continue
                self._done.add(index)
            if joint:
                self._evaluate_level(height, joint, result, relations)
        return result

    def _evaluate_level(self, height: int, indices: list[int], result: dict, relations: "CaseRelations") -> None:
        """The non-recursive components of one level that depend on the case: their live rules
        asked of pyDatalog as one question (see engine.compile.joint)."""
        for index in indices:
            for key in sorted(self._reads.pop(index, ())):
                self._supply(key)
        live_rules = {key: [rule for rule in self.rules[key] if rule.shape is None or live(rule.shape, relations)]
                      for index in indices for key in self.order[index]}
        chosen = [rule for rules in live_rules.values() for rule in rules]
        answers, pending = None, []
        if chosen:
            answers, chosen, pending = self._answers.split(chosen, relations)
            dead = [rule for rule in chosen if rule.shape is not None and not some_binding(rule.shape, relations)]
            if dead:  # live rules whose literals, joined, leave no binding: their answer is empty
                answers.update((rule.number, []) for rule in dead)
                chosen = [rule for rule in chosen if rule not in dead]
        if chosen:
            joint = self._joint.get(height)
            if joint is None:
                joint = self._joint[height] = self._joint_query(height)
            try:
                answers.update(joint.answers(chosen, self._ask, lambda key: not relations.rows(key)))
            except TypeError:  # asked again rule by rule below, so the error names its predicate
                answers = None
        if answers is not None:
            self._answers.keep(pending, answers)
        for index in indices:
            component = self.order[index]
            known: dict[tuple[str, int], set] = {key: set() for key in component}
            self._rounds(component, known, {key: live_rules[key] for key in component}, False, False, [], answers)
            for key in component:
                result[key] = list(known[key])
            self._done.add(index)

    def _joint_query(self, height: int) -> JointQuery:
        rules = [rule for index, comp in enumerate(self.order)
                 if self.level[index] == height and index not in self.iterate and comp[0] not in self.static.keys
                 for key in comp for rule in self.rules[key]]
        width = max(len(rule.head) for rule in rules)
        return JointQuery(new_pred((f"wj{AUX}{height}", width + 1)), rules)

    def _evaluate(self, index: int, component: list, result: dict, static: bool, relations: "CaseRelations") -> None:
        """One component: one pass or, when it is recursive, semi-naive rounds to a fixpoint (after
        the first, only the rules' delta variants are asked). A rule whose body reads a lower
        relation with no row it could match is not asked (see plan.Rule)."""
        for key in sorted(self._reads.pop(index, ())):  # only the first time this component is evaluated
            self._supply(key)
        known: dict[tuple[str, int], set] = {key: set() for key in component}
        rules = {key: [rule for rule in self.rules[key] if rule.shape is None or live(rule.shape, relations)]
                 for key in component}
        iterate, deltas = index in self.iterate, []
        try:
            self._rounds(component, known, rules, iterate, static, deltas)
        finally:  # also when the budget runs out mid-round: no delta row may outlive its evaluation
            for key in deltas:
                self.dtables[key].drop()
        for key in component:
            result[key] = list(known[key])
            if static:
                self._static_rows[key] = result[key]
                self._static_origins[key] = self.origins.get(key, {})

    def _rounds(self, component: list, known: dict, live: dict, iterate: bool, keep: bool, deltas: list,
                answers: dict | None = None) -> None:
        """Semi-naive rounds (one when not `iterate`); `answers`, when given, holds the first
        round's answers of each rule (by number), from a level's joint question. The rows are
        stored in the materialised tables, `keep`ing them across cases for a static component;
        `deltas` names the delta tables holding rows (dropped after each round)."""
        first = True
        while True:
            fresh: dict[tuple[str, int], list[tuple]] = {}
            for key in component:
                self._evaluating = key
                rows: list = []
                if first and (key in self.kb_rows or key in self.case_rows):
                    rows += self.tables[key].rows()
                origin = self.origins.setdefault(key, {})
                for rule in live[key]:
                    for pred in ([rule.pred] if first else rule.deltas):
                        raw = answers[rule.number] if first and answers is not None else self._ask(pred)
                        found = [row_of(r) for r in raw]
                        for row in found:  # which source clauses derive each row: provenance reads it
                            origin.setdefault(row, set()).add(rule.source)
                        rows += found
                # one representative per number (1.0 -> 1), whichever rule derived it first
                fresh[key] = [row for row in dict.fromkeys(rows) if row not in known[key]]
            for key in deltas:
                self.dtables[key].drop()
            deltas.clear()
            for key in component:
                if not fresh[key]:
                    continue
                known[key].update(fresh[key])
                self.mtables[key].add(fresh[key], keep=keep)
                (self._static_filled if keep else self._filled).add(key)
                if iterate and key in self.dtables:
                    self.dtables[key].add(fresh[key])
                    deltas.append(key)
            first = False
            if not iterate or not any(fresh.values()):
                break

    @staticmethod
    def _ask(pred) -> list:
        query = _QUERIES.get(pred)
        if query is None:  # one open query per predicate: each ask() tables its subgoals afresh
            query = _QUERIES[pred] = pyEngine.Literal(pred, [pyEngine.Var(f"Q{i}") for i in range(pred.arity)])
        rows = query.ask()
        if rows is True:
            return [()]
        return rows or []

    def query(self, key: tuple[str, int]) -> list[tuple]:
        """All answers of a predicate."""
        if key in self.mpreds:
            return list(self.materialize([key])[key])
        pred = self.preds.get(key)
        if pred is None:
            return []
        self._supply(key)
        self.materialize()
        args = [pyEngine.Var(f"Q{i}") for i in range(key[1])]
        try:
            with _budget.metering(self.budget, "the query"), gcpause.paused():
                result = pyEngine.Literal(pred, args).ask()
        except TypeError as exc:
            raise mixed_values(exc, key) from None
        if result is True:
            return [()]
        return list({row_of(row): None for row in result or ()})

    def add_query_clauses(self, clauses: Sequence[CoreClause], aggregates: Sequence[AggDef]) -> None:
        for agg in aggregates:
            define_aggregate(agg)
        for clause in clauses:
            for lit in clause.body:
                for atom in atoms(lit):
                    self._supply(atom.key)
                    if atom.key not in self.preds and atom.key not in self.mpreds:
                        self.preds[atom.key] = new_pred((mangle(atom.pred), len(atom.args)))
            self._add_clause(clause)
            key = clause.head.key
            if key not in self.preds:
                self.preds[key] = new_pred((mangle(key[0]), key[1]))
