"""The topic classifier: a scikit-learn estimator over :class:`~bilatag.features.StatementContext`.

Two stages, per topic:

1. *text*: a statement's own words (:class:`~bilatag.features.StatementVectorizer`);
   Two text models per topic: TF-IDF word and character n-grams, and the domain lexicon
   (:mod:`bilatag.lexicon`), each a logistic regression (the n-gram one over columns scaled by
   their naive-Bayes log-count ratio for the topic, ``nb_alpha``);
2. *context*: the text scores of the statement and of the statements before it (the nearest
   two, and the strongest and mean over a window of :data:`~bilatag.features.CONTEXT_WINDOW`),
   crossed with the cues by which the statement refers back (LABELS.md rules 2 and 5:
   « ces réseaux », « à ce titre ») and with the probability that the statement carries on
   the topic of the one before it (a *carry* model learned from the corpus's context-only
   statements), and the scores of the two statements after it (whether the passage stays on
   the subject). Trained on out-of-fold text scores (grouped by document),
   so it learns how far to trust the text models on statements they have not seen. Each
   topic's context model (:class:`ContextModel`) averages a logistic regression, a small
   neural network (one hidden layer, strongly regularised) and gradient-boosted trees over
   these few, dense inputs; the network and the trees catch interactions the linear model
   cannot;
3. *sequence*: a bidirectional GRU (:class:`~bilatag.sequence.SequenceModel`) reads the
   statements of the whole document in order, forwards and backwards, from the same per-statement
   inputs (text scores, cues, carry probability, line breaks), and gives the six topics of each
   statement at once. Where the context stage sees a window, the recurrent network learns how
   long a subject lasts. Also trained on the out-of-fold text scores.

The mean of the context stage's and the sequence model's probabilities is what
``Statement.scores`` reports; ``bilatag evaluate`` checks its calibration.

Then the hierarchy: a parent's score is at least its children's, a statement gets a topic when
its score reaches the topic's threshold (chosen on the development set), and every child brings
its parent.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from .features import (
    CUE_NAMES,
    StatementContext,
    StatementVectorizer,
    context_cues,
    contexts_for_document,
    cue_spans,
)
from .sequence import SequenceModel
from .topics import PARENT, TOPIC_IDS, close_matrix

__all__ = ["TopicClassifier", "ContextModel", "Evidence", "Explanations", "enforce_hierarchy",
           "THRESHOLD_TOLERANCE"]

log = logging.getLogger(__name__)

#: Expected F1 per topic that the default threshold rule gives up for fewer false alarms
#: (:meth:`TopicClassifier.tune_thresholds`).
THRESHOLD_TOLERANCE = 0.002

_EPS = 1e-4
_REFERRING = 2  # the first cues of CUE_NAMES (anaphoric noun phrase, connective) refer back
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


class _ConstantLogistic:
    """Stands for a logistic regression fitted on labels of one class (a topic absent from a
    small training set or fold): zero weights, the intercept of the labels' rate (clipped)."""

    def __init__(self, n_features: int, rate: float) -> None:
        self.classes_ = np.array([0, 1])
        self.coef_ = np.zeros((1, n_features))
        self.intercept_ = _logit(np.array([rate]))


def _fit_logistic(X, y: np.ndarray, sample_weight: np.ndarray | None = None, **params: Any
                  ) -> LogisticRegression | _ConstantLogistic:
    """``LogisticRegression(**params).fit(X, y)``, or a constant model when ``y`` has one class
    (scikit-learn refuses to fit those)."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        log.info("labels of one class (%d rows): constant model", len(y))
        return _ConstantLogistic(X.shape[1], float(y.mean()) if len(y) else 0.0)
    return LogisticRegression(**params).fit(X, y, sample_weight=sample_weight)


def _nb_scale(X, y: np.ndarray, weight: np.ndarray | None, alpha: float) -> np.ndarray:
    """Naive-Bayes column scale of one topic: ``|log(p / q)|``, with ``p`` (``q``) each
    column's smoothed share of the feature mass of the statements with (without) the topic,
    normalised to a mean of 1."""
    w = np.ones(X.shape[0]) if weight is None else weight
    pos = np.asarray(X.T @ (w * (y == 1))).ravel() + alpha
    neg = np.asarray(X.T @ (w * (y == 0))).ravel() + alpha
    scale = np.abs(np.log(pos / pos.sum()) - np.log(neg / neg.sum()))
    return scale / max(float(scale.mean()), 1e-12)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _expected_f1(p: np.ndarray, threshold: float) -> float:
    """The F1 that thresholding calibrated probabilities ``p`` at ``threshold`` is expected to
    reach: the probabilities stand in for the labels (expected true positives over the
    expected number of positives and the number predicted)."""
    chosen = p >= threshold
    return 2 * float(p[chosen].sum()) / max(int(chosen.sum()) + float(p.sum()), 1e-12)


def _raise_within_expected_f1(p: np.ndarray, threshold: float, grid: Sequence[float],
                              tolerance: float) -> float:
    """The highest grid threshold above ``threshold`` whose expected F1 on ``p`` is within
    ``tolerance`` of the expected F1 at ``threshold`` (``threshold`` itself if none is)."""
    floor = _expected_f1(p, threshold) - tolerance
    raised = [float(t) for t in grid if t > threshold and _expected_f1(p, t) >= floor]
    return max(raised, default=threshold)


def _rowwise_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` without BLAS: each row's result does not depend on the other rows."""
    return np.einsum("ij,jk->ik", x, w)


