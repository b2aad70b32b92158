"""Knowledge-base limits checked when a kb is loaded (and so by `warrant check`), each with its
`file:line:col`: what the engine would accept but could not evaluate within bounds.

- numbers longer than `LIMITS.number_digits` digits (rule text and query goals);
- rule bodies longer than `LIMITS.body_literals` literals;
- predicate chains deeper than `LIMITS.rule_chain` (rule-on-rule dependencies);
- `aggregate_all(sum(X), ...)` where the kb's own facts or rules put an atom in X's column;
- the evaluation budget kb.yaml may set (`evaluation: {steps, seconds}`), at most the defaults.

These are kb-level checks on the parsed program; the evaluator itself is not changed.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from engine.checks import kinds
from engine.checks.kinds import ATOM
from engine.errors import Finding, Location, RuleError
from engine.guard.limits import LIMITS
from engine.knowledge.kbfiles import read_kb_file
from engine.language import ast

Key = tuple[str, int]


# ------------------------------------------------------------------------------ number length
def long_numbers(text: str, source: str, *, limit: int | None = None) -> list[Finding]:
    """Digit runs longer than the limit outside comments and quoted atoms (a number that long
    cannot be converted, and no policy needs one)."""
    limit = limit or LIMITS.number_digits
    if not _may_have_long_run(text, limit):
        return []
    findings: list[Finding] = []
    if text.isascii() and not re.search(rf"[0-9]{{{limit + 1}}}", text):
        return findings  # no digit run that long anywhere (the usual case): nothing to place
    i, line, col, n = 0, 1, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            end = text.find("\n", i)
            end = n if end < 0 else end
            col += end - i
            i = end
            continue
        if ch == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            chunk = text[i:j + 1]
            newlines = chunk.count("\n")
            line, col = (line + newlines, len(chunk) - chunk.rfind("\n")) if newlines else (line, col + len(chunk))
            i = j + 1
            continue
        if ch.isdigit():
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j - i > limit:
                findings.append(Finding("limit", f"a number of {j - i} digits; numbers may have at most "
                                        f"{limit}", Location(source, line, col)))
            col += j - i
            i = j
            continue
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    return findings


def _may_have_long_run(text: str, limit: int) -> bool:
    """Whether the text holds a run of more than `limit` characters that could all be digits
    (ASCII digits, or any non-ASCII character: `str.isdigit` accepts other scripts' digits).
    Without one no number can be too long, and the character-by-character scan is skipped."""
    for run in re.findall("[0-9\u0080-\U0010ffff]{%d,}" % (limit + 1), text):
        if any(all(c.isdigit() for c in run[i:i + limit + 1]) for i in range(len(run) - limit)):
            return True
    return False


def check_texts(paths: Sequence[Path], *, display_root: Path | None = None) -> list[Finding]:
    """Limits visible in the rule text itself, before it is parsed."""
    findings: list[Finding] = []
    for path in paths:
        raw = read_kb_file(path)
        name = str(path.relative_to(display_root)) if display_root else str(path)
        findings += long_numbers(raw.decode("utf-8", "replace"), name)
    return findings


# ------------------------------------------------------------------------------ evaluation budget
def kb_budget(meta: Any, source: str = "kb.yaml") -> Any:
    """The evaluation budget kb.yaml asks for (`evaluation: {steps: N, seconds: S}`), each at
    most the default of engine/guard/limits.py: a kb may tighten the budget, never lift it (a
    hostile kb must not be able to exhaust the machine). RuleError for anything else."""
    from engine.guard.budget import Budget

    spec = meta.get("evaluation") if isinstance(meta, dict) else None
    if spec is None:
        return Budget.default()
    if not isinstance(spec, dict) or set(spec) - {"steps", "seconds"}:
        raise RuleError([Finding("kb_contract", "kb.yaml `evaluation` takes `steps` and `seconds` only",
                                 Location(source))])
    caps = {"steps": LIMITS.evaluation_steps, "seconds": LIMITS.evaluation_seconds}
    values: dict[str, Any] = {}
    for name, cap in caps.items():
        value = spec.get(name, cap)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= cap \
                or (name == "steps" and not isinstance(value, int)):
            raise RuleError([Finding("kb_contract", f"kb.yaml `evaluation.{name}` must be a positive "
                                     f"{'whole ' if name == 'steps' else ''}number of at most {cap:,}, "
                                     f"not {value!r}", Location(source))])
        values[name] = value
    return Budget(values["steps"], values["seconds"])


# ------------------------------------------------------------------------------ program shape
def check_program(program: Any) -> list[Finding]:
    """Body length, chain depth and sums over atoms of a parsed and checked program."""
    rules = [c for c in program.clauses if c.body]
    findings = [f for c in rules for f in _body_length(c)]
    findings += _chain_depth(program)
    columns = column_kinds(program)
    for clause in rules:
        findings += sums_over_atoms(clause.body, columns)
    return findings


def _literal_count(body: Iterable[ast.Literal]) -> int:
    return sum(1 + (len(lit.goal) if isinstance(lit, ast.Aggregate) else 0) for lit in body)


def _body_length(clause: ast.Clause) -> list[Finding]:
    count = _literal_count(clause.body)
    if count <= LIMITS.body_literals:
        return []
    return [Finding("limit", f"the rule for {clause.head.pred}/{len(clause.head.args)} has {count} body "
                    f"literals; a rule may have at most {LIMITS.body_literals} (split it into named steps)",
                    clause.loc or clause.head.loc)]


def _chain_depth(program: Any) -> list[Finding]:
    """The longest chain of predicates each defined by rules over the next, counting a group of
    mutually recursive predicates once; computed without recursion."""
    edges: dict[Key, set[Key]] = defaultdict(set)
    where: dict[Key, Any] = {}
    for clause in program.clauses:
        where.setdefault(clause.head.key, clause.loc or clause.head.loc)
        for lit in clause.body:
            for atom, _ in ast.body_atoms(lit):
                edges[clause.head.key].add(atom.key)
    component = _components(edges)
    members: dict[int, list[Key]] = defaultdict(list)
    for key, comp in component.items():
        members[comp].append(key)
    down: dict[int, set[int]] = defaultdict(set)
    for key, targets in edges.items():
        for target in targets:
            if component[target] != component[key]:
                down[component[key]].add(component[target])
    depth: dict[int, int] = {}
    for comp in sorted(members):  # components come out of _components dependencies first
        depth[comp] = 1 + max((depth[d] for d in down[comp]), default=0)
    worst = max(depth, key=lambda c: depth[c], default=None)
    if worst is None or depth[worst] <= LIMITS.rule_chain:
        return []
    top = min(members[worst])
    return [Finding("limit", f"{top[0]}/{top[1]} sits on a chain of {depth[worst]} predicates, each "
                    f"defined over the next; chains may be at most {LIMITS.rule_chain} deep",
                    where.get(top))]


def _components(edges: dict[Key, set[Key]]) -> dict[Key, int]:
    """Strongly connected components (iterative Tarjan), numbered so that every component's
    dependencies have smaller numbers."""
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    on_stack: set[Key] = set()
    stack: list[Key] = []
    out: dict[Key, int] = {}
    counter = found = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    out[member] = found
                    if member == node:
                        break
                found += 1
    return out


# ------------------------------------------------------------------------------ sums over atoms
def column_kinds(program: Any) -> dict[tuple[Key, int], set[str]]:
    """What each predicate column can hold (engine/checks/kinds.py), over a checked program."""
    return kinds.column_kinds(program.clauses, set(program.arity.items()) | set(program.decls))


def sums_over_atoms(body: Sequence[Any], columns: dict[tuple[Key, int], set[str]]) -> list[Finding]:
    """`aggregate_all(sum(X), Goal, S)` literals whose X the kb can bind to an atom."""
    return [Finding("limit", f"aggregate_all(sum({lit.over}), ...) adds up {lit.over}, which this knowledge "
                    "base can bind to an atom; sum adds numbers only", lit.loc)
            for lit, found in kinds.sums(body, columns) if ATOM in found]


def check_goal(program: Any, goal: str, source: str = "<query>") -> list[Finding]:
    """The same limits for an ad hoc query goal (number length, sums over atoms)."""
    findings = long_numbers(goal, source)
    if findings:
        return findings
    from engine.language.parser import parse_goal

    try:
        body = parse_goal(goal, source)
    except Exception:  # the evaluator's own parse reports syntax errors in its words
        return []
    return sums_over_atoms(body, column_kinds(program))
