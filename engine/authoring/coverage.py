"""Rule and criterion coverage of a set of rule tests.

Rule coverage: a rule *fired* in a test when some instantiation of its body holds for that
test's facts (one solution of the body over the test's model is enough), tallied per rule id
over all tests. Criterion coverage: for every criterion the kb can give a line (the atoms that
`criterion/3` can carry), in how many tests some line had it met, unmet or undocumented.

Which criteria exist and which states each can reach are read statically from the clauses: the
constants a head can carry at a position, following variables into the body atoms that bind
them (intersecting when several do) and down to the facts. This over-approximates (it ignores
negations and comparisons), so a state the analysis calls possible may still be unreachable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from engine.language import ast
from engine.knowledge.interface import CRITERION, CRITERION_MET, CRITERION_UNMET, UNDOCUMENTED

Key = tuple[str, int]

STATES = {"met": CRITERION_MET, "unmet": CRITERION_UNMET, "undocumented": UNDOCUMENTED}
STATE_NAMES = tuple(STATES)


def rule_clauses(program) -> list[ast.Clause]:
    """The clauses that carry a rule id (facts never do), in kb order."""
    return [c for c in program.clauses if c.meta and not c.is_fact]


def fired_rules(model, clauses: Sequence[ast.Clause]) -> set[str]:
    """The ids of the rules with at least one body solution in this model."""
    out: set[str] = set()
    for clause in clauses:
        if clause.meta.id in out:
            continue
        for _solution in model.solve(clause.body, {}):
            out.add(clause.meta.id)
            break
    return out


def criterion_states(derived: Mapping[Key, Sequence[tuple]]) -> dict[str, set[str]]:
    """For each criterion some line of the case has, the states it took on some line."""
    out: dict[str, set[str]] = {}
    has = {(row[0], row[1]) for row in derived.get(CRITERION, ())}
    for line, criterion in has:
        out.setdefault(str(criterion), set())
    for state, key in STATES.items():
        for row in derived.get(key, ()):
            if (row[0], row[1]) in has:
                out.setdefault(str(row[1]), set()).add(state)
    return out


class _Values:
    """Static reading of which constants a predicate's argument can take."""

    def __init__(self, clauses: Iterable[ast.Clause]) -> None:
        self.by_head: dict[Key, list[ast.Clause]] = {}
        for clause in clauses:
            self.by_head.setdefault(clause.head.key, []).append(clause)
        self.memo: dict[tuple, frozenset | None] = {}

    def of(self, key: Key, position: int, pattern: frozenset = frozenset(), stack: tuple = ()) -> frozenset | None:
        """The constants argument `position` of `key` can take given constant arguments
        `pattern` ({(position, value)}); None when it is open (e.g. supplied by case facts)."""
        memo_key = (key, position, pattern)
        if memo_key in self.memo:
            return self.memo[memo_key]
        clauses = self.by_head.get(key)
        if not clauses or memo_key in stack:
            return None
        stack = stack + (memo_key,)
        found: set[Any] = set()
        for clause in clauses:
            env: dict[str, Any] = {}
            ok = True
            for pos, value in pattern:
                term = clause.head.args[pos]
                if isinstance(term, ast.Const):
                    ok = ok and term.value == value
                elif term.name in env and env[term.name] != value:
                    ok = False
                else:
                    env[term.name] = value
            if not ok:
                continue
            term = clause.head.args[position]
            if isinstance(term, ast.Const):
                found.add(term.value)
                continue
            if term.name in env:
                found.add(env[term.name])
                continue
            values = self._variable(clause, term.name, env, stack)
            if values is None:
                self.memo[memo_key] = None
                return None
            found |= values
        result = frozenset(found)
        self.memo[memo_key] = result
        return result

    def _variable(self, clause: ast.Clause, name: str, env: dict[str, Any], stack: tuple) -> frozenset | None:
        values: frozenset | None = None
        for literal in clause.body:
            if isinstance(literal, ast.Comparison) and literal.op == "=":
                sides = (literal.left, literal.right)
                for this, other in (sides, sides[::-1]):
                    if isinstance(this, ast.Var) and this.name == name and isinstance(other, ast.Const):
                        values = _meet(values, frozenset([other.value]))
                continue
            if not isinstance(literal, ast.Positive):
                continue
            atom = literal.atom
            positions = [i for i, t in enumerate(atom.args) if isinstance(t, ast.Var) and t.name == name]
            if not positions:
                continue
            pattern = frozenset((i, t.value if isinstance(t, ast.Const) else env[t.name])
                                for i, t in enumerate(atom.args)
                                if isinstance(t, ast.Const) or (t.name in env and t.name != name))
            for position in positions:
                values = _meet(values, self.of(atom.key, position, pattern, stack))
        return values


