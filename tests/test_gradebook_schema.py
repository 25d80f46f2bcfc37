"""The gradebook's schema version, read in-process instead of nbgrader's ``alembic heads``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from grader.state import gradebook_schema_version, read_schema_version_in_process


@pytest.mark.slow  # runs alembic in a subprocess
def test_the_version_read_in_process_is_alembics_head():
    from nbgrader.dbutil import _temp_alembic_ini

    alembic = Path(sys.executable).with_name("alembic")
    with _temp_alembic_ini("sqlite:////tmp/unused.db") as ini:
        head = subprocess.check_output([str(alembic), "-c", ini, "heads"], text=True)
    assert head.split()[0] == gradebook_schema_version()


def test_a_new_gradebook_gets_it_without_a_subprocess(tmp_path, monkeypatch):
    import nbgrader.api

    read_schema_version_in_process()

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(nbgrader.api.sp, "check_output", no_subprocess)
    with nbgrader.api.Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        version = gradebook.db.execute(
            text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == gradebook_schema_version()
