"""Initial models for the trainer: XOR and digits DenseAMs, parity Energy Transformers.

``random`` initialisations draw every parameter from a seeded generator. The parity
``constructed`` initialisation writes a solution into the weights by hand, using the
fact that attention without positional terms sees only the count of ones:

- embeddings: bit 1 -> ``c e_0``, bit 0 -> 0, so the attention output moves v_0 along
  a monotone function of the count k;
- memory j (j = 0..7, tanh with a high gain) reads ``eps v_0`` and switches on when the
  count exceeds j (threshold between the settled v_0 of counts j and j+1), writing
  ``delta`` onto its own visible unit e_(1+j);
- the decoder takes the alternating sum ``sum_j (-1)^j v_(1+j)``, which is 2 delta for
  odd counts and 0 for even ones: a sawtooth, which a near-monotone read-out of the
  count cannot give.

All weights are non-negative (conductances); tanh memories keep the energy bounded
at any weight scale.
"""

from __future__ import annotations

import numpy as np

from ..model import Model, Stimulus, bind, outputs, with_parameters
from ..model.architectures import build_denseam, build_energy_transformer
from ..tasks import DIGITS_CLASSES, DIGITS_PIXELS, PARITY_BITS, digits_rows, digits_split
from .relax import relax

PARITY_D, PARITY_M = 16, 16


def xor_random(seed: int, hidden: int = 8, beta: float = 10.0) -> Model:
    """A 3-visible DenseAM for XOR with ``hidden`` softmax memories drawn uniformly in
    [0.2, 0.8] (non-negative conductances) and hidden biases ``-1/2 |xi_mu|^2``."""
    rng = np.random.default_rng(seed)
    xi = rng.uniform(0.2, 0.8, (hidden, 3))
    return build_denseam(xi, beta=beta, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name="xor_ep", task="xor")


DIGITS_FLOOR = 0.05
"""Smallest initial memory weight: a conductance at 0 has no gradient (w = theta^2)."""


def digits_memories(seed: int, per_class: int = 10, beta: float = 2.0,
                    init: str = "random") -> Model:
    """A DenseAM classifier for the 8x8 digits (:func:`classifier_memories` on the
    training images, intensity / 16): 74 visible units, ``10 per_class`` memories."""
    rows = digits_rows()
    train = digits_split()[0]
    return classifier_memories(seed, rows[train, :DIGITS_PIXELS] / 16, rows[train, -1],
                               DIGITS_CLASSES, per_class, beta=beta, init=init,
                               name="digits", task="digits")


def classifier_memories(seed: int, features: np.ndarray, labels: np.ndarray,
                        n_classes: int, per_class: int, *, beta: float = 2.0,
                        init: str = "random", name: str, task: str,
                        classes: tuple[str, ...] = ()) -> Model:
    """A DenseAM classifier: F clamped feature units (model units 0..1), ``n_classes``
    free label units, ``per_class`` softmax memories per class. ``random``: memory
    features drawn uniformly in [0.05, 0.5], label one-hot; ``constructed``: memory
    ``mu`` of class ``c`` is a seeded random training row of class ``c`` (floored at
    DIGITS_FLOOR) with label ``c`` - a prototype start; EP moves both. A class with
    fewer rows than ``per_class`` repeats them."""
    rng = np.random.default_rng(seed)
    F = features.shape[1]
    xi = np.zeros((n_classes * per_class, F + n_classes))
    for c in range(n_classes):
        sl = slice(c * per_class, (c + 1) * per_class)
        own = np.flatnonzero(labels == c)
        if init == "constructed" and own.size:
            pick = rng.choice(own, per_class, replace=own.size < per_class)
            xi[sl, :F] = features[pick]
        else:
            xi[sl, :F] = rng.uniform(0.05, 0.5, (per_class, F))
        xi[sl, F + c] = 1.0
    xi = np.maximum(xi, DIGITS_FLOOR)
    return build_denseam(xi, beta=beta, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name=name, task=task, classes=classes)


def _parity_et(embedding, memories, memory_bias, dec_w, dec_b, *, gain, beta=0.1,
               attn_bias=None, readout_time=4.0) -> Model:
    D = embedding.shape[1]
    return build_energy_transformer(
        embedding, memories, context=PARITY_BITS, visible_bias=np.zeros(D),
        attention_bias=np.zeros(PARITY_BITS) if attn_bias is None else attn_bias,
        memory_bias=memory_bias, decoder_weights=dec_w, decoder_bias=dec_b, beta=beta,
        tau_v=0.1, tau_h=0.01, readout_time=readout_time, memory_activation="tanh",
        memory_param=gain, name="parity8", task="parity8")


def parity_random(seed: int, D: int = PARITY_D, M: int = PARITY_M, gain: float = 2.0
                  ) -> Model:
    """A parity ET with random non-negative embeddings and memories, tanh memories."""
    rng = np.random.default_rng(seed)
    return _parity_et(rng.uniform(0, 1, (2, D)), rng.uniform(0, 0.3, (M, D)),
                      rng.normal(0, 0.1, M), rng.normal(0, 0.3, (2, D)), np.zeros(2),
                      gain=gain)


