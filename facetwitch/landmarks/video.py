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

    def to_dict(self) -> dict:
        """Plain-JSON dict of the fields."""
        d = asdict(self)
        d["lost_ranges_s"] = [list(r) for r in self.lost_ranges_s]
        return d


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


def _upright(rgb: np.ndarray, rotation_cw: int) -> np.ndarray:
    """Rotate stored pixels clockwise by ``rotation_cw`` (0/90/180/270) to show them upright."""
    if rotation_cw == 0:
        return rgb
    # np.rot90 rotates counter-clockwise for k > 0.
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation_cw // 90)))


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if _mp4_index_missing(path):
            raise InputError(
                f"{path}: the MP4/MOV index (moov) is missing, so nothing can be decoded; the "
                "recording was interrupted or the file was cut short (copy it again from the "
                "phone or camera)"
            ) from None
        raise InputError(
            f"{path}: not a readable video ({_short(exc)}): damaged, or not a video file"
        ) from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: the file has no video stream")
    fmt = container.format.name
    if fmt in _STILL_IMAGE_FORMATS or fmt.endswith("_pipe"):
        codec = container.streams.video[0].codec_context.name
        container.close()
        raise InputError(
            f"{path}: is a still image ({codec}), not a video; facetwitch measures movement "
            "over time: film the face for at least a few seconds"
        )
    return container


#: FFmpeg demuxers of single images (FFmpeg would read a photo as a one-frame video).
_STILL_IMAGE_FORMATS = ("image2",)


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)[:160]  # without errno and the repeated file name
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg[:160]


