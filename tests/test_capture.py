"""Webcam capture, driven by real video files played as a camera (real decode, real MediaPipe).

Only the device-opening call of :class:`CameraSource` is untested here (no camera). Preview
tests need Debian's ``xvfb``, ``x11-utils`` (xwininfo), ``imagemagick`` (import) and
``xdotool``; they skip when those are missing unless ``CI`` is set, where they fail.

The preview runs in a subprocess: OpenCV's Qt window hangs if PyAV was loaded first
(PyAV-Org/PyAV#978), and this test process has loaded PyAV long before.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from facetwitch.capture import (
    CameraSource,
    CaptureClock,
    CapturedFrame,
    FileSource,
    FrameSource,
    Recorder,
    camera_list,
    markers_read,
    record_session,
    timestamps_read,
)
from facetwitch.capture.overlay import EYELID_BGR, LIP_BGR, OverlayState, overlay_draw
from facetwitch.capture.recorder import CLUSTER_MS
from facetwitch.capture.session import WINDOW_TITLE
from facetwitch.errors import EXIT_TERMINATED, CaptureError, FacetwitchWarning, OutputError
from facetwitch.landmarks.video import VideoReader
from facetwitch.regions import REGION_LANDMARKS


def _decode(path: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    """Timestamps (s) and frames of a recording, decoded by facetwitch's own reader."""
    with VideoReader(path) as video:
        frames = list(video)
    return np.array([f.t_s for f in frames]), [f.rgb for f in frames]


def _env(model_path: Path, **extra) -> dict:
    env = dict(os.environ, FACETWITCH_MODEL=str(model_path), **extra)
    env.setdefault("GLOG_minloglevel", "2")
    return env


def _start_capture(video: Path, out: Path, env: dict, *args: str) -> subprocess.Popen:
    """``python -m facetwitch.capture VIDEO OUT ARGS...`` in a subprocess, output captured."""
    cmd = [sys.executable, "-m", "facetwitch.capture", str(video), str(out), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_rows(csv_path: Path, n: int, proc: subprocess.Popen, timeout_s: float = 30.0) -> int:
    """Wait until the timestamps sidecar holds ``n`` frame rows; return the count seen."""
    t_end = time.monotonic() + timeout_s
    rows = 0
    while time.monotonic() < t_end:
        if csv_path.exists():
            rows = max(0, len(csv_path.read_text().splitlines()) - 1)
            if rows >= n:
                return rows
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"recording ended early (rc {proc.returncode}): {out}\n{err[-2000:]}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"only {rows} frames recorded after {timeout_s} s")


# -- the whole record path, a file played as the camera ---------------------------------------
def test_record_file_as_camera_then_report(feat_data, model_path, tmp_path):
    """Every captured frame is in the recording, at its capture time; markers and report saved."""
    src = FileSource(feat_data / "single_face.mp4")
    assert isinstance(src, FrameSource)
    captured: list[tuple[int, float]] = []

    def on_frame(frame, recorder):
        captured.append((frame.index, frame.t_s))
        if frame.index in (20, 50):  # the patient presses space
            recorder.add_marker(frame.t_s)

    t0 = time.monotonic()
    result = record_session(src, tmp_path / "s", preview=False, model=model_path,
                            on_frame=on_frame)  # fmt: skip
    wall_s = time.monotonic() - t0

    assert result.stop_reason == "source_ended"
    assert result.frames == len(captured) == 72
    # played in real time: capture took at least the clip's length
    assert result.duration_s == pytest.approx(captured[-1][1])
    assert wall_s >= captured[-1][1]
    # the sidecar has every captured timestamp, the video every frame at that time (ms)
    t_csv = timestamps_read(result.timestamps_path)
    np.testing.assert_allclose(t_csv, [t for _, t in captured], atol=1e-6)
    t_video, frames = _decode(result.video_path)
    assert len(t_video) == 72
    np.testing.assert_allclose(t_video, t_csv, atol=1.5e-3)
    # the saved video is not mirrored: it matches the source frame for frame
    with VideoReader(feat_data / "single_face.mp4") as video:
        src_frames = [f.rgb for _, f in zip(range(3), video, strict=False)]
    for a, b in zip(src_frames, frames, strict=False):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3.0
    # markers: in the sidecar and in the report
    marks = markers_read(result.markers_path)
    assert [m["t_s"] for m in marks] == pytest.approx([captured[20][1], captured[50][1]])
    session = json.loads(result.session_path.read_text())
    assert session["status"] == "complete" and session["frames"] == 72
    assert session["mirrored"] is False and session["source"]["clock"] == "pts"
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["input"]["frames"] == 72 and report["input"]["mirrored"] is False
    assert Path(report["input"]["path"]).name == "recording.mkv"
    # report.json times are to the millisecond
    assert [m["t_s"] for m in report["markers"]] == pytest.approx(
        [m["t_s"] for m in marks], abs=5e-4
    )
    assert {m["verdict"] for m in report["markers"]} <= {
        "twitch_measured",
        "none_measured",
        "not_assessable",
    }
    assert result.analysis is not None and result.report_path is not None


def test_cli_record_no_preview_prints_paths(feat_data, model_path, tmp_path):
    """`facetwitch record --camera FILE --no-preview --no-analyze` records and says where."""
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "facetwitch", "record", "--camera",
         str(feat_data / "single_face.mp4"), "--no-preview", "--no-analyze", "--duration", "1",
         "--out", str(out)],
        capture_output=True, text=True, env=_env(model_path), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"recording: {out / 'recording.mkv'}" in proc.stdout
    assert "the requested duration was reached" in proc.stdout
    t_video, _ = _decode(out / "recording.mkv")
    assert len(t_video) == len(timestamps_read(out / "recording.timestamps.csv")) == 30
    assert t_video[-1] < 1.0
    assert not (out / "report.json").exists()


