"""The character model: positional Energy Transformer, text data, contraction-bounded
EP training, the analog-et importer and its continuous-time check, generation through
ngspice."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from analogam.errors import ModelError, TaskError, WeightsFileError
from analogam.model import (
    Stimulus,
    bind,
    contraction,
    energy,
    energy_gradients,
    force,
    with_parameters,
)
from analogam.model.architectures import build_energy_transformer
from analogam.model.weights import load_model, load_provenance, save_model
from analogam.reference import simulate_ode
from analogam.tasks.text import (
    BLOCK,
    DEFAULT_CORPUS,
    load_corpus,
    ngram_baselines,
    text_task,
)
from analogam.train import config_for
from analogam.train.gradients import cosine, ep_gradient, implicit_gradient
from analogam.train.loop import project, train
from analogam.train.loss import Loss
from analogam.train.params import to_theta
from analogam.train.relax import relax

VOCAB = "abcde"


def positional(rng, L=4, D=6, M=5, scale=0.3, vocab=VOCAB, task="none"):
    V = len(vocab) or 5
    return build_energy_transformer(
        rng.uniform(0, scale, (V, D)), rng.uniform(0, scale, (M, D)), context=L,
        positions=rng.uniform(0, scale, (L, D)), visible_bias=rng.normal(0, 0.2, D),
        attention_bias=rng.normal(0, 1, L), memory_bias=rng.normal(0, 0.2, M),
        decoder_weights=rng.normal(0, 1, (V, D)), decoder_bias=np.zeros(V),
        vocabulary=vocab, task=task, name="pos-et")


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    words = ["the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran\n"]
    text = "".join(rng.choice(words, 3000))
    path = tmp_path_factory.mktemp("text") / "tiny.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_attention_row_is_position_plus_token(rng):
    m = positional(rng)
    tok = rng.integers(0, 5, (3, 4))
    s = bind(m, Stimulus(3, tokens=tok))
    W = m.couplings[0].weights
    for b in range(3):
        for lpos in range(4):
            np.testing.assert_array_equal(s.weights[0][b, lpos], W[lpos] + W[4 + tok[b, lpos]])


def test_positional_energy_gradient_matches_finite_differences(rng):
    m = positional(rng)
    tok = rng.integers(0, 5, (3, 4))
    s = bind(m, Stimulus(3, tokens=tok))
    u = s.u0 + rng.normal(0, 0.2, s.u0.shape)
    g = energy_gradients(s, u, np.ones(3))["coupling.attn.weights"]
    W = m.couplings[0].weights
    for idx in [(0, 1), (3, 5), (4 + int(tok[0, 0]), 2), (4 + 4, 0)]:
        Wp = W.copy()
        Wp[idx] += 1e-6
        sp = bind(with_parameters(m, {"coupling.attn.weights": Wp}), Stimulus(3, tokens=tok))
        fd = (energy(sp, u).sum() - energy(s, u).sum()) / 1e-6
        assert g[idx] == pytest.approx(fd, rel=1e-4, abs=1e-8)


def test_contraction_gain_bounds_the_visible_maps_jacobian(rng):
    """The gain bounds |dF/dv| of F(v) = bias + sum_c W_c^T g_c(W_c v + b_c), computed
    here by finite differences of the model's own drives."""
    m = positional(rng, scale=0.5)
    s = bind(m, Stimulus(2, tokens=rng.integers(0, 5, (2, 4))))
    gain = contraction(s).gain
    sv = m.slices["v"]
    for b in range(2):
        def F(v, b=b):
            u = s.u0[b:b + 1].copy()
            u[0, sv] = v
            for _ in range(2):   # hidden units at their drives given v
                d = force(s.sample(b), u) * m.tau + u
                u[0, m.slices["attn"]] = d[0, m.slices["attn"]]
                u[0, m.slices["hopf"]] = d[0, m.slices["hopf"]]
            return (force(s.sample(b), u) * m.tau + u)[0, sv]
        for _ in range(5):
            v = rng.normal(0, 1, sv.stop - sv.start)
            J = np.column_stack([(F(v + 1e-6 * e) - F(v - 1e-6 * e)) / 2e-6
                                 for e in np.eye(v.size)])
            assert np.linalg.norm(J, 2) <= gain[b] + 1e-6


