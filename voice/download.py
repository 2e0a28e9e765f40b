"""Fetching a model zip: progress bar, resume with HTTP Range into a ``.part`` file, size and SHA-256 checks, unzip."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from frontdoor.voice.errors import ModelDownloadError
from frontdoor.voice.models import BASE_URL_ENV, ModelSpec, is_model_dir

CHUNK_BYTES = 256 * 1024
TIMEOUT_SECONDS = 30.0
BAR_WIDTH = 30
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_UNSATISFIABLE = re.compile(r"bytes \*/(\d+)")


class ProgressBar:
    """A one-line progress bar on a terminal stream, redrawn when the shown value changes."""

    def __init__(self, out: IO[str], label: str) -> None:
        self.out = out
        self.label = label
        self._shown = ""

    def update(self, done: int, total: int | None) -> None:
        if total:
            filled = int(BAR_WIDTH * done / total)
            text = f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done // total:3d}% {_mb(done)}/{_mb(total)} MB"
        else:
            text = f"{self.label} {_mb(done)} MB"
        if text != self._shown:
            self._shown = text
            self.out.write(f"\r{text}")
            self.out.flush()

    def finish(self) -> None:
        if self._shown:
            self.out.write("\n")
            self.out.flush()


def _mb(count: int) -> str:
    return f"{count / 1_000_000:.1f}"


def download_model(spec: ModelSpec, destination: Path, *, base_url: str, progress: IO[str], sha256: str | None = None) -> Path:
    """Install ``spec`` under ``destination`` (resuming a partial download) and return the model folder."""
    target = destination / spec.name
    if is_model_dir(target):
        return target
    destination.mkdir(parents=True, exist_ok=True)
    part = destination / f"{spec.name}.zip.part"
    total = fetch(spec.url(base_url), part, progress=ProgressBar(progress, spec.name))
    if spec.size_bytes is not None and total != spec.size_bytes:
        part.unlink(missing_ok=True)
        raise ModelDownloadError(f"{spec.name}: expected {spec.size_bytes} bytes, the server sent {total}; download removed")
    expected = (sha256 or spec.sha256 or "").lower()
    if expected:
        actual = file_sha256(part)
        if actual != expected:
            part.unlink(missing_ok=True)
            raise ModelDownloadError(f"{spec.name}: SHA-256 mismatch (expected {expected}, got {actual}); download removed, try again")
    unpack(part, target)
    part.unlink()
    return target


def fetch(url: str, part: Path, *, progress: ProgressBar) -> int:
    """Download ``url`` into ``part``, continuing from its current size; return the full size in bytes."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            match = _UNSATISFIABLE.fullmatch(exc.headers.get("Content-Range", "") or "")
            if match and int(match.group(1)) == have:
                return have
            part.unlink(missing_ok=True)
            raise ModelDownloadError(f"{url}: the partial download no longer matches the server's file; removed it, run again") from None
        raise ModelDownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelDownloadError(f"cannot reach {url} ({reason}); check the network or set {BASE_URL_ENV} to a mirror") from None
    with response:
        total, mode = _plan(response, have)
        done = have if mode == "ab" else 0
        try:
            with open(part, mode) as out:
                while True:
                    chunk = response.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    progress.update(done, total)
        except (urllib.error.URLError, OSError) as exc:
            progress.finish()
            raise ModelDownloadError(f"download interrupted at {done} bytes ({exc}); run the same command again to resume") from None
    progress.finish()
    if total is not None and done != total:
        raise ModelDownloadError(f"download incomplete: {done} of {total} bytes; run the same command again to resume")
    return done


def _plan(response, have: int) -> tuple[int | None, str]:  # type: ignore[no-untyped-def]
    """Total size and file mode: append on 206 Partial Content, start over on 200."""
    length = response.headers.get("Content-Length")
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "") or "")
        if not match or int(match.group(1)) != have:
            raise ModelDownloadError("the server answered a resume request with the wrong byte range")
        return (int(match.group(3)) if match.group(3) != "*" else None), "ab"
    return (int(length) if length else None), "wb"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack(archive: Path, target: Path) -> None:
    """Unzip into a scratch folder beside ``target``, check it is a Vosk model, then move it into place."""
    scratch = target.parent / f".unpack-{target.name}-{int(time.time() * 1000)}"
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                parts = PurePosixPath(member).parts
                if member.startswith("/") or ".." in parts:
                    raise ModelDownloadError(f"{archive.name}: refusing unsafe path {member!r} in the archive")
            zipped.extractall(scratch)
    except zipfile.BadZipFile:
        archive.unlink(missing_ok=True)
        raise ModelDownloadError(f"{archive.name}: not a valid zip file; removed it, run the download again") from None
    except ModelDownloadError:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    try:
        root = _model_root(scratch)
        if root is None:
            raise ModelDownloadError(f"{archive.name} does not contain a Vosk model (no am/final.mdl)")
        if target.exists():
            shutil.rmtree(target)
        root.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _model_root(folder: Path) -> Path | None:
    if is_model_dir(folder):
        return folder
    children = [child for child in folder.iterdir() if child.is_dir()]
    return children[0] if len(children) == 1 and is_model_dir(children[0]) else None
