"""Write frames to disk as they are captured, so that nothing recorded lives only in memory.

The video goes into Matroska (``.mkv``) through PyAV: H.264 (libx264, ``ultrafast``,
``zerolatency`` so that every frame leaves the encoder at once, CRF :data:`RECORD_CRF`), or
Motion JPEG where libx264 is missing. Each frame's PTS is its capture timestamp in
milliseconds (Matroska's time base, 1/1000 s); the exact float timestamps are in the sidecar.

Why the file survives ``kill -9``: Matroska needs no index to be read (its clusters carry their
own timestamps, and the cues written at close are optional), and two muxer options make FFmpeg
put the bytes on disk while recording: ``cluster_time_limit`` closes a cluster every
:data:`CLUSTER_MS` ms (the muxer holds the open cluster in memory), and ``flush_packets``
hands each write to the operating system at once. Measured here: without both options a
3-s recording killed with SIGKILL left an empty or unreadable file; with them all frames but
those of the last open cluster (at most :data:`CLUSTER_MS` ms) decode.

Files, for a recording named ``<name>`` in ``out_dir``:

- ``<name>.mkv``: the video, unmirrored (as the camera sees the patient), and, when a sound
  source is given, its sound as a second stream (16-bit PCM, mono; each block placed at its
  capture time, so sound and picture stay together over an hour);
- ``<name>.timestamps.csv``: ``frame,t_s,pts_ms``: one row per frame, flushed per frame;
- ``<name>.markers.json``: the patient's "I felt one now" marks (rewritten atomically at each);
- ``<name>.session.json``: what was recorded (source, size, frames, how it ended), written at
  the start (``"status": "recording"``) and rewritten at the end: ``"complete"``, or
  ``"cut_short"`` when a write failed (a full disk) and the file holds what was written before.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .._files import create_exclusive, write_atomic
from ..errors import OutputError
from .source import CapturedFrame

logger = logging.getLogger("facetwitch")

#: Longest stretch (ms) the Matroska muxer holds in memory before writing it out.
CLUSTER_MS = 200
#: Longest time (microseconds) the muxer holds one stream's packets waiting for the other's
#: (FFmpeg's default is 10 s: a microphone that stops would keep 10 s of video off the disk).
MAX_INTERLEAVE_US = 500_000
#: A block of sound arriving within this many seconds of where the previous one ended is
#: written right after it (clock jitter); a larger jump is a real gap or overlap.
AUDIO_JITTER_S = 0.02
#: Refuse to start recording with less free disk space than this (MB).
MIN_FREE_START_MB = 200.0
#: Stop recording (cleanly, with a warning) when free space falls under this (MB).
MIN_FREE_MB = 100.0
#: How often (s of recording) free disk space is checked while recording.
FREE_CHECK_INTERVAL_S = 1.0
#: libx264 settings of a recording: every frame leaves the encoder at once (no lookahead, no
#: B-frames), a keyframe every 2 s.
X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "g": "60"}
#: libx264 quality of a recording (lower is better, and larger). Measured with these settings
#: by benchmarks/encoding.py (4 clips, 71 injected 1-3 mm twitches, 72 s clean; and 40 s more
#: clean): at CRF 18, "visually lossless", the encoder's artefacts on still faces gave 5.9
#: false twitches a minute and precision 0.82; at 14, 3.3 a minute and 0.94; at 12, none in
#: 112 s, precision 0.98, amplitudes at 0.98 of a lossless copy's; 10.6 Mbit/s on the real
#: 640x480 clip (3.6 at 18), encoded at 311 frames/s on 2 cores.
RECORD_CRF = 12

_TIME_BASE = Fraction(1, 1000)


def disk_free_mb(path: str | os.PathLike) -> float:
    """Free space (MB, 10^6 bytes) on the file system holding ``path`` (or its nearest parent)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free / 1e6


