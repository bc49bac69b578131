"""Features of statements: sparse text features and the context cues of LABELS.md rules 2 and 5.

Text features (:class:`StatementVectorizer`) are TF-IDF weights of typography-insensitive word
uni- and bigrams and of in-word character 3–5-grams (which carry morphology: *migratoire*,
*migrants*, *immigration* share ``migr``). Both are built from :func:`bilatag.normalize.word_tokens`,
so every feature can be traced back to the words of the statement that produced it (the
explanations). Digits are collapsed, so no feature memorises a figure.

Context (:class:`StatementContext`, :func:`context_cues`) describes how a statement refers back:
demonstratives (« ces réseaux »), connectives (« à ce titre », « dans ce cadre »), pronoun or
possessive openings (« Leur retour ... »), and the markers of a change of subject
(« par ailleurs », « s'agissant de »).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .lexicon import FAMILIES, family_counts
from .normalize import Token, word_tokens

__all__ = [
    "StatementContext",
    "CONTEXT_WINDOW",
    "StatementVectorizer",
    "CUE_NAMES",
    "context_cues",
    "contexts_for_document",
]


#: How many preceding statements a statement's context holds.
CONTEXT_WINDOW = 4


class StatementContext(NamedTuple):
    """A statement with what a reader sees before it in its document.

    ``previous`` holds the texts of up to :data:`CONTEXT_WINDOW` preceding statements, nearest
    first;
    ``new_block`` is True when a line break separates the statement from the previous one.
    """

    text: str
    previous: tuple[str, ...] = ()
    new_block: bool = False


def contexts_for_document(text: str, spans: Sequence[tuple[int, int]]) -> list[StatementContext]:
    """The :class:`StatementContext` of each statement ``text[start:end]`` of one document."""
    texts = [text[s:e] for s, e in spans]  # one string per statement, shared by the contexts
    out = []
    for i, (start, _) in enumerate(spans):
        previous = tuple(reversed(texts[max(0, i - CONTEXT_WINDOW):i]))
        gap = text[spans[i - 1][1]:start] if i else ""
        out.append(StatementContext(texts[i], previous, "\n" in gap or "\r" in gap))
    return out


def _pass_through(tokens: list[str]) -> list[str]:
    return tokens


class StatementVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF word n-grams and in-word character n-grams of statement texts.

    Parameters follow :class:`~sklearn.feature_extraction.text.TfidfVectorizer`;
    ``max_char_features`` bounds the model size.
    """

    def __init__(self, word_ngram_range: tuple[int, int] = (1, 2),
                 char_ngram_range: tuple[int, int] = (3, 5), min_df: int = 2,
                 max_word_features: int | None = 40_000, max_char_features: int | None = 60_000,
                 char_weight: float = 1.0, lexicon_weight: float = 1.0) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.char_weight = char_weight
        self.lexicon_weight = lexicon_weight

    def _grams(self, tokens: list[Token]) -> tuple[list[str], list[str]]:
        norms = [t.norm for t in tokens]
        words = list(norms)
        lo, hi = self.word_ngram_range
        for n in range(max(lo, 2), hi + 1):
            words.extend(" ".join(norms[i:i + n]) for i in range(len(norms) - n + 1))
        if lo > 1:
            words = words[len(norms):]
        chars: list[str] = []
        clo, chi = self.char_ngram_range
        for norm in norms:
            padded = f" {norm} "
            for n in range(clo, chi + 1):
                chars.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
        return words, chars

    def _analyse(self, texts: Sequence[str]
                 ) -> tuple[list[list[str]], list[list[str]], sp.csr_matrix]:
        words, chars, lexicon = [], [], []
        for text in texts:
            tokens = word_tokens(text)
            w, c = self._grams(tokens)
            words.append(w)
            chars.append(c)
            lexicon.append(family_counts(" ".join(t.norm for t in tokens)))
        counts = np.asarray(lexicon, dtype=np.float32).reshape(len(texts), len(FAMILIES))
        return words, chars, sp.csr_matrix(1.0 - 0.5 ** counts)

    def _make(self, max_features: int | None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=_pass_through, min_df=self.min_df, sublinear_tf=True,
                               max_features=max_features, dtype=np.float32)

    def fit(self, texts: Sequence[str], y: object = None) -> StatementVectorizer:
        """Learn the vocabularies and IDF weights from statement texts."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: object = None) -> sp.csr_matrix:
        """Fit and return the feature matrix of ``texts``."""
        words, chars, xl = self._analyse(texts)
        self.word_ = self._make(self.max_word_features)
        self.char_ = self._make(self.max_char_features)
        xw = self.word_.fit_transform(words)
        xc = self.char_.fit_transform(chars)
        self.n_word_features_ = xw.shape[1]
        self.n_char_features_ = xc.shape[1]
        return self._stack(xw, xc, xl)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix (one row per text) of ``texts``."""
        check_is_fitted(self, "word_")
        words, chars, xl = self._analyse(texts)
        return self._stack(self.word_.transform(words), self.char_.transform(chars), xl)

    def views(self) -> dict[str, tuple[int, int]]:
        """Column ranges of the feature blocks: ``ngrams`` (words and characters), ``lexicon``."""
        check_is_fitted(self, "word_")
        n = self.n_word_features_ + self.n_char_features_
        return {"ngrams": (0, n), "lexicon": (n, n + len(FAMILIES))}

    def _stack(self, xw: sp.spmatrix, xc: sp.spmatrix, xl: sp.spmatrix) -> sp.csr_matrix:
        return sp.hstack([xw, xc * self.char_weight, xl * self.lexicon_weight],
                         format="csr", dtype=np.float32)

    def token_weights(self, text: str, coef: np.ndarray, offset: int = 0
                      ) -> tuple[list[Token], np.ndarray]:
        """Each token's share of ``coef @ features(text)``.

        A word n-gram's contribution is split evenly between its words and occurrences, a
        character n-gram's between the words it occurs in. Returns the tokens (offsets shifted
        by ``offset``) and their weights; the weights sum to the linear score (without bias).
        """
        check_is_fitted(self, "word_")
        tokens = word_tokens(text, offset)
        weights = np.zeros(len(tokens))
        if not tokens:
            return tokens, weights
        x = self.transform([text])
        contrib = {int(j): float(coef[j] * v) for j, v in zip(x.indices, x.data) if coef[j] != 0.0}
        if not contrib:
            return tokens, weights
        norms = [t.norm for t in tokens]
        word_vocab = self.word_.vocabulary_
        lo, hi = self.word_ngram_range
        for n in range(lo, hi + 1):
            spots: dict[int, list[int]] = {}
            for i in range(len(norms) - n + 1):
                j = word_vocab.get(" ".join(norms[i:i + n]))
                if j is not None and j in contrib:
                    spots.setdefault(j, []).append(i)
            for j, starts in spots.items():
                share = contrib[j] / (len(starts) * n)
                for i in starts:
                    weights[i:i + n] += share
        char_vocab = self.char_.vocabulary_
        base = self.n_word_features_
        clo, chi = self.char_ngram_range
        cspots: dict[int, list[int]] = {}
        for i, norm in enumerate(norms):
            padded = f" {norm} "
            for n in range(clo, chi + 1):
                for k in range(len(padded) - n + 1):
                    j = char_vocab.get(padded[k:k + n])
                    if j is not None and base + j in contrib:
                        cspots.setdefault(base + j, []).append(i)
        for j, owners in cspots.items():
            share = contrib[j] / len(owners)
            for i in owners:
                weights[i] += share
        base += self.n_char_features_
        joined, starts = _joined(norms)
        for f, pattern in enumerate(FAMILIES.values()):
            if base + f not in contrib:
                continue
            owners = [i for m in pattern.finditer(joined) for i in _covered(starts, norms, m)]
            for i in owners:
                weights[i] += contrib[base + f] / len(owners)
        return tokens, weights


