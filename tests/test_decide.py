"""`warrant decide`: the reference determinations of CRITERIA.md §5 and the DESIGN.md §4 contract."""
from __future__ import annotations

import json

import pytest

from tests.conftest import REFERENCE, ROOT

EXPECTED = {  # CRITERIA.md §5
    (1, "22558", "L2-3"): ("not_medically_necessary", "criterion_unmet"),
    (1, "22585", "L3-4"): ("not_medically_necessary", "criterion_unmet"),
    (1, "22853", "L2-3"): ("not_medically_necessary", "dependent"),
    (1, "22853", "L3-4"): ("not_medically_necessary", "dependent"),
    (2, "22830", None): ("not_medically_necessary", "incidental"),
    (2, "63052", None): ("cannot_be_determined", "levels_not_specified"),
    (2, "63053", None): ("cannot_be_determined", "levels_not_specified"),
    (2, "22214", None): ("not_medically_necessary", "no_documented_indication"),
    (2, "22216", None): ("not_medically_necessary", "no_documented_indication"),
    (2, "22633", "L4-5"): ("cannot_be_determined", "documentation_missing"),
    (2, "22634", "L5-S1"): ("cannot_be_determined", "documentation_missing"),
    (2, "22843", None): ("cannot_be_determined", "dependent"),
    (2, "27280", None): ("not_medically_necessary", "no_documented_indication"),
    (2, "22848", None): ("cannot_be_determined", "documentation_missing"),
}


def test_reference_case_gives_exactly_the_criteria_table(reference_decision):
    got = {(s["stage"], l["code"], l["level"]): (l["verdict"], l["basis"])
           for s in reference_decision["stages"] for l in s["lines"]}
    assert got == EXPECTED
    order = [(s["stage"], l["code"], l["level"]) for s in reference_decision["stages"] for l in s["lines"]]
    assert order == list(EXPECTED)  # request order, levels in the order given


def test_reference_stages_and_admissions(reference_decision):
    stages = {s["stage"]: s for s in reference_decision["stages"]}
    assert stages[1]["verdict"] == "not_medically_necessary"
    assert stages[2]["verdict"] == "partially_medically_necessary"
    assert (stages[1]["admission"]["verdict"], stages[1]["admission"]["basis"]) == ("not_medically_necessary", "dependent")
    assert stages[1]["admission"]["requested_days"] == 3
    assert stages[2]["admission"]["verdict"] == "cannot_be_determined"
    assert stages[2]["admission"]["requested_days"] == 5


def test_reference_documentation_requests_cover_every_topic(reference_decision):
    fields = {r["field"] for r in reference_decision["documentation_requests"]}
    for topic in ["conservative_care.physical_therapy_weeks", "conservative_care.duration_weeks",
                  "conservative_care.outcome", "exam.correlates_with_imaging",
                  "imaging[].segments.L4-5.neural_compression", "imaging[].segments.L5-S1.neural_compression",
                  "imaging[].segments.L4-5.central_stenosis", "imaging[].segments.L4-5.spondylolisthesis_grade",
                  "imaging[].segments.L4-5.translation_mm", "imaging[].segments.L5-S1.angulation_deg",
                  "requests[1].procedures[1].levels", "requests[1].procedures[2].levels",
                  "imaging[].alignment.coronal_cobb_deg", "exam.deformity_correlates_with_symptoms",
                  "si_joint.*.pain_below_l5", "si_joint.*.provocative_tests.*"]:
        assert topic in fields, topic
    unblocks = {r["field"]: r["unblocks"] for r in reference_decision["documentation_requests"]}
    assert unblocks["requests[1].procedures[1].levels"] == ["2:63052:-"]
    # the instrumentation 22843 rests on those fusions, so it is unblocked by what they lack
    assert set(unblocks["conservative_care.physical_therapy_weeks"]) == {"2:22633:L4-5", "2:22634:L5-S1", "2:22843:-"}
    assert all(not r["field"].startswith("patient.red_flags") for r in reference_decision["documentation_requests"])


