"""Video in: stream upright RGB frames with their presentation timestamps (PTS), in seconds.

PyAV (FFmpeg's libraries) is the decoder. It is chosen over OpenCV's FFmpeg backend because
it gives each frame's own PTS exactly (OpenCV's ``CAP_PROP_POS_MSEC`` is derived and drifts on
variable-frame-rate files), exposes the display matrix (phone rotation) per frame, decodes HEVC,
skips audio without demuxing it into the decoder, reports corrupt packets instead of stopping
silently, and can also *write* rotated and variable-frame-rate files for the tests.

Frames are streamed; the whole video is never held in memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from .._files import missing_error
from .._text import frames_left_out, path_info_clean
from ..conventions import GAP_S
from ..errors import FacetwitchWarning, InputError

logger = logging.getLogger("facetwitch")

#: Container extensions facetwitch is tested on (others are tried too).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video before and after decoding it.

    ``width``/``height`` are of the *upright* frame (after rotation). ``rotation_deg`` is the
    clockwise rotation, in degrees, applied to the stored pixels to show them upright (90 for a
    phone held in portrait whose sensor stores landscape). ``fps_mean`` is frames / span of PTS;
    ``duration_s`` the span from the first PTS to the end of the last frame.
    """

    path: str
    sha256: str
    width: int
    height: int
    rotation_deg: int
    fps_mean: float
    duration_s: float
    frames: int
    codec: str
    has_audio: bool = False
    lost_ranges_s: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    #: Upright size of the file's own frames (differs from width/height when downscaled, or
    #: when the pixels are not square).
    source_width: int = 0
    source_height: int = 0
    #: The file's pixel aspect ratio (sample aspect ratio, width / height of one stored pixel).
    #: Frames come out with square pixels: stretched along the axis that keeps every pixel.
    pixel_aspect: float = 1.0
    #: Index of the stream analysed among the file's streams, how many video streams the file
    #: has, and why this one was chosen ("" when it has one; :func:`video_stream_choose`).
    stream_index: int = 0
    video_streams: int = 1
    stream_choice: str = ""
    #: Frames left out because their timestamp repeated or went back (a damaged or badly
    #: written file); a single frame whose time jumped ahead and back counts too.
    frames_bad_time: int = 0
    #: Clockwise turn (0/90/180/270) facetwitch added after the file's own rotation, because
    #: the face lay sideways or upside down in the picture (:func:`~facetwitch.landmarks.
    #: tracker.orientation_find`); width/height are of the turned frame, source_width and
    #: source_height as a player shows the file.
    turned_deg: int = 0
    #: The file's display matrix mirrors the picture as well as turning it (some phones save
    #: front-camera video so): the frames are the camera's own, unmirrored (``rotation_deg``
    #: is the turn without the mirror), so a player shows them mirrored.
    display_flipped: bool = False
    #: The frame rate the camera captured at, when the file says so (Android's
    #: ``com.android.capture.fps``): above the rate it plays at for slow motion, below it for
    #: a time-lapse (None: not said).
    capture_fps: float | None = None
    #: Where the file's times started again from an earlier time (MPEG-TS or PS recordings
    #: joined end to end, a camera's clock set back), in seconds: the frames after each are
    #: timed on from the frame before it.
    time_restarts_s: tuple[float, ...] = field(default_factory=tuple)
    #: The video is interlaced (1080i, 576i, 480i: a camcorder's, a capture device's, a
    #: broadcast recording): each frame holds two fields filmed half a frame apart, and the
    #: frames were deinterlaced before anything read them (:meth:`VideoReader._deinterlaced`).
    interlaced: bool = False

    def to_dict(self) -> dict:
        """Plain-JSON dict of the fields.

        ``path`` as readable Unicode, with ``path_bytes_hex`` (the exact bytes) when the file name
        is not valid UTF-8 (facetwitch._text).
        """
        d = asdict(self)
        d["lost_ranges_s"] = [list(r) for r in self.lost_ranges_s]
        return path_info_clean(d)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: upright RGB pixels and its PTS in seconds (t = 0 at the first frame)."""

    index: int
    t_s: float
    rgb: np.ndarray


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _rotation_cw(frame_rotation: int | float | None) -> int:
    """Clockwise display rotation from PyAV's counter-clockwise ``VideoFrame.rotation``."""
    if not frame_rotation:
        return 0
    return int(round(-float(frame_rotation))) % 360 // 90 * 90


def _capture_fps(meta: dict) -> float | None:
    """Return the capture frame rate a phone wrote into the file (``com.android.capture.fps``).

    Android writes it for every recording, the recording's own rate, and for slow motion (120,
    240 fps captured, stored to play at 30) and time-lapse the rate the camera filmed at.
    """
    try:
        value = float(str(meta.get("com.android.capture.fps", "")).strip())
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def _display_orientation(vf) -> tuple[int, bool]:
    """Return the clockwise turn that shows a frame's stored pixels upright, and any mirror.

    From the frame's display matrix (FFmpeg's ``AV_FRAME_DATA_DISPLAYMATRIX``): a player shows
    the stored pixels turned by the rotation and, when the matrix also flips (a negative
    determinant: some phones save front-camera video so, as a selfie preview shows it),
    mirrored. PyAV's ``VideoFrame.rotation`` reads such a matrix's angle without the flip
    (a mirror alone read as 180°, upside down); here the flip is taken out first, so the turn
    is the one that leaves the camera's own, unmirrored picture upright.
    """
    try:
        sd = vf.side_data.get("DISPLAYMATRIX")
    except (KeyError, ValueError, AttributeError):
        sd = None
    raw = bytes(sd) if sd is not None else b""
    if len(raw) != 36:
        return _rotation_cw(getattr(vf, "rotation", 0)), False
    m = np.frombuffer(raw, dtype="=i4").astype(np.float64)
    a, b, c, d = m[0], m[1], m[3], m[4]
    flipped = bool(a * d - b * c < 0)
    if flipped:  # FFmpeg's av_display_matrix_flip(hflip) negates the first column
        a, c = -a, -c
    if a == 0 and b == 0:
        return 0, flipped
    cw = float(np.degrees(np.arctan2(b, a)))
    return int(round(cw / 90.0)) % 4 * 90, flipped


