"""Generalisation beyond the corpus's own style: one genre (or one country pair) held out.

For each held-out group, the model is trained on train.jsonl without that group, its thresholds
chosen on dev.jsonl without that group, and it is scored (micro-F1, gold statement boundaries)
on every document of the group (all splits: the model never saw any of them). The in-distribution
reference is the same model's micro-F1 on test.jsonl without the group. The drop is
reference - held-out.

    python benchmarks/generalization.py [--by genre|pair|both] [--min-statements 150]
"""

from __future__ import annotations

import argparse
import sys

from _common import DATA, save

from bilatag.corpus import read_splits, training_arrays
from bilatag.evaluate import topic_scores
from bilatag.training import fit_model


def country_pair(doc) -> str:
    """The document's pair as a sorted set of countries/institutions (``FR-MA`` == ``MA-FR``)."""
    return "-".join(sorted((doc.pair or "?").split("-")))


def micro(model, docs) -> tuple[float, int]:
    X, y, _ = training_arrays(docs)
    return topic_scores(model.predict(X), y)[1], len(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--by", choices=["genre", "pair", "both"], default="both")
    parser.add_argument("--min-statements", type=int, default=150,
                        help="hold out only groups with at least this many statements")
    args = parser.parse_args()
    splits = read_splits(DATA)
    everything = [d for ds in splits.values() for d in ds]
    keys = {"genre": lambda d: d.genre, "pair": country_pair}
    results: dict[str, list[dict]] = {}
    for by in (["genre", "pair"] if args.by == "both" else [args.by]):
        key = keys[by]
        sizes: dict[str, int] = {}
        for d in everything:
            sizes[key(d)] = sizes.get(key(d), 0) + len(d.statements)
        rows = []
        for group in sorted(g for g, n in sizes.items() if n >= args.min_statements):
            train = [d for d in splits["train"] if key(d) != group]
            dev = [d for d in splits["dev"] if key(d) != group]
            held = [d for d in everything if key(d) == group]
            test = [d for d in splits["test"] if key(d) != group]
            model = fit_model(train, dev)
            held_f1, n_held = micro(model, held)
            ref_f1, _ = micro(model, test)
            rows.append({"group": group, "held_out_statements": n_held,
                         "held_out_micro_f1": round(held_f1, 4),
                         "in_distribution_micro_f1": round(ref_f1, 4),
                         "drop": round(ref_f1 - held_f1, 4)})
            print(f"  {by} {group}: held-out {held_f1:.4f} in-distribution {ref_f1:.4f}", file=sys.stderr)
        results[by] = rows
        print(f"\nheld out by {by}:")
        print(f"{'group':<16}{'statements':>11}{'held-out F1':>13}{'test F1':>10}{'drop':>8}")
        for r in rows:
            print(f"{r['group']:<16}{r['held_out_statements']:>11}{r['held_out_micro_f1']:>13.4f}"
                  f"{r['in_distribution_micro_f1']:>10.4f}{r['drop']:>8.4f}")
        drops = [r["drop"] for r in rows]
        print(f"mean drop {sum(drops) / len(drops):.4f}, worst {max(drops):.4f}")
    save("generalization", results)


if __name__ == "__main__":
    main()
