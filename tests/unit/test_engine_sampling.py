"""The lead constraint's pure parts: how a required indentation is split into forced tokens and
the next token's start, the per-token whitespace table, and the choice of the token that ends
the lead. Generation through llama.cpp is tested in tests/e2e/test_engine_generate.py."""

from __future__ import annotations

import numpy as np
import pytest

from lsp_server.worker.engine.sampling import lead_table, lead_token, split_lead


@pytest.mark.parametrize(
    "lead, expected",
    [
        ("", ("", b"")),
        (" ", ("", b" ")),  # BPE writes a word's leading space with the word
        ("    ", ("   ", b" ")),
        ("\t", ("\t", b"")),
        ("\t ", ("\t", b" ")),
        ("  \t", ("  \t", b"")),
    ],
)
def test_split_lead(lead, expected):
    assert split_lead(lead) == expected


@pytest.mark.parametrize(
    "piece, blanks, code_after",
    [
        (b"x", 0, True),
        (b" if", 1, True),
        (b"\t\tfoo", 2, True),
        (b"   ", 3, False),  # whitespace only
        (b"  \n", 2, False),  # a line break after the blanks
        (b"\r\n", 0, False),
        (b"", 0, False),
        (None, 0, False),  # end of generation
    ],
)
def test_lead_table(piece, blanks, code_after):
    table = lead_table([b"x", piece])
    assert (int(table.blanks[1]), bool(table.code_after[1])) == (blanks, code_after)


class Pieces:
    """A vocabulary of the given token texts; text it has no single token for takes two."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def piece(self, token: int) -> bytes:
        return self.pieces[token]

    def tokenize(self, text: str) -> list[int]:
        t = text.encode("utf-8")
        return [self.pieces.index(t)] if t in self.pieces else [0, 0]


@pytest.mark.parametrize(
    "pieces, logits, need, expected",
    [
        # the likeliest token that starts with the lead's final space and then code
        ([b"x", b" if", b" for", b"  if"], [9, 1, 2, 8], b" ", (2, None)),
        ([b"x", b" if", b"\tif", b" "], [9, 1, 8, 9], b" ", (1, None)),  # a tab is not a space
        ([b"x", b"if", b" ", b"\n"], [1, 2, 9, 9], b"", (1, None)),  # no blanks left: code now
        # no token has the space and code: the space alone, then code
        ([b"x", b"\tif", b" "], [9, 8, 1], b" ", (2, b"")),
        # not even that: the model's own choice
        ([b"x", b"\tif", b"  "], [1, 8, 9], b" ", (2, None)),
    ],
    ids=["space-then-code", "not-a-tab", "code-now", "space-alone", "model-choice"],
)
def test_lead_token(pieces, logits, need, expected):
    vocab = Pieces(pieces)
    table = lead_table(pieces)
    assert lead_token(np.array(logits, dtype=np.float32), need, table, vocab) == expected
