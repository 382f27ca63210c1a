"""A character language model run as a circuit: the positional Energy Transformer
trained by equilibrium propagation on Debian's fortunes songs and poems
(models/text.npz, from ``analogam train text -o models/text.npz``), its held-out
cross-entropy beside the unigram and bigram baselines, then text generated through
ngspice from three prompts, token by token beside the ODE.

    python examples/text.py [--quick] [--tokens N] [--level ideal|bjt|opamp]

--quick generates 4 characters per prompt instead of 64 (about 1.5 min here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from analogam.circuit import CompileOptions
from analogam.circuit.config import DeviceConfig
from analogam.model.weights import load_model
from analogam.study import generate
from analogam.tasks import task_for
from analogam.tasks.text import DEFAULT_CORPUS, decode_text, load_corpus, ngram_baselines
from analogam.train.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
PROMPT_OFFSETS = (0, 4000, 12000)
"""Held-out windows whose contexts are the prompts (fixed: the same text every run)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tokens", type=int, default=None)
    ap.add_argument("--level", default="ideal")
    ap.add_argument("--model", default=str(ROOT / "models" / "text.npz"))
    args = ap.parse_args(argv)
    n = args.tokens or (4 if args.quick else 64)

    model = load_model(args.model)
    C = model.group("attn").size
    corpus = load_corpus(DEFAULT_CORPUS, C, vocabulary=model.vocabulary)
    base = ngram_baselines(corpus)
    held = corpus.sample("heldout", 1024, 0)
    ev = evaluate(model, held, contracting=True)
    print(f"{corpus.name}: {len(model.vocabulary)} symbols, context {C}; held-out "
          f"cross-entropy (nats/char) model {ev.loss.mean():.3f}, bigram "
          f"{base['bigram']:.3f}, unigram {base['unigram']:.3f}; next-character "
          f"accuracy {ev.correct.mean():.3f}", flush=True)

    opts = CompileOptions(level=args.level, config=DeviceConfig().with_values(
        {"conductance.rescale": True}))
    task = task_for(model)
    same = True
    for k, off in enumerate(PROMPT_OFFSETS):
        start = corpus.windows(corpus.heldout[off:off + 1])[0, :C]
        print(f"\nprompt {k + 1}: {decode_text(model.vocabulary, start)!r}", flush=True)

        def show(i: int, tok: int, tok_o: int) -> None:
            mark = "" if tok == tok_o else "  <- differs from the ODE"
            print(f"  token {i:2d}: circuit {model.vocabulary[tok]!r:6} ODE "
                  f"{model.vocabulary[tok_o]!r}{mark}", flush=True)

        g = generate(model, start, n, opts, task=task, on_token=show)
        print(f"  circuit: {g.text(g.circuit)!r}\n  ODE:     {g.text(g.ode)!r}")
        print(f"  circuit = ODE on all {n} tokens: "
              f"{'yes' if np.array_equal(g.circuit, g.ode) else 'NO'}; max state error "
              f"{g.max_err.max():.2g}; settling per token median "
              f"{1e6 * np.median(g.settle_s):.3g} us")
        same &= bool(np.array_equal(g.circuit, g.ode))
    return 0 if same else 2


if __name__ == "__main__":
    from analogam.errors import AnalogamError

    try:
        sys.exit(main())
    except AnalogamError as e:   # one line, as the CLI says it
        sys.exit(f"text.py: error: {e}")
