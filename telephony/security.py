"""Who may call the webhooks: ``X-Twilio-Signature`` checked exactly as Twilio signs, and input limits."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator
from werkzeug.sansio.utils import host_is_trusted

from frontdoor.settings import TwilioSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_PARAMS = 100
MAX_VALUE_CHARS = 4000

_CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
_DIGITS = re.compile(r"^[0-9*#]{0,32}$")
_PHONEISH = re.compile(r"^[\w+@:.\-() ]{0,128}$")
_SHORT_TOKEN = re.compile(r"^[\w\-]{0,64}$")


class RejectedRequest(Exception):
    """A webhook request refused before any call logic runs; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def requested_url(public_url: str, path: str, query: str, scheme: str, host: str) -> str:
    """The URL Twilio requested, as it signed it: the public URL if set, else this request's own
    (scheme and host as the request arrived, or as trusted proxies forwarded them: ``web.trusted_proxy_count``)."""
    suffix = f"{path}?{query}" if query else path
    if public_url:
        return public_url.rstrip("/") + suffix
    return f"{scheme}://{host}{suffix}"


def public_hosts(settings: TwilioSettings) -> tuple[str, ...]:
    """The hosts Twilio may sign webhooks for: that of ``twilio.public_url``, and ``twilio.public_hosts``."""
    own = urlsplit(settings.public_url).hostname if settings.public_url else None
    return ((own,) if own else ()) + tuple(host.lower() for host in settings.public_hosts)


def check_signature(settings: TwilioSettings, url: str, params: Mapping[str, str], signature: str | None) -> None:
    """Raise ``RejectedRequest(403)`` unless ``url`` is on a public host and ``signature`` is Twilio's signature of ``url`` and ``params``."""
    if not settings.validate_signatures:
        return
    if not settings.auth_token:
        raise RejectedRequest(403, "signature cannot be checked: twilio.auth_token is not set")
    if not signature:
        raise RejectedRequest(403, "missing X-Twilio-Signature")
    hosts = public_hosts(settings)
    if not hosts or not host_is_trusted(urlsplit(url).netloc.lower(), hosts):
        raise RejectedRequest(403, "not a public host of this frontdoor (twilio.public_url, twilio.public_hosts)")
    if not RequestValidator(settings.auth_token).validate(url, params, signature):
        raise RejectedRequest(403, "X-Twilio-Signature does not match")


@dataclass(frozen=True)
class WebhookParams:
    """The Twilio request parameters frontdoor reads, checked for shape and size."""

    call_sid: str
    caller: str
    called: str
    direction: str
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def number(self, name: str) -> float | None:
        raw = self.get(name).strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise RejectedRequest(400, f"{name} is not a number") from None


_SHAPES: dict[str, re.Pattern[str]] = {
    "Digits": _DIGITS,
    "From": _PHONEISH,
    "To": _PHONEISH,
    "Caller": _PHONEISH,
    "Called": _PHONEISH,
    "CallStatus": _SHORT_TOKEN,
    "DialCallStatus": _SHORT_TOKEN,
    "QueueResult": _SHORT_TOKEN,
    "Direction": _SHORT_TOKEN,
    "StatusCallbackEvent": _SHORT_TOKEN,
}
_NUMBERS = ("Confidence", "CallDuration", "DialCallDuration", "RecordingDuration", "QueuePosition", "AvgQueueTime", "QueueTime",
            "SequenceNumber")


def read_params(form: Mapping[str, str], count: int, call_sid_required: bool = True) -> WebhookParams:
    """Check the form Twilio posted; raise ``RejectedRequest(400)`` for anything malformed or oversized.

    Every call webhook names its call; a conference's own events (start, end) have no ``CallSid``.
    """
    if count > MAX_PARAMS:
        raise RejectedRequest(400, "too many parameters")
    values = {key: value for key, value in form.items()}
    for key, value in values.items():
        if len(key) > 64 or len(value) > MAX_VALUE_CHARS:
            raise RejectedRequest(400, f"parameter {key[:64]!r} is too long")
        if "\x00" in value:
            raise RejectedRequest(400, f"parameter {key!r} is malformed")
    call_sid = values.get("CallSid", "")
    if not _CALL_SID.match(call_sid) and (call_sid or call_sid_required):
        raise RejectedRequest(400, "CallSid is missing or malformed")
    for key, pattern in _SHAPES.items():
        if key in values and not pattern.match(values[key]):
            raise RejectedRequest(400, f"{key} is malformed")
    params = WebhookParams(
        call_sid=call_sid,
        caller=values.get("From", ""),
        called=values.get("To", ""),
        direction=values.get("Direction", ""),
        values=values,
    )
    for name in _NUMBERS:
        params.number(name)
    return params


def warn_if_unprotected(settings: TwilioSettings) -> None:
    """Say loudly at start when webhooks are not protected."""
    if not settings.validate_signatures:
        log.warning(
            "!!! twilio.validate_signatures is OFF: anyone who can reach /twilio can drive calls. "
            "Use this only for local development. !!!"
        )
    elif not settings.auth_token:
        log.error("twilio.auth_token (TWILIO_AUTH_TOKEN) is not set: every /twilio webhook will be refused with 403")
    elif not public_hosts(settings):
        log.error("neither twilio.public_url (FRONTDOOR_PUBLIC_URL) nor twilio.public_hosts is set: every /twilio webhook will be refused with 403")
