"""Plan + inject in one call (what the CLI runs)."""

from __future__ import annotations

import os
from pathlib import Path

from .._files import input_check
from .encode import _outputs_check
from .inject import video_inject
from .plan import DEFAULT_REGIONS, twitch_simulate


def simulate_process(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    n_events: int = 8,
    n_blinks: int = 0,
    regions=DEFAULT_REGIONS,
    sides=("left", "right"),
    amplitude_mm=(1.0, 3.0),
    seed=None,
    mirrored: bool = False,
    model=None,
    progress=None,
) -> dict:
    """Plan events for the length of ``src`` and inject them; write and return the truth.

    Chains :func:`~facetwitch.simulation.twitch_simulate` and
    :func:`~facetwitch.simulation.video_inject`.

    Parameters
    ----------
    src, dst : path
        Clean source video and injected output (.mp4); the truth goes beside ``dst``
        (``dst.with_suffix(".truth.json")``).
    n_events, n_blinks : int
        Numbers of twitches and of blinks.
    regions, sides, amplitude_mm, seed
        As for :func:`~facetwitch.simulation.twitch_simulate` (amplitude in mm).
    mirrored, model, progress
        As for :func:`~facetwitch.simulation.video_inject`.

    Returns
    -------
    dict
        The truth (:func:`~facetwitch.simulation.video_inject`).
    """
    from ..landmarks.video import video_probe

    _outputs_check(Path(src), Path(dst))  # a usage error first, before the source is probed
    input_check(src)
    duration = video_probe(src).duration_s
    events = twitch_simulate(
        n_events,
        duration,
        regions=regions,
        sides=sides,
        amplitude_mm=amplitude_mm,
        n_blinks=n_blinks,
        seed=seed,
    )
    return video_inject(src, dst, events, mirrored=mirrored, model=model, progress=progress)
