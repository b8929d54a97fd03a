"""What every command shares: the one-line errors, the parser that gives them, the progress
bar, and the indices' parameters from the options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from metrics.params import Params, counted_modes
from metrics.pipeline import engine

PATIENT_LEVEL = ("these files are patient-level (patient ids, clinician names): for the "
                 "analyst's own secure environment, not to be shared (`export` writes shareable "
                 "files)")


class UsageError(Exception):
    """A problem with what the user asked for (one line, shown as is)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option gives one line on stderr and exit 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def progress_bar(enabled: bool) -> Callable[[str, float], None] | None:
    """A tqdm progress callback taking (label, fraction), or None when quiet."""
    if not enabled:
        return None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", leave=False, file=sys.stderr,
               bar_format="{desc:<40} {bar} {percentage:3.0f}%")

    def update(label: str, fraction: float) -> None:
        bar.set_description_str(label[:40])
        bar.n = round(100 * max(0.0, min(1.0, fraction)))
        bar.refresh()
        if fraction >= 1.0:
            bar.clear()

    return update


def params_from(args: argparse.Namespace, backend: engine.Backend, modes_recorded: bool = True
                ) -> Params:
    options = {"min_contacts": args.min_contacts, "staff_group": args.staff,
               "modes": counted_modes(args.modes, modes_recorded),
               "collapse_same_day": args.collapse_same_day}
    if args.start and args.end:
        return Params(args.start, args.end, **options)  # type: ignore[arg-type]
    default = engine.default_params(backend, **options)
    return default.with_(window_start=args.start or default.window_start,
                         window_end=args.end or default.window_end)
