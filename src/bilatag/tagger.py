"""The facade: text → statements (spaCy) → scores (scikit-learn) → topics → TaggedDocument."""

from __future__ import annotations

import logging
import multiprocessing
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language

from .boundaries import find_statements, parse_date_header
from .features import contexts_for_document
from .model import Explanations, TopicClassifier
from .persist import load_model
from .results import Statement, TaggedDocument
from .segment import SEGMENTER_NAME, make_nlp
from .topics import TOPIC_IDS

__all__ = ["Tagger", "load", "tag", "tag_many", "DEFAULT_CHUNK_CHARS"]

log = logging.getLogger(__name__)

#: Texts are fed to spaCy in pieces of at most this many characters, cut at line breaks
#: (a line break always ends a statement, so cutting there never changes the result).
DEFAULT_CHUNK_CHARS = 100_000
_NEWLINE = re.compile(r"\r\n|\n|\r")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raise TypeError("bilatag.tag() takes str, not bytes: decode first, "
                        "e.g. tag(data.decode('utf-8'))")
    raise TypeError(f"bilatag.tag() takes the text of one document as str, not "
                    f"{type(text).__name__}; for several documents use bilatag.tag_many(texts)")


class Tagger:
    """Segments French press copy into statements and tags each with its topics.

    Build one with :func:`bilatag.load`. ``nlp`` is the spaCy pipeline that segments;
    ``model`` the :class:`~bilatag.model.TopicClassifier`; ``manifest`` the model's manifest.
    """

    def __init__(self, model: TopicClassifier, manifest: dict[str, Any] | None = None, *,
                 nlp: Language | None = None, chunk_chars: int = DEFAULT_CHUNK_CHARS,
                 explain: bool = True) -> None:
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be positive")
        self.model = model
        self.manifest = manifest or {}
        self.nlp = nlp if nlp is not None else make_nlp()
        if SEGMENTER_NAME not in self.nlp.pipe_names:
            raise ValueError(f"the spaCy pipeline needs the {SEGMENTER_NAME!r} component: "
                             f"nlp.add_pipe({SEGMENTER_NAME!r})")
        self.chunk_chars = chunk_chars
        self.explain = explain
        self._model_dir: Path | None = None

    # -- segmentation ---------------------------------------------------------------------
    def _pieces(self, text: str, start: int) -> Iterator[tuple[int, int]]:
        """Cut ``text[start:]`` just after line breaks into pieces of at most ``chunk_chars``
        (a single longer line is a piece of its own)."""
        piece_start, cut = start, None
        for m in _NEWLINE.finditer(text, start):
            if m.end() - piece_start > self.chunk_chars and cut is not None:
                yield piece_start, cut
                piece_start = cut
            cut = m.end()
        if len(text) - piece_start > self.chunk_chars and cut is not None and cut > piece_start:
            yield piece_start, cut
            piece_start = cut
        if piece_start < len(text):
            yield piece_start, len(text)

    def segment(self, text: str) -> tuple[str | None, list[tuple[int, int]]]:
        """The header date and the ``(start, end)`` offsets of the statements of ``text``."""
        text = _check_text(text)
        date, body = parse_date_header(text)
        spans: list[tuple[int, int]] = []
        small: list[tuple[int, int]] = []

        def flush() -> None:
            # Lone surrogates (from a bad decode) cannot enter spaCy's string store; U+FFFD
            # has the same length, so offsets are unchanged.
            docs = self.nlp.pipe((_SURROGATE.sub("\ufffd", text[a:b]) for a, b in small),
                                 component_cfg={SEGMENTER_NAME: {"annotate": False}})
            for (a, _), doc in zip(small, docs):
                spans.extend((a + s, a + e) for s, e in doc._.bilatag.statements)
            small.clear()

        for a, b in self._pieces(text, body):
            if b - a > self.chunk_chars:
                # One line longer than a chunk: the same rules, without building a Doc for it.
                flush()
                seg = find_statements(text[a:b], date_header=False)
                spans.extend((a + s, a + e) for s, e in seg.statements)
            else:
                small.append((a, b))
        flush()
        return date, spans

    # -- tagging --------------------------------------------------------------------------
    def tag(self, text: str) -> TaggedDocument:
        """Tag one document (see :func:`bilatag.tag`)."""
        return next(self._tag_batch([_check_text(text)]))

    def tag_many(self, texts: Iterable[str], batch_size: int = 32,
                 n_process: int = 1) -> Iterator[TaggedDocument]:
        """Tag documents lazily, in order; same results as :meth:`tag` on each.

        ``batch_size`` documents are scored together; ``n_process > 1`` spreads batches over
        worker processes (each loads the model once).
        """
        if batch_size < 1 or n_process < 1:
            raise ValueError("batch_size and n_process must be at least 1")
        batches = _batched((_check_text(t) for t in texts), batch_size)
        if n_process == 1:
            for batch in batches:
                yield from self._tag_batch(batch)
            return
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                          else "spawn")
        with ctx.Pool(n_process, initializer=_init_worker, initargs=(self,)) as pool:
            for docs in pool.imap(_worker_tag, batches):
                for doc in docs:
                    if doc.statements and doc.statements[0]._explanations is not None:
                        doc.statements[0]._explanations.attach(self.model)
                    yield doc

    def _tag_batch(self, texts: list[str]) -> Iterator[TaggedDocument]:
        segmented = [self.segment(t) for t in texts]
        contexts = []
        for text, (_, spans) in zip(texts, segmented):
            contexts.extend(contexts_for_document(text, spans))
        proba = self.model.predict_proba(contexts)
        decided = self.model.decide(proba)
        topics = [tuple(t for t, v in zip(TOPIC_IDS, row) if v) for row in decided.tolist()]
        scores = [dict(zip(TOPIC_IDS, row)) for row in proba.tolist()]
        explanations = (Explanations(self.model, [(t, spans) for t, (_, spans) in zip(texts, segmented)])
                        if self.explain else None)
        k = 0
        for text, (date, spans) in zip(texts, segmented):
            statements = []
            for start, end in spans:
                statements.append(Statement(start, end, topics[k], scores[k], text, explanations, k))
                k += 1
            yield TaggedDocument(text, date, statements)


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER: Tagger | None = None


