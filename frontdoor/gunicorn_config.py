"""gunicorn settings for frontdoor: ``gunicorn --config python:frontdoor.gunicorn_config 'frontdoor.web:create_app()'``.

Only what the app asks of the server; workers, bind address and timeouts stay on the command line.
"""

from __future__ import annotations

import gc


def post_worker_init(worker: object) -> None:
    """Keep what a worker built at start out of the cyclic garbage collector's walks.

    A worker starts with about 90,000 long-lived objects (libraries, settings, lexicons); every full
    collection walked them all, pausing the request in hand for about 25 ms.
    """
    gc.collect()
    gc.freeze()
