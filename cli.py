"""`warrant`: the command line. One click group; each command group lives in engine/cmd/."""
from __future__ import annotations

import click

from engine.cmd import authoring, batch, decide, explain, fhir, graph, kb, report, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="warrant")
def main() -> None:
    """Warrant: medical-necessity determinations for spine surgery, with proofs.

    \b
    Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 invalid case or bundle,
    4 knowledge-base error, 5 rule tests failed, 6 renderer missing, 10 --fail-on-deny hit.
    """


for _module in (decide, report, explain, graph, kb, authoring, batch, fhir, serve):
    for _command in _module.COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
