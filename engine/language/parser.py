"""Rule text → `engine.language.ast.Module`, with the lark grammar in grammar.lark and a Transformer.

Annotation blocks (`%@` lines) are grouped here: a block opening with `pred` becomes a
`PredDecl`, a block opening with `rule` becomes the `RuleMeta` of the clause right after it.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from engine.language import ast
from engine.language.fastparse import number as _number, parse_items, unquote as _unquote
from engine.errors import Finding, Location, RuleError

_GRAMMAR = Path(__file__).with_name("grammar.lark")
_PRED_HEAD = re.compile(r"^([a-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_PARAM = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_RULE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$")
_TEXT_KEYS = {"holds", "missing", "unmet", "says", "doc"}
_PRED_KEYS = {"pred", "holds", "missing", "unmet", "field", "reason", "norequest", "doc"}
_RULE_KEYS = {"rule", "cite", "says", "noreason", "doc", "replaces"}

_TOKEN_NAMES = {
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "DOT": "'.'", "IF": "':-'", "__ANON_0": "':-'",
    "NAME": "an atom", "VARIABLE": "a variable", "QUOTED": "a quoted atom", "NUMBER": "a number",
    "COMPARE": "a comparison", "NOT": "'not'", "AGGREGATE_ALL": "'aggregate_all'",
    "COUNT": "'count'", "AGGOP": "'sum', 'max' or 'min'", "ANNOTATION": "an annotation",
}


@lru_cache(maxsize=1)
def _lark():
    """The lark parser, imported and built on first use: well-formed rule files never need it."""
    from lark import Lark

    return Lark(_GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, start=["start", "query"])


def parse_text(text: str, source: str = "<text>") -> ast.Module:
    """Parse one rule file's text; raises RuleError (code `syntax`) on the first syntax error.

    Lines that are one plain ground fact each (a kb table) are read by `_fast_facts` and left
    blank; the rest is read by `engine.language.fastparse` (well-formed text, without lark) or,
    when that reader refuses it, by lark, which words the syntax errors. Every position stays
    unchanged and the clauses are merged back in source order: the module is the same either way."""
    rest, fast = _fast_facts(text, source)
    items = parse_items(rest, source)
    if items is None:  # lark reads (and words the errors of) the text as written
        items, fast = _lark_items(text, source), []
    return _module(items, source, fast)


def parse_with_lark(text: str, source: str = "<text>") -> ast.Module:
    """`parse_text` through lark alone (what the fast readers must agree with)."""
    return _module(_lark_items(text, source), source, [])


def _lark_items(text: str, source: str) -> list:
    from lark.exceptions import UnexpectedInput

    try:
        tree = _lark().parse(text, start="start")
    except UnexpectedInput as exc:
        raise RuleError([_syntax_finding(exc, text, source)]) from None
    return _transformer()(source).transform(tree).children


def _module(items: list, source: str, fast: list[ast.Clause]) -> ast.Module:
    findings: list[Finding] = []
    module = _group(items, source, findings)
    if findings:
        raise RuleError(findings)
    if fast:
        module = ast.Module(module.source, _merge(fast, module.clauses), module.decls)
    return module


_TERM = r"'(?:[^'\\\n]|\\.|'')*'|[a-z][A-Za-z0-9_]*|-?(?:[0-9]+\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?"
_SPACE = r"[ \t\f\r]*"  # the grammar's blanks within one line (no other Unicode space)
_MAX_TERMS = 12  # a fact line with more arguments is left to lark
_FACT_LINES = re.compile(rf"^([a-z][A-Za-z0-9_]*)\({_SPACE}({_TERM})"
                         + "".join(rf"(?:{_SPACE},{_SPACE}({_TERM}))?" for _ in range(_MAX_TERMS - 1))
                         + rf"{_SPACE}\)\.{_SPACE}$", re.MULTILINE)
"""A plain ground fact alone on its line: its name and each argument in a group of its own."""
_KEYWORDS = {"not", "aggregate_all", "count", "sum", "max", "min"}


def _fast_facts(text: str, source: str) -> tuple[str, list[ast.Clause]]:
    """The ground facts written one per line, and the text with those lines blanked. A line
    right after an annotation (which may attach to it), any keyword, or a file with block
    comments (a fact-like line may sit inside one) is left to lark. One regular expression finds
    the fact lines; only the text between them (a newline, in a table) is looked at otherwise."""
    if "/*" in text or text.count("\n") < 64:
        return text, []
    facts: list[ast.Clause] = []
    consts: dict[str, ast.Const] = {}  # one Const per spelling: a table repeats its values
    kept: list[str] = []  # the text lark reads: everything but the facts read here
    end, line = 0, 1
    for match in _FACT_LINES.finditer(text):
        start = match.start()
        gap = text[end:start]
        line += gap.count("\n")
        clause = None if gap != "\n" and not _clause_boundary(gap) else _fact(match, source, line, consts)
        if clause is None:
            kept.append(text[end:match.end()])
        else:
            facts.append(clause)
            kept.append(gap)
        end = match.end()
    kept.append(text[end:])
    return "".join(kept), facts


def _clause_boundary(gap: str) -> bool:
    """Whether a fact line after this text (from the end of the previous fact line, or the start
    of the file) is a clause of its own, as lark would read it: the last line before it that is
    neither blank nor a plain comment ends a clause (a `.` with no `%` on its line, so no
    comment hides where it ends and no annotation waits for the fact), or there is none. A fact
    line after anything else (an annotation, an unfinished clause) is left to the full reader."""
    for text in reversed(gap.split("\n")[:-1]):
        stripped = text.strip(" \t\f\r")
        if not stripped or (stripped.startswith("%") and "%@" not in stripped):
            continue
        return stripped.endswith(".") and "%" not in stripped
    return True


def _fact(match: re.Match, source: str, number: int, consts: dict[str, ast.Const]) -> ast.Clause | None:
    name, *terms = match.groups()
    if name in _KEYWORDS:
        return None
    args = []
    for term in terms:
        if term is None:
            break
        const = consts.get(term)
        if const is None:
            if term[0] == "'":
                value = _unquote(term)
            elif term[0].isalpha():
                if term in _KEYWORDS:
                    return None
                value = term
            else:
                value = _number(term)
            const = consts[term] = ast.Const(value)
        args.append(const)
    return ast.ground_fact(name, tuple(args), source, number)


def _merge(fast: list[ast.Clause], parsed: tuple[ast.Clause, ...]) -> tuple[ast.Clause, ...]:
    """The fast path's facts and lark's clauses in source order (both are in line order and
    never share a line: a line lark read was not blanked)."""
    if not parsed:
        return tuple(fast)
    from bisect import bisect_left

    lines = [c.loc.line for c in fast]
    out: list[ast.Clause] = []
    start = 0
    for clause in parsed:
        at = bisect_left(lines, clause.loc.line if clause.loc else 0, start)
        out += fast[start:at]
        out.append(clause)
        start = at
    out += fast[start:]
    return tuple(out)


def parse_goal(text: str, source: str = "<query>") -> tuple[ast.Literal, ...]:
    """Parse a query such as `?- path(1, X), \\+ q(X).` (prompt and final `.` optional) into
    body literals, with positions in the query text."""
    if not text.strip():
        raise RuleError([Finding("syntax", "empty query", Location(source, 1, 1))])
    from lark.exceptions import UnexpectedInput

    try:
        tree = _lark().parse(text, start="query")
    except UnexpectedInput as exc:
        raise RuleError([_syntax_finding(exc, text, source)]) from None
    return tuple(_transformer()(source).transform(tree))


def _syntax_finding(exc, text: str, source: str) -> Finding:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "end of file"
        message = f"syntax error: unexpected character {char!r}"
    elif isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        message = "syntax error: unexpected end of file"
        line, column = _end_position(text)
    elif isinstance(exc, UnexpectedToken):
        message = f"syntax error: unexpected {str(exc.token)!r}"
    else:  # pragma: no cover - lark has no other subclasses today
        message = "syntax error"
    candidates = getattr(exc, "expected", None) or ()
    parser_state = getattr(exc, "interactive_parser", None)
    if parser_state is not None:
        try:
            candidates = parser_state.accepts()
        except Exception:  # accepts() replays the parser; fall back to lark's own list
            pass
    expected = sorted({_TOKEN_NAMES.get(t, repr(t).lower()) for t in candidates
                       if t != "$END" and (not t.startswith("__") or t in _TOKEN_NAMES)})
    if expected:
        message += f"; expected {', '.join(expected)}"
        if message.startswith("syntax error: unexpected end of file") and "'.'" in expected:
            message += " (is a final '.' missing?)"
    return Finding("syntax", message, Location(source, line, column))


def _end_position(text: str) -> tuple[int, int]:
    """Line and column just after the last non-blank character (where a missing '.' belongs)."""
    body = text.rstrip()
    return body.count("\n") + 1, len(body.rsplit("\n", 1)[-1]) + 1


@lru_cache(maxsize=1)
def _transformer():
    """The lark Transformer class, defined on first use (lark stays off the import path)."""
    from lark import Token, Transformer, Tree, v_args

    @v_args(meta=True)
    class _ToAst(Transformer):
        """Turns the lark tree into AST objects; positions come from lark's propagated meta."""

        def __init__(self, source: str) -> None:
            super().__init__()
            self.source = source

        def _loc(self, meta) -> Location:
            return Location(self.source, getattr(meta, "line", 0), getattr(meta, "column", 0))

        def start(self, meta, children):
            return Tree("items", children)

        def query(self, meta, children):
            return [c for c in children if not isinstance(c, Token)][0]

        def annotation(self, meta, children):
            token: Token = children[0]
            body = str(token)[2:]
            start = token.column + 2 + len(body) - len(body.lstrip())  # where the annotation text begins
            return (start, body.strip(), Location(self.source, token.line, token.column))

        def fact(self, meta, children):
            return ast.Clause(children[0], (), None, self._loc(meta))

        def rule(self, meta, children):
            return ast.Clause(children[0], tuple(children[1]), None, self._loc(meta))

        def body(self, meta, children):
            return list(children)

        def positive(self, meta, children):
            return ast.Positive(children[0])

        def negation(self, meta, children):
            atom = children[-1]
            return ast.Negation(atom, self._loc(meta))

        def comparison(self, meta, children):
            left, op, right = children
            return ast.Comparison(str(op), left, right, self._loc(meta))

        def aggregate(self, meta, children):
            _kw, (kind, over), goal, result = children
            return ast.Aggregate(kind, over, tuple(goal), result, self._loc(meta))

        def agg_count(self, meta, children):
            return ("count", None)

        def agg_over(self, meta, children):
            return (str(children[0]), ast.Var(str(children[1])))

        def agg_goal(self, meta, children):
            return [ast.Positive(c) if isinstance(c, ast.Atom) else c for c in children]

        def atom(self, meta, children):
            name = str(children[0])
            return ast.Atom(name, tuple(children[1:]), self._loc(meta))

        def variable(self, meta, children):
            return ast.Var(str(children[0]))

        def name(self, meta, children):
            return ast.Const(str(children[0]))

        def quoted(self, meta, children):
            return ast.Const(_unquote(str(children[0])))

        def number(self, meta, children):
            return ast.Const(_number(str(children[0])))

    return _ToAst


