"""Batch processes collect cyclic garbage between cases instead of during them, and give the
collector its thresholds back when a run inside a longer-lived process ends."""
from __future__ import annotations

import gc
import io
import json
import weakref
from pathlib import Path

from engine.batch import collect
from engine.batch.runner import BatchOptions, run_batch

ROOT = Path(__file__).resolve().parent.parent


class _Node:
    pass


def _cycle() -> weakref.ref:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_lean_collects_between_cases_and_restores():
    before = gc.get_threshold()
    collect.lean()
    try:
        assert gc.get_threshold()[0] == collect.CASE_THRESHOLD
        gone = _cycle()
        assert gone() is not None  # far below the raised threshold: nothing collects it yet
        collect.between_cases()
        assert gone() is None
    finally:
        collect.restore()
    assert gc.get_threshold() == before
    collect.between_cases()  # not lean: does nothing, and does not fail


def test_a_local_run_gives_the_collector_back(tmp_path):
    from ruamel.yaml import YAML

    case = YAML(typ="safe", pure=True).load((ROOT / "kb" / "tests" / "fusion-met.yaml").read_text(encoding="utf-8"))["case"]
    stream = tmp_path / "c.jsonl"
    stream.write_text(json.dumps(case) + "\n", encoding="utf-8")
    before = gc.get_threshold()
    out = io.BytesIO()
    run_batch([stream], out, BatchOptions(kb_dir=str(ROOT / "kb")))
    assert json.loads(out.getvalue())["case_id"] == case["case_id"]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
