"""Differential property test: the hand-written case-file reader (engine/cases/yamllite.py)
against libyaml, on texts made to fool it.

Hypothesis mutates the repository's own YAML files (characters and tokens from an adversarial
alphabet inserted, deleted or replaced at random places; lines re-indented, duplicated, swapped)
and renders random documents from a small YAML grammar (block mappings and lists at odd
indents, flow collections, plain and quoted scalars, comments, trailing blanks). The property:
whenever the reader answers (not None), libyaml accepts the text and gives the same events —
kinds, values, styles, tags, start positions — and the case builder fed by either builds the
same data, spots and problems. A text libyaml rejects must get None. Counterexamples the
properties found (all fixed in the reader) are kept as explicit regression cases below.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from reader_compare import libyaml_events, lite_events
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.cases import yamltree
from engine.cases.yamllite import read_events

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("WARRANT_PROPERTY_EXAMPLES", "200"))  # raise for a longer campaign
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
SEEDS = [p.read_text(encoding="utf-8") for p in sorted(ROOT.rglob("*.y*ml"))
         if ".venv" not in p.parts and p.suffix in (".yaml", ".yml") and p.stat().st_size < 20_000]
READ = [text for text in SEEDS if read_events(text) is not None]  # (mutations of these reach the reader)
SEED = st.sampled_from(READ) | st.sampled_from(READ) | st.sampled_from(READ) | st.sampled_from(SEEDS)

ALPHABET = [" ", "  ", "\n", "\n\n", "\t", "\r\n", "\r", "#", " #", "# ", " # c", ":", ": ", ":x", "-",
            "- ", "-\n", "'", "''", '"', '\\', '\\"', "[", "]", "{", "}", ",", ", ", "?", "? ", "!", "!!str ",
            "&a ", "*a", "|", ">", "%", "@", "`", "---", "...", "\ufeff", "\u00e9", "\x00", "\x01",
            "\x0b", "\x0c", "\x7f", "\x85", "\u00a0", "\u2028", "1e3", ".5", "0x10", "-0", "0o7", "+1",
            "1_000", "12:30", "yes", "no", "on", "null", "~", "NaN", ".inf", "a: b", "a:", "\n- ", "\n  ",
            "\n   ", "\n a: 1", "\\t", "\\n", "'it''s'", '"x"', "''''", "=", "<", "<<: ", "$", "(", ")"]


def _libyaml_or_error(text: str):
    try:
        return libyaml_events(text)
    except yaml.YAMLError as exc:
        return exc


def check(text: str) -> None:
    """The property: the reader answers only what libyaml answers, and builds the same case."""
    events = read_events(text)
    if events is None:
        return
    lib = _libyaml_or_error(text)
    assert not isinstance(lib, Exception), f"the reader accepted a text libyaml rejects: {lib}"
    assert lite_events(events) == lib, f"lite {lite_events(events)!r} != libyaml {lib!r}"
    lite = yamltree._read_plain("c.yaml", text)
    full = yamltree._read_with_libyaml("c.yaml", text)
    assert (lite is None) == (full is None)
    if lite is not None:
        # (repr: `.nan` is a value unequal to itself; repr still tells 1 from '1', 1.0 and True)
        assert (repr(lite.data), lite.spots, lite.problems) == (repr(full.data), full.spots, full.problems)


# -- mutations of real files -----------------------------------------------------------------

@st.composite
def _mutated(draw, base: st.SearchStrategy[str]) -> str:
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        text = draw(_mutation(text))
    return text


@st.composite
def _mutation(draw, text: str) -> str:
    pos = draw(st.integers(0, len(text)))
    token = draw(st.sampled_from(ALPHABET) | st.characters(max_codepoint=0x7F) | st.characters())
    kind = draw(st.sampled_from(["insert", "insert", "replace", "delete", "indent", "dup", "swap", "cut"]))
    if kind == "insert":
        return text[:pos] + token + text[pos:]
    if kind == "replace":
        return text[:pos] + token + text[pos + draw(st.integers(1, 3)):]
    if kind == "delete":
        return text[:pos] + text[pos + draw(st.integers(1, 4)):]
    lines = text.split("\n")
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "indent":
        delta = draw(st.sampled_from([-2, -1, 1, 2, 3]))
        line = lines[i]
        lines[i] = " " * delta + line if delta > 0 else (line[-delta:] if line[:-delta].strip() == "" else line)
    elif kind == "dup":
        lines.insert(i, lines[i])
    elif kind == "swap" and i + 1 < len(lines):
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif kind == "cut":
        lines = lines[i:i + draw(st.integers(1, 12))]
    return "\n".join(lines)


# -- documents from a small YAML grammar -------------------------------------------------------



def _mostly(safe: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """Most draws from `safe` (so most documents reach the reader), one in thirty from `odd`."""
    return st.integers(0, 29).flatmap(lambda i: st.sampled_from(odd if i == 29 else safe))


_KEYS = _mostly(["a", "b", "a", "code", "L4-5", "x.y", "1", "_k", "a-", "a.", "null", "yes", "0x10", "1e3"],
                ["k k", "'q'", '"q"', "-a", "a#", "a:b", "?a", "a\u00e9", "~", "[a]", "k" * 1030])
_PLAIN = _mostly(["x", "1", "-1", "-0", ".5", "1e3", "1.5e-3", "0x10", "0o17", "022633", "+1", "1_0",
                  "yes", "No", "on", "null", "~", "true", ".inf", "-.inf", ".nan", "L4-5", "a b", "a  b",
                  "a, b", "(x)", "a/b", "x=1", "a<b", "a%b", "a;b", "x ", "-x", "--", "2026-01-02", "<<", "=",
                  "a.b", "1.0", "-.5", "+.5", "0.", "1e", "0b1", "1:2", "a-", "a+", "()", "a (b)"],
                 ["12:30", "a:b", "a #b", "a#b", "- x", "-", "b'c", 'b"c', "!x", "&x", "*x", "@x", "%x", "`x",
                  "|", ">", "?", "? x", "a]", "a}", "a,", "...", "---", "a: b", "a\\b", "\x0c", "a\x00"])
_QUOTED = st.builds(lambda q, body: q + body + q, st.sampled_from(["'", '"']),
                    _mostly(["", "x", "it''s", "a b", "#x", " x ", "a: b", "1", "yes", "a'b", "a #b", "[x]",
                             "{x: y}", "- x", "~", "null", "%", "!x", "&x", "*x", "  "],
                            ["\\t", "\\\\", "\\'", "x\\", "\u00e9", '"', "'", "\x01", "\x7f", "a\\"]))
_SCALAR = _PLAIN | _QUOTED
_SPACE = _mostly([" ", "", "  "], ["\t", "   "])
_TAIL = _mostly(["", "", " ", " # c", "  # c: [x]"], ["# c", " #", "\t# c", " # 'x' : [y]", " #\x0c", " #\u00e9"])


@st.composite
def _flow(draw, depth: int = 0) -> str:
    """A one-line flow collection, spacing drawn around every token."""
    sp = lambda: draw(_SPACE)  # noqa: E731
    count = draw(st.integers(0, 3))
    if draw(st.booleans()):
        items = [draw(_SCALAR) if depth > 1 or draw(st.booleans()) else draw(_flow(depth + 1))
                 for _ in range(count)]
        return "[" + sp() + ("," + sp()).join(i + sp() for i in items) + draw(st.sampled_from(["", ",", ", "])) * (
            count > 0 and draw(st.integers(0, 5)) == 0) + "]"
    pairs = [draw(_KEYS) + draw(st.sampled_from([": ", ":", ":  "])) + draw(_SCALAR) for _ in range(count)]
    return "{" + sp() + ("," + sp()).join(p + sp() for p in pairs) + "}"


@st.composite
def _block(draw, indent: int, depth: int) -> list[str]:
    """Lines of a block mapping (or, below a key, a block list) at `indent`."""
    lines: list[str] = []
    pad = " " * indent
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 6)) == 0:
            lines.append(draw(st.sampled_from(["", " ", pad + "# c", "#", "  # x: y", "#\u00e9", pad + "#'"])))
        key = draw(_KEYS) + draw(_mostly([":", ": ", ":  "], [" :", "::", ":\t"]))
        choice = draw(st.integers(0, 5)) if depth < 3 else 0
        if choice <= 2:
            value = draw(_SCALAR) if choice < 2 else draw(_flow())
            lines.append(pad + key + ("" if key.endswith(" ") else " ") + value + draw(_TAIL))
        elif choice == 3:
            lines.append(pad + key + draw(_TAIL))
            lines += draw(_block(indent + draw(st.integers(1, 4)), depth + 1))
        else:
            lines.append(pad + key + draw(_TAIL))
            lines += draw(_sequence(indent + draw(st.sampled_from([0, 0, 1, 2, 3])), depth + 1))
    return lines


@st.composite
def _sequence(draw, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for _ in range(draw(st.integers(1, 3))):
        dash = "-" + draw(_mostly([" ", " ", "  ", "   "], ["", "\t", " - "]))
        choice = draw(st.integers(0, 3)) if depth < 3 else 0
        if choice <= 1:
            lines.append(pad + dash + (draw(_SCALAR) if choice == 0 else draw(_flow())) + draw(_TAIL))
        else:
            inner = draw(_block(0, depth + 1))
            col = indent + len(dash)
            lines.append(pad + dash + inner[0])
            lines += [" " * col + line if line.strip() else line for line in inner[1:]]
    return lines


@st.composite
def _document(draw) -> str:
    lines = draw(_block(draw(st.sampled_from([0, 0, 0, 1, 2])), 0))
    end = draw(st.sampled_from(["\n", "\n", "", "\n\n", " \n", "\n# end"]))
    text = "\n".join(lines) + end
    if draw(st.integers(0, 15)) == 0:
        text = text.replace("\n", "\r\n")
    return text


# -- the properties ----------------------------------------------------------------------------

@SETTINGS
@given(_mutated(SEED))
def test_mutated_case_files_read_as_libyaml_reads_them(text: str) -> None:
    check(text)


@SETTINGS
@given(_document())
@example("a: 1\nb:\n- x\n-  y\nc: {d: 'e', f: [g, \"h\"]}\n")
def test_generated_documents_read_as_libyaml_reads_them(text: str) -> None:
    check(text)


@SETTINGS
@given(_mutated(_document()))
def test_mutated_generated_documents_read_as_libyaml_reads_them(text: str) -> None:
    check(text)


def test_a_plain_document_reaches_the_reader() -> None:
    """The properties exercise the reader, not only its refusals: a plain document it must read."""
    text = "a: 1\nb:\n- x\n-  y\nc: {d: 'e', f: [g, \"h\"]}\n"
    assert read_events(text) is not None
    check(text)


# -- counterexamples the properties found (fixed: the reader now declines them) ---------------

FOUND = [
    # libyaml: ReaderError "unacceptable character #x0001: control characters are not allowed";
    # the reader skipped comments unread and answered a mapping {a: '1'}.
    pytest.param("a: 1\n# \x01\n", id="control char in a full-line comment"),
    pytest.param("a: 1 # \x7f\n", id="DEL in a trailing comment"),
    pytest.param("a: 1 #\x0c\n", id="form feed in a trailing comment"),
    pytest.param("a: 1\n#\x00\n", id="NUL in a comment"),
    pytest.param("a:\n  b: x\n  # \x1b[31m\n  c: y\n", id="ESC in an indented comment"),
    # libyaml: ScannerError "mapping values are not allowed in this context" (a simple key may
    # not be longer than 1024 characters); the reader answered {kkk...k: '1'}.
    pytest.param("k" * 1025 + ": 1\n", id="block key of 1025 characters"),
    pytest.param("a: {" + "k" * 1025 + ": 1}\n", id="flow key of 1025 characters"),
    pytest.param("a:\n- " + "k" * 1025 + ": 1\n", id="key of 1025 characters in a list item"),
]


@pytest.mark.parametrize("text", FOUND)
def test_found_counterexamples(text: str) -> None:
    check(text)


DEEP = [
    # libyaml reads these (its limit is 1000 flow levels) and the case builder reports "nested
    # more than 32 levels deep" (exit 3); through yamllite `warrant decide` ends in "unexpected
    # failure: RecursionError" (exit 1). The reader now declines past 40 levels.
    pytest.param("a: " + "[" * 600 + "]" * 600 + "\n", id="600 nested flow lists"),
    pytest.param("a: " + "{a: " * 600 + "b" + "}" * 600 + "\n", id="600 nested flow mappings"),
    pytest.param("".join(" " * i + "k:\n" for i in range(600)) + " " * 600 + "k: v\n",
                 id="600 nested block mappings"),
]


@pytest.mark.parametrize("text", DEEP)
def test_deep_nesting_is_left_to_libyaml_or_read(text: str) -> None:
    assert not isinstance(_libyaml_or_error(text), Exception)
    check(text)


def test_found_counterexamples_are_declined() -> None:
    """Each counterexample goes to libyaml now (which words the error, or reads it)."""
    for param in FOUND + DEEP:
        assert read_events(param.values[0]) is None


def test_a_key_of_1024_characters_is_declined_or_read_as_libyaml_reads_it() -> None:
    """(the limit's edge)"""
    check("k" * 1024 + ": 1\n")
