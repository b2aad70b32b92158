"""`warrant what-if`: field paths, values, edits and the changed determinations."""
from __future__ import annotations

import json

import pytest

from engine.errors import UsageError
from engine.authoring.whatif import Edit, apply_edit, parse_edits, parse_path, parse_value
from tests.conftest import REFERENCE


def test_paths_and_values():
    assert parse_path("imaging[0].segments.L4-5.translation_mm") == ("imaging", 0, "segments", "L4-5",
                                                                     "translation_mm")
    assert parse_path("requests[1].procedures[-1].levels") == ("requests", 1, "procedures", -1, "levels")
    assert parse_value("8") == 8 and parse_value("4.5") == 4.5 and parse_value("true") is True
    assert parse_value("[L4-5, L5-S1]") == ["L4-5", "L5-S1"]
    assert parse_value("{relief_percent: 80, image_guided: true}") == {"relief_percent": 80, "image_guided": True}
    assert parse_value("yes") == "yes"  # the case reader's core schema: text, not a boolean
    assert parse_value("") is None
    assert parse_path("imaging[].segments.L4-5.x") == ("imaging", "[]", "segments", "L4-5", "x")
    for bad in ("a..b", "[0].x", "", "si_joint.*.pain_below_l5"):
        with pytest.raises(UsageError):
            parse_path(bad)
    with pytest.raises(UsageError, match="tag"):
        parse_value("!!python/object/apply:os.system [ls]")


def test_edits_create_mappings_and_match_level_spellings(kb):
    data = {"imaging": [{"segments": {"L4-L5": {"translation_mm": 1}}}]}
    apply_edit(data, Edit("set", "f", parse_path("imaging[0].segments.L4-5.angulation_deg"), 12), kb.levels)
    assert data["imaging"][0]["segments"] == {"L4-L5": {"translation_mm": 1, "angulation_deg": 12}}
    apply_edit(data, Edit("set", "f", parse_path("conservative_care.duration_weeks"), 12))
    assert data["conservative_care"] == {"duration_weeks": 12}
    apply_edit(data, Edit("set", "f", parse_path("imaging[1].modality"), "ct"))
    assert data["imaging"][1] == {"modality": "ct"}
    apply_edit(data, Edit("unset", "f", parse_path("imaging[0].segments.L4-5.translation_mm")), kb.levels)
    assert data["imaging"][0]["segments"]["L4-L5"] == {"angulation_deg": 12}
    with pytest.raises(UsageError, match="no \\[5\\]"):
        apply_edit(data, Edit("set", "f", parse_path("imaging[5].modality"), "ct"))
    with pytest.raises(UsageError, match="nothing to unset"):
        apply_edit(data, Edit("unset", "f", parse_path("exam.correlates_with_imaging")))
    with pytest.raises(UsageError, match="both set and unset"):
        parse_edits(["exam.motor_deficit=true"], ["exam.motor_deficit"])


def test_levels_given_changes_only_those_lines(run_cli):
    result = run_cli("what-if", str(REFERENCE), "--set", "requests[1].procedures[1].levels=[L4-5]",
                     "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    keys = {c["key"] for c in data["changed"]}
    assert keys == {"2:63052:-", "2:63052:L4-5"}
    gone = next(c for c in data["changed"] if c["key"] == "2:63052:-")
    assert gone["old"] == {"verdict": "cannot_be_determined", "basis": "levels_not_specified"}
    assert gone["new"] is None and "verdict.levels" in gone["rules_removed"]


def test_text_names_old_new_and_the_rules(run_cli):
    result = run_cli("what-if", str(REFERENCE), "--set", "imaging[0].segments.L2-3.neural_compression=true",
                     "--set", "imaging[0].segments.L2-3.central_stenosis=severe")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "set imaging[0].segments.L2-3.central_stenosis = \"severe\"" in out
    assert "22558 at L2-3" in out and "not medically necessary (criterion not met) ->" in out
    assert "no longer:" not in out and "1:22558:L2-3" not in out
    with_ids = run_cli("what-if", str(REFERENCE), "--set", "imaging[0].segments.L2-3.neural_compression=true",
                       "--set", "imaging[0].segments.L2-3.central_stenosis=severe", "--ids").output
    assert "1:22558:L2-3" in with_ids and "not_medically_necessary (criterion_unmet) ->" in with_ids
    assert "no longer:" in with_ids


def test_new_entries_and_the_changed_case_written_out(run_cli, tmp_path, kb):
    from engine.cases import load_case

    target = tmp_path / "changed.yaml"
    result = run_cli("what-if", str(REFERENCE), "--set", "imaging[].segments.L4-5.central_stenosis=moderate",
                     "--set", "imaging[].segments.L4-5.neural_compression=true", "-o", str(target))
    assert result.exit_code == 0, result.output
    case = load_case(target, kb)
    assert len(case.imaging) == 2  # both [] edits went into one new study
    assert case.imaging[1].segments["L4-5"].central_stenosis == "moderate"
    assert case.imaging[1].segments["L4-5"].neural_compression is True
    assert target.read_text(encoding="utf-8").startswith("# changed with warrant what-if:\n")
    again = run_cli("what-if", str(target), "--set", "patient.age=67")
    assert again.exit_code == 0 and "no determination changed" in again.output
    as_json = tmp_path / "changed.json"
    assert run_cli("what-if", str(REFERENCE), "--set", "exam.correlates_with_imaging=true", "-o",
                   str(as_json)).exit_code == 0
    assert json.loads(as_json.read_text(encoding="utf-8"))["exam"] == {"correlates_with_imaging": True}
    bad = run_cli("what-if", str(REFERENCE), "--set", "si_joint.*.pain_below_l5=true")
    assert bad.exit_code == 2


def test_nothing_changed(run_cli):
    result = run_cli("what-if", str(REFERENCE), "--set", "patient.age=71")
    assert result.exit_code == 0
    assert "no determination changed" in result.output


def test_invalid_result_is_a_case_error_naming_the_field(run_cli):
    result = run_cli("what-if", str(REFERENCE), "--set", "conservative_care.physical_therapy_weeks=lots")
    assert result.exit_code == 3
    assert "conservative_care.physical_therapy_weeks" in result.stderr
    assert "after the what-if changes" in result.stderr
    result = run_cli("what-if", str(REFERENCE), "--set", "conservative_care.pt_weeks=8")
    assert result.exit_code == 3 and "conservative_care.pt_weeks" in result.stderr


def test_usage_errors(run_cli):
    assert run_cli("what-if", str(REFERENCE)).exit_code == 2
    assert run_cli("what-if", str(REFERENCE), "--set", "patient.age").exit_code == 2
    assert run_cli("what-if", str(REFERENCE), "--set", "patient.age.x=1").exit_code == 2
