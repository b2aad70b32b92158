"""What is worked out once from an object that cannot be a key by its value (a dict of a kb's
tables, a clause, a list of clauses) and then read by every case.

The object is kept beside what was made from it, so its id cannot be reused by another object
while the entry lives; the table is emptied when it reaches its bound (a process that loads
many programs, such as a server switching policies, keeps only recent ones).
"""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class ByIdentity(Generic[T]):
    """`get(obj, make)`: `make(obj)` the first time this very object is seen, the same after."""

    __slots__ = ("_found", "most")

    def __init__(self, most: int) -> None:
        self._found: dict[int, tuple[Any, T]] = {}
        self.most = most

    def get(self, obj: Any, make: Callable[[Any], T]) -> T:
        known = self._found.get(id(obj))
        if known is None or known[0] is not obj:
            if len(self._found) >= self.most:
                self._found.clear()
            known = self._found[id(obj)] = (obj, make(obj))
        return known[1]
