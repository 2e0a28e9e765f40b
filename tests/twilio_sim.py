"""A faithful stand-in for Twilio in tests: the voice platform that drives webhooks, and the REST API.

``TwilioSimulator`` plays the part of Twilio's voice platform. It signs every request exactly as
Twilio does (``X-Twilio-Signature``: base64 HMAC-SHA1 of the full URL plus the sorted POST
parameters, computed with ``twilio.request_validator.RequestValidator``), sends the documented
request parameters, and follows the TwiML it gets back verb by verb, in virtual time: ``<Say>``
lasts its words at 150 a minute, ``<Play>`` ``PLAY_SECONDS``, ``<Pause>`` its length, agents ring
``Agent.ring_seconds``. Each call has a ``Timeline``; the legs a call brings in (agents rung by
``<Dial>`` or over the REST API) run on it too, so what happens at the same time happens in order.

- ``<Gather>`` waits for the caller (speech → ``SpeechResult``/``Confidence``, keypad → ``Digits``,
  nothing → the action URL with neither when ``actionOnEmptyResult`` is true, otherwise the next verb);
- ``<Dial>`` with ``<Number>``/``<Sip>``/``<Client>`` rings its nouns (the caller hears ringback),
  runs the noun's ``url`` whisper on the agent's leg (``<Hangup>`` declines, the end of the document
  bridges), then requests the ``action`` URL with ``DialCallStatus``;
- ``<Dial><Conference>`` puts the leg in a named conference: a participant waiting for the start
  follows the ``waitUrl`` documents (only ``<Say>``, ``<Play>``, ``<Pause>``, ``<Redirect>``, as
  Twilio allows), the conference starts when a participant with ``startConferenceOnEnter`` joins a
  waiting one, ends when one with ``endConferenceOnExit`` leaves, and posts its ``statusCallback``
  events (``participant-join``, ``participant-leave``, ``conference-start``, ``conference-end``, with
  ``SequenceNumber``); a participant's ``<Dial>`` then requests its ``action``;
- ``<Enqueue>`` requests its ``waitUrl`` with the queue parameters and its ``action`` with ``QueueResult``;
- ``<Record>`` requests its ``action`` with ``RecordingUrl``, ``RecordingSid`` and ``RecordingDuration``;
- when a call ends, its status callback gets ``CallStatus`` and ``CallDuration``.

Relative URLs are resolved against the requested document URL; TwiML given over the REST API has
none, so its URLs must be absolute.

``TwilioApiServer`` answers like Twilio's REST API on 127.0.0.1 (``Messages.json`` create, ``Calls.json``
create, ``Calls/{sid}.json`` update; HTTP basic auth with the account SID and auth token) and records
every request. A call created over REST for a simulated call (its ``Url`` names the call with
``call=``, as frontdoor's do) is played on that call's timeline by the agent it rings: ringing,
answering after ``ring_seconds`` (or busy, failing, not answering until ``Timeout``), following the
TwiML at ``Url`` and posting its ``StatusCallback`` events, all signed like the rest.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, Protocol
from urllib.parse import parse_qs, parse_qsl, urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
API_VERSION = "2010-04-01"
WORDS_PER_MINUTE = 150
PLAY_SECONDS = 60.0
BUSY_SECONDS = 2.0
KEY_SECONDS = 0.5
LIMIT_SECONDS = 4 * 3600.0
WAIT_VERBS = {"Say", "Play", "Pause", "Redirect"}
CONFERENCE_EVENTS = {"start": "conference-start", "end": "conference-end", "join": "participant-join", "leave": "participant-leave"}


def new_sid(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(16)}"


def speech_seconds(text: str, rate: float = 1.0) -> float:
    """How long ``text`` takes to say at 150 words a minute (slower at an SSML rate under 100%)."""
    return len(text.split()) * 60.0 / WORDS_PER_MINUTE / rate


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
    """How a rung agent behaves: ``answer`` is "answer", "no-answer", "busy" or "failed".

    ``presses``: keys pressed once the whisper's prompt ends; ``hangs_up_in_whisper``: declines by
    hanging up while the whisper plays; ``late``: statuses of their call (e.g. "ringing") whose
    callbacks arrive only after the final one, as a slow network delivers them.
    """

    answer: str = "answer"
    presses: str = ""
    talk_seconds: float = 120.0
    ring_seconds: float = 6.0
    hangs_up_in_whisper: bool = False
    late: tuple[str, ...] = ()


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


class CallStuck(AssertionError):
    """A call neither ended nor waited for the caller within ``LIMIT_SECONDS`` of virtual time."""


@dataclass
class Request:
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    reply: Reply


@dataclass(frozen=True)
class Heard:
    """A stretch of what the caller hears: ``kind`` is "say", "play", "ringback" or "person"."""

    start: float
    end: float
    kind: str
    text: str = ""


class Timeline:
    """Virtual time for one call and every leg it brings in: events run one at a time, in time order.

    ``count_latency``: a webhook's real answer time delays what follows it (benchmarks; tests leave it off).
    """

    def __init__(self, count_latency: bool = False) -> None:
        self.now = 0.0
        self.count_latency = count_latency
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def at(self, delay: float, action: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._events, (self.now + max(0.0, delay), next(self._order), action))

    def empty(self) -> bool:
        with self._lock:
            return not self._events

    def run(self, done: Callable[[], bool]) -> None:
        while not done():
            with self._lock:
                if not self._events:
                    return
                when, _, action = heapq.heappop(self._events)
            if when > LIMIT_SECONDS:
                raise CallStuck(f"nothing settled the call within {LIMIT_SECONDS:.0f} s of virtual time")
            self.now = max(self.now, when)
            action()


class TwilioSimulator:
    """Twilio's voice platform for one phone number pointed at the app; ``api`` plays the calls the app places over REST."""

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
        api: TwilioApiServer | None = None,
        count_latency: bool = False,
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.number = number
        self.voice_url = self.public_url + voice_path
        self.status_url = self.public_url + status_path
        self.agents: dict[str, Agent] = dict(agents or {})
        self.queues: dict[str, QueueBehaviour] = dict(queues or {})
        self.api = api
        self.count_latency = count_latency
        self.requests: list[Request] = []
        self.conferences: dict[str, Conference] = {}

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

    def agent(self, address: str) -> tuple[str, Agent]:
        """The agent at ``address`` (``client:`` optional) as the test set them up; nobody answers elsewhere."""
        for key in (address, address.removeprefix("client:")):
            if key in self.agents:
                return key, self.agents[key]
        return address, Agent("no-answer")

    def conference(self, name: str, owner: SimulatedCall) -> Conference:
        if name not in self.conferences:
            self.conferences[name] = Conference(self, name, owner)
        return self.conferences[name]


