"""Issue 17, "The engine API" (items 12-15): what the Program API promises its callers.

- facts supplied with `add_facts` are kept apart from the program's own, so `clear_facts` never
  takes a fact of the program text away (the exact reproduction of the issue, and a property
  over random rows);
- `aggregate_all(max|min|sum)` over a column mixing atoms and numbers is an `EvaluationError`
  (exit 4), and a sum over a column the program can only fill with atoms is refused when the
  program is checked;
- 1 and 1.0 are one value with one representative, whatever order they are asserted in;
- evaluation stops with `budget_exceeded` when it runs out of its budget of steps or seconds,
  set on the Program or in kb.yaml, and the program stays usable afterwards.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Program, WarrantError
from engine.errors import EvaluationError, RuleError
from engine.guard.budget import Budget
from engine.guard.limits import LIMITS

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------- 12: clear_facts


def test_clear_facts_keeps_a_program_fact_that_add_facts_also_supplied() -> None:
    p = Program.from_text("edge(1, 2).\nedge(2, 3).\npath(X, Y) :- edge(X, Y).\n")
    p.add_facts("edge", [(1, 2), (5, 6)])
    assert p.query("edge") == {(1, 2), (2, 3), (5, 6)}
    p.clear_facts()
    assert p.query("edge") == {(1, 2), (2, 3)}
    assert p.query("path") == {(1, 2), (2, 3)}


def test_supplying_a_program_fact_twice_and_clearing_twice_keeps_it() -> None:
    p = Program.from_text("edge(1, 2).\nreach(Y) :- edge(1, Y).\n")
    for _ in range(2):
        p.add_facts("edge", [(1, 2), (1, 2.0)])
        p.add_facts("edge", [(1, 3)])
        assert p.query("reach") == {(2,), (3,)}
        p.clear_facts()
        assert p.query("reach") == {(2,)}


ROWS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=12)


@SETTINGS
@given(text_rows=ROWS, supplied=st.lists(ROWS, min_size=1, max_size=3))
def test_clearing_supplied_facts_leaves_exactly_the_program(text_rows, supplied) -> None:
    facts = "".join(f"edge({a}, {b}).\n" for a, b in text_rows)
    text = facts + "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
    program = Program.from_text(text, source="random.dl")
    program.add_facts("edge", [], arity=2)  # declares edge even when the text has no edge facts
    alone = program.query("path")
    expected = set(text_rows)
    for rows in supplied:
        program.add_facts("edge", rows, arity=2)
        expected |= set(rows)
        assert program.query("edge") == expected
    program.clear_facts()
    assert program.query("edge") == set(text_rows)
    assert program.query("path") == alone


# ------------------------------------------------------------------------- 13: mixed aggregates

MIXED = "v(a, 1). v(b, two). v(c, 3).\n"


@pytest.mark.parametrize("kind", ["max", "min", "sum"])
def test_an_aggregate_over_atoms_and_numbers_is_an_evaluation_error(kind) -> None:
    program = Program.from_text(MIXED + f"r(M) :- aggregate_all({kind}(X), v(_, X), M).\n", source="mixed.dl")
    with pytest.raises(EvaluationError) as info:
        program.query("r")
    assert info.value.code == "aggregate_types" and info.value.exit_code == 4
    assert "both atoms and numbers" in str(info.value) and "r/1" in str(info.value)
    with pytest.raises(EvaluationError):  # the same goal asked ad hoc
        Program.from_text(MIXED, source="mixed.dl").ask(f"aggregate_all({kind}(X), v(_, X), M)")


def test_a_failed_evaluation_leaves_the_program_usable() -> None:
    program = Program.from_text("v(a, 1). v(c, 3).\nr(M) :- aggregate_all(max(X), v(_, X), M).\n"
                                "t(X) :- v(X, _).\n", source="mixed.dl")
    assert program.query("r") == {(3,)}
    program.add_facts("v", [("b", "two")])
    with pytest.raises(EvaluationError):
        program.query("r")
    with pytest.raises(EvaluationError):
        program.derive({("v", 2): [("b", "two")]})
    assert program.query("t") == {("a",), ("c",)}  # derive retracts what it asserted, even on failure
    program.clear_facts()
    assert program.query("r") == {(3,)} and program.query("t") == {("a",), ("c",)}


def test_the_provenance_model_agrees_that_mixed_values_are_an_error() -> None:
    program = Program.from_text(MIXED + "r(M) :- aggregate_all(max(X), v(_, X), M).\n", source="mixed.dl")
    with pytest.raises(EvaluationError) as info:
        program.model({})
    assert info.value.code == "aggregate_types"


def test_max_and_min_over_atoms_alone_follow_the_standard_order() -> None:
    program = Program.from_text("v(pear). v(apple). v(fig).\nhi(M) :- aggregate_all(max(X), v(X), M).\n"
                                "lo(M) :- aggregate_all(min(X), v(X), M).\n")
    assert program.query("hi") == {("pear",)} and program.query("lo") == {("apple",)}


def test_a_sum_the_program_can_only_fill_with_atoms_is_refused_when_checked() -> None:
    text = "v(a). v(b).\nw(X) :- v(X).\ns(S) :- aggregate_all(sum(X), w(X), S).\n"
    with pytest.raises(RuleError) as info:
        Program.from_text(text, source="sum.dl")
    assert info.value.code == "sum_over_atoms" and str(info.value).startswith("sum.dl:3:9: ")
    # a column a case may fill (no clauses) or that holds numbers is not refused
    Program.from_text("s(S) :- aggregate_all(sum(X), w(X), S).\n", source="ok.dl")
    Program.from_text("v(1). v(2.5).\ns(S) :- aggregate_all(sum(X), v(X), S).\n", source="ok.dl")


# ------------------------------------------------------------------------- 14: 1 and 1.0


@pytest.mark.parametrize("first, second", [(1, 1.0), (1.0, 1)])
def test_one_and_one_point_zero_have_one_representative_in_either_order(first, second) -> None:
    text = f"v({first!r}).\nv({second!r}).\nw(X) :- v(X).\n"
    program = Program.from_text(text, source="num.dl")
    for pred in ("v", "w"):
        (row,) = program.query(pred)
        assert row == (1,) and type(row[0]) is int
    supplied = Program.from_text("w(X) :- u(X).\ns(S) :- aggregate_all(sum(X), u(X), S).\n")
    supplied.add_facts("u", [(first,), (second,), (0.5,)])
    assert sorted(supplied.query("w")) == [(0.5,), (1,)]
    assert [type(r[0]) for r in sorted(supplied.query("w"))] == [float, int]
    assert supplied.query("s") == {(1.5,)}
    assert supplied.ask("u(X), X > 0.7") == [{"X": 1}] and type(supplied.ask("u(X), X > 0.7")[0]["X"]) is int


def test_an_integral_result_is_an_integer_and_other_decimals_stay() -> None:
    program = Program.from_text("h(0.5). v(0.5, x). v(1.5, y). big(1e3).\n"
                                "s(S) :- aggregate_all(sum(X), v(X, _), S).\n")
    ((total,),) = program.query("s")
    ((big,),) = program.query("big")
    assert (total, type(total)) == (2, int) and (big, type(big)) == (1000, int)
    assert program.query("h") == {(0.5,)} and type(next(iter(program.query("h")))[0]) is float


# ------------------------------------------------------------------------- 15: the budget

BLOWUP = "big(A, B, C, D) :- n(A), n(B), n(C), n(D).\nsize(N) :- aggregate_all(count, big(_, _, _, _), N).\n"


def _blowup(budget: Budget | None = None) -> Program:
    program = Program.from_text(BLOWUP, source="join.dl", budget=budget)
    program.add_facts("n", [(i,) for i in range(60)])  # 13 million rows: never finishes in a test
    return program


def test_a_join_that_blows_up_stops_at_the_step_budget() -> None:
    program = _blowup(Budget(steps=20_000))
    with pytest.raises(EvaluationError) as info:
        program.query("size")
    assert info.value.code == "budget_exceeded" and info.value.exit_code == 4
    assert "20,000 steps" in str(info.value)
    # still usable: a smaller input fits the same budget
    program.clear_facts()
    program.add_facts("n", [(1,), (2,)])
    assert program.query("size") == {(16,)}


def test_a_join_that_blows_up_stops_at_the_time_budget() -> None:
    program = _blowup(Budget(seconds=0.001))
    with pytest.raises(EvaluationError) as info:
        program.derive({("n", 1): [(i,) for i in range(60)]})
    assert info.value.code == "budget_exceeded" and "0.001 s" in str(info.value)


def test_a_query_goal_meets_the_budget_too() -> None:
    program = Program.from_text("n(1).\n", budget=Budget(steps=5_000))
    program.add_facts("n", [(i,) for i in range(60)])
    with pytest.raises(EvaluationError) as info:
        program.ask("n(A), n(B), n(C)")
    assert info.value.code == "budget_exceeded"


def test_the_budget_can_be_changed_on_a_program_in_use() -> None:
    program = Program.from_text(BLOWUP, source="join.dl")
    assert program.budget == Budget(LIMITS.evaluation_steps, LIMITS.evaluation_seconds)
    program.add_facts("n", [(1,), (2,), (3,)])
    assert program.query("size") == {(81,)}
    program.budget = Budget(steps=100)
    program.add_facts("n", [(4,)])  # new facts: the next query evaluates again
    with pytest.raises(EvaluationError):
        program.query("size")


def test_the_default_budget_stops_the_join_of_the_issue() -> None:
    """A join of 13 million rows (the issue's had 8 million) stops at the default budget."""
    with pytest.raises(EvaluationError) as info:
        _blowup().query("size")
    assert info.value.code == "budget_exceeded"


@pytest.mark.parametrize("value", [0, -1, "many", True])
def test_a_budget_must_be_positive(value) -> None:
    with pytest.raises(WarrantError):
        Budget(steps=value)


def _kb_copy(tmp_path: Path, evaluation: str) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb, ignore=shutil.ignore_patterns("corpus", "tests", "examples"))
    meta = kb / "kb.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + evaluation, encoding="utf-8")
    return kb