# Context cues, matched on the normalised words of a statement (see normalize.word_tokens).
_CUES: dict[str, re.Pattern[str]] = {
    # « ces réseaux », « ce phénomène », « cette décision » anywhere in the statement
    "demonstrative": re.compile(r"\b(?:ces|cette|cet|ce|ledit|ladite|lesdits|lesdites)\b"),
    # « à ce titre », « dans ce cadre », « à cet égard » ...
    "connective": re.compile(
        r"\b(?:a ce (?:titre|sujet|propos|niveau)|dans ce (?:cadre|contexte|sens|domaine)"
        r"|a cet egard|en ce sens|sur ce (?:point|plan|volet|dossier|terrain)|en la matiere"
        r"|dans cette (?:perspective|optique|logique)|de meme|de son cote|pour sa part"
        r"|a cette fin|dans ce but|en consequence|ainsi|egalement|aussi)\b"),
    # « Il a ajouté », « Leur retour », « Ceux-ci » at the start of the statement
    "pronoun_start": re.compile(
        r"^(?:\W*)(?:il|elle|ils|elles|celui|celle|ceux|celles|cela|ceci|leur|leurs|son|sa|ses"
        r"|y|en|lesquels|lesquelles)\b"),
    # a change of subject: « par ailleurs », « s'agissant de », « sur un autre plan »
    "shift": re.compile(
        r"^(?:\W*)(?:par ailleurs|d autre part|s agissant|concernant|quant a|sur un autre"
        r"|en matiere|au sujet|pour ce qui|sur le plan|cote|outre)\b"),
}
#: Names of the context cues, in feature order.
CUE_NAMES: tuple[str, ...] = (*_CUES, "short", "no_final_punct")


def context_cues(text: str) -> np.ndarray:
    """Indicator vector of the :data:`CUE_NAMES` found in one statement."""
    norms = " ".join(t.norm for t in word_tokens(text))
    flags = [bool(p.search(norms)) for p in _CUES.values()]
    stripped = text.rstrip(" \t\u00a0\u202f»”\"')")
    flags.append(len(norms.split()) <= 8)
    flags.append(not stripped.endswith((".", "!", "?", "…", ";", ":")))
    return np.array(flags, dtype=np.float64)


def _joined(norms: list[str]) -> tuple[str, list[int]]:
    """Normalised words joined by spaces, and where each word starts in that string."""
    starts, pos = [], 0
    for n in norms:
        starts.append(pos)
        pos += len(n) + 1
    return " ".join(norms), starts


def _covered(starts: list[int], norms: list[str], m: re.Match[str]) -> range:
    """Indices of the words a match in the joined string covers."""
    first = next(i for i, s in enumerate(starts) if s + len(norms[i]) > m.start())
    last = max(i for i, s in enumerate(starts) if s < m.end())
    return range(first, last + 1)


def cue_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Character spans (shifted by ``offset``) of the referring cues of one statement."""
    tokens = word_tokens(text, offset)
    norms = [t.norm for t in tokens]
    joined, starts = _joined(norms)
    out = []
    for name in ("connective", "demonstrative", "pronoun_start"):
        for m in _CUES[name].finditer(joined):
            covered = _covered(starts, norms, m)
            last = covered[-1]
            if name == "demonstrative" and last + 1 < len(tokens):
                last += 1  # the demonstrative and its noun: « ces réseaux »
            out.append((tokens[covered[0]].start, tokens[last].end))
    return sorted(set(out))
