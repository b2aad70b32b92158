"""Derive the shape table (`shape.py`) from the pydantic models in `schema.py`.

Run `python -m engine.cases.shapegen` after changing the models; `--check` exits 1 when the
committed table is out of date (the tests check the same). The table is plain data, so the
fast loader reads valid cases without importing pydantic, while the models stay the only
definition of the format.

Type specs in the table:
  ("leaf", SPEC)                       a value check, `values.make(*SPEC)`
  ("opt", TYPE)                        null allowed (then the field is None)
  ("model", NAME)                      a mapping with the fields of MODELS[NAME]
  ("list", TYPE, MIN, MAX, AFTER)      a list; length bounds or None; AFTER names functions
                                       of `values.AFTER` applied to the checked list
  ("dict", KEY, VALUE)                 a mapping with checked keys and values
Each model is a tuple of (field, type, required) in field order.

Anything the models use that this table cannot express (a model validator, an alias, a default
other than None, a union other than Optional, ...) stops the generator with an error instead
of producing a table that would read cases differently from pydantic.
"""
from __future__ import annotations

import pprint
import sys
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import AfterValidator, BaseModel, PlainValidator, WithJsonSchema
from pydantic.fields import FieldInfo

from engine.cases import values
from engine.cases.fields import check_of

TARGET = Path(__file__).with_name("shape.py")

HEADER = '''"""The warrant-case/1 shape as data, for the fast loader. GENERATED from the pydantic models in
schema.py by `python -m engine.cases.shapegen`; do not edit (tests/test_case_fastpath.py checks it
is up to date). The type specs are described in shapegen.py.
"""
'''


class ShapeError(TypeError):
    """The models use something the shape table (and so the fast loader) cannot express."""


class _Walker:
    def __init__(self) -> None:
        self.models: dict[str, tuple[tuple[str, Any, bool], ...]] = {}
        self.classes: dict[str, type[BaseModel]] = {}

    def model(self, cls: type[BaseModel]) -> str:
        name = cls.__name__
        if name in self.classes:
            if self.classes[name] is not cls:
                raise ShapeError(f"two models are named {name}")
            return name
        self.classes[name] = cls
        config = cls.model_config
        if config.get("extra") != "forbid" or config.get("strict") is not True:
            raise ShapeError(f"{name}: the fast loader expects extra='forbid' and strict=True")
        decorators = cls.__pydantic_decorators__
        for kind in ("validators", "field_validators", "root_validators", "model_validators",
                     "field_serializers", "model_serializers", "computed_fields"):
            if getattr(decorators, kind, None):
                raise ShapeError(f"{name}: {kind} are not expressible in the shape table")
        self.models[name] = ()  # reserve the name (and its place) before nested models
        fields = []
        for field, info in cls.model_fields.items():
            where = f"{name}.{field}"
            if field.startswith("_") or info.alias or info.validation_alias:
                raise ShapeError(f"{where}: aliases and underscore names are not supported")
            required = info.is_required()
            if not required and (info.default is not None or info.default_factory is not None):
                raise ShapeError(f"{where}: an optional field must default to None")
            fields.append((field, self.type(info.annotation, tuple(info.metadata), where),
                           required))
        self.models[name] = tuple(fields)
        return name

    def type(self, tp: Any, metadata: tuple[Any, ...], where: str) -> Any:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *extra = typing.get_args(tp)
            return self.type(base, tuple(extra) + metadata, where)
        if origin in (typing.Union, types.UnionType):
            args = typing.get_args(tp)
            if len(args) != 2 or type(None) not in args or metadata:
                raise ShapeError(f"{where}: only Optional[X] unions are supported")
            inner = next(a for a in args if a is not type(None))
            return ("opt", self.type(inner, (), where))
        leaf, low, high, after = None, None, None, []
        for item in self._flat(metadata, where):
            if isinstance(item, PlainValidator):
                leaf = check_of(item)
                if leaf is None:
                    raise ShapeError(f"{where}: a PlainValidator not made by fields.py")
            elif isinstance(item, AfterValidator):
                names = [k for k, f in values.AFTER.items() if f is item.func]
                if not names:
                    raise ShapeError(f"{where}: AfterValidator {item.func!r} is not in "
                                     "values.AFTER")
                after.append(names[0])
            elif isinstance(item, annotated_types.MinLen) and not after:
                low = item.min_length
            elif isinstance(item, annotated_types.MaxLen) and not after:
                high = item.max_length
            elif not isinstance(item, WithJsonSchema):
                raise ShapeError(f"{where}: {item!r} is not expressible in the shape table")
        if leaf is not None:
            if low is not None or high is not None or after:
                raise ShapeError(f"{where}: a value check takes no other constraints")
            return ("leaf", leaf.spec)
        if origin is list:
            (item_type,) = typing.get_args(tp)
            return ("list", self.type(item_type, (), f"{where}[]"), low, high, tuple(after))
        if low is not None or high is not None or after:
            raise ShapeError(f"{where}: length bounds and after-checks are supported on lists only")
        if origin is dict:
            key, value = typing.get_args(tp)
            return ("dict", self.type(key, (), f"{where}{{key}}"),
                    self.type(value, (), f"{where}{{}}"))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return ("model", self.model(tp))
        raise ShapeError(f"{where}: the type {tp!r} is not expressible in the shape table")

    @staticmethod
    def _flat(metadata: tuple[Any, ...], where: str) -> list[Any]:
        """Metadata with nested `Field(...)` infos opened up, in order."""
        out: list[Any] = []
        for item in metadata:
            if isinstance(item, FieldInfo):
                out.extend(_Walker._flat(tuple(item.metadata), where))
            else:
                out.append(item)
        return out


def derive() -> tuple[str, dict[str, tuple[tuple[str, Any, bool], ...]]]:
    """(root model name, the model table) of the pydantic models."""
    from engine.cases.schema import Case

    walker = _Walker()
    root = walker.model(Case)
    return root, walker.models


def render() -> str:
    """The text of shape.py as the models define it now."""
    root, models = derive()
    for fields in models.values():  # every spec must build, or the table is useless
        for _, spec, _ in fields:
            _specs_build(spec)
    out = [HEADER, f"ROOT = {root!r}", "", "MODELS = {"]
    for name, fields in models.items():
        out.append(f"    {name!r}: (")
        for field in fields:
            text = pprint.pformat(field, width=92, sort_dicts=False)
            out.append("        " + text.replace("\n", "\n        ") + ",")
        out.append("    ),")
    out.append("}")
    return "\n".join(out) + "\n"


def _specs_build(spec: Any) -> None:
    kind = spec[0]
    if kind == "leaf":
        values.make(*spec[1])
    elif kind == "opt":
        _specs_build(spec[1])
    elif kind == "list":
        _specs_build(spec[1])
    elif kind == "dict":
        _specs_build(spec[1])
        _specs_build(spec[2])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if "--check" in args:
        if current != text:
            print(f"{TARGET} is out of date; run python -m engine.cases.shapegen", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
