"""`%@ field` paths: which part of a normalised case document supplies a base predicate's facts.

A path such as `imaging[Study].segments.{Segment}.{Name} = Value` walks the document and
yields one binding of its variables per match; `render` turns a (partial) binding back into
the case-file path a user would edit (`imaging[].segments.L4-5.translation_mm`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Mapping, Union

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


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Each:
    name: str
    var: str | None


@dataclass(frozen=True)
class Keys:
    var: str


Step = Union[Key, Each, Keys]


@dataclass(frozen=True)
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


@lru_cache(maxsize=1024)
def parse_field(text: str) -> FieldPath:
    """The path a `%@ field` text spells (parsed once per text: the checks and the kb share it)."""
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
