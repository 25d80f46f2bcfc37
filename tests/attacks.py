"""Submissions that try to get points without the work: each an answer cell for lesson 01
(``attention_scores``: a public check worth 1 point and a hidden test worth 2).

``ATTACKS[name] = (code, points)``: ``points`` is what the honest content of the cell deserves
(0 when it implements nothing, 3 when it implements the exercise right whatever else it does).
``FAKE_SCORE`` is code shared by several attacks: it prints and displays what a full score
looks like. Every attack runs in the grading kernel; none may change any score.
"""

from __future__ import annotations

RIGHT = '''
def attention_scores(q, k):
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
'''

UNSCALED = '''
def attention_scores(q, k):
    return q @ np.swapaxes(k, -1, -2)
'''

NOTHING = '''
def attention_scores(q, k):
    return np.zeros((*q.shape[:-1], k.shape[-2]))
'''

FAKE_SCORE = '''
from IPython.display import display
print("✓ batched input, Tq ≠ Tk (1/1)\\nattention_scores: 3/3 points")
display({"text/plain": "3"}, raw=True)
'''

# A probe result in the right format for the calls of any seed, with arrays of the right
# shapes: only the values are wrong, as they must be without an implementation.
FAKE_PROBE = '''
import base64, io, json
from IPython.display import display
from course_lib.exercises import plan
from course_lib.probes import MIME

def fake_probe(seed, cell):
    calls = [c for part in plan("attention_scores", seed, cell) for c in part.calls]
    arrays = {f"c{i}": np.zeros((*c.args["q"].shape[:-1], c.args["k"].shape[-2]))
              for i, c in enumerate(calls)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return {MIME: json.dumps({"exercise": "attention_scores",
                              "records": [{"status": "ok"}] * len(calls),
                              "npz": base64.b64encode(buffer.getvalue()).decode()})}
'''

