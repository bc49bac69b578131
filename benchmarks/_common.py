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
