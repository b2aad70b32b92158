"""Rules that cannot derive anything for a case, found before pyDatalog is asked.

Asking pyDatalog for a rule costs tens of microseconds per subgoal even when the answer is
empty, and about a third of a case's asks are. When a rule is asked, every relation its body
reads lies in a lower stratum and is complete, so a cheap necessary condition can be tested in
Python first: each variable gets the values the columns it appears in can take (from the rows
matching each literal's constants), narrowed over all its positive literals; a rule is *dead*
when a variable has no value left, a comparison no pair of values satisfies, or a negated literal
is certain to hold for the only values its variables can take. A dead rule derives nothing, so
skipping it changes no answer; a live one is still evaluated by pyDatalog, which remains the
evaluator of record. Floats are left undecided (pyDatalog rounds them when it compares), and so
is anything the test cannot see exactly (aggregates, auxiliary relations other than a negated
single literal).

A rule that passes, and whose answers are not known from an earlier case, is then joined
(`some_binding`): its readable literals' rows, bound in turn, with each comparison and negation
applied as soon as its variables are bound, and floats as pyDatalog rounds them. The values of
a variable can each pass on their own while no row joins them (a line's own criterion is met,
each item's value is under its own threshold); pyDatalog would search that join only to find
it empty. A rule whose joins keep finding it alive stops being joined (`_worth_joining`).
"""
from __future__ import annotations

from itertools import product
from typing import Any, Callable, Iterable, Protocol, Sequence

from engine.compile.lower import CoreClause, is_aux
from engine.compile.relations import pattern_number, value_types
from engine.compile.tables import canonical
from engine.language import ast
from engine.language.visit import order_key

Key = tuple[str, int]
Arg = tuple[bool, Any]  # (is a variable, its name or the constant's value)

class Shape:
    """What the necessary condition reads of one rule body."""

    __slots__ = ("positives", "negations", "comparisons", "shared", "read", "probes", "absent", "steps", "seen",
                 "joined", "killed")

    def __init__(self) -> None:
        self.positives: list[tuple[Key, tuple[Arg, ...]]] = []
        self.negations: list[tuple[Key, tuple[Arg, ...], frozenset[str]]] = []
        self.comparisons: list[tuple[str, Arg, Arg]] = []
        self.shared: frozenset[str] = frozenset()  # variables of two or more positive literals
        self.read: frozenset[str] = frozenset()  # variables a comparison or negation reads
        self.probes: tuple[Probe, ...] = ()  # the positives as live() reads them (seal)
        self.absent: tuple[Absent, ...] = ()  # the negations _certain can read (seal: not those with a float)
        self.steps: tuple[Step, ...] = ()  # the join some_binding follows (seal)
        self.seen = self.joined = self.killed = 0  # some_binding's record for this rule (_worth_joining)

    def seal(self) -> "Shape":
        seen: set[str] = set()
        shared: set[str] = set()
        for _, args in self.positives:
            names = {x for is_var, x in args if is_var}
            shared |= names & seen
            seen |= names
        self.shared = frozenset(shared)
        self.read = frozenset(x for _, left, right in self.comparisons for is_var, x in (left, right) if is_var) \
            | frozenset(x for _, args, _ in self.negations for is_var, x in args if is_var)
        self.probes = tuple(_probe(key, args, self.shared, self.read) for key, args in self.positives)
        self.absent = tuple(a for a in (_absent(key, args, local) for key, args, local in self.negations) if a)
        filters = tuple((frozenset(x for is_var, x in (left, right) if is_var), "compare",
                         (op, _rounded(left), _rounded(right))) for op, left, right in self.comparisons) \
            + tuple((frozenset(name for _, name in absent[3]), "absent", absent) for absent in self.absent)
        self.steps = _steps(self.probes, filters)
        return self

    def __bool__(self) -> bool:
        return bool(self.positives or self.negations or self.comparisons)


def _arg(term: ast.Term) -> Arg:
    return (True, term.name) if isinstance(term, ast.Var) else (False, term.value)


