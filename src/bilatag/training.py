"""Rebuilding the model from a corpus folder, reproducibly (``bilatag train``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import SPLITS, GoldDocument, corpus_hash, read_splits, training_arrays
from .evaluate import evaluate
from .model import TopicClassifier
from .persist import save_model
from .tagger import Tagger
from .topics import TOPIC_IDS

__all__ = ["DEFAULT_PARAMS", "CTX_TEXT_WEIGHT", "text_weights", "classifier", "fit_model", "train"]

log = logging.getLogger(__name__)

#: Hyper-parameters of the shipped model (chosen on the development split).
DEFAULT_PARAMS: dict[str, Any] = {"C": 8.0, "lexicon_C": 0.3, "context_C": 1.0, "use_context": True,
                                  "context_passes": 2, "n_folds": 5,
                                  "carry_C": 3.0, "context_hidden": 32, "context_alpha": 10.0}
SEED = 0
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


def fit_model(train_docs: Sequence[GoldDocument], dev_docs: Sequence[GoldDocument],
              **params: Any) -> TopicClassifier:
    """Fit on ``train_docs``, then choose the thresholds on ``dev_docs``.

    Statements flagged ``ctx`` (their topic comes from context, not from their own words)
    weigh :data:`CTX_TEXT_WEIGHT` in the text stage; the context stage sees them in full.
    """
    X, y, groups = training_arrays(train_docs)
    weight, from_context = text_weights(train_docs)
    model = classifier(**params)
    model.fit(X, y, groups=groups, text_sample_weight=weight, from_context=from_context)
    X_dev, y_dev, _ = training_arrays(dev_docs)
    return model.tune_thresholds(model.predict_proba(X_dev), y_dev)


def train(data: str | Path, out: str | Path, **params: Any) -> dict[str, Any]:
    """Train on ``data/train.jsonl``, tune on ``dev``, report ``dev`` and ``test``; save to ``out``.

    The same data gives the same model and the same metrics (fixed seeds, deterministic solvers).
    Returns the manifest information written next to the model.
    """
    data = Path(data)
    splits = read_splits(data)
    log.info("corpus: %s", {k: len(v) for k, v in splits.items()})
    model = fit_model(splits["train"], splits["dev"], **params)
    tagger = Tagger(model, explain=False)
    metrics = {name: evaluate(tagger, splits[name]).to_dict() for name in ("dev", "test")}
    info = {
        "data_sha256": corpus_hash(data / f"{name}.jsonl" for name in SPLITS),
        "data_counts": {name: {"documents": len(docs),
                               "statements": sum(len(d.statements) for d in docs)}
                        for name, docs in splits.items()},
        "seed": SEED,
        "params": {**DEFAULT_PARAMS, **params, "ctx_text_weight": CTX_TEXT_WEIGHT},
        "thresholds": dict(zip(TOPIC_IDS, (round(float(t), 4) for t in model.thresholds_))),
        "trained_on": "train", "thresholds_chosen_on": "dev",
        "metrics": metrics,
    }
    save_model(model, out, info)
    return info
