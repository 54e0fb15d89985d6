"""Per-frame tracker output kept at a memory cost that does not grow with the video's length.

A one-hour recording at 30 fps is 108,000 frames: its landmarks alone are 1.2 GB as float64.
The tracker used to keep one row of arrays per frame and stack them at the end (the landmarks
twice in memory for a moment). :class:`FrameStore` instead appends frames into a fixed block of
preallocated arrays and, each time the block is full, writes it to a spool file (one per field,
unlinked at once, so nothing is left behind whatever stops the process). At the end the fields
are handed out as arrays over a read-only memory map of those files: the data is in the page
cache, read as it is used, never copied into the process as a whole.

:func:`row_blocks` reads such arrays block by block and lets go of each block's pages once it
is consumed (``madvise(MADV_DONTNEED)``: the data stays in the page cache and the file), so that
saving or joining a long track does not map all of it into the process at once.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..regions import REGION_KEYS
from .track import BLENDSHAPE_NAMES, N_LANDMARKS

#: Per-frame fields of a LandmarkTrack: (shape of one frame, dtype). The dtypes are the ones a
#: LandmarkTrack has always held (landmarks float64 at float32 precision).
FRAME_FIELDS: dict[str, tuple[tuple[int, ...], np.dtype]] = {
    "t": ((), np.dtype(np.float64)),
    "points": ((N_LANDMARKS, 3), np.dtype(np.float64)),
    "blendshapes": ((len(BLENDSHAPE_NAMES),), np.dtype(np.float64)),
    "pose": ((4, 4), np.dtype(np.float64)),
    "found": ((), np.dtype(bool)),
    "n_faces": ((), np.dtype(np.int16)),
    "region_flow": ((len(REGION_KEYS), 2), np.dtype(np.float64)),
    "rigid_flow": ((6,), np.dtype(np.float64)),
    "outline_flow": ((), np.dtype(np.float64)),
}

#: Frames per block: 1024 frames are 12 MB of landmarks (34 s at 30 fps).
BLOCK_FRAMES = 1024


class FrameStore:
    """Append-only per-frame arrays, spilled to unlinked files block by block.

    Parameters
    ----------
    spool_dir : path, optional
        Where the spool files go (default: the system's temporary directory). A one-hour video
        needs about 1.3 GB there while it is tracked. Pass a directory on a disk rather than a
        RAM-backed ``/tmp`` (tmpfs) for long videos; the CLI uses the output's directory.
    block_frames : int
        Frames kept in memory before a block is written out.
    keep_files : bool
        Name the spool files ``<prefix>.<field>.bin`` in ``spool_dir`` and leave them there
        (for another process to read, :meth:`files`); by default they are unlinked at once.
    prefix : str
        File name prefix with ``keep_files``.
    """

    def __init__(
        self,
        spool_dir: str | os.PathLike | None = None,
        *,
        block_frames: int = BLOCK_FRAMES,
        keep_files: bool = False,
        prefix: str = "frames",
    ):
        self.spool_dir = Path(spool_dir) if spool_dir is not None else None
        self.block_frames = int(block_frames)
        self.keep_files = keep_files
        self.prefix = prefix
        self._buf = {
            k: np.empty((self.block_frames, *shape), dtype)
            for k, (shape, dtype) in FRAME_FIELDS.items()
        }
        self._k = 0  # frames in the buffer
        self._spilled = 0  # frames written to the files
        self._files: dict[str, object] | None = None
        self._closed = False

    def __len__(self) -> int:
        return self._spilled + self._k

    # -- writing ---------------------------------------------------------------------------
    def append(self, **row) -> None:
        """Append one frame.

        Parameters
        ----------
        **row : array_like
            Every field of :data:`FRAME_FIELDS` (``t`` in seconds, ``points`` in pixels, ...),
            one frame's value each, in the field's shape.
        """
        k = self._k
        for name, buf in self._buf.items():
            buf[k] = row[name]
        self._k += 1
        if self._k == self.block_frames:
            self._spill()

    def extend(self, arrays: dict[str, np.ndarray]) -> None:
        """Append a block of frames.

        Parameters
        ----------
        arrays : dict of str to ndarray
            Every field of :data:`FRAME_FIELDS`, the same number of frames each.
        """
        n = len(arrays["t"])
        done = 0
        while done < n:
            take = min(n - done, self.block_frames - self._k)
            for name, buf in self._buf.items():
                buf[self._k : self._k + take] = arrays[name][done : done + take]
            self._k += take
            done += take
            if self._k == self.block_frames:
                self._spill()

    def _open_files(self) -> dict[str, object]:
        if self._files is None:
            d = str(self.spool_dir) if self.spool_dir is not None else None
            if self.keep_files:
                assert self.spool_dir is not None
                # created exclusively (never an existing file, nor through a planted link)
                self._files = {
                    k: open(self.spool_dir / f"{self.prefix}.{k}.bin", "x+b") for k in self._buf
                }
            else:
                self._files = {k: tempfile.TemporaryFile(dir=d) for k in self._buf}
        return self._files

    def _spill(self) -> None:
        if self._k == 0:
            return
        files = self._open_files()
        for name, buf in self._buf.items():
            files[name].write(buf[: self._k].data)
        self._spilled += self._k
        self._k = 0

    # -- reading ---------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Hand out the fields as arrays (call once, when every frame is in).

        In memory when everything fitted in one block; otherwise arrays over shared memory
        maps of the (unlinked) spool files, whose descriptors are closed here (the maps keep
        the data): reading them reads the files, writing to them writes the files.

        Returns
        -------
        dict of str to ndarray
            Each field of :data:`FRAME_FIELDS`, shape ``(len(self), *field shape)``.
        """
        if self._closed:
            raise RuntimeError("FrameStore.arrays() was already called")
        self._closed = True
        if self._files is None:
            out = {name: buf[: self._k].copy() for name, buf in self._buf.items()}
            self._buf = {}
            return out
        self._spill()
        self._buf = {}
        n = self._spilled
        out = {}
        for name, f in self._files.items():
            shape, dtype = FRAME_FIELDS[name]
            f.flush()
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)
            out[name] = np.frombuffer(mm, dtype=dtype, count=n * int(np.prod(shape, dtype=int)))
            out[name] = out[name].reshape((n, *shape))
            f.close()
        self._files = None
        return out

    def files(self) -> dict[str, str]:
        """Write everything out and give the kept spool files' paths (``keep_files`` only).

        Returns
        -------
        dict of str to str
            Field name -> path; read them with :func:`arrays_from_files`.
        """
        if not self.keep_files:
            raise RuntimeError("the spool files are unlinked (keep_files=False)")
        self._spill()
        files = self._open_files()
        for f in files.values():
            f.flush()
        return {k: f.name for k, f in files.items()}

    def close(self) -> None:
        """Close the spool files (unlinked ones vanish; kept ones stay on disk)."""
        if self._files is not None:
            for f in self._files.values():
                f.close()
            self._files = None
        self._buf = {}
        self._closed = True


