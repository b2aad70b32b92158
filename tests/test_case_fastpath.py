"""The fast loader (no pydantic) against the pydantic path: same cases accepted, same results.

Both are built at run time from the kb's case schema (kb/case-schema.yaml). Every case in the
repository is loaded both ways and must give identical documents, lines and attribute values;
randomly damaged variants must be accepted or refused by both alike; a valid case must not
import pydantic at all, and an invalid one must be explained by it.
"""
from __future__ import annotations

import copy
import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from pydantic import BaseModel, ValidationError

from engine.cases import case_document, expand_lines, fast
from engine.cases import load_case as _load_case
from engine.cases.loader import load_case_with_pydantic as _load_with_pydantic
from engine.cases.models import case_model
from engine.cases.record import FrozenDict, FrozenList, Record
from engine.cases.shape import shape_of
from engine.cases.source import read_yaml
from engine.errors import CaseError
from engine.knowledge.caseschema import CaseSchema, Field, Type
from tests.conftest import bundled_kb


def load_case(path: Any, **kwargs: Any) -> Any:
    return _load_case(path, bundled_kb(), **kwargs)


def load_case_with_pydantic(path: Any, **kwargs: Any) -> Any:
    return _load_with_pydantic(path, bundled_kb(), **kwargs)


def _schema_text() -> str:
    return (Path(__file__).resolve().parents[1] / "kb" / "case-schema.yaml").read_text(encoding="utf-8")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"
# Generated corpora (`warrant generate -o kb/corpus`), when present; WARRANT_CASE_CORPUS may
# name another folder of case files to check.
CORPUS_DIRS = [ROOT / "kb" / "corpus", ROOT / "corpus"] + [
    Path(p) for p in os.environ.get("WARRANT_CASE_CORPUS", "").split(os.pathsep) if p]


def _corpus() -> list[tuple[Path, tuple[str, ...], bool]]:
    """Every case file of the repository: (path, where the case sits in it, whether to check
    its JSON rendering too; for a large generated corpus the case as written is enough)."""
    found = [(p, ("case",), True) for p in sorted((ROOT / "kb" / "tests").glob("*.yaml"))]
    found += [(p, (), True) for p in sorted((ROOT / "kb" / "examples").glob("*.yaml"))]
    for folder in CORPUS_DIRS:
        for pattern in ("**/*.yaml", "**/*.yml", "**/*.json"):
            found += [(p, (), False) for p in sorted(folder.glob(pattern))]
    return found


CASES = _corpus()
RUNS = [(path, at, kind) for path, at, also_json in CASES
        for kind in ("as written", "as JSON")[:2 if also_json else 1]]


def _id(run: tuple[Path, tuple[str, ...], str]) -> str:
    path = run[0]
    return f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} {run[2]}"


def _text_of(path: Path, at: tuple[str, ...], kind: str) -> tuple[str, str, tuple[str, ...]]:
    """(name, text, at) of a case as written, or converted to JSON (the case alone)."""
    text = path.read_text(encoding="utf-8")
    if kind == "as written":
        return str(path), text, at
    data = read_yaml(str(path), text).data
    for part in at:
        data = data[part]
    return str(path.with_suffix(".json")), json.dumps(data, indent=2), ()


def _same(a: Any, b: Any, where: str = "case") -> None:
    """Fast record `a` reads exactly like pydantic value `b`, attribute by attribute."""
    if isinstance(a, Record):
        assert isinstance(b, BaseModel) and type(a).__name__ == type(b).__name__, where
        assert a._fields == tuple(type(b).model_fields), where
        for name in a._fields:
            _same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, list):
        assert isinstance(a, FrozenList) and type(b) is list and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(a, FrozenDict) and type(b) is dict, where
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), (where, a, b)


def _lines_outcome(case: Any, units: dict[str, str]) -> Any:
    try:
        lines = expand_lines(case, units)
    except CaseError as exc:
        return ("error", exc.args[0], exc.messages)
    return ("ok", [repr(line) for line in lines],
            json.dumps(case_document(case, lines)))


def _unit_maps(case: Any) -> Iterator[dict[str, str]]:
    codes = sorted({p.code for r in case.requests for p in r.procedures})
    yield {}
    for unit in ("segment", "vertebra", "side", "stage"):
        yield {code: unit for code in codes}
    yield {code: ("segment", "vertebra", "side", "stage")[i % 4] for i, code in enumerate(codes)}


def test_the_corpus_is_there() -> None:
    assert REFERENCE in [p for p, _, _ in CASES]
    assert len(CASES) >= 20


