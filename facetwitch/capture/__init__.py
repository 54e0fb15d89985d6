"""Webcam capture: frame sources, a crash-safe recorder, the live preview, recording sessions.

- :class:`FrameSource` (``open``/``read``/``close``/``info``): :class:`CameraSource` (OpenCV),
  :class:`FileSource` (a video file played as a camera would deliver it); :func:`camera_list`.
- :class:`Recorder`: every frame to Matroska as it is captured (readable after ``kill -9``),
  with ``<name>.timestamps.csv`` and ``<name>.markers.json`` sidecars.
- :func:`record_session`: capture + preview + markers, then the analysis of the recorded file.

OpenCV stays here and in ``landmarks``; nothing here decides what an event is.
"""

# OpenCV before PyAV: OpenCV's preview window hangs if PyAV's bundled libxcb loaded first
# (PyAV-Org/PyAV#978). Importing facetwitch.capture first keeps `facetwitch record` safe.
import cv2  # noqa: F401  (import order matters, see above)

from .recorder import Recorder, disk_free_mb, markers_read, timestamps_read
from .session import STOP_REASONS, RecordResult, record_session
from .source import (
    CameraInfo,
    CameraSource,
    CaptureClock,
    CapturedFrame,
    FileSource,
    FrameSource,
    SourceInfo,
    camera_list,
    source_open,
)

__all__ = [
    "STOP_REASONS",
    "CameraInfo",
    "CameraSource",
    "CaptureClock",
    "CapturedFrame",
    "FileSource",
    "FrameSource",
    "RecordResult",
    "Recorder",
    "SourceInfo",
    "camera_list",
    "disk_free_mb",
    "markers_read",
    "record_session",
    "source_open",
    "timestamps_read",
]
