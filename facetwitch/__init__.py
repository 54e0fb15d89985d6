"""facetwitch: turn a video of a face into twitch measurements a neurologist can trust.

Stages (see ARCHITECTURE in the README): ``facetwitch.landmarks`` (video in, LandmarkTrack out),
``facetwitch.signal`` (tracks in, signals and events out), ``facetwitch.analysis``
(events + summary + quality -> report.json), ``facetwitch.reports`` (HTML / PDF / text).
"""

import logging

__version__ = "0.1.0"

logger = logging.getLogger("facetwitch")
logger.addHandler(logging.NullHandler())
