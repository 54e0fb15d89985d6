"""The timeline of a report: events, time that could not be assessed, gaps and the markers.

Two drawings, both from report.json only:

- **continuous** (:func:`plot_timeline` over a few minutes at most): each event as a bar from
  start to end with a dot at its peak, one row per region and side; events that were not
  counted (their peak fell in time that could not be assessed) drawn hollow; above them one
  lane per cause of ``BAD_`` time (talking, head movement, ...), the same stretches shaded grey
  behind the events; gaps in the video hatched; each patient marker as a line coloured by its
  verdict.
- **binned** (longer recordings): counts per time bin (a cell per bin, its count written in
  it), each cause's lane filled to the share of the bin it took, the bins' share of ``BAD_``
  time shaded behind the counts. At 60 minutes that is one bin a minute.

The HTML shows a long recording as the binned overview plus continuous panels of a few
minutes each (:func:`timeline_segments`); the PDF shows the binned overview.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator
from matplotlib.transforms import ScaledTranslation

from ..conventions import counted as _counted
from .glyphs import pdf_line
from .plots import GRID, INK, KIND_COLORS
from .words import bad_label, region_label

#: Over this many seconds the timeline is drawn binned (continuous below).
BINNED_ABOVE_S = 180.0
#: Bin widths (seconds) to choose from: the smallest that gives at most :data:`MAX_BINS` bins.
BIN_WIDTHS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_BINS = 40
#: Panel lengths (seconds) of the HTML's continuous panels of a long recording: the smallest
#: that gives at most :data:`MAX_PANELS` panels.
PANEL_LENGTHS_S = (60, 120, 300, 600, 900, 1200, 1800, 3600)
MAX_PANELS = 12

#: Colours of the causes of time that cannot be assessed (colour-blind safe, apart from the
#: event kinds'); other ``BAD_`` descriptions get :data:`BAD_OTHER_COLOR`.
BAD_COLORS = {
    "BAD_talking": "#e69f00",
    "BAD_expression": "#cc79a7",
    "BAD_head_motion": "#56b4e9",
    "BAD_noisy": "#a08c5b",
    "BAD_occlusion": "#7f6a93",
    "BAD_frozen": "#009e73",
    "BAD_out_of_frame": "#882255",
    "BAD_face_lost": "#555b66",
}
BAD_OTHER_COLOR = "#9a8f80"
#: Colours of the patient's markers by verdict (no verdict: a schema-1 report).
MARKER_COLORS = {
    "twitch_measured": "#1e6b35",
    "none_measured": "#4a5160",
    "not_assessable": "#b35c00",
    "": "#6b3fa0",
}
MARKER_LABELS = {
    "twitch_measured": "your marker: twitch measured",
    "none_measured": "your marker: nothing measured",
    "not_assessable": "your marker: not assessable",
    "": "your marker",
}
BAD_SHADE = "#e3e5e9"


# -- what is drawn ------------------------------------------------------------------------------
def recording_span(report: dict) -> tuple[float, float]:
    """``(0, duration_s)`` of the recording (at least up to its last event, marker or span).

    Markers after the recording's end (``after_end``) are left out.
    """
    ends = [float(report["input"].get("duration_s") or 0.0)]
    ends += [float(e.get("t_end_s") or 0.0) for e in report.get("events", [])]
    ends += [float(a["onset_s"]) + float(a["duration_s"]) for a in report.get("annotations") or []]
    # a marker after the recording's end is said in words; it does not stretch the timeline
    # (a mistyped 400 s on an 8 s video, or 1e308, which no axis can draw)
    ends += [float(m.get("t_s") or 0.0) for m in report.get("markers") or []
             if not m.get("after_end")]  # fmt: skip
    return 0.0, max(max(ends), 1e-3)


def bad_causes(report: dict) -> list[str]:
    """Return the ``BAD_`` descriptions with spans in lane order.

    The ``BAD_`` descriptions with spans, in the order the lanes are drawn (most time
    first).
    """
    seconds: dict[str, float] = {}
    for a in report.get("annotations") or []:
        d = str(a.get("description", ""))
        if d.startswith("BAD"):
            seconds[d] = seconds.get(d, 0.0) + float(a["duration_s"])
    return sorted(seconds, key=lambda d: (-seconds[d], d))


def _spans(report: dict, description: str | None = None) -> np.ndarray:
    """(n, 2) start and end (s) of the ``BAD_`` spans (of one description, or all)."""
    out = [(float(a["onset_s"]), float(a["onset_s"]) + float(a["duration_s"]))
           for a in report.get("annotations") or []
           if str(a.get("description", "")).startswith("BAD")
           and (description is None or a["description"] == description)]  # fmt: skip
    return np.array(out, float).reshape(-1, 2)


def _union(spans: np.ndarray) -> np.ndarray:
    """Overlapping spans merged (sorted)."""
    out: list[list[float]] = []
    for a, b in spans[np.argsort(spans[:, 0])] if len(spans) else []:
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.array(out, float).reshape(-1, 2)


def _clipped(spans: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Return the spans that reach into [t0, t1], cut to it.

    The spans that reach into [t0, t1], cut to it.
    """
    keep = spans[(spans[:, 1] >= t0) & (spans[:, 0] <= t1)]
    return np.column_stack([np.maximum(keep[:, 0], t0), np.minimum(keep[:, 1], t1)])


