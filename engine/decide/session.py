"""One case against one knowledge base: its lines, document, base facts, answers and model.

The application layer (decide, explain, query commands) works through a session so that a case
is read, normalised and turned into facts once, however many questions are asked of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from engine.cases.facts import extract_facts
from engine.knowledge.base import KnowledgeBase

_LINE_FIELD = re.compile(r"^lines\.(.+)\.([a-z_]+)$")
_LINE_KEYS = {"level": "levels", "side": "side", "span_vertebrae": "span"}


@dataclass
class CaseSession:
    kb: KnowledgeBase
    case: Any
    source: str
    lines: list = field(default_factory=list)
    document: dict = field(default_factory=dict)
    imported: Any = None  # the FHIR import record when the input was a bundle
    policies: dict = field(default_factory=dict)
    """The policy choice of each stage (`engine.decide.policy.PolicyChoice`), keyed by stage."""
    parts: dict = field(default_factory=dict)
    """When stages are decided by different policy versions: a session per version key."""

    @classmethod
    def from_case(cls, kb: KnowledgeBase, case: Any, source: str, *, lines: list | None = None,
                  imported: Any = None) -> "CaseSession":
        """A session for an already validated case (`engine.inputs.open_session` opens files).
        `lines` are expanded from the case unless given (a FHIR import gives its own)."""
        from engine.cases import case_document, expand_lines
        from engine.cases.bounds import check_bounds

        if lines is None:
            lines = expand_lines(case, kb.code_units)
        check_bounds(case, lines)
        return cls(kb, case, source, lines, case_document(case, lines), imported)

    def with_policies(self, policy: str | None = None, as_of: Any = None) -> "CaseSession":
        """This case under the policies POLICIES.md section 4 chooses for its stages: a session on
        the first stage's policy program, with one per other version in `parts`."""
        from engine.decide.policy import choose_policies

        base = self.kb
        choices = choose_policies(base.policy_table, self.case, self.document, self.source, policy, as_of)
        keys = list(dict.fromkeys(choice.version.key for choice in choices.values()))
        versions = {choice.version.key: choice.version for choice in choices.values()}
        sessions = {key: self._under(base.for_policy(versions[key])) for key in keys}
        first = sessions[keys[0]] if keys else self
        first.policies = choices
        first.parts = sessions if len(keys) > 1 else {}
        for other in first.parts.values():
            other.policies = choices
        return first

    def _under(self, kb: KnowledgeBase) -> "CaseSession":
        if kb is self.kb:
            return self
        lines = self.lines if self.imported is not None else None
        return CaseSession.from_case(kb, self.case, self.source, lines=lines, imported=self.imported)

    def policy_record(self, stage: Any) -> dict[str, Any] | None:
        """What the decision of `stage` records about its policy (None: chosen by no table)."""
        choice = self.policies.get(stage)
        if choice is None:
            return None
        kb = self.parts[choice.key].kb if self.parts else self.kb
        return choice.record(kb.digest)

    def for_stage(self, stage: Any) -> "CaseSession":
        """The session whose policy decides `stage`."""
        choice = self.policies.get(stage)
        if choice is None or not self.parts:
            return self
        return self.parts[choice.key]

    @property
    def case_id(self) -> str:
        return str(self.document.get("case_id", ""))

    @cached_property
    def facts(self) -> dict[tuple[str, int], list[tuple]]:
        return extract_facts(self.kb.fields, self.document)

    @cached_property
    def derived(self) -> Mapping[tuple[str, int], list[tuple]]:
        """pyDatalog's answers for the kb's derived predicates, for this case: those the interface
        predicates read are evaluated at once, any other when it is first read."""
        from engine.evaluate.answers import Answers
        from engine.knowledge.interface import DECISION_DEMAND

        return Answers(self.kb.program, self.facts, DECISION_DEMAND)

    def evaluate(self, queries: list[str]) -> dict[str, set[tuple]]:
        """The answers of the named predicates (as computed by pyDatalog)."""
        arity = self.kb.program.arity
        return {q: set(self.derived.get((q, arity.get(q, -1)), ())) for q in queries}

    def ask(self, goal: str) -> list[dict[str, Any]]:
        """Answer an ad hoc goal over this case (parsed by Warrant, evaluated by pyDatalog).

        The goal meets the kb's limits first (number length, sums over atoms): RuleError."""
        from engine.errors import RuleError
        from engine.knowledge.limits import check_goal

        program = self.kb.program
        problems = check_goal(program, goal)
        if problems:
            raise RuleError(problems)
        program.clear_facts()
        try:
            for (pred, arity), rows in self.facts.items():
                program.add_facts(pred, rows, arity=arity)
            return program.ask(goal)
        finally:
            program.clear_facts()

    @cached_property
    def model(self):
        return self.kb.program.model(self.facts, self.derived)

    @cached_property
    def explainer(self):
        from engine.explain.trees import Explainer

        program = self.kb.program
        return Explainer(self.model, program.clauses_by_head, program.decls, self.kb.fields, self.case_field,
                         self.kb.domains, self.voice)

    @cached_property
    def voice(self):
        """The case's clinical voice: explanations in kb/words.yaml words (engine.decide.voice)."""
        from engine.decide.voice import CaseVoice

        return CaseVoice(self.kb.words, self.document, self.lines, self.kb.fields, self.case_field)

    def case_field(self, path: str) -> str:
        """Turn a path through the derived `lines` map into the request path the user edits
        (memoised: failure trees ask for the same few paths many times)."""
        known = self._case_paths.get(path)
        if known is None:
            known = self._case_paths[path] = self._case_field(path)
        return known

    @cached_property
    def _case_paths(self) -> dict[str, str]:
        return {}

    def _case_field(self, path: str) -> str:
        match = _LINE_FIELD.match(path)
        if not match:
            return path
        line_id, key = match.groups()
        line = next((ln for ln in self.lines if ln.id == line_id), None)
        target = _LINE_KEYS.get(key, key)
        if line is None:
            return f"requests[].procedures[].{target}"
        return f"{line.source}.{target}"
