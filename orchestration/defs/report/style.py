"""The report's look: matplotlib style, colours, and the figure and PNG helpers."""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
TIER_COLORS = {1: "#E6A100", 2: "#D55E00", 3: "#8E1B1B"}
COMPLETER_COLORS = {"completer": "#0072B2", "non_completer": "#999999"}
SUPPRESSED_COLOR = "#d9d9d9"
STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "font.size": 9,
    # Titles and labels hold names from the extracts: a `$` in a department is a dollar sign,
    # never the start of a TeX formula (which would fail to draw).
    "text.parse_math": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}
# Modest resolution keeps a chart near 30-80 KB, so a mart's metadata stays small.
DPI = 96


def styled(draw):
    """Draw under the report's style (matplotlib reads rcParams as each artist is made)."""
    return matplotlib.rc_context(STYLE)(draw)


def _figure(width: float, height: float) -> Figure:
    # Figure on an Agg canvas, not pyplot: no global figure registry, no GUI backend loaded.
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    # Charts are a few flat colours plus anti-aliasing: a 256-colour palette looks the same and
    # is about a third of the size.
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colors=256)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return small.getvalue()
