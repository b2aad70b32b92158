"""The compare page's tables: one case under several policies (verdicts side by side, the
criteria that differ), and a policy version's impact on stored decisions (the flips of
`warrant diff`, in words)."""
from __future__ import annotations

from typing import Any, Sequence

from engine.service.ui.policies import criteria_differences
from engine.service.ui.views import phrases


def side_by_side(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rows of lines (and admissions), one cell per policy: verdict and basis in words."""
    columns = [{"selector": r["selector"], "version": r["kb"].version} for r in results]
    rows: dict[str, dict[str, Any]] = {}
    for i, result in enumerate(results):
        kb, decision = result["kb"], result["decision"]
        roles = {v: role for role, v in kb.verdicts.items()}
        names = phrases(decision, kb.words)
        for stage in decision["stages"]:
            items = [(f"{stage['stage']}:{ln['code']}:{ln.get('level') or ln.get('side') or '-'}", ln)
                     for ln in stage["lines"]]
            if stage.get("admission"):
                items.append((f"{stage['stage']}:admission:-", stage["admission"]))
            for key, item in items:
                row = rows.setdefault(key, {"key": key, "name": names.get(key, f"inpatient stay, stage {stage['stage']}"),
                                            "cells": [None] * len(results)})
                row["cells"][i] = {"verdict": kb.words.verdict(item["verdict"]), "role": roles.get(item["verdict"]),
                                   "basis": kb.words.basis(item["basis"]), "raw": (item["verdict"], item["basis"])}
    for row in rows.values():
        row["differs"] = len({(c or {}).get("raw") for c in row["cells"]}) > 1
    names = {}
    for result in results:
        names.update(phrases(result["decision"], result["kb"].words))
    differences = criteria_differences(results)
    for diff in differences:
        diff["line_name"] = names.get(diff["line"], diff["line"])
    return {"columns": columns, "rows": list(rows.values()), "criteria": differences}


def impact_view(result: dict[str, Any], cases: int, capped: bool) -> dict[str, Any]:
    """The flips of a diff over stored decisions, each in words, grouped by the change behind it."""
    base_kb, head_kb = result["labels"]["base"], result["labels"]["head"]
    flips = []
    for flip in result["flips"]:
        where = flip["key"].split(":")
        name = base_kb.words.line(flip["code"], *_where(where, flip, base_kb.levels)) if flip["kind"] == "line" else \
            f"inpatient stay, stage {flip['stage']}"
        flips.append({"ref": flip["ref"], "case_id": flip["case_id"], "name": name,
                      "before": _words(base_kb, flip["base"]), "after": _words(head_kb, flip["head"]),
                      "causes": flip["kb_facts"] + flip["changed_rules"], "follows": bool(flip.get("follows"))})
    return {"base": result["base"], "head": result["head"], "cases": cases, "capped": capped,
            "flipped_cases": result["flipped_cases"], "flips": flips,
            "facts": result["kb_changes"]["facts"], "rules": result["kb_changes"]["rules"]}


def _where(parts: list[str], flip: dict[str, Any], levels) -> tuple:
    """(level, side, stage) of a line id's place: a level if it reads as one, else a side."""
    spot = parts[2] if len(parts) > 2 and parts[2] != "-" else None
    try:
        is_level = spot is not None and bool(levels.parse(spot))
    except (ValueError, TypeError):
        is_level = False
    return (spot if is_level else None, None if is_level else spot, flip["stage"])


def _words(kb, brief: dict[str, Any] | None) -> str:
    if brief is None:
        return "not requested"
    return f"{kb.words.verdict(brief['verdict'])} ({kb.words.basis(brief['basis'])})"
