"""Sound in recordings.

A file with sound played as the camera (its sound is the microphone), written into the recording,
readable after SIGKILL, found by the analysis; and the clean fallback where there is no microphone
(this machine has none, nor PortAudio).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from facetwitch.capture import FileSource, record_session
from facetwitch.capture.audio import AudioBlock, microphone_open
from facetwitch.capture.recorder import CLUSTER_MS, MAX_INTERLEAVE_US, Recorder
from facetwitch.landmarks.audio import audio_read
from facetwitch.landmarks.video import VideoReader

GRID = Path(__file__).parent / "data" / "lbax4n.mpg"
ROOT = Path(__file__).parents[1]


def _similar(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n].astype(float), b[:n].astype(float))[0, 1])


def test_no_microphone_here_is_said_not_raised():
    mic, why = microphone_open()
    assert mic is None  # no sound card on this machine (and, unless installed, no PortAudio)
    assert why and ("PortAudio" in why or "no microphone" in why or "install" in why)


def test_recording_a_file_with_sound_records_its_sound_in_the_same_file(tmp_path):
    result = record_session(FileSource(GRID, realtime=False), tmp_path / "rec", preview=False,
                            analyze=False)  # fmt: skip
    assert result.sound == "sound of lbax4n.mpg" and result.no_sound is None
    rec = audio_read(result.video_path)
    src = audio_read(GRID)
    assert rec is not None and rec.info["codec"] == "pcm_s16le" and rec.info["gaps_s"] == 0
    assert rec.t0_s == pytest.approx(src.t0_s, abs=1e-3)
    assert rec.duration_s == pytest.approx(src.duration_s, abs=0.06)
    assert _similar(rec.samples, src.samples) > 0.999  # the same sound, at the same times
    session = json.loads(result.session_path.read_text())
    assert session["sound"]["rate_hz"] == 48000 and session["audio_s"] > 2.9


def test_sound_off_or_absent_records_picture_only(tmp_path, feat_data):
    off = record_session(FileSource(GRID, realtime=False), tmp_path / "off", preview=False,
                         analyze=False, sound=False)  # fmt: skip
    assert off.sound is None and off.no_sound == "sound is off"
    assert audio_read(off.video_path) is None
    with VideoReader(off.video_path) as video:
        assert sum(1 for _ in video) == off.frames == 75


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_cli_record_says_in_one_line_that_there_is_no_sound(tmp_path):
    from media import make_clip

    frames = np.full((15, 64, 64, 3), 120, np.uint8)
    mute = make_clip(list(frames), np.arange(15) / 15, tmp_path / "mute.mp4")
    proc = subprocess.run(
        [sys.executable, "-m", "facetwitch", "record", "--camera", str(mute),
         "--out", str(tmp_path / "r"), "--no-preview", "--no-analyze"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if x.startswith("sound:")]
    assert lines == ["sound: none, the recording has no sound (mute.mp4 has no sound)"]
    assert "Traceback" not in proc.stderr


def test_recorder_places_sound_blocks_by_their_time(tmp_path):
    """Jitter is absorbed, sound before the first frame dropped, a real gap kept as a gap."""
    from facetwitch.capture.source import CapturedFrame

    rate = 48000
    rec = Recorder(tmp_path, width=32, height=32, audio_rate_hz=rate, min_free_start_mb=1)
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate // 10) / rate)).astype(np.int16)
    with rec:
        for i in range(30):
            rec.write(CapturedFrame(i, i / 10, np.full((32, 32, 3), 100, np.uint8)))
        rec.write_audio(AudioBlock(-0.05, tone))  # half before t = 0: 0.05 s kept
        rec.write_audio(AudioBlock(0.06, tone))  # 10 ms late: jitter, follows at 0.05
        rec.write_audio(AudioBlock(2.0, tone))  # a gap of 1.85 s
    audio = audio_read(rec.video_path)
    assert audio.t0_s == pytest.approx(0.0, abs=1e-3)
    assert audio.info["gaps_s"] == pytest.approx(1.85, abs=0.01)
    loud = audio.t0_s + np.flatnonzero(np.abs(audio.samples) > 2000) / audio.rate_hz
    assert loud[0] < 0.01 and 0.14 < loud[loud < 1].max() <= 0.15
    assert loud[loud > 1].min() == pytest.approx(2.0, abs=0.002)


@pytest.mark.slow  # records a clip in real time in a new Python
def test_sigkill_keeps_the_sound_up_to_the_kill(tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "facetwitch.capture", str(GRID), str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)  # fmt: skip
    csv_path = out / "recording.timestamps.csv"
    try:
        t_end = time.monotonic() + 30
        while time.monotonic() < t_end:  # ~2 s of the 3 s clip, played in real time
            if csv_path.exists() and len(csv_path.read_text().splitlines()) > 50:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    rows = len(csv_path.read_text().splitlines()) - 1
    t_kill = rows / 25
    assert 50 <= rows < 75
    audio = audio_read(out / "recording.mkv")
    # on disk: all but the last open cluster and what the muxer held for interleaving
    lost_max = CLUSTER_MS / 1000 + MAX_INTERLEAVE_US / 1e6 + 0.1
    assert audio is not None and t_kill - lost_max <= audio.duration_s <= t_kill + 0.1
    assert _similar(audio.samples, audio_read(GRID).samples) > 0.999
    with VideoReader(out / "recording.mkv") as video:
        assert sum(1 for _ in video) >= rows - (CLUSTER_MS / 1000 + 0.1) * 25


@pytest.mark.slow
def test_recording_with_sound_is_analysed_with_its_voice(tmp_path, model_path):
    from facetwitch.landmarks.track import LandmarkTrack
    from facetwitch.signal.voice import voiced_spans

    result = record_session(FileSource(GRID, realtime=False), tmp_path / "rec", preview=False,
                            analyze=True, model=model_path)  # fmt: skip
    assert result.analysis_error is None
    track = LandmarkTrack.load(tmp_path / "rec" / "track.npz")
    assert track.has_voice and track.info["audio"]["codec"] == "pcm_s16le"
    (onset, duration), = voiced_spans(track.voice_t, track.voice_active)  # fmt: skip
    assert 0.29 <= onset <= 0.46 and 2.01 <= onset + duration <= 2.28  # label: 0.44-2.03 s
