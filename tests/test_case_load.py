"""Reading and validating warrant-case/1 files: every problem reported once, with its position."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import bundled_kb
from engine.cases import case_document, load_case
from engine.errors import CaseError

REFERENCE = Path(__file__).resolve().parents[1] / "kb" / "examples" / "reference-case.yaml"

HEAD = "format: warrant-case/1\ncase_id: c1\n"
REQUESTS = "requests:\n  - stage: 1\n    procedures:\n      - {code: \"22633\", levels: [L4-5]}\n"


def problems(text: str, name: str = "c.yaml", at: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(CaseError) as info:
        load_case(name, bundled_kb(), text=text, at=at)
    assert info.value.exit_code == 3 and info.value.code == "invalid_case"
    return info.value.messages


def test_reference_case_loads() -> None:
    case = load_case(REFERENCE, bundled_kb())
    assert case.case_id == "reference-two-stage-revision"
    assert [r.stage for r in case.requests] == [1, 2]
    assert case.history.prior_fusions[0].levels == ["L4-5", "L5-S1"]
    assert case.imaging[0].segments["L2-3"].neural_compression is False
    assert case.requests[1].procedures[5].levels == ["L4-5"]
    assert str(case.locate(("requests", 1, "procedures", 5, "levels", 0))).endswith(
        "reference-case.yaml:50:34")
    assert case.source_name == str(REFERENCE)


def test_every_problem_at_once_with_positions() -> None:
    text = (
        "format: warrant-case/2\n"                                          # 1
        "case_id: c1\n"                                                     # 2
        "patient:\n"                                                        # 3
        "  sexx: female\n"                                                  # 4
        "  age: \"67\"\n"                                                   # 5
        "  smoking: yes\n"                                                  # 6
        "symptoms:\n"                                                       # 7
        "  radiculopathy: yes\n"                                            # 8
        "  neurogenic_claudication: 1\n"                                    # 9
        "imaging:\n"                                                        # 10
        "  - modality: MRI\n"                                               # 11
        "    segments:\n"                                                   # 12
        "      L4-L5: {central_stenosis: moderat, neural_compression: true}\n"  # 13
        "      l4/5: {foraminal_stenosis: mild}\n"                          # 14
        "      L3: {}\n"                                                    # 15
        "requests:\n"                                                       # 16
        "  - stage: 1\n"                                                    # 17
        "    setting: impatient\n"                                          # 18
        "    procedures:\n"                                                 # 19
        "      - {code: \"22633\", levels: [L4-L5, X], sidee: left}\n"      # 20
        "      - {code: 2263, span: [L3, L5-S1], facet_resection_percent: 120}\n"  # 21
        "  - stage: 1\n"                                                    # 22
        "    procedures: []\n"                                              # 23
    )
    assert problems(text) == [
        "c.yaml:1:9: format: must be 'warrant-case/1', the only case format this version reads "
        "(got 'warrant-case/2')",
        "c.yaml:4:3: patient.sexx: unknown key; did you mean 'sex'?",
        "c.yaml:5:8: patient.age: must be a whole number, not the text '67' (write it unquoted, as 67)",
        "c.yaml:6:12: patient.smoking: 'yes' is not one of never, former, current",
        "c.yaml:8:18: symptoms.radiculopathy: must be true or false; 'yes' is text here "
        "(write true or false without quotes)",
        "c.yaml:9:28: symptoms.neurogenic_claudication: must be true or false, not 1",
        "c.yaml:11:15: imaging[0].modality: 'MRI' is not one of mri, ct, ct_myelogram, xray, "
        "flexion_extension_xray, standing_long_cassette; did you mean 'mri'?",
        "c.yaml:13:33: imaging[0].segments.L4-L5.central_stenosis: 'moderat' is not one of none, "
        "mild, mild_moderate, moderate, moderate_severe, severe; did you mean 'moderate'?",
        "c.yaml:14:7: imaging[0].segments.l4/5: names segment L4-5 again (already given as "
        "'L4-L5' at line 13); merge the two entries",
        "c.yaml:15:7: imaging[0].segments.L3: 'L3' is a single vertebra; a motion segment such "
        "as L3-4 is needed here",
        "c.yaml:18:14: requests[0].setting: 'impatient' is not one of inpatient, outpatient; "
        "did you mean 'inpatient'?",
        "c.yaml:20:41: requests[0].procedures[0].levels[1]: 'X' is not a spinal level; write a "
        "vertebra such as L3 or a motion segment such as L4-5",
        "c.yaml:20:45: requests[0].procedures[0].sidee: unknown key; did you mean 'side'?",
        "c.yaml:21:16: requests[0].procedures[1].code: 2263 is not a CPT code; a code is five "
        "letters or digits such as \"22633\"",
        "c.yaml:21:33: requests[0].procedures[1].span[1]: 'L5-S1' covers more than one vertebra; "
        "name a single vertebra such as L5",
        "c.yaml:21:66: requests[0].procedures[1].facet_resection_percent: must be at most 100, "
        "not 120",
        "c.yaml:22:12: requests[1].stage: stage 1 is already requested by requests[0] (line 17); "
        "put its procedures in one request",
        "c.yaml:23:17: requests[1].procedures: needs at least 1 entry",
    ]


def test_required_keys() -> None:
    assert problems("case_id: c1\nsummary: nothing requested\n") == [
        "c.yaml:1:1: format: is required but missing",
        "c.yaml:1:1: requests: is required but missing",
    ]
    assert problems(HEAD + "requests:\n") == ["c.yaml:3:1: requests: needs a value here; it is "
                                              "empty or null"]
    assert problems(HEAD + "requests:\n  - procedures:\n      - {levels: [L4-5]}\n") == [
        "c.yaml:4:5: requests[0].stage: is required but missing",
        "c.yaml:5:9: requests[0].procedures[0].code: is required but missing",
    ]


def test_unknown_key_without_a_close_match_lists_the_known_ones() -> None:
    assert problems(HEAD + REQUESTS + "exam:\n  reflexes: true\n") == [
        "c.yaml:8:3: exam.reflexes: unknown key; known keys here are correlates_with_imaging, "
        "deformity_correlates_with_symptoms, motor_deficit",
    ]
    assert problems(HEAD + REQUESTS + "imagng: []\n") == [
        "c.yaml:7:1: imagng: unknown key; did you mean 'imaging'?"]


def test_wrong_shapes() -> None:
    assert problems(HEAD + REQUESTS + "patient: [a]\nimaging: {id: x}\n") == [
        "c.yaml:7:10: patient: must be a mapping of keys to values, not a list",
        "c.yaml:8:10: imaging: must be a list (write [] for none), not a mapping",
    ]


def test_codes_are_text_but_numbers_and_plus_signs_are_accepted() -> None:
    text = HEAD + ("requests:\n  - stage: 1\n    procedures:\n      - {code: 22633}\n"
                   "      - {code: \"+22853\"}\n      - {code: +22840}\n      - {code: 0275t}\n")
    case = load_case("c.yaml", bundled_kb(), text=text)
    assert [p.code for p in case.requests[0].procedures] == ["22633", "22853", "22840", "0275T"]
    leading_zero = HEAD + "requests:\n  - stage: 1\n    procedures:\n      - {code: 01234}\n"
    assert load_case("c.yaml", bundled_kb(), text=leading_zero).requests[0].procedures[0].code == "01234"
    assert problems(leading_zero.replace("01234", "022633")) == [
        "c.yaml:6:16: requests[0].procedures[0].code: '022633' is not a CPT code; a code is five "
        "letters or digits such as \"22633\""]
    assert problems(HEAD + "requests:\n  - stage: 1\n    procedures:\n      - {code: true}\n") == [
        "c.yaml:6:16: requests[0].procedures[0].code: a CPT code is text such as \"22633\", "
        "not true"]


def test_three_documentation_states_survive() -> None:
    text = HEAD + REQUESTS + (
        "patient: {red_flags: [], comorbidities: null}\n"
        "symptoms: {radiculopathy: false, neurogenic_claudication: true}\n"
        "conservative_care: {physical_therapy_weeks: 0, duration_weeks: 12.5}\n"
        "history: {hardware_failure: []}\n"
        "imaging:\n  - segments:\n      L4-5: {central_stenosis: none, translation_mm: 0}\n"
        "exam:\n")
    document = case_document(load_case("c.yaml", bundled_kb(), text=text), [])
    assert document["patient"] == {"red_flags": []}
    assert document["symptoms"] == {"radiculopathy": False, "neurogenic_claudication": True}
    assert document["conservative_care"] == {"physical_therapy_weeks": 0, "duration_weeks": 12.5}
    assert isinstance(document["conservative_care"]["physical_therapy_weeks"], int)
    assert document["history"] == {"hardware_failure": []}
    assert document["imaging"] == [{"segments": {"L4-5": {"central_stenosis": "none",
                                                          "translation_mm": 0}}}]
    assert "exam" not in document and "si_joint" not in document and "summary" not in document


def test_levels_are_normalised_in_every_field() -> None:
    text = HEAD + (
        "history:\n  prior_fusions: [{levels: [l4/5, L2-L4]}]\n"
        "  hardware_failure: [{finding: loosening, level: s1}, {level: L5/S1}]\n"
        "imaging:\n  - segments: {L4-L5: {}, t12/l1: {}}\n"
        "requests:\n  - stage: 1\n    procedures:\n"
        "      - {code: \"22214\", levels: [l2 - l4, L5/S1], span: [l3, L5]}\n")
    document = case_document(load_case("c.yaml", bundled_kb(), text=text), [])
    assert document["history"] == {
        "prior_fusions": [{"levels": ["L4-5", "L2-3", "L3-4"]}],
        "hardware_failure": [{"finding": "loosening", "level": "S1"}, {"level": "L5-S1"}]}
    assert list(document["imaging"][0]["segments"]) == ["L4-5", "T12-L1"]
    assert document["requests"][0]["procedures"][0] == {
        "code": "22214", "levels": ["L2-L4", "L5-S1"], "span": ["L3", "L5"]}


def test_level_errors_point_at_the_value() -> None:
    text = HEAD + (
        "history:\n  prior_fusions: [{levels: [L3]}]\n"
        "  hardware_failure: [{level: L2-L4}]\n" + REQUESTS)
    assert problems(text) == [
        "c.yaml:4:29: history.prior_fusions[0].levels[0]: 'L3' is a single vertebra; a motion "
        "segment such as L3-4 is needed here",
        "c.yaml:5:30: history.hardware_failure[0].level: 'L2-L4' spans several segments; name "
        "the one segment or vertebra where it was found",
    ]


def test_numbers_and_booleans_are_strict() -> None:
    text = HEAD + REQUESTS + (
        "conservative_care: {physical_therapy_weeks: -1, duration_weeks: .nan}\n"
        "si_joint:\n  left:\n    pain_below_l5: \"true\"\n"
        "    diagnostic_injections: [{relief_percent: 80, image_guided: on}]\n"
        "    provocative_tests: {faber: pos}\n"
        "requests_note: 1\n")
    assert problems(text) == [
        "c.yaml:7:45: conservative_care.physical_therapy_weeks: must be at least 0, not -1",
        "c.yaml:7:65: conservative_care.duration_weeks: must be a finite number",
        "c.yaml:10:20: si_joint.left.pain_below_l5: must be true or false; 'true' is text here "
        "(write true or false without quotes)",
        "c.yaml:11:64: si_joint.left.diagnostic_injections[0].image_guided: must be true or "
        "false; 'on' is text here (write true or false without quotes)",
        "c.yaml:12:32: si_joint.left.provocative_tests.faber: 'pos' is not one of positive, "
        "negative; did you mean 'positive'?",
        "c.yaml:13:1: requests_note: unknown key; did you mean 'requests'?",
    ]


def test_json_cases_load_and_report_positions() -> None:
    data = {"format": "warrant-case/1", "case_id": 7,
            "requests": [{"stage": 1, "procedures": [{"code": 22633, "levels": ["L4-L5"]}]}]}
    case = load_case("c.json", bundled_kb(), text=json.dumps(data))
    assert case.case_id == "7" and case.requests[0].procedures[0].levels == ["L4-5"]
    text = json.dumps(data, indent=1).replace('"stage": 1', '"stage": "1"')
    assert problems(text, "c.json") == [
        "c.json:6:13: requests[0].stage: must be a whole number, not the text '1' "
        "(write it unquoted, as 1)"]
    assert problems('{"format": "warrant-case/1",\n "case_id": }', "c.json") == [
        "c.json:2:13: JSON syntax error: Expecting value"]
    assert problems('{"format": "warrant-case/1", "format": "x"}', "c.json") == [
        "c.json:1:1: case_id: is required but missing",
        "c.json:1:1: requests: is required but missing",
        "c.json:1:30: format: duplicate key; it already appears at line 1, column 2, and a key "
        "may appear only once"]


def test_embedded_case_reports_paths_of_the_outer_file() -> None:
    text = "name: a rule test\ncase:\n  " + (HEAD + REQUESTS).replace("\n", "\n  ") + \
        "patient: {sex: f}\nexpect: {anything: [1]}\n"
    assert problems(text, "t.yaml", ("case",)) == [
        "t.yaml:9:18: case.patient.sex: 'f' is not one of female, male, other, unknown; did you "
        "mean 'female'?"]
    assert problems("name: x\n", "t.yaml", ("case",)) == [
        "t.yaml:1:1: case: must hold a case: a mapping with format, case_id and requests"]
    case = load_case("t.yaml", bundled_kb(), text=text.replace("sex: f", "sex: female"), at=("case",))
    assert case.patient.sex == "female"


def test_loader_error_carries_a_summary() -> None:
    with pytest.raises(CaseError) as info:
        load_case("c.yaml", bundled_kb(), text="case_id: c1\n")
    assert info.value.args[0] == "c.yaml: invalid case file (2 problems)"


def test_text_from_stdin() -> None:
    text = '{"format": "warrant-case/1", "case_id": "s", "requests": [{"stage": 1, ' \
        '"procedures": [{"code": "22633"}]}]}'
    assert load_case("<stdin>", bundled_kb(), text=text).source_name == "<stdin>"
    assert load_case("<stdin>", bundled_kb(), text=HEAD + REQUESTS).case_id == "c1"
    assert problems(text.replace('"s"', "true"), "<stdin>") == [
        "<stdin>:1:41: case_id: must be text, not true"]
