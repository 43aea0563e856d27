"""The `relcon-export` command line (main.COMMANDS): one module per group of subcommands."""
