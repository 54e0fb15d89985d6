"""Shared option / type / shape checks with uniform messages."""

from __future__ import annotations

import json
import os
import reprlib
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


def check_flag(name: str, value: Any) -> bool:
    """Return ``value`` as a bool if it is one (numpy's too), else raise ``TypeError``.

    A flag given as a string (``mirrored="false"``, from a config file or a form) is truthy:
    taken as it is, it silently meant the opposite.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name!r} must be True or False, got {value!r}")


def check_path(name: str, value: Any, what: str = "a file") -> Any:
    """Return ``value`` if it is a path (a str, or an ``os.PathLike`` of one), else ``TypeError``.

    ``what`` says what the path is of (``"the output directory"``). None, a number, a list or
    bytes had reached pathlib, whose "expected str, bytes or os.PathLike object, not int" names
    neither the argument nor what it needs.
    """
    if isinstance(value, str) or (isinstance(value, os.PathLike)
                                  and isinstance(os.fspath(value), str)):  # fmt: skip
        return value
    hint = " (bytes: decode it with os.fsdecode)" if isinstance(value, bytes) else ""
    raise TypeError(f"{name!r} must be the path of {what} (a str or os.PathLike), got "
                    f"{reprlib.repr(value)}{hint}")  # fmt: skip


def check_model(model: Any) -> Any:
    """Return ``model`` if it is None (the default model) or a path, else ``TypeError``."""
    return None if model is None else check_path("model", model, "a face_landmarker.task file")


def check_callable(name: str, value: Any, call: str) -> Any:
    """Return ``value`` if it is None or callable, else raise ``TypeError``.

    ``call`` shows how it is called (``"progress(done_frames, total_frames)"``). A callback
    given as ``True`` had failed only when first called, deep inside, after the work began.
    """
    if value is None or callable(value):
        return value
    raise TypeError(f"{name!r} must be None or a function, called as {call}, got "
                    f"{reprlib.repr(value)}")  # fmt: skip


def check_positive(name: str, value: float) -> float:
    """Check that ``value`` is a finite number > 0."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name!r} must be a finite number > 0, got {value!r}.")
    return float(value)


#: The largest integer a JSON file facetwitch reads may hold: 64-bit range, which any count,
#: size, byte offset or timestamp facetwitch writes fits in. A larger one (``10**400`` is valid
#: JSON) cannot be made a float, and failed deep inside a renderer (OverflowError).
JSON_INT_MAX = 2**63


def _json_int(text: str) -> int:
    value = int(text)
    if abs(value) > JSON_INT_MAX:
        raise ValueError(f"a number out of range ({text[:12]}..., {len(text)} digits)")
    return value


def _json_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):  # 1e400 reads as infinity
        raise ValueError(f"a number out of range ({text[:24]})")
    return value


def json_checked(text: str, **kwargs) -> Any:
    """Parse JSON that a user may have edited or damaged; every problem a ``ValueError``.

    ``json.loads``, but a number too large for a float (``10**400``, ``1e400``) and nesting
    too deep for the parser (RecursionError) raise ``ValueError`` too, like any other JSON
    that is not what facetwitch writes, instead of failing later where they are used.
    """
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, **kwargs)
    except RecursionError:
        raise ValueError("nested too deeply") from None
