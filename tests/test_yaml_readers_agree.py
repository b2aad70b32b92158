"""The fast kb YAML reader (libyaml with YAML 1.2 core resolvers) gives exactly the data ruamel's
safe reader gives, and leaves to ruamel whatever it should refuse."""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.knowledge.yamlcore import load_core12

ROOT = Path(__file__).resolve().parents[1]


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _ruamel(text: str):
    return YAML(typ="safe", pure=True).load(text)


def test_every_kb_yaml_file_reads_the_same():
    files = sorted(ROOT.glob("kb/*.yaml")) + sorted((ROOT / "kb" / "policies").rglob("*.yaml"))
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        read, data = load_core12(text)
        assert read, path
        assert _same(data, _ruamel(text)), path


@pytest.mark.parametrize("text", [
    "a: yes", "a: on", "a: No", "a: 012", "a: 1e3", "a: -2.5E-3", "a: 1:20", "a: -0x1F", "a: 0o17",
    "a: 1_000", "a: .inf", "a: -.Inf", "a: ~", "a:", "a: null", "a: TRUE", "a: 2026-01-01",
    "a: '3'", "a: !!str 3", "a: [1, 2.0, x]", "x: &n [1]\ny: *n", "a: 22633", "a: +7",
])
def test_plain_scalars_follow_yaml_1_2_core_like_ruamel(text):
    read, data = load_core12(text)
    assert read
    assert _same(data, _ruamel(text)), (data, _ruamel(text))


@pytest.mark.parametrize("text", ["a: 1\na: 2", "a: {b: 1, b: 2}", "a: [1, 2", "a:\tb", "a: !python/name:os.system x"])
def test_what_ruamel_must_judge_is_left_to_it(text):
    assert load_core12(text) == (False, None)
