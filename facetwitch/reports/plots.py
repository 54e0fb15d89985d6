"""Draw the report figures.

Report figures (matplotlib, no pyplot state): direction rose, amplitude/duration (the
timeline is :mod:`facetwitch.reports.timeline`).

Each ``plot_*`` function draws into the axes it is given (so the PDF can place vector plots on
its pages) or, without axes, into a new :class:`matplotlib.figure.Figure` it returns. Nothing
here reads files or decides anything: the numbers come from the report.json dict.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..conventions import (
    DIRECTION_WORDS,
    circular_mean_deg,
    counted,
    counted_twitches,
    directions_varied,
)
from .glyphs import pdf_line
from .words import fmt_deg, region_label

#: Colours by event kind (colour-blind safe: vermilion, grey, blue).
KIND_COLORS = {"twitch": "#c8401e", "blink": "#8a8f98", "movement": "#2f6db5"}
INK = "#1d2330"
#: Over this many twitches, "each twitch" is drawn as lines (one collection) instead of bars.
MANY_TWITCHES = 80
GRID = "#d9dde3"

#: Matplotlib settings of every report figure (applied with ``matplotlib.rc_context``).
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": "#9aa1ab",
    "axes.labelcolor": INK,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.titlelocation": "left",
    "xtick.color": "#4a5160",
    "ytick.color": "#4a5160",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # TrueType: text in the PDF stays searchable / extractable
    "svg.fonttype": "none",
    "figure.dpi": 100,
    # the patient's words and file names are drawn as they are: "$400 and $250" is not
    # mathematics, and "$$" must not end the run in a ParseException
    "text.usetex": False,
    "text.parse_math": False,
}


def _row_label(region: str, side: str) -> str:
    # a hand-edited report.json may name a region in any script: never an empty box
    return pdf_line(f"{region_label(region)} · {side}")


#: Points from the rose's foot to the top of the caption under it: below the two lines of the
#: "270° / down" tick label (7.5 pt, 1 pt from the circle) with a gap.
ROSE_CAPTION_PT = 24


def plot_rose(report: dict, ax=None) -> Figure:
    """Plot the directions of the counted twitches on a polar histogram.

    Directions of the counted twitches on a polar histogram (16 sectors), mean direction as an
    arrow (none when the directions scatter, :func:`~facetwitch.conventions.directions_varied`:
    it would point where no twitch went).

    Drawn as seen facing the patient: 0° (the patient's left) to the right, 90° (up) at the top.
    """
    fig = ax.figure if ax is not None else Figure(figsize=(3.4, 3.4))
    if ax is None:
        ax = fig.add_subplot(111, projection="polar")
    ax.set_theta_zero_location("E")
    ax.set_theta_direction(1)
    tw = [
        e
        for e in report.get("events", [])
        if counted(e) and e.get("kind") == "twitch" and e.get("direction_deg") is not None
    ]
    deg = np.array([float(e["direction_deg"]) for e in tw])
    amp = np.array([float(e.get("amplitude_mm") or 0.0) for e in tw])
    edges = np.radians(np.arange(-11.25, 360, 22.5))
    counts = np.zeros(16)
    if deg.size:
        counts = np.bincount(
            np.floor(((deg + 11.25) % 360) / 22.5).astype(int) % 16, minlength=16
        ).astype(float)
    ax.bar(
        edges[:-1] + np.radians(11.25),
        counts,
        width=np.radians(22.5) * 0.92,
        color=KIND_COLORS["twitch"],
        alpha=0.7,
        lw=0,
    )
    top = max(1.0, counts.max())
    ax.set_ylim(0, top * 1.15)
    mean = (report.get("summary") or {}).get("mean_direction_deg")
    if mean is None and deg.size:  # a report written before the summary held it
        mean = circular_mean_deg(deg, amp if amp.sum() > 0 else None)
    # no mean arrow for directions that scatter: it would point where no twitch went
    if mean is not None and np.isfinite(mean) and not directions_varied(deg, mean):
        ax.annotate(
            "",
            xy=(np.radians(mean), top * 1.05),
            xytext=(0, 0),
            arrowprops={"arrowstyle": "-|>", "color": INK, "lw": 1.4},
        )
    ax.set_xticks(
        np.radians(np.arange(0, 360, 45)),
        ["0°\nleft", "", "90°\nup", "", "180°\nright", "", "270°\ndown", ""],
    )
    ax.tick_params(axis="x", pad=1, labelsize=7.5)
    ax.set_yticks(np.arange(1, top + 1, max(1, int(top // 3))))
    ax.tick_params(axis="y", labelsize=6.5, colors="#8a8f98")
    ax.grid(color=GRID, lw=0.6)
    ax.spines["polar"].set_color("#b8bec7")
    ax.set_title("Twitch directions", pad=18)
    # under the "270° down" tick label by a fixed distance, whatever the axes' size: as a
    # fraction of the axes (-0.13) it had touched "down" on the PDF's smaller rose
    ax.annotate(
        "left/right = the patient's own; drawn as seen\nfacing the patient "
        "(0° = patient's left, 90° = up)",
        xy=(0.5, 0.0),
        xycoords="axes fraction",
        xytext=(0, -ROSE_CAPTION_PT),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=6.8,
        color="#5a6170",
    )
    if not tw:
        ax.text(
            0.5,
            0.5,
            "no twitches",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#6a7180",
        )
    return fig


_PALETTE = ["#c8401e", "#e69f00", "#0072b2", "#009e73", "#cc79a7", "#56b4e9"]


def plot_event_sizes(report: dict, axes=None) -> Figure:
    """Draw the amplitude (mm) and duration (s) of the counted twitches, coloured by region.

    Each twitch as a bar, by event number; over :data:`MANY_TWITCHES` (a long recording),
    the distribution of each instead (histograms stacked by region).

    Parameters
    ----------
    report : dict
        A loaded report.json dict.
    axes : pair of matplotlib Axes, optional
        Where to draw amplitude and duration (a new figure when None).

    Returns
    -------
    Figure
    """
    if axes is None:
        fig = Figure(figsize=(4.2, 3.4))
        axes = fig.subplots(2, 1)
    tw = sorted(counted_twitches(report.get("events")), key=lambda e: e["t_peak_s"])
    keys = list(dict.fromkeys((e["region"], e["side"]) for e in tw))
    if not tw:
        axes[0].text(0.5, 0.5, "no twitches", transform=axes[0].transAxes, ha="center",
                     color="#6a7180")  # fmt: skip
        for ax in axes:
            ax.set_ylim(0, 1)
            ax.set_yticks([])
    elif len(tw) <= MANY_TWITCHES:
        _sizes_each(axes, tw, keys)
    else:
        _sizes_spread(axes, tw, keys)
    for ax in axes:
        ax.grid(axis="y", color=GRID, lw=0.6)
        ax.set_axisbelow(True)
    if keys:
        rows = int(np.ceil(len(keys) / 3))
        axes[0].legend(
            handles=[Patch(color=_PALETTE[i % len(_PALETTE)], label=_row_label(*k))
                     for i, k in enumerate(keys)],
            fontsize=6.8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
            ncol=min(3, len(keys)), borderaxespad=0.2, handlelength=1.0,
        )  # fmt: skip
        title = "Each counted twitch" if len(tw) <= MANY_TWITCHES else "Counted twitches"
        axes[0].set_title(title, pad=8 + 11 * rows)
    return axes[0].figure


def _sizes_each(axes, tw: list[dict], keys: list) -> None:
    """Each twitch as a bar, by event number."""
    axes[1].sharex(axes[0])
    colors = [_PALETTE[keys.index((e["region"], e["side"])) % len(_PALETTE)] for e in tw]
    x = np.arange(len(tw))
    for ax, field, label in ((axes[0], "amplitude_mm", "size (mm)"),
                             (axes[1], "duration_s", "duration (s)")):  # fmt: skip
        ax.bar(x, [float(e.get(field) or 0.0) for e in tw], color=colors, width=0.7, lw=0)
        ax.set_ylabel(label)
    axes[1].set_xlim(-0.6, max(len(tw), 8) - 0.4)  # one twitch is a bar, not a wall
    step = max(1, int(np.ceil(len(tw) / 14)))
    axes[1].set_xticks(x[::step], [f"#{e['id']}" for e in tw][::step], fontsize=6.5)
    if step > 1:
        axes[1].set_xticks(x, minor=True)
    axes[0].tick_params(labelbottom=False)
    axes[1].set_xlabel("event number", fontsize=7)


def _sizes_spread(axes, tw: list[dict], keys: list) -> None:
    """How the sizes and durations of many twitches spread: histograms stacked by region."""
    for ax, field, label in ((axes[0], "amplitude_mm", "size (mm)"),
                             (axes[1], "duration_s", "duration (s)")):  # fmt: skip
        groups = [[float(e.get(field) or 0.0) for e in tw if (e["region"], e["side"]) == k]
                  for k in keys]  # fmt: skip
        ax.hist(groups, bins=24, stacked=True, lw=0,
                color=[_PALETTE[i % len(_PALETTE)] for i in range(len(keys))])  # fmt: skip
        ax.set_xlabel(label, fontsize=7, labelpad=1)
        ax.set_ylabel("twitches", fontsize=7)


def figure_to_data_uri(fig: Figure, *, dpi: int = 150, fmt: str = "png") -> str:
    """``data:image/png;base64,...`` of ``fig`` (for the self-contained HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.06)
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def direction_legend() -> str:
    """Return the one-line reading aid of the direction numbers.

    The one-line reading aid of the direction numbers.
    """
    return (
        f"Directions: {fmt_deg(0)} = toward the patient's left, {fmt_deg(90)} = up, "
        f"{fmt_deg(180)} = toward the patient's right ({', '.join(DIRECTION_WORDS)})."
    )
