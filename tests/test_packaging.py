"""frontdoor as a package: the wheel holds one top-level package and its shipped data, and ``pip install .``
(not editable) gives a ``frontdoor`` command that works from any directory (issue 13, item 6).

Built offline (``--no-build-isolation``: the setuptools of this environment) and installed with ``--no-deps``
into a new virtual environment that borrows this one's dependencies (a ``.pth`` file naming this environment's
site-packages, after its own); ``.ci/run`` does the same from PyPI in a clean environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"frontdoor": "frontdoor", "handoff": "frontdoor/handoff", "telephony": "frontdoor/telephony", "voice": "frontdoor/voice",
           "console": "frontdoor/console", "config": "frontdoor/config"}
"""Each folder of the checkout and where its files go in the wheel (``[tool.setuptools.package-dir]``)."""


def source_files() -> set[str]:
    """Every module and data file of the package folders, as the wheel should hold it."""
    found = set()
    for folder, target in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT / folder)
            if path.is_file() and "__pycache__" not in relative.parts and not relative.parts[0].endswith(".egg-info"):
                found.add(f"{target}/{relative.as_posix()}")
    return found


def _setuptools_new_enough() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of what ``pip install .`` reads (setuptools reuses a ``build/`` folder, stale files and all)."""
    if not _setuptools_new_enough():
        if os.environ.get("CI"):
            pytest.fail("setuptools>=77 is needed to build the wheel offline: pip install '.[test]'")
        pytest.skip("setuptools>=77 not installed")
    copy = tmp_path_factory.mktemp("source") / "frontdoor"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return copy


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "--wheel-dir", str(out), str(source)],
        check=True, capture_output=True, timeout=300, cwd=out,
    )
    return next(out.glob("frontdoor-*.whl"))


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", *args], check=True, capture_output=True, timeout=300)


def test_the_wheel_installs_only_frontdoor_and_carries_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {name.split("/")[0] for name in names} == {"frontdoor", "frontdoor-0.1.0.dist-info"}
    shipped = {name for name in names if not name.startswith("frontdoor-0.1.0.dist-info/")}
    assert not sorted(source_files() - shipped), f"not in the wheel: {sorted(source_files() - shipped)}"
    assert not sorted(shipped - source_files()), f"in the wheel but not in the checkout: {sorted(shipped - source_files())}"
    assert "frontdoor/config/frontdoor.toml" in names and "frontdoor/handoff/redaction.py" in names


@pytest.mark.parametrize("install", ["wheel", "pip install ."])
def test_an_installed_frontdoor_chats_from_another_directory(source: Path, wheel: Path, tmp_path: Path, install: str) -> None:
    environment = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / "bin" / "python"
    borrowed = [path for path in sys.path if path.endswith("site-packages")]
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True)
    Path(own.stdout.strip(), "borrowed.pth").write_text("\n".join(borrowed) + "\n")
    if install == "wheel":
        _pip(python, "install", "--no-deps", "--no-index", str(wheel))
    else:
        _pip(python, "install", "--no-deps", "--no-build-isolation", str(source))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FRONTDOOR_", "TWILIO_", "PYTHON"))}
    env["FRONTDOOR_DATABASE_URL"] = f"sqlite:///{elsewhere / 'smoke.db'}"
    located = subprocess.run(
        [str(python), "-c", "import frontdoor, frontdoor.config, frontdoor.handoff; print(frontdoor.__file__); print(frontdoor.CONFIG_DIR)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60, check=True,
    ).stdout.split()
    assert all(path.startswith(str(environment)) for path in located), located
    chat = subprocess.run(
        [str(environment / "bin" / "frontdoor"), "chat", "--caller", "+15551230001"], input="is email down\n",
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Hi Dana" in chat.stdout and "2:30 PM" in chat.stdout
