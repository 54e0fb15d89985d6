"""Signal stage on synthetic tracks with planted displacements (real face geometry)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synth import Plant, synthetic_track

from facetwitch.analysis import analysis_run
from facetwitch.conventions import angle_diff_deg, circular_mean_deg, direction_deg, direction_word
from facetwitch.landmarks.track import LandmarkTrack
from facetwitch.signal import events_process, noise_estimate, regions_signal


@pytest.fixture(scope="module")
def face(single_face_track):
    """One real frame's 478 landmarks (px)."""
    k = int(np.flatnonzero(single_face_track.found)[0])
    return single_face_track.points[k].copy()


def twitches(events):
    return [e for e in events if e.kind == "twitch"]


def test_planted_twitch_comes_back_in_conventions_units(face):
    # up and toward the patient's left: 45 deg (0 = patient's left, 90 = up)
    plant = Plant("upper_lip", "left", t_peak_s=3.0, amplitude_mm=1.5, direction_deg=45.0)
    track = synthetic_track(face, plants=(plant,))
    ev = twitches(events_process(regions_signal(track)))
    assert len(ev) == 1
    e = ev[0]
    assert (e.region, e.side) == ("upper_lip", "left")
    assert e.amplitude_mm == pytest.approx(1.5, rel=0.15)
    assert angle_diff_deg(e.direction_deg, 45.0) < 10
    assert e.direction == "up-left"
    assert abs(e.t_peak_s - 3.0) < 0.05
    assert e.t_start_s < 3.0 < e.t_end_s
    assert 0.05 < e.duration_s < 0.4


def test_mirrored_flips_side_and_x(face):
    plant = Plant("upper_lip", "left", t_peak_s=2.0, amplitude_mm=2.0, direction_deg=45.0)
    track = synthetic_track(face, plants=(plant,))
    ev = twitches(events_process(regions_signal(track, mirrored=True)))
    assert len(ev) == 1
    assert ev[0].side == "right"
    assert angle_diff_deg(ev[0].direction_deg, 135.0) < 10  # x negated: up-right
    assert ev[0].direction == "up-right"


@pytest.mark.parametrize("method", ["flow", "landmarks"])
def test_pure_head_motion_gives_no_event(face, method):
    track = synthetic_track(face, head_motion=True, duration_s=8.0)
    ev = events_process(regions_signal(track, method=method))
    assert twitches(ev) == []


def test_bilateral_eyelid_closure_is_a_blink(face):
    plants = (
        Plant("upper_eyelid", "left", 2.0, 4.0, 270.0, rise_s=0.06, decay_s=0.12),
        Plant("upper_eyelid", "right", 2.0, 4.0, 270.0, rise_s=0.06, decay_s=0.12),
    )
    ev = events_process(regions_signal(synthetic_track(face, plants=plants)))
    assert twitches(ev) == []
    blinks = [e for e in ev if e.kind == "blink"]
    assert len(blinks) == 1 and blinks[0].side == "both"


def test_bilateral_lip_movement_is_not_a_twitch(face):
    plants = (
        Plant("upper_lip", "left", 3.0, 2.0, 90.0),
        Plant("upper_lip", "right", 3.0, 2.0, 90.0),
    )
    ev = events_process(regions_signal(synthetic_track(face, plants=plants)))
    assert twitches(ev) == []
    assert [e.side for e in ev if e.kind == "movement"] == ["both"]


def test_eye_and_mouth_on_one_side_are_linked(face):
    plants = (
        Plant("upper_eyelid", "right", 2.5, 1.5, 270.0),
        Plant("upper_lip", "right", 2.55, 1.5, 120.0),
    )
    track = synthetic_track(face, plants=plants)
    analysis = analysis_run(track)
    ev = twitches(analysis.events)
    assert {(e.region, e.side) for e in ev} == {("upper_eyelid", "right"), ("upper_lip", "right")}
    a, b = ev
    assert a.co_occurring == (b.id,) and b.co_occurring == (a.id,)
    co = analysis.report["summary"]["eye_mouth_co_occurrence"]
    assert co["present"] and co["sides"] == ["right"]


def test_far_apart_eye_and_mouth_are_not_linked(face):
    plants = (
        Plant("upper_eyelid", "right", 1.5, 1.5, 270.0),
        Plant("upper_lip", "right", 4.0, 1.5, 120.0),
    )
    ev = twitches(events_process(regions_signal(synthetic_track(face, plants=plants))))
    assert len(ev) == 2 and all(e.co_occurring == () for e in ev)


def test_burst_of_pulses_is_one_event(face):
    plants = tuple(
        Plant("mouth_corner", "left", t, 1.5, 90.0, rise_s=0.04, decay_s=0.1)
        for t in (2.0, 2.22, 2.44)
    )
    ev = twitches(events_process(regions_signal(synthetic_track(face, plants=plants))))
    assert len(ev) == 1
    assert ev[0].pulse_count == 3
    assert ev[0].t_start_s < 2.0 and ev[0].t_end_s > 2.44


