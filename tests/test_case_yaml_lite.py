"""The plain case-file reader (engine/cases/yamllite.py) gives libyaml's events — kinds, values,
styles, start positions — for every YAML file of the repository it reads, leaves to libyaml
what it is not certain of, and so builds the same data, positions and problems."""
from __future__ import annotations

from pathlib import Path

import pytest
from reader_compare import libyaml_events, lite_events

from engine.cases import yamltree
from engine.cases.yamllite import read_events

ROOT = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(p for p in ROOT.rglob("*.y*ml") if ".venv" not in p.parts and p.suffix in (".yaml", ".yml"))

CORNERS = {
    "indentless lists": "a:\n- 1\n- {b: 'c', d: [e, f]}\ng:\n  - h: i\n    j: k\n  - l\nm: n\n",
    "comments and blanks": "# top\n\na: 1  # one\n\n  # indented comment\nb:   # two\n  c: 'd' # three\n",
    "scalars": ("a: -1.5e3\nb: 022633\nc: yes\nd: null\ne: 'it''s'\nf: \"quoted\"\ng: a b, c\n"
                "h: .5\ni: L4-5\nj: (x)\nk: ''\nl: []\nm: {}\n"),
    "flow": "a: [ x , 'y' , \"z\" , [1, 2], {k: v} ]\nb: {c: [L4-5, L5-S1], d: \"22558\"}\n",
    "duplicates": "a: 1\na: 2\nb:\n  c: 1\n  c: [1]\n",
    "nested lists": "a:\n  - - 1\n    - 2\n",
    "empty value": "a:\nb: 1\n",
    "continuation": "a: one\n  two\n",
    "anchors": "a: &x 1\nb: *x\n",
    "tags": "a: !!str 1\n",
    "block scalar": "a: |\n  text\n",
    "document": "---\na: 1\n",
    "top list": "- a\n- b\n",
    "escape": 'a: "x\\ty"\n',
    "non-ascii": "a: caf\u00e9\n",
    "colon in value": "a: 12:30\n",
    "hash in value": "a: b#c\n",
}


def _check(text: str) -> bool:
    events = read_events(text)
    if events is None:
        return False
    assert lite_events(events) == libyaml_events(text)
    lite = yamltree._read_plain("c.yaml", text)
    full = yamltree._read_with_libyaml("c.yaml", text)
    assert (lite is None) == (full is None)
    if lite is not None:
        assert (lite.data, lite.spots, lite.problems) == (full.data, full.spots, full.problems)
    return True


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_reads_as_libyaml_reads_it(path: Path) -> None:
    _check(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corners(name: str) -> None:
    text = CORNERS[name]
    read = _check(text)
    assert read == (name in {"indentless lists", "comments and blanks", "scalars", "flow", "duplicates"})


def test_the_examples_are_read_without_libyaml() -> None:
    for path in sorted((ROOT / "kb" / "examples").glob("*.yaml")):
        assert read_events(path.read_text(encoding="utf-8")) is not None, path
