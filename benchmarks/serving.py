"""What the phone-line benchmarks share: gunicorn on 127.0.0.1 with the production config, fresh databases, frontdoor's environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scratch_postgres import scratch_database  # noqa: E402

PUBLIC = "https://frontdoor.example.com"
SERVER_CONFIG = "python:frontdoor.gunicorn_config"
START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int, threads: int = 1, extra: Sequence[str] = ()) -> list[str]:
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else ["--worker-class", "sync"]
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), *worker_class,
        "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", *extra, app,
    ]


@contextmanager
def serving(command: list[str], environ: dict[str, str], ready_path: str, log_path: Path) -> Iterator[str]:
    """Start gunicorn, wait until it answers ``ready_path``, and always stop it (also on Ctrl-C)."""
    port = int(command[command.index("--bind") + 1].rsplit(":", 1)[1])
    base = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until_up(process, base + ready_path, log_path)
            yield base
        finally:
            stop(process)


def wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start ({url}):\n{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def fresh_database(folder: Path, postgres_url: str | None) -> Iterator[str]:
    """A new, empty database URL: SQLite in ``folder``, or a database created on the PostgreSQL server."""
    if not postgres_url:
        yield f"sqlite:///{folder / 'frontdoor.db'}"
        return
    with scratch_database(postgres_url, "frontdoor_bench") as url:
        yield url


def frontdoor_environment(folder: Path, database_url: str, **settings: str) -> dict[str, str]:
    """frontdoor configured only through the environment, as in production; ``settings``: more variables."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "FRONTDOOR_DATABASE_URL": database_url,
        "FRONTDOOR_PUBLIC_URL": PUBLIC,
        **settings,
    }
