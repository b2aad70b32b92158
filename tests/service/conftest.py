"""Fixtures of the service tests: one decision thread for every app, stores on SQLite and on a
throwaway PostgreSQL (skipped when PostgreSQL is not installed), and an ASGI test client."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
FHIR = ROOT / "tests" / "fhir"
HERE = Path(__file__).resolve().parent
_names = itertools.count()


@pytest.fixture(scope="session")
def decider(kb):
    from engine.service.decider import Decider

    made = Decider(ROOT / "kb", time_limit=30)
    made.warm()
    yield made
    made.close()


@pytest.fixture(scope="session")
def pg_server():
    reason = pg.available()
    if reason:
        pytest.skip(reason)
    server = pg.PgServer().init()
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("pg_server")
    return server.create_database(f"t{next(_names)}")


@pytest.fixture
def store(store_url):
    from engine.service.store import Store

    made = Store(store_url)
    yield made
    made.close()


@pytest.fixture
def make_client(decider, tmp_path):
    """A function building a TestClient for a config (SQLite in tmp_path unless db_url is given)."""
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.config import ServiceConfig

    opened = []

    def make(**overrides):
        overrides.setdefault("db_url", f"sqlite:///{tmp_path / 'api.db'}")
        app = create_app(ServiceConfig(**overrides), decider=decider)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
        client.app.state.warrant.store.close()


@pytest.fixture
def client(make_client):
    return make_client()


def yaml_post(client, path: Path | str, **params):
    text = Path(path).read_text(encoding="utf-8")
    return client.post("/api/v1/decisions", content=text.encode(), params=params,
                       headers={"Content-Type": "application/yaml"})