@pytest.mark.parametrize("run", RUNS, ids=[_id(r) for r in RUNS])
def test_both_paths_agree(run: tuple[Path, tuple[str, ...], str]) -> None:
    name, text, at = _text_of(*run)
    try:
        full = load_case_with_pydantic(name, text=text, at=at)
    except CaseError as exc:  # an invalid case: the same report either way
        with pytest.raises(CaseError) as info:
            load_case(name, text=text, at=at)
        assert (info.value.args, info.value.messages) == (exc.args, exc.messages)
        return
    quick = load_case(name, text=text, at=at)
    assert isinstance(quick, Record), "a valid case must take the fast path"
    assert type(full) is case_model(bundled_kb().case_schema)
    _same(quick, full)
    assert json.dumps(case_document(quick, [])) == json.dumps(case_document(full, []))
    assert quick.source_name == full.source_name == name
    for units in _unit_maps(full):
        assert _lines_outcome(quick, units) == _lines_outcome(full, units), units
    some = ("requests", len(full.requests) - 1, "procedures", 0, "code")
    assert quick.locate(some) == full.locate(some)
    assert quick.locate(some[:2], key=True) == full.locate(some[:2], key=True)
    assert quick.finding(some, "x") == full.finding(some, "x")


def test_the_fast_case_is_immutable_and_its_document_is_a_copy() -> None:
    case = load_case(REFERENCE)
    with pytest.raises(TypeError):
        case.case_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        case.requests.append(None)
    with pytest.raises(TypeError):
        case.imaging[0].segments["L4-5"] = None
    with pytest.raises(AttributeError):
        case.no_such_field  # noqa: B018
    assert case.exam is None and case.patient.smoking is None
    document = case_document(case, [])
    assert type(document["requests"]) is list and type(document["imaging"][0]["segments"]) is dict
    document["patient"]["sex"] = "male"
    document["requests"].clear()
    assert case.patient.sex == "female" and case_document(case, [])["requests"]
    assert case == load_case(REFERENCE)
    assert "sex='female'" in repr(case.patient)


def test_the_fast_case_copies_and_pickles() -> None:
    case = load_case(REFERENCE)
    for twin in (copy.deepcopy(case), pickle.loads(pickle.dumps(case))):
        assert twin == case and type(twin) is type(case)
        assert isinstance(twin.requests, FrozenList)
        assert isinstance(twin.imaging[0].segments, FrozenDict)
        assert twin.source_name == case.source_name
        assert twin.locate(("requests", 1)) == case.locate(("requests", 1))
        assert case_document(twin, []) == case_document(case, [])


def test_the_shape_table_comes_from_the_kb_schema(kb) -> None:
    """No case field is written in Python: the shape table is derived from case-schema.yaml, and
    a field added there is read at once by both paths."""
    shape = shape_of(kb.case_schema)
    assert shape is shape_of(kb.case_schema)  # derived once
    models = shape.models
    assert list(models)[:3] == ["Case", "Patient", "Symptoms"]
    objects = {t.name: t for t in kb.case_schema.objects()}
    assert list(objects) == list(models)
    for name, fields in models.items():
        assert [f for f, _, _ in fields] == [f.name for f in objects[name].fields]
    # a schema with one more field: both paths read it, without any Python change (the bundled
    # schema has `labs` already, so the new object is called `bloods`)
    root = kb.case_schema.root
    extra = Field("bloods", Type("object", name="Bloods", fields=(
        Field("hba1c_percent", Type("number", minimum=3, maximum=20, unit="percent")),)))
    bigger = CaseSchema(kb.case_schema.case_format, "t", "", Type("object", name="Case",
                        fields=root.fields + (extra,)), kb.case_schema.vertebrae,
                        kb.case_schema.level_kinds, "t.yaml", "sha256:test-bigger")
    text = REFERENCE.read_text(encoding="utf-8") + "bloods:\n  hba1c_percent: 7.1\n"
    quick = _load_case("c.yaml", bigger, text=text)
    assert isinstance(quick, Record) and quick.bloods.hba1c_percent == 7.1
    assert _load_with_pydantic("c.yaml", bigger, text=text).bloods.hba1c_percent == 7.1
    with pytest.raises(CaseError) as info:
        _load_case("c.yaml", bigger, text=text.replace("7.1", "31"))
    assert [m.split(": ", 1)[1] for m in info.value.messages] == ["bloods.hba1c_percent: must be at most 20, not 31"]
    with pytest.raises(CaseError):
        load_case("c.yaml", text=text)  # the bundled schema has no bloods