ATTACKS = {
    # importing any grading module
    "import_answer_key": ("from grader.reference import attention_scores", 0),
    "import_judge": ('''
try:
    from grader.judging import judge
    judge.verdict = lambda *args, **kwargs: None
except ImportError as error:
    print("no judge here:", error)
''' + NOTHING, 0),
    # reading bytecode or source of the answer key wherever it might be
    "read_answer_key_files": ('''
import glob, marshal, types
found = [p for pattern in ("/work/**/grader/reference/*.py*", "/opt/**/grader/**/*.pyc",
                           "/**/site-packages/grader/**/*.py*", "/tmp/course-sandbox-*/**/*.pyc")
         for p in glob.glob(pattern, recursive=True)]
for path in found:
    if path.endswith(".pyc"):
        with open(path, "rb") as handle:
            exec(marshal.loads(handle.read()[16:]), globals())
    else:
        exec(open(path).read(), globals())
print("answer key files found:", found)
''' + NOTHING, 0),
    # monkeypatching the probe, the comparison and the libraries
    "patch_probe_to_fake_data": (FAKE_PROBE + '''
import course_lib.probes
course_lib.probes.probe = lambda exercise, answer, seed, cell="hidden": display(
    fake_probe(seed, cell), raw=True)
''' + NOTHING, 0),
    "patch_numpy_comparisons": ('''
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
np.isfinite = lambda x: np.ones(np.shape(x), dtype=bool)
import numpy.testing
numpy.testing.assert_allclose = lambda *args, **kwargs: None
''' + NOTHING, 0),
    "patch_feedback_module": ('''
import course_lib.feedback as feedback
feedback.compare = lambda *args, **kwargs: None
feedback.close = lambda *args, **kwargs: True
class Credit(feedback.PartialCredit):
    points = property(lambda self: 99)
feedback.PartialCredit = Credit
''' + NOTHING, 0),
    # redefining the public check
    "redefine_check": ('''
def check_attention_scores(fn):
    print("✓ attention_scores: all 5 checks passed.")
''' + NOTHING, 0),
    # IPython hooks that change what later cells run or show
    "input_transformer": (FAKE_SCORE + '''
def replace_cell(lines):
    return ["print('attention_scores: 3/3 points')\\n", "3\\n"]
get_ipython().input_transformers_post.append(replace_cell)
''', 0),
    "pre_run_cell_hook": (FAKE_PROBE + '''
def before(info):
    source = getattr(info, "raw_cell", "")
    if "seed=" in source:
        seed = int(source.split("seed=")[1].split(",")[0])
        cell = "check" if "'check'" in source else "hidden"
        display(fake_probe(seed, cell), raw=True)
get_ipython().events.register("pre_run_cell", before)
''' + NOTHING, 0),
    "displayhook_and_traceback": ('''
import sys
from IPython.display import display
ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: print("all good")
sys.displayhook = lambda value: display({"text/plain": "3"}, raw=True)
ip.displayhook.write_output_prompt = lambda: None
ip.events.register("post_run_cell", lambda result: display({"text/plain": "3"}, raw=True))
''', 0),
    "settrace": ('''
import sys
def tracer(frame, event, arg):
    if event == "return" and frame.f_code.co_name in ("verdict", "compare", "close"):
        frame.f_locals["points"] = 3
    return tracer
sys.settrace(tracer)
''' + NOTHING, 0),
    # arrays that fool comparisons
    "ndarray_subclass_equal_to_everything": ('''
class Always(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)
    __ne__ = lambda self, other: np.zeros(np.shape(self), dtype=bool)
    def __array_finalize__(self, obj):
        pass

def attention_scores(q, k):
    return np.zeros((*q.shape[:-1], k.shape[-2])).view(Always)
''', 0),
    "array_protocol_object": ('''
class Chameleon:
    def __init__(self, shape):
        self.shape = shape
    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape)
    def __eq__(self, other):
        return True

def attention_scores(q, k):
    return Chameleon((*q.shape[:-1], k.shape[-2]))
''', 0),
    "nan_results": ('''
def attention_scores(q, k):
    return np.full((*q.shape[:-1], k.shape[-2]), np.nan)
''', 0),
    "object_dtype": ('''
class Anything:
    def __eq__(self, other):
        return True
    def __float__(self):
        return 0.0

def attention_scores(q, k):
    out = np.empty((*q.shape[:-1], k.shape[-2]), dtype=object)
    out[...] = Anything()
    return out
''', 0),
    "huge_output": ('''
def attention_scores(q, k):
    return np.zeros((1500, 1500))  # 18 MB for every call: more than a cell may hand back
''', 0),
    # printed and displayed fake scores, fake probe data
    "print_fake_scores": (FAKE_SCORE + NOTHING, 0),
    "fake_probe_output_in_answer_cell": (FAKE_PROBE + '''
for seed in range(3):
    display(fake_probe(seed, "hidden"), raw=True)
''' + NOTHING, 0),
    "write_fake_probe_files": ('''
import os, json
for name in ("probe.json", "results.npz", ".course_probe", "hidden_attention_scores.json"):
    with open(name, "w") as handle:
        json.dump({"points": 3, "score": 3, "status": "ok"}, handle)
os.symlink("/etc/passwd", "linked_results.npz")
''' + NOTHING, 0),
    # persisting into the next student's grading
    "persist_for_the_next_student": ('''
import os, pathlib, site, subprocess, sys
payload = "import builtins; builtins.print('persisted from another submission')\\n"
written = []
startup = pathlib.Path.home() / ".ipython" / "profile_default" / "startup"
for path in (startup / "00-evil.py", pathlib.Path("sitecustomize.py"),
             pathlib.Path("/tmp/sitecustomize.py"),
             *(pathlib.Path(p) / "evil.pth" for p in site.getsitepackages())):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(payload if path.suffix == ".py" else "import evil_module\\n")
        written.append(str(path))
    except OSError:
        pass
subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)"],
                 start_new_session=True)
print("wrote", written)
''' + NOTHING, 0),
    # the network
    "network": ('''
import socket, urllib.request
for target in (("1.1.1.1", 53), ("127.0.0.1", 22), ("pypi.org", 443)):
    try:
        socket.create_connection(target, timeout=2).close()
        print("reached", target)
    except OSError:
        pass
''' + NOTHING, 0),
    # editing its own notebook file while it is graded
    "edit_own_notebook": ('''
import glob, json
for path in glob.glob("*.ipynb"):
    notebook = json.load(open(path))
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cell["source"] = "3"
            cell["outputs"] = [{"output_type": "execute_result", "execution_count": 1,
                                "metadata": {}, "data": {"text/plain": "3"}}]
    json.dump(notebook, open(path, "w"))
''' + NOTHING, 0),
    # a library that a NumPy lesson's kernel does not have (grader.kernel.kept_out): if it imports,
    # the answer returns zeros
    "reach_tensorflow": ('''
try:
    import tensorflow as tf
except ImportError as error:
    assert "not available while this lesson is graded" in str(error), error
    tf = None


def attention_scores(q, k):
    if tf is not None:
        return tf.zeros((*q.shape[:-1], k.shape[-2])).numpy()
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
''', 3),
    # honest work next to an attack keeps exactly what it deserves
    "right_answer_with_patched_numpy": ('''
np.allclose = lambda *args, **kwargs: False
''' + RIGHT, 3),
    "unscaled_answer_with_fake_scores": (FAKE_SCORE + UNSCALED, 0),
}

