"""Write test videos with known content: exact (irregular) timestamps and phone rotation."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

#: Time base of written clips: fine enough that irregular timestamps survive to ~11 us.
CLIP_TIME_BASE = Fraction(1, 90000)
#: MPEG-4 part 2 allows time-base denominators below 2**16 only.
_CODEC_TIME_BASE = {"mpeg4": Fraction(1, 60000)}


#: The colour tags an iPhone (12 and later, its default "HDR Video" setting) writes into its
#: HEVC, as ``x265_params`` of :func:`make_clip`: BT.2020 primaries and matrix, the HLG transfer
#: (ARIB STD-B67).
PHONE_HDR_X265 = "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"


def make_clip(
    frames_rgb: Sequence[np.ndarray] | np.ndarray,
    times_s: Sequence[float] | np.ndarray,
    path: str | Path,
    codec: str = "libx264",
    rotation_deg: int = 0,
    crf: int = 18,
    pixel_aspect: Fraction | None = None,
    keyint: int | None = None,
    rate: int | None = None,
    pix_fmt: str = "yuv420p",
    x265_params: str = "",
    preset: str = "veryfast",
    hflip: bool = False,
    interlaced: str = "",
) -> Path:
    """Write ``frames_rgb`` as a video whose frames are presented exactly at ``times_s``.

    Parameters
    ----------
    frames_rgb : sequence of (h, w, 3) uint8 arrays
        The frames as they should be **seen** (upright). ``h`` and ``w`` must be even for the
        yuv420p codecs (libx264, libx265, mpeg4).
    times_s : sequence of float
        Presentation time of each frame, in seconds, strictly increasing (any spacing: variable
        frame rate is the point). Stored as PTS in a 1/90000 s time base (1/60000 s for mpeg4);
        the container may round further (Matroska keeps milliseconds, MP4/MOV keep 1/90000).
    path : str or Path
        Output file; the container follows the extension (.mp4, .mov, .mkv, ...).
    codec : str
        FFmpeg encoder name: ``libx264`` (default), ``libx265``, ``mpeg4``, ``ffv1`` (lossless,
        .mkv), ...
    rotation_deg : int
        Phone-style display rotation, in facetwitch's convention
        (:attr:`facetwitch.landmarks.video.VideoInfo.rotation_deg`): the clockwise rotation a
        player applies to the stored pixels to show them upright. The frames are stored rotated
        counter-clockwise by this much and the display matrix says to turn them back, so a
        reader that honours rotation returns ``frames_rgb`` again. (PyAV's
        ``set_display_rotation`` takes counter-clockwise degrees, hence the sign flip here.)
    crf : int
        Constant rate factor for libx264/libx265 (lower = better; 0 = lossless for libx264).
    pixel_aspect : Fraction, optional
        The sample aspect ratio to tag the stream with (anamorphic video: a player stretches
        each stored pixel to this width / height); ``frames_rgb`` are then the stored pixels.
    keyint : int, optional
        A key frame every ``keyint`` frames (libx264/libx265; default: the encoder's).
    rate : int, optional
        The nominal frame rate (fps) the stream announces, which sets the last frame's
        duration; default: the frames' mean rate (a clip with a long pause needs it given).
    pix_fmt : str
        The stored pixel format of the yuv codecs: ``yuv420p`` (default) or, as a phone's
        HDR video, ``yuv420p10le`` (10 bits).
    preset : str
        The x264/x265 preset (``ultrafast``: the coarse encoding of a cheap recorder).
    x265_params : str
        More ``x265-params`` for libx265, ``key=value:...`` (e.g. the colour tags a phone
        writes: ``colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc``).
    hflip : bool
        The display matrix mirrors too, after the rotation (as some phones save front-camera
        video): a player shows ``frames_rgb`` mirrored; the stored pixels are as without it.
    interlaced : str
        ``"tff"`` or ``"bff"``: libx264 codes the frames interlaced, in that field order (every
        frame flagged interlaced, as a camcorder's 1080i); any other codec is tagged so in the
        container (Matroska's FieldOrder: FFV1 stores no field order of its own, its frames are
        not flagged). ``frames_rgb`` are then the woven frames (:func:`fields_woven`). ``""``:
        progressive.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    times = np.asarray(times_s, dtype=float)
    if len(frames_rgb) != len(times):
        raise ValueError(f"{len(frames_rgb)} frames but {len(times)} times")
    if len(times) == 0:
        raise ValueError("no frames to write")
    time_base = _CODEC_TIME_BASE.get(codec, CLIP_TIME_BASE)
    pts = np.round(times / float(time_base)).astype(np.int64)
    if np.any(np.diff(pts) <= 0):
        raise ValueError(f"times_s must be strictly increasing (at {time_base} s resolution)")
    if rotation_deg % 90:
        raise ValueError(f"rotation_deg must be a multiple of 90, got {rotation_deg}")
    k_ccw = (rotation_deg // 90) % 4
    first = np.rot90(np.asarray(frames_rgb[0]), k=k_ccw)
    height, width = first.shape[:2]
    lossless_rgb = codec in {"ffv1", "libx264rgb", "png", "qtrle"}
    if not lossless_rgb and (height % 2 or width % 2):
        raise ValueError(f"{codec} needs even frame sizes, got {width}x{height}")

    # Nominal rate only sets defaults; every frame carries its own PTS.
    span = float(times[-1] - times[0])
    if rate is None:
        rate = Fraction(round((len(times) - 1) / span)) if len(times) > 1 and span > 0 else 30
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=max(int(rate), 1))
        stream.width, stream.height = width, height
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "ffv1":
            stream.pix_fmt = "bgr0"
        elif codec == "libx264rgb":
            stream.pix_fmt = "rgb24"
        else:
            stream.pix_fmt = pix_fmt
        if codec in {"libx264", "libx265"}:
            stream.options = {"crf": str(crf), "preset": preset}
            if codec == "libx265":
                stream.options["x265-params"] = ":".join(
                    filter(None, ["log-level=error", x265_params])
                )
            if keyint:
                stream.options.update(g=str(keyint), keyint_min=str(keyint))
            if interlaced:
                stream.options["x264-params"] = f"{interlaced}=1"
        elif interlaced:  # a codec that stores no field order: the container's tag only
            stream.codec_context.field_order = {"tff": 2, "bff": 3}[interlaced]
        if rotation_deg % 360 or hflip:
            stream.set_display_rotation(-(rotation_deg % 360), hflip=hflip)
        if pixel_aspect is not None:
            stream.codec_context.sample_aspect_ratio = pixel_aspect
        fields = (_field_flags(width, height, stream.pix_fmt, time_base, interlaced)
                  if codec == "libx264" else None)  # fmt: skip
        for rgb, p in zip(frames_rgb, pts, strict=True):
            stored = np.ascontiguousarray(np.rot90(np.asarray(rgb, dtype=np.uint8), k=k_ccw))
            if stored.shape[:2] != (height, width):
                raise ValueError(f"frame of shape {stored.shape} in a {width}x{height} clip")
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts = int(p)
            frame.time_base = time_base
            if fields is not None:  # in the stream's own pixel format, as the encoder takes it
                fields.vpush(frame.reformat(format=stream.pix_fmt))
                frame = fields.vpull()
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _field_flags(width: int, height: int, pix_fmt: str, time_base, order: str):
    """Return a filter graph that flags frames interlaced in field ``order`` (None for "").

    FFmpeg's libx264 wrapper sets x264's field order from each frame's own flag, whatever
    ``x264-params`` says: an unflagged frame is coded bottom field first.
    """
    from facetwitch.landmarks.video import filter_graph

    if not order:
        return None
    return filter_graph(width, height, pix_fmt, time_base, "setfield", f"mode={order}")


def fields_woven(frames_rgb: Sequence[np.ndarray], field_order: str = "tff") -> list[np.ndarray]:
    """Return interlaced frames: each of two consecutive frames' fields woven into one.

    Frame ``k`` holds the first field (the top one, even rows, for ``"tff"``; the bottom one
    for ``"bff"``) of ``frames_rgb[2k]`` and the other field of ``frames_rgb[2k + 1]``: half
    the frames, each field filmed one source frame after the other, as an interlaced camera
    films them (30 fps in: 15 frames and 30 fields a second).
    """
    first = 0 if field_order == "tff" else 1
    out = []
    for a, b in zip(frames_rgb[0::2], frames_rgb[1::2], strict=False):
        frame = np.array(b, dtype=np.uint8)
        frame[first::2] = np.asarray(a)[first::2]
        out.append(frame)
    return out


def banded(rgb: np.ndarray, phase: float, depth: float = 0.10) -> np.ndarray:
    """``rgb`` under flickering light read by a rolling shutter: 3 horizontal bands of ``depth``.

    Successive frames at 30 frames/s under 100 Hz light: ``phase`` steps by 2 pi / 3.
    """
    h = rgb.shape[0]
    f = 1 + depth * np.sin(2 * np.pi * 3 * np.arange(h) / h + phase)
    return np.clip(np.rint(rgb * f[:, None, None]), 0, 255).astype(np.uint8)


def hand_shaken(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` moved as a phone held in the hand moves one frame, and the move (a 2x3 affine).

    A shift of up to 2 px each way, a rolling shutter's shear of up to 1.2 % and a vertical
    stretch of up to 0.8 % (both about the middle row), drawn from ``rng``.
    """
    import cv2

    h, w = rgb.shape[:2]
    s, k = rng.uniform(-0.012, 0.012), rng.uniform(-0.008, 0.008)
    a = np.array([[1, s, -s * h / 2 + rng.uniform(-2, 2)],
                  [0, 1 + k, -k * h / 2 + rng.uniform(-2, 2)]])  # fmt: skip
    return cv2.warpAffine(rgb, a, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT), a


def cut_clip(src: str | Path, t0_s: float, t1_s: float, path: str | Path, crf: int = 18) -> Path:
    """Write the frames of ``src`` in [``t0_s``, ``t1_s``) to ``path``, times from 0.

    The frames of ``src`` (decoded by facetwitch's reader, upright) presented in [``t0_s``,
    ``t1_s``), written to ``path`` with their timestamps shifted to start at 0.
    """
    from facetwitch.landmarks.video import VideoReader

    frames, times = [], []
    with VideoReader(src) as reader:
        for frame in reader:
            if t0_s <= frame.t_s < t1_s:
                frames.append(frame.rgb)
                times.append(frame.t_s - t0_s)
    return make_clip(frames, np.array(times), path, crf=crf)


def make_av_clip(
    path: str | Path,
    *,
    duration_s: float,
    audio: np.ndarray | None,
    audio_rate_hz: int = 48000,
    audio_start_s: float = 0.0,
    video_start_s: float = 0.0,
    fps: float = 25.0,
    size: tuple[int, int] = (64, 48),
    audio_codec: str = "aac",
) -> Path:
    """Write a clip with a grey video stream and (unless ``audio`` is None) a mono sound track.

    Parameters
    ----------
    path : str or Path
        Output file (.mp4, .mkv, ...).
    duration_s : float
        Length of the video, seconds.
    audio : ndarray of float, shape (n,), or None
        Mono samples in [-1, 1] at ``audio_rate_hz``; None writes no audio stream.
    audio_start_s, video_start_s : float
        Presentation time (s, in the file) of the first audio sample and of the first video
        frame: a file's streams need not start together.
    fps : float
        Frame rate of the video.
    size : (int, int)
        Width and height of the (grey) frames.
    audio_codec : str
        FFmpeg audio encoder (``aac``, ``pcm_s16le`` in .mkv, ``libopus``, ...).
    """
    path = Path(path)
    tb = Fraction(1, 90000)
    w, h = size
    with av.open(str(path), mode="w") as container:
        vs = container.add_stream("libx264", rate=int(round(fps)))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.time_base = tb
        vs.codec_context.time_base = tb
        vs.options = {"preset": "ultrafast"}
        astream = None
        if audio is not None:
            astream = container.add_stream(audio_codec, rate=audio_rate_hz, layout="mono")
        packets = []
        n = int(round(duration_s * fps))
        grey = np.full((h, w, 3), 128, np.uint8)
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(grey, format="rgb24")
            vf.pts = int(round((video_start_s + i / fps) / float(tb)))
            vf.time_base = tb
            packets += vs.encode(vf)
        packets += vs.encode(None)
        if astream is not None:
            fmt = astream.codec_context.format.name if astream.codec_context.format else "fltp"
            pcm = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
            block = astream.codec_context.frame_size or 1024
            start = int(round(audio_start_s * audio_rate_hz))
            for k in range(0, len(pcm), block):
                chunk = pcm[k : k + block]
                if fmt.startswith("s16"):
                    data = np.round(chunk * 32767).astype(np.int16)[None, :]
                    af = av.AudioFrame.from_ndarray(data, format="s16", layout="mono")
                else:
                    af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                af.sample_rate = audio_rate_hz
                af.pts = start + k
                af.time_base = Fraction(1, audio_rate_hz)
                packets += astream.encode(af)
            packets += astream.encode(None)
        for p in sorted(
            packets, key=lambda p: float(p.pts * p.time_base) if p.pts is not None else 0
        ):
            container.mux(p)
    return path
