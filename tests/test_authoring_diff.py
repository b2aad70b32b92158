"""`warrant diff` and `warrant summarize` over a small sample of cases."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import REFERENCE, ROOT

SAMPLE = [str(ROOT / "kb" / "corpus" / f"case-{n:04d}.yaml") for n in (1, 2, 3, 4, 5)]


def test_kb_changes_pairs_threshold_facts(kb, tmp_path):
    from engine.authoring.kbdiff import kb_changes
    from engine.knowledge.base import KnowledgeBase

    copy = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", copy, ignore=shutil.ignore_patterns("corpus", "tests"))
    constants = copy / "constants.dl"
    constants.write_text(constants.read_text().replace("threshold(angulation_deg, 10).",
                                                       "threshold(angulation_deg, 12)."))
    definitions = copy / "definitions.dl"
    text = definitions.read_text()
    rule = "threshold(translation_mm, M), V >= M."
    assert text.count(rule) == 1
    definitions.write_text(text.replace(rule, "threshold(translation_mm, M), V > M."))
    changes = kb_changes(kb, KnowledgeBase.load(copy))
    assert [(c["base"], c["head"]) for c in changes["facts"]] == [
        ("threshold(angulation_deg, 10)", "threshold(angulation_deg, 12)")]
    assert [(c["rule"], c["change"]) for c in changes["rules"]] == [("instability.translation", "changed")]


def test_same_kb_flips_nothing(run_cli):
    result = run_cli("diff", "--base", str(ROOT / "kb"), "--head", str(ROOT / "kb"), *SAMPLE, str(REFERENCE),
                     "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cases"] == 6 and data["flips"] == [] and data["errors"] == []
    assert data["kb_changes"] == {"facts": [], "rules": []}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_revision_as_base(run_cli):
    inside = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    result = run_cli("diff", "--base", "git:HEAD", SAMPLE[0], "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Knowledge base diff")
    assert "base: `git:HEAD`" in result.output
    bad = run_cli("diff", "--base", "git:no-such-revision-xyz", SAMPLE[0])
    assert bad.exit_code == 2 and "no commit" in bad.stderr


def test_invalid_cases_are_listed_and_exit_3(run_cli, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: warrant-case/1\ncase_id: x\nrequests: []\n")
    result = run_cli("diff", "--base", str(ROOT / "kb"), SAMPLE[0], str(broken))
    assert result.exit_code == 3
    assert f"could not read {broken}" in result.output


def test_summarize_formats(run_cli):
    result = run_cli("summarize", *SAMPLE, str(REFERENCE), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["cases"] == 6
    codes = {c["code"]: c for c in data["codes"]}
    assert codes["22633"]["counts"]["cannot_be_determined"] >= 1
    assert any(u["criterion"] == "stenosis_compression" for u in data["unmet_criteria"])
    fields = [m["field"] for m in data["missing_fields"]]
    assert "requests[].procedures[].levels" in fields
    assert all("L4-5" not in f for f in fields)  # general form: levels folded into *
    text = run_cli("summarize", *SAMPLE, str(REFERENCE))
    assert "verdicts per code:" in text.output and "most frequent unmet criteria" in text.output
    markdown = run_cli("summarize", str(REFERENCE), "--format", "markdown")
    assert "| 22633 |" in markdown.output


def test_general_field(kb):
    from engine.authoring.summary import general_field

    assert general_field("imaging[].segments.L4-5.translation_mm", kb.levels) == "imaging[].segments.*.translation_mm"
    assert general_field("requests[1].procedures[12].levels", kb.levels) == "requests[].procedures[].levels"
    assert general_field("si_joint.right.pain_below_l5", kb.levels) == "si_joint.right.pain_below_l5"