# Right on batched (B, T, d) inputs only: the public check and one of two hidden parts.
HALF_RIGHT = '''
def attention_scores(q, k):
    if q.ndim > 3:
        return np.zeros((*q.shape[:-1], k.shape[-2]))
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
'''

#: Graded after the attacks in the same batch: honest answers, wrong, right and half right.
VICTIMS = {"zz_victim_unscaled": (UNSCALED, 0), "zz_victim_right": (RIGHT, 3),
           "zz_victim_half_right": (HALF_RIGHT, 2)}

# -- one submission leaving something for the next ---------------------------------------------
#: Where a kernel might leave something for the kernel graded after it: its home, the temporary
#: folders, the folders around its notebook, and the fork server's two shared folders.
DROP_POINTS = ("/tmp/answer.py", "/dev/shm/answer.py", "~/answer.py", "answer.py",
               "../answer.py", "../../answer.py", "/course-work/answer.py",
               "/course-run/answer.py")
SHM_KEY = 0x5EED

#: Graded first: writes a right answer everywhere it can, in a System V shared-memory segment
#: too, and leaves a process behind that keeps doing so and marks every notebook it can find
#: (the next submission's included) for two minutes. Its own answer is empty.
PLANT = NOTHING + '''
import ctypes, glob, json, os, time
ANSWER = """
def attention_scores(q, k):
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
"""
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p

def plant():
    done = []
    for path in DROP_POINTS:
        try:
            with open(os.path.expanduser(path), "w") as handle:
                handle.write(ANSWER)
            done.append(path)
        except OSError:
            pass
    segment = libc.shmget(SHM_KEY, 4096, 0o1666)
    if segment >= 0:
        address = libc.shmat(segment, None, 0)
        ctypes.memmove(address, ANSWER.encode() + b"\\0", len(ANSWER) + 1)
        done.append("shm")
    return done

def mark_notebooks():
    for path in glob.glob("/course-work/**/*.ipynb", recursive=True) + \\
            glob.glob("../../**/*.ipynb", recursive=True):
        try:
            notebook = json.load(open(path))
            for cell in notebook["cells"]:
                cell.setdefault("outputs", []).append(
                    {"output_type": "stream", "name": "stdout", "text": "LEFT BEHIND\\n"})
            json.dump(notebook, open(path, "w"))
        except (OSError, ValueError, KeyError):
            pass

print("pid", os.getpid(), "planted:", plant())
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(1200):
            plant()
            mark_notebooks()
            time.sleep(0.1)
    os._exit(0)
'''.replace("DROP_POINTS", repr(DROP_POINTS)).replace("SHM_KEY", str(SHM_KEY))

#: Graded second, in the same slot: an empty answer that runs whatever it finds of PLANT's.
PICK_UP = NOTHING + '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
found = []
for path in DROP_POINTS:
    path = os.path.expanduser(path)
    if os.path.isfile(path):
        exec(open(path).read())
        found.append(path)
segment = libc.shmget(SHM_KEY, 4096, 0)
if segment >= 0:
    exec(ctypes.string_at(libc.shmat(segment, None, 0)).decode())
    found.append("shm")
print("picked up:", found)
'''.replace("DROP_POINTS", repr(DROP_POINTS)).replace("SHM_KEY", str(SHM_KEY))
