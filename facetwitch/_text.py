r"""User text and file names as data: always valid Unicode, never interpreted, shown as given.

Python hands over file names and command-line words that are not valid UTF-8 as strings with
lone surrogates (``os.fsdecode``'s ``surrogateescape``: a Latin-1 ``café.mp4`` is
``'caf\udce9.mp4'``). Such a string cannot be written as UTF-8 (report.json, HTML, PDF, text):
every output takes its text through :func:`text_clean`, and a path's exact bytes travel
beside its readable form (:func:`path_fields`, :func:`path_from_fields`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Controls that reorder text (bidi embeddings, overrides, isolates): in a file name they can
#: make ``evil\u202egpj.exe`` read as ``evilexe.jpg``.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def text_clean(text: str) -> str:
    """``text`` with every lone surrogate (a byte that was not UTF-8) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def path_text(path: str | os.PathLike) -> str:
    """Return a path as readable Unicode.

    Its bytes decoded as UTF-8, undecodable bytes as U+FFFD.
    """
    return os.fsencode(path).decode("utf-8", "replace")


def path_fields(path: str | os.PathLike, key: str = "path") -> dict[str, str]:
    """``{key: readable path}``.

    Plus ``{key + "_bytes_hex": its bytes in hex}`` when the path is not valid UTF-8 (so that the
    file can still be found: :func:`path_from_fields`).
    """
    raw = os.fsencode(path)
    out = {key: raw.decode("utf-8", "replace")}
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        out[f"{key}_bytes_hex"] = raw.hex()
    return out


def path_from_fields(fields: dict, key: str = "path") -> Path | None:
    """Return the path that :func:`path_fields` described (exact bytes when they were kept).

    Otherwise None when there is none.
    """
    raw = fields.get(f"{key}_bytes_hex")
    if isinstance(raw, str):
        try:
            return Path(os.fsdecode(bytes.fromhex(raw)))
        except ValueError:
            pass
    value = fields.get(key)
    if not isinstance(value, str) or not value:
        return None
    return Path(value)


def display_name(text: str) -> str:
    r"""Return a file name as it may be shown in a report or a message.

    Valid Unicode, control characters and bidi controls written out (``\x1b``, ``\u202e``) rather
    than obeyed.
    """
    out = []
    for ch in text_clean(str(text)):
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def json_text_clean(o):
    """``o`` (JSON-like: dicts, lists, strings, numbers) with every string :func:`text_clean`.

    Strict JSON whose strings are valid Unicode for any reader.
    """
    if isinstance(o, str):
        return text_clean(o)
    if isinstance(o, dict):
        return {text_clean(str(k)): json_text_clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [json_text_clean(v) for v in o]
    return o


def path_info_clean(info: dict, key: str = "path") -> dict:
    """Return a copy of ``info`` whose ``key`` is readable Unicode.

    With ``key + "_bytes_hex"`` added when the path held bytes that are not UTF-8 (kept if it is
    there already).
    """
    out = dict(info)
    value = out.get(key)
    if isinstance(value, str) and f"{key}_bytes_hex" not in out:
        out.update(path_fields(value, key))
    return out


def isolated(text: str) -> str:
    """Return ``text`` isolated (U+2068 ... U+2069) when it holds right-to-left letters.

    ``text`` between Unicode's first-strong isolate and pop-directional isolate (U+2068, U+2069)
    when it holds right-to-left letters (Hebrew, Arabic): inside an English sentence it then keeps
    its own order without reordering the words and punctuation around it. Text without such letters
    is returned as it is.
    """
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return f"\u2068{text}\u2069"
    return text


def plural(n: int, word: str) -> str:
    """``1 video``, ``2 videos``, ``0 twitches``: a count and its noun, singular only for 1."""
    return f"{n} {word}" + ("" if n == 1 else "es" if word.endswith("ch") else "s")


def frames_left_out(n: int) -> str:
    """Return the words for ``n`` frames left out for their timestamps (terminal and report)."""
    return (f"{plural(n, 'frame')} left out: their timestamps repeat or go back (a damaged or "
            "badly written file)")  # fmt: skip
