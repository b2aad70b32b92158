"""`warrant import fhir`: FHIR prior-authorization bundles as case files."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cmd.common import (
    echo,
    format_option,
    handles_errors,
    kb_option,
    load_kb,
    write_output,
)


def _fhir_warnings_to_stderr() -> None:
    """Show what a FHIR bundle could not map (engine.fhir logs it) on stderr, for every command
    that reads a bundle (decide, report, why, ...). The handler echoes at emit time, so a test
    runner that swaps stderr sees the lines too."""
    import logging

    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            echo(self.format(record), err=True)

    log = logging.getLogger("warrant.fhir")
    if not any(getattr(h, "_warrant_echo", False) for h in log.handlers):
        handler = Echo(logging.WARNING)
        handler._warrant_echo = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.propagate = False


_fhir_warnings_to_stderr()


@click.group("import", epilog="""\b
Examples:
  warrant import fhir request-bundle.json -o case.yaml""")
def import_group() -> None:
    """Turn requests from other systems into warrant-case/1 files."""


@import_group.command("fhir", epilog="""\b
Examples:
  warrant import fhir request-bundle.json -o case.yaml
  warrant import fhir request-bundle.json --format json
  warrant decide request-bundle.json --format fhir > response-bundle.json""")
@click.argument("bundle")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the case to this file instead of stdout (written whole or not at all).")
@format_option(["yaml", "json"], default="yaml")
@kb_option
@handles_errors
def import_fhir(bundle: str, output: Path | None, fmt: str, kb_dir: Path | None) -> None:
    """Convert a FHIR R4 prior-authorization Bundle (Da Vinci PAS) into a warrant-case/1 case.

    What cannot be mapped is listed on stderr as warnings naming the resource; a malformed
    bundle exits with code 3 naming the resource and element.
    """
    from engine.errors import CaseError, Finding, Location
    from engine.fhir.detect import sniff
    from engine.fhir.import_bundle import case_yaml, import_bundle, validate_case

    given = sniff("<stdin>", sys.stdin.read()) if bundle == "-" else sniff(bundle)
    if not given.is_fhir:
        message = ("is not a FHIR resource (JSON with a resourceType); `warrant import fhir` reads a "
                   "FHIR R4 Bundle")
        raise CaseError(f"{given.name}: {message}", findings=[Finding("invalid_bundle", message,
                                                                      Location(given.name))])
    kb = load_kb(kb_dir)
    imported = import_bundle(given.data or {}, given.name, given.text, kb=kb)
    validate_case(imported, kb)
    for warning in imported.warnings:
        echo(str(warning), err=True)
    if fmt == "json":
        from engine.guard.text import dumps

        text = dumps(imported.case, indent=2) + "\n"
    else:
        text = case_yaml(imported.case, source=given.name, case_format=kb.case_schema.case_format)
    write_output(output, text)


COMMANDS = [import_group]
