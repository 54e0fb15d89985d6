"""A recording session: capture, write every frame at once, preview, then analyse the file.

:func:`record_session` runs on the calling (main) thread: it reads a frame from the source,
writes it to the :class:`~facetwitch.capture.recorder.Recorder` (every frame, always), hands it
to a tracking thread for the live overlay, and shows the preview. The tracking thread keeps only
the newest frame: when tracking is slower than capture, frames are skipped *for the overlay*
and counted (``overlay_dropped``); the recording never waits for tracking.

Sound: a :class:`~facetwitch.capture.audio.AudioSource` (the microphone for a camera, the file's
own sound for a file played as the camera) is read after each frame and written into the same
file; where there is none (no microphone, no ``sounddevice``/PortAudio, a file without sound)
the session records picture only and ``RecordResult.no_sound`` says why.

However it ends (duration reached, ``q``/Esc, window closed, Ctrl-C, a source that fails, disk
space running low) the recorder is closed properly (a playable, indexed ``.mkv``), and then the
recorded file is analysed by the same call as ``facetwitch analyze``
(:func:`facetwitch.process.analyze_process`), with the patient's markers. A write that fails (a
disk that fills up faster than the free-space check sees) stops it too: the file is closed with
what reached the disk, and is not analysed (``RecordResult.write_error``).
"""

from __future__ import annotations

import logging
import numbers
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .._signals import stop_info, stop_signals
from .._text import plural
from ..errors import (
    EXIT_CAPTURE,
    EXIT_OUTPUT,
    CaptureError,
    FacetwitchError,
    FacetwitchWarning,
    OutputError,
    RenderError,
)
from .audio import AudioSource, file_audio_open, microphone_open
from .overlay import LiveEventCounter, OverlayState, overlay_draw
from .recorder import MIN_FREE_MB, MIN_FREE_START_MB, Recorder, markers_read
from .source import CameraSource, CapturedFrame, FileSource, FrameSource

logger = logging.getLogger("facetwitch")

#: Preview window title.
WINDOW_TITLE = "facetwitch - recording (q/Esc: stop, space: I felt one now)"

#: How a session ended (``RecordResult.stop_reason``).
STOP_REASONS = {
    "duration": "the requested duration was reached",
    "key": "stopped with q/Esc",
    "window_closed": "the preview window was closed",
    "interrupted": "stopped with Ctrl-C",
    "terminated": "stopped by a termination signal (SIGTERM)",
    "hangup": "stopped because the terminal was closed (SIGHUP)",
    "source_ended": "the source ended",
    "source_failed": "the source failed mid-stream",
    "disk_low": "free disk space ran low",
    "write_failed": "writing the recording failed (a full disk?)",
}


@dataclass(frozen=True)
class RecordResult:
    """What a session recorded and where it is."""

    out_dir: Path
    video_path: Path
    timestamps_path: Path
    markers_path: Path
    session_path: Path
    frames: int
    duration_s: float
    markers: tuple[dict, ...]
    stop_reason: str
    #: Frames tracked for the live overlay / skipped for it because tracking fell behind.
    overlay_frames: int
    overlay_dropped: int
    #: Mean tracking time per overlay frame (ms); NaN without tracking.
    tracking_ms: float
    live_count: int
    warnings: tuple[str, ...] = ()
    report_paths: dict = field(default_factory=dict)
    analysis: object | None = field(default=None, repr=False)
    #: Why there is no report (or, with ``analysis`` set, which rendered output is missing).
    analysis_error: str | None = None
    #: What the sound came from (e.g. the microphone's name), or None.
    sound: str | None = None
    #: Why the recording has no sound (None when it has).
    no_sound: str | None = None
    #: The exit code of the error that kept the analysis from being made (None: no error).
    analysis_exit_code: int | None = None
    #: Why the recording stopped when writing it failed (a full disk), as one line; None when
    #: nothing failed. The file holds what was written before (``frames`` counts it).
    write_error: str | None = None

    @property
    def report_path(self) -> Path | None:
        """The HTML report if rendered, else report.json, else None."""
        for key in ("html", "report"):
            if key in self.report_paths:
                return Path(self.report_paths[key])
        return None

    @property
    def interrupted(self) -> bool:
        """True when the session was stopped with Ctrl-C, SIGTERM or SIGHUP."""
        return self.stop_reason in ("interrupted", "terminated", "hangup")