def parity_positional(seed: int, D: int = PARITY_D, M: int = 32) -> Model:
    """A parity ET from random initialisation with positional embeddings (the row of
    position l holding bit x is ``pos[l] + tok[x]``), ReLU memories, conductances
    uniform in [0, 0.3], a zero-mean decoder: the start the reference work's character
    model uses, on parity."""
    rng = np.random.default_rng([seed, 8])
    return build_energy_transformer(
        rng.uniform(0, 0.3, (2, D)), rng.uniform(0, 0.3, (M, D)), context=PARITY_BITS,
        positions=rng.uniform(0, 0.3, (PARITY_BITS, D)), visible_bias=np.zeros(D),
        attention_bias=np.zeros(PARITY_BITS), memory_bias=rng.normal(0, 0.1, M),
        decoder_weights=rng.normal(0, 0.3, (2, D)), decoder_bias=np.zeros(2),
        beta=0.1, tau_v=0.1, tau_h=0.01, readout_time=4.0, memory_activation="relu",
        name="parity8", task="parity8")


def _count_states(model: Model) -> np.ndarray:
    """Settled v for the strings 0^(8-k) 1^k, k = 0..8 (attention sees only counts)."""
    bits = (np.arange(PARITY_BITS)[None, :] >= PARITY_BITS - np.arange(PARITY_BITS + 1)[:, None])
    system = bind(model, Stimulus(PARITY_BITS + 1, tokens=bits.astype(int)))
    r = relax(system)
    return outputs(system, r.u)["v"]


def parity_constructed(seed: int, c: float = 8.0, beta: float = 0.01, eps: float = 0.1,
                       delta: float = 0.05, gain: float = 60.0, scale: float = 4.0,
                       spare: float = 0.02, rounds: int = 4) -> Model:
    """The hand-written parity solution described in the module docstring; the spare
    memories (8..15) get small seeded random weights onto the unused visible units
    9..15 and are parked switched off.

    The thresholds are placed self-consistently: memories feed back onto v_0, so the
    settled v_0 of each count is recomputed with the current thresholds ``rounds`` times
    and each threshold put midway between counts j and j+1."""
    rng = np.random.default_rng(seed)
    D, M, K = PARITY_D, PARITY_M, PARITY_BITS
    emb = np.zeros((2, D))
    emb[1, 0] = c
    H = np.zeros((M, D))
    H[K:, 1 + K:] = rng.uniform(0, spare, (M - K, D - 1 - K))  # off the read-out units
    H[:K, 0] = eps
    H[np.arange(K), 1 + np.arange(K)] = delta
    sign = (-1.0) ** np.arange(K)
    dec_w = np.zeros((2, D))
    dec_w[1, 1:1 + K] = scale * sign / delta
    dec_b = np.array([0.0, -scale])
    # Start with thresholds far below every count so all memories begin switched off.
    # Counting memories start below every count (all off); spare ones are parked off
    # (saturated, so they neither respond nor bias EP) until training moves them.
    bias = np.concatenate([np.full(K, -10.0), np.full(M - K, -1.0)])
    model = _parity_et(emb, H, bias, dec_w, dec_b, gain=gain, beta=beta)
    for _ in range(rounds):
        v0 = _count_states(model)[:, 0]
        mid = 0.5 * (v0[:-1] + v0[1:])
        bias = bias.copy()
        bias[:K] = -eps * mid
        model = with_parameters(model, {"group.hopf.bias": bias})
    return model


RECENCY = 1.0


def text_random(seed: int, vocabulary: str, context: int, width: int, memories: int,
                beta: float = 0.1, readout_time: float = 8.0, recency: float = 1.0
                ) -> Model:
    """A positional character Energy Transformer with seeded random weights: token,
    position and memory conductances uniform in [0, 0.3] (the trainer's projection
    then scales them into its contraction bound), ReLU memories, a zero-mean decoder
    of scale 0.1, and attention biases falling by ``recency / beta`` per position back
    from the newest, so attention starts on the last few characters (weights about
    ``exp(-recency k)`` for the k-th newest): a start from which the bigram statistics
    are one step away, the rest learnt."""
    rng = np.random.default_rng([seed, context, width, memories])
    V = len(vocabulary)
    return build_energy_transformer(
        rng.uniform(0, 0.3, (V, width)), rng.uniform(0, 0.3, (memories, width)),
        context=context, positions=rng.uniform(0, 0.3, (context, width)),
        visible_bias=np.zeros(width),
        attention_bias=(np.arange(context) - (context - 1.0)) * recency / beta,
        memory_bias=np.zeros(memories), decoder_weights=rng.normal(0, 0.1, (V, width)),
        decoder_bias=np.zeros(V), beta=beta, tau_v=0.1, tau_h=0.01,
        readout_time=readout_time, memory_activation="relu", vocabulary=vocabulary,
        name=f"text_c{context}_d{width}_m{memories}", task="text")
