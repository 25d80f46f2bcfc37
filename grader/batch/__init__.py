"""Autograding a batch of submissions, given where the course lives (:mod:`grader.layout`):

* :mod:`~grader.batch.autograde`: ``autograde_batch``, what to grade and which scheduler grades it;
* :mod:`~grader.batch.jobs`: the job one submission is graded by, its result, the batch's report;
* :mod:`~grader.batch.grading`: the grading process, nbgrader's autograde in a private slot;
* :mod:`~grader.batch.gradebook`: the slots' private gradebooks, the one writer of the course's;
* :mod:`~grader.batch.slots`: the slots (private course folders) and their grading processes;
* :mod:`~grader.batch.local_pool`, :mod:`~grader.batch.cluster` (with
  :mod:`~grader.batch.cluster_worker` and :mod:`~grader.batch.cluster_trust`): the schedulers;
* :mod:`~grader.batch.workers`: how grading processes start, light enough for any command.

Nothing is imported here: a command that imports :mod:`grader.batch.workers` to start the fork
server early must not pay for nbgrader first (``autograde_batch`` is imported from
:mod:`grader.batch.autograde`).
"""
