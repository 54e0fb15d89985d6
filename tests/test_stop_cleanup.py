"""A stop signal (Ctrl-C, SIGTERM, SIGHUP) at the worst moment leaves nothing behind.

Its handler raises wherever the main thread is, as soon as a system call returns: between a
temporary file or directory being made and being noted for removal, or in the middle of a
removal. Real signals, sent to this process at those moments.
"""

from __future__ import annotations

import os
import signal

import pytest


@pytest.fixture
def sigterm_raises():
    """SIGTERM handled as the command line handles it: :class:`Terminated` is raised."""
    from facetwitch.errors import Terminated

    def raise_terminated(signum, frame):
        raise Terminated

    old = signal.signal(signal.SIGTERM, raise_terminated)
    yield Terminated
    signal.signal(signal.SIGTERM, old)


def test_a_stop_while_the_staging_directory_is_removed_leaves_none_of_it(
    tmp_path, monkeypatch, sigterm_raises
):
    # Seen once in CI: a batch hung up while a worker was removing a report folder's staging
    # directory (its run finished) left the directory half removed. A real SIGTERM now arrives
    # just after the first file of it is removed; the removal finishes, then the stop goes on
    from facetwitch._files import write_atomic
    from facetwitch.outputs import _Staging

    out = tmp_path / "out"
    out.mkdir()
    write_atomic(out / "summary.txt", "earlier")  # moved aside, then removed with the staging
    real_unlink = os.unlink
    signalled = []

    def unlink_then_stop(*a, **kw):
        real_unlink(*a, **kw)
        if not signalled:
            signalled.append(a[0])
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(sigterm_raises):
        with _Staging(out) as staging:
            staged = {key: write_atomic(staging.dir / name, "new " + name)
                      for key, name in [("events_csv", "events.csv"), ("html", "report.html"),
                                        ("summary", "summary.txt")]}  # fmt: skip
            staging.install(staged)
            monkeypatch.setattr(os, "unlink", unlink_then_stop)
    monkeypatch.undo()
    assert signalled
    assert sorted(p.name for p in out.iterdir()) == ["events.csv", "report.html", "summary.txt"]
    assert (out / "summary.txt").read_text() == "new summary.txt"


def test_a_stop_just_after_a_temporary_file_is_made_removes_it(tmp_path, sigterm_raises):
    # made_whole: what make() made is undone when a stop came while it ran, and the stop goes on
    from facetwitch._signals import made_whole

    target = tmp_path / "made"

    def make():
        target.mkdir()
        os.kill(os.getpid(), signal.SIGTERM)  # the handler would raise right here, unheld
        return target

    with pytest.raises(sigterm_raises):
        made_whole(make, lambda d: d.rmdir())
        pytest.fail("the stop was not delivered")
    assert list(tmp_path.iterdir()) == []
    assert made_whole(lambda: 42, lambda _: pytest.fail("undone")) == 42  # no stop: kept


def test_a_held_signal_delivered_between_frames_is_delivered_once(sigterm_raises):
    # deliver() (the tracker's between-frames check) hands a held stop to its handler; the end of
    # the held block must not hand the same one over again (one SIGTERM, one Terminated)
    from facetwitch._signals import signals_held

    calls = []
    handler = signal.getsignal(signal.SIGTERM)

    def counted(signum, frame):
        calls.append(signum)
        handler(signum, frame)

    signal.signal(signal.SIGTERM, counted)
    with pytest.raises(sigterm_raises) as stop:
        with signals_held() as deliver:
            os.kill(os.getpid(), signal.SIGTERM)
            assert calls == []  # held
            deliver()
    assert calls == [signal.SIGTERM]
    assert stop.value.__context__ is None  # not a second stop raised over the first


def test_chunk_directories_left_by_a_killed_run_are_removed_by_the_next(tmp_path):
    """``kill -9`` during parallel tracking leaves its chunk directory in the temp folder.

    Nothing of that run gets to remove it; the next parallel run does, if its owner is gone.
    A directory whose owner still runs, or one without an owner file made less than a day ago
    (a run that has just made it), stays.
    """
    import subprocess
    import sys
    import time

    from facetwitch.landmarks.tracker import (
        CHUNK_DIR_OWNER,
        CHUNK_DIR_PREFIX,
        CHUNK_DIR_STALE_S,
        _chunk_dirs_sweep,
    )

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    cases = [("killed", int(dead.stdout), 0), ("running", os.getpid(), 0),
             ("old", None, CHUNK_DIR_STALE_S + 60), ("new", None, 0)]  # fmt: skip
    dirs = {}
    for name, owner, age_s in cases:
        d = tmp_path / f"{CHUNK_DIR_PREFIX}{name}"
        d.mkdir()
        (d / "piece.bin").write_bytes(b"x" * 100)
        if owner is not None:
            (d / CHUNK_DIR_OWNER).write_text(str(owner))
        if age_s:
            then = time.time() - age_s
            os.utime(d, (then, then))
        dirs[name] = d
    other = tmp_path / "not-ours"
    other.mkdir()
    _chunk_dirs_sweep(tmp_path)
    assert {n for n, d in dirs.items() if d.exists()} == {"running", "new"}
    assert other.exists()
