"""`warrant report`: the determination letter a physician reviewer signs (Markdown, HTML, PDF)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import click

from engine.cmd.common import format_option, handles_errors, kb_option, load_kb, open_case, policy_options, write_output

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A calendar date as YYYY-MM-DD (checked, so the letter and the PDF's dates agree)."""
    import datetime as dt

    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date written YYYY-MM-DD") from None
    return value


def decided_default() -> str | None:
    """The decision date when neither `--decided` nor `--as-of` is given: SOURCE_DATE_EPOCH (the
    reproducible-builds convention) if set, else none: the letter then takes the day its
    decision chose the policy version by (the case's dates, or the day the decision is made,
    as POLICIES.md §4 has it), so the same case, policy and date give the same bytes."""
    import datetime as dt

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date().isoformat()


@click.command(epilog="""\b
Examples:
  warrant report kb/examples/reference-case.yaml
  warrant report case.yaml --format html -o determination.html
  warrant report case.yaml --format pdf -o letter.pdf --reviewer "Dr A. Reviewer" \\
      --received 2026-11-20 --decided 2026-12-02""")
@click.argument("case")
@format_option(["markdown", "html", "pdf"], default="markdown")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout (written whole or not at all); required for pdf.")
@click.option("--reviewer", default=None, help="The physician reviewer's name (else a line is left for a signature).")
@click.option("--received", default=None, callback=_date, metavar="YYYY-MM-DD",
              help="Date the request was received (default: the case's received date, or a FHIR "
                   "bundle's Claim.created).")
@click.option("--decided", default=None, callback=_date, metavar="YYYY-MM-DD",
              help="Date of the decision (default: --as-of, else SOURCE_DATE_EPOCH if set, else the "
                   "day the decision chose its policy version by); also the PDF's creation date.")
@policy_options
@kb_option
@handles_errors
def report(case: str, fmt: str, output: Path | None, reviewer: str | None, received: str | None,
           decided: str | None, policy: str | None, as_of: str | None, kb_dir: Path | None) -> None:
    """Write the determination letter: verdicts per procedure group, reasons with citations,
    rationale, documentation required, recommended approach, appeal rights, audit trail."""
    from engine.errors import UsageError
    from engine.present.letter import LetterOptions
    from engine.present.report import render_report

    if fmt == "pdf":
        if output is None:
            raise UsageError("--format pdf writes a binary file: give it with -o FILE")
        from engine.present.pdf import find_renderer

        find_renderer()  # exit 6 before any work when no renderer is installed
    kb = load_kb(kb_dir)
    options = LetterOptions(reviewer=reviewer, received=received, decided=decided or as_of or decided_default())
    write_output(output, render_report(open_case(kb, case, policy, as_of), fmt, options))


COMMANDS = [report]
