"""`python -m metrics ingest-gpad FILES --db DB`: load NHS England GPAD practice-level files.

A module of its own so the national-context import can grow without touching the extract CLI;
metrics.cli.parser registers it. Errors are one line (a GpadError becomes the CLI's UsageError).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from metrics.store import DB_HELP, default_db


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `ingest-gpad` subcommand on the CLI's subparsers."""
    p = sub.add_parser(
        "ingest-gpad", help="load NHS England GPAD practice-level files (national context)",
        description="Load NHS England 'Appointments in General Practice' practice-level files "
                    "(Practice_Level_Crosstab_<Mon>_<YY>.csv, or the region split "
                    "Practice_Level_Crosstab_<Region>_<Mon>_<YY>.csv) into the database, for "
                    "the National context page. Practice-months already there are replaced; a "
                    "file given twice or a practice-month in two files is counted once.")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE",
                   help="one or more Practice_Level_Crosstab CSV files")
    p.add_argument("--db", type=Path, default=default_db(), metavar="FILE",
                   help=f"{DB_HELP}, to add them to")


def cmd_ingest_gpad(args: argparse.Namespace, progress: object = None) -> int:
    """Read, check and load; print one line per file and every note."""
    from metrics.cli.base import UsageError
    from metrics.gpad.files import GpadError, read_gpad
    from metrics.gpad.load import load_gpad

    try:
        result = read_gpad(list(args.files))
    except GpadError as exc:
        raise UsageError(str(exc)) from None
    for line in result.lines():
        print(line)
    path = load_gpad(result, args.db)
    print(f"database written: {path} ({result.frame.height:,} GPAD rows loaded)")
    return 0
