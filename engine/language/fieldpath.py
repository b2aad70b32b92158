"""`%@ field` paths: which part of a normalised case document supplies a base predicate's facts.

A path such as `imaging[Study].segments.{Segment}.{Name} = Value` walks the document and
yields one binding of its variables per match; `render` turns a (partial) binding back into
the case-file path a user would edit (`imaging[].segments.L4-5.translation_mm`).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterator, Mapping, Union

from engine.guard.record import record

_GRAMMAR = r"""
start: step ("." step)* ("=" VARIABLE)?
step: NAME                       -> key
    | NAME "[" "]"               -> each
    | NAME "[" VARIABLE "]"      -> each
    | "{" VARIABLE "}"           -> keys
NAME: /[A-Za-z_][A-Za-z0-9_]*/
VARIABLE: /[A-Z][A-Za-z0-9_]*/
%import common.WS
%ignore WS
"""


@record(frozen=True)
class Key:
    name: str


@record(frozen=True)
class Each:
    name: str
    var: str | None


@record(frozen=True)
class Keys:
    var: str


Step = Union[Key, Each, Keys]


@record(frozen=True)
class FieldPath:
    steps: tuple[Step, ...]
    value_var: str | None
    text: str

    @property
    def variables(self) -> list[str]:
        names = [s.var for s in self.steps if isinstance(s, (Each, Keys)) and s.var]
        return names + ([self.value_var] if self.value_var else [])

    def walk(self, document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every binding of the path's variables that the document supports."""
        yield from _walk(document, self.steps, 0, {}, self.value_var)

    def render(self, binding: Mapping[str, Any]) -> str:
        """The case-file path for a binding; unbound keys show as `*`, list positions as `[]`."""
        parts: list[str] = []
        for step in self.steps:
            if isinstance(step, Key):
                parts.append(step.name)
            elif isinstance(step, Each):
                parts.append(f"{step.name}[]")
            else:
                value = binding.get(step.var)
                parts.append("*" if value is None else str(value))
        return ".".join(parts)


class FieldPathError(ValueError):
    """A `%@ field` text that is not a path."""


class _Build:
    """Turns the path parse tree into steps (used through lark's Transformer, imported lazily)."""

    def start(self, children):
        value_var = None
        if children and not isinstance(children[-1], (Key, Each, Keys)):
            value_var = str(children[-1])
            children = children[:-1]
        return tuple(children), value_var

    def key(self, c):
        return Key(str(c[0]))

    def each(self, c):
        return Each(str(c[0]), str(c[1]) if len(c) > 1 else None)

    def keys(self, c):
        return Keys(str(c[0]))


@lru_cache(maxsize=1)
def _parser():
    from lark import Lark, Transformer

    transformer = type("_BuildTransformer", (_Build, Transformer), {})()
    return Lark(_GRAMMAR, parser="lalr", transformer=transformer)


_FIELD_TOKEN = re.compile(r"[ \t\f\r\n]*(?:([A-Za-z_][A-Za-z0-9_]*)|([.\[\]{}=]))")
_VARIABLE = re.compile(r"[A-Z][A-Za-z0-9_]*")


def _read_path(text: str) -> tuple[tuple[Step, ...], str | None] | None:
    """What the grammar above gives for a well-formed path, without lark; None for anything else
    (lark then reads it and words the error)."""
    tokens, pos = [], 0
    while pos < len(text):
        found = _FIELD_TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            if text[pos:].strip(" \t\f\r\n"):
                return None
            break
        tokens.append(found.group(1) or found.group(2))
        pos = found.end()
    tokens += ["", "", "", ""]  # (lookahead never runs past the end)
    steps: list[Step] = []
    i = 0
    while True:
        token = tokens[i]
        if token == "{":
            if not _VARIABLE.fullmatch(tokens[i + 1]) or tokens[i + 2] != "}":
                return None
            steps.append(Keys(tokens[i + 1]))
            i += 3
        elif token[:1].isalpha() or token[:1] == "_":
            if tokens[i + 1] != "[":
                steps.append(Key(token))
                i += 1
            elif tokens[i + 2] == "]":
                steps.append(Each(token, None))
                i += 3
            elif _VARIABLE.fullmatch(tokens[i + 2]) and tokens[i + 3] == "]":
                steps.append(Each(token, tokens[i + 2]))
                i += 4
            else:
                return None
        else:
            return None
        if tokens[i] == ".":
            i += 1
            continue
        if tokens[i] == "=" and _VARIABLE.fullmatch(tokens[i + 1]) and tokens[i + 2] == "":
            return tuple(steps), tokens[i + 1]
        return (tuple(steps), None) if tokens[i] == "" else None


@lru_cache(maxsize=1024)
def parse_field(text: str) -> FieldPath:
    """The path a `%@ field` text spells (parsed once per text: the checks and the kb share it).
    A well-formed path is read by `_read_path`; lark reads the rest and says what is wrong."""
    fast = _read_path(text)
    if fast is not None:
        return FieldPath(fast[0], fast[1], text)
    from lark.exceptions import UnexpectedInput

    try:
        steps, value_var = _parser().parse(text)
    except UnexpectedInput as exc:
        raise FieldPathError(f"invalid field path {text!r} at column {getattr(exc, 'column', '?')}: "
                             "expected steps like a.b[], a[X], {X} and an optional '= Var'") from None
    return FieldPath(steps, value_var, text)


def _walk(node: Any, steps: tuple[Step, ...], i: int, binding: dict[str, Any],
          value_var: str | None) -> Iterator[dict[str, Any]]:
    if node is None:
        return
    if i == len(steps):
        if value_var is None:
            yield dict(binding)
        elif isinstance(node, list):
            for item in node:
                if item is not None and not isinstance(item, (dict, list)):
                    yield {**binding, value_var: item}
        elif not isinstance(node, dict):
            yield {**binding, value_var: node}
        return
    step = steps[i]
    if isinstance(step, Keys):
        if isinstance(node, dict):
            for key in node:
                yield from _walk(node[key], steps, i + 1, {**binding, step.var: key}, value_var)
        return
    if not isinstance(node, dict) or step.name not in node:
        return
    child = node[step.name]
    if isinstance(step, Key):
        yield from _walk(child, steps, i + 1, binding, value_var)
    elif isinstance(child, list):
        for index, item in enumerate(child):
            extra = {step.var: index} if step.var else {}
            yield from _walk(item, steps, i + 1, {**binding, **extra}, value_var)