def _write_json_atomic(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path``: atomically, else (a full disk) over the file there.

    On a full disk a new file has no room, and a sidecar left as it was would say "recording"
    for ever; truncating the existing one frees its space for the new text. A sidecar that
    does not exist yet is not created so.
    """
    text = (json.dumps(data, indent=2) + "\n").encode("utf-8")
    try:
        write_atomic(path, text)
    except OutputError as first:
        flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            raise first from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


class Recorder:
    """Crash-safe recorder: ``open()``, ``write(frame)`` per captured frame, ``close()``.

    Parameters
    ----------
    out_dir : path
        Directory for the files (created if missing).
    name : str
        Stem of the files (``<name>.mkv`` ...). An existing ``<name>.mkv`` or
        ``<name>.timestamps.csv`` is an :class:`~facetwitch.errors.OutputError` (recordings
        are never overwritten); both are created as new files, never through a link.
    width, height : int
        Frame size (odd sizes lose their last row/column: H.264 4:2:0 needs even sizes).
    codec : {"libx264", "mjpeg"}
        Video codec; falls back to ``mjpeg`` when FFmpeg lacks libx264.
    crf : int
        libx264 quality (lower is better, and larger); see :data:`RECORD_CRF`.
    min_free_start_mb, min_free_mb : float
        Free-space thresholds: refuse to start below the first; set :attr:`disk_low` when free
        space falls below the second while recording.
    metadata : dict, optional
        Extra fields for ``<name>.session.json`` (source info, ...).
    audio_rate_hz : int, optional
        Also record sound (:meth:`write_audio`), mono at this rate, into the same file.
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        *,
        name: str = "recording",
        width: int,
        height: int,
        codec: str = "libx264",
        crf: int = RECORD_CRF,
        min_free_start_mb: float = MIN_FREE_START_MB,
        min_free_mb: float = MIN_FREE_MB,
        metadata: dict | None = None,
        audio_rate_hz: int | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.name = name
        self.width = int(width) // 2 * 2
        self.height = int(height) // 2 * 2
        if self.width < 2 or self.height < 2:
            raise ValueError(f"frame size {width}x{height} is too small to record")
        self.codec = codec if codec in av.codecs_available else "mjpeg"
        self.crf = int(crf)
        self.min_free_start_mb = float(min_free_start_mb)
        self.min_free_mb = float(min_free_mb)
        self.metadata = dict(metadata or {})
        self.video_path = self.out_dir / f"{name}.mkv"
        self.timestamps_path = self.out_dir / f"{name}.timestamps.csv"
        self.markers_path = self.out_dir / f"{name}.markers.json"
        self.session_path = self.out_dir / f"{name}.session.json"
        self.frames = 0
        self.last_t_s: float | None = None
        self.markers: list[dict] = []
        self.disk_low = False
        self.free_mb: float | None = None
        #: The first write that failed (a full disk, a drive gone), as one line; None if none.
        self.write_error: str | None = None
        self._container = None
        self._stream = None
        self._csv_file = None
        self._csv = None
        self._last_pts = -1
        self._next_free_check_s = 0.0
        self._started_wall: str | None = None
        self.audio_rate_hz = int(audio_rate_hz) if audio_rate_hz else None
        self._audio = None
        self._audio_next: int | None = None  # sample index (pts) the next block would start at
        self.audio_samples = 0
        self.audio_gaps_s = 0.0

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> Recorder:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        """Check free space, create the files, write the headers."""
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.out_dir}: cannot create the directory ({exc})") from None
        if not os.access(self.out_dir, os.W_OK):
            raise OutputError(f"{self.out_dir}: not writable")
        for path in (self.video_path, self.timestamps_path):
            if os.path.lexists(path):  # a link to nothing too: never written through
                raise OutputError(
                    f"{path}: exists already (recordings are never overwritten; "
                    "choose another output directory)"
                )
        self.free_mb = disk_free_mb(self.out_dir)
        if self.free_mb < self.min_free_start_mb:
            raise OutputError(
                f"{self.out_dir}: only {self.free_mb:.0f} MB free; recording needs at least "
                f"{self.min_free_start_mb:.0f} MB (about 40 MB per minute at 640x360)"
            )
        try:
            # Both made as new files first (O_EXCL: never through a planted link); PyAV then
            # opens the new video file by its name.
            os.close(create_exclusive(self.video_path))
            self._csv_file = open(create_exclusive(self.timestamps_path), "w", newline="",
                                  encoding="utf-8")  # fmt: skip
            self._open_video()
        except (OSError, av.error.FFmpegError, OutputError) as exc:
            self._abort()
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"{self.video_path}: cannot be written ({exc})") from None
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["frame", "t_s", "pts_ms"])
        self._csv_file.flush()
        _write_json_atomic(self.markers_path, self._markers_doc())
        self._started_wall = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.write_session({"status": "recording"})
        logger.info("recording to %s (%s)", self.video_path, self.codec)

    def _open_video(self) -> None:
        container = av.open(
            str(self.video_path),
            mode="w",
            format="matroska",
            options={"cluster_time_limit": str(CLUSTER_MS), "flush_packets": "1",
                     "max_interleave_delta": str(MAX_INTERLEAVE_US)},
        )  # fmt: skip
        if self.codec == "libx264":
            stream = container.add_stream(
                "libx264",
                rate=30,
                options={**X264_OPTIONS, "crf": str(self.crf)},
            )
            stream.pix_fmt = "yuv420p"
        else:
            stream = container.add_stream("mjpeg", rate=30)
            stream.pix_fmt = "yuvj420p"
            stream.codec_context.qmin = 2
            stream.codec_context.qmax = 4
        stream.width, stream.height = self.width, self.height
        stream.time_base = _TIME_BASE
        stream.codec_context.time_base = _TIME_BASE
        if self.audio_rate_hz:
            audio = container.add_stream("pcm_s16le", rate=self.audio_rate_hz, layout="mono")
            audio.time_base = Fraction(1, self.audio_rate_hz)
            audio.codec_context.time_base = Fraction(1, self.audio_rate_hz)
            self._audio = audio
        self._container, self._stream = container, stream

    # -- writing -----------------------------------------------------------------------------
    def write(self, frame: CapturedFrame) -> None:
        """Encode ``frame`` and put it on disk now (its PTS = its capture time in ms)."""
        if self._container is None:
            raise RuntimeError("the recorder is not open")
        rgb = frame.rgb
        if rgb.shape[0] != self.height or rgb.shape[1] != self.width:
            if rgb.shape[0] < self.height or rgb.shape[1] < self.width:
                raise ValueError(
                    f"frame {frame.index} is {rgb.shape[1]}x{rgb.shape[0]}, the recording "
                    f"{self.width}x{self.height}"
                )
            rgb = rgb[: self.height, : self.width]
        pts = int(round(frame.t_s * 1000.0))
        if pts <= self._last_pts:  # two frames in the same millisecond
            pts = self._last_pts + 1
        self._last_pts = pts
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        vf.pts = pts
        vf.time_base = _TIME_BASE
        try:
            for packet in self._stream.encode(vf):
                self._container.mux(packet)
        except (OSError, av.error.FFmpegError) as exc:
            raise self._failed(self.video_path, exc) from None
        try:
            self._csv.writerow([self.frames, f"{frame.t_s:.6f}", pts])
            self._csv_file.flush()
        except OSError as exc:
            raise self._failed(self.timestamps_path, exc) from None
        self.frames += 1
        self.last_t_s = float(frame.t_s)
        if frame.t_s >= self._next_free_check_s:
            self._next_free_check_s = frame.t_s + FREE_CHECK_INTERVAL_S
            self.free_mb = disk_free_mb(self.out_dir)
            if self.free_mb < self.min_free_mb:
                self.disk_low = True

    def write_audio(self, block) -> None:
        """Put a block of sound into the file, now.

        Put a block of sound (:class:`~facetwitch.capture.audio.AudioBlock`: mono int16 samples,
        ``t_s`` of the first) into the file, now.

        Sound before the first video frame (t < 0) is dropped; a block that starts within
        :data:`AUDIO_JITTER_S` of where the previous one ended follows it directly; one that
        overlaps more loses its overlap; a later one leaves a gap (players and facetwitch's
        reader fill it with silence).
        """
        if self._container is None:
            raise RuntimeError("the recorder is not open")
        if self._audio is None:
            raise RuntimeError("the recorder was opened without sound (audio_rate_hz)")
        rate = self.audio_rate_hz
        samples = np.asarray(block.samples, dtype=np.int16).reshape(-1)
        start = int(round(block.t_s * rate))
        if self._audio_next is not None:
            jump = start - self._audio_next
            if abs(jump) <= AUDIO_JITTER_S * rate or jump < 0:
                if jump < -AUDIO_JITTER_S * rate:  # overlap: drop what was already written
                    samples = samples[self._audio_next - start :]
                start = self._audio_next
            else:
                self.audio_gaps_s += jump / rate
        if start < 0:  # before the first video frame
            samples, start = samples[-start:], 0
        if not len(samples):
            return
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, :]), format="s16",
                                        layout="mono")  # fmt: skip
        af.sample_rate = rate
        af.pts = start
        af.time_base = Fraction(1, rate)  # (the muxer turns the stream's into 1/1000 s)
        try:
            for packet in self._audio.encode(af):
                self._container.mux(packet)
        except (OSError, av.error.FFmpegError) as exc:
            raise self._failed(self.video_path, exc, "writing sound") from None
        self._audio_next = start + len(samples)
        self.audio_samples += len(samples)

    def _failed(self, path: Path, exc: BaseException, what: str = "writing") -> OutputError:
        """Remember the first failed write (:attr:`write_error`); the error to raise."""
        reason = getattr(exc, "strerror", None) or str(exc)
        error = OutputError(f"{path}: {what} failed ({reason})")
        if self.write_error is None:
            self.write_error = str(error)
        return error

    def frames_on_disk(self) -> tuple[int, float | None]:
        """Count the video frames the closed file holds, and the last one's time (s).

        After a failed write the muxer's last cluster (up to :data:`CLUSTER_MS` ms) and the
        frame that failed are not in the file, though they were counted as they were written:
        the packets are read back (no decoding) so that what is said kept is what is there.
        """
        frames, last = 0, None
        try:
            with av.open(str(self.video_path)) as container:
                stream = container.streams.video[0]
                for packet in container.demux(stream):
                    if packet.size and packet.pts is not None:
                        frames += 1
                        last = float(packet.pts * packet.time_base)
        except (OSError, av.error.FFmpegError, IndexError) as exc:  # a cut end: what came first
            logger.debug("%s: read back up to frame %d (%s)", self.video_path, frames, exc)
        return frames, last

    def add_marker(self, t_s: float, label: str = "felt") -> dict:
        """Store a patient marker ("I felt one now") at ``t_s`` seconds of the recording."""
        marker = {"t_s": round(float(t_s), 6), "label": label}
        self.markers.append(marker)
        self.markers.sort(key=lambda m: m["t_s"])
        _write_json_atomic(self.markers_path, self._markers_doc())
        return marker

    def markers_write(self) -> None:
        """(Re)write ``<name>.markers.json`` with every marker (after a failed write)."""
        _write_json_atomic(self.markers_path, self._markers_doc())

    def _markers_doc(self) -> dict:
        return {
            "recording": self.video_path.name,
            "time": "seconds from the first frame of the recording",
            "markers": self.markers,
        }

    def write_session(self, fields: dict) -> None:
        """(Re)write ``<name>.session.json`` with the recorder's state and ``fields``."""
        doc = {
            "recording": self.video_path.name,
            "timestamps": self.timestamps_path.name,
            "markers": self.markers_path.name,
            "started": self._started_wall,
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "mirrored": False,
            "frames": self.frames,
            "duration_s": self.last_t_s,
            "marker_count": len(self.markers),
            "audio_s": round(self.audio_samples / self.audio_rate_hz, 3)
            if self.audio_rate_hz
            else None,
            **self.metadata,
            **fields,
        }
        _write_json_atomic(self.session_path, doc)

    # -- closing -----------------------------------------------------------------------------
    def close(self) -> None:
        """Flush the encoder, write the Matroska index, close the sidecars (idempotent)."""
        if self._container is not None:
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
                if self._audio is not None:
                    for packet in self._audio.encode(None):
                        self._container.mux(packet)
            except (OSError, av.error.FFmpegError) as exc:  # the file stays readable anyway
                self._close_problem("finishing the file", exc)
            finally:
                try:
                    self._container.close()
                except (OSError, av.error.FFmpegError) as exc:
                    self._close_problem("closing", exc)
                self._container = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None

    def _close_problem(self, what: str, exc: BaseException) -> None:
        # after a failed write (a full disk) these fail too: said once, by the write's error
        level = logging.DEBUG if self.write_error else logging.WARNING
        logger.log(level, "%s: %s failed (%s)", self.video_path, what, exc)

    def _abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except (OSError, av.error.FFmpegError):
                pass
            self._container = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None


