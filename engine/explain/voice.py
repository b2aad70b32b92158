"""How explanations fill their sentences: the `%@ says` of rules and the `%@ holds` / `%@ missing`
/ `%@ unmet` of predicates.

The explainer knows clauses and values, not what a value means to a reader. It hands each
sentence to a *voice*: `PlainVoice` writes values as they are (the engine's own default); the
application gives a voice that writes clinical words (engine.decide.voice.CaseVoice). Each value
comes with where it stands — the predicate, the row and the argument position of its first use —
so a voice can tell a list position (imaging study 0) from a count, or a line id from an atom.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from engine.guard.memo import ByIdentity
from engine.language import ast

Key = tuple[str, int]
Where = tuple[Key, tuple, int]
"""(predicate key, its row of values under the bindings, the argument position)."""

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render_value(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class PlainVoice:
    """Values as they are: `line 2:22633:L4-5 needs instability`."""

    def term(self, value: Any, where: Where | None = None) -> str:
        return render_value(value)

    def placed(self, value: Any) -> bool:
        """Whether `term` reads where this value stands (`fill` works the place out only then)."""
        return False

    def finish(self, text: str) -> str:
        return text

    def fill(self, template: str, values: Mapping[str, Any], places: Mapping[str, Where] | None = None,
             unknown: Any = None) -> str:
        """Fill `{Var}` placeholders; unbound ones stay as written, or become `unknown` when given
        (a text, or a function of the placeholder's name)."""
        places = places or {}
        pieces = []
        for text, name in _pieces(template):
            pieces.append(text)
            if name is None:
                continue
            value = values.get(name)
            if value is not None:
                pieces.append(self.term(value, places.get(name) if self.placed(value) else None))
            elif unknown is None:
                pieces.append("{" + name + "}")
            else:
                pieces.append(unknown(name) if callable(unknown) else unknown)
        return self.finish("".join(pieces))

    def decl(self, decl: ast.PredDecl, which: str, args: Sequence[Any]) -> str:
        """A predicate's `holds` / `missing` / `unmet` sentence for a (partial) row."""
        template = getattr(decl, which) or (decl.missing if which == "unmet" else "")
        values = {p: a for p, a in zip(decl.params, args) if a is not None}
        places = {p: (decl.key, tuple(args), i) for i, p in enumerate(decl.params)}
        return self.fill(template, values, places, self.anything)

    def anything(self, name: str) -> str:
        """An argument left open in a sentence (`\\+ locus_missing(L, _)`): "any locus"."""
        return "any " + re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()

    def rule(self, clause: ast.Clause, env: Mapping[str, Any], unknown: str | None = None) -> str:
        """A rule's `says` sentence under a binding of its variables."""
        if not clause.meta or not clause.meta.says:
            return ""
        return self.fill(clause.meta.says, env, _Places(clause, env), unknown)

    def base_fact(self, key: Key, row: Sequence[Any], state: str) -> str | None:
        """A case fact in words (`state`: holds, missing, unmet), or None for the decl's sentence."""
        return None

    def documented(self, key: Key, rows: Sequence[Sequence[Any]]) -> str | None:
        """What the record shows for a field an explanation needed otherwise (None: plain values)."""
        return None

    def comparison_failed(self, op: str, left: Any, right: Any) -> str:
        return f"{render_value(left)} {op} {render_value(right)} does not hold for the documented values"

    def aggregate(self, kind: str, value: Any) -> str:
        return f"{kind} = {render_value(value)}"


_PIECES: dict[str, tuple[tuple[str, str | None], ...]] = {}


def _pieces(template: str) -> tuple[tuple[str, str | None], ...]:
    """A template as (text before, placeholder name) pairs, the last with no name; split once
    per template text (the kb's sentences are few, and filled for every case)."""
    known = _PIECES.get(template)
    if known is None:
        out, at = [], 0
        for match in PLACEHOLDER.finditer(template):
            out.append((template[at:match.start()], match.group(1)))
            at = match.end()
        out.append((template[at:], None))
        known = tuple(out)
        if len(_PIECES) < 10_000:
            _PIECES[template] = known
    return known


class _Places:
    """Where each placeholder of a rule's sentence stands — the predicate, row and position of the
    variable's first use — worked out only for the placeholders the sentence uses."""

    __slots__ = ("clause", "env")

    def __init__(self, clause: ast.Clause, env: Mapping[str, Any]) -> None:
        self.clause, self.env = clause, env

    def get(self, name: str, default: Any = None) -> Any:
        spot = _first_uses(self.clause).get(name)
        if spot is None:
            return default
        key, args, position = spot
        env = self.env
        return (key, tuple([env.get(arg) if var else arg for var, arg in args]), position)


_FIRST_USES: ByIdentity[dict[str, tuple[Key, tuple, int]]] = ByIdentity(10_000)


def _first_uses(clause: ast.Clause) -> dict[str, tuple[Key, tuple, int]]:
    """For each variable of a clause, where it gets its meaning: its first positive body literal,
    else the head — that atom's key, its arguments as (is a variable, its name or value; `_`
    named None, which no binding has) and the variable's position (memoised per clause)."""
    return _FIRST_USES.get(clause, _places_of)


def _places_of(clause: ast.Clause) -> dict[str, tuple[Key, tuple, int]]:
    atoms: dict[str, ast.Atom] = {}
    for lit in clause.body:
        if isinstance(lit, ast.Positive):
            for term in lit.atom.args:
                if isinstance(term, ast.Var) and term.name != "_":
                    atoms.setdefault(term.name, lit.atom)
    for term in clause.head.args:
        if isinstance(term, ast.Var) and term.name != "_":
            atoms.setdefault(term.name, clause.head)
    out = {}
    for name, atom in atoms.items():
        args = tuple((True, None if t.name == "_" else t.name) if isinstance(t, ast.Var) else (False, t.value)
                     for t in atom.args)
        position = next(i for i, t in enumerate(atom.args) if isinstance(t, ast.Var) and t.name == name)
        out[name] = (atom.key, args, position)
    return out
