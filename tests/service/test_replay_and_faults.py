"""`warrant replay` against stored decisions, and the service riding out a database outage
(PostgreSQL stopped and started again under a running app)."""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import FHIR, ROOT, yaml_post

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


def _fill(client):
    ids = [yaml_post(client, REFERENCE).json()["id"], yaml_post(client, FHIR / "fusion-met.yaml").json()["id"]]
    submitted = client.post("/fhir/Claim/$submit", content=(FHIR / "fusion-instability-facet-resection.bundle.json")
                            .read_bytes(), headers={"Content-Type": "application/fhir+json"})
    assert submitted.status_code == 200
    hook = client.post("/cds-services/warrant-order-sign",
                       content=(ROOT / "tests" / "service" / "crd-order-sign-fusion.json").read_bytes(),
                       headers={"Content-Type": "application/json"})
    assert hook.status_code == 200
    return ids


def test_replay_with_the_same_kb_changes_nothing(client, run_cli, tmp_path):
    _fill(client)
    url = client.app.state.warrant.store.url
    result = run_cli("replay", "--all", "--db", url, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4 and not any(r["changed"] for r in rows)
    assert "4 replayed, 0 would change" in result.stderr


def test_replay_shows_what_a_kb_change_would_change(client, run_cli, tmp_path):
    ids = _fill(client)
    changed = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", changed, ignore=shutil.ignore_patterns("corpus", "tests"))
    constants = changed / "constants.dl"
    text = constants.read_text()
    # the fusion case's stenosis grade no longer reaches the threshold: its fusion line flips
    assert "threshold(spondylolisthesis_grade, 1)." in text
    constants.write_text(text.replace("threshold(spondylolisthesis_grade, 1).", "threshold(spondylolisthesis_grade, 2)."))
    url = client.app.state.warrant.store.url
    result = run_cli("replay", ids[1], ids[0], "--db", url, "--kb", str(changed))
    assert result.exit_code == 0, result.output
    assert "1:22633:L4-5" in result.stdout and "medically_necessary (criteria_met) ->" in result.stdout
    assert "decided with" in result.stdout  # the recorded digest differs from the kb replayed with
    missing = run_cli("replay", "0" * 32, "--db", url)
    assert "not_found" in missing.stdout
    assert run_cli("replay", "--db", url).exit_code == 2


def test_database_outage_gives_503_then_recovers_without_restart(make_client, pg_server):
    client = make_client(db_url=pg_server.create_database("outage"))
    assert yaml_post(client, REFERENCE).status_code == 201
    pg_server.stop()
    try:
        down = yaml_post(client, REFERENCE)
        assert down.status_code == 503 and down.json()["error"]["code"] == "store_unavailable"
        assert client.get("/healthz").status_code == 503
        assert client.get("/api/v1/decisions").status_code == 503
    finally:
        pg_server.start()
    assert yaml_post(client, REFERENCE).status_code == 201
    assert client.get("/healthz").status_code == 200
    assert client.app.state.warrant.store.counts()["decisions"] == 2


def test_serve_starts_workers_that_share_one_store(tmp_path):
    """`warrant serve --workers 2` as users start it: config reaches the workers, tokens hold."""
    import http.client
    import os
    import signal
    import subprocess
    import sys

    import pg

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("intake:0123456789abcdef0123\n")
    port = pg.free_port()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    warrant = os.path.join(os.path.dirname(sys.executable), "warrant")
    proc = subprocess.Popen([warrant, "serve", "--port", str(port), "--db", db, "--workers", "2",
                             "--token-file", str(tokens)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def call(method, path, body=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/yaml"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()

    try:
        def up():
            try:
                return call("GET", "/healthz")[0] == 200
            except OSError:
                return False

        assert pg.wait_until(up, 60), proc.stdout.read1().decode()
        body = REFERENCE.read_bytes()
        assert call("POST", "/api/v1/decisions", body)[0] == 401
        statuses = [call("POST", "/api/v1/decisions", body, "0123456789abcdef0123")[0] for _ in range(4)]
        assert statuses == [201] * 4
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None  # it stopped on SIGINT
    from engine.service.store import Search, Store

    store = Store(db, migrate=False)
    assert store.counts()["decisions"] == 4
    assert {d["caller"] for d in store.search(Search())["items"]} == {"intake"}
    store.close()
