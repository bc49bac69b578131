"""Topic quality: bilatag against a keyword lexicon, TF-IDF + logistic regression without
context, and spaCy's textcat_multilabel, on the same train/dev/test split, in one run.

Every system is trained on data/train.jsonl (the lexicon needs no training), tuned on
data/dev.jsonl where it has thresholds, and scored on data/test.jsonl statement by statement
(gold statement boundaries, so only the topics are compared): F1 per topic, micro/macro-F1,
false-alarm rate on statements without topic, and statements per second. bilatag is also run
without its context features (the ablation of LABELS.md rules 2 and 5), and its calibration is
measured on dev. Last row: the shipped model (``models/``), which ``bilatag train`` fits on train
and dev together (thresholds on the dev documents' out-of-fold scores), on the same test split.

    pip install ".[bench]"
    python benchmarks/quality.py [--textcat-epochs 10] [--textcat-arch bow|ensemble]
"""

from __future__ import annotations

import argparse
import random
import sys

import numpy as np
from _common import DATA, save, timed

from bilatag.corpus import read_splits, training_arrays
from bilatag.evaluate import calibration, false_alarm_rate, topic_scores
from bilatag.lexicon import KeywordTagger
from bilatag.model import TopicClassifier, enforce_hierarchy
from bilatag.persist import load_model
from bilatag.topics import TOPIC_IDS, close_matrix
from bilatag.training import fit_model


def tune(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-topic thresholds of a peer: those of the best F1 on dev (the peers' scores are not
    calibrated, so bilatag's half-the-best-F1 rule would not suit them)."""
    return TopicClassifier().tune_thresholds(proba, y, rule="argmax").thresholds_


def keyword_system(train, dev, test_texts):
    tagger = KeywordTagger()
    return lambda texts: np.array([[int(t in tagger.predict_topics(x)) for t in TOPIC_IDS] for x in texts])


def tfidf_system(train, dev, test_texts):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    X, y, _ = training_arrays(train)
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    features = vec.fit_transform([c.text for c in X])
    models = [LogisticRegression(C=10, class_weight="balanced", max_iter=3000).fit(features, y[:, k])
              for k in range(len(TOPIC_IDS))]

    def proba(texts):
        f = vec.transform(texts)
        return enforce_hierarchy(np.column_stack([m.predict_proba(f)[:, 1] for m in models]))

    Xd, yd, _ = training_arrays(dev)
    thresholds = tune(proba([c.text for c in Xd]), yd)
    return lambda texts: close_matrix((proba(texts) >= thresholds).astype(int))


def textcat_system(train, dev, test_texts, epochs: int, arch: str):
    import spacy
    from spacy.training import Example
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(0)
    nlp = spacy.blank("fr")
    model = ({"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
              "no_output_layer": False} if arch == "bow" else None)
    config = {"threshold": 0.5} | ({"model": model} if model else {})
    textcat = nlp.add_pipe("textcat_multilabel", config=config)
    for t in TOPIC_IDS:
        textcat.add_label(t)
    X, y, _ = training_arrays(train)
    examples = [Example.from_dict(nlp.make_doc(c.text), {"cats": dict(zip(TOPIC_IDS, map(float, row)))})
                for c, row in zip(X, y)]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, drop=0.2)

    def proba(texts):
        return enforce_hierarchy(np.array([[d.cats[t] for t in TOPIC_IDS] for d in nlp.pipe(texts)]))

    Xd, yd, _ = training_arrays(dev)
    thresholds = tune(proba([c.text for c in Xd]), yd)
    return lambda texts: close_matrix((proba(texts) >= thresholds).astype(int))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--textcat-epochs", type=int, default=10)
    parser.add_argument("--textcat-arch", choices=["bow", "ensemble"], default="bow")
    args = parser.parse_args()

    splits = read_splits(DATA)
    X_test, y_test, _ = training_arrays(splits["test"])
    texts = [c.text for c in X_test]
    results = {}

    def record(name, predict, inputs, seconds_fit):
        pred, seconds = timed(predict, inputs)
        per, micro, macro = topic_scores(pred, y_test)
        results[name] = {
            "micro_f1": round(micro, 4), "macro_f1": round(macro, 4),
            "false_alarm_rate": round(false_alarm_rate(pred, y_test), 4),
            "f1": {t: round(s.f1, 4) for t, s in per.items()},
            "statements_per_s": round(len(texts) / seconds), "fit_seconds": round(seconds_fit, 1)}
        print(f"  {name}: micro-F1 {micro:.4f}", file=sys.stderr)

    for name, context in (("bilatag", True), ("bilatag without context", False)):
        model, seconds = timed(fit_model, splits["train"], splits["dev"], use_context=context)
        record(name, model.predict, X_test, seconds)
        if context:
            Xd, yd, _ = training_arrays(splits["dev"])
            ece, brier = calibration(model.predict_proba(Xd), yd)
            results[name]["dev_calibration"] = {"expected_calibration_error": round(ece, 4),
                                                "brier": round(brier, 4)}
    for name, build in (("keyword lexicon", keyword_system), ("TF-IDF + logistic regression", tfidf_system)):
        predict, seconds = timed(build, splits["train"], splits["dev"], texts)
        record(name, predict, texts, seconds)
    predict, seconds = timed(textcat_system, splits["train"], splits["dev"], texts,
                             args.textcat_epochs, args.textcat_arch)
    record(f"spaCy textcat_multilabel ({args.textcat_arch})", predict, texts, seconds)
    shipped, manifest = load_model()
    record(f"bilatag shipped (trained on {manifest.get('trained_on', 'train')})", shipped.predict,
           X_test, 0.0)

    print(f"\ntest: {len(splits['test'])} documents, {len(texts)} statements (gold boundaries)\n")
    head = "".join(f"{t[:10]:>11}" for t in TOPIC_IDS)
    print(f"{'system':<40}{'micro':>7}{'macro':>7}{'FA':>7}{head}{'stmt/s':>9}")
    for name, r in results.items():
        cells = "".join(f"{r['f1'][t]:>11.3f}" for t in TOPIC_IDS)
        print(f"{name:<40}{r['micro_f1']:>7.3f}{r['macro_f1']:>7.3f}{r['false_alarm_rate']:>7.3f}"
              f"{cells}{r['statements_per_s']:>9,}")
    cal = results["bilatag"]["dev_calibration"]
    print(f"\nbilatag calibration on dev: ECE {cal['expected_calibration_error']:.4f}, Brier {cal['brier']:.4f}")
    gain = results["bilatag"]["micro_f1"] - results["bilatag without context"]["micro_f1"]
    print(f"context ablation: micro-F1 {gain:+.4f} with context")
    save("quality", {"test_statements": len(texts), "systems": results})


if __name__ == "__main__":
    main()
