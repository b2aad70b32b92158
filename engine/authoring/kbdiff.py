"""`warrant diff`: decide the same cases under two knowledge bases and explain every flip.

Each side is a kb directory, or `git:REV` (the kb/ directory of the repository at revision REV,
extracted with `git archive`; `git:REV:PATH` names another directory). pyDatalog holds one
program per thread, so each side is evaluated in a thread of its own.

A determination (a line's or an admission's verdict and basis, or the supported days) *flips*
when it differs between the sides. Each flip is explained by what differs between them:

- reasons: rule ids among one side's reasons and not the other's;
- kb changes: facts of the kb (e.g. `threshold(translation_mm, 3)`) that only one side has,
  and rules whose text changed, when either side's proof of the determination uses them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from engine.errors import UsageError, WarrantError
from engine.decide.outcomes import brief, describe


_POLICY = re.compile(r"^[a-z][a-z0-9_-]*(@[0-9]+(\.[0-9]+)*)?$")


@dataclass
class Side:
    spec: str
    root: Path
    kb: Any = None
    base: Any = None  # the kb directory's base program (sessions open through it)
    temp: Path | None = None
    policy: str | None = None  # ID or ID@VERSION of the kb's policy table
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        info = {"spec": self.spec, "root": str(self.root), "version": self.kb.version, "digest": self.kb.digest}
        if self.policy:
            info["policy"] = self.policy
        return info


def resolve_kb(spec: str | Path | None, *, default: Path | None = None) -> Side:
    """A kb directory for SPEC: a path, or git:REV[:PATH] extracted into a temporary directory."""
    from engine.knowledge.base import bundled_kb

    if spec is None or str(spec) == "":
        root = default or bundled_kb()
        return Side(str(root), Path(root))
    text = str(spec)
    if _POLICY.match(text) and not Path(text).is_dir():
        root = Path(default or bundled_kb())
        from engine.knowledge.policies import load_table

        if text.partition("@")[0] not in load_table(root).ids:
            raise UsageError(f"{text} is neither a knowledge base directory nor a policy of {root}")
        return Side(text, root, policy=text)
    if not text.startswith("git:"):
        root = Path(text)
        if not root.is_dir():
            raise UsageError(f"no knowledge base directory {text} (give a directory or git:REV)")
        return Side(text, root)
    rev, _, sub = text[4:].partition(":")
    if not rev:
        raise UsageError(f"{text}: name a revision, e.g. git:HEAD or git:main~1")
    top = _git_toplevel()
    sub = sub or "kb"
    commit = _verified_commit(top, text, rev)
    temp = Path(tempfile.mkdtemp(prefix="warrant-kb-"))
    try:
        run = subprocess.run(["git", "-C", str(top), "archive", "--format=tar", commit, "--", sub],
                             capture_output=True, check=False)
        if run.returncode != 0:
            raise UsageError(f"{text}: git archive failed: {run.stderr.decode(errors='replace').strip()}")
        archive = temp / "kb.tar"
        archive.write_bytes(run.stdout)
        with tarfile.open(archive) as tar:
            tar.extractall(temp / "tree", filter="data")
        archive.unlink()
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    root = temp / "tree" / sub
    if not root.is_dir():
        shutil.rmtree(temp, ignore_errors=True)
        raise UsageError(f"{text}: revision {rev} has no directory {sub}")
    return Side(text, root, temp=temp)


def _verified_commit(top: Path, spec: str, rev: str) -> str:
    """The commit id REV names, checked by `git rev-parse --verify --end-of-options`, so that a
    revision can never be read as an option (`git:--output=FILE` must not write FILE)."""
    if rev.startswith("-") or any(ch in rev for ch in "\0\n\r"):
        raise UsageError(f"{spec}: {rev!r} is not a revision name")
    run = subprocess.run(["git", "-C", str(top), "rev-parse", "--verify", "--quiet", "--end-of-options",
                          f"{rev}^{{commit}}"], capture_output=True, text=True, check=False)
    commit = run.stdout.strip()
    if run.returncode != 0 or not commit or not all(c in "0123456789abcdef" for c in commit):
        raise UsageError(f"{spec}: no commit {rev!r} in the repository at {top}")
    return commit


def _git_toplevel() -> Path:
    from engine.knowledge.base import bundled_kb

    for where in (Path.cwd(), bundled_kb().parent):
        run = subprocess.run(["git", "-C", str(where), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=False)
        if run.returncode == 0:
            return Path(run.stdout.strip())
    raise UsageError("git:REV needs a git repository (none found here or around the bundled kb)")


# -- static differences ----------------------------------------------------------------------
def kb_changes(base, head) -> dict[str, Any]:
    """Facts only one kb has (paired when they differ only in their last argument, as a
    threshold change does) and rules whose text differs, by rule id."""
    def facts(kb) -> dict[str, Any]:
        return {str(c.head): c for c in kb.program.clauses if c.is_fact}

    def rules(kb) -> dict[str, Any]:
        return {c.meta.id: c for c in kb.program.clauses if c.meta and not c.is_fact}

    fb, fh = facts(base), facts(head)
    gone = [k for k in fb if k not in fh]
    new = [k for k in fh if k not in fb]
    fact_changes = []
    for text in gone:
        head_atom = fb[text].head
        partner = next((n for n in new if fh[n].head.pred == head_atom.pred
                        and len(fh[n].head.args) == len(head_atom.args)
                        and fh[n].head.args[:-1] == head_atom.args[:-1]), None)
        if partner:
            new.remove(partner)
        fact_changes.append({"base": text, "head": partner, "location": _loc(fh[partner] if partner else fb[text])})
    fact_changes += [{"base": None, "head": n, "location": _loc(fh[n])} for n in new]
    rb, rh = rules(base), rules(head)
    rule_changes = []
    for rid in list(rb) + [r for r in rh if r not in rb]:
        a, b = rb.get(rid), rh.get(rid)
        if a is not None and b is not None and str(a) == str(b):
            continue
        change = "changed" if a is not None and b is not None else ("removed" if b is None else "added")
        rule_changes.append({"rule": rid, "change": change, "base": str(a) if a else None,
                             "head": str(b) if b else None, "location": _loc(b or a)})
    return {"facts": fact_changes, "rules": rule_changes}


def _loc(clause) -> str:
    return str(clause.loc) if clause is not None and clause.loc else ""


def fact_label(change: dict[str, Any]) -> str:
    if change["base"] and change["head"]:
        return f"{change['base']} -> {change['head']}"
    if change["base"]:
        return f"{change['base']} (base only)"
    return f"{change['head']} (head only)"


# -- evaluation ------------------------------------------------------------------------------
def evaluate_side(side: Side, paths: Sequence[Path], watch: set[str]) -> None:
    """Decide every case with this side's kb (in the calling thread)."""
    from engine.decide.outcomes import policy_determinations
    from engine.inputs import open_session

    side.labels = dict(side.kb.code_labels)
    for path in paths:
        key = str(path)
        try:
            session = open_session(side.base, path, policy=side.policy)
            side.results[key] = {"case_id": session.case_id,
                                 "records": policy_determinations(session, watch=watch)}
        except WarrantError as exc:
            side.results[key] = {"error": {"code": exc.code, "messages": exc.messages}}


