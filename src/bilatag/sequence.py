"""A bidirectional GRU over the statements of a document, in NumPy.

The context stage of :mod:`bilatag.model` reads a fixed window around each statement. This
model reads the whole passage instead: each statement is a step of a sequence (its text
scores, its context cues, its carry probability, whether a line break precedes it), a
recurrent network runs over the document forwards and backwards, and each step's six outputs
are the topic probabilities of that statement given everything before and after it. Its gates
learn how long a subject lasts and where it stops, which a window cannot.

Architecture (Cho et al., 2014, in PyTorch's convention)::

    a = relu(x W_in + b_in)                      # projection, dropout in training
    h_fwd, h_bwd = GRU over a, forwards and backwards
    logits = [h_fwd, h_bwd, a] W_out + b_out     # dropout on h in training

Training is full backpropagation through time with Adam (L2 weight decay, fixed seed), written
here so that the library needs no deep-learning framework to train or to run; about 15 s for the
24,000 statements of the corpus on one thread (``TopicClassifier.fit`` runs it on one, so the
bits do not depend on the machine's cores).
Inference applies the weights with row-wise products, so a document's scores do not depend on
the other documents of its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator

__all__ = ["SequenceModel"]

log = logging.getLogger(__name__)

_INFERENCE_BATCH = 64  # sequences run together at inference


def _rowwise(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w`` over the last axis without BLAS: a row's result does not depend on the others
    (inference)."""
    return np.einsum("...j,jk->...k", x, w)


def _contract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over batch and steps of outer products: ``(B, T, j), (B, T, k) -> (j, k)``."""
    return np.tensordot(a, b, axes=([0, 1], [0, 1]))


def _pad(sequences: Sequence[np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of rows into ``(B, T, width)`` with zeros after each end, and the mask."""
    steps = max(len(s) for s in sequences)
    out = np.zeros((len(sequences), steps, width))
    mask = np.zeros((len(sequences), steps))
    for b, s in enumerate(sequences):
        out[b, :len(s)] = s
        mask[b, :len(s)] = 1.0
    return out, mask


