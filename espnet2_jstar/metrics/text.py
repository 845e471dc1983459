"""Text utilities for SOT (serialized output training) strings with speaker tags.

An SOT string is a sequence of segments, each starting with a speaker tag::

    <self> where is the train station <other> está cerca del río

Tags are whitespace-separated words in well-formed input, but a tag glued to a word
(``<self>where``) is also split off, so detokenisers that drop the space do not change
the scores.
"""

import re
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

SPEAKER_TAGS: Tuple[str, ...] = ("<self>", "<other>")
WORD_BOUNDARY = "\u2581"  # sentencepiece's "▁"
SPACE_TOKEN = "<space>"  # ESPnet's word boundary for token_type "char"


def tag_to_speaker(tag: str) -> str:
    """Return the speaker name of a tag (``"<self>"`` -> ``"self"``)."""
    return tag[1:-1]


def _tag_regex(tags: Sequence[str]) -> "re.Pattern[str]":
    return re.compile("(" + "|".join(re.escape(t) for t in tags) + ")")


def tokenize_sot(text: str, tags: Sequence[str] = SPEAKER_TAGS) -> List[str]:
    """Split an SOT string into words, with every speaker tag as its own word.

    Args:
        text: The SOT string.
        tags: The speaker tags.

    Returns:
        The words, tags included, in order.
    """
    return _tag_regex(tags).sub(r" \1 ", text).split()


def strip_tags(text: str, tags: Sequence[str] = SPEAKER_TAGS) -> str:
    """Remove speaker tags and normalise whitespace.

    Args:
        text: The SOT string.
        tags: The speaker tags.

    Returns:
        The words without tags, joined by single spaces.
    """
    tagset = set(tags)
    return " ".join(w for w in tokenize_sot(text, tags) if w not in tagset)


def split_sot(
    text: str, tags: Sequence[str] = SPEAKER_TAGS
) -> List[Tuple[Optional[str], str]]:
    """Split an SOT string into ``(speaker, text)`` segments.

    Every tag opens a segment, even when no word follows it (``"<self> <other> hi"``
    gives ``[("self", ""), ("other", "hi")]``). Words before the first tag form a
    leading segment with speaker ``None``; an empty string gives no segments.

    Args:
        text: The SOT string.
        tags: The speaker tags.

    Returns:
        The segments, as speaker name (without brackets, or None) and text.
    """
    tagset = set(tags)
    segments: List[Tuple[Optional[str], List[str]]] = []
    for word in tokenize_sot(text, tags):
        if word in tagset:
            segments.append((tag_to_speaker(word), []))
        else:
            if not segments:
                segments.append((None, []))
            segments[-1][1].append(word)
    return [(spk, " ".join(words)) for spk, words in segments]


def attributed_words(
    text: str, tags: Sequence[str] = SPEAKER_TAGS
) -> List[Tuple[str, Optional[str]]]:
    """Return the words of an SOT string with the speaker of their segment.

    Args:
        text: The SOT string.
        tags: The speaker tags.

    Returns:
        ``(word, speaker)`` pairs without tags; speaker is None before the first tag.
    """
    out: List[Tuple[str, Optional[str]]] = []
    for spk, seg in split_sot(text, tags):
        out.extend((w, spk) for w in seg.split())
    return out


class TimedWord(NamedTuple):
    """A word with its emission times in seconds (ideal ``t``, computation-aware ``wall``)."""

    word: str
    t: float
    wall: float


def pieces_to_words(
    pieces: Sequence[Dict], tags: Sequence[str] = SPEAKER_TAGS
) -> List[TimedWord]:
    """Join sentencepiece pieces into words with emission times.

    A piece starting with ``▁`` starts a new word; a speaker tag (also ``▁<self>``) is a
    word of its own, and the piece after a tag starts a new word. A word's times are
    those of its last piece. Pieces that are only ``▁`` contribute nothing but a word
    boundary, so empty words never appear. ESPnet's char-level ``<space>`` token is a
    word boundary too.

    Args:
        pieces: Dicts with ``piece``, ``t`` and ``wall`` (as in ``tokens.jsonl``).
        tags: The speaker tags.

    Returns:
        The words in emission order.

    Raises:
        KeyError: If a piece lacks one of the keys.
    """
    tagset = set(tags)
    words: List[List] = []  # [text, t, wall, closed]
    for p in pieces:
        piece, t, wall = p["piece"], float(p["t"]), float(p["wall"])
        bare = piece.lstrip(WORD_BOUNDARY)
        if piece == SPACE_TOKEN:
            if words:
                words[-1][3] = True
            continue
        if bare in tagset:
            words.append([bare, t, wall, True])
            continue
        new_word = piece.startswith(WORD_BOUNDARY) or not words or words[-1][3]
        if new_word:
            words.append([bare, t, wall, False])
        else:
            words[-1][0] += bare
            words[-1][1], words[-1][2] = t, wall
    return [TimedWord(w, t, wall) for w, t, wall, _ in words if w]


def split_timed_words(
    words: Sequence[TimedWord], tags: Sequence[str] = SPEAKER_TAGS
) -> List[Tuple[Optional[str], List[TimedWord]]]:
    """Split timed words into segments at speaker tags, like :func:`split_sot`.

    Args:
        words: Output of :func:`pieces_to_words`.
        tags: The speaker tags.

    Returns:
        ``(speaker, words)`` segments, tags removed; a leading untagged segment has
        speaker None.
    """
    tagset = set(tags)
    segments: List[Tuple[Optional[str], List[TimedWord]]] = []
    for w in words:
        if w.word in tagset:
            segments.append((tag_to_speaker(w.word), []))
        else:
            if not segments:
                segments.append((None, []))
            segments[-1][1].append(w)
    return segments
