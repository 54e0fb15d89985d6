"""Quality of a measurement: face found, scale, frame rate, noise, motion, and the warnings.

``quality_assess`` is the ``quality`` section of report.json: what was measured about the
recording itself, the plain-language warnings, and whether the twitch figures are reliable
(with the reasons when not). Thresholds are named here, with what they rest on.
"""

from __future__ import annotations

import numpy as np

from ._text import frames_left_out, plural
from .conventions import (
    FACE_FOUND_WARN,
    display_flip_message,
    flip_side,
    interlaced_message,
    mouth_warned,
    round_or_none,
    turned_message,
)
from .landmarks.store import row_blocks
from .landmarks.track import LandmarkTrack
from .signal import RegionSignals, noise_estimate
from .signal.annotate import frozen_seconds
from .signal.classify import MAX_HEAD_DPS
from .signal.detect import MIN_PX_PER_MM
from .signal.regions import MOUTH_ACTIVE_MM, landmarks_xy
from .signal.stretches import NOISE_REGIONS
from .signal.timing import fps_robust, frames_missing, gaps_find

#: Below this mean frame rate, short twitches can be missed (warned).
LOW_FPS = 20.0
#: Below this many seconds of assessable time (face time outside every ``BAD_`` annotation)
#: the numbers are flagged unreliable (exit 7): the detector cannot work in less. It reads no
#: event within 0.4 s of a quiet stretch's edges, its baseline is a running median over 2 s and
#: an event may be 1.2 s wide, so under 3 s a recording without twitches says nothing (most
#: twitches would fall where they cannot be read) and what is counted cannot be a rate. Above
#: it, what was measured is reported with the time it was measured over; a recording is never
#: failed as a whole for what happens in the rest of it: that time is annotated.
MIN_ASSESSABLE_S = 3.0
#: Below this mean frame rate (fps) the numbers are flagged unreliable (a twitch lasts ~0.1 s).
MIN_FPS = 8.0
#: A video whose flow undid flickering light (``flicker_pairs`` in the track's info;
#: ``landmarks.flow.ROW_GAIN``) in at least this share of its frame pairs is warned of. The
#: real set's footage gives none; bands of 3 % rolling at 30 frames/s are seen in nearly every
#: pair.
FLICKER_WARN_SHARE = 0.2
#: A video whose file holds no sound for this long (s) or more, in a file with sound, is warned
#: of (:func:`sound_missing_s`): talking there is told from the mouth alone.
SOUND_MISSING_S = 1.0
#: Above this median region noise (mm: speech, expression, movement, or a poor video) the
#: report warns; the noisy stretches themselves are annotated ``BAD_noisy``. Measured with
#: benchmarks/accuracy.py on real clean footage, every clip above it gave 4.5-26 false twitches
#: per minute (talking: franck 0.31 mm, 17/min; crying and laughing: WolfgangLanger 0.50 mm,
#: 4.5/min; webcam talk: cap12/cap13 0.57-0.64 mm, 23-26/min) and every clip under it at most 1
#: in 24 s (calm 0.03-0.06 mm; at rest and smiling: vitallens 0.09-0.10 mm). Until schema 2 it
#: flagged the whole recording unreliable; now the time is annotated instead.
NOISY_MM = 0.3
#: A head turned to one side is warned of when the half of the face nearer the camera looks at
#: least this many times as wide as the other (nose tip to cheek edge, median over the face
#: frames; roughly 8 degrees of turn or more). Sideways motion of the far half is then seen
#: foreshortened, so a movement of both sides can look one-sided on the near half. Measured
#: (benchmarks/README.md, "Where the counted false twitches fall now"): on the mixed talk +
#: rest clips 13 of 15 counted false twitches fell on the near half, all 6 of one man's whose
#: near half looked 1.5 times as wide. The benchmarks' real at-rest webcam clips measure
#: 1.04-1.15 and are not warned; visibly turned faces are (1.31-1.83: GRID lbbc2a, LivePortrait
#: d20, bob, franck, the calm set's 15-f13-anc photo, video-retalking 1 and 2).
TURNED_WIDTH_RATIO = 1.3
#: The nose tip and the patient's right and left cheek edges (MediaPipe's mesh, unmirrored).
_HALF_WIDTH_LANDMARKS = (1, 234, 454)


