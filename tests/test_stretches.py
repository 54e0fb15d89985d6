"""A long recording analysed stretch by stretch finds what one analysis of it all finds.

The real track is the demo's (real MediaPipe run on samples/demo_upper_lip.mp4, 7 injected
upper-lip twitches), repeated forward with its timestamps continued, never played backwards.
The stretch length is lowered from 10 min to 1 min (the module constant, read at each call) so
that a 3.5 min track is cut in four.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from synth import repeated_forward

from facetwitch.analysis import analysis_run
from facetwitch.signal import stretches
from facetwitch.signal.annotate import Annotation
from facetwitch.signal.stretches import annotations_joined, stretches_plan

#: What these tests compare is the events and spans of one analysis against those of its
#: stretches; the sensitivity test (tests/test_sensitivity.py, stretch by stretch included)
#: adds its runs of the detector to each, about 50 s here, and changes neither.
UNTESTED = {"sensitivity": {"tests_per_level": 0}}


# -- the plan (fast) ---------------------------------------------------------------------------
def test_short_recording_is_one_stretch():
    t = np.arange(0, 600.0 + 30.0, 1 / 30)
    assert stretches_plan(t) == [(0, 0, len(t), len(t))]


def test_stretches_cover_every_frame_once_with_their_margins():
    t = np.arange(0, 3600.0, 1 / 30)
    plan = stretches_plan(t, max_s=600.0, margin_s=30.0)
    assert len(plan) == 6
    own = [(a, b) for _, a, b, _ in plan]
    assert own[0][0] == 0 and own[-1][1] == len(t)
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(own[:-1], own[1:], strict=True))
    for lo, a, b, hi in plan:
        assert t[b - 1] - t[a] <= 600.0
        assert lo == 0 or t[a] - t[lo] == pytest.approx(30.0, abs=1 / 30)
        assert hi == len(t) or t[hi - 1] - t[b - 1] == pytest.approx(30.0, abs=1 / 30)


def test_a_pause_in_the_recording_leaves_no_empty_stretch():
    t = np.concatenate([np.arange(0, 900.0, 1 / 30), 4 * 3600.0 + np.arange(0, 300.0, 1 / 30)])
    plan = stretches_plan(t, max_s=600.0, margin_s=30.0)
    assert all(b > a for _, a, b, _ in plan)
    assert sum(b - a for _, a, b, _ in plan) == len(t)


def test_pauses_count_as_no_time():
    """Times of 1e12 s (a hand-edited track) asked for 1.7e9 stretches: a pause is not time."""
    t = np.concatenate([np.arange(0, 4.0, 1 / 30), 1e12 + np.arange(0, 4.0, 1 / 30)])
    assert stretches_plan(t) == [(0, 0, len(t), len(t))]
    t = np.concatenate([np.arange(0, 400.0, 1 / 30), 1e12 + np.arange(0, 400.0, 1 / 30)])
    plan = stretches_plan(t, max_s=600.0, margin_s=30.0)
    assert len(plan) == 2 and plan[0][2] == plan[1][1]
    assert abs(plan[0][2] - len(t) // 2) <= 1  # equal recorded time, either side of the pause


def test_a_span_cut_by_two_stretches_is_joined_and_causes_stay_apart():
    parts = [
        [Annotation(10.0, 5.0, "BAD_talking"), Annotation(58.0, 2.0, "BAD_talking"),
         Annotation(59.0, 1.0, "BAD_head_motion")],
        [Annotation(60.0, 3.0, "BAD_talking"), Annotation(70.0, 1.0, "BAD_head_motion")],
    ]  # fmt: skip
    joined = annotations_joined(parts)
    talk = [(a.onset_s, a.end_s) for a in joined if a.description == "BAD_talking"]
    head = [(a.onset_s, a.end_s) for a in joined if a.description == "BAD_head_motion"]
    assert talk == [(10.0, 15.0), (58.0, 63.0)]
    assert head == [(59.0, 60.0), (70.0, 71.0)]
    assert [a.onset_s for a in joined] == sorted(a.onset_s for a in joined)


# -- on a real track (slow) --------------------------------------------------------------------
@pytest.fixture(scope="module")
def whole_and_cut(demo_run):
    demo = demo_run[0].track
    step = float(np.median(np.diff(demo.t)))
    track = repeated_forward(demo, int(np.ceil(210.0 / step)))
    mp = pytest.MonkeyPatch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = analysis_run(track, complaint="my upper lip twitches up and to the left",
                             settings=UNTESTED)  # fmt: skip
        mp.setattr(stretches, "STRETCH_S", 60.0)
        try:
            cut = analysis_run(track, complaint="my upper lip twitches up and to the left",
                               settings=UNTESTED)  # fmt: skip
        finally:
            mp.undo()
    return track, whole, cut


@pytest.mark.slow
def test_stretches_find_the_events_of_one_analysis(whole_and_cut):
    _, whole, cut = whole_and_cut
    assert whole.report["detector"]["stretches"]["count"] == 1
    assert cut.report["detector"]["stretches"]["count"] == 4
    ew, ec = whole.report["events"], cut.report["events"]
    assert len(ew) == len(ec) and len(ew) > 0
    twitches = [e for e in ec if e["kind"] == "twitch"]
    assert len(twitches) >= 7 * 9  # the demo's 7 twitches in each of its 10 repeats (some cut)
    for a, b in zip(ew, ec, strict=True):
        assert (a["kind"], a["region"], a["side"]) == (b["kind"], b["region"], b["side"])
        assert abs(a["t_peak_s"] - b["t_peak_s"]) < 0.05
        assert abs(a["amplitude_mm"] - b["amplitude_mm"]) <= 0.05
        assert a["counted"] == b["counted"]
    # numbered once over the whole recording, links to events that exist
    assert [e["id"] for e in ec] == list(range(1, len(ec) + 1))
    ids = {e["id"] for e in ec}
    assert all(set(e["co_occurring"]) <= ids for e in ec)
    sw, sc = whole.report["summary"], cut.report["summary"]
    assert sc["twitch_count"] == sw["twitch_count"]
    assert sc["assessable_s"] == pytest.approx(sw["assessable_s"], abs=0.5)
    assert cut.report["quality"]["noise_mm"] == pytest.approx(
        whole.report["quality"]["noise_mm"], abs=0.005
    )


@pytest.mark.slow
def test_stretches_annotate_the_same_time(whole_and_cut):
    _, whole, cut = whole_and_cut

    def seconds(report) -> dict:
        out: dict = {}
        for a in report["annotations"]:
            out[a["description"]] = out.get(a["description"], 0.0) + a["duration_s"]
        return out

    w, c = seconds(whole.report), seconds(cut.report)
    assert set(w) == set(c)
    for d in w:
        assert c[d] == pytest.approx(w[d], abs=0.2), d


@pytest.mark.slow
def test_long_analysis_makes_whole_signals_only_when_asked(whole_and_cut):
    track, whole, cut = whole_and_cut
    assert cut._signals is None  # not held by the analysis
    sig = cut.signals
    assert len(sig.t) == len(whole.signals.t)
    assert sig.displacement_mm.shape == whole.signals.displacement_mm.shape
    assert np.array_equal(sig.displacement_mm, whole.signals.displacement_mm, equal_nan=True)


@pytest.mark.slow
def test_stretches_without_a_face_are_lost_time_not_an_error(demo_run, monkeypatch):
    """Minutes without a face between two faced stretches: annotated lost, both ends measured."""
    demo = demo_run[0].track
    step = float(np.median(np.diff(demo.t)))
    gap = dataclasses.replace(demo, **{
        f.name: np.broadcast_to(np.asarray(getattr(demo, f.name)[:1]),
                                (5400,) + np.shape(getattr(demo, f.name))[1:]).copy()
        for f in dataclasses.fields(demo)
        if f.name not in ("t", "voice_t", "voice_active", "info")
        and isinstance(getattr(demo, f.name), np.ndarray)
    }, t=np.arange(5400) * step)  # fmt: skip
    nothing = {"points": np.nan, "blendshapes": np.nan, "pose": np.nan, "region_flow": np.nan,
               "rigid_flow": np.nan, "outline_flow": np.nan, "found": False,
               "n_faces": 0}  # fmt: skip
    for name, value in nothing.items():
        getattr(gap, name)[...] = value
    parts = [demo, gap, demo]
    t, offset = [], 0.0
    for p in parts:
        t.append(p.t - p.t[0] + offset)
        offset = t[-1][-1] + step
    joined = dataclasses.replace(demo, t=np.concatenate(t), **{
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in ("points", "blendshapes", "pose", "found", "n_faces", "region_flow",
                     "rigid_flow", "outline_flow")
    })  # fmt: skip
    monkeypatch.setattr(stretches, "STRETCH_S", 60.0)
    report = analysis_run(joined).report
    assert report["detector"]["stretches"]["count"] >= 4
    lost = [a for a in report["annotations"] if a["description"] == "BAD_face_lost"]
    end_first = float(demo.t[-1] - demo.t[0])
    a0, a1 = end_first, end_first + 180.0
    covered = sum(max(0.0, min(a["onset_s"] + a["duration_s"], a1) - max(a["onset_s"], a0))
                  for a in lost)  # fmt: skip
    assert covered == pytest.approx(180.0, abs=1.0)  # the 3 min without a face, all of it
    twitches = [e for e in report["events"] if e["kind"] == "twitch"]
    first = sum(e["t_peak_s"] < end_first for e in twitches)
    last = sum(e["t_peak_s"] > end_first + 180.0 for e in twitches)
    single = sum(e["kind"] == "twitch" for e in demo_run[0].report["events"])
    assert first == single and last == single
    assert report["summary"]["assessable_s"] <= 2 * end_first + 1.0


@pytest.mark.slow
def test_face_not_found_seconds_are_the_frames_without_a_face(demo_run):
    """A face lost for 1 s is "face not found 1.0 s", as its frames say ("lost at 5.0-6.0 s").

    The signals' grid holds a face's last place for 0.25 s either side of a loss, and the
    figure had been taken on it: a 1 s loss read 0.5 s (each of mixed_2's 1 s seams).
    """
    demo = demo_run[0].track
    t = np.asarray(demo.t)
    gone = (t >= t[0] + 5.0) & (t < t[0] + 6.0)
    lost = dataclasses.replace(demo, found=np.where(gone, False, demo.found), **{
        name: np.where(gone.reshape((-1,) + (1,) * (getattr(demo, name).ndim - 1)), np.nan,
                       getattr(demo, name))
        for name in ("points", "blendshapes", "pose", "region_flow", "rigid_flow", "outline_flow")
    })  # fmt: skip
    report = analysis_run(lost).report
    step = float(np.median(np.diff(t)))
    seconds = report["summary"]["not_assessable_s"]["BAD_face_lost"]
    assert seconds == pytest.approx(float(gone.sum()) * step, abs=step)
    assert any("lost at 5.0-6.0 s" in w for w in report["quality"]["warnings"])


@pytest.mark.slow
def test_terminal_lists_the_first_twitches_of_a_long_recording(whole_and_cut):
    from facetwitch.cli import TABLE_ROWS, _events_table

    _, _, cut = whole_and_cut
    twitches = sum(e["kind"] == "twitch" for e in cut.report["events"])
    assert twitches > TABLE_ROWS
    lines = _events_table(cut.report).splitlines()
    rows = [ln for ln in lines if ln[:7].strip().replace(".", "").isdigit()]
    assert len(rows) == TABLE_ROWS
    assert f"... and {twitches - TABLE_ROWS} more twitches" in "\n".join(lines)


@pytest.mark.slow
def test_a_frozen_picture_in_a_long_recording_is_said_stretch_by_stretch(demo_run):
    """5 s of a frozen camera inside the second of three stretches: the same span, the warning."""
    from dataclasses import replace

    demo = demo_run[0].track
    step = float(np.median(np.diff(demo.t)))
    track = repeated_forward(demo, int(np.ceil(130.0 / step)))
    flow = np.array(track.region_flow)
    flow[(track.t >= 70.0) & (track.t < 75.0)] = 0.0
    track = replace(track, region_flow=flow)
    mp = pytest.MonkeyPatch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = analysis_run(track, settings=UNTESTED).report
        mp.setattr(stretches, "STRETCH_S", 60.0)
        try:
            cut = analysis_run(track, settings=UNTESTED).report
        finally:
            mp.undo()
    assert cut["detector"]["stretches"]["count"] >= 2
    for report in (whole, cut):
        (span,) = [a for a in report["annotations"] if a["description"] == "BAD_frozen"]
        assert span["onset_s"] == pytest.approx(70.0, abs=0.1)
        assert span["duration_s"] == pytest.approx(5.0, abs=0.15)
        assert any(w.startswith("the picture did not change for 5.0 s")
                   for w in report["quality"]["warnings"])  # fmt: skip
