"""The value language of generator.yaml: value specifications, placeholders and kb goals.

`ValueSpecs` is the part of the generator that turns a specification into a value: plain values
(with {placeholders}), `between`, `one_of`, `some_of`, `date_between` and `kb:` goals over the
kb's facts, each possibly `missing`. It draws from the generator's one random stream, in order.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
SPEC_KEYS = ("between", "one_of", "some_of", "kb", "date_between")
ABSENT = object()


class Unavailable(Exception):
    """A placeholder without a value here (e.g. {above} for a run that starts at the top)."""


def problem(path: Path, message: str) -> RuleError:
    return RuleError([Finding("generator_vocabulary", message, Location(str(path)))])


@dataclass
class Context:
    """What placeholders and selectors can read while one case is built."""

    run: list[str] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    picks: dict[str, Any] = field(default_factory=dict)
    local: dict[str, str] = field(default_factory=dict)
    named: dict[tuple[str, str], int] = field(default_factory=dict)


class ValueSpecs:
    """Mixin of the generator: needs `kb`, `vocab`, `source`, `rng` and an `_answers` dict."""

    kb: Any
    vocab: dict[str, Any]
    source: Path
    rng: random.Random
    _answers: dict[str, list[dict[str, Any]]]

    def answers(self, goal: str) -> list[dict[str, Any]]:
        if goal not in self._answers:
            try:
                found = self.kb.program.ask(goal)
            except Exception as exc:  # a goal that does not parse or names nothing the kb has
                raise problem(self.source, f"{self.source.name}: cannot ask the kb {goal!r}: {exc}") from None
            if not found:
                raise problem(self.source, f"{self.source.name}: the kb has no answer to {goal!r}")
            self._answers[goal] = sorted(found, key=lambda a: [(str(type(v)), str(v)) for v in a.values()])
        return self._answers[goal]

    # -- values ------------------------------------------------------------------------------
    def value(self, spec: Any, ctx: Context) -> Any:
        """The value of a specification, or ABSENT when it chose to leave the field out."""
        rng = self.rng
        if isinstance(spec, str):
            return self.fill(spec, ctx)
        if isinstance(spec, list):
            out = []
            for item in spec:
                value = self.value(item, ctx)
                if value is not ABSENT:
                    out.append(value)
            return out
        if not isinstance(spec, dict):
            return spec
        if not any(k in spec for k in SPEC_KEYS):
            out_map = {}
            for key, item in spec.items():
                value = self.value(item, ctx)
                if value is not ABSENT:
                    out_map[self.fill(str(key), ctx)] = value
            return out_map
        if spec.get("missing") and rng.random() < float(spec["missing"]):
            return ABSENT
        if "between" in spec:
            low, high = spec["between"]
            return number(rng, low, high, spec.get("step"))
        if "one_of" in spec:
            items = spec["one_of"]
            weights = spec.get("weights")
            return self.value(rng.choices(items, weights=weights)[0] if weights else rng.choice(items), ctx)
        if "some_of" in spec:
            items = list(spec["some_of"])
            low, high = spec.get("size", [1, len(items)])
            chosen = set(rng.sample(range(len(items)), rng.randint(int(low), int(min(high, len(items))))))
            return [self.value(item, ctx) for i, item in enumerate(items) if i in chosen]
        if "date_between" in spec:
            first, last = spec["date_between"]
            return f"{rng.randint(int(first), int(last)):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        answers = self.answers(str(spec["kb"]))
        answer = rng.choice(answers)
        name = spec.get("pick") or next(iter(answer))
        if name not in answer:
            raise problem(self.source, f"{self.source.name}: {spec['kb']!r} binds no variable {name}")
        base = answer[name]
        for sign, key in ((1, "plus"), (-1, "minus")):
            if key in spec:
                low, high = spec[key]
                step = spec.get("step")
                base = tidy(base + sign * number(rng, low, high, step), step)
        return base

    def fill(self, text: str, ctx: Context) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            value = self.lookup(name, ctx)
            if value is None:
                raise Unavailable(name)
            return str(value)

        return PLACEHOLDER.sub(one, text)

    def lookup(self, name: str, ctx: Context) -> Any:
        if name in ctx.local:
            return ctx.local[name]
        run = ctx.run
        segments = list(self.vocab["segments"])
        if name in ("first", "last") and run:
            return run[0] if name == "first" else run[-1]
        if name in ("above", "below") and run:
            index = segments.index(run[0] if name == "above" else run[-1]) + (-1 if name == "above" else 1)
            return segments[index] if 0 <= index < len(segments) else None
        head, _, member = name.partition(".")
        if head in ctx.picks:
            pick = ctx.picks[head]
            if not member:
                return pick
            return ((self.vocab.get("code_sets") or {}).get(str(pick)) or {}).get(member)
        return None

    def available(self, spec: Any, ctx: Context) -> bool:
        """Whether every placeholder inside a specification has a value here."""
        if isinstance(spec, str):
            return all(self.lookup(m.group(1), ctx) is not None for m in PLACEHOLDER.finditer(spec))
        if isinstance(spec, list):
            return all(self.available(item, ctx) for item in spec)
        if isinstance(spec, dict):
            return all(self.available(str(k), ctx) and self.available(v, ctx) for k, v in spec.items())
        return True


def number(rng: random.Random, low: Any, high: Any, step: Any = None) -> Any:
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) and \
        (step is None or float(step).is_integer())
    if step is None:
        step = 1 if whole else 0.1
    count = int(round((float(high) - float(low)) / float(step)))
    value = float(low) + rng.randint(0, max(count, 0)) * float(step)
    return int(round(value)) if whole else tidy(value, step)


def tidy(value: Any, step: Any = None) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    digits = 0
    if step is not None and not float(step).is_integer():
        digits = len(repr(float(step)).split(".")[1])
    value = round(float(value), max(digits, 1) if not float(value).is_integer() else 0)
    return int(value) if float(value).is_integer() else value
