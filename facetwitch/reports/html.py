"""report.html: one self-contained page (inline CSS, images as data URIs, no network, no script).

Rendered with the Jinja2 templates shipped in ``facetwitch/reports/templates`` with
autoescaping on: the patient's text and every string from report.json are shown as text.

A long recording's timeline is an overview binned by minutes plus continuous panels of a few
minutes each, folded (``<details>``): zoomable without a script, so that the page keeps its
``default-src 'none'`` policy, prints, and opens in viewers that block scripts.
"""

from __future__ import annotations

from importlib import resources

import jinja2
import matplotlib

from .keyframes import BASELINE_BEFORE_S, KeyFrame, keyframe_caption, plot_keyframe
from .plots import RC, direction_legend, figure_to_data_uri, plot_event_sizes, plot_rose
from .timeline import plot_timeline, segment_caption, timeline_segments


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
    """Render the report page as a string (see :func:`facetwitch.reports.report_render`).

    Parameters
    ----------
    report : dict
        The loaded report.json dict.
    facts : dict
        :func:`~facetwitch.reports.text.report_facts` of it.
    keyframes : list of KeyFrame
        Key frames to show.
    face_images : bool
        False: the key frames are landmark drawings (privacy).
    keyframes_note : str
        Said with the key frames (why there are none, or no face pictures).

    Returns
    -------
    str
    """
    with matplotlib.rc_context(RC):
        img = {
            "timeline": figure_to_data_uri(plot_timeline(report), dpi=130),
            "rose": figure_to_data_uri(plot_rose(report), dpi=130),
            "sizes": figure_to_data_uri(plot_event_sizes(report), dpi=130),
        }
        panels = [
            {
                "src": figure_to_data_uri(plot_timeline(report, window=w, binned=False), dpi=110),
                "caption": segment_caption(report, *w),
                "twitches": any(
                    e.get("kind") == "twitch" and w[0] <= e["t_peak_s"] < w[1]
                    for e in report.get("events", [])
                ),
            }
            for w in timeline_segments(report)
        ]
        frames = [
            {"src": figure_to_data_uri(plot_keyframe(k), dpi=130), "caption": keyframe_caption(k)}
            for k in keyframes
        ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        f=facts,
        img=img,
        panels=panels,
        keyframes=frames,
        face_images=face_images,
        keyframes_note=keyframes_note,
        baseline_s=BASELINE_BEFORE_S,
        direction_legend=direction_legend(),
    )