def test_projection_holds_the_bound_and_the_map_finds_the_odes_fixed_point(rng, text_file):
    cfg = config_for("text", text=str(text_file), context=4, width=6, memories=5,
                     windows=64)
    m = positional(rng, scale=2.0, vocab=load_corpus(text_file, 4).vocabulary, task="text")
    rows = load_corpus(text_file, 4).sample("train", 64, 0)
    s = bind(m, Stimulus(64, tokens=rows[:, :4]))
    assert contraction(s).gain.max() > 1.0           # the start breaks the bound
    _, m = project(m, to_theta(m), rows, cfg)
    s = bind(m, Stimulus(64, tokens=rows[:, :4]))
    assert contraction(s).gain.max() <= 0.9 + 1e-9
    r = relax(s, tol=1e-10, contracting=True, attempts=0)
    assert r.converged.all()
    ode = simulate_ode(s, t_end=60.0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.u, ode.u_final, atol=1e-7)


def test_ep_matches_the_implicit_gradient_on_a_contracting_text_model(rng, text_file):
    cfg = config_for("text", text=str(text_file), context=4, width=6, memories=5)
    corpus = load_corpus(text_file, 4)
    m = positional(rng, vocab=corpus.vocabulary, task="text")
    rows = corpus.sample("train", 32, 0)
    _, m = project(m, to_theta(m), rows, cfg)
    s = bind(m, Stimulus(32, tokens=rows[:, :4]))
    free = relax(s, tol=1e-10, contracting=True)
    loss = Loss("cross_entropy", "v", rows[:, -1])
    ep = ep_gradient(s, free, loss, 1e-3, tol=1e-10, contracting=True)
    assert cosine(ep.grads, implicit_gradient(s, free, loss).grads) > 0.9999


