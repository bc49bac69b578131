"""The topic classifier: a scikit-learn estimator over :class:`~bilatag.features.StatementContext`.

Two stages, one logistic regression per topic in each:

1. *text*: a statement's own words (:class:`~bilatag.features.StatementVectorizer`);
2. *context*: the text scores of the statement and of the two before it, crossed with the
   cues by which the statement refers back (LABELS.md rules 2 and 5: « ces réseaux »,
   « à ce titre »). Trained on out-of-fold text scores (grouped by document), so it learns
   how far to trust the text model on statements it has not seen. Its outputs are the
   probabilities reported as ``Statement.scores``; with few, dense inputs a logistic
   regression is well calibrated, which ``bilatag evaluate`` checks.

Then the hierarchy: a parent's score is at least its children's, a statement gets a topic when
its score reaches the topic's threshold (chosen on the development set), and every child brings
its parent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from .features import CUE_NAMES, StatementContext, StatementVectorizer, context_cues, cue_spans
from .topics import PARENT, TOPIC_IDS

__all__ = ["TopicClassifier", "Evidence", "enforce_hierarchy"]

_EPS = 1e-4
_CHILDREN = {p: [TOPIC_IDS.index(c) for c, q in PARENT.items() if q == p] for p in set(PARENT.values())}


@dataclass(frozen=True)
class Evidence:
    """A phrase that pushed a statement towards a topic.

    ``start``/``end`` are character offsets in the document, ``weight`` the phrase's share of
    the log-odds; ``source`` is ``"text"`` for the statement's own words and ``"context"`` for
    a cue by which the statement refers to an earlier one (« à ce titre », « ces réseaux »).
    """

    start: int
    end: int
    text: str
    weight: float
    source: str = "text"


def enforce_hierarchy(scores: np.ndarray) -> np.ndarray:
    """Raise each parent's score to at least the highest of its children's (in place)."""
    for parent, children in _CHILDREN.items():
        p = TOPIC_IDS.index(parent)
        scores[:, p] = np.maximum(scores[:, p], scores[:, children].max(axis=1))
    return scores


def _row_proba(model: LogisticRegression, z: np.ndarray) -> np.ndarray:
    """``model.predict_proba(z)[:, 1]`` computed row by row without BLAS, so a statement's
    score does not depend on which other statements share its batch (last-bit equality)."""
    coef = model.coef_.ravel()
    if sp.issparse(z):
        return expit(np.asarray(z @ coef).ravel() + model.intercept_[0])  # row-wise in scipy
    return expit((z * coef).sum(axis=1) + model.intercept_[0])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class TopicClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label topic classifier of statements in context.

    ``X`` is a sequence of :class:`StatementContext`; ``y`` a binary matrix of shape
    ``(n_statements, 6)`` in the order of :data:`bilatag.topics.TOPIC_IDS`. ``fit`` takes the
    document of each statement as ``groups`` (for the out-of-fold scores of the context stage).

    Parameters
    ----------
    C : inverse regularisation of the n-gram text model.
    lexicon_C : inverse regularisation of the lexicon text model.
    context_C : inverse regularisation of the context stage.
    use_context : False: the second stage sees only the statement's own text scores (the
        ablation baseline without context).
    n_folds : folds for the out-of-fold text scores.
    vectorizer : the :class:`StatementVectorizer` (a default one when None).
    random_state : seed of every random choice (the solvers here are deterministic).
    """

    def __init__(self, C: float = 8.0, lexicon_C: float = 1.0, context_C: float = 1.0,
                 use_context: bool = True,
                 n_folds: int = 5, vectorizer: StatementVectorizer | None = None,
                 class_weight: str | None = "balanced", random_state: int = 0) -> None:
        self.C = C
        self.lexicon_C = lexicon_C
        self.context_C = context_C
        self.use_context = use_context
        self.n_folds = n_folds
        self.vectorizer = vectorizer
        self.class_weight = class_weight
        self.random_state = random_state

    # -- training -------------------------------------------------------------------------
    def fit(self, X: Sequence[StatementContext], y: np.ndarray,
            groups: Sequence[object] | None = None) -> TopicClassifier:
        """Fit both stages; thresholds default to 0.5 until :meth:`tune_thresholds`."""
        y = np.asarray(y, dtype=int)
        if y.ndim != 2 or y.shape != (len(X), len(TOPIC_IDS)):
            raise ValueError(f"y must have shape ({len(X)}, {len(TOPIC_IDS)})")
        self.classes_ = np.array(TOPIC_IDS)
        template = self.vectorizer if self.vectorizer is not None else StatementVectorizer()
        self.vectorizer_ = clone(template)
        features = self.vectorizer_.fit_transform([c.text for c in X])
        self.views_ = self.vectorizer_.views()
        self.text_models_ = self._fit_text(features, y)
        oof = self._out_of_fold(X, features, y, groups)
        self.context_models_ = []
        for k in range(len(TOPIC_IDS)):
            z = self._context_matrix(X, oof, k)
            self.context_models_.append(
                LogisticRegression(C=self.context_C, max_iter=5000).fit(z, y[:, k]))
        self.thresholds_ = np.full(len(TOPIC_IDS), 0.5)
        return self

    def _fit_text(self, features, y: np.ndarray) -> list[list[LogisticRegression]]:
        """One logistic regression per view (n-grams, lexicon) and topic."""
        models = []
        for view, (lo, hi) in self.views_.items():
            C = self.C if view == "ngrams" else self.lexicon_C
            cols = features[:, lo:hi]
            models.append([
                LogisticRegression(C=C, class_weight=self.class_weight, max_iter=5000,
                                   solver="liblinear", random_state=self.random_state)
                .fit(cols, y[:, k]) for k in range(len(TOPIC_IDS))])
        return models

    def _out_of_fold(self, X, features, y, groups) -> dict[str, np.ndarray]:
        """Text-stage probabilities of every text of X, from models that did not see its document."""
        groups = np.asarray(groups if groups is not None else np.arange(len(X)))
        n_folds = min(self.n_folds, len(np.unique(groups)))
        scores: dict[str, np.ndarray] = {}
        for train, test in GroupKFold(n_splits=n_folds).split(features, y, groups):
            models = self._fit_text(features[train], y[train])
            test_texts = sorted({X[i].text for i in test} | {p for i in test for p in X[i].previous})
            probs = self._text_proba(models, self.vectorizer_.transform(test_texts))
            scores.update(zip(test_texts, probs))
        return scores

    # -- inference ------------------------------------------------------------------------
    def _text_proba(self, models: list[list[LogisticRegression]], features) -> np.ndarray:
        """Probabilities ``(n, n_views * 6)``, view-major."""
        cols = []
        for (lo, hi), per_topic in zip(self.views_.values(), models):
            view = features[:, lo:hi]
            cols.extend(_row_proba(m, view) for m in per_topic)
        return np.column_stack(cols) if cols else np.zeros((features.shape[0], 0))

    def _context_matrix(self, X: Sequence[StatementContext], scores: dict[str, np.ndarray],
                        k: int) -> np.ndarray:
        """Inputs of topic ``k``'s second stage (see the module docstring).

        Without context (``use_context=False``) only the statement's own text scores.
        """
        n_views = len(self.views_)
        mine = [v * len(TOPIC_IDS) + k for v in range(n_views)]
        rows = []
        low = np.full(n_views * len(TOPIC_IDS), _EPS)
        for c in X:
            own = scores[c.text]
            if not self.use_context:
                rows.append(_logit(own))
                continue
            prev1 = scores[c.previous[0]] if len(c.previous) > 0 else low
            prev2 = scores[c.previous[1]] if len(c.previous) > 1 else low
            p1, p2, p0 = prev1[mine].mean(), prev2[mine].mean(), own[mine].mean()
            window = [scores[t][mine].mean() for t in c.previous] or [_EPS]
            cues = context_cues(c.text)
            cues1 = context_cues(c.previous[0]) if c.previous else np.zeros(len(CUE_NAMES))
            chain = float(cues[:3].any()) * float(cues1[:3].any())
            rows.append(np.concatenate([
                _logit(own),  # every text score of the statement
                _logit(prev1[mine]), _logit(prev2[mine]),
                cues * p1,
                [chain * p2, float(c.new_block) * p1, p0 * p1, max(window), float(np.mean(window))],
            ]))
        return np.asarray(rows)

    def text_scores(self, X: Sequence[StatementContext]) -> dict[str, np.ndarray]:
        """Text-stage probabilities of every distinct text of ``X`` (statements and previous)."""
        check_is_fitted(self, "text_models_")
        texts = sorted({c.text for c in X} | {p for c in X for p in c.previous})
        if not texts:
            return {}
        probs = self._text_proba(self.text_models_, self.vectorizer_.transform(texts))
        return dict(zip(texts, probs))

    def predict_proba(self, X: Sequence[StatementContext]) -> np.ndarray:
        """Calibrated topic probabilities, shape ``(n, 6)``, parents at least their children."""
        check_is_fitted(self, "text_models_")
        if len(X) == 0:
            return np.zeros((0, len(TOPIC_IDS)))
        scores = self.text_scores(X)
        out = np.column_stack([_row_proba(m, self._context_matrix(X, scores, k))
                               for k, m in enumerate(self.context_models_)])
        return enforce_hierarchy(out)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Binary decisions from probabilities: thresholds, then every child brings its parent."""
        check_is_fitted(self, "thresholds_")
        y = (proba >= self.thresholds_).astype(int)
        for child, parent in PARENT.items():
            c, p = TOPIC_IDS.index(child), TOPIC_IDS.index(parent)
            y[:, p] |= y[:, c]
        return y

    def predict(self, X: Sequence[StatementContext]) -> np.ndarray:
        """Binary topic matrix, shape ``(n, 6)``, hierarchy closed."""
        return self.decide(self.predict_proba(X))

    def tune_thresholds(self, proba: np.ndarray, y: np.ndarray,
                        grid: Sequence[float] = tuple(np.round(np.arange(0.2, 0.81, 0.025), 3))
                        ) -> TopicClassifier:
        """Choose each topic's threshold maximising its F1 on held-out ``(proba, y)``.

        Ties go to the higher threshold (fewer false alarms).
        """
        y = np.asarray(y, dtype=int)
        thresholds = []
        for k in range(len(TOPIC_IDS)):
            best, best_f1 = 0.5, -1.0
            for t in grid:
                pred = proba[:, k] >= t
                tp = int((pred & (y[:, k] == 1)).sum())
                f1 = 2 * tp / max(int(pred.sum()) + int(y[:, k].sum()), 1)
                if f1 >= best_f1:
                    best, best_f1 = float(t), f1
            thresholds.append(best)
        self.thresholds_ = np.array(thresholds)
        return self

    # -- explanations ---------------------------------------------------------------------
    def explain(self, X: Sequence[StatementContext], offsets: Sequence[int], topics_of: Sequence[
            Sequence[str]], top: int = 3) -> list[dict[str, list[Evidence]]]:
        """For each statement, the phrases that pushed it most towards each of its topics.

        ``offsets[i]`` is the document offset of ``X[i].text``; ``topics_of[i]`` the topics to
        explain. Text evidence: each word's exact share of the log-odds that the statement's own
        text contributes (through both text models and the second stage), adjacent words merged
        into phrases. Context evidence: the referring cue, weighted by how much the preceding
        statements raised the log-odds compared with the statement read alone.
        """
        check_is_fitted(self, "text_models_")
        out: list[dict[str, list[Evidence]]] = []
        scores = self.text_scores(X)
        for c, offset, topics in zip(X, offsets, topics_of):
            found: dict[str, list[Evidence]] = {}
            for topic in topics:
                k = TOPIC_IDS.index(topic)
                tokens, weights = self.vectorizer_.token_weights(c.text, self._text_coef(k), offset)
                items = _phrases(c.text, offset, tokens, weights, top)
                if self.use_context and c.previous:
                    gain = self._context_gain(c, scores, k)
                    if gain > 0:
                        for s, e in cue_spans(c.text, offset)[:1]:
                            items.append(Evidence(s, e, c.text[s - offset:e - offset],
                                                  round(gain, 3), "context"))
                found[topic] = sorted(items, key=lambda ev: -ev.weight)[:top]
            out.append(found)
        return out

    def _text_coef(self, k: int) -> np.ndarray:
        """Weights over the text features of topic ``k``'s log-odds (own text scores only)."""
        n_features = max(hi for _, hi in self.views_.values())
        coef = np.zeros(n_features)
        stage2 = self.context_models_[k].coef_.ravel()
        for v, ((lo, hi), per_topic) in enumerate(zip(self.views_.values(), self.text_models_)):
            for j, model in enumerate(per_topic):
                coef[lo:hi] += stage2[v * len(TOPIC_IDS) + j] * model.coef_.ravel()
        return coef

    def _context_gain(self, c: StatementContext, scores: dict[str, np.ndarray], k: int) -> float:
        """Log-odds of topic ``k`` with the preceding statements minus read alone."""
        model = self.context_models_[k]
        z = self._context_matrix([c, StatementContext(c.text)], scores, k)
        with_context, alone = model.decision_function(z)
        return float(with_context - alone)


def _phrases(text: str, offset: int, tokens, weights: np.ndarray, top: int) -> list[Evidence]:
    """Merge adjacent positively weighted tokens into phrases; keep the ``top`` strongest."""
    if not len(tokens) or weights.max(initial=0.0) <= 0:
        return []
    floor = 0.25 * weights.max()
    phrases: list[tuple[int, int, float]] = []
    run: list[int] = []
    for i in range(len(tokens) + 1):
        if i < len(tokens) and weights[i] >= floor:
            run.append(i)
            continue
        if run:
            phrases.append((run[0], run[-1], float(weights[run].sum())))
            run = []
    phrases.sort(key=lambda p: -p[2])
    out = []
    for first, last, weight in phrases[:top]:
        s, e = tokens[first].start, tokens[last].end
        out.append(Evidence(s, e, text[s - offset:e - offset], round(weight, 3)))
    return out
