"""Twitch simulator: reproducible plans, exact injected motion on a real clip, the demo."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetwitch.conventions import REGIONS, angle_diff_deg, direction_deg
from facetwitch.landmarks.video import VideoReader, video_probe
from facetwitch.simulation import event_profile, injection_check, twitch_simulate, video_inject

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


# -- planning --------------------------------------------------------------------------------
def test_plan_is_reproducible_by_seed():
    a = twitch_simulate(8, 30.0, seed=7, n_blinks=2)
    b = twitch_simulate(8, 30.0, seed=7, n_blinks=2)
    c = twitch_simulate(8, 30.0, seed=8, n_blinks=2)
    assert a == b
    assert a != c


def test_plan_respects_spacing_and_ranges():
    events = twitch_simulate(
        12,
        20.0,
        regions=["upper_lip", "cheek"],
        sides=["left"],
        amplitude_mm=(1.0, 3.0),
        burst_fraction=0.5,
        n_blinks=2,
        seed=3,
    )
    assert len(events) == 14
    assert [e["id"] for e in events] == list(range(1, 15))
    peaks = np.array([e["t_peak_s"] for e in events])
    assert np.all(np.diff(peaks) >= 1.0 - 1e-3)
    assert peaks.min() >= 0.5 and max(e["t_end_s"] for e in events) <= 19.5 + 1e-3
    for prev, nxt in zip(events[:-1], events[1:], strict=True):
        assert prev["t_end_s"] < nxt["t_start_s"]
    twitches = [e for e in events if e["kind"] == "twitch"]
    assert sum(e["kind"] == "blink" for e in events) == 2
    assert any(e["pulse_count"] > 1 for e in twitches)
    for e in twitches:
        assert e["region"] in ("upper_lip", "cheek") and e["side"] == "left"
        assert 1.0 <= e["amplitude_mm"] <= 3.0
        assert 0.0 <= e["direction_deg"] < 360.0
        assert 0.1 - 1e-3 <= e["duration_s"] <= 0.6 + 1e-3
        assert 1 <= e["pulse_count"] <= 4
        rise = e["t_peak_s"] - e["t_start_s"]
        assert 0.03 - 1e-3 <= rise <= 0.08 + 1e-3
        # The profile peaks (at 1) at t_peak_s and is back to 0 at t_end_s.
        grid = np.arange(e["t_start_s"], e["t_end_s"] + 0.05, 0.001)
        prof = event_profile(e, grid)
        assert abs(grid[np.argmax(prof)] - e["t_peak_s"]) < 0.002
        assert prof.max() == pytest.approx(1.0, abs=5e-3)
        assert event_profile(e, e["t_end_s"] + 0.001)[0] == 0.0
    for e in events:
        assert e["region"] in REGIONS


def test_a_pulse_with_a_hold_is_a_held_contraction():
    """A fifth pulse number holds the peak (benchmarks/sustained.py's tonic contractions)."""
    e = {"t_start_s": 1.0, "profile": {"pulses": [[0.0, 1.0, 0.05, 0.15, 2.0]]}}
    rise = event_profile(e, np.array([1.0, 1.025, 1.05]))
    assert rise[0] == 0.0 and 0.4 < rise[1] < 0.6 and rise[2] == pytest.approx(1.0)
    assert np.allclose(event_profile(e, np.linspace(1.05, 3.05, 50)), 1.0)
    decay = event_profile(e, np.array([3.1, 3.2, 3.21]))
    assert 0.0 < decay[0] < 1.0 and decay[1] == pytest.approx(0.0, abs=1e-9) and decay[2] == 0
    # without the fifth number: the twitch pulse, unchanged
    twitch = {"t_start_s": 1.0, "profile": {"pulses": [[0.0, 1.0, 0.05, 0.15]]}}
    assert event_profile(twitch, 1.5)[0] == 0.0


def test_plan_refuses_impossible_spacing():
    with pytest.raises(ValueError, match="do not fit"):
        twitch_simulate(20, 10.0, seed=0)
    with pytest.raises(ValueError, match="regions"):
        twitch_simulate(2, 10.0, regions=["ear"], seed=0)
    # no twitch of 0 mm, nor of a billion (its truth file said so while the video showed a smear)
    for amplitude in (0.0, (0.0, 2.0), 1e9, (1.0, 20.5)):
        with pytest.raises(ValueError, match=r"'amplitude_mm' must lie in \(0, 20\] mm"):
            twitch_simulate(2, 10.0, amplitude_mm=amplitude, seed=0)
    assert len(twitch_simulate(2, 10.0, amplitude_mm=(0.5, 20.0), seed=0)) == 2


# -- injection into real footage -------------------------------------------------------------
# Hand-made, so the test knows what it asked for; placed where the man in single_face.mp4
# holds his expression (he smiles at about 0.6 s).
PLANTED = [
    {
        "id": 1,
        "kind": "twitch",
        "region": "upper_lip",
        "side": "left",
        "t_start_s": 1.15,
        "t_peak_s": 1.2,
        "t_end_s": 1.45,
        "duration_s": 0.3,
        "amplitude_mm": 2.5,
        "direction_deg": 45.0,
        "direction": "up-left",
        "pulse_count": 1,
        "profile": {"pulses": [[0.0, 1.0, 0.05, 0.25]]},
    },
    {
        "id": 2,
        "kind": "twitch",
        "region": "lower_lip",
        "side": "right",
        "t_start_s": 1.85,
        "t_peak_s": 1.9,
        "t_end_s": 2.15,
        "duration_s": 0.3,
        "amplitude_mm": 2.5,
        "direction_deg": 270.0,
        "direction": "down",
        "pulse_count": 1,
        "profile": {"pulses": [[0.0, 1.0, 0.05, 0.25]]},
    },
]


def _frames(path):
    with VideoReader(path) as video:
        frames = list(video)
    return np.array([f.t_s for f in frames]), [f.rgb for f in frames]


@pytest.fixture(scope="module")
def injected(feat_data, model_path, tmp_path_factory):
    src = feat_data / "single_face.mp4"
    dst = tmp_path_factory.mktemp("sim") / "single_face_injected.mp4"
    truth = video_inject(src, dst, PLANTED, model=model_path, crf=12)
    return src, dst, truth


def test_injected_video_keeps_frames_and_timestamps(injected):
    src, dst, truth = injected
    t_src, _ = _frames(src)
    t_dst, _ = _frames(dst)
    assert len(t_dst) == len(t_src) == truth["frames"]
    np.testing.assert_array_equal(t_dst, t_src)
    on_disk = json.loads(dst.with_suffix(".truth.json").read_text())
    assert on_disk["events"] == truth["events"]
    assert [e["id"] for e in truth["events"]] == [1, 2] and not truth["skipped_events"]
    assert 0.8 < truth["px_per_mm"] < 2.5


def test_injected_motion_matches_the_truth(injected):
    src, dst, truth = injected
    t, clean = _frames(src)
    _, warped = _frames(dst)
    for ev in truth["events"]:
        k = int(np.argmin(np.abs(t - ev["t_peak_s"])))
        assert t[k] == ev["t_peak_s"]
        v = np.array(ev["vector_px"])
        # The face-frame direction came out as planned (image y is down, face +y is up; the
        # face here is nearly upright and unmirrored, so face +x ~ image +x).
        assert angle_diff_deg(direction_deg(v[0], -v[1]), ev["direction_deg"]) < 10
        assert np.hypot(*v) == pytest.approx(ev["amplitude_mm"] * truth["px_per_mm"], rel=0.1)
        up = 2  # flow on a 2x upscale: the bump is only ~10 px wide at this size
        g0, g1 = (
            cv2.resize(
                cv2.cvtColor(f, cv2.COLOR_RGB2GRAY),
                None,
                fx=up,
                fy=up,
                interpolation=cv2.INTER_CUBIC,
            )
            for f in (clean[k], warped[k])
        )
        flow = cv2.calcOpticalFlowFarneback(g0, g1, None, 0.5, 1, 7, 3, 5, 1.1, 0) / up
        yy, xx = np.mgrid[: g0.shape[0], : g0.shape[1]] / up
        cx, cy = ev["centre_px"]
        r2 = (xx - cx) ** 2 + (yy - cy) ** 2
        centre = np.median(flow[r2 < (ev["sigma_px"] / 4) ** 2], axis=0)
        assert np.hypot(*centre) == pytest.approx(np.hypot(*v), rel=0.2)
        measured = np.degrees(np.arctan2(centre[1], centre[0]))
        assert angle_diff_deg(measured, np.degrees(np.arctan2(v[1], v[0]))) < 15
        # Away from the region nothing moves (codec differences aside).
        far = r2 > (4 * ev["sigma_px"] + np.hypot(*v)) ** 2
        assert np.median(np.hypot(*flow[far].T)) < 0.1
        diff = np.abs(
            cv2.cvtColor(clean[k], cv2.COLOR_RGB2GRAY).astype(int)
            - cv2.cvtColor(warped[k], cv2.COLOR_RGB2GRAY).astype(int)
        )
        assert diff[far[::up, ::up]].mean() < 2.0
    # Between events the frames are the source's (re-encoded).
    k = int(np.argmin(np.abs(t - 0.9)))
    diff = np.abs(clean[k].astype(int) - warped[k].astype(int))
    assert diff.mean() < 2.0


def test_injection_leaves_no_temporary_file(injected):
    _, dst, _ = injected
    assert sorted(p.name for p in dst.parent.iterdir()) == [dst.name, f"{dst.stem}.truth.json"]


def test_interrupted_injection_leaves_the_earlier_output_untouched(feat_data, model_path, tmp_path):
    """Ctrl-C while the injected video is being encoded.

    DST and its truth are those of the earlier run, byte for byte (the video was written in place,
    and the stale truth stayed).
    """
    from media import cut_clip

    src = cut_clip(feat_data / "single_face.mp4", 0.0, 0.4, tmp_path / "src.mp4")
    out = tmp_path / "out"
    out.mkdir()
    dst, truth = out / "injected.mp4", out / "injected.truth.json"
    dst.write_bytes(src.read_bytes())  # an earlier run's video and truth
    truth.write_text('{"earlier": true}\n')

    def ctrl_c_while_encoding(done, total):
        if done > total // 2 + 3:  # the second pass: frames are being warped and encoded
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        video_inject(src, dst, [], model=model_path, progress=ctrl_c_while_encoding)
    assert dst.read_bytes() == src.read_bytes()
    assert truth.read_text() == '{"earlier": true}\n'
    assert sorted(p.name for p in out.iterdir()) == ["injected.mp4", "injected.truth.json"]


def test_landmarks_see_part_of_the_injected_motion(injected, model_path):
    from facetwitch.landmarks import track_video

    src, dst, truth = injected
    track = track_video(dst, model=model_path, flow=False)
    clean = track_video(src, model=model_path, flow=False)
    check = injection_check(truth, track, clean_track=clean)
    assert [r["id"] for r in check["events"]] == [1, 2]
    for r in check["events"]:
        # VIDEO mode follows a fraction of a fast twitch (MEDIAPIPE-NOTES: ~0.4-0.7 on lips).
        assert 0.2 < r["seen_fraction"] < 1.3
        assert r["seen_mm"] > 0


# -- the demo sample --------------------------------------------------------------------------
def test_demo_truth_matches_demo_video():
    video = SAMPLES / "demo_upper_lip.mp4"
    truth = json.loads((SAMPLES / "demo_upper_lip.truth.json").read_text())
    assert video.stat().st_size <= 1_000_000
    info = video_probe(video)
    assert info.frames == truth["frames"]
    assert info.duration_s == pytest.approx(truth["duration_s"], abs=1e-3)
    assert info.duration_s <= 20.0 and info.rotation_deg == 0 and not info.has_audio
    twitches = [e for e in truth["events"] if e["kind"] == "twitch"]
    blinks = [e for e in truth["events"] if e["kind"] == "blink"]
    assert 5 <= len(twitches) <= 8 and len(blinks) >= 2
    for e in twitches:
        assert (e["region"], e["side"], e["direction"]) == ("upper_lip", "left", "up-left")
        assert 1.5 <= e["amplitude_mm"] <= 2.5
        assert 0.0 <= e["t_start_s"] < e["t_peak_s"] < e["t_end_s"] <= info.duration_s
    assert truth["mirrored"] is False
