"""Case fields the generator's vocabulary does not set, filled from their case-schema type.

A rule author who adds a field to kb/case-schema.yaml and reads it with a `%@ field` path gets
it in generated cases without touching generator.yaml or Python: every field a `%@ field` path
uses and no part of the vocabulary sets is given, per case, one of three documentation states —
documented (a value of its type), documented absent (false, the enumeration's `absent` value,
0 or [] where the type has one) or undocumented (left out). These draws come from their own
random stream (seeded from the generator's seed), so the cases of a vocabulary that already sets
every field stay exactly as they were. Values go into what the case already has: missing
mappings are created, list entries and level keys are not (a finding at a segment lands in each
segment the case's imaging already reports).
"""
from __future__ import annotations

import random
import re
from typing import Any, Iterable, Iterator

from engine.knowledge.caseschema import ANY_KEY, EACH, PROCEDURE_PATH, CaseSchema, Type
from engine.language.fieldpath import Each, Key, Keys

STATES = ("documented", "absent", "undocumented")
DEFAULT_WEIGHTS = {"documented": 6, "absent": 1, "undocumented": 2}
_WILD = "*"  # a vocabulary placeholder standing for any field of an object
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[[^\]]*\]$")
_PLACEHOLDER = re.compile(r"^\{[^}]*\}$")
_SPEC_KEYS = ("between", "one_of", "some_of", "kb", "date_between")
# Procedure keys of the vocabulary that are not case fields (scenario language).
_PROCEDURE_WORDS = {"levels", "side", "span", "chance", "when", "code"}

SchemaPath = tuple[str, ...]


def used_paths(schema: CaseSchema, fields: dict[Any, list]) -> list[SchemaPath]:
    """Schema paths of the non-contract fields the kb's `%@ field` paths read, in schema order."""
    found: set[SchemaPath] = set()
    for paths in fields.values():
        for _, path in paths:
            found.update(_expand_field(schema, path))
    order = {p: i for i, (p, _) in enumerate(schema.walk())}
    return sorted((p for p in found if p in order and not schema.field_at(p).contract),
                  key=order.__getitem__)


def _expand_field(schema: CaseSchema, path) -> Iterator[SchemaPath]:
    steps = path.steps
    if steps and steps[0] == Key("lines"):
        if len(steps) > 2 and isinstance(steps[2], Key) and steps[2].name in schema.procedure_extras:
            yield PROCEDURE_PATH + (steps[2].name,)
        return
    nodes: list[tuple[Type, SchemaPath]] = [(schema.root, ())]
    for step in steps:
        following: list[tuple[Type, SchemaPath]] = []
        for node, here in nodes:
            if isinstance(step, Keys) and node.kind == "map":
                following.append((node.entries, here + (ANY_KEY,)))
            elif isinstance(step, Keys) and node.kind == "object":
                following += [(f.type, here + (f.name,)) for f in node.fields]
            elif isinstance(step, (Key, Each)) and node.kind == "object" and node.field(step.name):
                sub = node.field(step.name).type
                if isinstance(step, Each) and sub.kind == "list":
                    following.append((sub.items, here + (step.name, EACH)))
                elif isinstance(step, Key):
                    following.append((sub, here + (step.name,)))
        nodes = following
    for _, here in nodes:
        while here and here[-1] in (EACH, ANY_KEY):  # an entry of a list stands for the list
            here = here[:-1]
        if here:
            yield here


def set_paths(schema: CaseSchema, vocabulary: dict[str, Any]) -> set[SchemaPath]:
    """Schema paths the vocabulary writes a value into (fields, aspects, named entries, stages
    and procedures), with everything below each written value."""
    out: set[SchemaPath] = set()
    for path_text, spec in (vocabulary.get("fields") or {}).items():
        out.update(_written(schema, str(path_text), spec))
    for aspect in (vocabulary.get("aspects") or {}).values():
        for state in (aspect.get("states") or {}).values():
            for alternative in state.get("one_of") or []:
                for path_text, spec in (alternative or {}).items():
                    out.update(_written(schema, str(path_text), spec))
    for list_name, templates in (vocabulary.get("named_entries") or {}).items():
        for template in (templates or {}).values():
            out.update(_written(schema, f"{list_name}[entry]", template))
    for scenario in vocabulary.get("scenarios") or []:
        for stage in scenario.get("stages") or []:
            for key, spec in stage.items():
                if key != "procedures":
                    out.update(_written(schema, f"requests[stage].{key}", spec))
            for procedure in stage.get("procedures") or []:
                for key, spec in procedure.items():
                    if key not in _PROCEDURE_WORDS:
                        out.update(_written(schema, f"requests[stage].procedures[p].{key}", spec))
    return out


def _written(schema: CaseSchema, path_text: str, spec: Any) -> set[SchemaPath]:
    nodes: list[tuple[Type, SchemaPath]] = [(schema.root, ())]
    for part in path_text.split("."):
        named = _NAMED.match(part)
        nodes = _into(nodes, named.group(1) if named else part, each=bool(named))
    out: set[SchemaPath] = set()
    for node, here in nodes:
        out.update(_value_paths(node, here, spec))
    return out


def _into(nodes: list[tuple[Type, SchemaPath]], name: str, each: bool = False) -> list[tuple[Type, SchemaPath]]:
    following: list[tuple[Type, SchemaPath]] = []
    for node, here in nodes:
        if node.kind == "map":
            following.append((node.entries, here + (ANY_KEY,)))
        elif node.kind == "object" and _PLACEHOLDER.match(name):
            following += [(f.type, here + (f.name,)) for f in node.fields]
        elif node.kind == "object" and node.field(name):
            sub = node.field(name).type
            if each and sub.kind == "list":
                following.append((sub.items, here + (name, EACH)))
            else:
                following.append((sub, here + (name,)))
    return following


