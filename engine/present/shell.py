"""`warrant shell`: an interactive prompt over one case — queries, why, why-not, facts, rules.

Built on the standard library's `cmd` (with readline history when available); it reads piped
input too, so sessions can be scripted and tested.
"""
from __future__ import annotations

import cmd
import os
import shlex
import sys
from typing import Any

from engine.errors import WarrantError

HISTORY = os.path.join(os.path.expanduser("~"), ".warrant_history")


class WarrantShell(cmd.Cmd):
    intro_text = ("Warrant shell for case {case}. Type a goal such as `?- line_verdict(L, V, B).`, "
                  "`why 22633 L4-5`, `why-not 22633 L4-5`, `decide`, `facts`, `rules`, `help` or `quit`.")

    def __init__(self, session, stdin=None, stdout=None, interactive: bool = True) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.session = session
        self.interactive = interactive
        self.prompt = "?- " if interactive else ""
        self.use_rawinput = interactive
        self.intro = self.intro_text.format(case=session.case_id) if interactive else None

    # -- plumbing -------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        from engine.guard.text import terminal_block

        text = terminal_block(text)
        self.stdout.write(text if text.endswith("\n") else text + "\n")

    def onecmd(self, line: str) -> bool:
        from engine.guard.text import excerpt, terminal

        try:
            return super().onecmd(line)
        except WarrantError as exc:
            for message in exc.messages:
                self._say(f"error: {terminal(message)}")
        except ValueError as exc:  # unbalanced quotes, a stage that is not a number
            self._say(f"error: {terminal(exc)}")
        except (RecursionError, MemoryError, TypeError, ArithmeticError) as exc:  # the shell survives
            self._say(f"error: this command could not be evaluated ({type(exc).__name__}: "
                      f"{excerpt(exc, 120, quote=False)})")
        return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> bool:
        text = line.strip()
        if text.startswith("%"):
            return False
        return self.do_query(text)

    # -- commands -------------------------------------------------------------------------
    def do_query(self, goal: str) -> bool:
        """query GOAL — answer a goal, e.g. `query criterion_met(L, C)` or just `?- criterion_met(L, C).`"""
        from engine.present.render import answers_text

        self._say(answers_text(self.session.ask(goal)))
        return False

    def _sides(self) -> set[str]:
        """The sides a line can carry: the lines' own, else the single sides of the case schema."""
        sides = {ln.side for ln in self.session.lines if ln.side}
        schema = self.session.kb.case_schema
        expansions = schema.side_expansion
        return sides | {s for covers in expansions.values() for s in covers}

    def _line(self, args: list[str]):
        from engine.decide.decision import find_line

        if not args:
            raise WarrantError("name a line: CODE [LEVEL|left|right] [stage N]", code="usage")
        code, level, side, stage = args[0], None, None, None
        rest = args[1:]
        while rest:
            word = rest.pop(0)
            if word == "stage" and rest:
                stage = int(rest.pop(0))
            elif word in self._sides():
                side = word
            elif not word.startswith("--"):
                level = word
        return find_line(self.session, code, level, side, stage)

    def do_why(self, arg: str) -> bool:
        """why CODE [LEVEL|SIDE] [stage N] [--ids] — the proof of that line's verdict"""
        from engine.decide.decision import LINE_VERDICT, line_verdict
        from engine.present.explanations import tree_text

        words = shlex.split(arg)
        ids = _flag(words, "--ids")
        line = self._line(words)
        tree = self.session.explainer.why(LINE_VERDICT, (line.id, *line_verdict(self.session, line)))
        self._say(tree_text(tree.to_dict(), None, ids))
        return False

    def do_why_not(self, arg: str) -> bool:
        """why-not CODE [LEVEL|SIDE] [stage N] [--verdict V] [--tree] [--ids] — why the line does not get
        verdict V (by default the kb's positive verdict), what stands in the way, what to document"""
        from engine.decide.decision import line_verdict
        from engine.decide.whynot import explain_absence
        from engine.present.explanations import why_not_text

        words = shlex.split(arg)
        ids, tree = _flag(words, "--ids"), _flag(words, "--tree")
        verdicts = self.session.kb.verdicts
        verdict = verdicts["positive"]
        if "--verdict" in words:
            i = words.index("--verdict")
            verdict = words[i + 1] if i + 1 < len(words) else ""
            del words[i:i + 2]
            if verdict not in verdicts.values():
                raise WarrantError(f"--verdict must be one of {', '.join(verdicts.values())}", code="usage")
        line = self._line(words)
        result = explain_absence(self.session, line, verdict, line_verdict(self.session, line), tree=tree)
        self._say(why_not_text(result, None, ids, tree))
        return False

    def do_decide(self, arg: str) -> bool:
        """decide — the determination table of the case"""
        from engine.decide.decision import decide
        from engine.present.render import decision_text

        self._say(decision_text(decide(self.session)))
        return False

    def do_facts(self, arg: str) -> bool:
        """facts [PREDICATE] — the case's base facts as Prolog"""
        from engine.present.prolog import export_facts

        facts = {k: v for k, v in self.session.facts.items() if not arg.strip() or k[0] == arg.strip()}
        self._say(export_facts(facts) or "% no facts")
        return False

    def do_rules(self, arg: str) -> bool:
        """rules [WORD] — rule ids, heads and sentences (filtered by WORD)"""
        word = arg.strip()
        for clause in self.session.kb.program.clauses:
            if clause.meta and (not word or word in clause.meta.id or word in clause.head.pred):
                self._say(f"{clause.meta.id}: {clause.head}\n    {clause.meta.says}")
        return False

    def do_quit(self, arg: str) -> bool:
        """quit — leave the shell (also `exit` or end of input)"""
        return True

    do_exit = do_quit

    def do_EOF(self, arg: str) -> bool:  # noqa: N802 - cmd's naming
        if self.interactive:
            self._say("")
        return True

    def precmd(self, line: str) -> str:
        stripped = line.strip()
        if stripped.startswith("?-"):  # `?` alone is cmd's help; `?-` starts a Prolog-style goal
            return "query " + stripped
        if stripped.startswith("why-not"):
            return "why_not" + stripped[len("why-not"):]
        return line


def _flag(words: list[str], name: str) -> bool:
    """Take a flag out of the words, saying whether it was there."""
    if name in words:
        words.remove(name)
        return True
    return False


def run_shell(session, stdin=None, stdout=None) -> None:
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    readline: Any = None
    if interactive:
        try:
            import readline  # noqa: F811 - history and line editing where available
            readline.read_history_file(HISTORY)
        except (ImportError, OSError):
            pass
    shell = WarrantShell(session, stdin=stdin, stdout=stdout or sys.stdout, interactive=interactive)
    try:
        shell.cmdloop()
    except KeyboardInterrupt:
        shell.stdout.write("\n")
    finally:
        if readline is not None:
            try:
                readline.write_history_file(HISTORY)
            except OSError:
                pass
