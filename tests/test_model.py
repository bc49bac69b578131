"""The classifier: scikit-learn conventions, hierarchy, context, evidence, thresholds."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from bilatag.corpus import training_arrays
from bilatag.evaluate import false_alarm_rate, topic_scores
from bilatag.features import (
    CUE_NAMES,
    StatementContext,
    StatementVectorizer,
    context_cues,
    cue_spans,
)
from bilatag.model import (
    TopicClassifier,
    _carry_rows,
    _expected_f1,
    _nb_scale,
    _row_proba,
    enforce_hierarchy,
)
from bilatag.topics import TOPIC_IDS, close_hierarchy


@pytest.fixture(scope="module")
def small_model(splits):
    docs = splits["train"][:80]
    X, y, groups = training_arrays(docs)
    model = TopicClassifier(n_folds=3)
    assert model.fit(X, y, groups=groups) is model  # fit returns self
    return model, X, y


def test_sklearn_conventions(small_model) -> None:
    model, X, _ = small_model
    params = model.get_params()
    assert clone(model).get_params() == params
    for attr in ("classes_", "vectorizer_", "text_models_", "context_models_", "thresholds_"):
        assert hasattr(model, attr)
    assert list(model.classes_) == list(TOPIC_IDS)
    proba = model.predict_proba(X[:20])
    assert proba.shape == (20, 6) and ((proba >= 0) & (proba <= 1)).all()
    assert model.predict(X[:20]).shape == (20, 6)
    assert model.predict_proba([]).shape == (0, 6)


def test_unfitted_model_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TopicClassifier().predict_proba([StatementContext("texte")])


def test_fit_checks_label_shape(small_model) -> None:
    _, X, y = small_model
    with pytest.raises(ValueError, match="shape"):
        TopicClassifier().fit(X, y[:, :3])
    with pytest.raises(ValueError, match="text_sample_weight"):
        TopicClassifier().fit(X, y, text_sample_weight=[1.0, 0.3])


def test_text_sample_weight_changes_only_the_text_stage(small_model) -> None:
    model, X, y = small_model
    light = [0.1 if i % 2 else 1.0 for i in range(len(X))]
    other = TopicClassifier(n_folds=3).fit(X, y, groups=list(range(len(X))), text_sample_weight=light)
    a = model.text_models_[0][0].coef_
    b = other.text_models_[0][0].coef_
    assert not np.allclose(a, b)


def test_carry_rows_follow_the_reference_chain() -> None:
    """The carry model learns from statements right after a topical one, within a document."""
    texts = ["Saisie de cannabis au port.", "Ces réseaux seront démantelés.", "Il fait beau.",
             "Le port a rouvert.", "Visas en baisse."]
    X = [StatementContext(t, tuple(reversed(texts[max(0, i - 8):i]))) for i, t in enumerate(texts)]
    X[4] = StatementContext(texts[4])  # first statement of another document
    y = np.zeros((5, 6), dtype=int)
    drugs, security = TOPIC_IDS.index("drugs"), TOPIC_IDS.index("security")
    y[0, [drugs, security]] = y[1, [drugs, security]] = 1
    y[4, TOPIC_IDS.index("migration")] = 1
    groups = np.array([0, 0, 0, 0, 1])
    index, target, rows = _carry_rows(X, y, groups, None)
    assert list(index) == [1, 2] and list(target) == [1, 0] and rows == texts[1:3]
    # With the ctx flags: a carried statement not flagged ctx (its own words name the topic)
    # teaches nothing about referring back.
    index, target, _ = _carry_rows(X, y, groups, [False] * 5)
    assert list(index) == [2] and list(target) == [0]


def test_carry_model_is_optional(small_model) -> None:
    model, X, y = small_model
    assert model.carry_model_ is not None
    scored = model.score_texts(X[:30])
    assert ((scored.carry >= 0) & (scored.carry <= 1)).all() and scored.carry.std() > 0
    plain = TopicClassifier(n_folds=3, carry_C=None).fit(X, y, groups=list(range(len(X))))
    assert plain.carry_model_ is None
    n_with = model._context_inputs(X[:5], scored)[0].shape[1]
    n_without = plain._context_inputs(X[:5], plain.score_texts(X[:5]))[0].shape[1]
    assert n_with == n_without + 3


def test_hierarchy_enforced() -> None:
    scores = np.array([[0.1, 0.7, 0.2, 0.3, 0.2, 0.9]])
    out = enforce_hierarchy(scores.copy())
    assert out[0, TOPIC_IDS.index("migration")] == 0.7
    assert out[0, TOPIC_IDS.index("security")] == 0.9
    assert close_hierarchy(["drugs", "oqtf"]) == ("migration", "oqtf", "security", "drugs")


def test_decide_closes_the_hierarchy(small_model) -> None:
    model = clone(small_model[0])
    model.thresholds_ = np.array([0.9, 0.5, 0.5, 0.9, 0.5, 0.5])
    y = model.decide(np.array([[0.6, 0.6, 0.1, 0.6, 0.1, 0.6]]))
    assert y.tolist() == [[1, 1, 0, 1, 0, 1]]


def test_argmax_thresholds_maximise_f1() -> None:
    model = TopicClassifier()
    proba = np.tile(np.linspace(0, 1, 40)[:, None], (1, 6))
    y = (np.linspace(0, 1, 40) > 0.62).astype(int)[:, None].repeat(6, axis=1)
    model.tune_thresholds(proba, y, rule="argmax")
    assert np.all((model.thresholds_ > 0.55) & (model.thresholds_ <= 0.65))


def test_thresholds_without_tolerance_are_half_the_best_f1() -> None:
    """Calibrated scores: the F1-optimal threshold is half the best F1."""
    rng = np.random.default_rng(0)
    proba = rng.uniform(size=(4000, 6))
    y = (rng.uniform(size=(4000, 6)) < proba).astype(int)  # calibrated by construction
    model = TopicClassifier().tune_thresholds(proba, y, tolerance=0.0)
    best = TopicClassifier().tune_thresholds(proba, y, rule="argmax").thresholds_
    f1 = [2 * ((proba[:, k] >= best[k]) & (y[:, k] == 1)).sum()
          / ((proba[:, k] >= best[k]).sum() + y[:, k].sum()) for k in range(6)]
    np.testing.assert_allclose(model.thresholds_, np.round(np.array(f1) / 2, 4))
    # On calibrated scores the two rules agree up to the noise of the sample.
    assert np.all(np.abs(model.thresholds_ - best) < 0.1)
    with pytest.raises(ValueError, match="rule"):
        model.tune_thresholds(proba, y, rule="median")


def test_default_thresholds_trade_a_little_expected_f1_for_fewer_false_alarms() -> None:
    """The default rule raises half the best F1 as far as the expected F1 of the calibrated
    scores stays within the tolerance: never lower, the expected loss bounded, and on
    calibrated scores the measured F1 barely moves while the false alarms fall."""
    rng = np.random.default_rng(1)
    # Scores that separate the classes, calibrated by construction (y drawn from them).
    proba = rng.beta(0.3, 1.2, size=(20000, 6))
    y = (rng.uniform(size=proba.shape) < proba).astype(int)
    exact = TopicClassifier().tune_thresholds(proba, y, tolerance=0.0)
    default = TopicClassifier().tune_thresholds(proba, y)
    wider = TopicClassifier().tune_thresholds(proba, y, tolerance=0.01)
    assert np.all(default.thresholds_ > exact.thresholds_)
    assert np.all(wider.thresholds_ >= default.thresholds_)
    for k in range(6):
        p = proba[:, k]
        loss = _expected_f1(p, exact.thresholds_[k]) - _expected_f1(p, default.thresholds_[k])
        assert 0 <= loss <= 0.002
    fresh = rng.beta(0.3, 1.2, size=(20000, 6))  # scored on new draws, not the tuning set
    y_fresh = (rng.uniform(size=fresh.shape) < fresh).astype(int)
    _, micro_exact, _ = topic_scores(exact.decide(fresh), y_fresh)
    _, micro_default, _ = topic_scores(default.decide(fresh), y_fresh)
    assert micro_exact - micro_default < 0.005
    assert false_alarm_rate(default.decide(fresh), y_fresh) < false_alarm_rate(exact.decide(fresh), y_fresh)
    # argmax ignores the tolerance; a tolerance outside [0, 1) is refused.
    np.testing.assert_array_equal(
        TopicClassifier().tune_thresholds(proba, y, rule="argmax").thresholds_,
        TopicClassifier().tune_thresholds(proba, y, rule="argmax", tolerance=0.01).thresholds_)
    with pytest.raises(ValueError, match="tolerance"):
        TopicClassifier().tune_thresholds(proba, y, tolerance=-0.1)


def test_thresholds_of_a_topic_absent_or_hard_to_find(caplog) -> None:
    """A topic the tuning set lacks keeps 0.5 (not 0, which would tag every statement), with a
    warning; a topic barely found keeps the grid's lowest threshold."""
    rng = np.random.default_rng(0)
    proba = rng.uniform(size=(300, 6))
    y = (rng.uniform(size=(300, 6)) < proba).astype(int)
    y[:, TOPIC_IDS.index("oqtf")] = 0
    y[:, TOPIC_IDS.index("drugs")] = (np.arange(300) == 7)  # one positive, scored at random
    with caplog.at_level("WARNING", logger="bilatag.model"):
        for rule in ("half_best_f1", "argmax"):
            t = TopicClassifier().tune_thresholds(proba, y, rule=rule).thresholds_
            assert t[TOPIC_IDS.index("oqtf")] == 0.5
            assert t[TOPIC_IDS.index("drugs")] >= 0.2
    assert "oqtf" in caplog.text


