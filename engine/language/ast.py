"""The rule language's syntax tree: plain, immutable records with source positions.

Everything after parsing (checks, compilation, explanation, export) reads these types only.
They are `engine.guard.record` records (frozen dataclasses without code compiled at import);
the classes built most often write their own `__init__`.
"""
from __future__ import annotations

from functools import cached_property
from typing import Union

from engine.errors import Location
from engine.guard.record import field, record

Value = Union[str, int, float]
"""A constant: an atom (str) or a number."""


@record(frozen=True)
class Var:
    name: str

    def __init__(self, name: str) -> None:
        self.__dict__["name"] = name

    @property
    def anonymous(self) -> bool:
        """`_` and `_Name` variables are local to the literal they appear in."""
        return self.name.startswith("_")

    def __str__(self) -> str:
        return self.name


@record(frozen=True)
class Const:
    value: Value

    def __init__(self, value: Value) -> None:
        self.__dict__["value"] = value

    def __str__(self) -> str:
        return format_value(self.value)


Term = Union[Var, Const]


@record(frozen=True)
class Atom:
    pred: str
    args: tuple[Term, ...]
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, pred: str, args: tuple[Term, ...], loc: Location | None = None) -> None:
        self.__dict__.update(pred=pred, args=args, loc=loc)

    @cached_property
    def key(self) -> tuple[str, int]:
        """(name, arity); computed once per atom (the evaluators read it for every literal)."""
        return (self.pred, len(self.args))

    @cached_property
    def slots(self) -> tuple[tuple[Value | None, ...], tuple[tuple[int, str], ...]]:
        """Each argument's constant value (None for a variable) and each named variable (not
        `_`) with its position: read once per atom (explanations match atoms against rows)."""
        consts = tuple(t.value if isinstance(t, Const) else None for t in self.args)
        names = tuple((i, t.name) for i, t in enumerate(self.args) if isinstance(t, Var) and t.name != "_")
        return consts, names

    def variables(self) -> list[Var]:
        return [a for a in self.args if isinstance(a, Var)]

    def __str__(self) -> str:
        if not self.args:
            return self.pred
        return f"{self.pred}({', '.join(str(a) for a in self.args)})"


@record(frozen=True)
class Positive:
    atom: Atom

    def __init__(self, atom: Atom) -> None:
        self.__dict__["atom"] = atom

    @property
    def loc(self) -> Location | None:
        return self.atom.loc

    def __str__(self) -> str:
        return str(self.atom)


@record(frozen=True)
class Negation:
    atom: Atom
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, atom: Atom, loc: Location | None = None) -> None:
        self.__dict__.update(atom=atom, loc=loc)

    def __str__(self) -> str:
        return f"\\+ {self.atom}"


COMPARISONS = ("<", "=<", ">", ">=", "=", "\\=")


@record(frozen=True)
class Comparison:
    op: str
    left: Term
    right: Term
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, op: str, left: Term, right: Term, loc: Location | None = None) -> None:
        self.__dict__.update(op=op, left=left, right=right, loc=loc)

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


AGGREGATES = ("count", "sum", "max", "min")


@record(frozen=True)
class Aggregate:
    """`aggregate_all(kind[(over)], goal, result)`: goal is a conjunction of positives/comparisons."""

    kind: str
    over: Var | None
    goal: tuple[Union[Positive, Comparison], ...]
    result: Term
    loc: Location | None = field(default=None, compare=False)

    def __str__(self) -> str:
        spec = self.kind if self.over is None else f"{self.kind}({self.over})"
        goal = str(self.goal[0]) if len(self.goal) == 1 else "(" + ", ".join(map(str, self.goal)) + ")"
        return f"aggregate_all({spec}, {goal}, {self.result})"


Literal = Union[Positive, Negation, Comparison, Aggregate]


