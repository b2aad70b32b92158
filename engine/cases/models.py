"""pydantic models of a case schema, built at run time with `pydantic.create_model`.

Every finding is optional and defaults to None, so a key that is missing or null means "not
documented", while `false`, `0`, `none` and `[]` stay values ("documented absent"). Unknown keys
are errors at every depth. The models come from the same shape table as the fast loader
(`shape.py`), so both read cases alike; pydantic is imported only for cases that have something
to report and for `warrant schema`.
"""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, create_model

from engine.cases import values
from engine.cases.fields import leaf_type
from engine.cases.record import CaseMethods
from engine.cases.shape import Shape, shape_of
from engine.knowledge.caseschema import CaseSchema


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _CaseRoot(CaseMethods, _Model):
    """A validated case. `locate(path)` gives a field's position in the source."""

    _source: Optional[Any] = PrivateAttr(default=None)


_MODELS: dict[int, tuple[Shape, dict[str, type[BaseModel]]]] = {}


def case_model(schema: CaseSchema) -> type[BaseModel]:
    """The pydantic model of a whole case for `schema` (built on first use, then reused)."""
    return models_of(schema)[shape_of(schema).root]


def models_of(schema: CaseSchema) -> dict[str, type[BaseModel]]:
    """Every pydantic model of the schema, by name."""
    shape = shape_of(schema)
    found = _MODELS.get(id(shape))
    if found is None or found[0] is not shape:
        found = _MODELS[id(shape)] = (shape, _Build(shape).all())
    return found[1]


class _Build:
    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.models: dict[str, type[BaseModel]] = {}

    def all(self) -> dict[str, type[BaseModel]]:
        for name in self.shape.models:
            self.model(name)
        return self.models

    def model(self, name: str) -> type[BaseModel]:
        if name in self.models:
            return self.models[name]
        definitions: dict[str, Any] = {}
        for field, spec, required in self.shape.models[name]:
            text = self.shape.descriptions.get((name, field)) or None
            annotation = self.annotation(spec, text or "")
            info = Field(description=text) if required else Field(None, description=text)
            definitions[field] = (annotation, info)
        root = name == self.shape.root
        model = create_model(name, __base__=_CaseRoot if root else _Model,
                             __doc__=self.shape.docs.get(name) or None, __module__=__name__,
                             **definitions)
        model._schema = self.shape.schema  # read by CaseMethods.schema, as on fast records
        self.models[name] = model
        return model

    def annotation(self, spec: tuple[Any, ...], description: str = "") -> Any:
        kind = spec[0]
        if kind == "leaf":
            if spec[1][0] == "level":  # a level value is described by its kind
                description = self.shape.schema.level_kind_text(spec[1][1])
            return leaf_type(spec[1], description)
        if kind == "opt":
            return Optional[self.annotation(spec[1], description)]
        if kind == "model":
            return self.model(spec[1])
        if kind == "dict":
            return dict[self.annotation(spec[1]), self.annotation(spec[2])]  # type: ignore[misc]
        _, item, low, high, after = spec
        extras: list[Any] = []
        if low is not None or high is not None:
            extras.append(Field(min_length=low, max_length=high))
        extras += [AfterValidator(values.AFTER[name]) for name in after]
        inner = list[self.annotation(item)]  # type: ignore[misc]
        return Annotated[tuple([inner] + extras)] if extras else inner  # type: ignore[return-value]
