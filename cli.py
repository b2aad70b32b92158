"""`warrant`: the command line. One click group; each command group lives in engine/cmd/.

Commands are registered by name and their module imported only when one of them runs (or help
lists them), so `warrant decide` does not import the service, FHIR or authoring code.
tests/test_commands.py checks the table against each module's COMMANDS.
"""
from __future__ import annotations

import importlib

import click

COMMAND_MODULES = {
    "decide": ("decide",),
    "report": ("report",),
    "explain": ("why", "why-not", "shell"),
    "graph": ("graph",),
    "kb": ("check", "rules", "query", "facts", "export", "schema"),
    "authoring": ("test", "what-if", "generate", "diff", "summarize", "compare"),
    "batch": ("batch",),
    "fhir": ("import",),
    "serve": ("serve", "replay"),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}


class _LazyGroup(click.Group):
    """A group whose commands come from engine/cmd modules imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_MODULE_OF) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _MODULE_OF:
            module = importlib.import_module(f"engine.cmd.{_MODULE_OF[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="warrant")
def main() -> None:
    """Warrant: medical-necessity determinations for spine surgery, with proofs.

    \b
    Exit codes: 0 ok, 1 unexpected failure, 2 usage, 3 invalid case or bundle,
    4 knowledge-base error, 5 rule tests failed, 6 renderer missing, 10 --fail-on-deny hit.
    """


if __name__ == "__main__":  # pragma: no cover
    main()
