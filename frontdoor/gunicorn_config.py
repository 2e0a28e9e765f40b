"""gunicorn settings for frontdoor: ``gunicorn --config python:frontdoor.gunicorn_config 'frontdoor.web:create_app()'``.

Only what the app asks of the server; workers, bind address and timeouts stay on the command line.
"""

from __future__ import annotations

import gc
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    # Each worker reads a caller's turn (the sentence encoder's matrix products) on one thread. With
    # BLAS's default of a thread per core, the workers' helper threads spin against each other and
    # against the webhooks they hold up: a turn took twice as long with one other busy core.
    os.environ.setdefault(_variable, "1")


def post_worker_init(worker: object) -> None:
    """Keep what a worker built at start out of the cyclic garbage collector's walks.

    A worker starts with about 90,000 long-lived objects (libraries, settings, lexicons); every full
    collection walked them all, pausing the request in hand for about 25 ms.
    """
    gc.collect()
    gc.freeze()