def _mp4_index_missing(path: Path) -> bool:
    """True for an MP4/MOV file (``ftyp`` box first) whose top-level boxes hold no ``moov``
    (the index, written last by most recorders: missing when recording or copying stopped)."""
    kinds = []
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
                pos += size
    except OSError:
        return False
    return bool(kinds) and kinds[0] == b"ftyp" and b"moov" not in kinds


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
        cannot seek so gives later frames). For tracking a chunk of a long video.
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
    ):
        self.path = Path(path)
        self.max_side = max_side
        self.start_s = start_s
        self._container = _open(self.path)
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._sha256: str | None = sha256  # hashed on first use of .info, not per open
        cc = self._stream.codec_context
        self._codec = cc.name
        self._has_audio = bool(self._container.streams.audio)
        self._stored_wh = (cc.width, cc.height)
        sar = self._stream.sample_aspect_ratio or cc.sample_aspect_ratio
        self._sar = float(sar) if sar and 0.2 < float(sar) < 5.0 else 1.0  # 0/1: unknown
        self._rotation = None
        self._frames = 0
        self._t0: float | None = None
        self._t_last = None
        self._dt_last = None
        self._lost: list[tuple[float, float]] = []
        self._out_wh = None
        self._done = False
        # Read what the container announces now: the stream must not be touched once closed.
        rate = self._stream.average_rate or self._stream.guessed_rate
        self._nominal_fps = float(rate) if rate else float("nan")
        n = int(self._stream.frames or 0)
        if n == 0 and self._stream.duration and self._stream.time_base and self._nominal_fps > 0:
            n = int(float(self._stream.duration * self._stream.time_base) * self._nominal_fps)
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
    def nominal_fps(self) -> float:
        """The container's average frame rate (only for display, never for timestamps)."""
        return self._nominal_fps

    @property
    def announced_duration_s(self) -> float:
        """The video stream's duration as the container announces it (NaN if it does not);
        for planning only, never for timestamps."""
        stream = self._stream
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if self._container.duration:
            return self._container.duration / av.time_base
        return float("nan")

    @property
    def expected_frames(self) -> int:
        """Frame count the container announces (0 if unknown); for progress bars only."""
        return self._expected_frames

    @property
    def info(self) -> VideoInfo:
        """Metadata; frame count, fps and duration are exact once the frames were read."""
        rot = self._rotation if self._rotation is not None else 0
        sw, sh = self._stored_wh
        if rot in (90, 270):
            sw, sh = sh, sw
        if self._out_wh is not None:
            w, h = self._out_wh
        else:
            w, h = self._scaled_size(*self._stored_wh) or self._stored_wh
            if rot in (90, 270):
                w, h = h, w
        if self._frames and self._t_last is not None:
            dt = self._dt_last if self._dt_last else (1.0 / self.nominal_fps)
            duration = float(self._t_last + (dt if np.isfinite(dt) else 0.0))
            fps = (self._frames - 1) / self._t_last if self._t_last > 0 else float("nan")
        else:
            duration, fps = float("nan"), float("nan")
        return VideoInfo(
            path=str(self.path),
            sha256=self._file_sha256(),
            width=int(w),
            height=int(h),
            rotation_deg=int(rot),
            fps_mean=float(fps),
            duration_s=duration,
            frames=self._frames,
            codec=self._codec,
            has_audio=self._has_audio,
            source_width=int(sw),
            source_height=int(sh),
            lost_ranges_s=tuple(self._lost),
            pixel_aspect=round(self._sar, 6),
        )

    # -- frames ----------------------------------------------------------------------------
    def _scaled_size(self, w: int, h: int) -> tuple[int, int] | None:
        """Output size of a stored ``w`` x ``h`` frame (None: as stored): square pixels (an
        anamorphic frame stretched, never squeezed), then at most ``max_side``."""
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
        if self.start_s:
            self._seek_start(tb)
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                # The container is damaged from here on (e.g. truncated file).
                self._note_lost(last_good_t, None, exc)
                damaged = None
                break
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as exc:
                if damaged is None:
                    t_bad = (
                        float(packet.pts * tb) - self._t0
                        if packet.pts is not None and self._t0 is not None
                        else last_good_t
                    )
                    damaged = [last_good_t, exc, t_bad]
                continue
            for vf in decoded:
                if damaged is not None:
                    if not vf.key_frame or vf.pts is None:
                        continue
                    t_key = (
                        float(vf.pts * (vf.time_base or tb)) - self._t0
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
                frame = self._convert(vf, tb)
                if frame is not None:
                    last_good_t = frame.t_s
                    if damaged is not None:
                        damaged[0] = frame.t_s
                    yield frame
        if damaged is not None:
            self._note_lost(damaged[0], None, damaged[1])
        self._check_complete(tb)

    def _seek_start(self, tb) -> None:
        """Find the file's first frame (t = 0), then seek to the key frame at or before
        ``start_s``."""
        stream = self._stream
        for packet in self._container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                continue
            for vf in decoded:
                if vf.pts is None:
                    continue
                vtb = vf.time_base or tb
                self._t0 = float(vf.pts * vtb)
                self._rotation = _rotation_cw(getattr(vf, "rotation", 0))
                target = vf.pts + int(self.start_s / vtb)
                self._container.seek(target, stream=stream, backward=True, any_frame=False)
                return

    def _check_complete(self, tb) -> None:
        """Record the missing end of a file that stops, without an error, well before the
        duration its index announces (a copy or upload cut short, faststart mp4)."""
        if self._t0 is None or self._t_last is None or self._lost_to_end():
            return
        stream = self._stream
        if stream.duration and tb:
            announced_end = float(((stream.start_time or 0) + stream.duration) * tb)
        elif self._container.duration:
            announced_end = (
                (self._container.start_time or 0) + self._container.duration
            ) / av.time_base
        else:
            return
        end = announced_end - self._t0
        dt = self._dt_last if self._dt_last else 0.0
        if end - (self._t_last + dt) > max(0.5, 3 * dt):
            self._lost.append((float(self._t_last), float(end)))
            msg = (
                f"{self.path.name}: the file ends at {self._t_last:.2f} s but its index "
                f"announces {end:.2f} s: truncated? (nothing after {self._t_last:.2f} s "
                "could be decoded)"
            )
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

    def _convert(self, vf: av.VideoFrame, tb) -> Frame | None:
        if vf.pts is None:
            return None
        t_abs = float(vf.pts * (vf.time_base or tb))
        if self._t0 is None:
            self._t0 = t_abs
            self._rotation = _rotation_cw(getattr(vf, "rotation", 0))
        t = t_abs - self._t0
        if self._t_last is not None and t <= self._t_last + 1e-6:
            logger.debug("dropping frame with non-increasing PTS %.4f s", t)
            return None
        size = self._scaled_size(vf.width, vf.height)
        if size is not None:
            rgb = vf.to_ndarray(format="rgb24", width=size[0], height=size[1])
        else:
            rgb = vf.to_ndarray(format="rgb24")
        rgb = _upright(rgb, self._rotation)
        self._out_wh = (rgb.shape[1], rgb.shape[0])
        if self._t_last is not None:
            dt = t - self._t_last
            # A gap of more than ~3 typical frame intervals is damaged or dropped video.
            noted = bool(self._lost) and self._lost[-1][1] >= t - 1e-6
            if self._dt_last and dt > max(0.5, 6 * self._dt_last) and not noted:
                self._lost.append((float(self._t_last), float(t)))
            self._dt_last = dt if not self._dt_last else 0.9 * self._dt_last + 0.1 * dt
        frame = Frame(index=self._frames, t_s=t, rgb=rgb)
        self._frames += 1
        self._t_last = t
        return frame


def video_probe(path: str | os.PathLike) -> VideoInfo:
    """Decode a whole video (no landmarks) and return its exact :class:`VideoInfo`."""
    with VideoReader(path) as video:
        for _ in video:
            pass
        return video.info


def video_frame_at(path: str | os.PathLike, t_s: float, *, max_side: int | None = None) -> Frame:
    """The frame whose PTS (seconds from the first frame) is closest to ``t_s``.

    For key frames at report time; decodes from the start, so it is meant for short clips or
    few calls. Use :func:`video_frames_at` for many times in one pass.
    """
    return video_frames_at(path, [t_s], max_side=max_side)[0]


def video_frames_at(
    path: str | os.PathLike, times_s, *, max_side: int | None = None
) -> list[Frame]:
    """Frames closest to each of ``times_s`` (seconds from the first frame), in one pass."""
    times = np.asarray(list(times_s), dtype=float)
    if times.size == 0:
        return []
    best: list[Frame | None] = [None] * times.size
    with VideoReader(path, max_side=max_side) as video:
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
