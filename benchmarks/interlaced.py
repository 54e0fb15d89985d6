"""Interlaced video: the demo's twitches read from interlaced copies, deinterlaced or not.

A camcorder, a capture device or a broadcast recording (1080i, 576i, 480i) stores two fields
per frame, filmed half a frame apart (1/50 s at 25 frames/s, 1/60 s at 30): wherever something
moved between them, the frame combs, and the region flow reads the comb as movement.
:class:`facetwitch.landmarks.video.VideoReader` deinterlaces such video (FFmpeg's ``bwdif``,
send_frame mode: one frame per frame, the frames' times unchanged). Clips, in ``--work``:

- ``demo_15i.mp4``: samples/demo_upper_lip.mp4 (30 fps) woven two frames to one, top field
  from the earlier: 15 frames/s, 30 fields/s, top field first, coded interlaced by x264
  (``tff=1``: every frame flagged interlaced); its truth is the demo's.
- ``demo60.mp4``: the demo made again at 60 fps (samples/make_demo.py's photo, head motion,
  seed and twitch plan; peaks snapped to 60 fps frames); ``demo60_30p.mp4``, its even frames
  (the progressive reference); ``demo_30i.mp4``, its frames woven in pairs: 30 frames/s, 60
  fields/s, the real 30i (480i's timing, at the demo's 480x360).
- ``demo_720_30i.mp4``: ``demo_30i`` scaled to 1280x720 (each field scaled on its own), for the
  decoding speed.

Each interlaced clip is analysed three times: as facetwitch reads it now (``after``), with the
deinterlacer bypassed (``before``: the frames as decoded, as facetwitch read them before it
deinterlaced), and deinterlaced at the field rate (``fields``: bwdif's send_field, each field
a frame at its own time, twice the frames; not what facetwitch does). ``demo_15p`` (the demo's
even frames) is the progressive reference of ``demo_15i``, ``demo60_30p`` of ``demo_30i``.

Printed: twitches found against the truth (peak within 0.25 s of the truth's or inside its
span, one to one), their sides, directions and sizes (median of found / injected), false
twitches, the interlace warning; then decoding speed (frames/s through VideoReader, with and
without the filter, best of five alternated passes; and the filter alone). Run by hand (about
two minutes; the 60 fps demo is made once, with the model):

    python benchmarks/interlaced.py --work /tmp/interlaced
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEMO = ROOT / "samples" / "demo_upper_lip.mp4"
sys.path.insert(0, str(ROOT / "samples"))

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import track_video, video  # noqa: E402
from facetwitch.landmarks.video import VideoReader  # noqa: E402


def frames_read(path: Path) -> list[np.ndarray]:
    """Return every frame of ``path`` as RGB, as decoded (no deinterlacing)."""
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def weave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return one frame: the top field (even rows) of ``a``, the bottom field of ``b``."""
    out = a.copy()
    out[1::2] = b[1::2]
    return out


def write(path: Path, frames, fps: int, *, interlaced: bool, crf: int = 12) -> Path:
    """Write ``frames`` at ``fps`` with x264: coded interlaced, top field first, or progressive.

    Interlaced: each frame flagged top field first (FFmpeg's ``setfield``) before the encoder,
    whose wrapper sets x264's field order from the frame's flag (unflagged: bottom first).
    """
    tb = Fraction(1, 90000)
    tmp = path.with_suffix(".part.mp4")
    height, width = frames[0].shape[:2]
    with av.open(str(tmp), mode="w") as c:
        st = c.add_stream("libx264", rate=fps)
        st.height, st.width = height, width
        st.pix_fmt = "yuv420p"
        st.time_base = st.codec_context.time_base = tb
        st.options = {"crf": str(crf), "preset": "veryfast"}
        if interlaced:
            st.options["x264-params"] = "tff=1"
            graph = video.filter_graph(width, height, "yuv420p", tb, "setfield", "mode=tff")
        for i, rgb in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            vf.pts, vf.time_base = int(round(i / fps / tb)), tb
            if interlaced:
                graph.vpush(vf.reformat(format="yuv420p"))
                vf = graph.vpull()
            c.mux(st.encode(vf))
        c.mux(st.encode(None))
    tmp.rename(path)
    return path


