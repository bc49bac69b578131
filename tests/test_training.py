"""Training the shipped model: train + dev, thresholds on the dev documents' out-of-fold scores."""

from __future__ import annotations

import numpy as np
import pytest

from bilatag import training
from bilatag.corpus import training_arrays
from bilatag.evaluate import evaluate_scores, format_report
from bilatag.model import TopicClassifier


@pytest.fixture(scope="module")
def small_splits(splits):
    # Fast settings: the protocol, not the model's quality, is under test.
    return splits["train"][:40], splits["dev"][:5], {"n_folds": 2, "context_passes": 1}


def test_dev_scores_come_from_models_that_did_not_see_the_document(small_splits) -> None:
    train, dev, params = small_splits
    proba = training.dev_out_of_fold(train, dev, folds=2, **params)
    _, y_dev, _ = training_arrays(dev)
    assert proba.shape == y_dev.shape
    # Fold 1 holds dev documents 1 and 3: refit on train + the others and score them again.
    refit = training._fit([*train, dev[0], dev[2], dev[4]], **params)
    X_held, _, _ = training_arrays([dev[1], dev[3]])
    sizes = [len(d.statements) for d in dev]
    rows = np.r_[sum(sizes[:1]):sum(sizes[:2]), sum(sizes[:3]):sum(sizes[:4])]
    np.testing.assert_allclose(proba[rows], refit.predict_proba(X_held))
    # A model that saw the documents scores them differently (else the test proves nothing).
    seen = training._fit([*train, *dev], **params).predict_proba(X_held)
    assert not np.allclose(proba[rows], seen)


def test_shipped_model_learns_from_dev_and_takes_its_thresholds_from_the_out_of_fold_scores(
        small_splits) -> None:
    train, dev, params = small_splits
    model, proba = training.fit_shipped(train, dev, folds=2, **params)
    _, y_dev, _ = training_arrays(dev)
    expected = TopicClassifier().tune_thresholds(proba, y_dev).thresholds_
    np.testing.assert_array_equal(model.thresholds_, expected)
    X_all, _, _ = training_arrays([*train, *dev])
    np.testing.assert_allclose(model.predict_proba(X_all[:30]),
                               training._fit([*train, *dev], **params).predict_proba(X_all[:30]))


def test_dev_needs_two_documents(small_splits) -> None:
    train, dev, params = small_splits
    with pytest.raises(ValueError, match="at least 2 documents"):
        training.dev_out_of_fold(train, dev[:1], **params)


def test_scores_on_gold_statements_have_no_span_figures() -> None:
    gold = np.array([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 1]])
    pred = np.array([[1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]])
    ev = evaluate_scores(pred, gold, pred * 0.9, n_documents=2)
    assert ev.span_f1 is None and ev.false_alarm_rate == 1.0
    assert ev.topics["migration"].precision == 0.5 and ev.topics["drugs"].recall == 0.0
    assert ev.micro_f1 == pytest.approx(2 * 2 / (3 + 3))
    report = format_report(ev)
    assert "gold statements (no segmentation)" in report and "spans" not in report
