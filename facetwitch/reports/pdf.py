"""report.pdf: A4, laid out with matplotlib's PDF backend (no system dependency).

Two pages; three when a timeline of many rows needs the second to itself.

Text is set with TrueType fonts (``pdf.fonttype`` 42) so that it stays searchable; the plots
are vector graphics drawn straight onto the page; key-frame pictures are embedded images.
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from .._text import plural
from .glyphs import pdf_line, pdf_quote
from .keyframes import KeyFrame, keyframe_caption, plot_keyframe
from .plots import INK, RC, direction_legend, plot_event_sizes, plot_rose
from .timeline import (
    ROW_PITCH_IN,
    ROW_PITCH_MIN_IN,
    plot_timeline,
    timeline_height_in,
    timeline_rows,
)
from .words import kinds_said

A4_IN = (8.27, 11.69)
MARGIN_IN = 0.6
ACCENT = "#1f4e79"
MUTED = "#5a6170"
LINE = "#d9dde3"
VERDICT_COLORS = {
    "agrees": ("#dcefe1", "#1e6b35"),
    "differs": ("#fbe3d6", "#9a3412"),
    "no_data": ("#eceef1", "#4a5160"),
    "not_measurable": ("#e3eaf4", "#33506f"),
}
_CHAR_W = 0.53  # mean glyph width of DejaVu Sans, in font sizes
#: Markers listed in the PDF (all of them are in report.html).
MARKER_ROWS = 5


#: A number's unit, after the space that follows the number ("0.28 s", "1.2 mm", "30 fps").
_UNIT_AFTER_NUMBER = re.compile(
    r"(?<=\d) (?=(?:mm/s|px/mm|ms|min|mm|px|fps|Hz|deg|s|h|°|%|seconds?|minutes?|hours?)(?!\w))"
)
_NBSP = "\u00a0"


def _wrap(text: str, width_in: float, size: float) -> list[str]:
    """Wrap ``text`` into lines of about ``width_in`` inches at ``size`` points.

    A number and its unit stay on one line ("0.28" at a line's end and "s" on the next misread
    as a number without a unit): they are joined by a no-break space, which textwrap does not
    break at, and drawn as a normal space.
    """
    chars = max(10, int(width_in * 72 / (_CHAR_W * size)))
    kept = _UNIT_AFTER_NUMBER.sub(_NBSP, str(text))
    lines = textwrap.wrap(kept, chars, break_long_words=True) or [""]
    return [line.replace(_NBSP, " ") for line in lines]


class _Flow:
    """Top-down layout on A4 pages: ``y`` is the current baseline in inches from the bottom."""

    def __init__(self, pdf: PdfPages, facts: dict, max_pages: int = 2):
        self.pdf, self.facts, self.max_pages = pdf, facts, max_pages
        self.fig: Figure | None = None
        self.page = 0
        self.W, self.H = A4_IN
        self.left, self.right = MARGIN_IN, self.W - MARGIN_IN
        self.bottom = MARGIN_IN + 0.25
        self.new_page()

    # -- pages -------------------------------------------------------------------------------
    def new_page(self) -> None:
        self.finish()
        self.page += 1
        self.fig = Figure(figsize=A4_IN)
        self.y = self.H - MARGIN_IN
        f = self.facts
        fig = self.fig
        if self.page == 1:
            self.text_at(self.left, self.y - 0.28, f["title"], 19, weight="bold", color=ACCENT)
            self.text_at(self.left, self.y - 0.52, f["subtitle"], 9.5, color=MUTED)
            meta = [
                f["recording"],
                f"file sha256 {f['sha256']}…",
                f"{f['tool']}, schema {f['schema_version']}",
            ]
            for i, line in enumerate(meta):
                self.text_at(
                    self.right, self.y - 0.18 - 0.16 * i, line, 7.5, color=MUTED, ha="right"
                )
            self.y -= 0.7
            self.rule(ACCENT, 2.0)
            self.y -= 0.12
        else:
            self.text_at(
                self.left, self.y - 0.12, f"{f['title']} · {f['recording']}", 8, color=MUTED
            )
            self.y -= 0.22
            self.rule(LINE, 0.8)
            self.y -= 0.1
        fig.text(
            0.5,
            (MARGIN_IN - 0.1) / self.H,
            pdf_line(
                f"{f['tool']} · numbers from report.json · not a diagnosis · page {self.page}"
            ),
            ha="center",
            va="bottom",
            fontsize=7,
            color=MUTED,
        )

    def finish(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def room(self) -> float:
        return self.y - self.bottom

    def need(self, h: float) -> bool:
        """Start a new page if ``h`` inches do not fit; False when no page is left."""
        if self.room() >= h:
            return True
        if self.page >= self.max_pages:
            return False
        self.new_page()
        return True

    # -- drawing -----------------------------------------------------------------------------
    def text_at(
        self, x_in, y_in, s, size, *, weight="normal", color=INK, ha="left", style="normal"
    ):
        self.fig.text(
            x_in / self.W,
            y_in / self.H,
            pdf_line(s),  # never an empty box: what the font cannot draw is elided
            fontsize=size,
            fontweight=weight,
            color=color,
            ha=ha,
            va="baseline",
            fontstyle=style,
        )

    def rule(self, color=LINE, lw=0.8) -> None:
        self.fig.add_artist(
            matplotlib.lines.Line2D(
                [self.left / self.W, self.right / self.W], [self.y / self.H] * 2, color=color, lw=lw
            )
        )

    def heading(self, s: str) -> None:
        self.need(0.6)
        self.y -= 0.3
        self.text_at(self.left, self.y, s.upper(), 9.5, weight="bold", color=ACCENT)
        self.y -= 0.07
        self.rule()
        self.y -= 0.08

    def paragraph(
        self, s: str, size=9.0, *, x=None, width=None, color=INK, style="normal", gap=0.05
    ) -> None:
        x = self.left if x is None else x
        width = (self.right - x) if width is None else width
        lh = size * 1.38 / 72
        for line in _wrap(s, width, size):
            self.need(lh)
            self.y -= lh
            self.text_at(x, self.y, line, size, color=color, style=style)
        self.y -= gap

    def axes(self, h: float, x0: float | None = None, x1: float | None = None, **kw):
        x0 = self.left if x0 is None else x0
        x1 = self.right if x1 is None else x1
        return self.fig.add_axes(
            [x0 / self.W, (self.y - h) / self.H, (x1 - x0) / self.W, h / self.H], **kw
        )

    def table(self, header, rows, widths, *, size=7.8, max_rows=None) -> int:
        """Rows with wrapped cells; returns how many rows were drawn."""
        lh = size * 1.32 / 72
        xs = [self.left]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)
        if not self.need(lh * 3):
            return 0
        self.y -= lh
        for x, h in zip(xs, header, strict=True):
            self.text_at(x + 0.04, self.y, h.upper(), size - 1, weight="bold", color=MUTED)
        self.y -= 0.06
        self.rule(LINE, 1.0)
        drawn = 0
        for row in rows:
            cells = [_wrap(c, w - 0.1, size) for c, w in zip(row, widths, strict=True)]
            n = max(len(c) for c in cells)
            h = n * lh + 0.06
            if (max_rows is not None and drawn >= max_rows) or self.room() < h + 0.05:
                break
            top = self.y
            for x, lines in zip(xs, cells, strict=True):
                for k, line in enumerate(lines):
                    self.text_at(x + 0.04, top - (k + 1) * lh, line, size)
            self.y = top - h
            self.rule(LINE, 0.5)
            drawn += 1
        return drawn


def _complaint_quote(flow: _Flow, facts: dict) -> None:
    """Quote the patient's own words for the PDF.

    The patient's own words, quoted (long ones cut: the HTML has them all); words in a
    script the PDF cannot draw are not drawn as boxes: a note says where they are.
    """
    quote, note = pdf_quote(" ".join(str(facts["complaint_text"] or "").split()))
    if len(quote) > 520:
        quote = quote[:500].rsplit(" ", 1)[0] + " … (full text in report.html)"
    if quote:
        flow.paragraph(f"“{quote}”", 8.3, color="#394050", gap=0.08)
    if note:
        flow.paragraph(note, 7.6, color=MUTED, gap=0.08)


def _complaint_table(flow: _Flow, facts: dict) -> None:
    rows = facts["complaint_rows"]
    _complaint_quote(flow, facts)
    widths = [0.9, 2.05, 2.8, 1.32]
    lh = 7.8 * 1.32 / 72
    xs = [flow.left, flow.left + 0.9, flow.left + 2.95, flow.left + 5.75]
    flow.y -= lh
    for x, h in zip(xs, ["aspect", "you said", "measured", "verdict"], strict=True):
        flow.text_at(x + 0.04, flow.y, h.upper(), 6.8, weight="bold", color=MUTED)
    flow.y -= 0.06
    flow.rule(LINE, 1.0)
    for r in rows:
        said = _wrap(r["claimed"], widths[1] - 0.1, 7.8)
        note = _wrap(r["note"], widths[1] - 0.1, 6.6) if r["note"] else []
        meas = _wrap(r["measured"], widths[2] - 0.1, 7.8)
        h = max(len(said) * lh + len(note) * 6.6 * 1.3 / 72, len(meas) * lh) + 0.07
        if not flow.need(h):
            break
        top = flow.y
        flow.text_at(xs[0] + 0.04, top - lh, r["aspect"], 7.8, weight="bold")
        for k, line in enumerate(said):
            flow.text_at(xs[1] + 0.04, top - (k + 1) * lh, line, 7.8)
        for k, line in enumerate(note):
            flow.text_at(
                xs[1] + 0.04,
                top - len(said) * lh - (k + 1) * 6.6 * 1.3 / 72,
                line,
                6.6,
                color=MUTED,
            )
        for k, line in enumerate(meas):
            flow.text_at(xs[2] + 0.04, top - (k + 1) * lh, line, 7.8)
        bg, fg = VERDICT_COLORS.get(r["verdict"], ("#eceef1", INK))
        label = r["verdict_label"]
        lines = _wrap(label, widths[3] - 0.16, 7.4)
        box_h = len(lines) * 7.4 * 1.3 / 72 + 0.05
        flow.fig.add_artist(
            FancyBboxPatch(
                ((xs[3] + 0.03) / flow.W, (top - box_h - 0.02) / flow.H),
                min(widths[3] - 0.06, max(len(x) for x in lines) * _CHAR_W * 7.4 / 72 + 0.12)
                / flow.W,
                box_h / flow.H,
                boxstyle="round,pad=0,rounding_size=0.01",
                fc=bg,
                ec="none",
                transform=flow.fig.transFigure,
            )
        )
        for k, line in enumerate(lines):
            flow.text_at(
                xs[3] + 0.09,
                top - 0.02 - (k + 1) * 7.4 * 1.3 / 72 + 0.01,
                line,
                7.4,
                color=fg,
                weight="bold",
            )
        flow.y = top - h
        flow.rule(LINE, 0.5)


def pdf_render(
    report: dict, facts: dict, keyframes: list[KeyFrame], *, keyframes_note: str = ""
) -> bytes:
    """Render the A4 report as PDF bytes (see :func:`facetwitch.reports.report_render`).

    Parameters
    ----------
    report : dict
        The loaded report.json dict.
    facts : dict
        :func:`~facetwitch.reports.text.report_facts` of it.
    keyframes : list of KeyFrame
        Key frames to show.
    keyframes_note : str
        Printed under the key frames (why they have no face pictures).

    Returns
    -------
    bytes
    """
    buf = io.BytesIO()
    meta = {
        "Title": f"{facts['title']} – {facts['recording']}",
        "Creator": facts["tool"],
        "Subject": "Facial twitch measurement (not a diagnosis)",
        "CreationDate": None,
    }
    with matplotlib.rc_context(RC), PdfPages(buf, metadata=meta) as pdf:
        flow = _Flow(pdf, facts)
        _summary_box(flow, facts)
        _description_section(flow, facts)
        _timeline_section(flow, report, facts, keyframes)
        if flow.page == 1:  # page 2: directions, sizes, key frames, events, quality
            flow.new_page()
        else:  # a timeline that needs page 2: what does not fit under it goes to page 3
            flow.max_pages = flow.page + 1
        _directions_section(flow, report)
        if (
            keyframes
            and flow.page >= flow.max_pages
            and flow.room() - _keyframes_in(flow, keyframes, keyframes_note)
            < _events_least_in(facts)
        ):
            # the last page: the counted twitches' rows come before the pictures (the
            # summary sends the reader to the table for them)
            flow.paragraph(KEYFRAMES_ELSEWHERE, 7.4, color=MUTED)
        else:
            _keyframes_section(flow, keyframes, keyframes_note)
        if flow.room() < EVENTS_MIN_IN + _quality_reserve(facts) and flow.page < flow.max_pages:
            flow.new_page()
        _events_section(flow, facts)
        _quality_and_limits(flow, facts)
        flow.finish()
    return buf.getvalue()


def _key_number_lines(items: list[tuple[str, str]], width_in: float, size: float) -> list[str]:
    """``label: value`` items on as few lines as fit ``width_in``, never split inside one."""
    lines: list[str] = []
    for k, v in items:
        item = f"{k}: {v}"
        joined = f"{lines[-1]}     {item}" if lines else item
        if lines and len(joined) * _CHAR_W * size / 72 <= width_in:
            lines[-1] = joined
        else:
            lines.append(item)
    return lines


def _summary_box(flow: _Flow, facts: dict) -> None:
    """Draw the summary sentences and key numbers.

    The summary sentences and key numbers, on a shaded box with an accent bar.
    """
    fig, top = flow.fig, flow.y
    flow.y -= 0.12
    flow.text_at(flow.left + 0.15, flow.y - 0.12, "SUMMARY", 9.5, weight="bold", color=ACCENT)
    flow.y -= 0.2
    width = flow.right - flow.left - 0.3
    for k, s in enumerate(facts["summary"]):
        caution = k == 0 and facts.get("caution")
        flow.paragraph(s, 9.6, x=flow.left + 0.15, width=width, gap=0.04,
                       color="#9a3412" if caution else INK)  # fmt: skip
    flow.y -= 0.06
    for line in _key_number_lines(facts["key_numbers"], width, 8.6):
        flow.y -= 0.16
        flow.text_at(flow.left + 0.15, flow.y, line, 8.6, weight="bold")
    flow.y -= 0.06
    flow.paragraph(facts["sides_note"], 7.2, x=flow.left + 0.15, color=MUTED, gap=0.0)
    flow.y -= 0.1
    for x_w, color, z in (((flow.right - flow.left), "#f4f6f8", -1), (0.05, ACCENT, 0)):
        fig.add_artist(Rectangle((flow.left / flow.W, flow.y / flow.H), x_w / flow.W,
                                 (top - flow.y) / flow.H, fc=color, ec="none", zorder=z,
                                 transform=fig.transFigure))  # fmt: skip


def _description_section(flow: _Flow, facts: dict) -> None:
    """Draw the patient's description against the measurements.

    The patient's description against the measurements, and the moments they marked.
    """
    flow.heading("Your description vs the measurements")
    if facts["complaint_rows"]:
        _complaint_table(flow, facts)
        if facts.get("complaint_sensitivity"):
            flow.y -= 0.04
            flow.paragraph(facts["complaint_sensitivity"], 8.5, gap=0.02)
    elif facts["complaint_unread"]:
        _complaint_quote(flow, facts)
        flow.paragraph(facts["complaint_unread"], 8.5, color=MUTED)
    else:
        flow.paragraph("No description was given.", 8.5, color=MUTED)
    if facts["markers_sentence"]:
        flow.y -= 0.06
        flow.paragraph(facts["markers_sentence"], 8.5, gap=0.02)
    rows = facts["marker_rows"]
    if rows:
        if len(rows) > MARKER_ROWS:  # the sentence says it; the table would crowd page 1
            flow.paragraph(f"The {len(rows)} moments are listed one by one in report.html "
                           "and on the timeline.", 7, color=MUTED)  # fmt: skip
            return
        drawn = flow.table(["time", "verdict", "what was measured"],
                           [[m["time"], m["verdict_label"], m["detail_short"]] for m in rows],
                           [0.8, 1.25, 5.0], size=7.4)  # fmt: skip
        if drawn < len(rows):  # the foot of the page: the rest said, not dropped unsaid
            rest = len(rows) - drawn
            said = "The other moment is" if rest == 1 else f"The other {rest} moments are"
            flow.paragraph(f"{said} listed in report.html and on the timeline.", 7, color=MUTED)


def _timeline_section(flow: _Flow, report: dict, facts: dict, keyframes: list[KeyFrame]) -> None:
    """Draw the timeline and its legend.

    The timeline (binned over a long recording), as tall as its rows need and the page
    allows, squeezed no closer than :data:`ROW_PITCH_MIN_IN` a row. A row for each region
    and side that moved, on page 1 when they fit; else the compact rows (a row for each
    region and side with twitches, one for the blinks, one for the other movements) when
    they fit there; else on page 2 the same way, leaving room for what follows it; else the
    full rows on page 2 and what follows on page 3.
    """
    legend_h, heading_h = 0.55, 0.45

    def sizes(compact: bool) -> tuple[float, float]:
        want = timeline_height_in(report, compact=compact) + legend_h
        rows = timeline_rows(report, compact=compact)
        return want, max(min(want, 1.8), want - (ROW_PITCH_IN - ROW_PITCH_MIN_IN) * rows)

    def choice(room: float) -> bool | None:
        """Compact or not, for ``room`` inches (None: neither fits)."""
        for compact in (False, True):
            if sizes(compact)[1] <= room:
                return compact
        return None

    after = 0.0
    compact = choice(flow.room() - heading_h)
    if compact is None:
        flow.new_page()
        after = _after_timeline_in(facts, keyframes)
        compact = choice(flow.room() - heading_h - after)
        if compact is None:  # what follows goes to page 3
            compact, after = False, 0.0
    want, least = sizes(compact)
    flow.heading("Events over time")
    h = min(want, max(least, flow.room() - after - 0.05), flow.room() - 0.05)
    ax = flow.axes(h - 0.15 - legend_h, x0=flow.left + 1.55, x1=flow.right - 0.05)
    plot_timeline(report, ax=ax, compact=compact)
    ax.set_title("")
    flow.y -= h


#: Height (in) of the directions section: heading, rose and bars, and its legend line.
DIRECTIONS_IN = 0.45 + 2.9 + 0.3
#: Height (in) of the events section with a few rows: heading, header and four rows.
EVENTS_MIN_IN = 0.45 + 5 * (7.4 * 1.32 / 72 + 0.06)


def _after_timeline_in(facts: dict, keyframes: list[KeyFrame]) -> float:
    """Inches what follows the timeline needs to be shown whole on its page.

    The directions, the key frames (when there are any), the events table with a few rows,
    and the quality and limits section (:func:`_quality_reserve`).
    """
    frames = 0.45 + 1.25 + 0.62 if keyframes else 0.0
    return DIRECTIONS_IN + frames + EVENTS_MIN_IN + _quality_reserve(facts)


def _directions_section(flow: _Flow, report: dict) -> None:
    """Draw the direction rose and the twitch sizes and durations.

    The direction rose and each counted twitch's size and duration.
    """
    flow.need(DIRECTIONS_IN)
    flow.heading("Direction and size of the counted twitches")
    h = 2.9
    flow.y -= 0.3
    ax_rose = flow.axes(h - 1.0, x0=flow.left + 0.5, x1=flow.left + 2.5, projection="polar")
    plot_rose(report, ax=ax_rose)
    ax_rose.set_title("")
    x0, w = (flow.left + 3.45) / flow.W, (flow.right - flow.left - 3.5) / flow.W
    ax_a = flow.fig.add_axes([x0, (flow.y - 1.2) / flow.H, w, 0.85 / flow.H])
    ax_d = flow.fig.add_axes([x0, (flow.y - 2.45) / flow.H, w, 0.85 / flow.H])
    plot_event_sizes(report, axes=[ax_a, ax_d])
    flow.y -= h - 0.12
    flow.paragraph(direction_legend(), 7, color=MUTED)


#: Said instead of the key frames when they would take the counted twitches' rows.
KEYFRAMES_ELSEWHERE = (
    "The key frames (the strongest twitches, before and at their peak) are "
    "in report.html: this page keeps its room for the counted twitches."
)


def _keyframe_size_in(flow: _Flow, n: int) -> float:
    """Inches of each of a key frame's two pictures, for ``n`` key frames in a row."""
    return min(1.25, ((flow.right - flow.left) / n - 0.2) / 2)


