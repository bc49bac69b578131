"""Reading and validating labelled corpora (the format of ``data/*.jsonl``).

One document per line::

    {"doc_id": str, "genre": str, "date": "YYYY-MM" | "YYYY-MM-DD" | null, "text": str,
     "statements": [{"start": int, "end": int, "topics": [str, ...]}, ...]}

Optional keys: ``pair`` (the countries or institutions of the document) on a document,
``flags`` (``ctx``, ``neg``, ``trap``: why the statement is hard) on a statement.
:func:`read_corpus` checks every rule below and raises :class:`~bilatag.CorpusError` naming the
file, line and rule broken; users validate their own gold data with it before ``bilatag
evaluate`` or ``bilatag train``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .boundaries import parse_date_header
from .errors import CorpusError
from .features import StatementContext, contexts_for_document
from .topics import PARENT, TOPIC_IDS

__all__ = ["GoldStatement", "GoldDocument", "read_corpus", "read_splits", "corpus_hash",
           "training_arrays", "SPLITS", "FLAGS"]

#: The split files of a corpus folder.
SPLITS: tuple[str, ...] = ("train", "dev", "test")
#: Statements of fewer words (page furniture) may recur across splits.
MIN_SHARED_WORDS = 5
#: Known statement flags.
FLAGS: frozenset[str] = frozenset({"ctx", "neg", "trap"})


@dataclass(frozen=True)
class GoldStatement:
    """A labelled statement: ``text[start:end]`` of its document and its topics."""

    start: int
    end: int
    topics: tuple[str, ...]
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoldDocument:
    """A labelled document."""

    doc_id: str
    genre: str
    date: str | None
    text: str
    statements: tuple[GoldStatement, ...]
    pair: str | None = None

    def statement_text(self, st: GoldStatement) -> str:
        """The text of one of this document's statements."""
        return self.text[st.start:st.end]

    def contexts(self) -> list[StatementContext]:
        """The :class:`~bilatag.features.StatementContext` of each statement."""
        return contexts_for_document(self.text, [(s.start, s.end) for s in self.statements])

    def label_matrix(self) -> np.ndarray:
        """Binary topic matrix ``(n_statements, 6)`` in :data:`TOPIC_IDS` order."""
        y = np.zeros((len(self.statements), len(TOPIC_IDS)), dtype=int)
        for i, st in enumerate(self.statements):
            for t in st.topics:
                y[i, TOPIC_IDS.index(t)] = 1
        return y


def _fail(where: str, message: str) -> CorpusError:
    return CorpusError(f"{where}: {message}")


def parse_document(record: object, where: str) -> GoldDocument:
    """Check one decoded JSON record and return it as a :class:`GoldDocument`."""
    if not isinstance(record, dict):
        raise _fail(where, "a document must be a JSON object")
    for key, kind in (("doc_id", str), ("genre", str), ("text", str), ("statements", list)):
        if not isinstance(record.get(key), kind):
            raise _fail(where, f"'{key}' must be a {kind.__name__}")
    text: str = record["text"]
    date = record.get("date")
    header_date, body = parse_date_header(text)
    if date != header_date:
        raise _fail(where, f"'date' is {date!r} but the text's date header gives {header_date!r}")
    statements = []
    previous_end = body
    for i, raw in enumerate(record["statements"]):
        at = f"{where}, statement {i}"
        if not isinstance(raw, dict):
            raise _fail(at, "a statement must be a JSON object")
        start, end, topics = raw.get("start"), raw.get("end"), raw.get("topics")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise _fail(at, f"bad offsets {start!r}..{end!r} for a text of {len(text)} characters")
        if start < previous_end:
            raise _fail(at, "statements overlap or are out of order")
        span = text[start:end]
        if span != span.strip():
            raise _fail(at, f"surrounding whitespace in {span[:40]!r}")
        gap = text[previous_end:start]
        if gap.strip():
            raise _fail(at, f"text outside any statement before it: {gap.strip()[:40]!r}")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise _fail(at, "'topics' must be a list of strings")
        unknown = set(topics) - set(TOPIC_IDS)
        if unknown:
            raise _fail(at, f"unknown topic(s) {sorted(unknown)}")
        for child in topics:
            if child in PARENT and PARENT[child] not in topics:
                raise _fail(at, f"'{child}' without its parent '{PARENT[child]}'")
        flags = raw.get("flags", [])
        if not isinstance(flags, list) or set(flags) - FLAGS:
            raise _fail(at, f"'flags' must be a list among {sorted(FLAGS)}")
        statements.append(GoldStatement(start, end, tuple(t for t in TOPIC_IDS if t in topics),
                                        tuple(flags)))
        previous_end = end
    if text[previous_end:].strip():
        raise _fail(where, f"text after the last statement: {text[previous_end:].strip()[:40]!r}")
    return GoldDocument(record["doc_id"], record["genre"], date, text, tuple(statements),
                        record.get("pair"))


def read_corpus(path: str | Path) -> list[GoldDocument]:
    """Read and validate a corpus file (JSON lines); raise :class:`CorpusError` on any fault."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read: {exc}") from exc
    docs, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(where, f"invalid JSON: {exc}") from exc
        doc = parse_document(record, where)
        if doc.doc_id in seen:
            raise _fail(where, f"duplicate doc_id {doc.doc_id!r}")
        seen.add(doc.doc_id)
        docs.append(doc)
    return docs


def read_splits(folder: str | Path, splits: Sequence[str] = SPLITS) -> dict[str, list[GoldDocument]]:
    """Read the split files of a corpus folder.

    No document, and no statement of :data:`MIN_SHARED_WORDS` words or more, may be in two splits.
    """
    folder = Path(folder)
    out = {name: read_corpus(folder / f"{name}.jsonl") for name in splits}
    owner: dict[str, str] = {}
    for name, docs in out.items():
        for doc in docs:
            if owner.setdefault(f"doc:{doc.doc_id}", name) != name:
                raise CorpusError(f"doc_id {doc.doc_id!r} is in both {owner['doc:' + doc.doc_id]} and {name}")
            for st in doc.statements:
                words = doc.statement_text(st).split()
                if len(words) < MIN_SHARED_WORDS:
                    continue  # page furniture ("Partager", "Communiqué de presse") recurs
                key = " ".join(words)
                if owner.setdefault(key, name) != name:
                    raise CorpusError(f"statement {key[:60]!r} ({doc.doc_id}) is in both "
                                      f"{owner[key]} and {name}")
    return out


def corpus_hash(paths: Iterable[str | Path]) -> str:
    """sha256 over the bytes of the given files, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def training_arrays(docs: Sequence[GoldDocument]
                    ) -> tuple[list[StatementContext], np.ndarray, list[str]]:
    """Statements in context, their label matrix and their document ids (the CV groups)."""
    contexts: list[StatementContext] = []
    labels, groups = [], []
    for doc in docs:
        contexts.extend(doc.contexts())
        labels.append(doc.label_matrix())
        groups.extend([doc.doc_id] * len(doc.statements))
    y = np.vstack(labels) if labels else np.zeros((0, len(TOPIC_IDS)), dtype=int)
    return contexts, y, groups