def _gaps(report: dict) -> np.ndarray:
    gaps = (report.get("quality") or {}).get("gaps_s") or []
    out = [(float(a), float(b)) for a, b in gaps if a is not None and b is not None]
    return np.array(out, float).reshape(-1, 2)


def _in_window(report: dict, t0: float, t1: float) -> list[dict]:
    return [e for e in report.get("events", []) if e["t_end_s"] >= t0 and e["t_start_s"] <= t1]


def _event_rows(events: list[dict]) -> list[tuple[str, str]]:
    """(region, side) rows: those with twitches first (most first), then the rest."""
    n_tw: dict[tuple[str, str], int] = {}
    for e in events:
        key = (e.get("region", ""), e.get("side", ""))
        n_tw[key] = n_tw.get(key, 0) + (e.get("kind") == "twitch")
    return sorted(n_tw, key=lambda k: (-n_tw[k], k))


#: Inches a row of the timeline is given, and the least it may be squeezed to on a page (its
#: names are set at 7-8 pt).
ROW_PITCH_IN = 0.22
ROW_PITCH_MIN_IN = 0.13


def _compact_rows(events: list[dict]) -> list[tuple[str, str]]:
    """Return the rows of the compact timeline.

    Each region and side with twitches, then one row each for the blinks and for the other
    movements of every region (``("", kind)``).
    """
    rows = _event_rows([e for e in events if e.get("kind") == "twitch"])
    kinds = {e.get("kind") for e in events}
    return rows + [key for key in _KIND_ROWS if key[1] in kinds]


def _compact_row_events(events: list[dict], key: tuple[str, str]) -> list[dict]:
    """Return the events of one compact row: a region and side's twitches, or one kind's."""
    if key[0] == "":
        return [e for e in events if e.get("kind") == key[1]]
    return [
        e
        for e in events
        if e.get("kind") == "twitch" and (e.get("region", ""), e.get("side", "")) == key
    ]


def timeline_rows(report: dict, *, binned: bool | None = None, compact: bool = False) -> int:
    """Return how many rows (region and side; kinds when binned) the timeline draws."""
    t0, t1 = recording_span(report)
    if binned is None:
        binned = t1 - t0 > BINNED_ABOVE_S
    events = report.get("events", [])
    rows = _binned_rows(report) if binned else \
        (_compact_rows(events) if compact else _event_rows(events))  # fmt: skip
    return max(1, len(rows))


