"""Rebuilding the model from a corpus folder, reproducibly (``bilatag train``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import SPLITS, GoldDocument, corpus_hash, read_splits, training_arrays
from .evaluate import evaluate, evaluate_scores
from .model import THRESHOLD_TOLERANCE, TopicClassifier
from .persist import save_model
from .tagger import Tagger
from .topics import TOPIC_IDS

__all__ = ["DEFAULT_PARAMS", "CTX_TEXT_WEIGHT", "DEV_FOLDS", "text_weights", "classifier", "fit_model",
           "dev_out_of_fold", "fit_shipped", "train"]

log = logging.getLogger(__name__)

#: Hyper-parameters of the shipped model (chosen on the development split).
DEFAULT_PARAMS: dict[str, Any] = {"C": 8.0, "lexicon_C": 0.3, "nb_alpha": 0.1, "context_C": 1.0,
                                  "use_context": True, "context_passes": 2, "n_folds": 5,
                                  "carry_C": 3.0, "context_hidden": 32, "context_alpha": 10.0,
                                  "context_trees": 100, "sequence_hidden": 48,
                                  "sequence_epochs": 30}
SEED = 0
#: Folds over the dev documents for the out-of-fold scores the thresholds are chosen on.
DEV_FOLDS = 5
#: Text-stage weight of statements whose topic comes only from context (chosen on dev).
CTX_TEXT_WEIGHT = 0.3


def text_weights(docs: Sequence[GoldDocument], ctx_text_weight: float = CTX_TEXT_WEIGHT
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(weights, from_context)`` of the statements of ``docs``, in order: the statements
    flagged ``ctx`` (their topic comes only from context) weigh ``ctx_text_weight`` in the
    text stage, the others 1."""
    from_context = np.array([("ctx" in st.flags) for doc in docs for st in doc.statements], dtype=bool)
    return np.where(from_context, ctx_text_weight, 1.0), from_context


def classifier(**params: Any) -> TopicClassifier:
    """An unfitted estimator of the shipped kind: fixed seed and :data:`DEFAULT_PARAMS`, with
    ``params`` on top."""
    return TopicClassifier(**{"random_state": SEED, **DEFAULT_PARAMS, **params})


def _fit(docs: Sequence[GoldDocument], **params: Any) -> TopicClassifier:
    """Fit an estimator of the shipped kind on ``docs`` (thresholds left at 0.5).

    Statements flagged ``ctx`` (their topic comes from context, not from their own words)
    weigh :data:`CTX_TEXT_WEIGHT` in the text stage; the context stage sees them in full.
    """
    X, y, groups = training_arrays(docs)
    weight, from_context = text_weights(docs)
    return classifier(**params).fit(X, y, groups=groups, text_sample_weight=weight,
                                    from_context=from_context)


def fit_model(train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument],
              **params: Any) -> TopicClassifier:
    """Fit on ``train_docs``, then choose the thresholds on ``dev_docs`` (the protocol of the
    benchmarks, where every system learns from the same training split)."""
    model = _fit(train_docs, **params)
    X_dev, y_dev, _ = training_arrays(dev_docs)
    return model.tune_thresholds(model.predict_proba(X_dev), y_dev)


def dev_out_of_fold(train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument],
                    folds: int = DEV_FOLDS, **params: Any) -> np.ndarray:
    """Probabilities ``(n, 6)`` of every dev statement (in corpus order), each from a model
    fitted on ``train_docs`` and the dev documents of the other folds (folds of whole
    documents, in a fixed order), so never from a model that saw its document."""
    if len(dev_docs) < 2:
        raise ValueError(f"the dev split needs at least 2 documents, not {len(dev_docs)}")
    folds = min(folds, len(dev_docs))
    fold_of = np.arange(len(dev_docs)) % folds
    # The fold of each statement: its document's (held-out documents keep their corpus order).
    statement_fold = np.repeat(fold_of, [len(d.statements) for d in dev_docs])
    proba = np.zeros((len(statement_fold), len(TOPIC_IDS)))
    for fold in range(folds):
        model = _fit([*train_docs, *(d for d, f in zip(dev_docs, fold_of) if f != fold)], **params)
        X_held, _, _ = training_arrays([d for d, f in zip(dev_docs, fold_of) if f == fold])
        proba[statement_fold == fold] = model.predict_proba(X_held)
        log.info("dev fold %d/%d scored", fold + 1, folds)
    return proba


def fit_shipped(train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument],
                folds: int = DEV_FOLDS, **params: Any) -> tuple[TopicClassifier, np.ndarray]:
    """The shipped model: fitted on ``train_docs`` and ``dev_docs`` together, with the
    thresholds chosen on the out-of-fold probabilities of the dev statements
    (:func:`dev_out_of_fold`). Returns the model and those probabilities.

    Dev thus serves twice without leaking: its documents add about a fifth to the training
    data (the learning curve of ``benchmarks/selection.py`` still rises), and each of its
    statements is scored by a model that did not see its document when the thresholds are
    chosen and the calibration is checked.
    """
    proba = dev_out_of_fold(train_docs, dev_docs, folds, **params)
    _, y_dev, _ = training_arrays(dev_docs)
    model = _fit([*train_docs, *dev_docs], **params)
    return model.tune_thresholds(proba, y_dev), proba


def train(data: str | Path, out: str | Path, **params: Any) -> dict[str, Any]:
    """Train on ``data/train.jsonl`` and ``dev.jsonl``, with thresholds chosen on the dev
    statements' out-of-fold scores (:func:`fit_shipped`); report dev (those out-of-fold
    scores, on the gold statements) and ``test`` (end to end); save to ``out``.

    The same data gives the same model and the same metrics (fixed seeds, deterministic solvers).
    Returns the manifest information written next to the model.
    """
    data = Path(data)
    splits = read_splits(data)
    log.info("corpus: %s", {k: len(v) for k, v in splits.items()})
    model, dev_proba = fit_shipped(splits["train"], splits["dev"], **params)
    _, y_dev, _ = training_arrays(splits["dev"])
    metrics = {
        "dev": evaluate_scores(model.decide(dev_proba), y_dev, dev_proba, len(splits["dev"])).to_dict(),
        "test": evaluate(Tagger(model, explain=False), splits["test"]).to_dict(),
    }
    info = {
        "data_sha256": corpus_hash(data / f"{name}.jsonl" for name in SPLITS),
        "data_counts": {name: {"documents": len(docs),
                               "statements": sum(len(d.statements) for d in docs)}
                        for name, docs in splits.items()},
        "seed": SEED,
        "params": {**DEFAULT_PARAMS, **params, "ctx_text_weight": CTX_TEXT_WEIGHT},
        "thresholds": dict(zip(TOPIC_IDS, (round(float(t), 4) for t in model.thresholds_))),
        "trained_on": "train+dev",
        "thresholds_chosen_on": f"dev, out of fold ({min(DEV_FOLDS, len(splits['dev']))} folds of documents)",
        "threshold_rule": ("half the best F1, raised while the expected F1 stays within "
                           f"{THRESHOLD_TOLERANCE} of its value there"),
        "dev_metrics": "out of fold, on the gold statements",
        "metrics": metrics,
    }
    save_model(model, out, info)
    return info
