"""The `relcon-export` command line: one entry point, one subcommand per module.

    relcon-export --help
    relcon-export <subcommand> --help

Each module listed in COMMAND_MODULES provides `register(subparsers)`, which adds its subcommand(s) and sets
`func` (a callable taking the parsed args and returning an exit code). Errors a user can fix are raised as
`ValueError`/`FileNotFoundError`; main() prints them as one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that register subcommands, in --help order.
COMMAND_MODULES = [
    "relcon_export.blob_cli",
    "relcon_export.heads",
    "relcon_export.ship",
    "relcon_export.recording_cli",
    "relcon_export.evaluate",
    "relcon_export.train_cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relcon-export", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="<subcommand>")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, NotADirectoryError, KeyError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        print(f"relcon-export {args.command}: error: {msg}", file=sys.stderr)
        return 2
