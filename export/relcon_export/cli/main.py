"""The `relcon-export` command line: one entry point, a static table of subcommands.

    relcon-export --help
    relcon-export <subcommand> --help
    python -m relcon_export <subcommand> ...          # the same (torchrun -m relcon_export pretrain ...)

COMMANDS lists every subcommand with the module whose `register(subparsers)` adds it (and sets `func`, a callable
taking the parsed args and returning an exit code), in --help order; build_parser checks that the modules add
exactly these. Errors a user can fix are raised as `ValueError`/`FileNotFoundError`; main() prints them as one
line on stderr and exits with status 2 (relcon_export.cli.common.run).
"""

from __future__ import annotations

import argparse

from relcon_export.cli import blob, evaluate, heads, recording, ship, train
from relcon_export.cli.common import run, subcommand_parser

# (subcommands, the module that registers them), in --help order.
COMMANDS = (
    (("export", "onnx", "inspect", "golden", "bad-blobs", "parity"), blob),
    (("heads", "heads-fixture"), heads),
    (("ship",), ship),
    (("recording",), recording),
    (("evaluate",), evaluate),
    (("data", "distance", "pretrain", "pack", "bench-pretrain", "gpu-run"), train),
)


def build_parser() -> argparse.ArgumentParser:
    parser, sub = subcommand_parser(__doc__.splitlines()[0])
    for names, module in COMMANDS:
        before = set(sub.choices)
        module.register(sub)
        added = [n for n in sub.choices if n not in before]
        if sorted(added) != sorted(names):
            raise RuntimeError(f"{module.__name__} registers {added}, the table says {list(names)}")
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser(), argv)
