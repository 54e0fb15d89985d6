"""Cost of reading a complaint: time per character of ``complaint_parse`` as the text grows.

For each text shape that once made the parser's regular expressions backtrack or its span
checks go quadratic (runs of white space after a keyword, the same keywords again and again),
prints the parse time (CPU time of this process, so that other work on the machine does not
count) at 10^4 to 8 x 10^5 characters and the ratio of each to the time at the first size:
linear, each doubling of the text doubles the time (a quadratic parser's would quadruple).
With ``--baseline DIR``, the same shapes are timed (wall clock) with the facetwitch package
found in DIR (an older checkout), at 2,000 and 4,000 characters only, under a time limit.

Usage::

    python benchmarks/complaint_cost.py [--sizes 10000 100000 200000] [--baseline DIR]

The command line refuses descriptions over 10,000 characters (``MAX_COMPLAINT_CHARS``) before
anything runs; the larger sizes show that the library call stays linear anyway. Not a test:
figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

SHAPES = {
    "for + spaces": lambda n: "for" + " " * (n - 4) + "x",
    "up + spaces": lambda n: "up" + " " * (n - 3) + "x",
    "keywords repeated": lambda n: ("for the past few up and to the left lip eye " * n)[:n],
    "similes": lambda n: ("like a eye " * n)[:n],
    "regions": lambda n: ("upper lip lip eyelid eye " * n)[:n],
    "sentences": lambda n: ("a.\n" * n)[:n],
    "prose": lambda n: (
        "My upper lip twitches upwards and to the left, several times a day, "
        "for the past few weeks; it feels numb. " * n
    )[:n],  # fmt: skip
}


def _time_shapes(sizes: list[int]) -> dict[str, list[float]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's facetwitch
    from facetwitch.complaint import complaint_parse

    out = {}
    for name, make in SHAPES.items():
        row = []
        for n in sizes:
            text = make(n)
            t0 = time.process_time()  # CPU time: what other processes do is not counted
            complaint_parse(text)
            row.append(time.process_time() - t0)
        out[name] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+",
                    default=[10_000, 100_000, 200_000, 400_000, 800_000])  # fmt: skip
    ap.add_argument("--baseline", type=Path, help="an older checkout to time the same way")
    ap.add_argument("--limit-s", type=float, default=120.0, help="time limit per baseline shape")
    args = ap.parse_args()
    if args.baseline is not None:
        for name in SHAPES:
            code = (f"import sys, time; sys.path.insert(0, {str(args.baseline)!r}); "
                    f"sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                    "from complaint_cost import SHAPES; "
                    "from facetwitch.complaint import complaint_parse\n"
                    "for n in (2000, 4000):\n"
                    f"    s = SHAPES[{name!r}](n); t = time.perf_counter(); complaint_parse(s)\n"
                    "    print(n, round(time.perf_counter() - t, 3), flush=True)")  # fmt: skip
            try:
                p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   timeout=args.limit_s)  # fmt: skip
                got = p.stdout.split()
            except subprocess.TimeoutExpired as exc:
                got = (exc.stdout or b"").decode().split() + ["(over", f"{args.limit_s:.0f} s)"]
            print(f"baseline {name:<18} {' '.join(got)}")
    times = _time_shapes(args.sizes)
    head = "".join(f"{n:>12,}" for n in args.sizes)
    print(f"{'shape':<20}{head}   ratio to {args.sizes[0]:,} chars")
    for name, row in times.items():
        ratios = " ".join(f"{x / row[0]:.0f}x" for x in row[1:]) if row[0] > 0 else ""
        print(f"{name:<20}" + "".join(f"{x:>11.3f}s" for x in row) + f"   {ratios}")


if __name__ == "__main__":
    main()
