"""The pieces the course's messages are built from, in English, for their translations
(:mod:`grader.message_catalogue`): fixed texts, templates whose ``{placeholders}`` stand for
the parts a message is built with (a call, a description, a hint; ``{n}``, ``{n0}``... a
number). :func:`course_lib.messages.render` matches a whole finished message against the
templates and renders each placeholder's text in turn, so a template names only what its own
code adds: ``{what} is wrong: it matches {description}.`` translates every check's verdict,
whatever the ``what`` and the description. Phrases are words inside code-like text (a call
as a message shows it), replaced wherever they occur. A template here that no message uses
any more is dropped from the catalogue (obsolete) when it goes from this module.
"""

from __future__ import annotations

#: fixed texts: hints and labels the checks, the judge and the report write as they are
FIXED = {
    "graded cell": "results of the graded cell",
    "own code": "your own code",
    "not written": "not written yet",
    "same mistake": "the same mistake",
    "interrupted": "interrupted",
    "row shift": "Adding the same number to a whole row must not change its softmax.",
    "axes": "Check which axes you multiply.",
    "overflow": "Look for an overflowing exp() or a division by zero.",
    "first step": "The first step attends to its own key alone: check the projections, the "
                  "scale and the rest of the block.",
    "later steps": "Step 0 right and later steps wrong: look at what the cache holds, at the "
                   "position the token is embedded at, and at the scale 1/√key_dim (at step 0 a "
                   "single key gets weight 1 whatever the scale).",
    "scaling": "Scaling a vector scales its dot products: (3a)·b = 3 (a·b).",
    "reordered keys": "Reordering the keys should reorder the columns of the scores, nothing "
                      "else.",
    "one-hot": "A weight of 1 on key j and 0 elsewhere should copy value row j.",
    "reordered pairs": "Reordering the key/value pairs should reorder the weights' columns and "
                       "leave the output alone.",
    "zero query": "A query of zeros scores every key 0: even weights, and the mean of the "
                  "values.",
    "masked scores": "Masked scores must get zero weight: mask before the softmax.",
    "causal rows": "Query i may attend to keys 0 … i (a lower-triangular mask).",
    "both masks": "A key may be attended when both masks allow it: a logical and.",
    "no results": "the cell handed back no results (did it raise an error, or was the "
                  "function or class not defined?)",
    "several results": "the cell handed back more than one set of results",
    "probe format": "the results are not in the probe's format",
    "malformed": "a result record is malformed",
    "result malformed": "the result record is malformed",
    "result missing": "a result is missing from the data the cell handed back",
    "project units": "Project queries, keys and values, scale by 1/√units, softmax, weighted sum, "
                     "W_o.",
    "project heads": "Project into heads, scale by 1/√key_dim, softmax over the keys, weighted sum "
                     "per head, then the output projection sums over heads.",
    "fill -1e9": "Put -1e9 where the mask is False, take the softmax, then set the weights to 0 "
                 "where the mask is False.",
    "no causal": "Without the causal mask, the attention_mask is the mask.",
    "ops tril": "Query i may attend to keys 0 … i: ops.tril of a (t_q, t_k) matrix of ones.",
    "logical and": "A key may be attended when both masks allow it: ops.logical_and.",
    "where broadcasts": "The mask broadcasts to the scores: ops.where broadcasts it.",
    "attention weights": "attention weights",
    "the weights": "the weights",
    "dense kernels": "a Dense(units) is applied to its input's last axis, so its kernel is (that "
                     "input's features, units): build query_dense on the query's shape, key_dense "
                     "on the key's, value_dense on the value's, as the skeleton does",
    "head kernels": "each projection's kernel maps its input's last axis to (heads, head size): "
                    "(input features, H, key_dim or value_dim), and the output kernel maps them "
                    "back to the query's width, (H, value_dim, d_query)",
    "teacher forcing pair": "teacher_forcing should return a pair (decoder_inputs, "
                            "decoder_targets).",
    "greedy start": "Start from START_ID; at step i read the logits at position i, take the "
                    "argmax, and write it into the decoder input at position i + 1.",
    "alignment axes": "Average the weights over the heads (axis 1), then take the argmax over the "
                      "source positions (the last axis).",
    "source ignored": "The model's output does not depend on the source: the decoder block must "
                      "read the encoder's output as its context.",
    "output nan": "The model's output holds NaN or inf.",
    "decoder input ignored": "The model's output does not depend on its decoder input.",
    "cross rows": "Each row of the cross-attention weights should sum to 1.",
    "no lower loss": "A step of gradient descent does not lower the loss.",
    "diagram logits": "the model's logits, against the lesson's diagram computed by the grader on "
                      "the weights your model holds",
    "diagram cross": "the decoder block's cross-attention weights, against the diagram's",
    "stand-in": "greedy_decode on a stand-in model",
    "alignment example": "alignment of weights (1, 2, 3, 4)",
    "dates": "decoder_inputs for '1979-05-03' and '2001-12-31'",
    "ffn width": "Each sublayer's output is added back to x, so it has d_model features: the FFN "
                 "is ff_output(ff_hidden(h)), back from ff_dim to d_model.",
    "cross widths": "The cross-attention's queries come from the block's own positions (h), its "
                    "keys and values from `context`, of another width: cross_attention_layer(h, "
                    "context, attention_mask=context_mask).",
    "cache layout": "the cache after 8 steps (keys at [0], values at [1])",
    "no memory limit": "no memory limit",
    "any processes": "any number of",
    "bubblewrap missing": "bubblewrap is not available (apt-get install bubblewrap)",
    "page score": "Score",
    "page test cell": "Test cell",
    "page free response": "Coding free-response",
    "page written response": "Written response",
    "page comment": "Comment",
    "page comments": "Comments",
    "page top": "Top",
    "page answer": "Student's answer",
    "page grade cell": "Grade cell",
    "autograding not saved": "Autograding: nothing is saved.",
    "autograding own lesson": "autograding grades each lesson on its own",
    "no gpu": "no GPU found — everything runs on the CPU",
    "tf32 enabled": "enabled",
    "tf32 disabled": "disabled",
    "follow diagram": "Follow the diagram: both blocks on the path from the inputs to the logits, "
                      "the encoder's output as the decoder block's context, the masks by keyword.",
}