# Values that damaged cases get: right and wrong types, bounds, spellings, shapes.
POOL: list[Any] = [
    None, True, False, 0, 1, -1, 2, 5, 6, 6.0, 2.5, -0.0, 100, 100.0, 100.5, 101, 130, 131,
    1899, 1900, 2100, 2100.0, 2101, 10**20, 1e308, float("nan"), float("inf"), "", "  ", "x",
    "yes", "true", "on", "67", " 6 ", "L4-5", "l4/l5", " L5 - s1 ", "L4\u20135", "L2-L4",
    "t11-L2", "L3", "S1", "T1", "L5-S1", "T12-L1", "L6", "C5-6", "L5-L3", "L4-L4", "22633",
    " +22853 ", "0275t", "+ 22840", "2263", "022633", 22633, 2263, 99999, 100000, "2023-02-28",
    " 2023-02 ", "2023", "2023-02-30", "2023-13", "23-01-01", [], [1], ["L4-5"], ["L3", "L5"],
    ["L3", "L4", "L5"], ["L2-L4", "L3-4"], {}, {"x": 1}, {"L4-5": {}}, "warrant-case/1",
    "warrant-case/2", "female", "none", "mild", "left", "bilateral", "inpatient", "mri",
    "failed", "positive", "rod_fracture", "cauda_equina", "MRI", "moderat",
]
def _shape_models() -> dict[str, Any]:
    from engine.knowledge.schemafile import read_case_schema

    path = Path(__file__).resolve().parents[1] / "kb" / "case-schema.yaml"
    return shape_of(read_case_schema(path, "kb/case-schema.yaml")).models


def _words(spec: Any) -> Iterator[str]:
    """Every word a choice field of the table accepts."""
    if isinstance(spec, tuple):
        if spec and spec[0] == "choice":
            yield from (w for w in spec[2:] if isinstance(w, str))
        for part in spec:
            yield from _words(part)


FIELD_NAMES = sorted({field for fields in _shape_models().values() for field, _, _ in fields})
WORDS = sorted(set(_words(tuple(_shape_models().values()))))


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _nodes(value, path + (index,))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _value(rng: random.Random, like: Any = None) -> Any:
    """A value from the pool; half the time one of the same type as `like` (more often valid)."""
    if like is not None and rng.random() < 0.5:
        kin = [v for v in POOL + WORDS if type(v) is type(like)]
        if kin:
            return copy.deepcopy(rng.choice(kin))
    return copy.deepcopy(rng.choice(POOL)) if rng.random() < 0.8 else rng.choice(WORDS)


def _damage(data: dict[str, Any], rng: random.Random, gentle: bool) -> None:
    """One random change somewhere in `data`; a gentle one swaps a value for one of its type or
    drops a key, and so often leaves the case valid."""
    nodes = list(_nodes(data))
    path, node = rng.choice(nodes)
    move = rng.random()
    if gentle:
        if path and not isinstance(node, (dict, list)):
            kin = [v for v in POOL + WORDS if type(v) is type(node)]
            _get(data, path[:-1])[path[-1]] = copy.deepcopy(rng.choice(kin or [None]))
        elif isinstance(node, dict) and node:
            del node[rng.choice(list(node))]
        return
    if path and move < 0.45:  # replace a value
        _get(data, path[:-1])[path[-1]] = _value(rng, node)
    elif isinstance(node, dict) and node and move < 0.6:  # drop or rename a key
        key = rng.choice(list(node))
        value = node.pop(key)
        if rng.random() < 0.5:
            node[rng.choice(FIELD_NAMES + [str(v) for v in POOL if isinstance(v, str)])] = value
    elif isinstance(node, dict) and move < 0.8:  # add a key, known somewhere or not
        node[rng.choice(FIELD_NAMES + ["extra", "L4-5", "l5/s1"])] = _value(rng)
    elif isinstance(node, list) and node:  # repeat, empty or reorder a list
        choice = rng.random()
        if choice < 0.4:
            node.append(copy.deepcopy(rng.choice(node)))
        elif choice < 0.6:
            node.clear()
        else:
            rng.shuffle(node)
    elif path:
        _get(data, path[:-1])[path[-1]] = _value(rng)


def _judge(data: Any) -> tuple[Any, Any]:
    schema = bundled_kb().case_schema
    try:
        full: Any = case_model(schema).model_validate(data)
    except ValidationError:
        full = None
    try:
        quick: Any = fast.validate(data, schema)
    except fast.Invalid:
        quick = None
    return quick, full


