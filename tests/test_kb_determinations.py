"""Every determination pinned in kb/tests/*.yaml (written from CRITERIA.md, independently of the kb)."""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.cases import case_document, expand_lines, load_case
from engine.decide.decision import decide
from engine.decide.session import CaseSession
from tests.conftest import ROOT, bundled_kb

TESTS = sorted((ROOT / "kb" / "tests").glob("*.yaml"))


def _decision(kb, path: Path) -> dict:
    case = load_case(path, bundled_kb(), at=("case",))
    lines = expand_lines(case, kb.code_units)
    return decide(CaseSession(kb, case, str(path), lines, case_document(case, lines)))


@pytest.mark.parametrize("path", TESTS, ids=[p.stem for p in TESTS])
def test_rule_test_file(kb, path):
    spec = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    expect = spec["expect"]
    decision = _decision(kb, path)
    lines = {f"{s['stage']}:{l['code']}:{l['level'] or l['side'] or '-'}": l
             for s in decision["stages"] for l in s["lines"]}
    problems = []
    for line_id, want in (expect.get("lines") or {}).items():
        got = lines.get(line_id)
        if got is None:
            problems.append(f"{line_id}: no such line (have {sorted(lines)})")
            continue
        if got["verdict"] != want["verdict"] or ("basis" in want and got["basis"] != want["basis"]):
            problems.append(f"{line_id}: expected {want['verdict']}/{want.get('basis')}, got "
                            f"{got['verdict']}/{got['basis']} (rules: {[r['rule'] for r in got['reasons']][:4]})")
        fields = {m["field"] for m in got["missing_documentation"]}
        for field in want.get("missing", []):
            if field not in fields:
                problems.append(f"{line_id}: missing documentation should name {field}; names {sorted(fields)}")
    stages = {s["stage"]: s for s in decision["stages"]}
    for stage, verdict in (expect.get("stages") or {}).items():
        if stages[int(stage)]["verdict"] != verdict:
            problems.append(f"stage {stage}: expected {verdict}, got {stages[int(stage)]['verdict']}")
    for stage, want in (expect.get("admissions") or {}).items():
        got = stages[int(stage)].get("admission")
        if got is None:
            problems.append(f"admission {stage}: none decided")
            continue
        for key in ("verdict", "basis", "supported_days"):
            if key in want and got.get(key) != want[key]:
                problems.append(f"admission {stage}: {key} expected {want[key]!r}, got {got.get(key)!r}")
    assert not problems, "\n".join(problems)


def test_at_least_thirty_determinations_are_pinned():
    count = 0
    for path in TESTS:
        spec = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        count += len(spec["expect"].get("lines") or {})
    assert count >= 30
