"""A faithful stand-in for Twilio in tests: the voice platform that drives webhooks, and the REST API.

``TwilioSimulator`` plays the part of Twilio's voice platform. It signs every request exactly as
Twilio does (``X-Twilio-Signature``: base64 HMAC-SHA1 of the full URL plus the sorted POST
parameters, computed with ``twilio.request_validator.RequestValidator``), sends the documented
request parameters, and follows the TwiML it gets back verb by verb: ``<Say>`` is heard,
``<Gather>`` waits for the caller (speech → ``SpeechResult``/``Confidence``, keypad → ``Digits``,
nothing → the action URL with neither when ``actionOnEmptyResult`` is true, otherwise the next verb),
``<Dial>`` rings its nouns (running the noun's ``url`` whisper on the agent's leg, where
``<Hangup>`` declines and the end of the document bridges) then requests the ``action`` URL with
``DialCallStatus``, ``<Enqueue>`` requests its ``waitUrl`` with the queue parameters and its
``action`` with ``QueueResult``, ``<Record>`` requests its ``action`` with ``RecordingUrl``,
``RecordingSid`` and ``RecordingDuration``, and when the call ends the status callback gets
``CallStatus`` and ``CallDuration``. Relative URLs are resolved against the requested document URL.

``TwilioApiServer`` answers like Twilio's REST API on 127.0.0.1 (``Messages.json`` and
``Calls.json`` create, HTTP basic auth with the account SID and auth token) and records requests.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping, Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(16)}"


# --- transports: how a signed request reaches the app ------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: str

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)


class Transport(Protocol):
    def post(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> Reply: ...


@dataclass
class FlaskTransport:
    """Deliver to a Flask test client; ``base_url`` is where the app thinks it runs (behind a proxy it differs)."""

    client: Any
    base_url: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    def post(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        base = self.base_url or f"{parts.scheme}://{parts.netloc}"
        response = self.client.post(target, data=dict(params), headers={**self.extra_headers, **headers}, base_url=base)
        return Reply(response.status_code, response.get_data(as_text=True))


@dataclass
class HttpTransport:
    """Deliver over real HTTP to ``server`` (e.g. http://127.0.0.1:8080), whatever public URL was signed."""

    server: str
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def post(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        parts = urlsplit(url)
        target = self.server.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        data = urlencode(list(params.items())).encode()
        request = urllib.request.Request(
            target, data=data, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", **self.extra_headers, **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read().decode())


# --- the people on the other end ---------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    """How a dialled agent behaves: ``answer`` is "answer", "no-answer", "busy" or "failed"."""

    answer: str = "answer"
    presses: str = ""
    talk_seconds: int = 120


@dataclass(frozen=True)
class QueueBehaviour:
    """What happens to a caller in a queue: their position, the average wait, and how they leave it."""

    position: int = 2
    average_seconds: int = 240
    result: str = "bridged"
    caller_presses: str = ""
    seconds_in_queue: int = 45


class CallEnded(AssertionError):
    """The test tried to talk on a call that is over."""


@dataclass
class Request:
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    reply: Reply


class TwilioSimulator:
    """Twilio's voice platform for one phone number pointed at the app."""

    def __init__(
        self,
        transport: Transport,
        auth_token: str,
        public_url: str,
        *,
        number: str = "+15550001000",
        voice_path: str = "/twilio/voice",
        status_path: str = "/twilio/status",
        agents: Mapping[str, Agent] | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.number = number
        self.voice_url = self.public_url + voice_path
        self.status_url = self.public_url + status_path
        self.agents: dict[str, Agent] = dict(agents or {})
        self.queues: dict[str, QueueBehaviour] = dict(queues or {})
        self.requests: list[Request] = []

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return self.validator.compute_signature(url, dict(params))

    def post(self, url: str, params: Mapping[str, str], signature: str | None = "sign") -> Reply:
        headers = {} if signature is None else {"X-Twilio-Signature": self.sign(url, params) if signature == "sign" else signature}
        reply = self.transport.post(url, params, headers)
        self.requests.append(Request(url, dict(params), headers, reply))
        return reply

    def replay(self, request: Request) -> Reply:
        """Send ``request`` again exactly as before, as Twilio does when it retries a webhook."""
        reply = self.transport.post(request.url, request.params, request.headers)
        self.requests.append(Request(request.url, dict(request.params), dict(request.headers), reply))
        return reply

    def call(self, caller: str = "+15551230001") -> SimulatedCall:
        """An incoming call from ``caller``: the voice webhook is requested and its TwiML followed."""
        call = SimulatedCall(self, new_sid("CA"), caller, self.number)
        call.start()
        return call


@dataclass
class Waiting:
    """Where the call is paused for the caller: a ``<Gather>`` or a ``<Record>``."""

    kind: str
    element: ET.Element
    document_url: str
    rest: list[ET.Element]


class SimulatedCall:
    def __init__(self, twilio: TwilioSimulator, sid: str, caller: str, called: str, direction: str = "inbound") -> None:
        self.twilio = twilio
        self.sid = sid
        self.caller = caller
        self.called = called
        self.direction = direction
        self.heard: list[str] = []
        self.rates: list[str] = []
        self.agent_heard: list[str] = []
        self.replies: list[Reply] = []
        self.waiting: Waiting | None = None
        self.ended = False
        self.bridged_to: str | None = None
        self.dial_statuses: list[str] = []
        self.seconds = 0

    # -- what Twilio sends ----------------------------------------------------------------

    def params(self, **extra: str) -> dict[str, str]:
        base = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": "in-progress" if not self.ended else "completed",
            "Direction": self.direction,
            "From": self.caller,
            "To": self.called,
            "Caller": self.caller,
            "Called": self.called,
        }
        return {**base, **{k: v for k, v in extra.items() if v is not None}}

    def request(self, url: str, **extra: str) -> Reply:
        reply = self.twilio.post(url, self.params(**extra))
        self.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"{url} answered {reply.status}: {reply.body[:200]}")
        return reply

    def start(self) -> None:
        reply = self.request(self.twilio.voice_url, CallStatus="ringing")
        self.run(reply, self.twilio.voice_url)

    # -- following TwiML ------------------------------------------------------------------

    @property
    def last(self) -> ET.Element:
        return self.replies[-1].xml()

    def run(self, reply: Reply, document_url: str) -> None:
        root = reply.xml()
        assert root.tag == "Response", f"not TwiML: {reply.body[:200]}"
        self.execute(list(root), document_url)

    def execute(self, verbs: list[ET.Element], document_url: str) -> None:
        for index, verb in enumerate(verbs):
            rest = verbs[index + 1 :]
            if verb.tag == "Say":
                self._hear(verb)
            elif verb.tag in {"Pause", "Play"}:
                continue
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._hear(child)
                self.waiting = Waiting("gather", verb, document_url, rest)
                return
            elif verb.tag == "Record":
                self.waiting = Waiting("record", verb, document_url, rest)
                return
            elif verb.tag == "Hangup":
                self.finish()
                return
            elif verb.tag == "Redirect":
                url = urljoin(document_url, (verb.text or "").strip())
                self.run(self.request(url), url)
                return
            elif verb.tag == "Dial":
                if self._dial(verb, document_url, rest):
                    return
            elif verb.tag == "Enqueue":
                if self._enqueue(verb, document_url, rest):
                    return
            else:
                raise AssertionError(f"the simulator does not know <{verb.tag}>")
        self.finish()

    def _hear(self, say: ET.Element) -> None:
        text = "".join(say.itertext()).strip()
        for prosody in say.iter("prosody"):
            self.rates.append(prosody.get("rate", ""))
        self.heard.append(text)

    # -- the caller -----------------------------------------------------------------------

    def say(self, text: str, confidence: float = 0.91) -> None:
        self._answer_gather(SpeechResult=text, Confidence=f"{confidence:.6f}")

    def press(self, digits: str) -> None:
        self._answer_gather(Digits=digits)

    def silence(self) -> None:
        waiting = self._gathering()
        if waiting.element.get("actionOnEmptyResult") == "true":
            self._post_action(waiting, {})
        else:
            self.waiting = None
            self.execute(waiting.rest, waiting.document_url)

    def leave_message(self, seconds: int = 14, url: str | None = None) -> str:
        """Record a message; ``url`` stands in for the recording URL Twilio would send (to test what is done with others)."""
        waiting = self._require("record")
        sid = new_sid("RE")
        url = url or f"https://api.twilio.com/{API_VERSION}/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
        extra = {"RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(seconds), "Digits": "#"}
        if seconds == 0:
            extra = {"Digits": "hangup"}
        self._post_action(waiting, extra)
        return sid

    def hang_up(self) -> None:
        self.waiting = None
        self.finish()

    def _answer_gather(self, **extra: str) -> None:
        waiting = self._gathering()
        modes = (waiting.element.get("input") or "dtmf").split()
        if "SpeechResult" in extra:
            assert "speech" in modes, f"<Gather input={modes}> does not take speech"
        if "Digits" in extra:
            assert "dtmf" in modes, f"<Gather input={modes}> does not take keys"
            limit = waiting.element.get("numDigits")
            if limit:
                extra["Digits"] = extra["Digits"][: int(limit)]
        self._post_action(waiting, extra)

    def _gathering(self) -> Waiting:
        return self._require("gather")

    def _require(self, kind: str) -> Waiting:
        if self.ended:
            raise CallEnded("the call is over")
        if self.waiting is None or self.waiting.kind != kind:
            raise AssertionError(f"the call is not waiting at a <{kind.capitalize()}> (it is at {self.waiting})")
        return self.waiting

    def _post_action(self, waiting: Waiting, extra: dict[str, str]) -> None:
        self.waiting = None
        action = waiting.element.get("action")
        url = urljoin(waiting.document_url, action) if action else waiting.document_url
        self.run(self.request(url, **extra), url)

    # -- Dial, whisper and queues ---------------------------------------------------------

    def _dial(self, dial: ET.Element, document_url: str, rest: list[ET.Element]) -> bool:
        status, duration, child_sid = "no-answer", 0, ""
        for noun in dial:
            target = (noun.text or "").strip() if noun.tag != "Client" else (noun.text or noun.findtext("Identity") or "").strip()
            agent = self.twilio.agents.get(target, Agent("no-answer"))
            child_sid = new_sid("CA")
            if agent.answer != "answer":
                status = agent.answer
                continue
            whisper = noun.get("url")
            accepted = True if not whisper else self._whisper(urljoin(document_url, whisper), child_sid, target, agent)
            if accepted:
                status, duration = "completed", agent.talk_seconds
                self.bridged_to = target
                self.seconds += duration
                break
            status = "completed"
        self.dial_statuses.append(status)
        action = dial.get("action")
        if not action:
            return False
        url = urljoin(document_url, action)
        extra = {"DialCallStatus": status, "DialCallSid": child_sid, "DialCallDuration": str(duration) if duration else None}
        self.run(self.request(url, **extra), url)
        return True

    def _whisper(self, url: str, child_sid: str, target: str, agent: Agent) -> bool:
        """Run the whisper document on the agent's leg: True when it ends (bridge), False on ``<Hangup>``."""
        leg = {"CallSid": child_sid, "ParentCallSid": self.sid, "Direction": "outbound-dial", "To": target, "Called": target}
        reply = self._agent_request(url, leg)
        verbs = list(reply.xml())
        while verbs:
            verb = verbs.pop(0)
            if verb.tag == "Say":
                self.agent_heard.append("".join(verb.itertext()).strip())
            elif verb.tag == "Hangup":
                return False
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self.agent_heard.append("".join(child.itertext()).strip())
                if agent.presses:
                    action_url = urljoin(url, verb.get("action") or url)
                    reply = self._agent_request(action_url, {**leg, "Digits": agent.presses})
                    url = action_url
                    verbs = list(reply.xml())
            elif verb.tag == "Dial":
                raise AssertionError("a whisper document may not contain <Dial>")
        return True

    def _agent_request(self, url: str, leg: dict[str, str]) -> Reply:
        params = {**self.params(), **leg, "From": self.caller}
        reply = self.twilio.post(url, params)
        self.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"{url} answered {reply.status}: {reply.body[:200]}")
        return reply

    def _enqueue(self, enqueue: ET.Element, document_url: str, rest: list[ET.Element]) -> bool:
        name = (enqueue.text or "").strip()
        behaviour = self.twilio.queues.get(name, QueueBehaviour())
        queue_sid = new_sid("QU")
        result = behaviour.result
        wait = enqueue.get("waitUrl")
        if wait:
            wait_url = urljoin(document_url, wait)
            queue = {
                "QueueSid": queue_sid, "QueuePosition": str(behaviour.position), "QueueTime": "0",
                "AvgQueueTime": str(behaviour.average_seconds), "CurrentQueueSize": str(behaviour.position),
                "MaxQueueSize": "100",
            }
            reply = self.request(wait_url, **queue)
            for verb in reply.xml():
                if verb.tag == "Say":
                    self._hear(verb)
                elif verb.tag == "Gather":
                    for child in verb:
                        if child.tag == "Say":
                            self._hear(child)
                    if behaviour.caller_presses:
                        gather_url = urljoin(wait_url, verb.get("action") or wait_url)
                        answer = self.request(gather_url, Digits=behaviour.caller_presses, **queue)
                        if any(v.tag == "Leave" for v in answer.xml()):
                            result = "leave"
                        break
        action = enqueue.get("action")
        if result == "bridged":
            self.bridged_to = f"queue:{name}"
            self.seconds += behaviour.seconds_in_queue
        if not action:
            return False
        url = urljoin(document_url, action)
        self.run(self.request(url, QueueResult=result, QueueSid=queue_sid, QueueTime=str(behaviour.seconds_in_queue)), url)
        return True

    # -- the end --------------------------------------------------------------------------

    def finish(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.waiting = None
        self.seconds += 30
        reply = self.twilio.post(self.twilio.status_url, self.params(CallStatus="completed", CallDuration=str(self.seconds)))
        self.replies.append(reply)

    @property
    def transcript(self) -> str:
        return " ".join(self.heard)


# --- the REST API -------------------------------------------------------------------------------


@dataclass
class ApiRequest:
    method: str
    path: str
    form: dict[str, str]
    authorized: bool


class TwilioApiServer:
    """Twilio's REST API on 127.0.0.1: create Messages and Calls, with basic auth; records every request."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = "test-auth-token") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[ApiRequest] = []
        self.failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TwilioApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` create requests with ``status`` (as during a Twilio incident)."""
        with self._lock:
            self.failures.extend([status] * count)

    def messages(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.path.endswith("/Messages.json") and r.authorized]

    def calls(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.path.endswith("/Calls.json") and r.authorized]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                authorized = self._authorized()
                with api._lock:
                    api.requests.append(ApiRequest("POST", self.path, form, authorized))
                    failure = api.failures.pop(0) if api.failures and authorized else None
                prefix = f"/{API_VERSION}/Accounts/{api.account_sid}/"
                if not authorized:
                    return self._error(401, 20003, "Authenticate")
                if failure is not None:
                    return self._error(failure, 20500, "Internal Server Error")
                if self.path == prefix + "Messages.json":
                    return self._message(form)
                if self.path == prefix + "Calls.json":
                    return self._call(form)
                return self._error(404, 20404, f"The requested resource {self.path} was not found")

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return False
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except ValueError:
                    return False
                return user == api.account_sid and password == api.auth_token

            def _message(self, form: dict[str, str]) -> None:
                if not form.get("To"):
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not form.get("From") and not form.get("MessagingServiceSid"):
                    return self._error(400, 21603, "A 'From' phone number is required.")
                if not form.get("Body") and not form.get("MediaUrl"):
                    return self._error(400, 21602, "Message body is required.")
                sid = new_sid("SM")
                self._json(201, {
                    "sid": sid, "account_sid": api.account_sid, "to": form["To"], "from": form.get("From"),
                    "body": form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
                    "api_version": API_VERSION, "date_created": _rfc2822(), "date_updated": _rfc2822(), "date_sent": None,
                    "price": None, "error_code": None, "error_message": None,
                    "uri": f"/{API_VERSION}/Accounts/{api.account_sid}/Messages/{sid}.json",
                })

            def _call(self, form: dict[str, str]) -> None:
                if not form.get("To"):
                    return self._error(400, 21201, "No 'To' number is specified")
                if not form.get("From"):
                    return self._error(400, 21213, "No 'From' number is specified")
                if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
                    return self._error(400, 21205, "Url parameter is required.")
                if form.get("Twiml"):
                    ET.fromstring(form["Twiml"])
                sid = new_sid("CA")
                self._json(201, {
                    "sid": sid, "account_sid": api.account_sid, "to": form["To"], "from": form["From"],
                    "status": "queued", "direction": "outbound-api", "api_version": API_VERSION,
                    "date_created": _rfc2822(), "date_updated": _rfc2822(),
                    "uri": f"/{API_VERSION}/Accounts/{api.account_sid}/Calls/{sid}.json",
                })

            def _error(self, status: int, code: int, message: str) -> None:
                self._json(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _rfc2822() -> str:
    return datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def verbs(element: ET.Element) -> list[str]:
    """The verb names of a TwiML response, in order."""
    return [child.tag for child in element]


def find(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, f"no {path} in {ET.tostring(element, encoding='unicode')}"
    return found

