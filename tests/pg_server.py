"""A throwaway PostgreSQL server for the tests, from the binaries the ``pgserver`` wheel ships.

PostgreSQL refuses to run as root; on a CI machine that runs the tests as root the server
runs as ``nobody`` instead (``setpriv``), with a data folder that user owns.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


def _bin_dir() -> Path:
    # Found, not imported: importing pgserver warns about XDG_RUNTIME_DIR on CI machines.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the PostgreSQL tests need the `pgserver` package (its wheel ships the server):"
            " run `make .venv/.installed`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """One server on 127.0.0.1; ``url(db)`` names a database on it (trust auth)."""

    port: int
    process: subprocess.Popen[bytes]
    root: Path
    log: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, template: str = "template1") -> str:
        # FILE_COPY: for a small template, far quicker than the default WAL_LOG.
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.url(name)

    def empty(self, database: str) -> str:
        """Delete every row and restart the ids: a fresh database, far quicker to get than
        ``CREATE DATABASE`` (which copies files) or ``TRUNCATE`` (new files per table)."""
        with psycopg.connect(self.url(database), autocommit=True) as conn, conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # no key checks
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename != 'hashchat_schema'"
            ).fetchall():
                conn.execute(f'DELETE FROM "{name}"')
            for (seq,) in conn.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall():
                conn.execute(f'ALTER SEQUENCE "{seq}" RESTART')
        return self.url(database)

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(timeout: float = 60.0) -> PgServer:
    """Start a server in a fresh temporary folder; raise with its log if it does not come up."""
    bins = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="hashchat-pg-"))
    data, log = root / "data", root / "server.log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        root.chmod(0o755)
        shutil.chown(root, "nobody", "nogroup")
    initdb = subprocess.run(
        [
            *as_user,
            str(bins / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if initdb.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed for the PostgreSQL tests:\n{initdb.stderr}")
    # Trust for the tests' own role; a password for the role ``secured``, so a test can
    # show that the configured password is the one used.
    (data / "pg_hba.conf").write_text(
        "host all secured 127.0.0.1/32 scram-sha-256\n"
        "host all all 127.0.0.1/32 trust\nlocal all all trust\n",
        encoding="utf-8",
    )
    port = _free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *as_user,
                str(bins / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(root),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PgServer(port, process, root, log)
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")
                server.stop()
                raise RuntimeError(f"the PostgreSQL test server did not start:\n{text}") from None
            time.sleep(0.05)
