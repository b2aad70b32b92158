"""Minimal documentation sets for a requested line, in the shape why-not answers with.

Each set is a list of facts `{field, op, value, witness, text}`: `field` a case path that
`warrant what-if --set` accepts (list positions written out: `imaging[1]...` is a new study when
the case has one), `op` one of `=`, `>=`, `>`, `<=`, `<`, `value` the bound typed as in a case
file (`true`, `6`, `"moderate"`), `witness` the value that was checked (the bound, or the next
value past a strict one), `text` the condition in clinical words. `unblocks` lists the lines
(ids) the set makes take the verdict, this one included.

Sets change the clinical record, never the request: facts read from the requested lines and
stages (their levels, sides, spans, planned facet resection) and facts the kb marks
`%@ norequest` (red flags: an alternative route, not documentation to ask for) are never
proposed.
"""
from __future__ import annotations

from typing import Any

from engine.explain.conditions import Condition
from engine.explain.search import MinimalSets, Outcome
from engine.knowledge.interface import LINE_VERDICT
from engine.language import ast
from engine.language.fieldpath import Key as PathKey

DEFAULT_MAX_SIZE = 3
REQUEST_ROOTS = ("lines", "requests")
"""Top-level case keys that hold the request under judgement, not the clinical record."""
JSON_OPS = {"=<": "<="}


def verdict_goal(line_id: str, verdict: str) -> ast.Atom:
    """`line_verdict(Line, Verdict, Basis)` with the basis left open."""
    return ast.Atom(LINE_VERDICT[0], (ast.Const(line_id), ast.Const(verdict), ast.Var("Basis")))


def fixed_keys(kb) -> set[tuple[str, int]]:
    """Base predicates no documentation set may add to (see the module docstring)."""
    out = set()
    for key, paths in kb.fields.items():
        decl = paths[0][0]
        first = paths[0][1].steps[0]
        if decl.norequest or (isinstance(first, PathKey) and first.name in REQUEST_ROOTS) or \
                getattr(first, "name", None) in REQUEST_ROOTS:
            out.add(key)
    return out


def searcher(session) -> MinimalSets:
    """The session's minimal-set search (one per session: its abductions are shared)."""
    found = session.__dict__.get("_minimal_sets")
    if found is None:
        kb = session.kb
        program = kb.program
        found = MinimalSets(session.model, program.clauses_by_head, kb.fields, kb.domains.static, fixed_keys(kb),
                            kb.domains, program.recursive, dependents=kb.dependents)
        session.__dict__["_minimal_sets"] = found
    return found


def find_sets(session, line, verdict: str, max_size: int = DEFAULT_MAX_SIZE,
              current: dict[str, str] | None = None) -> Outcome:
    """The minimal sets that give `line` the verdict; `current` maps line ids to their verdicts
    (for `unblocks`: the lines not at that verdict yet)."""
    current = current or {}
    others = [(ln.id, verdict_goal(ln.id, verdict)) for ln in session.lines if current.get(ln.id) != verdict]
    return searcher(session).find(verdict_goal(line.id, verdict), max_size, others)


def least_facts(session, goal: ast.Atom, cap: int) -> int | None:
    """How many facts at least it takes to make `goal` hold, as far as `cap`: the size of the
    smallest candidate the abduction finds (0 when it holds; None when no candidate of at most
    `cap` facts exists). Candidates are not checked here, so this is a lower bound: the figure
    explanations give as "at least"."""
    options = searcher(session).abducer(session.model, cap).prove(goal)
    return min((len(o.conditions) for o in options), default=None)


def set_entry(session, found) -> dict[str, Any]:
    return {"size": found.size, "facts": [fact_entry(session, c) for c in found.conditions],
            "unblocks": list(found.unblocks)}


def fact_entry(session, cond: Condition) -> dict[str, Any]:
    voice, words = session.voice, session.kb.words
    steps, _value, _given = voice.concrete(cond.key, cond.row())
    field_words = words.field(steps)
    if cond.position is None:  # the entry (or list) itself: an empty entry documents it
        value = witness = {} if isinstance(steps[-1], int) else []
        value_text = "recorded"
    else:
        value, witness = typed(cond.value), typed(cond.witness())
        value_text = words.comparison(cond.op, words.value(field_words, cond.value), bool(cond.order))
    return {"field": path_text(steps), "op": JSON_OPS.get(cond.op, cond.op), "value": value,
            "witness": witness, "text": voice.finish(f"{voice.phrase(steps)}: {value_text}")}


def path_text(steps: tuple) -> str:
    """Case path steps as `what-if --set` writes them: `imaging[1].segments.L4-5.x`."""
    out = ""
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step == "[]":
            out += "[]"
        else:
            out += ("." if out else "") + str(step)
    return out


def typed(value: Any) -> Any:
    """A fact value as a case file writes it: the atoms true/false as booleans, whole numbers
    as integers."""
    if value == "true":
        return True
    if value == "false":
        return False
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