class SequenceModel(BaseEstimator):
    """Multi-label bidirectional GRU over sequences of dense step inputs.

    ``fit(Z, Y)`` takes a list of sequences: ``Z[i]`` of shape ``(T_i, d)``, ``Y[i]`` of shape
    ``(T_i, k)`` in {0, 1}; ``predict_proba(Z)`` returns a list of ``(T_i, k)`` probabilities.

    Parameters
    ----------
    hidden : units of each direction of the GRU.
    projection : units of the input projection (rectified).
    epochs, batch_size, learning_rate, weight_decay : Adam's schedule; the weight decay is an
        L2 penalty added to the gradient of every parameter.
    dropout : dropout rate on the projection and on the GRU outputs, in training.
    random_state : seed of the initial weights, the batch order and the dropout masks.
    """

    def __init__(self, hidden: int = 48, projection: int = 64, epochs: int = 30,
                 batch_size: int = 32, learning_rate: float = 3e-3, weight_decay: float = 1e-4,
                 dropout: float = 0.2, random_state: int = 0) -> None:
        self.hidden = hidden
        self.projection = projection
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.random_state = random_state

    # -- parameters ---------------------------------------------------------------------------
    def _init(self, d: int, k: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        H, P = self.hidden, self.projection

        def uniform(bound: float, *shape: int) -> np.ndarray:
            return rng.uniform(-bound, bound, size=shape)

        g = 1 / np.sqrt(H)
        params = {"W_in": uniform(1 / np.sqrt(d), d, P), "b_in": uniform(1 / np.sqrt(d), P)}
        for direction in ("f", "b"):
            params[f"Wx_{direction}"] = uniform(g, P, 3 * H)
            params[f"bx_{direction}"] = uniform(g, 3 * H)
            params[f"Wh_{direction}"] = uniform(g, H, 3 * H)
            params[f"bh_{direction}"] = uniform(g, 3 * H)
        fan = 2 * H + P
        params["W_out"] = uniform(1 / np.sqrt(fan), fan, k)
        params["b_out"] = uniform(1 / np.sqrt(fan), k)
        return params

    # -- forward ------------------------------------------------------------------------------
    def _gru(self, gx: np.ndarray, mask: np.ndarray, Wh: np.ndarray, bh: np.ndarray,
             reverse: bool, keep: bool, mm) -> tuple[np.ndarray, list | None]:
        """Run one direction over precomputed input gates ``gx`` (B, T, 3H); states (B, T, H).

        A padded step's state is zero, so the backward direction starts each sequence at its
        own last step. With ``keep``, the per-step values backpropagation needs.
        """
        B, T, _ = gx.shape
        H = self.hidden
        states = np.zeros((B, T, H))
        h = np.zeros((B, H))
        cache = [] if keep else None
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            gh = mm(h, Wh) + bh
            r = expit(gx[:, t, :H] + gh[:, :H])
            z = expit(gx[:, t, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, t, 2 * H:] + r * gh[:, 2 * H:])
            new = ((1 - z) * n + z * h) * mask[:, t, None]
            if keep:
                cache.append((t, h, r, z, n, gh[:, 2 * H:]))
            states[:, t] = h = new
        return states, cache

    def _forward(self, params: dict, x: np.ndarray, mask: np.ndarray,
                 drops: tuple[np.ndarray, ...] | None = None, keep: bool = False, mm=np.matmul):
        """Logits ``(B, T, k)`` and what backpropagation needs. ``mm`` multiplies by a weight
        matrix: BLAS in training, :func:`_rowwise` at inference."""
        a = mm(x, params["W_in"]) + params["b_in"]
        proj = np.maximum(a, 0.0)
        if drops is not None:
            proj = proj * drops[0]
        hf, cache_f = self._gru(mm(proj, params["Wx_f"]) + params["bx_f"], mask,
                                params["Wh_f"], params["bh_f"], False, keep, mm)
        hb, cache_b = self._gru(mm(proj, params["Wx_b"]) + params["bx_b"], mask,
                                params["Wh_b"], params["bh_b"], True, keep, mm)
        if drops is not None:
            hf, hb = hf * drops[1], hb * drops[2]
        joined = np.concatenate([hf, hb, proj], axis=-1)
        logits = mm(joined, params["W_out"]) + params["b_out"]
        return logits, (a, proj, joined, cache_f, cache_b)

    # -- backward -----------------------------------------------------------------------------
    def _gru_backward(self, d_states: np.ndarray, cache: list, Wh: np.ndarray, mask: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradients of one direction: w.r.t. its input gates (B, T, 3H), ``Wh`` and ``bh``."""
        H = self.hidden
        d_gx = np.zeros(d_states.shape[:2] + (3 * H,))
        d_Wh = np.zeros_like(Wh)
        d_bh = np.zeros(3 * H)
        carry = np.zeros((d_states.shape[0], H))
        for t, h, r, z, n, gh_n in reversed(cache):  # last processed step first
            dh = (d_states[:, t] + carry) * mask[:, t, None]
            dn = dh * (1 - z)
            dz = dh * (h - n)
            dn_pre = dn * (1 - n * n)
            dr_pre = dn_pre * gh_n * r * (1 - r)
            dz_pre = dz * z * (1 - z)
            d_gx[:, t] = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
            d_gh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)
            d_Wh += h.T @ d_gh
            d_bh += d_gh.sum(axis=0)
            carry = dh * z + d_gh @ Wh.T
        return d_gx, d_Wh, d_bh

    def _gradients(self, params: dict, x: np.ndarray, y: np.ndarray, mask: np.ndarray,
                   drops: tuple[np.ndarray, ...] | None) -> tuple[float, dict[str, np.ndarray]]:
        """Mean binary cross-entropy over the real steps and outputs, and its gradients."""
        logits, (a, proj, joined, cache_f, cache_b) = self._forward(params, x, mask, drops, keep=True)
        H = self.hidden
        count = mask.sum() * y.shape[-1]
        m = mask[..., None]
        loss = float((m * (np.logaddexp(0, logits) - y * logits)).sum() / count)
        d_logits = (expit(logits) - y) * m / count
        grads = {"W_out": _contract(joined, d_logits), "b_out": d_logits.sum(axis=(0, 1))}
        d_joined = d_logits @ params["W_out"].T
        d_hf, d_hb, d_proj = d_joined[..., :H], d_joined[..., H:2 * H], d_joined[..., 2 * H:].copy()
        if drops is not None:
            d_hf, d_hb = d_hf * drops[1], d_hb * drops[2]
        for direction, d_states, cache in (("f", d_hf, cache_f), ("b", d_hb, cache_b)):
            d_gx, grads[f"Wh_{direction}"], grads[f"bh_{direction}"] = self._gru_backward(
                d_states, cache, params[f"Wh_{direction}"], mask)
            grads[f"Wx_{direction}"] = _contract(proj, d_gx)
            grads[f"bx_{direction}"] = d_gx.sum(axis=(0, 1))
            d_proj += d_gx @ params[f"Wx_{direction}"].T
        if drops is not None:
            d_proj = d_proj * drops[0]
        d_a = d_proj * (a > 0)
        grads["W_in"] = _contract(x, d_a)
        grads["b_in"] = d_a.sum(axis=(0, 1))
        return loss, grads

    # -- scikit-learn API ---------------------------------------------------------------------
    def fit(self, Z: Sequence[np.ndarray], Y: Sequence[np.ndarray]) -> SequenceModel:
        """Train on sequences ``Z`` (each ``(T_i, d)``) and targets ``Y``; returns self."""
        if len(Z) != len(Y) or not len(Z):
            raise ValueError("Z and Y must be non-empty lists of the same length")
        Z = [np.asarray(z, dtype=float) for z in Z]
        Y = [np.asarray(t, dtype=float) for t in Y]
        d, k = Z[0].shape[1], Y[0].shape[1]
        rng = np.random.default_rng(self.random_state)
        params = self._init(d, k, rng)
        moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
        beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
        keep = 1.0 - self.dropout
        for epoch in range(self.epochs):
            order = rng.permutation(len(Z))
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                x, mask = _pad([Z[i] for i in batch], d)
                y, _ = _pad([Y[i] for i in batch], k)
                B, T = mask.shape
                drops = None
                if self.dropout > 0:
                    drops = tuple((rng.random((B, T, w)) < keep) / keep
                                  for w in (self.projection, self.hidden, self.hidden))
                loss, grads = self._gradients(params, x, y, mask, drops)
                total += loss * len(batch)
                step += 1
                for name, g in grads.items():
                    g = g + self.weight_decay * params[name]
                    m1, m2 = moments[name]
                    m1 *= beta1
                    m1 += (1 - beta1) * g
                    m2 *= beta2
                    m2 += (1 - beta2) * g * g
                    m_hat = m1 / (1 - beta1 ** step)
                    v_hat = m2 / (1 - beta2 ** step)
                    params[name] -= self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)
            log.debug("sequence model: epoch %d, loss %.4f", epoch + 1, total / len(Z))
        self.params_ = params
        self.n_features_in_ = d
        self.n_outputs_ = k
        return self

    def predict_proba(self, Z: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Probabilities of each step of each sequence, a list of ``(T_i, k)`` arrays.

        Sequences of similar lengths are run together (padding costs as much as real steps);
        the results do not depend on the grouping.
        """
        Z = [np.asarray(z, dtype=float).reshape(-1, self.n_features_in_) for z in Z]
        out: list[np.ndarray] = [np.zeros((len(z), self.n_outputs_)) for z in Z]
        order = sorted((i for i, z in enumerate(Z) if len(z)), key=lambda i: len(Z[i]))
        for start in range(0, len(order), _INFERENCE_BATCH):
            group = order[start:start + _INFERENCE_BATCH]
            x, mask = _pad([Z[i] for i in group], self.n_features_in_)
            p = expit(self._forward(self.params_, x, mask, mm=_rowwise)[0])
            for b, i in enumerate(group):
                out[i] = p[b, :len(Z[i])]
        return out
