"""Tracks in, signals and events out. Arrays and scipy only: nothing about video or MediaPipe.

``signal_process`` only chains the public steps: :func:`regions_signal` ->
:func:`events_find` -> :func:`events_group` -> :func:`events_classify` -> :func:`events_link`.
"""

from ..geometry import iris_px_per_mm
from .events import (
    Event,
    events_classify,
    events_find,
    events_group,
    events_link,
    events_process,
    expression_activity,
    noise_estimate,
)
from .faceframe import FaceFrame, faceframe_fit
from .regions import RegionSignals, regions_signal

__all__ = [
    "Event",
    "FaceFrame",
    "RegionSignals",
    "events_classify",
    "events_find",
    "events_group",
    "events_link",
    "events_process",
    "expression_activity",
    "faceframe_fit",
    "iris_px_per_mm",
    "noise_estimate",
    "regions_signal",
]
