"""Builders of the two architectures of docs/design.md section 3.

Pure functions from parameters to a validated :class:`~analogam.model.Model`; the math
itself lives in :mod:`analogam.model`.
"""

from __future__ import annotations

import numpy as np

from .network import Coupling, Decoder, Group, Model


def build_denseam(
    memories: np.ndarray,
    *,
    beta: float,
    tau_v: float = 1.0,
    tau_h: float = 0.1,
    readout_time: float = 12.0,
    visible_bias: np.ndarray | None = None,
    hidden_bias: np.ndarray | None = None,
    hidden_activation: str = "softmax",
    visible_activation: str = "identity",
    name: str = "denseam",
    task: str = "none",
    classes: tuple[str, ...] = (),
) -> Model:
    """Two-group Dense Associative Memory with the rows of ``memories`` (K x N) as the
    stored patterns (``classes``: a classifier's class names, see :class:`Model`)::

        tau_v dv/dt = xi^T f(h) + a - v,     tau_h dh/dt = xi g(v) + b - h

    With the default hidden bias ``b_mu = -1/2 |xi_mu|^2``, identity visible units and
    softmax memories, ``f = softmax(-beta/2 |xi_mu - v|^2)``: the memories attract.
    """
    xi = np.asarray(memories, dtype=float)
    K, N = xi.shape
    a = np.zeros(N) if visible_bias is None else visible_bias
    b = -0.5 * np.sum(xi * xi, axis=1) if hidden_bias is None else hidden_bias
    return Model(
        name=name,
        groups=(
            Group("v", N, visible_activation, tau_v, a),
            Group("h", K, hidden_activation, tau_h, b, param=beta),
        ),
        couplings=(Coupling("xi", "h", "v", xi),),
        readout_time=readout_time,
        task=task,
        classes=classes,
    )


def build_energy_transformer(
    embedding: np.ndarray,
    memories: np.ndarray,
    *,
    context: int,
    visible_bias: np.ndarray,
    attention_bias: np.ndarray,
    memory_bias: np.ndarray,
    decoder_weights: np.ndarray,
    decoder_bias: np.ndarray,
    beta: float = 0.1,
    tau_v: float = 0.1,
    tau_h: float = 0.01,
    readout_time: float = 1.0,
    memory_activation: str = "relu",
    memory_param: float = 1.0,
    positions: np.ndarray | None = None,
    vocabulary: str = "",
    name: str = "energy-transformer",
    task: str = "none",
) -> Model:
    """Single-head causal Energy Transformer (docs/design.md section 3).

    Visible v (D, identity); ``context`` attention units (softmax, beta) whose weight
    rows are the embeddings (vocab x D table) of the context tokens; M memory units
    (ReLU by default) with weights ``memories`` (M x D); linear decoder on v. Hidden
    units start at their targets ``xi v + bias`` and v at 0. With ``positions``
    (context x D), attention unit l holding token t has the row
    ``positions[l] + embedding[t]``; ``vocabulary`` names the tokens' symbols.
    """
    E = np.asarray(embedding, dtype=float)
    H = np.asarray(memories, dtype=float)
    D = E.shape[1]
    source = "token"
    if positions is not None:
        E, source = np.vstack([np.asarray(positions, dtype=float), E]), "position-token"
    return Model(
        name=name,
        groups=(
            Group("v", D, "identity", tau_v, visible_bias),
            Group("attn", int(context), "softmax", tau_h, attention_bias, param=beta,
                  init="target"),
            Group("hopf", H.shape[0], memory_activation, tau_h, memory_bias,
                  param=memory_param, init="target"),
        ),
        couplings=(
            Coupling("attn", "attn", "v", E, source=source),
            Coupling("hopf", "hopf", "v", H),
        ),
        readout_time=readout_time,
        task=task,
        decoder=Decoder("v", decoder_weights, decoder_bias),
        vocabulary=vocabulary,
    )


def random_denseam(hidden: int, visible: int = 32, *, seed: int = 0, beta: float = 10.0
                   ) -> Model:
    """A DenseAM storing ``hidden`` random 0/1 patterns of ``visible`` bits (identity
    visible units, softmax memories, tau_v = 1, tau_h = 0.1): the model-size scan of
    the settling and energy studies."""
    rng = np.random.default_rng([seed, hidden, visible])
    xi = rng.integers(0, 2, (hidden, visible)).astype(float)
    return build_denseam(xi, beta=beta, tau_v=1.0, tau_h=0.1, readout_time=12.0,
                         name=f"denseam_{hidden}x{visible}")
