"""Issue 17, items 7 and 10: hangs and unbounded work are refused with clear errors, and every
hostile input gets its documented exit code (2 usage, 3 case or bundle, 4 kb), never 1."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.guard.limits import LIMITS

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / "kb"
REFERENCE = KB / "examples" / "reference-case.yaml"
BUNDLE = ROOT / "tests" / "fhir" / "fusion-met.bundle.json"
posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev")


def _kb_with(tmp_path: Path, name: str = "extra.dl", text: str | None = None) -> Path:
    """A copy of the bundled kb's policy files, plus one hostile file."""
    root = tmp_path / "kb"
    shutil.copytree(KB, root, ignore=shutil.ignore_patterns("corpus", "tests", "examples", "__pycache__"))
    if text is not None:
        (root / name).write_text(text, encoding="utf-8")
    return root


def _pred(name: str, arity: int = 1) -> str:
    params = ", ".join(f"A{i}" for i in range(arity))
    return f"%@ pred {name}({params})\n%@ holds {name} holds\n%@ missing {name} does not hold\n"


def _rule(rule_id: str, clause: str) -> str:
    return f"%@ rule {rule_id}\n%@ cite cpt-coding\n%@ says {rule_id} applies\n{clause}\n"


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


# ------------------------------------------------------------------------------ item 7: hangs
@posix_only
def test_a_fifo_or_device_is_refused_wherever_a_file_is_read(tmp_path):
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    result = _cli("decide", str(fifo), timeout=60)
    assert result.returncode == 3 and "FIFO" in result.stderr and result.stdout == ""
    kb = _kb_with(tmp_path)
    (kb / "zero.dl").symlink_to("/dev/zero")
    result = _cli("check", "--kb", str(kb), timeout=60)
    assert result.returncode == 4 and "character device" in result.stderr
    (kb / "zero.dl").unlink()
    os.mkfifo(kb / "pipe.dl")
    result = _cli("decide", str(REFERENCE), "--kb", str(kb), timeout=60)
    assert result.returncode == 4 and "FIFO" in result.stderr


def test_an_oversized_kb_file_is_refused(tmp_path, run_cli):
    kb = _kb_with(tmp_path, "big.dl", "% " + "x" * (LIMITS.kb_file_bytes + 10) + "\n")
    result = run_cli("check", "--kb", str(kb))
    assert result.exit_code == 4 and "big.dl" in result.stderr and "bytes" in result.stderr


def test_a_case_asking_for_hundreds_of_stages_is_refused_quickly(tmp_path, run_cli):
    from ruamel.yaml import YAML

    case = YAML(typ="safe", pure=True).load(REFERENCE.read_text(encoding="utf-8"))
    requests = []
    for stage in range(1, 801):
        request = copy.deepcopy(case["requests"][stage % 2])
        request["stage"] = stage
        requests.append(request)
    case["requests"] = requests
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    assert path.stat().st_size < LIMITS.case_bytes
    result = run_cli("decide", str(path))
    assert result.exit_code == 3 and result.stdout == ""
    assert f"at most {LIMITS.stages}" in result.stderr and f"at most {LIMITS.lines}" in result.stderr


def test_a_rule_with_thousands_of_body_literals_fails_check(tmp_path, run_cli):
    body = ", ".join(f"wide_in(X{i})" for i in range(5000))
    text = _pred("wide_in") + "wide_in(1).\n" + _pred("wide") + _rule("wide.rule", f"wide(X0) :- {body}.")
    result = run_cli("check", "--kb", str(_kb_with(tmp_path, "wide.dl", text)))
    assert result.exit_code == 4
    assert "wide.dl:" in result.stderr and "5000 body literals" in result.stderr


def test_a_rule_chain_thousands_deep_fails_check(tmp_path, run_cli):
    parts = [_pred("chain0"), "chain0(1).\n"]
    for i in range(1, 3001):
        parts += [_pred(f"chain{i}"), _rule(f"chain.r{i}", f"chain{i}(X) :- chain{i - 1}(X).")]
    result = run_cli("check", "--kb", str(_kb_with(tmp_path, "chain.dl", "".join(parts))))
    assert result.exit_code == 4
    assert "chain.dl:" in result.stderr and "chain of 3001 predicates" in result.stderr


