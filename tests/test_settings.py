"""The course's settings (grader/settings.py): one default each, read from the environment
with messages that name the variable and the value, and handed to spawned processes."""

import dataclasses

import pytest

from course_lib import validation
from grader.settings import DEFAULT_MEMORY_MB, Settings


def test_defaults_when_the_environment_sets_nothing():
    settings = Settings.from_environment({})
    assert settings == Settings()
    assert settings.cell_timeout == validation.DEFAULT_CELL_TIMEOUT
    assert settings.sandbox == "auto" and settings.warm_kernels and settings.submit_server
    assert settings.exchange == settings.state_dir / "exchange"


def test_every_setting_has_a_variable_and_a_help_text():
    variables = [spec.metadata["variable"] for spec in dataclasses.fields(Settings)]
    assert len(set(variables)) == len(variables)
    assert all(name.startswith("COURSE_") for name in variables)
    assert all(help_text for *_, help_text in Settings().rows())


def test_values_are_read_and_checked(tmp_path):
    settings = Settings.from_environment({
        "COURSE_STATE_DIR": str(tmp_path), "COURSE_SANDBOX": "OFF", "COURSE_WARM_KERNELS": "0",
        "COURSE_KERNEL_MEMORY_MB": "512", "COURSE_CELL_TIMEOUT": "5", "COURSE_DB_URL": ""})
    assert settings.state_dir == tmp_path and settings.sandbox == "off"
    assert not settings.warm_kernels and settings.memory_limit_mb == 512
    assert settings.cell_timeout == 5 and settings.db_url is None  # empty: unset


@pytest.mark.parametrize(("variable", "value"), [
    ("COURSE_CELL_TIMEOUT", "0"), ("COURSE_CELL_TIMEOUT", "soon"), ("COURSE_SANDBOX", "docker"),
    ("COURSE_KERNEL_CPU_WEIGHT", "20000"), ("COURSE_KERNEL_PROCESSES", "-1"),
    ("COURSE_WARM_KERNELS", "maybe"), ("COURSE_SUBMIT_SERVER_IDLE", "-5")])
def test_a_bad_value_names_its_variable_and_what_was_received(variable, value):
    with pytest.raises(ValueError, match=rf"^{variable} must be .*Received: '{value}'$"):
        Settings.from_environment({variable: value})


def test_command_line_options_replace_only_what_they_give():
    settings = Settings().updated(cell_timeout=7, db_url=None)
    assert settings.cell_timeout == 7 and settings.db_url is None
    with pytest.raises(ValueError, match="Received: -3"):
        Settings().updated(cell_timeout=-3)


def test_a_spawned_process_reads_back_the_same_settings(tmp_path):
    settings = Settings(state_dir=tmp_path, sandbox="off", warm_kernels=False, cell_timeout=9,
                        submit_server_idle=2.5)
    env = settings.environment()
    assert env["COURSE_SANDBOX"] == "off" and env["COURSE_WARM_KERNELS"] == "0"
    assert env["COURSE_KERNEL_MEMORY_MB"] == str(settings.memory_limit_mb)  # resolved here
    assert Settings.from_environment(env) == dataclasses.replace(
        settings, kernel_memory_mb=settings.memory_limit_mb)


def test_the_memory_limit_default_depends_on_a_gpu(monkeypatch):
    monkeypatch.setattr("os.path.exists", lambda path: path == "/dev/nvidiactl")
    assert Settings().memory_limit_mb == 0
    monkeypatch.setattr("os.path.exists", lambda path: False)
    assert Settings().memory_limit_mb == DEFAULT_MEMORY_MB
    assert Settings(kernel_memory_mb=0).memory_limit_mb == 0
