"""`warrant check` catches the mistakes a rule author makes in the kb's own tables and sentences,
each at the position of the fact or annotation that holds it (exit code 4)."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

import cli
from conftest import ROOT


@pytest.fixture
def kb_copy(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("tests", "corpus", "__pycache__"))
    return kb


def check(kb) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["check", "--kb", str(kb)])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def test_a_criterion_no_rule_can_decide_is_an_error_at_its_fact(kb_copy):
    fusion = kb_copy / "families" / "fusion.dl"
    text = fusion.read_text(encoding="utf-8")
    fusion.write_text(text + "family_criterion(fusion, tobaco_free, required).\n", encoding="utf-8")
    line = text.count("\n") + 1
    code, err = check(kb_copy)
    assert code == 4
    assert f"kb/families/fusion.dl:{line}:1: family_criterion lists the criterion tobaco_free, but no " \
           "criterion_met or criterion_unmet rule can ever decide it" in err


def test_a_criterion_some_rule_decides_passes(kb_copy):
    fusion = kb_copy / "families" / "fusion.dl"
    fusion.write_text(fusion.read_text(encoding="utf-8") + "family_criterion(fusion, deformity, required).\n",
                      encoding="utf-8")
    code, err = check(kb_copy)
    assert code == 0, err


def test_a_code_no_family_claims_is_an_error_at_its_fact(kb_copy):
    codes = kb_copy / "codes.dl"
    text = codes.read_text(encoding="utf-8")
    codes.write_text(text + "code_label('22899', 'an unlisted spine procedure').\n", encoding="utf-8")
    line = text.count("\n") + 1
    code, err = check(kb_copy)
    assert code == 4
    assert f"kb/codes.dl:{line}:1: code_label names code '22899', which no code_family fact assigns to a " \
           "family" in err


def test_a_sentence_placeholder_without_a_value_is_an_error(kb_copy):
    extra = kb_copy / "extra.dl"
    extra.write_text("%@ pred lonely(Line)\n%@ holds line {Line} is lonely\n%@ missing line {Line} is not lonely\n"
                     "\n%@ rule extra.lonely\n%@ cite cpt-coding\n%@ says line {L} has no code {C}\n"
                     "lonely(L) :- line_stage(L, _), \\+ line_code(L, C).\n"
                     "\n%@ rule extra.uses\n%@ cite cpt-coding\n%@ says {L} is used\n"
                     "criterion_met(L, lonely) :- lonely(L).\n", encoding="utf-8")
    code, err = check(kb_copy)
    assert code == 4
    assert "kb/extra.dl:5:1: rule extra.lonely says {C}, but C has no value when the rule holds" in err