def in_threads(jobs: list[tuple], name: str = "warrant-diff") -> None:
    """Run each `(func, *args)` in its own thread (each kb side compiles into its own pyDatalog
    state) and re-raise the first error in the caller."""
    errors: list[BaseException] = []

    def run(func, *args):
        try:
            func(*args)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job, name=f"{name}-{i}") for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def diff(base: Side, head: Side, paths: Sequence[Path]) -> dict[str, Any]:
    """Decide `paths` under both sides (one thread each) and collect the flips."""
    from engine.knowledge.base import KnowledgeBase
    from engine.decide.outcomes import same

    for side in (base, head):
        side.base = KnowledgeBase.load(side.root)
        side.kb = side.base.for_policy(side.base.policy_table.get(side.policy)) if side.policy else side.base
    changes = kb_changes(base.kb, head.kb)
    watch_base = {c["base"] for c in changes["facts"] if c["base"]}
    watch_head = {c["head"] for c in changes["facts"] if c["head"]}
    changed_rules = {c["rule"] for c in changes["rules"]}
    in_threads([(evaluate_side, base, paths, watch_base), (evaluate_side, head, paths, watch_head)])

    flips: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    stage_flips = 0
    flipped_cases: set[str] = set()
    for path in (str(p) for p in paths):
        a, b = base.results[path], head.results[path]
        if "error" in a or "error" in b:
            errors.append({"source": path, "base": a.get("error"), "head": b.get("error")})
            continue
        ra, rb = a["records"], b["records"]
        for key in list(ra) + [k for k in rb if k not in ra]:
            old, new = ra.get(key), rb.get(key)
            if same(old, new):
                continue
            record = old or new
            if record["kind"] == "stage":
                stage_flips += 1
                continue
            flipped_cases.add(path)
            old_rules, new_rules = (old or {}).get("rules", []), (new or {}).get("rules", [])
            facts = []
            for change in changes["facts"]:
                if (change["base"] and change["base"] in (old or {}).get("kb_facts", [])) or \
                        (change["head"] and change["head"] in (new or {}).get("kb_facts", [])):
                    facts.append(fact_label(change))
            proof_old, proof_new = (old or {}).get("proof_rules", []), (new or {}).get("proof_rules", [])
            proof_rules = set(proof_old) | set(proof_new)
            crit_old, crit_new = (old or {}).get("criterion_rules", []), (new or {}).get("criterion_rules", [])
            flips.append({
                "case": path, "case_id": a["case_id"], "key": key, "kind": record["kind"],
                "code": record["code"], "stage": record["stage"],
                "base": brief(old), "head": brief(new),
                "rules_base_only": [r for r in old_rules if r not in new_rules],
                "rules_head_only": [r for r in new_rules if r not in old_rules],
                "criterion_rules_base_only": [r for r in crit_old if r not in crit_new and r not in old_rules],
                "criterion_rules_head_only": [r for r in crit_new if r not in crit_old and r not in new_rules],
                "kb_facts": facts,
                "changed_rules": sorted(changed_rules & proof_rules),
            })
    _link_followers(flips)
    return {"base": base.info(), "head": head.info(), "kb_changes": changes, "cases": len(paths),
            "flipped_cases": len(flipped_cases), "flips": flips, "stage_flips": stage_flips,
            "by_code": _by_code(flips, {**base.labels, **head.labels}), "by_cause": _by_cause(flips), "errors": errors}


