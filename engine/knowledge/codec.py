"""The checked program in the kb cache: pickle bytes that can only ever build the engine's own
immutable dataclasses and plain containers, sealed with a keyed digest.

An ordinary unpickler runs whatever callable the bytes name. This one resolves names through a
fixed allow-list (`ALLOWED`: the frozen dataclasses and records — `engine.guard.record`, which
define no `__setstate__` or `__reduce__` — of the AST, the lowered program, field paths, findings
and the case schema) and refuses every other name, so no byte sequence can reach `open`,
`os.system` or any other callable: building these classes runs no code beyond setting their
fields. The C unpickler keeps a cache hit as fast as it was (`benchmarks/bench_kb_cache.py`
compares this with a plain JSON encoding of the same data).

On top of that the bytes carry an HMAC-SHA256 under a per-user key kept in the cache folder, and
both are read only through `engine.guard.files.read_private` (owner and mode checked on the
open handles of the file and of every folder above it).
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import pickle
from typing import Any

from engine import errors
from engine.compile import lower
from engine.knowledge import caseschema, overlay
from engine.language import ast, fieldpath

_MODULES = (errors, ast, fieldpath, lower, caseschema, overlay)
MAGIC = b"warrant-kb-cache/3\n"


def _allowed() -> dict[str, type]:
    out: dict[str, type] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if (isinstance(value, type) and value.__module__ == module.__name__
                    and (dataclasses.is_dataclass(value) or "__record_fields__" in vars(value))):
                out[f"{module.__name__}.{value.__qualname__}"] = value
    return out


ALLOWED = _allowed()


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        cls = ALLOWED.get(f"{module}.{name}")
        if cls is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the kb cache")
        return cls

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed in the kb cache")


class _AllowListPickler(pickle.Pickler):
    """Refuses, while pickling, every object the loader would refuse: pickle hands each object
    that is not a plain container, string or number to `reducer_override` (and only those
    can make the stream name a class), so an object of any type outside `ALLOWED`, or any class
    but those, stops it."""

    def reducer_override(self, obj: Any) -> Any:
        if (obj if isinstance(obj, type) else type(obj)) not in _ALLOWED_TYPES:
            raise ValueError(f"{type(obj).__module__}.{type(obj).__qualname__} is not allowed in the kb cache")
        return NotImplemented


_ALLOWED_TYPES = frozenset(ALLOWED.values())


def dumps(payload: Any, key: bytes) -> bytes:
    """The sealed cache bytes; ValueError when the payload holds anything the loader would
    refuse (tests/test_security.py loads them back)."""
    stream = io.BytesIO()
    _AllowListPickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    body = stream.getvalue()
    return MAGIC + _seal(key, body) + b"\n" + body


def loads(data: bytes, key: bytes) -> Any:
    """The payload of `dumps` under the same key; ValueError (or UnpicklingError) otherwise."""
    if not data.startswith(MAGIC):
        raise ValueError("not a kb cache file of this version")
    seal, _, body = data[len(MAGIC):].partition(b"\n")
    if not hmac.compare_digest(seal, _seal(key, body)):
        raise ValueError("the kb cache file's digest does not match its key")
    return _AllowListUnpickler(io.BytesIO(body)).load()


def _seal(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
