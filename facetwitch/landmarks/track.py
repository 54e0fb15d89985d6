"""LandmarkTrack: the plain data that leaves ``facetwitch.landmarks``.

Saved as ``.npz`` whose array keys are the field names (``t``, ``points``, ``blendshapes``,
``pose``, ``found``, ...), so any numpy user can read a track without facetwitch; exported as a
wide per-frame CSV (``frame, timestamp_s, found, x_0, y_0, z_0, ...``) as OpenFace users know.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from .._files import write_atomically
from .._text import json_text_clean, path_info_clean
from .._validate import check_path, json_checked
from ..errors import InputError
from ..regions import REGION_KEYS, region_key_name

N_LANDMARKS = 478

#: MediaPipe's 52 blendshape names, in the model's output order.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip

#: Names of the ``region_flow`` columns, in order (``upper_lip_left``, ...).
REGION_FLOW_NAMES: tuple[str, ...] = tuple(region_key_name(r, s) for r, s in REGION_KEYS)

_ARRAY_FIELDS = ("t", "points", "blendshapes", "pose", "found", "n_faces", "region_flow",
                 "rigid_flow", "outline_flow")  # fmt: skip
#: Per-frame arrays that tracks saved by earlier versions lack (read as NaN).
_NEWER_FIELDS = ("outline_flow",)
#: Optional arrays: the sound's voice activity (absent from tracks of files without sound, and
#: from tracks saved before facetwitch read sound).
_VOICE_FIELDS = ("voice_t", "voice_active")


# eq=False: the generated __eq__ compared arrays (ValueError "the truth value of an array ...
# is ambiguous" for track == other, track in a list) and left the class unhashable; a track is
# equal to itself only, and hashable by identity (a dict key, a cache)
@dataclass(frozen=True, eq=False)
class LandmarkTrack:
    """Per-frame face landmarks of one video (one face followed through it).

    Two tracks are equal only if they are the same object (compare their arrays with numpy).

    Attributes
    ----------
    t : ndarray, shape (n,)
        Seconds from the first decoded frame, from the frames' presentation timestamps.
    points : ndarray, shape (n, 478, 3)
        Landmarks in pixels of the upright frame (x right, y down; z in MediaPipe's scale,
        multiplied by the frame width so that it is in pixels too). NaN where not found.
    blendshapes : ndarray, shape (n, 52)
        MediaPipe blendshape scores in [0, 1], columns named by ``blendshape_names``.
    pose : ndarray, shape (n, 4, 4)
        MediaPipe's facial transformation matrix (canonical face -> camera, cm).
    found : ndarray of bool, shape (n,)
        Whether the face was found in the frame.
    n_faces : ndarray of int, shape (n,)
        How many faces the model saw in the frame (the track follows one of them).
    region_flow : ndarray, shape (n, R, 2)
        Pixel motion of each region (``region_flow_names``) from the previous frame to this
        one, in pixels of the upright frame (x right, y down), with the motion that the rigid
        face (forehead, nose bridge) predicts at the region removed. Row 0 and rows after a
        frame without a face are NaN.
    rigid_flow : ndarray, shape (n, 6)
        The 2x3 affine (row-major) fitted to the rigid regions' flow from the previous frame.
    outline_flow : ndarray, shape (n,)
        Motion just outside the face's outline from the previous frame (where a hand comes
        from: :data:`facetwitch.landmarks.flow.OUTLINE_BAND`), in pixels of the upright frame.
        NaN where ``region_flow`` is, and in tracks made before it was measured (None given:
        all NaN).
    info : dict
        The video's metadata (:class:`~facetwitch.landmarks.video.VideoInfo` as a dict) and how
        the track was made (running mode, model sha256, facetwitch version). ``info["audio"]``:
        the sound's ``codec``, ``source_rate_hz``, ``channels``, ``t0_s``, ``duration_s``,
        ``gaps_s`` and ``gap_ranges_s`` (missing or damaged stretches, read as silence) and the
        voice-activity ``method`` and settings, or None when the file has no sound (absent
        in tracks made before facetwitch read sound).
    voice_t : ndarray of float, shape (m,), or None
        Start of each 10 ms voice-activity frame, in seconds on the same clock as ``t``
        (:func:`facetwitch.signal.voice.voice_activity`); covers only the time the file has
        sound (``info["audio"]["t0_s"]`` to ``t0_s + duration_s``). None without sound.
    voice_active : ndarray of bool, shape (m,), or None
        Whether each frame of ``voice_t`` is voiced (speech). None without sound. Spans:
        :func:`facetwitch.signal.voice.voiced_spans` ``(voice_t, voice_active)``.
    """

    t: np.ndarray
    points: np.ndarray
    blendshapes: np.ndarray
    pose: np.ndarray
    found: np.ndarray
    n_faces: np.ndarray
    region_flow: np.ndarray
    rigid_flow: np.ndarray
    info: dict = field(default_factory=dict)
    blendshape_names: tuple[str, ...] = BLENDSHAPE_NAMES
    region_flow_names: tuple[str, ...] = REGION_FLOW_NAMES
    voice_t: np.ndarray | None = None
    voice_active: np.ndarray | None = None
    outline_flow: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.t)
        if self.outline_flow is None:
            object.__setattr__(self, "outline_flow", np.full(n, np.nan))
        expect = {
            "t": (n,), "points": (n, N_LANDMARKS, 3),
            "blendshapes": (n, len(self.blendshape_names)),
            "pose": (n, 4, 4), "found": (n,), "n_faces": (n,),
            "region_flow": (n, len(self.region_flow_names), 2), "rigid_flow": (n, 6),
            "outline_flow": (n,),
        }  # fmt: skip
        for name, shape in expect.items():
            arr = getattr(self, name)
            if tuple(np.shape(arr)) != shape:
                raise ValueError(
                    f"LandmarkTrack.{name} must have shape {shape}, got {np.shape(arr)}"
                )
        if not np.all(np.isfinite(self.t)):
            raise ValueError(
                "LandmarkTrack.t must be finite times in seconds (it holds inf or NaN)"
            )
        if n > 1 and not np.all(np.diff(self.t) > 0):
            raise ValueError("LandmarkTrack.t must be strictly increasing")
        if (self.voice_t is None) != (self.voice_active is None):
            raise ValueError("LandmarkTrack.voice_t and voice_active come together (or neither)")
        if self.voice_t is not None:
            vt, va = np.shape(self.voice_t), np.shape(self.voice_active)
            if len(vt) != 1 or vt != va:
                raise ValueError(
                    f"LandmarkTrack.voice_t and voice_active must be one-dimensional and of one "
                    f"length, got {vt} and {va}"
                )
            if vt[0] > 1 and not np.all(np.diff(self.voice_t) > 0):
                raise ValueError("LandmarkTrack.voice_t must be strictly increasing")

    def __repr__(self) -> str:
        # the arrays' own repr ran to 20,000 characters for a 15 s video
        dur = float(self.t[-1] - self.t[0]) if len(self) else 0.0
        path = self.info.get("path")
        where = f", path={Path(str(path)).name!r}" if path else ""
        return (f"LandmarkTrack({len(self)} frames, {dur:.1f} s, face in "
                f"{self.found_fraction:.0%}{where})")  # fmt: skip

    @property
    def has_voice(self) -> bool:
        """True when the track holds the sound's voice activity."""
        return self.voice_t is not None

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls, n: int = 0, info: dict | None = None) -> LandmarkTrack:
        """Return a track of ``n`` frames with nothing found.

        A track of ``n`` frames with nothing found (t = 0, 1/30, ...).
        """
        nan = np.nan
        return cls(
            t=np.arange(n) / 30.0,
            points=np.full((n, N_LANDMARKS, 3), nan),
            blendshapes=np.full((n, len(BLENDSHAPE_NAMES)), nan),
            pose=np.full((n, 4, 4), nan),
            found=np.zeros(n, bool),
            n_faces=np.zeros(n, np.int16),
            region_flow=np.full((n, len(REGION_FLOW_NAMES), 2), nan),
            rigid_flow=np.full((n, 6), nan),
            info=dict(info or {}),
        )

    @property
    def found_fraction(self) -> float:
        """Fraction of frames with a face (0 for an empty track)."""
        return float(np.mean(self.found)) if len(self) else 0.0

    def frames(self, start: int, stop: int) -> LandmarkTrack:
        """Return frames ``start:stop`` of this track, as views of its arrays (nothing copied).

        ``t`` keeps its times (the first frame of the slice is not moved to 0), and the sound's
        voice activity is kept whole: both are on the video's clock.
        """
        return replace(self, **{name: getattr(self, name)[start:stop] for name in _ARRAY_FIELDS})

    def pages_release(self) -> None:
        """Let go of the pages of the memory maps this track's arrays lie on (if any).

        The arrays stay usable (a later read maps the data again from the page cache or the
        spool file); a track in memory is left as it is. See
        :func:`~facetwitch.landmarks.store.pages_release`.
        """
        from .store import pages_release

        for name in _ARRAY_FIELDS:
            pages_release(np.asarray(getattr(self, name)))

    def with_info(self, **updates) -> LandmarkTrack:
        """Return a copy with ``updates`` merged into ``info``.

        A copy whose ``info`` dict has ``updates`` merged in.
        """
        return replace(self, info={**self.info, **updates})

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the track to ``path`` (``.npz``), atomically (temporary file + rename)."""
        path = Path(check_path("path", path, "the .npz file to write"))
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        arrays = {name: np.asarray(getattr(self, name)) for name in _ARRAY_FIELDS}
        if self.voice_t is not None:
            arrays["voice_t"] = np.asarray(self.voice_t, dtype=float)
            arrays["voice_active"] = np.asarray(self.voice_active)
        # landmarks at float32 precision (as tracked) are stored as float32, losslessly: a
        # 30 min track 405 -> ~300 MB, saved in ~12 s instead of 85 s (benchmarks/long.py).
        # Checked and written block by block: a long track (possibly over a memory map,
        # landmarks.store) is never copied whole.
        dtypes = {name: arr.dtype for name, arr in arrays.items()}
        if _float32_lossless(arrays["points"]):
            dtypes["points"] = np.dtype(np.float32)
        small = {
            "blendshape_names": np.array(self.blendshape_names),
            "region_flow_names": np.array(self.region_flow_names),
            # valid Unicode for any reader; a path that is not UTF-8 keeps its bytes in
            # path_bytes_hex (facetwitch._text)
            "info_json": np.array(
                json.dumps(json_text_clean(path_info_clean(self.info)), default=_json_default)
            ),
        }

        def write(tmp: Path) -> None:
            # what np.savez_compressed writes (a deflated zip of .npy members), streamed
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                                 allowZip64=True) as zf:  # fmt: skip
                for name, arr in arrays.items():
                    _npy_member_write(zf, name, arr, dtypes[name])
                for name, arr in small.items():
                    with zf.open(name + ".npy", "w", force_zip64=True) as fp:
                        np.lib.format.write_array(fp, arr, allow_pickle=False)

        return write_atomically(path, write, suffix=".tmp.npz")  # an .npz name, as np.load likes

    @classmethod
    def load(cls, path: str | os.PathLike) -> LandmarkTrack:
        """Read a track written by :meth:`save`.

        Anything that is not such a track (missing, empty, cut short, altered, another kind of
        file, arrays of the wrong shape) raises :class:`InputError` naming the file: it is the
        user's input, so never a traceback nor an "internal error".
        """
        path = Path(check_path("path", path, "a saved track.npz"))
        _npz_check(path)
        try:
            # the file is opened here, not by np.load: np.load leaves its own file open when
            # the archive turns out to be damaged
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
                kwargs = {name: _member_read(z, name, as_float64=name == "points")
                          for name in _ARRAY_FIELDS
                          if name not in _NEWER_FIELDS or name in z.files}  # fmt: skip
                kwargs["blendshape_names"] = tuple(str(s) for s in z["blendshape_names"])
                kwargs["region_flow_names"] = tuple(str(s) for s in z["region_flow_names"])
                kwargs["info"] = json_checked(str(z["info_json"]))
                if all(name in z.files for name in _VOICE_FIELDS):
                    kwargs.update({name: z[name] for name in _VOICE_FIELDS})
        except KeyError as exc:
            raise InputError(f"{path}: not a facetwitch track ({exc})") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or _short(exc)})") from None
        except (EOFError, zipfile.BadZipFile, zlib.error) as exc:
            # a zip archive that ends early or whose bytes changed (CRC): a copy cut short.
            # zipfile says "File is not a zip file" when the archive's directory, at its end, is
            # missing; the file did start as one (_npz_check)
            reason = _short(exc)
            if reason == "File is not a zip file":
                reason = "the end of its zip archive is missing"
            raise InputError(
                f"{path}: a damaged track ({reason}): the file was cut short or altered; "
                "copy it again, or analyse the video again"
            ) from None
        except (ValueError, TypeError) as exc:
            reason = ("it holds Python objects, not plain arrays" if "pickle" in str(exc)
                      else _short(exc))  # fmt: skip
            raise InputError(f"{path}: not a facetwitch track ({reason})") from None
        if not isinstance(kwargs["info"], dict):
            kind = type(kwargs["info"]).__name__
            raise InputError(f"{path}: not a facetwitch track (info_json holds a {kind}, "
                             "not a JSON object)")  # fmt: skip
        try:
            kwargs["found"] = kwargs["found"].astype(bool)
            # stored as float32 when that is lossless (save); computed on as float64
            if kwargs["points"].dtype != np.float64:
                kwargs["points"] = kwargs["points"].astype(float)
            if "voice_active" in kwargs and kwargs["voice_active"].dtype.kind not in "bf":
                raise ValueError("voice_active must be bool or a probability")
            return cls(**kwargs)
        except (ValueError, TypeError) as exc:  # shapes, order of t, dtypes
            raise InputError(f"{path}: not a valid facetwitch track ({_short(exc)})") from None

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write a wide per-frame CSV.

        Write a wide per-frame CSV: ``frame, timestamp_s, found, n_faces, x_0, y_0, z_0, ...
        x_477, y_477, z_477, <blendshape names>``; empty cells where the face was not found.
        """
        path = Path(check_path("path", path, "the .csv file to write"))
        return write_atomically(path, self._write_csv)

    def _write_csv(self, tmp: Path) -> None:
        header = ["frame", "timestamp_s", "found", "n_faces"]
        for i in range(N_LANDMARKS):
            header += [f"x_{i}", f"y_{i}", f"z_{i}"]
        header += list(self.blendshape_names)
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for k in range(len(self)):
                row = [k, f"{self.t[k]:.6f}", int(self.found[k]), int(self.n_faces[k])]
                if self.found[k]:
                    row += [f"{v:.3f}" for v in self.points[k].ravel()]
                    row += [f"{v:.5f}" for v in self.blendshapes[k]]
                else:
                    row += [""] * (N_LANDMARKS * 3 + len(self.blendshape_names))
                w.writerow(row)