def _group(items, source: str, findings: list[Finding]) -> ast.Module:
    """Attach annotation blocks: `pred` blocks become declarations, `rule` blocks meta of the next clause."""
    clauses: list[ast.Clause] = []
    decls: list[ast.PredDecl] = []
    block: list[tuple[str, str, Location]] = []
    pending_meta: ast.RuleMeta | None = None

    def close_block() -> None:
        nonlocal block, pending_meta
        if not block:
            return
        first_key = block[0][1].split(None, 1)[0] if block[0][1] else ""
        if first_key == "pred":
            decl = _pred_block(block, findings)
            if decl:
                decls.append(decl)
        elif first_key == "rule":
            pending_meta = _rule_block(block, findings)
        else:
            findings.append(Finding("syntax", "an annotation block must start with '%@ pred' or '%@ rule'",
                                    block[0][2]))
        block = []

    last_line = -10
    for item in items:
        if isinstance(item, tuple):
            _, text, loc = item
            key = text.split(None, 1)[0] if text else ""
            if block and (loc.line != last_line + 1 or key in ("pred", "rule")):
                close_block()
                if pending_meta is not None and key in ("pred", "rule"):
                    findings.append(Finding("syntax", f"'%@ rule {pending_meta.id}' is not followed by a clause",
                                            pending_meta.loc))
                    pending_meta = None
            block.append(item)
            last_line = loc.line
            continue
        close_block()
        clause: ast.Clause = item
        if pending_meta is not None:
            clause = ast.Clause(clause.head, clause.body, pending_meta, clause.loc)
            pending_meta = None
        clauses.append(clause)
    close_block()
    if pending_meta is not None:
        findings.append(Finding("syntax", f"'%@ rule {pending_meta.id}' is not followed by a clause",
                                pending_meta.loc))
    return ast.Module(source, tuple(clauses), tuple(decls))


