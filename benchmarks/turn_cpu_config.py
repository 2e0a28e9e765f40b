"""gunicorn settings for ``bench_phone_line.py --turn-cpu-ms N``: production's, plus N ms of CPU before every speech turn.

A stand-in for a language model that will run on every caller turn: each ``/twilio/gather`` request
first keeps its worker busy for ``FRONTDOOR_BENCH_TURN_CPU_MS`` milliseconds of CPU, so the benchmark
shows what that costs the other webhooks waiting behind it. frontdoor's own code is untouched.
"""

from __future__ import annotations

import os
import time

from frontdoor.gunicorn_config import post_worker_init

TURN_CPU_SECONDS = float(os.environ.get("FRONTDOOR_BENCH_TURN_CPU_MS", "0")) / 1000

__all__ = ["post_worker_init", "pre_request"]


def pre_request(worker: object, request: object) -> None:
    if TURN_CPU_SECONDS and getattr(request, "path", "") == "/twilio/gather":
        until = time.process_time() + TURN_CPU_SECONDS
        while time.process_time() < until:
            pass
