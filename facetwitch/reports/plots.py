"""Report figures (matplotlib, no pyplot state): timeline, direction rose, amplitude/duration.

Each ``plot_*`` function draws into the axes it is given (so the PDF can place vector plots on
its pages) or, without axes, into a new :class:`matplotlib.figure.Figure` it returns. Nothing
here reads files or decides anything: the numbers come from the report.json dict.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..conventions import DIRECTION_WORDS, circular_mean_deg
from .text import fmt_deg, region_label

#: Colours by event kind (colour-blind safe: vermilion, grey, blue).
KIND_COLORS = {"twitch": "#c8401e", "blink": "#8a8f98", "movement": "#2f6db5"}
INK = "#1d2330"
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
}


def _row_label(region: str, side: str) -> str:
    return f"{region_label(region)} · {side}"


def _timeline_rows(report: dict) -> list[tuple[str, str]]:
    keys = []
    for e in report.get("events", []):
        key = (e.get("region", ""), e.get("side", ""))
        if key not in keys:
            keys.append(key)

    # twitch rows first (most events first), then the rest
    def score(k):
        n_tw = sum(
            1 for e in report["events"] if (e["region"], e["side"]) == k and e["kind"] == "twitch"
        )
        return (-n_tw, k)

    return sorted(keys, key=score)


def plot_timeline(report: dict, ax=None) -> Figure:
    """Events over time, one row per region x side; patient markers as dashed lines.

    Twitches are drawn as bars from ``t_start_s`` to ``t_end_s`` with a dot at the peak whose
    size grows with ``amplitude_mm``; blinks and voluntary movements in their own colours.
    """
    rows = _timeline_rows(report)
    fig = ax.figure if ax is not None else Figure(figsize=(7.2, max(1.6, 0.9 + 0.24 * len(rows))))
    if ax is None:
        ax = fig.add_subplot(111)
    duration = float(report["input"].get("duration_s") or 0.0)
    for y, key in enumerate(rows):
        ax.axhline(y, color=GRID, lw=0.6, zorder=0)
        for kind in {e["kind"] for e in report["events"]}:
            ev = [
                e for e in report["events"] if (e["region"], e["side"]) == key and e["kind"] == kind
            ]
            if not ev:
                continue
            color = KIND_COLORS.get(kind, INK)
            t0 = np.array([float(e["t_start_s"]) for e in ev])
            t1 = np.array([float(e["t_end_s"]) for e in ev])
            ax.barh(
                np.full(len(ev), y),
                np.maximum(t1 - t0, duration / 600),
                left=t0,
                height=0.5,
                color=color,
                alpha=0.35 if kind != "twitch" else 0.55,
                lw=0,
            )
            amp = np.array([float(e.get("amplitude_mm") or 0.0) for e in ev])
            size = 10 + 14 * np.minimum(amp, 4.0) if kind == "twitch" else np.full(len(ev), 8.0)
            ax.scatter(
                [e["t_peak_s"] for e in ev],
                np.full(len(ev), y),
                s=size,
                color=color,
                zorder=3,
                lw=0,
            )
    markers = [m.get("t_s") for m in report.get("markers") or [] if m.get("t_s") is not None]
    for t in markers:
        ax.axvline(float(t), color="#6b3fa0", lw=0.9, ls=(0, (3, 2)), zorder=1)
    ax.set_yticks(range(len(rows)), [_row_label(*k) for k in rows])
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlim(0, duration if duration > 0 else 1)
    ax.set_xlabel("time in the video (s)")
    ax.set_title("Events over time")
    ax.tick_params(axis="y", length=0, labelsize=8 if len(rows) < 10 else 7)
    kinds = [k for k in KIND_COLORS if any(e["kind"] == k for e in report["events"])]
    handles = [Patch(color=KIND_COLORS[k], label=k) for k in kinds]
    if markers:
        handles.append(Line2D([0], [0], color="#6b3fa0", ls=(0, (3, 2)), label="your marker"))
    if handles:
        ax.legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=len(handles),
            frameon=False,
            fontsize=7.5,
            borderaxespad=0.2,
            handlelength=1.2,
        )
    if not rows:
        ax.text(
            0.5, 0.5, "no events", transform=ax.transAxes, ha="center", va="center", color="#6a7180"
        )
        ax.set_yticks([])
    return fig


def plot_rose(report: dict, ax=None) -> Figure:
    """Directions of the twitches on a polar histogram (16 sectors), mean direction as an arrow.

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
        if e.get("kind") == "twitch" and e.get("direction_deg") is not None
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
    if mean is not None and np.isfinite(mean):
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
    ax.text(
        0.5,
        -0.13,
        "left/right = the patient's own; drawn as seen\nfacing the patient "
        "(0° = patient's left, 90° = up)",
        transform=ax.transAxes,
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


def plot_event_sizes(report: dict, axes=None) -> Figure:
    """Amplitude (mm) and duration (s) of each twitch, by event number, coloured by region."""
    if axes is None:
        fig = Figure(figsize=(4.2, 3.4))
        axes = fig.subplots(2, 1, sharex=True)
    fig = axes[0].figure
    tw = sorted(
        (e for e in report.get("events", []) if e.get("kind") == "twitch"),
        key=lambda e: e["t_peak_s"],
    )
    keys = []
    for e in tw:
        if (e["region"], e["side"]) not in keys:
            keys.append((e["region"], e["side"]))
    palette = ["#c8401e", "#e69f00", "#0072b2", "#009e73", "#cc79a7", "#56b4e9"]
    colors = [palette[keys.index((e["region"], e["side"])) % len(palette)] for e in tw]
    x = np.arange(len(tw))
    labels = [f"#{e['id']}" for e in tw]
    for ax, field, label in (
        (axes[0], "amplitude_mm", "size (mm)"),
        (axes[1], "duration_s", "duration (s)"),
    ):
        vals = [float(e.get(field) or 0.0) for e in tw]
        ax.bar(x, vals, color=colors, width=0.7, lw=0)
        ax.set_ylabel(label)
        ax.grid(axis="y", color=GRID, lw=0.6)
        ax.set_axisbelow(True)
    step = max(1, int(np.ceil(len(tw) / 14)))
    axes[1].set_xticks(x[::step], labels[::step], fontsize=6.5)
    if step > 1:
        axes[1].set_xticks(x, minor=True)
    axes[1].set_xlabel("event number", fontsize=7)
    if keys:
        axes[0].legend(
            handles=[
                Patch(color=palette[i % len(palette)], label=_row_label(*k))
                for i, k in enumerate(keys)
            ],
            fontsize=6.8,
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=min(3, len(keys)),
            borderaxespad=0.2,
            handlelength=1.0,
        )
        axes[0].set_title("Each twitch", pad=16)
    if not tw:
        axes[0].text(
            0.5, 0.5, "no twitches", transform=axes[0].transAxes, ha="center", color="#6a7180"
        )
        for ax in axes:
            ax.set_ylim(0, 1)
            ax.set_yticks([])
    return fig


def figure_to_data_uri(fig: Figure, *, dpi: int = 150, fmt: str = "png") -> str:
    """``data:image/png;base64,...`` of ``fig`` (for the self-contained HTML)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.06)
    mime = {"png": "image/png", "svg": "image/svg+xml"}[fmt]
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def direction_legend() -> str:
    """The one-line reading aid of the direction numbers."""
    return (
        f"Directions: {fmt_deg(0)} = toward the patient's left, {fmt_deg(90)} = up, "
        f"{fmt_deg(180)} = toward the patient's right ({', '.join(DIRECTION_WORDS)})."
    )
