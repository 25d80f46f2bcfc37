"""What a library kept out of a lesson's grading kernel holds there (``grader.kernel.kept_out``):
bubblewrap binds this file over the library's ``__init__.py``, in an empty folder."""

MESSAGE = (f"{__name__} is not available while this lesson is graded: the lesson does not "
           "need it, so the grader keeps it out of the grading kernel")
raise ImportError(MESSAGE)
