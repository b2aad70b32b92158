"""Clinical words (kb/words.yaml): every identifier a person can be shown has words, thresholds in
the words come from the kb's facts, and a kb that lacks words for one fails `warrant check`."""
from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

import cli
from engine.knowledge.wordcheck import word_findings
from tests.conftest import ROOT


@pytest.fixture
def kb_copy(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("tests", "corpus", "__pycache__"))
    return kb


def _check(kb) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["check", "--kb", str(kb)])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def test_every_criterion_verdict_basis_family_and_field_of_the_kb_has_words(kb):
    assert word_findings(kb.words, kb.program.clauses, kb.program.decls) == []
    words = kb.words
    criteria = {c.head.args[1].value for c in kb.program.clauses
                if c.is_fact and c.head.pred in ("family_criterion", "code_criterion")}
    assert len(criteria) >= 19
    for criterion in criteria:
        assert criterion in words.data["criteria"] and words.requirement(criterion), criterion
        assert not re.search(r"[{}]|\w_\w", words.requirement(criterion)), criterion
    answers = {row for row in kb.program.query("verdict_rank")}
    for verdict, _rank in answers:
        assert verdict in words.data["verdicts"] and "_" not in words.verdict(verdict)
    for basis in ("criteria_met", "criterion_unmet", "no_documented_indication", "documentation_missing",
                  "levels_not_specified", "incidental", "dependent", "no_policy"):
        assert "_" not in words.basis(basis) and "_" not in words.basis_means(basis)
    for family in {c.head.args[1].value for c in kb.program.clauses if c.is_fact and c.head.pred == "code_family"}:
        assert "_" not in words.family(family)


def test_a_criterion_without_words_fails_check_at_the_fact_that_lists_it(kb_copy):
    words = kb_copy / "words.yaml"
    body = words.read_text(encoding="utf-8")
    start = body.index("  deformity_correlation:\n")
    end = body.index("  fusion_in_stage:\n")
    words.write_text(body[:start] + body[end:], encoding="utf-8")
    code, err = _check(kb_copy)
    assert code == 4
    assert "kb/families/osteotomy.dl:7:1: the criterion deformity_correlation has no words: add it under " \
           "`criteria:` in words.yaml" in err


def test_a_case_field_or_verdict_without_words_fails_check(kb_copy):
    words = kb_copy / "words.yaml"
    body = words.read_text(encoding="utf-8")
    body = body.replace("  imaging[].segments.*.translation_mm: {noun: translation on flexion-extension films, "
                        "unit: mm}\n", "")
    body = body.replace("  cannot_be_determined: cannot be determined\n", "")
    words.write_text(body, encoding="utf-8")
    code, err = _check(kb_copy)
    assert code == 4
    assert "the case field imaging[].segments.*.translation_mm (read by seg_finding) has no words" in err
    assert "the verdict cannot_be_determined has no words" in err


def test_requirements_read_their_thresholds_from_the_kb(kb, kb_copy):
    from engine.knowledge.base import KnowledgeBase

    before = kb.words.requirement("conservative_care_fusion")
    assert "at least 6 weeks of physical therapy and 12 weeks of conservative care in all" in before
    assert "graded moderate or worse" in kb.words.requirement("stenosis_compression")
    constants = kb_copy / "constants.dl"
    text = constants.read_text(encoding="utf-8")
    text = text.replace("care_threshold(conservative_care_fusion, duration_weeks, 12).",
                        "care_threshold(conservative_care_fusion, duration_weeks, 24).")
    text = text.replace("threshold(stenosis_grade, moderate).", "threshold(stenosis_grade, moderate_severe).")
    constants.write_text(text, encoding="utf-8")
    changed = KnowledgeBase.load(kb_copy).words
    assert "and 24 weeks of conservative care in all" in changed.requirement("conservative_care_fusion")
    assert "graded moderate to severe or worse" in changed.requirement("stenosis_compression")


def test_a_requirement_naming_no_fact_is_a_kb_error(kb_copy):
    words = kb_copy / "words.yaml"
    words.write_text(words.read_text(encoding="utf-8").replace("{threshold(si_care_months)}",
                                                               "{threshold(si_care_weeks)}"), encoding="utf-8")
    code, err = _check(kb_copy)
    assert code == 4 and "{threshold(si_care_weeks)} names 0 facts of threshold/2" in err


def test_fields_read_with_their_place_and_studies_by_name(kb):
    words = kb.words
    document = {"imaging": [{"id": "mri-lumbar", "modality": "mri", "date": "2024-02-01"}, {"modality": "ct"}],
                "si_joint": {"left": {"diagnostic_injections": [{"relief_percent": 90}]}}}
    assert words.field_phrase("imaging[0].segments.L4-5.translation_mm", document) == \
        "translation on flexion-extension films at L4-5 on the MRI “mri-lumbar” of 2024-02-01"
    assert words.field_phrase("imaging[1].segments.L4-5.central_stenosis", document) == \
        "central canal stenosis at L4-5 on the CT"
    assert words.field_phrase("imaging[2].alignment.coronal_cobb_deg", document) == \
        "coronal Cobb angle on a new imaging study"
    assert words.field_phrase("imaging[].segments.L5-S1.neural_compression", document) == \
        "neural compression at L5-S1"
    assert words.field_phrase("si_joint.left.diagnostic_injections[0].image_guided", document) == \
        "image guidance of injection 1 on the left side"
    assert words.value(words.field("conservative_care.physical_therapy_weeks"), 6) == "6 weeks"
    assert words.value(words.field("conservative_care.physical_therapy_weeks"), 1) == "1 week"
    assert words.value(words.field("si_joint.left.diagnostic_injections[0].relief_percent"), 75.0) == "75%"
    assert words.value(words.field("imaging[0].segments.L4-5.neural_compression"), "false") == "absent"
    assert words.comparison(">=", words.term("moderate"), ordinal=True) == "moderate or worse"
    assert words.comparison(">=", "6 weeks") == "at least 6 weeks"


def test_articles_agree_with_the_words_filled_in(kb):
    words = kb.words
    assert words.articles("a osteotomy and a MRI, an lumbar fusion, an unit") == \
        "an osteotomy and an MRI, a lumbar fusion, a unit"


def test_decision_reasons_and_requests_read_clinically(reference_decision):
    texts = [r["text"] for s in reference_decision["stages"] for ln in s["lines"] for r in ln["reasons"]]
    texts += [m["item"] for s in reference_decision["stages"] for ln in s["lines"] for m in ln["missing_documentation"]]
    texts += [r["item"] for r in reference_decision["documentation_requests"]]
    assert texts
    for text in texts:
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text       # snake_case identifier
        assert not re.search(r"\d:\d{5}:", text), text                 # a line id
        assert not re.search(r"[{}]", text), text                      # an unfilled placeholder
        assert not re.search(r"\ba [aeiou]", text), text               # "a osteotomy"
