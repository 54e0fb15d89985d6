"""The test media fixtures and the clip writer: pinned files present, exact PTS, rotation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TEST_MEDIA
from media import make_clip

from facetwitch._fetch import sha256_file
from facetwitch._media import ASTRONAUT_SHA256, FEAT_MEDIA_SHA256
from facetwitch.landmarks.video import VideoReader


def test_feat_data_files_match_their_pins(feat_data):
    for name in TEST_MEDIA:
        sha = FEAT_MEDIA_SHA256[name]
        path = feat_data / name
        assert path.is_file(), name
        assert sha256_file(path) == sha, name


def test_astronaut_png_matches_its_pin(astronaut_png):
    assert astronaut_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sha256_file(astronaut_png) == ASTRONAUT_SHA256


def _frames(n: int, h: int = 48, w: int = 64) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        rgb = np.full((h, w, 3), 8 * i, np.uint8)
        rgb[:8, :16] = 255  # a white marker in the top-left corner of the upright picture
        frames.append(rgb)
    return frames


@pytest.mark.parametrize(
    ("codec", "suffix", "rotation_deg", "tol_s"),
    [
        ("libx264", ".mp4", 0, 2e-5),
        ("libx264", ".mov", 90, 2e-5),
        ("libx264", ".mp4", 270, 2e-5),
        ("ffv1", ".mkv", 180, 1e-3),  # Matroska keeps milliseconds
    ],
)
def test_make_clip_keeps_irregular_times_and_rotation(tmp_path, codec, suffix, rotation_deg, tol_s):
    rng = np.random.default_rng(7)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.015, 0.09, 19))])
    path = make_clip(
        _frames(20), times, tmp_path / f"clip{suffix}", codec=codec, rotation_deg=rotation_deg
    )
    with VideoReader(path) as video:
        frames = list(video)
        info = video.info
    assert info.rotation_deg == rotation_deg
    assert len(frames) == 20
    np.testing.assert_allclose([f.t_s for f in frames], times, atol=tol_s)
    first = frames[0].rgb
    assert first.shape == (48, 64, 3)
    assert first[:8, :16].mean() > 240 and first[-8:, -16:].mean() < 16
