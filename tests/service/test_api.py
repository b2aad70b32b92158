"""The JSON API through the ASGI test client: every endpoint, every error, limits and security."""
from __future__ import annotations

import logging

import pytest
from conftest import FHIR, ROOT, yaml_post

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


def test_healthz_names_the_kb_and_policy(client, kb):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["knowledge_base"] == {"version": kb.version, "digest": kb.digest}
    assert body["policies"] == [{"id": kb.meta["name"], "version": kb.version, "digest": kb.digest}]


def test_a_decision_is_created_stored_and_read_back(client, reference_decision):
    created = yaml_post(client, REFERENCE)
    assert created.status_code == 201
    body = created.json()
    assert body["decision"] == reference_decision          # the CLI's decision, byte for byte as data
    assert created.headers["location"] == f"/api/v1/decisions/{body['id']}"
    read = client.get(created.headers["location"])
    assert read.status_code == 200
    record = read.json()
    assert record["decision"] == reference_decision and record["channel"] == "api"
    assert record["outcome"] == "pended" and record["policy"]["digest"] == reference_decision["knowledge_base"]["digest"]
    raw = client.get(created.headers["location"] + "/request")
    assert raw.content == REFERENCE.read_bytes() and raw.headers["content-type"].startswith("application/yaml")


def test_json_cases_and_bundles_are_accepted(client, kb):
    from engine.decide.decision import decide
    from engine.inputs import open_session

    case = FHIR / "fusion-met.yaml"
    import yaml

    data = yaml.safe_load(case.read_text())
    got = client.post("/api/v1/decisions", json=data)
    assert got.status_code == 201 and got.json()["decision"] == decide(open_session(kb, case))
    bundle = client.post("/api/v1/decisions", content=(FHIR / "fusion-met.bundle.json").read_bytes(),
                         headers={"Content-Type": "application/fhir+json"})
    assert bundle.status_code == 201
    assert bundle.json()["decision"]["stages"] == got.json()["decision"]["stages"]


