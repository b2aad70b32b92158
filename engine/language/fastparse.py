"""A hand-written reader of well-formed rule text: the same items as the lark parser, without lark.

Importing lark, building its LALR tables from grammar.lark and running its parser took most of
an uncached kb load. This reader covers the whole grammar with one tokenising regular
expression and recursive descent, and produces exactly what the lark parser and its
transformer produce (the same AST, the same positions: tests/test_fast_parser.py compares both
over every rule file of the repository). It never reports an error: on anything it does not
read with certainty — a syntax error, a keyword used as a name (which lark's contextual lexer
reads by position), a character outside the grammar — it answers None and the caller parses
the text with lark, whose messages say what is wrong and where.
"""
from __future__ import annotations

import re

from engine.errors import Location
from engine.language import ast

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f\r\n]+)
  | (?P<ann>%@[^\n]*)
  | (?P<com>%[^\n]*)
  | (?P<block>/\*(?:.|\n)*?\*/)
  | (?P<var>[A-Z_][A-Za-z0-9_]*)
  | (?P<name>[a-z][A-Za-z0-9_]*)
  | (?P<quoted>'(?:[^'\\\n]|\\.|'')*')
  | (?P<num>-?(?:[0-9]+\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?)
  | (?P<cmp>=<|>=|\\=|<|>|=)
  | (?P<p>:-|\\\+|[(),.])
""", re.VERBOSE)
_SKIP = {"ws", "com", "block"}
_KEYWORDS = {"not", "aggregate_all", "count", "sum", "max", "min"}


class _Refused(Exception):
    """The text is not one this reader is certain of: lark reads it."""


def parse_items(text: str, source: str) -> list | None:
    """The module's items in source order — annotation tuples `(start, text, Location)` and
    `ast.Clause`s, as the lark transformer gives them — or None when lark must read the text."""
    try:
        tokens = _tokens(text)
        return _Reader(tokens, source).items()
    except _Refused:
        return None


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, text, line, column) of every token that is not blank or a comment."""
    out = []
    line, line_start, pos = 1, 0, 0
    for found in _TOKEN.finditer(text):
        start, end = found.span()
        if start != pos:
            raise _Refused  # a character no token takes
        pos = end
        kind = found.lastgroup
        if kind in _SKIP:
            if kind != "com":  # (blanks and block comments may span lines; nothing else does)
                newlines = text.count("\n", start, end)
                if newlines:
                    line += newlines
                    line_start = text.rindex("\n", start, end) + 1
            continue
        value = found.group()
        out.append((value if kind == "p" or kind == "cmp" else kind, value, line, start - line_start + 1))
    if pos != len(text):
        raise _Refused
    out.append(("$END", "", line, pos - line_start + 1))
    return out


class _Reader:
    """Recursive descent over the token list, one method per rule of grammar.lark."""

    def __init__(self, tokens: list[tuple[str, str, int, int]], source: str) -> None:
        self.tokens = tokens
        self.i = 0
        self.source = source

    def _loc(self, token: tuple) -> Location:
        return Location(self.source, token[2], token[3])

    def _take(self, kind: str) -> tuple:
        token = self.tokens[self.i]
        if token[0] != kind:
            raise _Refused
        self.i += 1
        return token

    def _peek(self, ahead: int = 0) -> str:
        return self.tokens[self.i + ahead][0]

    def items(self) -> list:
        out: list = []
        while True:
            token = self.tokens[self.i]
            kind = token[0]
            if kind == "$END":
                return out
            if kind == "ann":
                self.i += 1
                body = token[1][2:]
                start = token[3] + 2 + len(body) - len(body.lstrip())
                out.append((start, body.strip(), self._loc(token)))
            else:
                out.append(self._clause())

    def _clause(self) -> ast.Clause:
        head = self._atom()
        if self._peek() == ".":
            self.i += 1
            return ast.Clause(head, (), None, head.loc)
        self._take(":-")
        body = [self._literal()]
        while self._peek() == ",":
            self.i += 1
            body.append(self._literal())
        self._take(".")
        return ast.Clause(head, tuple(body), None, head.loc)

    def _atom(self) -> ast.Atom:
        token = self._take("name")
        if token[1] in _KEYWORDS:
            raise _Refused
        args: list = []
        if self._peek() == "(":
            self.i += 1
            args.append(self._term())
            while self._peek() == ",":
                self.i += 1
                args.append(self._term())
            self._take(")")
        return ast.Atom(token[1], tuple(args), self._loc(token))

    def _term(self) -> ast.Term:
        token = self.tokens[self.i]
        kind, value = token[0], token[1]
        self.i += 1
        if kind == "var":
            return ast.Var(value)
        if kind == "name":
            if value in _KEYWORDS:
                raise _Refused
            return ast.Const(value)
        if kind == "quoted":
            return ast.Const(unquote(value))
        if kind == "num":
            return ast.Const(number(value))
        raise _Refused

    def _literal(self):
        token = self.tokens[self.i]
        kind, value = token[0], token[1]
        if kind == "\\+":
            self.i += 1
            return ast.Negation(self._atom(), self._loc(token))
        if kind == "name" and value in _KEYWORDS:
            if self._peek(1) != "(":
                raise _Refused
            if value == "not":
                self.i += 2
                atom = self._atom()
                self._take(")")
                return ast.Negation(atom, self._loc(token))
            if value == "aggregate_all":
                return self._aggregate(token)
            raise _Refused
        return self._positive_or_comparison()

    def _positive_or_comparison(self):
        token = self.tokens[self.i]
        if token[0] == "name" and self._peek(1) not in _COMPARE:
            return ast.Positive(self._atom())
        left = self._term()
        op = self.tokens[self.i][0]
        if op not in _COMPARE:
            raise _Refused
        self.i += 1
        return ast.Comparison(op, left, self._term(), self._loc(token))

    def _aggregate(self, token: tuple) -> ast.Aggregate:
        self.i += 2  # aggregate_all (
        spec = self.tokens[self.i]
        self.i += 1
        if spec[:2] == ("name", "count"):
            kind, over = "count", None
        elif spec[0] == "name" and spec[1] in ("sum", "max", "min"):
            self._take("(")
            over = ast.Var(self._take("var")[1])
            self._take(")")
            kind = spec[1]
        else:
            raise _Refused
        self._take(",")
        if self._peek() == "(":
            self.i += 1
            goal = [self._agg_literal()]
            while self._peek() == ",":
                self.i += 1
                goal.append(self._agg_literal())
            self._take(")")
        else:
            goal = [ast.Positive(self._atom())]
        self._take(",")
        result = self._term()
        self._take(")")
        return ast.Aggregate(kind, over, tuple(goal), result, self._loc(token))

    def _agg_literal(self):
        token = self.tokens[self.i]
        if token[0] == "name" and token[1] in _KEYWORDS:
            raise _Refused
        return self._positive_or_comparison()


_COMPARE = set(ast.COMPARISONS)


def unquote(token: str) -> str:
    """The atom a quoted token spells (`''` and backslash escapes resolved)."""
    body = token[1:-1]
    if "\\" not in body and "''" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        elif c == "'" and body[i + 1:i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def number(token: str) -> int | float:
    if "." in token or "e" in token or "E" in token:  # a token of the grammar's NUMBER
        return float(token)
    return int(token)
