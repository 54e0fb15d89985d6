"""Running the real command line in tests, and looking at what it left on disk.

:func:`cli` drives :func:`facetwitch.cli.main` in-process (its error handling, stdout and stderr
captured); :func:`cli_start` starts ``python -m facetwitch`` as a user would, for signals and
for two runs at once. :func:`tree` snapshots a directory tree (contents, links, kinds) so a test
can assert that nothing outside ``--out`` changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from facetwitch.errors import FacetwitchWarning

PYTHON = sys.executable
#: What analyze may write into --out (the names are fixed, whatever the input is called).
OUTPUT_NAMES = {
    "report.json", "events.csv", "track.npz", "report.html", "report.pdf", "summary.txt",
}  # fmt: skip


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def errors(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("facetwitch: error:")]

    @property
    def warnings(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("facetwitch: warning:")]


def cli(*args: str | os.PathLike) -> Run:
    """Run ``facetwitch ARGS`` in-process through :func:`facetwitch.cli.main`."""
    from facetwitch import cli as cli_module

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["facetwitch", *map(str, args)]
    code = None
    try:
        with (
            warnings.catch_warnings(),  # main() installs its own printer; restored after
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            warnings.simplefilter("always", FacetwitchWarning)
            try:
                cli_module.main()
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.argv = argv
        cli_module._state["debug"] = False
        cli_module._stopped_by.clear()
    assert isinstance(code, int), f"main() must end in sys.exit(int), got {code!r}"
    return Run(code, out.getvalue(), err.getvalue())


def env(**extra: str) -> dict:
    return {**os.environ, "PYTHONUTF8": "1", "COLUMNS": "200", "GLOG_minloglevel": "2", **extra}


def cli_start(*args: str | os.PathLike, progress: bool = False, **kwargs) -> subprocess.Popen:
    """Start ``python -m facetwitch ARGS`` (stdout and stderr piped, bytes)."""
    extra = {"FACETWITCH_PROGRESS": "1"} if progress else {}
    return subprocess.Popen(
        [PYTHON, "-m", "facetwitch", *map(str, args)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env(**extra), **kwargs,
    )  # fmt: skip


def read_until(proc: subprocess.Popen, marker: bytes, timeout_s: float = 120) -> bytes:
    """Read ``proc``'s stderr until ``marker`` shows (what was read; asserts it came)."""
    t_end = time.monotonic() + timeout_s
    seen = b""
    while time.monotonic() < t_end and marker not in seen:
        chunk = os.read(proc.stderr.fileno(), 512)
        if not chunk:
            break
        seen += chunk
    assert marker in seen, seen.decode(errors="replace")
    return seen


def wait_for(predicate, timeout_s: float = 120, what: str = "") -> None:
    """Poll ``predicate()`` every 10 ms until true (asserts it became true)."""
    t_end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < t_end, f"timed out waiting for {what}"
        time.sleep(0.01)


def finish(proc: subprocess.Popen, seen: bytes = b"", timeout_s: float = 120) -> Run:
    """Wait for ``proc``; its exit code and all it wrote (``seen``: stderr read already)."""
    try:
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Run(proc.returncode, out.decode(errors="replace"),
               (seen + err).decode(errors="replace"))  # fmt: skip


def staging_dirs(out: Path) -> list[Path]:
    return sorted(out.glob(".facetwitch-*.tmp"))


def assert_user_error(run: Run, code: int, *phrases: str) -> str:
    """Exit ``code``, exactly one ``facetwitch: error:`` line holding ``phrases``.

    Nothing else on stderr but warning lines, no traceback.
    """
    assert run.code == code, run
    assert "Traceback" not in run.err, run.err
    assert len(run.errors) == 1, run.err
    assert [ln for ln in run.err.splitlines() if ln not in run.warnings] == run.errors, run.err
    for phrase in phrases:
        assert phrase in run.errors[0], run.errors[0]
    return run.errors[0]


def tree(root: Path) -> dict[str, tuple]:
    """Return every entry under ``root`` with its kind and content.

    Every entry under ``root`` (relative path -> kind and content: a file's sha256, a link's
    target), without following links.
    """
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                entry = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                entry = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            elif stat.S_ISDIR(st.st_mode):
                entry = ("dir",)
            else:
                entry = ("special", stat.S_IFMT(st.st_mode))
            found[str(p.relative_to(root))] = entry
    return found


def outside(snapshot: dict[str, tuple], out: str) -> dict[str, tuple]:
    """``snapshot`` without the entries under ``out`` (a path relative to the snapshot's root)."""
    return {k: v for k, v in snapshot.items() if k != out and not k.startswith(out + os.sep)}
