"""Reading the shipped and user YAML data files, with one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from frontdoor.errors import ConfigError


def read_yaml(path: Path, what: str) -> Any:
    """The parsed contents of ``path``; ``ConfigError`` naming the file (and line) when it cannot be read."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"{path}: invalid YAML{f' (line {mark.line + 1})' if mark else ''}") from None