def test_an_invalid_case_lists_every_finding_and_stores_nothing(client):
    text = ("format: warrant-case/1\ncase_id: bad\nrequests:\n  - stage: 1\n"
            "    procedures: [{code: '22633', levels: [L9-9]}]\n    bogus: 1\n")
    got = client.post("/api/v1/decisions", content=text, headers={"Content-Type": "application/yaml"})
    assert got.status_code == 422
    error = got.json()["error"]
    assert error["code"] == "invalid_case"
    assert [(f["path"], f["line"]) for f in error["findings"]] == [
        ("requests[0].procedures[0].levels[0]", 5), ("requests[0].bogus", 6)]
    assert client.get("/api/v1/decisions").json()["items"] == []
    broken = client.post("/api/v1/decisions", content=b'{"format": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "Traceback" not in broken.text


def test_request_errors(client):
    assert client.post("/api/v1/decisions", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert yaml_post(client, REFERENCE, policy="someone-else").json()["error"]["code"] == "unknown_policy"
    bad_date = yaml_post(client, REFERENCE, as_of="March")
    assert bad_date.status_code == 422 and bad_date.json()["error"]["findings"][0]["path"] == "as_of"
    assert client.get("/api/v1/decisions/" + "0" * 32).status_code == 404
    assert client.get("/api/v1/decisions?limit=0").status_code == 422
    assert client.get("/api/v1/decisions?cursor=abc").status_code == 422
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_policy_and_as_of_are_recorded(client, kb):
    got = yaml_post(client, REFERENCE, policy="strict", as_of="2026-08-15")
    assert got.status_code == 201
    stored = client.get(got.headers["location"]).json()
    assert stored["as_of"] == "2026-08-15"
    assert stored["policy"]["id"] == "strict" and stored["policy"]["version"] == "1.0"
    stage = stored["decision"]["stages"][0]["policy"]
    assert (stage["id"], stage["version"], stage["as_of"]) == ("strict", "1.0", "2026-08-15")
    assert stored["policy"]["digest"] == stage["digest"]
    assert yaml_post(client, REFERENCE, policy="payer-x").status_code == 404
    assert yaml_post(client, REFERENCE, policy="strict", as_of="2026-01-15").status_code == 422


def test_bodies_over_the_limit_get_413(make_client):
    small = make_client(max_body=1000)
    assert yaml_post(small, REFERENCE).status_code == 413

    def chunks():  # no Content-Length: the limit still holds
        for _ in range(20):
            yield b"x" * 100

    assert small.post("/api/v1/decisions", content=chunks(),
                      headers={"Content-Type": "application/yaml"}).status_code == 413
    assert small.get("/api/v1/decisions").json()["items"] == []


def test_the_time_limit_gives_503_and_stores_nothing(tmp_path):
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.config import ServiceConfig
    from engine.service.decider import Decider

    slow = Decider(ROOT / "kb", time_limit=0.0005)
    app = create_app(ServiceConfig(db_url=f"sqlite:///{tmp_path / 'slow.db'}", time_limit=0.0005), decider=slow)
    with TestClient(app) as client:
        got = yaml_post(client, REFERENCE)
        assert got.status_code == 503 and got.json()["error"]["code"] == "time_limit"
        counts = app.state.warrant.store.counts()
        assert counts["decisions"] == 0 and counts["decision_lines"] == 0
        (event,) = client.get("/api/v1/audit").json()["items"][1:]  # the refused create, then this read
        assert event["action"] == "C" and event["outcome"] == "8"
    slow.close()


def test_search_filters(client):
    yaml_post(client, REFERENCE)
    yaml_post(client, FHIR / "fusion-met.yaml")
    assert len(client.get("/api/v1/decisions").json()["items"]) == 2
    fused = client.get("/api/v1/decisions", params={"code": "22633", "verdict": "medically_necessary"}).json()
    assert [d["case_id"] for d in fused["items"]] == ["t-fusion-met"]
    pended = client.get("/api/v1/decisions", params={"basis": "levels_not_specified"}).json()
    assert [d["case_id"] for d in pended["items"]] == ["reference-two-stage-revision"]
    assert client.get("/api/v1/decisions", params={"since": "2100-01-01"}).json()["items"] == []
    assert client.get("/api/v1/decisions", params={"since": "yesterday"}).status_code == 422


def test_explanations_of_a_stored_decision(client, kb):
    from engine.decide.decision import find_line, line_verdict
    from engine.decide.whynot import explain_absence
    from engine.inputs import open_session

    where = yaml_post(client, REFERENCE).headers["location"]
    why = client.get(where + "/why", params={"line": "1:22558:L2-3"}).json()
    assert why["kind"] == "conclusion" and "1:22558:L2-3" in why["label"]
    session = open_session(kb, REFERENCE)
    line = find_line(session, "22633", "L4-5")
    expected = explain_absence(session, line, "medically_necessary", line_verdict(session, line))
    assert client.get(where + "/why-not", params={"line": line.id}).json() == expected
    shallow = client.get(where + "/why-not", params={"line": line.id, "depth": 0}).json()
    assert "children" not in shallow["tree"]
    mermaid = client.get(where + "/graph", params={"line": line.id, "format": "mermaid"})
    assert mermaid.status_code == 200 and "flowchart" in mermaid.text
    graph = client.get(where + "/graph", params={"line": line.id, "format": "json"}).json()
    assert graph["nodes"]
    html = client.get(where + "/report", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    markdown = client.get(where + "/report")
    assert markdown.headers["content-type"].startswith("text/markdown") and "22633" in markdown.text
    assert client.get(where + "/report", params={"format": "doc"}).status_code == 422
    unknown = client.get(where + "/why", params={"line": "9:99999:-"})
    assert unknown.status_code == 400 and "1:22558:L2-3" in unknown.json()["error"]["message"]
    assert client.get(where + "/why").status_code == 422  # line is required
    assert client.get(where + "/why-not", params={"line": line.id, "verdict": "maybe"}).status_code == 400


def test_metrics_follow_the_stored_decisions(client):
    yaml_post(client, REFERENCE)
    yaml_post(client, FHIR / "fusion-met.yaml")
    yaml_post(client, FHIR / "fusion-met.yaml")
    m = client.get("/api/v1/metrics").json()
    assert m["total"] == 3 and m["approved"] == 2 and m["pended"] == 1
    assert m["by_code"]["22633"] == {"total": 3, "medically_necessary": 2, "cannot_be_determined": 1}
    assert m["time_to_decision"]["decisions"] == 3 and m["time_to_decision"]["within_72_hours"] == 1.0
    assert client.get("/api/v1/metrics", params={"since": "2100-01-01"}).json()["total"] == 0


def test_every_read_and_write_is_audited(client):
    where = yaml_post(client, REFERENCE).headers["location"]
    client.get(where)
    client.get("/api/v1/decisions/" + "0" * 32)
    client.get(where + "/why", params={"line": "1:22558:L2-3"})
    events = client.get("/api/v1/audit").json()["items"]
    seen = [(e["action"], e["subtype"][0]["code"], e["outcome"]) for e in reversed(events)]
    assert seen == [("C", "create", "0"), ("R", "read", "0"), ("R", "read", "4"), ("R", "read", "0"),
                    ("R", "search", "0")]
    decision_id = where.rsplit("/", 1)[1]
    assert events[-1]["entity"] == [{"what": {"reference": f"Decision/{decision_id}"}}]


def test_bearer_tokens(make_client, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# callers\nintake:0123456789abcdef0123\nanalyst:fedcba9876543210fedc\n")
    secured = make_client(token_file=str(tokens))
    assert yaml_post(secured, REFERENCE).status_code == 401
    denied = secured.get("/api/v1/decisions", headers={"Authorization": "Bearer wrong-token-wrong-token"})
    assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Bearer")
    text = REFERENCE.read_bytes()
    made = secured.post("/api/v1/decisions", content=text, headers={
        "Content-Type": "application/yaml", "Authorization": "Bearer 0123456789abcdef0123"})
    assert made.status_code == 201
    record = secured.get(made.headers["location"], headers={"Authorization": "Bearer fedcba9876543210fedc"}).json()
    assert record["caller"] == "intake"
    assert secured.get("/healthz").status_code == 200  # health checks need no token
    events = secured.get("/api/v1/audit", headers={"Authorization": "Bearer fedcba9876543210fedc"}).json()["items"]
    assert ("analyst", "R") in {(e["agent"][0]["who"]["display"], e["action"]) for e in events}
    assert ("unauthenticated", "C") in {(e["agent"][0]["who"]["display"], e["action"]) for e in events}


@pytest.mark.parametrize("content, message", [
    ("intake\n", "expected `name:token`"),
    ("intake:short\n", "shorter than 16"),
    ("a:0123456789abcdef0123\nb:0123456789abcdef0123\n", "repeats"),
    ("# nothing\n", "names no token"),
])
def test_bad_token_files_are_usage_errors(tmp_path, content, message):
    from engine.errors import UsageError
    from engine.service.config import Tokens

    path = tmp_path / "tokens.txt"
    path.write_text(content)
    with pytest.raises(UsageError, match=message) as caught:
        Tokens.read(path)
    assert "0123456789abcdef0123" not in str(caught.value)


def test_cors_is_off_by_default_and_on_when_asked(make_client):
    plain = make_client()
    asked = plain.get("/healthz", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in asked.headers
    open_to = make_client(cors_origins=["https://example.org"])
    assert open_to.get("/healthz", headers={"Origin": "https://example.org"}).headers[
        "access-control-allow-origin"] == "https://example.org"


def test_logs_carry_no_clinical_content(client, caplog):
    caplog.set_level(logging.DEBUG)
    yaml_post(client, REFERENCE)
    client.get("/api/v1/decisions", params={"code": "22633"})
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    for word in ("reference-two-stage-revision", "22633", "L4-5", "stenosis", "radiculopathy"):
        assert word not in logged


def test_a_failing_store_gives_503_and_acknowledges_nothing(client, monkeypatch):
    from engine.service.store import StoreUnavailable

    store = client.app.state.warrant.store

    def down(*args, **kwargs):
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(store, "save", down)
    got = yaml_post(client, REFERENCE)
    assert got.status_code == 503 and got.json()["error"]["code"] == "store_unavailable"
    assert got.headers["retry-after"]
    monkeypatch.undo()
    assert yaml_post(client, REFERENCE).status_code == 201
    assert store.counts()["decisions"] == 1


def test_serve_refuses_an_open_address_without_tokens(run_cli, tmp_path):
    result = run_cli("serve", "--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2 and "--token-file" in result.output
    tokens = tmp_path / "t.txt"
    tokens.write_text("bad line\n")
    result = run_cli("serve", "--token-file", str(tokens), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2 and "name:token" in result.output


def test_decide_imports_nothing_of_the_service():
    import subprocess
    import sys

    code = ("import sys, cli\n"
            "from click.testing import CliRunner\n"
            f"CliRunner().invoke(cli.main, ['decide', {str(REFERENCE)!r}])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'fastapi', 'starlette', 'uvicorn', 'sqlalchemy', 'alembic', 'psycopg'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_an_unexpected_failure_is_500_without_traceback_or_content(client, monkeypatch, caplog):
    from engine.service import deciding

    def broken(kb, text, name):
        raise ValueError(f"could not handle {text[:40]}")

    monkeypatch.setattr("engine.service.routes.decisions.decide_text", broken)
    caplog.set_level(logging.DEBUG)
    got = yaml_post(client, REFERENCE)
    assert got.status_code == 500 and got.json()["error"]["code"] == "internal"
    assert "Traceback" not in got.text
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if not r.name.startswith("httpx"))
    assert "ValueError" in logged and "reference-two-stage" not in logged and "format:" not in logged
    assert deciding.decide_text is not broken


def test_openapi_lists_the_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/decisions", "/fhir/Claim/$submit", "/cds-services/{service_id}",
            "/fhir/Questionnaire/$next-question"} <= set(paths)


def test_the_shared_case_limits_hold_on_the_api(client):
    from engine.guard.limits import LIMITS

    stages = "".join(f"  - stage: {i + 1}\n    procedures: [{{code: '22633', levels: [L4-5]}}]\n"
                     for i in range(LIMITS.stages + 1))
    text = f"format: warrant-case/1\ncase_id: many\nrequests:\n{stages}"
    got = client.post("/api/v1/decisions", content=text, headers={"Content-Type": "application/yaml"})
    assert got.status_code == 422 and got.json()["error"]["code"] == "invalid_case"
    assert client.get("/api/v1/decisions").json()["items"] == []
