"""Tracks in, signals and events out. Arrays and scipy only: nothing about video or MediaPipe.

:func:`regions_signal` (track -> region displacement signals in mm, face frame) then
:func:`events_process`, the whole detector in one call, which only chains the public steps
:func:`events_find` -> :func:`events_group` -> :func:`events_classify` -> :func:`events_link`
(with :func:`residual_signals` for twitches and :func:`sustained_find` for held contractions)
and returns ``(events, info)``, ``info`` holding every setting used. A recording of more than
10.5 min goes through :func:`events_by_stretch` (:mod:`.stretches`): the same, stretch by
stretch, in memory that does not grow with the length. :func:`sensitivity_test` adds twitches
of known sizes to a recording's signals and runs the detector again: how small a twitch that
recording could show.
"""

from ..geometry import iris_px_per_mm
from .blendshapes import blink_rise, expression_activity, expression_level
from .classify import events_classify, events_group, events_link
from .coupling import coupled_residual
from .detect import (
    FLOW_AMPLITUDE_GAIN,
    MIN_PX_PER_MM,
    REGION_AMPLITUDE_GAIN,
    events_process,
    residual_signals,
)
from .event import Event
from .faceframe import FaceFrame, faceframe_fit
from .peaks import events_find, events_measured, noise_estimate, noise_local
from .regions import RegionSignals, regions_signal
from .sensitivity import Sensitivity, sensitivity_test
from .stretches import events_by_stretch, stretches_plan
from .sustained import sustained_find, sustained_merge

__all__ = [
    "FLOW_AMPLITUDE_GAIN",
    "REGION_AMPLITUDE_GAIN",
    "MIN_PX_PER_MM",
    "Event",
    "FaceFrame",
    "RegionSignals",
    "Sensitivity",
    "blink_rise",
    "coupled_residual",
    "events_classify",
    "events_find",
    "events_group",
    "events_link",
    "events_measured",
    "events_by_stretch",
    "events_process",
    "expression_activity",
    "expression_level",
    "faceframe_fit",
    "iris_px_per_mm",
    "noise_estimate",
    "noise_local",
    "regions_signal",
    "residual_signals",
    "sensitivity_test",
    "stretches_plan",
    "sustained_find",
    "sustained_merge",
]
