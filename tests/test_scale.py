"""Large programs (issue 16, point 5): big fact tables and recursive programs give the same
modules, findings and answers as small ones; errors in a big table keep their positions."""
from __future__ import annotations

import pytest

from engine.errors import RuleError
from engine.evaluate.program import Program
from engine.language import parser


def _lark_only(text: str, name: str):
    original, parser._fast_facts = parser._fast_facts, lambda text, source: (text, [])
    try:
        return parser.parse_text(text, name)
    finally:
        parser._fast_facts = original


@pytest.mark.parametrize("layout", ["plain", "annotated", "crlf"])
def test_fact_lines_around_annotations_comments_and_blank_lines_parse_as_lark_would(layout) -> None:
    rows = [f"p('r{i}', {i})." for i in range(80)]
    lines = (["p(first, 0).", "%@ pred p(Key, Value)", "%@ holds {Key} is {Value}", "", "% a comment",
              "p(after_annotation, 1).", "  p(indented, 2).", "p(a, 3). p(b, 4).",
              "%@ rule r.one", "%@ says one", "", "q(X) :- p(X, _).", "p(after_rule, 5).",
              "%@ rule r.two", "%@ says two", "", "% between", "p(ruled, 6)."]
             if layout != "plain" else []) + rows + ["%@ pred q(Key)", "%@ holds {Key}"]
    text = ("\r\n" if layout == "crlf" else "\n").join(lines) + "\n"
    if layout != "annotated" and layout != "crlf":
        text += "q(X) :- p(X, _).\n"
    fast, plain = parser.parse_text(text, "t.dl"), _lark_only(text, "t.dl")
    assert fast == plain
    assert [(c.loc, c.head.loc) for c in fast.clauses] == [(c.loc, c.head.loc) for c in plain.clauses]
    assert [c.meta for c in fast.clauses] == [c.meta for c in plain.clauses]


def test_every_fact_of_a_large_table_answers() -> None:
    size = 20_000
    text = "".join(f"t('k{i:05d}', {i % 97}).\n" for i in range(size)) + "big(K) :- t(K, V), V > 90.\n"
    program = Program.from_text(text, "t.dl")
    assert program.query("t", 2) == {(f"k{i:05d}", i % 97) for i in range(size)}
    assert program.query("big", 1) == {(f"k{i:05d}",) for i in range(size) if i % 97 > 90}


def test_an_error_inside_a_large_table_names_its_line_and_column() -> None:
    rows = [f"t('k{i:05d}', {i})." for i in range(5_000)]
    rows[3_210] = "t('k03210', 1, extra)."      # arity: reported at the fact
    rows[4_000] = "t('k04000' 2)."              # syntax: reported by lark at the character
    with pytest.raises(RuleError) as syntax:
        Program.from_text("\n".join(rows) + "\n", "table.dl")
    assert str(syntax.value).startswith("table.dl:4001:12: syntax error")
    rows[4_000] = "t('k04000', 2)."
    with pytest.raises(RuleError) as arity:
        Program.from_text("\n".join(rows) + "\n", "table.dl")
    assert "table.dl:3211:1:" in str(arity.value) and "t is used with 3 arguments" in str(arity.value)


def test_a_table_no_rule_reads_answers_queries_goals_and_added_facts() -> None:
    text = "".join(f"u('k{i}', {i}).\n" for i in range(100)) + "w(X) :- v(X).\nv(1).\n"
    program = Program.from_text(text, "t.dl")
    assert program.ask("u(K, 7)") == [{"K": "k7"}]
    program.add_facts("u", [("extra", 7), ("k3", 3)])
    assert len(program.query("u", 2)) == 101
    assert program.ask("u(K, 7)") == [{"K": "extra"}, {"K": "k7"}]
    program.clear_facts()
    assert len(program.query("u", 2)) == 100 and ("k3", 3) in program.query("u", 2)
    fresh = Program.from_text(text, "t.dl")
    assert fresh.query("u", 2) == {(f"k{i}", i) for i in range(100)}


def test_a_fact_read_by_the_fast_path_is_the_dataclasses_own() -> None:
    from engine.errors import Location
    from engine.language import ast

    args = (ast.Const("a"), ast.Const(1))
    fast = ast.ground_fact("p", args, "f.dl", 7)
    loc = Location("f.dl", 7, 1)
    plain = ast.Clause(ast.Atom("p", args, loc), (), None, loc)
    plain.head.key  # computed, as the fast one's is
    assert fast == plain and fast.head.loc == plain.head.loc == fast.loc
    assert vars(fast) == vars(plain) and vars(fast.head) == vars(plain.head) and vars(fast.loc) == vars(plain.loc)
    assert hash(fast) == hash(plain) and str(fast.loc) == "f.dl:7:1"


def test_the_collector_is_off_inside_a_pause_and_as_it_was_after() -> None:
    import gc

    from engine.guard import gcpause

    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still building
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


def test_pauses_that_keep_overlapping_still_collect(monkeypatch) -> None:
    import gc

    from engine.guard import gcpause

    monkeypatch.setattr(gcpause, "_LONGEST", 0.0)
    before = sum(s["collections"] for s in gc.get_stats())
    with gcpause.paused():
        with gcpause.paused():  # another evaluation ending while the first still runs
            pass
        assert not gc.isenabled()
    assert sum(s["collections"] for s in gc.get_stats()) > before


def test_facts_lowered_as_rows_keep_each_rules_source_index() -> None:
    """A predicate with facts and rules: each rule's answers name its own source clause (index
    among the predicate's clauses, facts included), as provenance reads them."""
    program = Program.from_text("p(a).\np(X) :- q(X).\np(b).\np(X) :- r(X).\nq(c).\n", "t.dl")
    assert dict(program.core.facts)[("p", 1)] == (("a",), ("b",))
    origins: dict = {}
    answers = program.derive({("r", 1): [("d",)]}, origins=origins)
    assert sorted(answers[("p", 1)]) == [("a",), ("b",), ("c",), ("d",)]
    assert origins[("p", 1)][("c",)] == {1} and origins[("p", 1)][("d",)] == {3}
