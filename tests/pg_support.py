"""PostgreSQL for the tests: one server per test session, a fresh database per test.

``WORKBENCH_TEST_DATABASE_URL`` names a server to use (its role needs CREATEDB). Without it a
throwaway cluster is started with the PostgreSQL binaries found on ``PATH`` or under
``/usr/lib/postgresql/*/bin`` (Debian's layout): ``initdb`` + ``pg_ctl`` in a temp dir,
listening on a unix socket there only, as ``nobody`` when the tests run as root (initdb
refuses root), stopped and deleted when the session ends.

When no server can be had the PostgreSQL tests skip, except under ``CI`` (set in ``.ci/run``),
where they fail: CI must not go green by skipping the store it is meant to check.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

URL_VAR = "WORKBENCH_TEST_DATABASE_URL"
RUN_AS = "nobody"


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {why}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {why}")


class Cluster:
    """A throwaway PostgreSQL cluster in a temp dir, reachable on a unix socket there."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
        self.data = self.root / "data"
        self.user = RUN_AS if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        if os.geteuid() == 0:
            os.chown(self.root, pwd.getpwnam(RUN_AS).pw_uid, -1)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "--no-sync", "-E", "UTF8")
        options = (f"-c listen_addresses='' -c unix_socket_directories={self.root} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return f"postgresql://{self.user}@/postgres?host={self.root}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def _with_db(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    base, q, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    netloc = rest.split("/", 1)[0]
    return f"{scheme}://{netloc}/{name}{q}{query}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The admin URL of a server the tests may create databases on."""
    url = os.environ.get(URL_VAR)
    if url:
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        _unavailable(f"no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin, and {URL_VAR} is unset")
    cluster = Cluster(bindir)  # type: ignore[arg-type]
    try:
        url = cluster.start()
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        cluster.stop()
        _unavailable(f"starting a throwaway cluster with {bindir} failed: {detail}")
    try:
        yield url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL to a new, empty database, dropped after the test."""
    import psycopg

    name = f"wb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(pg_server, name)
    finally:
        from workbench.database import close_all

        close_all()  # stores the test left open would otherwise keep reconnecting to a dropped database
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
