"""The domain lexicon: family counts (classifier features) and the keyword baseline."""

from __future__ import annotations

import pytest

from bilatag.lexicon import FAMILIES, KeywordTagger, family_counts, normalized


def _whole_word_counts(norm: str) -> list[int]:
    return [len(p.findall(norm)) for p in FAMILIES.values()]


@pytest.mark.parametrize("text", [
    "Passeurs",                                    # a match that is the whole string
    "les passeurs passeurs",                       # adjacent matches, the first at no offset
    "des surpasseurs et des passeursx",            # inside a word: no match
    "trafic de migrants et trafic aérien",         # several words, and a hard negative
    "Les mineurs non accompagnés ; les mineurs de fond.",
    "n'a pas été expulsé, il n'est jamais reparti",
    "",
])
def test_family_counts_are_whole_word_matches(text: str) -> None:
    norm = normalized(text)
    assert family_counts(norm) == _whole_word_counts(norm)


def test_family_counts_match_whole_words_on_the_corpus(splits) -> None:
    statements = [d.text[s.start:s.end] for d in splits["dev"] for s in d.statements]
    norms = [normalized(t) for t in statements]
    assert sum(map(sum, map(family_counts, norms))) > len(norms)  # the families do match
    assert [family_counts(n) for n in norms] == [_whole_word_counts(n) for n in norms]


def test_family_counts_of_one_family() -> None:
    counts = dict(zip(FAMILIES, family_counts(normalized("Les passeurs et leurs passeurs"))))
    assert counts["migration_smuggling"] == 2
    assert counts["drugs_words"] == 0


@pytest.mark.parametrize("text, topics", [
    ("Les passeurs ont été interpellés à Tanger.", {"migration", "security"}),
    ("Il fait l'objet d'une OQTF.", {"migration", "oqtf"}),
    ("Saisie record de résine de cannabis.", {"drugs", "security"}),
    ("La sécurité routière reste une priorité.", set()),
])
def test_keyword_tagger(text: str, topics: set[str]) -> None:
    assert KeywordTagger().predict_topics(text) == topics