def single_literal_negations(clauses: Iterable[CoreClause]) -> dict[Key, tuple[ast.Atom, ast.Atom]]:
    """Auxiliary negation heads defined by one clause of one positive non-auxiliary literal
    (`neg$N(X) :- p(X, _)`): `\\+ neg$N(a)` holds exactly when no row of p matches."""
    found: dict[Key, list] = {}
    for clause in clauses:
        if clause.head.pred.startswith("neg$"):
            found.setdefault(clause.head.key, []).append(clause)
    simple = {}
    for key, defs in found.items():
        body = defs[0].body
        if len(defs) == 1 and len(body) == 1 and isinstance(body[0], ast.Positive) and not is_aux(body[0].atom.pred):
            simple[key] = (defs[0].head, body[0].atom)
    return simple


def rule_shape(clause: CoreClause, lower: Callable[[Key], bool], negs: dict[Key, tuple[ast.Atom, ast.Atom]]) -> Shape:
    """The literals of a rule the test can read: those on relations `lower` says are complete."""
    shape = Shape()
    for lit in clause.body:
        if isinstance(lit, ast.Positive) and not is_aux(lit.atom.pred) and lower(lit.atom.key):
            shape.positives.append((lit.atom.key, tuple(_arg(t) for t in lit.atom.args)))
        elif isinstance(lit, ast.Negation) and lit.atom.key in negs:
            head, inner = negs[lit.atom.key]
            if not lower(inner.key):
                continue
            outer = {t.name: a for t, a in zip(head.args, lit.atom.args) if isinstance(t, ast.Var)}
            args, local = [], set()
            for t in inner.args:
                if isinstance(t, ast.Var) and t.name in outer:
                    args.append(_arg(outer[t.name]))
                elif isinstance(t, ast.Var):
                    local.add("$" + t.name)
                    args.append((True, "$" + t.name))
                else:
                    args.append(_arg(t))
            shape.negations.append((inner.key, tuple(args), frozenset(local)))
        elif isinstance(lit, ast.Negation) and not is_aux(lit.atom.pred) and lower(lit.atom.key):
            shape.negations.append((lit.atom.key, tuple(_arg(t) for t in lit.atom.args), frozenset()))
        elif isinstance(lit, ast.Comparison):
            shape.comparisons.append((lit.op, _arg(lit.left), _arg(lit.right)))
    return shape.seal()


def _exact(value: Any) -> bool:
    return type(value) is not float


class Relations(Protocol):
    """What the test reads of a case's complete relations (the backend provides it)."""

    memos: dict[Key, dict]
    """The memos already opened in this evaluation (read directly: the test runs per rule)."""

    def rows(self, key: Key) -> Sequence[tuple]: ...

    def memo(self, key: Key) -> dict:
        """A cache for what is computed from `rows(key)`, kept as long as those rows stay."""


Probe = tuple  # (relation, id, exact constants, repeated pairs, first places, args, shared, read): _probe
Absent = tuple  # (relation, id, constants, variable places) of a negation: see _absent


def _probe(key: Key, args: tuple[Arg, ...], shared: frozenset[str], read: frozenset[str]) -> Probe:
    """A positive literal compiled for live and _values: the places of its exact constants with
    their values, the pairs of places a repeated variable joins, each variable's first place, and
    which of its variables other positives share, and which a comparison or negation reads."""
    consts, pairs, names = [], [], {}
    for i, (is_var, x) in enumerate(args):
        if not is_var:
            if _exact(x):
                consts.append((i, x))
        elif x in names:
            pairs.append((names[x], i))
        else:
            names[x] = i
    return (key, pattern_number(("+", key, args)), tuple(consts), tuple(pairs), tuple(names.items()), args,
            tuple(x for x in names if x in shared), tuple(x for x in names if x in read))


