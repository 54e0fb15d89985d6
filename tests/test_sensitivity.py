"""How small a twitch a recording could show: synthetic twitches added to its own signals.

The report says, per recording, what share of test twitches of 1, 1.5, 2 and 3 mm the detector
finds when they are added to the recording's region signals (``summary.sensitivity``;
facetwitch.signal.sensitivity). These tests run it on real footage through real MediaPipe.
"""

from __future__ import annotations

import pytest

import facetwitch
from facetwitch.signal.annotate import Annotation
from facetwitch.signal.sensitivity import READ_FRACTION, Sensitivity, sensitivity_test

pytestmark = pytest.mark.slow


def test_the_demo_says_how_small_a_twitch_it_could_show(demo_run):
    """The demo (a still face, 15 s): every size tested, larger ones found at least as often."""
    result, paths = demo_run
    test = result.report["summary"]["sensitivity"]
    levels = test["levels"]
    assert [lv["amplitude_mm"] for lv in levels] == [1.0, 1.5, 2.0, 3.0]
    assert all(lv["tested"] >= 4 for lv in levels)
    big = [lv for lv in levels if lv["amplitude_mm"] >= 1.5]
    assert sum(lv["found"] for lv in big) >= 0.75 * sum(lv["tested"] for lv in big)
    assert test["floor_mm"] == round(0.5 / READ_FRACTION, 2)
    assert test["found_50_mm"] is not None and test["found_50_mm"] <= 2.0
    groups = test["groups"]
    assert sum(g["tested"] for g in groups) == sum(lv["tested"] for lv in levels)
    shares = [g["found"] / g["tested"] for g in groups]
    assert shares == sorted(shares)
    assert result.report["detector"]["sensitivity"]["tests_per_level"] >= 1
    said = paths["summary"].read_text(encoding="utf-8")
    top = groups[-1]
    sizes = (f"{top['from_mm']:g}-{top['to_mm']:g} mm" if top["to_mm"] > top["from_mm"]
             else f"{top['to_mm']:g} mm")  # fmt: skip
    assert f"Test twitches added to this video: {sizes} found {top['found']} of " in said
    assert "under 0.8 mm none can be found." in said


def test_the_test_changes_nothing_else_and_gives_the_same_answer_again(demo_run):
    """Run twice, the same figures; turned off, None, and the events are the same ones."""
    result, _ = demo_run
    again = facetwitch.analyze(result.track)
    off = facetwitch.analyze(result.track, settings={"sensitivity": {"tests_per_level": 0}})
    no_runs = facetwitch.analyze(result.track, settings={"sensitivity": {"max_runs": 0}})
    assert again.report["summary"]["sensitivity"] == result.report["summary"]["sensitivity"]
    assert off.report["summary"]["sensitivity"] is None
    assert no_runs.report["summary"]["sensitivity"] is None
    assert off.report["events"] == again.report["events"]
    assert off.report["annotations"] == again.report["annotations"]


def test_the_detector_as_set_is_the_one_tested(demo_run):
    """The test runs the analysis' own detector: with a 5 mm floor no 3 mm twitch is found."""
    result, _ = demo_run
    signals, events = result.signals, list(result.events)
    kw = {"levels_mm": (3.0,), "tests_per_level": 6}
    as_shipped = sensitivity_test(signals, events, [], **kw)
    floored = sensitivity_test(signals, events, [], settings={"find": {"min_amplitude_mm": 5.0}},
                               **kw)  # fmt: skip
    assert as_shipped.tested == floored.tested and as_shipped.tested[0] >= 6
    assert as_shipped.found[0] >= 0.75 * as_shipped.tested[0]
    assert floored.found == (0,) and floored.floor_mm == pytest.approx(5.0 / READ_FRACTION)


def test_nothing_is_tested_where_nothing_can_be_assessed(demo_run):
    """A recording whose time is all BAD has no moment to add a twitch at: nothing said."""
    result, _ = demo_run
    signals = result.signals
    t0, t1 = float(signals.t[0]), float(signals.t[-1])
    none = sensitivity_test(signals, list(result.events),
                            [Annotation(t0, t1 - t0, "BAD_talking")])  # fmt: skip
    assert sum(none.tested) == 0 and none.size_found(0.5) is None
    report = {**result.report, "summary": {**result.report["summary"],
                                           "sensitivity": none.to_dict()}}  # fmt: skip
    from facetwitch.reports.text import summary_text

    assert "Test twitches added to this video" not in summary_text(report)


def test_settings_of_the_test_are_checked_before_any_work(single_face_track):
    for bad, said in (({"sensitivity": {"runs": 3}}, "unknown setting"),
                      ({"sensitivity": {"levels_mm": [0, 1]}}, "above 0 mm"),
                      ({"sensitivity": {"levels_mm": [1e9]}}, "up to 20 mm"),
                      ({"sensitivity": {"tests_per_level": "8"}}, "must be a number"),
                      ({"sensitivity": 3}, "must be a dict")):  # fmt: skip
        with pytest.raises((ValueError, TypeError), match=said):
            facetwitch.analyze(single_face_track, settings=bad)


