"""Writing files safely: never half-written, never through a planted link, one run per directory.

Three rules, kept here so that every writer follows them:

- **Atomic**: a file is written to a temporary file beside it and renamed into place
  (:func:`write_atomically`); whatever stops the writing (a full disk, Ctrl-C, SIGTERM) leaves
  the earlier file and no temporary file.
- **Exclusive temporary names**: every temporary file is created with ``O_CREAT|O_EXCL`` under a
  random name (:func:`temp_file`), so a symbolic link planted at a predictable name can never
  redirect the writing elsewhere, and a rename replaces a link standing at the target, never
  the file it points to. A target that is a directory, a device or a FIFO (or a link to one)
  is refused rather than replaced.
- **One run per output directory**: :func:`dir_claim` holds an exclusive lock in the directory
  for the whole run; a second run into it stops at once (:class:`OutputError`), a lock left by
  a killed run is taken over.

Inputs are never outputs either: :func:`outputs_not_inputs` refuses, before any work, an output
path that names an input file (the same path, or the same file through a link).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ._signals import made_whole, signals_held
from .errors import InputError, OutputError, UsageError

try:  # POSIX; elsewhere directories are not locked (see dir_claim)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

logger = logging.getLogger("facetwitch")

#: The lock file a run holds in its output directory (removed at the end of the run).
LOCK_NAME = ".facetwitch.lock"


def temp_file(path: str | os.PathLike, suffix: str = ".tmp") -> Path:
    """Create a new, empty temporary file beside ``path`` and return its path.

    Named ``.<name>.<random><suffix>`` in ``path``'s directory (the same file system, so a rename
    into place is atomic) and created exclusively (``O_CREAT|O_EXCL``: never an existing file,
    nor through a symbolic link someone planted), with the permissions a plain ``open(p, "w")``
    gives (``mkstemp``'s own are 0600). ``suffix`` keeps an extension a writer needs (numpy
    appends ``.npz`` to other names; PyAV picks the container from it).
    """
    path = Path(path)

    def make() -> Path:
        # at most 64 characters of the name: a long name still leaves room for the random part
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=suffix)
        try:
            if hasattr(os, "fchmod"):
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fd, 0o666 & ~umask)
        finally:
            os.close(fd)
        return Path(tmp)

    return made_whole(make, lambda tmp: tmp.unlink(missing_ok=True))


def target_check(path: str | os.PathLike) -> None:
    """Raise :class:`OutputError` if ``path`` exists as something a file cannot replace.

    A regular file is replaced, and so is a symbolic link (the link itself, never what it
    points to) unless it points to something other than a regular file: a rename would
    otherwise swap ``/dev/null`` or ``/dev/stdout`` for a file, or put one in a FIFO's place.
    """
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)
        except OSError:  # a dangling link: replaced itself
            return
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{path}: is a link to {_kind(st.st_mode)}, not to a file; "
                              "give the path of a file")  # fmt: skip
        return
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: cannot write (Is a directory)")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: is {_kind(st.st_mode)}, not a file; give the path of a file")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object], *,
                     suffix: str = ".tmp") -> Path:  # fmt: skip
    """``write(tmp)``, then rename ``tmp`` to ``path`` (creating its directory).

    ``tmp`` is a new file made by :func:`temp_file` beside ``path`` (``suffix`` ends its name).
    Never a half-written ``path``, and no ``tmp`` left behind whatever stops it (a full disk,
    Ctrl-C, SIGTERM). OS errors become :class:`OutputError` naming ``path``; a ``path`` that is
    a directory, a device or a FIFO is refused (:func:`target_check`).
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        target_check(path)
        tmp = temp_file(path, suffix)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError), signals_held():
                tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    return path


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Return ``data`` (a str as UTF-8) to ``path`` through :func:`write_atomically`.

    On disk (fsync) before the rename.
    """

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())

    return write_atomically(path, write)


def create_exclusive(path: str | os.PathLike) -> int:
    """Create ``path`` as a new file and return its descriptor (open for writing).

    Fails (:class:`OutputError`) if anything is there already, a dangling symbolic link
    included: a file that must never be overwritten (a recording) is never written through a
    link either.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except FileExistsError:
        raise OutputError(f"{path}: exists already; choose another output directory") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