def timestamps_read(path: str | os.PathLike) -> np.ndarray:
    """Return the capture timestamps (s) of a ``<name>.timestamps.csv`` sidecar, in frame order."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["t_s"]) for r in rows], dtype=float)


def recording_lost_ranges(video: str | os.PathLike, t_s) -> list[tuple[float, float]]:
    """Stretches of a facetwitch recording that its file lost, from its timestamps sidecar.

    ``<stem>.timestamps.csv`` beside ``video`` lists every frame written while recording (its
    ``pts_ms`` is the frame's time in the file). Damaged data in the middle of a Matroska file
    is often skipped by the demuxer without an error (it finds the next cluster), so the frames
    there are simply absent, and their time read as a jump ("a paused recording") or as frames
    "dropped by the camera": the sidecar says the camera gave them. Each run of listed frames
    absent between two present ones is returned as ``(t of the frame before, t of the frame
    after)``, in the file's time ``t_s`` (the decoded frames' times from the first); frames
    absent only at the end (a recording killed before its last cluster was written) are not.
    [] without a sidecar, or with one that is not this file's (most frames unmatched).
    """
    video = Path(video)
    sidecar = video.with_name(f"{video.stem}.timestamps.csv")
    t = np.asarray(t_s, float)
    if not sidecar.is_file() or t.size < 2:
        return []
    try:
        with open(sidecar, newline="", encoding="utf-8") as f:
            listed = np.array([int(r["pts_ms"]) for r in csv.DictReader(f)], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError, csv.Error):
        return []
    if listed.size < 2:
        return []
    listed.sort()
    have = np.round(t * 1000.0).astype(np.int64) + listed[0]  # the file's first frame: listed's
    idx = np.clip(np.searchsorted(have, listed), 1, have.size - 1)
    near = np.minimum(np.abs(have[idx] - listed), np.abs(have[idx - 1] - listed))
    present = near <= 1
    if present.sum() < 0.5 * t.size:  # another recording's sidecar, or a shifted start
        return []
    out = []
    last = np.flatnonzero(present)[-1]
    k = 0
    while k < last:
        if present[k]:
            k += 1
            continue
        j = k
        while not present[j]:
            j += 1
        if k > 0:  # between two present frames: (the one before, the one after)
            out.append(((listed[k - 1] - listed[0]) / 1000.0, (listed[j] - listed[0]) / 1000.0))
        k = j
    return out


def markers_read(path: str | os.PathLike) -> list[dict]:
    """Return the markers (``{"t_s", "label"}``) of a ``<name>.markers.json`` sidecar."""
    with open(path, encoding="utf-8") as f:
        return list(json.load(f)["markers"])
