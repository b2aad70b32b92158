"""The service under dated policies: a decision records the policy version that decided it,
explanations and replay reopen it under that version, the workbench catalog lists the table."""
from __future__ import annotations

import json

import pytest
from conftest import ROOT, yaml_post

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


def test_a_strict_decision_is_explained_and_replayed_under_strict(client, run_cli):
    ident = yaml_post(client, REFERENCE, policy="strict", as_of="2026-08-15").json()["id"]
    stored = client.get(f"/api/v1/decisions/{ident}").json()
    assert stored["policy"]["id"] == "strict"
    why = client.get(f"/api/v1/decisions/{ident}/why", params={"line": "1:22558:L2-3"})
    assert why.status_code == 200, why.text
    url = client.app.state.warrant.store.url
    result = run_cli("replay", ident, "--db", url, "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert not row["changed"] and row["recorded_policy"]["id"] == "strict"


def test_the_workbench_catalog_is_the_policy_table(client):
    from engine.service.ui.policies import Catalog

    catalog = Catalog(client.app.state.warrant.kb, [])
    selectors = [e.selector for e in catalog.entries()]
    assert selectors[:3] == ["reference@1.0", "reference@1.1", "strict@1.0"]
    results = catalog.decide_under(["reference@1.0", "strict@1.0"],
                                   {**_reference_case(), "received": "2026-08-01"})
    assert [r["decision"]["stages"][0]["policy"]["id"] for r in results] == ["reference", "strict"]


def _reference_case() -> dict:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(REFERENCE.read_text(encoding="utf-8"))
