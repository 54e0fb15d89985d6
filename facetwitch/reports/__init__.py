"""Reports: report.json -> ``report.html``, ``report.pdf`` and ``summary.txt``.

All three derive from the report.json dict only (numbers formatted once, in
:mod:`facetwitch.reports.text`); key frames are re-read from the video by timestamp and placed
with the LandmarkTrack.

>>> paths = report_render("report.json", "out/", video="clip.mp4",
...                       track="track.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from .._files import write_atomic as _write
from ..errors import FacetwitchWarning, OutputError
from .keyframes import keyframes_extract, keyframes_select, keyframes_video_problem
from .text import report_facts, report_load, summary_text

logger = logging.getLogger("facetwitch")

__all__ = [
    "report_render",
    "summary_text",
    "report_load",
    "report_facts",
    "keyframes_extract",
    "keyframes_select",
]


def report_render(
    report: dict | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    track=None,
    face_images: bool = True,
    n_keyframes: int = 3,
    video_sha256: str | None = None,
) -> dict[str, Path]:
    """Render a report.json into ``report.html``, ``report.pdf`` and ``summary.txt``.

    Parameters
    ----------
    report : dict or path
        The report.json dict, or its path.
    out_dir : path
        Output directory (created if missing); existing report files are replaced.
    video : path, optional
        The analysed video, for key-frame pictures.
    track : LandmarkTrack or path to its ``.npz``, optional
        Places the key-frame crops; without it there are no key frames.
    face_images : bool
        False: key frames are drawings of the landmarks instead of face pictures (privacy).
    n_keyframes : int
        Number of strongest twitches shown as key frames.
    video_sha256 : str, optional
        ``video``'s sha256 when the caller knows it. Face pictures are cut only from the video
        the report measured (its ``input.sha256``); another file gives landmark drawings, a
        :class:`~facetwitch.errors.FacetwitchWarning` and a note in the reports saying why.
        Without it, the video is hashed once, and only when face pictures are to be cut.

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path, "summary": Path}``.
    """
    from .html import html_render
    from .pdf import pdf_render

    data = report_load(report)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    facts = report_facts(data)
    video_note = ""
    if (
        face_images
        and video is not None
        and track is not None
        and keyframes_select(data, n_keyframes)
    ):
        problem = keyframes_video_problem(data, video, video_sha256=video_sha256)
        if problem:
            warnings.warn(f"{problem}: key frames without face pictures", FacetwitchWarning,
                          stacklevel=2)  # fmt: skip
            video_note = (f"No face pictures: {problem}. The key frames show the tracked "
                          "landmarks instead.")  # fmt: skip
            video = None
        else:  # checked: the same file, not to be hashed again
            video_sha256 = str(data["input"]["sha256"]).lower()
    keyframes = keyframes_extract(
        data,
        video=video,
        track=track,
        n=n_keyframes,
        face_images=face_images,
        video_sha256=video_sha256,
    )
    if keyframes:
        note = video_note
    elif track is None:
        note = "Key frames need the landmark track of the video (track.npz); none was given."
    elif not keyframes_select(data, n_keyframes):
        note = "No twitches, so no key frames."
    else:
        note = "The face was not found near the twitches, so no key frames could be cut."
    paths = {
        "html": _write(
            out / "report.html",
            html_render(data, facts, keyframes, face_images=face_images, keyframes_note=note),
        ),
        "pdf": _write(
            out / "report.pdf", pdf_render(data, facts, keyframes, keyframes_note=video_note)
        ),
        "summary": _write(out / "summary.txt", summary_text(data)),
    }
    logger.info("report written to %s", out)
    return paths
