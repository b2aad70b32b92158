"""Hostile or broken input fails as a CaseError with a position, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import bundled_kb
from engine.cases import load_case
from engine.cases.source import MAX_BYTES
from engine.errors import CaseError

HEAD = "format: warrant-case/1\ncase_id: c1\n"
REQUESTS = "requests:\n  - stage: 1\n    procedures:\n      - {code: \"22633\"}\n"


def problems_of_file(path: Path) -> list[str]:
    with pytest.raises(CaseError) as info:
        load_case(path, bundled_kb())
    return info.value.messages


def problems(text: str, name: str = "c.yaml") -> list[str]:
    with pytest.raises(CaseError) as info:
        load_case(name, bundled_kb(), text=text)
    return info.value.messages


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_bytes(b"format: warrant-case/1\nimage: \x89PNG\x00\x01")
    assert problems_of_file(path) == [
        f"{path}:2:12: this looks like a binary file (it contains a NUL byte); a case file is "
        "UTF-8 YAML or JSON text"]


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.encode() + "summary: caf\u00e9\n".encode("latin-1"))
    assert problems_of_file(path) == [
        f"{path}:3:13: the file is not UTF-8 text (byte 0xe9 cannot be decoded)"]


def test_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert problems_of_file(path) == [f"{path}:1:1: the case file is empty"]
    assert problems("  \n\n") == ["c.yaml:1:1: the case file is empty"]
    assert problems("# only a comment\n") == [
        "c.yaml:1:1: the case file holds no data (only comments or an empty document)"]
    assert problems("---\n") == [
        "c.yaml:1:1: the case file holds no data (only comments or an empty document)"]


def test_huge_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    assert problems_of_file(path) == [
        f"{path}:1:1: the file holds {MAX_BYTES + 1} bytes; case files may not exceed 5 MiB"]
    assert problems("#" * (MAX_BYTES + 1)) == [
        f"c.yaml:1:1: the text holds more than {MAX_BYTES} bytes; case files may not exceed 5 MiB"]


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of_file(tmp_path / "absent.yaml") == [
        f"{tmp_path / 'absent.yaml'}: cannot read the case file (No such file or directory)"]


def test_tags_never_build_objects() -> None:
    text = HEAD.replace("c1", "!!python/object/apply:os.system [echo pwned]") + REQUESTS + \
        "summary: !!binary aGVsbG8=\n!custom key: 1\n"
    assert problems(text) == [
        "c.yaml:2:10: case_id: the value carries the tag tag:yaml.org,2002:python/object/apply:"
        "os.system; tags are not allowed in case files (quote the value instead)",
        "c.yaml:7:10: summary: the value carries the tag tag:yaml.org,2002:binary; tags are not "
        "allowed in case files (quote the value instead)",
        "c.yaml:8:1: key: the key carries the tag !custom; tags are not allowed in case files",
    ]


def test_aliases_are_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    found = problems(HEAD + REQUESTS + bomb)
    assert found[0] == ("c.yaml:7:1: a: unknown key; known keys here are format, case_id, policy, received, "
                        "summary, patient, symptoms, exam, labs, conservative_care, history, imaging, si_joint, "
                        "requests")
    assert found[2] == ("c.yaml:8:8: b[0]: aliases (*a) are not allowed in case files; write the "
                        "value out in full")
    text = HEAD + "summary: &s text\n" + REQUESTS + "patient: {comorbidities: [*s]}\n"
    assert problems(text) == [
        "c.yaml:8:27: patient.comorbidities[0]: aliases (*s) are not allowed in case files; "
        "write the value out in full"]


def test_duplicate_keys() -> None:
    text = HEAD + REQUESTS + "patient:\n  age: 60\n  age: 61\n"
    assert problems(text) == [
        "c.yaml:9:3: patient.age: duplicate key; it already appears at line 8, column 3, and a "
        "key may appear only once"]


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- format: warrant-case/1\n") == [
        "c.yaml:1:1: the top level is a list; a case file is a mapping with keys such as "
        "format, case_id and requests"]
    assert problems("just some words\n") == [
        "c.yaml:1:1: the top level is a single value; a case file is a mapping with keys such "
        "as format, case_id and requests"]
    assert problems('["a"]', "c.json") == [
        "c.json:1:1: the top level is a list; a case file is a mapping with keys such as "
        "format, case_id and requests"]


def test_malformed_yaml() -> None:
    assert problems(HEAD + "requests: [\n  {stage: 1\n") == [
        "c.yaml:5:1: YAML syntax error: expected ',' or '}', but got '<stream end>'"]
    assert problems("a: b: c\n") == [
        "c.yaml:1:5: YAML syntax error: mapping values are not allowed here"]
    assert problems("a: \x07\n") == [
        "c.yaml:1:4: YAML error: unacceptable character #x0007: special characters are not "
        "allowed"]
    assert problems("a: 1\n---\nb: 2\n") == [
        "c.yaml:2:1: the file holds more than one YAML document; a case file holds exactly one"]


def test_deep_nesting() -> None:
    assert problems("a: " + "[" * 40 + "]" * 40 + "\n") == [
        "c.yaml:1:35: the data is nested more than 32 levels deep; no case file needs that"]
    assert problems('{"a": ' + "[" * 40 + "]" * 40 + "}", "c.json") == [
        "c.json:1:38: the data is nested more than 32 levels deep; no case file needs that"]


def test_complex_keys_and_huge_numbers() -> None:
    assert problems("? [a, b]\n: 1\n") == [
        "c.yaml:1:3: the top level: keys must be plain names, not lists, mappings or aliases"]
    text = HEAD + REQUESTS + "patient: {age: " + "9" * 5000 + "}\n"
    assert problems(text)[0].startswith("c.yaml:7:16: patient.age: must be a whole number, not "
                                        "the text '9999")
