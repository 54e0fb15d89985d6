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

# lazily (facetwitch._lazy): the planner (:mod:`.plan`, numpy only) is also what the analysis'
# sensitivity test draws its test twitches from (facetwitch.signal.sensitivity), which must not
# load OpenCV and MediaPipe with it
from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "REFERENCE_LANDMARKS": ".checks",
    "injection_check": ".checks",
    "MAX_GAP_S": ".inject",
    "video_inject": ".inject",
    "video_occlude": ".occlude",
    "DECAY_K": ".plan",
    "DEFAULT_REGIONS": ".plan",
    "event_profile": ".plan",
    "twitch_simulate": ".plan",
    "simulate_process": ".process",
    "BLINK_CLOSURE": ".warp",
    "MIN_SIGMA_MM": ".warp",
    "MIN_SIGMA_PX": ".warp",
    "SIGMA_PER_SPREAD": ".warp",
})  # fmt: skip
