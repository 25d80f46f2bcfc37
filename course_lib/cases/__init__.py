"""The cases graded cells are judged on, one module per kind: what a case holds, how many
records it produces (its slots, :mod:`course_lib.cases.records`), how the probe runs the
learner's code on it in the kernel, and the plans of the Keras kinds' exercises (a function's
plan is in its lesson's module, :mod:`course_lib.lessons`). Inputs only: no case holds an
answer.

* :mod:`~course_lib.cases.calls`: calls of a function (the NumPy exercises, lesson 07's
  functions), and lesson 08's memory-limited call;
* :mod:`~course_lib.cases.layers`: lesson 04's Keras layers;
* :mod:`~course_lib.cases.blocks`: lesson 06's Transformer block;
* :mod:`~course_lib.cases.translator`: lesson 07's translator;
* :mod:`~course_lib.cases.decoding`: lesson 11's decoding with a KV cache.
"""
