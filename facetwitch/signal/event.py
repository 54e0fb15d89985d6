"""One event of the detector, in the units of CONVENTIONS.md (seconds, mm, face-frame degrees)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..conventions import EVENT_FIELDS, EVENT_REASONS, direction_word


@dataclass(frozen=True)
class Event:
    """One event, in the units of CONVENTIONS.md (seconds, mm, face-frame degrees)."""

    kind: str
    region: str
    side: str
    t_start_s: float
    t_peak_s: float
    t_end_s: float
    amplitude_mm: float
    direction_deg: float
    confidence: float = 0.0
    pulse_count: int = 1
    snr: float = 0.0
    id: int = 0
    co_occurring: tuple[int, ...] = field(default_factory=tuple)
    also_moved: tuple[str, ...] = field(default_factory=tuple)
    #: Why the event is not a twitch: a key of :data:`~facetwitch.conventions.EVENT_REASONS`
    #: ("" for a twitch). Data for programs; :attr:`reason` is its words.
    reason_code: str = ""
    #: False when the peak lies in time that cannot be assessed (a ``BAD_`` annotation):
    #: measured, listed, but not counted in the rates (:func:`~.annotate.events_count`).
    counted: bool = True
    #: The ``BAD_`` annotation the peak lies in ("" when counted).
    annotation: str = ""
    #: Frames the camera or encoder dropped between start and end (set by the analysis).
    frames_missing: int = 0
    #: Rise of the strongest pulse from 25 % of its peak to the peak, in seconds (NaN: unknown,
    #: then ``t_peak_s - t_start_s``). For a burst this is not the burst's own rise.
    rise_s: float = float("nan")
    #: Fall of the strongest pulse from its peak to 25 % of it, in seconds (NaN: unknown, then
    #: ``t_end_s - t_peak_s``). With :attr:`rise_s` it spans that pulse inside a burst.
    fall_s: float = float("nan")
    #: Onset and offset as reported (:data:`EDGE_FRACTION`), in seconds; NaN: not measured.
    #: Detection and kinds use the 25 % edges ``t_start_s``/``t_end_s``, which
    #: :func:`events_measured` replaces with these at the end.
    onset_s: float = float("nan")
    offset_s: float = float("nan")

    def __post_init__(self) -> None:
        if not (self.t_start_s <= self.t_peak_s <= self.t_end_s):
            raise ValueError(
                f"event times must satisfy start <= peak <= end, got "
                f"{self.t_start_s}, {self.t_peak_s}, {self.t_end_s}"
            )
        if self.reason_code not in EVENT_REASONS:
            raise ValueError(f"unknown reason_code {self.reason_code!r}")
        if self.amplitude_mm < 0:
            raise ValueError(f"amplitude_mm must be >= 0, got {self.amplitude_mm}")

    @property
    def duration_s(self) -> float:
        """t_end_s - t_start_s, in seconds."""
        return self.t_end_s - self.t_start_s

    @property
    def reason(self) -> str:
        """Why the event is not a twitch, in words ("" for a twitch)."""
        return EVENT_REASONS[self.reason_code]

    @property
    def direction(self) -> str:
        """Eight-sector word of ``direction_deg``."""
        return direction_word(self.direction_deg)

    def to_dict(self) -> dict:
        """Return the report.json event object (CONVENTIONS field names, plus a few extras)."""
        d = asdict(self)
        values = {
            "id": self.id,
            "kind": self.kind,
            "region": self.region,
            "side": self.side,
            "t_start_s": round(self.t_start_s, 3),
            "t_peak_s": round(self.t_peak_s, 3),
            "t_end_s": round(self.t_end_s, 3),
            "duration_s": round(self.duration_s, 3),
            "amplitude_mm": round(self.amplitude_mm, 2),
            "direction_deg": round(self.direction_deg, 1) % 360.0,
            "direction": self.direction,
            "co_occurring": list(d["co_occurring"]),
            "confidence": round(self.confidence, 2),
            "counted": self.counted,
            "annotation": self.annotation,
            "pulse_count": self.pulse_count,
            "frames_missing": self.frames_missing,
            "snr": round(self.snr, 1),
            "also_moved": list(d["also_moved"]),
            "reason_code": self.reason_code,
            "reason": self.reason,
        }
        return {k: values[k] for k in EVENT_FIELDS}
