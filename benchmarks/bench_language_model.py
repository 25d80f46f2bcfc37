"""Lesson 12's training run: the validation loss it reaches and the time it takes on the CPU.

The model and the training are the lesson's (``course_lib.language_model.LESSON_RUN``): a
decoder-only stack of ``KerasBlock``s (the contract of lesson 06's ``TransformerBlock``) with the
answer key's ``sinusoidal_encoding`` (``--stand-ins``: learned positions, as while autograding),
trained on *Pride and Prejudice* with ``course_lib.language_model.train`` (AdamW, global-norm
clipping, the answer key's ``cosine_schedule``). It prints the validation loss every 100 steps,
the loss reached, the wall-clock time and the process's CPU time (all its threads) of the
training, the threads TensorFlow used, the load average, and three samples of 60 characters
(temperature 0.8, top-p 0.95, drawn without a cache: the whole window again at every step).
``--poems``: the lesson's second run instead (``POEM_RUN``: 2 blocks of width 64, 300 steps, on
唐诗三百首), its samples prompted with ``《春``.

On a busy machine the wall-clock time is inflated; the CPU time is not, and divided by the
cores it bounds the wall-clock time of an idle machine from below.

Run: ``.venv/bin/python benchmarks/bench_language_model.py [--steps N] [--threads N]
[--stand-ins] [--poems]``
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import busy_machine_note  # noqa: E402

from course_lib.blocks import KerasBlock, learned_positions  # noqa: E402
from course_lib.language_model import (  # noqa: E402
    LESSON_RUN,
    POEM_RUN,
    CharVocab,
    build_language_model,
    draw,
    load_text,
    split,
    train,
)
from grader.reference import sinusoidal_encoding  # noqa: E402
from grader.reference.language_model import cosine_schedule, sampling_distribution  # noqa: E402

warnings.filterwarnings("ignore", message="You are using a softmax over axis")
tf.get_logger().setLevel("ERROR")


def samples(model, vocab: CharVocab, prompt: str, n: int, length: int, seed: int = 0) -> list:
    """``n`` continuations of ``prompt`` by ``length`` characters (temperature 0.8, top-p 0.95),
    each step on the last window of the text so far."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(vocab.encode(prompt)[None], n, axis=0)  # (n, P)
    for _ in range(length):
        logits = np.asarray(model(ids[:, -model.max_length:]), dtype=np.float64)[:, -1]
        probabilities = sampling_distribution(logits, temperature=0.8, top_p=0.95)  # (n, V)
        ids = np.concatenate([ids, draw(probabilities, rng)[:, None]], axis=1)
    return [vocab.decode(row) for row in ids]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps (default: the run's own)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow's threads per operation (0: its default)")
    parser.add_argument("--stand-ins", action="store_true",
                        help="learned positions instead of the sinusoidal encoding")
    parser.add_argument("--poems", action="store_true",
                        help="the lesson's run on the Tang poems (POEM_RUN) instead of Austen's")
    args = parser.parse_args(argv)
    run = POEM_RUN if args.poems else LESSON_RUN
    steps = args.steps or run.steps
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    text = load_text("tang" if args.poems else "austen")
    vocab = CharVocab(text)
    train_ids, val_ids = split(vocab.encode(text))
    keras.utils.set_random_seed(0)
    positions = learned_positions if args.stand_ins else sinusoidal_encoding
    model = build_language_model(KerasBlock, positions, vocab.size, **run.sizes)
    warmup = min(run.warmup, max(1, steps // 10))
    rates = cosine_schedule(np.arange(steps), warmup, steps, run.peak)
    print(f"{model.count_params():,} parameters, {steps} steps of {run.batch} "
          f"windows of {run.window} characters; positions: "
          f"{'learned' if args.stand_ins else 'sinusoidal'}; {os.cpu_count()} CPUs")
    history = train(model, train_ids, val_ids, rates, batch=run.batch, length=run.window)
    for step, loss in zip(history.val_steps, history.val, strict=True):
        print(f"  step {step:5}: validation loss {loss:.3f}")
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(f"validation loss reached: {history.val[-1]:.3f} nats per character "
          f"(ln V = {np.log(vocab.size):.3f})")
    print(f"training: {history.seconds:.1f} s on the clock, {history.cpu_seconds:.1f} s of CPU "
          f"time ({threads} threads per operation); load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    note = busy_machine_note()
    if note:
        print(note)
    for sample in samples(model, vocab, "《春" if args.poems else "Elizabeth ", 3, 60):
        print(repr(sample))
    return 0


if __name__ == "__main__":
    sys.exit(main())