#: templates: ``{name}`` any text, rendered in turn; ``{n}``, ``{n0}``... a number
TEMPLATES = {
    # course_lib.feedback
    "matches": "{what} is wrong: it matches {description}.",
    "matches after": "{what}: it matches {description}.",
    "it matches": "it matches {description}.",
    "raised matches": "{what} raised {error}: it matches {description}.",
    "failure matches": "{failure}\n  It matches {description}.",
    "raised": "{what} raised {error}",
    "wrong shape": "{what} has the wrong shape.\n  expected shape: {expected}\n"
                   "  received shape: {received}\n  {hint}",
    "numbers": "{what} should hold numbers. Received dtype: {dtype}",
    "boolean": "{what} should be boolean (True = may attend). Received dtype: {dtype}",
    "not finite": "{what} contains NaN or inf where the right answer is finite.\n  {hint}",
    "hidden values": "{what} has the right shape but wrong values (furthest from the right "
                     "answer at index {index}).",
    "hidden values hint": "{what} has the right shape but wrong values (furthest from the right "
                          "answer at index {index}).\n  {hint}",
    "values": "{what} has the right shape but wrong values.\n  at index {index}: expected "
              "{expected}, received {received}",
    "values hint": "{what} has the right shape but wrong values.\n  at index {index}: expected "
                   "{expected}, received {received}\n  {hint}",
    "none": "{what} is None: did you forget a `return` statement?",
    "not an array": "{what} cannot be read as an array ({received}): {error}",
    "result of": "The result of {what}",
    "part of": "`{part}` of {what}",
    "tuple": "{what} should return {n} things, ({names}), as a tuple.\n  Received: {received}",
    "not written yet": "`{name}` is not written yet: replace `raise NotImplementedError()` with "
                       "your code.",
    "raised with": "`{name}` raised {error}\n  It was called with: {inputs}",
    "raised with advice": "`{name}` raised {error}\n  It was called with: {inputs}\n  {advice}",
    "raised as": "`{name}` raised {error}\n  It was called as {called}",
    "raised as advice": "`{name}` raised {error}\n  It was called as {called}\n  {advice}",
    "in place": "`{name}` changed one of its input arrays in place ({received}). Work on new "
                "arrays (e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                "stays as it was.",
    "in place hidden": "`{name}` changed one of its input arrays in place. Work on new arrays "
                       "(e.g. np.where(...) or x - m instead of x -= m) so the caller's data "
                       "stays as it was.",
    "failed part": "✗ {label} ({n0}/{n1}): {failure}",
    "passed part": "✓ {label} ({n0}/{n1})",
    "points": "{name}: {n0}/{n1} points",
    "passed": "✓ {name}: all {n} checks passed.",
    "case": "{call} [{case}]",
    "contains nan": "{what} contains NaN or inf.",
    "negative weights": "{what} has negative weights: a softmax is never negative.",
    "sums": "{what} should sum to 1 along axis={axis}. Received sums: {sums}",
    "sums masked": "{what} should sum to 1 along axis={axis} (to 0 in a row with no allowed "
                   "key). Received sums: {sums}",
    "shape expected": "{what} has shape {received}, expected {expected}.",
    "boolean not": "{what} should be boolean, not {dtype}.",
    "hidden keys": "{what} gives weight to keys the mask hides (False).",
    "new array": "{name} of a new {shape} array",
    # Keras layers and blocks (course_lib.checks, grader.judging.judges.layers and .blocks)
    "output of": "the output of {layer}",
    "weights of shape": "the weight matrix of {layer}, of shape (B, Tq, Tk) = {shape}",
    "weights heads last": "the weight matrix of {layer}, of shape (B, Tq, H, Tk) = {shape}",
    "block returns": "{name}(**{config}) on x {shape} should return y {same} and self-attention "
                     "weights (B, H, T, T) = {expected}. Received: {y} and {weights}",
    "layer returns": "{name}({units}) on query (2, 3, 5), value (2, 4, {size}) should return an "
                     "output (2, 3, {out}) and weights (2, 3, 4). Received: {y} and {weights}",
    "heads returns": "{name}(**{config}) on query (2, 4, 7), value (2, 6, 5) should return an "
                     "output (2, 4, 7) and weights (B, H, Tq, Tk) = (2, 2, 4, 6). Received: {y} "
                     "and {weights}",
    "other decoder inputs": "{what}, other decoder inputs",
    "other sources": "{what}, other sources",
    "lower result of": "the result of {name}",
    "weights of": "the weight matrix of {layer}",
    "weights of heads": "the weight matrix of {layer} (B, H, Tq, Tk)",
    "output with mask": "the output of {layer} with attention_mask=",
    "weights with mask": "the weight matrix of {layer} with attention_mask=",
    "layer with mask": "{layer} with attention_mask=",
    "output causal": "the output of {layer} with use_causal_mask=True",
    "output both masks": "the output of {layer} with a padding mask and use_causal_mask=True",
    "fully masked row": "{layer} on a fully masked row",
    "output unmasked rows": "the output of {layer} on the rows that are not fully masked",
    "weights unmasked rows": "the weight matrix of {layer} on the rows that are not fully masked",
    "output without key": "the output of {layer} without a key (key defaults to value)",
    "called without key": "{layer} called without a key",
    "output rebuilt": "the output of {layer} rebuilt with from_config(get_config())",
    "output saved": "the output of {layer} in a model saved to a .keras file and loaded back",
    "output called as": "the output of {layer} called as layer(query, value, key)",
    "layer weights": "{layer}'s weights",
    "layer sizes": "{layer} with Tq={n0} queries and Tk={n1} keys",
    "layer causal": "{layer} with use_causal_mask=True",
    "fails without key": "{failure}\n  It fails without `key` and runs with key=value.",
    "fails when": "{failure}\n  It fails when Tq ≠ Tk and runs when Tq = Tk.",
    "fails on values": "{failure}\n  It fails on values of {n0} features and runs on values of "
                       "{n1}, the size W_v projects them to.",
    "call lacks": "`{name}.call` lacks the argument(s) {missing}. Keep the signature {signature} "
                  "so that the layer is called like Keras's.",
    "holding weights": "{name} holding weights of shapes {shapes}",
    "float64 inputs": "{name} of float64 inputs (a {dtype} result)",
    "return ids": "{name} should return ids (n, length) = {expected}. Received: {received}",
    "return integer ids": "{name} should return integer ids (n, length) = {expected}. Received: "
                          "{received}",
    "fails with mask": "{failure}\n  It fails with this mask and runs without it.",
    "config should hold": "{failure}\n  It should hold the constructor's arguments {expected}; "
                          "these differ: {wrong}.",
    "config built with": "{failure}\n  The layer was built with {config}; its config differs in "
                         "{wrong}.",
    "weights hint": "{failure}\n  {shapes}: {hint}.",
    "kernel shape": "{kernel} is {received}, expected {expected}",
    "kernel shape reordered": "{kernel} is {received}, expected {expected} (the same sizes in "
                              "another order)",
    "called on with": "{block} on {inputs} with {options}",
    "called on": "{block} on {inputs}",
    "block raised": "{what} raised {error}, where a block that makes this mistake fails too: "
                    "{description}.",
    "block twice": "{what}, called twice on the same inputs, gave two different outputs: it "
                   "matches {description}.",
    "block holds": "{what} holds the weights {held}",
    "block order": "{what}; expected, in this order: {expected} (self-attention, its LayerNorm, "
                   "[cross-attention, its LayerNorm,] ff_hidden, ff_output, ff_norm).\n"
                   "  Create the sublayers in that order, and no others.",
    "layer holds": "{what} holds the weights {held}; expected, in the order of {order}: "
                   "{expected}.\n  Create them in build() as the skeleton does (and no others).",
    "residual zero": "{name}(norm_first=True) with every sublayer's output set to zero should "
                     "return x unchanged: x + 0 at each residual connection. It does not: is x "
                     "itself (not LN(x)) added back, and is the sum left unnormalised in pre-LN?",
    "post zero": "{name}(norm_first=False) with every sublayer's output zero (LN(x + 0), three "
                 "times)",
    "silenced": "y - x of {name} with its attention silenced: FFN(LN(x))",
    "cross weights of": "the cross-attention weights of {name}",
    "rebuilt holding": "{name}.from_config(get_config()) holding the same weights",
    "no context": "{name}(cross_attention=True)'s output does not depend on its context: the "
                  "cross-attention's keys and values come from it.",
    "block config": "{name}.get_config() should hold the constructor's arguments {full}; these "
                    "differ: {wrong}. Return {{**super().get_config(), ...}} with every argument.",
    "judge config": "{name}.get_config() should hold the constructor's arguments {expected}; it "
                    "gave {received}. Add them in get_config(): config.update(...).",
    "gradients missing": "The gradients {layer} computes for {names} are not those of its output: "
                         "a weight or input that gets no gradient (stop_gradient, a value computed "
                         "outside TensorFlow) never learns. Is every projection used, on the path "
                         "from the inputs to the output?",
    "keras does it": "{layer} is, or holds, {found}: Keras's own layer does this exercise for "
                     "you. Write it with {advice}.",
    "not built": "{name}.get_weights() failed: is the layer built (called once)?",
    "not a layer": "{name} should be a Keras layer: a class that subclasses keras.layers.Layer, "
                   "as the skeleton's `class ...(keras.layers.Layer):` does. Received: {received}.",
    "returns pair": "With return_attention_scores=True, {name} should return (output, weights). "
                    "Received: {received}",
    "block returns pair": "With return_attention_scores=True, {name} should return (y, weights). "
                          "Received: {received}",
    "rows sum": "{what}: each row (one query's weights over the keys) should sum to 1; received "
                "row sums such as {sums}",
    "weights order": "{name} holds weights of shapes {got}; expected, in this order:\n{rows}\n"
                     "  Create them in build() as the skeleton does (and do not create others).",
    # grader.judging
    "scores zero": "{problem}: this cell scores zero.",
    "scores zero raised": "{problem}: this cell scores zero.\n  The cell raised {error}",
    "refused": "your answer uses {calls}, which does this exercise for you: it earns no "
               "points. Write it with {advice} instead.",
    "not judged": "the results handed back could not be judged ({error})",
    "not text": "the results are not text of at most {n} MiB",
    "not the calls": "the results are not those of {exercise}'s {n} calls",
    "not numbers": "The result of {called} cannot be read as numbers: {error}",
    "memory unverified": "{what} could not be run under a memory limit on the grading machine "
                         "({why}): these points are left to your instructor's review.",
    "held": "{what} held {n0} MiB at its peak, while the full scores take {n1} MiB: it matches "
            "{description}.",
    "logits at step": "the logits of decode_step at step {n}",
    "cache after step": "After step {n0} the cache should be (2, B, t + 1, H, key_dim) = "
                        "{expected}. Received: {received}",
    "not most likely": "At step {n} the ids are not the most likely tokens given the ids before "
                       "them. Feed each step's argmax back as the next step's token, and return "
                       "the chosen tokens, not START.",
    # grader.terminal_report, grader.submit
    "total": "{n0} / {n1} points",
    "kept in": "attempt {student}, kept in {folder}",
    "not read": "{name}.ipynb: not read ({why})",
    "did not pass": "{grade_id} did not pass",
    "feedback": "feedback: {path}",
    "not a lesson": "{path} is not a lesson of this course (lessons: {lessons})",
    "no notebook": "{path} holds no notebook",
    "no such path": "{path} does not exist",
    "sandboxed": "sandbox: bubblewrap — no network, no answer key, no access to solutions/, the "
                 "gradebook or other submissions; {limits}",
    "not sandboxed": "sandbox: NONE ({reason}) — kernels run with {limits} and a reduced "
                     "environment, but student code can read every file this user can read and "
                     "import the answer key",
    "cgroup limits": "{memory} (/tmp and /dev/shm included), {processes} processes and threads, "
                     "and CPU weight {n} per kernel, in a control group",
    "no cgroup limits": "{memory} per kernel process, NO control group ({reason}): no limit on a "
                        "kernel's processes, its /tmp counts apart, its CPU share grows with its "
                        "processes",
    "memory limit": "{n} MiB of memory",
    "handed to the grader": "{exercise}: results handed to the grader, which scores them "
                            "outside this kernel.",
    "exported": "Saved {names} to {path}: the later lessons use them.",
    "export undefined": "Warning: the saved code uses {names}, which {file} does not define. Add "
                        "the functions or classes it needs to this export cell.",
    "own answer used": "{name}: yours, from lesson {lesson} ({path}).",
    "stand-in used": "{name}: using {fallback}: {reason}.",
    "export missing": "finish lesson {lesson} and run its export cell to use your own",
    "export broken": "{path} does not load ({error})",
    "step fails": "Your decode_step does not run on this model ({error}): the given step writes "
                  "instead.",
    "step differs": "Your decode_step's logits differ from the full pass's by {gap} on this "
                    "model: the given step writes instead.",
    "blockwise memory": "✓ blockwise_attention on Tq={n0}, Tk={n1} held {n2} MiB at its peak, "
                        "while the full scores take {n3} MiB.",
    "versions": "TensorFlow {tensorflow}, Keras {keras} ({backend} backend)",
    "gpus": "GPUs: {gpus}",
    "tf32": "TensorFloat-32: {state}",
    "tf32 on cpu": "TensorFloat-32: {state} (matters on GPUs only)",
}

#: phrases: words inside code-like text (``{shape}`` a tuple, ``{n}`` a number)
PHRASES = {
    "list of arrays": "list of {n} arrays of shape {shape}",
    "tuple of arrays": "tuple of {n} arrays of shape {shape}",
    "array": "array of shape {shape}",
    "float": "a float",
    "stand-in model": "a stand-in model (multiplier {n})",
}
