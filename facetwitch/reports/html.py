"""report.html: one self-contained page (inline CSS, images as data URIs, no network, no script).

Rendered with the Jinja2 templates shipped in ``facetwitch/reports/templates`` with
autoescaping on: the patient's text and every string from report.json are shown as text.
"""

from __future__ import annotations

from importlib import resources

import jinja2
import matplotlib

from .keyframes import BASELINE_BEFORE_S, KeyFrame, keyframe_caption, plot_keyframe
from .plots import (
    RC,
    direction_legend,
    figure_to_data_uri,
    plot_event_sizes,
    plot_rose,
    plot_timeline,
)


def _environment() -> jinja2.Environment:
    root = resources.files("facetwitch.reports") / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def html_render(
    report: dict,
    facts: dict,
    keyframes: list[KeyFrame],
    *,
    face_images: bool = True,
    keyframes_note: str = "",
) -> str:
    """The report page as a string (see :func:`facetwitch.reports.report_render`)."""
    with matplotlib.rc_context(RC):
        img = {
            "timeline": figure_to_data_uri(plot_timeline(report), dpi=130),
            "rose": figure_to_data_uri(plot_rose(report), dpi=130),
            "sizes": figure_to_data_uri(plot_event_sizes(report), dpi=130),
        }
        frames = [
            {"src": figure_to_data_uri(plot_keyframe(k), dpi=130), "caption": keyframe_caption(k)}
            for k in keyframes
        ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        f=facts,
        img=img,
        keyframes=frames,
        face_images=face_images,
        keyframes_note=keyframes_note,
        baseline_s=BASELINE_BEFORE_S,
        direction_legend=direction_legend(),
    )
