"""The public Python API: cheap to import, real signatures, and the README's example runs."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import facetwitch

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo_upper_lip.mp4"
HEAVY = ("av", "cv2", "mediapipe", "matplotlib", "jinja2", "typer")


@pytest.fixture(scope="module")
def demo_track(demo_run):
    """Return the demo's LandmarkTrack (tracked once, by the README's example)."""
    return demo_run[0].track


def _loaded_after(statement: str) -> list[str]:
    """Heavy modules loaded by ``statement`` in a fresh interpreter."""
    code = f"import sys; {statement}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [m for m in out.stdout.strip().split(",") if m]


@pytest.mark.parametrize(
    "statement",
    [
        "import facetwitch",
        "import facetwitch.analysis",
        "import facetwitch.signal",
        "from facetwitch.landmarks import LandmarkTrack",
        "import facetwitch; facetwitch.analyze; facetwitch.render",
    ],
)
@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_importing_the_library_does_not_load_video_model_or_plotting(statement):
    assert _loaded_after(statement) == []


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_tracking_loads_the_decoder_only_when_asked():
    assert "av" in _loaded_after("import facetwitch.landmarks.video")


def test_public_names_are_the_real_functions_with_their_signatures():
    import facetwitch.analysis
    import facetwitch.simulation  # noqa: F401  (a submodule must not shadow a public name)
    from facetwitch import api

    for name in ("track", "load_track", "analyze", "render", "record", "simulate"):
        func = getattr(facetwitch, name)
        assert func is getattr(api, name)
        assert name in facetwitch.__all__ and name in dir(facetwitch)
        assert inspect.signature(func).parameters  # a real signature, not (*args, **kwargs)
        doc = inspect.getdoc(func)
        for section in ("Parameters", "Returns", "Examples"):
            assert f"{section}\n----" in doc, (name, section)
    assert list(inspect.signature(facetwitch.analyze).parameters)[:2] == ["track", "mirrored"]
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        facetwitch.nonexistent  # noqa: B018


def test_readme_shows_the_api_example_the_tests_run():
    """The README's "Python API" block is the sequence tests/test_e2e.py's fixture runs."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    calls = re.findall(r"facetwitch\.(\w+)\(", block)
    assert calls[:3] == ["track", "analyze", "render"]


@pytest.mark.slow
def test_api_example_on_the_demo(demo_run, tmp_path):
    result, paths = demo_run
    assert {"report", "events_csv", "track", "html", "pdf", "summary"} <= set(paths)
    on_disk = json.loads(paths["report"].read_text())
    assert on_disk["summary"] == json.loads(json.dumps(result.report["summary"]))
    # the saved track re-analyses to the same events, without the model
    again = facetwitch.analyze(facetwitch.load_track(paths["track"]), complaint=None)
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in result.events]
    # markers given as seconds come back as report.json markers
    marked = facetwitch.analyze(result.track, markers=[1.5, 4.0])
    assert [m["t_s"] for m in marked.report["markers"]] == [1.5, 4.0]
    # every detector setting used is in the report, and a changed one is honoured
    strict = facetwitch.analyze(result.track, settings={"find": {"k_noise": 50.0}})
    assert result.report["detector"]["find"]["k_noise"] == 5.0
    assert strict.report["detector"]["find"]["k_noise"] == 50.0
    assert strict.report["summary"]["twitch_count"] < result.report["summary"]["twitch_count"]
    with pytest.raises(ValueError, match="unknown setting"):
        facetwitch.analyze(result.track, settings={"find": {"k_nosie": 5.0}})
    # report_only writes the contract files only
    written = facetwitch.render(marked, tmp_path / "r", report_only=True)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(
        p.name for p in written.values()
    )


@pytest.mark.slow  # analyses the demo's track (a few seconds)
def test_flags_given_as_strings_are_refused_not_taken_as_true(demo_track, tmp_path):
    """``mirrored="false"`` is truthy: it had swapped every side of the report silently."""
    with pytest.raises(TypeError, match="'mirrored' must be True or False, got 'false'"):
        facetwitch.analyze(demo_track, mirrored="false")
    result = facetwitch.analyze(demo_track, mirrored=np.bool_(False))
    assert result.report["input"]["mirrored"] is False
    for flag in ("force", "report_only", "face_images"):
        with pytest.raises(TypeError, match=f"'{flag}' must be True or False"):
            facetwitch.render(result, tmp_path / "out", **{flag: "no"})
    assert not (tmp_path / "out").exists()
    with pytest.raises(TypeError, match="'mirrored' must be True or False"):
        facetwitch.simulate(DEMO, tmp_path / "sim.mp4", mirrored="no")
    with pytest.raises(TypeError, match="'render' must be True or False"):
        facetwitch.batch_process([DEMO], tmp_path / "batch", render="no")
    assert not (tmp_path / "batch").exists()