def _keyframes_in(flow: _Flow, keyframes: list[KeyFrame], note: str) -> float:
    """Inches the key frames section takes: heading, note, pictures and captions."""
    notes = 0.2 * len(_wrap(note, flow.right - flow.left, 7.4)) if note else 0.0
    return 0.45 + notes + _keyframe_size_in(flow, len(keyframes)) + 0.62


def _events_least_in(facts: dict) -> float:
    """Inches the events section needs for its first rows and the quality section after it.

    The counted twitches (up to :data:`EVENT_ROWS_MIN`), a few twitches not counted with
    their table's title, and the least room of the quality and limits.
    """
    n_tw = sum(e["kind"] == "twitch" for e in facts["events"])
    uncounted = len(facts["uncounted"])
    rows = 1 + min(n_tw, EVENT_ROWS_MIN) + (3 + min(uncounted, 2) if uncounted else 0)
    return 0.45 + rows * (7.4 * 1.32 / 72 + 0.06) + 0.3 + QUALITY_MIN_IN


def _keyframes_section(flow: _Flow, keyframes: list[KeyFrame], note: str) -> None:
    if not keyframes:
        return
    flow.heading("Key frames: before and at the peak (arrow enlarged, real size in mm)")
    if note:
        flow.paragraph(note, 7.4, color="#9a3412")
    n = len(keyframes)
    col_w = (flow.right - flow.left) / n
    img_w = _keyframe_size_in(flow, n)
    if not flow.need(img_w + 0.5):  # the last page is full: never drawn off it
        flow.paragraph("The key frames are in report.html.", 7, color=MUTED)
        return
    for i, kf in enumerate(keyframes):
        x = flow.left + i * col_w
        axes = [flow.fig.add_axes([(x + j * (img_w + 0.06)) / flow.W,
                                   (flow.y - 0.2 - img_w) / flow.H, img_w / flow.W,
                                   img_w / flow.H]) for j in range(2)]  # fmt: skip
        plot_keyframe(kf, axes=axes)
        for k, line in enumerate(_wrap(keyframe_caption(kf), col_w - 0.1, 6.8)[:2]):
            flow.text_at(x, flow.y - img_w - 0.36 - k * 0.12, line, 6.8, color=MUTED)
    flow.y -= img_w + 0.62


