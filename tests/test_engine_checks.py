"""Every load-time check reports `file:line:col: message` with a stable code, before pyDatalog runs."""
from __future__ import annotations

import pytest

from engine import Program, RuleError
from engine.language.parser import parse_text

CHECKER_CASES = [
    ("syntax", "p(X) :- q(X)\n", "bad.dl:1:13:", "syntax error"),
    ("syntax", "p(a).\np(X :- q(X).\n", "bad.dl:2:5:", "unexpected ':-'"),
    ("syntax", "p(a).\n\n  q(X) :- p(X), .\n", "bad.dl:3:17:", "unexpected '.'"),
    ("arity_mismatch", "p(a).\nq(X) :- p(X, Y), r(Y).\nr(1).\n", "bad.dl:2:9:", "p is used with 2 arguments"),
    ("undefined_predicate", "p(a).\nq(X) :- p(X), missing(X).\n", "bad.dl:2:15:", "missing/1 is used but never defined"),
    ("unsafe_variable", "p(a).\nq(X, Y) :- p(X).\n", "bad.dl:2:1:", "unsafe variable Y in the head"),
    ("unsafe_variable", "p(a).\nr(a).\nq(X) :- \\+ r(X), p(X).\n", "bad.dl:3:9:", "unsafe variable X in the negation"),
    ("unsafe_variable", "p(a).\nq(X) :- p(X), Y > 3.\n", "bad.dl:2:15:", "unsafe variable Y in the comparison"),
    ("unsafe_variable", "p(a, 1).\nq(N) :- aggregate_all(sum(W), p(_, V), N).\n", "bad.dl:2:9:",
     "unsafe variable W aggregated by sum"),
    ("unsafe_variable", "p(X).\n", "bad.dl:1:1:", "unsafe variable X in the fact"),
    ("unstratifiable", "e(a).\np(X) :- e(X), \\+ q(X).\nq(X) :- e(X), p(X).\n", "bad.dl:2:15:",
     "q/1 is negated or aggregated inside its own recursion"),
    ("unstratifiable", "e(a, b).\nc(X, N) :- e(X, _), aggregate_all(count, c(_, _), N).\n", "bad.dl:2:21:",
     "c/2 is negated or aggregated inside its own recursion"),
    ("duplicate_rule_id", "e(a).\n%@ rule r.one\np(X) :- e(X).\n%@ rule r.one\nq(X) :- e(X).\n", "bad.dl:4:1:",
     "rule id r.one is used twice (first at bad.dl:2:1)"),
    ("unknown_citation", "e(a).\n%@ rule r.one\n%@ cite nowhere-2020\np(X) :- e(X).\n", "bad.dl:3:1:",
     "cites 'nowhere-2020'"),
]


@pytest.mark.parametrize("code,text,where,words", CHECKER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CHECKER_CASES)])
def test_checker_reports_code_and_position(code, text, where, words):
    with pytest.raises(RuleError) as info:
        Program.from_text(text, source="bad.dl", citations=["aans-cns-2014"], strict=True)
    exc = info.value
    assert exc.code == code
    first = exc.messages[0]
    assert first.startswith(where), first
    assert words in first


def test_every_finding_is_reported_not_only_the_first():
    text = "p(a).\nq(X, Y) :- p(X).\nr(X) :- \\+ s(X), p(X).\ns(a).\n"
    with pytest.raises(RuleError) as info:
        Program.from_text(text, source="many.dl")
    assert [m.split(": ", 1)[0] for m in info.value.messages] == ["many.dl:2:1", "many.dl:3:9"]


def test_unused_predicate_is_a_warning_only():
    prog = Program(
        [parse_text("e(a).\nused(X) :- e(X).\nlonely(X) :- e(X).\n", "w.dl")], roots=["used"])
    assert [str(w) for w in prog.warnings] == ["w.dl:3:1: warning: lonely is defined but never used"]


def test_missing_annotations_are_warnings_in_kb_mode():
    prog = Program([parse_text("e(a).\np(X) :- e(X).\n", "w.dl")], roots=["p"], require_annotations=True)
    messages = [str(w) for w in prog.warnings]
    assert "w.dl:2:1: warning: rule for p has no '%@ rule ID' annotation" in messages
    assert "w.dl:2:1: warning: p/1 has no '%@ pred' declaration" in messages


def test_annotation_placeholders_must_name_variables():
    text = "%@ pred e(A)\n%@ holds {A} and {B}\ne(a).\n%@ rule r\n%@ says {X} then {Z}\np(X) :- e(X).\n"
    with pytest.raises(RuleError) as info:
        Program.from_text(text, source="a.dl")
    messages = info.value.messages
    assert any(m.startswith("a.dl:1:1:") and "{B}" in m for m in messages)
    assert any(m.startswith("a.dl:4:1:") and "{Z}" in m for m in messages)


def test_field_paths_must_bind_every_argument():
    text = "%@ pred seg(Study, Segment, Value)\n%@ field imaging[Study].segments.{Segment}.grade = V\n"
    with pytest.raises(RuleError) as info:
        Program.from_text(text, source="f.dl")
    messages = " ".join(info.value.messages)
    assert "binds V, which is not an argument of seg" in messages
    assert "does not bind argument Value" in messages


def test_unknown_annotation_key_is_a_syntax_error():
    with pytest.raises(RuleError) as info:
        Program.from_text("%@ rule r\n%@ sayz hello\np(a).\n", source="k.dl")
    assert info.value.code == "syntax"
    assert info.value.messages[0].startswith("k.dl:2:1: unknown key 'sayz'")


def test_rule_annotation_must_precede_a_clause():
    with pytest.raises(RuleError) as info:
        Program.from_text("p(a).\n%@ rule dangling\n", source="d.dl")
    assert info.value.messages[0].startswith("d.dl:2:1:")


def test_left_to_right_safety_accepts_binding_before_use():
    prog = Program.from_text("e(a). e(b). r(a).\np(X) :- e(X), \\+ r(X).\nq(Y) :- e(X), Y = X, Y \\= a.\n")
    assert prog.query("p") == {("b",)}
    assert prog.query("q") == {("b",)}
