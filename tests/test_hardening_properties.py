"""Issue 17, done-when: the hostile-input campaign as properties (Hypothesis).

Mutated case fields, mutated FHIR bundles, random rule text and random query goals go through
the command line. Whatever the input: the exit code is one of the documented ones (never 1,
"unexpected"), no traceback is printed, an error prints nothing on stdout, and every run ends
(a watchdog stops a run that takes minutes: it detects hangs, it does not measure speed).
Hostile files live in temporary folders removed after each example; no example database is
written (`database=None`), so nothing is left on the machine.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "kb" / "examples" / "reference-case.yaml"
BUNDLE = ROOT / "tests" / "fhir" / "fusion-met.bundle.json"
DOCUMENTED = {0, 2, 3, 4, 5, 6, 10}
WATCHDOG_SECONDS = 120
EXAMPLES = int(os.environ.get("WARRANT_PROPERTY_EXAMPLES", "30"))  # raise for a longer campaign
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTILE_TEXT = ["\x1b]0;pwned\x07", "line\nbreak", "`<script>alert(1)</script>`", "[a](javascript:x)",
                "\ud800", "\u202e", "9" * 5000, "x" * 20000, "", " ", "L4-5", "L2-L4", "22633", "left",
                "bilateral", "none", "mri", "1e300", "!!python/object:os.system", "*alias", "&anchor",
                "%YAML 1.3", "{{ 7 * 7 }}", "'; DROP TABLE cases; --", "../../etc/shadow"]
VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=30),
    st.lists(st.one_of(st.integers(-5, 5000), st.sampled_from(HOSTILE_TEXT)), max_size=4),
    st.dictionaries(st.sampled_from(HOSTILE_TEXT + ["stage", "code", "levels"]), st.integers(-3, 3), max_size=3),
)


def _watchdog(seconds: int):
    """Fail (not hang) when one run takes longer than `seconds` (POSIX; elsewhere no watchdog)."""
    def expired(*_):
        raise AssertionError(f"a run did not end within {seconds} s")

    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, expired)
        signal.alarm(seconds)


def _invoke(*args: str, input: str | None = None):
    from click.testing import CliRunner

    import cli

    _watchdog(WATCHDOG_SECONDS)
    try:
        result = CliRunner().invoke(cli.main, list(args), input=input, catch_exceptions=True)
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)
    return result


def _assert_well_behaved(result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # an exception escaped the command: a defect in itself
    assert result.exit_code in DOCUMENTED, (result.exit_code, result.stderr[-2000:])
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    if result.exit_code not in (0, 10):
        assert result.stdout == "", result.stdout[:500]


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, prefix + (index,))
    return out


def _mutate(data: Any, draw, rounds: int) -> Any:
    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p]
    for _ in range(rounds):
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part] if isinstance(parent, (dict, list)) and _has(parent, part) else None
            if parent is None:
                break
        if parent is None or not _has(parent, path[-1]):
            continue
        action = draw(st.sampled_from(["set", "set", "delete", "unknown_key", "duplicate"]))
        if action == "set":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "unknown_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(HOSTILE_TEXT))] = draw(VALUES)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return data


def _has(container: Any, key: Any) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(container)


@st.composite
def case_texts(draw) -> tuple[str, str]:
    from ruamel.yaml import YAML

    case = YAML(typ="safe", pure=True).load(REFERENCE.read_text(encoding="utf-8"))
    mutated = _mutate(case, draw, draw(st.integers(1, 4)))
    if draw(st.booleans()):
        return "case.json", json.dumps(mutated)
    text = REFERENCE.read_text(encoding="utf-8")
    start = draw(st.integers(0, len(text)))
    junk = draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40)))
    return "case.yaml", text[:start] + junk + text[start + draw(st.integers(0, 20)):]


@st.composite
def bundles(draw) -> str:
    bundle = json.loads(BUNDLE.read_text(encoding="utf-8"))
    return json.dumps(_mutate(bundle, draw, draw(st.integers(1, 4))))


RULE_PIECES = ["p(X) :- q(X).", "q(1).", "q('L4-5').", "r(X) :- q(X), \\+ p(X).", "p(X) :- \\+ p(X).",
               "s(S) :- aggregate_all(sum(X), q(X), S).", "t(N) :- aggregate_all(count, q(_), N), N > 0.",
               "u(X) :- v(X).", "p(X, Y) :- q(X).", "%@ rule r1\n%@ cite c\n%@ says s", "%@ pred p(X)",
               "p(", ")", ".", ":-", "'", "\\+", "9" * 200, "9" * 5000, "__import__('os').system('true')",
               "p(X) :- q(X), X > Y.", "\n", " ", "%"]
GOAL_PIECES = ["line_verdict(L, V, B)", "code_unit(C, U)", "aggregate_all(sum(U), code_unit(_, U), S)",
               "aggregate_all(count, code_unit(_, _), N)", "X = 1", "\\+ code_unit(C, _)", ",", "(", ")",
               "'", "9" * 5000, "__import__('os')", "X > Y", "nope(X)", " "]


@SETTINGS
@given(case=case_texts(), fmt=st.sampled_from(["text", "json", "markdown"]))
def test_any_case_file_gets_a_documented_exit_code(case, fmt):
    name, text = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _assert_well_behaved(_invoke("decide", str(path), "--format", fmt))


@SETTINGS
@given(text=bundles(), fmt=st.sampled_from(["json", "fhir"]))
def test_any_fhir_bundle_gets_a_documented_exit_code(text, fmt):
    pytest.importorskip("fhir.resources")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(text, encoding="utf-8")
        _assert_well_behaved(_invoke("decide", str(path), "--format", fmt))


@SETTINGS
@given(pieces=st.lists(st.one_of(st.sampled_from(RULE_PIECES), st.text(max_size=12)), max_size=12))
def test_any_rule_text_gets_a_documented_exit_code(pieces):
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "rules.dl").write_text("\n".join(pieces), encoding="utf-8", errors="surrogatepass")
        result = _invoke("check", "--kb", folder)
        _assert_well_behaved(result)
        assert result.exit_code in (0, 4)


@SETTINGS
@given(pieces=st.lists(st.one_of(st.sampled_from(GOAL_PIECES), st.text(max_size=8)), min_size=1, max_size=6))
def test_any_query_goal_gets_a_documented_exit_code(pieces):
    result = _invoke("query", str(REFERENCE), " ".join(pieces))
    _assert_well_behaved(result)
    assert result.exit_code in (0, 2)


def test_the_watchdog_can_fail():
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("no SIGALRM")
    import time

    _watchdog(1)
    with pytest.raises(AssertionError, match="did not end"):
        time.sleep(3)
    signal.alarm(0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