def truth_copy(src_truth: dict, dst: Path, **update) -> dict:
    """Write ``src_truth`` (updated) beside ``dst``; return it."""
    truth = {**src_truth, "video": dst.name, **update}
    dst.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def demo60(work: Path) -> Path:
    """Make the demo again at 60 fps (make_demo's photo, head motion and plan), or reuse it."""
    import cv2
    import make_demo

    from facetwitch.simulation import twitch_simulate, video_inject

    out = work / "demo60.mp4"
    if out.exists():
        return out
    photo = cv2.cvtColor(cv2.imread(str(make_demo.astronaut_path())), cv2.COLOR_BGR2RGB)
    events = twitch_simulate(
        make_demo.N_TWITCHES, make_demo.DURATION_S, regions=["upper_lip"], sides=["left"],
        amplitude_mm=(1.5, 2.5), direction_deg=(35.0, 55.0), burst_fraction=0.25,
        n_blinks=make_demo.N_BLINKS, min_spacing_s=1.2, margin_s=0.8, seed=make_demo.SEED,
    )  # fmt: skip
    clean = work / "demo60_clean.mp4"
    make_demo.write_frames(clean, lambda t: make_demo.render(photo, t), fps=60)
    video_inject(clean, out, events, crf=18)
    return out


def clips(work: Path) -> dict[str, tuple[Path, dict]]:
    """Make (or reuse) the clips; return name -> (path, truth)."""
    import cv2

    work.mkdir(parents=True, exist_ok=True)
    demo_truth = json.loads(DEMO.with_suffix(".truth.json").read_text())
    out = {"demo_30p": (DEMO, demo_truth)}
    p15, p15p = work / "demo_15i.mp4", work / "demo_15p.mp4"
    if not (p15.exists() and p15p.exists()):
        f = frames_read(DEMO)
        write(p15, [weave(f[i], f[i + 1]) for i in range(0, len(f) - 1, 2)], 15, interlaced=True)
        write(p15p, f[0::2], 15, interlaced=False)
    out["demo_15p"] = (p15p, truth_copy(demo_truth, p15p, frames=225))
    out["demo_15i"] = (p15, truth_copy(demo_truth, p15, frames=225))
    src60 = demo60(work)
    truth60 = json.loads(src60.with_suffix(".truth.json").read_text())
    p30p, p30i, p720 = (work / n for n in ("demo60_30p.mp4", "demo_30i.mp4", "demo_720_30i.mp4"))
    if not (p30p.exists() and p30i.exists() and p720.exists()):
        f = frames_read(src60)
        write(p30p, f[0::2], 30, interlaced=False)
        woven = [weave(f[i], f[i + 1]) for i in range(0, len(f) - 1, 2)]
        write(p30i, woven, 30, interlaced=True)

        def field_scaled(rgb):  # each field to 1280x360, woven again: 720 lines
            top = cv2.resize(rgb[0::2], (1280, 360), interpolation=cv2.INTER_CUBIC)
            bottom = cv2.resize(rgb[1::2], (1280, 360), interpolation=cv2.INTER_CUBIC)
            frame = np.empty((720, 1280, 3), np.uint8)
            frame[0::2], frame[1::2] = top, bottom
            return frame

        write(p720, [field_scaled(w) for w in woven[:300]], 30, interlaced=True, crf=18)
    out["demo60_30p"] = (p30p, truth_copy(truth60, p30p, frames=450))
    out["demo_30i"] = (p30i, truth_copy(truth60, p30i, frames=450))
    out["demo_720_30i"] = (p720, {})
    return out


@contextmanager
def field_rate():
    """Deinterlace at the field rate (bwdif's send_field: each field a frame, at its own time).

    Not what facetwitch does (send_frame keeps the file's frames and times); measured beside it.
    """
    kept = video._deinterlacer

    def send_field(vf, time_base, *, parity, deint):
        return video.filter_graph(vf.width, vf.height, vf.format.name, time_base, "bwdif",
                                  f"mode=send_field:parity={parity}:deint={deint}")  # fmt: skip

    video._deinterlacer = send_field
    try:
        yield
    finally:
        video._deinterlacer = kept


@contextmanager
def deinterlacing_bypassed():
    """Read every frame as decoded, as facetwitch did before it deinterlaced."""
    kept = VideoReader._deinterlaced
    VideoReader._deinterlaced = lambda self, vf, tb: () if vf is None else (vf,)
    try:
        yield
    finally:
        VideoReader._deinterlaced = kept