@pytest.mark.slow  # analyses the demo's track (a few seconds)
def test_markers_that_are_not_times_are_refused_with_their_index(demo_track):
    """A NaN or negative marker had gone into report.json (NaN is not JSON); no t_s, a KeyError."""
    cases = [
        ([float("nan")], ValueError, r"markers\[0\]: nan is not a time"),
        ([1.0, -2], ValueError, r"markers\[1\]: -2 is not a time"),
        ([float("inf")], ValueError, r"markers\[0\]: inf is not"),
        ([{"t": 3}], ValueError, r"markers\[0\]: .* has no 't_s'"),
        (["abc"], ValueError, r"markers\[0\]: 'abc' is not a time"),
        ([None], TypeError, r"markers\[0\]: None is not a time"),
        (12.5, TypeError, "markers must be a list"),
    ]
    for markers, kind, message in cases:
        with pytest.raises(kind, match=message):
            facetwitch.analyze(demo_track, markers=markers)
    marked = facetwitch.analyze(demo_track, markers=["0:05", "7,5", {"t_s": 9, "note": "x"}])
    assert [m["t_s"] for m in marked.report["markers"]] == [5.0, 7.5, 9.0]
    assert marked.report["markers"][2]["note"] == "x"


def test_settings_of_the_wrong_name_or_type_are_refused_before_any_work():
    """Settings are checked by name and type, each with a one-line message.

    Each had failed deep in the detector: a numpy UFuncTypeError for ``{"k_noise": "6"}``,
    "got multiple values for keyword argument 'coupled'", an AttributeError for ``raw``.
    """
    from facetwitch import LandmarkTrack

    track = LandmarkTrack.empty(30)
    cases = [
        ({"foo": 1}, ValueError, r"unknown setting\(s\) foo; allowed: coupled, find"),
        ({"find": {"k_noise": "6"}}, TypeError, "setting 'find.k_noise' must be a number"),
        ({"find": {"k_noise": None}}, TypeError, "'find.k_noise' must be a number, got None"),
        ({"find": {"k_noise": -5}}, ValueError, "finite number >= 0, got -5"),
        ({"find": 6}, TypeError, "setting 'find' must be a dict, got 6"),
        ({"classify": {"raw": 1}}, ValueError, r"unknown setting\(s\) raw"),
        ({"annotate": {"mouth_mm": 1}}, ValueError, r"unknown setting\(s\) mouth_mm"),
        ({"amplitude_gain": "1.0"}, TypeError, "'amplitude_gain' must be a number"),
        ({"peak_on_frames": "no"}, TypeError, "'peak_on_frames' must be True or False"),
        ({"region_gain": [1]}, TypeError, "'region_gain' must be a dict"),
        ("find", TypeError, "settings must be a dict"),
    ]
    for settings, kind, message in cases:
        with pytest.raises(kind, match=message):
            facetwitch.analyze(track, settings=settings)
    result = facetwitch.analyze(track, settings={"coupled": False, "find": {"k_noise": 6}})
    assert result.report["detector"]["coupled"] is False


def test_tuple_settings_take_only_a_list_of_numbers_before_any_work():
    """``coupling.lags`` of anything but a list of whole numbers is refused, naming it.

    ``"abc"`` and ``(0, "x")`` had passed the check and failed deep in numpy (a UFuncTypeError
    at the coupling fit), or not at all where no fit ran.
    """
    from facetwitch import LandmarkTrack

    track = LandmarkTrack.empty(30)
    cases = [
        ("abc", TypeError, r"setting 'coupling.lags' must be a list, like \[-1, 0, 1\], got 'abc'"),
        (1, TypeError, r"setting 'coupling.lags' must be a list, like \[-1, 0, 1\], got 1"),
        ({-1: 0}, TypeError, "setting 'coupling.lags' must be a list"),
        ((0, "x"), TypeError, r"'coupling.lags' must be a list of whole numbers, got \(0, 'x'\)"),
        ([0, None], TypeError, "'coupling.lags' must be a list of whole numbers"),
        ([True], TypeError, "'coupling.lags' must be a list of whole numbers"),
        ([0, 0.5], ValueError, r"'coupling.lags' must be a list of finite whole numbers, got \[0"),
        ([float("nan")], ValueError, "'coupling.lags' must be a list of finite whole numbers"),
    ]  # fmt: skip
    for lags, kind, message in cases:
        with pytest.raises(kind, match=message):
            facetwitch.analyze(track, settings={"coupling": {"lags": lags}})
    for lags in ((-1, 0, 1), [-2, 0, 2], [-1.0, 0.0, 1.0], (), [np.int64(1)]):
        result = facetwitch.analyze(track, settings={"coupling": {"lags": lags}})
        assert result.report["detector"]["coupling"]["lags"] == tuple(int(x) for x in lags)


