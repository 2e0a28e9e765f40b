"""Model catalogue, model resolution and downloads from a local HTTP server (resume, size and checksum checks)."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from frontdoor.settings import Settings
from frontdoor.voice.download import download_model
from frontdoor.voice.errors import ModelDownloadError, ModelError
from frontdoor.voice.models import BASE_URL_ENV, CATALOG, DEFAULT_MODEL, ModelSpec, installed_models, models_dir, resolve_model_dir


def model_zip(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(f"{name}/am/final.mdl", os.urandom(300_000))
        zipped.writestr(f"{name}/conf/model.conf", "--min-active=200\n")
        zipped.writestr(f"{name}/README", "test model\n")
    return buffer.getvalue()


class ModelServer:
    """Serves ``files`` with HTTP Range support; ``cut_after`` drops the first full response after that many bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.cut_after: int | None = None
        self.requests: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = server.files.get(self.path.lstrip("/"))
                server.requests.append(self.headers.get("Range"))
                if body is None:
                    self.send_error(404)
                    return
                wanted = self.headers.get("Range")
                start = int(wanted.split("=")[1].split("-")[0]) if wanted else 0
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.end_headers()
                    return
                self.send_response(206 if wanted else 200)
                if wanted:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if server.cut_after is not None and not wanted:
                    self.wfile.write(chunk[: server.cut_after])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(chunk)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archive() -> bytes:
    return model_zip(DEFAULT_MODEL)


@pytest.fixture
def server(archive: bytes) -> Iterator[ModelServer]:
    running = ModelServer({f"{DEFAULT_MODEL}.zip": archive, "garbage.zip": b"this is not a zip file" * 100})
    yield running
    running.close()


def spec(name: str = DEFAULT_MODEL, **fields: object) -> ModelSpec:
    return ModelSpec(name, "en-us", "1 MB", "test", **fields)  # type: ignore[arg-type]


def test_catalogue_has_the_official_english_models() -> None:
    names = [s.name for s in CATALOG]
    assert names[0] == DEFAULT_MODEL == "vosk-model-small-en-us-0.15" and "vosk-model-en-us-0.22-lgraph" in names
    assert CATALOG[1].url("https://alphacephei.com/vosk/models") == "https://alphacephei.com/vosk/models/vosk-model-en-us-0.22-lgraph.zip"


def test_download_unpacks_into_the_models_folder(server: ModelServer, tmp_path: Path) -> None:
    progress = io.StringIO()
    target = download_model(spec(), tmp_path, base_url=server.url, progress=progress)
    assert target == tmp_path / DEFAULT_MODEL and (target / "am" / "final.mdl").stat().st_size == 300_000
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".unpack-*"))
    assert "100%" in progress.getvalue() and "#" * 30 in progress.getvalue()
    assert download_model(spec(), tmp_path, base_url=server.url, progress=progress) == target
    assert len(server.requests) == 1


def test_an_interrupted_download_resumes_with_a_range_request(server: ModelServer, archive: bytes, tmp_path: Path) -> None:
    server.cut_after = 100_000
    with pytest.raises(ModelDownloadError, match="run the same command again to resume"):
        download_model(spec(), tmp_path, base_url=server.url, progress=io.StringIO())
    part = tmp_path / f"{DEFAULT_MODEL}.zip.part"
    assert part.stat().st_size == 100_000
    server.cut_after = None
    digest = hashlib.sha256(archive).hexdigest()
    target = download_model(spec(sha256=digest, size_bytes=len(archive)), tmp_path, base_url=server.url, progress=io.StringIO())
    assert server.requests == [None, "bytes=100000-"]
    assert (target / "README").read_text() == "test model\n"


def test_checksum_and_size_mismatches_remove_the_download(server: ModelServer, archive: bytes, tmp_path: Path) -> None:
    with pytest.raises(ModelDownloadError, match="SHA-256 mismatch"):
        download_model(spec(), tmp_path, base_url=server.url, progress=io.StringIO(), sha256="0" * 64)
    with pytest.raises(ModelDownloadError, match=f"expected {len(archive) + 1} bytes"):
        download_model(spec(size_bytes=len(archive) + 1), tmp_path, base_url=server.url, progress=io.StringIO())
    assert not list(tmp_path.iterdir())


def test_bad_archives_and_missing_files_are_reported(server: ModelServer, tmp_path: Path) -> None:
    with pytest.raises(ModelDownloadError, match="not a valid zip"):
        download_model(spec("garbage"), tmp_path, base_url=server.url, progress=io.StringIO())
    with pytest.raises(ModelDownloadError, match="HTTP 404"):
        download_model(spec("vosk-model-missing"), tmp_path, base_url=server.url, progress=io.StringIO())
    with pytest.raises(ModelDownloadError, match="cannot reach"):
        download_model(spec(), tmp_path, base_url="http://127.0.0.1:9", progress=io.StringIO())


def test_resolution_prefers_the_flag_then_settings_then_downloads(tmp_path: Path) -> None:
    settings = Settings()
    with pytest.raises(ModelError, match="frontdoor model download"):
        resolve_model_dir(settings)
    (models_dir(settings) / "vosk-model-en-us-0.22-lgraph" / "am").mkdir(parents=True)
    (models_dir(settings) / "vosk-model-en-us-0.22-lgraph" / "am" / "final.mdl").write_bytes(b"x")
    assert resolve_model_dir(settings).name == "vosk-model-en-us-0.22-lgraph"
    assert installed_models(settings) == ["vosk-model-en-us-0.22-lgraph"]
    assert resolve_model_dir(settings, str(tmp_path)) == tmp_path


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "frontdoor.cli", *args], capture_output=True, text=True, timeout=120, env={**os.environ, **env})


def test_model_commands_download_list_and_reject_unknown_names(server: ModelServer, tmp_path: Path) -> None:
    env = {BASE_URL_ENV: server.url, "FRONTDOOR_DATA_DIR": str(tmp_path)}
    result = cli("model", "download", env=env)
    assert result.returncode == 0, result.stderr
    assert f"installed in {tmp_path / 'models' / DEFAULT_MODEL}" in result.stdout
    assert "100%" in result.stderr
    listing = cli("model", "list", env=env)
    assert f"{DEFAULT_MODEL}" in listing.stdout and "[default, installed]" in listing.stdout
    unknown = cli("model", "download", "vosk-model-nope", env=env)
    assert unknown.returncode == 2 and unknown.stderr.startswith("frontdoor: error: unknown model 'vosk-model-nope'")
    offline = cli("model", "download", "vosk-model-en-us-0.22-lgraph", env={**env, BASE_URL_ENV: "http://127.0.0.1:9"})
    assert offline.returncode == 1 and len(offline.stderr.strip().splitlines()) == 1
