"""Everything the assistant says, in one place: short, plain, honest sentences."""

from __future__ import annotations

from typing import Sequence

from frontdoor.handoff.signals import Reason

_HANDOFF = {
    "human_request": "Of course. I'm connecting you with a person at the service desk now, and I've passed on what you told me.",
    "urgency": "That needs a person right away, so I'm putting you straight through to the service desk; I've passed on the details so you won't have to repeat them.",
    "frustration": "Let me get you to a person who can sort this out. I've passed on everything you told me, so you won't have to repeat yourself.",
    "no_progress": "I'm sorry I couldn't follow that. I'm connecting you with a person who can help, and I've passed on what you said.",
    "failure": "I'm sorry, something went wrong on my side. I'm connecting you with a person at the service desk now.",
}
_SECURITY = (
    "That needs a person right away, so I'm putting you straight through to the security team at the service desk. "
    "Until they pick up, please don't click anything else or type your password anywhere."
)


def greeting(name: str | None, organisation: str, headlines: Sequence[str]) -> str:
    hello = f"Hi {name.split()[0]}, this is the {organisation} assistant." if name else f"Hi, this is the {organisation} assistant."
    notice = f" A heads-up: {' '.join(headlines)}" if headlines else ""
    return f"{hello}{notice} What can I help you with? You can say 'agent' at any time to reach a person."


def greeting_back() -> str:
    return "Hi! Tell me in a few words what's going on, and I'll check it for you."


def bot_disclosure(organisation: str) -> str:
    return (
        f"I'm the {organisation}'s automated assistant. I can check for known problems and answer common questions, "
        "or I can connect you with a person right now. Would you like a person?"
    )


def reprompt(silent: bool, knows_topic: bool) -> str:
    if silent:
        return "I'm still here. Tell me what's going on, or say 'agent' and I'll get you a person."
    if knows_topic:
        return "Sorry, I didn't catch that. Could you say it another way, or say 'agent' for a person?"
    return "Sorry, I didn't catch that. Could you tell me in a few words what isn't working, or say 'agent' for a person?"


def incident_with_text_offer(description: str) -> str:
    return f"{description} Would you like a text message when it's fixed? If you'd rather talk to a person, just say so."


def incident_with_person_offer(description: str) -> str:
    return f"{description} If you'd still like to talk to a person, just say so."


def incident_again(description: str) -> str:
    return f"That sounds like the same problem I mentioned. {description} Would you like me to connect you with a person?"


def subscribed(number: str) -> str:
    return f"Done. I'll text you at the number ending in {number[-4:]} as soon as it's fixed. Is there anything else I can help with?"


def no_known_problem(service: str | None) -> str:
    thing = service or "that"
    return (
        f"I don't have a report of a problem with {thing} yet, so thank you for telling us. "
        "Would you like me to connect you with a person who can look into it?"
    )


def noted_problem(service: str | None) -> str:
    return f"Got it, I've noted the problem with {service or 'that'}. A person can look into it whenever you're ready; just say so."


def nothing_more() -> str:
    return "I don't have more detail on that myself. Would you like me to connect you with a person who does?"


def acknowledged() -> str:
    return "Okay. Anything else, just ask, or say 'agent' for a person."


def agent_reminder() -> str:
    return "If that doesn't sort it out, say 'agent' and I'll get you a person."


def offer_person_after_long_call() -> str:
    return "We've been going a while, so a person may get this done faster. Would you like me to connect you?"


def survey_question() -> str:
    return (
        "Glad I could help. One quick question before you go: on a scale from one to five, "
        "how satisfied were you with the help you got? Say a number or press it on your keypad."
    )


def survey_thanks() -> str:
    return "Thank you, that helps us get better. Goodbye!"


def goodbye() -> str:
    return "Thanks for calling. Goodbye!"


def handoff(reason: Reason, acknowledgement: str, security: bool) -> str:
    body = _SECURITY if security else _HANDOFF[reason]
    return f"{acknowledgement} {body}".strip()
