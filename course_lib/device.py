"""What the Keras lessons run on: versions, backend, GPUs and the TF32 setting.

Lesson 00 calls :func:`report` so that a learner (and anyone helping them) sees at a glance
whether TensorFlow found a GPU. On GPUs with TensorFloat-32 (NVIDIA Ampere and later), float32
matrix products may be computed with 10-bit mantissas; results then differ from the CPU's by
about 1e-3, which is why the course's Keras checks use a tolerance that allows it.
"""

from __future__ import annotations

import os

from course_lib.messages import say

NO_GPU = "no GPU found — everything runs on the CPU"


def report(verbose: bool = True) -> dict:
    """Print and return what TensorFlow and Keras will run on.

    Args:
        verbose: print the report (the dictionary is returned either way).

    Returns:
        ``{"tensorflow": str, "keras": str, "backend": str, "gpus": [str, ...],
        "tf32": bool}``, where ``tf32`` says whether TensorFloat-32 is enabled.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up logs quiet
    import keras
    import tensorflow as tf

    gpus = [gpu.name for gpu in tf.config.list_physical_devices("GPU")]
    info = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "gpus": gpus,
        "tf32": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
    }
    if verbose:
        say(f"TensorFlow {info['tensorflow']}, Keras {info['keras']} ({info['backend']} backend)")
        say(f"GPUs: {', '.join(gpus)}" if gpus else NO_GPU)
        tf32 = "enabled" if info["tf32"] else "disabled"
        say(f"TensorFloat-32: {tf32}" + ("" if gpus else " (matters on GPUs only)"))
    return info
