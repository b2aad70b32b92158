"""Issue 17, items 3 and 4: git revisions cannot become options, and text from a case file is
escaped for every output (terminal, Markdown, HTML, JSON)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"
HOSTILE_ID = "x`<script>alert(1)</script>[a](javascript:alert(1))\x1b]0;pwned\x07\nforged line\x9b2J\u202e"


# ------------------------------------------------------------------------------ item 3: git refs
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("rev", ["--output={victim}", "-o{victim}", "--upload-pack=touch {victim}"])
def test_a_git_revision_is_never_read_as_an_option(tmp_path, run_cli, rev):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    result = run_cli("diff", "--base", f"git:{rev.format(victim=victim)}", str(REFERENCE))
    assert result.exit_code == 2 and "not a revision name" in result.stderr
    assert victim.read_text() == "precious"


# ------------------------------------------------------------------------------ item 4: escaping
@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    escaped = json.dumps(HOSTILE_ID)  # a YAML double-quoted scalar reads JSON escapes
    path = tmp_path_factory.mktemp("hostile") / "case.yaml"
    path.write_text(re.sub(r"^case_id: .*$", lambda _: f"case_id: {escaped}", text, count=1, flags=re.M),
                    encoding="utf-8")
    return path


def _no_raw_controls(text: str) -> None:
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), repr(text[:200])


def test_terminal_output_shows_control_characters_escaped(hostile_case, run_cli):
    result = run_cli("decide", str(hostile_case))
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stdout)
    first = result.stdout.splitlines()[0]
    assert first.startswith("case x`<script>") and "\\x1b]0;pwned\\x07\\x0aforged line\\x9b2J\\u202e" in first
    assert not any(line.startswith("forged line") for line in result.stdout.splitlines())
    why = run_cli("why", str(hostile_case), "22633", "--level", "L4-5")
    assert why.exit_code == 0
    _no_raw_controls(why.stdout)


def _code_span_content(line: str, prefix: str) -> str:
    rest = line[len(prefix):]
    fence = re.match(r"`+", rest).group()
    assert rest.endswith(fence) and len(rest) > 2 * len(fence)
    inner = rest[len(fence):-len(fence)]
    assert fence not in re.findall(r"`+", inner)  # no backtick run inside can close the span
    return inner


@pytest.mark.parametrize("command", [["report"], ["decide", "--format", "markdown"]])
def test_markdown_keeps_the_case_id_inside_its_code_span(hostile_case, run_cli, command):
    result = run_cli(*command[:1], str(hostile_case), *command[1:])
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stdout)
    head = result.stdout.splitlines()[0]
    prefix = head[: head.index("`")]
    inner = _code_span_content(head, prefix)
    assert "<script>" in inner and "\\x0aforged line" in inner
    assert "<script>" not in head.replace(inner, "")


def test_markdown_text_cannot_open_links_or_html():
    from engine.guard.text import markdown

    out = markdown("[a](javascript:alert(1)) <img src=x onerror=alert(1)> `code` | cell &amp;")
    assert re.search(r"(?<!\\)[\[\]<>`|&]", out) is None


def test_html_report_escapes_the_case_id(hostile_case, run_cli):
    result = run_cli("report", str(hostile_case), "--format", "html")
    assert result.exit_code == 0, result.stderr
    assert "<script>" not in result.stdout and "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    _no_raw_controls(result.stdout)


def test_json_output_is_the_same_data_with_terminal_controls_escaped(hostile_case, run_cli):
    result = run_cli("decide", str(hostile_case), "--format", "json")
    assert result.exit_code == 0
    _no_raw_controls(result.stdout)
    assert "\\u009b" in result.stdout and "\\u202e" in result.stdout
    assert json.loads(result.stdout)["case_id"] == HOSTILE_ID


def test_error_messages_escape_file_names(tmp_path, run_cli):
    name = tmp_path / "evil\x1b]0;x\x07.yaml"
    name.write_text("format: warrant-case/1\n", encoding="utf-8")
    result = run_cli("decide", str(name))
    assert result.exit_code == 3
    _no_raw_controls(result.stderr)
    assert "evil\\x1b]0;x\\x07.yaml" in result.stderr
