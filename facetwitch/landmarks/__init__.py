"""Video in, landmark tracks out: decoding (PyAV), MediaPipe FaceLandmarker, region pixel flow.

This package knows video, MediaPipe and OpenCV and nothing about twitches. Its names load on
first use: ``from facetwitch.landmarks import LandmarkTrack`` does not import PyAV, OpenCV or
MediaPipe.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "BLENDSHAPE_NAMES": ".track",
        "REGION_FLOW_NAMES": ".track",
        "LandmarkTrack": ".track",
        "Frame": ".video",
        "VideoInfo": ".video",
        "VideoReader": ".video",
        "video_frames_at": ".video",
        "video_probe": ".video",
        "track_chunk": ".tracker",
        "track_join": ".tracker",
        "track_video": ".tracker",
    },
)