def test_context_cues_and_spans() -> None:
    cues = dict(zip(CUE_NAMES, context_cues("A ce titre, ces réseaux ont été démantelés.")))
    assert cues["connective"] and cues["anaphoric_np"] and not cues["shift"]
    cues = dict(zip(CUE_NAMES, context_cues("Par ailleurs, le commerce progresse.")))
    assert cues["shift"] and not cues["connective"]
    assert dict(zip(CUE_NAMES, context_cues("Titre sans point")))["no_final_punct"]
    text = "A ce titre, le Maroc a préparé des centres."
    spans = cue_spans(text, offset=100)
    assert (100, 110) in spans  # "A ce titre"


def test_vectorizer_pickles_its_vocabularies_packed(small_model) -> None:
    import pickle

    vectorizer = small_model[0].vectorizer_
    state = vectorizer.__getstate__()
    for name in ("word_", "char_"):
        # One string per vocabulary, not a dictionary of tens of thousands of strings that
        # joblib's pure-Python unpickler would rebuild one by one.
        assert isinstance(state[name + "terms"], str)
        assert not hasattr(state[name], "vocabulary_")
        assert hasattr(getattr(vectorizer, name), "vocabulary_")  # the fitted one is untouched
    copy = pickle.loads(pickle.dumps(vectorizer))
    assert copy.word_.vocabulary_ == vectorizer.word_.vocabulary_
    assert copy.char_.vocabulary_ == vectorizer.char_.vocabulary_
    texts = ["Les passeurs ont été arrêtés à Tanger.", "Ces réseaux sont démantelés.", ""]
    assert (copy.transform(texts) != vectorizer.transform(texts)).nnz == 0
    # A state pickled before the packing (plain vocabularies) still loads.
    old = StatementVectorizer.__new__(StatementVectorizer)
    old.__setstate__(dict(vectorizer.__dict__))
    assert old.word_.vocabulary_ == vectorizer.word_.vocabulary_


