"""The evaluation budget: how many steps and seconds one evaluation of a program may take.

A join can ask for billions of intermediate rows from a few thousand facts; without a bound it
runs for minutes and takes the machine's memory with it. The evaluator counts its *steps* — one
per unit of work it schedules (a subgoal searched, a clause instance resolved, an answer passed
on), so the count grows with the intermediate rows a join builds and, with them, the memory the
evaluation holds — and reads the clock every `CLOCK_EVERY` steps. When either budget is spent
it stops with `EvaluationError(code="budget_exceeded")`.

Why steps rather than bytes: measuring memory (tracemalloc, getrusage, /proc) on every step is
too slow and, in a threaded service, measures every thread at once; a step count is exact,
costs one addition, and is the same on every machine, so a budget that a case meets on one
machine it meets on all. Time is the second bound, for steps that are unusually expensive.
"""
from __future__ import annotations

import threading
import time

from engine.errors import EvaluationError
from engine.guard.record import record

CLOCK_EVERY = 4096
"""Steps between two readings of the clock (reading it on every step would cost more than the step)."""


@record(frozen=True)
class Budget:
    """At most `steps` evaluation steps and `seconds` of wall time per evaluation (None: no bound)."""

    steps: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "seconds"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise EvaluationError(f"the evaluation budget's {name} must be a positive number, not {value!r}",
                                      code="budget_invalid")

    @classmethod
    def default(cls) -> "Budget":
        from engine.guard.limits import LIMITS

        return cls(LIMITS.evaluation_steps, LIMITS.evaluation_seconds)

    @classmethod
    def unlimited(cls) -> "Budget":
        return cls(None, None)


class Meter:
    """The budget being spent by one evaluation in one thread. The evaluator adds to `steps` and
    calls `check` when `steps` reaches `checkpoint` (the step limit, or the next clock reading)."""

    __slots__ = ("budget", "what", "steps", "checkpoint", "deadline", "_limit")

    def __init__(self, budget: Budget, what: str = "the program") -> None:
        self.budget = budget
        self.what = what
        self.steps = 0
        self.deadline = None if budget.seconds is None else time.monotonic() + budget.seconds
        self._limit = None if budget.steps is None else budget.steps + 1
        self.checkpoint = self._next()

    def _next(self) -> int:
        clock = self.steps + CLOCK_EVERY
        return clock if self._limit is None else min(clock, self._limit)

    def tick(self, n: int = 1) -> None:
        """Count n steps; raise when a budget is spent."""
        self.steps += n
        if self.steps >= self.checkpoint:
            self.check()

    def check(self) -> None:
        """Raise when a budget is spent; else set the next checkpoint."""
        if self._limit is not None and self.steps >= self._limit:
            raise EvaluationError(f"evaluating {self.what} took more than {self.budget.steps:,} steps (the "
                                  "evaluation budget); a rule joins too many rows for these facts",
                                  code="budget_exceeded")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise EvaluationError(f"evaluating {self.what} took more than {self.budget.seconds:g} s (the "
                                  "evaluation budget); a rule joins too many rows for these facts",
                                  code="budget_exceeded")
        self.checkpoint = self._next()


class _Active(threading.local):
    meter: "Meter | None" = None  # the class default: every thread starts without a meter


_ACTIVE = _Active()


def active() -> Meter | None:
    """The meter of the evaluation running in this thread, if any."""
    return _ACTIVE.meter


class metering:
    """`with metering(budget, what):` — evaluation steps in this thread are counted against budget.

    Nested uses share the outer meter (one evaluation, one budget)."""

    def __init__(self, budget: Budget, what: str = "the program") -> None:
        self.budget = budget
        self.what = what
        self.outer: Meter | None = None

    def __enter__(self) -> Meter:
        self.outer = active()
        if self.outer is not None:
            return self.outer
        meter = _ACTIVE.meter = Meter(self.budget, self.what)
        return meter

    def __exit__(self, *exc) -> None:
        if self.outer is None:
            _ACTIVE.meter = None
