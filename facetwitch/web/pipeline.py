"""The web app's calls into the facetwitch library, all in this one module.

The server and its analysis worker call the library nowhere else: the public API
(``facetwitch.track`` / ``analyze`` / ``render``) for the analysis, the video reader for
checking uploads, the tracker for the live face outline. The stages run one by one (track,
analyse, write and render, clips), so that the page can show which stage runs, how far it is
and how long is left.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from ..errors import FacetwitchWarning, InputError

logger = logging.getLogger("facetwitch")

#: Stages of an analysis with the share of the whole run they usually take (measured on the
#: demo clip: tracking is nearly all of it).
STAGES = {"checking": 0.01, "tracking": 0.86, "analysing": 0.03, "report": 0.06, "clips": 0.04}
STAGE_LABELS = {
    "waiting": "waiting for the analysis before it",
    "starting": "starting",
    "checking": "checking the video",
    "tracking": "finding the face in every frame",
    "analysing": "measuring the movements",
    "report": "writing the report",
    "clips": "making the event clips",
    "done": "done",
    "failed": "failed",
}


def video_check(path: str | os.PathLike) -> dict:
    """Check that ``path`` is a video facetwitch can read, from its content (never its name).

    FFmpeg (PyAV) must open it as a container with a video stream that is not a still image,
    and decode its first frame. Raises :class:`~facetwitch.errors.InputError` with the CLI's
    one-line message otherwise.

    Returns
    -------
    dict
        ``ext`` (the diary copy's extension, from the container format), ``width``,
        ``height`` (upright), ``rotation_deg``, ``codec``, ``has_audio``.
    """
    from ..diary import video_ext
    from ..landmarks.video import VideoReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(path) as reader:
            first = next(iter(reader), None)
            if first is None:
                raise InputError(f"{Path(path).name}: no video frame could be decoded")
            info = reader.info
    return {
        "ext": video_ext(path),
        "width": info.width,
        "height": info.height,
        "rotation_deg": info.rotation_deg,
        "codec": info.codec,
        "has_audio": info.has_audio,
    }


def recording_finalise(chunks: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Turn a browser recording (MediaRecorder chunks joined in order) into an indexed file.

    Browser WebM has no duration and no index (cues), and a recording cut off by a closed tab
    ends in the middle of a cluster. Its packets are copied as they are (no re-encoding;
    every timestamp kept) into Matroska, which PyAV writes with a duration and cues; a
    damaged end is dropped.

    Parameters
    ----------
    chunks : path
        The joined chunks (``recording.webm``; an MP4 from Safari works too).
    out : path
        The Matroska file to write (``recording.mkv``), replaced atomically.

    Returns
    -------
    dict
        ``packets`` (video packets copied), ``duration_s`` (from the first to the last video
        packet), ``has_audio``.
    """
    import av

    from .._files import write_atomically

    chunks, out = Path(chunks), Path(out)
    if not chunks.is_file() or chunks.stat().st_size == 0:
        raise InputError("the recording is empty: nothing reached the server")
    stats = {"packets": 0, "duration_s": 0.0, "has_audio": False}

    def write(tmp: Path) -> None:
        try:
            src = av.open(str(chunks), metadata_errors="ignore")
        except (av.error.FFmpegError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or type(exc).__name__
            raise InputError(
                f"the recording cannot be read ({why}): nothing playable reached the server"
            ) from None
        with src, av.open(str(tmp), mode="w", format="matroska") as dst:
            if not src.streams.video:
                raise InputError("the recording has no video")
            vin = src.streams.video[0]
            ain = src.streams.audio[0] if src.streams.audio else None
            vout = dst.add_stream_from_template(vin)
            aout = dst.add_stream_from_template(ain) if ain is not None else None
            stats["has_audio"] = ain is not None
            first = last = None
            wanted = [s for s in (vin, ain) if s is not None]
            packets = src.demux(wanted)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except (av.error.FFmpegError, ValueError):  # a cut-off end
                    break
                if packet.dts is None and packet.pts is None:
                    continue  # flush packets
                if packet.stream is vin:
                    packet.stream = vout
                    if packet.pts is not None:
                        t = float(packet.pts * vin.time_base)
                        first = t if first is None else min(first, t)
                        last = t if last is None else max(last, t)
                    stats["packets"] += 1
                else:
                    packet.stream = aout
                try:
                    dst.mux(packet)
                except (av.error.FFmpegError, ValueError) as exc:
                    logger.debug("recording_finalise: packet dropped (%s)", exc)
            if stats["packets"] == 0:
                raise InputError("the recording holds no video frames")
            stats["duration_s"] = float(last - first) if first is not None else 0.0

    write_atomically(out, write, suffix=".tmp.mkv")
    return stats


class _Eta:
    """Seconds left, from the rate since the first progress call.

    Seconds left from the rate since the first progress call (the model's start-up before it is not
    work per frame); None until there is a fair rate (2 s or 3 % done).
    """

    def __init__(self):
        self.t0: float | None = None
        self.done0 = 0.0

    def left(self, done: float, total: float) -> float | None:
        now = time.monotonic()
        if self.t0 is None:
            self.t0, self.done0 = now, done
            return None
        elapsed, progressed = now - self.t0, done - self.done0
        if progressed <= 0 or total <= 0 or (elapsed < 2.0 and done < 0.03 * total):
            return None
        return max(0.0, elapsed * (total - done) / progressed)


def analysis_process(
    video: str | os.PathLike,
    report_dir: str | os.PathLike,
    clips_dir: str | os.PathLike,
    *,
    mirrored: bool = False,
    complaint: str | None = None,
    markers: list[dict] | None = None,
    progress=None,
) -> dict:
    """Analyse a video as ``facetwitch analyze`` does, stage by stage, then make the clips.

    Parameters
    ----------
    video : path
        The video (in the diary).
    report_dir : path
        Where report.json, events.csv, track.npz, report.html, report.pdf and summary.txt go
        (replaced if there: an interrupted analysis is simply run again).
    clips_dir : path
        Where the event clips go.
    mirrored : bool
        The video is mirrored (a selfie preview saved as shown).
    complaint : str, optional
        The patient's description.
    markers : list of dict, optional
        ``[{"t_s": seconds from the first frame}, ...]``: "I felt one".
    progress : callable, optional
        ``progress(stage, fraction, eta_s, detail)`` with the overall fraction (0-1) and the
        estimated seconds left (None when unknown).

    Returns
    -------
    dict
        report.json's content.
    """
    import facetwitch

    from .clips import clips_make

    video, report_dir, clips_dir = Path(video), Path(report_dir), Path(clips_dir)
    say = progress or (lambda *a, **k: None)
    start = {}
    offset = 0.0
    for name, share in STAGES.items():
        start[name] = offset
        offset += share
    t_begin = time.monotonic()
    timings: dict[str, float] = {}

    def stage_eta(stage: str, within: float, within_eta: float | None) -> float | None:
        """Seconds left.

        The rest of this stage plus the later stages at their usual share of the time tracking took.
        """
        if within_eta is None:
            return None
        rest = sum(
            v for k, v in STAGES.items() if list(STAGES).index(k) > list(STAGES).index(stage)
        )
        if stage == "tracking":
            track_total = (time.monotonic() - t_begin) + within_eta
            return within_eta + track_total * rest / STAGES["tracking"]
        return within_eta

    say("checking", start["checking"], None, "")
    info = video_check(video)
    eta = _Eta()
    last = [0.0]

    def on_frame(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.25 and done != total:
            return
        last[0] = now
        total = max(total, done, 1)
        within = done / total
        left = eta.left(done, total)
        say(
            "tracking",
            start["tracking"] + STAGES["tracking"] * within,
            stage_eta("tracking", within, left),
            f"frame {done} of about {total}",
        )

    say("tracking", start["tracking"], None, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)  # they are in report.json too
        track = facetwitch.track(video, progress=on_frame)
    timings["tracking"] = time.monotonic() - t_begin
    guess = timings["tracking"] / STAGES["tracking"]
    say("analysing", start["analysing"], guess * (1 - start["analysing"]), "")
    analysis = facetwitch.analyze(
        track,
        mirrored=mirrored,
        complaint=complaint or None,
        markers=[dict(m) for m in markers] if markers else None,
    )
    say("report", start["report"], guess * (1 - start["report"]), "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        # force: an interrupted analysis is run again into the same directory
        facetwitch.render(analysis, report_dir, video=video, force=True)
    say("clips", start["clips"], guess * (1 - start["clips"]), "")

    def on_clip(done: int, total: int) -> None:
        within = done / max(total, 1)
        say(
            "clips",
            start["clips"] + STAGES["clips"] * within,
            guess * STAGES["clips"] * (1 - within),
            f"clip {done} of {total}",
        )

    clips_make(analysis.report, analysis.track, video, clips_dir, progress=on_clip)
    info["seconds"] = round(time.monotonic() - t_begin, 1)
    logger.info("analysed %s in %.1f s", video, info["seconds"])
    return analysis.report


# -- live face feedback ----------------------------------------------------------------------
#: Landmark indices drawn on the live preview: the face outline, eyes, brows, lips.
OUTLINE_LANDMARKS = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
    33,
    7,
    163,
    144,
    145,
    153,
    154,
    155,
    133,
    173,
    157,
    158,
    159,
    160,
    161,
    246,
    263,
    249,
    390,
    373,
    374,
    380,
    381,
    382,
    362,
    398,
    384,
    385,
    386,
    387,
    388,
    466,
    70,
    63,
    105,
    66,
    107,
    300,
    293,
    334,
    296,
    336,
    61,
    185,
    40,
    39,
    37,
    0,
    267,
    269,
    270,
    409,
    291,
    375,
    321,
    405,
    314,
    17,
    84,
    181,
    91,
    146,
)


class FaceFinder:
    """Finds the face in small frames the recording page sends (live feedback only).

    MediaPipe's Face Landmarker in IMAGE mode, no region flow; one model, used by one request
    at a time. The frames stay in memory for the call and are never written.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._tracker = None

    def find(self, rgba: bytes, width: int, height: int) -> dict:
        """Face box and outline points of one RGBA frame, in 0-1 image coordinates.

        Returns
        -------
        dict
            ``found``, ``box`` ([x0, y0, x1, y1]), ``points`` ([[x, y], ...]: outline, eyes,
            brows, lips), ``px_per_mm`` at this frame's size (how near the face is).
        """
        from ..geometry import iris_px_per_mm
        from ..landmarks.tracker import FaceTracker
        from ..landmarks.video import Frame

        if width * height * 4 != len(rgba) or not (16 <= width <= 1280 and 16 <= height <= 1280):
            raise InputError("a live frame must be RGBA pixels of the size given (16-1280 px)")
        rgb = np.frombuffer(rgba, np.uint8).reshape(height, width, 4)[:, :, :3].copy()
        with self._lock:
            if self._tracker is None:
                self._tracker = FaceTracker(mode="image", flow=False, num_faces=1)
            res = self._tracker.process(Frame(0, 0.0, rgb))
        if not res.found:
            return {"found": False}
        p = res.points[:, :2]
        ppm = iris_px_per_mm(res.points[None])
        ppm = float(np.ravel(ppm)[0]) if np.size(ppm) else float("nan")
        pts = p[list(OUTLINE_LANDMARKS)] / [width, height]
        return {
            "found": True,
            "box": [
                round(float(v), 4)
                for v in (*(p.min(axis=0) / [width, height]), *(p.max(axis=0) / [width, height]))
            ],
            "points": np.round(pts, 4).tolist(),
            "px_per_mm": round(ppm, 2) if np.isfinite(ppm) else None,
        }

    def close(self) -> None:
        """Release the model."""
        with self._lock:
            if self._tracker is not None:
                self._tracker.close()
                self._tracker = None


def json_write(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a temporary file, fsynced, renamed).

    Not :func:`facetwitch._files.write_atomic`: that creates ``path``'s folder, and a recording
    deleted while a chunk arrives must stay deleted (the chunk's request then gets the
    ``FileNotFoundError`` that says so).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def chunks_append(rec_dir: Path, final: bool = False) -> int:
    """Append the chunk files that come next, in order.

    To ``recording.webm`` (each fsynced before its part file is removed, so a crash loses nothing
    that was acknowledged). ``final``: also append chunks after a gap (a lost chunk), in order.
    Returns the next expected chunk number.
    """
    state_path = rec_dir / "recording.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    nxt = int(state.get("next", 0))
    chunks = rec_dir / "chunks"
    parts = sorted(chunks.glob("*.part")) if chunks.is_dir() else []
    with open(rec_dir / "recording.webm", "ab") as out:
        for part in parts:
            seq = int(part.stem)
            if seq < nxt:
                part.unlink()  # a chunk sent twice (a retry)
                continue
            if seq > nxt and not final:
                break
            if seq > nxt:
                state.setdefault("gaps", []).append([nxt, seq])
            out.write(part.read_bytes())
            out.flush()
            os.fsync(out.fileno())
            nxt = seq + 1
            state["next"] = nxt
            json_write(state_path, state)
            part.unlink()
    return nxt