@record(frozen=True)
class RuleMeta:
    """What a `%@ rule` block says about the clause below it."""

    id: str
    cites: tuple[str, ...] = ()
    says: str = ""
    extra: tuple[tuple[str, str], ...] = ()
    loc: Location | None = field(default=None, compare=False)
    cite_loc: Location | None = field(default=None, compare=False)
    replaces: str = ""
    """`%@ replaces TARGET` (policy overlays only): the base rule id or ground fact this clause replaces."""
    replaces_loc: Location | None = field(default=None, compare=False)

    @property
    def noreason(self) -> bool:
        """`%@ noreason`: the rule's instances are bookkeeping, not listed as a decision's reasons."""
        return any(key == "noreason" for key, _ in self.extra)


@record(frozen=True)
class Clause:
    head: Atom
    body: tuple[Literal, ...]
    meta: RuleMeta | None = None
    loc: Location | None = field(default=None, compare=False)

    def __init__(self, head: Atom, body: tuple[Literal, ...], meta: RuleMeta | None = None,
                 loc: Location | None = None) -> None:
        self.__dict__.update(head=head, body=body, meta=meta, loc=loc)

    @property
    def is_fact(self) -> bool:
        return not self.body

    @property
    def rule_id(self) -> str | None:
        return self.meta.id if self.meta else None

    def __str__(self) -> str:
        if not self.body:
            return f"{self.head}."
        return f"{self.head} :- {', '.join(str(b) for b in self.body)}."


@record(frozen=True)
class PredDecl:
    """What a `%@ pred` block declares about a predicate."""

    name: str
    params: tuple[str, ...]
    holds: str = ""
    missing: str = ""
    unmet: str = ""
    fields: tuple[str, ...] = ()
    reason: bool = False
    doc: str = ""
    loc: Location | None = field(default=None, compare=False)
    norequest: bool = False
    """Missing facts of this predicate are never requested as documentation (e.g. an alternative
    route such as a red flag, or a planning parameter of the request itself)."""
    field_locs: tuple[Location, ...] = field(default=(), compare=False)
    """Where each `%@ field` path starts (line and column of its text), for the schema check."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, len(self.params))


@record(frozen=True)
class Module:
    """One parsed source file."""

    source: str
    clauses: tuple[Clause, ...]
    decls: tuple[PredDecl, ...]


def ground_fact(pred: str, args: tuple[Const, ...], file: str, line: int) -> Clause:
    """The clause `pred(args).` at the start of a line, equal field for field to one built with
    the dataclasses (and its atom's `key` already computed), built without their generated
    `__init__`: a kb table makes 100,000 of these, and the frozen classes' field-by-field
    `object.__setattr__` was a tenth of loading one. tests/test_scale.py checks the two agree."""
    loc = _new(Location)
    _set_dict(loc, "__dict__", {"file": file, "line": line, "column": 1})
    atom = _new(Atom)
    _set_dict(atom, "__dict__", {"pred": pred, "args": args, "loc": loc, "key": (pred, len(args))})
    clause = _new(Clause)
    _set_dict(clause, "__dict__", {"head": atom, "body": (), "meta": None, "loc": loc})
    return clause


_new = object.__new__
_set_dict = object.__setattr__


def format_value(value: Value) -> str:
    """Prolog spelling of a constant: bare when it is a plain atom, quoted otherwise."""
    if type(value) is str:  # the common case: atoms, spelled once each (explanations spell many)
        known = _SPELLED.get(value)
        if known is None:
            known = _spell(value)
            if len(_SPELLED) < 50_000:
                _SPELLED[value] = known
        return known
    return _spell(value)


_SPELLED: dict[str, str] = {}


def _spell(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value and value[0].islower() and all(c.isalnum() or c == "_" for c in value) and value.isascii():
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def body_atoms(literal: Literal) -> list[tuple[Atom, bool]]:
    """The atoms a literal mentions, each with True when it is reached through negation or aggregation."""
    if isinstance(literal, Positive):
        return [(literal.atom, False)]
    if isinstance(literal, Negation):
        return [(literal.atom, True)]
    if isinstance(literal, Aggregate):
        return [(g.atom, True) for g in literal.goal if isinstance(g, Positive)]
    return []
