"""The public Python API: ``facetwitch.track``, ``.analyze``, ``.render`` and friends.

Each function is one step a notebook or a script can call, and each is what the command line
calls too (``facetwitch track``, ``analyze``, ``report``, ``record``, ``simulate``)::

    import facetwitch

    track = facetwitch.track("video.mp4")        # MediaPipe + region flow: the slow part
    result = facetwitch.analyze(track, complaint="my upper lip twitches up and to the left")
    facetwitch.render(result, "out/")           # report.json, events.csv, track.npz, html, pdf

    result.report["summary"]["twitch_count"]    # report.json's content, as a dict
    result.events                                # the detector's Event objects

Units, sides and directions are those of report.json (CONVENTIONS.md): seconds from the
frames' timestamps, millimetres from the iris, the patient's own left and right, 0 deg toward
the patient's left and 90 deg up. Errors a user can cause raise
:class:`facetwitch.errors.FacetwitchError` subclasses with a one-line message.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .analysis import Analysis
    from .capture import RecordResult
    from .landmarks.track import LandmarkTrack

#: A progress callback: ``progress(done_frames, total_frames)``; it may have a ``close()``.
Progress = Callable[[int, int], None]


def track(
    video: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    mode: str = "video",
    max_side: int | None = 1280,
    progress: Progress | None = None,
    workers: int | None = None,
    turn: int | str = "auto",
) -> LandmarkTrack:
    """Track the face through a video: landmarks, blendshapes, head pose and region motion.

    Parameters
    ----------
    video : path
        A video file (mp4/mov/mkv/webm/avi; H.264, HEVC, VP9, ...). Phone rotation is applied,
        non-square pixels are shown as a player shows them, and times come from the frames'
        presentation timestamps (variable frame rates are fine).
    model : path, optional
        ``face_landmarker.task``; by default ``FACETWITCH_MODEL``, the cache, or the one-time,
        sha256-verified fetch.
    mode : {"video", "image"}
        MediaPipe's running mode.
    max_side : int or None
        Frames whose longer side exceeds this many pixels are downscaled while decoding.
    progress : callable, optional
        ``progress(done_frames, total_frames)``, called after each frame.
    workers : int or None
        Processes to track with: a video of a minute or more is cut into that many chunks,
        tracked in parallel and joined into the track one process gives. None: one per CPU
        core; 1: this process only.
    turn : {"auto", 0, 90, 180, 270}
        Degrees to turn every frame clockwise after the file's own rotation. "auto" turns a
        face that lies on its side or upside down in the picture upright (with a warning;
        ``track.info["turned_deg"]`` says how far), and leaves an upright face as it is.

    Returns
    -------
    LandmarkTrack
        One row per decoded frame (``found`` is False where no face was seen). Save it with
        ``track.save("track.npz")``; analyse it with :func:`analyze`.

    Raises
    ------
    InputError
        The file cannot be read as a video.
    ModelError
        The face model cannot be found, fetched or verified.

    Examples
    --------
    >>> track = facetwitch.track("samples/demo_upper_lip.mp4")  # doctest: +SKIP
    >>> track.found_fraction  # doctest: +SKIP
    1.0
    """
    from ._validate import check_callable, check_model
    from .landmarks.tracker import track_video

    if not isinstance(video, (str, os.PathLike)):
        hint = ("; it is already a track: analyse it with facetwitch.analyze(track)"
                if hasattr(video, "points") else "")  # fmt: skip
        raise TypeError(f"track() needs the path of a video file, got "
                        f"{type(video).__name__}{hint}")  # fmt: skip
    check_model(model)
    check_callable("progress", progress, "progress(done_frames, total_frames)")
    return track_video(video, model=model, mode=mode, max_side=max_side, progress=progress,
                       workers=workers, turn=turn)  # fmt: skip


def load_track(path: str | os.PathLike) -> LandmarkTrack:
    """Load a track saved earlier (``track.npz``, from :func:`track` or ``facetwitch analyze``).

    Parameters
    ----------
    path : path
        The ``.npz`` file.

    Returns
    -------
    LandmarkTrack

    Raises
    ------
    InputError
        The file is missing, damaged, or not a facetwitch track.

    Examples
    --------
    >>> track = facetwitch.load_track("demo-report/track.npz")  # doctest: +SKIP
    """
    from .landmarks.track import LandmarkTrack

    return LandmarkTrack.load(path)


def analyze(
    track: LandmarkTrack | str | os.PathLike,
    *,
    mirrored: bool = False,
    complaint: str | None = None,
    region: str | None = None,
    side: str | None = None,
    direction: str | None = None,
    markers: Iterable[float | str | dict] | None = None,
    settings: dict | None = None,
) -> Analysis:
    """Find and measure twitches, blinks and other movements in a track (no files written).

    Parameters
    ----------
    track : LandmarkTrack or path
        A track from :func:`track`, or the path of a saved ``track.npz``.
    mirrored : bool
        The video is mirrored (a selfie preview saved as shown): sides are swapped so that
        ``left`` and ``right`` stay the patient's own.
    complaint : str, optional
        The patient's own description (English), checked against the measurements.
    region, side, direction : str, optional
        Claims given directly (``upper_lip``, ``left``, ``up-left``, ...); they take
        precedence over what ``complaint`` says of the same aspect.
    markers : iterable of float, str or dict, optional
        Moments the patient marked ("I felt one"), in seconds from the first frame (0 or
        more; a str as a person types it, ``"12.5"`` or ``"0:12.5"``), or ``{"t_s": ...}``
        dicts, as ``facetwitch record`` writes them.
    settings : dict, optional
        Detector settings other than the defaults, as keyword arguments of
        :func:`facetwitch.signal.events_process`; every setting used is in
        ``report["detector"]``.

    Returns
    -------
    Analysis
        ``.report`` (report.json's content, a dict), ``.events`` (the detector's events),
        ``.signals`` (the region signals) and ``.track``.

    Raises
    ------
    UsageError
        An unknown region, side or direction.
    ValueError, TypeError
        A marker that is not a time of 0 s or more; a setting that is unknown or of the wrong
        type.

    Examples
    --------
    >>> result = facetwitch.analyze(track, complaint="my upper lip twitches")  # doctest: +SKIP
    >>> result.report["summary"]["twitch_count"]  # doctest: +SKIP
    7
    """
    from ._validate import check_flag
    from .analysis import analysis_run, claim_flags

    mirrored = check_flag("mirrored", mirrored)
    if not hasattr(track, "points"):
        if not isinstance(track, (str, os.PathLike)):
            raise TypeError("analyze() needs a LandmarkTrack (from facetwitch.track) or the "
                            f"path of a saved track.npz, got {type(track).__name__}")  # fmt: skip
        track = load_track(track)
    flags = claim_flags(region=region, side=side, direction=direction)
    marks = None if markers is None else _markers_checked(markers)
    return analysis_run(
        track, mirrored=mirrored, complaint=complaint, complaint_flags=flags, markers=marks,
        settings=settings,
    )  # fmt: skip


def _markers_checked(markers) -> list[dict]:
    """``analyze``'s markers as ``{"t_s": seconds, ...}`` dicts; ValueError/TypeError naming one.

    A NaN or negative time had gone into report.json as it was (NaN is not JSON).
    """
    import math
    from numbers import Real

    from .analysis import marker_seconds

    if isinstance(markers, (str, bytes, dict, Real)) or not isinstance(markers, Iterable):
        raise TypeError(f"markers must be a list of times in seconds, got {markers!r}")
    out = []
    for i, m in enumerate(markers):
        row = dict(m) if isinstance(m, dict) else {"t_s": m}
        if "t_s" not in row:
            raise ValueError(f"markers[{i}]: {m!r} has no 't_s' (the time in seconds)")
        t = row["t_s"]
        if isinstance(t, str):
            try:
                t = marker_seconds(t)
            except ValueError as exc:
                raise ValueError(f"markers[{i}]: {t!r} is not {exc}") from None
        elif isinstance(t, bool) or not isinstance(t, Real):
            raise TypeError(f"markers[{i}]: {t!r} is not a time in seconds (a number)")
        if not (math.isfinite(t) and t >= 0):
            raise ValueError(f"markers[{i}]: {t!r} is not a time in seconds from the start "
                             "(0 or more)")  # fmt: skip
        out.append({**row, "t_s": float(t)})
    return out


def render(
    result: Analysis,
    out_dir: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    force: bool = False,
    report_only: bool = False,
    face_images: bool = True,
) -> dict[str, Path]:
    """Write an analysis's outputs into a directory, all of them or none.

    Parameters
    ----------
    result : Analysis
        What :func:`analyze` returned.
    out_dir : path
        Output directory (created if needed).
    video : path, optional
        The analysed video, for key-frame pictures (default: the track's own video, if it is
        still where it was; its sha256 is checked before a face is shown).
    force : bool
        Replace an earlier report in ``out_dir``.
    report_only : bool
        Only report.json, events.csv and track.npz (no HTML, PDF or text rendering).
    face_images : bool
        Face crops in the reports (False: landmark drawings only, for privacy).

    Returns
    -------
    dict of str to Path
        ``report`` (report.json), ``events_csv``, ``track``, and ``html``, ``pdf``,
        ``summary`` unless ``report_only``.

    Raises
    ------
    OutputError
        ``out_dir`` cannot be written, or already holds a report and ``force`` is false.

    Examples
    --------
    >>> paths = facetwitch.render(result, "out/")  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['events_csv', 'html', 'pdf', 'report', 'summary', 'track']
    """
    from ._validate import check_flag, check_path
    from .outputs import outputs_write

    force, report_only = check_flag("force", force), check_flag("report_only", report_only)
    face_images = check_flag("face_images", face_images)
    from .analysis import Analysis

    if not isinstance(result, Analysis):
        hint = (" (a report.json is rendered again by 'facetwitch report REPORT.json')"
                if isinstance(result, (str, os.PathLike, dict)) else "")  # fmt: skip
        raise TypeError(f"render() needs the Analysis that facetwitch.analyze returned, got "
                        f"{type(result).__name__}{hint}")  # fmt: skip
    check_path("out_dir", out_dir, "the output directory")
    if video is not None:
        check_path("video", video, "the analysed video")
    if video is None:
        own = Path(str(result.track.info.get("path") or ""))
        video = own if own.is_file() else None
    return outputs_write(
        result, out_dir, video=video, force=force, render=not report_only,
        face_images=face_images,
    )  # fmt: skip


def record(
    camera: int | str = 0,
    out_dir: str | os.PathLike | None = None,
    *,
    duration_s: float | None = None,
    preview: bool = True,
    analyze: bool = True,
    model: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> RecordResult:
    """Record from a webcam (every frame saved as it comes), then analyse the recording.

    Parameters
    ----------
    camera : int or str
        Camera index (see ``facetwitch cameras``), or a video file played as a camera.
    out_dir : path, optional
        Output directory (default ``./facetwitch-session-<date>-<time>``).
    duration_s : float, optional
        Stop after this many seconds (else q/Esc in the preview, or Ctrl-C).
    preview : bool
        Show the mirrored live preview (space marks "I felt one").
    analyze : bool
        Analyse the recording when it ends and write the report beside it.
    model : path, optional
        ``face_landmarker.task`` to use.
    progress : callable, optional
        ``progress(done_frames, total_frames)`` during the analysis.

    Returns
    -------
    RecordResult
        The recording's paths, frame count, markers, and the analysis (or why there is none).

    Raises
    ------
    CameraError
        The camera cannot be opened.

    Examples
    --------
    >>> session = facetwitch.record(0, "today", duration_s=60)  # doctest: +SKIP
    """
    import numbers
    import time

    from ._validate import check_callable, check_flag, check_model, check_path
    from .capture import record_session, source_open

    preview, analyze = check_flag("preview", preview), check_flag("analyze", analyze)
    if isinstance(camera, bool) or not isinstance(camera, numbers.Integral | str | os.PathLike):
        raise TypeError(f"'camera' must be a camera index (0, 1, ...) or a video file's path, "
                        f"got {camera!r:.80}")  # fmt: skip
    if out_dir is not None:
        check_path("out_dir", out_dir, "the output directory")
    check_model(model)
    check_callable("progress", progress, "progress(done_frames, total_frames)")
    if out_dir is None:
        out_dir = Path(time.strftime("facetwitch-session-%Y%m%d-%H%M%S"))
    return record_session(
        source_open(int(camera) if isinstance(camera, numbers.Integral) else os.fspath(camera)),
        out_dir, duration_s=duration_s, preview=preview, analyze=analyze, model=model,
        progress=progress,
    )  # fmt: skip


def simulate(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    events: int = 8,
    blinks: int = 0,
    regions: str | Iterable[str] | None = None,
    sides: str | Iterable[str] = ("left", "right"),
    amplitude_mm: float | tuple[float, float] = (1.0, 3.0),
    seed: int | None = None,
    mirrored: bool = False,
    model: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> dict:
    """Inject twitches of known region, side, size, direction and timing into real face video.

    Ground truth for testing the detector: ``dst`` gets the video, ``dst``'s ``.truth.json``
    the injected events in report.json's event fields.

    Parameters
    ----------
    src : path
        A clean video of a face.
    dst : path
        The output video (``.mp4`` or ``.mkv``).
    events, blinks : int
        How many twitches and blinks to inject.
    regions : str or iterable of str, optional
        Region(s) to choose from (default: all that can be warped).
    sides : str or iterable of str
        Side(s) (the patient's own) to choose from.
    amplitude_mm : float or (float, float)
        Twitch size in mm, or a range.
    seed : int, optional
        Same seed, same plan.
    mirrored : bool
        ``src`` is mirrored (the patient's left on the image left).
    model : path, optional
        ``face_landmarker.task`` to place the events with.
    progress : callable, optional
        ``progress(done_frames, total_frames)``.

    Returns
    -------
    dict
        The truth (also written beside ``dst``).

    Examples
    --------
    >>> truth = facetwitch.simulate("clean.mp4", "twitchy.mp4", events=5, seed=1)  # doctest: +SKIP
    """
    from ._validate import check_callable, check_flag, check_model, check_path
    from .simulation import DEFAULT_REGIONS, simulate_process

    mirrored = check_flag("mirrored", mirrored)
    check_path("src", src, "a video file")
    check_path("dst", dst, "the output video")
    check_model(model)
    check_callable("progress", progress, "progress(done_frames, total_frames)")
    for name, count in (("events", events), ("blinks", blinks), ("seed", seed)):
        if (count is not None or name != "seed") and (
            isinstance(count, bool) or not isinstance(count, int)
        ):  # "3" and 2.5 had been taken as 3 and 2; a str seed failed inside numpy
            raise TypeError(f"{name} must be a whole number, got {count!r}")
    # one region or side named alone is that one (iterated, a str is its letters: 'u', 'p', ...)
    regions = [regions] if isinstance(regions, str) else regions
    sides = [sides] if isinstance(sides, str) else sides
    return simulate_process(
        src, dst, n_events=events, n_blinks=blinks,
        regions=list(regions) if regions is not None else list(DEFAULT_REGIONS),
        sides=list(sides), amplitude_mm=amplitude_mm, seed=seed, mirrored=mirrored,
        model=model, progress=progress,
    )  # fmt: skip
