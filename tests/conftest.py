"""Shared fixtures: the shipped tagger, the seed article from ../shared, the corpus folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def tagger():
    import bilatag

    return bilatag.load()


@pytest.fixture(scope="session")
def seed() -> tuple[str, dict]:
    gold_path = SHARED / "seed-gold.json"
    if not gold_path.is_file():
        pytest.skip("../shared/seed-gold.json is not available")
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    text = (SHARED / gold["text_path"]).read_text(encoding="utf-8")
    return text, gold


@pytest.fixture(scope="session")
def splits():
    from bilatag.corpus import read_splits

    return read_splits(DATA)
