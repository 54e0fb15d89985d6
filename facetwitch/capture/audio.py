"""Sound for a recording: the microphone, or a video file's own sound when a file plays the camera.

Both sit behind one small interface, :class:`AudioSource`: ``open()``, ``start(t0_monotonic)``
(called when the first video frame arrives: t = 0), ``read(until_s)`` (the blocks of sound
captured up to ``until_s`` seconds of the recording, as :class:`AudioBlock`) and ``close()``.
The recording loop reads them after each video frame and the
:class:`~facetwitch.capture.recorder.Recorder` writes them into the same Matroska file as the
video, as a second stream (16-bit PCM, mono): one file that every player plays with its sound,
that stays readable after ``kill -9`` like the video (measured: ``tests/test_capture_audio.py``),
and that ``facetwitch analyze`` reads the sound of without knowing it was recorded here.

- :class:`MicrophoneSource`: the default (or a chosen) input device through ``sounddevice``
  (PortAudio), an optional dependency (``pip install facetwitch[audio]``; on Linux PortAudio
  itself is the system package ``libportaudio2``). Each block is stamped with
  ``time.monotonic()`` less the driver's input latency (PortAudio's ADC time), and placed
  against the monotonic time of the first video frame. The camera's own delay (exposure and
  transfer, tens of milliseconds) is not known, so sound and picture agree to within that.
- :class:`FileAudioSource`: a video file's sound, on that file's clock, for
  ``record --camera FILE`` (so the whole path, microphone to analysis, runs without a device).

:func:`microphone_open` never raises for a missing device or library: it returns None and the
reason, and the recording goes on without sound, saying so on one line.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger("facetwitch")

#: Sample rate (Hz) sound is recorded at (what microphones deliver natively on most machines).
RECORD_RATE_HZ = 48000
#: Seconds of sound a microphone block holds (PortAudio's blocksize).
BLOCK_S = 0.05


@dataclass(frozen=True)
class AudioBlock:
    """Consecutive mono int16 samples, the first at ``t_s`` seconds of the recording.

    Consecutive mono samples (int16) whose first sample is at ``t_s`` seconds of the recording (t =
    0 at the first video frame; may be negative for sound captured before it).
    """

    t_s: float
    samples: np.ndarray


@runtime_checkable
class AudioSource(Protocol):
    """Anything sound can be recorded from."""

    rate_hz: int
    name: str

    def open(self) -> None:
        """Start capturing (before the first video frame, so that none of it lacks sound)."""
        ...

    def start(self, t0_monotonic: float) -> None:
        """Return the first video frame arrived at ``time.monotonic()`` = ``t0_monotonic``."""
        ...

    def read(self, until_s: float) -> list[AudioBlock]:
        """Return the blocks captured so far that start before ``until_s`` (s of the recording)."""
        ...

    def close(self) -> None:
        """Stop capturing (idempotent)."""
        ...

    @property
    def error(self) -> str | None:
        """Why the source stopped delivering sound mid-recording, or None."""
        ...


# --------------------------------------------------------------------------------------------
class FileAudioSource:
    """A video file's sound, delivered block by block as the file plays as the camera.

    Parameters
    ----------
    path : path
        The file :class:`~facetwitch.capture.source.FileSource` plays.
    rate_hz : int
        Sample rate to deliver (the file's sound is resampled to mono at this rate).
    """

    def __init__(self, path: str | os.PathLike, *, rate_hz: int = RECORD_RATE_HZ):
        self.path = Path(path)
        self.rate_hz = int(rate_hz)
        self.name = f"sound of {self.path.name}"
        self._reader = None
        self._it = None
        self._pending: AudioBlock | None = None
        self.error: str | None = None

    def open(self) -> None:
        """Open the source (see :class:`AudioSource`)."""
        from ..landmarks.audio import AudioReader

        self._reader = AudioReader(self.path, rate_hz=self.rate_hz)
        self._it = iter(self._reader)

    def start(self, t0_monotonic: float) -> None:
        """Nothing to do: the file's sound is on the file's own clock."""

    def read(self, until_s: float) -> list[AudioBlock]:
        """Return the blocks of sound up to ``until_s`` (see :class:`AudioSource`)."""
        out = []
        while self._it is not None:
            if self._pending is None:
                nxt = next(self._it, None)
                if nxt is None:
                    self._it = None
                    break
                self._pending = AudioBlock(float(nxt[0]), nxt[1])
            if self._pending.t_s >= until_s:
                break
            out.append(self._pending)
            self._pending = None
        return out

    def close(self) -> None:
        """Close the source (see :class:`AudioSource`)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._it = None


def file_audio_open(path: str | os.PathLike) -> tuple[FileAudioSource | None, str | None]:
    """Return a :class:`FileAudioSource` for ``path``, or None and why (the file has no sound)."""
    from ..landmarks.audio import AudioReader

    try:
        with AudioReader(path) as reader:
            has = reader.has_audio
    except Exception as exc:  # noqa: BLE001  (a file the video reader opened: say, not raise)
        return None, f"its sound cannot be read ({type(exc).__name__})"
    if not has:
        return None, f"{Path(path).name} has no sound"
    return FileAudioSource(path), None


# --------------------------------------------------------------------------------------------
class MicrophoneSource:
    """The microphone through ``sounddevice`` (PortAudio), mono int16 at ``rate_hz``.

    PortAudio calls back on its own thread with each block; the callback only stamps it and
    puts it on a queue (no I/O there), and :meth:`read` hands the blocks to the recording loop.

    Parameters
    ----------
    device : int or str, optional
        PortAudio input device (default: the system's default input).
    rate_hz : int
        Sample rate requested.
    """

    def __init__(self, device=None, *, rate_hz: int = RECORD_RATE_HZ):
        import sounddevice

        self._sd = sounddevice
        self.device = device
        self.rate_hz = int(rate_hz)
        info = sounddevice.query_devices(device, "input")
        self.name = str(info["name"])
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stream = None
        self._t0: float | None = None
        self._held: list[tuple[float, np.ndarray]] = []
        self.error: str | None = None
        self.overflows = 0

    def _callback(self, indata, frames, time_info, status) -> None:
        now = time.monotonic()
        try:  # the first sample's age: PortAudio's clock difference (s), else the block length
            age = float(time_info.currentTime - time_info.inputBufferAdcTime)
            if not 0.0 <= age < 1.0:
                raise ValueError
        except (AttributeError, ValueError):
            age = frames / self.rate_hz
        if status and status.input_overflow:
            self.overflows += 1
        self._queue.put((now - age, indata[:, 0].copy()))

    def open(self) -> None:
        """Open the source (see :class:`AudioSource`)."""
        sd = self._sd
        try:
            self._stream = sd.InputStream(
                samplerate=self.rate_hz, device=self.device, channels=1, dtype="int16",
                blocksize=int(BLOCK_S * self.rate_hz), callback=self._callback,
                finished_callback=self._finished,
            )  # fmt: skip
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream = None
            raise OSError(f"the microphone cannot be opened ({exc})") from None

    def _finished(self) -> None:
        if self._stream is not None and self.error is None and self._t0 is not None:
            self.error = "the microphone stopped delivering sound"

    def start(self, t0_monotonic: float) -> None:
        """Start the source, ``t0_monotonic`` being t = 0 (see :class:`AudioSource`)."""
        self._t0 = float(t0_monotonic)

    def read(self, until_s: float) -> list[AudioBlock]:
        """Return the blocks of sound up to ``until_s`` (see :class:`AudioSource`)."""
        if self._t0 is None:
            return []
        while True:
            try:
                self._held.append(self._queue.get_nowait())
            except queue.Empty:
                break
        out, keep = [], []
        for t_mono, samples in self._held:
            t = t_mono - self._t0
            (out if t < until_s else keep).append(AudioBlock(t, samples))
        self._held = keep
        return out

    def close(self) -> None:
        """Close the source (see :class:`AudioSource`)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except self._sd.PortAudioError as exc:
                logger.debug("closing the microphone: %s", exc)


def microphone_open(device=None) -> tuple[MicrophoneSource | None, str | None]:
    """Return the microphone, or None and why there is none (never raises for that).

    Returns
    -------
    (MicrophoneSource or None, str or None)
        The source (not yet opened), or None with the reason: the ``sounddevice`` package is
        not installed, the PortAudio library is missing, or no input device answers.
    """
    try:
        import sounddevice
    except ImportError:
        return None, "no microphone support installed (pip install facetwitch[audio])"
    except OSError:  # sounddevice is there, PortAudio is not (Linux without libportaudio2)
        return None, ("the PortAudio library is missing (on Debian/Ubuntu: apt install "
                      "libportaudio2)")  # fmt: skip
    try:
        return MicrophoneSource(device), None
    except (ValueError, sounddevice.PortAudioError) as exc:
        text = " ".join(str(exc).split())[:120]
        return None, f"no microphone found ({text})"