# -- inputs --------------------------------------------------------------------------------------
def missing_error(path: str | os.PathLike) -> InputError:
    """Return the one-line error for an input that is not there.

    A web address (Path() has folded its "//") or "-" (standard input) is said as such: neither
    is a file facetwitch could have found, and "no such file" would not say why.
    """
    text = str(path)
    if re.match(r"(https?|rtsps?|rtmps?|s?ftp|file):/", text, re.IGNORECASE):
        return InputError(
            f"{text.replace(':/', '://', 1)}: a web address; facetwitch analyses video files on "
            "this computer only (nothing is fetched or sent): download the video, then give its "
            "file"
        )
    if text == "-":
        return InputError("-: a video cannot be read from standard input; give its file")
    return InputError(f"{path}: no such file")


def input_check(path: str | os.PathLike, what: str = "a video file") -> Path:
    """Raise :class:`InputError` (exit 3, one line) unless ``path`` is an existing file.

    Missing, a directory, or a special file (a FIFO would block the reader for ever, a device
    never ends): said in plain words, before any reader opens it.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise missing_error(path) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not {what}")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is {_kind(st.st_mode)}, not {what}")
    return path


# -- inputs are not outputs -----------------------------------------------------------------------
def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Return whether ``a`` and ``b`` name one file.

    The same path once resolved (symlinks, ``..``), or, when both exist, the same inode (a hard
    link).
    """
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a link loop: compare inodes below
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def outputs_not_inputs(
    outputs: Iterable[str | os.PathLike | None],
    inputs: Iterable[str | os.PathLike | None],
    *,
    what: str = "an input",
) -> None:
    """Raise :class:`UsageError` (exit 2) if an output path names an input file.

    The same path, or the same file through a symbolic link or a hard link: the input would be
    replaced by the output (or, read while written, destroyed). Checked before any work. Two
    outputs naming one file are refused too (one would replace the other).
    """
    outputs = [Path(o) for o in outputs if o is not None]
    inputs = [Path(i) for i in inputs if i is not None]
    for out in outputs:
        for src in inputs:
            if same_file(src, out):
                raise UsageError(f"{out}: is the same file as {what} {src}; writing it would "
                                 "destroy it: choose another output name")  # fmt: skip
    for k, out in enumerate(outputs):
        for other in outputs[k + 1 :]:
            if same_file(out, other):
                raise UsageError(f"{out} and {other} are the same file: give each output its "
                                 "own name")  # fmt: skip


def path_given(value: str | os.PathLike, what: str) -> Path:
    """``value`` as a Path.

    An empty string is a :class:`UsageError` (``Path("")`` is the current directory: ``--out ""``,
    an unset shell variable, would write there).
    """
    if os.fspath(value) == "":
        raise UsageError(f"{what}: an empty path; give a file or directory name")
    return Path(value)


# -- one run per output directory -------------------------------------------------------------
#: Directories (st_dev, st_ino) this process holds, with how many nested claims hold each.
_held: dict[tuple[int, int], int] = {}


@contextlib.contextmanager
def dir_claim(directory: str | os.PathLike, *, what: str = "facetwitch") -> Iterator[Path]:
    """Create ``directory`` if needed and hold it alone for the body; yields its path.

    An exclusive lock (``flock``) on ``directory/.facetwitch.lock``, held until the body ends:
    a second run (another process) into the same directory gets an :class:`OutputError` at
    once, naming the run that holds it. The kernel lets go of the lock when its holder dies,
    however it dies (``kill -9`` included), so a lock file left by a killed run is simply taken
    over. The lock file is removed at the end; directories created here are removed again if
    they are still empty (a run that failed leaves nothing new). Nested claims of the same
    directory in one process (``record`` then its analysis) are one claim. ``what`` (e.g.
    ``"analyze"``) is written into the lock file for the message a second run shows.

    Without ``flock`` (Windows; a file system that refuses locks) the directory is used
    without a lock.
    """
    directory = Path(directory)
    created: list[Path] = []  # filled as they are made: a stop signal in between finds them
    try:
        _dir_make(directory, created)
        key = _dir_key(directory)
        if key in _held:
            _held[key] += 1
            try:
                yield directory
            finally:
                _held[key] -= 1
            return
        fd = made_whole(lambda: _lock_take(directory, what),
                        lambda fd: _lock_let_go(directory, fd))  # fmt: skip
        _held[key] = 1
        try:
            yield directory
        finally:
            del _held[key]
            with signals_held():
                _lock_let_go(directory, fd)
    finally:
        with signals_held():  # a stop in the middle would leave some of them
            for d in reversed(created):  # only if empty: nothing of anyone's is removed
                with contextlib.suppress(OSError):
                    d.rmdir()


