"""``analyze_process``.

A video (or a saved track) in, report files out; ``report_process``: a report.json in, the rendered
reports out.

Only chain the public steps: check the inputs and the output directory, claim it
(:func:`facetwitch.outputs.out_dir_claim`), track (or load a saved track), analyse
(:func:`facetwitch.analysis.analysis_run`), write and render (:mod:`facetwitch.outputs`).
``analyze_process`` is what ``facetwitch analyze`` and ``facetwitch record`` call,
``report_process`` what ``facetwitch report`` calls.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._files import input_check, outputs_not_inputs, path_given
from ._text import path_from_fields
from .analysis import Analysis, analysis_run
from .landmarks.track import LandmarkTrack
from .outputs import _OUTPUT_NAMES, RENDERED_NAMES, out_dir_check, out_dir_claim, outputs_install

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
    workers: int | None = None,
    measure_progress=None,
) -> tuple[Analysis, dict[str, Path]]:
    """Video (or saved ``.npz`` track) in, report files out.

    A ``.npz`` source is a saved LandmarkTrack: the model is not run again. ``workers``: the
    processes tracking a video (:func:`~facetwitch.landmarks.tracker.track_video`; None: one
    per core). ``progress``: the tracking's progress callback; ``measure_progress``: the
    analysis's, for a recording long enough to be analysed in stretches (:func:`analysis_run`).
    Returns the analysis and the paths written (report, events_csv, track, and the rendered
    reports).

    Writing is :func:`facetwitch.outputs.outputs_write` (all or nothing; an interrupt while
    rendering keeps the finished analysis).
    """
    source = path_given(source, "the input")
    # Checks first (nothing is created on a bad input), then the long part, then the writing.
    # What --out holds is judged once it is held (and what a killed run left is cleaned up).
    out_dir_check(out_dir, force=True)
    if complaint:  # too long: refused before the model runs, not after
        from .complaint import complaint_text_check

        complaint = complaint_text_check(complaint)
    input_check(source)
    outputs_not_inputs([Path(out_dir) / name for name in _OUTPUT_NAMES], [source],
                       what="the input")  # fmt: skip
    # Held alone until the end: a second run into it stops here, not after its tracking.
    with out_dir_claim(out_dir, what="analyze") as out:
        out_dir_check(out, force=force)  # again, now that no other run can change it
        video: Path | None = source
        video_sha256 = None  # known for the video tracked here; a track's video is checked later
        if source.suffix.lower() == ".npz":
            track = LandmarkTrack.load(source)
            video_path = path_from_fields(track.info)
            video = video_path if video_path is not None and video_path.is_file() else None
        else:
            from .landmarks import track_video

            track = track_video(source, model=model, progress=progress, workers=workers)
            track = _recording_damage(source, track)
            video_sha256 = track.info.get("sha256")
        analysis = analysis_run(
            track, mirrored=mirrored, complaint=complaint, complaint_flags=complaint_flags,
            markers=markers, progress=measure_progress,
        )  # fmt: skip
        for w in analysis.report["quality"]["warnings"]:
            logger.info("quality: %s", w)
        paths = outputs_install(
            analysis, out, video=video, video_sha256=video_sha256, force=force, render=render,
            face_images=face_images,
        )  # fmt: skip
    return analysis, paths


def _recording_damage(video: Path, track: LandmarkTrack) -> LandmarkTrack:
    """Add to a facetwitch recording's lost ranges the stretches its file lost.

    Found from its timestamps sidecar (:func:`facetwitch.capture.recorder.recording_lost_ranges`):
    damaged data the demuxer skipped without an error is then said as damaged, not as a pause
    in the recording or frames the camera dropped. Any other video is returned as it is.
    """
    if not video.with_name(f"{video.stem}.timestamps.csv").is_file():
        return track
    from .capture.recorder import recording_lost_ranges
    from .landmarks.tracker import ranges_merge

    found = recording_lost_ranges(video, track.t)
    if not found:
        return track
    lost = [*(track.info.get("lost_ranges_s") or []), *found]
    merged = ranges_merge([(a, float("inf") if b is None else b) for a, b in lost])
    logger.debug("%s: lost ranges from its timestamps sidecar: %s", video, found)
    return track.with_info(lost_ranges_s=merged)  # the reader's form: [from, to or inf]


def report_process(
    report_json: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    video: str | os.PathLike | None = None,
    track: str | os.PathLike | None = None,
    face_images: bool = True,
    force: bool = False,
) -> dict[str, Path]:
    """Return a report.json in, report.html, report.pdf and summary.txt out (``facetwitch report``).

    ``out_dir`` defaults to the report's own directory, ``video`` to the report's
    ``input.path`` (if it is a file), ``track`` to ``track.npz`` beside the report (if there).
    As for ``analyze``: inputs are checked first (one-line :class:`InputError`, exit 3), an
    output that is an input is refused, the directory is held alone while rendering, and a
    file of an output's name already there (a user's own ``summary.txt`` too) is overwritten
    only with ``force``.
    """
    from .reports import report_load, report_render

    report_json = path_given(report_json, "the report")
    input_check(report_json, "a report.json")
    for given in (video, track):
        if given is not None:
            input_check(path_given(given, "--video/--track"), "a file")
    data = report_load(report_json)
    analysed = path_from_fields(data["input"])
    if video is None and analysed is not None and analysed.is_file():
        video = analysed
    if track is None and (report_json.parent / "track.npz").is_file():
        track = report_json.parent / "track.npz"
    out_dir = report_json.parent if out_dir is None else out_dir
    out_dir_check(out_dir, force=True, names=RENDERED_NAMES)
    outputs_not_inputs([Path(out_dir) / name for name in RENDERED_NAMES],
                       [report_json, video, track], what="an input")  # fmt: skip
    with out_dir_claim(out_dir, what="report") as out:
        out_dir_check(out, force=force, names=RENDERED_NAMES)
        return report_render(data, out, video=video, track=track, face_images=face_images)
