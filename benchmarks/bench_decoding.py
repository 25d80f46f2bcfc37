"""Greedy decoding with a key–value cache vs without: run time against the output length.

Both decoders come from lesson ``11_kv_cache``'s answer key (``grader.reference.keras_decoding``)
and run on ``course_lib.decoding.Translator`` — lesson 07's date translator, here with random
weights, ``d_model`` 64, 4 heads, up to 256 target positions — for one batch of real source
dates. Each encodes the source once and compiles its step with ``tf.function``:

- ``cached_greedy_decode``: at step ``t`` the new token attends to the cached keys and values of
  positions ``0 … t``: ``t + 1`` scores;
- ``uncached_greedy_decode``: at step ``t`` the decoder runs again on the whole prefix
  ``0 … t``: ``(t + 1)²`` scores, of which only the last row is used.

Each decoder first decodes a few tokens untimed (a warm-up), then each length is decoded by both,
interleaved, and each figure is the best of ``--repeats`` samples. Both must give identical ids
(the script exits with status 1 otherwise). The table also gives the self-attention score entries
each computes (``course_lib.decoding.score_entries``): cached ``T(T+1)/2``, uncached ``≈ T³/3``.
The verdict: the uncached ÷ cached ratio grows with the length. The time of a 2-token decode is
printed too: a fixed cost inside every figure (encoding the source, calling the compiled step),
which flattens the ratio at short lengths.

Run: ``.venv/bin/python benchmarks/bench_decoding.py [--lengths 16 64 256] [--batch N]
[--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import busy_machine_note, in_turn  # noqa: E402

from course_lib.dates import date_dataset  # noqa: E402
from course_lib.decoding import Translator, score_entries  # noqa: E402
from grader.reference.keras_decoding import (  # noqa: E402
    cached_greedy_decode,
    uncached_greedy_decode,
)

# At step 0 there is one key to attend to: Keras warns that a softmax over one entry is always 1.
warnings.filterwarnings("ignore", message="You are using a softmax over axis")
tf.get_logger().setLevel("ERROR")  # TensorFlow's notes on tracing, while warming up

D_MODEL, NUM_HEADS, MAX_LENGTH = 64, 4, 256
LENGTHS = [16, 64, 256]
BATCH = 16  # on 2 CPU cores, the uncached decode of 256 tokens takes about 10 s
WARM_UP_LENGTH = 2  # the first two steps trace the step twice: t = 0, then any t
DECODERS = {"cached": cached_greedy_decode, "uncached": uncached_greedy_decode}


def timed_decode(decode, translator, source, length) -> tuple[float, np.ndarray]:
    """Seconds one greedy decode takes, and the ids ``(n, length)`` it gives."""
    start = time.perf_counter()
    ids = decode(translator, source, length)  # (n, length), NumPy: the work is done
    return time.perf_counter() - start, ids


def best_seconds(translator, source, length, repeats) -> tuple[dict[str, float], int]:
    """Best seconds of each decoder over ``repeats`` interleaved samples, and how many of the
    ``n`` sequences differ between the two decoders (in any sample)."""
    best = {name: float("inf") for name in DECODERS}
    differing = 0
    for repeat in range(repeats):
        ids = {}
        for name, decode in in_turn(DECODERS, repeat):
            seconds, ids[name] = timed_decode(decode, translator, source, length)
            best[name] = min(best[name], seconds)
        differing = max(differing, int((ids["cached"] != ids["uncached"]).any(axis=1).sum()))
    return best, differing


def device_line() -> str:
    gpus = tf.config.list_logical_devices("GPU")
    return f"GPU {gpus[0].name}" if gpus else "no GPU found: CPU only"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=LENGTHS,
                        help=f"output lengths to decode, each 1 … {MAX_LENGTH}")
    parser.add_argument("--batch", type=int, default=BATCH, help="source dates decoded at once")
    parser.add_argument("--repeats", type=int, default=3, help="samples per figure (best kept)")
    args = parser.parse_args(argv)
    if not all(1 <= length <= MAX_LENGTH for length in args.lengths):
        parser.error(f"--lengths must lie in 1 … {MAX_LENGTH}. Received: {args.lengths}")
    sys.stdout.reconfigure(line_buffering=True)

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {device_line()}; "
          f"{os.cpu_count()} CPUs; float32; best of {args.repeats} interleaved samples")
    keras.utils.set_random_seed(0)
    translator = Translator(d_model=D_MODEL, num_heads=NUM_HEADS, max_length=MAX_LENGTH)
    source = date_dataset(args.batch, seed=0)["source"]  # (n, Ts)
    print(f"Translator with random weights: d_model {D_MODEL}, {NUM_HEADS} heads, "
          f"max_length {MAX_LENGTH}; a batch of {len(source)} source dates")
    for decode in DECODERS.values():
        decode(translator, source, WARM_UP_LENGTH)  # warm-up: builds and traces, untimed

    overhead, _ = best_seconds(translator, source, WARM_UP_LENGTH, args.repeats)
    print(f"a {WARM_UP_LENGTH}-token decode, the fixed cost in every figure below: "
          f"cached {overhead['cached']:.3f} s, uncached {overhead['uncached']:.3f} s")
    print(f"\n{'length':>6}{'cached s':>11}{'uncached s':>12}{'ratio':>8}"
          f"{'cached scores':>16}{'uncached scores':>18}{'identical ids':>16}")
    ratios, mismatches = {}, 0
    for length in args.lengths:
        best, differing = best_seconds(translator, source, length, args.repeats)
        ratios[length] = best["uncached"] / best["cached"]
        mismatches += differing
        same = "yes" if differing == 0 else f"NO: {differing} of {len(source)}"
        print(f"{length:>6}{best['cached']:>11.3f}{best['uncached']:>12.3f}"
              f"{ratios[length]:>7.2f}×{score_entries(length, cached=True):>16,}"
              f"{score_entries(length, cached=False):>18,}{same:>16}")

    shortest, longest = min(args.lengths), max(args.lengths)
    if shortest == longest:
        print(f"\nuncached ÷ cached at length {longest}: {ratios[longest]:.2f}×")
    else:
        grows = ratios[longest] > ratios[shortest]
        print(f"\nthe cache's advantage {'grows' if grows else 'does NOT grow'} with the length: "
              f"{ratios[shortest]:.2f}× at {shortest}, {ratios[longest]:.2f}× at {longest}")
    if mismatches:
        print("ERROR the cached and uncached decoders gave different ids (see the table)")
    note = busy_machine_note()
    if note:
        print(note)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
