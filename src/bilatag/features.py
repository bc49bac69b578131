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

import copy
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .lexicon import FAMILIES, family_counts, normalized
from .normalize import Token, word_tokens

__all__ = [
    "StatementContext",
    "CONTEXT_WINDOW",
    "FOLLOWING_WINDOW",
    "Incidence",
    "StatementVectorizer",
    "CUE_NAMES",
    "context_cues",
    "contexts_for_document",
]


#: How many preceding statements a statement's context holds.
CONTEXT_WINDOW = 8
#: How many following statements a statement's context holds.
FOLLOWING_WINDOW = 2


class StatementContext(NamedTuple):
    """A statement with its neighbours in its document.

    ``previous`` holds the texts of up to :data:`CONTEXT_WINDOW` preceding statements, nearest
    first; ``new_block`` is True when a line break separates the statement from the previous
    one; ``following`` holds up to :data:`FOLLOWING_WINDOW` next statements, nearest first.
    """

    text: str
    previous: tuple[str, ...] = ()
    new_block: bool = False
    following: tuple[str, ...] = ()


def contexts_for_document(text: str, spans: Sequence[tuple[int, int]]) -> list[StatementContext]:
    """The :class:`StatementContext` of each statement ``text[start:end]`` of one document."""
    texts = [text[s:e] for s, e in spans]  # one string per statement, shared by the contexts
    out = []
    for i, (start, _) in enumerate(spans):
        previous = tuple(reversed(texts[max(0, i - CONTEXT_WINDOW):i]))
        gap = text[spans[i - 1][1]:start] if i else ""
        following = tuple(texts[i + 1:i + 1 + FOLLOWING_WINDOW])
        out.append(StatementContext(texts[i], previous, "\n" in gap or "\r" in gap, following))
    return out


@dataclass(frozen=True)
class Incidence:
    """Which words of a statement own which of its features (see ``token_incidence``).

    Feature ``indices[position[m]]`` (of value ``values[position[m]]``) gives the share
    ``fraction[m]`` of its value to token ``owner[m]``.
    """

    tokens: list[Token]
    indices: np.ndarray
    values: np.ndarray
    position: np.ndarray
    owner: np.ndarray
    fraction: np.ndarray

    def token_weights(self, coef: np.ndarray) -> np.ndarray:
        """Each word's part of ``row @ coef`` for the statement's feature row (they sum to it)."""
        contrib = coef[self.indices] * self.values
        return np.bincount(self.owner, weights=contrib[self.position] * self.fraction,
                           minlength=len(self.tokens))


def _pass_through(tokens: list[str]) -> list[str]:
    return tokens


def _word_ngrams(norms: list[str], ngram_range: tuple[int, int]) -> Iterator[tuple[int, int, str]]:
    """``(start, n, gram)`` for every word n-gram of ``norms`` in the range, by size then start."""
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        for i in range(len(norms) - n + 1):
            yield i, n, norms[i] if n == 1 else " ".join(norms[i:i + n])


def _tfidf(rows: list[np.ndarray], idf: np.ndarray) -> sp.csr_matrix:
    """Rows of column ids (with repeats) -> L2-normalised (1 + log count) * idf, float32."""
    n_cols = len(idf)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    ids = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    keys, counts = np.unique(np.repeat(np.arange(len(rows)), lengths) * n_cols + ids,
                             return_counts=True)
    r, c = keys // n_cols, keys % n_cols
    data = (np.log(counts) + 1.0) * idf[c]
    norms = np.sqrt(np.bincount(r, weights=data * data, minlength=len(rows)))
    data = data / norms[r]
    return sp.csr_matrix((data.astype(np.float32), (r, c)), shape=(len(rows), n_cols))


