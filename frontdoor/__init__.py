"""frontdoor core: settings, incidents, the conversation engine, call records and the CLI."""

from importlib.resources import files
from pathlib import Path

__version__ = "0.1.0"

CONFIG_DIR = Path(str(files("frontdoor.config")))
"""The shipped defaults (the checkout's ``config/``, or its copy in an installed wheel)."""
