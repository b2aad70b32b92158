"""Policies as data (POLICIES.md): the table, checked overlays, selection per stage, what a
decision records, compare and diff over policies."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, ROOT

CASE = """\
format: warrant-case/1
case_id: t-policy
{top}patient: {{smoking: current, red_flags: []}}
conservative_care: {{physical_therapy_weeks: 8, duration_weeks: 14, outcome: failed}}
exam: {{correlates_with_imaging: true}}
imaging:
  - id: mri
    modality: mri
    segments:
      L4-5: {{central_stenosis: severe, neural_compression: true, spondylolisthesis_grade: 1}}
requests:
  - stage: 1
{first}    procedures: [{{code: "22633", levels: [L4-5]}}]
  - stage: 2
{second}    procedures: [{{code: "63047", levels: [L4-5]}}]
"""


def _case(tmp_path: Path, top: str = "", first: str = "", second: str = "") -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(top=top, first=first, second=second), encoding="utf-8")
    return path


def _decision(run_cli, *args) -> dict:
    result = run_cli("decide", *map(str, args), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_policy_is_reference_and_recorded_per_stage(run_cli, tmp_path):
    decision = _decision(run_cli, REFERENCE, "--as-of", "2026-12-01")
    for stage in decision["stages"]:
        assert stage["policy"]["id"] == "reference" and stage["policy"]["version"] == "1.0"
        assert stage["policy"]["effective_from"] == "2026-01-01" and stage["policy"]["as_of"] == "2026-12-01"
        assert stage["policy"]["digest"].startswith("sha256:")


def test_stages_choose_versions_by_their_own_dates(run_cli, tmp_path):
    case = _case(tmp_path, first="    date_of_service: 2027-02-01\n", second="    date_of_service: 2026-12-31\n")
    stages = _decision(run_cli, case)["stages"]
    assert [s["policy"]["version"] for s in stages] == ["1.1", "1.0"]
    assert [s["policy"]["as_of_from"] for s in stages] == ["date_of_service", "date_of_service"]
    assert stages[0]["policy"]["digest"] != stages[1]["policy"]["digest"]


def test_case_policy_and_the_command_line_override(run_cli, tmp_path):
    case = _case(tmp_path, top="policy: strict\nreceived: 2026-08-01\n")
    decision = _decision(run_cli, case)
    assert {s["policy"]["id"] for s in decision["stages"]} == {"strict"}
    assert decision["stages"][0]["lines"][0]["verdict"] == "not_medically_necessary"   # smoker, 14 weeks
    pinned = _decision(run_cli, case, "--policy", "reference@1.0")
    assert {s["policy"]["id"] for s in pinned["stages"]} == {"reference"}
    assert pinned["stages"][0]["lines"][0]["verdict"] == "medically_necessary"


@pytest.mark.parametrize("args, message", [
    (["--policy", "nope"], "policy: unknown policy 'nope'"),
    (["--policy", "reference@9.9"], "policy: policy 'reference' has no version '9.9'"),
    (["--as-of", "2025-06-01"], "policy: 2025-06-01 is before policy 'reference' took effect"),
])
def test_policy_errors_are_case_errors(run_cli, tmp_path, args, message):
    result = run_cli("decide", str(_case(tmp_path)), *args)
    assert result.exit_code == 3
    assert message in result.stderr and "case.yaml:1:1: policy:" in result.stderr


def test_a_stage_date_before_the_policy_points_at_the_field(run_cli, tmp_path):
    case = _case(tmp_path, top="policy: strict\n", second="    date_of_service: 2026-03-01\n")
    result = run_cli("decide", str(case))
    assert result.exit_code == 3
    assert "case.yaml:16:22: policy: 2026-03-01 is before policy 'strict' took effect" in result.stderr


def test_check_fails_on_an_overlay_replacing_what_the_base_lacks(run_cli, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("corpus", "tests", "__pycache__"))
    overlay = kb / "policies" / "reference" / "1.1" / "relief.dl"
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("percent, 75)", "percent, 70)"), encoding="utf-8")
    result = run_cli("check", "--kb", str(kb))
    assert result.exit_code == 4
    assert "policies/reference/1.1/relief.dl:5:13: replaces threshold(si_injection_relief_percent, 70)" \
        in result.stderr


def test_rules_lists_a_policys_effective_rules_with_their_files(run_cli):
    result = run_cli("rules", "--policy", "strict@1.0", "--format", "json")
    assert result.exit_code == 0, result.output
    rules = {r["id"]: r for r in json.loads(result.stdout)}
    assert rules["strict.si_injections"]["location"].startswith("kb/policies/strict/1.0/strict.dl")
    assert "si.injection" not in rules and "si.no_injection" in rules
    assert rules["strict.care_fusion_weeks"]["head"] == "care_threshold(conservative_care_fusion, duration_weeks, 24)"


def test_compare_names_the_criteria_and_constants_behind_a_difference(run_cli, tmp_path):
    case = _case(tmp_path, top="received: 2026-08-01\n")
    result = run_cli("compare", str(case), "--policy", "reference@1.0", "--policy", "strict", "--format", "json")
    assert result.exit_code == 0, result.output
    line = next(d for d in json.loads(result.stdout)["differing"] if d["line"] == "1:22633:L4-5")
    criteria = {c["criterion"]: c for c in line["criteria"]}
    assert criteria["nicotine_free"]["states"] == {"reference@1.0": None, "strict": "unmet"}
    care = criteria["conservative_care_fusion"]
    assert care["states"] == {"reference@1.0": "met", "strict": "unmet"}
    facts = {b["fact"] for b in care["behind"] if b["kind"] == "fact"}
    assert "care_threshold(conservative_care_fusion, duration_weeks, 24)" in facts
    text = run_cli("compare", str(case), "--policy", "reference@1.0", "--policy", "strict").stdout
    assert "strict asks for at least 6 weeks of physical therapy and 24 weeks" in text


def test_diff_over_policy_versions(run_cli):
    result = run_cli("diff", "--base", "reference@1.0", "--head", "reference@1.1",
                     str(ROOT / "kb" / "tests" / "si-joint-bilateral-met.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["base"]["policy"] == "reference@1.0" and data["head"]["policy"] == "reference@1.1"
    assert any(c["base"] == "threshold(si_injection_relief_percent, 75)" for c in data["kb_changes"]["facts"])


def test_batch_resume_refuses_output_of_another_policy_digest(run_cli, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", str(REFERENCE), "-o", str(out), "--as-of", "2026-12-01", "-q").exit_code == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["stages"][0]["policy"]["version"] == "1.0"
    digest = record["stages"][0]["policy"]["digest"]
    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace(f'"as_of_from":"option","digest":"{digest}"',
                                f'"as_of_from":"option","digest":"sha256:{"0" * 64}"'), encoding="utf-8")
    result = run_cli("batch", str(REFERENCE), "-o", str(out), "--resume", "-q")
    assert result.exit_code == 2 and "another knowledge base or policy" in result.stderr


def test_report_and_fhir_answer_name_the_policy(run_cli, tmp_path):
    report = run_cli("report", str(REFERENCE), "--policy", "strict", "--as-of", "2026-09-01")
    assert report.exit_code == 0, report.output
    assert "| Policy | strict, version 1.0 |" in report.stdout          # the letter's header
    assert "Policy of stage 1: `strict` `1.0` `sha256:" in report.stdout  # and its audit appendix
    bundle = ROOT / "tests" / "fhir" / "fusion-met.bundle.json"
    answer = run_cli("decide", str(bundle), "--format", "fhir", "--as-of", "2026-09-01")
    assert answer.exit_code == 0, answer.output
    text = answer.stdout
    assert '"url": "policy"' in text and '"valueString": "reference"' in text
    assert '"url": "policyAsOf"' in text and '"valueDate": "2026-09-01"' in text


def test_fhir_import_maps_hba1c_diabetes_and_the_dates(run_cli, tmp_path):
    import copy

    pytest.importorskip("fhir.resources.R4B", reason="the FHIR extra (warrant[fhir]) is not installed")
    bundle = json.loads((ROOT / "tests" / "fhir" / "fusion-met.bundle.json").read_text(encoding="utf-8"))
    smoking = next(e for e in bundle["entry"] if e["resource"].get("id") == "smoking")
    lab = copy.deepcopy(smoking)
    lab["fullUrl"] = "http://example.org/fhir/Observation/hba1c"
    lab["resource"].pop("valueCodeableConcept")
    lab["resource"].update(id="hba1c", code={"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                           valueQuantity={"value": 7.9, "unit": "%", "system": "http://unitsofmeasure.org",
                                          "code": "%"})
    condition = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"].get("id") == "no-radiculopathy"))
    condition["fullUrl"] = "http://example.org/fhir/Condition/t2dm"
    condition["resource"].pop("verificationStatus")
    condition["resource"].update(id="t2dm", code={"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                             "code": "E11.9"}]})
    bundle["entry"] += [lab, condition]
    claim = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")
    for item in claim["item"]:
        item["servicedDate"] = "2026-09-01"
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    result = run_cli("import", "fhir", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    case = json.loads(result.stdout)
    assert case["labs"] == {"hba1c_percent": 7.9} and case["patient"]["diabetes"] is True
    assert case["received"] == claim["created"][:10]
    served = "2026-09-01"
    assert case["requests"][0]["date_of_service"] == served
    decision = _decision(run_cli, path, "--policy", "strict")
    assert decision["stages"][0]["policy"]["as_of"] == served          # the stage's date of service
    line = decision["stages"][0]["lines"][0]
    assert {c["criterion"]: c["state"] for c in line["criteria"]}["glycemic_control"] == "met"   # 7.9 < 8.0


def test_a_policy_program_is_cached_by_its_digest(tmp_path, monkeypatch):
    from engine.knowledge.base import KnowledgeBase

    monkeypatch.setenv("WARRANT_CACHE_DIR", str(tmp_path / "cache"))
    strict = KnowledgeBase.load(ROOT / "kb", policy="strict@1.0")
    cached = list((tmp_path / "cache").glob(f"{strict.digest[7:]}-*.kbcache"))
    assert len(cached) == 1                               # written, overlay changes and all
    again = KnowledgeBase.load(ROOT / "kb", policy="strict@1.0")
    assert [str(c.clause) for c in again.changes] == [str(c.clause) for c in strict.changes]
    assert again.policy.key == "strict@1.0" and again.digest == strict.digest


def test_stages_of_two_versions_read_as_each_versions_own_decision(run_cli, tmp_path):
    """Each version's session decides only the stages it is chosen for; what it writes for them
    is what that version alone decides, and the citations are those of the reasons shown."""
    case = _case(tmp_path, first="    date_of_service: 2027-02-01\n", second="    date_of_service: 2026-12-31\n")
    mixed = _decision(run_cli, case)
    alone = {version: _decision(run_cli, case, "--policy", f"reference@{version}") for version in ("1.1", "1.0")}
    for stage in mixed["stages"]:
        own = next(s for s in alone[stage["policy"]["version"]]["stages"] if s["stage"] == stage["stage"])
        assert stage["lines"] == own["lines"] and stage["verdict"] == own["verdict"]
    cited = {c for stage in mixed["stages"] for line in stage["lines"] for r in line["reasons"] for c in r["citations"]}
    cited |= {c for stage in mixed["stages"] for r in stage.get("admission", {}).get("reasons", ())
              for c in r["citations"]}
    assert [c["id"] for c in mixed["citations"]] == sorted(cited)