@pytest.mark.parametrize(("found", "monotone", "at_90", "at_50"), [
    ((7, 14, 11, 7), (7 / 16, 32 / 35, 32 / 35, 32 / 35), 1.5, 1.5),  # 3 mm's misses pooled
    ((0, 2, 5, 9), (0, 2 / 15, 5 / 11, 1.0), 3.0, 3.0),
    ((0, 0, 0, 0), (0, 0, 0, 0), None, None),
])  # fmt: skip
def test_shares_are_made_monotone_in_size(found, monotone, at_90, at_50):
    """A larger twitch is not harder to find: a few misses at 3 mm are pooled, not believed."""
    s = Sensitivity((1.0, 1.5, 2.0, 3.0), (16, 15, 11, 9), found)
    assert s.fractions_monotone() == pytest.approx(monotone)
    assert s.size_found(0.9) == at_90 and s.size_found(0.5) == at_50
    both = s + s
    assert both.tested == (32, 30, 22, 18) and both.size_found(0.9) == at_90


def test_the_test_costs_at_most_one_run_of_a_long_stretch(demo_run, monkeypatch):
    """Where one run of the detector is worth the whole budget, one run is made, not six.

    A long stretch with little assessable time holds few test twitches a run; six runs of each
    10 min stretch of an hour would add six times the detector's time. The demo stands in for
    such a stretch with the budget (``MAX_TEST_SAMPLES``) set under its length.
    """
    from facetwitch.signal import sensitivity

    result, _ = demo_run
    full = sensitivity_test(result.signals, list(result.events), [])
    monkeypatch.setattr(sensitivity, "MAX_TEST_SAMPLES", 1)
    one = sensitivity_test(result.signals, list(result.events), [])
    span = float(result.signals.t[-1] - result.signals.t[0])
    assert 0 < sum(one.tested) < sum(full.tested)
    assert sum(one.tested) <= span / sensitivity.SPACING_S + 1  # what one run holds


def test_the_complaint_region_is_tested_on_its_own(demo_run, tmp_path):
    """The patient's own region and side get a test of their own, said in the description part.

    "No twitch at my left upper lip" only means something beside the size one needed to be found
    there (``complaint.sensitivity``). The demo's complaint names the upper lip, its side taken
    from "to the left".
    """
    from facetwitch.reports.text import summary_text

    result, paths = demo_run
    focus = result.report["complaint"]["sensitivity"]
    assert focus["regions"] == ["upper_lip"] and focus["sides"] == ["left"]
    assert all(lv["tested"] >= 4 for lv in focus["levels"])
    big = [lv for lv in focus["levels"] if lv["amplitude_mm"] >= 1.5]
    assert sum(lv["found"] for lv in big) >= 0.75 * sum(lv["tested"] for lv in big)
    top = focus["groups"][-1]
    said = paths["summary"].read_text(encoding="utf-8")
    assert "Test twitches added at your left upper lip: " in said
    assert f"found {top['found']} of {top['tested']}" in said.split("added at your left")[1]
    assert "Test twitches added at your left upper lip" in paths["html"].read_text("utf-8")
    # a vague word ("eyelid") is both lids; "both sides" both sides; the nose is not tested
    lids = facetwitch.analyze(result.track, complaint="both of my eyelids flicker")
    assert lids.report["complaint"]["sensitivity"]["regions"] == ["upper_eyelid", "lower_eyelid"]
    assert lids.report["complaint"]["sensitivity"]["sides"] == ["left", "right"]
    assert "added at your upper eyelid and lower eyelid (both sides)" in summary_text(lids.report)
    nose = facetwitch.analyze(result.track, complaint="the left side of my nose twitches")
    assert not nose.report["complaint"].get("sensitivity")
    assert "added at your" not in summary_text(nose.report)
    assert facetwitch.analyze(result.track).report["complaint"] is None
    paths = facetwitch.render(lids, tmp_path / "lids", report_only=True)
    assert paths["report"].exists()  # and checked against the schema as the test ends