def boosted_trees(trees: int, leaves: int, random_state: int = 0):
    """The unfitted gradient-boosted trees of a :class:`ContextModel` (scikit-learn's
    histogram boosting): ``trees`` iterations of trees with at most ``leaves`` leaves of at
    least 40 statements, an L2 penalty on the leaf values. Grouped cross-validation on
    train + dev: 100 trees at rate 0.1 as good as 200 at 0.05, 8-leaf trees 0.001 lower
    (micro-F1)."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # training only

    return HistGradientBoostingClassifier(max_iter=trees, learning_rate=0.1, max_leaf_nodes=leaves,
                                          min_samples_leaf=40, l2_regularization=1.0,
                                          early_stopping=False, random_state=random_state)


@dataclass(frozen=True)
class _Forest:
    """Fitted boosted trees as flat NumPy arrays, evaluated without scikit-learn.

    Nodes of all trees in one array: ``feature``, ``threshold`` (a row goes left when its
    feature is at most the threshold), ``value`` (leaves: their shrunk value) and ``children``
    (``children[2 * i]`` the right child of node ``i``, ``children[2 * i + 1]`` its left).
    A leaf is its own child and never goes left of an infinite threshold; the trees come
    deepest first, and ``active[s]`` of them are still deeper than ``s``, so step ``s`` of the
    synchronous descent only moves those and ``len(active)`` steps take every row of every
    tree to its leaf. Rows are sent down one by one
    (no threads, no batch effects), which is also much faster than scikit-learn's OpenMP
    predictor on the small batches of :func:`bilatag.tag`. Inputs must be finite (the
    context inputs are).
    """

    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    active: np.ndarray
    baseline: float

    @classmethod
    def of(cls, fitted) -> _Forest:
        """From a fitted binary ``HistGradientBoostingClassifier`` without categorical features."""
        feature, threshold, children, value, roots, depths = [], [], [], [], [], []
        offset = 0
        for (tree,) in fitted._predictors:
            nodes = tree.nodes
            leaf = nodes["is_leaf"].astype(bool)
            here = np.arange(len(nodes)) + offset
            feature.append(np.where(leaf, 0, nodes["feature_idx"]))
            threshold.append(np.where(leaf, np.inf, nodes["num_threshold"]))
            right = np.where(leaf, here, nodes["right"].astype(np.intp) + offset)
            left = np.where(leaf, here, nodes["left"].astype(np.intp) + offset)
            children.append(np.column_stack([right, left]).ravel())
            value.append(np.where(leaf, nodes["value"], 0.0))
            roots.append(offset)
            depths.append(int(nodes["depth"].max()))
            offset += len(nodes)
        order = np.argsort(-np.array(depths), kind="stable")
        active = [sum(d > step for d in depths) for step in range(max(depths))]
        return cls(feature=np.concatenate(feature).astype(np.intp),
                   threshold=np.concatenate(threshold).astype(float),
                   children=np.concatenate(children).astype(np.intp),
                   value=np.concatenate(value).astype(float),
                   roots=np.array(roots, dtype=np.intp)[order], active=np.array(active, dtype=np.intp),
                   baseline=float(np.ravel(fitted._baseline_prediction)[0]))

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        """Summed leaf values plus the baseline, for each row of ``X``."""
        n, width = X.shape
        flat = np.ascontiguousarray(X, dtype=float).ravel()
        row_start = np.arange(n, dtype=np.intp) * width
        node = np.repeat(self.roots[:, None], n, axis=1)  # (trees, rows)
        for k in self.active:
            moving = node[:k]
            go_left = flat[row_start + self.feature[moving]] <= self.threshold[moving]
            node[:k] = self.children[2 * moving + go_left]
        # A running sum over the trees adds them in the same order for any number of rows
        # (ndarray.sum would sum one row pairwise and several rows sequentially).
        return self.baseline + np.cumsum(self.value[node], axis=0)[-1]


class ContextModel(ClassifierMixin, BaseEstimator):
    """One topic's context stage over the dense context inputs.

    The average of a logistic regression and, with ``hidden > 0``, a small neural network (one
    hidden layer of ``hidden`` rectified units) and, with ``trees > 0``, gradient-boosted
    trees (:func:`boosted_trees`). The network and the trees catch the interactions a linear
    model cannot (a referring cue *and* a topical previous statement *and* weak own words),
    each in its own way, so their errors partly cancel in the average. The network's weights
    and the trees' nodes are kept as plain arrays and applied row by row, so a statement's
    score does not depend on its batch and loading the model imports nothing more.
    """

    def __init__(self, C: float = 1.0, hidden: int = 0, alpha: float = 10.0, max_iter: int = 300,
                 trees: int = 0, tree_leaves: int = 15, random_state: int = 0) -> None:
        self.C = C
        self.hidden = hidden
        self.alpha = alpha
        self.max_iter = max_iter
        self.trees = trees
        self.tree_leaves = tree_leaves
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> ContextModel:
        """Fit the logistic regression, (``hidden > 0``) the network and (``trees > 0``) the
        trees; returns self."""
        X = np.asarray(X, dtype=float)
        self.logistic_ = _fit_logistic(X, y, C=self.C, max_iter=5000)
        self.classes_ = self.logistic_.classes_
        self.layers_: list[tuple[np.ndarray, np.ndarray]] = []
        if self.hidden and isinstance(self.logistic_, LogisticRegression):
            from sklearn.neural_network import MLPClassifier  # training only

            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
            net = MLPClassifier(hidden_layer_sizes=(self.hidden,), alpha=self.alpha,
                                solver="lbfgs", max_iter=self.max_iter, random_state=self.random_state)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                net.fit((X - self.mean_) / self.scale_, y)
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                # The iteration cap is part of the regularisation (chosen by cross-validation).
                log.info("context network: L-BFGS stopped at max_iter=%d", self.max_iter)
            self.layers_ = [(w.copy(), b.copy()) for w, b in zip(net.coefs_, net.intercepts_)]
        self.trees_ = None
        if self.trees and isinstance(self.logistic_, LogisticRegression):
            self.trees_ = _Forest.of(boosted_trees(self.trees, self.tree_leaves,
                                                   self.random_state).fit(X, y))
        return self

    @property
    def coef_(self) -> np.ndarray:
        """Weights of the logistic part (the linear share of the context inputs)."""
        return self.logistic_.coef_

    def positive_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of the topic for each row (computed row by row): the mean of the parts."""
        X = np.asarray(X, dtype=float)
        parts = [_row_proba(self.logistic_, X)]
        if self.layers_:
            h = (X - self.mean_) / self.scale_
            for j, (w, b) in enumerate(self.layers_):
                h = _rowwise_matmul(h, w) + b
                if j < len(self.layers_) - 1:
                    h = np.maximum(h, 0.0)
            parts.append(expit(h.ravel()))
        if self.trees_ is not None:
            parts.append(expit(self.trees_.log_odds(X)))
        return np.mean(parts, axis=0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` probabilities, scikit-learn style."""
        p = self.positive_proba(X)
        return np.column_stack([1 - p, p])

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the topic for each row."""
        return _logit(self.positive_proba(X))


class _Scored:
    """Text-stage results for the distinct texts of a batch of contexts.

    ``index`` maps a text to its row; ``probs`` (rows x views*6) are the text models'
    probabilities, ``cues`` the context cues of each text, ``features`` the feature rows
    (kept for explanations; None for out-of-fold scores), ``carry`` the carry model's
    probability of each text.
    """

    def __init__(self, texts: list[str], probs: np.ndarray, features: sp.csr_matrix | None,
                 cues: np.ndarray, carry: np.ndarray) -> None:
        self.index = {t: i for i, t in enumerate(texts)}
        self.texts = texts
        self.probs = probs
        self.features = features
        self.cues = cues
        # Probability that each text carries on a topic of the statement before it.
        self.carry = carry


def _cue_matrix(texts: Sequence[str]) -> np.ndarray:
    """The context cues of each text, shape ``(len(texts), len(CUE_NAMES))``."""
    return np.array([context_cues(t) for t in texts]).reshape(len(texts), len(CUE_NAMES))


def _stage_proba(models: Sequence[ContextModel], z: list[np.ndarray]) -> np.ndarray:
    """One context pass's probabilities ``(n, 6)``, parents at least their children."""
    return enforce_hierarchy(np.column_stack([m.positive_proba(z[k]) for k, m in enumerate(models)]))


def _carry_rows(X: Sequence[StatementContext], y: np.ndarray, groups: np.ndarray,
                from_context: Sequence[bool] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Training rows of the carry model: (statement index, carries on or not, text).

    A row is a statement right after a statement with a topic (same document). With
    ``from_context``, only statements whose topics come from context (target 1 when they share
    a topic with the previous statement) and statements without topic (target 0).
    """
    index, target = [], []
    for i in range(1, len(X)):
        if not (X[i].previous and groups[i] == groups[i - 1] and X[i].previous[0] == X[i - 1].text
                and y[i - 1].any()):
            continue
        shares = bool((y[i] & y[i - 1]).any())
        if from_context is not None:
            if from_context[i] and shares:
                index.append(i); target.append(1)
            elif not y[i].any():
                index.append(i); target.append(0)
        else:
            index.append(i); target.append(int(shares))
    idx = np.array(index, dtype=int)
    return idx, np.array(target, dtype=int), [X[i].text for i in idx]


def _runs(X: Sequence[StatementContext]) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of consecutive statements of one document in ``X``: a run
    goes on while a statement's nearest previous text is the statement before it in ``X``."""
    runs, start = [], 0
    for i in range(1, len(X) + 1):
        if i == len(X) or not (X[i].previous and X[i].previous[0] == X[i - 1].text):
            runs.append((start, i))
            start = i
    return runs


def _distinct_texts(X: Sequence[StatementContext]) -> list[str]:
    return sorted({c.text for c in X} | {p for c in X for p in c.previous}
                  | {f for c in X for f in c.following})


class TopicClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label topic classifier of statements in context.

    ``X`` is a sequence of :class:`StatementContext`; ``y`` a binary matrix of shape
    ``(n_statements, 6)`` in the order of :data:`bilatag.topics.TOPIC_IDS`. ``fit`` takes the
    document of each statement as ``groups`` (for the out-of-fold scores of the context stage).

    Parameters
    ----------
    C : inverse regularisation of the n-gram text model.
    lexicon_C : inverse regularisation of the lexicon text model.
    nb_alpha : smoothing of the naive-Bayes scaling of the n-gram view (NBSVM, Wang & Manning,
        2012): for each topic, every n-gram column is scaled by the absolute log-ratio of its
        (smoothed, weighted) share in the topic's statements and in the others, normalised to a
        mean of 1, before the logistic regression. This penalises n-grams that do not separate
        the topic more than those that do; the scale is then folded into the weights, so
        inference and explanations see an ordinary logistic regression. None: no scaling.
    context_C : inverse regularisation of the context stage.
    use_context : False: the second stage sees only the statement's own text scores (the
        ablation baseline without context).
    context_passes : passes of the context stage; from the second on, a pass also sees the
        previous pass's scores of the preceding statements, so a topic follows a reference
        chain (« Cette décision ... Son suivi ... ») beyond the statements that name it.
    n_folds : folds for the out-of-fold text scores.
    vectorizer : the :class:`StatementVectorizer` (a default one when None).
    class_weight : class weights of the text models.
    carry_C : inverse regularisation of the *carry* model, a logistic regression over a
        statement's words and cues that learns from the corpus whether a statement carries on
        a topic of the statement before it (« ces réseaux », « les intéressés », « leur
        retour ») or moves on; its probability, crossed with the preceding statements' scores,
        feeds the context stage. None: no carry model.
    context_hidden : hidden units of the small network that each topic's context stage
        averages with its logistic regression (:class:`ContextModel`); 0: the logistic
        regression alone.
    context_alpha : L2 penalty of that network (on standardised inputs).
    context_trees : boosting iterations of the gradient-boosted trees that each topic's context
        stage also averages in (:class:`ContextModel`); 0: no trees.
    sequence_hidden : units of each direction of the GRU over the document
        (:class:`~bilatag.sequence.SequenceModel`) whose probabilities are averaged with the
        context stage's; 0 (or ``use_context=False``): no sequence model.
    sequence_epochs : training epochs of that GRU.
    random_state : seed of every random choice (the solvers here are deterministic).
    """

    def __init__(self, C: float = 8.0, lexicon_C: float = 0.3, nb_alpha: float | None = 0.1,
                 context_C: float = 1.0,
                 use_context: bool = True, context_passes: int = 2, n_folds: int = 5,
                 vectorizer: StatementVectorizer | None = None,
                 class_weight: str | None = "balanced", carry_C: float | None = 3.0,
                 context_hidden: int = 32, context_alpha: float = 10.0, context_trees: int = 100,
                 sequence_hidden: int = 48, sequence_epochs: int = 30,
                 random_state: int = 0) -> None:
        self.C = C
        self.lexicon_C = lexicon_C
        self.nb_alpha = nb_alpha
        self.context_C = context_C
        self.use_context = use_context
        self.context_passes = context_passes
        self.n_folds = n_folds
        self.vectorizer = vectorizer
        self.class_weight = class_weight
        self.carry_C = carry_C
        self.context_hidden = context_hidden
        self.context_alpha = context_alpha
        self.context_trees = context_trees
        self.sequence_hidden = sequence_hidden
        self.sequence_epochs = sequence_epochs
        self.random_state = random_state

    # -- training -------------------------------------------------------------------------
    def fit(self, X: Sequence[StatementContext], y: np.ndarray,
            groups: Sequence[object] | None = None,
            text_sample_weight: Sequence[float] | None = None,
            from_context: Sequence[bool] | None = None) -> TopicClassifier:
        """Fit both stages; thresholds default to 0.5 until :meth:`tune_thresholds`.

        ``text_sample_weight`` weighs the statements in the text stage only (for example less
        for statements whose topic comes from context, not from their own words).

        Fitting runs BLAS and OpenMP on one thread: a multi-threaded BLAS sums in an order that
        depends on the number of cores, which would change the fitted network's bits from one
        machine to another (and on inputs this small, one thread is also the fastest).
        """
        from threadpoolctl import threadpool_limits  # training only

        with threadpool_limits(limits=1):
            return self._fit(X, y, groups, text_sample_weight, from_context)

    def _fit(self, X: Sequence[StatementContext], y: np.ndarray, groups: Sequence[object] | None,
             text_sample_weight: Sequence[float] | None, from_context: Sequence[bool] | None
             ) -> TopicClassifier:
        y = np.asarray(y, dtype=int)
        if y.ndim != 2 or y.shape != (len(X), len(TOPIC_IDS)):
            raise ValueError(f"y must have shape ({len(X)}, {len(TOPIC_IDS)})")
        weight = None if text_sample_weight is None else np.asarray(text_sample_weight, dtype=float)
        if weight is not None and weight.shape != (len(X),):
            raise ValueError(f"text_sample_weight must have {len(X)} values")
        self.classes_ = np.array(TOPIC_IDS)
        template = self.vectorizer if self.vectorizer is not None else StatementVectorizer()
        self.vectorizer_ = clone(template)
        features = self.vectorizer_.fit_transform([c.text for c in X])
        self.views_ = self.vectorizer_.views()
        self.text_models_ = self._fit_text(features, y, weight)
        groups = np.asarray(groups if groups is not None else np.arange(len(X)))
        carry_rows = _carry_rows(X, y, groups, from_context)
        self.carry_model_ = self._fit_carry(features, carry_rows)
        oof = self._out_of_fold(X, features, y, groups, weight, carry_rows)
        self.context_models_ = []
        earlier: np.ndarray | None = None
        for _ in range(self.context_passes if self.use_context else 1):
            z = self._context_inputs(X, oof, earlier)
            models = [ContextModel(C=self.context_C, hidden=self.context_hidden,
                                   alpha=self.context_alpha, trees=self.context_trees,
                                   random_state=self.random_state
                                   ).fit(z[k], y[:, k]) for k in range(len(TOPIC_IDS))]
            self.context_models_.append(models)
            earlier = self._earlier_scores(X, oof, models, z, earlier)
        self.sequence_model_ = None
        if self.use_context and self.sequence_hidden:
            steps = self._sequence_inputs([c.text for c in X], [c.new_block for c in X], oof)
            runs = _runs(X)
            self.sequence_model_ = SequenceModel(
                hidden=self.sequence_hidden, epochs=self.sequence_epochs,
                random_state=self.random_state).fit([steps[a:b] for a, b in runs],
                                                    [y[a:b] for a, b in runs])
            # Topics without a positive statement keep the context stage's constant score.
            self.sequence_topics_ = y.any(axis=0)
        self.thresholds_ = np.full(len(TOPIC_IDS), 0.5)
        return self

    def _fit_text(self, features, y: np.ndarray, weight: np.ndarray | None = None
                  ) -> list[list[LogisticRegression]]:
        """One logistic regression per view (n-grams, lexicon) and topic."""
        models = []
        for view, (lo, hi) in self.views_.items():
            C = self.C if view == "ngrams" else self.lexicon_C
            cols = features[:, lo:hi]
            per_topic = []
            for k in range(len(TOPIC_IDS)):
                scale = (_nb_scale(cols, y[:, k], weight, self.nb_alpha)
                         if view == "ngrams" and self.nb_alpha is not None else None)
                model = _fit_logistic(cols if scale is None else cols @ sp.diags(scale), y[:, k],
                                      weight, C=C, class_weight=self.class_weight, max_iter=5000,
                                      solver="liblinear", random_state=self.random_state)
                if scale is not None:  # weights on the scaled columns -> on the columns
                    model.coef_ = model.coef_ * scale
                per_topic.append(model)
            models.append(per_topic)
        return models

    def _carry_inputs(self, features, cues: np.ndarray):
        """Inputs of the carry model: the word n-grams and the context cues of each text."""
        words = features[:, :self.vectorizer_.n_word_features_]
        return sp.hstack([words, sp.csr_matrix(cues)], format="csr")

    def _fit_carry(self, features, rows: tuple[np.ndarray, np.ndarray, list[str]],
                   keep: np.ndarray | None = None) -> LogisticRegression | None:
        index, target, texts = rows
        if keep is not None:
            index, target, texts = index[keep], target[keep], [texts[i] for i in np.flatnonzero(keep)]
        if self.carry_C is None or len(np.unique(target)) < 2:
            return None
        return LogisticRegression(C=self.carry_C, max_iter=5000, solver="liblinear",
                                  random_state=self.random_state).fit(
            self._carry_inputs(features[index], _cue_matrix(texts)), target)

    def _carry_proba(self, model: LogisticRegression | None, features, cues: np.ndarray) -> np.ndarray:
        if model is None:
            return np.zeros(len(cues))
        return _row_proba(model, self._carry_inputs(features, cues))

    def _out_of_fold(self, X, features, y, groups, weight, carry_rows) -> _Scored:
        """Text-stage probabilities of every text of X, from models that did not see its document."""
        n_folds = min(self.n_folds, len(np.unique(groups)))
        texts = _distinct_texts(X)
        probs = np.zeros((len(texts), len(self.views_) * len(TOPIC_IDS)))
        carry = np.zeros(len(texts))
        cues = _cue_matrix(texts)
        row = {t: i for i, t in enumerate(texts)}
        for train, test in GroupKFold(n_splits=n_folds).split(features, y, groups):
            models = self._fit_text(features[train], y[train],
                                    None if weight is None else weight[train])
            carry_model = self._fit_carry(features, carry_rows, np.isin(carry_rows[0], train))
            fold = sorted({X[i].text for i in test} | {p for i in test for p in X[i].previous}
                          | {f for i in test for f in X[i].following})
            rows = [row[t] for t in fold]
            fold_features = self.vectorizer_.transform(fold)
            probs[rows] = self._text_proba(models, fold_features)
            carry[rows] = self._carry_proba(carry_model, fold_features, cues[rows])
        return _Scored(texts, probs, None, cues, carry)

    # -- inference ------------------------------------------------------------------------
    def _text_proba(self, models: list[list[LogisticRegression]], features) -> np.ndarray:
        """Probabilities ``(n, n_views * 6)``, view-major."""
        cols = []
        for (lo, hi), per_topic in zip(self.views_.values(), models):
            view = features[:, lo:hi]
            cols.extend(_row_proba(m, view) for m in per_topic)
        return np.column_stack(cols) if cols else np.zeros((features.shape[0], 0))

    def score_texts(self, X: Sequence[StatementContext]) -> _Scored:
        """Text-stage results for every distinct text of ``X`` (statements and previous)."""
        check_is_fitted(self, "text_models_")
        texts = _distinct_texts(X)
        n_cols = len(self.views_) * len(TOPIC_IDS)
        cues = _cue_matrix(texts)
        if not texts:
            return _Scored([], np.zeros((0, n_cols)), None, cues, np.zeros(0))
        features = self.vectorizer_.transform(texts)
        return _Scored(texts, self._text_proba(self.text_models_, features), features, cues,
                       self._carry_proba(self.carry_model_, features, cues))

    def _context_inputs(self, X: Sequence[StatementContext], scored: _Scored,
                        earlier: np.ndarray | None = None) -> list[np.ndarray]:
        """Inputs of each topic's second stage (see the module docstring), one matrix per topic.

        Without context (``use_context=False``) only the statement's own text scores.
        ``earlier`` (from the second pass) holds the previous pass's scores of each statement's
        preceding statements (:meth:`_earlier_scores`).
        """
        n, n_views, n_topics = len(X), len(self.views_), len(TOPIC_IDS)
        own = np.array([scored.index[c.text] for c in X], dtype=int)
        own_logits = _logit(scored.probs[own]) if n else np.zeros((0, n_views * n_topics))
        if not self.use_context:
            return [own_logits] * n_topics
        window = max((len(c.previous) for c in X), default=0)
        prev = np.full((n, max(window, 2)), -1, dtype=int)
        for i, c in enumerate(X):
            prev[i, :len(c.previous)] = [scored.index[p] for p in c.previous]
        has = prev >= 0
        # Mean over views of each topic's probability, for every text; a missing text: _EPS.
        by_topic = scored.probs.reshape(len(scored.probs), n_views, n_topics).mean(axis=1)
        padded = np.vstack([by_topic, np.full((1, n_topics), _EPS)])
        prev_p = padded[np.where(has, prev, -1)]                      # (n, W, topics)
        cues = scored.cues[own] if n else np.zeros((0, len(CUE_NAMES)))
        cues1 = np.vstack([scored.cues, np.zeros((1, len(CUE_NAMES)))])[np.where(has[:, 0], prev[:, 0], -1)]
        chain = cues[:, :_REFERRING].any(axis=1) & cues1[:, :_REFERRING].any(axis=1)
        new_block = np.array([c.new_block for c in X], dtype=float)
        n_prev = np.maximum(has.sum(axis=1), 1)
        following = np.full((n, 2), -1, dtype=int)
        for i, c in enumerate(X):
            following[i, :len(c.following[:2])] = [scored.index[f] for f in c.following[:2]]
        next_p = padded[following]                                      # (n, 2, topics)
        title = cues[:, CUE_NAMES.index("no_final_punct")]
        carry = scored.carry[own] if n else np.zeros(0)
        out = []
        for k in range(n_topics):
            mine = [v * n_topics + k for v in range(n_views)]
            view_rows = np.vstack([scored.probs[:, mine], np.full((1, n_views), _EPS)])
            p1, p2 = prev_p[:, 0, k], prev_p[:, 1, k]
            p0 = by_topic[own, k] if n else np.zeros(0)
            in_window = np.where(has, prev_p[:, :, k], 0.0)
            best = np.where(has.any(axis=1), np.where(has, prev_p[:, :, k], -1.0).max(axis=1), _EPS)
            columns = [
                own_logits,
                _logit(view_rows[np.where(has[:, 0], prev[:, 0], -1)]),
                _logit(view_rows[np.where(has[:, 1], prev[:, 1], -1)]),
                cues * p1[:, None],
                chain * p2, new_block * p1, p0 * p1, best, in_window.sum(axis=1) / n_prev,
            ]
            nxt = next_p[:, :, k]
            columns += [_logit(nxt[:, 0]), _logit(nxt[:, 1]), title * nxt[:, 0]]
            if self.carry_C is not None:
                columns += [carry * p1, carry * best, carry * (1 - p0) * p1]
            if earlier is not None:
                before = earlier[:, :, k]
                columns += [_logit(before[:, 0]), _logit(before[:, 1]), cues * before[:, :1],
                            chain * before[:, 1], before.max(axis=1)]
                if self.carry_C is not None:
                    columns += [carry * before[:, 0], carry * before.max(axis=1)]
            out.append(np.column_stack(columns))
        return out

    def _earlier_scores(self, X: Sequence[StatementContext], scored: _Scored,
                        models: list[ContextModel], z: list[np.ndarray],
                        earlier: np.ndarray | None) -> np.ndarray:
        """One pass's scores of each statement's preceding statements, shape ``(n, W + 2, 6)``.

        Nearest first, padded with _EPS. A preceding statement is found by its *position*: the
        ``j``-th previous text of ``X[i]`` is ``X[i - 1 - j]`` when the statements of a document
        come in order, as they do from the tagger and in training. Looking it up by text instead
        would let a text repeated in another document of the batch (« Partager ») lend that
        document's context. A preceding statement that is not there (a caller passing a window
        that reaches before ``X``) is scored alone, without context of its own.
        """
        n, n_topics = len(X), len(TOPIC_IDS)
        window = max((len(c.previous) for c in X), default=0)
        out = np.full((n, max(window, 1) + 2, n_topics), _EPS)
        scores = _stage_proba(models, z)
        absent: dict[str, list[tuple[int, int]]] = {}
        for i, c in enumerate(X):
            for j, text in enumerate(c.previous):
                at = i - 1 - j
                if at >= 0 and X[at].text == text:
                    out[i, j] = scores[at]
                else:
                    absent.setdefault(text, []).append((i, j))
        if absent:
            alone = [StatementContext(t) for t in absent]
            alone_earlier = None if earlier is None else np.full(
                (len(alone), earlier.shape[1], n_topics), _EPS)
            alone_scores = _stage_proba(models, self._context_inputs(alone, scored, alone_earlier))
            for row, places in zip(alone_scores, absent.values()):
                for i, j in places:
                    out[i, j] = row
        return out

    def _final_inputs(self, X: Sequence[StatementContext], scored: _Scored) -> list[np.ndarray]:
        """Inputs of the last context pass (running the earlier passes)."""
        earlier = None
        for models in self.context_models_[:-1]:
            z = self._context_inputs(X, scored, earlier)
            earlier = self._earlier_scores(X, scored, models, z, earlier)
        return self._context_inputs(X, scored, earlier)

    @staticmethod
    def _sequence_inputs(texts: Sequence[str], new_block: Sequence[bool], scored: _Scored
                         ) -> np.ndarray:
        """Step inputs of the sequence model, one row per text: the text models' log-odds
        (scaled down by 4), the cues, the carry probability and whether a line break comes
        before the statement."""
        rows = np.array([scored.index[t] for t in texts], dtype=int)
        return np.column_stack([_logit(scored.probs[rows]) / 4, scored.cues[rows],
                                scored.carry[rows], np.asarray(new_block, dtype=float)])

    def _sequence_proba(self, X: Sequence[StatementContext], scored: _Scored) -> np.ndarray:
        """The sequence model's probabilities ``(n, 6)`` of the statements of ``X``.

        Each run of consecutive statements of one document (:func:`_runs`) is one sequence.
        Where a run starts with a statement whose preceding statements are not in ``X``, or
        ends with one whose following statements are not, those neighbours are read as steps
        before and after it (their outputs are dropped), so the network sees the same
        neighbours as the context stage.
        """
        steps, spans = [], []
        for a, b in _runs(X):
            before = list(reversed(X[a].previous))
            after = list(X[b - 1].following)
            texts = before + [c.text for c in X[a:b]] + after
            new_block = [False] * len(before) + [c.new_block for c in X[a:b]] + [False] * len(after)
            steps.append(self._sequence_inputs(texts, new_block, scored))
            spans.append((len(before), len(before) + b - a))
        out = self.sequence_model_.predict_proba(steps)
        return enforce_hierarchy(np.vstack([p[lo:hi] for p, (lo, hi) in zip(out, spans)]))

    def _combined_proba(self, X: Sequence[StatementContext], scored: _Scored,
                        context_proba: np.ndarray) -> np.ndarray:
        """The reported probabilities: the context stage's, averaged with the sequence model's
        when there is one (for the topics it learned)."""
        if getattr(self, "sequence_model_", None) is None:
            return context_proba
        mean = (context_proba + self._sequence_proba(X, scored)) / 2
        return enforce_hierarchy(np.where(self.sequence_topics_, mean, context_proba))

    def _proba_from(self, X: Sequence[StatementContext], scored: _Scored) -> np.ndarray:
        context_proba = _stage_proba(self.context_models_[-1], self._final_inputs(X, scored))
        return self._combined_proba(X, scored, context_proba)

    def predict_proba(self, X: Sequence[StatementContext]) -> np.ndarray:
        """Calibrated topic probabilities, shape ``(n, 6)``, parents at least their children."""
        check_is_fitted(self, "text_models_")
        if len(X) == 0:
            return np.zeros((0, len(TOPIC_IDS)))
        return self._proba_from(X, self.score_texts(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Binary decisions from probabilities: thresholds, then every child brings its parent."""
        check_is_fitted(self, "thresholds_")
        return close_matrix((proba >= self.thresholds_).astype(int))

    def predict(self, X: Sequence[StatementContext]) -> np.ndarray:
        """Binary topic matrix, shape ``(n, 6)``, hierarchy closed."""
        return self.decide(self.predict_proba(X))

    def tune_thresholds(self, proba: np.ndarray, y: np.ndarray,
                        grid: Sequence[float] = tuple(np.round(np.arange(0.2, 0.81, 0.025), 3)),
                        rule: str = "half_best_f1", tolerance: float = THRESHOLD_TOLERANCE
                        ) -> TopicClassifier:
        """Choose each topic's threshold on held-out ``(proba, y)``.

        ``rule="half_best_f1"`` (the default): half the best F1 the topic reaches on the grid.
        For calibrated probabilities the F1-optimal threshold is half the optimal F1 (Lipton,
        Elkan & Narayanaswamy, 2014), and the best F1 of a held-out set varies much less than
        the threshold at which it is reached: on sets the size of ``data/dev.jsonl``, the
        threshold of the best F1 (``rule="argmax"``) overfits the set
        (``benchmarks/thresholds.py``). With this rule, the threshold is then raised along the
        grid as far as the topic's *expected* F1 stays within ``tolerance`` of its value at
        half the best F1. The expected F1 is read from the probabilities themselves (they are
        calibrated), so it is a smooth curve, not the noisy F1 of a few hundred positives. F1
        is flat around its optimum while false alarms fall steadily as the threshold rises:
        the default (:data:`THRESHOLD_TOLERANCE`, 0.002) gives up that much expected F1 per
        topic for about a fifth fewer false alarms (``benchmarks/thresholds.py``); 0 keeps
        the F1-optimal threshold.

        ``rule="argmax"``: the threshold of the best F1 on the grid, ties to the higher
        threshold (fewer false alarms); the rule for scores that are not calibrated
        (``tolerance`` is ignored). A topic without any positive statement in ``y`` keeps 0.5
        (with a warning); half the best F1 never goes below the grid's lowest threshold.
        """
        if rule not in ("half_best_f1", "argmax"):
            raise ValueError(f"unknown threshold rule {rule!r}")
        if not 0 <= tolerance < 1:
            raise ValueError(f"tolerance must be in [0, 1), got {tolerance!r}")
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
            if not y[:, k].any():
                log.warning("no statement with topic %s to choose its threshold on: 0.5",
                            TOPIC_IDS[k])
                best = 0.5
            elif rule == "half_best_f1":
                best = max(round(best_f1 / 2, 4), float(min(grid)))
                if tolerance:
                    best = _raise_within_expected_f1(proba[:, k], best, grid, tolerance)
            thresholds.append(best)
        self.thresholds_ = np.array(thresholds)
        return self

    # -- explanations ---------------------------------------------------------------------
    def predict_and_explain(self, X: Sequence[StatementContext], offsets: Sequence[int], top: int = 3
                            ) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[Evidence]]]]:
        """Probabilities, decisions and, for each statement, the evidence of each of its topics.

        ``offsets[i]`` is the document offset of ``X[i].text``. Text evidence: each word's exact
        share of the log-odds that the statement's own text contributes through both text
        models and the logistic part of the second stage (the shares of the network, the
        trees and the sequence model are not split by word), adjacent words merged into
        phrases. Context evidence: the
        referring cue, weighted by how much the preceding statements raised the log-odds
        compared with the statement read alone.
        """
        check_is_fitted(self, "text_models_")
        if len(X) == 0:
            return np.zeros((0, len(TOPIC_IDS))), np.zeros((0, len(TOPIC_IDS)), dtype=int), []
        scored = self.score_texts(X)
        z = self._final_inputs(X, scored)
        final = self.context_models_[-1]
        proba = self._combined_proba(X, scored, _stage_proba(final, z))
        decided = self.decide(proba)
        gains = np.zeros(decided.shape)
        rows = [i for i, c in enumerate(X) if decided[i].any() and (c.previous or c.following)]
        if self.use_context and rows:
            # Log-odds with the neighbouring statements minus the statement read alone.
            alone = self._final_inputs([StatementContext(X[i].text) for i in rows], scored)
            gains[rows] = np.column_stack([m.log_odds(z[k][rows]) - m.log_odds(alone[k])
                                           for k, m in enumerate(final)])
        out: list[dict[str, list[Evidence]]] = []
        for i, (c, offset) in enumerate(zip(X, offsets)):
            found: dict[str, list[Evidence]] = {}
            topics = [k for k in range(len(TOPIC_IDS)) if decided[i, k]]
            if topics:
                row = scored.features[scored.index[c.text]]
                incidence = self.vectorizer_.token_incidence(c.text, row, offset)
                for k in topics:
                    weights = incidence.token_weights(self._text_coef(k))
                    items = _phrases(c.text, offset, incidence.tokens, weights, top)
                    if c.previous and gains[i, k] > 0:
                        for s, e in cue_spans(c.text, offset)[:1]:
                            items.append(Evidence(s, e, c.text[s - offset:e - offset],
                                                  round(float(gains[i, k]), 3), "context"))
                    found[TOPIC_IDS[k]] = sorted(items, key=lambda ev: -ev.weight)[:top]
            out.append(found)
        return proba, decided, out

    def _text_coef(self, k: int) -> np.ndarray:
        """Weights over the text features of topic ``k``'s log-odds (own text scores, through
        the logistic part of the context stage)."""
        cache = self.__dict__.setdefault("_coef_cache", {})
        if k not in cache:
            n_features = max(hi for _, hi in self.views_.values())
            coef = np.zeros(n_features)
            stage2 = self.context_models_[-1][k].coef_.ravel()
            for v, ((lo, hi), per_topic) in enumerate(zip(self.views_.values(), self.text_models_)):
                for j, model in enumerate(per_topic):
                    coef[lo:hi] += stage2[v * len(TOPIC_IDS) + j] * model.coef_.ravel()
            cache[k] = coef
        return cache[k]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_coef_cache", None)  # derived, rebuilt on demand
        return state


class Explanations:
    """The evidence of the statements of a batch of tagged documents, computed on first use.

    Holds the model and the documents' texts and statement offsets; :meth:`of` runs
    :meth:`TopicClassifier.predict_and_explain` on the whole batch once (statements are
    numbered across the batch, in order). Pickling keeps the computed evidence, or (not yet
    computed) everything but the model, which the receiver re-attaches with :meth:`attach`.
    """

    __slots__ = ("_model", "_documents", "_evidence")

    def __init__(self, model: TopicClassifier,
                 documents: Sequence[tuple[str, Sequence[tuple[int, int]]]]) -> None:
        self._model: TopicClassifier | None = model
        self._documents = [(text, list(spans)) for text, spans in documents]
        self._evidence: list[dict[str, tuple[Evidence, ...]]] | None = None

    def of(self, index: int) -> dict[str, tuple[Evidence, ...]]:
        """The evidence of statement ``index`` of the batch (topic -> phrases)."""
        if self._evidence is None:
            if self._model is None:
                raise RuntimeError("explanations detached from their model; call attach(model)")
            contexts, offsets = [], []
            for text, spans in self._documents:
                contexts.extend(contexts_for_document(text, spans))
                offsets.extend(s for s, _ in spans)
            _, _, found = self._model.predict_and_explain(contexts, offsets)
            self._evidence = [{t: tuple(evs) for t, evs in e.items()} for e in found]
            self._model = None  # no longer needed
        return self._evidence[index]

    def attach(self, model: TopicClassifier) -> None:
        """Give back the model after unpickling (see the class docstring)."""
        if self._evidence is None:
            self._model = model

    def __getstate__(self) -> tuple:
        return (None, self._documents, self._evidence)

    def __setstate__(self, state: tuple) -> None:
        self._model, self._documents, self._evidence = state


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
