"""Which contacts count, and the window: every convention of docs/methods.md s.1.

A `Params` is shown next to every figure and written into every export (`describe()`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date

from dateutil.relativedelta import relativedelta

from metrics.schema import DEFAULT_MODES, GP_ROLES, MODES, STAFF_GROUPS

STAFF_GROUP_LABELS = {
    "gp": f"GP ({', '.join(GP_ROLES)})",
    "clinical": "clinical (every direct-patient-care role)",
    "all": "all roles",
}


class ParamsError(ValueError):
    """A parameter outside what the definitions allow."""


@dataclass(frozen=True)
class Params:
    window_start: date
    window_end: date  # inclusive
    min_contacts: int = 2
    staff_group: str = "gp"
    modes: tuple[str, ...] = field(default=DEFAULT_MODES)
    collapse_same_day: bool = True  # docs/methods.md s.1 default: collapsed

    def __post_init__(self) -> None:
        if self.window_end < self.window_start:
            raise ParamsError(
                f"window end {self.window_end} is before window start {self.window_start}"
            )
        if not isinstance(self.min_contacts, int) or self.min_contacts < 2:
            raise ParamsError("minimum contacts must be a whole number of at least 2")
        if self.staff_group not in STAFF_GROUPS:
            raise ParamsError(
                f"staff group must be one of {', '.join(STAFF_GROUPS)}, not {self.staff_group!r}"
            )
        if not self.modes:
            raise ParamsError("at least one mode must be counted")
        bad = [m for m in self.modes if m not in MODES]
        if bad:
            raise ParamsError(f"unknown mode(s) {', '.join(bad)}; known: {', '.join(MODES)}")
        # canonical order so equal selections hash equal (caching)
        object.__setattr__(self, "modes", tuple(m for m in MODES if m in self.modes))

    @classmethod
    def last_24_months(cls, last_date: date, **kwargs: object) -> Params:
        """The default window: the 24 calendar months ending with `last_date`'s month.

        Ends at the last complete month when `last_date` is not a month end, so a partial
        month never drags a figure down.
        """
        month_end = (last_date.replace(day=1) + relativedelta(months=1)) - relativedelta(days=1)
        if last_date != month_end:
            month_end = last_date.replace(day=1) - relativedelta(days=1)
        start = (month_end.replace(day=1)) - relativedelta(months=23)
        return cls(window_start=start, window_end=month_end, **kwargs)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Params:
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["window_start"] = self.window_start.isoformat()
        d["window_end"] = self.window_end.isoformat()
        d["modes"] = ",".join(self.modes)
        return d

    def describe(self) -> list[tuple[str, str]]:
        """Human-readable definition lines, for screens and export headers."""
        return [
            ("window", f"{self.window_start} to {self.window_end} (inclusive)"),
            ("contacts counted", "attended appointments with a recorded clinician"),
            ("staff group (UPC, COC, SECON, MMCI, HHI, KPC)", STAFF_GROUP_LABELS[self.staff_group]),
            ("staff group (SLICC, OPR)", STAFF_GROUP_LABELS["gp"]),
            ("modes", ", ".join(self.modes)),
            ("minimum contacts per patient", str(self.min_contacts)),
            (
                "same-day contacts with the same clinician",
                "collapsed into one" if self.collapse_same_day else "each counted",
            ),
        ]


def counted_modes(chosen: tuple[str, ...] | None, modes_recorded: bool) -> tuple[str, ...]:
    """The user's modes, else the default; a thin export that records no mode (every row
    `unknown`) would count nothing by default, so there `unknown` is counted as well."""
    if chosen is not None:
        return chosen
    return DEFAULT_MODES if modes_recorded else (*DEFAULT_MODES, "unknown")
