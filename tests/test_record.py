"""Records (engine/guard/record.py) behave as the frozen dataclasses they replace."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from engine.guard.record import FrozenInstanceError, field, record


@record(frozen=True, order=True)
class Point:
    x: int
    y: int = 0
    tags: tuple = field(default=())
    note: str | None = field(default=None, compare=False)


@dataclasses.dataclass(frozen=True, order=True)
class DPoint:
    x: int
    y: int = 0
    tags: tuple = dataclasses.field(default=())
    note: str | None = dataclasses.field(default=None, compare=False)


@record
class Bag:
    name: str
    items: list = field(default_factory=list)


def test_construction_defaults_and_repr_match_dataclasses() -> None:
    for args, kwargs in (((1,), {}), ((1, 2), {}), ((1,), {"note": "n"}), ((), {"x": 3, "tags": ("a",)})):
        r, d = Point(*args, **kwargs), DPoint(*args, **kwargs)
        assert repr(r) == repr(d).replace("DPoint", "Point")
        assert (r.x, r.y, r.tags, r.note) == (d.x, d.y, d.tags, d.note)


def test_equality_hash_and_order_over_compared_fields() -> None:
    assert Point(1, 2, note="a") == Point(1, 2, note="b")
    assert hash(Point(1, 2, ("t",))) == hash(DPoint(1, 2, ("t",)))
    assert Point(1) != DPoint(1) and Point(1) != (1, 0, ())
    assert sorted([Point(2), Point(1, 5), Point(1, 3)]) == [Point(1, 3), Point(1, 5), Point(2)]
    assert Point(1).__lt__(DPoint(2)) is NotImplemented


def test_frozen_and_mutable_records() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2
    with pytest.raises(AttributeError):
        del point.y
    bag, other = Bag("a"), Bag("a")
    bag.items.append(1)
    assert other.items == [] and bag != other and Bag.__hash__ is None


def test_wrong_arguments_are_type_errors() -> None:
    for args, kwargs in (((), {}), ((1, 2, 3, 4, 5), {}), ((1,), {"x": 1}), ((1,), {"z": 1})):
        with pytest.raises(TypeError):
            Point(*args, **kwargs)
    with pytest.raises(TypeError):
        record(type("Bad", (), {"__annotations__": {"a": "int", "b": "int"}, "a": 1}))


def test_pickling_through_the_dict() -> None:
    point = Point(1, 2, ("t",), "n")
    again = pickle.loads(pickle.dumps(point, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == point and again.note == "n" and vars(again) == vars(point)