BAD_TEMPLATES = {
    "loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "string": "{{ 'x' * 1000000000 }}",
    "padding": "{{ 'x' | center(1000000000) }}",
    "doubling": "{% set ns = namespace(s='xy') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "format": "{{ '{:>999999999}'.format(1) }}",
    "self_include": "{% include 'report.md.j2' %}",
    "recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
}


@pytest.mark.parametrize("name", sorted(BAD_TEMPLATES))
def test_report_templates_cannot_loop_allocate_or_recurse_without_bound(tmp_path, run_cli, name):
    kb = _kb_with(tmp_path)
    (kb / "templates" / "report.md.j2").write_text(BAD_TEMPLATES[name], encoding="utf-8")
    result = run_cli("report", str(REFERENCE), "--kb", str(kb))
    assert result.exit_code == 4 and "report template error" in result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------------------------ item 10: exit codes
def test_yaml_1_3_directive_is_an_invalid_case(tmp_path, run_cli):
    path = tmp_path / "c.yaml"
    path.write_text("%YAML 1.3\n---\n" + REFERENCE.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli("decide", str(path))
    assert result.exit_code == 3 and "c.yaml:" in result.stderr


def _bundle() -> dict:
    return json.loads(BUNDLE.read_text(encoding="utf-8"))


def _claim(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")


def test_fhir_extensions_nested_150_deep_are_an_invalid_bundle(tmp_path, run_cli):
    bundle = _bundle()
    extension: dict = {"url": "http://example.org/x", "valueString": "z"}
    for _ in range(150):
        extension = {"url": "http://example.org/x", "extension": [extension]}
    _claim(bundle).setdefault("extension", []).append(extension)
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run_cli("decide", str(path))
    assert result.exit_code == 3 and "nested more than" in result.stderr


def test_a_stay_of_1e300_days_is_an_invalid_bundle_in_fhir_form(tmp_path, run_cli):
    pytest.importorskip("fhir.resources")
    bundle = _bundle()
    stays = [i for i in _claim(bundle)["supportingInfo"] if "valueQuantity" in i]
    stays[0]["valueQuantity"]["value"] = 1e300
    path = tmp_path / "stay.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run_cli("decide", str(path), "--format", "fhir")
    assert result.exit_code == 3 and "1e+300 days" in result.stderr and result.stdout == ""


def test_a_5000_digit_number_is_a_kb_error_in_rules_and_a_usage_error_in_a_query(tmp_path, run_cli):
    digits = "9" * 5000
    text = _pred("huge") + f"huge({digits}).\n"
    result = run_cli("check", "--kb", str(_kb_with(tmp_path, "huge.dl", text)))
    assert result.exit_code == 4 and "huge.dl:4:6: a number of 5000 digits" in result.stderr
    result = run_cli("query", str(REFERENCE), f"X = {digits}")
    assert result.exit_code == 2 and "5000 digits" in result.stderr


def test_a_sum_over_atoms_fails_check_and_a_query_summing_atoms_is_a_usage_error(tmp_path, run_cli):
    text = (_pred("units_total") + _rule("units.total",
            "units_total(S) :- aggregate_all(sum(U), code_unit(_, U), S)."))
    result = run_cli("check", "--kb", str(_kb_with(tmp_path, "sum.dl", text)))
    assert result.exit_code == 4 and "sum.dl:" in result.stderr and "sum adds numbers only" in result.stderr
    result = run_cli("query", str(REFERENCE), "aggregate_all(sum(U), code_unit(_, U), S)")
    assert result.exit_code == 2 and "sum adds numbers only" in result.stderr
    shell = run_cli("shell", str(REFERENCE), input="query aggregate_all(sum(U), code_unit(_, U), S)\n"
                                                    "query code_unit('22633', U)\n")
    assert shell.exit_code == 0
    assert "sum adds numbers only" in shell.stdout and "segment" in shell.stdout  # the shell went on


def test_an_empty_kb_is_not_ok(tmp_path, run_cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("check", "--kb", str(empty))
    assert result.exit_code == 4 and "no rule files" in result.stderr
