"""Command-line interface (`python -m metrics`): see metrics/cli/commands.py."""

from metrics.cli.commands import PATIENT_LEVEL, UsageError, build_parser, main

__all__ = ["PATIENT_LEVEL", "UsageError", "build_parser", "main"]
