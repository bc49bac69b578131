"""Which threshold rule holds up on a tuning set the size of ``data/dev.jsonl``?

``bilatag train`` chooses each topic's threshold on dev (about 180 documents). This script
takes out-of-fold probabilities of every train and dev statement (5 folds grouped by document,
as ``selection.py``; the test split is never read), then draws many dev-sized tuning sets of
documents: each rule chooses thresholds on the drawn set, and is scored on the other documents.
Rules compared (``TopicClassifier.tune_thresholds``):

- ``argmax``: the threshold of the best F1 on the tuning set;
- ``half_best_f1``: half that best F1 (the F1-optimal threshold of calibrated scores);
- ``tolerance_X``: half the best F1, then raised as far as the expected F1 (read from the
  calibrated probabilities) stays within X of its value there (``tolerance=X``; the shipped
  rule is ``tolerance_0.002``);
- ``0.5``: no tuning at all (the baseline).

    python benchmarks/thresholds.py                          # the shipped setting
    python benchmarks/thresholds.py "" context_hidden=0      # and the logistic context stage

Each setting costs about 7 minutes on one core (the cross-validation); the draws take seconds.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import DATA, save
from selection import out_of_fold, parse_setting, settings_parser

from bilatag.corpus import read_splits
from bilatag.evaluate import false_alarm_rate, topic_scores
from bilatag.model import TopicClassifier

#: Each rule's arguments to ``TopicClassifier.tune_thresholds`` (None: a fixed 0.5).
RULES: dict[str, dict | None] = {
    "argmax": {"rule": "argmax"},
    "half_best_f1": {"tolerance": 0.0},
    "tolerance_0.001": {"tolerance": 0.001},
    "tolerance_0.002": {"tolerance": 0.002},
    "tolerance_0.005": {"tolerance": 0.005},
    "0.5": None,
}


def thresholds(rule: str, proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    if RULES[rule] is None:
        return np.full(y.shape[1], 0.5)
    return TopicClassifier().tune_thresholds(proba, y, **RULES[rule]).thresholds_


def draws(proba: np.ndarray, y: np.ndarray, groups: np.ndarray, n_tune: int, n_draws: int,
          seed: int = 0) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of micro/macro-F1 and false alarms of each rule."""
    rng = np.random.default_rng(seed)
    documents = np.unique(groups)
    scores: dict[str, list[tuple[float, float, float]]] = {r: [] for r in RULES}
    for _ in range(n_draws):
        tune = np.isin(groups, rng.choice(documents, n_tune, replace=False))
        for rule in RULES:
            model = TopicClassifier()
            model.thresholds_ = thresholds(rule, proba[tune], y[tune])
            predicted = model.decide(proba[~tune])
            _, micro, macro = topic_scores(predicted, y[~tune])
            scores[rule].append((micro, macro, false_alarm_rate(predicted, y[~tune])))
    out = {}
    for rule, rows in scores.items():
        a = np.array(rows)
        out[rule] = {f"{name}_{stat}": round(float(fn(a[:, j])), 4)
                     for j, name in enumerate(("micro_f1", "macro_f1", "false_alarm_rate"))
                     for stat, fn in (("mean", np.mean), ("std", np.std))}
    return out


def main() -> None:
    parser = settings_parser(__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args()
    splits = read_splits(DATA)
    docs = splits["train"] + splits["dev"]
    n_tune = len(splits["dev"])
    print(f"{len(docs)} train+dev documents; tuning sets of {n_tune} documents, {args.draws} draws",
          file=sys.stderr)
    rows = []
    for text in args.settings:
        proba, y, groups = out_of_fold(docs, parse_setting(text))
        result = draws(proba, y, groups, n_tune, args.draws)
        rows.append({"setting": text or "shipped", "rules": result})
        for rule, r in result.items():
            print(f"{text or 'shipped':24s} {rule:15s} micro {r['micro_f1_mean']:.4f} ± {r['micro_f1_std']:.4f}"
                  f"  macro {r['macro_f1_mean']:.4f} ± {r['macro_f1_std']:.4f}"
                  f"  FA {r['false_alarm_rate_mean']:.4f} ± {r['false_alarm_rate_std']:.4f}", flush=True)
    print(f"written to {save('thresholds', {'tuning_documents': n_tune, 'draws': args.draws, 'rows': rows})}")


if __name__ == "__main__":
    main()