def test_the_focused_test_moves_only_the_named_region_and_side(demo_run, monkeypatch):
    """Every test twitch of a focused run is added to the named region and side, nowhere else."""
    import functools

    import numpy as np

    from facetwitch.signal import detect

    result, _ = demo_run
    signals = result.signals
    moved: set = set()
    real = detect.events_process

    @functools.wraps(real)
    def seen(sig, **kw):
        changed = np.any(sig.displacement_mm != signals.displacement_mm, axis=(0, 2))
        moved.update(sig.keys[j] for j in np.flatnonzero(changed))
        return real(sig, **kw)

    monkeypatch.setattr(detect, "events_process", seen)
    test = sensitivity_test(signals, list(result.events), [], regions=("lower_lip",),
                            sides=("right",))  # fmt: skip
    assert sum(test.tested) >= 16 and moved == {("lower_lip", "right")}
    moved.clear()
    assert sum(sensitivity_test(signals, [], [], regions=("nose",)).tested) == 0
    assert not moved  # nothing the simulator cannot move is run


def test_each_region_is_added_as_it_reads_a_real_twitch(demo_run, monkeypatch):
    """A test twitch is sized as its region reads one: the mouth corner less, the lower lid more.

    ``READ_BY_REGION`` (measured on twitches injected into real video): the size added over
    the size tested is, on average, the region's own fraction.
    """
    import functools

    import numpy as np
    from scipy.ndimage import maximum_filter1d

    from facetwitch.signal import detect
    from facetwitch.signal.sensitivity import READ_BY_REGION

    result, _ = demo_run
    signals = result.signals
    peaks: list[float] = []
    real = detect.events_process

    @functools.wraps(real)
    def seen(sig, **kw):
        added = np.linalg.norm(sig.displacement_mm - signals.displacement_mm, axis=2)
        j = int(np.argmax(added.max(axis=0)))
        d = added[:, j]
        # each test twitch's peak (a burst's largest pulse): the largest within 0.7 s, as they
        # are 1.5 s apart
        top = maximum_filter1d(d, size=2 * int(0.7 * sig.fs_hz) + 1, mode="constant")
        peaks.extend(d[(d > 0.05) & (d == top)])
        return real(sig, **kw)

    monkeypatch.setattr(detect, "events_process", seen)
    read = {}
    for region in ("mouth_corner", "lower_eyelid"):
        peaks.clear()
        sensitivity_test(signals, list(result.events), [], regions=(region,), sides=("left",),
                         levels_mm=(2.0,), tests_per_level=40, max_runs=12)  # fmt: skip
        read[region] = float(np.median(peaks)) / 2.0
    for region, got in read.items():
        assert got == pytest.approx(READ_FRACTION * READ_BY_REGION[region], abs=0.06)
    assert read["mouth_corner"] < read["lower_eyelid"] - 0.1


def test_a_long_recording_is_tested_stretch_by_stretch(demo_run, monkeypatch):
    """Each stretch of a long recording is tested in its own time, with its own seed, and added up.

    The demo repeated forward to 130 s, cut in stretches of 60 s (the module constant lowered from
    10 min): each stretch runs the whole-face test and the complaint's, each given its own part of
    the recording to add test twitches in (the parts end to end: not the margins a stretch shares
    with its neighbours, so nothing is tested twice), each adds some, and the report's counts are
    their sums.
    """
    import functools
    import warnings

    import numpy as np
    from synth import repeated_forward

    from facetwitch.analysis import analysis_run
    from facetwitch.signal import stretches

    demo = demo_run[0].track
    track = repeated_forward(demo, int(np.ceil(130.0 / float(np.median(np.diff(demo.t))))))
    calls = []
    real = stretches.sensitivity_test

    @functools.wraps(real)
    def recorded(signals, events, annotations, **kw):
        got = real(signals, events, annotations, **kw)
        calls.append((kw["within_s"], kw["seed"], kw.get("regions"), got))
        return got

    monkeypatch.setattr(stretches, "sensitivity_test", recorded)
    monkeypatch.setattr(stretches, "STRETCH_S", 60.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = analysis_run(track, complaint="my upper lip twitches up and to the left",
                              settings={"sensitivity": {"tests_per_level": 2}}).report  # fmt: skip
    count = report["detector"]["stretches"]["count"]
    assert count == 3
    general = [c for c in calls if c[2] is None]
    focused = [c for c in calls if c[2] is not None]
    assert len(general) == len(focused) == count
    bounds = [c[0] for c in general]
    assert bounds[0][0] == -np.inf and bounds[-1][1] == np.inf
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))  # end to end
    assert len({c[1] for c in calls}) == len(calls)  # a seed of its own each
    for summed, runs in ((report["summary"]["sensitivity"], general),
                         (report["complaint"]["sensitivity"], focused)):  # fmt: skip
        assert all(sum(r[3].tested) > 0 for r in runs)  # every stretch adds tests of its own
        tested = [lv["tested"] for lv in summed["levels"]]
        found = [lv["found"] for lv in summed["levels"]]
        assert tested == [sum(r[3].tested[i] for r in runs) for i in range(len(tested))]
        assert found == [sum(r[3].found[i] for r in runs) for i in range(len(found))]
    assert report["complaint"]["sensitivity"]["regions"] == ["upper_lip"]
