"""The per-policy rule tests in kb/tests/policies (POLICIES.md sections 2-4), one pytest case per file.

`warrant test` walks kb/tests with its subfolders, but tests/test_kb_determinations.py globs only
the top folder and decides without policy selection; here each policy test runs through
`warrant test` on its own, so a failure names its file and shows the expected/actual diff.
"""
from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT

POLICY_TESTS = sorted((ROOT / "kb" / "tests" / "policies").rglob("*.yaml"))


@pytest.mark.parametrize("path", POLICY_TESTS, ids=[p.stem for p in POLICY_TESTS])
def test_policy_rule_test(run_cli, path):
    result = run_cli("test", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip("\n").splitlines()[-1] == "1 passed, 0 failed"


def _pinned(spec: dict) -> bool:
    """Whether the test decides the same on any day: a pinned version, an as-of date, or a date in
    the case for every stage (POLICIES.md section 4: else the day the decision is made)."""
    if spec.get("as_of") or "@" in str(spec.get("policy") or ""):
        return True
    case = spec["case"]
    return bool(case.get("received")) or all(r.get("date_of_service") for r in case["requests"])


def test_policy_tests_do_not_depend_on_the_day_they_run():
    yaml = YAML(typ="safe")
    loose = [p.name for p in POLICY_TESTS if not _pinned(yaml.load(p.read_text(encoding="utf-8")))]
    assert len(POLICY_TESTS) >= 30
    assert not loose, f"pin a version, as_of or a case date in: {loose}"