#: The first bytes of an .npz (a zip archive) and of a single array saved as .npy.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


def _npz_check(path: Path) -> None:
    """Refuse a file that is not a zip archive.

    Refuse, in plain words, what is not even a zip archive (before numpy reads it: numpy
    takes any other file for a pickle, and its message advises ``allow_pickle``).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a track file")
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    if head.startswith(_NPY_MAGIC):
        raise InputError(
            f"{path}: not a facetwitch track (a single NumPy array, .npy; a track "
            "is the .npz written by 'facetwitch track' or 'facetwitch analyze')"
        )
    if not head.startswith(_ZIP_MAGIC):
        raise InputError(
            f"{path}: not a facetwitch track (a track is the .npz written by "
            "'facetwitch track' or 'facetwitch analyze')"
        )


def _short(exc: BaseException) -> str:
    """Return an exception's message on one short line.

    An exception's message on one short line.
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _float32_lossless(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds float32 values only (NaN included), checked block by block."""
    from .store import row_blocks

    if arr.dtype == np.float32:
        return True
    if arr.dtype != np.float64:
        return False
    return all(
        np.array_equal(b.astype(np.float32).astype(np.float64), b, equal_nan=True)
        for b in row_blocks(arr)
    )


def _npy_member_write(zf: zipfile.ZipFile, name: str, arr: np.ndarray, dtype: np.dtype) -> None:
    """``arr`` as ``name.npy`` (converted to ``dtype``) in the zip ``zf``, block by block."""
    from .store import row_blocks

    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(arr.shape)}  # fmt: skip
    with zf.open(name + ".npy", "w", force_zip64=True) as fp:
        np.lib.format.write_array_header_1_0(fp, header)
        if arr.ndim == 0:
            fp.write(np.asarray(arr, dtype).tobytes())
            return
        for block in row_blocks(arr):
            fp.write(block.astype(dtype, copy=False).tobytes())


def track_fields() -> tuple[str, ...]:
    """Names of the LandmarkTrack fields (for docs and tests)."""
    return tuple(f.name for f in fields(LandmarkTrack))


#: Saved tracks of more frames than this are read into a spool file, not into memory
#: (:func:`_member_read`); 4096 frames are 2.3 min at 30 fps, 47 MB of landmarks.
LOAD_SPOOL_FRAMES = 4096


def _member_read(z, name: str, as_float64: bool = False) -> np.ndarray:
    """Read one per-frame array of an open track archive.

    A long track's arrays (more than :data:`LOAD_SPOOL_FRAMES` frames) are read block by
    block into an unlinked file in the temporary directory and handed out over a memory map
    of it, as the tracker hands them out (:class:`~facetwitch.landmarks.store.FrameStore`):
    ``np.load`` would hold them whole in memory (the landmarks as stored float32 and their
    float64 copy at once: 1.9 GB for an hour at 30 fps; the other arrays about 95 MB an hour).
    ``as_float64``: converted to float64 (the landmarks; float32 to float64 is exact). The
    values are the same either way.
    """
    import mmap
    import tempfile

    from .store import BLOCK_FRAMES

    fmt = np.lib.format
    with z.zip.open(f"{name}.npy") as m:
        version = fmt.read_magic(m)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = read_header(m)
        if (fortran or not shape or shape[0] <= LOAD_SPOOL_FRAMES or dtype.kind not in "biuf"
                or dtype.byteorder not in "<|="):  # fmt: skip
            return z[name]
        out = np.dtype(np.float64) if as_float64 else dtype
        n, row = shape[0], int(np.prod(shape[1:]))
        with tempfile.TemporaryFile() as spool:
            for a in range(0, n, BLOCK_FRAMES):
                k = min(BLOCK_FRAMES, n - a)
                data = m.read(k * row * dtype.itemsize)
                if len(data) != k * row * dtype.itemsize:
                    raise EOFError(f"{name}.npy ends early")
                with np.errstate(all="ignore"):  # damaged bytes are found by the CRC, below
                    spool.write(np.frombuffer(data, dtype).astype(out).data)
            if m.read(1):  # (reading to the end also checks the member's CRC)
                raise ValueError(f"{name}.npy holds more than its header says")
            spool.flush()
            if spool.tell() == 0:
                return z[name]
            mm = mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_WRITE)
    return np.frombuffer(mm, out, count=n * row).reshape(shape)
