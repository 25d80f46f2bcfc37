"""Work that nbgrader repeats for every submission, done once per grading process instead.

nbgrader's results do not change; only how often it pays for them:

* **One SQLAlchemy engine per database.** nbgrader opens its ``Gradebook`` about ten times per
  autograded submission (the converter, each preprocessor that reads or writes grades), and
  each ``Gradebook`` creates an engine of its own. A new engine has an empty cache of compiled
  SQL, so every query is compiled again, every time: about 28 ms of CPU per ``Gradebook``
  against 10 ms with one engine kept per database URL (``benchmarks/bench_autograde.py``
  profiles a batch). ``Gradebook.close()`` still disposes of the engine's connections, as
  before; the engine itself, and its compiled SQL, stay.
* **nbgrader's cell-metadata schema checked once.** nbgrader validates each graded cell's
  metadata with ``jsonschema.validate``, which first checks that the *schema* is valid, for
  every cell, several times per submission. Here the schema is checked once and its validator
  kept; each cell is validated with it exactly as ``jsonschema.validate`` would.

:func:`apply` turns both on in this process (grading workers, ``course submit``, the process
that writes a batch's scores). A process forked afterwards drops the engines it inherited
without closing their connections, which still belong to its parent.
"""

from __future__ import annotations

import json
import os
import threading

_engines: dict[tuple, object] = {}
_lock = threading.Lock()
_applied = False


def _forget_inherited_engines() -> None:
    """In a forked child: the parent's connections are not this process's to close."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def _shared_engine_factory(create_engine):
    def shared_engine(url, **options):
        key = (str(url), tuple(sorted(options.items())))
        with _lock:
            if key not in _engines:
                _engines[key] = create_engine(url, **options)
            return _engines[key]
    return shared_engine


class _SchemaOnceChecked:
    """Stands in for the ``jsonschema`` module where nbgrader validates cell metadata:
    ``validate(instance, schema)`` as ``jsonschema.validate`` does it, with one checked
    validator kept per schema."""

    def __init__(self, jsonschema):
        self.jsonschema = jsonschema
        self.validators = {}

    def validate(self, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        validator = self.validators.get(key)
        if validator is None:
            cls = self.jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self.validators[key] = cls(schema)
        error = self.jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):  # everything else: the module's own
        return getattr(self.jsonschema, name)


def apply() -> None:
    """Share engines and check the metadata schema once, in this process (idempotent)."""
    global _applied
    if _applied:
        return
    import jsonschema
    import nbgrader.api
    import nbgrader.nbgraderformat.common as metadata_format

    nbgrader.api.create_engine = _shared_engine_factory(nbgrader.api.create_engine)
    metadata_format.jsonschema = _SchemaOnceChecked(jsonschema)
    os.register_at_fork(after_in_child=_forget_inherited_engines)
    _applied = True