def _meet(a: frozenset | None, b: frozenset | None) -> frozenset | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def possible_criteria(program) -> dict[str, list[str]]:
    """Every criterion atom `criterion/3` can carry, with the states the clauses can give it.

    `undocumented` is dropped for a criterion whose met and unmet clauses are complements
    (one needs A, the other needs not-A, besides guards that hold for every line with the
    criterion), since every line then has it met or unmet."""
    values = _Values(program.clauses)
    criteria = values.of(CRITERION, 1) or frozenset()
    out: dict[str, list[str]] = {}
    for criterion in sorted(criteria, key=str):
        out[str(criterion)] = []
    for state, key in STATES.items():
        reachable = values.of(key, 1) if key in values.by_head else frozenset()
        for criterion in sorted(criteria, key=str):
            if reachable is None or criterion in reachable:
                if state == "undocumented" and _always_decided(values, criterion):
                    continue
                out[str(criterion)].append(state)
    return out


def _always_decided(values: _Values, criterion: Any) -> bool:
    met = [_core(values, c, criterion) for c in values.by_head.get(STATES["met"], ())]
    unmet = [_core(values, c, criterion) for c in values.by_head.get(STATES["unmet"], ())]
    for a in met:
        for b in unmet:
            if a is not None and b is not None and {type(a[0]), type(b[0])} == {ast.Positive, ast.Negation} \
                    and a[1] == b[1]:
                return True
    return False


def _core(values: _Values, clause: ast.Clause, criterion: Any) -> tuple | None:
    """The one condition of a met/unmet clause for `criterion` besides its guards, as
    (literal, normalised arguments); None when the clause does not reduce to one condition."""
    line, target = clause.head.args[0], clause.head.args[1]
    if not isinstance(line, ast.Var):
        return None
    env: dict[str, Any] = {}
    if isinstance(target, ast.Const):
        if target.value != criterion:
            return None
    else:
        env[target.name] = criterion
    rest = []
    guard_vars: set[str] = set()
    for literal in clause.body:
        if isinstance(literal, ast.Positive) and _is_guard(values, literal.atom, line.name, env, criterion):
            guard_vars |= {v.name for v in literal.atom.variables()}
            continue
        rest.append(literal)
    if len(rest) != 1 or not isinstance(rest[0], (ast.Positive, ast.Negation)):
        return None
    atom = rest[0].atom
    norm = []
    for term in atom.args:
        if isinstance(term, ast.Const):
            norm.append(("const", term.value))
        elif term.name == line.name:
            norm.append(("line",))
        elif term.name in env:
            norm.append(("const", env[term.name]))
        elif term.name in guard_vars and term.name != "_":
            return None
        else:
            norm.append(("any",))
    return rest[0], (atom.key, tuple(norm))


def _is_guard(values: _Values, atom: ast.Atom, line: str, env: dict[str, Any], criterion: Any) -> bool:
    """Whether the atom holds for every line that has the criterion: criterion(L, C, Role) with a
    role the criterion can have, or a fact-only predicate with a matching fact."""
    def const(term):
        if isinstance(term, ast.Const):
            return term.value
        return env.get(term.name)

    if atom.key == CRITERION:
        first, second, role = atom.args
        if not (isinstance(first, ast.Var) and first.name == line and const(second) == criterion):
            return False
        if const(role) is None:
            return True
        roles = values.of(CRITERION, 2, frozenset([(1, criterion)]))
        return roles is not None and const(role) in roles and len(roles) == 1
    clauses = values.by_head.get(atom.key)
    if not clauses or not all(c.is_fact for c in clauses) or any(
            isinstance(t, ast.Var) and t.name == line for t in atom.args):
        return False
    return any(all(const(t) is None or const(t) == h.value for t, h in zip(atom.args, c.head.args))
               for c in clauses)


