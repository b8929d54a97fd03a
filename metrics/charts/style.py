"""Shared look of every chart: a colour-blind-safe palette with shapes as well as colours.

Okabe & Ito (2008) "Color Universal Design" palette; every series also differs by marker
symbol (and line dash or bar pattern), so nothing depends on colour alone. SPC colours follow
Making Data Count: blue for improvement, orange for concern, grey for common cause.
"""

from __future__ import annotations

import plotly.graph_objects as go

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
# Series order: strongest contrast first; yellow last (weak on white).
SERIES_COLOURS = tuple(OKABE_ITO[k] for k in (
    "blue", "vermillion", "bluish_green", "reddish_purple", "orange", "sky_blue", "black",
    "yellow"))
SERIES_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "triangle-down", "x",
                  "star")
SERIES_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
BAR_PATTERNS = ("", "/", ".", "x", "\\", "-", "|", "+")

SPC_STYLE = {  # type -> (colour, symbol)
    "common": ("#7F7F7F", "circle"),
    "improvement": (OKABE_ITO["blue"], "diamond"),
    "concern": (OKABE_ITO["orange"], "square"),
}
FUNNEL_STYLE = {  # point class -> (colour, symbol)
    "within": ("#7F7F7F", "circle"),
    "outside95": (OKABE_ITO["sky_blue"], "diamond"),
    "outside998": (OKABE_ITO["vermillion"], "square"),
    "selected": (OKABE_ITO["black"], "star"),
}
SELECTED_COLOUR, SELECTED_SYMBOL = FUNNEL_STYLE["selected"]
FONT = "Arial, Helvetica, sans-serif"


def series_style(i: int) -> dict[str, str]:
    """Colour, marker symbol and dash for the i-th series (cycling)."""
    return {"color": SERIES_COLOURS[i % len(SERIES_COLOURS)],
            "symbol": SERIES_SYMBOLS[i % len(SERIES_SYMBOLS)],
            "dash": SERIES_DASHES[i % len(SERIES_DASHES)]}


def value_format(percent: bool, decimals: int | None = None) -> str:
    """d3 format for values: percentages for proportions, plain decimals for means."""
    if percent:
        return f".{1 if decimals is None else decimals}%"
    return f".{3 if decimals is None else decimals}f"


def apply_layout(fig: go.Figure, title: str, subtitle: str | None = None, *,
                 x_title: str | None = None, y_title: str | None = None,
                 percent_y: bool = False, percent_x: bool = False,
                 height: int = 480) -> go.Figure:
    """Title and subtitle (naming index, window, staff group, mean vs pooled), axes, fonts."""
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle or ""}, "x": 0.0,
               "xanchor": "left", "font": {"size": 18}},
        font={"family": FONT, "size": 14, "color": "#222222"},
        template="plotly_white",
        height=height,
        margin={"t": 90 if subtitle else 70, "l": 70, "r": 30, "b": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2 if x_title else -0.1,
                "xanchor": "left", "x": 0, "traceorder": "normal"},
        hoverlabel={"font": {"family": FONT, "size": 13}},
    )
    fig.update_xaxes(title_text=x_title, showline=True, linecolor="#444444")
    fig.update_yaxes(title_text=y_title, showline=True, linecolor="#444444")
    if percent_y:  # up to one decimal, trailing zeros dropped: 30%, 30.5% (no repeated 30%)
        fig.update_yaxes(tickformat=".1~%")
    if percent_x:
        fig.update_xaxes(tickformat=".1~%")
    return fig


def empty_figure(title: str, message: str = "No data for this selection") -> go.Figure:
    """A titled figure saying there is nothing to draw (never an empty axis box alone)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5,
                       y=0.5, font={"size": 16}, name="empty")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_layout(fig, title)
