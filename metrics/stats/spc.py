"""XmR statistical process control, as in NHS England's "Making Data Count".

The reference implementation is NHS-R NHSRplotthedots (ptd_spc). For each segment (the series
is rebased at chosen months, each segment getting its own limits):

    centre  = mean of the values
    MR_t    = |x_t - x_{t-1}| for adjacent months;   mean MR excludes any MR >= 3.267 x the
              first mean MR (ptd's default screening of outlying moving ranges)
    limits  = centre +/- 2.66 x mean MR
    near    = beyond centre +/- (2/3) x 2.66 x mean MR (the outer third towards a limit)

Special-cause rules (each point can meet several):
    outside   a point above the upper or below the lower process limit
    shift     7 or more points in a row on the same side of the centre (a point on it breaks)
    trend     7 or more points in a row each strictly higher (or lower) than the one before
    two_of_three  2 of 3 points in a row near a limit (outside the inner two thirds but not
              beyond the limit), all 3 on the same side: the near points are flagged

Type (ptd after its PR #180): the first rule met in the order outside, trend, two_of_three,
shift decides the direction (side of the centre; for a trend, the way it runs); improvement if
that direction is the better one, concern otherwise; common when no rule is met.

Gaps: missing months stay missing (rows with a null value, never zero). A moving range is
only taken between adjacent months, so a gap removes the MRs on both sides of it. The run
rules read the observed points of a segment in order: a gap neither breaks nor counts in a run.

Icons: variation from the latest observed point (common cause, or special cause improvement /
concern, high or low); assurance, when a target is set, from the latest segment's limits: pass
when the whole band is on the good side of the target, fail when on the bad side, otherwise
inconsistent (hit and miss).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import polars as pl

Direction = Literal["higher", "lower"]
LIMIT = 2.66
NEAR = 2 * LIMIT / 3
MR_SCREEN = 3.267
RUN = 7
# Health and Social Care Committee, HC 113 (2022): SLICC above 50% good, above 75% excellent.
SLICC_TARGETS = {"good": 0.50, "excellent": 0.75}

RULE_TEXT = {
    ("outside", "high"): "above the upper process limit",
    ("outside", "low"): "below the lower process limit",
    ("trend", "high"): f"part of {RUN} or more points in a row each higher than the last",
    ("trend", "low"): f"part of {RUN} or more points in a row each lower than the last",
    ("two_of_three", "high"): "2 of 3 points in a row close to the upper limit",
    ("two_of_three", "low"): "2 of 3 points in a row close to the lower limit",
    ("shift", "high"): f"part of {RUN} or more points in a row above the centre line",
    ("shift", "low"): f"part of {RUN} or more points in a row below the centre line",
}
POINT_COLUMNS = (
    "period", "value", "segment", "segment_points", "centre", "mr", "lower", "upper",
    "near_lower", "near_upper", "outside", "trend", "two_of_three", "shift", "special",
    "signal", "type", "reason",
)
VARIATION_TEXT = {
    "common": "Common cause variation",
    "improvement": "Special cause variation: improvement",
    "concern": "Special cause variation: concern",
}
ASSURANCE_TEXT = {
    "pass": "Consistently passes the target",
    "fail": "Consistently fails the target",
    "inconsistent": "Hit and miss: may pass or fail the target",
}


@dataclass(frozen=True)
class SpcResult:
    """Points with limits, rule flags, type and reason; the icons for the latest point."""

    points: pl.DataFrame
    direction: Direction
    variation: Literal["common", "improvement", "concern"] | None
    variation_side: Literal["high", "low"] | None
    assurance: Literal["pass", "fail", "inconsistent"] | None
    target: float | None
    latest_period: date | None

    @property
    def variation_text(self) -> str:
        if self.variation is None:
            return "No data"
        side = f" ({self.variation_side})" if self.variation_side else ""
        return VARIATION_TEXT[self.variation] + side

    @property
    def assurance_text(self) -> str | None:
        return None if self.assurance is None else ASSURANCE_TEXT[self.assurance]


def complete_months(df: pl.DataFrame, period_col: str = "period") -> pl.DataFrame:
    """Every calendar month from the first to the last period; absent months get null values.

    Periods are truncated to month starts; two rows in one month are an error.
    """
    frame = df.with_columns(pl.col(period_col).cast(pl.Date).dt.truncate("1mo"))
    if frame[period_col].is_duplicated().any():
        raise ValueError(f"more than one row per month in {period_col!r}")
    if frame.height == 0:
        return frame
    months = pl.date_range(frame[period_col].min(), frame[period_col].max(), interval="1mo",
                           eager=True).alias(period_col)
    return months.to_frame().join(frame, on=period_col, how="left").sort(period_col)


def _runs(codes: np.ndarray, length: int) -> np.ndarray:
    """Mask of positions inside runs of >= `length` equal non-zero codes."""
    mask = np.zeros(len(codes), dtype=bool)
    start = 0
    for i in range(1, len(codes) + 1):
        if i == len(codes) or codes[i] != codes[start]:
            if codes[start] != 0 and i - start >= length:
                mask[start:i] = True
            start = i
    return mask


def _trend(x: np.ndarray) -> np.ndarray:
    """+1 / -1 for points in a strictly rising / falling run of RUN points, else 0."""
    out = np.zeros(len(x), dtype=int)
    if len(x) < 2:
        return out
    steps = np.sign(np.diff(x)).astype(int)
    in_run = _runs(steps, RUN - 1)
    for i in np.flatnonzero(in_run):  # step i joins points i and i + 1
        for j in (i, i + 1):
            if out[j] == 0:
                out[j] = steps[i]
    return out


def _two_of_three(side: np.ndarray, near: np.ndarray) -> np.ndarray:
    flag = np.zeros(len(side), dtype=bool)
    for i in range(len(side) - 2):
        window = slice(i, i + 3)
        if abs(side[window].sum()) == 3 and near[window].sum() >= 2:
            flag[window] |= near[window]
    return flag


def _segment(values: np.ndarray, screen_outliers: bool) -> dict[str, np.ndarray]:
    """Limits and rule flags for one segment (values may contain NaN for missing months)."""
    seen = np.isfinite(values)
    centre = float(values[seen].mean()) if seen.any() else np.nan
    mr = np.full(len(values), np.nan)
    mr[1:] = np.abs(np.diff(values))  # NaN next to a gap
    ranges = mr[np.isfinite(mr)]
    amr = float(ranges.mean()) if len(ranges) else np.nan
    if screen_outliers and len(ranges) and amr > 0:
        amr = float(ranges[ranges < MR_SCREEN * amr].mean())
    lower, upper = centre - LIMIT * amr, centre + LIMIT * amr
    x = values[seen]
    side = np.sign(x - centre).astype(int)
    with np.errstate(invalid="ignore"):
        outside = (x > upper) | (x < lower)
        near = ~outside & ((x > centre + NEAR * amr) | (x < centre - NEAR * amr))
    flags = {
        "outside": outside,
        "trend": _trend(x),
        "two_of_three": _two_of_three(side, near),
        "shift": _runs(side, RUN),
        "side": side,
    }
    out: dict[str, np.ndarray] = {}
    for name, arr in flags.items():
        full = np.zeros(len(values), dtype=arr.dtype)
        full[seen] = arr
        out[name] = full
    out.update(centre=np.full(len(values), centre), mr=mr,
               lower=np.full(len(values), lower), upper=np.full(len(values), upper),
               near_lower=np.full(len(values), centre - NEAR * amr),
               near_upper=np.full(len(values), centre + NEAR * amr),
               points=np.full(len(values), int(seen.sum())))
    return out


def _classify(row: dict, direction: Direction) -> tuple[str | None, str | None, str | None]:
    """(type, signal side, reason) for one point."""
    if row["value"] is None:
        return None, None, None
    met = []
    if row["outside"]:
        met.append(("outside", "high" if row["side"] > 0 else "low"))
    if row["trend"] != 0:
        met.append(("trend", "high" if row["trend"] > 0 else "low"))
    if row["two_of_three"]:
        met.append(("two_of_three", "high" if row["side"] > 0 else "low"))
    if row["shift"]:
        met.append(("shift", "high" if row["side"] > 0 else "low"))
    if not met:
        if row["lower"] is None:
            return "common", None, "No process limits yet: too few adjacent months"
        return "common", None, "Common cause variation: inside the limits, no run or trend"
    side = met[0][1]
    kind = "improvement" if (side == "high") == (direction == "higher") else "concern"
    reasons = "; ".join(RULE_TEXT[m] for m in met)
    return kind, side, f"Special cause {kind}: {reasons}"


def xmr(df: pl.DataFrame, period_col: str = "period", value_col: str = "value", *,
        direction: Direction = "higher", rebase_at: Sequence[date] = (),
        target: float | None = None, screen_outliers: bool = True) -> SpcResult:
    """XmR chart data for a monthly series; see the module docstring for the rules.

    Returns one row per calendar month (gaps filled with null values) with columns period,
    value, segment, centre, mr, lower, upper, near_lower, near_upper, segment_points,
    outside, shift, trend (+1 / -1 / 0), two_of_three, special, signal ("high" / "low"),
    type ("improvement" / "concern" / "common", null for a missing month) and reason,
    followed by the input's other columns (e.g. numerator and denominator for hover text).
    """
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    extras = [c for c in df.columns
              if c not in (period_col, value_col) and c not in POINT_COLUMNS]
    series = complete_months(df.select(pl.col(period_col).alias("period"),
                                       pl.col(value_col).cast(pl.Float64).alias("value"),
                                       *extras))
    starts = sorted({date(d.year, d.month, 1) for d in rebase_at})
    segment = np.searchsorted(np.array(starts, dtype="datetime64[D]"),
                              series["period"].to_numpy().astype("datetime64[D]"),
                              side="right")
    values = series["value"].fill_null(float("nan")).to_numpy()
    columns: dict[str, list] = {}
    for seg in np.unique(segment):
        part = _segment(values[segment == seg], screen_outliers)
        for name, arr in part.items():
            columns.setdefault(name, []).append(arr)
    frame = series.with_columns(pl.Series("segment", segment, dtype=pl.Int32))
    for name, parts in columns.items():
        arr = np.concatenate(parts) if parts else np.array([])
        if arr.dtype.kind == "f":
            frame = frame.with_columns(pl.Series(name, arr, dtype=pl.Float64).fill_nan(None))
        elif arr.dtype.kind == "b":
            frame = frame.with_columns(pl.Series(name, arr, dtype=pl.Boolean))
        else:
            frame = frame.with_columns(pl.Series(name, arr, dtype=pl.Int32))
    frame = frame.rename({"points": "segment_points"})
    classified = [_classify(r, direction) for r in frame.iter_rows(named=True)]
    frame = frame.with_columns(
        pl.Series("signal", [c[1] for c in classified], dtype=pl.Utf8),
        pl.Series("type", [c[0] for c in classified], dtype=pl.Utf8),
        pl.Series("reason", [c[2] for c in classified], dtype=pl.Utf8),
    ).with_columns(
        special=pl.col("type").is_in(["improvement", "concern"]).fill_null(False),
    ).select(*POINT_COLUMNS, *extras).rename({"period": period_col, "value": value_col})
    return _result(frame, period_col, direction, target)


def _result(points: pl.DataFrame, period_col: str, direction: Direction,
            target: float | None) -> SpcResult:
    observed = points.filter(pl.col("type").is_not_null())
    if observed.height == 0:
        return SpcResult(points, direction, None, None, None, target, None)
    last = observed.row(-1, named=True)
    variation = last["type"]
    assurance = None
    if target is not None and last["lower"] is not None:
        above, below = last["lower"] > target, last["upper"] < target
        passes, fails = (above, below) if direction == "higher" else (below, above)
        assurance = "pass" if passes else "fail" if fails else "inconsistent"
    return SpcResult(points, direction, variation, last["signal"], assurance, target,
                     last[period_col])
