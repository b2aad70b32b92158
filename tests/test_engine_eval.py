"""Evaluation details that decisions rely on: materialisation, fact changes, threads."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from engine import Program
from tests.conftest import ROOT

RECURSIVE = ("e(a, b). e(b, c).\npath(X, Y) :- e(X, Y).\npath(X, Z) :- e(X, Y), path(Y, Z).\n"
             "r(X) :- path(X, c), base(X).\n")


def test_case_facts_change_answers_of_rules_over_recursive_kb_tables():
    prog = Program.from_text(RECURSIVE)
    prog.add_facts("base", [("a",)])
    assert prog.query("r") == {("a",)}
    prog.clear_facts()
    prog.add_facts("base", [("b",)])
    assert prog.query("r") == {("b",)}
    prog.add_facts("path", [("z", "z")])  # facts added to a derived predicate count too
    assert ("z", "z") in prog.query("path")
    prog.clear_facts()
    assert ("z", "z") not in prog.query("path")


def test_same_answers_under_every_hash_seed():
    script = ("import sys; sys.path.insert(0, %r)\nfrom engine import Program\n"
              "p = Program.from_text(%r)\np.add_facts('base', [('a',)]); p.query('r')\n"
              "p.clear_facts(); p.add_facts('base', [('b',)]); print(sorted(p.query('r')))\n") % (str(ROOT), RECURSIVE)
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3", "4")}
    assert outputs == {"[('b',)]\n"}


def test_each_thread_has_its_own_facts():
    prog = Program.from_text("q(X) :- p(X).\n")
    results: dict[str, set] = {}

    def work(name: str) -> None:
        prog.add_facts("p", [(name,)])
        results[name] = prog.query("q")

    threads = [threading.Thread(target=work, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"one": {("one",)}, "two": {("two",)}}
