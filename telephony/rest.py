"""A ``twilio.rest.Client`` from settings, optionally pointed at a stand-in for Twilio's REST API."""

from __future__ import annotations

from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from frontdoor.errors import ConfigError
from frontdoor.settings import TwilioSettings

TWILIO_API = "https://api.twilio.com"
TIMEOUT_SECONDS = 10.0


class RedirectedHttpClient(TwilioHttpClient):
    """Sends what would go to https://api.twilio.com to ``base_url`` instead (tests: a local server)."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def twilio_client(settings: TwilioSettings) -> Client:
    """The REST client for the configured account; ``api_base_url`` redirects it (never set in production)."""
    if not settings.account_sid or not settings.auth_token:
        raise ConfigError("Twilio REST calls need twilio.account_sid and twilio.auth_token (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
    http_client = RedirectedHttpClient(settings.api_base_url) if settings.api_base_url else TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    return Client(settings.account_sid, settings.auth_token, http_client=http_client)
