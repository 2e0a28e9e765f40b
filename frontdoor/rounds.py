"""Work the web app does in the background: a round every ``interval`` seconds on a daemon thread.

A round that fails is logged and the next one comes; nothing a round raises stops the thread.
``JournalReplayer`` (``keeper.py``) and ``OutboxCourier`` (``outbox.py``) are the two kinds.
"""

from __future__ import annotations

import logging
import threading

from frontdoor.errors import FrontdoorError

log = logging.getLogger(__name__)


class BackgroundRounds:
    """Calls ``round()`` every ``interval`` seconds (first at start when ``round_at_start``) until ``stop()``."""

    work = "background"
    """What the rounds do, for the thread's name and the log."""
    round_at_start = False

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.work.replace(" ", "-"), daemon=True)

    def start(self) -> BackgroundRounds:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def round(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        if self.round_at_start:
            self._one_round()
        while not self._stop.wait(self.interval):
            self._one_round()

    def _one_round(self) -> None:
        try:
            self.round()
        except FrontdoorError as exc:
            log.warning("%s round failed (%s); trying again in %.0f s", self.work, exc, self.interval)
        except Exception:
            log.exception("%s round failed; trying again in %.0f s", self.work, self.interval)