def test_corpus_split_is_seeded_and_disjoint(text_file):
    c = load_corpus(text_file, 8)
    again = load_corpus(text_file, 8)
    np.testing.assert_array_equal(c.heldout, again.heldout)
    assert c.vocabulary == "".join(sorted(set(text_file.read_text())))
    # every window (context and next) lies inside one block of its own side
    for starts in (c.train, c.heldout):
        assert np.all(starts // BLOCK == (starts + 8) // BLOCK)
    assert not set(c.train // BLOCK) & set(c.heldout // BLOCK)
    rows = c.windows(c.heldout[:3])
    text = text_file.read_text()
    for r, s in zip(rows, c.heldout[:3], strict=True):
        assert "".join(c.vocabulary[i] for i in r) == text[s:s + 9]


def test_ngram_baselines_equal_a_direct_count(tmp_path):
    text = ("ab" * 700 + "ba" * 700 + "aab" * 300) * 2
    path = tmp_path / "t.txt"
    path.write_text(text)
    c = load_corpus(path, 3)
    got = ngram_baselines(c, alpha=1.0)
    tr, ho = c.windows(c.train), c.windows(c.heldout)
    V = len(c.vocabulary)
    uni = {t: (np.sum(tr[:, -1] == t) + 1) / (tr.shape[0] + V) for t in range(V)}
    assert got["unigram"] == pytest.approx(-np.mean([np.log(uni[t]) for t in ho[:, -1]]))
    big = []
    for prev, nxt in ho[:, -2:]:
        n_prev = np.sum(tr[:, -2] == prev)
        n_pair = np.sum((tr[:, -2] == prev) & (tr[:, -1] == nxt))
        big.append(np.log((n_pair + 1) / (n_prev + V)))
    assert got["bigram"] == pytest.approx(-np.mean(big))
    assert got["bigram"] < got["unigram"]


def test_text_files_that_cannot_be_used_are_refused(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 ".encode("latin-1") * 2000)
    with pytest.raises(TaskError, match="not UTF-8"):
        load_corpus(bad, 8)
    short = tmp_path / "short.txt"
    short.write_text("too short")
    with pytest.raises(TaskError, match="too short"):
        load_corpus(short, 8)
    with pytest.raises(TaskError, match="does not exist"):
        load_corpus(tmp_path / "missing.txt", 8)


def test_vocabulary_round_trips_and_must_fit_the_tokens(rng, tmp_path):
    m = positional(rng, vocab="\tx\ny%")
    save_model(m, tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").vocabulary == "\tx\ny%"
    with pytest.raises(ModelError, match="vocabulary names 3 symbols but the model has 5"):
        replace(m, vocabulary="xyz")
    with pytest.raises(ModelError, match="repeats a symbol"):
        replace(m, vocabulary="aabcd")


def test_text_training_learns_and_every_epoch_settles_at_readout(text_file):
    cfg = config_for("text", text=str(text_file), context=4, width=8, memories=8,
                     windows=512, epochs=2, batch_size=64, lr=0.05)
    r = train(cfg)
    first, last = r.log[0], r.log[-1]
    assert last["heldout_loss"] < first["heldout_loss"] - 0.3
    for rec in r.log:
        assert rec["readout_settled"] == rec["readout_inputs"]
        assert rec["energy_bounded"]
        assert rec["energy_monotone"] == rec["readout_inputs"]
        # each coupling's part is reported, and the parts bound the gain
        assert rec["contraction_gain"] <= rec["contraction_attn"] + rec["contraction_hopf"] + 1e-9
    for rec in r.log[1:]:
        assert rec["cos_ep_implicit"] >= 0.99
    assert r.deploy["deployable"]


def test_the_text_task_needs_a_character_model(rng):
    m = positional(rng, vocab="")
    with pytest.raises(TaskError, match="not a character model"):
        text_task(m)


@pytest.mark.skipif(not DEFAULT_CORPUS.is_file(), reason="Debian's fortunes not installed")
def test_shipped_corpus_baselines():
    c = load_corpus(DEFAULT_CORPUS, 32)
    b = ngram_baselines(c)
    assert len(c.vocabulary) == 95 and c.heldout.size > 20000
    assert 2.4 < b["bigram"] < b["unigram"] < 3.5


# -- the reference layout ---------------------------------------------------------------

def _reference_arrays(rng, L=4, D=6, M=5, V=5, hopf=0.3):
    return {"tok_embed_raw": rng.uniform(0, 0.6, (V, D)),
            "pos_embed_raw": rng.uniform(0, 0.6, (L, D)),
            "xi_hopf_raw": rng.uniform(0, hopf, (M, D)), "a": rng.normal(0, 0.1, D),
            "b": rng.normal(0, 0.5, L), "c": rng.normal(0, 0.1, M),
            "W_dec": rng.normal(0, 1, (V, D)), "b_dec": np.zeros(V)}


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "analogam_cli.main", *args], capture_output=True,
                          text=True, timeout=300)


def test_convert_analog_et_squares_the_raw_arrays(rng, tmp_path, text_file):
    arrays = _reference_arrays(rng, V=len(load_corpus(text_file, 4).vocabulary))
    src = tmp_path / "ref.npz"
    np.savez(src, **arrays)
    out = tmp_path / "model.npz"
    p = _cli("convert", str(src), "--from", "analog-et", "--text", str(text_file),
             "-o", str(out))
    assert p.returncode == 0, p.stderr
    m = load_model(out)
    assert m.vocabulary == load_corpus(text_file, 4).vocabulary and m.task == "text"
    tok = np.array([[0, 3, 1, 1]])
    s = bind(m, Stimulus(1, tokens=tok))
    want = arrays["pos_embed_raw"] ** 2 + arrays["tok_embed_raw"][tok[0]] ** 2
    np.testing.assert_allclose(s.weights[0][0], want)
    np.testing.assert_allclose(m.couplings[1].weights, arrays["xi_hopf_raw"] ** 2)


def test_a_discrete_map_whose_ode_diverges_is_refused(rng, tmp_path):
    """Memories strong enough that the continuous ODE runs away (sigma(xi)^2 ~ 4): such
    a model can work only as a few-step Euler map; convert refuses it with numbers."""
    arrays = _reference_arrays(rng, hopf=1.2)
    arrays["c"] = np.abs(arrays["c"]) + 0.5
    src = tmp_path / "discrete.npz"
    np.savez(src, **arrays)
    out = tmp_path / "m.npz"
    p = _cli("convert", str(src), "--from", "analog-et", "-o", str(out))
    assert p.returncode == 1 and not out.exists()
    line = p.stderr.strip()
    assert "does not work as a continuous-time circuit" in line and "Traceback" not in line
    assert "diverge" in line or "not settled" in line
    assert "energy unbounded" in line and "contraction gain" in line
    p = _cli("convert", str(src), "--from", "analog-et", "--unchecked", "-o", str(out))
    assert p.returncode == 0 and out.exists()
    prov = load_provenance(out)
    assert prov["continuous_check"]["problems"]


def test_reference_layout_shape_mismatch_is_named(rng, tmp_path):
    arrays = _reference_arrays(rng)
    arrays["pos_embed_raw"] = arrays["pos_embed_raw"][:3]
    src = tmp_path / "bad.npz"
    np.savez(src, **arrays)
    from analogam.model.convert import convert_file
    with pytest.raises(WeightsFileError, match="pos_embed_raw has shape"):
        convert_file(src, "analog-et")


# -- generation through ngspice: see test_generate_cli_prints_each_character_as_it_comes

def test_text_training_resumes_to_the_same_numbers(text_file, tmp_path):
    """A run interrupted after its first epoch and started again ends where an
    uninterrupted run does (the epoch records hold booleans, which the checkpoint must
    accept; the step-size schedule continues where it was). Extending a scheduled run
    to more epochs is refused: its earlier steps followed the shorter schedule."""
    from analogam.train.config import TrainError

    kw = dict(text=str(text_file), context=4, width=6, memories=6, windows=128,
              batch_size=64, lr=0.05)
    ck = tmp_path / "run.ckpt.npz"

    def stop(rec, epochs):
        if rec["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config_for("text", epochs=2, **kw), ck, on_epoch=stop)
    resumed = train(config_for("text", epochs=2, **kw), ck)
    whole = train(config_for("text", epochs=2, **kw))
    assert resumed.log[-1]["heldout_loss"] == whole.log[-1]["heldout_loss"]
    assert resumed.log[1]["energy_bounded"] is True
    with pytest.raises(TrainError, match="keep --epochs 2"):
        train(config_for("text", epochs=3, **kw), ck)



def test_positional_parity_start_and_where_it_applies():
    from analogam.train.config import TrainError
    from analogam.train.data import initial_model

    m = initial_model(config_for("parity8", init="positional", seed=3))
    assert m.couplings[0].source == "position-token" and m.task == "parity8"
    assert m.couplings[0].weights.shape[0] == 8 + 2
    with pytest.raises(TrainError, match="parity8 only"):
        config_for("xor", init="positional")


def test_generate_cli_prints_each_character_as_it_comes(text_file, tmp_path):
    from analogam.train.deploy import prune_to_window

    cfg = config_for("text", text=str(text_file), context=4, width=6, memories=6,
                     windows=256, epochs=1, batch_size=64, lr=0.05)
    from analogam.train.loop import provenance

    r = train(cfg)
    model, _ = prune_to_window(r.model, 500)
    # the provenance names the text it learnt: the task's windows come from it
    save_model(model, tmp_path / "m.npz", provenance(cfg, r))
    out = tmp_path / "gen.json"
    p = _cli("generate", str(tmp_path / "m.npz"), "--rescale", "--start", "the ",
             "--tokens", "3", "-o", str(out))
    assert p.returncode == 0, p.stderr[-400:]
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("token ")]
    assert [ln.split(":")[0] for ln in lines] == ["token 0", "token 1", "token 2"]
    d = json.loads(out.read_text())
    assert d["start"] == "the " and len(d["circuit"]) == 3 and d["circuit"] == d["ode"]
    assert d["rule"] is None and f"circuit {d['circuit'][0]!r}" in lines[0]
    assert d["max_state_error"] < 1e-3
    # an ordered window: after the first token every step reprograms the crossbar
    assert all(c > 0 for c in d["cells_reprogrammed_per_token"][1:])
    bad = _cli("generate", str(tmp_path / "m.npz"), "--rescale", "--start", "th",
               "--tokens", "1")
    assert bad.returncode != 0 and "must be 4 characters" in bad.stderr


def test_bad_character_models_and_texts_are_refused_in_one_line(rng, tmp_path, monkeypatch):
    m = positional(rng)
    W = m.couplings[0].weights
    with pytest.raises(ModelError, match="position and token rows have shape"):
        replace(m, couplings=(replace(m.couplings[0], weights=W[:4]), m.couplings[1]))
    with pytest.raises(ModelError, match="2 token-driven couplings"):
        replace(m, couplings=(m.couplings[0], replace(m.couplings[0], name="b")))
    arrays = _reference_arrays(rng)
    arrays["beta"] = np.array(-0.1)
    from analogam.model.convert import model_from_analog_et
    with pytest.raises(WeightsFileError, match="beta must be positive"):
        model_from_analog_et(arrays)
    with pytest.raises(WeightsFileError, match="the text names 3 characters"):
        model_from_analog_et(_reference_arrays(rng), vocabulary="abc")
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    monkeypatch.setattr("analogam.tasks.text.MAX_TEXT_BYTES", 4096)
    with pytest.raises(TaskError, match="has 5000 bytes"):
        load_corpus(big, 8)
    task = text_task(positional(rng, vocab=VOCAB, task="text"))
    with pytest.raises(TaskError, match="must be 5 characters"):
        task.parse("abc")
    with pytest.raises(TaskError, match="not in the model's vocabulary"):
        task.parse("abcdz")
    np.testing.assert_array_equal(task.parse("edcba"), [4, 3, 2, 1, 0])
