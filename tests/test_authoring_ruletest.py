"""`warrant test`: rule tests, their failure diffs, exit codes and coverage."""
from __future__ import annotations

import json
import textwrap

from tests.conftest import ROOT

PASSING = ROOT / "kb" / "tests" / "fusion-met.yaml"

FAILING = textwrap.dedent("""\
    name: a deliberately wrong expectation
    description: the fusion is approved, but this test expects a denial
    case:
      format: warrant-case/1
      case_id: t-wrong
      patient: {age: 50, red_flags: []}
      symptoms: {neurogenic_claudication: true}
      exam: {correlates_with_imaging: true}
      conservative_care: {physical_therapy_weeks: 8, duration_weeks: 16, outcome: failed}
      history: {prior_fusions: [], hardware_failure: []}
      imaging:
        - id: mri-1
          segments:
            L4-5: {central_stenosis: severe, neural_compression: true, spondylolisthesis_grade: 1}
      requests:
        - stage: 1
          setting: inpatient
          length_of_stay_days: 2
          procedures:
            - {code: "22612", levels: [L4-5]}
    expect:
      lines:
        "1:22612:L4-5": {verdict: not_medically_necessary, basis: criterion_unmet, missing: [exam.motor_deficit]}
        "1:22612:L3-4": {verdict: medically_necessary}
      stages:
        1: not_medically_necessary
      admissions:
        1: {verdict: medically_necessary, supported_days: 5}
    """)


def _closing(output: str) -> str:
    return output.rstrip("\n").splitlines()[-1]


def test_shipped_tests_pass_with_full_coverage(run_cli):
    result = run_cli("test", "--coverage", "--threshold", "100")
    assert result.exit_code == 0, result.output
    last = _closing(result.output)
    passed, failed = last.split(", ")
    assert failed == "0 failed" and int(passed.split()[0]) >= 59
    assert "rule coverage:" in result.output and "(100.0%)" in result.output
    assert "NOT FIRED" not in result.output and "NEVER" not in result.output
    # states the rules cannot produce are shown as such, not as gaps
    assert "fusion_in_stage" in result.output


def test_failure_shows_a_diff_and_the_rules(run_cli, tmp_path):
    bad = tmp_path / "wrong.yaml"
    bad.write_text(FAILING, encoding="utf-8")
    result = run_cli("test", str(bad), str(PASSING))
    assert result.exit_code == 5
    out = result.output
    assert _closing(out) == "1 passed, 1 failed"
    assert f"FAIL {bad}: a deliberately wrong expectation" in out
    assert "- expected {verdict: not_medically_necessary, basis: criterion_unmet, missing: [exam.motor_deficit]}" in out
    assert "+ actual   {verdict: medically_necessary, basis: criteria_met, missing: []}" in out
    assert "rules: verdict.met" in out
    assert "the case has no such line; its lines are 1:22612:L4-5" in out
    assert "stage 1" in out and "admission of stage 1" in out
    assert "supported_days: 2" in out


def test_json_format_and_closing_line_on_stderr(run_cli, tmp_path):
    bad = tmp_path / "wrong.yaml"
    bad.write_text(FAILING, encoding="utf-8")
    result = run_cli("test", str(bad), "--format", "json")
    assert result.exit_code == 5
    data = json.loads(result.stdout)
    assert data["passed"] == 0 and data["failed"] == 1
    kinds = {m["kind"] for m in data["tests"][0]["mismatches"]}
    assert kinds == {"line", "stage", "admission"}
    assert _closing(result.stderr) == "0 passed, 1 failed"


def test_threshold_fails_below_the_percentage(run_cli):
    result = run_cli("test", str(PASSING), "--threshold", "90")
    assert result.exit_code == 5
    assert "below the threshold 90%" in result.output
    assert _closing(result.output) == "1 passed, 0 failed"


def test_broken_test_files_fail_with_their_messages(run_cli, tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text(FAILING.replace("expect:\n  lines:", "expect:\n  line:"), encoding="utf-8")
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(FAILING.replace("age: 50", "age: fifty"), encoding="utf-8")
    result = run_cli("test", str(typo), str(invalid))
    assert result.exit_code == 5
    assert "expect.line: unknown key" in result.output
    assert "patient.age" in result.output
    assert _closing(result.output) == "0 passed, 2 failed"


def test_no_tests_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("test", str(tmp_path))
    assert result.exit_code == 2


def test_static_criterion_states(kb):
    from engine.authoring.coverage import possible_criteria

    states = possible_criteria(kb.program)
    assert states["instability"] == ["met", "unmet", "undocumented"]
    # met and unmet are complements for these: a line always has one or the other
    assert states["span_fits"] == ["met", "unmet"]
    assert states["fusion_in_stage"] == ["met", "unmet"]