def quality_assess(
    track: LandmarkTrack,
    signals: RegionSignals,
    *,
    min_px_per_mm: float = MIN_PX_PER_MM,
    assessable_s: float | None = None,
    not_assessable_s: dict[str, float] | None = None,
    mirrored: bool = False,
) -> dict:
    """Assess the recording itself: the ``quality`` section of report.json.

    Parameters
    ----------
    track : LandmarkTrack
        The track analysed.
    signals : RegionSignals
        Its region signals.
    min_px_per_mm : float
        The detector's small-face floor (px per mm).
    assessable_s : float, optional
        Face time outside every ``BAD_`` annotation, in seconds (default: all face time).
    not_assessable_s : dict, optional
        Face time inside the spans of each ``BAD_`` description, in seconds
        (:func:`~facetwitch.signal.annotate.bad_seconds`): when too little time could be
        assessed, what took the rest is named, with advice for its cause.
    mirrored : bool
        The video is mirrored (sides named in the warnings are the patient's own).

    Returns
    -------
    dict
        Face found fraction, scale, noise, motion, warnings in words, and ``reliable`` with
        ``unreliable_reasons``: the numbers are unreliable only for what spoils all of them
        (no face, a face too small, too low a frame rate) or for too little assessable time
        (:data:`MIN_ASSESSABLE_S`); time that cannot be assessed is annotated instead.
    """
    warn: list[str] = []
    unreliable: list[str] = []
    n = len(track)
    found_fraction = track.found_fraction
    info = track.info
    fps = fps_mean(track)
    px_per_mm = float(signals.px_per_mm)

    if n == 0 or not np.any(track.found):
        # MediaPipe's face detector is made for faces near the camera: a face a fifth of a
        # 720p picture's height was not found (hostile sweep), where the same face larger was
        warn.append("no face was found in the video: if one is there, it may be too small in "
                    "the picture (film closer, the face filling about half of its height), "
                    "partly out of it, turned away, or in the dark")  # fmt: skip
        unreliable.append("no face found")
    elif found_fraction < FACE_FOUND_WARN:
        lost = _lost_ranges(track.t, track.found)
        pretty = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in lost[:6])
        more = f" and {len(lost) - 6} more" if len(lost) > 6 else ""
        warn.append(
            f"face found in {found_fraction:.0%} of frames; lost at {pretty}{more}"
            if lost
            else f"face found in {found_fraction:.0%} of frames"
        )
    if np.isfinite(px_per_mm) and px_per_mm < min_px_per_mm:
        warn.append(
            f"face too small to measure: {px_per_mm:.2f} px per mm (need at least "
            f"{min_px_per_mm:g}); move closer or film at a higher resolution. "
            "Twitches are not reported."
        )
        unreliable.append("face too small")
    if np.isfinite(fps) and fps < LOW_FPS:
        warn.append(
            # measured (benchmarks/framerate.py): at 15 fps a twitch whose peak falls between
            # two frames is often missed, however long it lasts (24 of 28 misses were longer
            # than the 2.5-frame line this warning used to name)
            f"low frame rate ({fps:.1f} fps): a twitch whose fast rise and fall come between "
            "two frames may be missed or read smaller, and durations are coarse; record at 30 "
            "fps or more"
        )
        if fps < MIN_FPS:
            unreliable.append(f"frame rate too low ({fps:.1f} fps, need at least {MIN_FPS:.0f})")
    speed = _capture_speed(info.get("capture_fps"), fps)
    if speed is not None:
        how, factor, capture = speed
        warn.append(
            f"the video was filmed in {how}: captured at {capture:g} fps and stored to play at "
            f"{fps:.0f} fps, so its times run {factor:.1f} times "
            f"{'slower' if how == 'slow motion' else 'faster'} than the face moved: durations, "
            "rates and the frame rate read here are off by as much (and a phone may change the "
            "speed for part of a clip only, so they are not scaled back); film at normal speed"
        )
        unreliable.append(
            f"filmed in {how} ({capture:g} fps played at {fps:.0f} fps: its times run "
            f"{factor:.1f} times {'slow' if how == 'slow motion' else 'fast'})"
        )
    face_s = float(np.sum(signals.valid) / signals.fs_hz) if len(signals.t) else 0.0
    assessable_s = face_s if assessable_s is None else float(assessable_s)
    frozen_s = frozen_seconds(signals)
    if n and np.any(track.found) and assessable_s < MIN_ASSESSABLE_S:
        shown = _seconds_under(assessable_s, MIN_ASSESSABLE_S)
        too_short = face_s - assessable_s < 0.05  # all of it was assessable
        ranked = [] if too_short else _not_assessed(not_assessable_s)
        causes = _causes(ranked)
        if too_short:
            warn.append(
                f"the video holds only {shown} of face video: at least {MIN_ASSESSABLE_S:g} s "
                "at rest are needed to say anything of twitches; record longer, face relaxed "
                "and silent"
            )
        elif causes:
            warn.append(
                f"only {shown} of the {face_s:.1f} s of face video could be assessed (not "
                f"assessed: {causes}): at least {MIN_ASSESSABLE_S:g} s at rest is needed to "
                f"say anything of twitches; {_advice(ranked)}"
            )
        else:
            warn.append(
                f"only {shown} of the {face_s:.1f} s of face video could be assessed (the rest "
                f"was talking, expression, head movement"
                f"{', noise or a frozen picture' if frozen_s > 0 else ' or noise'}): at least "
                f"{MIN_ASSESSABLE_S:g} s at rest is needed to say anything of twitches; record "
                "again, face relaxed and silent"
            )
        unreliable.append(
            f"too little assessable time ({shown} of {face_s:.1f} s of face video, need "
            f"{MIN_ASSESSABLE_S:g} s" + (f"; not assessed: {causes})" if causes else ")")
        )
    if int(info.get("turned_deg") or 0):
        warn.append(turned_message(int(info["turned_deg"])))
    if info.get("display_flipped"):
        warn.append(display_flip_message(bool(mirrored)))
    if info.get("interlaced"):
        warn.append(interlaced_message(fps))
    near = head_turned(track, mirrored=mirrored)
    if near is not None:
        side, ratio = near
        far = flip_side(side)
        warn.append(
            f"the head was turned toward the patient's {far} (the {side} half of the face looked "
            f"{ratio:.1f} times as wide as the {far} half): the {far} half's sideways movements "
            f"are seen foreshortened, so a movement of both sides can look one-sided on the "
            f"{side} half. Read one-sided findings on the {side} side with care; film facing the "
            "camera"
        )
    multi = int(info.get("multi_face_frames", 0))
    if multi > 0:
        warn.append(
            f"more than one face in {plural(multi, 'frame')}: one face was "
            "followed (the one the face detector was surest of at the start)"
        )
    timing = _input_quality(track, warn)
    lost_s = []
    for a, b in info.get("lost_ranges_s", []) or []:
        end = "the end" if b is None or not np.isfinite(b) else f"{b:.2f} s"
        warn.append(f"damaged video: nothing usable could be decoded from {a:.2f} s to {end}")
        lost_s.append([round_or_none(a, 3), round_or_none(b, 3) if b is not None else None])
    motion = _head_motion_mm_s(track, px_per_mm)
    if np.isfinite(motion) and motion > 30.0:
        warn.append(
            f"heavy head motion (median {motion:.0f} mm/s): keep the head still or rest it "
            "against something"
        )
    fast_s = _fast_turn_s(signals)
    if fast_s >= 1.0:
        warn.append(
            f"fast head turns for {fast_s:.1f} s (over {MAX_HEAD_DPS:.0f}°/s): twitches during "
            "them are not counted"
        )
    if info.get("size_changed_at_s") is not None:
        warn.append(
            f"the picture size changed at {float(info['size_changed_at_s']):.1f} s (recordings "
            "joined, or the camera changed resolution): frames after it were scaled to the first "
            "size, so sizes in mm after it may be off"
        )
    flicker = info.get("flicker_pairs") or [0, 0]
    if flicker[1] and flicker[0] >= FLICKER_WARN_SHARE * flicker[1]:
        warn.append(
            f"the light flickered in {100 * flicker[0] / flicker[1]:.0f} % of the frames (dark "
            "and light bands rolled through the picture: a lamp on the mains, filmed by a "
            "rolling shutter): the measurements were corrected for it, but a flickering picture "
            "is noisier. Film in daylight or under another lamp, or set the camera's "
            "anti-flicker (power line frequency) setting to the local mains, 50 or 60 Hz"
        )
    if info.get("audio_unread"):
        warn.append(
            f"the file's sound could not be read ({str(info['audio_unread'])[:160]}): talking is "
            "told from the moving mouth alone, as in a video without sound"
        )
    no_sound = sound_missing_s(track)
    if no_sound is not None and no_sound >= SOUND_MISSING_S:
        warn.append(
            f"the file holds no sound for {span_words(no_sound)} of the video (its sound starts "
            "late, stops early, or has gaps or damaged stretches): talking there is told from "
            "the moving mouth alone, as in a video without sound"
        )
    if frozen_s > 0:
        warn.append(
            f"the picture did not change for {frozen_s:.1f} s (a frozen camera, or a still image "
            "made into a video): that time is not assessed"
        )
    mouth = signals.mouth_mm if signals.mouth_mm is not None else np.zeros(0)
    mouth_s = float(np.sum(mouth > MOUTH_ACTIVE_MM) / signals.fs_hz) if mouth.size else 0.0
    if mouth_warned(mouth_s, face_s):
        warn.append(
            f"the mouth opened and closed as in talking, smiling or laughing for {mouth_s:.1f} s "
            f"({mouth_s / face_s:.0%} of the face video): such movements look like twitches, "
            "so that time is not assessed; record at rest, face relaxed and silent"
        )
    noises = [
        noise_estimate(signals.column(r, s))
        for r, s in signals.keys
        if r in NOISE_REGIONS and len(signals.t)
    ]
    noises = [x for x in noises if np.isfinite(x)]
    noise_mm = float(np.median(noises)) if noises else float("nan")
    if np.isfinite(noise_mm) and noise_mm > NOISY_MM:
        warn.append(
            f"noisy measurement ({noise_mm:.2f} mm): speech, expression or head movement, or a "
            "dark, blurred or heavily compressed video. Brief one-sided movements of speech and "
            "expression look like twitches, and small twitches are missed among them: the noisy "
            "stretches are not assessed; record again at rest, in good light"
        )
    return {
        "face_found_fraction": round(found_fraction, 4),
        "px_per_mm": round_or_none(px_per_mm, 3),
        "noise_mm": round_or_none(noise_mm, 3),
        "warnings": warn,
        "reliable": not unreliable,
        "unreliable_reasons": unreliable,
        "head_motion_mm_s": round_or_none(motion, 1),
        "fast_head_turn_s": round_or_none(fast_s, 2),
        "mouth_active_s": round_or_none(mouth_s, 2),
        "lost_ranges_s": lost_s,
        **timing,
    }