@dataclass
class Coverage:
    """Tallies over a run of rule tests."""

    rules: list[ast.Clause]
    criteria: dict[str, list[str]]
    fired: dict[str, int] = field(default_factory=dict)
    seen: dict[str, dict[str, int]] = field(default_factory=dict)
    tests: int = 0
    program: Any = None

    @classmethod
    def for_program(cls, program, changes: Sequence[Any] = ()) -> "Coverage":
        """Tallies over the program's rules; with a policy overlay's `changes`, over the rules and
        criteria the overlay adds or replaces only (what that policy's own tests are for)."""
        rules = rule_clauses(program)
        criteria = possible_criteria(program)
        if changes:
            ids = {c.meta.id for c in changes if c.meta and not c.clause.is_fact}
            rules = [c for c in rules if c.meta.id in ids]
            named = {str(a.value) for c in changes for a in c.clause.head.args if isinstance(a, ast.Const)}
            criteria = {k: v for k, v in criteria.items() if str(k) in named}
        coverage = cls(rules, criteria, program=program)
        for clause in rules:
            coverage.fired.setdefault(clause.meta.id, 0)
        for criterion in coverage.criteria:
            coverage.seen[criterion] = {state: 0 for state in STATE_NAMES}
        return coverage

    def add(self, session) -> None:
        """Count what one test's case exercised (a session under several policy versions: the
        part under this coverage's program)."""
        if session.parts:
            session = next((p for p in session.parts.values() if p.kb.program is self.program), session)
        self.tests += 1
        for rule_id in fired_rules(session.model, self.rules):
            self.fired[rule_id] = self.fired.get(rule_id, 0) + 1
        for criterion, states in criterion_states(session.derived).items():
            tally = self.seen.setdefault(criterion, {state: 0 for state in STATE_NAMES})
            for state in states:
                tally[state] += 1

    @property
    def rule_percent(self) -> float:
        if not self.fired:
            return 100.0
        return 100.0 * sum(1 for n in self.fired.values() if n) / len(self.fired)

    def unfired(self) -> list[ast.Clause]:
        seen: set[str] = set()
        out = []
        for clause in self.rules:
            if not self.fired.get(clause.meta.id) and clause.meta.id not in seen:
                seen.add(clause.meta.id)
                out.append(clause)
        return out

    def state_gaps(self) -> list[tuple[str, str]]:
        """(criterion, state) pairs the clauses can produce but no test showed."""
        return [(c, s) for c, states in self.criteria.items() for s in states if not self.seen.get(c, {}).get(s)]

    def to_dict(self) -> dict[str, Any]:
        ids = list(dict.fromkeys(c.meta.id for c in self.rules))
        locations = {}
        for clause in self.rules:
            locations.setdefault(clause.meta.id, str(clause.loc) if clause.loc else "")
        possible = sum(len(s) for s in self.criteria.values())
        return {
            "tests": self.tests,
            "rules": {"total": len(ids), "fired": sum(1 for i in ids if self.fired.get(i)),
                      "percent": round(self.rule_percent, 1),
                      "by_rule": [{"rule": i, "tests": self.fired.get(i, 0), "location": locations[i]}
                                  for i in ids]},
            "criteria": {"possible_states": possible, "seen_states": possible - len(self.state_gaps()),
                         "by_criterion": [{"criterion": c, "possible": list(states),
                                           "tests": dict(self.seen.get(c, {}))}
                                          for c, states in self.criteria.items()]},
        }

    def text(self) -> str:
        data = self.to_dict()
        rules = data["rules"]
        width = max([len(r["rule"]) for r in rules["by_rule"]] + [4])
        out = [f"rule coverage: {rules['fired']} of {rules['total']} rules fired in some test "
               f"({rules['percent']:.1f}%)"]
        for item in rules["by_rule"]:
            mark = f"{item['tests']:4d} test{'s' if item['tests'] != 1 else ' '}" if item["tests"] else "  NOT FIRED"
            out.append(f"  {item['rule'].ljust(width)}  {mark}   {item['location']}")
        crit = data["criteria"]
        out.append("")
        out.append(f"criterion coverage: {crit['seen_states']} of {crit['possible_states']} possible "
                   "criterion states seen (tests in which some line had the criterion met / unmet / "
                   "undocumented; '-' = the rules cannot produce that state)")
        cwidth = max([len(c["criterion"]) for c in crit["by_criterion"]] + [9])
        for item in crit["by_criterion"]:
            cells = []
            for state in STATE_NAMES:
                if state not in item["possible"]:
                    cells.append(f"{state} -".ljust(17))
                elif item["tests"].get(state):
                    cells.append(f"{state} {item['tests'][state]}".ljust(17))
                else:
                    cells.append(f"{state} NEVER".ljust(17))
            out.append(f"  {item['criterion'].ljust(cwidth)}  {'  '.join(cells).rstrip()}")
        return "\n".join(out) + "\n"


class Coverages:
    """Coverage per policy version: each rule test counts for the program of the policy its
    stages were decided under (`policy:` and `as_of:` of the test)."""

    def __init__(self) -> None:
        self.by_policy: dict[str, Coverage] = {}

    def add(self, session) -> None:
        keys = list(dict.fromkeys(c.key for c in session.policies.values())) or [""]
        for key in keys:
            part = session.parts.get(key, session) if session.parts else session
            if key not in self.by_policy:
                self.by_policy[key] = Coverage.for_program(part.kb.program, part.kb.changes)
            self.by_policy[key].add(part)