@dataclass
class Waiting:
    """Where the call is paused for the caller: a ``<Gather>`` or a ``<Record>``, from ``ready_at`` on."""

    kind: str
    element: ET.Element
    document_url: str
    rest: list[ET.Element]
    ready_at: float = 0.0


@dataclass
class AfterDial:
    """What a leg does when its ``<Dial>`` ends: request ``action``, or go on with the verbs after it."""

    action: str | None
    rest: list[ET.Element]
    document_url: str


@dataclass(frozen=True)
class Member:
    """How a leg takes part in a conference, from its ``<Conference>`` noun."""

    start: bool
    end: bool
    wait_url: str | None
    status_callback: str | None
    events: frozenset[str]


# --- legs: anything that follows TwiML ---------------------------------------------------------


class Leg:
    """One call leg following TwiML on its call's timeline: the caller's, or an agent's."""

    def __init__(self, owner: SimulatedCall, twilio: TwilioSimulator, timeline: Timeline, sid: str, to: str, from_: str, direction: str) -> None:
        self.owner = owner
        self.twilio = twilio
        self.timeline = timeline
        self.sid = sid
        self.to = to
        self.from_ = from_
        self.direction = direction
        self.generation = 0
        self.verbs: list[ET.Element] = []
        self.document_url = ""
        self.ended = False
        self.conference: Conference | None = None
        self.waiting_in: Conference | None = None
        self.wait_url: str | None = None
        self.after_dial: AfterDial | None = None

    def params(self, **extra: str | None) -> dict[str, str]:
        base = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": "in-progress" if not self.ended else "completed",
            "Direction": self.direction,
            "From": self.from_,
            "To": self.to,
            "Caller": self.from_,
            "Called": self.to,
        }
        return {**base, **{k: v for k, v in extra.items() if v is not None}}

    # -- requests -------------------------------------------------------------------------

    def fetch(self, url: str, **extra: str | None) -> tuple[Reply, float]:
        started = time.perf_counter()
        reply = self.twilio.post(url, self.params(**extra))
        elapsed = time.perf_counter() - started
        self.owner.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"{url} answered {reply.status}: {reply.body[:200]}")
        return reply, elapsed

    def load(self, url: str, **extra: str | None) -> None:
        """Request a TwiML document and follow it (after the webhook's real answer time, when the timeline counts it)."""
        reply, elapsed = self.fetch(url, **extra)
        self.later(elapsed if self.timeline.count_latency else 0.0, lambda: self.run(reply, url))

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Do ``action`` in ``seconds`` unless the leg has moved on to other TwiML or ended meanwhile."""
        generation = self.generation

        def guarded() -> None:
            if generation == self.generation and not self.ended:
                action()

        self.timeline.at(seconds, guarded)

    def resolve(self, url: str) -> str:
        return absolute(self.document_url, url)

    # -- following TwiML ------------------------------------------------------------------

    def run(self, reply: Reply, document_url: str) -> None:
        root = reply.xml()
        assert root.tag == "Response", f"not TwiML: {reply.body[:200]}"
        self.generation += 1
        self.verbs = list(root)
        self.document_url = document_url
        self.step()

    def step(self) -> None:
        if self.ended:
            return
        if not self.verbs:
            self.document_done()
            return
        verb = self.verbs.pop(0)
        if self.waiting_in is not None and verb.tag not in WAIT_VERBS:
            raise AssertionError(f"<{verb.tag}> in a waitUrl document (Twilio error 13238)")
        handler = getattr(self, f"_{verb.tag.lower()}", None)
        if handler is None:
            raise AssertionError(f"the simulator does not know <{verb.tag}> here")
        handler(verb)

    def document_done(self) -> None:
        if self.waiting_in is not None:
            self.later(0.0, lambda: self.load(self.wait_url or ""))
            return
        self.hang_up_leg()

    def hear(self, text: str, seconds: float, kind: str = "say") -> None:
        """What this leg's person hears (the caller's ``heard``, an agent's ``agent_heard``)."""

    def _say(self, verb: ET.Element) -> None:
        text = "".join(verb.itertext()).strip()
        rate = 1.0
        for prosody in verb.iter("prosody"):
            self.owner.rates.append(prosody.get("rate", ""))
            rate = float(prosody.get("rate", "100%").rstrip("%")) / 100
        seconds = speech_seconds(text, rate) * max(1, int(verb.get("loop") or 1))
        self.hear(text, seconds)
        self.later(seconds, self.step)

    def _pause(self, verb: ET.Element) -> None:
        self.later(float(verb.get("length") or 1), self.step)

    def _play(self, verb: ET.Element) -> None:
        loops = int(verb.get("loop") or 1)
        seconds = LIMIT_SECONDS if loops == 0 else PLAY_SECONDS * loops
        self.hear((verb.text or "").strip(), seconds, "play")
        self.later(seconds, self.step)

    def _redirect(self, verb: ET.Element) -> None:
        self.load(self.resolve((verb.text or "").strip()))

    def _hangup(self, verb: ET.Element) -> None:
        self.hang_up_leg()

    def _dial(self, dial: ET.Element) -> None:
        nouns = list(dial)
        if nouns and nouns[0].tag == "Conference":
            self.join_conference(dial, nouns[0])
        else:
            self.dial_people(dial)

    def dial_people(self, dial: ET.Element) -> None:
        raise AssertionError(f"{type(self).__name__} cannot <Dial> people")

    def hang_up_leg(self) -> None:
        raise NotImplementedError

    # -- conferences ----------------------------------------------------------------------

    def join_conference(self, dial: ET.Element, noun: ET.Element) -> None:
        action = dial.get("action")
        self.after_dial = AfterDial(self.resolve(action) if action else None, self.verbs, self.document_url)
        self.verbs = []
        wait = noun.get("waitUrl")
        callback = noun.get("statusCallback")
        member = Member(
            start=noun.get("startConferenceOnEnter", "true") == "true",
            end=noun.get("endConferenceOnExit", "false") == "true",
            wait_url=None if wait is None else (self.resolve(wait) if wait else ""),
            status_callback=self.resolve(callback) if callback else None,
            events=frozenset((noun.get("statusCallbackEvent") or "").split()),
        )
        self.twilio.conference((noun.text or "").strip(), self.owner).join(self, member)

    def wait_for_start(self, conference: Conference, wait_url: str | None) -> None:
        """Hold until the conference starts: Twilio's music, silence (``waitUrl=""``), or the waitUrl documents."""
        self.generation += 1
        self.waiting_in, self.wait_url = conference, wait_url
        if wait_url is None:
            self.hear("", LIMIT_SECONDS, "play")
        elif wait_url:
            self.load(wait_url)

    def conference_started(self, conference: Conference) -> None:
        self.generation += 1
        self.waiting_in = None

    def left_conference(self, dial_status: str) -> None:
        """The conference ended for this leg: its ``<Dial>`` is over."""
        self.conference = self.waiting_in = None
        after, self.after_dial = self.after_dial, None
        self.generation += 1
        if after is None or self.ended:
            return
        if after.action:
            self.load(after.action, DialCallStatus=dial_status)
        else:
            self.verbs, self.document_url = after.rest, after.document_url
            self.step()

    def leave_for_new_twiml(self) -> None:
        """The REST API gave this leg new TwiML: it leaves any conference without finishing its ``<Dial>``."""
        self.after_dial = None
        if self.conference is not None:
            self.conference.leave(self)
        self.conference = self.waiting_in = None

    def update(self, form: dict[str, str]) -> None:
        """A ``Calls/{sid}.json`` update: new TwiML, or an end (``Status`` canceled or completed)."""
        if self.ended:
            return
        if form.get("Status") in {"canceled", "completed"}:
            self.end_by_api(form["Status"])
            return
        self.leave_for_new_twiml()
        if form.get("Twiml"):
            self.run(Reply(200, form["Twiml"]), "")
        elif form.get("Url"):
            self.load(form["Url"])

    def end_by_api(self, status: str) -> None:
        self.hang_up_leg()