def _absent(key: Key, args: tuple[Arg, ...], local: frozenset) -> Absent | None:
    """A negated literal compiled for _certain; None when it has an inexact (float) constant, or
    a variable of its own twice (its columns must then hold equal values, which the rows' values
    at the other places do not show): then the negation is never certain to fail."""
    consts: list[tuple[int, Any]] = []
    names: list[tuple[int, str]] = []
    own = [x for is_var, x in args if is_var and x in local]
    if len(own) != len(set(own)):
        return None
    for i, (is_var, x) in enumerate(args):
        if is_var and x in local:
            continue
        if not is_var:
            if not _exact(x):
                return None
            consts.append((i, x))
        else:
            names.append((i, x))
    places = tuple(i for i, _ in names)
    return (key, pattern_number(("\\+", key, tuple(consts), places)), tuple(consts), tuple(names))


def _values(rows: Sequence[tuple], probe: Probe, memo: dict) -> dict[str, set | None] | None:
    """Each variable's values in the rows that may match the literal (its constants and repeated
    variables agree; a float always may); None when no row does. A variable that met a float
    maps to None: its values are not compared in Python."""
    if not rows:
        return None
    consts, pairs, names, args = probe[2:6]
    if float in value_types(rows, memo):
        return _values_with_floats(rows, args)
    for i, x in consts:  # a comprehension per constant: no generator per row
        rows = [row for row in rows if row[i] == x]
        if not rows:
            return None
    for i, j in pairs:
        rows = [row for row in rows if row[i] == row[j]]
        if not rows:
            return None
    found = {}
    for x, i in names:
        found[x] = {row[i] for row in rows}
    return found


def _values_with_floats(rows: Sequence[tuple], args: tuple[Arg, ...]) -> dict[str, set | None] | None:
    """_values for a relation holding a float somewhere: a float matches anything."""
    names: dict[str, int] = {}
    for i, (is_var, x) in enumerate(args):
        if not rows:
            return None
        if not is_var:
            if _exact(x):
                rows = [row for row in rows if row[i] == x or type(row[i]) is float]
        elif x in names:
            j = names[x]
            rows = [row for row in rows if row[i] == row[j] or type(row[i]) is float or type(row[j]) is float]
        else:
            names[x] = i
    if not rows:
        return None
    found: dict[str, set | None] = {}
    for x, i in names.items():
        values = {row[i] for row in rows}
        found[x] = None if any(type(v) is float for v in values) else values
    return found


_UNSEEN = object()
PRODUCT = 64
"""A negation is checked for at most this many combinations of its variables' values."""


def live(shape: Shape, relations: Relations) -> bool:
    """False only when the rule can derive nothing from these relations (see the module doc)."""
    domains: dict[str, set | None] = {}  # None: a float was met, the variable is not compared
    memos = relations.memos
    seen = []
    for probe in shape.probes:
        key = probe[0]
        memo = memos.get(key)
        if memo is None:
            memo = relations.memo(key)
        found = memo.get(probe[1], _UNSEEN)
        if found is _UNSEEN:
            found = memo[probe[1]] = _values(relations.rows(key), probe, memo)
        if found is None:
            return False
        seen.append((probe, found))
        for name in probe[6]:  # its variables other positive literals share: narrowed
            values, known = found[name], domains.get(name, _UNSEEN)
            if known is None:
                continue
            if values is None or known is _UNSEEN:
                domains[name] = None if values is None else set(values)
                continue
            known &= values
            if not known:
                return False
    if not (shape.comparisons or shape.absent):
        return True
    for probe, found in seen:  # the values of the variables the other literals read
        for name in probe[7]:
            if name not in domains:
                domains[name] = found[name]
    return all(_possible(op, left, right, domains) for op, left, right in shape.comparisons) \
        and not any(_certain(absent, relations, domains) for absent in shape.absent)


def _side(arg: Arg, values: dict) -> list | None:
    is_var, x = arg
    if not is_var:
        return [x]
    found = values.get(x)
    return None if found is None or len(found) > 16 else list(found)


