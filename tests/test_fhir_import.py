"""FHIR R4 prior-authorization bundles in: round trips, warnings, and malformed bundles (exit 3).

Each bundle under tests/fhir/ is written by hand in the Da Vinci PAS shape and encodes the same
case as a YAML file; decided as a bundle it must give exactly the decision of the YAML case.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

pytest.importorskip("fhir.resources.R4B", reason="the FHIR extra (warrant[fhir]) is not installed")

from tests.conftest import REFERENCE, ROOT  # noqa: E402

FHIR = ROOT / "tests" / "fhir"
ROUND_TRIPS = {
    "reference-case": REFERENCE,
    "fusion-met": FHIR / "fusion-met.yaml",
    "si-joint-bilateral-met": FHIR / "si-joint-bilateral-met.yaml",
    "fusion-deformity-osteotomy-met": FHIR / "fusion-deformity-osteotomy-met.yaml",
    "fusion-instability-facet-resection": FHIR / "fusion-instability-facet-resection.yaml",
}


def _bundle(name: str) -> Path:
    return FHIR / f"{name}.bundle.json"


def _decide(kb, path: Path | str):
    from engine.decide.decision import decide
    from engine.inputs import open_session

    # the bundle carries the day received (Claim.created) and the YAML case may not: both are
    # decided as of the same day, so the policy each records is the same too
    session = open_session(kb, path, as_of=AS_OF)
    return decide(session), session


AS_OF = __import__("datetime").date(2026, 12, 1)


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_bundle_decides_exactly_like_its_yaml_case(kb, name):
    from_yaml, _ = _decide(kb, ROUND_TRIPS[name])
    from_bundle, session = _decide(kb, _bundle(name))
    assert session.imported is not None
    assert from_bundle == from_yaml  # verdicts, bases, reasons, missing fields, proofs, citations


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_import_command_writes_a_case_that_decides_the_same(run_cli, tmp_path, name):
    out = tmp_path / "case.yaml"
    result = run_cli("import", "fhir", str(_bundle(name)), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("# warrant-case/1 imported")
    a = json.loads(run_cli("decide", str(out), "--format", "json", "--as-of", "2026-12-01").stdout)
    b = json.loads(run_cli("decide", str(ROUND_TRIPS[name]), "--format", "json", "--as-of", "2026-12-01").stdout)
    assert a == b


def test_import_json_format_and_stdin(run_cli):
    text = _bundle("fusion-met").read_text()
    result = run_cli("import", "fhir", "-", "--format", "json", input=text)
    assert result.exit_code == 0
    case = json.loads(result.stdout)
    assert case["format"] == "warrant-case/1"
    assert case["case_id"] == "t-fusion-met"
    assert case["requests"][0]["procedures"][2]["code"] == "22840"  # "+22840" loses its add-on mark


def test_import_maps_each_kind_of_resource(kb):
    from engine.fhir.import_bundle import import_bundle

    data = json.loads(_bundle("si-joint-bilateral-met").read_text())
    case = import_bundle(data, "si.json", kb=kb).case
    left, right = case["si_joint"]["left"], case["si_joint"]["right"]
    assert left["diagnostic_injections"] == [{"image_guided": True, "relief_percent": 75}]
    # relief from pain scores before (10) and after (6, then 1) each injection
    assert [i["relief_percent"] for i in right["diagnostic_injections"]] == [40, 90]
    assert left["provocative_tests"]["gaenslen"] == "negative"  # from the interpretation NEG
    assert right["pain_below_l5"] is True  # SNOMED "yes"
    assert case["requests"][0]["procedures"] == [{"code": "27280", "side": "bilateral"}]  # modifier 50
    assert case["requests"][1]["procedures"] == [{"code": "27279", "side": "left"}]  # subSite left

    data = json.loads(_bundle("fusion-met").read_text())
    case = import_bundle(data, "fm.json", kb=kb).case
    assert case["patient"] == {"sex": "male", "age": 58, "smoking": "never", "red_flags": []}
    assert case["symptoms"] == {"neurogenic_claudication": True, "radiculopathy": False}  # refuted → false
    assert case["conservative_care"]["physical_therapy_weeks"] == 6  # from performedPeriod
    assert case["conservative_care"]["duration_weeks"] == 12  # first start to last end
    assert case["history"] == {"prior_fusions": [], "hardware_failure": []}  # not-done, valueBoolean false

    data = json.loads(_bundle("fusion-deformity-osteotomy-met").read_text())
    case = import_bundle(data, "d.json", kb=kb).case
    assert case["imaging"][1]["segments"]["L3-4"]["translation_mm"] == 1  # 0.1 cm
    assert [s["id"] for s in case["imaging"]] == ["mri-1", "flexext-1", "standing-1"]


def test_items_map_back_to_claim_sequences(kb):
    _, session = _decide(kb, _bundle("reference-case"))
    items = session.imported.items
    assert items[(0, 2)] == 3 and items[(1, 9)] == 13
    by_line = {ln.id: items[(ln.request, ln.procedure)] for ln in session.lines}
    assert by_line["1:22853:L2-3"] == by_line["1:22853:L3-4"] == 3  # one item, range L2-L4


# ---------------------------------------------------------------------------------- warnings
def test_unmappable_resources_become_warnings_naming_them(run_cli):
    result = run_cli("import", "fhir", str(_bundle("fusion-met")))
    assert result.exit_code == 0
    assert "warning: MedicationStatement/nsaid: MedicationStatement has no place in warrant-case/1" \
        in result.stderr
    result = run_cli("decide", str(_bundle("fusion-met")), "--format", "json")
    assert result.exit_code == 0
    assert "MedicationStatement/nsaid" in result.stderr  # decide shows them too
    json.loads(result.stdout)  # and stdout stays pure data


def _mutated(tmp_path: Path, name: str, change) -> Path:
    data = json.loads(_bundle(name).read_text())
    change(data)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def _res(data: dict, rid: str) -> dict:
    return next(e["resource"] for e in data["entry"] if e["resource"].get("id") == rid)


def test_unknown_codes_extensions_and_statuses_are_warned_about(run_cli, tmp_path):
    def change(data):
        data["entry"].append({"resource": {
            "resourceType": "Observation", "id": "bmi", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "39156-5"}]},
            "valueQuantity": {"value": 31, "code": "kg/m2"}}})
        data["entry"].append({"resource": {
            "resourceType": "Observation", "id": "old", "status": "entered-in-error",
            "code": {"coding": [{"system": "http://warrant.example/fhir/CodeSystem/spine-finding",
                                 "code": "motor_deficit"}]}, "valueBoolean": True}})
        data["entry"].append({"resource": {
            "resourceType": "Observation", "id": "pain", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
            "valueInteger": 7, "effectiveDateTime": "2024-05-01"}})
        item = _res(data, "pa-fusion-met")["item"][0]
        item["extension"] = [{"url": "http://example.org/some-extension", "valueString": "x"}]
        item["modifier"] = [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "62"}]}]

    result = run_cli("import", "fhir", str(_mutated(tmp_path, "fusion-met", change)))
    assert result.exit_code == 0
    err = result.stderr
    assert "Observation/bmi: code: observation http://loinc.org|39156-5 is not in fhir-map.yaml" in err
    assert "Observation/old: status: is 'entered-in-error'" in err
    assert "Observation/pain: partOf: a pain score counts only as part of a diagnostic injection" in err
    assert "Claim/pa-fusion-met: item[0].extension[0]: extension http://example.org/some-extension" in err
    assert "Claim/pa-fusion-met: item[0].modifier[0]: modifier" in err


def test_quantity_disagreeing_with_levels_is_warned_about(run_cli, tmp_path):
    def change(data):
        _res(data, "pa-fusion-met")["item"][0]["quantity"] = {"value": 3}

    result = run_cli("import", "fhir", str(_mutated(tmp_path, "fusion-met", change)))
    assert result.exit_code == 0
    assert "item[0].quantity: quantity 3 differs from the 1 motion segment the item names" in result.stderr


# ---------------------------------------------------------------------------------- malformed
def _set_item_code(data):
    _res(data, "pa-fusion-met")["item"][0]["productOrService"] = {
        "coding": [{"system": "http://example.org/local", "code": "X1"}]}


MALFORMED = {
    "no CPT coding": (_set_item_code, "Claim/pa-fusion-met: item[0].productOrService: has no CPT coding"),
    "unknown element": (lambda d: _res(d, "exam").update(valueBool=True),
                        "Observation/exam: valueBool: is not an element of Observation"),
    "wrong type": (lambda d: _res(d, "mri-1-slip").update(valueInteger="one"),
                   "Observation/mri-1-slip: valueInteger: input should be a valid integer"),
    "not a preauthorization": (lambda d: _res(d, "pa-fusion-met").update(use="claim"),
                               "Claim/pa-fusion-met: use: is 'claim'"),
    "bad level": (lambda d: _res(d, "mri-1-slip").update(bodySite={"coding": [
        {"system": "http://warrant.example/fhir/CodeSystem/spine-level", "code": "L9-3"}]}),
        "Observation/mri-1-slip: bodySite.coding[0].code: 'L9-3' names L9"),
    "segment finding without level": (lambda d: _res(d, "mri-1-slip").pop("bodySite"),
                                      "Observation/mri-1-slip: bodySite: spondylolisthesis_grade needs "
                                      "the motion segment"),
    "value out of range": (lambda d: _res(d, "mri-1-slip").update(valueInteger=7),
                           "Observation/mri-1-slip: valueInteger: must be at most 5, not 7 "
                           "(case field imaging[0].segments.L4-5.spondylolisthesis_grade)"),
    "contradiction": (lambda d: d["entry"].append({"resource": dict(_res(d, "exam"), id="exam2",
                                                                     valueBoolean=False)}),
                      "Observation/exam2: valueBoolean: gives exam.correlates_with_imaging = false, "
                      "but Observation/exam: valueBoolean already gives true"),
    "no Claim": (lambda d: d["entry"].pop(0), "Bundle: entry: holds no Claim"),
    "unknown resource type": (lambda d: d["entry"].append({"resource": {"resourceType": "Foo", "id": "x"}}),
                              "Foo/x: resourceType: 'Foo' is not a FHIR R4 resource type"),
    "missing status": (lambda d: _res(d, "pa-fusion-met").pop("status"), "Claim/pa-fusion-met: status:"),
    "unit": (lambda d: _res(d, "mri-1-slip").update(bodySite={"text": "L4-5"}) or d["entry"].append(
        {"resource": {"resourceType": "Observation", "id": "tr", "status": "final",
                      "code": {"coding": [{"system": "http://warrant.example/fhir/CodeSystem/spine-finding",
                                           "code": "translation_mm"}]},
                      "bodySite": {"text": "L4-5"},
                      "valueQuantity": {"value": 3, "code": "[in_i]"}}}),
        "Observation/tr: valueQuantity.code: unit '[in_i]' cannot be read"),
    "duplicate sequence": (lambda d: _res(d, "pa-fusion-met")["item"][1].update(sequence=1),
                           "Claim/pa-fusion-met: item[1].sequence: sequence 1 is already used"),
    "same line twice": (lambda d: _res(d, "pa-fusion-met")["item"][1].update(productOrService={
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "22633"}]}),
        "Claim/pa-fusion-met: item[1].bodySite: line 1:22633:L4-5 is requested twice"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bundle_exits_3_naming_resource_and_element(run_cli, tmp_path, case):
    change, expected = MALFORMED[case]
    path = _mutated(tmp_path, "fusion-met", change)
    for args in (("decide", str(path)), ("import", "fhir", str(path))):
        result = run_cli(*args)
        assert result.exit_code == 3, (args, result.stderr)
        assert expected in result.stderr, result.stderr
        assert f"{path}:" in result.stderr  # file:line:col first
        assert "Traceback" not in result.stderr


def test_malformed_positions_point_into_the_bundle(run_cli, tmp_path):
    path = _mutated(tmp_path, "fusion-met", _set_item_code)
    result = run_cli("decide", str(path))
    line = int(result.stderr.split(":")[1])
    assert '"productOrService"' in path.read_text().splitlines()[line - 1]


def test_a_single_resource_is_not_a_bundle(run_cli, tmp_path):
    path = tmp_path / "claim.json"
    path.write_text(json.dumps({"resourceType": "Claim", "id": "c1"}))
    result = run_cli("decide", str(path))
    assert result.exit_code == 3
    assert "Claim/c1: resourceType: is 'Claim'; Warrant reads a Bundle" in result.stderr


def test_import_refuses_a_case_file(run_cli):
    result = run_cli("import", "fhir", str(REFERENCE))
    assert result.exit_code == 3
    assert "is not a FHIR resource" in result.stderr


def test_every_problem_is_reported_at_once(run_cli, tmp_path):
    def change(data):
        _set_item_code(data)
        _res(data, "pa-fusion-met").update(use="claim")

    result = run_cli("decide", str(_mutated(tmp_path, "fusion-met", change)))
    assert result.exit_code == 3
    assert "use: is 'claim'" in result.stderr and "productOrService: has no CPT coding" in result.stderr


def test_deep_copy_guard_import_does_not_change_its_input(kb):
    from engine.fhir.import_bundle import import_bundle

    data = json.loads(_bundle("reference-case").read_text())
    before = copy.deepcopy(data)
    import_bundle(data, "ref.json", kb=kb)
    assert data == before


def _small_bundle(*resources, items=None):
    """A minimal PAS-style bundle: a Claim for patient p1 plus the given resources."""
    claim = {
        "resourceType": "Claim", "id": "c1", "status": "active", "use": "preauthorization",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "patient": {"reference": "Patient/p1"}, "created": "2024-05-01",
        "provider": {"reference": "Organization/o1"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "plan"}}],
        "item": items or [{"sequence": 1, "productOrService": {"coding": [
            {"system": "http://www.ama-assn.org/go/cpt", "code": "22633"}]}, "bodySite": {"text": "L4-5"}}],
    }
    entries = [claim, {"resourceType": "Patient", "id": "p1"}, *resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


FINDING = "http://warrant.example/fhir/CodeSystem/spine-finding"
LEVEL = "http://warrant.example/fhir/CodeSystem/spine-level"


def test_more_resource_shapes(kb):
    from engine.fhir.import_bundle import import_bundle, validate_case

    bundle = _small_bundle(
        {"resourceType": "Condition", "id": "pseudo", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M96.0"}]},
         "bodySite": [{"coding": [{"system": LEVEL, "code": "L5-S1"}]}]},
        {"resourceType": "Condition", "id": "screw", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": FINDING, "code": "screw_fracture"}]},
         "bodySite": [{"text": "S1"}]},
        {"resourceType": "Condition", "id": "dm", "subject": {"reference": "Patient/p1"},
         "category": [{"coding": [{"system": FINDING, "code": "comorbidity"}]}],
         "code": {"text": "type 2 diabetes"}},
        {"resourceType": "Condition", "id": "old", "subject": {"reference": "Patient/p1"},
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "code": "resolved"}]},
         "code": {"coding": [{"system": FINDING, "code": "radiculopathy"}]}},
        {"resourceType": "Procedure", "id": "pt", "status": "in-progress", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": FINDING, "code": "physical_therapy"}]},
         "performedPeriod": {"start": "2024-03-20"}},
        {"resourceType": "Procedure", "id": "fusion", "status": "completed", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "22612"}]},
         "bodySite": [{"text": "L3-L5"}], "performedDateTime": "2015-06-01"},
        {"resourceType": "ImagingStudy", "id": "empty-study", "status": "available",
         "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Observation", "id": "other-patient", "status": "final",
         "subject": {"reference": "Patient/p2"},
         "code": {"coding": [{"system": FINDING, "code": "motor_deficit"}]}, "valueBoolean": True},
        {"resourceType": "Patient", "id": "p2"},
    )
    bundle["entry"][0]["resource"]["item"][0]["extension"] = [
        {"url": "http://warrant.example/fhir/StructureDefinition/instrumented-span", "valueString": "L4-S1"}]
    imported = import_bundle(bundle, "small.json", kb=kb)
    case = imported.case
    assert case["imaging"] == [{"id": "unlinked-findings", "segments": {"L5-S1": {"pseudarthrosis": True}}}]
    assert case["history"]["hardware_failure"] == [{"finding": "screw_fracture", "level": "S1"}]
    assert case["history"]["prior_fusions"] == [{"levels": ["L3-L5"], "year": 2015}]
    assert case["patient"]["comorbidities"] == ["type 2 diabetes"]
    assert case["conservative_care"]["outcome"] == "ongoing"  # in progress
    assert case["conservative_care"]["physical_therapy_weeks"] == 6  # 2024-03-20 to Claim.created
    assert case["requests"][0]["procedures"][0]["span"] == ["L4", "S1"]
    assert "symptoms" not in case  # the resolved condition is not used
    warned = "\n".join(w.message for w in imported.warnings)
    assert "Condition/old: clinicalStatus: is resolved" in warned
    assert "ImagingStudy/empty-study: no Observation reports findings from this study" in warned
    assert "Observation/other-patient: subject: is about Patient/p2" in warned
    assert "Patient/p2: a second Patient" in warned
    case_model, lines = validate_case(imported, kb)
    assert [ln.id for ln in lines] == ["1:22633:L4-5"] and lines[0].span_vertebrae == 3


def test_stages_from_service_dates_and_the_stay(kb):
    from engine.fhir.import_bundle import import_bundle

    cpt = "http://www.ama-assn.org/go/cpt"
    items = [{"sequence": n, "servicedDate": date, "informationSequence": [info],
              "productOrService": {"coding": [{"system": cpt, "code": code}]}, "bodySite": {"text": "L4-5"}}
             for n, (date, code, info) in enumerate([("2024-06-10", "63047", 1), ("2024-06-03", "22633", 2)], 1)]
    bundle = _small_bundle(items=items)
    claim = bundle["entry"][0]["resource"]
    claim["supportingInfo"] = [
        {"sequence": s, "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claiminformationcategory",
                                                 "code": "hospitalized"}]},
         "timingPeriod": {"start": start, "end": end}}
        for s, start, end in [(1, "2024-06-10", "2024-06-11"), (2, "2024-06-03", "2024-06-06")]]
    imported = import_bundle(bundle, "staged.json", kb=kb)
    requests = imported.case["requests"]
    assert [(r["stage"], r["procedures"][0]["code"], r["length_of_stay_days"]) for r in requests] == \
        [(1, "22633", 3), (2, "63047", 1)]  # the earlier date is stage 1
    assert imported.items == {(0, 0): 2, (1, 0): 1}

    del items[1]["servicedDate"]
    with pytest.raises(Exception) as caught:
        import_bundle(bundle, "staged.json", kb=kb)
    assert "Claim/c1: item[1]: other items carry a servicedDate" in str(caught.value)