def _init_worker(tagger: Tagger) -> None:
    global _WORKER
    _WORKER = tagger


def _worker_tag(texts: list[str]) -> list[TaggedDocument]:
    assert _WORKER is not None
    return list(_WORKER._tag_batch(texts))


def load(model: str | Path | None = None, *, explain: bool = True) -> Tagger:
    """A :class:`Tagger` with the model in folder ``model`` (default: the shipped model).

    Raises :class:`~bilatag.ModelError` when the model is missing, corrupted or does not
    compute in this environment as it did when trained. Load only models you trust: a
    model file is a pickle.
    """
    classifier, manifest = load_model(model)
    return Tagger(classifier, manifest, explain=explain)


_DEFAULT: Tagger | None = None
_LOCK = threading.Lock()


def _default() -> Tagger:
    global _DEFAULT
    if _DEFAULT is None:
        with _LOCK:
            if _DEFAULT is None:
                _DEFAULT = load()
    return _DEFAULT


def tag(text: str) -> TaggedDocument:
    """Segment ``text`` into statements and tag each with its topics (the shipped model).

    Raises ``TypeError`` unless ``text`` is a ``str``. Whitespace-only text gives no statements.
    """
    return _default().tag(text)


def tag_many(texts: Iterable[str], batch_size: int = 32, n_process: int = 1
             ) -> Iterator[TaggedDocument]:
    """Tag many documents lazily, in order; same results as :func:`tag` on each."""
    return _default().tag_many(texts, batch_size=batch_size, n_process=n_process)

