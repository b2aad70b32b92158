"""`warrant compare CASE --policy A --policy B ...`: one case decided under several policies, and
for every line whose verdict differs, the criteria whose state differs and the constants and
rules behind them (POLICIES.md §5).

What lies behind a criterion is found in the programs themselves: the rules that decide it
(`criterion_met`/`criterion_unmet` with that criterion, or with a variable for it), and the kb
facts those rules read that differ between the policies (a threshold, a care minimum), or the
rules themselves when only one policy has them or their text differs.
"""
from __future__ import annotations

from typing import Any, Sequence

from engine.knowledge.interface import CRITERION_MET, CRITERION_UNMET
from engine.language import ast


def compare(kb, case: str, policies: Sequence[str], as_of: Any = None) -> dict[str, Any]:
    """Decide `case` under each policy and collect the lines whose verdicts differ."""
    from engine.decide.decision import decide
    from engine.inputs import open_session

    runs = []
    for spec in policies:
        session = open_session(kb, case, policy=spec, as_of=as_of)
        decision = decide(session)
        kbs = {c.key: (session.parts[c.key].kb if session.parts else session.kb) for c in session.policies.values()}
        runs.append({"spec": spec, "decision": decision, "kb": next(iter(kbs.values())),
                     "policies": sorted(kbs)})
    lines = _lines(runs)
    differing = []
    for key, entries in lines.items():
        verdicts = [e["verdict"] if e else None for e in entries]
        if len(set(verdicts)) < 2:
            continue
        differing.append({"line": key, "code": next(e for e in entries if e)["code"],
                          "verdicts": {r["spec"]: v for r, v in zip(runs, verdicts)},
                          "bases": {r["spec"]: e["basis"] if e else None for r, e in zip(runs, entries)},
                          "criteria": _criteria(runs, entries)})
    return {"case": case, "case_id": runs[0]["decision"]["case_id"] if runs else "",
            "policies": [{"spec": r["spec"], "versions": r["policies"]} for r in runs],
            "lines": len(lines), "differing": differing}


def _lines(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any] | None]]:
    keyed: dict[str, list[dict[str, Any] | None]] = {}
    for index, run in enumerate(runs):
        for stage in run["decision"]["stages"]:
            for line in stage["lines"]:
                key = f"{stage['stage']}:{line['code']}:{line.get('level') or line.get('side') or '-'}"
                keyed.setdefault(key, [None] * len(runs))[index] = line
    return keyed


def _criteria(runs: list[dict[str, Any]], entries: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    states = [{c["criterion"]: c["state"] for c in (e or {}).get("criteria", [])} for e in entries]
    names = list(dict.fromkeys(name for s in states for name in s))
    out = []
    for name in names:
        row = [s.get(name) for s in states]
        if len(set(row)) < 2:
            continue
        out.append({"criterion": name, "name": runs[0]["kb"].words.criterion(name),
                    "states": {r["spec"]: state for r, state in zip(runs, row)},
                    "requirements": {r["spec"]: r["kb"].words.requirement(name) if state else None
                                     for r, state in zip(runs, row)},
                    "behind": _behind(runs, name)})
    return out


def _behind(runs: list[dict[str, Any]], criterion: Any) -> list[dict[str, Any]]:
    """Facts and rules that decide `criterion` and differ between the policies."""
    facts = [{str(c.head): c for c in r["kb"].program.clauses if c.is_fact} for r in runs]
    rules = [{c.meta.id: c for c in _deciding(r["kb"].program.clauses, criterion)} for r in runs]
    out: list[dict[str, Any]] = []
    for rule_id in dict.fromkeys(i for each in rules for i in each):
        texts = [str(each[rule_id]) if rule_id in each else None for each in rules]
        if len(set(texts)) > 1:
            says = next(each[rule_id].meta.says for each in rules if rule_id in each)
            out.append({"kind": "rule", "rule": rule_id, "says": says,
                        "in": {r["spec"]: t is not None for r, t in zip(runs, texts)}})
    read = [atom for each in rules for clause in each.values() for atom in _reads(clause, criterion)]
    for text in dict.fromkeys(t for each in facts for t in each):
        holders = [text in each for each in facts]
        if all(holders):
            continue
        head = next(each[text].head for each in facts if text in each)
        if any(_matches(atom, head) for atom in read):
            out.append({"kind": "fact", "fact": text, "in": {r["spec"]: h for r, h in zip(runs, holders)}})
    return out


def _deciding(clauses, criterion: Any) -> list[ast.Clause]:
    return [c for c in clauses if c.meta and c.head.key in (CRITERION_MET, CRITERION_UNMET)
            and (isinstance(c.head.args[1], ast.Var) or c.head.args[1].value == criterion)]


def _reads(clause: ast.Clause, criterion: Any) -> list[ast.Atom]:
    """The atoms of the clause's body, its criterion variable bound to `criterion`."""
    name = clause.head.args[1].name if isinstance(clause.head.args[1], ast.Var) else None
    out = []
    for literal in clause.body:
        for atom, _ in ast.body_atoms(literal):
            args = tuple(ast.Const(criterion) if isinstance(a, ast.Var) and a.name == name else a for a in atom.args)
            out.append(ast.Atom(atom.pred, args))
    return out


def _matches(pattern: ast.Atom, fact: ast.Atom) -> bool:
    return pattern.key == fact.key and all(isinstance(p, ast.Var) or p == f for p, f in zip(pattern.args, fact.args))


def compare_text(result: dict[str, Any], words, markdown: bool = False) -> str:
    """The differing lines for people: verdicts side by side, then each criterion in words."""
    specs = [p["spec"] for p in result["policies"]]
    bullet = "- " if markdown else "  "
    out = [("# " if markdown else "") + f"case {result['case_id']} under {', '.join(specs)}", ""]
    if not result["differing"]:
        out.append(f"the {result['lines']} lines get the same verdict under every policy")
        return "\n".join(out) + "\n"
    for line in result["differing"]:
        verdicts = "; ".join(f"{s}: {words.verdict(v) if v else 'no such line'}" for s, v in line["verdicts"].items())
        out.append(("## " if markdown else "") + f"{line['line']}  {verdicts}")
        for crit in line["criteria"]:
            states = ", ".join(f"{s}: {words.state(v) if v else 'no such criterion'}" for s, v in crit["states"].items())
            out.append(f"{bullet}{crit['name']} ({states})")
            for spec, text in crit["requirements"].items():
                if text:
                    out.append(f"{bullet}  {spec} asks for {text}")
            for item in crit["behind"]:
                only = [s for s, present in item["in"].items() if present]
                what = f"rule {item['rule']}: {item['says']}" if item["kind"] == "rule" else f"constant {item['fact']}"
                out.append(f"{bullet}  {what} (in {', '.join(only)} only)")
        out.append("")
    return "\n".join(out)
