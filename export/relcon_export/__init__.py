"""relcon_export: train, evaluate and export RelCon motion encoders for the relcon runtime.

Run `relcon-export --help` (or `python -m relcon_export --help`) for the subcommands.
"""

__version__ = "0.4.1"