def test_token_incidence_shares_sum_to_score(small_model) -> None:
    model = small_model[0]
    vec: StatementVectorizer = model.vectorizer_
    text = "Les passeurs ont été arrêtés par la police à Tanger."
    coef = model._text_coef(TOPIC_IDS.index("migration"))
    row = vec.transform([text])
    incidence = vec.token_incidence(text, row, offset=7)
    assert incidence.tokens[0].start == 7
    weights = incidence.token_weights(coef)
    assert float(weights.sum()) == pytest.approx(float((row @ coef)[0]), rel=1e-4, abs=1e-5)


def test_context_carries_the_topic(tagger) -> None:
    """LABELS.md rule 2: « A ce titre » after a statement on MNA carries its topics."""
    text = ("Les deux ministres ont évoqué le retour des mineurs non accompagnés identifiés en France. "
            "A ce titre, le Maroc a préparé des structures d'accueil adaptées.")
    doc = tagger.tag(text)
    assert "unaccompanied_minors" in doc.statements[0].topics
    assert "unaccompanied_minors" in doc.statements[1].topics
    alone = tagger.tag("A ce titre, le Maroc a préparé des structures d'accueil adaptées.")
    assert alone.statements[0].scores["unaccompanied_minors"] < doc.statements[1].scores["unaccompanied_minors"]
    evidence = doc.statements[1].evidence["unaccompanied_minors"]
    assert any(ev.source == "context" for ev in evidence)


@pytest.mark.parametrize("text, topic", [
    ("La sécurité alimentaire du pays dépend des pluies de l'automne.", "security"),
    ("Le trafic aérien entre Casablanca et Paris a progressé de 8 %.", "security"),
    ("La migration des données vers le nouveau serveur est achevée.", "migration"),
    ("Les oiseaux migrateurs font escale chaque hiver dans la lagune de Merja Zerga.", "migration"),
])
def test_hard_negatives(tagger, text: str, topic: str) -> None:
    assert topic not in tagger.tag(text).statements[0].topics