def _not_assessed(not_assessable_s: dict[str, float] | None) -> list[tuple[float, str]]:
    """Return (seconds, description) of the face time not assessed, largest first.

    The face lost is not face time, so it is left out.
    """
    return sorted(((float(v), d) for d, v in (not_assessable_s or {}).items()
                   if v and d != "BAD_face_lost"), reverse=True)  # fmt: skip


def _causes(ranked: list[tuple[float, str]]) -> str:
    """Return ``noisy measurement 3.3 s, talking 1.2 s`` from :func:`_not_assessed`'s list.

    At most three, largest first.
    """
    from .reports.words import bad_label

    return ", ".join(f"{bad_label(d)} {v:.1f} s" for v, d in ranked[:3])


#: What to do again when the largest cause of face time not assessed is ... (else: keep still
#: and silent).
_ADVICE = {
    "BAD_noisy": "the measurement is noisy in a dark, grainy, blurred or heavily compressed "
                 "video, or while the face moves: record again in good, even light, face "
                 "relaxed and silent, and send the camera's own file",
    "BAD_occlusion": "record again with hands, hair and objects away from the face",
    "BAD_frozen": "record again with a camera that keeps sending pictures",
    "BAD_out_of_frame": "record again with the whole face in the picture, forehead to chin "
                        "(the camera a little further away)",
}  # fmt: skip


