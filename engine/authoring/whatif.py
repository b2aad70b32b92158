"""What-if: change fields of a case, decide it again, and keep only what changed.

Fields are dotted case paths with list indices, as the case file spells them:
`patient.age`, `imaging[0].segments.L4-5.some_measure`,
`requests[1].procedures[1].levels`. Values are YAML scalars or flow collections (`8`, `true`,
`[L4-5]`, `{relief_percent: 80, image_guided: true}`), read like case files are (no tags, no
aliases). Setting a field inside a mapping that does not exist creates the mapping; an index
one past the end of a list appends. `[]` names a new entry of that list: every `[]` on the same
list in one run is the same new entry (`imaging[].segments.L4-5.grade=moderate` and
`imaging[].segments.L4-5.neural_compression=true` describe one new study), which is how the
paths in `missing_documentation` apply. The changed case is validated again, so a value the case
format refuses is a case error naming the field; `-o FILE` writes it.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.errors import CaseError, Finding, Location, UsageError
from engine.decide.outcomes import brief, describe

_STEP = re.compile(r"([^.\[\]]+)?((?:\[-?\d*\])*)")
_INDEX = re.compile(r"\[(-?\d*)\]")
NEW = "[]"
"""A path step that names a new entry of a list (see the module docstring)."""


@dataclass(frozen=True)
class Edit:
    op: str                    # set | unset
    field: str                 # as the user wrote it
    path: tuple                # parsed
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "field": self.field}
        if self.op == "set":
            out["value"] = self.value
        return out

    def __str__(self) -> str:
        if self.op == "unset":
            return f"unset {self.field}"
        return f"set {self.field} = {json.dumps(self.value, ensure_ascii=False)}"


def parse_path(text: str) -> tuple:
    """`requests[1].procedures[0].levels` → ('requests', 1, 'procedures', 0, 'levels')."""
    text = text.strip()
    if not text:
        raise UsageError("empty field path; write it like conservative_care.duration_weeks")
    out: list[Any] = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if not match or (not match.group(1) and not match.group(2)) or (not match.group(1) and not out):
            raise UsageError(f"cannot read the field path {text!r} at {part!r}; write keys separated by dots "
                             "and list positions in brackets, e.g. imaging[0].segments.L4-5.translation_mm")
        if match.group(1):
            key = match.group(1).strip()
            if key == "*":
                raise UsageError(f"{text}: `*` stands for a key to choose; write the key itself (the segment, "
                                 "such as L4-5, or the side)")
            out.append(key)
        out.extend(int(i) if i not in ("", "-") else NEW for i in _INDEX.findall(match.group(2)))
    return tuple(out)


def parse_value(text: str, field: str = "") -> Any:
    """A YAML scalar or flow collection, read with the case reader (core schema, no tags)."""
    from engine.cases.yamltree import read_yaml

    if "\n" in text:
        raise UsageError(f"{field}: the value must fit on one line (YAML flow style: [a, b], {{k: v}})")
    try:
        source = read_yaml("<value>", "value: " + text)
    except CaseError as exc:
        detail = exc.findings[0].message if exc.findings else str(exc)
        raise UsageError(f"{field}: cannot read the value {text!r}: {detail}") from None
    if source.problems:
        detail = source.problems[0][1].message.split(": ", 1)[-1]
        raise UsageError(f"{field}: cannot use the value {text!r}: {detail}")
    return source.data.get("value")


def parse_edits(sets: Sequence[str], unsets: Sequence[str]) -> list[Edit]:
    """`--set FIELD=VALUE` and `--unset FIELD` options as edits: sets first, in order, then unsets."""
    edits: list[Edit] = []
    for item in sets:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: write FIELD=VALUE, e.g. conservative_care.duration_weeks=12")
        field, value = item.split("=", 1)
        field = field.strip()
        edits.append(Edit("set", field, parse_path(field), parse_value(value.strip(), field)))
    set_paths = {e.path for e in edits}
    for field in unsets:
        path = parse_path(field)
        if path in set_paths:
            raise UsageError(f"{field} is both set and unset; give one of --set and --unset")
        edits.append(Edit("unset", field.strip(), path))
    if not edits:
        raise UsageError("nothing to change: give at least one --set FIELD=VALUE or --unset FIELD")
    return edits


def _same_level(levels: Any, a: str, b: str) -> bool:
    try:
        return levels.normalise(a) == levels.normalise(b)
    except (ValueError, TypeError):
        return False


def _key(mapping: dict, key: str, levels: Any = None) -> str:
    """The key of `mapping` that `key` names: itself, or a spelling of the same level (L4-L5)
    in the vocabulary `levels` (the kb's `levels`), when given."""
    if key in mapping or levels is None:
        return key
    for existing in mapping:
        if isinstance(existing, str) and _same_level(levels, existing, key):
            return existing
    return key


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"the value {json.dumps(value)}"


def apply_edit(data: dict, edit: Edit, levels: Any = None, fresh: dict | None = None) -> None:
    """Apply one edit to plain case data in place (UsageError when the path cannot be followed);
    with `levels`, a level key matches any spelling of the same level; `fresh` remembers the
    entry each `[]` step appended, so the edits of one run share it."""
    node: Any = data
    path = edit.path
    fresh = {} if fresh is None else fresh
    for i, step in enumerate(path):
        last = i == len(path) - 1
        here = _show(path[:i]) or "the case"
        nxt = None if last else path[i + 1]
        if step == NEW:
            if edit.op != "set":
                raise UsageError(f"{edit.field}: [] names a new entry, which has nothing to unset")
            if node is None or not isinstance(node, list):
                raise UsageError(f"{edit.field}: {here} is {_kind(node)}, not a list, so [] does not apply")
            if id(node) not in fresh:
                node.append({} if not last else None)
                fresh[id(node)] = len(node) - 1
            step = fresh[id(node)]
        if isinstance(step, int):
            if not isinstance(node, list):
                raise UsageError(f"{edit.field}: {here} is {_kind(node)}, not a list, so [{step}] does not apply")
            index = step + len(node) if step < 0 else step
            if index == len(node) and edit.op == "set":
                node.append(edit.value if last else ({} if not isinstance(nxt, int) else []))
                if last:
                    return
            elif not 0 <= index < len(node):
                raise UsageError(f"{edit.field}: {here} has {len(node)} entr{'y' if len(node) == 1 else 'ies'}, "
                                 f"so there is no [{step}]")
            if last:
                if edit.op == "set":
                    node[index] = edit.value
                else:
                    del node[index]
                return
            if node[index] is None and edit.op == "set":
                node[index] = [] if isinstance(nxt, int) else {}
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise UsageError(f"{edit.field}: {here} is {_kind(node)}, so it has no key {step!r}")
        key = _key(node, step, levels)
        if last:
            if edit.op == "set":
                node[key] = edit.value
            elif key in node:
                del node[key]
            else:
                raise UsageError(f"{edit.field}: the case has no such field, so there is nothing to unset")
            return
        if node.get(key) is None:
            if edit.op == "unset":
                raise UsageError(f"{edit.field}: the case has no such field, so there is nothing to unset")
            node[key] = [] if isinstance(nxt, int) else {}
        node = node[key]


def _show(path: Sequence) -> str:
    from engine.cases.positions import format_path

    return format_path(path)


def changed_case(kb, path: str | Path, edits: Sequence[Edit]):
    """The original case and the edited one, both validated (CaseError for the edited one names
    the field and says the problem comes from the changes)."""
    original, _data, changed = _changed(kb, path, edits)
    return original, changed


def changed_data(kb, path: str | Path, edits: Sequence[Edit]) -> dict:
    """The edited case as plain data, after it validated (what `what-if -o` writes)."""
    return _changed(kb, path, edits)[1]


def _changed(kb, path: str | Path, edits: Sequence[Edit]):
    from engine.cases import load_case
    from engine.cases.source import parse, read_text
    from engine.cases.loader import case_position

    name = str(path)
    text = read_text(name, None)
    at = case_position(text)
    original = load_case(name, kb, text=text, at=at)
    data = parse(name, text).data
    for step in at:
        data = data[step]
    data = copy.deepcopy(data)
    fresh: dict = {}
    for edit in edits:
        apply_edit(data, edit, kb.levels, fresh)
    label = f"{name} (after the what-if changes)"
    try:
        changed = load_case(label, kb, text=json.dumps(data, ensure_ascii=False, default=str))
    except CaseError as exc:
        raise _relabel(exc, label) from None
    return original, data, changed


def _outcomes(session) -> dict[str, Any]:
    """Every determination of the session, each stage's from the policy version that decides it."""
    from engine.decide.outcomes import policy_determinations

    return policy_determinations(session)


def _relabel(exc: CaseError, label: str) -> CaseError:
    """Positions in the regenerated text mean nothing to the user: keep the field paths only."""
    findings = [Finding(f.code, f.message, Location(label)) for f in exc.findings]
    return CaseError(f"{label}: the changed case is not valid", findings=findings)


def what_if(kb, path: str | Path, edits: Sequence[Edit], policy: str | None = None,
            as_of: Any = None) -> dict[str, Any]:
    """Decide the case before and after the edits (each under the policy versions its own fields
    and `policy`/`as_of` choose); report the determinations that changed."""
    from engine.decide.outcomes import same
    from engine.decide.session import CaseSession

    original, changed = changed_case(kb, path, edits)
    before = _outcomes(CaseSession.from_case(kb, original, str(path)).with_policies(policy, as_of))
    try:
        after_session = CaseSession.from_case(kb, changed, f"{path} (after the what-if changes)")
        after_session = after_session.with_policies(policy, as_of)
    except CaseError as exc:
        raise _relabel(exc, f"{path} (after the what-if changes)") from None
    after = _outcomes(after_session)
    keys = list(before) + [k for k in after if k not in before]
    changes = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if same(old, new):
            continue
        old_rules = old["rules"] if old else []
        new_rules = new["rules"] if new else []
        record = old or new
        changes.append({
            "key": key, "kind": record["kind"], "stage": record["stage"], "code": record["code"],
            "old": brief(old), "new": brief(new),
            "rules_added": [r for r in new_rules if r not in old_rules],
            "rules_removed": [r for r in old_rules if r not in new_rules],
        })
    return {"case": str(path), "case_id": str(getattr(original, "case_id", "")),
            "edits": [e.to_dict() for e in edits], "compared": len(keys), "changed": changes}


def _label(change: dict[str, Any], words=None, ids: bool = False) -> str:
    if change["kind"] == "stage":
        return f"stage {change['stage']}"
    if change["kind"] == "admission":
        return f"admission {change['stage']}"
    if words is None or ids:
        return change["key"]
    where = change["key"].split(":")[-1]
    side = where if where in ("left", "right") else None
    level = None if side or where == "-" else where
    return words.line(change["code"], level, side)


def what_if_text(result: dict[str, Any], edits: Sequence[Edit], words=None, ids: bool = False) -> str:
    """The changed determinations in words (`words`: the kb's); rule ids only with `ids`."""
    out = [f"what-if {result['case']} ({result['case_id']})"]
    out.extend(f"  {edit}" for edit in edits)
    changes = result["changed"]
    if not changes:
        out.append(f"no determination changed ({result['compared']} compared)")
        return "\n".join(out) + "\n"
    out.append(f"{len(changes)} of {result['compared']} determinations changed:")
    width = max(len(_label(c, words, ids)) for c in changes)
    for change in changes:
        out.append(f"  {_label(change, words, ids).ljust(width)}  {_brief(change['old'], words, ids)} -> "
                   f"{_brief(change['new'], words, ids)}")
        pad = " " * (width + 4)
        if ids and change["rules_added"]:
            out.append(f"{pad}now because of: {', '.join(change['rules_added'])}")
        if ids and change["rules_removed"]:
            out.append(f"{pad}no longer:      {', '.join(change['rules_removed'])}")
    return "\n".join(out) + "\n"


def _brief(record: dict[str, Any] | None, words, ids: bool) -> str:
    if words is None or ids or record is None:
        return describe(record)
    text = words.verdict(record["verdict"]) + (f" ({words.basis(record['basis'])})" if record.get("basis") else "")
    if record.get("supported_days") is not None:
        text += f", {record['supported_days']} days supported"
    return text