def _split(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return (parts[0], parts[1].strip() if len(parts) > 1 else "") if parts else ("", "")


def _pred_block(block, findings: list[Finding]) -> ast.PredDecl | None:
    _, head, loc = block[0]
    _, signature = _split(head)
    match = _PRED_HEAD.match(signature)
    if not match:
        findings.append(Finding("syntax", f"'%@ pred' expects name(Arg, ...), got {signature!r}", loc))
        return None
    params = tuple(p.strip() for p in match.group(2).split(",")) if match.group(2) else ()
    for param in params:
        if not _PARAM.match(param):
            findings.append(Finding("syntax", f"argument name {param!r} of {match.group(1)} must start with a capital",
                                    loc))
            return None
    texts: dict[str, list[str]] = {}
    fields: list[str] = []
    field_locs: list[Location] = []
    reason = norequest = False
    for start, line, line_loc in block[1:]:
        key, value = _split(line)
        if key not in _PRED_KEYS or key == "pred":
            findings.append(Finding("syntax", f"unknown key {key!r} in a '%@ pred' block; expected one of "
                                    f"{', '.join(sorted(_PRED_KEYS - {'pred'}))}", line_loc))
        elif key == "field":
            fields.append(value)
            column = start + line.index(value) if value else start
            field_locs.append(Location(line_loc.file, line_loc.line, column))
        elif key == "reason":
            reason = True
        elif key == "norequest":
            norequest = True
        else:
            texts.setdefault(key, []).append(value)
    text = {k: " ".join(v) for k, v in texts.items()}
    return ast.PredDecl(match.group(1), params, text.get("holds", ""), text.get("missing", ""),
                        text.get("unmet", ""), tuple(fields), reason, text.get("doc", ""), loc, norequest,
                        tuple(field_locs))


def _rule_block(block, findings: list[Finding]) -> ast.RuleMeta | None:
    _, head, loc = block[0]
    _, rule_id = _split(head)
    if not _RULE_ID.match(rule_id):
        findings.append(Finding("syntax", f"'%@ rule' expects an id such as fusion.instability, got {rule_id!r}",
                                loc))
        return None
    cites: list[str] = []
    cite_loc = None
    says: list[str] = []
    extra: list[tuple[str, str]] = []
    replaces, replaces_loc = "", None
    for start, line, line_loc in block[1:]:
        key, value = _split(line)
        if key == "replaces":
            replaces = value
            replaces_loc = Location(line_loc.file, line_loc.line, start + line.index(value) if value else start)
        elif key == "cite":
            cites.extend(c for c in re.split(r"[\s,]+", value) if c)
            cite_loc = cite_loc or line_loc
        elif key == "says":
            says.append(value)
        elif key in ("doc", "noreason"):
            extra.append((key, value))
        else:
            findings.append(Finding("syntax", f"unknown key {key!r} in a '%@ rule' block; expected one of "
                                    f"{', '.join(sorted(_RULE_KEYS - {'rule'}))}", line_loc))
    return ast.RuleMeta(rule_id, tuple(cites), " ".join(says), tuple(extra), loc, cite_loc, replaces, replaces_loc)