def test_damaged_cases_are_judged_alike() -> None:
    """Random damage to every case: the fast path accepts exactly what pydantic accepts and then
    gives the same values; everything else it leaves to pydantic."""
    rng = random.Random(20240611)
    seeds = []
    for index, (path, at, own) in enumerate(CASES):
        if not own and index % 10:  # a sample of a large generated corpus is enough
            continue
        data = read_yaml(str(path), path.read_text(encoding="utf-8")).data
        for part in at:
            data = data[part]
        seeds.append(data)
    accepted = refused = 0
    for round_ in range(4000):
        data = copy.deepcopy(rng.choice(seeds))
        gentle = rng.random() < 0.5
        for _ in range(rng.choice((1, 1, 2, 3))):
            _damage(data, rng, gentle)
        before = copy.deepcopy(data)
        quick, full = _judge(data)
        assert data == before or data != data  # neither path changes its input
        assert (quick is None) == (full is None), (round_, data)
        if full is None:
            refused += 1
            continue
        accepted += 1
        _same(quick, full)
        assert json.dumps(quick.to_data()) == json.dumps(
            full.model_dump(mode="python", exclude_none=True))
    assert accepted > 800 and refused > 800, (accepted, refused)


def _run(code: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter at the repository root; it prints a JSON object."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _libyaml() -> bool:
    try:
        import yaml
    except ImportError:
        return False
    return bool(getattr(yaml, "__with_libyaml__", False))


_LIBYAML = _libyaml()  # a well-formed YAML file is then read by libyaml, without ruamel

PROBE = """
import json, sys
from engine.cases import case_document, expand_lines
from engine.cases import load_case as read
from engine.errors import CaseError
from engine.knowledge.base import KnowledgeBase

KB = KnowledgeBase.load("kb")  # from the kb cache the test warmed: no parser, no YAML reader


def load_case(*args, **kwargs):
    return read(args[0], KB, *args[1:], **kwargs)

def loaded():
    return {"pydantic": any(m == "pydantic" or m.startswith(("pydantic.", "pydantic_core"))
                            for m in sys.modules),
            "ruamel": any(m.startswith("ruamel") for m in sys.modules),
            "report": "engine.cases.invalid" in sys.modules}
"""


def test_a_valid_case_never_imports_pydantic(tmp_path: Path, kb) -> None:
    data = read_yaml(str(REFERENCE), REFERENCE.read_text(encoding="utf-8")).data
    as_json = tmp_path / "reference-case.json"
    as_json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    rule_test = sorted((ROOT / "kb" / "tests").glob("*.yaml"))[0]
    found = _run(PROBE + f"""
out = {{}}
case = load_case({str(as_json)!r})
out["json"] = loaded() | {{"lines": len(expand_lines(case, {{}}))}}
case_document(case, expand_lines(case, {{}}))
case = load_case({str(REFERENCE)!r})
document = case_document(case, expand_lines(case, {{"22633": "segment"}}))
out["yaml"] = loaded() | {{"case_id": document["case_id"], "type": type(case).__module__}}
load_case({str(rule_test)!r}, at=("case",))
out["rule test"] = loaded()
print(json.dumps(out))
""")
    assert found["json"] == {"pydantic": False, "ruamel": False, "report": False, "lines": 14}
    assert found["yaml"] == {"pydantic": False, "ruamel": not _LIBYAML, "report": False,
                             "case_id": "reference-two-stage-revision",
                             "type": "engine.cases.record"}
    assert found["rule test"]["pydantic"] is False


def test_an_invalid_case_is_explained_by_pydantic(kb) -> None:
    text = REFERENCE.read_text(encoding="utf-8").replace("sex: female", "sex: f")
    found = _run(PROBE + f"""
try:
    load_case("c.yaml", text={text!r})
except CaseError as exc:
    print(json.dumps(loaded() | {{"messages": exc.messages}}))
""")
    assert found == {"pydantic": True, "ruamel": not _LIBYAML, "report": True, "messages": [
        "c.yaml:6:8: patient.sex: 'f' is not one of female, male, other, unknown; did you mean "
        "'female'?"]}


def test_a_repeated_stage_is_caught_on_the_fast_path_too() -> None:
    """Cross-entry rules run on both paths: the fast one hands such a case to pydantic's."""
    text = REFERENCE.read_text(encoding="utf-8").replace("stage: 2", "stage: 1")
    data = read_yaml("c.yaml", text).data
    assert isinstance(fast.validate(data, bundled_kb().case_schema), Record)  # each entry alone is fine
    with pytest.raises(CaseError) as info:
        load_case("c.yaml", text=text)
    assert [m.split(": ", 1)[1] for m in info.value.messages] == [
        "requests[1].stage: stage 1 is already requested by requests[0] (line 34); put its "
        "procedures in one request"]
