"""A broken variant of the reference case for each kind of error gives the findings it always gave.

The expected messages were recorded with the loader as it was before the fast path existed
(pydantic only), so these tests pin the error behaviour across the change. They use only
`load_case`, and pass against both versions of the loader.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.conftest import bundled_kb
from engine.cases import expand_lines, load_case
from engine.errors import CaseError

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "kb" / "examples" / "reference-case.yaml").read_text(encoding="utf-8")
ONE = "c.yaml: invalid case file (1 problem)"

# (kind, text in the reference case, its replacement, the one message expected)
YAML_VARIANTS = [
    ("wrong_format", "warrant-case/1", "warrant-case/2",
     "c.yaml:1:9: format: must be 'warrant-case/1', the only case format this version reads "
     "(got 'warrant-case/2')"),
    ("missing_required", "case_id: reference-two-stage-revision\n", "",
     "c.yaml:1:1: case_id: is required but missing"),
    ("null_required", "case_id: reference-two-stage-revision", "case_id:",
     "c.yaml:2:1: case_id: needs a value here; it is empty or null"),
    ("empty_name", "case_id: reference-two-stage-revision", "case_id: \"  \"",
     "c.yaml:2:10: case_id: must not be empty"),
    ("unknown_key_close", "sex: female", "sexx: female",
     "c.yaml:6:3: patient.sexx: unknown key; did you mean 'sex'?"),
    ("unknown_key_far", "radiculopathy: true", "reflexes_brisk: true",
     "c.yaml:9:3: symptoms.reflexes_brisk: unknown key; known keys here are "
     "neurogenic_claudication, radiculopathy, axial_back_pain, duration_months, adl_limited"),
    ("number_as_text", "age: 67", "age: \"67\"",
     "c.yaml:5:8: patient.age: must be a whole number, not the text '67' (write it unquoted, "
     "as 67)"),
    ("number_too_big", "age: 67", "age: 131",
     "c.yaml:5:8: patient.age: must be at most 130, not 131"),
    ("number_not_whole", "length_of_stay_days: 3", "length_of_stay_days: 2.5",
     "c.yaml:36:26: requests[0].length_of_stay_days: must be a whole number, not 2.5"),
    ("number_nan", "spondylolisthesis_grade: 0", "spondylolisthesis_grade: .nan",
     "c.yaml:26:34: imaging[0].segments.L2-3.spondylolisthesis_grade: must be a finite number"),
    ("flag_as_text", "radiculopathy: true", "radiculopathy: yes",
     "c.yaml:9:18: symptoms.radiculopathy: must be true or false; 'yes' is text here (write "
     "true or false without quotes)"),
    ("flag_as_number", "instrumented: true", "instrumented: 1",
     "c.yaml:14:21: history.prior_fusions[0].instrumented: must be true or false, not 1"),
    ("choice_typo", "modality: mri", "modality: MRI",
     "c.yaml:20:15: imaging[0].modality: 'MRI' is not one of mri, ct, ct_myelogram, xray, "
     "flexion_extension_xray, standing_long_cassette; did you mean 'mri'?"),
    ("grade_false", "central_stenosis: none", "central_stenosis: false",
     "c.yaml:23:27: imaging[0].segments.L2-3.central_stenosis: must be one of none, mild, "
     "mild_moderate, moderate, moderate_severe, severe; write none to record that it is absent"),
    ("bad_level", "levels: [L4-5]", "levels: [L6-S1]",
     "c.yaml:50:34: requests[1].procedures[5].levels[0]: 'L6-S1' names L6, which is not a "
     "vertebra from T1 to S1"),
    ("vertebra_in_segment_field", "levels: [L4-5, L5-S1]", "levels: [L4, L5-S1]",
     "c.yaml:13:16: history.prior_fusions[0].levels[0]: 'L4' is a single vertebra; a motion "
     "segment such as L4-5 is needed here"),
    ("segment_key_collision", "      L3-4:", "      L2/L3:",
     "c.yaml:27:7: imaging[0].segments.L2/L3: names segment L2-3 again (already given as "
     "'L2-3' at line 22); merge the two entries"),
    ("segment_key_vertebra", "      L3-4:", "      L3:",
     "c.yaml:27:7: imaging[0].segments.L3: 'L3' is a single vertebra; a motion segment such as "
     "L3-4 is needed here"),
    ("duplicate_stage", "stage: 2", "stage: 1",
     "c.yaml:41:12: requests[1].stage: stage 1 is already requested by requests[0] (line 34); "
     "put its procedures in one request"),
    ("mapping_for_list", "hardware_failure:\n    - finding: rod_fracture",
     "hardware_failure: {finding: rod_fracture}",
     "c.yaml:15:21: history.hardware_failure: must be a list (write [] for none), not a mapping"),
    ("list_for_mapping", "patient:\n  age: 67\n  sex: female", "patient: [67, female]",
     "c.yaml:4:10: patient: must be a mapping of keys to values, not a list"),
    ("scalar_for_mapping", "symptoms:\n  radiculopathy: true", "symptoms: radiculopathy",
     "c.yaml:8:11: symptoms: must be a mapping of keys to values, not the text 'radiculopathy'"),
    ("empty_list",
     "    procedures:\n      - {code: \"22558\", levels: [L2-3]}\n"
     "      - {code: \"22585\", levels: [L3-4]}\n      - {code: \"22853\", levels: [L2-3, L3-4]}\n",
     "    procedures: []\n",
     "c.yaml:37:17: requests[0].procedures: needs at least 1 entry"),
    ("bad_code", "\"22558\"", "\"2255\"",
     "c.yaml:38:16: requests[0].procedures[0].code: '2255' is not a CPT code; a code is five "
     "letters or digits such as \"22633\""),
    ("code_as_bool", "{code: \"22830\"}", "{code: true}",
     "c.yaml:45:16: requests[1].procedures[0].code: a CPT code is text such as \"22633\", not "
     "true"),
    ("span_too_long", "{code: \"22843\"}", "{code: \"22843\", span: [L3, L4, L5]}",
     "c.yaml:52:31: requests[1].procedures[7].span: takes at most 2 entries, not 3"),
    ("span_not_vertebra", "{code: \"22843\"}", "{code: \"22843\", span: [L3, L4-5]}",
     "c.yaml:52:36: requests[1].procedures[7].span[1]: 'L4-5' covers more than one vertebra; "
     "name a single vertebra such as L4"),
    ("bad_date", "modality: mri", "modality: mri\n    date: 2023-02-30",
     "c.yaml:21:11: imaging[0].date: '2023-02-30' is not a calendar date"),
    ("text_as_list_item", "age: 67", "age: 67\n  comorbidities: [diabetes, 12]",
     "c.yaml:6:29: patient.comorbidities[1]: must be text, not 12"),
    ("tag", "sex: female", "sex: !!str female",
     "c.yaml:6:8: patient.sex: the value carries the tag tag:yaml.org,2002:str; tags are not "
     "allowed in case files (quote the value instead)"),
    ("alias", "case_id: reference-two-stage-revision",
     "case_id: &id reference-two-stage-revision\nsummary: *id",
     "c.yaml:3:10: summary: aliases (*id) are not allowed in case files; write the value out "
     "in full"),
    ("duplicate_key", "sex: female", "sex: female\n  sex: male",
     "c.yaml:7:3: patient.sex: duplicate key; it already appears at line 6, column 3, and a key "
     "may appear only once"),
]


def _edit(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def _problems(name: str, text: str, at: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    with pytest.raises(CaseError) as info:
        load_case(name, bundled_kb(), text=text, at=at)
    assert info.value.exit_code == 3 and info.value.code == "invalid_case"
    return info.value.args[0], info.value.messages


@pytest.mark.parametrize("kind, old, new, message", YAML_VARIANTS,
                         ids=[v[0] for v in YAML_VARIANTS])
def test_yaml_error_kinds(kind: str, old: str, new: str, message: str) -> None:
    assert _problems("c.yaml", _edit(old, new)(REFERENCE)) == (ONE, [message])


def test_yaml_syntax_error() -> None:
    text = _edit("{code: \"22830\"}", "{code: \"22830\"")(REFERENCE)
    assert _problems("c.yaml", text) == (
        "c.yaml: YAML syntax error: expected ',' or '}', but got '-'",
        ["c.yaml:46:7: YAML syntax error: expected ',' or '}', but got '-'"])


def _reference_data() -> dict[str, Any]:
    from engine.cases.source import read_yaml

    return read_yaml("r", REFERENCE).data


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for part in path[:-1]:
            data = data[part]
        data[path[-1]] = value
    return edit


JSON_VARIANTS = [
    ("json_wrong_value", _set(("requests", 1, "length_of_stay_days"), "5"),
     "c.json:77:30: requests[1].length_of_stay_days: must be a whole number, not the text '5' "
     "(write it unquoted, as 5)"),
    ("json_unknown_key", _set(("imaging", 0, "segments", "L2-3", "stenosis"), "none"),
     "c.json:37:11: imaging[0].segments.L2-3.stenosis: unknown key; did you mean "
     "'central_stenosis'?"),
    ("json_missing_key", lambda data: data["requests"][0]["procedures"][1].pop("code"),
     "c.json:59:9: requests[0].procedures[1].code: is required but missing"),
]


@pytest.mark.parametrize("kind, edit, message", JSON_VARIANTS, ids=[v[0] for v in JSON_VARIANTS])
def test_json_error_kinds(kind: str, edit: Callable[[Any], None], message: str) -> None:
    data = _reference_data()
    edit(data)
    assert _problems("c.json", json.dumps(data, indent=2)) == (
        "c.json: invalid case file (1 problem)", [message])


def _embedded(text: str) -> str:
    return "name: t\ncase:\n" + "".join(f"  {line}\n" if line else "\n"
                                        for line in text.split("\n"))


EMBEDDED = {
    "wrong_format": "t.yaml:3:11: case.format: must be 'warrant-case/1', the only case format "
                    "this version reads (got 'warrant-case/2')",
    "unknown_key_close": "t.yaml:8:5: case.patient.sexx: unknown key; did you mean 'sex'?",
    "segment_key_collision": "t.yaml:29:9: case.imaging[0].segments.L2/L3: names segment L2-3 "
                             "again (already given as 'L2-3' at line 24); merge the two entries",
    "duplicate_stage": "t.yaml:43:14: case.requests[1].stage: stage 1 is already requested by "
                       "requests[0] (line 36); put its procedures in one request",
    "tag": "t.yaml:8:10: case.patient.sex: the value carries the tag tag:yaml.org,2002:str; tags "
           "are not allowed in case files (quote the value instead)",
}


@pytest.mark.parametrize("kind", list(EMBEDDED))
def test_embedded_error_kinds(kind: str) -> None:
    _, old, new, _ = next(v for v in YAML_VARIANTS if v[0] == kind)
    text = _embedded(_edit(old, new)(REFERENCE))
    assert _problems("t.yaml", text, ("case",)) == (
        "t.yaml: invalid case file (1 problem)", [EMBEDDED[kind]])


def test_every_kind_at_once() -> None:
    """Many errors in one file (edits that keep line numbers): each reported once, in order."""
    kinds = {"number_as_text", "flag_as_text", "choice_typo", "grade_false", "bad_level",
             "vertebra_in_segment_field", "segment_key_collision", "duplicate_stage",
             "bad_code", "span_too_long", "unknown_key_close", "code_as_bool"}
    text = REFERENCE
    expected = []
    for kind, old, new, message in YAML_VARIANTS:
        if kind in kinds:
            text = _edit(old, new)(text)
            expected.append(message)
    summary, messages = _problems("c.yaml", text)
    assert summary == f"c.yaml: invalid case file ({len(kinds)} problems)"
    assert sorted(messages) == sorted(expected)
    assert messages == sorted(messages, key=lambda m: tuple(int(n) for n in m.split(":")[1:3]))


UNITS = {"22558": "segment", "22585": "segment", "22853": "segment", "22830": "stage",
         "63052": "segment", "63053": "segment", "22214": "vertebra", "22216": "vertebra",
         "22633": "segment", "22634": "segment", "22843": "stage", "27280": "side",
         "22848": "stage"}


@pytest.mark.parametrize("old, new, message", [
    ("{code: \"22585\", levels: [L3-4]}", "{code: \"22558\", levels: [L2/3]}",
     "c.yaml:39:34: requests[0].procedures[1].levels[0]: line 1:22558:L2-3 is requested twice; "
     "requests[0].procedures[0].levels[0] (line 38) already asks for it"),
    ("levels: [L4-5]", "levels: [L4]",
     "c.yaml:50:34: requests[1].procedures[5].levels[0]: L4 is a single vertebra, but 22633 is "
     "billed per motion segment; write a segment such as L4-5"),
], ids=["duplicate_line", "vertebra_for_segment_code"])
def test_line_errors(old: str, new: str, message: str) -> None:
    case = load_case("c.yaml", bundled_kb(), text=_edit(old, new)(REFERENCE))
    with pytest.raises(CaseError) as info:
        expand_lines(case, UNITS)
    assert info.value.args[0] == "c.yaml: the requested lines are not valid (1 problem)"
    assert info.value.messages == [message]
