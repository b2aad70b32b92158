"""A new case field and a criterion that uses it are a kb-only change.

A copy of the bundled kb gets `labs.hba1c_percent` (a number from 3 to 20, in percent) in its
case schema, a base predicate reading it (`%@ field`), a fusion criterion met below 8.0 and unmet
at or above, their words (kb/words.yaml), a FHIR mapping (LOINC 4548-4) and two rule tests. Without any Python edit, every
command then works with the field: check, decide, why, why-not, test (with coverage), generate
(which fills the field), schema (JSON and Markdown) and import fhir.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCHEMA_ADDITION = """\
  labs:
    type: object
    name: Labs
    description: laboratory results
    fields:
      hba1c_percent: {type: number, min: 3, max: 20, unit: percent, description: glycated haemoglobin}
"""

FACTS = """
%@ pred lab_result(Name, Value)
%@ holds the laboratory reports {Name} = {Value}
%@ missing the laboratory result {Name} is not documented
%@ field labs.{Name} = Value
"""

RULES = """
% Glycaemic control before fusion (payer policies ask for HbA1c below 8%).
threshold(hba1c_percent, 8.0).
family_criterion(fusion, glycemic_control, required).

%@ rule glycemic.controlled
%@ cite aetna-cpb-0743
%@ says HbA1c is {V}%, below the {M}% threshold
criterion_met(L, glycemic_control) :- criterion(L, glycemic_control, _), lab_result(hba1c_percent, V), threshold(hba1c_percent, M), V < M.

