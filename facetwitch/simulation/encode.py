"""Writing the injected video: an H.264 writer that keeps timestamps, and safe output names."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import numpy as np

from .._files import outputs_not_inputs
from ..errors import UsageError


class _Writer:
    """H.264 (libx264, yuv420p) writer that keeps given timestamps exactly, no audio."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        time_base: Fraction,
        crf: float,
        fps_hint: float,
        x264_options: dict | None = None,
    ):
        import av

        self.time_base = time_base
        self._c = av.open(str(path), mode="w")
        rate = Fraction(fps_hint).limit_denominator(1001) if np.isfinite(fps_hint) else 30
        st = self._c.add_stream("libx264", rate=rate)
        st.width, st.height = width + width % 2, height + height % 2
        st.pix_fmt = "yuv420p"
        st.time_base = time_base
        st.codec_context.time_base = time_base
        st.options = {"crf": f"{crf:g}", "preset": "medium", **(x264_options or {})}
        self._s = st
        self._last = None

    def write(self, rgb: np.ndarray, t_s: float) -> None:
        """Encode one RGB frame at ``t_s`` seconds (odd sizes padded by their edge)."""
        import av

        h, w = rgb.shape[:2]
        if (w % 2) or (h % 2):
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        pts = int(round(t_s / self.time_base))
        if self._last is not None and pts <= self._last:
            pts = self._last + 1
        self._last = pts
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        vf = vf.reformat(format="yuv420p")
        vf.pts, vf.time_base = pts, self.time_base
        for packet in self._s.encode(vf):
            self._c.mux(packet)

    def close(self) -> None:
        """Flush the encoder and close the file."""
        for packet in self._s.encode(None):
            self._c.mux(packet)
        self._c.close()

    def abort(self) -> None:
        """Close without flushing the encoder: the file is being thrown away.

        A failed flush must not hide what stopped the writing.
        """
        with contextlib.suppress(Exception):
            self._c.close()


def _outputs_check(src: Path, dst: Path) -> None:
    """Refuse outputs that would overwrite the source or whose extension names no container.

    Checked before the long tracking pass (the video is written while the source is still
    being read).
    """
    import av

    truth = dst.with_suffix(".truth.json")
    outputs_not_inputs([dst, truth], [src], what="the source")
    try:  # PyAV guesses the container from the name; opening for writing creates nothing yet
        c = av.open(str(dst.with_name(f".{dst.stem}.check{dst.suffix}")), mode="w")
    except ValueError:
        kind = f"unknown video format {dst.suffix!r}" if dst.suffix else "no file extension"
        raise UsageError(f"{dst}: {kind}; name the output .mp4 (or .mov, .mkv)") from None
    try:  # a .gif, .webm or .png opens, and fails only when the H.264 stream is added
        c.add_stream("libx264", rate=30)
    except ValueError:
        raise UsageError(
            f"{dst}: a {dst.suffix} file cannot hold H.264 video; name the output .mp4 "
            "(or .mov, .mkv)"
        ) from None
    finally:
        c.close()
    other = _truth_video(truth)
    if other and other != dst.name and (dst.parent / other).exists():
        # x.mp4 and x.avi would share x.truth.json: the one written last would take the
        # other's ground truth, and that video would be judged against the wrong twitches
        raise UsageError(
            f"{truth} holds the ground truth of {other}, which is still there; "
            f"name the output differently (e.g. {dst.stem}_2{dst.suffix})"
        )


def _truth_video(truth: Path) -> str | None:
    """Return the video name a truth file records, None without a readable one."""
    import json

    try:
        video = json.loads(truth.read_text(encoding="utf-8")).get("video")
    except (OSError, ValueError, AttributeError):
        return None
    return video if isinstance(video, str) else None


def _time_base(src: Path) -> Fraction:
    """Return the source stream's time base when it is 1/N (so PTS survive exactly).

    Else 1/90000.
    """
    import av

    from ..landmarks.video import video_stream_choose

    with av.open(str(src)) as c:
        tb = video_stream_choose(c)[0].time_base  # the stream facetwitch reads
    if tb is not None and tb.numerator == 1 and 1000 <= tb.denominator <= 1_000_000:
        return Fraction(tb)
    return Fraction(1, 90000)
