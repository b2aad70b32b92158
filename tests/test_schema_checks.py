"""`warrant check` against the case schema: a `%@ field` path the schema lacks, a constant a
field's enumeration does not hold, a broken case-schema.yaml and a FHIR map target the schema
lacks are each reported at their exact `file:line:col` (exit 4)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("corpus", "tests", "__pycache__"))
    return kb


def _edit(path: Path, old: str, new: str) -> tuple[int, int]:
    """Replace the first `old` by `new`; the 1-based line and column where `new` starts."""
    text = path.read_text(encoding="utf-8")
    index = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check(run_cli, kb: Path) -> list[str]:
    result = run_cli("check", "--kb", str(kb))
    assert result.exit_code == 4, result.output
    return result.stderr.splitlines()


def test_a_field_path_outside_the_schema(run_cli, kb_copy):
    line, col = _edit(kb_copy / "facts.dl", "%@ field exam.{Name} = Value", "%@ field exams.{Name} = Value")
    assert _check(run_cli, kb_copy) == [
        f"kb/facts.dl:{line}:{col + len('%@ field ')}: field 'exams.{{Name}} = Value' of exam_finding: "
        "a case has no field exams; did you mean exam?"]


def test_a_field_path_step_that_is_not_a_list(run_cli, kb_copy):
    line, col = _edit(kb_copy / "facts.dl", "%@ field history.prior_fusions[Fusion]\n",
                      "%@ field history.prior_fusions[Fusion].levelz\n")
    assert _check(run_cli, kb_copy) == [
        f"kb/facts.dl:{line}:{col + len('%@ field ')}: field 'history.prior_fusions[Fusion].levelz' of "
        "prior_fusion: history.prior_fusions[] has no field levelz; did you mean levels?"]


def test_an_atom_outside_the_enumeration(run_cli, kb_copy):
    rules = kb_copy / "definitions.dl"
    line, col = _edit(rules, "care(outcome, failed).\n\n%@ rule care.decompression_met",
                      "care(outcome, faild).\n\n%@ rule care.decompression_met")
    seg_line, seg_col = _edit(rules, "seg_finding(_, S, central_stenosis, G), grade_rank(G, R)",
                              "seg_finding(_, S, central_stenosis, moderat), grade_rank(G, R)")
    found = _check(run_cli, kb_copy)
    assert found == sorted(found, key=lambda m: [int(p) for p in m.split(":")[1:3]])
    assert f"kb/definitions.dl:{seg_line}:{seg_col}: seg_finding(_, S, central_stenosis, moderat): " \
           "imaging[].segments.{Segment}.central_stenosis is one of none, mild, mild_moderate, moderate, " \
           "moderate_severe, severe, not moderat (did you mean moderate?)" in found
    assert f"kb/definitions.dl:{line}:{col}: care(outcome, faild): conservative_care.outcome is one of " \
           "failed, improved, ongoing, not faild (did you mean failed?)" in found


def test_a_compared_atom_outside_the_enumeration(run_cli, kb_copy):
    line, col = _edit(kb_copy / "definitions.dl", "O \\= failed", "O \\= faild")
    assert _check(run_cli, kb_copy) == [
        f"kb/definitions.dl:{line}:{col}: O \\= faild: O is conservative_care.outcome, which is one of "
        "failed, improved, ongoing, not faild (did you mean failed?)"]


def test_a_key_constant_that_names_no_field(run_cli, kb_copy):
    line, col = _edit(kb_copy / "definitions.dl", "exam_finding(correlates_with_imaging, true)",
                      "exam_finding(correlates_with_imagin, true)")
    assert _check(run_cli, kb_copy) == [
        f"kb/definitions.dl:{line}:{col}: exam_finding(correlates_with_imagin, true): exam has no field "
        "correlates_with_imagin; did you mean correlates_with_imaging?"]


def test_a_broken_case_schema(run_cli, kb_copy):
    schema = kb_copy / "case-schema.yaml"
    line, col = _edit(schema, "sex: {type: enum, values:", "sex: {type: enum, value:")
    _edit(schema, "{type: weeks, description: weeks of physical therapy}",
          "{type: weekz, description: weeks of physical therapy}")
    found = _check(run_cli, kb_copy)
    assert f"kb/case-schema.yaml:{line}:{col + len('sex: {type: enum, ')}: patient.sex: unknown key " \
           "'value' for a enum; expected one of absent, contract, description, expands, ordinal, " \
           "required, role, type, values" in found
    assert any(":" in m and "conservative_care.physical_therapy_weeks: unknown type 'weekz'" in m for m in found)


def test_a_contract_field_may_not_go(run_cli, kb_copy):
    line, col = _edit(kb_copy / "case-schema.yaml", "                contract: true\n                min_items: 2",
                      "                min_items: 2")
    found = _check(run_cli, kb_copy)
    assert any("the contract field requests[].procedures[].span (list) must be declared with contract: true"
               in m for m in found)


def test_a_fhir_map_target_outside_the_schema(run_cli, kb_copy):
    line, col = _edit(kb_copy / "fhir-map.yaml", '"symptoms.adl_limited"', '"symptoms.adl_limitd"')
    assert _check(run_cli, kb_copy) == [
        f"kb/fhir-map.yaml:{line}:{col}: symptoms.adl_limitd is not a field of the case schema "
        "(case-schema.yaml)"]