def _advice(ranked: list[tuple[float, str]]) -> str:
    """Return what to do again, for the largest cause in :func:`_not_assessed`'s list."""
    return _ADVICE.get(ranked[0][1] if ranked else "", "record again, face relaxed and silent")


def _capture_speed(capture_fps, fps: float) -> tuple[str, float, float] | None:
    """Return ("slow motion" or "time-lapse", factor, capture fps) for a sped video, or None.

    From the capture rate the file states (``input``'s ``capture_fps``) and the rate its times
    give. Slow motion: captured at 90 fps or more and played at most 1/2.5 as fast (120 or 240
    fps stored to play at 30); a time-lapse: played at 2.5 times the capture rate or more. An
    Android video filmed in dim light states 30 fps and plays at 15-24: not a change of speed.
    """
    try:
        capture = float(capture_fps)
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(capture) and capture > 0 and np.isfinite(fps) and fps > 0):
        return None
    if capture >= 90.0 and capture / fps >= 2.5:
        return "slow motion", capture / fps, capture
    if fps / capture >= 2.5:
        return "time-lapse", fps / capture, capture
    return None


def head_turned(track: LandmarkTrack, *, mirrored: bool = False,
                threshold: float = TURNED_WIDTH_RATIO) -> tuple[str, float] | None:  # fmt: skip
    """Return the patient's half of the face nearer the camera, and how much wider it looks.

    ``(side, ratio)`` when the median over the face frames of one half's width over the other's
    (nose tip to cheek edge, in pixels) is at least ``threshold``; None otherwise or without a
    face.
    """
    if len(track) == 0 or not np.any(track.found):
        return None
    xy = landmarks_xy(track.points, _HALF_WIDTH_LANDMARKS)
    right = np.linalg.norm(xy[:, 1] - xy[:, 0], axis=-1)
    left = np.linalg.norm(xy[:, 2] - xy[:, 0], axis=-1)
    if mirrored:
        left, right = right, left
    ok = np.isfinite(left) & np.isfinite(right) & (left > 0) & (right > 0)
    if ok.sum() < 2:
        return None
    ratio = float(np.median(right[ok] / left[ok]))
    if ratio >= threshold:
        return "right", ratio
    if 1.0 / ratio >= threshold:
        return "left", 1.0 / ratio
    return None


