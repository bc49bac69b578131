"""Bad input, typography variants, scraped text and large inputs (issue 2, "Invariants")."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import unicodedata

import pytest

import bilatag
from bilatag.tagger import Tagger

SAMPLE = ("Le ministre de l’Intérieur a évoqué l’immigration irrégulière et les laissez-passer "
          "consulaires. «Nous avons démantelé des réseaux de trafic de drogue», a-t-il précisé ! "
          "Les mineurs non accompagnés seront pris en charge : c’est l’objectif ?")


def assert_covered(text: str, doc: bilatag.TaggedDocument) -> None:
    """Every non-whitespace character outside the date header is in exactly one statement."""
    inside = [0] * len(text)
    for s in doc.statements:
        assert s.text == text[s.start:s.end] and s.text == s.text.strip()
        for i in range(s.start, s.end):
            inside[i] += 1
    header_end = 0
    if doc.date is not None:
        header_end = text.index(doc.date) + len(doc.date)
    for i, ch in enumerate(text):
        if i < header_end:
            assert inside[i] == 0
        elif not ch.isspace():
            assert inside[i] == 1, (i, ch, text[max(0, i - 20):i + 20])
        else:
            assert inside[i] <= 1
    ends = [(s.start, s.end) for s in doc.statements]
    assert ends == sorted(ends)


@pytest.mark.parametrize("bad", [None, 12, 3.5, ["texte"], {"text": "x"}])
def test_non_str_raises_type_error(bad) -> None:
    with pytest.raises(TypeError, match="str"):
        bilatag.tag(bad)


def test_bytes_say_decode_first() -> None:
    with pytest.raises(TypeError, match="decode"):
        bilatag.tag("Le ministre.".encode())


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u00a0\u202f\r\n"])
def test_empty_and_whitespace(text: str) -> None:
    doc = bilatag.tag(text)
    assert doc.statements == [] and doc.text == text and doc.date is None
    assert doc.topic_counts == dict.fromkeys(bilatag.TOPIC_IDS, 0)


def test_date_only() -> None:
    doc = bilatag.tag("date 2024-10\n")
    assert doc.date == "2024-10" and doc.statements == []


def variants(text: str) -> dict[str, str]:
    return {
        "nfd": unicodedata.normalize("NFD", text),
        "straight_apostrophes": text.replace("’", "'"),
        "nbsp": text.replace(" :", "\u00a0:").replace(" ?", "\u202f?").replace(" !", "\u00a0!")
                    .replace("«", "«\u202f").replace("»", "\u202f»"),
        "upper": text.upper(),
        "crlf": text.replace(". ", ".\r\n"),
    }


@pytest.mark.parametrize("name", ["nfd", "straight_apostrophes", "nbsp", "upper"])
def test_typography_variants_keep_predictions(name: str) -> None:
    base = bilatag.tag(SAMPLE)
    text = variants(SAMPLE)[name]
    doc = bilatag.tag(text)
    assert_covered(text, doc)
    assert len(doc.statements) == len(base.statements)
    for a, b in zip(base.statements, doc.statements):
        assert a.topics == b.topics
        for t in bilatag.TOPIC_IDS:
            assert abs(a.scores[t] - b.scores[t]) < 1e-6


def test_crlf_offsets_refer_to_the_text_as_given() -> None:
    text = variants(SAMPLE)["crlf"]
    doc = bilatag.tag(text)
    assert_covered(text, doc)
    assert all("\r" not in s.text and "\n" not in s.text for s in doc.statements)
    assert len(doc.statements) == 3


@pytest.mark.parametrize("text", [
    "Le ministre\x00 a parlé\x07. Il est reparti\x1b[0m.",
    "Accord signé 🤝🇲🇦🇫🇷 ! Les deux pays coopèrent 👍",
    "وزير الداخلية عبد الوافي لفتيت استقبل نظيره الفرنسي. Le ministre a salué l'accord.",
    "pas de ponctuation du tout ici juste des mots " * 50,
    "…!?»«\"'()[]—–-•",
    "\ufeffLe texte commence par une marque d'ordre des octets.",
    "Un\u2028séparateur\u2029de paragraphe\x0bet\x0cdes sauts.",
    "Des espaces\u200b de largeur nulle\u2060 et des accents combinants e\u0301\u0301.",
])
def test_odd_characters(text: str) -> None:
    assert_covered(text, bilatag.tag(text))


def test_lone_surrogates_are_kept() -> None:
    text = "Texte abîmé \ud83d par un décodage raté. La suite est lisible."
    doc = bilatag.tag(text)
    assert_covered(text, doc)
    assert len(doc.statements) == 2


def test_random_texts_keep_the_invariants() -> None:
    rng = random.Random(0)
    alphabet = list("abcdeéèàç ABCDE.,;:!?…«»\"'’()[]-–—•\n\r\t\u00a0\u202f0123456789") + ["date 2024-10 ", "M. ", "J.-Y. "]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        assert_covered(text, bilatag.tag(text))


def test_very_long_line_and_chunking(tagger) -> None:
    paragraph = SAMPLE + "\n\n"
    text = paragraph * 300 + "mot " * 60_000  # many lines, then one 240,000-character line
    small = Tagger(tagger.model, nlp=tagger.nlp, chunk_chars=500, explain=False)
    default = Tagger(tagger.model, nlp=tagger.nlp, explain=False)
    a, b = small.tag(text), default.tag(text)
    assert [(s.start, s.end, s.topics) for s in a.statements] == [(s.start, s.end, s.topics) for s in b.statements]
    assert_covered(text, a)
    assert a.statements[-1].text == ("mot " * 60_000).strip()


def test_large_input_beyond_spacy_max_length(tagger) -> None:
    text = (SAMPLE + "\n") * 12_000  # about 2.8 million characters
    assert len(text) > tagger.nlp.max_length
    date, spans = tagger.segment(text)
    assert len(spans) == 36_000
    assert spans[-1][1] == len(text) - 1


MEMORY_PROBE = """
import bilatag
def hwm():
    return int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) // 1024
tagger = bilatag.load(explain=False)
text = ({sample!r} + "\\n") * 50_000
tagger.tag(text[:5000])
before = hwm()
date, spans = tagger.segment(text)
print(len(text), len(spans), before, hwm())
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_large_input_memory_is_bounded() -> None:
    """Segmenting ~12 MB keeps memory near the size of what is kept, not of spaCy Docs."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(sample=SAMPLE)], check=True,
                         capture_output=True, text=True).stdout.split()
    n_chars, n_spans, before, after = map(int, out)
    assert n_chars > 11_000_000 and n_spans == 150_000
    assert after - before < 150  # MB; a Doc of the whole text would take several GB
