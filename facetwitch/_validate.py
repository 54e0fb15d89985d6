"""Shared option / type / shape checks with uniform messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(
            f"Invalid value for the {name!r} parameter. Allowed values are "
            f"{', '.join(repr(a) for a in allowed)}, but got {value!r} instead."
        )
    return value


def check_positive(name: str, value: float) -> float:
    """Check that ``value`` is a finite number > 0."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name!r} must be a finite number > 0, got {value!r}.")
    return float(value)
