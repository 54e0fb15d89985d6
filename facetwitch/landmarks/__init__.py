"""Video in, landmark tracks out: decoding (PyAV), MediaPipe FaceLandmarker, region pixel flow.

This package knows video, MediaPipe and OpenCV and nothing about twitches.
"""

from .track import BLENDSHAPE_NAMES, REGION_FLOW_NAMES, LandmarkTrack
from .video import Frame, VideoInfo, VideoReader, video_frames_at, video_probe


def track_video(*args, **kwargs):
    """Track one face through a video (see :func:`facetwitch.landmarks.tracker.track_video`)."""
    from .tracker import track_video as _track_video

    return _track_video(*args, **kwargs)


def track_chunk(*args, **kwargs):
    """Track one chunk of a video (see :func:`facetwitch.landmarks.tracker.track_chunk`)."""
    from .tracker import track_chunk as _track_chunk

    return _track_chunk(*args, **kwargs)


def track_join(*args, **kwargs):
    """Join tracked chunks into one track (see :func:`facetwitch.landmarks.tracker.track_join`)."""
    from .tracker import track_join as _track_join

    return _track_join(*args, **kwargs)


__all__ = [
    "BLENDSHAPE_NAMES",
    "REGION_FLOW_NAMES",
    "Frame",
    "LandmarkTrack",
    "VideoInfo",
    "VideoReader",
    "track_chunk",
    "track_join",
    "track_video",
    "video_frames_at",
    "video_probe",
]
