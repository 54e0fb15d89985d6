"""Frame sources: a webcam, or a video file played as a camera would deliver it.

Both sit behind one small interface, :class:`FrameSource`: ``open()``, ``read()`` (the next
:class:`CapturedFrame`, or ``None`` when the source has ended normally), ``close()`` and
``info``. A source that fails mid-stream (a camera unplugged) raises
:class:`~facetwitch.errors.CaptureError` from ``read()``; whatever was read before is kept by
the caller.

Timestamps are seconds from the first frame (t = 0), taken when the frame was captured:

- :class:`CameraSource`: the driver's buffer timestamp (``CAP_PROP_POS_MSEC``, V4L2 fills it)
  when it is meaningful (positive and increasing over the first frames), else
  ``time.monotonic()`` right after the grab. Never ``frame_index / fps``.
- :class:`FileSource`: the file's own presentation timestamps (PTS), the frames delivered in
  real time (paced to their PTS) unless ``realtime=False``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .._text import plural
from ..errors import CaptureError, InputError

logger = logging.getLogger("facetwitch")

#: Camera indices :func:`camera_list` probes.
CAMERA_PROBE_INDICES = tuple(range(10))


@dataclass(frozen=True)
class CapturedFrame:
    """One captured frame: upright RGB pixels (H, W, 3) uint8, capture time in seconds."""

    index: int
    t_s: float
    rgb: np.ndarray


@dataclass(frozen=True)
class SourceInfo:
    """What a source says about itself. ``fps_nominal`` is for display only, never for time."""

    kind: str  # "camera" or "file"
    name: str  # "camera 0" or the file path
    width: int
    height: int
    fps_nominal: float
    clock: str  # how t_s is taken: "pts", "driver", "monotonic"

    def to_dict(self) -> dict:
        """Plain-JSON dict of the fields."""
        return asdict(self)


@runtime_checkable
class FrameSource(Protocol):
    """Anything frames can be recorded from."""

    @property
    def info(self) -> SourceInfo:
        """Size, nominal rate and clock of the source (size 0x0 until ``open()``)."""
        ...

    def open(self) -> None:
        """Start delivering frames; raise :class:`CaptureError` if that is impossible."""
        ...

    def read(self) -> CapturedFrame | None:
        """Return the next frame (blocking until it is captured).

        None at a normal end of stream.
        """
        ...

    def close(self) -> None:
        """Release the device or file (idempotent)."""
        ...


class _SourceContext:
    """``with source:`` opens and closes it."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
class FileSource(_SourceContext):
    """Play a video file as a camera would deliver it: real decode, frames paced to their PTS.

    Parameters
    ----------
    path : path
        Any video :class:`~facetwitch.landmarks.video.VideoReader` reads.
    realtime : bool
        Deliver each frame no earlier than its PTS after ``open()`` (a camera cannot deliver a
        frame before it happens). False delivers frames as fast as they decode.
    fail_after_s : float, optional
        Simulate a camera that disconnects: ``read()`` raises :class:`CaptureError` at the
        first frame whose PTS is at or after this many seconds.
    max_side : int, optional
        Downscale frames whose longer side exceeds this (as ``VideoReader``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        realtime: bool = True,
        fail_after_s: float | None = None,
        max_side: int | None = None,
    ):
        self.path = Path(path)
        self.realtime = realtime
        self.fail_after_s = fail_after_s
        self.max_side = max_side
        self._reader = None
        self._frames = None
        self._t_wall0: float | None = None
        self._info: SourceInfo | None = None

    @property
    def info(self) -> SourceInfo:
        """Return what the source says about itself (see :class:`FrameSource`)."""
        if self._info is None:  # size and rate are known once opened
            return SourceInfo("file", str(self.path), 0, 0, float("nan"), "pts")
        return self._info

    def open(self) -> None:
        """Open the source (see :class:`FrameSource`)."""
        from .._files import input_check
        from ..landmarks.video import VideoReader

        try:
            input_check(self.path)  # a FIFO would block the reader for ever
            self._reader = VideoReader(self.path, max_side=self.max_side)
        except InputError as exc:
            raise CaptureError(f"cannot play {self.path} as a camera: {exc}") from None
        self._frames = iter(self._reader)
        first = next(self._frames, None)
        if first is None:
            self.close()
            raise CaptureError(f"{self.path}: no frames could be decoded")
        self._first = first
        h, w = first.rgb.shape[:2]
        self._info = SourceInfo(
            kind="file",
            name=str(self.path),
            width=int(w),
            height=int(h),
            fps_nominal=float(self._reader.nominal_fps),
            clock="pts",
        )
        self._t_wall0 = None

    def read(self) -> CapturedFrame | None:
        """Return the next frame, or None (see :class:`FrameSource`)."""
        if self._frames is None:
            raise RuntimeError("open() the source first")
        if self._first is not None:
            frame, self._first = self._first, None
        else:
            frame = next(self._frames, None)
        if frame is None:
            return None
        if self.fail_after_s is not None and frame.t_s >= self.fail_after_s:
            raise CaptureError(
                f"{self.path.name}: the source stopped delivering frames at {frame.t_s:.2f} s "
                "(simulated disconnect)"
            )
        if self.realtime:
            now = time.monotonic()
            if self._t_wall0 is None:
                self._t_wall0 = now - frame.t_s
            wait = self._t_wall0 + frame.t_s - now
            if wait > 0:
                time.sleep(wait)
        return CapturedFrame(index=frame.index, t_s=float(frame.t_s), rgb=frame.rgb)

    def close(self) -> None:
        """Close the source (see :class:`FrameSource`)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._frames = None


