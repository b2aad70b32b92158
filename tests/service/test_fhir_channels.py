"""PAS, CRD and DTR through the ASGI test client: the bundles of tests/fhir round-trip through
$submit and $inquire; the hook examples of this folder through CRD; DTR questions until done."""
from __future__ import annotations

import json

import pytest
from conftest import FHIR, HERE

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

pytest.importorskip("fhir.resources")

BUNDLES = sorted(FHIR.glob("*.bundle.json"))
FHIR_JSON = {"Content-Type": "application/fhir+json"}
X12_306 = "https://codesystem.x12.org/005010/306"
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode"
COVERAGE_INFO = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"


def _claim(path):
    data = json.loads(path.read_text())
    return next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Claim")


def _parts(extension):
    out = {}
    for part in extension["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        out.setdefault(part["url"], []).append(value)
    return out


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name)
def test_pas_submit_and_inquire_round_trip(client, path):
    from engine.fhir.models import validate_resource

    body = path.read_bytes()
    submitted = client.post("/fhir/Claim/$submit", content=body, headers=FHIR_JSON)
    assert submitted.status_code == 200 and submitted.headers["content-type"] == "application/fhir+json"
    answer = submitted.json()
    assert validate_resource(answer) == []
    response = answer["entry"][0]["resource"]
    assert response["resourceType"] == "ClaimResponse"
    claim = _claim(path)
    assert [i["itemSequence"] for i in response["item"]] == [i["sequence"] for i in claim["item"]]
    for item in response["item"] + response.get("addItem", []):
        review = next(e for e in item["adjudication"][0]["extension"] if e["url"] == REVIEW_ACTION)
        (code,) = _parts(review)[REVIEW_ACTION_CODE]
        assert code["coding"][0]["system"] == X12_306 and code["coding"][0]["code"] in {"A1", "A2", "A3", "A4"}
    local = {e["fullUrl"].split("/fhir/", 1)[1] for e in answer["entry"]}
    for key in ("patient", "insurer", "requestor"):
        if "reference" in response.get(key, {}):
            assert response[key]["reference"] in local  # every reference resolves inside the answer
    inquired = client.post("/fhir/Claim/$inquire", content=body, headers=FHIR_JSON)
    assert inquired.status_code == 200 and inquired.json() == answer
    read = client.get(f"/fhir/ClaimResponse/{response['id']}")
    assert read.status_code == 200 and read.json() == response
    stored = client.get("/api/v1/decisions", params={"channel": "pas"}).json()["items"]
    assert len(stored) == 1


def test_pas_admissions_are_adjudicated_items(client):
    answer = client.post("/fhir/Claim/$submit", content=(FHIR / "reference-case.bundle.json").read_bytes(),
                         headers=FHIR_JSON).json()
    response = answer["entry"][0]["resource"]
    stays = response["addItem"]
    assert [s["itemSequence"] for s in stays] == [[1, 2, 3], list(range(4, 14))]
    codes = [_parts(next(e for e in s["adjudication"][0]["extension"] if e["url"] == REVIEW_ACTION))
             [REVIEW_ACTION_CODE][0]["coding"][0]["code"] for s in stays]
    assert codes == ["A3", "A4"]  # stage 1's stay follows its denied lines; stage 2's is pended
    questionnaire = next(e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == "Questionnaire")
    for item in questionnaire["item"]:
        assert item["linkId"] not in item["text"]  # questions are words, the field path is the linkId


def test_pas_errors_are_operation_outcomes(client):
    case = client.post("/fhir/Claim/$submit", content=(FHIR / "fusion-met.yaml").read_bytes(), headers=FHIR_JSON)
    assert case.status_code in (400, 422) and case.json()["resourceType"] == "OperationOutcome"
    bundle = json.loads((FHIR / "fusion-met.bundle.json").read_text())
    bundle["entry"][0]["resource"]["item"][0]["productOrService"] = {"text": "a fusion"}
    bad = client.post("/fhir/Claim/$submit", content=json.dumps(bundle), headers=FHIR_JSON)
    assert bad.status_code == 422
    issues = bad.json()["issue"]
    assert any("productOrService" in i["diagnostics"] for i in issues)
    unknown = json.loads((FHIR / "fusion-met.bundle.json").read_text())
    unknown["entry"][0]["resource"]["identifier"] = [{"system": "urn:x", "value": "never-sent"}]
    missing = client.post("/fhir/Claim/$inquire", content=json.dumps(unknown), headers=FHIR_JSON)
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"
    assert client.post("/fhir/Claim/$inquire", content=b"[]", headers=FHIR_JSON).status_code == 422
    assert client.get("/fhir/ClaimResponse/none").json()["resourceType"] == "OperationOutcome"