def timeline_height_in(report: dict, *, binned: bool | None = None, compact: bool = False) -> float:
    """Height (inches) the timeline of ``report`` needs for its rows and lanes."""
    return (1.0 + ROW_PITCH_IN * timeline_rows(report, binned=binned, compact=compact)
            + 0.17 * len(bad_causes(report)))  # fmt: skip


def timeline_segments(report: dict) -> list[tuple[float, float]]:
    """Return the panels the HTML shows a long recording in.

    ``(t0, t1)`` of the continuous panels the HTML shows a long recording in ([] when the
    recording is short enough for one continuous timeline).
    """
    t0, t1 = recording_span(report)
    if t1 - t0 <= BINNED_ABOVE_S:
        return []
    length = _step(t1 - t0, PANEL_LENGTHS_S, MAX_PANELS + 0.5)
    edges = list(np.arange(t0, t1, length)) + [t1]
    if len(edges) > 2 and edges[-1] - edges[-2] < length / 4:
        del edges[-2]  # a few seconds past the hour go with the last panel
    return [(float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


# -- drawing ------------------------------------------------------------------------------------
def plot_timeline(
    report: dict,
    ax=None,
    *,
    window: tuple[float, float] | None = None,
    binned: bool | None = None,
    compact: bool = False,
) -> Figure:
    """Draw the timeline of ``report`` (continuous, or binned over a long recording).

    Parameters
    ----------
    report : dict
        A loaded report.json dict.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when None).
    window : (float, float), optional
        Seconds from the first frame to draw (default: the whole recording).
    binned : bool, optional
        Counts per time bin instead of each event (default: when the window is longer than
        :data:`BINNED_ABOVE_S`).
    compact : bool
        Drawn continuous, a row for each region and side with twitches only, and one for the
        blinks and one for the other movements of every region (what a page has room for when
        many regions moved).

    Returns
    -------
    Figure
    """
    t0, t1 = window if window is not None else recording_span(report)
    if binned is None:
        binned = t1 - t0 > BINNED_ABOVE_S
    if ax is None:
        fig = Figure(figsize=(7.2, timeline_height_in(report, binned=binned, compact=compact)))
        ax = fig.add_subplot(111)
    causes = bad_causes(report)
    if binned:
        n_rows = _draw_binned(ax, report, t0, t1, causes)
    else:
        n_rows = _draw_events(ax, report, t0, t1, causes, compact=compact)
    _draw_gaps(ax, report, t0, t1, n_rows, len(causes))
    verdicts = _draw_markers(ax, report, t0, t1, len(causes), lines=not binned)
    _axes_finish(ax, report, t0, t1, n_rows, causes, binned, compact=compact)
    _legend(ax, report, t0, t1, verdicts, binned)
    return ax.figure


def _lane_y(i: int) -> float:
    """Return the y of the i-th cause lane.

    y of the i-th cause lane (above the event rows, which start at 0).
    """
    return -1.0 - 0.75 * i


def _draw_bad_lanes(ax, report: dict, t0: float, t1: float, causes: list[str]) -> None:
    """One lane per cause, its spans as bars; all of them shaded grey behind the rows."""
    for i, d in enumerate(causes):
        spans = _clipped(_spans(report, d), t0, t1)
        if len(spans):  # one collection, however many spans
            ax.broken_barh(list(zip(spans[:, 0], spans[:, 1] - spans[:, 0], strict=True)),
                           (_lane_y(i) - 0.25, 0.5), color=BAD_COLORS.get(d, BAD_OTHER_COLOR),
                           lw=0)  # fmt: skip


def _draw_events(
    ax, report: dict, t0: float, t1: float, causes: list[str], *, compact: bool = False
) -> int:
    """Draw each event in the window as a bar and a dot.

    Each event in the window as a bar (start to end) and a dot at its peak; returns the
    number of rows.
    """
    events = _in_window(report, t0, t1)
    rows = _compact_rows(events) if compact else _event_rows(events)
    shade = _clipped(_union(_spans(report)), t0, t1)
    if len(shade):  # behind the rows and lanes, one collection
        ax.broken_barh(list(zip(shade[:, 0], shade[:, 1] - shade[:, 0], strict=True)),
                       (_lane_y(len(causes)), len(rows) + 1 - _lane_y(len(causes))),
                       color=BAD_SHADE, lw=0, zorder=0)  # fmt: skip
    _draw_bad_lanes(ax, report, t0, t1, causes)
    width = (t1 - t0) / 600
    for y, key in enumerate(rows):
        ax.axhline(y, color=GRID, lw=0.6, zorder=0.5)
        mine = _compact_row_events(events, key) if compact else \
            [e for e in events if (e.get("region", ""), e.get("side", "")) == key]  # fmt: skip
        for kind in sorted({e["kind"] for e in mine}):
            for counted in (True, False):
                ev = [e for e in mine if e["kind"] == kind and _counted(e) == counted]
                if ev:
                    _draw_kind(ax, ev, y, kind, counted, width)
    return len(rows)


def _draw_kind(ax, ev: list[dict], y: float, kind: str, counted: bool, width: float) -> None:
    color = KIND_COLORS.get(kind, INK)
    t_start = np.array([float(e["t_start_s"]) for e in ev])
    t_end = np.array([float(e["t_end_s"]) for e in ev])
    alpha = (0.55 if kind == "twitch" else 0.35) * (1.0 if counted else 0.45)
    ax.broken_barh(list(zip(t_start, np.maximum(t_end - t_start, width), strict=True)),
                   (y - 0.25, 0.5), color=color, alpha=alpha, lw=0, zorder=2)  # fmt: skip
    amp = np.array([float(e.get("amplitude_mm") or 0.0) for e in ev])
    size = 10 + 14 * np.minimum(amp, 4.0) if kind == "twitch" else np.full(len(ev), 8.0)
    peaks = [float(e["t_peak_s"]) for e in ev]
    if counted:
        ax.scatter(peaks, np.full(len(ev), y), s=size, color=color, zorder=3, lw=0)
    else:  # not counted: hollow
        ax.scatter(peaks, np.full(len(ev), y), s=size, facecolors="white", edgecolors=color,
                   zorder=3, lw=0.9)  # fmt: skip


def _bins(t0: float, t1: float) -> np.ndarray:
    """Return the bin edges of the binned timeline.

    Bin edges (s): the smallest width of :data:`BIN_WIDTHS_S` giving at most
    :data:`MAX_BINS` bins.
    """
    # (a recording a few seconds over the hour still gets minute bins)
    width = _step(t1 - t0, BIN_WIDTHS_S, MAX_BINS + 1)
    return np.arange(t0, t1 + width * 0.999, width)


def _step(span_s: float, choices: tuple, most: float) -> float:
    """Return the smallest step of ``choices`` that cuts ``span_s`` finely enough.

    The smallest of ``choices`` (s) that cuts ``span_s`` into at most ``most`` pieces; past
    the largest, whole multiples of it (a track whose times jump by years is still cut into a
    few pieces, not billions).
    """
    step = next((c for c in choices if span_s / c <= most), None)
    if step is None:
        step = choices[-1] * np.ceil(span_s / most / choices[-1])
    return float(step)


def _overlap(spans: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Seconds of each bin covered by ``spans`` (which must not overlap each other)."""
    a, b = edges[:-1, None], edges[1:, None]
    if not len(spans):
        return np.zeros(len(edges) - 1)
    inter = np.minimum(b, spans[None, :, 1]) - np.maximum(a, spans[None, :, 0])
    return np.clip(inter, 0, None).sum(axis=1)


def _binned_rows(report: dict) -> list[tuple[str, object]]:
    """Return the rows of the binned timeline.

    Rows of the binned timeline: ``("twitch", (region, side))`` for each region and side
    with counted twitches, then not counted twitches, blinks and other movements.
    """
    events = report.get("events", [])
    twitches = [e for e in events if e.get("kind") == "twitch" and _counted(e)]
    rows: list[tuple[str, object]] = [("twitch", k) for k in _event_rows(twitches)]
    if any(e.get("kind") == "twitch" and not _counted(e) for e in events):
        rows.append(("uncounted", None))
    for kind in ("blink", "movement"):
        if any(e.get("kind") == kind and _counted(e) for e in events):
            rows.append((kind, None))
    return rows


def _row_events(report: dict, row: tuple[str, object]) -> list[dict]:
    kind, key = row
    events = report.get("events", [])
    if kind == "twitch":
        return [e for e in events if e.get("kind") == "twitch" and _counted(e)
                and (e.get("region", ""), e.get("side", "")) == key]  # fmt: skip
    if kind == "uncounted":
        return [e for e in events if e.get("kind") == "twitch" and not _counted(e)]
    return [e for e in events if e.get("kind") == kind and _counted(e)]


#: The compact timeline's rows of one kind, and their names.
_KIND_ROWS = {("", "blink"): "blinks", ("", "movement"): "other movements (all regions)"}


def _row_label(row: tuple[str, object]) -> str:
    kind, key = row
    if kind == "twitch":
        return pdf_line(f"{region_label(key[0])} · {key[1]}")
    return {"uncounted": "twitches not counted", "blink": "blinks",
            "movement": "other movements"}[kind]  # fmt: skip


def _draw_binned(ax, report: dict, t0: float, t1: float, causes: list[str]) -> int:
    """Draw the counts per bin and the share of each cause.

    Counts per bin, a cell per bin and row with its count; each cause's lane filled to its
    share of the bin; returns the number of rows.
    """
    edges = _bins(t0, t1)
    width = edges[1] - edges[0]
    bad = _overlap(_union(_spans(report)), edges) / width
    for x, share in zip(edges[:-1], bad, strict=True):
        if share > 0:
            ax.add_patch(Rectangle((x, -0.5), width, 1e3, color=BAD_SHADE, alpha=min(1.0, share),
                                   lw=0, zorder=0))  # fmt: skip
    for i, d in enumerate(causes):  # a heat strip: the darker, the more of the bin
        share = _overlap(_union(_spans(report, d)), edges) / width
        for x, sh in zip(edges[:-1], share, strict=True):
            if sh > 0:
                ax.add_patch(Rectangle((x, _lane_y(i) - 0.25), width, 0.5, lw=0,
                                       color=BAD_COLORS.get(d, BAD_OTHER_COLOR),
                                       alpha=0.15 + 0.85 * min(1.0, sh)))  # fmt: skip
    rows = _binned_rows(report)
    for y, row in enumerate(rows):
        ax.axhline(y, color=GRID, lw=0.6, zorder=0.5)
        peaks = [float(e["t_peak_s"]) for e in _row_events(report, row)]
        counts, _ = np.histogram(peaks, bins=edges)
        _draw_counts(ax, edges, counts, y, row[0], len(edges) - 1)
    return len(rows)


def _draw_counts(ax, edges: np.ndarray, counts: np.ndarray, y: float, kind: str, n_bins: int):
    width = edges[1] - edges[0]
    color = KIND_COLORS.get("twitch" if kind == "uncounted" else kind, INK)
    top = max(1, int(counts.max()))
    for x, n in zip(edges[:-1], counts, strict=True):
        if n == 0:
            continue
        alpha = 0.25 + 0.6 * n / top
        if kind == "uncounted":
            ax.add_patch(Rectangle((x + 0.04 * width, y - 0.3), 0.92 * width, 0.6, fill=False,
                                   ec=color, lw=0.8, zorder=2))  # fmt: skip
        else:
            ax.add_patch(Rectangle((x + 0.04 * width, y - 0.3), 0.92 * width, 0.6, color=color,
                                   alpha=alpha, lw=0, zorder=2))  # fmt: skip
        if n_bins <= MAX_BINS + 1:
            ax.text(x + width / 2, y, str(int(n)), ha="center", va="center", zorder=3, clip_on=True,
                    fontsize=5.6 if n < 100 else 4.6,
                    color="white" if kind != "uncounted" and alpha > 0.55 else INK)  # fmt: skip


def _draw_gaps(ax, report: dict, t0: float, t1: float, n_rows: int, n_lanes: int) -> None:
    """Gaps in the video's time (no frame at all), hatched across rows and lanes."""
    for a, b in _gaps(report):
        if b >= t0 and a <= t1:
            ax.axvspan(a, b, facecolor="white", edgecolor="#8a8f98", hatch="////", lw=0,
                       zorder=1.5)  # fmt: skip


def _draw_markers(
    ax, report: dict, t0: float, t1: float, n_lanes: int, *, lines: bool = True
) -> list[str]:
    """Draw each marker as a triangle on top.

    Each marker as a triangle on top (and, with ``lines``, a dashed line down through the
    rows), coloured by its verdict; returns the verdicts drawn.
    """
    drawn = []
    top = _lane_y(n_lanes) + 0.15 if n_lanes else -0.85
    for m in report.get("markers") or []:
        t = m.get("t_s")
        if t is None or not (t0 <= float(t) <= t1):
            continue
        verdict = m.get("verdict") or ""
        color = MARKER_COLORS.get(verdict, MARKER_COLORS[""])
        if lines:
            ax.axvline(float(t), color=color, lw=0.9, ls=(0, (3, 2)), zorder=4)
        ax.plot([float(t)], [top], marker="v", ms=5.5, color=color, zorder=5, clip_on=False)
        drawn.append(verdict)
    return list(dict.fromkeys(drawn))


def _time_formatter(whole_s: float):
    """Tick labels: seconds for a short recording, ``m:ss`` (or ``h:mm:ss``) for a long one."""
    if whole_s < 120:
        return FuncFormatter(lambda x, _pos: f"{x:g}")

    def fmt(x, _pos):
        s = int(round(x))
        h, rest = divmod(s, 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{s // 60}:{s % 60:02d}"

    return FuncFormatter(fmt)


def _axes_finish(ax, report, t0, t1, n_rows, causes, binned, *, compact=False) -> None:
    """Row and lane labels, limits, the time axis, the title."""
    events = _in_window(report, t0, t1)
    rows = _binned_rows(report) if binned else \
        (_compact_rows(events) if compact else _event_rows(events))  # fmt: skip
    ticks = [_lane_y(i) for i in range(len(causes))] + list(range(n_rows))
    labels = [bad_label(d) for d in causes]  # in its colour; the legend says "not assessed"
    labels += [_row_label(r) for r in rows] if binned else \
        [_KIND_ROWS[(r, s)] if r == "" else pdf_line(f"{region_label(r)} · {s}")
         for r, s in rows]  # fmt: skip
    ax.set_yticks(ticks, labels)
    for i, d in enumerate(causes):
        ax.get_yticklabels()[i].set_color(BAD_COLORS.get(d, BAD_OTHER_COLOR))
    top = _lane_y(len(causes)) + 0.3 if causes else -0.6
    ax.set_ylim(max(n_rows, 1) - 0.4, top - (0.35 if report.get("markers") else 0))
    ax.set_xlim(t0, t1 if t1 > t0 else t0 + 1)
    whole = recording_span(report)[1]
    ax.xaxis.set_major_formatter(_time_formatter(whole))
    ax.xaxis.set_major_locator(_time_locator(t1 - t0, whole))
    unit = "s" if whole < 120 else "min:s"
    ax.set_xlabel(f"time in the video ({unit})" + (f"; counts per {_bin_words(t0, t1)}"
                                                   if binned else ""))  # fmt: skip
    ax.set_title("Events over time")
    ax.tick_params(axis="y", length=0, labelsize=8 if len(ticks) < 10 else 7)
    if not n_rows:
        ax.text(0.5, 0.25, "no events", transform=ax.transAxes, ha="center", va="center",
                color="#6a7180")  # fmt: skip


def _time_locator(span_s: float, whole_s: float):
    """Return a tick locator at round seconds or minutes.

    Ticks at round seconds, or at round minutes (1, 2, 5, 10, 15, 30, 60) for a long
    recording: at most 10.
    """
    if whole_s < 120:
        return MaxNLocator(nbins=10, steps=[1, 2, 5, 10])
    minutes = (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120)
    step = next((m * 60 for m in minutes if span_s / (m * 60) <= 10), None)
    if step is None:  # over 20 hours (a track whose times jump by years): round numbers
        return MaxNLocator(nbins=10, steps=[1, 2, 5, 10])
    return MultipleLocator(step)


def _bin_words(t0: float, t1: float) -> str:
    edges = _bins(t0, t1)
    w = float(edges[1] - edges[0])
    return f"{w / 60:g} min" if w >= 60 else f"{w:g} s"


def _legend(ax, report: dict, t0: float, t1: float, verdicts: list[str], binned: bool) -> None:
    events = report.get("events", []) if binned else _in_window(report, t0, t1)
    kinds = [k for k in KIND_COLORS if any(e["kind"] == k for e in events)]
    handles = [Patch(color=KIND_COLORS[k], label=k) for k in kinds]
    if bad_causes(report):
        handles.append(Patch(color=BAD_SHADE, label="not assessed (cause: coloured lanes)"))
    if any(not _counted(e) for e in events):
        handles.append(Line2D([0], [0], marker="o", ls="", mfc="white", mec=INK, ms=5,
                              label="not counted (hollow)"))  # fmt: skip
    if any(a <= t1 and b >= t0 for a, b in _gaps(report)):
        handles.append(Patch(facecolor="white", edgecolor="#8a8f98", hatch="////",
                             label="no video"))  # fmt: skip
    for v in verdicts:
        handles.append(Line2D([0], [0], color=MARKER_COLORS.get(v, INK), ls=(0, (3, 2)),
                              marker="v", ms=4, label=MARKER_LABELS.get(v, v)))  # fmt: skip
    if handles:
        # under the time axis's label, whatever the axes' height
        below = ax.transAxes + ScaledTranslation(0, -0.42, ax.figure.dpi_scale_trans)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0),
                  bbox_transform=below, ncol=min(3, len(handles)), frameon=False, fontsize=7,
                  borderaxespad=0.0, handlelength=1.4, columnspacing=1.2)  # fmt: skip


def segment_caption(report: dict, t0: float, t1: float) -> str:
    """Return the caption of one timeline segment.

    "12:00-17:00 · 3 twitches counted, 1 not counted · not assessed: talking 1.2 min".
    """
    fmt = _time_formatter(recording_span(report)[1])
    events = [e for e in report.get("events", []) if t0 <= float(e["t_peak_s"]) < t1]
    n = sum(e.get("kind") == "twitch" and _counted(e) for e in events)
    u = sum(e.get("kind") == "twitch" and not _counted(e) for e in events)
    parts = [f"{fmt(t0, 0)}-{fmt(t1, 0)}", f"{n} twitch{'es' if n != 1 else ''} counted"
             + (f", {u} not counted" if u else "")]  # fmt: skip
    edges = np.array([t0, t1])
    causes = [(d, float(_overlap(_union(_spans(report, d)), edges)[0])) for d in bad_causes(report)]
    causes = [f"{bad_label(d)} {s / 60:.1f} min" if t1 - t0 >= 120 else f"{bad_label(d)} {s:.0f} s"
              for d, s in causes if s > 0]  # fmt: skip
    if causes:
        parts.append("not assessed: " + ", ".join(causes))
    markers = [m for m in report.get("markers") or [] if t0 <= float(m.get("t_s") or -1) < t1]
    if markers:
        parts.append(f"{len(markers)} marker{'s' if len(markers) != 1 else ''}")
    return " · ".join(parts)