%@ rule glycemic.uncontrolled
%@ cite aetna-cpb-0743
%@ says HbA1c is {V}%, at or above the {M}% threshold
criterion_unmet(L, glycemic_control) :- criterion(L, glycemic_control, _), lab_result(hba1c_percent, V), threshold(hba1c_percent, M), V >= M.
"""

FHIR_ROW = ('  - {field: "labs.hba1c_percent", codes: [loinc#4548-4], value: percent}\n')

WORDS = {  # kb/words.yaml: how the new criterion and field read (its threshold read from the kb)
    "criteria:\n": "criteria:\n  glycemic_control:\n    name: glycaemic control\n"
                    "    requirement: an HbA1c below {threshold(hba1c_percent)}%\n",
    "fields:\n": "fields:\n  labs.hba1c_percent: {noun: HbA1c, unit: percent}\n",
}

CASE = (ROOT / "tests" / "fhir" / "fusion-met.yaml").read_text(encoding="utf-8")


def _case(value: float | None) -> str:
    labs = f"labs: {{hba1c_percent: {value}}}\n" if value is not None else ""
    return CASE.replace("requests:\n", labs + "requests:\n", 1)


def _rule_test(name: str, value: float, verdict: str, basis: str) -> str:
    body = "\n".join("  " + line for line in _case(value).splitlines() if not line.startswith("#"))
    return (f"name: {name}\ncase:\n{body}\nexpect:\n  lines:\n"
            f"    \"1:22633:L4-5\": {{verdict: {verdict}, basis: {basis}}}\n")


@pytest.fixture(scope="module")
def labs_kb(tmp_path_factory) -> Path:
    kb = tmp_path_factory.mktemp("labs") / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("corpus", "tests", "__pycache__", "policies",
                                                                  "policies.yaml"))
    _without_bundled_labs(kb)
    schema = (kb / "case-schema.yaml").read_text(encoding="utf-8")
    (kb / "case-schema.yaml").write_text(schema.replace("  requests:\n", SCHEMA_ADDITION + "  requests:\n", 1),
                                         encoding="utf-8")
    with (kb / "facts.dl").open("a", encoding="utf-8") as handle:
        handle.write(FACTS)
    words = (kb / "words.yaml").read_text(encoding="utf-8")
    for section, addition in WORDS.items():
        assert f"\n{section}" in words
        words = words.replace(f"\n{section}", "\n" + addition, 1)
    (kb / "words.yaml").write_text(words, encoding="utf-8")
    with (kb / "families" / "fusion.dl").open("a", encoding="utf-8") as handle:
        handle.write(RULES)
    fhir_map = (kb / "fhir-map.yaml").read_text(encoding="utf-8")
    anchor = "\n\n# Observations that only serve"
    assert anchor in fhir_map
    (kb / "fhir-map.yaml").write_text(fhir_map.replace(anchor, "\n" + FHIR_ROW + anchor[1:], 1), encoding="utf-8")
    tests = kb / "tests"
    tests.mkdir()
    (tests / "glycemic-met.yaml").write_text(_rule_test("HbA1c below 8%", 7.1, "medically_necessary",
                                                        "criteria_met"), encoding="utf-8")
    (tests / "glycemic-unmet.yaml").write_text(_rule_test("HbA1c at 8.5%", 8.5, "not_medically_necessary",
                                                          "criterion_unmet"), encoding="utf-8")
    return kb


def _without_bundled_labs(kb: Path) -> None:
    """The bundled kb reads HbA1c itself (in its `strict` policy): take that out of the copy, one
    policy without labs, so that this test adds the field from nothing."""
    import re

    schema = (kb / "case-schema.yaml").read_text(encoding="utf-8")
    schema, count = re.subn(r"  labs:\n(    .*\n)+?(?=  conservative_care:)", "", schema)
    assert count == 1
    (kb / "case-schema.yaml").write_text(schema, encoding="utf-8")
    words = (kb / "words.yaml").read_text(encoding="utf-8")
    words, count = re.subn(r"  glycemic_control:\n(    .*\n|      .*\n)+", "", words)
    assert count == 1
    words = re.sub(r"  labs\.hba1c_percent: .*\n", "", words)
    (kb / "words.yaml").write_text(words, encoding="utf-8")
    fhir_map = (kb / "fhir-map.yaml").read_text(encoding="utf-8")
    (kb / "fhir-map.yaml").write_text(re.sub(r'  - \{field: "labs\.hba1c_percent".*\n', "", fhir_map),
                                      encoding="utf-8")


def _write(tmp_path: Path, value: float | None) -> Path:
    path = tmp_path / f"case-{value}.yaml"
    path.write_text(_case(value), encoding="utf-8")
    return path


def _line(run_cli, kb: Path, case: Path) -> dict:
    result = run_cli("decide", str(case), "--format", "json", "--kb", str(kb))
    assert result.exit_code == 0, result.output
    return next(ln for ln in json.loads(result.stdout)["stages"][0]["lines"] if ln["code"] == "22633")


def test_check_accepts_the_new_field(run_cli, labs_kb):
    result = run_cli("check", "--kb", str(labs_kb))
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stderr


def test_decide_reads_the_field_in_all_three_states(run_cli, labs_kb, tmp_path):
    met = _line(run_cli, labs_kb, _write(tmp_path, 7.1))
    assert (met["verdict"], met["basis"]) == ("medically_necessary", "criteria_met")
    assert any(r["rule"] == "glycemic.controlled" and "7.1%" in r["text"] for r in met["reasons"])
    unmet = _line(run_cli, labs_kb, _write(tmp_path, 8.5))
    assert (unmet["verdict"], unmet["basis"]) == ("not_medically_necessary", "criterion_unmet")
    missing = _line(run_cli, labs_kb, _write(tmp_path, None))
    assert (missing["verdict"], missing["basis"]) == ("cannot_be_determined", "documentation_missing")
    assert {"item": "HbA1c", "field": "labs.hba1c_percent", "criterion": "glycemic_control"} \
        in missing["missing_documentation"]
    # the bundled kb, whose reference policy has no such criterion, accepts the field and ignores it
    result = run_cli("decide", str(_write(tmp_path, 7.1)), "--format", "json", "--as-of", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "glycemic_control" not in result.stdout


def test_why_and_why_not_explain_the_criterion(run_cli, labs_kb, tmp_path):
    why = run_cli("why", str(_write(tmp_path, 8.5)), "22633", "--level", "L4-5", "--kb", str(labs_kb), "--ids")
    assert why.exit_code == 0, why.output
    assert "rule glycemic.uncontrolled" in why.stdout
    assert "HbA1c is 8.5%, at or above the 8% threshold" in why.stdout
    assert "field: labs.hba1c_percent" in why.stdout
    why_not = run_cli("why-not", str(_write(tmp_path, None)), "22633", "--level", "L4-5", "--kb", str(labs_kb))
    assert why_not.exit_code == 0, why_not.output
    assert "• glycaemic control — not documented" in why_not.stdout
    assert "the policy asks for: an HbA1c below 8%" in why_not.stdout   # the threshold read from the kb
    assert "not documented: HbA1c" in why_not.stdout
    assert "  - HbA1c: less than 8%" in why_not.stdout                   # the smallest documentation


def test_rule_tests_and_coverage_run_on_the_new_criterion(run_cli, labs_kb):
    result = run_cli("test", "--kb", str(labs_kb))
    assert result.exit_code == 0, result.output
    coverage = run_cli("test", "--coverage", "--format", "json", "--kb", str(labs_kb))
    assert coverage.exit_code == 0, coverage.output
    assert "glycemic.controlled" in coverage.stdout and "glycemic.uncontrolled" in coverage.stdout


def test_generate_fills_the_field(run_cli, labs_kb, tmp_path):
    import yaml

    out = tmp_path / "cases"
    result = run_cli("generate", "--count", "40", "--seed", "1", "-o", str(out), "--kb", str(labs_kb))
    assert result.exit_code == 0, result.output  # every case is validated by the labs kb first
    paths = sorted(out.glob("case-*.yaml"))
    cases = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]
    values = [c["labs"]["hba1c_percent"] for c in cases if "labs" in c]
    assert 5 <= len(values) < len(cases)  # documented in some cases, left out in others
    assert all(3 <= v <= 20 for v in values)
    assert all("labs.hba1c_percent=" in p.read_text(encoding="utf-8") for p in paths)  # header states
    # the other draws are those of the bundled kb: the same cases apart from the new field
    bundled = tmp_path / "bundled"
    assert run_cli("generate", "--count", "40", "--seed", "1", "-o", str(bundled)).exit_code == 0
    for case, path in zip(cases, sorted(bundled.glob("case-*.yaml"))):
        case.pop("labs", None)
        assert case == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_schema_describes_the_field(run_cli, labs_kb):
    result = run_cli("schema", "--kb", str(labs_kb))
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    field = schema["$defs"]["Labs"]["properties"]["hba1c_percent"]["anyOf"][0]
    assert (field["minimum"], field["maximum"]) == (3, 20)
    markdown = run_cli("schema", "--format", "markdown", "--kb", str(labs_kb)).stdout
    assert "| `labs.hba1c_percent` | number | 3 to 20, percent | glycated haemoglobin |" in markdown


def test_import_fhir_maps_the_new_observation(run_cli, labs_kb, tmp_path):
    pytest.importorskip("fhir.resources.R4B", reason="the FHIR extra (warrant[fhir]) is not installed")
    bundle = json.loads((ROOT / "tests" / "fhir" / "fusion-met.bundle.json").read_text(encoding="utf-8"))
    smoking = next(e for e in bundle["entry"] if e["resource"].get("id") == "smoking")
    lab = copy.deepcopy(smoking)
    lab["fullUrl"] = "http://example.org/fhir/Observation/hba1c"
    resource = lab["resource"]
    resource.pop("valueCodeableConcept")
    resource.update(id="hba1c", code={"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                    valueQuantity={"value": 7.1, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
    bundle["entry"].append(lab)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, indent=1), encoding="utf-8")
    result = run_cli("import", "fhir", str(path), "--format", "json", "--kb", str(labs_kb))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["labs"] == {"hba1c_percent": 7.1}
    line = _line(run_cli, labs_kb, path)
    assert (line["verdict"], line["basis"]) == ("medically_necessary", "criteria_met")
