"""What a person reads speaks clinical English: text, Markdown and HTML outputs show no snake_case
identifier, unfilled placeholder, line id or Python value (identifiers appear with --ids, and
stay in JSON); the clinical graph stays small enough to read when fitted."""
from __future__ import annotations

import html
import json
import re

import pytest

from tests.conftest import REFERENCE

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
LINE_ID = re.compile(r"\b\d+:\d{5}:[A-Za-z0-9-]+\b")
PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
PYTHON = re.compile(r"\b(?:None|True|False)\b|\[\]|'[a-z_]+'")


def _clean(text: str, where: str) -> None:
    for name, pattern in (("identifier", SNAKE), ("line id", LINE_ID), ("placeholder", PLACEHOLDER),
                          ("Python value", PYTHON)):
        found = pattern.search(text)
        assert not found, f"{where}: {name} {found.group(0)!r} in …{text[max(0, found.start() - 60):found.end() + 40]}…"


def _lines(kb):
    from engine.inputs import open_session

    return open_session(kb, REFERENCE).lines


def _where(line) -> list[str]:
    if line.level:
        return ["--level", line.level]
    return ["--side", line.side] if line.side else []


def test_decide_text_and_markdown(run_cli):
    text = run_cli("decide", str(REFERENCE)).stdout
    _clean(text.split("\n", 1)[1], "decide text")           # the first line names the case by its id
    markdown = run_cli("decide", str(REFERENCE), "--format", "markdown").stdout
    _clean(re.sub(r"`[^`]*`", "", markdown), "decide markdown")  # code spans hold the case id and digest


def test_why_and_why_not_for_every_reference_line(run_cli, kb):
    for line in _lines(kb):
        args = [str(REFERENCE), line.code, *_where(line), "--stage", str(line.stage)]
        _clean(run_cli("why", *args).stdout, f"why {line.id}")
        answer = run_cli("why-not", *args).stdout
        _clean(answer, f"why-not {line.id}")
        assert len(answer.splitlines()) <= 45, f"why-not {line.id} is more than a screenful"
        _clean(run_cli("why-not", *args, "--tree").stdout, f"why-not --tree {line.id}")
    with_ids = run_cli("why-not", str(REFERENCE), "22633", "--level", "L4-5", "--ids").stdout
    assert "[2:22633:L4-5]" in with_ids and "(conservative_care.physical_therapy_weeks)" in with_ids


def test_what_if_text(run_cli):
    text = run_cli("what-if", str(REFERENCE), "--set", "requests[1].procedures[1].levels=[L4-5]").stdout
    _clean(text.split("\n", 2)[2], "what-if text")              # the header repeats the edits as given


def test_clinical_graph_html_labels(run_cli, kb):
    for line in _lines(kb):
        for extra in ([], ["--why-not"]):
            page = run_cli("graph", str(REFERENCE), line.code, *_where(line), "--stage", str(line.stage),
                           "--format", "html", *extra).stdout
            drawn = " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", page))
            drawn += " " + html.unescape(re.search(r"<h1>(.*?)</h1>", page).group(1))
            _clean(drawn, f"graph {line.id} {extra}")


def test_clinical_why_not_graph_of_22633_is_small_and_whole(run_cli):
    data = json.loads(run_cli("graph", str(REFERENCE), "22633", "--level", "L4-5", "--why-not",
                              "--format", "json").stdout)
    assert len(data["nodes"]) <= 30
    kinds = {n["kind"] for n in data["nodes"]}
    assert {"not_derived", "missing"} <= kinds and "rule" not in kinds and "failed_rule" not in kinds
    criteria = [n for n in data["nodes"] if n["ids"].get("criterion")]
    assert {n["ids"]["criterion"] for n in criteria} == {"instability", "stenosis_compression",
                                                         "conservative_care_fusion", "exam_correlation"}
    full = json.loads(run_cli("graph", str(REFERENCE), "22633", "--level", "L4-5", "--why-not", "--full",
                              "--format", "json").stdout)
    assert len(full["nodes"]) > 60  # the logical graph is still there for proof inspectors


@pytest.mark.parametrize("fmt", ["html", "dot", "mermaid"])
def test_labels_are_never_cut(run_cli, fmt):
    out = run_cli("graph", str(REFERENCE), "22633", "--level", "L4-5", "--why-not", "--format", fmt).stdout
    assert "…" not in out.replace("no documentation set found", "")
    long_requirement = "a planned facet resection of more than 50%, or significant deformity"
    squashed = re.sub(r"(<[^>]+>|\\n|<br/>|\s)+", " ", html.unescape(out))
    assert long_requirement in squashed