_EVENT_COLUMNS = ["#", "time", "region", "side", "kind", "amplitude", "direction", "duration",
                  "with"]  # fmt: skip
_EVENT_WIDTHS = [0.35, 0.6, 1.35, 0.5, 0.8, 0.85, 1.2, 0.75, 0.67]


#: Rows the events table keeps for counted twitches however many quality notes follow it, and
#: the least room (in) the quality and limits section is left then (heading, a few lines and
#: the line saying where the rest is).
EVENT_ROWS_MIN = 10
QUALITY_MIN_IN = 1.3


def _events_section(flow: _Flow, facts: dict) -> None:
    """Draw the event tables in the room left.

    The counted twitches, the twitches not counted, then counted blinks and movements, in
    the room left above the quality and limits (_rows_fitting); what does not fit is counted
    and said.
    """
    flow.heading("Events")
    ev, uncounted = facts["events"], facts["uncounted"]
    if not ev and not uncounted:  # nothing to list: say so, and what was seen apart
        flow.paragraph(facts["events_none"], 8.5, color=MUTED)
        if facts["uncounted_other"]:
            flow.paragraph(facts["uncounted_other"], 7, color=MUTED)
        return
    row_h = 7.4 * 1.32 / 72 + 0.06
    notes = 0.3  # the lines saying what is left out
    budget = int((flow.room() - _quality_reserve(facts) - notes) / row_h) - 1  # less the header
    n_tw = sum(e["kind"] == "twitch" for e in ev)
    # (with twitches not counted: their table's title, header and note, and two of them)
    least = min(n_tw, EVENT_ROWS_MIN) + (3 + min(len(uncounted), 2) if uncounted else 0)
    if budget < least:  # many quality notes: the first counted twitches come before them (the
        # quality section says where the rest of its notes are)
        budget = min(least, int((flow.room() - QUALITY_MIN_IN - notes) / row_h) - 1)
    n_twc, n_other, n_unc = _rows_fitting(budget, n_tw, len(ev) - n_tw, len(uncounted))
    n_ev = n_twc + n_other
    shown = sorted(sorted(range(len(ev)), key=lambda i: (ev[i]["kind"] != "twitch", i))[:n_ev])
    drawn = flow.table(_EVENT_COLUMNS, [_event_cells(ev[i]) for i in shown], _EVENT_WIDTHS,
                       size=7.4) if shown else 0  # fmt: skip
    left_out = [ev[i] for i in range(len(ev)) if i not in shown[:drawn]]
    if left_out:
        more = "more " if drawn else ""
        what = f"{plural(len(left_out), more + 'counted event')} ({kinds_said(left_out)})"
        flow.paragraph(f"{what} {'is' if len(left_out) == 1 else 'are'} listed in report.html "
                       "and report.json.", 7, color=MUTED)  # fmt: skip
    if n_unc:
        _uncounted_table(flow, facts, n_unc)
    elif uncounted:
        said = ("1 twitch seen in time that could not be assessed (not counted) is"
                if len(uncounted) == 1 else f"{len(uncounted)} twitches seen in time that could "
                "not be assessed (not counted) are")  # fmt: skip
        flow.paragraph(f"{said} listed in report.html and report.json.", 7, color=MUTED)


