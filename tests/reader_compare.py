"""What the tests of the hand-written readers compare, in one place (imported by
test_fast_parser*.py and test_case_yaml_lite*.py): libyaml's events beside yamllite's, and
structural equality of parsed modules including the fields `==` leaves out (positions)."""
from __future__ import annotations

import dataclasses

import yaml


def libyaml_events(text: str) -> list[tuple]:
    """libyaml's parser events, in the form `lite_events` gives yamllite's."""
    out = []
    kinds = {yaml.ScalarEvent: "scalar", yaml.MappingStartEvent: "mapping", yaml.SequenceStartEvent: "sequence"}
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            out.append(("end",))
        elif type(event) in kinds:
            out.append((kinds[type(event)], getattr(event, "value", None), getattr(event, "style", None) or None,
                        event.tag if kinds[type(event)] == "scalar" else None,
                        event.start_mark.line, event.start_mark.column))
        elif isinstance(event, yaml.AliasEvent):
            out.append(("alias",))
    return out


def lite_events(events) -> list[tuple]:
    return [("end",) if event is None else
            (kind, event.value, event.style, event.tag, event.start_mark.line, event.start_mark.column)
            for kind, event in events]


def same(a, b, path="") -> None:
    """Structural equality including the fields dataclasses and records leave out of ==."""
    assert type(a) is type(b), f"{path}: {a!r} != {b!r}"
    names = getattr(type(a), "__record_fields__", None) or (
        [f.name for f in dataclasses.fields(a)] if dataclasses.is_dataclass(a) else None)
    if names is not None:
        for name in names:
            same(getattr(a, name), getattr(b, name), f"{path}.{name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"
