"""Copied work flagged: ``course similarity LESSON`` compares every pair of submissions of a
lesson, exercise by exercise, on the learners' own code, and writes a report beside the
grades. It only flags; it changes no grade.

* :mod:`.notebooks` — the learner's own code of each exercise, read from a submitted notebook;
* :mod:`.normalise` — that code in a canonical form (names, dead code, formatting), with
  :mod:`.order` — its statements in one canonical order;
* :mod:`.fingerprints` — winnowed fingerprints (copydetect) and the pairs that share rare ones;
* :mod:`.lesson` — a lesson's submissions compared;
* :mod:`.report` — the HTML report, and :mod:`.summary` — the summary ``course grades`` reads.
"""