def test_small_motion_under_noise_is_not_an_event(face):
    plant = Plant("upper_lip", "left", 3.0, 0.15, 90.0)
    ev = events_process(regions_signal(synthetic_track(face, plants=(plant,), noise_px=0.05)))
    assert twitches(ev) == []


def test_times_come_from_timestamps_not_frame_indices(face):
    """A variable frame rate must not move the event: plant at 3 s on an irregular grid."""
    track = synthetic_track(face, plants=(Plant("upper_lip", "left", 3.0, 2.0, 90.0),))
    rng = np.random.default_rng(1)
    keep = np.sort(rng.choice(len(track), size=int(0.8 * len(track)), replace=False))
    keep = np.union1d(keep, [0])
    irregular = LandmarkTrack(
        t=track.t[keep], points=track.points[keep], blendshapes=track.blendshapes[keep],
        pose=track.pose[keep], found=track.found[keep], n_faces=track.n_faces[keep],
        region_flow=_resum(track.region_flow, keep), rigid_flow=track.rigid_flow[keep],
        info=track.info,
    )  # fmt: skip
    ev = twitches(events_process(regions_signal(irregular)))
    assert len(ev) == 1 and abs(ev[0].t_peak_s - 3.0) < 0.07


def _resum(flow, keep):
    """Flow between kept frames = sum of the per-frame flows in between."""
    f = np.where(np.isfinite(flow), flow, 0.0)
    c = np.cumsum(f, axis=0)
    out = np.diff(c[keep], axis=0, prepend=np.nan * c[:1])
    return out


# -- edge cases ---------------------------------------------------------------------------------
def _edge_tracks(face):
    empty = LandmarkTrack.empty(0)
    all_nan = LandmarkTrack.empty(50)
    one = synthetic_track(face, duration_s=1 / 30)
    constant = synthetic_track(face, noise_px=0.0)
    return {"empty": empty, "all_nan": all_nan, "one_frame": one, "constant": constant}


@pytest.mark.parametrize("case", ["empty", "all_nan", "one_frame", "constant"])
def test_edge_cases_give_a_valid_report_with_no_events(face, case):
    track = _edge_tracks(face)[case]
    analysis = analysis_run(track)
    report = json.loads(json.dumps(analysis.report, allow_nan=False))
    assert report["events"] == []
    assert report["summary"]["twitch_count"] == 0
    if case in ("empty", "all_nan"):
        assert not report["quality"]["reliable"]
        assert any("no face" in w for w in report["quality"]["warnings"])


def test_noise_estimate_is_robust_to_sparse_events():
    rng = np.random.default_rng(0)
    d = rng.normal(0, 0.1, size=(3000, 2))
    d[::100] += 5.0  # sparse large events
    assert noise_estimate(d) == pytest.approx(0.1, rel=0.1)
    assert np.isnan(noise_estimate(np.full((10, 2), np.nan)))


# -- conventions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dx", "dy", "deg", "word"),
    [(1, 0, 0, "left"), (1, 1, 45, "up-left"), (0, 1, 90, "up"), (-1, 1, 135, "up-right"),
     (-1, 0, 180, "right"), (-1, -1, 225, "down-right"), (0, -1, 270, "down"),
     (1, -1, 315, "down-left")],
)  # fmt: skip
def test_direction_convention(dx, dy, deg, word):
    assert direction_deg(dx, dy) == pytest.approx(deg)
    assert direction_word(deg) == word
    assert direction_word(deg + 22.0) == word


def test_circular_mean_wraps():
    assert angle_diff_deg(circular_mean_deg(np.array([350.0, 10.0])), 0.0) < 1e-6
    assert np.isnan(circular_mean_deg(np.array([])))


def test_report_has_the_conventions_fields(face):
    plant = Plant("upper_lip", "left", t_peak_s=3.0, amplitude_mm=1.5, direction_deg=135.0)
    report = analysis_run(synthetic_track(face, plants=(plant,)), complaint=None).report
    assert {"schema_version", "tool", "input", "quality", "events", "summary", "complaint"} <= set(
        report
    )
    assert report["schema_version"] == "1" and report["complaint"] is None
    assert {"path", "sha256", "duration_s", "frames", "fps_mean", "width", "height",
            "rotation_deg", "mirrored"} <= set(report["input"])  # fmt: skip
    assert {"face_found_fraction", "px_per_mm", "noise_mm", "warnings"} <= set(report["quality"])
    ev = report["events"][0]
    assert {"id", "kind", "region", "side", "t_start_s", "t_peak_s", "t_end_s", "duration_s",
            "amplitude_mm", "direction_deg", "direction", "co_occurring",
            "confidence"} <= set(ev)  # fmt: skip
    s = report["summary"]
    assert {"twitch_count", "twitch_rate_per_min", "blink_rate_per_min", "by_region"} <= set(s)
    row = s["by_region"][0]
    assert {"region", "side", "count", "rate_per_min", "median_amplitude_mm",
            "mean_direction_deg", "median_duration_s"} <= set(row)  # fmt: skip
    assert row["region"] == "upper_lip" and row["side"] == "left" and row["count"] == 1
    assert s["twitch_rate_per_min"] == pytest.approx(60.0 / s["analysed_s"], rel=0.01)
