"""facetwitch: turn a video of a face into twitch measurements a neurologist can trust.

The public API (each name loads its stage on first use, so ``import facetwitch`` is cheap)::

    import facetwitch

    track = facetwitch.track("video.mp4")      # video in, LandmarkTrack out (MediaPipe)
    result = facetwitch.analyze(track)         # events, summary, quality: report.json's content
    facetwitch.render(result, "out/")         # report.json, events.csv, track.npz, html, pdf

``load_track`` reloads a saved ``track.npz``; ``record`` records from a webcam;
``simulate`` injects known twitches into real footage (ground truth); ``batch_process``
analyses many videos (a report folder each and an index; a process pool or a Dask cluster).
Errors a user can cause are :class:`FacetwitchError` subclasses, each named as the docstrings
name it (``facetwitch.InputError``, ``OutputError``, ``ModelError``, ``UsageError``,
``RenderError``, ``CaptureError``).
Stages (see ARCHITECTURE): ``facetwitch.landmarks`` (video in, tracks out),
``facetwitch.signal`` (tracks in, signals and events out), ``facetwitch.analysis``
(report.json), ``facetwitch.reports`` (HTML / PDF / text).
"""

import logging
import os

from ._lazy import attach

# MediaPipe's and LiteRT's native logging (absl/glog) at errors only, set before anything can
# load them, in this process and the worker processes it spawns: set later (when the tracker
# was first imported), LiteRT's "Input tensor memory is not aligned" warning still reached the
# user's stderr from a run of track(workers=2) through the API
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

logger = logging.getLogger("facetwitch")
logger.addHandler(logging.NullHandler())

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "track": ".api",
        "load_track": ".api",
        "analyze": ".api",
        "render": ".api",
        "record": ".api",
        "simulate": ".api",
        "batch_process": ".batch",
        "Analysis": ".analysis",
        "LandmarkTrack": ".landmarks.track",
        "Event": ".signal.event",
        "FacetwitchError": ".errors",
        "UsageError": ".errors",
        "InputError": ".errors",
        "ModelError": ".errors",
        "OutputError": ".errors",
        "RenderError": ".errors",
        "CaptureError": ".errors",
        "FacetwitchWarning": ".errors",
    },
)
__all__ = ["__version__", *__all__]
