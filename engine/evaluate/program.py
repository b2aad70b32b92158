"""The engine's Python API: parse and check rule text, add facts, query — all through pyDatalog.

    prog = Program.from_text(text, source="name.dl")
    prog.add_facts("edge", [(1, 2), (2, 3)])
    prog.query("path")          # set of tuples
    prog.ask("path(1, X)")      # [{"X": 2}, {"X": 3}]
"""
from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from engine.language import ast
from engine.compile.backend import Backend
from engine.errors import Finding, Location, RuleError
from engine.guard import gcpause
from engine.guard.budget import Budget
from engine.compile.lower import AUX, CoreProgram, Names, lower_clause, lower_program
from engine.language.tables import tables
from engine.language.visit import literal_variables, order_key

Key = tuple[str, int]


class Program:
    """A checked program. Rules are compiled into pyDatalog once per thread, on first use."""

    def __init__(self, modules: Sequence[ast.Module], *, citations: Iterable[str] | None = None,
                 strict: bool = True, roots: Iterable[str] = (), require_annotations: bool = False,
                 findings: list[Finding] | None = None, core: CoreProgram | None = None,
                 budget: Budget | None = None) -> None:
        self.modules = tuple(modules)
        self._budget = budget or Budget.default()
        if findings is None:
            from engine.checks import run_checks

            findings = run_checks(self.modules, citations=citations, roots=roots,
                                  require_annotations=require_annotations)
        if not strict:
            findings = [Finding(f.code, f.message, f.location, "warning") if f.code == "undefined_predicate"
                        else f for f in findings]
        errors = [f for f in findings if f.severity == "error"]
        self.pending: dict[Key, Finding] = {}
        if errors:
            raise RuleError(findings)
        self.findings = findings
        self.warnings = [f for f in findings if f.severity == "warning"]
        self.clauses = tuple(c for m in self.modules for c in m.clauses)
        self.decls = {d.key: d for m in self.modules for d in m.decls}
        self.arity: dict[str, int] = {}
        table = tables(self.clauses)  # checked: one arity per name, so any order gives the same
        for name, arity in sorted(table.heads):
            self.arity.setdefault(name, arity)
        for c in table.rules:
            for lit in c.body:
                for atom, _ in ast.body_atoms(lit):
                    self.arity.setdefault(atom.pred, len(atom.args))
        for key in self.decls:
            self.arity.setdefault(key[0], key[1])
        defined = table.heads | set(self.decls)
        for clause in table.rules if not strict else ():
            for lit in clause.body:
                for atom, _ in ast.body_atoms(lit):
                    if atom.key not in defined and atom.key not in self.pending:
                        self.pending[atom.key] = Finding(
                            "undefined_predicate", f"{atom.pred}/{len(atom.args)} is used but never defined, "
                            "and no facts were added for it", atom.loc)
        self._edges = [(c.head.key, a.key) for c in table.rules for lit in c.body for a, _ in ast.body_atoms(lit)]
        self.core = core or lower_program(self.clauses, sorted(set(self.arity.items())))
        self._backend: Backend | None = None
        self._backend_lock = threading.Lock()
        self._query_names = itertools.count(1)
        self._queries: dict[str, tuple[Key, list[str], tuple]] = {}

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._backend_lock:  # two threads must not each build (and fill) their own
                if self._backend is None:
                    backend = Backend(self.core, self.strata, self.recursive, getattr(self, "_plan", None))
                    backend.budget = self._budget
                    self._backend = backend
        return self._backend

    @property
    def budget(self) -> Budget:
        """What one evaluation (a `derive`, a `query`, an `ask`) may cost: `Budget(steps, seconds)`.
        Past it evaluation stops with `EvaluationError` code `budget_exceeded` (exit 4) and the
        program stays usable. Default `Budget.default()` (engine/guard/limits.py)."""
        return self._budget

    @budget.setter
    def budget(self, budget: Budget) -> None:
        self._budget = budget
        if self._backend is not None:
            self._backend.budget = budget

    @property
    def strata(self) -> list[list[Key]]:
        """Predicates grouped into strongly connected components, dependencies first."""
        if getattr(self, "_strata", None) is None:
            from engine.checks.stratify import components, dependency_edges, recursive_keys

            edges = dependency_edges(self.clauses)
            self._recursive = recursive_keys(self.clauses)  # first: `strata` not None means both are set
            self._strata = components(sorted({c.head.key for c in self.clauses}), edges)
        return self._strata

    @property
    def recursive(self) -> set[Key]:
        self.strata
        return self._recursive

    @property
    def derived_keys(self) -> frozenset[Key]:
        """The predicates some rule derives (what `derive` answers)."""
        if getattr(self, "_derived_keys", None) is None:
            self._derived_keys = frozenset(c.head.key for c in self.clauses if c.body)
        return self._derived_keys

    @property
    def clauses_by_head(self) -> dict[Key, list[ast.Clause]]:
        if getattr(self, "_by_head", None) is None:
            self._by_head: dict[Key, list[ast.Clause]] = {}
            for c in self.clauses:
                self._by_head.setdefault(c.head.key, []).append(c)
        return self._by_head

    def model(self, facts: Mapping[Key, Sequence[tuple]], derived: Mapping[Key, Sequence[tuple]] | None = None):
        """The provenance model for these base facts (see engine.evaluate.provenance); with `derived`,
        pyDatalog's answers are taken as the model and derivations reconstructed on demand."""
        from engine.evaluate.provenance import Model, kb_fact_rows

        if getattr(self, "_fact_rows", None) is None:
            self._fact_rows = kb_fact_rows(self.clauses)
        return Model(self.clauses, facts, self.strata, self.recursive, derived, self._fact_rows, self.clauses_by_head,
                     getattr(derived, "origins", None), self.budget)

    def derive(self, facts: Mapping[Key, Sequence[tuple]], demand: Iterable[Key] | None = None,
               origins: dict | None = None) -> dict[Key, list[tuple]]:
        """Derived predicates' answers for these facts, computed by pyDatalog (facts are asserted,
        the strata materialised, and the facts retracted again): every derived predicate's, or
        with `demand` those the demanded predicates read (and perhaps more). `origins`, when
        given, receives for each answer the indexes of the source clauses that derived it (in
        `clauses_by_head` order), so the provenance model tries only those."""
        self.clear_facts()
        try:
            for (pred, arity), rows in facts.items():
                self.add_facts(pred, rows, arity=arity)
            state = self.backend.activate()
            answers = dict(state.materialize(demand))
            if origins is not None:
                origins.update(state.origins)
            return answers
        finally:
            self.clear_facts()

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, source: str = "<text>", *, citations: Iterable[str] | None = None,
                  strict: bool = False, budget: Budget | None = None) -> "Program":
        """Parse and check one program text. Predicates it uses but never defines may be supplied
        later with `add_facts`; querying one that never was raises `undefined_predicate`."""
        from engine.language.parser import parse_text

        with gcpause.paused():
            return cls([parse_text(text, source)], citations=citations, strict=strict, budget=budget)

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path], *, citations: Iterable[str] | None = None,
                   strict: bool = True, roots: Iterable[str] = (),
                   require_annotations: bool = False, budget: Budget | None = None) -> "Program":
        """Parse and check rule files (directories are searched for `*.dl`, in sorted order)."""
        modules, findings = parse_paths(paths)
        if findings:
            raise RuleError(findings)
        return cls(modules, citations=citations, strict=strict, roots=roots,
                   require_annotations=require_annotations, budget=budget)

    # -- facts ----------------------------------------------------------------------------
    def add_facts(self, pred: str, rows: Iterable[Sequence[Any]], *, arity: int | None = None) -> None:
        """Assert ground facts of a predicate (in the calling thread)."""
        rows = [tuple(r) for r in rows]
        known = self.arity.get(pred, arity)
        if known is None:
            known = len(rows[0]) if rows else None
        if known is None:
            raise RuleError([Finding("undefined_predicate", f"{pred} is not a predicate of this program; "
                                     "give arity= to declare it with no facts")])
        for row in rows:
            if len(row) != known:
                raise RuleError([Finding("arity_mismatch", f"{pred} takes {known} arguments, got a fact "
                                         f"with {len(row)}: {row}")])
            for value in row:
                if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    raise RuleError([Finding("syntax", f"fact values are atoms (str) or numbers; {pred}{row} "
                                             f"has {value!r}")])
        self.arity.setdefault(pred, known)
        key = (pred, known)
        state = self.backend.activate()
        state.supplied.add(key)
        state.assert_facts(key, rows)

    def clear_facts(self) -> None:
        """Retract every fact added with `add_facts` in this thread; rules stay loaded."""
        self.backend.activate().retract_all()

    # -- queries --------------------------------------------------------------------------
    def query(self, pred: str, arity: int | None = None) -> set[tuple]:
        """All answers of a predicate, as a set of tuples."""
        if arity is None:
            arity = self.arity.get(pred)
        if arity is None:
            raise RuleError([Finding("undefined_predicate", f"{pred} is not a predicate of this program")])
        key = (pred, arity)
        state = self.backend.activate()
        self._require_defined([key], state.supplied)
        return set(state.query(key))

    def ask(self, goal: str) -> list[dict[str, Any]]:
        """Answers of a goal such as `path(1, X), X > 2`, as sorted {variable: value} dicts.

        A goal is parsed and checked once and its query clause stays compiled (per thread), so
        asking it again costs only the evaluation; memory grows with the distinct goals asked."""
        state = self.backend.activate()
        compiled = self._queries.get(goal)
        if compiled is None:  # each distinct goal is compiled once and stays installed
            compiled = self._queries[goal] = self._compile_goal(goal)
        key, names, body = compiled
        self._require_defined([a.key for lit in body for a, _ in ast.body_atoms(lit)], state.supplied)
        if key not in state.installed:
            self._install_goal(state, key, names, body)
        rows = state.query(key)
        answers = [dict(zip(names, row)) for row in rows]
        return sorted(answers, key=lambda a: [order_key(a[n]) for n in names])

    def _compile_goal(self, goal: str) -> tuple[Key, list[str], tuple]:
        from engine.checks.safety import clause_safety
        from engine.language.parser import parse_goal

        body = parse_goal(goal)
        names: list[str] = []
        for lit in body:
            for v in literal_variables(lit, aggregate_goal=False):
                if not v.anonymous and v.name not in names:
                    names.append(v.name)
        head = ast.Atom(f"query{AUX}{next(self._query_names)}", tuple(ast.Var(n) for n in names))
        clause = ast.Clause(head, body, None, Location("<query>", 1, 1))
        findings = clause_safety(clause)
        for lit in body:
            for atom, _ in ast.body_atoms(lit):
                if atom.pred not in self.arity:
                    findings.append(Finding("undefined_predicate", f"{atom.pred}/{len(atom.args)} is not a "
                                            "predicate of this program", atom.loc))
                elif self.arity[atom.pred] != len(atom.args):
                    findings.append(Finding("arity_mismatch", f"{atom.pred} takes {self.arity[atom.pred]} "
                                            f"arguments, the query gives {len(atom.args)}", atom.loc))
        findings = [f for f in findings if f.code != "unsafe_variable" or "head" not in f.message]
        if findings:
            raise RuleError(findings)
        return head.key, names, body

    @staticmethod
    def _install_goal(state, key: Key, names: list[str], body: tuple) -> None:
        """Compile a goal's query clause into this thread's pyDatalog program."""
        clause = ast.Clause(ast.Atom(key[0], tuple(ast.Var(n) for n in names)), body)
        aux: list = []
        aggs: list = []
        cores = lower_clause(clause, Names(prefix=f"{key[0]}{AUX}"), aggs, aux)
        state.add_query_clauses(aux + cores, aggs)
        state.installed.add(key)

    def _require_defined(self, keys: Iterable[Key], supplied: set[Key]) -> None:
        """Raise if a goal depends on a predicate that was neither defined nor supplied with facts."""
        if not self.pending:
            return
        todo, seen = list(keys), set()
        graph: dict[Key, list[Key]] = {}
        for head, body in self._edges:
            graph.setdefault(head, []).append(body)
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            if key in self.pending and key not in supplied:
                raise RuleError([self.pending[key]])
            todo.extend(graph.get(key, ()))


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += sorted(f for f in path.rglob("*.dl") if f.is_file())
        else:
            files.append(path)
    return files


def parse_paths(paths: Iterable[str | Path], display_root: Path | None = None) -> tuple[list[ast.Module], list[Finding]]:
    """Parse every rule file, collecting the syntax errors of all files rather than the first."""
    modules, findings = [], []
    for file in rule_files(paths):
        name = str(file.relative_to(display_root)) if display_root and file.is_relative_to(display_root) else str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(Finding("syntax", f"cannot read rule file: {exc}", Location(name)))
            continue
        from engine.language.parser import parse_text

        try:
            modules.append(parse_text(text, name))
        except RuleError as exc:
            findings += exc.findings
    return modules, findings