# --------------------------------------------------------------------------------------------
class CameraSource(_SourceContext):
    """A webcam through OpenCV (``cv2.VideoCapture``).

    Parameters
    ----------
    index : int
        Camera index (``/dev/video<index>`` on Linux).
    width, height, fps : optional
        Requested capture format; the camera may give something else (see ``info``).
    max_failures : int
        Consecutive failed reads after which the camera counts as disconnected.
    """

    def __init__(
        self,
        index: int = 0,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        max_failures: int = 10,
    ):
        self.index = int(index)
        self.request = (width, height, fps)
        self.max_failures = max_failures
        self._cap = None
        self._info: SourceInfo | None = None
        self._n = 0
        self._clock = CaptureClock()

    @property
    def info(self) -> SourceInfo:
        """Return what the source says about itself (see :class:`FrameSource`)."""
        if self._info is None:  # size and rate are known once opened
            return SourceInfo("camera", f"camera {self.index}", 0, 0, float("nan"), "monotonic")
        return replace(self._info, clock=self._clock.clock)

    def open(self) -> None:
        """Open the source (see :class:`FrameSource`)."""
        import cv2

        cap = _open_capture(self.index)  # the one call that needs a real device
        if cap is None:
            raise CaptureError(
                f"camera {self.index} cannot be opened (no such device, or in use by another "
                "program); `facetwitch cameras` lists the cameras found"
            )
        width, height, fps = self.request
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap = cap
        self._info = SourceInfo(
            kind="camera",
            name=f"camera {self.index}",
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps_nominal=float(cap.get(cv2.CAP_PROP_FPS) or float("nan")),
            clock="monotonic",
        )
        self._n = 0
        self._clock = CaptureClock()

    def read(self) -> CapturedFrame | None:
        """Return the next frame, or None (see :class:`FrameSource`)."""
        import cv2

        if self._cap is None:
            raise RuntimeError("open() the source first")
        failures = 0
        while True:
            ok = self._cap.grab()
            t_mono = time.monotonic()
            if ok:
                ok, bgr = self._cap.retrieve()
            if ok and bgr is not None:
                break
            failures += 1
            if failures >= self.max_failures:
                raise CaptureError(
                    f"camera {self.index} stopped delivering frames after "
                    f"{plural(self._n, 'frame')} "
                    "(disconnected?)"
                )
            time.sleep(0.01)
        t_driver = float(self._cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000.0
        t = self._clock.stamp(t_mono, t_driver)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        frame = CapturedFrame(index=self._n, t_s=t, rgb=rgb)
        self._n += 1
        return frame

    def close(self) -> None:
        """Close the source (see :class:`FrameSource`)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CaptureClock:
    """Capture timestamps for a camera, in seconds from the first frame.

    Feed it, per grabbed frame, ``time.monotonic()`` taken right after the grab and the
    driver's buffer time (``CAP_PROP_POS_MSEC`` / 1000, 0 when the backend gives none). The
    driver clock is chosen when its first two stamps are positive and increase by a plausible
    frame interval (1 ms .. 1 s); the choice holds for the session (clocks are never mixed
    within a stretch), and if driver stamps stop increasing later the monotonic clock takes over,
    continuing from the last timestamp. Timestamps always increase.
    """

    def __init__(self):
        self.clock = "monotonic"
        self._probe: list[tuple[float, float]] = []
        self._t0 = 0.0
        self._last = 0.0

    def stamp(self, t_mono: float, t_driver: float) -> float:
        """Seconds since the first frame for a frame grabbed at ``t_mono`` / ``t_driver``."""
        if len(self._probe) < 2:
            self._probe.append((t_mono, t_driver))
            if len(self._probe) == 1:
                self._t0 = t_mono
                return 0.0
            (m0, d0), (_, d1) = self._probe
            if d0 > 0 and 0.001 <= d1 - d0 <= 1.0:
                self.clock = "driver"
                self._t0 = d0
                self._last = d1 - d0
            else:
                self._t0 = m0
                self._last = max(t_mono - m0, 1e-3)
            return self._last
        if self.clock == "driver":
            t = t_driver - self._t0
            if t > self._last:
                self._last = t
                return t
            logger.warning("camera driver timestamps stopped increasing; using the monotonic clock")
            self.clock = "monotonic"
            self._t0 = t_mono - self._last - 1e-3
        t = max(t_mono - self._t0, self._last + 1e-3)
        self._last = t
        return t


def _open_capture(index: int):
    """``cv2.VideoCapture(index)`` if a device answers, else None (untestable without one).

    Quietly: OpenCV's backends each report a missing camera on stderr (a dozen lines before
    facetwitch's own one-line error); its logging is silenced and whatever native code still
    prints on file descriptor 2 meanwhile goes to the debug log (``--debug``).
    """
    import cv2

    from ..landmarks.tracker import _native_stderr_filtered

    old = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        with _native_stderr_filtered(noise=("",)):
            cap = cv2.VideoCapture(index)
            if not cap.isOpened():
                cap.release()
                return None
            return cap
    finally:
        cv2.utils.logging.setLogLevel(old)


# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CameraInfo:
    """A camera found by :func:`camera_list`: what it offers by default."""

    index: int
    width: int
    height: int
    fps: float
    backend: str

    def to_dict(self) -> dict:
        """Plain-JSON dict of the fields."""
        return asdict(self)


def camera_list(indices=CAMERA_PROBE_INDICES) -> list[CameraInfo]:
    """Probe camera indices with OpenCV; list those that open and deliver a frame.

    Returns an empty list on a machine without cameras. OpenCV's own complaints about missing
    devices are silenced while probing.
    """
    import cv2

    found = []
    old = cv2.utils.logging.getLogLevel() if hasattr(cv2, "utils") else None
    if old is not None:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        for i in indices:
            if os.name == "posix" and not Path(f"/dev/video{i}").exists():
                continue
            cap = _open_capture(i)
            if cap is None:
                continue
            try:
                ok, _ = cap.read()
                if ok:
                    found.append(
                        CameraInfo(
                            index=i,
                            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                            fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
                            backend=str(cap.getBackendName()),
                        )
                    )
            finally:
                cap.release()
    finally:
        if old is not None:
            cv2.utils.logging.setLogLevel(old)
    return found


def source_open(camera: int | str | os.PathLike = 0, **kwargs) -> FrameSource:
    """Return a source for ``--camera``.

    An int (or digit string) is a camera index, else a file.
    """
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses
    if isinstance(camera, int) or (isinstance(camera, str) and re.fullmatch(r"[0-9]+", camera)):
        index = int(camera)
        # OpenCV cannot take an index past a C long, and a negative one ("any camera") crashed
        # the process (a segmentation fault, not an error) on a machine without a camera
        if not 0 <= index <= MAX_CAMERA_INDEX:
            raise CaptureError(
                f"camera {camera}: no such camera (indices are small numbers: 0, 1, ...; "
                "see 'facetwitch cameras')"
            )
        return CameraSource(index)
    path = Path(camera)
    if not path.exists():
        raise CaptureError(f"{camera}: neither a camera index nor an existing video file")
    from .._files import input_check

    try:  # first: the file's sound is opened before its picture, and a FIFO blocks that for ever
        input_check(path)
    except InputError as exc:
        raise CaptureError(f"cannot play {path} as a camera: {exc}") from None
    return FileSource(path, **kwargs)


#: The largest camera index taken (a system has a few cameras; OpenCV's indices are small).
MAX_CAMERA_INDEX = 9999
