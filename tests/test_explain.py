"""Explanations: proofs down to case facts, why-not with every failed condition, minimal sets,
and agreement between the provenance evaluator and pyDatalog."""
from __future__ import annotations

import json

import pytest

from engine.cases import case_document, expand_lines, load_case
from engine.decide.decision import LINE_VERDICT, decide, find_line
from engine.errors import UsageError
from engine.decide.session import CaseSession
from engine.inputs import open_session
from tests.conftest import REFERENCE, ROOT, bundled_kb


@pytest.fixture(scope="module")
def session(kb):
    return open_session(kb, REFERENCE)


def _walk(node):
    yield node
    for child in node.get("children", []):
        yield from _walk(child)


def test_why_22558_ends_at_the_mri_finding_with_its_citation(run_cli):
    result = run_cli("why", str(REFERENCE), "22558", "--level", "L2-3", "--format", "json")
    tree = json.loads(result.stdout)
    assert tree["kind"] == "conclusion" and tree["label"].startswith("line_verdict('1:22558:L2-3'")
    path = []

    def find(node, trail):
        if node["kind"] == "fact" and node.get("field") == "imaging[].segments.L2-3.neural_compression":
            path.extend(trail + [node])
            return True
        return any(find(c, trail + [node]) for c in node.get("children", []))

    assert find(tree, [])
    leaf = path[-1]
    assert leaf["label"] == "seg_finding(0, 'L2-3', neural_compression, false)"
    step = path[-2]  # the rule instance that reads the finding
    assert step["rule"] == "stenosis.no_compression"
    assert "aans-cns-2014" in step["citations"]
    assert "L2-3" in step["text"]


def test_why_text_is_an_indented_tree_in_words(run_cli):
    text = run_cli("why", str(REFERENCE), "22558", "--level", "L2-3").stdout
    lines = text.splitlines()
    assert lines[0] == "✔ 22558 at L2-3 keeps its own verdict: not medically necessary (criterion not met)"
    assert "      • neural compression at L2-3 on the MRI “mri-lumbar”: absent" in lines
    assert "line_verdict(" not in text and "imaging[]" not in text and "_" not in text
    with_ids = run_cli("why", str(REFERENCE), "22558", "--level", "L2-3", "--ids").stdout
    assert "[seg_finding(0, 'L2-3', neural_compression, false)]" in with_ids
    assert "field: imaging[].segments.L2-3.neural_compression" in with_ids
    shallow = run_cli("why", str(REFERENCE), "22558", "--level", "L2-3", "--depth", "1").stdout
    assert len(shallow.splitlines()) < len(lines) and "raise --depth" in shallow


def test_every_decision_proof_id_opens_with_why_proof(run_cli, reference_decision):
    line = reference_decision["stages"][1]["lines"][-1]
    by_id = json.loads(run_cli("why", str(REFERENCE), "--proof", line["proof"], "--format", "json").stdout)
    by_line = json.loads(run_cli("why", str(REFERENCE), line["code"], "--format", "json").stdout)
    assert by_id == by_line and by_id["id"] == line["proof"]
    adm = reference_decision["stages"][0]["admission"]
    tree = json.loads(run_cli("why", str(REFERENCE), "--proof", adm["proof"], "--format", "json").stdout)
    assert tree["label"].startswith("admission_verdict(1, not_medically_necessary")


def test_why_not_22633_lists_each_missing_criterion_with_fields(run_cli):
    data = json.loads(run_cli("why-not", str(REFERENCE), "22633", "--level", "L4-5", "--format", "json").stdout)
    assert data["actual"] == {"verdict": "cannot_be_determined", "basis": "documentation_missing"}
    blocking = {b["fact"]: b for b in data["blocking"]}
    expected = {
        "instability": {"imaging[].segments.L4-5.spondylolisthesis_grade", "imaging[].segments.L4-5.translation_mm",
                        "imaging[].segments.L4-5.angulation_deg"},
        "stenosis_compression": {"imaging[].segments.L4-5.neural_compression", "imaging[].segments.L4-5.central_stenosis"},
        "conservative_care_fusion": {"conservative_care.physical_therapy_weeks", "conservative_care.duration_weeks",
                                     "conservative_care.outcome"},
        "exam_correlation": {"exam.correlates_with_imaging"},
    }
    for criterion, fields in expected.items():
        entry = blocking[f"undocumented('2:22633:L4-5', {criterion})"]
        assert fields <= set(entry["missing"]), (criterion, entry["missing"])
    kinds = {n["kind"] for n in _walk(data["tree"])}
    assert {"not_derived", "failed_rule", "missing", "contradicted"} <= kinds
    assert data["minimal_sets"] == []
    assert data["minimal_note"] == (
        "no set of at most 3 documented facts makes it medically necessary: the criteria still open need at least "
        "7 facts (instability at the level: 1; stenosis with neural compression at the level: 2; failed conservative "
        "care: 3; examination that matches the imaging: 1)")
    standing = {item["criterion"]: item for item in data["standing"]}
    assert standing["conservative_care_fusion"]["requirement"].startswith(
        "at least 6 weeks of physical therapy and 12 weeks of conservative care in all")
    assert standing["instability"]["least_facts"] == 1


