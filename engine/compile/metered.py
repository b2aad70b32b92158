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
    """pyDatalog's task container with every `pop` counted against the thread's evaluation
    budget (engine.guard.budget). The counting is inlined (one attribute read and one addition
    per step; the meter's `check` runs only every CLOCK_EVERY steps or at the step limit)
    because it runs once per resolution step."""
    local = _budget._ACTIVE
    base_pop = base.pop

    class Counted(base):  # type: ignore[misc, valid-type]
        __slots__ = ()

        def pop(self):
            meter = local.meter
            if meter is not None:
                meter.steps += 1
                if meter.steps >= meter.checkpoint:
                    meter.check()
            return base_pop(self)

    Counted.__name__ = Counted.__qualname__ = f"Counted{base.__name__}"
    return Counted


_CountedList = _counted(pyEngine.TaskList)
_CountedDeque = _counted(pyEngine.TaskDeque)


class MeteredLogic(Logic):
    """A thread's pyDatalog state whose two global task queues count their steps.

    pyDatalog's resolution loop runs inside one call to `ask()` without returning to Python, so
    a runaway join can only be stopped from a Python method it calls on every step: `pop` of the
    global queues, which `ask()` installs afresh (`Ts.Tasks = TaskList()`) and this class swaps
    for counting ones. Each subgoal's own queue stays plain, so a step is counted (and costs a
    Python call) once, not twice."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "Tasks" and type(value) is not _CountedList and value is not None:
            value = _CountedList()
        elif name == "Recursive_Tasks" and type(value) is not _CountedDeque and value is not None:
            value = _CountedDeque()
        object.__setattr__(self, name, value)


def mixed_values(exc: TypeError, key: tuple[str, int] | None) -> EvaluationError:
    """pyDatalog's aggregates compare (max, min) and add (sum) with Python's operators, which
    refuse an atom beside a number: the one TypeError evaluation can meet."""
    where = "" if key is None or is_aux(key[0]) else f" while evaluating {key[0]}/{key[1]}"
    return EvaluationError(f"an aggregate_all(max|min|sum){where} met both atoms and numbers in the column "
                           "it aggregates; max and min compare numbers with numbers and atoms with atoms, "
                           "and sum adds numbers only", code="aggregate_types")
