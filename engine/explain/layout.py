"""What the `%@ field` paths say about each base predicate's arguments: which argument is a list
position (an imaging study, an injection), which one holds the value, and which entries a list
already has. Abduction, search and failure trees all need it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from engine.guard.memo import ByIdentity
from engine.language.fieldpath import Each, Key as PathKey, Keys

Key = tuple[str, int]


@dataclass
class Layout:
    """What the explainer's field paths say about each base predicate's arguments."""

    index: dict[Key, set[int]] = field(default_factory=dict)      # list positions
    value: dict[Key, int] = field(default_factory=dict)           # the value position
    lists: dict[tuple[Key, int], tuple] = field(default_factory=dict)  # (key, index pos) -> list signature
    prefix: dict[tuple[Key, int], tuple[int, ...]] = field(default_factory=dict)  # params before the list

    @classmethod
    def shared(cls, fields: Mapping[Key, Sequence[tuple[Any, Any]]]) -> "Layout":
        """`of(fields)`, worked out once per kb's fields (not once per case; layouts are only read)."""
        return _LAYOUTS.get(fields, cls.of)

    @classmethod
    def of(cls, fields: Mapping[Key, Sequence[tuple[Any, Any]]]) -> "Layout":
        out = cls()
        for key, paths in fields.items():
            for decl, path in paths[:1]:
                signature: list = []
                before: list[int] = []
                for step in path.steps:
                    if isinstance(step, PathKey):
                        signature.append(step.name)
                    elif isinstance(step, Keys):
                        signature.append("*")
                        before.append(decl.params.index(step.var))
                    elif isinstance(step, Each):
                        signature.append(step.name + "[]")
                        if step.var:
                            pos = decl.params.index(step.var)
                            out.index.setdefault(key, set()).add(pos)
                            out.lists[(key, pos)] = tuple(signature)
                            out.prefix[(key, pos)] = tuple(before)
                            before.append(pos)
                if path.value_var:
                    out.value[key] = decl.params.index(path.value_var)
        return out

    def entries(self, model, key: Key, pos: int, prefix: tuple) -> list[int]:
        """Existing entries of the list at argument `pos` of `key` whose enclosing places (the
        arguments before it, e.g. the side of an injection) equal `prefix` (None: any)."""
        signature = self.lists.get((key, pos))
        found: set[int] = set()
        for (other, other_pos), other_sig in self.lists.items():
            if other_sig != signature:
                continue
            before = self.prefix.get((other, other_pos), ())
            for row in model.rows(other):
                if all(w is None or row[p] == w for w, p in zip(prefix, before)) and isinstance(row[other_pos], int):
                    found.add(row[other_pos])
        return sorted(found)


_LAYOUTS: ByIdentity[Layout] = ByIdentity(64)
