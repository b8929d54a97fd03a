"""Command-line interface: sample, ingest, compute, export.

Every failure a user can cause ends with a non-zero exit and one line on stderr, never a
traceback (pass --debug to see one).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence

import duckdb

from metrics.cli import gpad as cli_gpad
from metrics.cli.base import UsageError, progress_bar
from metrics.cli.commands import cmd_compute, cmd_export, cmd_ingest, cmd_sample, cmd_undo
from metrics.cli.parser import build_parser
from metrics.params import ParamsError
from metrics.pipeline import engine

COMMANDS = {"sample": cmd_sample, "ingest": cmd_ingest, "compute": cmd_compute,
            "export": cmd_export, "ingest-gpad": cli_gpad.cmd_ingest_gpad, "undo": cmd_undo}


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is meant for the user."""
    errors: list[type[BaseException]] = [UsageError, ParamsError, engine.EngineError,
                                         OSError, duckdb.Error]
    for module, name in (("metrics.ingest", "IngestError"), ("metrics.store", "StoreError")):
        with contextlib.suppress(ImportError, AttributeError):
            errors.append(getattr(__import__(module, fromlist=[name]), name))
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad option (2, one line already printed)
        return done.code if isinstance(done.code, int) else 0
    progress = progress_bar(not args.quiet and sys.stderr.isatty())
    try:
        return COMMANDS[args.command](args, progress)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            message = f"{exc.filename}: {exc.strerror.lower()}"  # not "[Errno 17] ..."
        if not isinstance(exc, user_errors()):
            message = f"unexpected failure ({type(exc).__name__}: {message}); rerun with --debug"
        print(f"error: {message}", file=sys.stderr)
        return 2 if isinstance(exc, user_errors()) else 1
