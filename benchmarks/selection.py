"""Model selection by grouped cross-validation over train + dev (the test split is never read).

The development split alone (about 2,300 statements) is too small to tell settings apart that
differ by a few tenths of a point of F1. This script scores each setting on out-of-fold
predictions of every train and dev statement (5 folds grouped by document, about 23,900
statements), with per-topic thresholds chosen on those predictions at half the best F1, the
F1-optimal threshold (``tolerance=0``: ``bilatag train`` then trades a little expected F1 for
fewer false alarms, which would blur a comparison of F1). Settings are ``TopicClassifier``
parameters on top of the shipped ones (``bilatag.training.DEFAULT_PARAMS``); ``ctx_text_weight``
sets the text-stage weight of the context-only statements.

    python benchmarks/selection.py                       # the shipped setting
    python benchmarks/selection.py carry_C=None carry_C=10 ctx_text_weight=0.5
    python benchmarks/selection.py carry_C=10,ctx_text_weight=0.5   # one setting, two values

Each setting costs about 7 minutes on one core (training runs on one thread; 6 to 8 minutes
measured on 23,917 statements, two settings running side by side on two cores).
"""

from __future__ import annotations

import argparse
import ast
import sys

import numpy as np
from _common import DATA, save, timed
from sklearn.model_selection import GroupKFold

from bilatag import training
from bilatag.corpus import read_splits, training_arrays
from bilatag.evaluate import false_alarm_rate, topic_scores
from bilatag.model import TopicClassifier
from bilatag.topics import TOPIC_IDS


def parse_setting(text: str) -> dict:
    """``"carry_C=None,C=4"`` -> ``{"carry_C": None, "C": 4}`` (empty: the shipped setting)."""
    setting = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        setting[name.strip()] = ast.literal_eval(value)
    return setting


def settings_parser(description: str) -> argparse.ArgumentParser:
    """A command line that takes model settings, one per argument (none: the shipped one)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("settings", nargs="*", default=[""],
                        help="NAME=VALUE[,NAME=VALUE...], one setting per argument (none: the shipped setting)")
    return parser


def out_of_fold(docs, setting: dict, folds: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(proba, y, groups)``: out-of-fold probabilities of every statement of ``docs``."""
    setting = dict(setting)
    ctx_weight = setting.pop("ctx_text_weight", training.CTX_TEXT_WEIGHT)
    X, y, groups = training_arrays(docs)
    weight, from_context = training.text_weights(docs, ctx_weight)
    group_ids = np.unique(np.asarray(groups), return_inverse=True)[1]
    proba = np.zeros(y.shape)
    for train, test in GroupKFold(n_splits=folds).split(X, y, group_ids):
        model = training.classifier(**setting)
        model.fit([X[i] for i in train], y[train], groups=group_ids[train],
                  text_sample_weight=weight[train], from_context=from_context[train])
        proba[test] = model.predict_proba([X[i] for i in test])
    return proba, y, group_ids


def cross_validate(docs, setting: dict, folds: int = 5) -> dict:
    """Out-of-fold micro/macro-F1, per-topic F1 and false-alarm rate of one setting."""
    proba, y, _ = out_of_fold(docs, setting, folds)
    # Settings are compared at their F1-optimal thresholds (no trade for fewer false alarms).
    predicted = TopicClassifier().tune_thresholds(proba, y, tolerance=0.0).decide(proba)
    per_topic, micro, macro = topic_scores(predicted, y)
    return {"micro_f1": round(micro, 4), "macro_f1": round(macro, 4),
            "false_alarm_rate": round(false_alarm_rate(predicted, y), 4),
            "per_topic_f1": {t: round(per_topic[t].f1, 4) for t in TOPIC_IDS}}


def main() -> None:
    parser = settings_parser(__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    splits = read_splits(DATA)
    docs = splits["train"] + splits["dev"]
    n = sum(len(d.statements) for d in docs)
    print(f"{len(docs)} train+dev documents, {n} statements, {args.folds} folds", file=sys.stderr)
    rows = []
    for text in args.settings:
        result, seconds = timed(cross_validate, docs, parse_setting(text), args.folds)
        rows.append({"setting": text or "shipped", **result, "seconds": round(seconds)})
        print(f"{text or 'shipped':28s} micro {result['micro_f1']:.4f}  macro {result['macro_f1']:.4f}"
              f"  FA {result['false_alarm_rate']:.4f}  ({seconds:.0f} s)", flush=True)
    print(f"written to {save('selection', {'folds': args.folds, 'statements': n, 'rows': rows})}")


if __name__ == "__main__":
    main()
