"""The libyaml fast reader and the ruamel reader build the same case data, positions and problems."""
from __future__ import annotations

import pytest

from engine.cases import yamltree
from engine.errors import CaseError
from tests.conftest import ROOT

yaml = pytest.importorskip("yaml")
pytestmark = pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")

FILES = sorted((ROOT / "kb" / "tests").glob("*.yaml")) + sorted((ROOT / "kb" / "corpus").glob("*.yaml")) \
    + sorted((ROOT / "kb" / "examples").glob("*.yaml"))
EDGE = ["a: yes\nb: 022633\nc: 0o17\nd: .inf\ne: ~\nf: 'x'\nh: [1, 2.5, -3]\ni: 1e3\nj: true\nk: \"q\"\nl: Null\n",
        "a: 1\na: 2\n", "x: &a 1\ny: *a\n", "k: {p: 1, q: [a, b]}\n", "g: !!str 5\n", "p: !python/object x\n",
        "- 1\n- 2\n", "a: 1\n---\nb: 2\n", "a: [1\n", "a:\tb\n", "# only a comment\n"]


def _read(reader, name, text):
    try:
        source = reader(name, text)
    except CaseError as exc:
        return ("error", exc.messages)
    return ("ok", source.data, source.spots, [(p, str(f)) for p, f in source.problems], source.suppressed)


@pytest.mark.parametrize("text", EDGE)
def test_edge_cases_read_the_same(text):
    assert _read(yamltree.read_yaml, "edge.yaml", text) == _read(yamltree._read_with_ruamel, "edge.yaml", text)


def test_every_bundled_case_file_reads_the_same():
    assert len(FILES) > 60
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        fast = yamltree._read_with_libyaml(str(path), text)
        assert fast is not None, path
        assert _read(lambda n, t: fast, str(path), text) == _read(yamltree._read_with_ruamel, str(path), text), path