def _lock_let_go(directory: Path, fd: int | None) -> None:
    """Remove the lock file and close ``fd`` (:func:`_lock_take`'s); the lock goes with it."""
    if fd is not None:
        with contextlib.suppress(OSError):
            (directory / LOCK_NAME).unlink()  # still ours: unlinked before unlocked
        os.close(fd)


def _dir_make(directory: Path, made: list[Path]) -> None:
    """Make ``directory`` (and missing parents), adding each to ``made``, outermost first.

    Each is added before it is made, so that a stop signal (Ctrl-C, SIGTERM), whose handler
    raises as soon as ``mkdir`` returns, never leaves one made and unlisted (the caller removes
    them again if empty; one not made is no harm there). Seen once in a full test run: a batch
    worker stopped because its batch was killed left an empty report folder.
    """
    missing = []
    p = directory.absolute()
    while not os.path.lexists(p) and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        for d in reversed(missing):
            made.append(d)
            try:
                d.mkdir()
            except FileExistsError:  # another run made it in between: fine if a directory
                made.remove(d)  # and not ours to remove
        if not directory.is_dir():
            reason = "a link to nothing" if directory.is_symlink() else "not a directory"
            raise OutputError(f"{directory}: cannot create the output directory "
                              f"(it exists and is {reason})")  # fmt: skip
    except OSError as exc:  # the caller removes what was made
        raise OutputError(f"{directory}: cannot create the output directory "
                          f"({exc.strerror or exc})") from None  # fmt: skip


def _dir_key(directory: Path) -> tuple[int, int]:
    st = os.stat(directory)
    return st.st_dev, st.st_ino


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def _lock_take(directory: Path, what: str) -> int | None:
    """Open and lock ``directory/.facetwitch.lock``; the descriptor (None: no locking here)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    path = directory / LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(20):
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise OutputError(f"{path}: is a symbolic link, not facetwitch's lock file; "
                                  "remove it, or choose another --out") from None  # fmt: skip
            raise OutputError(f"{directory}: cannot write ({exc.strerror or exc})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:  # never written into
                why = "a hard link to another file" if stat.S_ISREG(st.st_mode) else "not a file"
                raise OutputError(f"{path}: is not facetwitch's lock file ({why}); remove it, "
                                  "or choose another --out")  # fmt: skip
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputError(
                    f"{directory}: another facetwitch run is writing into this directory"
                    f"{_holder(fd)}; wait for it to end, or choose another --out"
                ) from None
            except OSError as exc:
                if exc.errno not in _NO_LOCKS:
                    raise
                logger.debug("%s: file locks not supported here (%s): not locked", path, exc)
                os.close(fd)
                return None
            try:  # the holder before us may have removed the file just before letting go
                same = os.stat(path, follow_symlinks=False).st_ino == st.st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            note = {"pid": os.getpid(), "command": what,
                    "started": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
            try:
                os.ftruncate(fd, 0)
                os.write(fd, (json.dumps(note) + "\n").encode())
            except OSError as exc:  # a full disk: the lock holds, only the note is missing
                logger.debug("%s: cannot note the run in it (%s)", path, exc)
            return fd
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
    raise OutputError(f"{directory}: cannot take its lock ({LOCK_NAME} keeps changing)")


def _holder(fd: int) -> str:
    """`` (pid N, analyze, since ...)`` from the lock file, or "" if it cannot be read."""
    try:
        note = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        return f" (pid {int(note['pid'])}, {note['command']}, since {note['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""