def test_drugs_evidence(tagger) -> None:
    text = "La Guardia Civil a saisi quatre tonnes de résine de cannabis dans un go-fast à Algésiras."
    st = tagger.tag(text).statements[0]
    assert "drugs" in st.topics
    words = " ".join(ev.text for ev in st.evidence["drugs"]).lower()
    assert "cannabis" in words or "résine" in words or "go-fast" in words or "go" in words


def test_context_model_without_hidden_units_is_the_logistic_regression() -> None:
    from sklearn.linear_model import LogisticRegression

    from bilatag.model import ContextModel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    model = ContextModel(C=1.0)
    assert model.fit(X, y) is model and model.layers_ == [] and model.trees_ is None
    reference = LogisticRegression(C=1.0, max_iter=5000).fit(X, y).predict_proba(X)[:, 1]
    np.testing.assert_allclose(model.positive_proba(X), reference, rtol=1e-10)
    assert model.predict_proba(X).shape == (200, 2)


def test_context_model_network_learns_an_interaction() -> None:
    """Exclusive or of two inputs: out of a linear model's reach, within the network's."""
    from bilatag.model import ContextModel

    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(400, 2)).astype(float) + 0.05 * rng.normal(size=(400, 2))
    y = (np.round(X[:, 0]) != np.round(X[:, 1])).astype(int)
    linear = ContextModel(hidden=0).fit(X, y).positive_proba(X)
    blended = ContextModel(hidden=8, alpha=0.1).fit(X, y).positive_proba(X)
    assert ((linear > 0.5) == y).mean() < 0.8
    assert ((blended > 0.5) == y).mean() > 0.95


def test_context_model_trees_learn_an_interaction_and_join_the_average() -> None:
    """The boosted trees also learn the exclusive or; the score is the mean of the parts."""
    from scipy.special import expit

    from bilatag.model import ContextModel

    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(400, 2)).astype(float) + 0.05 * rng.normal(size=(400, 2))
    y = (np.round(X[:, 0]) != np.round(X[:, 1])).astype(int)
    model = ContextModel(hidden=8, alpha=0.1, trees=50).fit(X, y)
    trees = expit(model.trees_.log_odds(X))
    assert len(model.trees_.roots) == 50 and ((trees > 0.5) == y).mean() > 0.95
    h = (X - model.mean_) / model.scale_
    (w1, b1), (w2, b2) = model.layers_
    network = expit((np.maximum(h @ w1 + b1, 0) @ w2 + b2).ravel())
    linear = model.logistic_.predict_proba(X)[:, 1]
    np.testing.assert_allclose(model.positive_proba(X), (linear + network + trees) / 3, rtol=1e-9)
    assert ((model.positive_proba(X) > 0.5) == y).mean() > 0.95


def test_flat_trees_score_as_scikit_learn_does() -> None:
    """The trees are evaluated from flat arrays (no threads, no batch effects); the scores are
    scikit-learn's own, on the inputs it was fitted on and on new ones, ties included."""
    from bilatag.model import _Forest, boosted_trees

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 6))
    y = ((X[:, 0] > 0) ^ (X[:, 1] * X[:, 2] > 0.3)).astype(int)
    fitted = boosted_trees(40, 15).fit(X, y)
    forest = _Forest.of(fitted)
    new = np.vstack([rng.normal(size=(200, 6)) * 3, np.round(X[:50], 1)])
    for Z in (X, new):
        np.testing.assert_allclose(forest.log_odds(Z), fitted._raw_predict(Z).ravel(), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(1 / (1 + np.exp(-forest.log_odds(Z))),
                                   fitted.predict_proba(Z)[:, 1], rtol=1e-10)
    assert forest.log_odds(X[:0]).shape == (0,)


def test_context_model_scores_a_row_independently_of_its_batch() -> None:
    from bilatag.model import ContextModel

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 12))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = ContextModel(hidden=16, alpha=1.0, trees=100).fit(X, y)
    batch = model.positive_proba(X)
    alone = np.array([model.positive_proba(X[i:i + 1])[0] for i in range(100)])
    assert np.array_equal(batch[:100], alone)  # bit for bit
    assert np.array_equal(model.trees_.log_odds(X[:100]),
                          np.concatenate([model.trees_.log_odds(X[i:i + 1]) for i in range(100)]))


