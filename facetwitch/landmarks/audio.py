"""Sound in: a video file's audio track, decoded by PyAV, mono, resampled, on the video's clock.

facetwitch's t = 0 is the first decoded *video* frame's presentation timestamp
(:class:`~facetwitch.landmarks.video.VideoReader`). A file's audio stream often starts a few
milliseconds (an AAC priming delay, a phone's late microphone) before or after its video, so
every audio sample is placed by the audio frames' own PTS relative to that video start: audio
before the first video frame is dropped, audio that starts later starts at ``t0_s > 0``, and a
gap in the audio (missing packets, a recorder that dropped sound) is filled with silence.

Audio is streamed: :class:`AudioReader` yields chunks of int16 samples, so an hour of sound is
never held as floats (an hour of 16 kHz mono int16 is 115 MB; :func:`audio_read` holds that
much, the tracker streams it into the voice-activity detector chunk by chunk instead).

What a file's audio says about speech is decided in :mod:`facetwitch.signal.voice` (arrays
only); :func:`audio_voice` joins the two for the tracker.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from ..errors import FacetwitchWarning

logger = logging.getLogger("facetwitch")

#: Sample rate (Hz) audio is resampled to for voice-activity detection.
AUDIO_RATE_HZ = 16000
#: A jump of more than this (s) between where an audio frame's PTS puts it and where the
#: samples before it end is a gap (filled with silence) or an overlap (ignored, logged).
GAP_TOLERANCE_S = 0.05

#: An audio frame with more channels than this is damaged data (a corrupted AAC packet decoded
#: as 39 channels), skipped; a frame within it that the resampler was not set up for is the
#: sound changing format mid-file, and gets a new resampler.
MAX_CHANNELS = 16


#: Gaps whose times are kept (``gap_ranges_s``); their total (``gaps_s``) counts them all.
MAX_GAP_RANGES = 1000


@dataclass(frozen=True)
class AudioTrack:
    """A file's sound: mono int16 samples at ``rate_hz`` on the video's clock.

    Attributes
    ----------
    samples : ndarray of int16, shape (n,)
        Mono samples (the channels averaged), full scale 32767.
    rate_hz : int
        Sample rate in Hz (samples per second).
    t0_s : float
        Time of ``samples[0]`` in seconds from the first decoded video frame (>= 0: audio
        before the first video frame is dropped).
    info : dict
        ``codec``, ``source_rate_hz``, ``channels``, ``stream_index`` (of the file's audio
        stream read: :func:`_audio_stream_choose`), ``rate_hz``, ``t0_s`` and ``gaps_s``
        (total silence inserted for gaps in the audio, s; ``gap_ranges_s``: where, from t = 0,
        as ``[start_s, end_s]``: missing or damaged and skipped packets).
    """

    samples: np.ndarray
    rate_hz: int
    t0_s: float
    info: dict = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length of the sound in seconds."""
        return len(self.samples) / float(self.rate_hz)

    @property
    def t_s(self) -> np.ndarray:
        """Time of each sample, seconds from the first video frame (float64, made on demand)."""
        return self.t0_s + np.arange(len(self.samples)) / float(self.rate_hz)


def _video_start_s(container) -> float | None:
    """PTS (s) of the first decoded video frame, as :class:`VideoReader` takes it (None: none)."""
    if not container.streams.video:
        return None
    stream = container.streams.video[0]
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            for vf in frames:
                if vf.pts is not None:
                    return float(vf.pts * (vf.time_base or stream.time_base))
    except av.error.FFmpegError:
        return None
    return None