class Conference:
    """A named conference on the account: waiting participants, a start, an end, and its status callbacks."""

    def __init__(self, twilio: TwilioSimulator, name: str, owner: SimulatedCall) -> None:
        self.twilio = twilio
        self.name = name
        self.owner = owner
        self.sid = new_sid("CF")
        self.members: dict[Leg, Member] = {}
        self.started = False
        self.sequence = itertools.count()
        self.callback: Member | None = None

    def join(self, leg: Leg, member: Member) -> None:
        self.members[leg] = member
        leg.conference = self
        if self.callback is None and member.status_callback:
            self.callback = member
        self.event("join", leg)
        if not self.started and len(self.members) >= 2 and any(m.start for m in self.members.values()):
            self.start()
        elif not self.started:
            leg.wait_for_start(self, member.wait_url)
        else:
            leg.conference_started(self)

    def start(self) -> None:
        self.started = True
        self.event("start")
        for leg in list(self.members):
            leg.conference_started(self)

    def leave(self, leg: Leg) -> None:
        member = self.members.pop(leg, None)
        if member is None:
            return
        leg.conference = None
        self.event("leave", leg)
        if member.end and self.started:
            for other in list(self.members):
                self.members.pop(other)
                self.event("leave", other)
                other.left_conference("completed")
        if not self.members:
            self.event("end")
            self.twilio.conferences.pop(self.name, None)

    def others(self, leg: Leg) -> list[Leg]:
        return [other for other in self.members if other is not leg]

    def event(self, kind: str, leg: Leg | None = None) -> None:
        if self.callback is None or kind not in self.callback.events or not self.callback.status_callback:
            return
        params = {
            "AccountSid": ACCOUNT_SID, "ConferenceSid": self.sid, "FriendlyName": self.name,
            "StatusCallbackEvent": CONFERENCE_EVENTS[kind], "Timestamp": _rfc2822(), "SequenceNumber": str(next(self.sequence)),
        }
        if leg is not None:
            member = self.members.get(leg)
            params.update(CallSid=leg.sid, Muted="false", Hold="false", Coaching="false")
            if member is not None:
                params.update(EndConferenceOnExit=str(member.end).lower(), StartConferenceOnEnter=str(member.start).lower())
        reply = self.twilio.post(self.callback.status_callback, params)
        self.owner.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"conference status callback answered {reply.status}: {reply.body[:200]}")