def test_fit_does_not_depend_on_the_number_of_threads(splits) -> None:
    """fit() runs BLAS on one thread: the same data gives the same network on any machine."""
    from threadpoolctl import threadpool_limits

    X, y, groups = training_arrays(splits["train"][:300])
    with threadpool_limits(limits=1):
        a = TopicClassifier(n_folds=3, context_passes=1).fit(X, y, groups=groups)
    with threadpool_limits(limits=4):
        b = TopicClassifier(n_folds=3, context_passes=1).fit(X, y, groups=groups)
    for ma, mb in zip(a.context_models_[0], b.context_models_[0]):
        for (wa, ba), (wb, bb) in zip(ma.layers_, mb.layers_):
            assert np.array_equal(wa, wb) and np.array_equal(ba, bb)
        assert np.array_equal(ma.trees_.threshold, mb.trees_.threshold)
        assert np.array_equal(ma.trees_.value, mb.trees_.value)
    for name, value in a.sequence_model_.params_.items():
        assert np.array_equal(value, b.sequence_model_.params_[name]), name


def test_a_topic_without_examples_gets_a_constant_low_score(splits) -> None:
    # Retraining on a small corpus can leave a topic without any statement (or a fold without
    # one): scikit-learn refuses to fit one class, the model falls back to a constant.
    X, y, groups = training_arrays(splits["train"][:40])
    y = y.copy()
    y[:, TOPIC_IDS.index("unaccompanied_minors")] = 0
    model = TopicClassifier(n_folds=2, context_passes=1).fit(X, y, groups=groups)
    proba = model.predict_proba(X)
    assert (proba[:, TOPIC_IDS.index("unaccompanied_minors")] < 0.01).all()
    assert proba[:, TOPIC_IDS.index("migration")].max() > 0.5


def test_context_passes_find_preceding_statements_by_position(small_model) -> None:
    """A text repeated in two documents keeps each document's own context in one batch."""
    model = small_model[0]
    shared = "Ces réseaux seront démantelés, a promis le ministre."
    docs = [["Deux tonnes de cannabis saisies au port de Tanger.", "Partager", shared],
            ["Le ministre a inauguré une école primaire à Fès.", "Partager", shared]]
    contexts = [[StatementContext(t, tuple(reversed(doc[:i]))) for i, t in enumerate(doc)]
                for doc in docs]
    apart = np.vstack([model.predict_proba(c) for c in contexts])
    together = model.predict_proba(contexts[0] + contexts[1])
    assert np.allclose(apart, together, atol=1e-12)
    # A window that reaches before the batch: the missing statement is read alone.
    first = StatementContext(docs[0][0])
    assert np.allclose(model.predict_proba([contexts[0][1]]),
                       model.predict_proba([first, contexts[0][1]])[1:], atol=1e-12)


def test_nb_scale_favours_the_columns_that_separate_the_topic() -> None:
    X = sp.csr_matrix(np.array([[1.0, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]]))
    y = np.array([1, 1, 0, 0])
    scale = _nb_scale(X, y, None, 0.25)
    assert scale.mean() == pytest.approx(1.0)
    assert scale[0] == pytest.approx(scale[1]) and scale[0] > 1.0
    assert scale[2] == pytest.approx(0.0)  # as frequent with and without the topic
    # Statement weights count: a statement of weight 0 is as good as absent.
    weighted = _nb_scale(X, y, np.array([1.0, 0.0, 1.0, 1.0]), 0.25)
    assert np.allclose(weighted, _nb_scale(X[[0, 2, 3]], y[[0, 2, 3]], None, 0.25))
    assert not np.allclose(weighted, scale)


def test_nb_scaling_is_folded_into_ordinary_logistic_weights(small_model) -> None:
    """With the naive-Bayes scaling the n-gram models stay plain logistic regressions on the
    unscaled features (inference and explanations unchanged), but learn other weights."""
    model, X, y = small_model
    assert model.nb_alpha is not None
    plain = TopicClassifier(n_folds=3, nb_alpha=None).fit(X, y, groups=list(range(len(X))))
    features = model.vectorizer_.transform([c.text for c in X[:20]])
    ngrams = features[:, slice(*model.views_["ngrams"])]
    for k in range(len(TOPIC_IDS)):
        m = model.text_models_[0][k]
        assert np.allclose(m.predict_proba(ngrams)[:, 1], _row_proba(m, ngrams))
        assert not np.allclose(m.coef_, plain.text_models_[0][k].coef_)
