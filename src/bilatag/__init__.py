"""bilatag: statement-level topic tagging of French news on bilateral cooperation.

>>> import bilatag
>>> doc = bilatag.tag("date 2024-10 Les deux ministres ont évoqué les passeurs.")
>>> [(s.start, s.end, s.topics) for s in doc.statements]  # doctest: +SKIP

The heavy parts (spaCy, scikit-learn, the model) load on first use, once per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BilatagError, CorpusError, ModelError
from .topics import TOPIC_IDS, TOPICS, Topic

__version__ = "0.1.0"

__all__ = [
    "tag", "tag_many", "load", "Tagger", "TaggedDocument", "Statement", "Evidence",
    "TOPICS", "TOPIC_IDS", "Topic", "BilatagError", "ModelError", "CorpusError", "__version__",
]

if TYPE_CHECKING:
    from .model import Evidence
    from .results import Statement, TaggedDocument
    from .tagger import Tagger, load, tag, tag_many

_LAZY = {
    "tag": "tagger", "tag_many": "tagger", "load": "tagger", "Tagger": "tagger",
    "TaggedDocument": "results", "Statement": "results", "Evidence": "model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bilatag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