def test_arguments_of_the_wrong_type_are_a_typeerror_saying_what_is_needed():
    """render(report_dict) and analyze(region=5) had been AttributeErrors from inside."""
    from facetwitch import LandmarkTrack

    track = LandmarkTrack.empty(30)
    result = facetwitch.analyze(track)
    for wrong in (result.report, track, None, "out/report.json"):
        with pytest.raises(TypeError, match="render\\(\\) needs the Analysis that facetwitch.an"):
            facetwitch.render(wrong, "never-made")
    assert not Path("never-made").exists()
    with pytest.raises(TypeError, match="region must be a str .*upper_lip.*, got 5"):
        facetwitch.analyze(track, region=5)
    with pytest.raises(TypeError, match="side must be a str"):
        facetwitch.analyze(track, side=b"left")
    for wrong in (3, None, ["track.npz"], b"track.npz"):
        with pytest.raises(TypeError, match="analyze\\(\\) needs a LandmarkTrack .* got"):
            facetwitch.analyze(wrong)


def test_paths_of_the_wrong_type_are_a_typeerror_naming_the_argument(tmp_path):
    """A path argument of the wrong type is a TypeError naming it, before any work.

    A number, a list, bytes or None had been pathlib's "expected str, bytes or os.PathLike
    object, not int", naming neither the argument nor what it needs. Nothing is read, recorded
    or written.
    """
    from facetwitch import LandmarkTrack

    result = facetwitch.analyze(LandmarkTrack.empty(30))
    out, dst = tmp_path / "out", tmp_path / "sim.mp4"

    def calls(w):
        return [
            ("path", "a saved track.npz", lambda: facetwitch.load_track(w)),
            ("out_dir", "the output directory", lambda: facetwitch.render(result, w)),
            ("video", "the analysed video", lambda: facetwitch.render(result, out, video=w)),
            ("src", "a video file", lambda: facetwitch.simulate(w, dst)),
            ("dst", "the output video", lambda: facetwitch.simulate(DEMO, w)),
            ("model", "a face_landmarker.task", lambda: facetwitch.simulate(DEMO, dst, model=w)),
            ("model", "a face_landmarker.task", lambda: facetwitch.track(DEMO, model=w)),
            ("out_dir", "the output directory", lambda: facetwitch.record(DEMO, w)),
            ("model", "a face_landmarker.task", lambda: facetwitch.record(DEMO, out, model=w)),
        ]

    for wrong in (3, ["out"], b"out"):
        for name, what, call in calls(wrong):
            with pytest.raises(TypeError, match=f"'{name}' must be the path of {what}.*, got"):
                call()
    with pytest.raises(TypeError, match=r"'out_dir' must be .* \(a str or os.PathLike\), got 3"):
        facetwitch.render(result, 3)
    with pytest.raises(TypeError, match=r"got b'out' \(bytes: decode it with os.fsdecode\)"):
        facetwitch.render(result, b"out")
    for name, _, call in (calls(None)[i] for i in (0, 1, 3, 4)):  # the required paths
        with pytest.raises(TypeError, match=f"'{name}' must be the path of .*, got None"):
            call()
    assert list(tmp_path.iterdir()) == []
    assert not Path("out").exists()


def test_a_progress_that_cannot_be_called_is_refused_before_any_work(tmp_path):
    """A progress that is not callable is a TypeError naming it; None stays allowed.

    ``progress=True`` had failed only at the first frame, deep inside ('bool' object is not
    callable), after the model was loaded and the video opened.
    """
    out, dst = tmp_path / "out", tmp_path / "sim.mp4"
    message = "'progress' must be None or a function, called as progress\\(done_frames, total_fr"
    for wrong in (True, "yes", 1):
        with pytest.raises(TypeError, match=f"{message}.*, got {wrong!r}"):
            facetwitch.track(DEMO, progress=wrong)
        with pytest.raises(TypeError, match=message):
            facetwitch.simulate(DEMO, dst, progress=wrong)
        with pytest.raises(TypeError, match=message):
            facetwitch.record(DEMO, out, progress=wrong)
    assert list(tmp_path.iterdir()) == []


