"""``analyze_process``: a video (or a saved track) in, report files out.

Only chains the public steps: check the output directory, track (or load a saved track),
analyse (:func:`facetwitch.analysis.analysis_run`), write and render
(:mod:`facetwitch.outputs`). It is what ``facetwitch analyze`` and ``facetwitch record`` call.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .analysis import Analysis, analysis_run
from .errors import InputError
from .landmarks.track import LandmarkTrack
from .outputs import out_dir_check, outputs_write

logger = logging.getLogger("facetwitch")


def analyze_process(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    mirrored: bool = False,
    complaint: str | None = None,
    complaint_flags: dict | None = None,
    markers: list[dict] | None = None,
    model=None,
    force: bool = False,
    render: bool = True,
    face_images: bool = True,
    progress=None,
) -> tuple[Analysis, dict[str, Path]]:
    """Video (or saved ``.npz`` track) in, report files out.

    A ``.npz`` source is a saved LandmarkTrack: the model is not run again. Returns the
    analysis and the paths written (report, events_csv, track, and the rendered reports).

    Writing is :func:`facetwitch.outputs.outputs_write` (all or nothing; an interrupt while
    rendering keeps the finished analysis).
    """
    source = Path(source)
    # Checks first (nothing is created on a bad input), then the long part, then the writing.
    out_dir_check(out_dir, force=force)
    if not source.exists():
        raise InputError(f"{source}: no such file")
    if source.is_dir():
        raise InputError(f"{source}: is a directory, not a video file")
    video: Path | None = source
    video_sha256 = None  # known for the video tracked here; a track's video is checked later
    if source.suffix.lower() == ".npz":
        track = LandmarkTrack.load(source)
        video_path = Path(str(track.info.get("path", "")))
        video = video_path if video_path.is_file() else None
    else:
        from .landmarks import track_video

        track = track_video(source, model=model, progress=progress)
        video_sha256 = track.info.get("sha256")
    analysis = analysis_run(
        track, mirrored=mirrored, complaint=complaint, complaint_flags=complaint_flags,
        markers=markers,
    )  # fmt: skip
    for w in analysis.report["quality"]["warnings"]:
        logger.info("quality: %s", w)
    paths = outputs_write(
        analysis, out_dir, video=video, video_sha256=video_sha256, force=force, render=render,
        face_images=face_images,
    )  # fmt: skip
    return analysis, paths