def test_crd_discovery(client):
    services = client.get("/cds-services").json()["services"]
    assert [s["hook"] for s in services] == ["order-sign", "order-select", "appointment-book"]
    assert all(s["id"] == f"warrant-{s['hook']}" and "patient" in s["prefetch"] for s in services)


def _hook(client, name, service="warrant-order-sign"):
    return client.post(f"/cds-services/{service}", content=(HERE / name).read_bytes(),
                       headers={"Content-Type": "application/json"})


def test_crd_satisfied_when_the_record_meets_the_policy(client):
    from engine.fhir.models import validate_resource

    got = _hook(client, "crd-order-sign-fusion.json")
    assert got.status_code == 200
    answer = got.json()
    assert len(answer["cards"]) == len(answer["systemActions"]) == 3
    assert all(card["indicator"] == "info" and len(card["summary"]) <= 140 for card in answer["cards"])
    for action in answer["systemActions"]:
        assert action["type"] == "update" and validate_resource(action["resource"]) == []
        info = _parts(next(e for e in action["resource"]["extension"] if e["url"] == COVERAGE_INFO))
        assert info["pa-needed"] == ["satisfied"] and info["covered"] == ["covered"]
        assert info["satisfied-pa-id"] == info["coverage-assertion-id"]
        assert "doc-needed" not in info
    decision_id = info["coverage-assertion-id"][0]
    stored = client.get(f"/api/v1/decisions/{decision_id}").json()
    assert stored["channel"] == "crd" and stored["outcome"] == "approved"


def test_crd_asks_for_missing_documentation(client):
    answer = _hook(client, "crd-order-sign-no-exam.json").json()
    first = answer["cards"][0]
    assert first["indicator"] == "warning" and "documentation" in first["summary"]
    info = _parts(next(e for e in answer["systemActions"][0]["resource"]["extension"] if e["url"] == COVERAGE_INFO))
    assert info["pa-needed"] == ["auth-needed"] and info["doc-needed"] == ["clinical"]
    assert info["questionnaire"][0].endswith(f"warrant-dtr-{info['coverage-assertion-id'][0]}")


def test_crd_order_select_decides_the_selection(client):
    answer = _hook(client, "crd-order-select-fusion.json", "warrant-order-select").json()
    assert len(answer["cards"]) == 1 and answer["cards"][0]["summary"].startswith("22633")


def test_crd_errors(client):
    assert _hook(client, "crd-order-sign-fusion.json", "warrant-nothing").status_code == 404
    empty = client.post("/cds-services/warrant-order-sign", json={"hook": "order-sign", "context": {}})
    assert empty.status_code == 422 and empty.json()["error"]["findings"][0]["path"] == "context.draftOrders"
    wrong = client.post("/cds-services/warrant-order-sign", json={"hook": "order-select", "context": {}})
    assert wrong.status_code == 422


def _package(client, **param):
    name, value = next(iter(param.items()))
    return client.post("/fhir/Questionnaire/$questionnaire-package", headers=FHIR_JSON,
                       json={"resourceType": "Parameters", "parameter": [{"name": name, **value}]})


def test_dtr_package_and_adaptive_questions_until_decided(client):
    crd = _hook(client, "crd-order-sign-no-exam.json").json()
    info = _parts(next(e for e in crd["systemActions"][0]["resource"]["extension"] if e["url"] == COVERAGE_INFO))
    package = _package(client, context={"valueString": info["coverage-assertion-id"][0]})
    assert package.status_code == 200
    full, adaptive = [p["resource"]["entry"][0]["resource"] for p in package.json()["parameter"]]
    assert [i["linkId"] for i in full["item"]] == ["exam.correlates_with_imaging"]
    assert adaptive["url"] == info["questionnaire"][0] and "item" not in adaptive
    qr = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
          "contained": [{**adaptive, "id": "q"}], "questionnaire": "#q"}
    asked = client.post("/fhir/Questionnaire/$next-question", json=qr, headers=FHIR_JSON)
    assert asked.status_code == 200
    qr = asked.json()
    assert qr["status"] == "in-progress"
    (question,) = qr["contained"][0]["item"]
    assert question["linkId"] == "exam.correlates_with_imaging" and question["type"] == "boolean"
    qr["item"] = [{"linkId": question["linkId"], "answer": [{"valueBoolean": True}]}]
    done = client.post("/fhir/Questionnaire/$next-question", json=qr, headers=FHIR_JSON).json()
    assert done["status"] == "completed" and len(done["contained"][0]["item"]) == 1
    latest = client.get("/api/v1/decisions", params={"channel": "dtr"}).json()["items"][0]
    assert latest["outcome"] == "approved"