def _upright(rgb: np.ndarray, rotation_cw: int) -> np.ndarray:
    """Rotate stored pixels clockwise by ``rotation_cw`` (0/90/180/270) to show them upright."""
    if rotation_cw == 0:
        return rgb
    # np.rot90 rotates counter-clockwise for k > 0.
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation_cw // 90)))


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise missing_error(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        index = mp4_index_message(path)
        if index:
            raise InputError(index) from None
        raise InputError(
            f"{path}: not a readable video ({_short(exc)}): damaged, or not a video file"
        ) from None
    try:
        video_stream_choose(container)
        _image_refuse(path, container)
        _raw_stream_refuse(path, container)
    except InputError:
        container.close()
        # an index cut inside lists no stream (a HEIC or AVIF photo has no index at all: it is
        # refused as the still image it is)
        if mp4_index_problem(path) == "cut":
            raise InputError(mp4_index_message(path)) from None
        raise
    except BaseException:
        container.close()
        raise
    return container


#: FFmpeg demuxers of images (FFmpeg would read a photo as a one-frame video): single images
#: (``image2`` and the ``*_pipe`` family: jpg, png, webp, ...), GIF and animated PNG.
_IMAGE_FORMATS = ("image2", "gif", "apng", "webp")
#: Major brands of HEIF and AVIF files (photos from phones), which FFmpeg reads through its
#: MP4 demuxer: ``heic``, ``heix``, ... (HEVC images), ``avif``/``avis`` (AV1 images), the
#: generic ``mif1``/``msf1``.
_IMAGE_BRANDS = ("heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "mif2", "msf1", "avif",
                 "avis")  # fmt: skip
#: Dispositions of video streams that are pictures, not the video: cover art, thumbnails.
_PICTURE_DISPOSITIONS = ("attached_pic", "still_image", "timed_thumbnails")


def _disposition(stream, name: str) -> bool:
    flag = getattr(av.stream.Disposition, name, None)
    return flag is not None and bool(stream.disposition & flag)


def video_stream_choose(container) -> tuple[av.video.stream.VideoStream, str]:
    """Return the video stream a player would show, and why it was chosen (for the report).

    Pictures stored as video streams (cover art, thumbnails: FFmpeg's ``attached_pic``,
    ``still_image`` and ``timed_thumbnails`` dispositions) are never chosen. Of the others:
    the one marked default when not all are (a player's choice), then the one with more than
    one frame, the largest picture, the most frames, the first (a phone's depth or preview
    track is smaller than its video); only streams FFmpeg can decode. Raises
    :class:`InputError` when there is none.

    Parameters
    ----------
    container : av.container.InputContainer
        The opened file.

    Returns
    -------
    (stream, why)
        ``why`` is "" when the file has one video stream (cover pictures not counted), else
        a few words (``"the default of 2 video streams"``).
    """
    streams = list(container.streams.video)
    if not streams:
        raise InputError(f"{container.name}: the file has no video stream")
    videos = [s for s in streams if not any(_disposition(s, d) for d in _PICTURE_DISPOSITIONS)]
    if not videos:
        raise InputError(
            f"{container.name}: the file has no video stream, only a still picture (cover art "
            "or a thumbnail)"
        )
    # a stream this FFmpeg has no decoder for (a camera's raw format, a codec newer than the
    # build) cannot be shown: it had been chosen, and failed inside as "'NoneType' object has
    # no attribute 'name'", an internal error
    decodable = [s for s in videos if s.codec_context is not None]
    if not decodable:
        raise InputError(
            f"{container.name}: its video is in a format FFmpeg here cannot decode (a camera's "
            "raw format, or a codec newer than this build): send the phone's or camera's usual "
            "MP4 or MOV, or convert it to H.264"
        )
    videos = decodable
    if len(videos) == 1:  # beside a cover picture or a thumbnail, if anything
        return videos[0], ""
    defaults = [s for s in videos if _disposition(s, "default")]

    def rank(s):
        frames = int(s.frames or 0)
        return (s in defaults and len(defaults) < len(videos), frames != 1,
                (s.width or 0) * (s.height or 0), frames, -s.index)  # fmt: skip

    best = max(videos, key=rank)
    n = len(videos)
    if best in defaults and len(defaults) < len(videos):
        why = f"the default of {n} video streams"
    else:
        why = f"the largest of {n} video streams"
    return best, why


def _image_refuse(path: Path, container) -> None:
    """Raise :class:`InputError` for an image.

    A photo (jpg, png, webp, HEIC, AVIF, a one-frame GIF) cannot show movement; an animated GIF's
    dithering reads as movement.
    """
    fmt = container.format.name
    brand = str((container.metadata or {}).get("major_brand", "")).strip().lower()
    if not (fmt in _IMAGE_FORMATS or fmt.endswith("_pipe") or brand in _IMAGE_BRANDS):
        return
    stream, _ = video_stream_choose(container)
    codec = stream.codec_context.name
    kind = brand.upper() if brand in _IMAGE_BRANDS else fmt.removesuffix("_pipe").upper()
    if fmt == "gif" and _frames_at_least(container, stream, 2):
        raise InputError(
            f"{path}: is an animated GIF, not a video; a GIF has 256 colours, and its dithering "
            "changes from frame to frame and reads as movement (measured: 2 false twitches in "
            "12 s of a face at rest, none in the same frames as MP4): send the original video"
        )
    if fmt != "gif" and int(stream.frames or 0) > 1 or fmt == "apng" or _webp_animated(path):
        raise InputError(
            f"{path}: is an animated image ({kind}), not a video: send the original video"
        )
    what = codec if fmt == "image2" or fmt.endswith("_pipe") else kind
    raise InputError(
        f"{path}: is a still image ({what}), not a video; facetwitch measures movement over "
        "time: film the face for at least a few seconds"
    )


#: FFmpeg demuxers of raw video bitstreams, outside any container (a Raspberry Pi camera's
#: ``.h264``, a DVR's ``.hevc``, an IP camera's ``.mjpeg``): their frames carry no timestamps.
_RAW_STREAM_FORMATS = ("h264", "hevc", "vvc", "mjpeg", "mpegvideo", "m4v", "h263", "obu",
                       "cavsvideo", "avs2", "avs3")  # fmt: skip


def _raw_stream_refuse(path: Path, container) -> None:
    """Raise :class:`InputError` for a raw video stream, which holds no times.

    Its frames have no presentation timestamps (H.264, HEVC) or times FFmpeg makes up from a
    frame rate it assumes (25 fps for MJPEG, whatever the camera's rate): durations and rates
    per minute would be guesses. A raw H.264 stream had been "no video frames could be
    decoded", although every frame decodes.
    """
    fmt = container.format.name
    if fmt not in _RAW_STREAM_FORMATS:
        return
    what = container.format.long_name or fmt
    raise InputError(
        f"{path}: is a {what} stream outside any container (MP4, MOV, MKV, ...): it records "
        "no times, so durations and rates cannot be measured; send the camera's own recording, "
        "or put the stream into a container at the frame rate it was filmed at"
    )


def _webp_animated(path: Path) -> bool:
    """Return whether ``path`` is an animated WebP.

    Whether ``path`` is an animated WebP (a ``RIFF....WEBP`` file with an ``ANIM`` chunk; FFmpeg
    decodes only its first frame).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP" and b"ANIM" in head


def _frames_at_least(container, stream, n: int) -> bool:
    """Whether ``stream`` decodes to at least ``n`` frames (reads no further)."""
    count = 0
    try:
        for _ in container.decode(stream):
            count += 1
            if count >= n:
                return True
    except av.error.FFmpegError:
        pass
    return False


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)[:160]  # without errno and the repeated file name
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg[:160]


def mp4_index_problem(path: Path) -> str:
    """How an MP4/MOV file's index (``moov``) is damaged: ``"missing"``, ``"cut"`` or ``""``.

    For an MP4/MOV file (``ftyp`` box first): ``"missing"`` when its top-level boxes hold no
    ``moov`` (the index, written last by most recorders: missing when recording or copying
    stopped), ``"cut"`` when the ``moov`` box runs past the end of the file (the copy stopped
    inside it); ``""`` otherwise, and for any other file.
    """
    kinds = []
    cut = False
    try:
        size_total = path.stat().st_size
        with open(path, "rb") as f:
            pos = 0
            while pos + 8 <= size_total and len(kinds) < 64:
                f.seek(pos)
                head = f.read(16)
                size, kind = int.from_bytes(head[:4], "big"), head[4:8]
                if size == 1 and len(head) == 16:
                    size = int.from_bytes(head[8:16], "big")
                elif size == 0:
                    size = size_total - pos
                if size < 8:
                    break
                kinds.append(kind)
                cut = cut or (kind == b"moov" and pos + size > size_total)
                pos += size
    except OSError:
        return ""
    if not kinds or kinds[0] != b"ftyp":
        return ""
    return "missing" if b"moov" not in kinds else "cut" if cut else ""


def mp4_index_message(path: Path) -> str | None:
    """Return the one-line error for an MP4/MOV whose index is missing or cut short, or None."""
    problem = mp4_index_problem(path)
    if not problem:
        return None
    what = "is missing" if problem == "missing" else "was cut short"
    return (f"{path}: the MP4/MOV index (moov) {what}, so nothing can be decoded; the "
            "recording was interrupted or the file was cut short (copy it again from the phone "
            "or camera)")  # fmt: skip


#: FFmpeg's field orders (``AVFieldOrder``, a stream's ``codec_context.field_order``) that mean
#: interlaced, as the field shown first: TT, BB, TB (top coded first, bottom shown first), BT.
_FIELD_ORDERS = {2: "tff", 3: "bff", 4: "bff", 5: "tff"}
#: FFmpeg's deinterlacers, the first this build has taken: ``bwdif`` (yadif's successor, with
#: w3fdif's filters), else ``yadif``. ``mode=send_frame``: one frame out per frame in, at its
#: time (``send_field`` would double the rate).
_DEINTERLACERS = ("bwdif", "yadif")


def _deinterlacer(vf: av.VideoFrame, time_base, *, parity: str, deint: str):
    """Return a configured filter graph that deinterlaces frames like ``vf``, or the error.

    ``parity``: ``auto`` (each frame's own field order) or ``tff``/``bff``; ``deint``:
    ``interlaced`` (frames flagged progressive pass untouched) or ``all``.
    """
    args = f"mode=send_frame:parity={parity}:deint={deint}"
    problem: Exception = ValueError("no deinterlacer")
    for name in _DEINTERLACERS:
        try:
            return filter_graph(vf.width, vf.height, vf.format.name, time_base, name, args)
        except (av.error.FFmpegError, ValueError) as exc:
            problem = exc
    return problem


def filter_graph(width: int, height: int, pix_fmt: str, time_base, name: str, args: str):
    """Return a configured FFmpeg filter graph: frames of that size and format through ``name``.

    One filter between a buffer source and a sink (``vf`` in with ``graph.vpush``, out with
    ``graph.vpull``). Raises ``av.error.FFmpegError`` or ValueError where FFmpeg refuses it.
    """
    graph = av.filter.Graph()
    src = graph.add_buffer(width=width, height=height, format=pix_fmt, time_base=time_base)
    filt = graph.add(name, args)
    sink = graph.add("buffersink")
    src.link_to(filt)
    filt.link_to(sink)
    graph.configure()
    return graph


def _pulled(graph) -> list[av.VideoFrame]:
    """Return the frames a filter graph has ready."""
    out = []
    while True:
        try:
            out.append(graph.vpull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return out


#: The smallest ``max_side`` a reader takes (a face needs pixels; 0 or less had given 2x2 frames
#: with no face, and no error).
MIN_MAX_SIDE = 64


class VideoReader:
    """Stream a video's frames, upright, with PTS-based timestamps in seconds.

    Use as a context manager and iterate::

        with VideoReader("clip.mp4") as video:
            for frame in video:
                ...  # frame.t_s, frame.rgb (H, W, 3) uint8, upright
            info = video.info  # complete after iteration (frames, fps_mean, lost ranges)

    Frames whose PTS does not increase (duplicates, broken timestamps) are dropped with a
    warning; decode errors in the middle of a file end the stream (or skip the damaged packets)
    and are recorded in ``info.lost_ranges_s``.

    Parameters
    ----------
    path : str or Path
        The video file.
    max_side : int, optional
        If given, frames larger than this (in pixels, longer side) are downscaled by the decoder
        (FFmpeg's scaler) so that the longer side is ``max_side``. Landmark coordinates are then
        in pixels of the downscaled upright frame, and ``info.width/height`` say so.
    start_s : float, optional
        Start near this time (seconds from the file's first frame, which stays t = 0): the
        reader seeks to the key frame at or before it, so the first frame given is at or
        before ``start_s`` when the container seeks exactly (the caller checks; a file that
        cannot seek so gives later frames). For tracking a chunk of a long video. The file's
        first frame (t = 0) is found as a reader from the start finds it (its time checked
        against the next frame's); from the seek on, frames are checked as from the start
        (repeated or backward times left out; the first frame there, like a file's first, is
        left out when the next one shows that its time was ahead of the rest).
    sha256 : str, optional
        The file's sha256 when the caller knows it (``info`` hashes the file otherwise).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        max_side: int | None = None,
        start_s: float | None = None,
        sha256: str | None = None,
        turn_deg: int = 0,
    ):
        self.path = Path(path)
        if max_side is not None and not isinstance(max_side, int):
            # "640" had passed this check and failed at the first frame ('>' not supported)
            raise TypeError(f"max_side must be None or a whole number of pixels, got {max_side!r}")
        if max_side is not None and (isinstance(max_side, bool) or max_side < MIN_MAX_SIDE):
            raise ValueError(f"max_side must be None or at least {MIN_MAX_SIDE} px, "
                             f"got {max_side!r}")  # fmt: skip
        self.max_side = max_side
        if int(turn_deg) % 90:
            raise ValueError(f"turn_deg must be a multiple of 90, got {turn_deg}")
        self.turn_deg = int(turn_deg) % 360
        self.start_s = start_s
        # a chunk's reader: t = 0 and the rotation as a reader from the start finds them
        start = _file_start(self.path, max_side) if start_s else None
        self._container = _open(self.path)
        self._stream, self._stream_why = video_stream_choose(self._container)
        self._stream_index = int(self._stream.index)
        self._video_streams = max(1, sum(
            not any(_disposition(s, d) for d in _PICTURE_DISPOSITIONS)
            for s in self._container.streams.video
        ))  # fmt: skip
        self._stream.thread_type = "AUTO"
        self._sha256: str | None = sha256  # hashed on first use of .info, not per open
        cc = self._stream.codec_context
        self._codec = cc.name
        self._has_audio = bool(self._container.streams.audio)
        self._meta = dict(self._container.metadata or {})
        # formats whose times may start again mid-file (FFmpeg's AVFMT_TS_DISCONT: MPEG-TS, PS)
        self._discont = bool(int(self._container.format.flags) & av.format.Flags.ts_discont.value)
        self._shift = 0.0  # seconds added to every time after a restart of the file's clock
        self._restart: float | None = None  # the time of a frame that went back, to confirm
        self._restarts: list[float] = []
        self._stored_wh = (cc.width, cc.height)
        # interlaced video: the field order the stream (its container or bitstream) states;
        # frames flagged interlaced by the decoder are found as they come (_deinterlaced)
        self._field_order = _FIELD_ORDERS.get(int(cc.field_order or 0), "")
        self._deint = None  # the deinterlacing filter graph, from the first interlaced frame on
        self._deint_key: tuple | None = None  # (width, height, format) of the frames it takes
        self._deint_args: tuple[str, str] = ("auto", "interlaced")
        self._deint_failed = False  # no deinterlacer could be set up: frames as decoded
        self._interlaced = False
        sar = self._stream.sample_aspect_ratio or cc.sample_aspect_ratio
        self._sar = float(sar) if sar and 0.2 < float(sar) < 5.0 else 1.0  # 0/1: unknown
        self._rotation = None
        self._flipped = False
        self._frames = 0
        self._t0: float | None = None
        self._seeked = False  # after a chunk's seek: the next frame is not the file's first one
        if start is not None:
            self._t0, self._rotation, self._flipped = start
        self._t_last = None
        self._dt_last = None
        self._bad_times = 0  # frames left out: their time repeats or goes back
        #: where each frame left out for its time was: the time of the frame kept before it
        #: (how a chunked run counts each once: landmarks.tracker.track_join)
        self.bad_times_at: list[float] = []
        #: the warnings this reader gave about bad times and a missing end (None: none)
        self.bad_time_warning: str | None = None
        self.end_missing_warning: str | None = None
        self.restart_warning: str | None = None
        self.end_missing: tuple[float, float] | None = None  # the range that warning adds
        self._rec = [0.0, 0]  # sum and count of the frame intervals that are not gaps
        # after a frame that came after a gap: (t_last, dt_last, rec) from before it, to undo
        # it if the next frame shows that its time was wrong
        self._jump: tuple | None = None
        self._drop_held = False
        self._lost: list[tuple[float, float]] = []
        self._out_wh = None
        self._first_wh: tuple[int, int] | None = None  # the first frame's size, as converted
        self.size_change_warning = ""
        self.size_changed_at: float | None = None  # seconds: the first frame of another size
        self._done = False
        # Read what the container announces now: the stream must not be touched once closed.
        rate = self._stream.average_rate or self._stream.guessed_rate
        self._nominal_fps = float(rate) if rate else float("nan")
        n = int(self._stream.frames or 0)
        if n == 0 and self._nominal_fps > 0:  # Matroska/WebM count no frames: from the length
            length = self.announced_duration_s
            n = int(round(length * self._nominal_fps)) if np.isfinite(length) else 0
        self._expected_frames = n

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the container."""
        if self._container is not None:
            self._container.close()
            self._container = None
            self._stream = None

    # -- metadata --------------------------------------------------------------------------
    def _file_sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    @property
    def start_pts_s(self) -> float | None:
        """The first decoded frame's PTS in seconds (t = 0 of every time given out).

        None until a frame was decoded. Other streams of the file (its sound) are timed from it.
        """
        return self._t0

    @property
    def nominal_fps(self) -> float:
        """The container's average frame rate (only for display, never for timestamps)."""
        return self._nominal_fps

    @property
    def announced_duration_s(self) -> float:
        """The video stream's duration as the container announces it (NaN if it does not).

        For planning only, never for timestamps.
        """
        stream = self._stream
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        end = _announced_end_s(self._container, stream)
        if end is None:
            return float("nan")
        return end - _stream_start_s(self._container, stream)

    @property
    def expected_frames(self) -> int:
        """Frame count the container announces (0 if unknown); for progress bars only."""
        return self._expected_frames

    @property
    def info(self) -> VideoInfo:
        """Metadata; frame count, fps and duration are exact once the frames were read."""
        rot = self._rotation if self._rotation is not None else 0
        sw, sh = self._stored_wh
        if rot % 180:  # as a player shows it: the file's rotation only
            sw, sh = sh, sw
        if self._out_wh is not None:
            w, h = self._out_wh
        else:
            w, h = self._scaled_size(*self._stored_wh) or self._stored_wh
            if (rot + self.turn_deg) % 180:
                w, h = h, w
        if self._frames and self._t_last is not None:
            dt = self._dt_last if self._dt_last else (1.0 / self.nominal_fps)
            duration = float(self._t_last + (dt if np.isfinite(dt) else 0.0))
            # over the recorded time: a 4 s clip with a 4 h pause is 30 fps, not "0.0 fps"
            total, count = self._rec
            fps = count / total if total > 0 else float("nan")
        else:
            duration, fps = float("nan"), float("nan")
        return VideoInfo(
            path=str(self.path),
            sha256=self._file_sha256(),
            width=int(w),
            height=int(h),
            rotation_deg=int(rot),
            turned_deg=self.turn_deg,
            fps_mean=float(fps),
            duration_s=duration,
            frames=self._frames,
            codec=self._codec,
            has_audio=self._has_audio,
            source_width=int(sw),
            source_height=int(sh),
            lost_ranges_s=tuple(self._lost),
            pixel_aspect=round(self._sar, 6),
            stream_index=self._stream_index,
            video_streams=self._video_streams,
            stream_choice=self._stream_why,
            frames_bad_time=self._bad_times,
            display_flipped=self._flipped,
            capture_fps=_capture_fps(self._meta),
            time_restarts_s=tuple(self._restarts),
            interlaced=self._interlaced,
        )

    # -- frames ----------------------------------------------------------------------------
    def _scaled_size(self, w: int, h: int) -> tuple[int, int] | None:
        """Output size of a stored ``w`` x ``h`` frame (None: as stored).

        Square pixels (an anamorphic frame stretched, never squeezed), then at most ``max_side``.
        """
        fw, fh = float(w), float(h)
        if self._sar > 1.0:
            fw *= self._sar
        elif self._sar < 1.0:
            fh /= self._sar
        if self.max_side and max(fw, fh) > self.max_side:
            s = self.max_side / max(fw, fh)
            fw, fh = fw * s, fh * s
        elif self._sar == 1.0:
            return None
        return max(2, int(round(fw / 2)) * 2), max(2, int(round(fh / 2)) * 2)

    def __iter__(self) -> Iterator[Frame]:
        if self._done:
            raise RuntimeError("a VideoReader can be iterated once")
        self._done = True
        stream = self._stream
        tb = stream.time_base
        last_good_t = 0.0
        # After a packet that does not decode, the decoder goes on with guesses (blocks, frozen
        # patches) built on the damaged picture until the next key frame: on a file with 10 KB
        # of random bytes in the middle, such frames made a 1.4 mm "twitch". They are dropped
        # and the stretch is reported lost.
        damaged: list | None = None  # [last good frame's t, the error, the bad packet's t]
        held: Frame | None = None  # the frame after a gap, until the next one says it is right
        if self.start_s:
            self._seek_start(tb)
        packets = self._container.demux(stream)
        ended = False
        while not ended:
            end_exc = None
            try:
                packet = next(packets)
            except StopIteration:
                ended = True
            except av.error.FFmpegError as exc:
                # The container is damaged from here on (e.g. truncated file).
                ended, end_exc = True, exc
            if ended:
                decoded = (None,)  # None: the deinterlacer gives out the frame it holds
            else:
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    if damaged is not None:
                        continue
                    t_bad = (
                        float(packet.pts * tb) - self._t0 + self._shift
                        if packet.pts is not None and self._t0 is not None
                        else last_good_t
                    )
                    damaged = [last_good_t, exc, t_bad]
                    # the good frame the deinterlacer holds, and a new one after the damage
                    # (none across it)
                    decoded = (None,)
            for vf in decoded:
                if vf is not None and damaged is not None:
                    if not vf.key_frame or vf.pts is None:
                        continue
                    t_key = (
                        float(vf.pts * (vf.time_base or tb)) - self._t0 + self._shift
                        if self._t0 is not None
                        else None
                    )
                    if t_key is not None and t_key > damaged[2]:
                        self._note_lost(damaged[0], t_key, damaged[1])
                        damaged = None
                    elif t_key is None:  # nothing was decoded before the damage
                        damaged = None
                    # else: a key frame before the damage, which the decoder's reordering
                    # delay gives out late: intact, but later frames may lean on the damage
                # progressive video: (vf,) itself, no filter (and nothing for None)
                for out in self._deinterlaced(vf, tb):
                    frame = self._convert(out, tb)
                    if frame is not None:
                        if self._drop_held:  # its time was wrong: this frame takes its place
                            held, self._drop_held = None, False
                        if held is not None:
                            yield held
                            held = None
                        last_good_t = frame.t_s
                        if damaged is not None:
                            damaged[0] = frame.t_s
                        if self._jump is not None:  # after a gap: the next frame confirms it
                            held = frame
                            continue
                        yield frame
            if end_exc is not None:
                self._note_lost(last_good_t, None, end_exc)
                damaged = None
        if held is not None:
            yield held
        if damaged is not None:
            self._note_lost(damaged[0], None, damaged[1])
        self._check_complete(tb)
        if self._bad_times:
            msg = bad_time_message(self.path.name, self._bad_times)
            self.bad_time_warning = msg
            logger.debug(msg)
            warnings.warn(msg, FacetwitchWarning, stacklevel=2)

    def _deinterlaced(self, vf: av.VideoFrame | None, tb) -> tuple | list:
        """Return the frames to convert for the decoded frame ``vf`` (None: the end).

        Progressive video: ``(vf,)``, no filter. Interlaced video (two fields filmed half a
        frame apart in each frame: combs wherever something moved, which the region flow reads
        as movement) goes through FFmpeg's ``bwdif`` (:data:`_DEINTERLACERS`) in send_frame
        mode: one frame out per frame in, with its time, one frame later. The filter is set up
        at the first frame the decoder flags interlaced (later progressive frames pass it
        untouched: ``deint=interlaced``), or at the first frame when the stream's field order
        says interlaced but its frames are not flagged (a lossless capture codec, FFV1, that
        stores no field order of its own; interlaced video coded as progressive frames):
        then every frame, in that field order.
        """
        if self._deint is None:
            if vf is None or self._deint_failed or not (vf.interlaced_frame or self._field_order):
                return () if vf is None else (vf,)
            if not self._interlaced and not vf.interlaced_frame:  # the stream says so only
                self._deint_args = (self._field_order, "all")
        elif vf is None:
            self._deint.vpush(None)
            frames = _pulled(self._deint)
            self._deint = None
            return frames
        frames = []
        key = (vf.width, vf.height, vf.format.name)
        if self._deint is not None and key != self._deint_key:  # the picture size changed
            self._deint.vpush(None)
            frames = _pulled(self._deint)
            self._deint = None
        if self._deint is None:
            parity, deint = self._deint_args
            graph = _deinterlacer(vf, vf.time_base or tb, parity=parity, deint=deint)
            if isinstance(graph, Exception):  # an FFmpeg built without them: as decoded
                self._deint_failed = True
                msg = (f"{self.path.name}: the video is interlaced, but no deinterlacer could "
                       f"be set up ({_short(graph)}): its frames are analysed as decoded, "
                       "combed wherever anything moved")  # fmt: skip
                logger.debug(msg)
                warnings.warn(msg, FacetwitchWarning, stacklevel=4)
                return [*frames, vf]
            self._deint, self._deint_key = graph, key
            self._interlaced = True
        self._deint.vpush(vf)
        return frames + _pulled(self._deint)

    def _seek_start(self, tb) -> None:
        """Seek to the key frame at or before ``start_s``.

        Seek to the key frame at or before ``start_s`` (t = 0 was found in ``__init__``; without a
        first frame, nothing is sought: the frames come from the start).
        """
        if self._t0 is None or not tb:
            return
        target = int(round(self._t0 / tb)) + int(self.start_s / tb)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._seeked = True

    def _check_complete(self, tb) -> None:
        """Record the missing end of a file that stops, without an error.

        Well before the duration its index announces (a copy or upload cut short, faststart mp4).
        """
        if (self._t0 is None or self._t_last is None or self._lost_to_end() or self._bad_times
                or self._restarts):  # fmt: skip
            return  # (with bad timestamps, the end the index announces is no better)
        announced_end = _announced_end_s(self._container, self._stream, own=True)
        if announced_end is None:
            return
        end = announced_end - self._t0
        dt = self._dt_last if self._dt_last else 0.0
        if end - (self._t_last + dt) > max(0.5, 3 * dt):
            self.end_missing = (float(self._t_last), float(end))
            self._lost.append(self.end_missing)
            msg = (
                f"{self.path.name}: the file ends at {self._t_last:.2f} s but its index "
                f"announces {end:.2f} s: truncated? (nothing after {self._t_last:.2f} s "
                "could be decoded)"
            )
            self.end_missing_warning = msg
            logger.debug(msg)
            warnings.warn(msg, FacetwitchWarning, stacklevel=3)

    def _lost_to_end(self) -> bool:
        return bool(self._lost) and self._lost[-1][1] == float("inf")

    def _note_lost(self, t_from: float, t_to: float | None, exc) -> None:
        end = float("inf") if t_to is None else t_to
        self._lost.append((float(t_from), end))
        until = "the end" if t_to is None else f"{t_to:.2f} s"
        msg = (
            f"{self.path.name}: damaged video data from {t_from:.2f} s to {until}, not "
            f"measured ({_short(exc)})"
        )
        logger.debug(msg)
        warnings.warn(msg, FacetwitchWarning, stacklevel=3)

    def _jump_undone(self, t: float) -> float | None:
        """Return this frame's time if it shows that the last frame's time was wrong, else None.

        The last frame jumped ahead by a gap (or was the first frame), and this one, at ``t``
        (not after it), carries on from the frame before it (or comes more than a gap before
        the first frame): one bad timestamp from a broken muxer. The last frame is then
        forgotten (it was held back, see ``__iter__``) and counted as a bad time; this one is
        taken (the first frame's place: t = 0; after a chunk's seek, where t = 0 is known,
        the first frame there).
        """
        if self._jump is None:
            return None
        t_before, dt_before, rec = self._jump
        if t_before is None and self._seeked:  # the first frame after a chunk's seek
            if t >= self._t_last - GAP_S:
                return None
            where = t  # (t = 0 is the file's, known: it stays)
            self._t_last = None
        elif t_before is None:  # the file's first frame
            if t >= -GAP_S:
                return None
            self._t0 += t
            t = where = 0.0
            self._t_last = None
        elif t <= t_before + 1e-6:
            return None
        else:
            where = self._t_last = t_before
        self._dt_last, self._rec = dt_before, rec
        self._frames -= 1
        self._bad_times += 1
        self.bad_times_at.append(float(where))
        self._jump = None
        self._drop_held = True
        return t

    def _restart_confirmed(self, t: float) -> float | None:
        """Return this frame's time if the file's clock started again, else None.

        In a format whose times may start again (MPEG-TS, PS: recordings joined end to end,
        ``cat a.mts b.mts``), a frame before the last one, and the next frame after it by no
        more than a gap (``GAP_S``), are a restart, not two bad times: the first of them is left
        out (one frame: it might have been a lone bad time), and from the second on the frames
        are timed on from the last frame before it, as a player plays them. Every frame of the
        second recording had been left out as "going back".
        """
        if not self._discont:
            return None
        first = self._restart
        if first is None or not 0.0 < t - first <= GAP_S:
            self._restart = t  # the first frame that went back: left out, remembered
            return None
        dt = self._dt_last or (1.0 / self.nominal_fps if self.nominal_fps > 0 else 1 / 30)
        shift = self._t_last + dt - first  # the left-out frame's place is kept
        self._shift += shift
        self._restart = None
        self._restarts.append(float(self._t_last + dt))
        if len(self._restarts) == 1:
            msg = (f"{self.path.name}: the video's times start again at {self._t_last + dt:.2f} "
                   "s (recordings joined end to end, or a camera's clock set back): the frames "
                   "after it are timed on from there, as a player plays them")  # fmt: skip
            self.restart_warning = msg
            logger.debug(msg)
            warnings.warn(msg, FacetwitchWarning, stacklevel=4)
        return t + shift

    def _convert(self, vf: av.VideoFrame, tb) -> Frame | None:
        if vf.pts is None:
            return None
        t_abs = float(vf.pts * (vf.time_base or tb))
        if self._t0 is None:
            self._t0 = t_abs
            self._rotation, self._flipped = _display_orientation(vf)
        t = t_abs - self._t0 + self._shift
        if self._t_last is not None and t <= self._t_last + 1e-6:
            undone = self._jump_undone(t)
            if undone is None:
                undone = self._restart_confirmed(t)
            if undone is None:
                logger.debug("dropping frame with non-increasing PTS %.4f s", t)
                self._bad_times += 1
                self.bad_times_at.append(float(self._t_last))
                return None
            t = undone
        else:
            self._restart = None
        size = self._scaled_size(vf.width, vf.height)
        stored = size or (vf.width, vf.height)
        if self._first_wh is None:
            self._first_wh = stored
        elif stored != self._first_wh:  # joined recordings, a stream that changed resolution:
            # landmarks in pixels of another size would read as the face jumping and resizing
            size = self._first_wh
            if not self.size_change_warning:
                self.size_changed_at = float(t)
                msg = (f"{self.path.name}: the picture size changed at {t:.2f} s ({vf.width}x"
                       f"{vf.height} after {self._first_wh[0]}x{self._first_wh[1]}): later "
                       "frames are scaled to the first size, and sizes in mm after it may be "
                       "off")  # fmt: skip
                self.size_change_warning = msg
                logger.debug(msg)
                warnings.warn(msg, FacetwitchWarning, stacklevel=3)
        if size is not None:
            rgb = vf.to_ndarray(format="rgb24", width=size[0], height=size[1])
        else:
            rgb = vf.to_ndarray(format="rgb24")
        rgb = _upright(rgb, (self._rotation + self.turn_deg) % 360)
        self._out_wh = (rgb.shape[1], rgb.shape[0])
        # the first frame (also after a chunk's seek) is held back too, until the second says
        # its time was right
        self._jump = (None, None, [0.0, 0]) if self._t_last is None else None
        if self._t_last is not None:
            dt = t - self._t_last
            if dt > GAP_S:  # a gap (a paused recording, a jump in the timestamps): reported
                # from the frame times by the analysis; remembered here in case the next frame
                # shows that this one's time is wrong
                self._jump = (self._t_last, self._dt_last, list(self._rec))
            else:
                self._rec[0] += dt
                self._rec[1] += 1
                self._dt_last = dt if not self._dt_last else 0.9 * self._dt_last + 0.1 * dt
        frame = Frame(index=self._frames, t_s=t, rgb=rgb)
        self._frames += 1
        self._t_last = t
        return frame


def _announced_end_s(container, stream, *, own: bool = False) -> float | None:
    """Return the end of the video the file announces, on its timestamps' clock (s), or None.

    The stream's own start and duration when it has them (MP4/MOV), else the container's.
    Matroska/WebM give no stream a duration but write each track's end as a ``DURATION`` tag
    (FFmpeg's muxer and mkvmerge): the video's end, where the file's (its longest track's)
    may be the sound's (a camera that stopped while the microphone went on: a 5 s picture
    in a 60 s file had been called cut short, "nothing after 4.97 s could be decoded", and
    the rest "lost"). Such a tag and a segment's duration count from the segment's time 0, as
    its frames' times do: a file whose first frame is at 3600 s and which announces 3605 s
    ends at 3605 s, not 7205 s (FFmpeg's start + duration, which had called such a 5 s file
    cut short and its hour "lost"). Planning and checks only, never times.

    ``own``: only an end that is the video's own; None when the file's length is that of
    another stream (an MPEG-TS file, which has no index, is as long as its last packet: its
    sound's, when the picture stopped first).
    """
    tb = stream.time_base
    if stream.duration and tb:
        return float(((stream.start_time or 0) + stream.duration) * tb)
    matroska = "matroska" in (container.format.name or "")
    start = _stream_start_s(container, stream)
    tagged = _matroska_duration_tag(stream) if matroska else None
    if tagged is not None:
        return tagged if tagged > start else start + tagged
    if not container.duration:
        return None
    duration = container.duration / av.time_base
    start = (container.start_time or 0) / av.time_base
    end = duration if matroska and duration > start else start + duration
    if own:
        for other in container.streams:
            if other is not stream and other.duration and other.time_base:
                other_end = float(((other.start_time or 0) + other.duration) * other.time_base)
                if other_end >= end - 0.05:  # the file's length is this stream's
                    return None
    return end


def _stream_start_s(container, stream) -> float:
    """Return the first time the stream (else the container) announces, in s (0 if none)."""
    if stream.start_time is not None and stream.time_base:
        return float(stream.start_time * stream.time_base)
    if container.start_time is not None:
        return container.start_time / av.time_base
    return 0.0


def _matroska_duration_tag(stream) -> float | None:
    """Return a Matroska track's ``DURATION`` tag (``HH:MM:SS.nnnnnnnnn``) in s, or None."""
    meta = stream.metadata or {}
    text = next((str(v) for k, v in meta.items() if k.upper().startswith("DURATION")), None)
    if not text:
        return None
    try:
        h, m, sec = text.strip().split(":")
        value = int(h) * 3600 + int(m) * 60 + float(sec)
    except ValueError:
        return None
    return value if np.isfinite(value) and value > 0 else None


def bad_time_message(name: str, n: int) -> str:
    """Return the warning for ``n`` frames of the file ``name`` left out for their timestamps."""
    return f"{name}: {frames_left_out(n)}"


def time_restarts(path: str | os.PathLike) -> bool:
    """Return whether the video's times start again mid-file (in a format where they may).

    From the packets alone, nothing decoded (a few seconds for an hour of MPEG-TS): such a
    file is tracked in one process, since a time after a restart is no place in the file to
    seek to. False for any format whose times may not start again (MP4, MKV, ...).
    """
    container = _open(Path(path))
    try:
        if not int(container.format.flags) & av.format.Flags.ts_discont.value:
            return False
        stream, _ = video_stream_choose(container)
        tb = stream.time_base
        last = None
        for packet in container.demux(stream):  # decode order: its DTS never go back
            ts = packet.dts if packet.dts is not None else packet.pts
            if ts is None or not tb:
                continue
            t = float(ts * tb)
            if last is not None and t < last - 1e-6:
                return True
            last = t
    except av.error.FFmpegError:
        return False
    finally:
        container.close()
    return False


def _file_start(path: Path, max_side: int | None) -> tuple[float, int, bool] | None:
    """Return the file's t = 0 (its first frame's PTS, in seconds), rotation and mirror.

    As a reader from the start finds them (a first frame whose time the next frame shows wrong is
    left out); None when no frame decodes. Warnings are left to the reader that reads the file from
    there.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(path, max_side=max_side) as reader:
            for _ in reader:
                break
            if reader._t0 is None:
                return None
            return reader._t0, reader._rotation, reader._flipped


def video_probe(path: str | os.PathLike) -> VideoInfo:
    """Decode a whole video (no landmarks) and return its exact :class:`VideoInfo`."""
    with VideoReader(path) as video:
        for _ in video:
            pass
        return video.info


def video_frames_at(
    path: str | os.PathLike, times_s, *, max_side: int | None = None, turn_deg: int = 0
) -> list[Frame]:
    """Frames closest to each of ``times_s`` (seconds from the first frame), in one pass.

    ``turn_deg``: as the tracker turned them (a track's ``info["turned_deg"]``).
    """
    times = np.asarray(list(times_s), dtype=float)
    if times.size == 0:
        return []
    best: list[Frame | None] = [None] * times.size
    # a video read again (for pictures of its events): what its reading warns was said when
    # it was tracked
    with (
        warnings.catch_warnings(),
        VideoReader(path, max_side=max_side, turn_deg=turn_deg) as video,
    ):
        warnings.simplefilter("ignore", FacetwitchWarning)
        for frame in video:
            for i, t in enumerate(times):
                b = best[i]
                if b is None or abs(frame.t_s - t) < abs(b.t_s - t):
                    best[i] = frame
            if frame.t_s > times.max() + 1.0:
                break
    if any(b is None for b in best):
        raise InputError(f"{path}: no frames could be decoded")
    return best  # type: ignore[return-value]
