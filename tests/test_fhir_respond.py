"""`warrant decide BUNDLE --format fhir`: a PAS-shaped ClaimResponse and a DTR-style Questionnaire."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("fhir.resources.R4B", reason="the FHIR extra (warrant[fhir]) is not installed")

from tests.conftest import REFERENCE, ROOT  # noqa: E402

FHIR = ROOT / "tests" / "fhir"
BUNDLES = sorted(FHIR.glob("*.bundle.json"))
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode"
X12_306 = "https://codesystem.x12.org/005010/306"
LINE_EXT = "http://warrant.example/fhir/StructureDefinition/line-determination"
ACTIONS = {"medically_necessary": "A1", "not_medically_necessary": "A3", "cannot_be_determined": "A4"}


def _respond(run_cli, path):
    result = run_cli("decide", str(path), "--format", "fhir")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _sub(ext, name):
    return [e for e in ext["extension"] if e["url"] == name]


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name)
def test_response_validates_and_answers_every_item(run_cli, kb, path):
    from fhir.resources.R4B.bundle import Bundle

    from engine.decide.decision import decide
    from engine.inputs import open_session

    answer = _respond(run_cli, path)
    Bundle.model_validate(answer)  # the whole answer is valid FHIR R4 (R4B models)
    assert answer["type"] == "collection"
    (response,) = _resources(answer, "ClaimResponse")
    assert response["use"] == "preauthorization"
    request = json.loads(path.read_text())
    claim = next(e["resource"] for e in request["entry"] if e["resource"]["resourceType"] == "Claim")
    assert response["request"]["reference"] == f"Claim/{claim['id']}"
    # the Claim's patient is copied into the answer and the reference points at that entry
    (patient,) = [e["resource"] for e in answer["entry"]
                  if f"{e['resource']['resourceType']}/{e['resource'].get('id')}" == response["patient"]["reference"]]
    assert patient["resourceType"] == "Patient" and response["created"] == claim["created"]
    assert [i["itemSequence"] for i in response["item"]] == [i["sequence"] for i in claim["item"]]

    session = open_session(kb, path)
    decision = decide(session)
    verdict_of = {f"{s['stage']}:{ln['code']}:{ln['level'] or ln['side'] or '-'}": ln["verdict"]
                  for s in decision["stages"] for ln in s["lines"]}
    pended = False
    for item in response["item"]:
        (adjudication,) = item["adjudication"]
        (review,) = [e for e in adjudication["extension"] if e["url"] == REVIEW_ACTION]
        (code,) = _sub(review, REVIEW_ACTION_CODE)
        action = code["valueCodeableConcept"]["coding"][0]
        assert action["system"] == X12_306
        lines = [_sub(e, "line")[0]["valueString"] for e in item["extension"] if e["url"] == LINE_EXT]
        verdicts = {verdict_of[line] for line in lines}
        expected = "A4" if "cannot_be_determined" in verdicts else \
            ACTIONS[verdicts.pop()] if len(verdicts) == 1 else "A2"
        assert action["code"] == expected
        pended = pended or expected == "A4"
        for ext in item["extension"]:
            reasons = _sub(ext, "reason")
            line = _sub(ext, "line")[0]["valueString"]
            assert len(reasons) == len(next(ln["reasons"] for s in decision["stages"] for ln in s["lines"]
                                            if f"{s['stage']}:{ln['code']}:{ln['level'] or ln['side'] or '-'}"
                                            == line))
        notes = {n["number"]: n["text"] for n in response.get("processNote", [])}
        assert item["noteNumber"] and all(n in notes for n in item["noteNumber"])
    assert response["outcome"] == ("partial" if pended else "complete")
    covered = {_sub(e, "line")[0]["valueString"] for i in response["item"] for e in i["extension"]}
    assert covered == set(verdict_of)  # every Warrant line sits under its Claim item


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name)
def test_questionnaire_asks_exactly_for_the_missing_fields(run_cli, kb, path):
    from engine.decide.decision import decide
    from engine.inputs import open_session

    answer = _respond(run_cli, path)
    fields = [d["field"] for d in decide(open_session(kb, path))["documentation_requests"]]
    questionnaires = _resources(answer, "Questionnaire")
    if not fields:
        assert questionnaires == [] and _resources(answer, "CommunicationRequest") == []
        return
    (questionnaire,) = questionnaires
    assert [item["linkId"] for item in questionnaire["item"]] == fields
    (ask,) = _resources(answer, "CommunicationRequest")
    assert ask["payload"][0]["contentReference"]["reference"] == f"Questionnaire/{questionnaire['id']}"
    (response,) = _resources(answer, "ClaimResponse")
    assert response["communicationRequest"] == [{"reference": f"CommunicationRequest/{ask['id']}"}]


def test_reference_questionnaire_items_have_answer_types(run_cli):
    answer = _respond(run_cli, FHIR / "reference-case.bundle.json")
    (questionnaire,) = _resources(answer, "Questionnaire")
    items = {item["linkId"]: item for item in questionnaire["item"]}
    assert items["exam.correlates_with_imaging"]["type"] == "boolean"
    assert items["conservative_care.duration_weeks"]["type"] == "decimal"
    outcome = items["conservative_care.outcome"]
    assert outcome["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in outcome["answerOption"]] == ["failed", "improved", "ongoing"]
    levels = items["requests[1].procedures[1].levels"]
    assert levels["type"] == "string" and levels["repeats"] is True
    assert "Claim item 5" in levels["text"]  # 63052 is the fifth item of the Claim
    translation = items["imaging[].segments.L4-5.translation_mm"]
    assert translation["code"] == [{"system": "http://warrant.example/fhir/CodeSystem/spine-finding",
                                    "code": "translation_mm"}]


def test_reference_review_actions(run_cli):
    answer = _respond(run_cli, FHIR / "reference-case.bundle.json")
    (response,) = _resources(answer, "ClaimResponse")
    actions = {}
    for item in response["item"]:
        review = next(e for e in item["adjudication"][0]["extension"] if e["url"] == REVIEW_ACTION)
        actions[item["itemSequence"]] = _sub(review, REVIEW_ACTION_CODE)[0]["valueCodeableConcept"]["coding"][0]["code"]
        assert _sub(review, "number")[0]["valueString"].startswith(response["preAuthRef"])
    # CRITERIA.md §5: stage 1 denied; 63052/63053 pended for levels; 22633/22634 pended for documents
    assert actions == {1: "A3", 2: "A3", 3: "A3", 4: "A3", 5: "A4", 6: "A4", 7: "A3", 8: "A3",
                       9: "A4", 10: "A4", 11: "A4", 12: "A3", 13: "A4"}
    assert response["outcome"] == "partial"
    texts = [n["text"] for n in response["processNote"]]
    assert any(t.startswith("[stenosis.no_compression]") and "sources:" in t for t in texts)


def test_response_is_deterministic(run_cli):
    path = FHIR / "si-joint-bilateral-met.bundle.json"
    first = run_cli("decide", str(path), "--format", "fhir").stdout
    second = run_cli("decide", str(path), "--format", "fhir").stdout
    assert first == second
    answer = json.loads(first)
    assert answer["timestamp"] == "2026-09-10T00:00:00Z"  # from Claim.created, not the clock


def test_fhir_format_needs_a_bundle(run_cli):
    result = run_cli("decide", str(REFERENCE), "--format", "fhir")
    assert result.exit_code == 2
    assert "--format fhir answers FHIR bundles" in result.stderr


def test_several_bundles_give_json_lines_and_fail_on_deny(run_cli):
    result = run_cli("decide", str(FHIR / "fusion-met.bundle.json"),
                     str(FHIR / "reference-case.bundle.json"), "--format", "fhir", "--fail-on-deny")
    assert result.exit_code == 10  # the reference case denies stage 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["resourceType"] == "Bundle" for line in lines)


def test_report_accepts_a_bundle(run_cli):
    result = run_cli("report", str(FHIR / "fusion-met.bundle.json"))
    assert result.exit_code == 0, result.stderr
    assert "t-fusion-met" in result.stdout
