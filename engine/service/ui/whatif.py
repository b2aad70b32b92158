"""What-if on a stored decision: change fields of its case (or apply a minimal documentation
set), decide again, and show what changed line by line; the changed case can be stored as a new
decision. Field paths and values are those of `warrant what-if --set FIELD=VALUE`."""
from __future__ import annotations

import copy
import json
from typing import Any, Sequence

from engine.authoring.whatif import Edit, apply_edit, parse_edits
from engine.errors import CaseError, UsageError


def edits_from_form(fields: Sequence[str], values: Sequence[str], unset: Sequence[str] = ()) -> list[Edit]:
    """Pairs of field and value from a form (empty rows skipped), as `--set`/`--unset` edits."""
    sets = [f"{f.strip()}={v}" for f, v in zip(fields, values) if f.strip()]
    if not sets and not any(u.strip() for u in unset):
        raise UsageError("name at least one field to change")
    return parse_edits(sets, [u.strip() for u in unset if u.strip()])


def changed_document(case: dict[str, Any], edits: Sequence[Edit], levels: Any = None) -> dict[str, Any]:
    data = copy.deepcopy(case)
    fresh: dict = {}
    for edit in edits:
        apply_edit(data, edit, levels, fresh)
    return data


def run_what_if(kb, stored, edits: Sequence[Edit]):
    """Decide the changed case (on the decision thread); the Decided and the line changes."""
    from engine.service.deciding import decide_text, recorded_selection

    data = changed_document(stored.case, edits, kb.levels)
    try:
        decided = decide_text(kb, json.dumps(data, ensure_ascii=False), "case (after the what-if changes)",
                              *recorded_selection(stored.decision))
    except CaseError as exc:
        raise CaseError(f"the changed case is not valid: {'; '.join(f.message for f in exc.findings)}",
                        findings=exc.findings) from None
    return decided, changes(stored.decision, decided.decision)


def _flat(decision: dict[str, Any]) -> dict[str, tuple[str, str, dict]]:
    out = {}
    for stage in decision.get("stages", []):
        for line in stage.get("lines", []):
            where = line.get("level") or line.get("side") or "-"
            out[f"{stage['stage']}:{line['code']}:{where}"] = (line["verdict"], line["basis"], line)
        if stage.get("admission"):
            adm = stage["admission"]
            out[f"{stage['stage']}:admission:-"] = (adm["verdict"], adm["basis"], adm)
        out[f"stage:{stage['stage']}"] = (stage["verdict"], "", stage)
    return out


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line, admission and stage, with its verdict and basis before and after."""
    old, new = _flat(before), _flat(after)
    rows = []
    for key in list(old) + [k for k in new if k not in old]:
        a, b = old.get(key), new.get(key)
        rows.append({"key": key, "before": a[:2] if a else None, "after": b[:2] if b else None,
                     "changed": (a[:2] if a else None) != (b[:2] if b else None)})
    return rows
