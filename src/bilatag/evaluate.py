"""Evaluation of a tagger against gold documents (the corpus format).

End to end, as a user sees it: the tagger segments the gold text itself. Statement boundaries are
scored by exact-span precision/recall/F1; topics are scored on the gold statements, each taking
the topics of the predicted statement with the same span (or, failing that, the one that overlaps
it most), so a segmentation slip costs topic points too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import GoldDocument
from .tagger import Tagger
from .topics import TOPIC_IDS

__all__ = ["TopicScores", "Evaluation", "evaluate", "evaluate_scores", "topic_scores",
           "false_alarm_rate", "calibration", "format_report"]


@dataclass(frozen=True)
class TopicScores:
    """Precision, recall and F1 of one topic, and its number of gold statements."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    """Scores of a tagger on gold documents (see :func:`evaluate`). The span scores are ``None``
    when the topics were scored on the gold statements without segmenting
    (:func:`evaluate_scores`)."""

    n_documents: int
    n_statements: int
    span_precision: float | None
    span_recall: float | None
    span_f1: float | None
    topics: dict[str, TopicScores]
    micro_f1: float
    macro_f1: float
    exact_set_accuracy: float
    false_alarm_rate: float
    calibration_error: float
    brier: float
    errors: list[dict[str, object]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable scores (errors left out)."""
        out = asdict(self)
        out.pop("errors")
        return out


def _f1(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0)


def topic_scores(pred: np.ndarray, gold: np.ndarray) -> tuple[dict[str, TopicScores], float, float]:
    """Per-topic scores, micro-F1 and macro-F1 of binary matrices ``(n, 6)``."""
    per = {}
    for k, topic in enumerate(TOPIC_IDS):
        tp = int((pred[:, k] & gold[:, k]).sum())
        p, r, f = _f1(tp, int(pred[:, k].sum()), int(gold[:, k].sum()))
        per[topic] = TopicScores(p, r, f, int(gold[:, k].sum()))
    micro = _f1(int((pred & gold).sum()), int(pred.sum()), int(gold.sum()))[2]
    macro = float(np.mean([s.f1 for s in per.values()]))
    return per, micro, macro


def false_alarm_rate(pred: np.ndarray, gold: np.ndarray) -> float:
    """Share of the statements without gold topic that got at least one topic (binary ``(n, 6)``
    matrices); 0 when every statement has a topic."""
    none = gold.sum(axis=1) == 0
    return float((pred[none].sum(axis=1) > 0).mean()) if none.any() else 0.0


def calibration(scores: np.ndarray, gold: np.ndarray, bins: int = 10) -> tuple[float, float]:
    """Expected calibration error (equal-width bins) and Brier score over all topic scores."""
    s, g = scores.ravel(), gold.ravel().astype(float)
    if not len(s):
        return 0.0, 0.0
    which = np.minimum((s * bins).astype(int), bins - 1)
    ece = sum(abs(s[which == b].mean() - g[which == b].mean()) * (which == b).sum()
              for b in range(bins) if (which == b).any()) / len(s)
    return float(ece), float(np.mean((s - g) ** 2))


def evaluate(tagger: Tagger, docs: Sequence[GoldDocument], n_errors: int = 0) -> Evaluation:
    """Tag the texts of ``docs`` with ``tagger`` and score the result against their gold."""
    tp_spans = n_pred_spans = n_gold_spans = 0
    preds, golds, scores, errors = [], [], [], []
    for doc, tagged in zip(docs, tagger.tag_many(d.text for d in docs)):
        predicted = {(s.start, s.end): s for s in tagged.statements}
        n_pred_spans += len(predicted)
        n_gold_spans += len(doc.statements)
        gold_matrix = doc.label_matrix()
        for i, st in enumerate(doc.statements):
            match = predicted.get((st.start, st.end))
            if match is not None:
                tp_spans += 1
            else:
                overlaps = [(min(st.end, s.end) - max(st.start, s.start), s)
                            for s in tagged.statements if s.start < st.end and st.start < s.end]
                match = max(overlaps, key=lambda o: o[0])[1] if overlaps else None
            row = np.array([int(match is not None and t in match.topics) for t in TOPIC_IDS])
            preds.append(row)
            golds.append(gold_matrix[i])
            scores.append([match.scores[t] if match else 0.0 for t in TOPIC_IDS])
            if (row != gold_matrix[i]).any() and len(errors) < n_errors:
                errors.append({"doc_id": doc.doc_id, "start": st.start, "end": st.end,
                               "text": doc.statement_text(st), "gold": list(st.topics),
                               "predicted": list(match.topics) if match else None})
    pred = np.array(preds, dtype=int).reshape(-1, len(TOPIC_IDS))
    gold = np.array(golds, dtype=int).reshape(-1, len(TOPIC_IDS))
    sp, sr, sf = _f1(tp_spans, n_pred_spans, n_gold_spans)
    return _topic_evaluation(len(docs), pred, gold, np.array(scores).reshape(-1, len(TOPIC_IDS)),
                             (sp, sr, sf), errors)


def evaluate_scores(pred: np.ndarray, gold: np.ndarray, scores: np.ndarray,
                    n_documents: int) -> Evaluation:
    """Scores of topic decisions made on the gold statements (binary ``pred`` and ``gold``,
    probabilities ``scores``, all ``(n, 6)``); no segmentation, so no span scores. For example
    the out-of-fold predictions on dev that ``bilatag train`` chooses the thresholds on."""
    return _topic_evaluation(n_documents, np.asarray(pred, dtype=int), np.asarray(gold, dtype=int),
                             np.asarray(scores, dtype=float), (None, None, None), [])


def _topic_evaluation(n_documents: int, pred: np.ndarray, gold: np.ndarray, scores: np.ndarray,
                      spans: tuple[float | None, float | None, float | None],
                      errors: list[dict[str, object]]) -> Evaluation:
    per, micro, macro = topic_scores(pred, gold)
    ece, brier = calibration(scores, gold)
    return Evaluation(n_documents, len(gold), *spans, per, micro, macro,
                      float((pred == gold).all(axis=1).mean()) if len(gold) else 0.0,
                      false_alarm_rate(pred, gold), ece, brier, errors)


def format_report(ev: Evaluation) -> str:
    """A plain-text report of an :class:`Evaluation`."""
    lines = [f"documents {ev.n_documents}, gold statements {ev.n_statements}"]
    if ev.span_f1 is None:
        lines.append("topics scored on the gold statements (no segmentation)")
    else:
        lines.append(f"statement spans (exact): precision {ev.span_precision:.4f}  recall "
                     f"{ev.span_recall:.4f}  F1 {ev.span_f1:.4f}")
    lines += ["", f"{'topic':<22}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}"]
    for topic, s in ev.topics.items():
        lines.append(f"{topic:<22}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}{s.support:>10}")
    lines += [
        "",
        f"micro-F1 {ev.micro_f1:.4f}   macro-F1 {ev.macro_f1:.4f}",
        f"exact topic-set accuracy {ev.exact_set_accuracy:.4f}",
        f"false-alarm rate on statements without topic {ev.false_alarm_rate:.4f}",
        f"calibration: expected calibration error {ev.calibration_error:.4f}, Brier {ev.brier:.4f}",
    ]
    if ev.errors:
        lines += ["", f"first {len(ev.errors)} mistakes:"]
        for e in ev.errors:
            lines.append(f"- {e['doc_id']} {e['start']}..{e['end']} gold {e['gold']} "
                         f"predicted {e['predicted']}: {str(e['text'])[:160]!r}")
    return "\n".join(lines)
