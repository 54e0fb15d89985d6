"""Writing a file so that it is never half-written and no temporary file is left behind."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from .errors import OutputError


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object], *,
                     tmp: str | os.PathLike | None = None) -> Path:  # fmt: skip
    """``write(tmp)``, then rename ``tmp`` to ``path`` (creating its directory).

    Never a half-written ``path``, and no ``tmp`` left behind whatever stops it (a full disk,
    Ctrl-C, SIGTERM). OS errors become :class:`OutputError` naming ``path``. ``tmp`` defaults
    to ``.<name>.tmp`` beside ``path``.
    """
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise
    return path


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """``data`` (a str as UTF-8) to ``path`` through :func:`write_atomically`, on disk (fsync)
    before the rename."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())

    return write_atomically(path, write)