def _link_followers(flips: list[dict[str, Any]]) -> None:
    """A flip no kb change touches directly (an admission, a dependent add-on) follows the
    flips of its stage that a kb change does touch: name them."""
    direct: dict[tuple, list[str]] = {}
    for flip in flips:
        if flip["kb_facts"] or flip["changed_rules"]:
            direct.setdefault((flip["case"], flip["stage"]), []).append(flip["key"])
    for flip in flips:
        flip["follows"] = []
        if not (flip["kb_facts"] or flip["changed_rules"]):
            flip["follows"] = [k for k in direct.get((flip["case"], flip["stage"]), []) if k != flip["key"]]


def causes(flip: dict[str, Any]) -> list[str]:
    """What a flip is put down to, most specific first: kb facts, changed rules, reasons."""
    out = [f"fact {label}" for label in flip["kb_facts"]]
    out += [f"rule {r} (changed)" for r in flip["changed_rules"]]
    if flip.get("follows"):
        out.append("follows " + ", ".join(flip["follows"]) + " (same stage)")
    out += [f"rule {r} (base reasons only)" for r in flip["rules_base_only"]]
    out += [f"rule {r} (head reasons only)" for r in flip["rules_head_only"]]
    out += [f"rule {r} (base criteria only)" for r in flip.get("criterion_rules_base_only", [])]
    out += [f"rule {r} (head criteria only)" for r in flip.get("criterion_rules_head_only", [])]
    return out or ["no rule differs (compare the proofs with `warrant why`)"]


def _side_rules(flip: dict[str, Any], side: str) -> str:
    items = [f"{r} [reason]" for r in flip[f"rules_{side}_only"]] + list(flip.get(f"criterion_rules_{side}_only", []))
    return ", ".join(items) or "-"