def _rows_fitting(budget: int, n_tw: int, n_other: int, n_unc: int) -> tuple[int, int, int]:
    """How many counted twitches, other counted events and twitches not counted get a row.

    The counted twitches come first, the twitches not counted next (a quarter of the rows at
    least when both are many: they are measurements too), counted blinks and movements last.
    """
    if not n_unc:
        tw = min(n_tw, max(0, budget))
        return tw, min(n_other, max(0, budget - tw)), 0
    room = max(0, budget - 3)  # the second table's title and header, the note under it
    keep = min(n_unc, max(2, room // 4))
    # ... but not out of the first counted twitches' rows (up to EVENT_ROWS_MIN of them)
    keep = min(keep, max(min(n_unc, 2), room - min(n_tw, EVENT_ROWS_MIN)))
    tw = min(n_tw, max(0, room - keep))
    unc = min(n_unc, room - tw)
    return tw, min(n_other, room - tw - unc), unc


def _uncounted_table(flow: _Flow, facts: dict, n: int) -> None:
    uncounted = facts["uncounted"]
    flow.y -= 0.08
    flow.paragraph("Seen in time that could not be assessed: not counted", 8, gap=0.0)
    cells = [[str(e["id"]), e["time"], e["region"], e["side"], e["why"], e["amplitude"],
              e["direction"], e["duration"]] for e in uncounted[:n]]  # fmt: skip
    drawn = flow.table(["#", "time", "region", "side", "seen", "amplitude", "direction",
                        "duration"], cells, [0.35, 0.6, 1.35, 0.5, 1.7, 0.75, 1.2, 0.62],
                       size=7.4)  # fmt: skip
    if drawn < len(uncounted):
        n = len(uncounted) - drawn
        said = "1 more twitch not counted is" if n == 1 else f"{n} more twitches not counted are"
        flow.paragraph(f"{said} listed in report.html and report.json.", 7, color=MUTED)


def _event_cells(e: dict) -> list[str]:
    return [str(e["id"]), e["time"], e["region"], e["side"], e["kind"], e["amplitude"],
            e["direction"], e["duration"], e["co_occurring"]]  # fmt: skip


def _limits_rest(n: int) -> str:
    """Return the line that says where the last ``n`` limits are (on a full page 2)."""
    if n == 1:
        return "One more note, on how to record more reliably, is in report.html."
    return f"{n} more notes in report.html, among them how to record more reliably."


def _quality_reserve(facts: dict) -> float:
    """Inches the quality and limits section needs (the event table leaves them this)."""
    col = (A4_IN[0] - 2 * MARGIN_IN) / 2 - 0.15
    # the first three limits at least (the rest, if the page is full, are said to be in
    # report.html)
    limits_h = sum(len(_wrap(lim, col - 0.12, 7.3)) * 7.3 * 1.38 / 72 + 0.06
                   for lim in facts["limits"][:3])  # fmt: skip
    quality_h = sum(0.15 * len(_wrap(v, col - _quality_label_w(facts), 7.6))
                    for _k, v in facts["quality"]) \
        + 0.16 * len(facts["warnings"])  # fmt: skip
    return 0.2 + 0.5 + max(limits_h, quality_h) + 0.1  # note, heading, columns


def _quality_label_w(facts: dict) -> float:
    """Inches of the quality table's label column: its longest label and a gap, 0.8 at least.

    A fixed 0.8 in had drawn "Dropped frames" over its value ("Dropped frame2 (by the ...").
    """
    longest = max((len(label) for label, _v in facts["quality"]), default=0)
    return max(0.8, longest * _CHAR_W * 7.6 / 72 + 0.12)


def _quality_and_limits(flow: _Flow, facts: dict) -> None:
    """Draw the recording quality and the limits of the measurement.

    Recording quality (left) and the limits of the measurement (right). A note or a row is
    drawn whole or not at all: on a full page the line saying where the rest is comes
    instead (a row cut after its first line, "not assessed: talking", said less than it
    does).
    """
    flow.heading("Recording quality and limits")
    top = flow.y
    col = (flow.right - flow.left) / 2 - 0.15
    label_w = _quality_label_w(facts)
    items = [[(label if k == 0 else "", line) for k, line in
              enumerate(_wrap(value, col - label_w, 7.6))]
             for label, value in facts["quality"]]  # fmt: skip
    items += [[("!", line) for line in _wrap(f"! {w}", col, 7.4)] for w in facts["warnings"]]
    rest_h = 0.15  # the line saying where the rest is

    def height(item) -> float:
        return sum(7.4 * 1.38 / 72 if label == "!" else 0.15 for label, _line in item)

    for k, item in enumerate(items):
        last = k == len(items) - 1
        if flow.room() < height(item) + (0.0 if last else rest_h):
            # a full page: say where the rest is
            flow.y -= 0.15
            flow.text_at(flow.left, flow.y, "(the rest of the quality notes are in report.html)",
                         7.0, color=MUTED)  # fmt: skip
            break
        for label, line in item:
            warn = label == "!"
            flow.y -= 7.4 * 1.38 / 72 if warn else 0.15
            if warn:
                flow.text_at(flow.left, flow.y, line, 7.4, color="#9a3412")
            else:
                flow.text_at(flow.left, flow.y, label, 7.6, color=MUTED)
                flow.text_at(flow.left + label_w, flow.y, line, 7.6)
    y_left = flow.y
    flow.y = top
    _limits(flow, facts, x=flow.left + col + 0.3, col=col)
    flow.y = min(flow.y, y_left)


def _limits(flow: _Flow, facts: dict, *, x: float, col: float) -> None:
    line_h = 7.3 * 1.35 / 72
    para_h, note_h = 7.3 * 1.38 / 72, 7.0 * 1.38 / 72  # what flow.paragraph draws them with
    last = len(facts["limits"]) - 1
    for k, lim in enumerate(facts["limits"]):
        lines = _wrap(lim, col - 0.12, 7.3)
        # a limit is drawn only with room to spare for saying where the rest are (the room
        # as flow.paragraph takes it: 0.02 in above, its lines, its gap)
        spare = len(_wrap(_limits_rest(last - k), col, 7.0)) * note_h if k < last else 0.0
        if flow.room() < 0.04 + len(lines) * para_h + spare:
            # a full page 2 (many key frames and events): say where the rest is rather
            # than drop it silently
            note = _limits_rest(len(facts["limits"]) - k)
            if flow.room() >= len(_wrap(note, col, 7.0)) * note_h:
                flow.paragraph(note, 7.0, x=x, width=col, color=MUTED, gap=0)
            return
        flow.y -= 0.02
        flow.text_at(x, flow.y - line_h, "•", 7.3, color=ACCENT)
        flow.paragraph(lim, 7.3, x=x + 0.12, width=col - 0.12, gap=0.02)