# --------------------------------------------------------------------------------------------
class _OverlayTracker:
    """Tracks the newest submitted frame on a thread; older pending frames are skipped."""

    def __init__(self, tracker):
        self._tracker = tracker
        self._cond = threading.Condition()
        self._pending: CapturedFrame | None = None
        self._stop = False
        self.result = None
        self.processed = 0
        self.dropped = 0
        self.busy_s = 0.0
        self.counter = LiveEventCounter()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="facetwitch-overlay", daemon=True)
        self._thread.start()

    def submit(self, frame: CapturedFrame) -> None:
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._pending = frame
            self._cond.notify()

    def _run(self) -> None:
        from ..landmarks.video import Frame

        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                frame, self._pending = self._pending, None
            t0 = time.perf_counter()
            try:
                res = self._tracker.process(Frame(frame.index, frame.t_s, frame.rgb))
                self.counter.update(res.t_s, res.found, res.points, res.region_flow)
            except Exception as exc:  # the overlay is a comfort; the recording goes on
                self.error = f"{type(exc).__name__}: {exc}"
                logger.debug("overlay tracking failed: %s", self.error)
                continue
            finally:
                self.busy_s += time.perf_counter() - t0
            with self._cond:
                self.result = res
                self.processed += 1

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            if self._pending is not None:
                self.dropped += 1
                self._pending = None
            self._cond.notify()
        self._thread.join(timeout=10)


class _StopFlag:
    """SIGINT.

    SIGTERM and SIGHUP handler for the recording loop (those not ignored:
    :func:`facetwitch._signals.stop_signals`): the first signal asks the loop to stop after the
    current frame (so no frame is half-written, and the file is closed and analysed as after any
    other stop); a second one raises KeyboardInterrupt. ``reason`` is ``"interrupted"`` (Ctrl-C),
    ``"terminated"`` (SIGTERM) or ``"hangup"`` (SIGHUP).
    """

    _REASONS = {"interrupted": "interrupted", "terminated": "terminated", "hung up": "hangup"}

    def __init__(self):
        self.set = False
        self.reason = ""
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in stop_signals()}
        return self

    def _handle(self, signum, frame):
        if self.set:  # a second signal: whatever handler was there before, or Ctrl-C's default
            old = self._old.get(signum)
            if callable(old):
                old(signum, frame)
            raise KeyboardInterrupt
        self.set = True
        self.reason = self._REASONS[stop_info(signum)[0]]

    def __exit__(self, *exc):
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old = {}


def _xcb_clash() -> bool:
    """Return True if OpenCV's Qt window would hang.

    PyAV's bundled X libraries were loaded first.

    PyAV's and OpenCV's wheels bundle libxcb helpers under the same mangled names; whichever
    loads first is used by both, and OpenCV's Qt plugin then livelocks at 100 % CPU inside
    ``namedWindow`` (PyAV-Org/PyAV#978, #1050). Linux only (``/proc/self/maps``).
    """
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            maps = f.read()
    except OSError:
        return False
    return any(f"av.libs/libxcb-{part}" in maps for part in ("xfixes", "shape", "shm"))


def preview_unavailable() -> str | None:
    """Why the preview window cannot open here (no display), or None when it can.

    Asked before the window is created: on Linux without a display, OpenCV's Qt does not raise
    ``cv2.error`` but aborts the whole process (exit 134) before facetwitch can say anything.
    ``QT_QPA_PLATFORM`` set (e.g. ``offscreen``) is the user's choice of where Qt draws: trusted.
    """
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY"):
        return None
    if os.environ.get("WAYLAND_DISPLAY"):
        if not _qt_x11_only():
            return None
        return ("no X display (DISPLAY is not set, and OpenCV's window needs X11 or XWayland "
                "even under Wayland)")  # fmt: skip
    return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"


def _qt_x11_only() -> bool:
    """Return True when OpenCV's bundled Qt can draw on X11 only.

    True when OpenCV's bundled Qt can draw on X11 only (the PyPI wheels ship just the xcb platform
    plugin), so that a Wayland session still needs XWayland's DISPLAY.
    """
    import cv2

    platforms = Path(cv2.__file__).parent / "qt" / "plugins" / "platforms"
    names = [p.name for p in platforms.glob("*.so")] if platforms.is_dir() else []
    return bool(names) and all("xcb" in n for n in names)


def preview_fallback_message(why: str) -> str:
    """Return the one line said when recording goes on without the preview window."""
    return (
        f"{why}: recording without the preview window, so without the live overlay and "
        "the marker key"
    )