def arrays_from_files(files: dict[str, str], n: int) -> dict[str, np.ndarray]:
    """Map the spool files a :class:`FrameStore` with ``keep_files`` wrote, read-only.

    Parameters
    ----------
    files : dict of str to str
        Field name -> path, from :meth:`FrameStore.files`.
    n : int
        Frames in them.

    Returns
    -------
    dict of str to ndarray
        The fields; the files may be deleted afterwards (the maps keep the data, POSIX).
    """
    out = {}
    for name, path in files.items():
        shape, dtype = FRAME_FIELDS[name]
        if n == 0:
            out[name] = np.empty((0, *shape), dtype)
            continue
        with open(path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        count = n * int(np.prod(shape, dtype=int))
        out[name] = np.frombuffer(mm, dtype=dtype, count=count).reshape((n, *shape))
    return out


def _mapping(arr: np.ndarray) -> mmap.mmap | None:
    """Return the memory map under ``arr`` (through its chain of bases), if any."""
    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return None


def row_blocks(arr: np.ndarray, rows: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Yield ``arr`` in blocks of rows, letting go of a memory map's pages after each.

    For an array over a memory map, each block's pages are released (``madvise``) once the
    next block is asked for, so the process never maps all of it; the data stays in the page
    cache and the file.

    Parameters
    ----------
    arr : ndarray
        Any array; its first axis is cut.
    rows : int
        Rows per block.

    Yields
    ------
    ndarray
        C-contiguous blocks of ``arr`` (views where possible: use each before the next).
    """
    for a in range(0, len(arr), rows):
        block = np.ascontiguousarray(arr[a : a + rows])
        yield block
        if np.shares_memory(block, arr):
            pages_release(block)


def pages_release(arr: np.ndarray) -> None:
    """Let go of the pages of a memory map that the contiguous array ``arr`` lies on.

    ``madvise(MADV_DONTNEED)`` on the mapped range under ``arr`` (the data stays in the page
    cache and the file; a later read maps it again). Nothing happens for an array that is not
    over a memory map, or that is not contiguous.
    """
    mm = _mapping(arr)
    if (mm is None or not arr.size or not arr.flags.c_contiguous
            or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED")):  # fmt: skip
        return
    start = np.frombuffer(mm, np.uint8).ctypes.data
    lo = arr.ctypes.data - start
    hi = lo + arr.nbytes
    lo -= lo % mmap.PAGESIZE
    mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
