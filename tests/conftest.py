"""Shared fixtures: the bundled kb (loaded once), its reference case, and a CLI runner."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"


@functools.lru_cache(maxsize=1)
def bundled_kb():
    """The bundled kb, loaded once (case loading reads its case schema). Call it inside tests,
    after the session fixture below has pointed the kb cache at a private folder."""
    from engine.knowledge.base import KnowledgeBase

    return KnowledgeBase.load(ROOT / "kb")


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep test runs from reading or writing the user's kb cache."""
    os.environ["WARRANT_CACHE_DIR"] = str(tmp_path_factory.mktemp("kb-cache"))
    yield


@pytest.fixture(scope="session")
def kb(_private_cache):
    return bundled_kb()


@pytest.fixture(scope="session")
def reference_decision(kb):
    from engine.decide.decision import decide
    from engine.inputs import open_session

    return decide(open_session(kb, REFERENCE))


@pytest.fixture
def run_cli():
    from click.testing import CliRunner

    import cli

    def run(*args: str, input: str | None = None):
        runner = CliRunner()
        return runner.invoke(cli.main, list(args), input=input, catch_exceptions=False)

    return run