class _Preview:
    """The OpenCV window: show, read keys, notice when it was closed."""

    def __init__(self, title: str = WINDOW_TITLE):
        import cv2

        self.title = title
        self._cv2 = cv2
        if _xcb_clash():
            raise CaptureError(
                "the preview window cannot open in this process: PyAV was loaded before OpenCV, "
                "and OpenCV's window would hang on PyAV's copy of libxcb (PyAV-Org/PyAV#978); "
                "import facetwitch.capture (or cv2) before anything that imports av, or use "
                "--no-preview"
            )
        try:
            cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise CaptureError(
                f"the preview window cannot be opened ({str(exc).strip()[:120]}); "
                "use --no-preview on a machine without a display"
            ) from None
        self.shown = 0

    def show(self, bgr) -> int:
        """Show ``bgr``; the key pressed (lower-cased code) or -1."""
        cv2 = self._cv2
        cv2.imshow(self.title, bgr)
        key = cv2.waitKey(1)
        self.shown += 1
        return key & 0xFF if key >= 0 else -1

    def closed(self) -> bool:
        """Return True when the user closed the window."""
        if self.shown < 2:
            return False
        try:
            return self._cv2.getWindowProperty(self.title, self._cv2.WND_PROP_VISIBLE) < 1
        except self._cv2.error:
            return True

    def close(self) -> None:
        try:
            self._cv2.destroyWindow(self.title)
            self._cv2.waitKey(1)
        except self._cv2.error:
            pass


# --------------------------------------------------------------------------------------------
def record_session(
    source: FrameSource,
    out_dir: str | os.PathLike,
    *,
    duration_s: float | None = None,
    preview: bool = True,
    analyze: bool = True,
    model=None,
    name: str = "recording",
    live_tracking: bool | None = None,
    min_free_start_mb: float = MIN_FREE_START_MB,
    min_free_mb: float = MIN_FREE_MB,
    on_frame=None,
    progress=None,
    sound: bool = True,
    audio_source: AudioSource | None = None,
    on_start=None,
) -> RecordResult:
    """Record from ``source`` into ``out_dir``, then analyse the recording there.

    Parameters
    ----------
    source : FrameSource
        A :class:`CameraSource`, :class:`FileSource` or anything with the same interface;
        opened and closed here.
    out_dir : path
        Directory for ``<name>.mkv`` and its sidecars, and for the report.
    duration_s : float, optional
        Stop after this many seconds of capture (else at q/Esc, Ctrl-C, or the end of the source).
    preview : bool
        Show the mirrored live preview with the overlay. Without a display (Linux, see
        :func:`preview_unavailable`) the session records without it, with a
        :class:`~facetwitch.errors.FacetwitchWarning`: the moment being recorded matters more
        than the window.
    analyze : bool
        Analyse the recording afterwards (``analyze_process``) and write the report.
    model : path, optional
        Face Landmarker model for the overlay and the analysis.
    name : str
        Stem of the recorded files.
    live_tracking : bool, optional
        Run the tracker for the overlay; default: when ``preview``.
    min_free_start_mb, min_free_mb : float
        Free disk space needed to start, and below which recording stops (with a warning).
    on_frame : callable, optional
        ``on_frame(frame, recorder)`` after each frame is written (scripts, demos, tests).
    progress : callable, optional
        Progress callback for the analysis.
    sound : bool
        Record sound too: from ``audio_source``, else the microphone (a camera source) or the
        file's own sound (a :class:`FileSource`). Where there is none the recording goes on
        without sound and ``RecordResult.no_sound`` says why (no warning: a computer without
        a microphone is not a fault).
    audio_source : AudioSource, optional
        Where the sound comes from (opened and closed here).
    on_start : callable, optional
        ``on_start()`` once the source is open and the recording file created, before the
        first frame (the CLI says "recording into ..." then: not for a camera that cannot be
        opened).

    Returns
    -------
    RecordResult
        Paths, frame count, how it ended, overlay figures, the report's paths.
        A source that fails mid-stream, or low disk space, ends the recording with a
        :class:`~facetwitch.errors.FacetwitchWarning`; the recording and report are kept.
    """
    out = Path(out_dir)
    try:  # refused before the first frame: the camera is let go at once, not when collected
        number = isinstance(duration_s, numbers.Real) and not isinstance(duration_s, bool)
        if duration_s is not None and not (number and duration_s > 0):
            raise ValueError(f"'duration_s' must be a number > 0, got {duration_s!r}.")
        record_out_check(out, name=name, analyze=analyze, source=source)
    except BaseException:
        source.close()
        raise
    why = preview_unavailable() if preview else None
    if why:
        warnings.warn(preview_fallback_message(why), FacetwitchWarning, stacklevel=2)
        preview = False
    if live_tracking is None:
        live_tracking = preview
    from ..outputs import out_dir_claim

    # Held alone from before the first frame to the end of the analysis: a second session or
    # analysis into the same directory stops at once.
    with out_dir_claim(out, what="record"):
        record_out_check(out, name=name, analyze=analyze)  # again, now that it is held
        try:
            return _session(source, out, duration_s, preview, analyze, model, name,
                            live_tracking, min_free_start_mb, min_free_mb, on_frame,
                            progress, sound, audio_source, on_start)  # fmt: skip
        except KeyboardInterrupt:  # a second Ctrl-C, or a signal while analysing
            _recording_kept_note(out, name)
            raise


