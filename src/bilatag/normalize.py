"""Typography-insensitive word tokens with offsets into the original text.

The classifier sees words through :func:`word_tokens`: accents removed (precomposed or NFD),
case folded, curly and straight apostrophes alike (they separate words), no-break spaces
treated as spaces, digit runs collapsed to ``0``. Predictions therefore do not change with
these typographic variants, and every token keeps its character offsets in the text as given,
which the explanations (:attr:`bilatag.Statement.evidence`) point to.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

__all__ = ["Token", "word_tokens", "normalize_word"]

# A word: letters or digits, with any combining marks (NFD accents) attached to them.
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_DIGITS = re.compile(r"\d+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


class Token(NamedTuple):
    """A word of a text: ``text[start:end]`` and its normalised form ``norm``."""

    start: int
    end: int
    norm: str


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """Fold one word: strip accents, casefold, map digit runs to ``0``."""
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _DIGITS.sub("0", stripped.casefold().translate(_LIGATURES))


def word_tokens(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text``; offsets are shifted by ``offset`` (the text's position in a document)."""
    tokens = _tokens(text)
    if offset:
        return [Token(t.start + offset, t.end + offset, t.norm) for t in tokens]
    return list(tokens)


@lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple[Token, ...]:
    # Memoised: the features, the context cues and the explanations of a batch read the same
    # statements.
    out = []
    for m in _WORD.finditer(text):
        norm = normalize_word(m.group())
        if norm:
            out.append(Token(m.start(), m.end(), norm))
    return tuple(out)
