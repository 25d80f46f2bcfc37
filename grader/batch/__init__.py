"""Autograding a batch of submissions: the jobs, the worker that grades one submission in
a slot of its own, the gradebook writer, and the two schedulers (a local pool, a dask cluster)."""
