"""The spaCy side of segmentation: the ``bilatag_segmenter`` component and bilatag's pipeline.

The component works in any French pipeline (``nlp.add_pipe("bilatag_segmenter")``): it reads
``doc.text``, applies the rules of :mod:`bilatag.boundaries`, and writes

- ``doc.spans[spans_key]``: one span per statement;
- ``doc._.bilatag``: a :class:`~bilatag.boundaries.Segmentation` with the exact character
  offsets (a boundary can fall inside a token of another tokenizer, in scraped text such as
  ``Alger.Le``: the span then covers the whole token, the offsets stay exact);
- sentence starts (``doc.sents``), unless a parser has already set them.

bilatag's own pipeline (:func:`make_nlp`) pairs it with :class:`StatementTokenizer`, a small
tokenizer whose tokens never straddle a statement boundary and which loads in milliseconds
(spaCy's full French tokenizer takes over a second to build its exception tables).
"""

from __future__ import annotations

import re

import numpy
from spacy.attrs import DEP, IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from .boundaries import Segmentation, find_statements

__all__ = ["StatementSegmenter", "StatementTokenizer", "make_nlp", "SEGMENTER_NAME"]

SEGMENTER_NAME = "bilatag_segmenter"

if not Doc.has_extension("bilatag"):
    Doc.set_extension("bilatag", default=None)

_TEXT_KEY = "bilatag_text"
# Words (with NFD combining marks), whitespace runs, or any other single character.
_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+|\s+|.", re.S)


class StatementTokenizer:
    """Split text into words, single punctuation marks and whitespace, losslessly."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        for m in _TOKEN.finditer(text):
            tok = m.group()
            if tok[0].isspace():
                if words and not spaces[-1] and not words[-1][0].isspace() and tok[0] == " ":
                    spaces[-1] = True  # one plain space after a token is its trailing space
                    tok = tok[1:]
                    if not tok:
                        continue
            words.append(tok)
            spaces.append(False)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data[_TEXT_KEY] = text  # spares the segmenter Doc.text, which walks the tokens
        return doc

    def pipe(self, texts, batch_size: int = 1000):  # noqa: ANN001, ANN201 - spaCy's protocol
        for text in texts:
            yield self(text)

    # spaCy calls these when a pipeline is saved or loaded; the tokenizer has no state.
    def to_bytes(self, **kwargs: object) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs: object) -> StatementTokenizer:
        return self

    def to_disk(self, path: object, **kwargs: object) -> None:
        return None

    def from_disk(self, path: object, **kwargs: object) -> StatementTokenizer:
        return self


class StatementSegmenter:
    """spaCy component that marks the statements of a Doc (see the module docstring)."""

    def __init__(self, name: str = SEGMENTER_NAME, *, spans_key: str = "statements",
                 date_header: bool = True) -> None:
        self.name = name
        self.spans_key = spans_key
        self.date_header = date_header

    def __call__(self, doc: Doc, annotate: bool = True) -> Doc:
        """Segment ``doc``. ``annotate=False`` (``component_cfg``) skips the spans and sentence
        starts and sets only ``doc._.bilatag``, for callers that need just the offsets."""
        text = doc.user_data.get(_TEXT_KEY)
        if not isinstance(text, str) or len(text) != (doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0):
            text = doc.text
        seg = find_statements(text, date_header=self.date_header)
        doc._.bilatag = seg
        if annotate:
            self._write_spans(doc, seg)
        return doc

    def _write_spans(self, doc: Doc, seg: Segmentation) -> None:
        spans = []
        if len(doc):
            # Token i covers [idx[i], idx[i] + len): locate each statement's first and last token.
            idx = doc.to_array([IDX]).astype(numpy.int64).ravel()
            for start, end in seg.statements:
                first = int(numpy.searchsorted(idx, start, side="right")) - 1
                last = int(numpy.searchsorted(idx, end, side="left"))
                spans.append(Span(doc, max(first, 0), max(last, first + 1)))
        doc.spans[self.spans_key] = spans
        if len(doc) == 0:
            return
        # (Doc.has_annotation walks the tokens in Python; to_array does not.)
        annotated = doc.to_array([DEP, SENT_START])
        if annotated[:, 0].any() or annotated[1:, 1].any():
            return  # a parser or another component owns the sentence boundaries
        sent_starts = numpy.full((len(doc), 1), -1, dtype="int64").astype("uint64")  # -1: not a start
        sent_starts[0, 0] = 1
        for span in spans:
            sent_starts[span.start, 0] = 1
        doc.from_array([SENT_START], sent_starts)


@Language.factory(
    SEGMENTER_NAME,
    default_config={"spans_key": "statements", "date_header": True},
)
def make_segmenter(nlp: Language, name: str, spans_key: str, date_header: bool) -> StatementSegmenter:
    """Factory of the ``bilatag_segmenter`` component (``nlp.add_pipe("bilatag_segmenter")``)."""
    return StatementSegmenter(name, spans_key=spans_key, date_header=date_header)


class _French(Language):
    """A French ``Language`` without spaCy's French tokenizer tables (see module docstring)."""

    lang = "fr"


def make_nlp(*, date_header: bool = True) -> Language:
    """bilatag's segmentation pipeline: :class:`StatementTokenizer` + ``bilatag_segmenter``."""
    nlp = _French()
    nlp.tokenizer = StatementTokenizer(nlp.vocab)
    nlp.add_pipe(SEGMENTER_NAME, config={"date_header": date_header})
    return nlp
