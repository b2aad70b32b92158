"""The rule language is a security boundary: no rule, case or query text is ever executed."""
from __future__ import annotations

import builtins

import pytest
from pyDatalog import pyDatalog, pyParser

from engine import Program, RuleError


@pytest.fixture
def no_text_execution(monkeypatch):
    """Make every text-executing entry point fail loudly for the duration of a test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("text reached an evaluator")

    # Warm up first: imports and dataclass creation legitimately exec their own generated code.
    warm = Program.from_text("w(1).\nv(X) :- w(X), \\+ u(X), aggregate_all(count, w(_), N), N > 0.\nu(2).\n")
    warm.ask("v(X)")

    for module, name in [(pyDatalog, "load"), (pyDatalog, "ask"), (pyParser, "load"), (pyParser, "ask")]:
        monkeypatch.setattr(module, name, forbidden)
    real_eval, real_exec = builtins.eval, builtins.exec

    def guarded(real):
        def call(source, *args, **kwargs):
            if isinstance(source, (str, bytes)):  # imports pass code objects; text is what we forbid
                raise AssertionError(f"text reached {real.__name__}: {source[:60]!r}")
            return real(source, *args, **kwargs)
        return call

    monkeypatch.setattr(builtins, "eval", guarded(real_eval))
    monkeypatch.setattr(builtins, "exec", guarded(real_exec))
    yield


def test_hostile_rule_file_is_a_syntax_error_and_runs_nothing(tmp_path, no_text_execution):
    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.dl"
    hostile.write_text(f"ok(1).\np(X) :- __import__('os').system('touch {marker}').\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        Program.from_paths([hostile])
    assert info.value.code == "syntax"
    assert info.value.messages[0].startswith(f"{hostile}:2:")
    assert not marker.exists()


def test_python_in_a_quoted_atom_stays_data(tmp_path, no_text_execution):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    quoted = payload.replace("'", "\\'")
    prog = Program.from_text(f"p('{quoted}').\nq(X) :- p(X).\n")
    assert prog.query("q") == {(payload,)}
    assert not marker.exists()


def test_hostile_query_is_rejected_without_running(tmp_path, no_text_execution):
    marker = tmp_path / "pwned"
    prog = Program.from_text("p(1).\n")
    with pytest.raises(RuleError) as info:
        prog.ask(f"__import__('os').system('touch {marker}')")
    assert info.value.code == "syntax"
    with pytest.raises(RuleError):
        prog.ask(f"p(X), X = 1) ; os.system('touch {marker}'")
    assert not marker.exists()


def test_whole_engine_path_works_with_evaluators_disabled(no_text_execution):
    prog = Program.from_text(
        "path(X, Y) :- edge(X, Y).\npath(X, Z) :- edge(X, Y), path(Y, Z).\n"
        "far(X) :- node(X), aggregate_all(count, path(X, _), N), N >= 2, \\+ edge(X, 'L4-5').\n")
    prog.add_facts("edge", [(1, 2), (2, 3)])
    prog.add_facts("node", [(1,), (2,), (3,)])
    assert prog.query("far") == {(1,)}
    assert prog.ask("path(1, X), X > 2") == [{"X": 3}]
