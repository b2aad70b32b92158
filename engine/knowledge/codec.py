"""The checked program as plain JSON data, so the kb cache never needs unpickling.

Reading a pickle runs whatever code its bytes name; reading this format only ever builds the
engine's own immutable dataclasses (a fixed allow-list, looked up by name) from numbers,
strings and lists. A cache file someone else planted can therefore at worst describe another
program, which the cache folder's ownership checks (`engine.guard.files.read_private`) rule
out, and never run anything.

Encoding: a JSON string, number, boolean or null stands for itself; a list is a node whose
first element says what it is: `["t", ...]` tuple, `["l", ...]` list, `["d", k, v, ...]` dict
(keys of any kind), `["s", ...]` set, `["c", class, field...]` a dataclass (class by its index
in the header), `["r", n]` the n-th dataclass already built (shared objects stay shared).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from engine import errors
from engine.compile import lower
from engine.language import ast, fieldpath

_MODULES = (errors, ast, fieldpath, lower)


def _allowed() -> dict[str, type]:
    out: dict[str, type] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__:
                out[f"{module.__name__}.{value.__qualname__}"] = value
    return out


ALLOWED = _allowed()


class _Encoder:
    def __init__(self) -> None:
        self.classes: list[str] = []
        self.class_index: dict[type, int] = {}
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps memoised objects alive so their ids stay unique
        self.names = {cls: name for name, cls in ALLOWED.items()}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (str, bool, int, float)):
            return value
        if isinstance(value, tuple) and not dataclasses.is_dataclass(value):
            return ["t", *map(self.encode, value)]
        if isinstance(value, list):
            return ["l", *map(self.encode, value)]
        if isinstance(value, dict):
            out: list[Any] = ["d"]
            for key, item in value.items():
                out += [self.encode(key), self.encode(item)]
            return out
        if isinstance(value, (set, frozenset)):
            return ["s", *map(self.encode, sorted(value, key=repr))]
        return self.encode_object(value)

    def encode_object(self, value: Any) -> Any:
        seen = self.memo.get(id(value))
        if seen is not None:
            return ["r", seen]
        cls = type(value)
        name = self.names.get(cls)
        if name is None:
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} cannot be cached (not an engine dataclass)")
        index = self.class_index.get(cls)
        if index is None:
            index = self.class_index[cls] = len(self.classes)
            self.classes.append(name)
        node = ["c", index, *(self.encode(getattr(value, f.name)) for f in dataclasses.fields(value))]
        self.memo[id(value)] = len(self.memo)
        self.keep.append(value)
        return node


def dumps(payload: Any) -> bytes:
    """The payload as UTF-8 JSON; TypeError names anything that is not plain data or an
    allowed engine dataclass."""
    encoder = _Encoder()
    body = encoder.encode(payload)
    header = [[name, [f.name for f in dataclasses.fields(ALLOWED[name])]] for name in encoder.classes]
    return json.dumps({"classes": header, "data": body}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


class _Decoder:
    def __init__(self, header: Any) -> None:
        self.classes: list[tuple[type, tuple[str, ...]]] = []
        for name, fields in header:
            cls = ALLOWED[name]  # KeyError: a class this engine does not allow
            if tuple(fields) != tuple(f.name for f in dataclasses.fields(cls)):
                raise ValueError(f"{name} has other fields in this engine")
            self.classes.append((cls, tuple(fields)))
        self.built: list[Any] = []
        self.slotted = {cls for cls, _ in self.classes if "__dict__" not in dir(cls)}

    def decode(self, node: Any) -> Any:
        if not isinstance(node, list):
            return node
        tag = node[0]
        if tag == "c":
            cls, names = self.classes[node[1]]
            values = [self.decode(item) for item in node[2:]]
            if len(values) != len(names):
                raise ValueError(f"{cls.__name__} needs {len(names)} fields")
            obj = object.__new__(cls)  # frozen dataclasses: fields set as they were, no __init__
            if cls in self.slotted:
                for name, value in zip(names, values):
                    object.__setattr__(obj, name, value)
            else:
                obj.__dict__.update(zip(names, values))
            self.built.append(obj)
            return obj
        if tag == "r":
            return self.built[node[1]]
        items = [self.decode(item) for item in node[1:]]
        if tag == "t":
            return tuple(items)
        if tag == "l":
            return items
        if tag == "d":
            return dict(zip(items[0::2], items[1::2]))
        if tag == "s":
            return set(items)
        raise ValueError(f"unknown node {tag!r}")


def loads(data: bytes) -> Any:
    """The payload of `dumps`; ValueError (or KeyError, TypeError, IndexError) on anything else."""
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("not a cache document")
    return _Decoder(document["classes"]).decode(document["data"])