def _input_quality(track: LandmarkTrack, warn: list[str]) -> dict:
    """Assess what the video's streams and times say about the measurement.

    What the video's streams and times say about the measurement (issue 19): which stream
    was analysed, gaps in the time, frames missing, frames with broken timestamps. Appends the
    warnings to ``warn``; returns the ``quality`` fields ``gaps_s`` and ``frames_missing``.
    A gap or missing frames inside a lost range (``info["lost_ranges_s"]``) are said by the
    damaged-video warning only, and are not counted in ``frames_missing``.
    """
    info = track.info
    if int(info.get("video_streams", 1)) > 1:
        warn.append(
            f"the file holds {int(info['video_streams'])} video streams: stream "
            f"#{int(info.get('stream_index', 0))} was analysed "
            f"({info.get('stream_choice') or 'the largest'}, {info.get('source_width')}x"
            f"{info.get('source_height')}), as a player shows it"
        )
    # A stretch the reader could not decode (or a recording's own sidecar shows the file lost)
    # is said as damaged, by its own warning: not as a time jump ("a paused recording"), nor
    # its frames as "dropped by the camera or the encoder" (both had been said of one stretch).
    lost = [(float(a), float("inf") if b is None else float(b))
            for a, b in info.get("lost_ranges_s", []) or []]  # fmt: skip

    def damaged(a: float, b: float) -> bool:
        return any(a < lb - 1e-6 and b > la + 1e-6 for la, lb in lost)

    gaps = [(a, b) for _, a, b in gaps_find(track.t)]
    jumps = [(a, b) for a, b in gaps if not damaged(a, b)]
    if jumps:
        shown = "; ".join(
            f"from {a:.2f} s to {b:.2f} s ({span_words(b - a)})" for a, b in jumps[:3]
        )
        more = f" and {len(jumps) - 3} more" if len(jumps) > 3 else ""
        warn.append(
            f"the video's time jumps {shown}{more}: a paused recording or a damaged file; "
            "nothing is measured across a gap, and times after it are as in the file"
        )
    missing = frames_missing(track.t)
    for i in np.flatnonzero(missing):
        if damaged(float(track.t[i]), float(track.t[i + 1])):
            missing[i] = 0
    if missing.sum():
        at = [float(track.t[i]) for i in np.flatnonzero(missing)]
        places = ", ".join(f"{x:.2f} s" for x in at[:5]) + (
            f" and {len(at) - 5} more places" if len(at) > 5 else "")  # fmt: skip
        warn.append(
            f"{plural(int(missing.sum()), 'frame')} missing (dropped by the camera or the "
            f"encoder) after {places}: a twitch there may be missed, or read smaller or shorter"
        )
    restarts = [float(x) for x in info.get("time_restarts_s") or []]
    if restarts:
        places = ", ".join(f"{x:.2f} s" for x in restarts[:5]) + (
            f" and {len(restarts) - 5} more" if len(restarts) > 5 else "")  # fmt: skip
        warn.append(
            f"the video's times start again at {places} (recordings joined end to end, or a "
            "camera's clock set back): the frames after each are timed on from there, as a "
            "player plays them"
        )
    bad_times = int(info.get("frames_bad_time", 0) or 0)
    if bad_times:
        warn.append(frames_left_out(bad_times))
    return {
        "gaps_s": [[round_or_none(a, 3), round_or_none(b, 3)] for a, b in gaps],
        "frames_missing": int(missing.sum()),
    }


