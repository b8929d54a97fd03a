"""Command-line interface (`python -m metrics`), lowest first: base (errors, progress, the
indices' parameters), gpad (ingest-gpad), parser (every command's options), commands (sample,
ingest, undo, compute, export) and run (main: a command, and one line for any failure)."""

from metrics.cli.base import PATIENT_LEVEL, UsageError
from metrics.cli.parser import build_parser
from metrics.cli.run import main

__all__ = ["PATIENT_LEVEL", "UsageError", "build_parser", "main"]