#: The files of a recording named ``<name>``, besides the video ``<name>.mkv``.
_SIDECARS = (".timestamps.csv", ".markers.json", ".session.json")


def record_out_check(
    out_dir: str | os.PathLike,
    *,
    name: str = "recording",
    analyze: bool = True,
    source: FrameSource | None = None,
) -> Path:
    """Check, before anything is recorded, that the session can write into ``out_dir``.

    :class:`~facetwitch.errors.OutputError` (exit 5) if it cannot be created or written, if a
    recording of that name is there already (recordings are never overwritten), or, when the
    recording is to be analysed, if it holds a file the analysis would overwrite (a
    ``report.json``, a user's own ``events.csv``: the same rule as ``facetwitch analyze``
    without ``--force``); :class:`~facetwitch.errors.UsageError` (exit 2) if a video file
    played as the camera is one of those files. Found after the recording, these would leave
    a recording and no report.
    """
    from .._files import outputs_not_inputs
    from ..outputs import _OUTPUT_NAMES, out_dir_check

    out = out_dir_check(out_dir, names=_OUTPUT_NAMES if analyze else (), force_option=False)
    files = [out / f"{name}.mkv", *(out / f"{name}{ext}" for ext in _SIDECARS)]
    played = getattr(source, "path", None)
    outputs_not_inputs([*files, *(out / n for n in _OUTPUT_NAMES)], [played],
                       what="the video played as the camera")  # fmt: skip
    for path in files:
        if os.path.lexists(path):
            raise OutputError(f"{path}: exists already (recordings are never overwritten; "
                              "choose another output directory)")  # fmt: skip
    return out


def analyze_command(video: str | os.PathLike, out: str | os.PathLike, markers=()) -> str:
    """Return the command that analyses a kept recording as ``record`` would have.

    With its ``--out`` and a ``--marker`` for each of the patient's marks (``analyze`` does
    not read the ``.markers.json`` sidecar: a command without them lost the marks).
    """
    import shlex

    marks = "".join(
        " --marker " + f"{float(m['t_s']):.3f}".rstrip("0").rstrip(".")
        for m in markers
        if isinstance(m, dict) and isinstance(m.get("t_s"), int | float)
    )
    return f"facetwitch analyze {shlex.quote(str(video))} --out {shlex.quote(str(out))}{marks}"


def _recording_kept_note(out: Path, name: str) -> None:
    """Say where the recording is when a signal stops the session after it was closed."""
    video = out / f"{name}.mkv"
    if not video.is_file() or video.stat().st_size == 0:
        return
    if (out / "report.json").exists():  # the analysis is kept; its own note says what is left
        todo = ""
    else:
        try:
            marks = markers_read(out / f"{name}.markers.json")
        except (OSError, ValueError, KeyError, TypeError):
            marks = []
        todo = f"; to analyse it: {analyze_command(video, out, marks)}"
    note = (f"stopped before the analysis of the recording was finished; the recording is "
            f"complete and kept: {video}{todo}")  # fmt: skip
    warnings.warn(note, FacetwitchWarning, stacklevel=3)


