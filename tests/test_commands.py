"""The smaller commands: shell, query, facts, rules, check, export, schema."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

import cli
from tests.conftest import REFERENCE, ROOT


def test_shell_reads_piped_input(run_cli):
    script = ("?- stage_verdict(S, V).\nwhy 22558 L2-3\nwhy 22558 L2-3 --ids\nwhy-not 22633 L4-5\n"
              "why-not 22633 L4-5 --tree --ids\nfacts line_level\nrules stenosis.no\nbad(\nquit\n")
    out = run_cli("shell", str(REFERENCE), input=script).stdout
    assert "1  not_medically_necessary" in out and "2  partially_medically_necessary" in out
    assert "✔ 22558 at L2-3 keeps its own verdict: not medically necessary (criterion not met)\n" in out
    assert "[line_verdict('1:22558:L2-3', not_medically_necessary, criterion_unmet); rule verdict.own" in out
    assert "What stands in the way:" in out and "  • instability at the level — not documented" in out
    assert "✘ 22633 at L4-5 does not get the verdict medically necessary   [line_verdict('2:22633:L4-5', medically_necessary, _)]" in out
    assert "line_level('1:22558:L2-3', 'L2-3')." in out
    assert "stenosis.no_compression: criterion_unmet(L, stenosis_compression)" in out
    assert "error: <query>:1:" in out  # a bad goal is reported and the shell carries on


def test_query_table_and_json(run_cli):
    text = run_cli("query", str(REFERENCE), "line_verdict(L, V, dependent)").stdout
    assert text.splitlines()[0].split() == ["L", "V"]
    assert "'1:22853:L2-3'" in text
    data = json.loads(run_cli("query", str(REFERENCE), "stage_verdict(2, V)", "--format", "json").stdout)
    assert data == [{"V": "partially_medically_necessary"}]
    assert run_cli("query", str(REFERENCE), "stage_verdict(3, V)").stdout == "false.\n"
    assert run_cli("query", str(REFERENCE), "stage_verdict(1, not_medically_necessary)").stdout == "true.\n"


def test_query_errors_are_usage_of_the_language():
    result = CliRunner().invoke(cli.main, ["query", str(REFERENCE), "nosuch(X)"])
    assert result.exit_code == 2 and "<query>:1:1: nosuch/1 is not a predicate" in result.stderr
    result = CliRunner().invoke(cli.main, ["query", str(REFERENCE), "line_verdict(L, V, B), \\+ stage_verdict(S, V)"])
    assert result.exit_code == 2 and "<query>:1:24: unsafe variable S" in result.stderr
    result = CliRunner().invoke(cli.main, ["query", str(REFERENCE), "?- stage_verdict(1, V)."])
    assert result.exit_code == 0 and "not_medically_necessary" in result.stdout


def test_facts_prolog_and_json(run_cli):
    text = run_cli("facts", str(REFERENCE)).stdout
    assert "seg_finding(0, 'L2-3', neural_compression, false)." in text
    assert "line_code('2:22633:L4-5', '22633')." in text
    data = json.loads(run_cli("facts", str(REFERENCE), "--format", "json").stdout)
    assert [0, "L3-4", "spondylolisthesis_grade", 0] in data["seg_finding/4"]


def test_rules_lists_ids_citations_sentences(run_cli, kb):
    data = json.loads(run_cli("rules", "--format", "json").stdout)
    assert len(data) == sum(1 for c in kb.program.clauses if c.meta)
    rule = next(r for r in data if r["id"] == "stenosis.no_compression")
    assert rule["citations"] == ["aans-cns-2014", "evicore-cmm-608"]
    assert rule["says"] and rule["location"].startswith("kb/definitions.dl:")


def test_check_is_clean_on_the_bundled_kb():
    result = CliRunner().invoke(cli.main, ["check"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("ok: ")
    assert "0 warnings" in result.stderr


def test_check_reports_errors_with_positions_and_exit_4(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("tests", "corpus", "__pycache__"))
    bad = kb / "extra.dl"
    bad.write_text("%@ rule extra.one\n%@ cite nowhere\n%@ says x\nextra(X) :- \\+ line_code(X, _).\n",
                   encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["check", "--kb", str(kb)])
    assert result.exit_code == 4
    assert "extra.dl:2:1: rule extra.one cites 'nowhere'" in result.stderr
    assert "extra.dl:4:13: unsafe variable X in the negation" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_writes_a_consultable_program(run_cli, tmp_path):
    out = tmp_path / "kb.pl"
    assert run_cli("export", "--prolog", "-o", str(out)).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert ":- dynamic " in text and ":- table " in text
    assert "line_verdict(L, V, B) :-" in text or "line_verdict(" in text
    if shutil.which("swipl"):
        import subprocess

        run = subprocess.run(["swipl", "-q", "-g", "halt", str(out)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and "Warning" not in run.stderr and "ERROR" not in run.stderr, run.stderr


def test_schema_is_json_schema(run_cli):
    schema = json.loads(run_cli("schema").stdout)
    assert schema["type"] == "object"
    assert set(schema["required"]) >= {"format", "case_id", "requests"}


def test_shell_survives_bad_arguments(run_cli):
    out = run_cli("shell", str(REFERENCE), input="why 22633 stage x\nwhy 'unbalanced\n"
                  "why-not 22633 L4-5 --verdict bogus\n?- stage_verdict(1, V).\nquit\n").stdout
    assert out.count("error:") == 3
    assert "not_medically_necessary" in out


def test_unwritable_output_is_a_usage_error_without_leftovers(tmp_path):
    target = tmp_path / "missing-dir" / "report.md"
    result = CliRunner().invoke(cli.main, ["report", str(REFERENCE), "-o", str(target)])
    assert result.exit_code == 2 and f"cannot write {target}" in result.stderr
    assert not (tmp_path / "missing-dir").exists()


def test_why_not_verdict_must_be_a_kb_verdict():
    result = CliRunner().invoke(cli.main, ["why-not", str(REFERENCE), "22633", "--level", "L4-5", "--verdict", "maybe"])
    assert result.exit_code == 2 and "is not a verdict of this knowledge base" in result.stderr


def test_case_fields_doc_is_generated_from_the_schema(run_cli):
    """docs/case-fields.md is `warrant schema --format markdown`; regenerate it after editing
    kb/case-schema.yaml: warrant schema --format markdown > docs/case-fields.md"""
    result = run_cli("schema", "--format", "markdown")
    assert result.exit_code == 0
    assert (ROOT / "docs" / "case-fields.md").read_text(encoding="utf-8") == result.stdout
    assert "| `imaging[].segments.*.translation_mm` | number | at least 0, mm |" in result.stdout


def test_lazy_command_table_matches_the_modules():
    """cli.py imports a command's module only when it runs: its table must name every command."""
    import importlib

    for module, names in cli.COMMAND_MODULES.items():
        commands = importlib.import_module(f"engine.cmd.{module}").COMMANDS
        assert tuple(c.name for c in commands) == names, module
    assert sorted(cli.main.list_commands(None)) == sorted(n for names in cli.COMMAND_MODULES.values() for n in names)
