"""Issue 19, the parts that need no model.

User text as data, the cost of a complaint, frame times that are not what they seem (the end-to-end
cases are in test_bad_input.py).
"""

from __future__ import annotations

import json
import os
import signal
import warnings

import numpy as np
import pytest

from facetwitch.errors import FacetwitchWarning, UsageError


# -- class 1: user text as data --------------------------------------------------------------------
def test_a_path_that_is_not_utf8_keeps_its_bytes_beside_a_readable_form():
    from facetwitch._text import path_fields, path_from_fields, path_info_clean

    path = os.fsdecode(b"/videos/caf\xe9.mp4")
    fields = path_fields(path)
    assert fields == {"path": "/videos/caf\ufffd.mp4",
                      "path_bytes_hex": b"/videos/caf\xe9.mp4".hex()}  # fmt: skip
    json.dumps(fields, ensure_ascii=False).encode("utf-8")  # strict UTF-8 works
    assert str(path_from_fields(fields)) == path
    assert path_fields("/videos/tëst ☺.mp4") == {"path": "/videos/tëst ☺.mp4"}
    assert path_info_clean({"path": path, "x": 1})["path_bytes_hex"] == fields["path_bytes_hex"]
    assert path_from_fields({"path": ""}) is None


def test_display_name_shows_controls_instead_of_obeying_them():
    from facetwitch._text import display_name

    assert display_name("evil\u202egpj.exe") == "evil\\u202egpj.exe"
    assert display_name("a\x1b[31mred") == "a\\x1b[31mred"
    assert display_name("tëst ☺ 中文.mp4") == "tëst ☺ 中文.mp4"


def test_right_to_left_text_is_isolated_in_sentences():
    from facetwitch._text import isolated

    assert isolated("שלום") == "\u2068שלום\u2069"
    assert isolated("مرحبا left") == "\u2068مرحبا left\u2069"
    assert isolated("plain English, 中文") == "plain English, 中文"


def test_a_complaint_that_is_not_utf8_becomes_readable_with_a_warning():
    from facetwitch.complaint import complaint_text_check

    with pytest.warns(FacetwitchWarning, match="not UTF-8 text"):
        assert complaint_text_check(os.fsdecode(b"caf\xe9")) == "caf\ufffd"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert complaint_text_check("café $$ ☺") == "café $$ ☺"


# -- class 6: cost of input ------------------------------------------------------------------------
#: Text shapes that made the old parser's regular expressions backtrack or its span checks go
#: quadratic: runs of white space after each keyword, the same keywords over and over.
ADVERSARIAL = {
    "for_spaces": lambda n: "for" + " " * (n - 4) + "x",
    "up_spaces": lambda n: "up" + " " * (n - 3) + "x",
    "lasts_spaces": lambda n: "lasts" + " " * (n - 6) + "1",
    "twitch_spaces_times": lambda n: "1" + " " * (n - 8) + "times a",
    "mixed_white_space": lambda n: ("for\t\u00a0\u3000 \n" * n)[:n],
    "keywords_repeated": lambda n: ("for the past few up and to the left lip eye " * n)[:n],
    "similes": lambda n: ("like a eye " * n)[:n],
    "specific_and_vague_regions": lambda n: ("upper lip lip eyelid eye " * n)[:n],
    "digits": lambda n: "for " + "1" * (n - 4),
    "sentences": lambda n: ("a.\n" * n)[:n],
    "negations": lambda n: ("no pain not numb " * n)[:n],
}


