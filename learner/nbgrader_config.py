"""nbgrader configuration of the learner install, installed as ``etc/jupyter/nbgrader_config.py``
in the learner's environment: Validate and the Assignments tab run with the course's settings
(``course_lib.validation``): its id, its exchange and its time limit per cell."""

from course_lib.validation import learner_settings

c = get_config()  # noqa: F821 — provided by traitlets when this file is loaded
c.merge(learner_settings())