def _possible(op: str, left: Arg, right: Arg, values: dict) -> bool:
    """Whether some pair of the two sides' values may satisfy the comparison."""
    lefts, rights = _side(left, values), _side(right, values)
    if lefts is None or rights is None:
        return True
    return any(_holds(op, a, b) for a in lefts for b in rights)


def _holds(op: str, a: Any, b: Any, rounded: bool = False) -> bool:
    """The comparison as the backend's primitive decides it (`=` decided for atoms only); a
    float is undecided unless `rounded` (already as pyDatalog rounds it: `canonical`)."""
    if not rounded and not (_exact(a) and _exact(b)):
        return True
    if op == "=":
        return not (isinstance(a, str) and isinstance(b, str)) or a == b
    if op == "\\=":
        return not (a == b and order_key(a)[0] == order_key(b)[0])
    ka, kb = order_key(a), order_key(b)
    return {"<": ka < kb, "=<": ka <= kb, ">": ka > kb, ">=": ka >= kb}[op]


def _certain(absent: Absent, relations: Relations, values: dict) -> bool:
    """Whether the negated literal's relation certainly has a row for every combination of the
    values its variables can take (so the negation fails for each, and the rule derives nothing).
    Variables local to the negation match anything; at most PRODUCT combinations are tried."""
    names = absent[3]
    domains = []
    size = 1
    for _, name in names:
        found = values.get(name)
        if found is None:
            return False
        size *= len(found)
        if size > PRODUCT:
            return False
        domains.append(found)
    present = _present(absent, relations)
    return all(combo in present for combo in product(*domains))


def _present(absent: Absent, relations: Relations) -> set[tuple]:
    """The values at a negated literal's variables' places of the rows its constants match
    (rows holding a float there left out: the negation is never certain to fail for those)."""
    key, pid, consts, names = absent
    memo = relations.memo(key)
    present = memo.get(pid)
    if present is None:
        present = memo[pid] = {tuple(row[i] for i, _ in names) for row in relations.rows(key)
                               if all(row[i] == x and _exact(row[i]) for i, x in consts)
                               and all(_exact(row[i]) for i, _ in names)}
    return present


JOIN_MOST = 64
"""Bindings some_binding follows at once; past this many it stops, undecided (the rule is asked)."""

Step = tuple  # (probe, bound places, their (is variable, name or value), new variables' places, filters ready): _steps


def some_binding(shape: Shape, relations: Relations) -> bool:
    """Whether the rule's positive literals on complete relations join into one binding at least
    that its comparisons and readable negations let through. The value domains of `live` are
    each variable's alone; a rule whose filters fail for every row it actually joins (a line
    whose own criterion is met, a value under the threshold of its own item) passes them, and
    pyDatalog then searches the whole join to derive nothing. Literals the test cannot read
    (aggregates, other auxiliary relations) are left out, so this stays a necessary condition;
    more than JOIN_MOST bindings leave it undecided (True)."""
    if not shape.steps or not _worth_joining(shape):
        return True
    shape.joined += 1
    if _joins(shape.steps, relations):
        return True
    shape.killed += 1
    return False


TRIAL = 32
"""Cases in which some_binding joins a rule's literals before it judges whether that pays."""


def _worth_joining(shape: Shape) -> bool:
    """Whether to follow the rule's join: always in its first TRIAL cases, then while at least
    one join in eight has found the rule dead (a join that never does costs a case more than the
    questions it saves), and in one case of RETRY otherwise, to keep the record current. Which
    rules are joined changes no answer, only how many questions pyDatalog is asked."""
    shape.seen += 1
    joined = shape.joined
    return joined < TRIAL or shape.killed * 8 >= joined or shape.seen % RETRY == 0


RETRY = 256
"""Calls between two joins of a rule that has stopped paying for its join."""