def test_cli_record_missing_camera_never_says_recording_into(tmp_path):
    """`record --camera 9` (no such camera) said "recording into DIR/ ..." before failing.

    Now the line comes once the camera is open: here only the error line, exit 6, nothing made.
    """
    from clirun import assert_user_error, cli

    from facetwitch.errors import EXIT_CAPTURE

    out = tmp_path / "session"
    run = cli("record", "--camera", "9", "--no-preview", "--no-analyze", "--duration", "1",
              "--out", out)  # fmt: skip
    assert_user_error(run, EXIT_CAPTURE, "camera 9 cannot be opened")
    assert "recording into" not in run.err, run.err
    assert not out.exists()


def test_cli_record_says_recording_into_once_the_camera_is_open(feat_data, tmp_path):
    """A camera that opens (a file played as one): "recording into DIR/" is said, once."""
    from clirun import cli

    out = tmp_path / "session"
    run = cli("record", "--camera", feat_data / "single_face.mp4", "--no-preview",
              "--no-analyze", "--duration", "0.3", "--out", out)  # fmt: skip
    assert run.code == 0, run
    said = [ln for ln in run.err.splitlines() if ln.startswith("recording into")]
    assert said == [f"recording into {out}/ ... stops after 0.3 s; stop with Ctrl-C earlier"]
    assert (out / "recording.mkv").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_cli_record_without_a_display_records_without_the_preview(feat_data, model_path, tmp_path):
    """The default preview with no display.

    OpenCV's Qt used to abort the process (exit 134) before any facetwitch message. Now the
    recording goes on without the window, said on one line, and the stop hint does not mention the
    window.
    """
    out = tmp_path / "rec"
    env = {k: v for k, v in _env(model_path).items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "facetwitch", "record", "--camera",
         str(feat_data / "single_face.mp4"), "--no-analyze", "--duration", "1", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warned = [ln for ln in proc.stderr.splitlines() if ln.startswith("facetwitch: warning:")]
    assert warned == [
        "facetwitch: warning: no display (neither DISPLAY nor WAYLAND_DISPLAY is "
        "set): recording without the preview window, so without the live overlay "
        "and the marker key"
    ], proc.stderr
    assert "q/Esc" not in proc.stderr and "stop with Ctrl-C" in proc.stderr
    assert "the requested duration was reached" in proc.stdout
    t_video, _ = _decode(out / "recording.mkv")
    assert len(t_video) >= 25


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_record_session_without_a_display_warns_and_records(feat_data, model_path, tmp_path):
    """The library call too (record_session, preview asked for, no display).

    A warning, no window, every frame recorded. In a subprocess: were the window tried, Qt would
    abort the process running it.
    """
    env = {k: v for k, v in _env(model_path).items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}  # fmt: skip
    out = tmp_path / "s"
    proc = _start_capture(feat_data / "single_face.mp4", out, env, "--preview",
                          "--duration", "0.5")  # fmt: skip
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert (
        "FacetwitchWarning: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): "
        "recording without the preview window" in stderr
    )
    assert "stopped: duration" in stdout
    assert len(timestamps_read(out / "recording.timestamps.csv")) >= 10


# -- crash safety -----------------------------------------------------------------------------
def test_sigkill_leaves_a_file_that_decodes_up_to_the_kill(feat_data, model_path, tmp_path):
    out = tmp_path / "killed"
    proc = _start_capture(feat_data / "single_face.mp4", out, _env(model_path))
    try:
        _wait_rows(out / "recording.timestamps.csv", 45, proc)  # ~1.5 s of recording
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    t_csv = timestamps_read(out / "recording.timestamps.csv")
    assert 45 <= len(t_csv) < 72  # killed mid-way
    t_video, _ = _decode(out / "recording.mkv")
    # all but the last open Matroska cluster (<= CLUSTER_MS) is on disk and decodes
    lost_max = int(np.ceil(CLUSTER_MS / 1000 * 30)) + 2
    assert len(t_video) >= len(t_csv) - lost_max
    np.testing.assert_allclose(t_video, t_csv[: len(t_video)], atol=1.5e-3)
    assert json.loads((out / "recording.session.json").read_text())["status"] == "recording"


@pytest.mark.parametrize(("sig", "reason"), [(signal.SIGINT, "interrupted"),
                                             (signal.SIGTERM, "terminated")])  # fmt: skip
def test_signal_stops_cleanly_with_every_frame(sig, reason, feat_data, model_path, tmp_path):
    """Ctrl-C or SIGTERM.

    The frame in hand is finished, the file closed with all frames, the session says why it stopped.
    """
    out = tmp_path / "int"
    proc = _start_capture(feat_data / "single_face.mp4", out, _env(model_path))
    try:
        _wait_rows(out / "recording.timestamps.csv", 30, proc)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert f"stopped: {reason}" in stdout
    t_csv = timestamps_read(out / "recording.timestamps.csv")
    t_video, _ = _decode(out / "recording.mkv")
    assert 30 <= len(t_csv) < 72 and len(t_video) == len(t_csv)
    session = json.loads((out / "recording.session.json").read_text())
    assert session["stop_reason"] == reason and session["frames"] == len(t_csv)
    assert session["status"] == "complete"


def test_cli_record_sigterm_keeps_the_recording_and_exits_143(feat_data, model_path, tmp_path):
    """`facetwitch record` stopped by SIGTERM (a shutdown, a supervisor).

    The recording is closed with every frame, the reason printed, and the exit code is 143 (128 +
    SIGTERM).
    """
    out = tmp_path / "term"
    proc = subprocess.Popen(
        [sys.executable, "-m", "facetwitch", "record", "--camera",
         str(feat_data / "single_face.mp4"), "--no-preview", "--no-analyze", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(model_path),
    )  # fmt: skip
    try:
        _wait_rows(out / "recording.timestamps.csv", 20, proc)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_TERMINATED, stderr
    assert "Traceback" not in stderr
    assert "stopped by a termination signal (SIGTERM)" in stdout
    # the closing line every other stopped command ends with (it had ended without one)
    assert stderr.rstrip().splitlines()[-1] == "facetwitch: terminated", stderr
    t_csv = timestamps_read(out / "recording.timestamps.csv")
    t_video, _ = _decode(out / "recording.mkv")
    assert 20 <= len(t_csv) < 72 and len(t_video) == len(t_csv)


def test_source_failing_mid_stream_keeps_recording_report_and_warns(feat_data, model_path,
                                                                    tmp_path):  # fmt: skip
    src = FileSource(feat_data / "single_face.mp4", fail_after_s=1.2)
    with pytest.warns(FacetwitchWarning) as caught:
        result = record_session(src, tmp_path / "f", preview=False, model=model_path)
    messages = [str(w.message) for w in caught]
    assert any("stopped delivering frames at 1.20 s" in m and "frames kept" in m
               for m in messages), messages  # fmt: skip
    assert result.stop_reason == "source_failed" and result.warnings
    assert result.frames == 36
    t_video, _ = _decode(result.video_path)
    assert len(t_video) == 36 and t_video[-1] < 1.2
    report = json.loads((tmp_path / "f" / "report.json").read_text())
    assert report["input"]["frames"] == 36
    session = json.loads(result.session_path.read_text())
    assert session["stop_reason"] == "source_failed" and session["warnings"]


# -- disk space -------------------------------------------------------------------------------
def test_too_little_disk_space_refuses_to_start(feat_data, tmp_path):
    with pytest.raises(OutputError, match="MB free; recording needs at least"):
        record_session(FileSource(feat_data / "single_face.mp4"), tmp_path / "d",
                       preview=False, analyze=False, min_free_start_mb=1e12)  # fmt: skip
    assert not (tmp_path / "d" / "recording.mkv").exists()


def test_disk_filling_up_stops_cleanly_with_a_warning(feat_data, tmp_path):
    src = FileSource(feat_data / "single_face.mp4", realtime=False)
    with pytest.warns(FacetwitchWarning, match="disk space left; recording stopped"):
        result = record_session(src, tmp_path / "d", preview=False, analyze=False,
                                min_free_start_mb=0, min_free_mb=1e12)  # fmt: skip
    assert result.stop_reason == "disk_low" and result.frames == 1
    assert len(_decode(result.video_path)[0]) == 1


@pytest.fixture
def small_disk(tmp_path):
    """Mount a real file system of 512 KB (tmpfs), unmounted after; skipped where refused."""
    point = tmp_path / "disk"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(point)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    yield point
    subprocess.run(["umount", str(point)], check=False)


def test_a_disk_that_fills_up_mid_recording_keeps_what_was_written(feat_data, small_disk):
    """A disk that filled up while recording left session.json saying "recording" for ever.

    The failed write ended the session with an error and nothing finalised. Now the recording
    stops there: the file is closed with every frame that reached the disk (counted in the
    file, not as sent to the muxer), the marks are kept, session.json says ``cut_short`` /
    ``write_failed`` and why, and the recording is not analysed (its report would not fit):
    the result says so with exit 5. A real full file system (the free-space check set below
    what it can see, as when another program fills the disk faster than it checks).
    """
    from facetwitch.errors import EXIT_OUTPUT

    def on_frame(frame, recorder):
        if frame.index == 3:
            recorder.add_marker(frame.t_s)

    out = small_disk / "s"
    src = FileSource(feat_data / "single_face.mp4", realtime=False)
    result = record_session(src, out, preview=False, sound=False, on_frame=on_frame,
                            min_free_start_mb=0, min_free_mb=0)  # fmt: skip
    assert result.stop_reason == "write_failed"
    assert "recording.mkv: writing failed (No space left on device)" in result.write_error
    t_video, _ = _decode(result.video_path)
    assert 4 <= result.frames == len(t_video) < 72
    assert result.write_error.endswith(
        f"the recording stopped at {t_video[-1]:.2f} s; the {len(t_video)} frames before it "
        "are kept"
    )
    np.testing.assert_allclose(
        t_video, timestamps_read(result.timestamps_path)[: len(t_video)], atol=1.5e-3
    )
    session = json.loads(result.session_path.read_text())
    assert session["status"] == "cut_short" and session["stop_reason"] == "write_failed"
    assert session["frames"] == len(t_video) and session["error"] == result.write_error
    assert [m["t_s"] for m in markers_read(result.markers_path)] == pytest.approx([0.1], abs=0.01)
    assert result.analysis is None and result.analysis_exit_code == EXIT_OUTPUT
    assert result.analysis_error.startswith(result.write_error)
    assert not (out / "report.json").exists()


def test_cli_record_cut_short_by_a_full_disk_says_so_and_exits_5(feat_data, tmp_path):
    """``facetwitch record`` whose file cannot grow (a file-size limit, EFBIG, as a full disk).

    It ended in exit 5 with the recording's session.json saying "recording", two log lines of
    the closing's failures and no word of what was kept. Now: one line, exit 5, the frames
    kept; the analysis is not tried, and the command that makes it is given.
    """
    camera = feat_data / "single_face.mp4"
    setup = (
        "import resource, runpy, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))\n"
        "sys.argv = ['facetwitch', *sys.argv[1:]]\n"
        "runpy.run_module('facetwitch', run_name='__main__')\n"
    )
    for extra in ([], ["--no-analyze"]):
        out = tmp_path / f"rec{len(extra)}"
        done = subprocess.run(
            [sys.executable, "-c", setup, "record", "--camera", str(camera), "--no-preview",
             "--out", str(out), *extra],
            capture_output=True, text=True, env=dict(os.environ, COLUMNS="200"), timeout=120,
        )  # fmt: skip
        assert done.returncode == 5, done
        said = [ln for ln in done.stderr.splitlines() if not ln.startswith("recording into")]
        assert len(said) == 1, done.stderr
        assert "recording.mkv: writing " in said[0] and "failed (File too large)" in said[0]
        frames = len(_decode(out / "recording.mkv")[0])
        assert f"the {frames} frames before it are kept" in said[0] and frames > 0
        if extra:
            assert said[0].startswith("facetwitch: error: ")
        else:
            assert said[0].startswith("facetwitch: no report: ")
            assert said[0].endswith(f"(analyse it with: facetwitch analyze {out}/recording.mkv "
                                    f"--out {out})")  # fmt: skip
        session = json.loads((out / "recording.session.json").read_text())
        assert session["status"] == "cut_short" and session["frames"] == frames
        assert f"recording: {out / 'recording.mkv'} ({frames} frames" in done.stdout


def test_a_damaged_middle_of_a_recording_is_said_as_damaged_not_as_a_gap(
    feat_data, model_path, tmp_path
):
    """Damaged data in the middle of a recording was said as a pause or as dropped frames.

    Zeroed bytes (a bad sector) in the middle of a recording's Matroska file: the demuxer skips
    to the next cluster without an error, and the frames there were read as "the video's time
    jumps ...: a paused recording" (or, shorter, as frames "dropped by the camera or the
    encoder"), though the recording's timestamps sidecar lists every one of them as written.
    Random bytes instead: the reader found the damaged stretch, and the same frames were said
    once more as dropped by the camera. Now each is said once, as damaged.
    """
    import random

    from clirun import cli

    rec = record_session(FileSource(feat_data / "single_face.mp4", realtime=False),
                         tmp_path / "rec", preview=False, analyze=False, sound=False)  # fmt: skip
    assert rec.frames == 72
    data = rec.video_path.read_bytes()
    at = len(data) * 3 // 10
    cases = {
        "zeroed": data[:at] + bytes(600_000) + data[at + 600_000 :],
        "random": data[:at] + random.Random(1).randbytes(10_000) + data[at + 10_000 :],
    }
    for name, damaged in cases.items():
        video = tmp_path / name / "recording.mkv"
        video.parent.mkdir()
        video.write_bytes(damaged)
        shutil.copy(rec.timestamps_path, video.with_name("recording.timestamps.csv"))
        run = cli("analyze", video, "--out", tmp_path / f"r-{name}", "--no-report")
        assert run.code in (0, 7), run
        quality = json.loads((tmp_path / f"r-{name}" / "report.json").read_text())["quality"]
        (lost,) = quality["lost_ranges_s"]
        assert 0.3 < lost[0] < lost[1] < 2.4, (name, lost)
        said = [w for w in quality["warnings"] if "damaged video" in w]
        assert said == [f"damaged video: nothing usable could be decoded from {lost[0]:.2f} s to "
                        f"{lost[1]:.2f} s"], (name, quality["warnings"])  # fmt: skip
        assert not [w for w in quality["warnings"] if "time jumps" in w or "dropped by" in w]
        assert quality["frames_missing"] == 0, name
    # without its sidecar the zeroed file cannot be told from a paused one: said as either
    bare = tmp_path / "bare" / "clip.mkv"
    bare.parent.mkdir()
    bare.write_bytes(cases["zeroed"])
    run = cli("analyze", bare, "--out", tmp_path / "r-bare", "--no-report")
    quality = json.loads((tmp_path / "r-bare" / "report.json").read_text())["quality"]
    assert quality["lost_ranges_s"] == [] and quality["gaps_s"], quality
    assert any("a paused recording or a damaged file" in w for w in quality["warnings"])


def test_recordings_are_never_overwritten(tmp_path):
    with Recorder(tmp_path, width=64, height=48) as rec:
        rec.write(CapturedFrame(0, 0.0, np.zeros((48, 64, 3), np.uint8)))
    with pytest.raises(OutputError, match="recording.mkv: exists already"):
        Recorder(tmp_path, width=64, height=48).open()
    assert len(_decode(tmp_path / "recording.mkv")[0]) == 1


# -- camera pieces that need no camera --------------------------------------------------------
def test_no_cameras_here():
    assert camera_list() == []
    with pytest.raises(CaptureError, match="camera 7 cannot be opened"):
        CameraSource(7).open()


def test_capture_clock_prefers_driver_stamps_and_never_goes_back():
    clock = CaptureClock()  # driver (V4L2 buffer) timestamps, 30 fps, wall clock jittery
    t = [clock.stamp(100.0 + 0.05 * i, 5000.0 + i / 30) for i in range(4)]
    assert clock.clock == "driver"
    np.testing.assert_allclose(t, [0, 1 / 30, 2 / 30, 3 / 30], atol=1e-9)
    t4 = clock.stamp(100.30, 5000.0)  # the driver stamp jumps back: monotonic takes over
    assert clock.clock == "monotonic" and t4 > t[-1]
    assert clock.stamp(100.33, 0.0) == pytest.approx(t4 + 0.03)
    mono = CaptureClock()  # no driver stamps (0): monotonic time of grab
    t = [mono.stamp(7.0 + dt, 0.0) for dt in (0.0, 0.040, 0.066, 0.066)]
    assert mono.clock == "monotonic"
    assert t[:3] == pytest.approx([0.0, 0.040, 0.066]) and t[3] > t[2]


def test_overlay_is_mirrored_and_draws_lip_and_eyelid_landmarks():
    rgb = np.full((360, 640, 3), 90, np.uint8)
    rgb[:, :40] = (255, 0, 0)  # a red stripe on the camera's left edge
    points = np.full((478, 3), 0.0)
    points[:, 0], points[:, 1] = 150.0, 180.0
    state = OverlayState(elapsed_s=3.0, duration_s=10.0, live_count=2, markers=1,
                         face_found=True, overlay_fraction=1.0)  # fmt: skip
    bgr = overlay_draw(rgb, points, state)
    assert bgr[180, 620].tolist() == [0, 0, 255]  # the stripe is now on the right (BGR red)
    lip = REGION_LANDMARKS[("upper_lip", "left")][0]
    points[lip, :2] = (100.0, 200.0)
    bgr = overlay_draw(rgb, points, state)
    assert bgr[200, 639 - 100].tolist() == list(LIP_BGR)
    assert bgr[180, 639 - 150].tolist() in (list(EYELID_BGR), list(LIP_BGR))
    assert overlay_draw(rgb, None, state)[180, 639 - 150].tolist() == [90, 90, 90]


# -- the preview, on a real X display ---------------------------------------------------------
def _need(tools: list[str]) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = (
            f"{', '.join(missing)} not installed "
            "(apt-get install xvfb x11-utils imagemagick xdotool)"
        )
        if os.environ.get("CI"):
            pytest.fail(msg + "; required when CI is set")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def xdisplay():
    """Yield a private Xvfb display (":N"), torn down after the module's tests."""
    _need(["Xvfb", "xwininfo", "import", "xdotool"])
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def _window_geometry(display: str) -> tuple[int, int, int, int]:
    info = subprocess.run(["xwininfo", "-display", display, "-name", WINDOW_TITLE],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    val = {}
    for line in info.splitlines():
        key, _, v = line.strip().partition(":")
        val[key] = v.strip()
    return (int(val["Absolute upper-left X"]), int(val["Absolute upper-left Y"]),
            int(val["Width"]), int(val["Height"]))  # fmt: skip


def _overlay_masks(shot: Path, x: int, y: int, w: int, h: int):
    """Pixels of the lip (cyan) and eyelid (magenta) landmark overlay in a screenshot."""
    img = cv2.imread(str(shot))[y : y + h, x : x + w].astype(int)
    b, g, r = img[..., 0], img[..., 1], img[..., 2]
    return (b > 200) & (g > 200) & (r < 90), (b > 200) & (r > 200) & (g < 90)


@pytest.mark.xvfb
def test_preview_shows_mirrored_overlay_and_takes_keys(xdisplay, feat_data, model_path, tmp_path):
    """Screenshot of the real X display: mirrored frame, landmarks drawn; space marks, q stops."""
    out = tmp_path / "p"
    env = _env(model_path, DISPLAY=xdisplay)
    proc = _start_capture(feat_data / "WolfgangLanger_Pexels.mp4", out, env,
                          "--preview", "--duration", "15")  # fmt: skip
    try:
        csv_path = out / "recording.timestamps.csv"
        _wait_rows(csv_path, 60, proc)  # 2.5 s at 24 fps: the face is tracked by now
        shot = tmp_path / "preview.png"
        # on a loaded machine the live tracker may lag the recording by a few seconds (frames
        # are dropped for the overlay only): take screenshots until the overlay is drawn
        for _ in range(10):
            n_before = len(timestamps_read(csv_path))
            subprocess.run(["import", "-display", xdisplay, "-window", "root", str(shot)],
                           check=True, timeout=20)  # fmt: skip
            n_at_shot = len(timestamps_read(csv_path))
            x, y, w, h = _window_geometry(xdisplay)
            cyan, magenta = _overlay_masks(shot, x, y, w, h)
            if cyan.sum() > 30 and magenta.sum() > 15:
                break
            time.sleep(1.0)
        found = subprocess.run(["xdotool", "search", "--name", "facetwitch - recording"],
                               capture_output=True, text=True, env=env, check=True)  # fmt: skip
        wid = found.stdout.split()[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, check=True, timeout=10)
        subprocess.run(["xdotool", "key", "space"], env=env, check=True, timeout=10)
        time.sleep(0.4)
        subprocess.run(["xdotool", "key", "q"], env=env, check=True, timeout=10)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if os.environ.get("FACETWITCH_ARTIFACTS"):
        shutil.copy(shot, Path(os.environ["FACETWITCH_ARTIFACTS"]) / "capture-preview.png")
    assert proc.returncode == 0, stderr
    assert "stopped: key" in stdout

    assert (w, h) == (640, 360)
    assert cyan.sum() > 30 and magenta.sum() > 15, (cyan.sum(), magenta.sum())
    ys, xs = np.nonzero(cyan)
    yo, xo = np.nonzero(magenta)
    assert yo.mean() < ys.mean()  # eyelids above lips
    img = cv2.imread(str(shot))[y : y + h, x : x + w].astype(int)
    # the preview is the recorded frame mirrored (compare the band between the text bars)
    _, frames = _decode(out / "recording.mkv")
    band = slice(70, 290)
    near = [frames[i] for i in range(max(0, n_before - 8), min(len(frames), n_at_shot + 2))]
    plain = min(np.median(np.abs(img[band] - f[band, :, ::-1].astype(int))) for f in near)
    mirrored = min(np.median(np.abs(img[band] - f[band, ::-1, ::-1].astype(int))) for f in near)
    assert mirrored <= 6 and mirrored < 0.25 * plain, (mirrored, plain)

    marks = markers_read(out / "recording.markers.json")
    session = json.loads((out / "recording.session.json").read_text())
    assert len(marks) == 1 and n_at_shot / 24 - 0.5 < marks[0]["t_s"] < session["duration_s"]
    assert session["stop_reason"] == "key"
    # every frame was recorded; the overlay tracked some and skipped the rest when behind (how
    # many depends on the machine's load: 358 of 360 at 30 fps on an idle 2-core machine)
    assert session["overlay_frames"] + session["overlay_dropped"] == session["frames"]
    assert session["overlay_frames"] >= 10
    assert len(_decode(out / "recording.mkv")[0]) == session["frames"]


@pytest.mark.xvfb
def test_closing_the_preview_window_stops_and_keeps_the_file(xdisplay, feat_data, model_path,
                                                            tmp_path):  # fmt: skip
    script = (
        "import sys, cv2\n"
        "from facetwitch.capture import FileSource, record_session\n"
        "from facetwitch.capture.session import WINDOW_TITLE\n"
        "def close(frame, rec):\n"
        "    if frame.t_s >= 1.0: cv2.destroyWindow(WINDOW_TITLE)\n"
        "r = record_session(FileSource(sys.argv[1]), sys.argv[2], analyze=False, "
        "live_tracking=False, on_frame=close)\n"
        "print(r.stop_reason, r.frames)\n"
    )
    out = tmp_path / "c"
    proc = subprocess.run(
        [sys.executable, "-c", script, str(feat_data / "single_face.mp4"), str(out)],
        capture_output=True, text=True, env=_env(model_path, DISPLAY=xdisplay), timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    reason, frames = proc.stdout.split()
    assert reason == "window_closed" and 30 <= int(frames) < 72
    assert len(_decode(out / "recording.mkv")[0]) == int(frames)


def test_live_count_uses_the_detectors_peak_finder():
    """The preview's rough count is events_find over the last seconds of region motion.

    Two planted one-sided lip twitches count twice, a both-sided lid movement (a blink) not at all,
    and each counts once however often the recent frames are searched (a real face's geometry,
    synthetic motion: no model run).
    """
    from synth import Plant, demo_face, synthetic_track

    from facetwitch.capture.overlay import LiveEventCounter

    face = demo_face()
    plants = (Plant("upper_lip", "left", 2.5, 2.0, 45.0), Plant("lower_lip", "right", 5.0, 2.0,
              270.0), Plant("upper_eyelid", "left", 3.8, 2.5, 270.0),
              Plant("upper_eyelid", "right", 3.8, 2.5, 270.0))  # fmt: skip
    track = synthetic_track(face, duration_s=8.0, plants=plants)
    counter = LiveEventCounter()
    counted_at = []
    for i in range(len(track)):
        if counter.update(float(track.t[i]), bool(track.found[i]), track.points[i],
                          track.region_flow[i]):  # fmt: skip
            counted_at.append(float(track.t[i]))
    assert counter.count == 2, (counter.count, counted_at)
    assert counted_at[0] > 2.5 and counted_at[1] > 5.0  # each after its own peak
    assert 4.9 < counter.t_last_event < 5.1
