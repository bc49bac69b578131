"""The bidirectional GRU over a document's statements (bilatag.sequence) and its place in the
classifier."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from bilatag.corpus import training_arrays
from bilatag.features import StatementContext
from bilatag.model import TopicClassifier, _runs
from bilatag.sequence import SequenceModel, _pad


def _numeric_gradients(model, params, x, y, mask, drops):
    out = {}
    for name, p in params.items():
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up, _ = model._gradients(params, x, y, mask, drops)
            p[idx] = old - 1e-6
            down, _ = model._gradients(params, x, y, mask, drops)
            p[idx] = old
            num[idx] = (up - down) / 2e-6
        out[name] = num
    return out


@pytest.mark.parametrize("dropout", [False, True])
def test_backpropagation_matches_finite_differences(dropout) -> None:
    rng = np.random.default_rng(1)
    model = SequenceModel(hidden=3, projection=4)
    params = model._init(5, 2, rng)
    lengths = (4, 2, 3)  # padded steps in two of the three sequences
    x, mask = _pad([rng.normal(size=(n, 5)) for n in lengths], 5)
    y, _ = _pad([(rng.random((n, 2)) < 0.5).astype(float) for n in lengths], 2)
    drops = None
    if dropout:
        drops = tuple((rng.random((3, 4, w)) < 0.7) / 0.7 for w in (4, 3, 3))
    _, grads = model._gradients(params, x, y, mask, drops)
    numeric = _numeric_gradients(model, params, x, y, mask, drops)
    assert set(grads) == set(params)
    for name in params:
        scale = np.abs(numeric[name]).max() + 1e-12
        assert np.abs(grads[name] - numeric[name]).max() / scale < 1e-5, name


def _carried_flags(rng, n, direction):
    """Sequences where a step's target is whether a flag was raised at any step before it
    (``"forward"``) or after it (``"backward"``): only a recurrent reading can tell."""
    Z, Y = [], []
    for _ in range(n):
        T = int(rng.integers(3, 12))
        flags = (rng.random(T) < 0.15).astype(float)
        noise = rng.normal(size=T)
        seen = np.cumsum(flags) - flags if direction == "forward" else \
            np.cumsum(flags[::-1])[::-1] - flags
        Z.append(np.column_stack([flags, noise]))
        Y.append((seen > 0).astype(float)[:, None])
    return Z, Y


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_learns_what_only_the_sequence_tells(direction) -> None:
    rng = np.random.default_rng(0)
    Z, Y = _carried_flags(rng, 400, direction)
    model = SequenceModel(hidden=8, projection=8, epochs=25, dropout=0.0)
    assert model.fit(Z, Y) is model  # fit returns self
    Zt, Yt = _carried_flags(np.random.default_rng(1), 200, direction)
    pred = np.concatenate(model.predict_proba(Zt)) >= 0.5
    truth = np.concatenate(Yt).astype(bool)
    # A step's own inputs say nothing about the target: the best per-step rule is the base rate.
    assert (pred == truth).mean() > 0.95 > max(truth.mean(), 1 - truth.mean())


def test_fit_is_reproducible_and_follows_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    Z, Y = _carried_flags(rng, 60, "forward")
    a = SequenceModel(hidden=4, projection=4, epochs=3).fit(Z, Y)
    b = clone(a).fit(Z, Y)
    assert clone(a).get_params() == a.get_params()
    assert a.params_.keys() == b.params_.keys()
    for name in a.params_:
        assert np.array_equal(a.params_[name], b.params_[name])
    c = SequenceModel(hidden=4, projection=4, epochs=3, random_state=1).fit(Z, Y)
    assert not np.array_equal(a.params_["W_out"], c.params_["W_out"])
    with pytest.raises(ValueError):
        SequenceModel().fit([], [])


def test_a_sequence_is_scored_independently_of_the_others() -> None:
    rng = np.random.default_rng(4)
    Z, Y = _carried_flags(rng, 80, "backward")
    model = SequenceModel(hidden=6, projection=6, epochs=2).fit(Z, Y)
    together = model.predict_proba(Z)
    for z, p in zip(Z, together):
        assert np.array_equal(model.predict_proba([z])[0], p)  # bit for bit
    # Empty sequences are allowed and give empty results, in place.
    out = model.predict_proba([Z[0], np.zeros((0, 2)), Z[1]])
    assert out[1].shape == (0, 1) and np.array_equal(out[2], together[1])
    assert model.predict_proba([]) == []


def test_runs_follow_the_documents() -> None:
    a = [StatementContext("A1"), StatementContext("A2", ("A1",)), StatementContext("A3", ("A2", "A1"))]
    b = [StatementContext("B1"), StatementContext("B2", ("B1",))]
    assert _runs(a + b) == [(0, 3), (3, 5)]
    # A statement whose previous text is not the statement before it starts a run.
    assert _runs([a[0], a[2]]) == [(0, 1), (1, 2)]
    assert _runs([]) == []


@pytest.fixture(scope="module")
def models(splits):
    X, y, groups = training_arrays(splits["train"][:80])
    with_seq = TopicClassifier(n_folds=3).fit(X, y, groups=groups)
    return with_seq, X


def test_classifier_averages_the_sequence_model_in(models, splits) -> None:
    from bilatag.model import _stage_proba

    model, _ = models
    X, _, _ = training_arrays(splits["dev"][:10])
    assert isinstance(model.sequence_model_, SequenceModel)
    scored = model.score_texts(X)
    context = _stage_proba(model.context_models_[-1], model._final_inputs(X, scored))
    sequence = model._sequence_proba(X, scored)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba, (context + sequence) / 2, rtol=0, atol=1e-15)
    assert not np.allclose(proba, context)
    # Parents are never below their children in the sequence model's scores either.
    assert (sequence[:, 0] >= sequence[:, 1:3].max(axis=1)).all()
    assert (sequence[:, 3] >= sequence[:, 4:].max(axis=1)).all()
    # Without it, or without context: the context stage alone.
    X_train, y, groups = training_arrays(splits["train"][:80])
    off = TopicClassifier(n_folds=3, sequence_hidden=0).fit(X_train, y, groups=groups)
    assert off.sequence_model_ is None
    assert TopicClassifier(n_folds=3, use_context=False).fit(
        X_train, y, groups=groups).sequence_model_ is None


def test_a_document_scores_the_same_in_any_batch(models, splits) -> None:
    model, _ = models
    docs = splits["dev"][:6]
    per_doc = [training_arrays([d])[0] for d in docs]
    alone = [model._sequence_proba(X, model.score_texts(X)) for X in per_doc]
    everything = sum(per_doc, [])
    together = model._sequence_proba(everything, model.score_texts(everything))
    assert np.array_equal(np.vstack(alone), together)  # bit for bit
    # The whole document is read: a statement's score depends on statements beyond the
    # context stage's window.
    longest = max(per_doc, key=len)
    assert len(longest) > 8
    cut = list(longest[:-1])
    cut[-1] = cut[-1]._replace(following=())  # the last statement is gone from the document
    assert not np.allclose(model._sequence_proba(cut, model.score_texts(cut))[0],
                           alone[per_doc.index(longest)][0])
