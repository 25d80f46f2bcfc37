"""The course's ``MultiHeadAttention`` vs ``keras.layers.MultiHeadAttention``.

Both layers get the same shapes and the same weights (copied from Keras's layer into ours) and
are timed eagerly and compiled with XLA (``tf.function(jit_compile=True)``), on the CPU and,
when TensorFlow sees one, on the GPU. The ratio is ours ÷ Keras's (target: ≤ 1.05). All
cases are measured in one run, interleaved, and each figure is a median.

Run: ``.venv/bin/python benchmarks/bench_keras_layer.py [--quick] [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import busy_machine_note, in_turn, paired_ratio  # noqa: E402

from grader import reference as ref  # noqa: E402

tf.get_logger().setLevel("ERROR")  # one tf.function per case: retracing warnings are expected

TARGET = 1.05
# (batch, T, d_model, heads, key_dim): self-attention, so Tq = Tk = T
SHAPES = [
    (8, 64, 128, 4, 32),
    (4, 256, 256, 8, 32),
    (2, 512, 512, 8, 64),
]
QUICK_SHAPES = SHAPES[:2]


def _twin_layers(shape, causal, device):
    """Keras's layer and ours on ``device``, same weights, with a function calling each."""
    batch, t, d_model, heads, key_dim = shape
    with tf.device(device):
        x = tf.constant(np.random.default_rng(0).standard_normal((batch, t, d_model)), tf.float32)
        theirs = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
        ours = ref.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
        for layer in (theirs, ours):
            layer(x, x)  # build
        ours.set_weights(theirs.get_weights())
    calls = {}
    for name, layer in (("ours", ours), ("keras", theirs)):
        def call(query, layer=layer):
            return layer(query, query, use_causal_mask=causal)  # (B, T, d_model)

        calls[name] = call
    difference = float(np.abs(calls["ours"](x).numpy() - calls["keras"](x).numpy()).max())
    return x, calls, difference


def _seconds(fn, x, inner):
    """Seconds per call; reading the last result back waits for asynchronous devices."""
    start = time.perf_counter()
    for _ in range(inner):
        result = fn(x)
    result.numpy()
    return (time.perf_counter() - start) / inner


def build_cases(shapes, devices, causal_options):
    """One case per device, mask, shape and mode, each warmed up (traced and compiled)."""
    cases = []
    for device in devices:
        for causal in causal_options:
            for shape in shapes:
                x, eager, difference = _twin_layers(shape, causal, device)
                compiled = {name: tf.function(fn, jit_compile=True) for name, fn in eager.items()}
                for mode, calls in (("eager", eager), ("XLA", compiled)):
                    with tf.device(device):
                        for fn in calls.values():
                            _seconds(fn, x, inner=1)  # warm-up: traces and compiles
                        once = _seconds(calls["keras"], x, inner=1)
                    label = {
                        "device": "GPU" if "GPU" in device else "CPU", "mode": mode,
                        "mask": "causal" if causal else "none", "shape": shape,
                        "max |Δ|": difference,
                    }
                    inner = max(1, min(50, int(0.05 / once)))  # about 50 ms per sample
                    cases.append((device, label, calls, x, inner))
    return cases


def measure(cases, repeats):
    """Per case, ``{"ours": [seconds per call], "keras": [...]}``, measured interleaved."""
    samples = [{"ours": [], "keras": []} for _ in cases]
    for repeat in range(repeats):
        for (device, _, calls, x, inner), case_samples in zip(cases, samples, strict=True):
            with tf.device(device):
                for name, fn in in_turn(calls, repeat):
                    case_samples[name].append(_seconds(fn, x, inner))
    return samples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two shapes, no mask, few repeats")
    parser.add_argument("--repeats", type=int, default=None, help="samples per figure")
    args = parser.parse_args(argv)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    causal_options = (False,) if args.quick else (False, True)
    repeats = args.repeats or (5 if args.quick else 11)
    gpus = tf.config.list_logical_devices("GPU")
    devices = ["/CPU:0"] + ([gpus[0].name] if gpus else [])

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; float32; "
          f"median of {repeats} interleaved samples")
    if not gpus:
        print("No GPU found: CPU only.")
    elif tf.config.experimental.tensor_float_32_execution_enabled():
        print("TF32 is enabled on the GPU (TensorFlow's default).")
    cases = build_cases(shapes, devices, causal_options)
    all_samples = measure(cases, repeats)

    print(f"{'device':<8}{'mode':<7}{'mask':<8}{'shape (B, T, d_model, H, key_dim)':<35}"
          f"{'ours':>10}{'keras':>10}{'ratio':>8}{'(IQR)':>14}{'max |Δ|':>10}")
    worst = 0.0
    for (_, label, *_), samples in zip(cases, all_samples, strict=True):
        ratio, q1, q3 = paired_ratio(samples["ours"], samples["keras"])
        worst = max(worst, ratio)
        print(f"{label['device']:<8}{label['mode']:<7}{label['mask']:<8}"
              f"{str(label['shape']):<35}{statistics.median(samples['ours']) * 1e3:>8.2f}ms"
              f"{statistics.median(samples['keras']) * 1e3:>8.2f}ms{ratio:>8.2f}"
              f"{f'({q1:.2f}–{q3:.2f})':>14}{label['max |Δ|']:>10.1e}")
    verdict = "met" if worst <= TARGET else "MISSED"
    print(f"worst ratio {worst:.2f} (target ≤ {TARGET}: {verdict})")
    note = busy_machine_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