def sound_missing_s(track: LandmarkTrack) -> float | None:
    """Return how long (s) the video has no sound from its file; None for a video without sound.

    The time from the first frame to the video's end (:func:`duration_s`) outside the sound
    (``info["audio"]``'s ``t0_s`` to ``t0_s + duration_s``) and inside its gaps (missing or
    damaged packets, read as silence: ``gap_ranges_s``; a track saved before those were kept
    counts ``gaps_s`` whole). There the voice cannot be heard, and talking is told as in a video
    without sound; it had not been said anywhere but on stderr (damaged audio) or not at all.
    """
    audio = (track.info or {}).get("audio")
    if not audio or track.voice_t is None or not len(track):
        return None
    start, end = float(track.t[0]), duration_s(track)
    if not np.isfinite(end) or end <= start:
        return None
    vt = np.asarray(track.voice_t, float)
    t0 = float(audio.get("t0_s", vt[0] if len(vt) else 0.0))
    dur = float(audio.get("duration_s", (vt[-1] + 0.01 - t0) if len(vt) else 0.0))
    a, b = max(start, t0), min(end, t0 + dur)
    heard = max(0.0, b - a)
    ranges = audio.get("gap_ranges_s")
    if ranges is None:
        gaps = float(audio.get("gaps_s", 0.0) or 0.0)
    else:
        gaps = sum(max(0.0, min(b, float(g1)) - max(a, float(g0))) for g0, g1 in ranges)
    return (end - start) - max(0.0, heard - gaps)


