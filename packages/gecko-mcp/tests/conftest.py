"""Real MCP servers as separate processes: the SDK server in sdk_server.py, over stdio and HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SDK_SERVER = Path(__file__).with_name("sdk_server.py")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll until something accepts connections on 127.0.0.1:``port`` (or the process dies)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode} before listening"
                ) from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} after {timeout} s") from None
            time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def start_http() -> Iterator[Callable[..., str]]:
    """``start_http(*argv)``: run ``argv`` with PORT replaced by a free port; return its /mcp URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, cwd: Path | None = None) -> str:
        port = free_port()
        command = [part.replace("PORT", str(port)) for part in argv]
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
        processes.append(process)
        wait_for_port(port, process)
        return f"http://127.0.0.1:{port}/mcp"

    yield start
    for process in processes:
        stop(process)


@pytest.fixture
def sdk_http_url(start_http: Callable[..., str]) -> str:
    """The test SDK server over streamable HTTP."""
    return start_http(sys.executable, str(SDK_SERVER), "--http", "PORT")
