"""sealkit's strict PDF lexer (:mod:`sealkit.pdf.pdf_lexer`): values, positions, repeated keys, the token and
depth bounds, and one clear error for what is not an object. (It reads the xref layer for the audit and every
object of an update for repeated keys, so its reading is pinned here.)"""

from __future__ import annotations

import pytest

from sealkit.pdf import pdf_lexer
from sealkit.pdf.pdf_lexer import Keyword, Lexer, LexError, Ref

READS = [
    (
        b"<< /Type /Page /Kids [1 0 R 2 0 R] /Count 3 >>",
        {"/Type": "/Page", "/Kids": [Ref(1, 0), Ref(2, 0)], "/Count": 3},
        46,
        9,
    ),
    (
        b"<</A#20B 1/C(str\\)ing (nested) )/D<41 4 2>/E -1.5/F +3/G .5/H true/I null>>",
        {
            "/A B": 1,
            "/C": b"str\\)ing (nested) ",
            "/D": b"AB",
            "/E": -1.5,
            "/F": 3,
            "/G": 0.5,
            "/H": Keyword(b"true"),
            "/I": Keyword(b"null"),
        },
        75,
        17,
    ),
    (
        b"[1 %comment\n 0 R 12 1234567 R 7 65535 R]",
        [Ref(1, 0), 12, 1234567, Keyword(b"R"), Ref(7, 65535)],
        40,
        6,
    ),
    (b"  % lead\n /Name#2", "/Name#2", 17, 1),
    (b"[1 0 Rx]", [1, 0, Keyword(b"Rx")], 8, 4),
    (b"1.2.3", Keyword(b"1.2.3"), 5, 1),
    (b"<< /Cont#65nts 1 >>", {"/Contents": 1}, 19, 3),
    (b"/F#e5 ", "/F\xe5", 5, 1),
    (b"<<>>", {}, 4, 1),
]


@pytest.mark.parametrize(("data", "value", "end", "tokens"), READS)
def test_reads_values_and_positions(data, value, end, tokens):
    lexer = Lexer(data)
    assert lexer.read(0) == (value, end)
    assert lexer._tokens == tokens
    assert lexer.duplicates == []


def test_records_every_repeated_key_where_it_is_written():
    lexer = Lexer(b"<< /A 1 /A 2 /B << /C 3 /C 4 >> /C#20 5 >>")
    assert lexer.read(0) == ({"/A": 2, "/B": {"/C": 4}, "/C ": 5}, 42)
    assert lexer.duplicates == [(8, "/A"), (24, "/C")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<< /K 1\x0b0 R >>", "a dictionary key is not a name at offset 10"),
        (b"<< /A 1 >x", "a dictionary key is not a name at offset 8"),
        (b"<< /A 1", "a dictionary key is not a name at offset 7"),
        (b"<41%>", "a hex string holds other characters"),
        (b"<41", "a hex string is not closed"),
        (b"(unclosed", "a string is not closed"),
        (b"[1 2", "an array is not closed"),
        (b"}", "unexpected b'}' at offset 0"),
        (b"", "unexpected b'' at offset 0"),
    ],
)
def test_what_is_not_an_object_is_a_lex_error(data, message):
    with pytest.raises(LexError, match="^" + message.replace("[", r"\[").replace("(", r"\(") + "$"):
        Lexer(data).read(0)


def test_nesting_and_size_are_bounded(monkeypatch):
    deep = b"[" * 64 + b"]" * 64
    assert Lexer(deep).read(0)[1] == 128
    with pytest.raises(LexError, match="nested too deeply"):
        Lexer(b"[" * 66 + b"]" * 66).read(0)
    assert Lexer(b"<< /A " * 64 + b"1" + b" >>" * 64).read(0)[1] == 64 * 9 + 1
    with pytest.raises(LexError, match="nested too deeply"):
        Lexer(b"<< /A " * 65 + b"1" + b" >>" * 65).read(0)  # the innermost key is one level too deep
    monkeypatch.setattr(pdf_lexer, "_MAX_TOKENS", 5)
    assert Lexer(b"<< /A 1 /B 2 >>").read(0)[1] == 15
    with pytest.raises(LexError, match="too large"):
        Lexer(b"<< /A 1 /B 2 /C 3 >>").read(0)
