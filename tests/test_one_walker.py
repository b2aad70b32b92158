"""Every command reads its determinations from one walker, so none can contradict another.

Each case of kb/tests and kb/corpus is decided through the path of each command that reports
determinations — decide (and report, which renders decide's JSON), batch, rule tests and
summarize, kb diff, what-if — and the verdicts, bases, reasons (rule ids) and missing
documentation must be identical.
"""
from __future__ import annotations

import io
import json

import pytest

from conftest import ROOT
from engine.authoring.whatif import parse_edits, what_if
from engine.batch.runner import BatchOptions, run_batch
from engine.cases.paths import input_files
from engine.decide.decision import decide
from engine.decide.outcomes import determinations
from engine.inputs import open_session

CASES = input_files([ROOT / "kb" / "tests", ROOT / "kb" / "corpus"])


def records_of_decision(decision: dict) -> dict[str, dict]:
    """What a user of `warrant decide --format json` sees, in the authoring tools' shape."""
    out = {}
    for stage in decision["stages"]:
        for line in stage["lines"]:
            key = f"{stage['stage']}:{line['code']}:{line['level'] or line['side'] or '-'}"
            out[key] = {"verdict": line["verdict"], "basis": line["basis"],
                        "rules": list(dict.fromkeys(r["rule"] for r in line["reasons"])),
                        "missing": [m["field"] for m in line["missing_documentation"]]}
        if "admission" in stage:
            adm = stage["admission"]
            out[f"admission:{stage['stage']}"] = {
                "verdict": adm["verdict"], "basis": adm["basis"],
                "rules": list(dict.fromkeys(r["rule"] for r in adm["reasons"]))}
        out[f"stage:{stage['stage']}"] = {"verdict": stage["verdict"], "basis": None, "rules": []}
    return out


def comparable(records: dict[str, dict], fields=("verdict", "basis", "rules", "missing")) -> dict:
    return {key: {f: r[f] for f in fields if f in r} for key, r in records.items()}


@pytest.fixture(scope="module")
def decisions(kb):
    return {str(path): decide(open_session(kb, path)) for path in CASES}


def test_the_corpus_is_all_there():
    assert len(CASES) >= 360


def test_batch_writes_exactly_the_decisions_of_decide(kb, decisions):
    out = io.BytesIO()
    run_batch([str(p) for p in CASES], out, BatchOptions(kb_dir=str(kb.root)))
    lines = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    assert len(lines) == len(CASES)
    for path, line in zip(CASES, lines):
        assert line == decisions[str(path)], path


def test_rule_tests_and_summarize_see_the_decision(kb, decisions):
    for path in CASES:
        expected = comparable(records_of_decision(decisions[str(path)]))
        seen = comparable(determinations(open_session(kb, path), missing=True))
        assert seen == expected, path


def test_kb_diff_sees_the_decisions_reasons(kb, decisions):
    for path in CASES[::5]:
        expected = comparable(records_of_decision(decisions[str(path)]), ("verdict", "basis", "rules"))
        seen = comparable(determinations(open_session(kb, path), watch=set()), ("verdict", "basis", "rules"))
        assert seen == expected, path


def test_what_if_reports_the_rules_decide_gives_after_the_change(kb, tmp_path):
    case = ROOT / "kb" / "tests" / "fusion-met.yaml"
    edits = parse_edits(["conservative_care.outcome=improved"], [])
    result = what_if(kb, case, edits)
    assert result["changed"], "the edit must change something for this test to mean anything"
    changed = tmp_path / "changed.yaml"
    text = case.read_text().replace("outcome: failed", "outcome: improved")
    assert text != case.read_text()
    changed.write_text(text)
    before = records_of_decision(decide(open_session(kb, case)))
    after = records_of_decision(decide(open_session(kb, changed)))
    for change in result["changed"]:
        key = change["key"]
        old_rules = before.get(key, {}).get("rules", [])
        new_rules = after.get(key, {}).get("rules", [])
        assert change["new"]["verdict"] == after[key]["verdict"]
        assert change["rules_added"] == [r for r in new_rules if r not in old_rules]
        assert change["rules_removed"] == [r for r in old_rules if r not in new_rules]
