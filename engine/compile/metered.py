"""Evaluation under a budget: pyDatalog's state with counted steps, and its one type error.

pyDatalog's resolution loop runs inside one call to `ask()` without returning to Python, so the
evaluation budget (engine/guard/budget.py) can only be kept from a Python method that loop calls
on every step. `MeteredLogic` is a thread's pyDatalog state whose global task queues are
subclasses counting each `pop` against the thread's meter; `benchmarks/bench_budget.py` prints
what that costs next to plain pyDatalog.
"""
from __future__ import annotations

from typing import Any

from pyDatalog import pyEngine
from pyDatalog.Logic import Logic

from engine.compile.lower import is_aux
from engine.errors import EvaluationError
from engine.guard import budget as _budget


def _counted(base: type) -> type:
    """pyDatalog's task container with every `pop` counted against the evaluation budget
    (engine.guard.budget) of the meter running when the container was made (pyDatalog makes its
    two global queues afresh at the start of each `ask()`). The counting is inlined (one slot
    read and one addition per step; the meter's `check` runs only every CLOCK_EVERY steps or at
    the step limit) because it runs once per resolution step."""
    base_pop = base.pop

    class Counted(base):  # type: ignore[misc, valid-type]
        __slots__ = ("meter",)

        def __init__(self) -> None:
            super().__init__()
            self.meter = _budget._ACTIVE.meter

        def pop(self):
            meter = self.meter
            if meter is not None:
                meter.steps += 1
                if meter.steps >= meter.checkpoint:
                    meter.check()
            return base_pop(self)

    Counted.__name__ = Counted.__qualname__ = f"Counted{base.__name__}"
    return Counted


_CountedList = _counted(pyEngine.TaskList)
_CountedDeque = _counted(pyEngine.TaskDeque)


class _CountedQueue:
    """A write-only descriptor for one of pyDatalog's global task queues: assigning a fresh queue
    (as `ask()` does) installs the counting kind instead. It has no `__get__`, so reading the
    queue — which pyDatalog does on every step — finds the instance attribute at C speed."""

    def __init__(self, counted: type) -> None:
        self.counted = counted
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __set__(self, logic: Any, value: Any) -> None:
        if value is not None and type(value) is not self.counted:
            value = self.counted()
        logic.__dict__[self.name] = value


class MeteredLogic(Logic):
    """A thread's pyDatalog state whose two global task queues count their steps.

    pyDatalog's resolution loop runs inside one call to `ask()` without returning to Python, so
    a runaway join can only be stopped from a Python method it calls on every step: `pop` of the
    global queues, which `ask()` installs afresh (`Ts.Tasks = TaskList()`) and this class swaps
    for counting ones. Each subgoal's own queue stays plain, so a step is counted (and costs a
    Python call) once, not twice. Only those two assignments run Python code: every other
    attribute of the state is set and read as on a plain `Logic`."""

    Tasks = _CountedQueue(_CountedList)
    Recursive_Tasks = _CountedQueue(_CountedDeque)


def mixed_values(exc: TypeError, key: tuple[str, int] | None) -> EvaluationError:
    """pyDatalog's aggregates compare (max, min) and add (sum) with Python's operators, which
    refuse an atom beside a number: the one TypeError evaluation can meet."""
    where = "" if key is None or is_aux(key[0]) else f" while evaluating {key[0]}/{key[1]}"
    return EvaluationError(f"an aggregate_all(max|min|sum){where} met both atoms and numbers in the column "
                           "it aggregates; max and min compare numbers with numbers and atoms with atoms, "
                           "and sum adds numbers only", code="aggregate_types")