def _joins(steps: tuple[Step, ...], relations: Relations) -> bool:
    """Whether the steps' join (see some_binding) leaves a binding: at the last literal one
    matching row is enough."""
    envs: list[dict[str, Any]] = [{}]
    last = len(steps) - 1
    for n, (probe, bound, parts, new, ready) in enumerate(steps):
        index = _index(relations, probe[0], bound, probe[1])
        out = []
        for env in envs:
            if len(parts) == 1:
                is_var, x = parts[0]
                found = index.get(env[x] if is_var else x)
            else:
                found = index.get(tuple([env[x] if is_var else x for is_var, x in parts]))
            if not found:
                continue
            if n == last and not ready:  # the last literal: one row is enough
                return True
            for row in found:
                extended = dict(env)
                for i, x in new:  # a variable repeated in the literal takes one value
                    if extended.setdefault(x, row[i]) != row[i]:
                        break
                else:
                    if not ready or all([_passes(f, extended, relations) for f in ready]):
                        if n == last:
                            return True
                        out.append(extended)
        if not out:
            return False
        if len(out) > JOIN_MOST:
            return True
        envs = out
    return True


def _index(relations: Relations, key: Key, bound: tuple[int, ...], pid: int) -> dict:
    """The rows by their values at the bound places (one value, a tuple of several, () for
    none), kept in the relation's memo as long as its rows. Floats are taken as pyDatalog rounds
    them (its tables and comparisons read them so), which makes the join exact for them too."""
    memo = relations.memo(key)
    tag = ("join", pid, bound)
    index = memo.get(tag)
    if index is None:
        index = memo[tag] = {}
        rows = relations.rows(key)
        if float in value_types(rows, memo):
            rows = [tuple([canonical(v) for v in row]) for row in rows]
        for row in rows:
            value = row[bound[0]] if len(bound) == 1 else tuple([row[i] for i in bound])
            bucket = index.get(value)
            if bucket is None:
                index[value] = [row]
            else:
                bucket.append(row)
    return index


def _steps(probes: Sequence[Probe], filters: Sequence[tuple]) -> tuple[Step, ...]:
    """some_binding's plan: each positive literal (in `_joined_order`) with the places constants
    and the literals before it bind, and the filters whose variables it completes; () for one
    literal and no filter (live's test is exact for it)."""
    steps, known, waiting = [], set(), list(filters)
    for probe in _joined_order(probes):
        args = tuple((is_var, x if is_var else canonical(x)) for is_var, x in probe[5])
        bound = tuple(i for i, (is_var, x) in enumerate(args) if not is_var or x in known)
        new = tuple((i, x) for i, (is_var, x) in enumerate(args) if is_var and x not in known)
        known |= {x for _, x in new}
        ready = tuple(f for f in waiting if f[0] <= known)
        waiting = [f for f in waiting if f not in ready]
        steps.append((probe, bound, tuple(args[i] for i in bound), new, ready))
    return tuple(steps) if filters or len(steps) > 1 else ()


def _joined_order(probes: Sequence[Probe]) -> list[Probe]:
    """The literals in the order a join reads them: next, the one with the most places bound by
    constants and the literals before it (the first such in the body), so each extends the
    bindings it shares variables with instead of multiplying them by a relation it does not."""
    left, known, out = list(probes), set(), []
    while left:
        best = max(left, key=lambda p: sum(1 for is_var, x in p[5] if not is_var or x in known))
        left.remove(best)
        out.append(best)
        known |= {x for is_var, x in best[5] if is_var}
    return out


def _rounded(arg: Arg) -> Arg:
    """A comparison's side for some_binding: a constant as pyDatalog holds it (rounded once)."""
    is_var, x = arg
    return arg if is_var else (False, canonical(x))


def _passes(item: tuple[frozenset[str], str, tuple], env: dict[str, Any], relations: Relations) -> bool:
    _names, kind, what = item
    if kind == "compare":
        op, (lvar, left), (rvar, right) = what
        return _holds(op, env[left] if lvar else left, env[right] if rvar else right, True)
    return tuple([env[name] for _, name in what[3]]) not in _present(what, relations)
