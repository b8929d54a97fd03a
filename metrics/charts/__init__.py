"""Plotly chart builders: pure functions from polars frames or stats results to go.Figure.

Every builder takes an explicit title and subtitle (the page names the index, window, staff
group and mean vs pooled there) and every hover shows n. No I/O, no Streamlit.
"""

from metrics.charts.compare import interval_chart
from metrics.charts.deciles import decile_chart
from metrics.charts.funnel import funnel_chart
from metrics.charts.mix import mix_chart, mix_shares
from metrics.charts.scatter import size_scatter
from metrics.charts.spc import spc_chart
from metrics.charts.style import apply_layout, empty_figure
from metrics.charts.trend import line_chart

__all__ = [
    "apply_layout", "decile_chart", "empty_figure", "funnel_chart", "interval_chart",
    "line_chart", "mix_chart", "mix_shares", "size_scatter", "spc_chart",
]
