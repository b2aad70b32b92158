"""The kb cache codec writes only what its allow-listed loader builds again."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.knowledge import codec
from engine.knowledge.base import KnowledgeBase, kb_files

KEY = b"k" * 32


def test_the_kb_payload_round_trips(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WARRANT_CACHE_DIR", str(tmp_path))
    kb = KnowledgeBase.load(None)
    payload = KnowledgeBase._build(kb.root, kb_files(kb.root))
    again = codec.loads(codec.dumps(payload, KEY), KEY)
    assert again["modules"] == payload["modules"] and again["core"] == payload["core"]
    assert [c.loc for m in again["modules"] for c in m.clauses] == [c.loc for m in payload["modules"] for c in m.clauses]


@pytest.mark.parametrize("stranger", [dt.date(2026, 1, 1), Path("/tmp"), complex(1, 2),
                                      type("Local", (), {})(), len, Path])
def test_anything_the_loader_refuses_is_not_written(stranger) -> None:
    with pytest.raises(ValueError):
        codec.dumps({"format": "x", "meta": {"nested": [("a", stranger)]}}, KEY)