def fps_mean(track: LandmarkTrack) -> float:
    """Return the mean frame rate over the recorded time.

    Mean frame rate over the recorded time (gaps left out), from the track's own times; the
    video's figure for a track of fewer than two frames.
    """
    if len(track) >= 2:
        return fps_robust(track.t)
    return float(track.info.get("fps_mean", float("nan")))


def duration_s(track: LandmarkTrack) -> float:
    """Return the video's duration.

    The video's duration: the reader's, unless the track's times go past it (a track whose
    times were edited): then to its last frame and one frame interval more.
    """
    d = float(track.info.get("duration_s", float("nan")) or float("nan"))
    if len(track) and (not np.isfinite(d) or d < float(track.t[-1])):
        fps = fps_mean(track)
        d = float(track.t[-1]) + (1.0 / fps if np.isfinite(fps) and fps > 0 else 0.0)
    return d


def span_words(s: float) -> str:
    """Return a length of time in the words that read best.

    A length of time in the words that read best: ``12.3 s``, ``45 min``, ``4.0 h``,
    ``3.2 days``, ``31,710 years``.
    """
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    if s < 3.15e7 * 2:
        return f"{s / 86400:.1f} days"
    return f"{s / 3.15576e7:,.0f} years"


def _seconds_under(x_s: float, limit_s: float) -> str:
    """Format ``x_s`` with the decimals it takes to read as below ``limit_s``.

    ``x_s`` (below ``limit_s``) with the decimals it takes to read as below it: ``0.8 s``,
    ``0.97 s`` (not ``1.0 s``, which next to "need 1 s" reads as a contradiction).
    """
    for decimals in (1, 2, 3):
        text = f"{x_s:.{decimals}f}"
        if float(text) < limit_s:
            return f"{text} s"
    return f"just under {limit_s:g} s"


def _fast_turn_s(signals) -> float:
    """Seconds of the analysed video with the head turning faster than MAX_HEAD_DPS."""
    return float(np.sum(signals.head_speed() > MAX_HEAD_DPS) / signals.fs_hz)


def _lost_ranges(t: np.ndarray, found: np.ndarray) -> list[tuple[float, float]]:
    out = []
    m = np.concatenate([[False], ~np.asarray(found, bool), [False]])
    d = np.diff(m.astype(int))
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        out.append((float(t[a]), float(t[b - 1])))
    return out


def _head_motion_mm_s(track: LandmarkTrack, px_per_mm: float) -> float:
    """Median speed of the head (rigid flow translation at the face centre), in mm/s."""
    rf = np.asarray(track.rigid_flow)
    ok = np.all(np.isfinite(rf), axis=1)
    if ok.sum() < 3 or not np.isfinite(px_per_mm) or px_per_mm <= 0:
        return float("nan")
    a = rf[ok].reshape(-1, 2, 3)
    # the face centre block by block: nanmedian copies what it is given, and all 478 points
    # of a 10 min track are 0.5 GB (a track over memory maps lets go of each block's pages)
    centre, a0 = [], 0
    for block in row_blocks(track.points):
        rows = ok[a0 : a0 + len(block)]
        a0 += len(block)
        if rows.any():
            centre.append(np.nanmedian(np.asarray(block[rows, :, :2], float), axis=1))
    centre = np.concatenate(centre)  # (m, 2)
    moved = np.einsum("mij,mj->mi", a[:, :, :2], centre) + a[:, :, 2] - centre
    dt = np.diff(track.t)
    dt_ok = np.concatenate([[np.median(dt) if dt.size else 1 / 30], dt])[ok]
    speed = np.linalg.norm(moved, axis=1) / px_per_mm / np.maximum(dt_ok, 1e-3)
    return float(np.median(speed))
