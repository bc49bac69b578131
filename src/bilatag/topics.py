"""The six topics of the annotation guideline (LABELS.md) and their hierarchy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["Topic", "TOPICS", "TOPIC_IDS", "PARENT", "close_hierarchy", "close_matrix", "canonical"]


@dataclass(frozen=True)
class Topic:
    """One topic: its id, its French label and its parent topic id (or None)."""

    id: str
    label: str
    parent: str | None = None


#: The topics in canonical order (each parent before its children, as in LABELS.md).
TOPICS: tuple[Topic, ...] = (
    Topic("migration", "Migrations"),
    Topic("oqtf", "Obligations de quitter le territoire et éloignements", "migration"),
    Topic("unaccompanied_minors", "Mineurs non accompagnés", "migration"),
    Topic("security", "Sécurité et coopération policière"),
    Topic("counter_terrorism", "Lutte contre le terrorisme", "security"),
    Topic("drugs", "Drogues et trafic de stupéfiants", "security"),
)

#: Topic ids in canonical order.
TOPIC_IDS: tuple[str, ...] = tuple(t.id for t in TOPICS)

#: Child topic id -> parent topic id.
PARENT: dict[str, str] = {t.id: t.parent for t in TOPICS if t.parent}

_ORDER = {tid: i for i, tid in enumerate(TOPIC_IDS)}


def canonical(topics: Iterable[str]) -> tuple[str, ...]:
    """Return the distinct known topic ids of ``topics`` in canonical order.

    Raises ``ValueError`` on an unknown id.
    """
    found = set(topics)
    unknown = found - _ORDER.keys()
    if unknown:
        raise ValueError(f"unknown topic id(s) {sorted(unknown)}; known: {list(TOPIC_IDS)}")
    return tuple(sorted(found, key=_ORDER.__getitem__))


def close_hierarchy(topics: Iterable[str]) -> tuple[str, ...]:
    """Add the parent of every child topic (LABELS.md rule 1), in canonical order."""
    found = set(topics)
    found |= {PARENT[t] for t in found if t in PARENT}
    return canonical(found)


def close_matrix(decisions: np.ndarray) -> np.ndarray:
    """Close a binary ``(n, 6)`` topic matrix (columns in :data:`TOPIC_IDS` order) in place."""
    for child, parent in PARENT.items():
        decisions[:, _ORDER[parent]] |= decisions[:, _ORDER[child]]
    return decisions