def test_line_entries_follow_the_contract(reference_decision, kb):
    line = reference_decision["stages"][0]["lines"][0]
    assert list(line) == ["code", "label", "level", "side", "verdict", "basis", "reasons",
                          "missing_documentation", "criteria", "proof"]
    # every criterion of the line with its state: the denial names the contradicted one
    assert {"criterion": "stenosis_compression", "role": "required", "state": "unmet"} in line["criteria"]
    assert all(set(c) == {"criterion", "role", "state"} for c in line["criteria"])
    assert line["reasons"], "a denial carries its reasons"
    for reason in line["reasons"]:
        assert set(reason) == {"rule", "text", "citations"}
        assert reason["rule"] in kb.rules_by_id
        assert all(c in kb.citations for c in reason["citations"])
    assert any("L2-3" in r["text"] and "compression" in r["text"] for r in line["reasons"])
    assert "locus.levels" not in {r["rule"] for r in line["reasons"]}  # a `%@ noreason` rule
    cited = {c["id"] for c in reference_decision["citations"]}
    assert "aans-cns-2014" in cited
    assert reference_decision["knowledge_base"]["digest"].startswith("sha256:")
    l4 = next(l for s in reference_decision["stages"] for l in s["lines"] if l["code"] == "22633")
    assert {"item", "field"} <= set(l4["missing_documentation"][0])


def test_json_output_is_deterministic_bytes(run_cli):
    first = run_cli("decide", str(REFERENCE), "--format", "json")
    second = run_cli("decide", str(REFERENCE), "--format", "json")
    assert first.exit_code == 0
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["case_id"] == "reference-two-stage-revision"


def test_several_cases_give_json_lines(run_cli, tmp_path):
    result = run_cli("decide", str(REFERENCE), str(REFERENCE), "--format", "json")
    rows = result.stdout.strip().splitlines()
    assert len(rows) == 2 and all(json.loads(r)["case_id"] for r in rows)


def test_fail_on_deny_exit_code(run_cli):
    assert run_cli("decide", str(REFERENCE), "--fail-on-deny").exit_code == 10
    assert run_cli("decide", str(REFERENCE)).exit_code == 0


def test_text_and_markdown_formats(run_cli):
    text = run_cli("decide", str(REFERENCE)).stdout
    assert "22558      L2-3" in text and "partially medically necessary" in text
    assert "_" not in text.split("\n", 1)[1]  # no identifier below the title line
    assert "  - physical therapy  (would help decide 22633 at L4-5, 22634 at L5-S1, 22843)" in text
    with_ids = run_cli("decide", str(REFERENCE), "--ids").stdout
    assert "conservative_care.physical_therapy_weeks: physical therapy  (would help decide 2:22633:L4-5" in with_ids
    markdown = run_cli("decide", str(REFERENCE), "--format", "markdown").stdout
    assert markdown.startswith("# Determination for case `reference-two-stage-revision`")
    assert "| 22633 | L4-5 | cannot be determined | documentation missing |" in markdown


def test_unknown_code_is_no_policy(run_cli, tmp_path):
    case = tmp_path / "odd.yaml"
    case.write_text("format: warrant-case/1\ncase_id: odd\nrequests:\n  - stage: 1\n    setting: outpatient\n"
                    "    procedures:\n      - {code: '99999', levels: [L4-5]}\n", encoding="utf-8")
    data = json.loads(run_cli("decide", str(case), "--format", "json").stdout)
    line = data["stages"][0]["lines"][0]
    assert (line["verdict"], line["basis"], line["level"]) == ("cannot_be_determined", "no_policy", "L4-5")
    assert line["reasons"] and "99999" in line["reasons"][0]["text"]


def test_invalid_case_exit_3_no_stdout_no_traceback(run_cli, tmp_path):
    case = tmp_path / "bad.yaml"
    case.write_text("format: warrant-case/1\ncase_id: bad\npatient: {sex: femal}\nrequests: []\n", encoding="utf-8")
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.main, ["decide", str(case)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert f"{case}:3:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_report_has_the_reference_shape(run_cli, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = run_cli("report", str(REFERENCE), "--format", fmt, "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    for words in ["Stage 1", "Not medically necessary", "Stage 2", "Partially medically necessary",
                  "Lumbar fusion", "Documentation required before approval", "Recommended approach",
                  "References", "Request documentation", "Deny", "AANS/CNS"]:
        assert words in text, words
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>")
        assert "http://" not in text and "https://" not in text and "<script" not in text


def test_report_is_deterministic(run_cli):
    assert run_cli("report", str(REFERENCE)).stdout == run_cli("report", str(REFERENCE)).stdout


def test_same_bytes_across_processes_and_hash_seeds(tmp_path):
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-m", "cli", "decide", str(REFERENCE), "--format", "json"],
                             capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
