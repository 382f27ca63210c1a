"""Shared fixtures: small random models of every activation, the example models."""

from __future__ import annotations

import numpy as np
import pytest

from analogam.model import Model, Stimulus, System, bind
from analogam.model.architectures import build_denseam, build_energy_transformer
from analogam.tasks import build_hamming_model, build_xor_model


def random_et(rng: np.random.Generator, D=6, L=4, M=5, memory_activation="relu",
              scale=0.3) -> Model:
    return build_energy_transformer(
        rng.uniform(0, 1, (2, D)), rng.uniform(0, scale, (M, D)), context=L,
        visible_bias=rng.normal(0, 0.3, D), attention_bias=rng.normal(0, 0.3, L),
        memory_bias=rng.normal(0, 0.3, M), decoder_weights=rng.normal(0, 1, (2, D)),
        decoder_bias=rng.normal(0, 0.1, 2), memory_activation=memory_activation,
        memory_param=2.0, name="et",
    )


def et_system(model: Model, rng: np.random.Generator, B=3) -> System:
    L = model.group("attn").size
    return bind(model, Stimulus(B, tokens=rng.integers(0, 2, (B, L))))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def xor_model() -> Model:
    return build_xor_model()


@pytest.fixture(scope="session")
def hamming_model() -> Model:
    return build_hamming_model()


def denseam_with(hidden: str, visible: str, rng: np.random.Generator) -> Model:
    xi = rng.uniform(-0.5, 0.5, (5, 4))
    return build_denseam(xi, beta=3.0, visible_activation=visible, hidden_activation=hidden,
                         visible_bias=rng.normal(0, 0.2, 4), hidden_bias=rng.normal(0, 0.2, 5))


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden/*.cir from the current compiler (on purpose)")
