"""nbgrader configuration of the course.

Used by the ``course`` command (which loads this file) and usable with plain ``nbgrader``,
which reads ``nbgrader_config.py`` from the folder it runs in: ``cd grader && nbgrader
autograde 02_softmax`` (or symlink this file into that folder, or into ``~/.jupyter/``). Plain
``nbgrader autograde`` needs the seeds of the submissions' graded cells, which ``course
autograde`` draws for each submission: ``--PlantProbes.seeds_file=FILE`` (``grader.judging.seeds``).
All runtime state (the gradebook, submissions, feedback, the exchange) lives in one
folder, ``course_state/`` at the top of the repository unless ``COURSE_STATE_DIR`` names
another; the gradebook is SQLite there unless ``COURSE_DB_URL`` gives another SQLAlchemy URL
(e.g. ``postgresql+psycopg://grader@host/course``).

Student code runs in the ``course-grading`` kernel (``grader/kernels/``, launched by
``grader/kernel/sandbox.py``): memory-limited and, where bubblewrap works, without network or access
to ``solutions/`` and the gradebook. Environment knobs: ``COURSE_CELL_TIMEOUT`` (seconds per
cell), ``COURSE_KERNEL_MEMORY_MB``, ``COURSE_KERNEL_PROCESSES``, ``COURSE_KERNEL_CPU_WEIGHT``,
``COURSE_SANDBOX`` and ``COURSE_WARM_KERNELS``: ``course settings`` lists them all, with their
defaults (``grader/settings.py``).
"""

import os
from importlib.util import find_spec
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from course_lib.validation import COURSE_ID
from grader.settings import Settings
from grader.state import course_settings, read_schema_version_in_process

c = get_config()  # noqa: F821 — provided by traitlets when this file is loaded

# Where the state lives, the gradebook, the exchange and the cell timeout: from the environment
# here (``course`` passes them as arguments to ``grader.state.load_config`` instead).
c.merge(course_settings())
read_schema_version_in_process()  # a new gradebook learns its schema version without a subprocess
c.CourseDirectory.course_id = COURSE_ID  # the learner install uses the same

# Student versions: a stub that fails loudly, hidden tests removed.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: each cell gets this long (an infinite loop costs that cell, not the batch);
# locked and test cells come back from the gradebook, deleted ones too.
c.Execute.interrupt_on_timeout = True
c.Execute.shutdown_kernel = "immediate"  # a fresh kernel per submission: no graceful goodbye
c.OverwriteCells.add_missing_cells = True
# nbconvert validates the whole notebook after each of the ten or so preprocessors of a pass;
# once, after the last, still stops an invalid notebook from being written
c.Exporter.optimistic_validation = True

# The grading kernel: found in grader/kernels/ by its manager, talking over Unix sockets (it
# has no network). The manager hands each kernel's launcher the settings it reads (its memory
# limit, the sandbox): those of this configuration's environment, as plain nbgrader sees them
# (the ``course`` command gives its own in the configuration it loads from here).
GRADER = Path(__file__).resolve().parent
c.Execute.kernel_name = "course-grading"
# the kernel client skips 0.2 s of silence at start, and its manager 0.1 s at stop
c.AsyncKernelManager.client_factory = "grader.kernel.kernel_client.ReadyClient"
c.Execute.kernel_manager_class = "grader.kernel.kernel_client.QuickStopKernelManager"
c.QuickStopKernelManager.environment = Settings.from_environment(os.environ).environment()
c.KernelManager.transport = "ipc"
os.makedirs(jupyter_runtime_dir(), exist_ok=True)
c.KernelManager.ip = os.path.join(jupyter_runtime_dir(), f"kernel-ipc-{os.getpid()}")

# Grading: graded cells become probes (seeds drawn per submission, grader/judging/seeds.py), the
# notebook
# runs in the sandboxed kernel, and the judge scores every graded cell from the probes' data alone.
# A dead kernel (memory, os._exit) costs what did not run, not the submission.
c.Autograde.autograde_preprocessors = [
    "grader.judging.autograde.PlantProbes",
    "grader.preprocessors.RobustExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "grader.judging.autograde.Judge",
    "grader.judging.feedback_language.RestoreLanguage",  # a learner's language back on the page
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Feedback: scores and reasons, never the hidden tests' code or the answer key's.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grader.preprocessors.HideTestsInFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# ... on a page that renders its formulas offline: nbgrader's feedback template with MathJax
# written into the page (grader/offline_math.py). Only feedback: the formgrader's pages keep
# nbgrader's HTMLExporter settings.
c.GenerateFeedback.exporter_class = "grader.offline_math.FeedbackExporter"
c.FeedbackExporter.template_name = "course_feedback"
c.FeedbackExporter.extra_template_basedirs = [
    str(GRADER / "templates"),
    str(Path(find_spec("nbgrader").origin).parent / "server_extensions" / "formgrader"
        / "templates"),  # nbgrader's own, where its feedback template lives
]

# TensorFlow, Keras and NumPy warnings go to stderr, and nbgrader scores any cell with stderr
# output zero: drop those messages before grading (errors are outputs of another kind and stay).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^(WARNING: All log messages|[IWEF]\d{4} \d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    r"|.*Warning\b|.*warnings\.warn|To enable the following instructions|.*TensorFlow"
    r"|.*cuda|.*oneDNN|.*XLA|.*absl)"
)
