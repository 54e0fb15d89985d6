"""Twitch simulator: inject events of known size, direction and timing into real face footage.

Ground truth for the analysis (issue 3). Two public steps, NeuroKit-style, and the call that
chains them:

- :func:`twitch_simulate` (:mod:`.plan`) plans events (random but reproducible by ``seed``):
  region, side, amplitude in mm, direction in degrees (CONVENTIONS face frame: 0 = toward the
  patient's left, 90 = up), onset, temporal profile (raised-cosine rise of 30-80 ms,
  exponential-like decay back to 0, 100-600 ms in all; sometimes a burst of 2-4 pulses), and
  optionally blinks; :func:`event_profile` gives an event's displacement over time.
- :func:`video_inject` (:mod:`.inject`) runs the Face Landmarker once over the clean source
  (VIDEO mode) to place each event on the face, warps the frames with a smooth local field that
  moves the skin by the planned vector (:mod:`.warp`), encodes the result (:mod:`.encode`:
  H.264, the source frames' timestamps kept) and writes the truth beside it
  (``<dst>.truth.json``) in report.json's own event fields.
- :func:`simulate_process` (:mod:`.process`) plans for the source's length and injects.

:func:`video_occlude` (:mod:`.occlude`) paints a hand (with its forearm) over an eye, a cheek or
the mouth of real footage: what the analysis must annotate ``BAD_occlusion``, not count.

:func:`injection_check` (:mod:`.checks`) measures how much of each injected displacement the
landmark model's points follow in a track of the injected video (MediaPipe smooths fast motion
away).

Spatial model of a twitch (:mod:`.warp`): a Gaussian bump of skin displacement around the
centroid of the region's landmarks, ``v`` = the amplitude in mm x px-per-mm along the
face-frame direction converted to image axes. The iris scale and the face axes are the
project's one definition (:mod:`facetwitch.geometry`: face +x = unit vector from landmark 33
to 263, i.e. toward the patient's left in an unmirrored video, flipped for a mirrored one;
face +y = its perpendicular toward the forehead).
"""

from .checks import REFERENCE_LANDMARKS, injection_check
from .inject import MAX_GAP_S, video_inject
from .occlude import video_occlude
from .plan import DECAY_K, DEFAULT_REGIONS, event_profile, twitch_simulate
from .process import simulate_process
from .warp import BLINK_CLOSURE, MIN_SIGMA_MM, MIN_SIGMA_PX, SIGMA_PER_SPREAD

__all__ = [
    "BLINK_CLOSURE",
    "DECAY_K",
    "DEFAULT_REGIONS",
    "MAX_GAP_S",
    "MIN_SIGMA_MM",
    "MIN_SIGMA_PX",
    "REFERENCE_LANDMARKS",
    "SIGMA_PER_SPREAD",
    "event_profile",
    "injection_check",
    "simulate_process",
    "twitch_simulate",
    "video_inject",
    "video_occlude",
]
