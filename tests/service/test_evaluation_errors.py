"""A decision that runs out of the kb's evaluation budget is the request's problem (422, nothing
stored), not a server fault."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.service.conftest import yaml_post

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


@pytest.fixture
def starved_client(tmp_path):
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.config import ServiceConfig
    from engine.service.decider import Decider

    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    meta = yaml.safe_load((kb / "kb.yaml").read_text(encoding="utf-8"))
    meta["evaluation"] = {"steps": 50}
    (kb / "kb.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    (kb / "examples" / "reference-case.yaml").unlink()   # the warm-up decision would run out too
    decider = Decider(kb, time_limit=30)
    app = create_app(ServiceConfig(db_url=f"sqlite:///{tmp_path / 'api.db'}", kb_dir=str(kb)),
                     decider=decider)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
        client.app.state.warrant.store.close()
    decider.close()


def test_a_decision_over_the_budget_is_422_and_not_stored(starved_client):
    answer = yaml_post(starved_client, REFERENCE)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "budget_exceeded"
    listed = starved_client.get("/api/v1/decisions")
    assert listed.status_code == 200 and listed.json()["items"] == []