def test_a_camera_or_a_duration_of_the_wrong_kind_is_refused_before_any_camera_opens(tmp_path):
    """``record(camera=None)`` had been read as a video file named "None" (str(camera)).

    ``duration_s="5"`` had been a bare TypeError from a comparison, after the camera opened.
    And a progress that cannot be called, given to the stretch-by-stretch analysis, had failed
    at its first stretch, after the first stretch's work.
    """
    from facetwitch.signal.stretches import events_by_stretch

    out = tmp_path / "out"
    for wrong in (None, True, 1.5, ["0"]):
        with pytest.raises(TypeError, match=r"'camera' must be a camera index \(0, 1, ...\) or "
                           r"a video file's path, got"):  # fmt: skip
            facetwitch.record(wrong, out)
    for wrong in ("5", True, 0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="'duration_s' must be a number > 0, got"):
            facetwitch.record(DEMO, out, duration_s=wrong, preview=False, analyze=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="'progress' must be None or a function"):
        events_by_stretch(facetwitch.LandmarkTrack.empty(30), progress=True)


def test_results_print_as_one_short_line():
    """A notebook shows the repr: the arrays' and the report's had run to 20,000 characters."""
    from facetwitch import LandmarkTrack

    track = LandmarkTrack.empty(300, info={"path": "/videos/monday.mp4"})
    assert repr(track) == "LandmarkTrack(300 frames, 10.0 s, face in 0%, path='monday.mp4')"
    text = repr(facetwitch.analyze(track))
    assert text.startswith("Analysis(0 twitches, 0 blinks, 0 s assessable, UNRELIABLE")
    assert text.endswith("input='monday.mp4')") and "\n" not in text


def test_the_errors_the_docstrings_name_are_public_names():
    """``Raises InputError`` in the docstrings: ``except facetwitch.InputError`` must work."""
    from facetwitch import errors

    for name in ("UsageError", "InputError", "ModelError", "OutputError", "RenderError",
                 "CaptureError"):  # fmt: skip
        assert getattr(facetwitch, name) is getattr(errors, name)
        assert issubclass(getattr(facetwitch, name), facetwitch.FacetwitchError)
        assert name in facetwitch.__all__
    with pytest.raises(facetwitch.InputError, match="no such file"):
        facetwitch.load_track("no-such-track.npz")


def test_simulate_refuses_arguments_of_the_wrong_type_before_reading_the_video(tmp_path):
    """Each wrong argument is a TypeError or ValueError naming it.

    A str amplitude had failed in numpy's isfinite, a str seed in numpy's SeedSequence,
    ``events="3"`` and ``2.5`` were taken as 3 and 2, ``regions="lip"`` read as its letters.
    """
    dst = tmp_path / "sim.mp4"
    cases = [
        ({"amplitude_mm": "2"}, TypeError, "'amplitude_mm' must be a number or a .low, high"),
        ({"amplitude_mm": (1, 2, 3)}, TypeError, "'amplitude_mm' must be a number or a"),
        ({"seed": "a"}, TypeError, "seed must be a whole number, got 'a'"),
        ({"events": "3"}, TypeError, "events must be a whole number"),
        ({"blinks": 2.5}, TypeError, "blinks must be a whole number"),
        ({"regions": "lip"}, ValueError, "but got 'lip' instead"),
        ({"sides": "middle"}, ValueError, "but got 'middle' instead"),
    ]
    for kwargs, kind, message in cases:
        with pytest.raises(kind, match=message):
            facetwitch.simulate(DEMO, dst, **kwargs)
    assert not dst.exists()


def test_track_refuses_a_max_side_that_is_not_a_whole_number_before_tracking():
    """``max_side="640"`` had passed the check and failed at the first frame, inside PyAV."""
    for wrong in ("640", 640.5):
        with pytest.raises(TypeError, match="max_side must be None or a whole number of pixels"):
            facetwitch.track(DEMO, max_side=wrong)
    with pytest.raises(ValueError, match="max_side must be None or at least 64 px"):
        facetwitch.track(DEMO, max_side=0)


def test_track_given_a_track_or_no_path_says_what_it_needs():
    """A saved track passed back in had been pathlib's "expected str, bytes or os.PathLike"."""
    from facetwitch import LandmarkTrack

    with pytest.raises(TypeError, match="already a track: analyse it with facetwitch.analyze"):
        facetwitch.track(LandmarkTrack.empty(3))
    for wrong in (None, 3, [str(DEMO)], bytes(DEMO)):
        with pytest.raises(TypeError, match="track\\(\\) needs the path of a video file, got"):
            facetwitch.track(wrong)


def test_tracks_and_analyses_compare_and_hash_without_numpy_errors():
    """``track == other`` had raised numpy's "truth value of an array ... is ambiguous"."""
    from facetwitch import LandmarkTrack

    a, b = LandmarkTrack.empty(30), LandmarkTrack.empty(30)
    assert a == a and a != b and a in [b, a] and len({a, b}) == 2
    ra, rb = facetwitch.analyze(a), facetwitch.analyze(b)
    assert ra == ra and ra != rb