def _value_paths(node: Type, here: SchemaPath, spec: Any) -> Iterator[SchemaPath]:
    """`here` and the paths below it that a value specification fills."""
    if here and here[-1] not in (EACH, ANY_KEY):
        yield here
    if isinstance(spec, dict) and "one_of" in spec:
        for option in spec["one_of"]:
            yield from _value_paths(node, here, option)
    elif isinstance(spec, dict) and not any(k in spec for k in _SPEC_KEYS):
        for key, sub in spec.items():
            for child, there in _into([(node, here)], str(key)):
                yield from _value_paths(child, there, sub)
    elif isinstance(spec, list) and node.kind == "list":
        for item in spec:
            yield from _value_paths(node.items, here + (EACH,), item)


def unset_paths(schema: CaseSchema, fields: dict[Any, list], vocabulary: dict[str, Any]) -> list[SchemaPath]:
    """The used fields (`used_paths`) that the vocabulary never sets."""
    written = set_paths(schema, vocabulary)
    return [p for p in used_paths(schema, fields) if p not in written]


class Filler:
    """Fills the unset fields of each generated case from their own random stream."""

    def __init__(self, schema: CaseSchema, paths: Iterable[SchemaPath], seed: int,
                 weights: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.paths = list(paths)
        self.rng = random.Random(f"warrant-generate:{seed}:unset-fields")
        given = weights or DEFAULT_WEIGHTS
        self.weights = {state: float(given.get(state, 0)) for state in STATES}

    def fill(self, data: dict[str, Any], run: list[str]) -> list[str]:
        """Give each unset field of `data` a state; the states, for the case's header."""
        record = []
        for path in self.paths:
            field = self.schema.field_at(path)
            state = self._state(field.type)
            record.append(f"{_shown(path)}={state}")
            if state == "undocumented":
                continue
            for parent in _parents(data, path[:-1]):
                parent[path[-1]] = self._value(field.type, state, run)
        return record

    def _state(self, node: Type) -> str:
        states = [s for s in STATES if s != "absent" or _absent_value(node) is not None]
        weights = [self.weights[s] for s in states]
        if not any(weights):
            return "undocumented"
        return self.rng.choices(states, weights=weights)[0]

    def _value(self, node: Type, state: str, run: list[str]) -> Any:
        if state == "absent":
            return _absent_value(node)
        rng = self.rng
        kind = node.kind
        if kind == "flag":
            return True
        if kind == "enum":
            options = [v for v in node.values if v != node.absent] or list(node.values)
            return rng.choice(options)
        if kind in ("number", "integer"):
            low = node.minimum if node.minimum is not None else 0
            high = node.maximum if node.maximum is not None else low + 100
            if kind == "integer":
                return rng.randint(int(low), int(high))
            return round(low + rng.randint(0, int(round((high - low) * 10))) / 10, 1)
        if kind == "level":
            return rng.choice(run) if run else None
        if kind == "date":
            return f"{rng.randint(2020, 2025):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if kind == "list":
            count = max(node.min_items or 1, 1)
            return [self._value(node.items, "documented", run) for _ in range(count)]
        if kind == "object":
            return {f.name: self._value(f.type, "documented", run) for f in node.fields if f.required}
        return "documented"


def _absent_value(node: Type) -> Any:
    if node.kind == "flag":
        return False
    if node.kind == "enum":
        return node.absent
    if node.kind in ("number", "integer"):
        low = node.minimum if node.minimum is not None else 0
        return 0 if low <= 0 and (node.maximum is None or node.maximum >= 0) else None
    if node.kind == "list" and node.empty_means_none:
        return []
    return None


def _parents(data: Any, path: SchemaPath) -> Iterator[dict[str, Any]]:
    """The mappings at a schema path in `data`, creating missing mappings on plain field steps."""
    if not path:
        if isinstance(data, dict):
            yield data
        return
    step, rest = path[0], path[1:]
    if step == EACH:
        for item in data if isinstance(data, list) else []:
            yield from _parents(item, rest)
    elif step == ANY_KEY:
        for item in (data.values() if isinstance(data, dict) else []):
            yield from _parents(item, rest)
    elif isinstance(data, dict):
        if data.get(step) is None and (not rest or rest[0] not in (EACH, ANY_KEY)):
            data[step] = {}
        if step in data:
            yield from _parents(data[step], rest)


def _shown(path: SchemaPath) -> str:
    from engine.knowledge.caseschema import path_text

    return path_text(path)


def ordered(data: Any, shape: Any, model: str | None = None) -> Any:
    """Case data with keys in the order the case schema lists them (unknown keys keep theirs)."""
    return _order(data, model or shape.root, shape.models)


def _order(data: Any, model: str | None, models: dict) -> Any:
    if isinstance(data, list):
        return [_order(item, model, models) for item in data]
    if not isinstance(data, dict):
        return data
    if model and model.startswith("dict:"):
        return {k: _order(v, model[5:], models) for k, v in data.items()}
    fields = models.get(model) if model else None
    if not fields:
        return data
    out = {}
    known = {name: spec for name, spec, _required in fields}
    for name in known:
        if name in data:
            out[name] = _order(data[name], _model_of(known[name]), models)
    for name, value in data.items():
        if name not in out:
            out[name] = value
    return out


def _model_of(spec: Any) -> str | None:
    """The model a field's type spec leads to (through opt, list and dict), if any."""
    while isinstance(spec, tuple) and spec:
        kind = spec[0]
        if kind == "model":
            return spec[1]
        if kind in ("opt", "list"):
            spec = spec[1]
        elif kind == "dict":
            inner = _model_of(spec[2])
            return f"dict:{inner}" if inner else None
        else:
            return None
    return None
