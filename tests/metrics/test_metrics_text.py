"""SOT parsing and word timing on hand-made examples."""

import pytest

from espnet2_jstar.metrics.latency import assign_words_to_segments
from espnet2_jstar.metrics.text import (
    TimedWord,
    attributed_words,
    pieces_to_words,
    split_sot,
    split_timed_words,
    strip_tags,
    tokenize_sot,
)


def test_strip_tags():
    assert strip_tags("<self> where is  the station <other> está cerca") == (
        "where is the station está cerca"
    )
    assert strip_tags("<self> <other>") == ""
    assert strip_tags("<self>where is<other>x") == "where is x"  # glued tags
    assert strip_tags("a <unk> b") == "a <unk> b"  # only speaker tags are removed


def test_tokenize_sot_splits_glued_tags():
    assert tokenize_sot("<self>where is<other> x") == ["<self>", "where", "is", "<other>", "x"]


def test_split_sot():
    assert split_sot("<self> where is it <other> está aquí") == [
        ("self", "where is it"),
        ("other", "está aquí"),
    ]
    # words before the first tag: speaker None; a tag with no words: empty segment
    assert split_sot("hola <self> <other> x y") == [(None, "hola"), ("self", ""), ("other", "x y")]
    assert split_sot("") == []
    assert split_sot("   ") == []


def test_attributed_words():
    assert attributed_words("a <other> b c <self> d") == [
        ("a", None),
        ("b", "other"),
        ("c", "other"),
        ("d", "self"),
    ]


def _p(piece, t, wall=None):
    return {"piece": piece, "t": t, "wall": t + 0.01 if wall is None else wall}


def test_pieces_to_words_times_are_last_piece():
    pieces = [
        _p("▁", 0.10),  # boundary only (sentencepiece emits "▁" before a user symbol)
        _p("<self>", 0.20, 0.25),
        _p("▁wh", 0.30),
        _p("ere", 0.50, 0.58),
        _p("▁is", 0.70, 0.72),
        _p("▁<other>", 0.90, 0.95),  # tag with the boundary glued on
        _p("est", 1.10),  # piece right after a tag starts a new word
        _p("á", 1.30, 1.41),
        _p("▁", 1.50),  # trailing lone boundary: no empty word
    ]
    assert pieces_to_words(pieces) == [
        TimedWord("<self>", 0.20, 0.25),
        TimedWord("where", 0.50, 0.58),
        TimedWord("is", 0.70, 0.72),
        TimedWord("<other>", 0.90, 0.95),
        TimedWord("está", 1.30, 1.41),
    ]


def test_pieces_to_words_first_piece_without_boundary_and_empty():
    assert pieces_to_words([_p("ab", 0.1, 0.2), _p("c", 0.3, 0.4)]) == [TimedWord("abc", 0.3, 0.4)]
    assert pieces_to_words([]) == []


def test_pieces_to_words_char_tokens_with_space():
    pieces = [_p("<self>", 0.1, 0.1), _p("h", 0.2, 0.2), _p("i", 0.3, 0.3),
              _p("<space>", 0.4, 0.4), _p("y", 0.5, 0.5), _p("o", 0.6, 0.6)]
    assert [(w.word, w.t) for w in pieces_to_words(pieces)] == [
        ("<self>", 0.1), ("hi", 0.3), ("yo", 0.6)]


def test_pieces_to_words_missing_key():
    with pytest.raises(KeyError):
        pieces_to_words([{"piece": "▁a", "t": 0.1}])


def _w(word, t):
    return TimedWord(word, t, t)


def test_split_timed_words_and_assignment():
    words = [_w("x", 0.1), _w("<self>", 0.2), _w("a", 0.3), _w("<other>", 0.4), _w("b", 0.5)]
    segs = split_timed_words(words)
    assert [(s, [w.word for w in ws]) for s, ws in segs] == [
        (None, ["x"]),
        ("self", ["a"]),
        ("other", ["b"]),
    ]

    def words_of(assigned):
        return [[w.word for w in ws] for ws in assigned]

    # more hypothesis segments than reference segments: extras merge into the last
    assert words_of(assign_words_to_segments(words, 2)) == [["x"], ["a", "b"]]
    # fewer: the remaining reference segments have no output
    assert words_of(assign_words_to_segments(words, 4)) == [["x"], ["a"], ["b"], []]
    # an empty tagged segment keeps its position
    words2 = [_w("<self>", 0.1), _w("<other>", 0.2), _w("b", 0.3)]
    assert words_of(assign_words_to_segments(words2, 2)) == [[], ["b"]]
