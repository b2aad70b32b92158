"""The hand-written rule reader (engine/language/fastparse.py) agrees with the lark parser: the
same clauses, declarations and rule metadata, with the same source positions, over every rule
file of the repository and over texts written to probe the grammar's corners; and it leaves to
lark every text it is not certain of, so syntax errors keep lark's words."""
from __future__ import annotations

from pathlib import Path

import pytest

from reader_compare import same
from engine.errors import RuleError
from engine.language import ast
from engine.language.fastparse import parse_items
from engine.language.parser import parse_text, parse_with_lark

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted(p for p in ROOT.rglob("*.dl") if ".venv" not in p.parts)

CORNERS = {
    "negations": "p(X) :- q(X),   \\+ r(X), not( s(X) ), not(t(X)).\n",
    "comparisons": "p(X, Y) :- q(X, Y), X =< Y, Y >= 2, X \\= a, 'b c' = Y, -1.5e3 < X, 3 > 2.\n",
    "aggregates": ("n(N) :- aggregate_all(count, q(_), N).\n"
                   "s(S) :- aggregate_all(sum(X), (q(X, Y), Y > 1, r(Y)), S), S >= 0.\n"
                   "m(M) :- aggregate_all(max(X), q(X, _), M).\n"
                   "k(K) :- aggregate_all( min ( X ) , ( q(X) ) , K ).\n"),
    "quoted": "label('it''s', 'a\\\\b', 'tab\\tnew\\nline', '').\n",
    "numbers": "n(0, -0, 12, -3.25, 1e3, 2.5E-2, 007).\n",
    "annotations": ("%@ pred p(A, B)\n%@ holds {A} holds\n%@   field  x.y\n%@ reason\np(a, b).\n"
                    "% a comment\n/* a block\n comment */ %@ rule r.one\n%@ cite c1, c2\n"
                    "%@ says it is so\nq(X) :- p(X, _).\n"),
    "layout": "\r\n  p(a).\tq(b) .\n\fr( c ,d ) .  % tail\n",
    "lonely rule block": "p(a).\n%@ rule lonely\n",
    "no arguments": "go.\nready :- go, \\+ stop.\n",
    "keywords as names": "count(a). sum(2). n(N) :- aggregate_all(count, count(_), N).\n",
    "keyword prefixes": "notable(x). counted(y). p :- notable(X), summary(X).\n",
    "table": "".join(f"fact_{i % 3}(a{i}, {i}, 'v {i}').\n" for i in range(80)) + "r(X) :- fact_0(X, _, _).\n",
}

BROKEN = ["p(X) :- q(X)", "p(X) :- .", "p() .", "p(X) :- q(X), X + 1 > 2.", "p(f(x)).",
          "p(X) :- not q(X).", "p :- aggregate_all(avg(X), q(X), N).", "'p'(a).", "p(a). /* open",
          "p(X) :- q(X), \u00e9(X).", "p('a\nb')."]


def _agree(text: str) -> None:
    """Both parsers give the same module, or the same findings."""
    try:
        expected = parse_with_lark(text, "f.dl")
    except RuleError as exc:
        with pytest.raises(RuleError) as got:
            parse_text(text, "f.dl")
        assert [str(f) for f in got.value.findings] == [str(f) for f in exc.findings]
        return
    same(parse_text(text, "f.dl"), expected)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_rule_file_reads_the_same(path: Path) -> None:
    _agree(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corners_read_the_same(name: str) -> None:
    if name != "keywords as names":  # (the only corner left to lark)
        assert parse_items(CORNERS[name], "c.dl") is not None
    _agree(CORNERS[name])


def test_the_kb_is_read_without_lark() -> None:
    """Every rule file of the bundled kb is one the fast reader is certain of."""
    for path in sorted((ROOT / "kb").rglob("*.dl")):
        assert parse_items(path.read_text(encoding="utf-8"), "f.dl") is not None, path


def test_keywords_used_as_names_go_to_lark() -> None:
    assert parse_items(CORNERS["keywords as names"], "c.dl") is None
    module = parse_text(CORNERS["keywords as names"], "c.dl")
    assert [c.head.pred for c in module.clauses] == ["count", "sum", "n"]
    assert isinstance(module.clauses[2].body[0], ast.Aggregate)


@pytest.mark.parametrize("text", BROKEN)
def test_syntax_errors_keep_lark_words(text: str) -> None:
    assert parse_items(text, "b.dl") is None
    with pytest.raises(RuleError) as fast:
        parse_text(text, "b.dl")
    with pytest.raises(RuleError) as slow:
        parse_with_lark(text, "b.dl")
    assert [str(f) for f in fast.value.findings] == [str(f) for f in slow.value.findings]


FIELD_PATHS = ["a", "a.b.c", "lines.{Line}.code = Code", "imaging[Study].segments.{Segment}.{Name} = Value",
               "a[].b", " a . b [ X ] . { Y } = Z ", "_x.Y_1", "A.b", "a[X]"]
BAD_FIELD_PATHS = ["", "a.", ".a", "a..b", "a[x]", "{x}", "a = x", "a = X.b", "a[X", "{X", "a b", "a.b = ",
                   "a-b", "a[X]]", "=X", "a\u00a0b"]


def _field_paths() -> list[str]:
    texts = set(FIELD_PATHS)
    for path in sorted((ROOT / "kb").rglob("*.dl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("%@ field "):
                texts.add(line[len("%@ field "):].strip())
    return sorted(texts)


@pytest.mark.parametrize("text", _field_paths() + BAD_FIELD_PATHS)
def test_field_paths_read_as_lark_reads_them(text: str) -> None:
    """`%@ field` paths: the hand-written reader gives lark's steps, or leaves the text to lark."""
    from engine.language import fieldpath

    fast = fieldpath._read_path(text)
    try:
        steps, value_var = fieldpath._parser().parse(text)
    except Exception:
        assert fast is None
        with pytest.raises(fieldpath.FieldPathError):
            fieldpath.parse_field(text)
        return
    assert fast == (steps, value_var)
    assert fast is not None or text in BAD_FIELD_PATHS
