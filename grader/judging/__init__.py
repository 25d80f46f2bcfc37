"""Judging outside the learner's kernel: the seeds, the probe's wire format, the judges, the
wrong variants they name, and the own-work policy."""
