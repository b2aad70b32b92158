"""Requested lines and the normalised case document (kb-contract.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import bundled_kb
from engine.cases import Line, case_document, case_json_schema, expand_lines, load_case
from engine.errors import CaseError

REFERENCE = Path(__file__).resolve().parents[1] / "kb" / "examples" / "reference-case.yaml"
UNITS = {"22558": "segment", "22585": "segment", "22853": "segment", "22830": "stage",
         "63052": "segment", "63053": "segment", "22214": "vertebra", "22216": "vertebra",
         "22633": "segment", "22634": "segment", "22843": "stage", "27280": "side",
         "22848": "stage"}
HEAD = "format: warrant-case/1\ncase_id: c1\nrequests:\n  - stage: 1\n    procedures:\n"


def lines_of(procedures: str, units: dict[str, str] = UNITS) -> list[Line]:
    return expand_lines(load_case("c.yaml", bundled_kb(), text=HEAD + procedures), units)


def test_reference_lines() -> None:
    lines = expand_lines(load_case(REFERENCE, bundled_kb()), UNITS)
    assert [line.id for line in lines] == [
        "1:22558:L2-3", "1:22585:L3-4", "1:22853:L2-3", "1:22853:L3-4",
        "2:22830:-", "2:63052:-", "2:63053:-", "2:22214:-", "2:22216:-",
        "2:22633:L4-5", "2:22634:L5-S1", "2:22843:-", "2:27280:-", "2:22848:-"]
    assert lines[9] == Line("2:22633:L4-5", 2, 1, 5, "22633", "L4-5", None, None, (),
                            "requests[1].procedures[5]")


def test_reference_document() -> None:
    case = load_case(REFERENCE, bundled_kb())
    document = case_document(case, expand_lines(case, UNITS))
    assert document["lines"]["2:22634:L5-S1"] == {
        "stage": 2, "request": 1, "procedure": 6, "code": "22634", "level": "L5-S1"}
    assert document["lines"]["2:27280:-"] == {"stage": 2, "request": 1, "procedure": 8,
                                              "code": "27280"}
    assert document["history"] == {"prior_fusions": [{"levels": ["L4-5", "L5-S1"],
                                                      "instrumented": True}],
                                   "hardware_failure": [{"finding": "rod_fracture"}]}
    assert document["requests"][1]["procedures"][0] == {"code": "22830"}
    assert "exam" not in document and "conservative_care" not in document
    text = json.dumps(document)
    assert json.dumps(case_document(load_case(REFERENCE, bundled_kb()), expand_lines(case, UNITS))) == text


def test_units_split_levels_and_sides() -> None:
    lines = lines_of(
        "      - {code: \"22633\", levels: [L2-L4, l4/5]}\n"
        "      - {code: \"22214\", levels: [L2-L4]}\n"
        "      - {code: \"22843\", levels: [L2-L4], span: [L2, L5]}\n"
        "      - {code: \"27280\", side: bilateral}\n"
        "      - {code: \"63047\", levels: [L4-5], side: left, facet_resection_percent: 60}\n")
    assert [(line.id, line.level, line.side) for line in lines] == [
        ("1:22633:L2-3", "L2-3", None), ("1:22633:L3-4", "L3-4", None),
        ("1:22633:L4-5", "L4-5", None),
        ("1:22214:L2", "L2", None), ("1:22214:L3", "L3", None), ("1:22214:L4", "L4", None),
        ("1:22843:-", None, None),
        ("1:27280:left", None, "left"), ("1:27280:right", None, "right"),
        ("1:63047:L4-5", "L4-5", "left")]
    assert lines[6].span_vertebrae == 4
    assert lines[9].extra == (("facet_resection_percent", 60),)  # the schema's procedure fields
    assert case_document(load_case("c.yaml", bundled_kb(), text=HEAD + "      - {code: \"27280\", side: left}\n"),
                         lines[7:8])["lines"] == {
        "1:27280:left": {"stage": 1, "request": 0, "procedure": 3, "code": "27280",
                         "side": "left"}}


def test_codes_without_policy_still_get_lines() -> None:
    lines = lines_of("      - {code: \"99999\", levels: [L3, L4-L5, L1-L3]}\n"
                     "      - {code: \"99998\"}\n")
    assert [line.id for line in lines] == ["1:99999:L3", "1:99999:L4-5", "1:99999:L1-2",
                                           "1:99999:L2-3", "1:99998:-"]


def test_vertebra_for_a_segment_code_is_refused() -> None:
    with pytest.raises(CaseError) as info:
        lines_of("      - {code: \"22633\", levels: [L3, S1]}\n")
    assert info.value.messages == [
        "c.yaml:6:34: requests[0].procedures[0].levels[0]: L3 is a single vertebra, but 22633 "
        "is billed per motion segment; write a segment such as L3-4",
        "c.yaml:6:38: requests[0].procedures[0].levels[1]: S1 is a single vertebra, but 22633 "
        "is billed per motion segment; write a segment such as L5-S1"]


def test_duplicate_lines_name_both_positions() -> None:
    with pytest.raises(CaseError) as info:
        lines_of("      - {code: \"22633\", levels: [L3-L5]}\n"
                 "      - {code: \"22633\", levels: [L4/5]}\n"
                 "      - {code: \"22214\", levels: [L3, L2-L4]}\n"
                 "      - {code: \"27280\", side: left}\n"
                 "      - {code: \"27280\", side: bilateral}\n")
    assert info.value.messages == [
        "c.yaml:7:34: requests[0].procedures[1].levels[0]: line 1:22633:L4-5 is requested "
        "twice; requests[0].procedures[0].levels[0] (line 6) already asks for it",
        "c.yaml:8:38: requests[0].procedures[2].levels[1]: line 1:22214:L3 is requested twice; "
        "requests[0].procedures[2].levels[0] (line 8) already asks for it",
        "c.yaml:10:31: requests[0].procedures[4].side: line 1:27280:left is requested twice; "
        "requests[0].procedures[3].side (line 9) already asks for it"]


def test_same_code_in_two_stages_is_two_lines() -> None:
    text = HEAD + ("      - {code: \"22633\", levels: [L4-5]}\n  - stage: 2\n    procedures:\n"
                   "      - {code: \"22633\", levels: [L4-5]}\n")
    ids = [line.id for line in expand_lines(load_case("c.yaml", bundled_kb(), text=text), UNITS)]
    assert ids == ["1:22633:L4-5", "2:22633:L4-5"]


def test_json_case_errors_still_have_positions() -> None:
    data = {"format": "warrant-case/1", "case_id": "j",
            "requests": [{"stage": 1, "procedures": [{"code": "22633", "levels": ["L3"]}]}]}
    case = load_case("c.json", bundled_kb(), text=json.dumps(data, indent=2))
    with pytest.raises(CaseError) as info:
        expand_lines(case, UNITS)
    assert info.value.messages[0].startswith("c.json:11:13: requests[0].procedures[0].levels[0]:")


def test_json_schema() -> None:
    schema = case_json_schema(bundled_kb())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["format", "case_id", "requests"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["format"]["const"] == "warrant-case/1"
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values())
    sex = schema["$defs"]["Patient"]["properties"]["sex"]["anyOf"][0]
    assert sex == {"type": "string", "enum": ["female", "male", "other", "unknown"]}
    json.dumps(schema)


def test_json_schema_accepts_the_reference_case_and_refuses_typos() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(case_json_schema(bundled_kb()))
    case = load_case(REFERENCE, bundled_kb())
    document = case_document(case, [])
    del document["lines"]
    assert list(validator.iter_errors(document)) == []
    document["patient"]["sexx"] = "female"
    document["imaging"][0]["segments"]["L4 to L5"] = {}
    assert len(list(validator.iter_errors(document))) == 2
