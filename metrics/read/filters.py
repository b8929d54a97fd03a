"""The global filters: `Selection` (index, practice, PCN) and the window -> `Params`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metrics.params import Params


@dataclass(frozen=True)
class Selection:
    """The global filters that are not `Params`: which index, practice and PCN."""

    index: str = "slicc"
    practice: str | None = None
    pcn: str | None = None

    def describe(self) -> list[tuple[str, str]]:
        from metrics.methods import index

        d = index(self.index)
        return [("index", f"{d.name} ({d.full_name}; {d.summary})"),
                ("practice", self.practice or "none selected"),
                ("PCN", self.pcn or "none selected")]


WINDOW_LENGTHS = (1, 3, 6, 12, 24, 36)


def window_params(end_month: str, months: int, *, staff_group: str, modes: Sequence[str],
                  min_contacts: int, collapse_same_day: bool = True) -> Params:
    """Params for a window of `months` calendar months ending with `end_month` ('2026-10')."""
    from datetime import date

    from dateutil.relativedelta import relativedelta

    year, month = (int(part) for part in end_month.split("-"))
    first_of_end = date(year, month, 1)
    end = first_of_end + relativedelta(months=1) - relativedelta(days=1)
    start = first_of_end - relativedelta(months=months - 1)
    return Params(window_start=start, window_end=end, min_contacts=int(min_contacts),
                  staff_group=staff_group, modes=tuple(modes),
                  collapse_same_day=collapse_same_day)