def _audio_stream_choose(container):
    """Return the file's main audio stream that can be decoded (None: it has no audio stream).

    FFmpeg's choice (``av_find_best_stream``, as players make it): the stream marked default,
    then one the probe found sound in, then the higher bit rate; the first on a tie. The first
    audio stream had been taken whatever it held: an MKV whose first audio track is empty (an
    unused recorder track) and whose second holds the speech was analysed as silent.

    Only streams this FFmpeg has a decoder for are chosen from: an iPhone's spatial-audio track
    (APAC) beside its stereo AAC one had been chosen, and the sound read as unreadable.

    Raises
    ------
    ValueError
        The file has audio streams but none that can be decoded.
    """
    streams = list(container.streams.audio)
    if not streams:
        return None
    usable = [s for s in streams if s.codec_context is not None]
    if not usable:
        n = len(streams)
        raise ValueError(f"{'its audio track is' if n == 1 else f'none of its {n} audio tracks is'}"
                         " in a format FFmpeg here cannot decode, such as an iPhone's spatial "
                         "audio")  # fmt: skip
    try:
        best = container.streams.best("audio")
    except (av.error.FFmpegError, ValueError):
        best = None
    return best if best is not None and best in usable else usable[0]


class AudioReader:
    """Stream a file's first audio track as mono int16 chunks on the video's clock.

    Use as a context manager and iterate::

        with AudioReader("clip.mp4") as audio:
            if audio.has_audio:
                for t_s, chunk in audio:  # chunk: int16 (n,), t_s of its first sample
                    ...

    Chunks are consecutive (each starts where the previous ended; gaps in the file's audio
    are filled with zeros), the first at ``t0_s`` (known after the first chunk).

    Parameters
    ----------
    path : str or Path
        A video (or audio) file PyAV can open.
    rate_hz : int
        Output sample rate in Hz (PyAV's :class:`av.AudioResampler`).
    video_start_s : float, optional
        The first video frame's PTS in seconds (t = 0). Found by decoding the first video frame
        when omitted; 0 for a file without video.
    until_s : float, optional
        Stop at the first audio frame that starts after this time (s from the first video
        frame): sound that runs on past the picture (a recorder left on for hours after the
        camera stopped) is not decoded. None: to the end of the file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        rate_hz: int = AUDIO_RATE_HZ,
        video_start_s: float | None = None,
        until_s: float | None = None,
    ):
        self.path = Path(path)
        self.rate_hz = int(rate_hz)
        self.until_s = None if until_s is None else float(until_s)
        self.cut_at_s: float | None = None  # where reading stopped at until_s, if it did
        self._container = av.open(str(self.path), mode="r", metadata_errors="ignore")
        self._stream = _audio_stream_choose(self._container)
        if self._stream is not None and video_start_s is None:
            with av.open(str(self.path), mode="r", metadata_errors="ignore") as probe:
                video_start_s = _video_start_s(probe)
        self.video_start_s = float(video_start_s or 0.0)
        self.t0_s: float | None = None
        self.samples_out = 0
        self.gaps_s = 0.0
        self.gap_ranges_s: list[list[float]] = []
        self.errors = 0
        self._done = False
        self.info: dict | None = None
        if self._stream is not None:
            cc = self._stream.codec_context
            layout = getattr(cc, "layout", None)
            channels = layout.nb_channels if layout is not None else getattr(cc, "channels", 0)
            self.info = {
                "codec": cc.name,
                "source_rate_hz": int(cc.sample_rate or 0),
                "channels": int(channels or 0),
                "rate_hz": self.rate_hz,
                "stream_index": int(self._stream.index),
            }

    @property
    def has_audio(self) -> bool:
        """True when the file has an audio stream."""
        return self._stream is not None

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        if self._stream is None:
            return
        if self._done:
            raise RuntimeError("an AudioReader can be iterated once")
        self._done = True
        rate = self.rate_hz

        def resampler_new():  # mono int16 at ``rate``; again when the sound changes format
            return av.AudioResampler(format="s16", layout="mono", rate=rate)

        resampler = resampler_new()
        self._trim = 0  # output samples still to drop (audio before the first video frame)
        self._pos = 0  # output samples made so far, dropped ones included
        t_first = None  # the first audio frame's time (s from the first video frame)
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:  # damaged container from here on
                self._note_error(exc)
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:  # a damaged packet: skipped (a gap)
                self._note_error(exc)
                continue
            for af in frames:
                t = None
                if af.pts is not None and af.time_base is not None:
                    t = float(af.pts * af.time_base) - self.video_start_s
                if t is not None and self.until_s is not None and t > self.until_s:
                    self.cut_at_s = round(t, 6)
                    break
                if t_first is None:
                    t_first = t if t is not None else 0.0
                    self.t0_s = max(t_first, 0.0)
                    self._trim = int(round(max(-t_first, 0.0) * rate))
                elif t is not None:
                    lag = t - (t_first + self._pos / rate)
                    if lag > GAP_TOLERANCE_S:  # missing audio: silence in its place
                        pad = int(round(lag * rate))
                        self.gaps_s += pad / rate
                        if len(self.gap_ranges_s) < MAX_GAP_RANGES:
                            at = t_first + self._pos / rate
                            self.gap_ranges_s.append([round(at, 3), round(at + pad / rate, 3)])
                        chunk = self._emit(np.zeros(pad, np.int16))
                        if len(chunk):
                            yield self._t_next(len(chunk)), chunk
                    elif lag < -GAP_TOLERANCE_S:
                        logger.debug("%s: audio overlaps itself by %.3f s", self.path, -lag)
                try:
                    outs = resampler.resample(af)
                except av.error.FFmpegError as exc:  # a damaged frame (e.g. 39 channels)
                    self._note_error(exc)
                    continue
                except ValueError as exc:  # not the format the resampler was set up for
                    if len(af.layout.channels) > MAX_CHANNELS:  # a damaged frame
                        self._note_error(exc)
                        continue
                    # the sound changed rate or channels mid-file (joined camcorder files,
                    # stream recordings): what is left of the old one, then a new resampler
                    outs = self._flush(resampler)
                    resampler = resampler_new()
                    try:
                        outs += resampler.resample(af)
                    except (av.error.FFmpegError, ValueError) as exc2:
                        self._note_error(exc2)
                for out in outs:
                    chunk = self._emit(self._mono(out))
                    if len(chunk):
                        yield self._t_next(len(chunk)), chunk
            if self.cut_at_s is not None:
                break
        for out in self._flush(resampler):
            chunk = self._emit(self._mono(out))
            if len(chunk):
                yield self._t_next(len(chunk)), chunk

    def _flush(self, resampler) -> list:
        """Return what ``resampler`` still holds (none, noted, when a damaged frame broke it)."""
        try:
            return list(resampler.resample(None))
        except (av.error.FFmpegError, ValueError) as exc:
            self._note_error(exc)
            return []

    def _emit(self, chunk: np.ndarray) -> np.ndarray:
        """Count ``chunk`` and return what is left of it after the leading trim."""
        self._pos += len(chunk)
        if self._trim:
            cut = min(self._trim, len(chunk))
            chunk, self._trim = chunk[cut:], self._trim - cut
        self.samples_out += len(chunk)
        return chunk

    def _t_next(self, n: int) -> float:
        """Start time (s) of the chunk of ``n`` samples just counted in ``samples_out``."""
        return float(self.t0_s or 0.0) + (self.samples_out - n) / self.rate_hz

    @staticmethod
    def _mono(frame) -> np.ndarray:
        a = frame.to_ndarray()
        return np.ascontiguousarray(a.reshape(-1), dtype=np.int16)

    def _note_error(self, exc) -> None:
        self.errors += 1
        if self.errors == 1:
            msg = f"{self.path.name}: damaged audio data skipped ({_short(exc)})"
            logger.debug(msg)
            warnings.warn(msg, FacetwitchWarning, stacklevel=3)

    def summary(self) -> dict:
        """``info`` plus what reading found (``t0_s``, ``duration_s``, ``gaps_s``, ...)."""
        return {
            **(self.info or {}),
            "t0_s": round(float(self.t0_s or 0.0), 6),
            "duration_s": round(self.samples_out / self.rate_hz, 6),
            "gaps_s": round(self.gaps_s, 6),
            "gap_ranges_s": [list(g) for g in self.gap_ranges_s],
            **({"cut_at_s": self.cut_at_s} if self.cut_at_s is not None else {}),
        }


def _short(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)[:160]
    return (" ".join(str(exc).split()) or type(exc).__name__)[:160]


def unread_message(path: str | os.PathLike, reason: str) -> str:
    """Return the warning for a file whose sound cannot be read (:func:`unread_reason` reads it)."""
    return f"{Path(path).name}: its sound cannot be read ({reason}); analysed without it"


_UNREAD = re.compile(r"its sound cannot be read \((.*)\); analysed without it$")


def unread_reason(message: str) -> str | None:
    """Return the reason in an :func:`unread_message` warning; None for any other message."""
    m = _UNREAD.search(message)
    return m.group(1) if m else None


def _open_reader(path, rate_hz, video_start_s, until_s=None) -> AudioReader | None:
    """Return an :class:`AudioReader`, or None (with a warning) when the file cannot be opened."""
    try:
        return AudioReader(path, rate_hz=rate_hz, video_start_s=video_start_s, until_s=until_s)
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        msg = unread_message(path, _short(exc))
        logger.debug(msg)
        warnings.warn(msg, FacetwitchWarning, stacklevel=3)
        return None


def audio_read(
    path: str | os.PathLike, *, rate_hz: int = AUDIO_RATE_HZ, video_start_s: float | None = None
) -> AudioTrack | None:
    """Decode a file's sound: mono int16 at ``rate_hz``, timed from the first video frame.

    Parameters
    ----------
    path : str or Path
        A video file (an audio-only file works too: its t = 0 is the audio's start).
    rate_hz : int
        Output sample rate in Hz.
    video_start_s : float, optional
        PTS in seconds of the first decoded video frame (t = 0); found when omitted.

    Returns
    -------
    AudioTrack or None
        None when the file has no audio stream, or when its sound cannot be decoded at all
        (then with a :class:`~facetwitch.errors.FacetwitchWarning`: the video is still
        analysed, from its picture alone). Damaged stretches of audio are skipped with a
        warning and come out as silence.
    """
    reader = _open_reader(path, rate_hz, video_start_s)
    if reader is None:
        return None
    with reader:
        if not reader.has_audio:
            return None
        chunks = [c for _, c in reader]
        if not chunks:
            return None
        samples = np.concatenate(chunks)
        info = reader.summary()
    return AudioTrack(samples=samples, rate_hz=reader.rate_hz, t0_s=info["t0_s"], info=info)


def audio_voice(
    path: str | os.PathLike,
    *,
    method: str | None = None,
    video_start_s: float | None = None,
    until_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray, dict] | None:
    """Voice activity of a file's sound, streamed from the decoder into the detector.

    Parameters
    ----------
    path : str or Path
        The video file.
    method : str, optional
        Voice-activity method (:data:`facetwitch.signal.voice.VAD_METHODS`; default
        :data:`facetwitch.signal.voice.DEFAULT_METHOD`).
    video_start_s : float, optional
        PTS in seconds of the first decoded video frame (t = 0); found when omitted.
    until_s : float, optional
        Read no sound that starts after this time (:class:`AudioReader`); None: all of it.

    Returns
    -------
    (t_s, active, info) or None
        Frame start times (s from the first video frame), whether each frame is voiced, and
        ``info`` (the audio stream's ``codec``, ``source_rate_hz``, ``channels``, ``rate_hz``,
        ``t0_s``, ``duration_s``, ``gaps_s``, and the detector's ``method`` and settings).
        None when the file has no sound (no audio stream, or no decodable audio).
    """
    from ..signal.voice import DEFAULT_METHOD, voice_activity

    method = method or DEFAULT_METHOD
    reader = _open_reader(path, AUDIO_RATE_HZ, video_start_s, until_s)
    if reader is None:
        return None
    with reader:
        if not reader.has_audio:
            return None
        it = iter(reader)
        first = next(it, None)
        if first is None:
            return None

        def chunks():
            yield first[1]
            for _, c in it:
                yield c

        t_s, active, vinfo = voice_activity(
            chunks(), AUDIO_RATE_HZ, t0_s=first[0], method=method, return_info=True
        )
        info = {**reader.summary(), **vinfo}
    return t_s, active, info