def matched(report: dict, truth: dict, tol_s: float = 0.25) -> tuple[list, list]:
    """Return [(truth twitch, found twitch or None)] and the found twitches matching none.

    A found twitch matches when its peak is within ``tol_s`` of the truth's, or inside the
    truth's span (a burst's peak read on another of its pulses); one to one, nearest first.
    """
    found = [e for e in report["events"] if e["kind"] == "twitch" and e.get("counted", True)]
    want = [e for e in truth["events"] if e["kind"] == "twitch"]
    pairs = sorted((abs(f["t_peak_s"] - w["t_peak_s"]), i, j,
                    w["t_start_s"] <= f["t_peak_s"] <= w["t_end_s"])
                   for i, w in enumerate(want) for j, f in enumerate(found))  # fmt: skip
    got: dict[int, int] = {}
    used: set[int] = set()
    for d, i, j, inside in pairs:
        if (d <= tol_s or inside) and i not in got and j not in used:
            got[i] = j
            used.add(j)
    return ([(w, found[got[i]] if i in got else None) for i, w in enumerate(want)],
            [f for j, f in enumerate(found) if j not in used])  # fmt: skip


def analyse(path: Path) -> dict:
    """Track (one process) and analyse ``path``; return the report."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        track = track_video(path, workers=1, audio=False)
        return analysis_run(track).report


def describe(name: str, how: str, report: dict, truth: dict) -> None:
    """Print one run's figures."""
    pairs, extra = matched(report, truth)
    hits = [(w, f) for w, f in pairs if f is not None]
    sides = sum(f["side"] == w["side"] for w, f in hits)
    dirs = sum(f["direction"] == w["direction"] for w, f in hits)
    ratio = [f["amplitude_mm"] / w["amplitude_mm"] for w, f in hits]
    derr = [abs((f["direction_deg"] - w["direction_deg"] + 180) % 360 - 180) for w, f in hits]
    warn = [w for w in report["quality"]["warnings"] if "interlaced" in w]
    print(f"{name:13s} {how:6s} found {len(hits)}/{len(pairs)}  side {sides}/{len(hits)}  "
          f"direction {dirs}/{len(hits)} (median error {np.median(derr) if derr else np.nan:.0f}"
          f" deg)  size ratio median {np.median(ratio) if ratio else np.nan:.2f} "
          f"[{', '.join(f'{r:.2f}' for r in ratio)}]  false {len(extra)} "
          f"{[(round(f['t_peak_s'], 2), f['side'], f['amplitude_mm']) for f in extra]}"
          f"  input.interlaced={report['input'].get('interlaced')}  "
          f"noise {report['quality'].get('noise_mm')} mm"
          + (f"\n{'':20s}warning: {warn[0]}" if warn else ""))  # fmt: skip


def speed(path: Path) -> float:
    """Return frames/s through VideoReader (one pass)."""
    t0 = time.perf_counter()
    with VideoReader(path) as video:
        n = sum(1 for _ in video)
    return n / (time.perf_counter() - t0)


def filter_ms(path: Path) -> float:
    """Return the deinterlacer's own time per frame, ms (decoded frames in, frames out)."""
    from facetwitch.landmarks.video import _deinterlacer, _pulled

    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    graph = _deinterlacer(frames[0], frames[0].time_base, parity="auto", deint="interlaced")
    t0 = time.perf_counter()
    n = 0
    for vf in [*frames, None]:
        graph.vpush(vf)
        n += len(_pulled(graph))
    assert n == len(frames)
    return 1000 * (time.perf_counter() - t0) / n


def main() -> None:
    """Make the clips, analyse them with and without deinterlacing, time the decoding."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/facetwitch-interlaced"))
    args = ap.parse_args()
    made = clips(args.work)
    for name in ("demo_30p", "demo_15p", "demo_15i", "demo60_30p", "demo_30i"):
        path, truth = made[name]
        describe(name, "after", analyse(path), truth)
        if name.endswith("i"):
            with deinterlacing_bypassed():
                describe(name, "before", analyse(path), truth)
            with field_rate():
                describe(name, "fields", analyse(path), truth)
    p720 = made["demo_720_30i"][0]
    with_filter, without = [], []
    for _ in range(5):  # alternated, best of five each
        with_filter.append(speed(p720))
        with deinterlacing_bypassed():
            without.append(speed(p720))
    print(f"decoding {p720.name} (1280x720, 30i, 300 frames) through VideoReader: "
          f"{max(with_filter):.0f} frames/s deinterlaced, {max(without):.0f} frames/s as decoded; "
          f"bwdif alone {filter_ms(p720):.2f} ms a frame")  # fmt: skip


if __name__ == "__main__":
    main()
