"""The clinical voice of one case: explanations filled with kb/words.yaml words, not identifiers.

A line id becomes its line phrase (`22633 at L4-5`), a list position becomes the entry's name
(`the MRI “mri-lumbar”`), an atom becomes its words (`mild_moderate` → `mild to moderate`), and a
case fact reads as its field and value (`neural compression at L2-3 on the MRI “mri-lumbar”:
absent`). The sentences themselves stay the kb's (`%@ says`, `%@ holds`, `%@ missing`).
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any, Callable, Mapping, Sequence

from engine.explain.voice import PlainVoice, Where
from engine.knowledge.words import Words
from engine.language.fieldpath import FieldPath, Key, Keys

DERIVED = "lines"
"""The document map the application derives from the requests; its fields are renamed to
request paths (CaseSession.case_field) before they are worded."""


class CaseVoice(PlainVoice):
    """Words for one case's explanations (see engine.explain.voice)."""

    def __init__(self, words: Words, document: Mapping[str, Any], lines: Sequence[Any],
                 fields: Mapping[tuple[str, int], Sequence[tuple[Any, FieldPath]]],
                 case_field: Callable[[str], str] = lambda p: p) -> None:
        self.words = words
        self.document = document
        self.lines = {line.id: line for line in lines}
        self.fields = fields
        self.case_field = case_field
        places = Counter((ln.code, ln.level, ln.side) for ln in lines)
        self._staged = {ln.id for ln in lines if places[(ln.code, ln.level, ln.side)] > 1}
        self.phrase = lru_cache(maxsize=4096)(self._phrase)

    # -- values ------------------------------------------------------------------------------
    def placed(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def term(self, value: Any, where: Where | None = None) -> str:
        if where is not None and isinstance(value, int) and not isinstance(value, bool):
            named = self._entry(where)
            if named:
                return named
        if isinstance(value, str) and value in self.lines:
            return self.line(value)
        return self.words.term(value)

    def finish(self, text: str) -> str:
        return self.words.articles(text)

    def line(self, line_id: str) -> str:
        line = self.lines.get(line_id)
        if line is None:
            return str(line_id)
        return self.words.line(line.code, line.level, line.side, line.stage, line_id in self._staged)

    def _entry(self, where: Where) -> str | None:
        key, row, position = where
        for decl, path in self.fields.get(key, ()):
            param = decl.params[position] if position < len(decl.params) else None
            steps: list[Any] = []
            binding = {p: v for p, v in zip(decl.params, row) if v is not None}
            for step in path.steps:
                if isinstance(step, Key):
                    steps.append(step.name)
                elif isinstance(step, Keys):
                    steps.append(binding.get(step.var, "*"))
                else:
                    steps.append(step.name)
                    if step.var == param:
                        steps.append(row[position])
                        return self.words.entry(tuple(steps), self.document)
                    steps.append(binding.get(step.var, "[]") if step.var else "[]")
        return None

    # -- case facts ----------------------------------------------------------------------------
    def concrete(self, key: tuple[str, int], row: Sequence[Any]) -> tuple[tuple, Any, bool] | None:
        """The case path of a (partial) fact as steps, its value, and whether the value is given."""
        paths = self.fields.get(key)
        if not paths:
            return None
        decl, path = paths[0]
        binding = {p: v for p, v in zip(decl.params, row) if v is not None}
        if isinstance(path.steps[0], Key) and path.steps[0].name == DERIVED:
            text = self.case_field(path.render(binding))
            from engine.knowledge.words import path_steps

            steps = path_steps(text)
        else:
            steps = []
            for step in path.steps:
                if isinstance(step, Key):
                    steps.append(step.name)
                elif isinstance(step, Keys):
                    steps.append(binding.get(step.var, "*"))
                else:
                    steps.append(step.name)
                    steps.append(binding.get(step.var, "[]") if step.var else "[]")
            steps = tuple(steps)
        value_given = bool(path.value_var) and path.value_var in binding
        return tuple(steps), binding.get(path.value_var) if path.value_var else None, value_given

    def _phrase(self, steps: tuple) -> str:
        return self.words.field_phrase(steps, self.document)

    def field_text(self, key: tuple[str, int], row: Sequence[Any]) -> str | None:
        """The field a (partial) fact fills, with its place: `neural compression at L4-5`."""
        found = self.concrete(key, row)
        return None if found is None else self.finish(self.phrase(found[0]))

    def base_fact(self, key: tuple[str, int], row: Sequence[Any], state: str) -> str | None:
        found = self.concrete(key, row)
        if found is None:
            return None
        steps, value, given = found
        phrase = self.phrase(steps)
        if state == "holds":
            if not given:
                return self.finish(f"{phrase}: recorded")
            return self.finish(f"{phrase}: {self.words.value(self.words.field(steps), value)}")
        return self.finish(f"{phrase}: {self.words.state('undocumented')}")

    def documented(self, key: tuple[str, int], rows: Sequence[Sequence[Any]]) -> str | None:
        """What the record shows for a field the explanation needed otherwise."""
        if key not in self.fields:
            return None
        return "the record shows " + "; ".join(self.base_fact(key, row, "holds") or "" for row in rows)

    def comparison_failed(self, op: str, left: Any, right: Any) -> str:
        return self.finish(f"{self.term(left)} is not {self.words.comparison(op, self.term(right))}")

    def aggregate(self, kind: str, value: Any) -> str:
        return f"{self.words.term(kind)}: {self.term(value)}"
