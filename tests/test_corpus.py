"""The labelled corpus (issue 3): format, validator, size and coverage minimums."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import DATA

from bilatag.corpus import CorpusError, read_corpus, read_splits
from bilatag.topics import TOPIC_IDS


def all_statements(splits):
    for name, docs in splits.items():
        for doc in docs:
            for st in doc.statements:
                yield name, doc, st


def test_every_split_file_validates(splits) -> None:
    assert set(splits) == {"train", "dev", "test"}
    for name, docs in splits.items():
        assert docs, name
        for doc in docs:
            assert doc.genre and doc.doc_id


def test_size_and_coverage_minimums(splits) -> None:
    docs = [d for ds in splits.values() for d in ds]
    stmts = list(all_statements(splits))
    assert len(docs) >= 250
    assert len(stmts) >= 2500
    overall = Counter(t for _, _, st in stmts for t in st.topics)
    in_test = Counter(t for name, _, st in stmts if name == "test" for t in st.topics)
    for topic in TOPIC_IDS:
        assert overall[topic] >= 150, topic
        assert in_test[topic] >= 30, topic
    assert sum(not st.topics for _, _, st in stmts) / len(stmts) >= 0.40
    flags = Counter(f for _, _, st in stmts for f in st.flags)
    assert flags["neg"] >= 300 and flags["ctx"] >= 150 and flags["trap"] >= 100
    dated = sum(d.date is not None for d in docs) / len(docs)
    assert 0.35 <= dated <= 0.65
    assert len({d.genre for d in docs}) >= 10


def test_split_proportions(splits) -> None:
    n = {name: len(docs) for name, docs in splits.items()}
    total = sum(n.values())
    assert n["train"] / total >= 0.65
    # Rounds 4 to 8 went to train and dev only, so the test split (frozen since round 3) stays
    # the same documents from one release to the next: 147 documents, 1,878 statements (7% of
    # the documents now); it must not shrink, nor grow past a fifth of the corpus.
    n_test_statements = sum(len(d.statements) for d in splits["test"])
    assert n["test"] >= 140 and n_test_statements >= 1800 and n["test"] / total <= 0.20


def test_whole_documents_without_topic(splits) -> None:
    empty = [d for ds in splits.values() for d in ds if not any(st.topics for st in d.statements)]
    assert len(empty) >= 15


def write(tmp_path, records) -> str:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return str(path)


GOOD = {"doc_id": "x1", "genre": "wire", "date": "2024-10",
        "text": "date 2024-10 Les passeurs ont été arrêtés. Le commerce progresse.",
        "statements": [{"start": 13, "end": 42, "topics": ["migration", "security"]},
                       {"start": 43, "end": 65, "topics": []}]}


def test_validator_accepts_a_good_record(tmp_path) -> None:
    docs = read_corpus(write(tmp_path, [GOOD]))
    assert docs[0].statement_text(docs[0].statements[0]) == "Les passeurs ont été arrêtés."


@pytest.mark.parametrize("change, message", [
    (lambda r: r["statements"][0].update(end=43), "whitespace"),
    (lambda r: r["statements"][0].update(topics=["drugs"]), "parent"),
    (lambda r: r["statements"][0].update(topics=["smuggling"]), "unknown topic"),
    (lambda r: r["statements"][1].update(start=30), "overlap"),
    (lambda r: r["statements"].pop(), "after the last statement"),
    (lambda r: r.update(date="2024-11"), "date"),
    (lambda r: r["statements"][0].update(start=-1), "offsets"),
    (lambda r: r.pop("genre"), "genre"),
    (lambda r: r["statements"][0].update(flags=["easy"]), "flags"),
])
def test_validator_rejects(tmp_path, change, message) -> None:
    record = json.loads(json.dumps(GOOD))
    change(record)
    with pytest.raises(CorpusError, match=message):
        read_corpus(write(tmp_path, [record]))


def test_validator_rejects_bad_json_and_duplicates(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="bad.jsonl:1"):
        read_corpus(path)
    with pytest.raises(CorpusError, match="duplicate"):
        read_corpus(write(tmp_path, [GOOD, GOOD]))


def test_no_document_or_statement_across_splits(tmp_path) -> None:
    for name in ("train", "dev", "test"):
        record = dict(GOOD, doc_id=f"{name}-1")
        (tmp_path / f"{name}.jsonl").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CorpusError, match="in both"):
        read_splits(tmp_path)


def test_data_folder_is_real() -> None:
    assert (DATA / "README.md").is_file()