def _session(source, out, duration_s, preview, analyze, model, name, live_tracking,
             min_free_start_mb, min_free_mb, on_frame, progress, sound,
             audio_source, on_start=None) -> RecordResult:  # fmt: skip
    """:func:`record_session` once its directory is checked and held."""
    messages: list[str] = []

    # Window and model problems surface before anything is recorded.
    window = _Preview() if preview else None
    tracker = recorder = overlay = None
    audio, no_sound = (audio_source, None) if audio_source is not None else (None, "sound is off")
    if audio_source is None and sound:
        audio, no_sound = _audio_for(source)
    stop_reason = "source_ended"
    try:
        if live_tracking:
            from ..landmarks.tracker import FaceTracker

            tracker = FaceTracker(model)
        if audio is not None:  # before the camera: the first frame must not lack sound
            try:
                audio.open()
            except OSError as exc:
                audio, no_sound = None, str(exc)
        source.open()
        info = source.info
        recorder = Recorder(
            out, name=name, width=info.width, height=info.height,
            min_free_start_mb=min_free_start_mb, min_free_mb=min_free_mb,
            metadata={"source": info.to_dict(),
                      "sound": {"source": audio.name, "rate_hz": audio.rate_hz}
                      if audio is not None else {"source": None, "why": no_sound}},
            audio_rate_hz=audio.rate_hz if audio is not None else None,
        )  # fmt: skip
        recorder.open()
        if on_start is not None:
            on_start()
        if tracker is not None:
            overlay = _OverlayTracker(tracker)
        stop_reason = _record_loop(
            source, recorder, overlay, window, duration_s, messages, on_frame, audio
        )
    finally:
        if overlay is not None:
            overlay.stop()
        if tracker is not None:
            tracker.close()
        if window is not None:
            window.close()
        source.close()
        if audio is not None:
            audio.close()
        if recorder is not None:
            recorder.close()
    if overlay is not None and overlay.error:
        messages.append(f"the live overlay failed ({overlay.error}); the recording is complete")
    counter = overlay.counter if overlay is not None else None
    write_error = _write_failed(recorder) if stop_reason == "write_failed" else None
    session = {
        "status": "cut_short" if write_error else "complete",
        "stop_reason": stop_reason,
        "overlay_frames": overlay.processed if overlay else 0,
        "overlay_dropped": overlay.dropped if overlay else 0,
        "live_count": counter.count if counter else None,
        "warnings": messages,
        **({"error": write_error} if write_error else {}),
    }
    try:
        recorder.write_session(session)
    except OutputError as exc:  # only when writing failed already: the recording is kept
        logger.debug("%s: not finalised (%s)", recorder.session_path, exc)
        write_error = f"{write_error}; {recorder.session_path.name} could not be updated either"
    for msg in messages:  # a warning only: with a log line too, the CLI printed each twice
        warnings.warn(msg, FacetwitchWarning, stacklevel=2)

    report_paths: dict = {}
    analysis = None
    analysis_error = analysis_exit_code = None
    if analyze and write_error:  # its report would not fit either: said, with what to do
        analysis_error = f"{write_error}; not analysed (make room on the disk first)"
        analysis_exit_code = EXIT_OUTPUT
    elif analyze and recorder.frames > 0:
        from ..process import analyze_process

        try:
            analysis, report_paths = analyze_process(
                recorder.video_path, out, mirrored=False, markers=list(recorder.markers),
                model=model, progress=progress,
            )  # fmt: skip
        except RenderError as exc:  # the analysis is written; an output is missing
            analysis, report_paths, analysis_error = exc.analysis, exc.paths, str(exc)
        except FacetwitchError as exc:
            analysis_error, analysis_exit_code = str(exc), exc.exit_code
            # in the result (the CLI says it, with the command to analyse the recording)
            logger.debug("analysis of %s failed: %s", recorder.video_path, exc)
    elif analyze:
        analysis_error, analysis_exit_code = "nothing was recorded", EXIT_CAPTURE
    n = overlay.processed if overlay else 0
    return RecordResult(
        out_dir=out,
        video_path=recorder.video_path,
        timestamps_path=recorder.timestamps_path,
        markers_path=recorder.markers_path,
        session_path=recorder.session_path,
        frames=recorder.frames,
        duration_s=float(recorder.last_t_s or 0.0),
        markers=tuple(recorder.markers),
        stop_reason=stop_reason,
        overlay_frames=n,
        overlay_dropped=overlay.dropped if overlay else 0,
        tracking_ms=(overlay.busy_s / n * 1000.0) if n else float("nan"),
        live_count=counter.count if counter else 0,
        warnings=tuple(messages),
        report_paths={k: Path(v) for k, v in report_paths.items()},
        analysis=analysis,
        analysis_error=analysis_error,
        sound=audio.name if audio is not None else None,
        no_sound=no_sound,
        analysis_exit_code=analysis_exit_code,
        write_error=write_error,
    )