#: The longest description accepted (facetwitch.complaint.MAX_COMPLAINT_CHARS).
LIMIT = 10_000


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_parsing_is_linear_on_adversarial_text_at_the_size_limit(shape):
    r"""Every shape at the largest size accepted (10,000 characters) is parsed.

    Under a generous guard: the old parser took 48 s for 30,000 spaces, and hours for "for" and
    10,000 spaces (three \s* in a row: cubic). The cost per character is in
    benchmarks/complaint_cost.py.
    """
    from facetwitch.complaint import complaint_parse

    text = ADVERSARIAL[shape](LIMIT)
    assert len(text) <= LIMIT

    def too_slow(signum, frame):
        raise TimeoutError(f"complaint_parse on {shape!r} took over 60 s: not linear")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(60)
    try:
        complaint_parse(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_white_space_does_not_change_what_is_read():
    from facetwitch.complaint import complaint_parse

    def claims(text):
        return [(c.aspect, c.claimed) for c in complaint_parse(text)]

    plain = "My upper lip twitches up and to the left, several times a day, for the past week."
    spaced = plain.replace(" ", " \t  \u00a0 ").replace(",", " ,\n\n")
    assert claims(spaced) == claims(plain)
    assert ("direction", "up-left") in claims(plain)


def test_the_size_limit_is_checked_before_parsing():
    from facetwitch.complaint import MAX_COMPLAINT_CHARS, complaint_text_check

    assert MAX_COMPLAINT_CHARS == LIMIT

    assert complaint_text_check("x" * MAX_COMPLAINT_CHARS) == "x" * MAX_COMPLAINT_CHARS
    with pytest.raises(UsageError, match="10,001 characters long"):
        complaint_text_check("x" * (MAX_COMPLAINT_CHARS + 1))
    assert UsageError.exit_code == 2


# -- class 3: time ---------------------------------------------------------------------------------
def test_gaps_split_the_grid_and_the_grid_is_sized_by_the_frames():
    from facetwitch.signal.timing import fps_robust, gaps_find, grid_make

    t = np.concatenate([np.arange(60) / 30, 1e12 + np.arange(60) / 30, [2e12]])
    assert [(i, round(b - a)) for i, a, b in gaps_find(t)] == [(59, 1e12 - 2), (119, 1e12 - 2)]
    grid, in_gap = grid_make(t, 30.0)
    assert len(grid) <= 121 + 2 * 30 and np.all(np.diff(grid) > 0)
    assert in_gap.sum() == 2 * 30 and not in_gap[0] and not in_gap[-1]
    assert fps_robust(t) == pytest.approx(30.0, rel=1e-4)  # floats are coarse at 1e12 s
    # no gap: the grid the signals always had (t = 0, 1/fs, ...)
    even = np.arange(72) / 30
    grid, in_gap = grid_make(even, 30.0)
    np.testing.assert_array_equal(grid, np.arange(0.0, even[-1] + 0.5 / 30, 1 / 30))
    assert not in_gap.any()


def test_any_times_give_a_bounded_grid():
    """Worst cases of strictly increasing times.

    Every interval just under the gap limit, or huge times where floats are coarse. The grid holds
    at most fs x 1 s a frame plus 1 s a gap.
    """
    from facetwitch.signal.timing import grid_make

    rng = np.random.default_rng(0)
    for t in (np.cumsum(rng.uniform(0.9, 0.999, 200)), 1e15 + np.arange(50) * 0.25,
              np.cumsum(rng.choice([1 / 60, 0.99, 5000.0], 300))):  # fmt: skip
        grid, _ = grid_make(t, 60.0)
        assert len(grid) <= 60 * len(t) + 60 * len(t)
        assert np.all(np.diff(grid) > 0)


def test_frames_missing_counts_drops_not_gaps():
    from facetwitch.signal.timing import frames_missing

    t = np.arange(90) / 30
    t = np.delete(t, [40, 60, 61])  # one frame dropped after 39, two after 59
    t[70:] += 10.0  # and a gap: not frames missing
    missing = frames_missing(t)
    assert missing.sum() == 3
    assert missing[39] == 1 and missing[58] == 2


def test_no_interval_across_a_gap():
    from facetwitch.analysis import intervals_describe

    peaks = [1.0, 2.0, 3.0, 4.0, 14403.0, 14404.0]
    assert intervals_describe(peaks)["rhythmic"] is False  # the 4 h "interval"
    rhythm = intervals_describe(peaks, gaps_s=[(4.5, 14402.5)])
    assert rhythm["median_s"] == 1.0 and rhythm["rhythmic"] is True
    assert rhythm["peak_hz"] is None  # no spectrum across a gap


def test_summary_txt_shows_control_characters_instead_of_obeying_them():
    """summary.txt shows a description's control characters instead of obeying them.

    A description holding a terminal's escape sequence (or a bidi override) was copied raw into
    summary.txt: `cat summary.txt` ran it. Now it is written out.
    """
    from facetwitch.reports import summary_text

    report = {"schema_version": "1", "input": {"path": "/v/a\x1b]0;x\x07.mp4"}, "quality": {},
              "events": [], "summary": {},
              "complaint": {"text": "bla \x1b[31mred \u202eevil", "claims": []}}  # fmt: skip
    text = summary_text(report)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "bla \\x1b[31mred \\u202eevil" in text and "a\\x1b]0;x\\x07.mp4" in text
