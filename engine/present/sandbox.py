"""A Jinja2 sandbox whose work is bounded: report templates come from the kb, and a template
must not loop, allocate or recurse without end.

On top of Jinja's `SandboxedEnvironment` (no private attributes, no unsafe calls):
- every loop iteration, call, filter and intercepted operator is one step of a budget
  (`LIMITS.template_steps`), and the wall clock is checked as steps are taken
  (`LIMITS.template_seconds`);
- no single value may grow past `LIMITS.template_output` characters: sizes are checked before
  `*`, `+`, `%`, `~`, string methods and filters run (widths and counts in their arguments) and
  after (the result);
- the rendered text is cut off with an error once it passes `LIMITS.template_output`;
- a template that includes or calls itself without end is an error, not a crash.
Each failure is a `TemplateBudget` error that the report renderer turns into a kb error.
"""
from __future__ import annotations

import functools
import re
import time
from typing import Any, Callable, Iterable, Iterator

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join
from jinja2.sandbox import SandboxedEnvironment

from engine.guard.limits import LIMITS

_WIDTH = re.compile(r"(?:%[-#0 +]*|\{[^{}]*:[^{}]*?)(\d{4,}|\*)")


class TemplateBudget(SecurityError):
    """A template went past one of its bounds."""


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + LIMITS.template_seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > LIMITS.template_steps:
            raise TemplateBudget(f"the template took more than {LIMITS.template_steps} steps")
        if not self.steps & 1023 and time.monotonic() > self.deadline:
            raise TemplateBudget(f"the template ran longer than {LIMITS.template_seconds:g} s")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 0


def _check_result(value: Any) -> Any:
    if _size(value) > LIMITS.template_output:
        raise TemplateBudget(f"a template value grew past {LIMITS.template_output} characters")
    return value


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > LIMITS.template_output:
            raise TemplateBudget(f"a template argument ({arg}) is larger than {LIMITS.template_output}")
        if isinstance(arg, str) and _WIDTH.search(arg) and ("%" in arg or "{" in arg):
            width = _WIDTH.search(arg).group(1)
            if width == "*" or int(width) > LIMITS.template_output:
                raise TemplateBudget("a format width in a template is too large")


def _check_method(obj: Any, args: tuple[Any, ...]) -> None:
    """Methods whose result can be far larger than their arguments."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if isinstance(owner, str) and name == "replace" and len(args) >= 2:
        grown = len(owner) + owner.count(str(args[0])) * len(str(args[1])) if args[0] else len(owner) * len(str(args[1]))
        if grown > LIMITS.template_output:
            raise TemplateBudget(f"a template value would grow past {LIMITS.template_output} characters")
    if isinstance(owner, str) and name in ("format", "format_map"):
        _check_arguments([owner])
    if name == "join" and args and isinstance(args[0], (list, tuple)):
        if sum(len(str(x)) for x in args[0]) + len(args[0]) * _size(owner) > LIMITS.template_output:
            raise TemplateBudget(f"a template value would grow past {LIMITS.template_output} characters")


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox with budgets; use `render(template, **context)` to render within them."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = _Budget()
        self.filters = {name: self._bounded(fn) for name, fn in self.filters.items()}
        self.globals["_warrant_steps"] = self._steps
        self.globals["_warrant_concat"] = self._concat

    def _bounded(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            self.budget.step()
            _check_arguments([*args, *kwargs.values()])
            return _check_result(fn(*args, **kwargs))
        return call

    def _steps(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.budget.step()
            yield item

    def _concat(self, *parts: Any) -> Any:
        if sum(len(str(p)) for p in parts) > LIMITS.template_output:
            raise TemplateBudget(f"a template value would grow past {LIMITS.template_output} characters")
        return markup_join(parts)

    def add_filter(self, name: str, fn: Callable) -> None:
        self.filters[name] = self._bounded(fn)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        owner = getattr(value, "__self__", None)

        def checked(*args: Any, **kwargs: Any) -> Any:
            _check_arguments([owner])
            return wrapped(*args, **kwargs)
        return checked

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.budget.step()
        if operator == "*" and isinstance(left, int) != isinstance(right, int):
            count, seq = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(count, int) and count * _size(seq) > LIMITS.template_output:
                raise TemplateBudget(f"a template value would grow past {LIMITS.template_output} characters")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 256:
            raise TemplateBudget("an exponent in a template is too large")
        if operator == "+" and _size(left) + _size(right) > LIMITS.template_output:
            raise TemplateBudget(f"a template value would grow past {LIMITS.template_output} characters")
        if operator == "%" and isinstance(left, str):
            _check_arguments([left])
        return _check_result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.budget.step()
        _check_arguments([*args, *kwargs.values()])
        _check_method(__obj, args)
        return _check_result(super().call(__context, __obj, *args, **kwargs))

    def compile(self, source: Any, name: str | None = None, filename: str | None = None,
                raw: bool = False, defer_init: bool = False) -> Any:
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        _instrument(source)
        return super().compile(source, name, filename, raw, defer_init)

    def render(self, template: Any, **context: Any) -> str:
        """The template's text, stopped with `TemplateBudget` at any bound."""
        self.budget = _Budget()
        out: list[str] = []
        total = 0
        try:
            for piece in template.generate(**context):
                total += len(piece)
                if total > LIMITS.template_output:
                    raise TemplateBudget(f"the report grew past {LIMITS.template_output} characters")
                out.append(piece)
        except RecursionError:
            raise TemplateBudget("the template includes or calls itself without end") from None
        except MemoryError:
            raise TemplateBudget("the template needs more memory than a report may take") from None
        return "".join(out)


def _instrument(tree: nodes.Node) -> None:
    """Count every loop iteration and route every `~` through the size check."""
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name("_warrant_steps", "load", lineno=loop.lineno), [loop.iter], [],
                               None, None, lineno=loop.lineno)
    for parent in list(tree.find_all(nodes.Node)):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if isinstance(value, nodes.Concat):
                setattr(parent, field, _concat_call(value))
            elif isinstance(value, list):
                value[:] = [_concat_call(v) if isinstance(v, nodes.Concat) else v for v in value]


def _concat_call(node: nodes.Concat) -> nodes.Call:
    """The same parts (the same list, so nested `~` found later is replaced inside it too)."""
    return nodes.Call(nodes.Name("_warrant_concat", "load", lineno=node.lineno), node.nodes, [], None, None,
                      lineno=node.lineno)
