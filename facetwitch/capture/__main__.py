"""``python -m facetwitch.capture SOURCE OUT_DIR [options]``: a bare recording session.

For scripts and tests (e.g. killing a recording with SIGKILL); users run ``facetwitch record``.
"""

from __future__ import annotations

import argparse
import sys

from .session import record_session
from .source import FileSource, source_open


def main(argv: list[str] | None = None) -> int:
    """Record ``SOURCE`` (a camera index or a video file) into ``OUT_DIR``; print the paths."""
    p = argparse.ArgumentParser(prog="python -m facetwitch.capture", description=__doc__)
    p.add_argument("source", help="camera index or video file (played in real time)")
    p.add_argument("out_dir")
    p.add_argument("--duration", type=float, default=None, help="seconds to record")
    p.add_argument("--preview", action="store_true", help="show the preview window")
    p.add_argument("--analyze", action="store_true", help="analyse the recording afterwards")
    p.add_argument(
        "--fail-after",
        type=float,
        default=None,
        help="(file sources) simulate a disconnect after this many seconds",
    )
    p.add_argument(
        "--mark-at",
        type=float,
        action="append",
        default=[],
        help="add a patient marker at this time (s); repeatable",
    )
    args = p.parse_args(argv)
    source = source_open(args.source)
    if isinstance(source, FileSource):
        source.fail_after_s = args.fail_after
    pending = sorted(args.mark_at)

    def on_frame(frame, recorder):
        while pending and frame.t_s >= pending[0]:
            recorder.add_marker(pending.pop(0))

    result = record_session(
        source, args.out_dir, duration_s=args.duration, preview=args.preview,
        analyze=args.analyze, on_frame=on_frame,
    )  # fmt: skip
    print(
        f"{result.video_path}: {result.frames} frames, {result.duration_s:.2f} s, "
        f"stopped: {result.stop_reason}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
