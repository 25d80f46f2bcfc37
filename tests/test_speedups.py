"""What a grading process does once instead of per submission (``grader/speedups.py``): the
results are nbgrader's own. Every autograde of the suite runs with them; the scores of a batch
equal plain nbgrader's (``tests/test_lesson_10.py`` and the autograde benchmark)."""

from __future__ import annotations

import os

import jsonschema
import nbgrader.api
import pytest
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator

from grader import speedups
from grader.state import read_schema_version_in_process


@pytest.fixture(autouse=True)
def applied():
    read_schema_version_in_process()  # a new gradebook: no `alembic` subprocess
    speedups.apply()


def test_one_engine_per_database_and_gradebooks_still_close(tmp_path):
    first, other = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    with Gradebook(first) as gb:
        gb.add_student("ada")
        engine = gb.engine
    with Gradebook(first) as gb:
        assert gb.engine is engine  # its compiled SQL kept
        assert [s.id for s in gb.students] == ["ada"]
    with Gradebook(other) as gb:
        assert gb.engine is not engine and gb.students == []
    assert engine.pool.checkedout() == 0  # closing still gave its connections back


def test_a_forked_process_does_not_use_its_parents_engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with Gradebook(url) as gb:
        parent_engine = gb.engine
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        with Gradebook(url) as gb:
            os.write(write, b"same" if gb.engine is parent_engine else b"new")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 16) == b"new"
    with Gradebook(url) as gb:
        assert gb.engine is parent_engine


def test_cell_metadata_is_validated_as_jsonschema_does():
    validator = MetadataValidator()
    good = {"grade": True, "solution": False, "locked": True, "grade_id": "scores-test",
            "points": 2, "schema_version": 3}
    for bad in ({**good, "points": "two"}, {**good, "grade": "yes"},
                {**good, "grade_id": 5}):
        with pytest.raises(jsonschema.ValidationError) as ours:
            validator.validate_cell(_cell(bad))
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(bad, validator.schema)
        assert ours.value.message == theirs.value.message
    validator.validate_cell(_cell(good))
    assert nbgrader.api.create_engine.__name__ == "shared_engine"


def _cell(metadata: dict):
    from nbformat.v4 import new_code_cell

    return new_code_cell("x = 1", metadata={"nbgrader": metadata})
