"""Command line: ``bilatag train``, ``bilatag evaluate``, ``bilatag tag`` (also ``python -m bilatag``)."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import BilatagError
from .topics import TOPIC_IDS

__all__ = ["main"]


def _read_inputs(paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``(doc_id, text)`` of each file (``-`` or no file: standard input)."""
    for p in paths or ["-"]:
        if p == "-":
            yield "-", sys.stdin.read()
            continue
        try:
            yield p, Path(p).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BilatagError(f"{p} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except OSError as exc:
            raise BilatagError(f"cannot read {p}: {exc.strerror}") from exc


def _cmd_tag(args: argparse.Namespace) -> int:
    from .tagger import load

    tagger = load(args.model, explain=False)
    inputs = list(_read_inputs(args.files))
    docs = tagger.tag_many((text for _, text in inputs), n_process=args.n_process)
    out = sys.stdout
    writer = None
    if args.format == "csv":
        writer = csv.writer(out)
        writer.writerow(["doc_id", "start", "end", "text", "topics", *(f"score_{t}" for t in TOPIC_IDS)])
    for (doc_id, _), doc in zip(inputs, docs):
        for s in doc.statements:
            if writer is not None:
                writer.writerow([doc_id, s.start, s.end, s.text, ";".join(s.topics),
                                 *(f"{s.scores[t]:.4f}" for t in TOPIC_IDS)])
            else:
                out.write(json.dumps({"doc_id": doc_id, "date": doc.date, "start": s.start,
                                      "end": s.end, "text": s.text, "topics": list(s.topics),
                                      "scores": {t: round(s.scores[t], 4) for t in TOPIC_IDS}},
                                     ensure_ascii=False) + "\n")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .corpus import read_corpus
    from .evaluate import evaluate, format_report
    from .tagger import load

    docs = read_corpus(args.file)
    report = evaluate(load(args.model, explain=False), docs, n_errors=args.errors)
    print(format_report(report))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .training import train

    info = train(args.data, args.out)
    for split, how in (("dev", "out of fold, gold statements"), ("test", "end to end")):
        m = info["metrics"][split]
        spans = "" if m["span_f1"] is None else f" span F1 {m['span_f1']:.4f}"
        print(f"{split} ({how}): micro-F1 {m['micro_f1']:.4f} macro-F1 {m['macro_f1']:.4f} "
              f"false alarms {m['false_alarm_rate']:.4f}{spans}")
    print(f"model and manifest written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bilatag`` command."""
    parser = argparse.ArgumentParser(prog="bilatag", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tag", help="tag text files (or standard input) to standard output")
    p.add_argument("files", nargs="*", help="UTF-8 text files, one document each; - for stdin")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--n-process", type=int, default=1)
    p.set_defaults(run=_cmd_tag)

    p = sub.add_parser("evaluate", help="score the tagger on gold data in the corpus format")
    p.add_argument("file", nargs="?", default="data/test.jsonl")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="list the first N mistakes")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.set_defaults(run=_cmd_evaluate)

    p = sub.add_parser("train", help="rebuild the model from a corpus folder (fixed seeds)")
    p.add_argument("--data", default="data", help="folder with train/dev/test.jsonl")
    p.add_argument("--out", default="models", help="folder to write the model and manifest to")
    p.set_defaults(run=_cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 on bad input or model errors)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except BilatagError as exc:
        print(f"bilatag: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
