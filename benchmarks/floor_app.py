"""The floor for ``bench_phone_line.py``: a bare Flask app answering every ``/twilio`` webhook with one fixed ``<Say>``.

Run: ``gunicorn --pythonpath benchmarks floor_app:app``. No signature check, no database: what any
Flask TwiML endpoint costs under the same gunicorn settings.
"""

from __future__ import annotations

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse

GREETING = "Hello, this is the service desk."

app = Flask("floor")


@app.post("/twilio/<path:hook>")
def webhook(hook: str) -> Response:
    """Answer any webhook with the same TwiML, built as a minimal Twilio app builds it."""
    response = VoiceResponse()
    response.say(GREETING)
    return Response(str(response), mimetype="application/xml")