def test_the_kb_sets_its_budget_in_kb_yaml(tmp_path, monkeypatch) -> None:
    from engine.knowledge.base import KnowledgeBase

    monkeypatch.setenv("WARRANT_CACHE_DIR", str(tmp_path / "cache"))
    kb = KnowledgeBase.load(_kb_copy(tmp_path, "evaluation:\n  steps: 50\n  seconds: 5\n"))
    assert kb.program.budget == Budget(50, 5)
    again = KnowledgeBase.load(kb.root)  # from the cache: the same budget
    assert again.program.budget == Budget(50, 5)
    session_facts = {("no_such_input", 1): []}
    with pytest.raises(EvaluationError) as info:
        kb.program.derive(session_facts)
    assert info.value.code == "budget_exceeded"


@pytest.mark.parametrize("evaluation, words", [
    ("evaluation:\n  steps: 999999999999\n", "at most"),
    ("evaluation:\n  seconds: 0\n", "positive"),
    ("evaluation:\n  memory: 1\n", "`steps` and `seconds` only"),
])
def test_a_kb_cannot_lift_or_garble_its_budget(tmp_path, monkeypatch, evaluation, words) -> None:
    from engine.knowledge.base import KnowledgeBase

    monkeypatch.setenv("WARRANT_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(RuleError) as info:
        KnowledgeBase.load(_kb_copy(tmp_path, evaluation))
    assert info.value.exit_code == 4 and words in str(info.value) and "kb.yaml" in str(info.value)


def test_a_recursion_stopped_mid_round_leaves_no_rows_behind() -> None:
    """A budget that runs out in the middle of the rounds of a recursive predicate must not
    leave rows of that evaluation for the next one to build on."""
    text = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
    chain = [(i, i + 1) for i in range(1, 40)]
    program = Program.from_text(text, source="path.dl", budget=Budget(steps=3_000))
    program.add_facts("edge", chain)
    with pytest.raises(EvaluationError):
        program.query("path")
    program.clear_facts()
    program.budget = Budget.default()
    # a path row left over from the chain (say 3 -> 25) would lead on to 50 through these edges
    program.add_facts("edge", [(k, 50) for k in range(20, 40)])
    assert program.query("path") == {(k, 50) for k in range(20, 40)}


def test_the_command_line_reports_evaluation_errors_with_exit_4(tmp_path, run_cli) -> None:
    """`warrant decide` under a kb whose budget a case exceeds, and `warrant query` with a goal
    that maxes atoms and numbers together: one message each, exit 4, nothing on stdout."""
    reference = ROOT / "kb" / "examples" / "reference-case.yaml"
    kb = _kb_copy(tmp_path, "evaluation:\n  steps: 50\n")
    result = run_cli("decide", str(reference), "--kb", str(kb))
    assert result.exit_code == 4 and result.stdout == ""
    assert "evaluation budget" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("query", str(reference), "aggregate_all(max(V), seg_finding(_, _, _, V), M)")
    assert result.exit_code == 4 and result.stdout == ""
    assert "both atoms and numbers" in result.stderr and "Traceback" not in result.stderr


def test_the_provenance_model_meets_the_same_budget() -> None:
    program = Program.from_text(BLOWUP, source="join.dl", budget=Budget(steps=20_000))
    with pytest.raises(EvaluationError) as info:
        program.model({("n", 1): [(i,) for i in range(60)]})
    assert info.value.code == "budget_exceeded"
    small = program.model({("n", 1): [(1,), (2,)]})
    assert small.rows(("size", 1)) == [(16,)]


def test_a_batch_case_past_the_budget_is_an_error_record_with_its_code(tmp_path, monkeypatch) -> None:
    import json

    from engine.batch.runner import decide_item
    from engine.knowledge.base import KnowledgeBase

    monkeypatch.setenv("WARRANT_CACHE_DIR", str(tmp_path / "cache"))
    kb = KnowledgeBase.load(_kb_copy(tmp_path, "evaluation:\n  steps: 50\n"))
    reference = ROOT / "kb" / "examples" / "reference-case.yaml"
    record = json.loads(decide_item(kb, (str(reference), reference.read_text(encoding="utf-8"), 0, None)))
    assert record["error"]["code"] == "budget_exceeded"
    assert "evaluation budget" in record["error"]["messages"][0]
