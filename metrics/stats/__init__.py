"""Fair-comparison statistics: intervals, funnel limits, SPC and deciles (pure functions)."""

from metrics.stats.deciles import PERCENTILES, decile_bands, percentile_ranks
from metrics.stats.funnel import FunnelResult, funnel_means, funnel_proportions
from metrics.stats.intervals import mean_interval, wilson_interval, with_mean_ci, with_wilson
from metrics.stats.spc import SLICC_TARGETS, SpcResult, complete_months, xmr

__all__ = [
    "PERCENTILES", "SLICC_TARGETS", "FunnelResult", "SpcResult", "complete_months",
    "decile_bands", "funnel_means", "funnel_proportions", "mean_interval", "percentile_ranks",
    "wilson_interval", "with_mean_ci", "with_wilson", "xmr",
]
