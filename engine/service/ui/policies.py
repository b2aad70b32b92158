"""The policies the workbench compares, behind one small interface.

A *selector* names a policy version (`id@version`, the form `--policy ID@VERSION` takes). Two
operations use them: `decide_under(selectors, case)` decides one case under each, and
`impact(base, head, cases)` is the diff of two selectors over stored cases (the `warrant diff`
machinery of engine/authoring/kbdiff.py, with its causes).

The versions on offer are the policy table of the served kb (kb/policies.yaml: `reference@1.0`,
`reference@1.1`, `strict@1.0`, each decided as `--policy ID@VERSION` would), then any other
knowledge-base directory given with `warrant serve --compare-kb DIR` (its own name@version).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.errors import UsageError


@dataclass(frozen=True)
class Entry:
    selector: str
    name: str
    version: str
    digest: str
    root: Path
    policy: str | None = None
    """`ID@VERSION` of the served kb's policy table (None: a --compare-kb directory as a whole)."""


class Catalog:
    def __init__(self, served, more: Sequence[str]) -> None:
        self.served = served
        self.more = list(more)
        self._entries: list[Entry] | None = None
        self._lock = threading.Lock()

    def entries(self) -> list[Entry]:
        """Every policy version on offer, the served one first; selectors are unique."""
        from engine.knowledge.base import KnowledgeBase

        with self._lock:
            if self._entries is None:
                from engine.knowledge.policies import version_digest

                served = self.served
                table = served.policy_table
                entries: list[Entry] = [
                    Entry(v.key, v.id, v.version, version_digest(table, served.digest, v), Path(served.root), v.key)
                    for v in sorted(table.versions, key=lambda v: (v.id != table.default, v.id, v.effective_from))]
                for kb in [KnowledgeBase.load(Path(p)) for p in self.more]:
                    name = str(kb.meta.get("name", "warrant"))
                    selector = f"{name}@{kb.version}"
                    if any(e.selector == selector for e in entries):
                        selector += f"~{kb.digest.split(':')[-1][:8]}"
                    if all(e.digest != kb.digest for e in entries):
                        entries.append(Entry(selector, name, kb.version, kb.digest, Path(kb.root)))
                self._entries = entries
            return self._entries

    def entry(self, selector: str) -> Entry:
        for entry in self.entries():
            if entry.selector == selector:
                return entry
        raise UsageError(f"no policy {selector!r}; choose one of {', '.join(e.selector for e in self.entries())}")

    def decide_under(self, selectors: Sequence[str], case: dict[str, Any]) -> list[dict[str, Any]]:
        """The decision of `case` under each selector (each kb in its own thread: pyDatalog keeps
        one program per thread)."""
        entries = [self.entry(s) for s in selectors]
        text = json.dumps(case, ensure_ascii=False)
        results: list[dict[str, Any]] = [{} for _ in entries]

        def one(i: int, entry: Entry) -> None:
            from engine.decide.decision import decide
            from engine.inputs import open_session
            from engine.knowledge.base import KnowledgeBase

            kb = KnowledgeBase.load(entry.root)
            session = open_session(kb, "case.json", text=text, policy=entry.policy)
            results[i] = {"selector": entry.selector, "kb": session.kb, "decision": decide(session)}

        from engine.authoring.kbdiff import in_threads

        in_threads([(one, i, e) for i, e in enumerate(entries)], name="warrant-compare")
        return results

    def impact(self, base: str, head: str, cases: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        """`warrant diff` of two selectors over stored cases: (reference, case document) pairs;
        each flip's `ref` is its case's reference."""
        from engine.authoring.kbdiff import Side, cleanup, diff

        folder = Path(tempfile.mkdtemp(prefix="warrant-impact-"))
        try:
            paths, refs = [], {}
            for i, (ref, case) in enumerate(cases):
                path = folder / f"{i:06d}.json"
                path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
                paths.append(path)
                refs[str(path)] = ref
            a, b = self.entry(base), self.entry(head)
            sides = (Side(a.selector, a.root, policy=a.policy), Side(b.selector, b.root, policy=b.policy))
            try:
                result = diff(sides[0], sides[1], paths)
            finally:
                cleanup(*sides)
            for flip in result["flips"]:
                flip["ref"] = refs.get(flip["case"], "")
            result["labels"] = {"base": sides[0].kb, "head": sides[1].kb}
            return result
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def criteria_differences(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each line, the criteria whose state (or requirement text) differs between policies."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for i, result in enumerate(results):
        words = result["kb"].words
        for stage in result["decision"]["stages"]:
            for line in stage["lines"]:
                key = f"{stage['stage']}:{line['code']}:{line.get('level') or line.get('side') or '-'}"
                for c in line.get("criteria", []):
                    row = rows.setdefault((key, c["criterion"]), {"line": key, "criterion": c["criterion"],
                                                                  "name": words.criterion(c["criterion"]),
                                                                  "cells": [None] * len(results)})
                    row["cells"][i] = {"state": c["state"], "state_text": words.state(c["state"]),
                                       "requirement": words.requirement(c["criterion"])}
    out = []
    for row in rows.values():
        cells = row["cells"]
        states = {(c or {}).get("state") for c in cells}
        texts = {(c or {}).get("requirement") for c in cells}
        if len(states) > 1 or len(texts) > 1:
            row["differs"] = "state" if len(states) > 1 else "requirement"
            out.append(row)
    return out
