"""The `batchops` subcommands: one module each, registered by `batchops.cli`.

Each module exposes `register(subparsers)`, which adds its parser and sets `handler` to a
function taking the parsed arguments and returning the exit code.
"""
