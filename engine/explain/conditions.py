"""Conditions on documentable facts: what a minimal documentation set asks for.

A condition names one base fact to document and what its value must be: `care(weeks,
V)` with `V >= 6`, `finding(S, 'L4-5', grade, G)` with `G >= moderate` on the kb's own ordered
scale, `exam(matches, true)`. The
bound comes from the rule bodies and the kb's thresholds, never from sample values. A list
position the rules do not care about (`seg_finding(_, ...)`) is a `Slot` the caller places (an
existing study that reports the segment, or a new one); a new list entry the rules do care
about (an injection whose guidance and relief must go together) is a `Slot` shared by the
conditions that fill it.

`witness()` is the value that stands for the condition when the set is checked against the
rules and when it is applied with `what-if`: the bound itself for `=`, `>=` and `=<`, the next
value past it for `>` and `<` (the next grade on an ordinal scale).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Key = tuple[str, int]
OPS = ("=", ">=", ">", "=<", "<")
FLIP = {">=": "=<", ">": "<", "=<": ">=", "<": ">", "=": "="}


@dataclass(frozen=True, order=True)
class Slot:
    """A list entry to be chosen: `any` (the rules ignore which: the caller places it) or `new`
    (an entry that does not exist yet; conditions with the same group fill the same entry)."""

    kind: str
    group: int = 0

    def __repr__(self) -> str:
        return f"<{self.kind} {self.group}>"


@dataclass(frozen=True)
class Condition:
    """One fact to document: `key(args)`, with the value at `position` compared by `op`."""

    key: Key
    args: tuple
    position: int | None = None
    op: str = "="
    order: tuple = ()

    @property
    def value(self) -> Any:
        return None if self.position is None else self.args[self.position]

    @property
    def place(self) -> tuple:
        """The fact without its value: two conditions on one place cannot both be added."""
        if self.position is None:
            return (self.key, self.args)
        return (self.key, self.args[:self.position] + (None,) + self.args[self.position + 1:])

    def witness(self) -> Any:
        value = self.value
        if self.op in ("=", ">=", "=<") or value is None:
            return value
        if self.order:
            i = self.order.index(value)
            step = 1 if self.op == ">" else -1
            return self.order[min(max(i + step, 0), len(self.order) - 1)]
        if isinstance(value, (int, float)):
            if self.op == ">":
                return value + 1
            return value - 1 if value >= 1 else value / 2
        return value

    def row(self) -> tuple:
        """The fact with the witness in place (slots still to be placed)."""
        if self.position is None:
            return self.args
        return self.args[:self.position] + (self.witness(),) + self.args[self.position + 1:]

    def sort_key(self) -> tuple:
        return (self.key, tuple(_order(a) for a in self.args), self.op)


def _order(value: Any) -> tuple:
    if isinstance(value, Slot):
        return (2, value.kind, value.group)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def interval(allowed: list[Any], order: tuple) -> list[tuple[str, Any]]:
    """The allowed values of an ordinal scale as comparisons: a tail is `>= lowest`, a head is
    `=< highest`, one value is `=`, anything else one `=` per value."""
    if not allowed:
        return []
    ranks = sorted(order.index(v) for v in allowed)
    if len(ranks) == 1:
        return [("=", order[ranks[0]])]
    contiguous = ranks == list(range(ranks[0], ranks[-1] + 1))
    if contiguous and ranks[-1] == len(order) - 1:
        return [(">=", order[ranks[0]])]
    if contiguous and ranks[0] == 0:
        return [("=<", order[ranks[-1]])]
    return [("=", order[r]) for r in ranks]


def numeric_bound(constraints: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The tightest single comparison implied by several on one number, or None when they
    conflict or need two bounds (a set asks for one value per fact)."""
    lower = upper = None
    exact = None
    for op, bound in constraints:
        if op == "=":
            if exact is not None and exact != bound:
                return None
            exact = bound
        elif op in (">=", ">"):
            if lower is None or bound > lower[1] or (bound == lower[1] and op == ">"):
                lower = (op, bound)
        else:
            if upper is None or bound < upper[1] or (bound == upper[1] and op == "<"):
                upper = (op, bound)
    if exact is not None:
        ok = all(_holds(exact, op, b) for op, b in constraints)
        return ("=", exact) if ok else None
    if lower and upper:
        probe = Condition(("", 1), (lower[1],), 0, lower[0]).witness()
        return lower if _holds(probe, *upper) else None
    return lower or upper


def _holds(value: Any, op: str, bound: Any) -> bool:
    try:
        return {"=": value == bound, ">=": value >= bound, ">": value > bound,
                "=<": value <= bound, "<": value < bound}[op]
    except TypeError:
        return False
