"""report.pdf: A4, two pages, laid out with matplotlib's PDF backend (no system dependency).

Text is set with TrueType fonts (``pdf.fonttype`` 42) so that it stays searchable; the plots
are vector graphics drawn straight onto the page; key-frame pictures are embedded images.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from .glyphs import pdf_line, pdf_quote
from .keyframes import KeyFrame, keyframe_caption, plot_keyframe
from .plots import INK, RC, direction_legend, plot_event_sizes, plot_rose, plot_timeline

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


def _wrap(text: str, width_in: float, size: float) -> list[str]:
    chars = max(10, int(width_in * 72 / (_CHAR_W * size)))
    return textwrap.wrap(str(text), chars) or [""]


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
    """The patient's own words, quoted (long ones cut: the HTML has them all); words in a
    script the PDF cannot draw are not drawn as boxes: a note says where they are."""
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
    """The A4 report as PDF bytes (see :func:`facetwitch.reports.report_render`);
    ``keyframes_note`` is printed under the key frames (why they have no face pictures)."""
    buf = io.BytesIO()
    meta = {
        "Title": f"{facts['title']} – {facts['recording']}",
        "Creator": facts["tool"],
        "Subject": "Facial twitch measurement (not a diagnosis)",
        "CreationDate": None,
    }
    with matplotlib.rc_context(RC), PdfPages(buf, metadata=meta) as pdf:
        flow = _Flow(pdf, facts)
        fig = flow.fig
        # Summary box
        top = flow.y
        flow.y -= 0.12
        flow.text_at(flow.left + 0.15, flow.y - 0.12, "SUMMARY", 9.5, weight="bold", color=ACCENT)
        flow.y -= 0.2
        for s in facts["summary"]:
            flow.paragraph(s, 9.6, x=flow.left + 0.15, width=flow.right - flow.left - 0.3, gap=0.04)
        flow.y -= 0.06
        nums = "     ".join(f"{k}: {v}" for k, v in facts["key_numbers"])
        flow.y -= 0.14
        flow.text_at(flow.left + 0.15, flow.y, nums, 8.6, weight="bold")
        flow.y -= 0.06
        flow.paragraph(facts["sides_note"], 7.2, x=flow.left + 0.15, color=MUTED, gap=0.0)
        flow.y -= 0.1
        fig.add_artist(
            Rectangle(
                (flow.left / flow.W, flow.y / flow.H),
                (flow.right - flow.left) / flow.W,
                (top - flow.y) / flow.H,
                fc="#f4f6f8",
                ec="none",
                zorder=-1,
                transform=fig.transFigure,
            )
        )
        fig.add_artist(
            Rectangle(
                (flow.left / flow.W, flow.y / flow.H),
                0.05 / flow.W,
                (top - flow.y) / flow.H,
                fc=ACCENT,
                ec="none",
                transform=fig.transFigure,
            )
        )
        # Description vs measurements
        flow.heading("Your description vs the measurements")
        if facts["complaint_rows"]:
            _complaint_table(flow, facts)
        elif facts["complaint_unread"]:
            _complaint_quote(flow, facts)
            flow.paragraph(facts["complaint_unread"], 8.5, color=MUTED)
        else:
            flow.paragraph("No description was given.", 8.5, color=MUTED)
        # Timeline
        flow.heading("Events over time")
        n_rows = max(1, len({(e["region"], e["side"]) for e in report.get("events", [])}))
        h = min(max(2.0, flow.room() - 0.1), 0.9 + 0.24 * n_rows)
        flow.need(h + 0.1)
        ax = flow.axes(h - 0.45, x0=flow.left + 1.45, x1=flow.right - 0.05)
        plot_timeline(report, ax=ax)
        ax.set_title("")
        flow.y -= h
        # Page 2: directions, sizes, key frames
        if flow.page == 1:
            flow.new_page()
        flow.heading("Direction and size of the twitches")
        h = 2.9
        flow.y -= 0.3
        ax_rose = flow.axes(h - 1.0, x0=flow.left + 0.5, x1=flow.left + 2.5, projection="polar")
        plot_rose(report, ax=ax_rose)
        ax_rose.set_title("")
        ax_a = flow.fig.add_axes(
            [
                (flow.left + 3.45) / flow.W,
                (flow.y - 1.2) / flow.H,
                (flow.right - flow.left - 3.5) / flow.W,
                0.85 / flow.H,
            ]
        )
        ax_d = flow.fig.add_axes(
            [
                (flow.left + 3.45) / flow.W,
                (flow.y - 2.45) / flow.H,
                (flow.right - flow.left - 3.5) / flow.W,
                0.85 / flow.H,
            ],
            sharex=ax_a,
        )
        plot_event_sizes(report, axes=[ax_a, ax_d])
        ax_a.tick_params(labelbottom=False)
        flow.y -= h - 0.12
        flow.paragraph(direction_legend(), 7, color=MUTED)
        if keyframes:
            flow.heading("Key frames: before and at the peak (arrow enlarged, real size in mm)")
            if keyframes_note:
                flow.paragraph(keyframes_note, 7.4, color="#9a3412")
            n = len(keyframes)
            col_w = (flow.right - flow.left) / n
            img_w = min(1.25, (col_w - 0.2) / 2)
            flow.need(img_w + 0.5)
            for i, kf in enumerate(keyframes):
                x = flow.left + i * col_w
                axes = [
                    flow.fig.add_axes(
                        [
                            (x + j * (img_w + 0.06)) / flow.W,
                            (flow.y - 0.2 - img_w) / flow.H,
                            img_w / flow.W,
                            img_w / flow.H,
                        ]
                    )
                    for j in range(2)
                ]
                plot_keyframe(kf, axes=axes)
                for k, line in enumerate(_wrap(keyframe_caption(kf), col_w - 0.1, 6.8)[:2]):
                    flow.text_at(x, flow.y - img_w - 0.36 - k * 0.12, line, 6.8, color=MUTED)
            flow.y -= img_w + 0.62
        # Event table
        flow.heading("Events")
        ev = facts["events"]
        rows = [
            [
                str(e["id"]),
                e["time"],
                e["region"],
                e["side"],
                e["kind"],
                e["amplitude"],
                e["direction"],
                e["duration"],
                e["co_occurring"],
            ]
            for e in ev
        ]
        twitch_first = sorted(range(len(rows)), key=lambda i: (ev[i]["kind"] != "twitch", i))
        col = (flow.right - flow.left) / 2 - 0.15
        limits_h = sum(
            len(_wrap(lim, col - 0.12, 7.3)) * 7.3 * 1.38 / 72 + 0.06 for lim in facts["limits"]
        )
        quality_h = 0.15 * len(facts["quality"]) + 0.16 * len(facts["warnings"])
        reserve = 0.2 + 0.6 + max(limits_h, quality_h) + 0.35  # note, heading, columns
        budget_rows = max(3, int((flow.room() - reserve) / (7.4 * 1.32 / 72 + 0.06)) - 1)
        shown = sorted(twitch_first[:budget_rows])
        drawn = flow.table(
            ["#", "time", "region", "side", "kind", "amplitude", "direction", "duration", "with"],
            [rows[i] for i in shown],
            [0.35, 0.6, 1.35, 0.5, 0.8, 0.85, 1.2, 0.75, 0.67],
            size=7.4,
        )
        if drawn < len(rows):
            left_out = [ev[i] for i in range(len(rows)) if i not in shown[:drawn]]
            n_tw = sum(e["kind"] == "twitch" for e in left_out)
            flow.paragraph(
                f"{len(left_out)} more events ({n_tw} twitches, "
                f"{len(left_out) - n_tw} blinks or movements) are listed in "
                "report.html and report.json.",
                7,
                color=MUTED,
            )
        # Quality and limits, two columns
        flow.heading("Recording quality and limits")
        top = flow.y
        col = (flow.right - flow.left) / 2 - 0.15
        for label, value in facts["quality"]:
            flow.y -= 0.15
            flow.text_at(flow.left, flow.y, label, 7.6, color=MUTED)
            flow.text_at(flow.left + 0.8, flow.y, value, 7.6)
        for w in facts["warnings"]:
            flow.paragraph(f"! {w}", 7.4, x=flow.left, width=col, color="#9a3412", gap=0)
        y_left = flow.y
        flow.y = top
        x2 = flow.left + col + 0.3
        for k, lim in enumerate(facts["limits"]):
            lines = _wrap(lim, col - 0.12, 7.3)
            if flow.room() < len(lines) * 7.3 * 1.35 / 72:
                # a full page 2 (many key frames and events): say where the rest is rather
                # than drop it silently
                if flow.room() >= 7.3 * 1.35 / 72:
                    n = len(facts["limits"]) - k
                    rest = ("One more note, on how to record more reliably, is in report.html."
                            if n == 1 else f"{n} more notes in report.html, among them how "
                            "to record more reliably.")  # fmt: skip
                    flow.paragraph(rest, 7.0, x=x2, width=col, color=MUTED, gap=0)
                break
            flow.y -= 0.02
            flow.text_at(x2, flow.y - 7.3 * 1.35 / 72, "•", 7.3, color=ACCENT)
            flow.paragraph(lim, 7.3, x=x2 + 0.12, width=col - 0.12, gap=0.02)
        flow.y = min(flow.y, y_left)
        flow.finish()
    return buf.getvalue()
