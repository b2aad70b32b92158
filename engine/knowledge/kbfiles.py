"""Reading a kb's files: each one a regular file within the kb's size limit, and a digest of a
list of them (what the kb cache and a policy version's record are keyed by)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import Finding, Location, RuleError
from engine.guard.files import read_regular
from engine.guard.limits import LIMITS


def read_kb_file(path: Path) -> bytes:
    """A kb file's bytes: a regular file (never a FIFO or a device) of at most
    `LIMITS.kb_file_bytes`; anything else is a kb error (exit 4) naming the file."""
    try:
        return read_regular(path, LIMITS.kb_file_bytes, "kb file")
    except OSError as exc:
        raise RuleError([Finding("kb_file", f"cannot read this kb file: {exc.strerror or exc}",
                                 Location(str(path)))]) from None


def hash_files(h: Any, root: Path, files: list[Path]) -> str:
    """`h` (a hashlib object) fed each file's path below `root` and its bytes; its hex digest."""
    for path in files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(read_kb_file(path))
        h.update(b"\0")
    return "sha256:" + h.hexdigest()