def _by_code(flips: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for flip in flips:
        code = flip["code"]
        group = groups.setdefault(code, {"code": code, "label": labels.get(code, ""), "flips": 0,
                                         "transitions": {}})
        group["flips"] += 1
        move = f"{describe(flip['base'])} -> {describe(flip['head'])}"
        group["transitions"][move] = group["transitions"].get(move, 0) + 1
    return sorted(groups.values(), key=lambda g: (-g["flips"], g["code"]))


def _by_cause(flips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for flip in flips:
        for cause in causes(flip):
            if cause.startswith("follows "):
                cause = "follows a flipped line of its stage"
            group = groups.setdefault(cause, {"cause": cause, "flips": 0, "codes": {}})
            group["flips"] += 1
            group["codes"][flip["code"]] = group["codes"].get(flip["code"], 0) + 1
    def rank(cause: str) -> int:
        if cause.startswith("fact "):
            return 0
        if cause.endswith("(changed)"):
            return 1
        if cause.startswith("follows "):
            return 2
        if "reasons only" in cause:
            return 3
        return 4 if "criteria only" in cause else 5

    return sorted(groups.values(), key=lambda g: (rank(g["cause"]), -g["flips"], g["cause"]))


def cleanup(*sides: Side) -> None:
    for side in sides:
        if side.temp is not None:
            shutil.rmtree(side.temp, ignore_errors=True)


# -- rendering -------------------------------------------------------------------------------
def _where(flip: dict[str, Any]) -> str:
    return "admission" if flip["kind"] == "admission" else flip["key"]


def _kb_change_lines(result: dict[str, Any]) -> list[str]:
    changes = result["kb_changes"]
    out = []
    for change in changes["facts"]:
        out.append(f"fact  {fact_label(change)}" + (f"   ({change['location']})" if change["location"] else ""))
    for change in changes["rules"]:
        out.append(f"rule  {change['rule']} {change['change']}" +
                   (f"   ({change['location']})" if change["location"] else ""))
        if change["base"]:
            out.append(f"        base: {change['base']}")
        if change["head"]:
            out.append(f"        head: {change['head']}")
    return out or ["(no fact or rule differs)"]


def diff_text(result: dict[str, Any]) -> str:
    b, h = result["base"], result["head"]
    out = [f"base: {b['spec']}  (version {b['version']}, {b['digest'][:19]}...)",
           f"head: {h['spec']}  (version {h['version']}, {h['digest'][:19]}...)", "",
           "what differs between the knowledge bases:"]
    out += [f"  {line}" for line in _kb_change_lines(result)]
    flips = result["flips"]
    out += ["", f"{result['cases']} cases compared: {len(flips)} determinations flipped in "
                f"{result['flipped_cases']} cases"
            + (f" (and {result['stage_flips']} stage roll-ups with them)" if result["stage_flips"] else "")
            + (f"; {len(result['errors'])} cases could not be read" if result["errors"] else "")]
    if flips:
        out += ["", "flips by line code:"]
        for group in result["by_code"]:
            label = f" ({group['label']})" if group["label"] else ""
            out.append(f"  {group['code']}{label}: {group['flips']}")
            for move, n in group["transitions"].items():
                out.append(f"      {n} x {move}")
            for flip in (f for f in flips if f["code"] == group["code"]):
                out.append(f"    {flip['case']}  {_where(flip)}" + (f" (stage {flip['stage']})" if flip["kind"] == "admission" else ""))
                out.append(f"        {describe(flip['base'])} -> {describe(flip['head'])}")
                direct = [c for c in causes(flip) if not c.startswith("rule ") or c.endswith("(changed)")]
                if direct:
                    out.append(f"        because: {'; '.join(direct)}")
                out.append(f"        rules only in base: {_side_rules(flip, 'base')}")
                out.append(f"        rules only in head: {_side_rules(flip, 'head')}")
        out += ["", "flips by responsible change:"]
        for group in result["by_cause"]:
            codes = ", ".join(f"{c}: {n}" for c, n in sorted(group["codes"].items()))
            out.append(f"  {group['flips']:4d}  {group['cause']}   [{codes}]")
    for error in result["errors"]:
        out.append("")
        out.append(f"could not read {error['source']}:")
        for side in ("base", "head"):
            if error[side]:
                out += [f"  {side}: {m}" for m in error[side]["messages"]]
    return "\n".join(out) + "\n"


def diff_markdown(result: dict[str, Any]) -> str:
    b, h = result["base"], result["head"]
    flips = result["flips"]
    out = ["# Knowledge base diff", "",
           f"- base: `{b['spec']}` (version {b['version']}, `{b['digest'][:19]}...`)",
           f"- head: `{h['spec']}` (version {h['version']}, `{h['digest'][:19]}...`)",
           f"- {result['cases']} cases compared, {len(flips)} determinations flipped in {result['flipped_cases']} cases",
           "", "## What differs", ""]
    out += [f"- `{line.strip()}`" for line in _kb_change_lines(result) if line.strip()]
    if flips:
        out += ["", "## Flips by line code", "", "| code | label | flips | transitions |", "|---|---|---:|---|"]
        for group in result["by_code"]:
            moves = "<br>".join(f"{n} × {m}" for m, n in group["transitions"].items())
            out.append(f"| {group['code']} | {group['label']} | {group['flips']} | {moves} |")
        out += ["", "## Flips by responsible change", "", "| flips | change | codes |", "|---:|---|---|"]
        for group in result["by_cause"]:
            codes = ", ".join(f"{c}: {n}" for c, n in sorted(group["codes"].items()))
            out.append(f"| {group['flips']} | {group['cause']} | {codes} |")
        out += ["", "## Every flip", "", "| case | determination | base | head | because |", "|---|---|---|---|---|"]
        for flip in flips:
            out.append(f"| {flip['case']} | {_where(flip)} | {describe(flip['base'])} | {describe(flip['head'])} | "
                       f"{'; '.join(causes(flip))} |")
    if result["errors"]:
        out += ["", "## Cases that could not be read", ""]
        out += [f"- {e['source']}" for e in result["errors"]]
    return "\n".join(out) + "\n"
