"""A real PostgreSQL server for the tests: Debian's server binaries (``apt-get install
postgresql``, under ``/usr/lib/postgresql/<version>/bin``), on 127.0.0.1 and a free port.

The cluster lives in a fresh temporary folder with one role, ``grader``, that logs in with a
password (SCRAM) as the course's graders would. PostgreSQL refuses to run as root, so under
root (CI) ``initdb`` and the server run as the ``postgres`` user the package creates, in a
folder that user owns. Durability is off (``fsync``) and the server stops without a checkpoint:
the cluster is thrown away afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "grader-secret"
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{folder}'
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def server_binaries() -> Path | None:
    """The newest PostgreSQL's ``bin`` folder with ``initdb``, ``pg_ctl`` and ``postgres``."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [p for p in found if (p / "pg_ctl").is_file() and (p / "postgres").is_file()]
    return max(found, key=lambda p: float(p.parent.name), default=None)


def why_not_available() -> str | None:
    """Why no server can be started here (a reason for ``pytest.skip``), or None."""
    if server_binaries() is None:
        return ("PostgreSQL's server binaries are not installed "
                "(/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "PostgreSQL cannot run as root, and runuser is missing to run it as postgres"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    port: int
    user: str = "grader"
    password: str = PASSWORD

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database``, as ``--db-url`` takes it (driver: psycopg 3)."""
        return (f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/"
                f"{database}")

    def connect(self, database: str = "postgres"):
        """A psycopg connection to ``database``, in autocommit mode."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user,
                               password=self.password, dbname=database, autocommit=True)

    def create_database(self, name: str) -> str:
        """Create an empty database; return its URL."""
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a PostgreSQL server in a temporary folder; stop it and remove the folder after."""
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    data, log = folder / "data", folder / "server.log"
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")

    def run(*command: str) -> None:
        done = subprocess.run(_as_server_user([str(binaries / command[0]), *command[1:]]),
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            server_log = log.read_text() if log.is_file() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}).\nReceived: "
                               f"{done.stdout}{done.stderr}{server_log}")

    server = PostgresServer(port=free_port())
    try:
        run("initdb", "-D", str(data), "-U", server.user, f"--pwfile={password_file}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync")
        with (data / "postgresql.conf").open("a") as settings:
            settings.write(SETTINGS.format(port=server.port, folder=folder))
        run("pg_ctl", "start", "--wait", "-D", str(data), "-l", str(log))
        try:
            yield server
        finally:
            run("pg_ctl", "stop", "--wait", "--mode=immediate", "-D", str(data))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
