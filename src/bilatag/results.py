"""Result types: :class:`Statement` and :class:`TaggedDocument`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .model import Evidence, Explanations
from .topics import TOPIC_IDS

__all__ = ["Statement", "TaggedDocument", "Evidence"]


@dataclass(frozen=True)
class Statement:
    """One statement of a document.

    ``text`` is ``document.text[start:end]``; ``topics`` the topic ids it carries (hierarchy
    closed, canonical order); ``scores`` a probability in [0, 1] for each of the six topics;
    ``evidence`` maps each topic of ``topics`` to the phrases that pushed it most.
    """

    start: int
    end: int
    topics: tuple[str, ...]
    scores: dict[str, float]
    _source: str = field(default="", repr=False, compare=False)
    _explanations: Explanations | None = field(default=None, repr=False, compare=False)
    _index: int = field(default=0, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The statement's text, exactly as in the input."""
        return self._source[self.start:self.end]

    @property
    def evidence(self) -> dict[str, tuple[Evidence, ...]]:
        """For each topic of the statement, up to three phrases that pushed it most.

        Computed on first access for the batch of documents tagged together (explanations cost
        about as much as tagging), then kept. Empty when the tagger was loaded with ``explain=False``.
        """
        if self._explanations is None:
            return {}
        return self._explanations.of(self._index)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict of the statement."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "topics": list(self.topics),
            "scores": {t: round(self.scores[t], 4) for t in TOPIC_IDS},
            "evidence": {t: [{"start": e.start, "end": e.end, "text": e.text, "weight": e.weight,
                              "source": e.source} for e in evs]
                         for t, evs in self.evidence.items()},
        }


@dataclass(frozen=True)
class TaggedDocument:
    """A tagged text: the input unchanged, its header date and its statements in text order."""

    text: str
    date: str | None
    statements: list[Statement]

    @property
    def topic_counts(self) -> dict[str, int]:
        """Number of statements carrying each topic (every topic id present, zeros included)."""
        counts = Counter(t for s in self.statements for t in s.topics)
        return {t: counts.get(t, 0) for t in TOPIC_IDS}

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict of the document (``json.dumps`` works on it)."""
        return {
            "text": self.text,
            "date": self.date,
            "topic_counts": self.topic_counts,
            "statements": [s.to_dict() for s in self.statements],
        }
