"""The floors for ``bench_phone_line.py``: Flask apps answering every ``/twilio`` webhook with one fixed ``<Say>``.

``app`` (the issue's floor): no signature check, no database — what any Flask TwiML endpoint costs.
Run: ``gunicorn --pythonpath benchmarks floor_app:app``.

``create_checked_app()``: the same, plus what any webhook that keeps calls must do — Twilio's
``RequestValidator`` on the public URL, and one committed row in frontdoor's database. Run:
``TWILIO_AUTH_TOKEN=.. FRONTDOOR_PUBLIC_URL=.. FLOOR_DATABASE_URL=sqlite:///floor.db gunicorn
--pythonpath benchmarks 'floor_app:create_checked_app()'``.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

GREETING = "Hello, this is the service desk."

app = Flask("floor")


def say() -> Response:
    """The same TwiML for every webhook, built as a minimal Twilio app builds it."""
    response = VoiceResponse()
    response.say(GREETING)
    return Response(str(response), mimetype="application/xml")


@app.post("/twilio/<path:hook>")
def webhook(hook: str) -> Response:
    return say()


def create_checked_app() -> Flask:
    # Imported here so that the bare floor's workers load nothing but Flask and the TwiML builder.
    from sqlalchemy import insert
    from twilio.request_validator import RequestValidator

    from frontdoor.storage.database import Database
    from frontdoor.storage.schema import WebhookReply

    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    public_url = os.environ["FRONTDOOR_PUBLIC_URL"].rstrip("/")
    database = Database(os.environ["FLOOR_DATABASE_URL"])
    replies = insert(WebhookReply.__table__)
    checked = Flask("checked-floor")

    @checked.post("/twilio/<path:hook>")
    def checked_webhook(hook: str) -> Response:
        query = request.query_string.decode("latin-1")
        url = public_url + request.path + (f"?{query}" if query else "")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            return Response("X-Twilio-Signature does not match\n", status=403, mimetype="text/plain")
        answer = say()
        with database.transaction() as connection:
            connection.execute(replies, {"key": uuid.uuid4().hex, "body": answer.get_data(as_text=True), "created_at": datetime.now(timezone.utc)})
        return answer

    return checked
