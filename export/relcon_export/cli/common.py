"""What every relcon-export entry point shares: run a parsed subcommand, turning errors a user can fix into one
line on stderr and exit status 2.

Errors a user can fix are raised as ValueError / FileNotFoundError / NotADirectoryError / KeyError anywhere in the
package (BlobError is a ValueError); run() prints "relcon-export <subcommand>: error: <message>".
"""

from __future__ import annotations

import argparse
import sys

from relcon_export import __version__

USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError, KeyError)


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parses argv with `parser` (whose subcommands set `func`) and runs the subcommand; returns the exit code."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        msg = exc.args[0] if exc.args else str(exc)
        print(f"relcon-export {args.command}: error: {msg}", file=sys.stderr)
        return 2


def subcommand_parser(description: str) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The top-level `relcon-export` parser and its (required) subcommand group."""
    parser = argparse.ArgumentParser(prog="relcon-export", description=description)
    parser.add_argument("--version", action="version", version=f"relcon-export {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<subcommand>")
    sub.required = True
    return parser, sub
