"""Tracking in chunks (one long video on every core) and the memory structure behind it.

A chunked track must be the serial one: the same events, landmarks within MediaPipe's own
jitter, the same damaged ranges and warnings. The per-frame arrays are spooled to files, not
held in Python objects per frame, and read back block by block.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import corpus
import numpy as np
import pytest

from facetwitch.analysis import analysis_run
from facetwitch.errors import (
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    FacetwitchWarning,
    InputError,
)
from facetwitch.landmarks import tracker
from facetwitch.landmarks.store import FRAME_FIELDS, FrameStore, _mapping, row_blocks
from facetwitch.landmarks.track import LandmarkTrack
from facetwitch.landmarks.tracker import track_chunk, track_join, track_video
from facetwitch.landmarks.video import VideoReader, bad_time_message
from facetwitch.signal import FLOW_AMPLITUDE_GAIN, REGION_AMPLITUDE_GAIN

DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
GRID = Path(__file__).resolve().parent / "data" / "lbax4n.mpg"  # 3 s, someone speaking
#: A chunked track's landmarks may differ from the serial one's by no more than MediaPipe's own
#: frame-to-frame jitter. That was 0.06-0.17 px at 640x360 with two faces asked for
#: (MEDIAPIPE-NOTES.md); with one (the tracker's setting) MediaPipe smooths them, and the second
#: difference of a still face's landmarks is 0.03 px (median) to 0.08 px (90th percentile) on the
#: demo, 0.03-0.12 px (median) on real clips at rest.
JITTER_PX = 0.1
#: Share of frames whose region flow may differ by more than JITTER_PX. With one face asked for,
#: MediaPipe's landmarks depend on their own past (the crop follows the last frame's landmarks,
#: then they are smoothed), so a chunk's landmarks settle 0.01-0.06 px from the serial run's, not
#: onto them; where that moves the flow's crop box by a pixel, DIS reads a frame pair
#: differently. Measured on the demo cut at 7.5 s: 5 of 450 frames over 0.06 px, one (a blink,
#: a lower lid) 1.8 px; events identical.
FLOW_OFF_SHARE = 0.02


def _quiet_track(*args, **kwargs) -> LandmarkTrack:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        return track_video(*args, **kwargs)


@pytest.fixture(scope="module")
def demo_serial(model_path) -> LandmarkTrack:
    return _quiet_track(DEMO, model=model_path, workers=1)


def _assert_same_track(a: LandmarkTrack, b: LandmarkTrack) -> None:
    assert np.array_equal(a.t, b.t)
    assert np.array_equal(a.found, b.found) and np.array_equal(a.n_faces, b.n_faces)
    assert np.nanmax(np.abs(a.points[..., :2] - b.points[..., :2])) <= JITTER_PX
    assert np.array_equal(np.isfinite(a.region_flow), np.isfinite(b.region_flow))
    diff = np.abs(np.nan_to_num(a.region_flow) - np.nan_to_num(b.region_flow))
    off = np.max(diff, axis=(1, 2)) > JITTER_PX
    assert off.mean() <= FLOW_OFF_SHARE, np.flatnonzero(off)


def _events(track: LandmarkTrack) -> list[tuple]:
    """Each event's kind, region, side, peak time, direction and amplitude (mm)."""
    return [
        (e["kind"], e["region"], e["side"], e["t_peak_s"], e["direction"], e["amplitude_mm"])
        for e in analysis_run(track).report["events"]
    ]