def test_why_not_keeps_contradicted_and_missing_apart(run_cli):
    data = json.loads(run_cli("why-not", str(REFERENCE), "22558", "--level", "L2-3", "--format", "json").stdout)
    unmet = next(b for b in data["blocking"] if "fails stenosis with neural compression" in b["text"])
    assert unmet["contradicted_by"] == ["seg_finding(0, 'L2-3', neural_compression, false)"]
    assert unmet["missing"] == []
    missing_fields = {m["field"] for m in data["missing"]}
    assert "imaging[].segments.L2-3.neural_compression" not in missing_fields


def test_minimal_set_of_one_fact(run_cli, tmp_path):
    case = tmp_path / "exam.yaml"
    case.write_text("""format: warrant-case/1
case_id: exam-missing
symptoms: {radiculopathy: true}
conservative_care: {physical_therapy_weeks: 8, duration_weeks: 16, outcome: failed}
imaging:
  - {id: mri, modality: mri, segments: {L4-5: {central_stenosis: moderate, neural_compression: true, spondylolisthesis_grade: 1}}}
requests:
  - {stage: 1, setting: outpatient, procedures: [{code: "22633", levels: [L4-5]}]}
""", encoding="utf-8")
    data = json.loads(run_cli("why-not", str(case), "22633", "--level", "L4-5", "--format", "json").stdout)
    assert data["minimal_sets"] == [{"size": 1, "facts": [{
        "field": "exam.correlates_with_imaging", "op": "=", "value": True, "witness": True,
        "text": "examination matching the imaging: yes"}], "unblocks": ["1:22633:L4-5"]}]
    text = run_cli("why-not", str(case), "22633", "--level", "L4-5").stdout
    assert "  - examination matching the imaging: yes" in text


def test_why_not_of_a_verdict_that_holds(run_cli):
    text = run_cli("why-not", str(REFERENCE), "22558", "--level", "L2-3", "--verdict", "not_medically_necessary").stdout
    assert "It is not medically necessary already" in text


def test_unknown_line_is_a_usage_error(session):
    with pytest.raises(UsageError) as info:
        find_line(session, "22633", level="L2-3")
    assert "lines with this code: stage 2 L4-5" in str(info.value)
    with pytest.raises(UsageError):
        find_line(session, "22853")  # two levels: ambiguous


def test_unknown_line_exit_code_2(run_cli):
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.main, ["why", str(REFERENCE), "22633", "--level", "L1-2"])
    assert result.exit_code == 2 and "no line 22633 at L1-2" in result.stderr


def _all_cases():
    cases = [(REFERENCE, ())] + [(p, ("case",)) for p in sorted((ROOT / "kb" / "tests").glob("*.yaml"))]
    return cases


def test_provenance_evaluator_agrees_with_pydatalog_on_every_bundled_case(kb):
    program = kb.program
    for path, at in _all_cases():
        case = load_case(path, bundled_kb(), at=at)
        lines = expand_lines(case, kb.code_units)
        session = CaseSession(kb, case, str(path), lines, case_document(case, lines))
        ours = program.model(session.facts)  # bottom-up in Python, no pyDatalog answers used
        for key, rows in session.derived.items():
            assert set(ours.rows(key)) == set(rows), (path.name, key)


def test_every_reconstructed_proof_is_valid(kb, session):
    """Each conclusion's recorded derivation re-checks against the model, down to base facts."""
    decision = decide(session)
    for stage in decision["stages"]:
        for line in stage["lines"]:
            proof = session.explainer.why(LINE_VERDICT, (f"{stage['stage']}:{line['code']}:"
                                                         f"{line['level'] or line['side'] or '-'}",
                                                         line["verdict"], line["basis"]))
            for node in proof.walk():
                if node.kind in ("conclusion", "fact"):
                    assert session.model.holds((node.predicate, len(node.args)), tuple(node.args)), node.label