@lru_cache(maxsize=100_000)
def _char_grams(norm: str, ngram_range: tuple[int, int]) -> tuple[str, ...]:
    """The character n-grams of one normalised word, padded with a space on each side."""
    padded = f" {norm} "
    lo, hi = ngram_range
    return tuple(padded[k:k + n] for n in range(lo, hi + 1) for k in range(len(padded) - n + 1))


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
        words = [gram for _, _, gram in _word_ngrams(norms, self.word_ngram_range)]
        chars: list[str] = []
        for norm in norms:
            chars.extend(_char_grams(norm, self.char_ngram_range))
        return words, chars

    def _analyse(self, texts: Sequence[str]
                 ) -> tuple[list[list[Token]], sp.csr_matrix]:
        tokens = [word_tokens(text) for text in texts]
        lexicon = [family_counts(" ".join(t.norm for t in toks)) for toks in tokens]
        counts = np.asarray(lexicon, dtype=np.float32).reshape(len(texts), len(FAMILIES))
        return tokens, sp.csr_matrix(1.0 - 0.5 ** counts)

    def _make(self, max_features: int | None) -> TfidfVectorizer:
        return TfidfVectorizer(analyzer=_pass_through, min_df=self.min_df, sublinear_tf=True,
                               max_features=max_features, dtype=np.float32)

    def fit(self, texts: Sequence[str], y: object = None) -> StatementVectorizer:
        """Learn the vocabularies and IDF weights from statement texts."""
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: object = None) -> sp.csr_matrix:
        """Fit and return the feature matrix of ``texts``."""
        tokens, xl = self._analyse(texts)
        grams = [self._grams(toks) for toks in tokens]
        # scikit-learn chooses the vocabularies and IDF weights (min_df, max_features) ...
        self.word_ = self._make(self.max_word_features).fit([w for w, _ in grams])
        self.char_ = self._make(self.max_char_features).fit([c for _, c in grams])
        self.n_word_features_ = len(self.word_.vocabulary_)
        self.n_char_features_ = len(self.char_.vocabulary_)
        self.__dict__.pop("_char_cache", None)
        # ... and the same fast path as transform() computes the weights.
        return self._stack(*self._tfidf_blocks(tokens), xl)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix (one row per text) of ``texts``."""
        check_is_fitted(self, "word_")
        tokens, xl = self._analyse(texts)
        return self._stack(*self._tfidf_blocks(tokens), xl)

    def _tfidf_blocks(self, tokens: list[list[Token]]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """TF-IDF of the word and character n-grams, as TfidfVectorizer(sublinear_tf=True)
        computes them (log-scaled counts times IDF, rows scaled to unit length), but from
        per-word cached column ids instead of one dictionary look-up per n-gram."""
        word_vocab = self.word_.vocabulary_
        word_rows, char_rows = [], []
        for toks in tokens:
            norms = [t.norm for t in toks]
            ids = [word_vocab[g] for _, _, g in _word_ngrams(norms, self.word_ngram_range)
                   if g in word_vocab]
            word_rows.append(np.array(ids, dtype=np.int64))
            char_rows.append(np.concatenate([self._char_ids(n) for n in norms]) if norms
                             else np.zeros(0, dtype=np.int64))
        return (_tfidf(word_rows, self.word_.idf_), _tfidf(char_rows, self.char_.idf_))

    def views(self) -> dict[str, tuple[int, int]]:
        """Column ranges of the feature blocks: ``ngrams`` (words and characters), ``lexicon``."""
        check_is_fitted(self, "word_")
        n = self.n_word_features_ + self.n_char_features_
        return {"ngrams": (0, n), "lexicon": (n, n + len(FAMILIES))}

    def _stack(self, xw: sp.spmatrix, xc: sp.spmatrix, xl: sp.spmatrix) -> sp.csr_matrix:
        return sp.hstack([xw, xc * self.char_weight, xl * self.lexicon_weight],
                         format="csr", dtype=np.float32)

    def token_incidence(self, text: str, row: sp.csr_matrix, offset: int = 0) -> Incidence:
        """How the features of one statement (its feature ``row``) are shared among its words.

        A word n-gram is split evenly between its words and occurrences, a character n-gram
        between the words it occurs in, a lexicon family between the words it matched.
        Token offsets are shifted by ``offset``.
        """
        check_is_fitted(self, "word_")
        tokens = word_tokens(text, offset)
        order = np.argsort(row.indices)
        indices, values = row.indices[order], row.data[order].astype(np.float64)
        norms = [t.norm for t in tokens]
        feats: list[int] = []
        owners: list[int] = []
        word_vocab = self.word_.vocabulary_
        for i, n, gram in _word_ngrams(norms, self.word_ngram_range):
            j = word_vocab.get(gram)
            if j is not None:
                feats.extend([j] * n)
                owners.extend(range(i, i + n))
        char_ids = [self._char_ids(n) for n in norms]
        base = self.n_word_features_ + self.n_char_features_
        joined, starts = _joined(norms)
        for f, pattern in enumerate(FAMILIES.values()):
            for m in pattern.finditer(joined):
                who = _covered(starts, m)
                feats.extend([base + f] * len(who))
                owners.extend(who)
        empty = np.zeros(0, dtype=np.int64)
        feat = np.concatenate([np.array(feats, dtype=np.int64),
                               np.concatenate(char_ids) + self.n_word_features_ if norms else empty])
        owner = np.concatenate([np.array(owners, dtype=np.int64),
                                np.repeat(np.arange(len(norms)), [len(c) for c in char_ids])])
        if not len(indices):
            feat = owner = np.zeros(0, dtype=np.int64)
        position = np.searchsorted(indices, feat)
        keep = (position < len(indices)) & (indices[np.minimum(position, len(indices) - 1)] == feat)
        position, owner = position[keep], owner[keep]
        fraction = 1.0 / np.bincount(position, minlength=len(indices))[position]
        return Incidence(tokens, indices, values, position, owner, fraction)

    def _char_ids(self, norm: str) -> np.ndarray:
        """Indices of the character n-grams of one normalised word (with repeats) in the
        character block."""
        cache = self.__dict__.setdefault("_char_cache", {})
        ids = cache.get(norm)
        if ids is None:
            vocab = self.char_.vocabulary_
            ids = np.array([vocab[g] for g in _char_grams(norm, tuple(self.char_ngram_range))
                            if g in vocab], dtype=np.int64)
            if len(cache) < 200_000:
                cache[norm] = ids
        return ids

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_char_cache", None)  # derived, rebuilt on demand
        for name in _VOCABULARY_OWNERS:
            if name in state:
                state[name], state[name + "terms"] = _pack_vocabulary(state[name])
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        for name in _VOCABULARY_OWNERS:
            if name + "terms" in state:
                state[name] = _unpack_vocabulary(state[name], state.pop(name + "terms"))
        super().__setstate__(state)


# The fitted TfidfVectorizers whose vocabularies are pickled packed (see _pack_vocabulary).
_VOCABULARY_OWNERS = ("word_", "char_")
_TERM_SEPARATOR = "\x00"


def _pack_vocabulary(fitted: TfidfVectorizer) -> tuple[TfidfVectorizer, str]:
    """A copy of ``fitted`` without its vocabulary, and the terms in column order as one string.

    joblib unpickles with Python's pure-Python unpickler, object by object: the 86,000 terms of
    the shipped vocabularies as dictionaries took 0.26 s of the 0.33 s that loading the model
    took; as one string each they are two objects.
    """
    vocabulary = fitted.vocabulary_
    # Terms are n-grams of word tokens (letters and digits, joined by spaces): never a NUL.
    # scikit-learn numbers the columns 0..n-1, so a term's place in the string is its column
    # (a model that computed otherwise would fail its load-time probes, see bilatag.persist).
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    bare = copy.copy(fitted)
    del bare.vocabulary_
    return bare, _TERM_SEPARATOR.join(terms)


def _unpack_vocabulary(bare: TfidfVectorizer, terms: str) -> TfidfVectorizer:
    """Inverse of :func:`_pack_vocabulary` (restores ``vocabulary_`` in place)."""
    split = terms.split(_TERM_SEPARATOR)  # never empty: scikit-learn refuses an empty vocabulary
    bare.vocabulary_ = dict(zip(split, range(len(split))))
    return bare


# Context cues, matched on the normalised words of a statement (see normalize.word_tokens).
_CUES: dict[str, re.Pattern[str]] = {
    # « ces jeunes », « ce phénomène », « cette décision »: a demonstrative and a noun that
    # typically names something already introduced
    "anaphoric_np": re.compile(
        r"\b(?:ces|cette|cet|ce|ledit|ladite|lesdits|lesdites|ceux ci|celles ci|ces derniers|"
        r"ces dernieres) (?:jeunes|mineurs|enfants|adolescents|reseaux?|filieres?|personnes|"
        r"migrants|individus|hommes|femmes|derniers|dernieres|trafiquants|passeurs|groupes?|"
        r"cellules?|organisations?|operations?|saisies?|flux|departs|arrivees|retours|"
        r"expulsions|mesures?|decisions?|dossiers?|questions?|phenomenes?|fleaux?|trafics?|"
        r"menaces?|derives?|pratiques?|dispositifs?|accords?|memorandum|protocoles?|textes?|"
        r"programmes?|plans?|cas|affaires?|faits|suspects?|prevenus|accuses|interesses|"
        r"ressortissants|etrangers|embarcations?|vols?|centres?|structures?|chiffres?|"
        r"volets?|sujets?|points?|cooperations?|efforts?|actions?|politiques?|enquetes?|"
        r"drames?|crises?|situations?|mouvements?|pressions?|personnes|profils?|jeunes gens)\b"),
    # « à ce titre », « dans ce cadre », « à cet égard »: the statement continues the previous one
    "connective": re.compile(
        r"\b(?:a ce (?:titre|sujet|propos|niveau)|dans ce (?:cadre|contexte|sens|domaine|but)"
        r"|a cet (?:egard|effet)|en ce sens|sur ce (?:point|plan|volet|dossier|terrain|sujet)"
        r"|en la matiere|dans cette (?:perspective|optique|logique)|a cette fin|de ce fait"
        r"|pour ce faire|en consequence|dans la foulee|a cette occasion)\b"),
    # « également », « aussi », « de son côté »: adds to the same subject, weakly
    "additive": re.compile(r"\b(?:egalement|aussi|de meme|ainsi|de son cote|pour sa part|en outre"
                           r"|meme|encore|toujours)\b"),
    # any other demonstrative
    "demonstrative": re.compile(r"\b(?:ces|cette|cet|ce)\b"),
    # « Il a ajouté », « Leur retour », « Ceux-ci » at the start of the statement
    "pronoun_start": re.compile(
        r"^(?:\W*)(?:il|elle|ils|elles|celui|celle|ceux|celles|cela|ceci|leur|leurs|son|sa|ses"
        r"|y|en|lesquels|lesquelles)\b"),
    # a change of subject: « par ailleurs », « s'agissant de », « sur un autre plan »
    "shift": re.compile(
        r"^(?:\W*)(?:par ailleurs|d autre part|s agissant|concernant|quant a|sur un autre"
        r"|en matiere|au sujet|pour ce qui|sur le plan|cote|outre|enfin|autre)\b"),
}
#: Names of the context cues, in feature order.
CUE_NAMES: tuple[str, ...] = (*_CUES, "short", "no_final_punct")


def context_cues(text: str) -> np.ndarray:
    """Indicator vector of the :data:`CUE_NAMES` found in one statement."""
    norms = normalized(text)
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


def _covered(starts: list[int], m: re.Match[str]) -> range:
    """Indices of the words a match in the joined string covers (matches start on words)."""
    return range(bisect_right(starts, m.start()) - 1, bisect_left(starts, m.end()))


def cue_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Character spans (shifted by ``offset``) of the referring cues of one statement."""
    tokens = word_tokens(text, offset)
    norms = [t.norm for t in tokens]
    joined, starts = _joined(norms)
    out = []
    for name in ("connective", "anaphoric_np", "pronoun_start"):
        for m in _CUES[name].finditer(joined):
            covered = _covered(starts, m)
            last = covered[-1]
            out.append((tokens[covered[0]].start, tokens[last].end))
    return sorted(set(out))
