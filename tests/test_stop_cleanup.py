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