def _assert_same_events(a: list[tuple], b: list[tuple]) -> None:
    """Assert the same events, amplitudes within 0.05 mm as measured.

    A chunk's landmarks settle within 0.1 px of the serial run's, not onto them, so a disk can
    sit a fraction of a pixel elsewhere. Reported amplitudes are the measured ones times
    :data:`~facetwitch.signal.FLOW_AMPLITUDE_GAIN` (and a region's own factor), and so is that
    difference.
    """
    assert [e[:-1] for e in a] == [e[:-1] for e in b]
    tol = 0.05 * FLOW_AMPLITUDE_GAIN * max(REGION_AMPLITUDE_GAIN.values(), default=1.0)
    assert all(abs(x[-1] - y[-1]) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_chunked_tracking_in_worker_processes_equals_serial(demo_serial, model_path,
                                                            monkeypatch, tmp_path):  # fmt: skip
    # the demo is 15 s: let it be cut in two (the shipped floor is a minute)
    monkeypatch.setattr(tracker, "MIN_PARALLEL_S", 10.0)
    monkeypatch.setattr(tracker, "MIN_CHUNK_S", 5.0)
    chunked = _quiet_track(DEMO, model=model_path, workers=2, spool_dir=tmp_path)
    assert chunked.info["chunks_s"] == [[0.0, 7.5], [7.5, None]]
    _assert_same_track(demo_serial, chunked)
    # the frame at the seam has its flow: the second chunk started before it
    k = int(np.searchsorted(chunked.t, 7.5))
    assert np.all(np.isfinite(chunked.region_flow[k]))
    _assert_same_events(_events(chunked), _events(demo_serial))
    for key in ("frames", "fps_mean", "duration_s", "lost_ranges_s", "warnings", "sha256"):
        assert chunked.info[key] == demo_serial.info[key], key
    assert not multiprocessing.active_children()  # every worker was joined
    assert os.listdir(tmp_path) == []  # no spool left behind


@pytest.mark.slow
def test_a_seam_inside_damaged_video_gives_the_serial_lost_range(feat_data, model_path,
                                                                 tmp_path):  # fmt: skip
    video, _, t_bad, t_key = corpus.case_damaged_middle(feat_data, tmp_path)
    with pytest.warns(FacetwitchWarning, match="damaged video data"):
        serial = track_video(video, model=model_path, workers=1)
    seam = (t_bad + t_key) / 2  # the second chunk starts inside the damaged stretch
    pieces = [
        track_chunk(video, 0.0, seam, model=model_path),
        track_chunk(video, seam, None, warmup_s=1.0, model=model_path),
    ]
    joined = track_join(pieces)
    assert joined.info["lost_ranges_s"] == [list(r) for r in serial.info["lost_ranges_s"]]
    assert sorted(joined.info["warnings"]) == sorted(serial.info["warnings"])
    _assert_same_track(serial, joined)


def test_an_error_in_a_worker_is_the_serial_error(tmp_path, model_path):
    missing = tmp_path / "gone.mp4"
    with pytest.raises(InputError) as serial:
        track_video(missing, model=model_path, workers=1)
    with pytest.raises(InputError) as chunked:
        tracker._track_parallel_jobs(missing, [(0.0, 30.0), (30.0, None)], model=model_path,
                                     mode="video", flow=True, max_side=1280, progress=None,
                                     spool_dir=tmp_path, sha256="0", total=0)  # fmt: skip
    assert str(chunked.value) == str(serial.value)
    assert not multiprocessing.active_children()
    assert os.listdir(tmp_path) == []  # the workers' spool directory is gone


# -- the join, on hand-built pieces -----------------------------------------------------------
def _piece(t, found, n_faces=None, lost=(), warns=(), start=None, end=None) -> LandmarkTrack:
    tr = LandmarkTrack.empty(len(t))
    pts = np.where(np.asarray(found)[:, None, None], 100.0, np.nan) * np.ones((len(t), 478, 3))
    info = {"frames": len(t), "fps_mean": 30.0, "duration_s": float(t[-1]) + 1 / 30,
            "lost_ranges_s": [list(r) for r in lost], "warnings": list(warns),
            "running_mode": "video", "model_sha256": "m", "facetwitch_version": "v", "flow": None,
            "chunk": {"t_start_s": start if start is not None else float(t[0]),
                      "t_end_s": end}}  # fmt: skip
    return LandmarkTrack(
        t=np.asarray(t, float), points=pts, blendshapes=tr.blendshapes, pose=tr.pose,
        found=np.asarray(found, bool),
        n_faces=np.asarray(n_faces if n_faces is not None else found, np.int16),
        region_flow=tr.region_flow, rigid_flow=tr.rigid_flow, info=info,
    )  # fmt: skip


def test_join_drops_a_single_frame_detection_across_the_seam():
    t = np.arange(8) / 30
    # frame 4 (the second piece's first) is a lone detection between two frames without a face
    a = _piece(t[:4], [1, 1, 1, 0])
    b = _piece(t[4:], [1, 0, 1, 1], start=float(t[4]))
    joined = track_join([a, b])
    assert joined.found.tolist() == [1, 1, 1, 0, 0, 0, 1, 1]
    assert np.all(np.isnan(joined.points[4])) and joined.n_faces[4] == 0
    assert joined.info["isolated_detections_dropped"] == 1
    assert joined.info["frames"] == 8 and joined.info["fps_mean"] == pytest.approx(30.0)
    # each piece alone would have kept it (it is a piece's first frame)
    assert track_join([b]).found.tolist() == [1, 0, 1, 1]


def test_join_merges_ranges_and_warnings_and_names_the_first_multi_face_frame():
    t = np.arange(10) / 30
    a = _piece(t[:5], [1] * 5, n_faces=[1, 1, 1, 2, 1], lost=[(0.1, 0.15)],
               warns=["damaged video data from 0.10 s to 0.15 s"])  # fmt: skip
    b = _piece(t[5:], [1] * 5, n_faces=[2, 1, 1, 1, 1], lost=[(0.12, 0.2), (0.3, np.inf)],
               warns=["damaged video data from 0.10 s to 0.15 s", "other"])  # fmt: skip
    joined = track_join([a, b])
    assert joined.info["lost_ranges_s"] == [[0.1, 0.2], [0.3, np.inf]]
    assert joined.info["multi_face_frames"] == 2
    assert joined.info["warnings"] == [
        tracker._multi_face_message(2, float(t[3])),
        "damaged video data from 0.10 s to 0.15 s",
        "other",
    ]


def test_join_refuses_overlapping_pieces():
    t = np.arange(6) / 30
    with pytest.raises(ValueError, match="overlap"):
        track_join([_piece(t[:4], [1] * 4), _piece(t[3:], [1] * 3)])


# -- memory: O(1) Python objects per frame, spooled to disk, read back in blocks --------------
def _row(i: int) -> dict:
    return {k: np.full(shape, i, dtype) for k, (shape, dtype) in FRAME_FIELDS.items()}


def test_frame_store_spills_blocks_to_disk_and_maps_them_back(tmp_path):
    store = FrameStore(tmp_path, block_frames=64)
    for i in range(200):
        store.append(**_row(i))
    assert len(store) == 200
    assert store._spilled == 192 and store._k == 8  # three blocks written, one in memory
    arrays = store.arrays()
    assert os.listdir(tmp_path) == []  # unlinked at once: nothing left whatever happens
    for name, arr in arrays.items():
        assert arr.shape == (200, *FRAME_FIELDS[name][0]) and arr.dtype == FRAME_FIELDS[name][1]
        assert _mapping(arr) is not None and not arr.flags.owndata  # over a memory map
    assert np.array_equal(arrays["points"][:, 0, 0], np.arange(200))
    assert np.array_equal(arrays["n_faces"], np.arange(200))
    blocks = list(row_blocks(arrays["t"], rows=64))
    assert [len(b) for b in blocks] == [64, 64, 64, 8]
    assert np.array_equal(np.concatenate(blocks), np.arange(200))
    # a short track never touches the disk
    small = FrameStore(tmp_path, block_frames=64)
    small.append(**_row(7))
    assert small.arrays()["points"].flags.owndata


def test_a_spooled_track_saves_and_loads_as_it_is(tmp_path):
    store = FrameStore(tmp_path, block_frames=16)
    rng = np.random.default_rng(0)
    for i in range(50):
        row = _row(i)
        row["t"] = i / 30
        row["points"] = rng.normal(300, 50, (478, 3)).astype(np.float32).astype(float)
        store.append(**row)
    track = LandmarkTrack(**store.arrays(), info={"note": "spooled"})
    path = track.save(tmp_path / "spooled.npz")
    with np.load(path) as z:
        assert z["points"].dtype == np.float32  # float32 values stored as float32
    back = LandmarkTrack.load(path)
    for name in FRAME_FIELDS:
        assert np.array_equal(getattr(back, name), getattr(track, name)), name
    assert back.info == {"note": "spooled"}


# -- stopped from outside while worker processes track --------------------------------------
def _group_members(pgid: int) -> list[int]:
    """Return processe whose process group is ``pgid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                out.append(int(d.name))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(("sig", "code", "word", "to_group"), [
    (signal.SIGINT, EXIT_INTERRUPTED, "interrupted", True),  # Ctrl-C: the terminal's group
    (signal.SIGTERM, EXIT_TERMINATED, "terminated", False),  # kill PID: the parent only
    (signal.SIGHUP, EXIT_HANGUP, "hung up", True),  # the terminal closed: its whole group
], ids=["ctrl_c", "sigterm", "sighup"])  # fmt: skip
def test_signal_while_workers_track_stops_them_all(sig, code, word, to_group, model_path,
                                                   tmp_path):  # fmt: skip
    out = tmp_path / "out" / "track.npz"
    env = {**os.environ, "PYTHONUTF8": "1", "GLOG_minloglevel": "2", "FACETWITCH_PROGRESS": "1",
           "TMPDIR": str(tmp_path)}  # fmt: skip
    # the demo is 15 s: the shipped floor for chunking is a minute, lowered for this run
    code_line = ("import facetwitch.landmarks.tracker as t; t.MIN_PARALLEL_S = 10.0; "
                 "t.MIN_CHUNK_S = 5.0; from facetwitch.cli import main; main()")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", code_line, "track", str(DEMO), "-o", str(out), "--model",
         str(model_path), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        t_end = time.monotonic() + 120
        seen = b""
        while time.monotonic() < t_end and b" frames, " not in seen:
            chunk = os.read(proc.stderr.fileno(), 512)
            if not chunk:
                break
            seen += chunk
        assert b" frames, " in seen, seen  # the workers are tracking
        assert len(_group_members(proc.pid)) >= 3  # the parent and two workers
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = (seen + rest).decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    last = err.rstrip().rsplit("\n", 1)[-1].rsplit("\r", 1)[-1].replace("\x1b[2K", "")
    assert last.startswith(f"facetwitch: {word}"), err[-300:]  # SIGHUP's line says more
    t_end = time.monotonic() + 10  # multiprocessing's resource tracker leaves on its own
    while _group_members(proc.pid) and time.monotonic() < t_end:
        time.sleep(0.1)
    assert _group_members(proc.pid) == []  # no worker left running
    assert not out.exists() and not out.parent.exists()  # nothing half-written
    assert [p.name for p in tmp_path.iterdir()] == []  # no spool left behind


def test_a_spooled_track_joined_in_place_keeps_its_changes_through_a_save(tmp_path):
    # track_video joins its one piece in place (no copy of a long track): the single-frame
    # detection it drops must stay dropped after save() has read the maps block by block
    store = FrameStore(tmp_path, block_frames=16)
    found = np.ones(50, bool)
    found[[19, 21]] = False  # frame 20 alone between two frames without a face
    for i in range(50):
        row = _row(i)
        row["t"], row["found"] = i / 30, found[i]
        store.append(**row)
    piece = LandmarkTrack(**store.arrays(), info={"chunk": {}})
    joined = track_join([piece], _in_place=True)
    assert joined.points is piece.points  # not copied
    assert not joined.found[20] and np.all(np.isnan(joined.points[20]))
    back = LandmarkTrack.load(joined.save(tmp_path / "joined.npz"))
    assert not joined.found[20] and np.all(np.isnan(joined.points[20]))  # still, after save
    assert np.array_equal(back.found, joined.found)
    assert np.array_equal(back.points, joined.points, equal_nan=True)


# -- what main's reader does (issue 19), in a chunk as from the start --------------------------
def _frames(reader: VideoReader) -> list[tuple[float, bytes]]:
    return [(f.t_s, f.rgb.tobytes()) for f in reader]


@pytest.mark.parametrize("case", ["duplicate", "backward", "outlier", "first_outlier",
                                  "time_jump", "two_streams"])  # fmt: skip
def test_a_chunk_reader_reads_what_a_reader_from_the_start_reads(case, feat_data, tmp_path):
    """A chunk's reader seeks.

    It must choose the stream a player shows, find t = 0 where a reader from the start finds it (a
    first frame 30 s ahead of the rest is left out there, not taken as t = 0), and leave out the
    same frames for their timestamps, each counted by the chunk it lies in.
    """
    if case == "time_jump":
        video = corpus.case_time_jump(feat_data, tmp_path)
    elif case == "two_streams":
        video = corpus.case_two_video_streams(feat_data, tmp_path, "default_second")
    else:
        video = corpus.case_bad_timestamps(feat_data, tmp_path, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(video) as serial:
            frames = _frames(serial)
            bad_at = list(serial.bad_times_at)
            stream = serial.info.stream_index
        t = [f[0] for f in frames]
        for start in (t[3], t[len(t) // 3], t[len(t) // 2] + 0.01, t[-4]):
            warm = max(0.0, start - 0.2) or None  # a few frames of warm-up, as in a chunk
            with VideoReader(video, start_s=warm) as chunk:
                got = _frames(chunk)
                assert chunk.info.stream_index == stream
                assert chunk.start_pts_s == serial.start_pts_s
            assert [f for f in got if f[0] >= start] == [f for f in frames if f[0] >= start]
            with VideoReader(video, start_s=warm) as chunk:
                _frames(chunk)
                later = [x for x in chunk.bad_times_at if x >= start]
            assert later == [x for x in bad_at if x >= start]
    assert len(bad_at) == {"duplicate": 2, "backward": 1, "outlier": 1, "first_outlier": 1,
                           "time_jump": 0, "two_streams": 0}[case]  # fmt: skip


def test_join_counts_bad_times_once_takes_the_recorded_rate_and_the_serial_end():
    t = np.concatenate([np.arange(30) / 30, 100 + np.arange(30) / 30])  # a gap of ~99 s
    a = _piece(t[:30], [1] * 30, warns=["clip.mkv: 1 frame left out: ..."], end=float(t[30]))
    b = _piece(t[30:], [1] * 30, start=float(t[30]), lost=[(100.967, 120.0)],
               warns=["truncated? (nothing after 100.97 s could be decoded)"])  # fmt: skip
    a.info.update(path="clip.mkv", frames_bad_time=2)
    b.info.update(path="clip.mkv", frames_bad_time=1)
    # the last chunk's reader saw none of the file's bad timestamps: it compared the file's
    # end with its index, which a reader from the start does not do then
    b.info["chunk"].update(bad_times_seen=0, end_missing=[100.967, 120.0],
                           end_missing_warning=b.info["warnings"][0])  # fmt: skip
    a.info["warnings"] = []
    joined = track_join([a, b])
    assert joined.info["frames_bad_time"] == 3
    # counted in words, as every other line of the report ('1 frame', not '1 frame(s)')
    assert bad_time_message("clip.mkv", 1).startswith("clip.mkv: 1 frame left out: ")
    assert bad_time_message("clip.mkv", 3).startswith("clip.mkv: 3 frames left out: ")
    assert joined.info["warnings"] == [bad_time_message("clip.mkv", 3)]
    assert joined.info["lost_ranges_s"] == []
    assert joined.info["fps_mean"] == pytest.approx(30.0)  # the gap left out
    # when the last chunk saw bad timestamps itself, its reader did not check the end either;
    # and with none anywhere its "truncated?" stands
    b.info["frames_bad_time"] = a.info["frames_bad_time"] = 0
    joined = track_join([a, b])
    assert joined.info["lost_ranges_s"] == [[100.967, 120.0]]
    assert joined.info["warnings"] == b.info["warnings"]


@pytest.mark.slow
@pytest.mark.parametrize(("case", "seam"), [
    ("duplicate", 0.75), ("duplicate", 1.0), ("backward", 0.75), ("outlier", 0.75),
    ("first_outlier", 0.75), ("time_jump", 14403.0), ("two_streams", 0.5),
])  # fmt: skip
def test_chunks_of_a_file_with_broken_time_or_two_streams_join_into_the_serial_track(
    case, seam, feat_data, model_path, tmp_path
):
    """Tracked in two chunks (the second from 0.5 s before its start).

    Such files give the serial track: the same frames (bad timestamps left out once, counted once,
    one warning), the stream a player shows, no motion measured across a gap, the recorded frame
    rate.
    """
    if case == "time_jump":
        video = corpus.case_time_jump(feat_data, tmp_path)
    elif case == "two_streams":
        video = corpus.case_two_video_streams(feat_data, tmp_path, "default_second")
    else:
        video = corpus.case_bad_timestamps(feat_data, tmp_path, case)
    serial = _quiet_track(video, model=model_path, workers=1, audio=False)
    pieces = [track_chunk(video, 0.0, seam, model=model_path),
              track_chunk(video, seam, None, warmup_s=0.5, model=model_path)]  # fmt: skip
    joined = track_join(pieces)
    assert all(len(p) for p in pieces)
    assert np.array_equal(joined.t, serial.t)
    assert np.array_equal(joined.found, serial.found)
    assert np.array_equal(np.isfinite(joined.region_flow), np.isfinite(serial.region_flow))
    for key in ("frames", "frames_bad_time", "fps_mean", "lost_ranges_s", "stream_index",
                "video_streams", "stream_choice", "width", "height", "warnings"):  # fmt: skip
        assert joined.info[key] == serial.info[key], key
    if case == "time_jump":  # the first frame after the 4 h pause has no motion
        k = int(np.searchsorted(serial.t, 100.0))
        assert np.all(np.isnan(joined.region_flow[k])) and joined.found[k]
        assert np.all(np.isfinite(joined.region_flow[k + 1]))


@pytest.mark.slow
def test_sound_of_a_chunked_run_is_the_serial_sound(model_path, monkeypatch):
    """The voice activity is read once, over the whole file, on the first frame's clock."""
    monkeypatch.setattr(tracker, "MIN_PARALLEL_S", 1.0)
    # 3 s in two chunks (the second from 0 s: this MPEG-PS file does not seek exactly)
    monkeypatch.setattr(tracker, "MIN_CHUNK_S", 1.0)
    serial = _quiet_track(GRID, model=model_path, workers=1)
    chunked = _quiet_track(GRID, model=model_path, workers=2)
    assert len(chunked.info["chunks_s"]) == 2
    assert serial.info["audio"] is not None and serial.voice_active.any()
    assert chunked.info["audio"] == serial.info["audio"]
    assert np.array_equal(chunked.voice_t, serial.voice_t)
    assert np.array_equal(chunked.voice_active, serial.voice_active)
    assert np.array_equal(chunked.t, serial.t)


def test_workers_asked_for_are_capped_at_twice_the_cores():
    """``--workers 99999`` would start one MediaPipe process per 30 s chunk (120 for an hour).

    The request is capped at twice the CPU cores (the real count, here and under a narrower
    CPU affinity made by the test with ``os.sched_setaffinity`` where the system has it); a
    bad ``max_side`` (0 or less gave 2x2 frames and no face) is refused at once.
    """
    cores = tracker._cpu_count()
    assert tracker.workers_resolve(None) == cores
    assert tracker.workers_resolve(1) == 1
    assert tracker.workers_resolve(0) == 1
    assert tracker.workers_resolve(99999) == tracker.MAX_WORKERS_PER_CORE * cores
    if hasattr(os, "sched_setaffinity") and cores > 1:
        mask = os.sched_getaffinity(0)
        try:
            os.sched_setaffinity(0, {min(mask)})
            assert tracker.workers_resolve(99999) == tracker.MAX_WORKERS_PER_CORE
            assert tracker.workers_resolve(None) == 1
        finally:
            os.sched_setaffinity(0, mask)
    for bad in (0, -5, 10, True):
        with pytest.raises(ValueError, match="max_side"):
            VideoReader(DEMO, max_side=bad)
    with VideoReader(DEMO, max_side=64) as reader:
        assert max(next(iter(reader)).rgb.shape[:2]) == 64


@pytest.mark.slow
def test_a_shaking_camera_is_fitted_with_shear_from_a_seam_on(model_path, monkeypatch, tmp_path):
    """A chunk's warm-up fills the flow's shear window, so a shaking video is measured as whole.

    The demo moved frame by frame as a phone held in the hand moves it (a shift of up to 2 px, a
    rolling shutter's shear of up to 1.2 %, a stretch of up to 0.8 %): the flow fits the head's
    motion with shear once its window of pairs shows it (``flow.SHEAR_FIT``). A chunk starting
    at 7.5 s measures its warm-up's last pairs into that window (``SHEAR_PRIME_S``) without
    keeping them, so its region flow from the seam on is the whole run's. Without them the
    chunk's first pairs are fitted without shear, and read the shear as the regions' motion.
    """
    from media import hand_shaken, make_clip

    frames, times = [], []
    rng = np.random.default_rng(1)
    with VideoReader(DEMO) as video:
        for f in video:
            frames.append(hand_shaken(f.rgb, rng)[0])
            times.append(f.t_s)
    shaken = make_clip(frames, times, tmp_path / "shaken.mp4", crf=12)
    whole = _quiet_track(shaken, model=model_path, workers=1)
    fitted, pairs = whole.info["shear_pairs"]
    assert fitted > 0.8 * pairs  # the shake is seen, and fitted, in most pairs

    def second_chunk(prime_s: float) -> tuple[np.ndarray, list]:
        monkeypatch.setattr(tracker, "SHEAR_PRIME_S", prime_s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            piece = track_chunk(shaken, 7.5, None, model=model_path)
        k = int(np.searchsorted(whole.t, 7.5))
        assert np.array_equal(piece.t, whole.t[k:])
        diff = np.abs(np.nan_to_num(piece.region_flow) - np.nan_to_num(whole.region_flow[k:]))
        first = tracker._flow.SHEAR_MIN_PAIRS - 1  # the pairs a cold window fits without shear
        return np.max(diff[:first], axis=(1, 2)), piece.info["shear_pairs"]

    primed, (fitted, pairs) = second_chunk(tracker.SHEAR_PRIME_S)
    assert pairs == len(whole.t) - int(np.searchsorted(whole.t, 7.5))  # the warm-up's: not counted
    assert fitted == pairs  # fitted with shear from the seam on
    cold, (fitted, _) = second_chunk(0.0)
    assert fitted <= pairs - (tracker._flow.SHEAR_MIN_PAIRS - 1)  # its first pairs: without
    # the first pairs after the seam: the primed chunk's flow is the whole run's (0.0004 px),
    # where the cold one's reads the shear as the regions' motion (median 0.69 px)
    assert np.median(primed) < 0.05 < 0.2 < np.median(cold), (np.median(primed), np.median(cold))