def _write_failed(recorder) -> str:
    """Say why a recording stopped on a failed write, and what the file holds.

    The frames are counted in the closed file (the muxer's last cluster and the frame that
    failed are not there); the markers are written again (one may have been the write that
    failed). One line.
    """
    recorder.frames, recorder.last_t_s = recorder.frames_on_disk()
    try:
        recorder.markers_write()
    except OutputError as exc:
        logger.debug("markers not rewritten: %s", exc)
    kept = (f"the recording stopped at {recorder.last_t_s:.2f} s; the {recorder.frames} "
            "frames before it are kept" if recorder.frames else
            "the recording stopped at the start; no frame was kept")  # fmt: skip
    return f"{recorder.write_error}: {kept}"


def _audio_for(source: FrameSource) -> tuple[AudioSource | None, str | None]:
    """Return the sound that goes with ``source``.

    The microphone for a camera, the file's own sound for a file played as the camera; else None and
    why.
    """
    if isinstance(source, FileSource):
        return file_audio_open(source.path)
    if isinstance(source, CameraSource):
        return microphone_open()
    return None, "the source has no sound"


def _audio_write(audio, recorder, until_s: float, messages: list[str]) -> None:
    """Write the sound captured up to ``until_s``; a source that stopped is said once."""
    for block in audio.read(until_s):
        recorder.write_audio(block)
    if audio.error and not any(m.startswith("sound stopped") for m in messages):
        messages.append(
            f"sound stopped at {until_s:.1f} s ({audio.error}); the rest of the recording "
            "has picture only"
        )


def _record_loop(source, recorder, overlay, window, duration_s, messages, on_frame,
                 audio=None) -> str:  # fmt: skip
    """Capture until something stops it.

    Returns the stop reason. Every frame read is written, and the sound captured up to it.
    """
    try:
        return _record_frames(source, recorder, overlay, window, duration_s, messages, on_frame,
                              audio)  # fmt: skip
    except OutputError as exc:  # a full disk, a drive gone: what is written is kept, closed
        if recorder.write_error is None:  # a marker's sidecar
            recorder.write_error = str(exc)
        return "write_failed"
    finally:
        if audio is not None and recorder.frames and recorder.write_error is None:
            try:
                _audio_write(audio, recorder, float(recorder.last_t_s) + 0.05, messages)
            except Exception as exc:  # noqa: BLE001  (the video is complete: keep it so)
                logger.warning("the last sound could not be written: %s", exc)


def _record_frames(source, recorder, overlay, window, duration_s, messages, on_frame,
                   audio) -> str:  # fmt: skip
    last: CapturedFrame | None = None
    flash_until = -1.0
    with _StopFlag() as stop:
        while True:
            if stop.set:
                return stop.reason
            try:
                frame = source.read()
            except CaptureError as exc:
                at = f"{last.t_s:.2f} s" if last is not None else "the start"
                messages.append(
                    f"{exc}; recording stopped at {at} ({plural(recorder.frames, 'frame')} kept, "
                    "report made from them)"
                )
                return "source_failed"
            if frame is None:
                return "source_ended"
            if duration_s is not None and frame.t_s >= duration_s:
                return "duration"
            recorder.write(frame)
            if audio is not None:
                if last is None:
                    audio.start(time.monotonic())
                _audio_write(audio, recorder, frame.t_s, messages)
            last = frame
            if on_frame is not None:
                on_frame(frame, recorder)
            if recorder.disk_low:
                messages.append(
                    f"only {recorder.free_mb:.0f} MB of disk space left; recording stopped at "
                    f"{frame.t_s:.2f} s ({plural(recorder.frames, 'frame')} kept)"
                )
                return "disk_low"
            if overlay is not None:
                overlay.submit(frame)
            if window is None:
                continue
            if window.closed():  # checked before imshow, which would open the window again
                return "window_closed"
            res = overlay.result if overlay is not None else None
            fresh = res is not None and frame.t_s - res.t_s < 0.5
            state = OverlayState(
                elapsed_s=frame.t_s,
                duration_s=duration_s,
                live_count=overlay.counter.count if overlay is not None else 0,
                markers=len(recorder.markers),
                face_found=(res.found if fresh else None) if overlay is not None else None,
                overlay_fraction=(
                    overlay.processed / max(1, recorder.frames) if overlay is not None else 1.0
                ),
                flash_marker=frame.t_s < flash_until,
            )
            points = res.points if (fresh and res.found) else None
            key = window.show(overlay_draw(frame.rgb, points, state))
            if key in (ord("q"), ord("Q"), 27):
                return "key"
            if key == ord(" "):
                recorder.add_marker(frame.t_s)
                flash_until = frame.t_s + 0.3
