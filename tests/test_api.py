"""The public API contract of README.md / issue 2."""

from __future__ import annotations

import json

import pytest
from spacy.language import Language

import bilatag
from bilatag.topics import PARENT, TOPIC_IDS

TEXT = (
    "date 2025-03 Rabat et Madrid renforcent leur coopération migratoire\n"
    "RABAT – Les ministres de l'Intérieur ont évoqué mardi la lutte contre l'immigration "
    "irrégulière et les réseaux de passeurs. «Nous avons démantelé 120 réseaux criminels "
    "cette année», a précisé M. Laftit. Les échanges commerciaux ont atteint 20 milliards d'euros."
)


def check_document(doc: bilatag.TaggedDocument, text: str) -> None:
    assert isinstance(doc, bilatag.TaggedDocument)
    assert doc.text == text
    last_end = 0
    for s in doc.statements:
        assert isinstance(s, bilatag.Statement)
        assert last_end <= s.start < s.end <= len(text)
        assert s.text == text[s.start:s.end] == s.text.strip()
        last_end = s.end
        assert set(s.scores) == set(TOPIC_IDS)
        assert all(0.0 <= v <= 1.0 for v in s.scores.values())
        assert list(s.topics) == [t for t in TOPIC_IDS if t in s.topics]  # canonical order
        for child, parent in PARENT.items():
            assert s.scores[parent] >= s.scores[child]
            if child in s.topics:
                assert parent in s.topics
        assert set(s.evidence) == set(s.topics)


def test_tag_contract() -> None:
    doc = bilatag.tag(TEXT)
    check_document(doc, TEXT)
    assert doc.date == "2025-03"
    assert len(doc.statements) == 4
    assert doc.statements[0].text == "Rabat et Madrid renforcent leur coopération migratoire"
    counts = doc.topic_counts
    assert set(counts) == set(TOPIC_IDS)
    assert counts["migration"] == sum("migration" in s.topics for s in doc.statements)


def test_to_dict_is_json() -> None:
    doc = bilatag.tag(TEXT)
    data = json.loads(json.dumps(doc.to_dict(), ensure_ascii=False))
    assert data["date"] == "2025-03"
    assert data["text"] == TEXT
    assert [s["start"] for s in data["statements"]] == [s.start for s in doc.statements]
    assert data["statements"][1]["topics"] == list(doc.statements[1].topics)


def test_obvious_topics() -> None:
    doc = bilatag.tag(TEXT)
    assert "migration" in doc.statements[1].topics
    assert "security" in doc.statements[2].topics
    assert doc.statements[3].topics == ()


def test_tag_many_matches_tag() -> None:
    texts = [TEXT, "", "Une phrase sans sujet particulier.", TEXT.replace("2025-03", "2024-01")]
    expected = [bilatag.tag(t) for t in texts]
    for batch_size in (1, 3):
        assert list(bilatag.tag_many(texts, batch_size=batch_size)) == expected
    assert list(bilatag.tag_many(iter(texts), n_process=2, batch_size=1)) == expected


def test_tag_many_does_not_depend_on_the_other_documents_of_the_batch() -> None:
    shared = "Partager\nCes réseaux seront démantelés, a promis le ministre."
    a = "Deux tonnes de résine de cannabis ont été saisies au port de Tanger par la douane.\n" + shared
    b = "Le ministre a inauguré une nouvelle école primaire à Fès.\n" + shared
    assert list(bilatag.tag_many([a, b], batch_size=2)) == [bilatag.tag(a), bilatag.tag(b)]


def test_evidence_survives_processes_and_pickling() -> None:
    import pickle

    single = bilatag.tag(TEXT)
    (multi,) = list(bilatag.tag_many([TEXT], n_process=2))
    assert [s.evidence for s in multi.statements] == [s.evidence for s in single.statements]
    fresh = bilatag.tag(TEXT)
    copy = pickle.loads(pickle.dumps(fresh))  # evidence not computed yet: the model is dropped
    with pytest.raises(RuntimeError, match="attach"):
        copy.statements[1].evidence
    copy.statements[0]._explanations.attach(bilatag.load().model)
    assert copy.statements[1].evidence == single.statements[1].evidence
    computed = pickle.loads(pickle.dumps(single))  # evidence computed: kept, no model needed
    assert computed.statements[1].evidence == single.statements[1].evidence


def test_tag_many_is_lazy_and_validates() -> None:
    results = bilatag.tag_many(iter([TEXT]))
    assert next(results).text == TEXT
    with pytest.raises(ValueError):
        list(bilatag.tag_many([TEXT], batch_size=0))
    with pytest.raises(TypeError):
        list(bilatag.tag_many([TEXT, None]))


def test_load_and_nlp(tagger) -> None:
    assert isinstance(tagger, bilatag.Tagger)
    assert isinstance(tagger.nlp, Language)
    assert "bilatag_segmenter" in tagger.nlp.pipe_names
    assert tagger.tag(TEXT) == bilatag.tag(TEXT)
    assert list(tagger.tag_many([TEXT])) == [bilatag.tag(TEXT)]


def test_default_tagger_is_loaded_once() -> None:
    from bilatag import tagger as module

    bilatag.tag("Une phrase.")
    first = module._default()
    bilatag.tag("Une autre phrase.")
    assert module._default() is first


def test_topics_table() -> None:
    assert [t.id for t in bilatag.TOPICS] == list(TOPIC_IDS)
    assert len(bilatag.TOPICS) == 6
    by_id = {t.id: t for t in bilatag.TOPICS}
    assert by_id["oqtf"].parent == "migration"
    assert by_id["drugs"].parent == "security"
    assert by_id["migration"].parent is None
    assert all(t.label for t in bilatag.TOPICS)


def test_evidence_points_into_the_document() -> None:
    doc = bilatag.tag(TEXT)
    st = doc.statements[1]
    assert "migration" in st.topics
    evidence = st.evidence["migration"]
    assert evidence
    for ev in evidence:
        assert st.start <= ev.start < ev.end <= st.end
        assert doc.text[ev.start:ev.end] == ev.text
        assert ev.weight > 0
    assert any("immigration" in ev.text or "passeurs" in ev.text for ev in evidence)


def test_tagging_imports_no_training_code() -> None:
    """The shipped model predicts with NumPy arrays: tagging in a fresh process imports neither
    the network's trainer nor the tree ensembles (the cold start stays short)."""
    import subprocess
    import sys

    code = ("import sys, bilatag; bilatag.tag('Les passeurs ont été arrêtés à Tanger.'); "
            "print(sorted(m for m in ('sklearn.neural_network', 'sklearn.ensemble') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