class SimulatedCall(Leg):
    """A caller's call into the number, and what the test does as the caller."""

    def __init__(self, twilio: TwilioSimulator, sid: str, caller: str, called: str, direction: str = "inbound") -> None:
        super().__init__(self, twilio, Timeline(twilio.count_latency), sid, called, caller, direction)
        self.replies: list[Reply] = []
        self.rates: list[str] = []
        self.caller = caller
        self.called = called
        self.heard: list[str] = []
        self.audio: list[Heard] = []
        self.spoke: list[tuple[float, float, str]] = []
        self.agent_heard: list[str] = []
        self.waiting: Waiting | None = None
        self.bridged_to: str | None = None
        self.bridged_at: float | None = None
        self.dial_statuses: list[str] = []
        self.legs: list[AgentLeg] = []

    @property
    def seconds(self) -> int:
        return int(self.timeline.now)

    def request(self, url: str, **extra: str | None) -> Reply:
        return self.fetch(url, **extra)[0]

    def start(self) -> None:
        if self.twilio.api is not None:
            self.twilio.api.calls_by_id[self.sid] = self
            self.twilio.api.legs[self.sid] = self
        self.load(self.twilio.voice_url, CallStatus="ringing")
        self.settle()

    def settle(self) -> None:
        """Let time pass until the caller is asked for something, or the call is over and everything it started has settled."""
        self.timeline.run(lambda: self.waiting is not None or (self.ended and self.timeline.empty()))

    @property
    def last(self) -> ET.Element:
        return self.replies[-1].xml()

    def hear(self, text: str, seconds: float, kind: str = "say") -> None:
        if kind == "say":
            self.heard.append(text)
        self.audio.append(Heard(self.timeline.now, self.timeline.now + seconds, kind, text))

    def cut_audio(self) -> None:
        """Whatever the caller was hearing stops now (new TwiML, a person, the end)."""
        now = self.timeline.now
        self.audio = [replace_end(heard, now) if heard.end > now else heard for heard in self.audio]

    def run(self, reply: Reply, document_url: str) -> None:
        self.cut_audio()
        super().run(reply, document_url)

    # -- the caller -----------------------------------------------------------------------

    def say(self, text: str, confidence: float = 0.91) -> None:
        self._answer_gather(speech_seconds(text), SpeechResult=text, Confidence=f"{confidence:.6f}")

    def press(self, digits: str) -> None:
        self._answer_gather(KEY_SECONDS, Digits=digits)

    def silence(self) -> None:
        waiting = self._gathering()
        timeout = float(waiting.element.get("timeout") or 5)
        self.waiting = None
        if waiting.element.get("actionOnEmptyResult") == "true":
            self._post_action(waiting, timeout, {})
        else:
            def go_on() -> None:
                self.verbs, self.document_url = waiting.rest, waiting.document_url
                self.step()

            self.later(max(0.0, waiting.ready_at - self.timeline.now) + timeout, go_on)
        self.settle()

    def leave_message(self, seconds: int = 14, url: str | None = None) -> str:
        """Record a message; ``url`` stands in for the recording URL Twilio would send (to test what is done with others)."""
        waiting = self._require("record")
        sid = new_sid("RE")
        url = url or f"https://api.twilio.com/{API_VERSION}/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
        extra = {"RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(seconds), "Digits": "#"}
        if seconds == 0:
            extra = {"Digits": "hangup"}
        self.waiting = None
        self._post_action(waiting, float(seconds), extra)
        self.settle()
        return sid

    def hang_up(self) -> None:
        self.waiting = None
        self.finish()
        self.settle()

    def hang_up_in(self, seconds: float) -> None:
        """The caller will hang up ``seconds`` from now, whatever is happening then (call before what they do next)."""
        self.timeline.at(seconds, self.finish)

    def _answer_gather(self, seconds: float, **extra: str) -> None:
        waiting = self._gathering()
        modes = (waiting.element.get("input") or "dtmf").split()
        if "SpeechResult" in extra:
            assert "speech" in modes, f"<Gather input={modes}> does not take speech"
        if "Digits" in extra:
            assert "dtmf" in modes, f"<Gather input={modes}> does not take keys"
            limit = waiting.element.get("numDigits")
            if limit:
                extra["Digits"] = extra["Digits"][: int(limit)]
        self.waiting = None
        self._post_action(waiting, seconds, extra)
        self.settle()

    def _gathering(self) -> Waiting:
        return self._require("gather")

    def _require(self, kind: str) -> Waiting:
        if self.ended:
            raise CallEnded("the call is over")
        if self.waiting is None or self.waiting.kind != kind:
            raise AssertionError(f"the call is not waiting at a <{kind.capitalize()}> (it is at {self.waiting})")
        return self.waiting

    def _post_action(self, waiting: Waiting, seconds: float, extra: dict[str, str]) -> None:
        """The caller answers after the prompt, taking ``seconds``; Twilio then requests the action URL."""
        action = waiting.element.get("action")
        url = absolute(waiting.document_url, action) if action else waiting.document_url
        start = max(self.timeline.now, waiting.ready_at)

        def answer() -> None:
            if extra.get("SpeechResult"):
                self.spoke.append((start, self.timeline.now, extra["SpeechResult"]))
            self.load(url, **extra)

        self.later(start - self.timeline.now + seconds, answer)

    # -- verbs only a caller meets --------------------------------------------------------

    def _gather(self, verb: ET.Element) -> None:
        prompt = 0.0
        for child in verb:
            if child.tag == "Say":
                text = "".join(child.itertext()).strip()
                for prosody in child.iter("prosody"):
                    self.rates.append(prosody.get("rate", ""))
                seconds = speech_seconds(text)
                self.audio.append(Heard(self.timeline.now + prompt, self.timeline.now + prompt + seconds, "say", text))
                self.heard.append(text)
                prompt += seconds
        self.waiting = Waiting("gather", verb, self.document_url, self.verbs, self.timeline.now + prompt)

    def _record(self, verb: ET.Element) -> None:
        self.waiting = Waiting("record", verb, self.document_url, self.verbs, self.timeline.now)

    def dial_people(self, dial: ET.Element) -> None:
        """``<Dial>`` with people: each noun in turn rings, whispers on its own leg, and bridges or not."""
        nouns, rest, document_url = list(dial), self.verbs, self.document_url
        timeout = float(dial.get("timeout") or 30)
        action = dial.get("action")
        self.verbs = []
        ringing_from = self.timeline.now

        def ringback_until_now() -> None:
            self.audio.append(Heard(ringing_from, self.timeline.now, "ringback"))

        def over(status: str, child_sid: str = "", duration: float = 0.0) -> None:
            self.dial_statuses.append(status)
            if not action:
                self.verbs, self.document_url = rest, document_url
                self.step()
                return
            extra = {"DialCallStatus": status, "DialCallSid": child_sid or None, "DialCallDuration": str(int(duration)) if duration else None}
            self.load(absolute(document_url, action), **extra)

        def ring(index: int, status: str) -> None:
            if index >= len(nouns):
                ringback_until_now()
                over(status)
                return
            noun = nouns[index]
            target = (noun.text or "").strip() if noun.tag != "Client" else (noun.text or noun.findtext("Identity") or "").strip()
            key, agent = self.twilio.agent(target)
            child = DialedAgent(self, new_sid("CA"), key, agent)
            if agent.answer != "answer" or agent.ring_seconds >= timeout:
                delay = {"busy": BUSY_SECONDS, "failed": 0.0}.get(agent.answer, timeout)
                self.later(delay, lambda: ring(index + 1, agent.answer if agent.answer != "answer" else "no-answer"))
                return

            def bridged() -> None:
                ringback_until_now()
                self.cut_audio()
                self.bridged_to, self.bridged_at = key, self.timeline.now
                self.audio.append(Heard(self.timeline.now, self.timeline.now + agent.talk_seconds, "person", key))
                self.later(agent.talk_seconds, lambda: over("completed", child.sid, agent.talk_seconds))

            whisper = noun.get("url")
            if not whisper:
                self.later(agent.ring_seconds, bridged)
                return
            child.on_bridge = lambda: self.later(0.0, bridged)
            child.on_decline = lambda: self.later(0.0, lambda: ring(index + 1, "completed"))
            self.later(agent.ring_seconds, lambda: child.load(absolute(document_url, whisper)))

        ring(0, "no-answer")

    def _enqueue(self, enqueue: ET.Element) -> None:
        name = (enqueue.text or "").strip()
        behaviour = self.twilio.queues.get(name, QueueBehaviour())
        queue_sid = new_sid("QU")
        result = behaviour.result
        wait = enqueue.get("waitUrl")
        if wait:
            wait_url = absolute(self.document_url, wait)
            queue = {
                "QueueSid": queue_sid, "QueuePosition": str(behaviour.position), "QueueTime": "0",
                "AvgQueueTime": str(behaviour.average_seconds), "CurrentQueueSize": str(behaviour.position),
                "MaxQueueSize": "100",
            }
            reply = self.request(wait_url, **queue)
            for verb in reply.xml():
                if verb.tag == "Say":
                    self.hear("".join(verb.itertext()).strip(), speech_seconds("".join(verb.itertext())))
                elif verb.tag == "Gather":
                    for child in verb:
                        if child.tag == "Say":
                            text = "".join(child.itertext()).strip()
                            self.hear(text, speech_seconds(text))
                    if behaviour.caller_presses:
                        gather_url = absolute(wait_url, verb.get("action") or wait_url)
                        answer = self.request(gather_url, Digits=behaviour.caller_presses, **queue)
                        if any(v.tag == "Leave" for v in answer.xml()):
                            result = "leave"
                        break
        action = enqueue.get("action")
        seconds = behaviour.seconds_in_queue if result == "bridged" else 0

        def done() -> None:
            if result == "bridged":
                self.bridged_to, self.bridged_at = f"queue:{name}", self.timeline.now
            if not action:
                self.step()
                return
            self.load(absolute(self.document_url, action), QueueResult=result, QueueSid=queue_sid, QueueTime=str(behaviour.seconds_in_queue))

        self.later(seconds, done)

    # -- conferences ----------------------------------------------------------------------

    def conference_started(self, conference: Conference) -> None:
        super().conference_started(conference)
        self.cut_audio()
        agents = [leg for leg in conference.others(self) if isinstance(leg, AgentLeg)]
        if agents and self.bridged_to is None:
            self.bridged_to, self.bridged_at = agents[0].agent_key, self.timeline.now
            self.audio.append(Heard(self.timeline.now, self.timeline.now + agents[0].agent.talk_seconds, "person", agents[0].agent_key))

    def left_conference(self, dial_status: str) -> None:
        self.cut_audio()
        super().left_conference(dial_status)

    def leave_for_new_twiml(self) -> None:
        self.waiting = None
        self.cut_audio()
        super().leave_for_new_twiml()

    # -- the end --------------------------------------------------------------------------

    def hang_up_leg(self) -> None:
        self.finish()

    def finish(self) -> None:
        if self.ended:
            return
        self.cut_audio()
        if self.conference is not None:
            self.conference.leave(self)
        self.ended = True
        self.waiting = None
        self.generation += 1
        reply = self.twilio.post(self.twilio.status_url, self.params(CallStatus="completed", CallDuration=str(self.seconds)))
        self.replies.append(reply)

    def longest_silence(self, since: float, until: float) -> float:
        """The longest stretch between ``since`` and ``until`` in which the caller heard nothing."""
        longest, heard_until = 0.0, since
        for heard in sorted(self.audio, key=lambda each: each.start):
            if heard.end <= since or heard.start >= until:
                continue
            longest = max(longest, heard.start - heard_until)
            heard_until = max(heard_until, heard.end)
        return max(longest, until - heard_until)

    @property
    def transcript(self) -> str:
        return " ".join(self.heard)


def replace_end(heard: Heard, end: float) -> Heard:
    return Heard(heard.start, max(heard.start, end), heard.kind, heard.text)


def absolute(base: str, url: str) -> str:
    """``url`` resolved against the document it came in; TwiML given over the REST API has no base, so it must be absolute."""
    resolved = urljoin(base, url)
    if not urlsplit(resolved).scheme:
        raise AssertionError(f"TwiML given over the REST API has a relative URL: {url}")
    return resolved


class DialedAgent(Leg):
    """An agent's leg rung by ``<Dial>``: it follows the noun's whisper document, then bridges or declines."""

    def __init__(self, call: SimulatedCall, sid: str, target: str, agent: Agent) -> None:
        super().__init__(call, call.twilio, call.timeline, sid, target, call.caller, "outbound-dial")
        self.agent = agent
        self.on_bridge: Callable[[], None] = lambda: None
        self.on_decline: Callable[[], None] = lambda: None

    def params(self, **extra: str | None) -> dict[str, str]:
        return super().params(ParentCallSid=self.owner.sid, **extra)

    def hear(self, text: str, seconds: float, kind: str = "say") -> None:
        if kind == "say":
            self.owner.agent_heard.append(text)

    def _gather(self, verb: ET.Element) -> None:
        whisper_gather(self, verb)

    def document_done(self) -> None:
        self.ended = True
        self.on_bridge()

    def hang_up_leg(self) -> None:
        self.ended = True
        self.on_decline()


def whisper_gather(leg: DialedAgent | AgentLeg, verb: ET.Element) -> None:
    """An agent hears the prompt, then presses their keys (or lets the gather time out to the next verb)."""
    prompt = 0.0
    for child in verb:
        if child.tag == "Say":
            text = "".join(child.itertext()).strip()
            leg.hear(text, speech_seconds(text))
            prompt += speech_seconds(text)
    if leg.agent.presses:
        action = verb.get("action")
        url = leg.resolve(action) if action else leg.document_url
        leg.later(prompt + KEY_SECONDS, lambda: leg.load(url, Digits=leg.agent.presses))
    else:
        leg.later(prompt + float(verb.get("timeout") or 5), leg.step)


class AgentLeg(Leg):
    """A call the app placed over the REST API to an agent: it rings, is answered (or not), follows its TwiML."""

    def __init__(self, call: SimulatedCall, sid: str, form: dict[str, str], events: list[str]) -> None:
        super().__init__(call, call.twilio, call.timeline, sid, form["To"], form["From"], "outbound-api")
        self.agent_key, self.agent = call.twilio.agent(form["To"])
        self.url = form.get("Url", "")
        self.status_callback = form.get("StatusCallback", "")
        self.events = set(events)
        self.timeout = float(form.get("Timeout") or 60)
        self.status = "queued"
        self.sequence = itertools.count()
        self.held_back: list[dict[str, str]] = []
        self.placed_at = self.timeline.now
        self.answered_at: float | None = None
        self.ended_at: float | None = None

    def hear(self, text: str, seconds: float, kind: str = "say") -> None:
        if kind == "say":
            self.owner.agent_heard.append(text)

    def dial(self) -> None:
        self.progress("initiated", "initiated")
        agent = self.agent
        if agent.answer == "failed":
            self.later(0.0, lambda: self.end("failed"))
            return
        self.progress("ringing", "ringing")
        if agent.answer == "busy":
            self.later(BUSY_SECONDS, lambda: self.end("busy"))
        elif agent.answer != "answer" or agent.ring_seconds >= self.timeout:
            self.later(self.timeout, lambda: self.end("no-answer"))
        else:
            self.later(agent.ring_seconds, self.answer)

    def answer(self) -> None:
        self.status, self.answered_at = "in-progress", self.timeline.now
        self.progress("answered", "in-progress")
        if self.agent.hangs_up_in_whisper:
            self.timeline.at(2.0, self.hang_up_leg)
        self.load(self.url)

    def _gather(self, verb: ET.Element) -> None:
        whisper_gather(self, verb)

    def conference_started(self, conference: Conference) -> None:
        super().conference_started(conference)
        self.later(self.agent.talk_seconds, self.hang_up_leg)

    def left_conference(self, dial_status: str) -> None:
        super().left_conference(dial_status)

    def hang_up_leg(self) -> None:
        self.end("completed")

    def end_by_api(self, status: str) -> None:
        if status == "canceled" and self.status == "in-progress":
            return
        self.end("canceled" if status == "canceled" else "completed")

    def end(self, status: str) -> None:
        if self.ended:
            return
        if self.conference is not None:
            self.conference.leave(self)
        self.ended = True
        self.generation += 1
        self.status, self.ended_at = status, self.timeline.now
        duration = int(self.timeline.now - self.answered_at) if self.answered_at is not None else 0
        self.progress("completed", status, CallDuration=str(duration))
        for params in self.held_back:
            self.deliver(params)

    def progress(self, event: str, status: str, **extra: str) -> None:
        """Post the status callback for ``event`` if the app asked for it (held back to after the end for ``Agent.late``)."""
        if event not in self.events or not self.status_callback:
            return
        params = {
            **self.params(CallStatus=status, **extra), "CallbackSource": "call-progress-events",
            "Timestamp": _rfc2822(), "SequenceNumber": str(next(self.sequence)),
        }
        if status in self.agent.late and not self.ended:
            self.held_back.append(params)
            return
        self.deliver(params)

    def deliver(self, params: dict[str, str]) -> None:
        reply = self.twilio.post(self.status_callback, params)
        self.owner.replies.append(reply)
        if reply.status != 200:
            raise AssertionError(f"agent status callback answered {reply.status}: {reply.body[:200]}")


# --- the REST API -------------------------------------------------------------------------------


@dataclass
class ApiRequest:
    method: str
    path: str
    form: dict[str, str]
    authorized: bool
    values: dict[str, list[str]] = field(default_factory=dict)


class TwilioApiServer:
    """Twilio's REST API on 127.0.0.1: create Messages and Calls, update Calls, with basic auth; records every request.

    Calls created for a simulated call (registered in ``calls_by_id`` when it starts) are played on its timeline.
    """

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = "test-auth-token") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[ApiRequest] = []
        self.failures: list[int] = []
        self.refused: set[str] = set()
        self.calls_by_id: dict[str, SimulatedCall] = {}
        self.legs: dict[str, Leg] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
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

    def refuse(self, number: str) -> None:
        """Refuse to call ``number`` (error 21215, as for a country outside the account's geo permissions)."""
        self.refused.add(number)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` create requests with ``status`` (as during a Twilio incident)."""
        with self._lock:
            self.failures.extend([status] * count)

    def messages(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.path.endswith("/Messages.json") and r.authorized]

    def calls(self) -> list[dict[str, str]]:
        """The calls created (``Calls.json``), in order."""
        return [r.form for r in self.requests if r.path.endswith("/Calls.json") and r.authorized]

    def call_updates(self) -> list[tuple[str, dict[str, str]]]:
        """The calls changed (``Calls/{sid}.json``): their SID and what was asked."""
        return [(r.path.rsplit("/", 1)[1].removesuffix(".json"), r.form) for r in self.requests
                if "/Calls/" in r.path and r.authorized]

    def place(self, sid: str, form: dict[str, str], values: dict[str, list[str]]) -> None:
        """Play a created call on the timeline of the simulated call its ``Url`` names, if there is one."""
        named = parse_qs(urlsplit(form.get("Url", "")).query).get("call", [""])[0]
        call = self.calls_by_id.get(named)
        if call is None:
            return
        leg = AgentLeg(call, sid, form, values.get("StatusCallbackEvent", []))
        self.legs[sid] = leg
        call.legs.append(leg)
        call.timeline.at(0.0, leg.dial)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = dict(parse_qsl(raw, keep_blank_values=True))
                values = parse_qs(raw, keep_blank_values=True)
                authorized = self._authorized()
                prefix = f"/{API_VERSION}/Accounts/{api.account_sid}/"
                creating = self.path in {prefix + "Messages.json", prefix + "Calls.json"}
                with api._lock:
                    api.requests.append(ApiRequest("POST", self.path, form, authorized, values))
                    failure = api.failures.pop(0) if api.failures and authorized and creating else None
                if not authorized:
                    return self._error(401, 20003, "Authenticate")
                if failure is not None:
                    return self._error(failure, 20500, "Internal Server Error")
                if self.path == prefix + "Messages.json":
                    return self._message(form)
                if self.path == prefix + "Calls.json":
                    return self._call(form, values)
                if self.path.startswith(prefix + "Calls/") and self.path.endswith(".json"):
                    return self._update(self.path[len(prefix + "Calls/"):-len(".json")], form)
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

            def _call(self, form: dict[str, str], values: dict[str, list[str]]) -> None:
                if not form.get("To"):
                    return self._error(400, 21201, "No 'To' number is specified")
                if not form.get("From"):
                    return self._error(400, 21213, "No 'From' number is specified")
                if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
                    return self._error(400, 21205, "Url parameter is required.")
                if form["To"] in api.refused:
                    return self._error(400, 21215, f"Account not authorized to call {form['To']}. Check your geo permissions.")
                if form.get("Twiml"):
                    ET.fromstring(form["Twiml"])
                sid = new_sid("CA")
                api.place(sid, form, values)
                self._json(201, self._resource(sid, form.get("To", ""), form.get("From", ""), "queued"))

            def _update(self, sid: str, form: dict[str, str]) -> None:
                leg = api.legs.get(sid)
                if leg is None:
                    return self._error(404, 20404, f"The requested resource Calls/{sid} was not found")
                if leg.ended:
                    return self._error(400, 21220, "Call is not in-progress. Cannot redirect.")
                if form.get("Twiml"):
                    ET.fromstring(form["Twiml"])
                leg.timeline.at(0.0, lambda: leg.update(form))
                self._json(200, self._resource(sid, leg.to, leg.from_, "in-progress"))

            def _resource(self, sid: str, to: str, from_: str, status: str) -> dict[str, Any]:
                return {
                    "sid": sid, "account_sid": api.account_sid, "to": to, "from": from_,
                    "status": status, "direction": "outbound-api", "api_version": API_VERSION,
                    "date_created": _rfc2822(), "date_updated": _rfc2822(),
                    "uri": f"/{API_VERSION}/Accounts/{api.account_sid}/Calls/{sid}.json",
                }

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
