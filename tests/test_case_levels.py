"""Level spellings, normalisation and range expansion over the kb's vertebrae
(kb/case-schema.yaml `levels`, engine.knowledge.levels)."""
from __future__ import annotations

import pytest

from engine.knowledge.levels import LevelError, Levels
from tests.conftest import ROOT

# The bundled kb's vocabulary (T1 to S1), read from its case schema file.
VERTEBRAE = ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
             "L1", "L2", "L3", "L4", "L5", "S1")
levels = Levels(VERTEBRAE)
normalise_level = levels.normalise
parse_level = levels.parse


def test_the_bundled_vocabulary_is_the_schema_s(kb) -> None:
    assert kb.levels == levels and kb.levels.vertebrae == VERTEBRAE
    assert "vertebrae: [T1, T2," in (ROOT / "kb" / "case-schema.yaml").read_text()


def test_another_vocabulary_reads_its_own_names() -> None:
    cervical = Levels(("C2", "C3", "C4", "C5", "C6", "C7", "T1"))
    assert cervical.normalise("c5/6") == "C5-6" and cervical.normalise("C7-T1") == "C7-T1"
    assert cervical.parse("C3-C5").segments() == ["C3-4", "C4-5"]
    with pytest.raises(LevelError, match="not a vertebra from C2 to T1"):
        cervical.parse("C1")
    with pytest.raises(LevelError, match="is not a spinal level"):
        cervical.parse("L4-5")  # no L region in this vocabulary


@pytest.mark.parametrize("text, expected", [
    ("L4-L5", "L4-5"), ("l4-5", "L4-5"), ("L4/5", "L4-5"), ("L4-5", "L4-5"),
    ("L5/S1", "L5-S1"), ("L5-S1", "L5-S1"), (" l5 - s1 ", "L5-S1"), ("t12-l1", "T12-L1"),
    ("T12/L1", "T12-L1"), ("T10-11", "T10-11"), ("T10-T11", "T10-11"), ("L4\u20135", "L4-5"),
    ("l3", "L3"), ("S1", "S1"), ("T1", "T1"), ("L2-L4", "L2-L4"), ("t11-l2", "T11-L2"),
])
def test_spellings_normalise(text: str, expected: str) -> None:
    assert normalise_level(text) == expected


@pytest.mark.parametrize("text, message", [
    ("L6", "'L6' names L6, which is not a vertebra from T1 to S1"),
    ("S2", "'S2' names S2, which is not a vertebra from T1 to S1"),
    ("C5-6", "'C5-6' is not a spinal level; write a vertebra such as L3 or a motion segment "
             "such as L4-5"),
    ("L5-L3", "'L5-L3' runs from bottom to top; name the upper vertebra first (L3-L5)"),
    ("L4-L4", "'L4-L4' names the same vertebra twice; write a vertebra such as L3 or a motion "
              "segment such as L4-5"),
    ("", "'' is not a spinal level; write a vertebra such as L3 or a motion segment such as L4-5"),
    (45, "a level is text such as L4-5, not int 45"),
])
def test_invalid_levels(text: object, message: str) -> None:
    with pytest.raises(LevelError) as info:
        parse_level(text)
    assert str(info.value) == message


def test_range_expands_by_use() -> None:
    level = parse_level("L2-L4")
    assert level.is_range
    assert level.segments() == ["L2-3", "L3-4"]
    assert level.vertebrae() == ["L2", "L3", "L4"]
    assert parse_level("T11-L1").segments() == ["T11-12", "T12-L1"]
    assert parse_level("L4-S1").segments() == ["L4-5", "L5-S1"]


def test_adjacent_pair_is_a_segment() -> None:
    level = parse_level("L2-L3")
    assert level.is_segment and str(level) == "L2-3"
    assert level.vertebrae() == ["L2", "L3"]


def test_segment_field_helpers() -> None:
    assert levels.segment("l4/l5") == "L4-5"
    assert levels.segments("L3-L5") == ["L3-4", "L4-5"]
    with pytest.raises(LevelError, match="single vertebra; a motion segment such as L3-4"):
        levels.segment("L3")
    with pytest.raises(LevelError, match="single vertebra; a motion segment such as L5-S1"):
        levels.segments("S1")
    with pytest.raises(LevelError, match="spans 2 segments"):
        levels.segment("L2-L4")
    assert levels.vertebra("l3") == "L3"
    assert levels.segment_or_vertebra("S1") == "S1"
    assert levels.segment_or_vertebra("L5/S1") == "L5-S1"


def test_span_counts_inclusively() -> None:
    assert levels.span_count("L3", "L5") == 3
    assert levels.span_count("L5", "L3") == 3
    assert levels.span_count("T10", "S1") == 9