def test_dtr_stops_when_the_answer_settles_it_otherwise(client):
    crd = _hook(client, "crd-order-sign-no-exam.json").json()
    info = _parts(next(e for e in crd["systemActions"][0]["resource"]["extension"] if e["url"] == COVERAGE_INFO))
    adaptive = _package(client, context={"valueString": info["coverage-assertion-id"][0]}).json()
    adaptive = adaptive["parameter"][-1]["resource"]["entry"][0]["resource"]
    qr = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "contained": [{**adaptive, "id": "q"}],
          "questionnaire": "#q", "item": [{"linkId": "exam.correlates_with_imaging", "answer": [{"valueBoolean": False}]}]}
    done = client.post("/fhir/Questionnaire/$next-question", json=qr, headers=FHIR_JSON).json()
    assert done["status"] == "completed"
    latest = client.get("/api/v1/decisions", params={"channel": "dtr"}).json()["items"][0]
    assert latest["outcome"] == "denied"


def test_dtr_package_from_orders(client):
    hook = json.loads((HERE / "crd-order-sign-no-exam.json").read_text())
    orders = [e["resource"] for e in hook["context"]["draftOrders"]["entry"]]
    params = [{"name": "order", "resource": o} for o in orders]
    params += [{"name": "referenced", "resource": r} for r in hook["prefetch"].values()]
    got = client.post("/fhir/Questionnaire/$questionnaire-package", headers=FHIR_JSON,
                      json={"resourceType": "Parameters", "parameter": params})
    assert got.status_code == 200
    full = got.json()["parameter"][0]["resource"]["entry"][0]["resource"]
    assert [i["linkId"] for i in full["item"]] == ["exam.correlates_with_imaging"]
    assert client.get("/api/v1/decisions", params={"channel": "dtr"}).json()["items"]


def test_dtr_errors(client):
    assert _package(client, context={"valueString": "0" * 32}).status_code == 404
    nothing = client.post("/fhir/Questionnaire/$questionnaire-package", headers=FHIR_JSON,
                          json={"resourceType": "Parameters", "parameter": []})
    assert nothing.status_code == 422 and nothing.json()["resourceType"] == "OperationOutcome"
    bare = client.post("/fhir/Questionnaire/$next-question", headers=FHIR_JSON,
                       json={"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    assert bare.status_code == 422
    assert client.post("/fhir/Questionnaire/$next-question", headers=FHIR_JSON,
                       json={"resourceType": "Patient"}).status_code == 422


def test_minimal_fields_adapter_reads_both_shapes():
    from engine.service.dtr import minimal_fields

    today = {"minimal_sets": [{"size": 1, "facts": [{"fact": "f(x)", "field": "exam.motor_deficit",
                                                      "value": True, "text": "..."}]}]}
    reworked = {"minimal_sets": [{"size": 2, "facts": [{"field": "a.b", "op": ">=", "value": 3},
                                                        {"field": "c", "op": "=", "value": "x"}],
                                  "unblocks": ["1:22633:L4-5"]}]}
    assert minimal_fields(today) == [(1, ["exam.motor_deficit"])]
    assert minimal_fields(reworked) == [(2, ["a.b", "c"])]
    assert minimal_fields({"minimal_sets": []}) == []


def test_crd_appointment_book_decides_the_orders_the_appointments_are_based_on(client):
    hook = json.loads((HERE / "crd-order-sign-fusion.json").read_text())
    orders = [e["resource"] for e in hook["context"].pop("draftOrders")["entry"]]
    appointment = {"resourceType": "Appointment", "id": "visit", "status": "proposed",
                   "basedOn": [{"reference": f"ServiceRequest/{orders[0]['id']}"}],
                   "participant": [{"actor": {"reference": "Patient/pat-fusion-met"}, "status": "accepted"}]}
    hook["hook"] = "appointment-book"
    hook["context"]["appointments"] = {"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": appointment}]}
    hook["prefetch"]["orders"] = {"resourceType": "Bundle", "type": "searchset",
                                  "entry": [{"resource": o} for o in orders]}
    got = client.post("/cds-services/warrant-appointment-book", json=hook)
    assert got.status_code == 200
    (card,) = got.json()["cards"]
    assert card["summary"].startswith("22633 at L4-5")


def test_fhir_inputs_are_validated(client):
    hook = json.loads((HERE / "crd-order-sign-fusion.json").read_text())
    hook["context"]["draftOrders"]["entry"][0]["resource"]["intent"] = 42
    bad_order = client.post("/cds-services/warrant-order-sign", json=hook)
    assert bad_order.status_code == 422
    (finding,) = bad_order.json()["error"]["findings"]
    assert finding["path"] == "ServiceRequest/order-1" and finding["message"].startswith("intent:")
    bad_params = _package(client, context={"valueString": "x", "valueBoolean": True})
    assert bad_params.status_code == 422 and bad_params.json()["resourceType"] == "OperationOutcome"
