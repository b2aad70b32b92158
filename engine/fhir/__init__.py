"""FHIR R4 support: Da Vinci PAS-style prior-authorization bundles in, ClaimResponse bundles out.

- `detect.sniff(path)`: read an input once and tell whether it is FHIR JSON (stdlib only).
- `import_bundle.import_bundle(...)`: a Bundle (dict) → a case dict (the kb's case schema) plus
  warnings; one module per kind of resource (claim, patient, studies, observation, condition,
  procedure) over a shared `reader.Reader`, the targets checked against the schema (`targets`).
- `open_bundle(kb, fhir_input)`: import, validate through `load_case`, expand the lines; every
  error names the FHIR resource and element it came from.
- `respond.respond(decision, imported, lines)`: a decision → a response Bundle holding a
  ClaimResponse (PAS shape) and a Questionnaire of the missing documentation.

The FHIR model library (`fhir.resources`, R4B models) is an optional extra: it is imported only
here, on first use, and its absence is a clear exit-3 error naming `pip install 'warrant[fhir]'`.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.errors import CaseError, Finding, Location

if TYPE_CHECKING:
    from engine.fhir.detect import FhirInput
    from engine.fhir.import_bundle import Imported

INSTALL_HINT = "pip install 'warrant[fhir]'"
log = logging.getLogger("warrant.fhir")


def require_models(name: str = "<bundle>") -> Any:
    """The `fhir.resources.R4B` package, or a CaseError telling how to install it."""
    try:
        import fhir.resources.R4B as r4b
    except ImportError:
        message = (f"this input is a FHIR resource; reading FHIR needs the optional FHIR "
                   f"support: {INSTALL_HINT}")
        raise CaseError(f"{name}: {message}",
                        findings=[Finding("fhir_missing", message, Location(name))]) from None
    return r4b


def open_bundle(kb: Any, source: "FhirInput") -> tuple[Any, list, "Imported"]:
    """Import a bundle for a session: (validated Case, its Lines, the import record).

    Warnings (what could not be mapped) go to the `warrant.fhir` logger and stay on the
    import record; errors raise `CaseError` naming the resource and element.
    """
    from engine.fhir.import_bundle import import_bundle, validate_case

    imported = import_bundle(source.data or {}, source.name, source.text, kb=kb)
    case, lines = validate_case(imported, kb)
    for warning in imported.warnings:
        log.warning("%s", warning)
    return case, lines, imported


__all__ = ["INSTALL_HINT", "open_bundle", "require_models"]
