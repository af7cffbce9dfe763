"""Text sync, differentially: random incremental edit sequences applied by the server's document
model and by an independent reference model of the LSP text (tests/support/text_sync.py) give the
same text and lines, and the incrementally updated tree equals a fresh parse of that text.

CI runs `TEXT_SYNC_EXAMPLES` sequences (default 200); `python -m benchmarks.robustness.text_sync`
runs the recorded figure.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.text_sync import check_sequence, reference_offset, sequences

EXAMPLES = int(os.environ.get("TEXT_SYNC_EXAMPLES", "200"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sequences)
def test_incremental_edits_agree_with_the_reference_and_a_fresh_parse(case):
    (language, uri), text, edits = case
    check_sequence(language, uri, text, edits)


REFERENCE = [
    # (text, line, character, encoding, offset): the reference model itself, by hand
    ("a\r\nb", 0, 5, "utf-16", 1),  # past the line's end: before its CRLF
    ("a\rb\nc", 1, 0, "utf-16", 2),  # a lone CR ends a line
    ("a\fb\u2028c", 0, 3, "utf-16", 3),  # form feed and U+2028 do not
    ("😀x", 0, 1, "utf-16", 1),  # inside the surrogate pair: the end of the character
    ("😀x", 0, 2, "utf-16", 1),
    ("😀x", 0, 4, "utf-8", 1),
    ("😀x", 0, 1, "utf-32", 1),
    ("ab", 5, 0, "utf-16", 2),  # past the last line: the end of the document
    ("ab", -1, 0, "utf-16", 0),
]


@pytest.mark.parametrize("text, line, character, encoding, offset", REFERENCE)
def test_the_reference_model(text, line, character, encoding, offset):
    assert reference_offset(text, line, character, encoding) == offset
