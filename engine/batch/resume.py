"""What an interrupted batch run already did, recorded so that `--resume` does exactly the rest.

Beside the output `OUT` a run keeps `OUT.progress`: one JSON line per input already written,
`[source, sha256, end]` — where the input came from (`path`, or `stream:line`), a hash of its
text, and the byte offset in `OUT` where its result line ends. Results are written and flushed
first, then their progress lines, so after a kill at any instant the progress file names a
prefix of what the output holds. Resuming cuts the output back to the end of the last input the
progress file names (dropping lines written after it, and a line cut in half) and skips the
inputs it names: no input is lost and none is written twice, whatever the case ids say.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

SUFFIX = ".progress"


def progress_path(output: Path) -> Path:
    return output.with_name(output.name + SUFFIX)


@dataclass
class Done:
    """The inputs an earlier run finished (by identity), and the kb digests its output names."""

    inputs: set[tuple[str, str]] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    lines: int = 0
    shapes: set[str] = field(default_factory=set)  # "full" decisions, "verdicts" only (error records: none)


def read_done(output: Path) -> tuple[Done, int, int]:
    """What the output and its progress file hold: (done, output bytes to keep, progress bytes
    to keep). Progress entries past the output's end, or cut off, are dropped."""
    done = Done()
    size = output.stat().st_size if output.exists() else 0
    keep_out = keep_progress = 0
    journal = progress_path(output)
    if journal.exists():
        with open(journal, "rb") as handle:
            offset = 0
            for raw in handle:
                offset += len(raw)
                entry = _entry(raw)
                if entry is None or entry[2] > size or entry[2] < keep_out:
                    break
                done.inputs.add((entry[0], entry[1]))
                keep_out, keep_progress = entry[2], offset
                done.lines += 1
    done.digests, done.shapes = _digests(output, keep_out)
    return done, keep_out, keep_progress


def _entry(raw: bytes) -> tuple[str, str, int] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        source, sha, end = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if isinstance(source, str) and isinstance(sha, str) and isinstance(end, int) and not isinstance(end, bool):
        return source, sha, end
    return None


def _digests(output: Path, end: int) -> tuple[set[str], set[str]]:
    """The kb digests named by the decisions in the first `end` bytes of the output, and their
    shapes (full decisions hold `documentation_requests`; verdict-only ones do not)."""
    out: set[str] = set()
    shapes: set[str] = set()
    if not end:
        return out, shapes
    with open(output, "rb") as handle:
        read = 0
        for raw in handle:
            read += len(raw)
            if read > end:
                break
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            kb = record.get("knowledge_base") if isinstance(record, dict) else None
            if isinstance(kb, dict) and isinstance(kb.get("digest"), str):
                out.add(kb["digest"])
                shapes.add("full" if "documentation_requests" in record else "verdicts")
            for stage in record.get("stages") or [] if isinstance(record, dict) else []:
                policy = stage.get("policy") if isinstance(stage, dict) else None
                if isinstance(policy, dict) and isinstance(policy.get("digest"), str):
                    out.add(policy["digest"])
    return out, shapes


def cut_back(output: Path, keep_out: int, keep_progress: int) -> None:
    """Drop what follows the last finished input in both files."""
    for path, keep in ((output, keep_out), (progress_path(output), keep_progress)):
        if path.exists():
            with open(path, "r+b") as handle:
                handle.truncate(keep)


class Journal:
    """Appends progress lines after the matching output lines are flushed."""

    def __init__(self, handle: IO[bytes], output: IO[bytes]) -> None:
        self.handle = handle
        self.output = output

    def record(self, identities: list[tuple[str, str]], ends: list[int]) -> None:
        text = "".join(json.dumps([source, sha, end], ensure_ascii=True) + "\n"
                       for (source, sha), end in zip(identities, ends))
        self.handle.write(text.encode("ascii"))
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def output_end(handle: IO[bytes]) -> int:
    return os.fstat(handle.fileno()).st_size
