"""Everything the assistant says, in one place: short, plain, honest sentences.

The conversation's replies come first, then what the phone line and the desk speaker say around a handoff
(ringing agents, queues, voicemail, callbacks) and what agents hear. Channels take their sentences from here.
"""

from __future__ import annotations

from typing import Sequence

from frontdoor.handoff.signals import Reason

_HANDOFF = {
    "human_request": "Of course. I'm connecting you to a person now, with what you told me.",
    "urgency": "That needs a person now. I'm putting you straight through, with the details.",
    "frustration": "Let me get you a person now. They'll have everything you said.",
    "no_progress": "Sorry I couldn't follow. I'm connecting you to a person, with what you said.",
    "failure": "Sorry, something went wrong on my side. I'm connecting you to a person now.",
}
_SECURITY = "That needs a person now. I'm connecting you; meanwhile, don't click anything or type your password."


def greeting(name: str | None, organisation: str, headlines: Sequence[str]) -> str:
    hello = f"Hi {name.split()[0]}, it's the {organisation} assistant." if name else f"Hi, it's the {organisation} assistant."
    notice = f" Heads-up: {' '.join(headlines)}" if headlines else ""
    return f"{hello}{notice} How can I help? Say 'agent' anytime for a person."


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
    return f"Thanks, I've noted the problem with {thing}. I can't fix it from here: shall I connect you to a person who can?"


def clarify(service: str | None, described: bool = False) -> str:
    """The one clarifying question about a problem; when the caller already said what happens, when it started."""
    if described:
        about = f" about {service}" if service else ""
        return f"Sorry to hear that{about}. When did it start, and have you tried anything yet?"
    thing = f" with {service}" if service else ""
    return f"Sorry to hear that. What exactly happens{thing}: an error message, or does it not start at all?"


def still_not_working() -> str:
    return "Sorry it's still giving you trouble. A person can dig into it with you: shall I connect you?"


def what_about(service: str | None) -> str:
    if service:
        return f"Sure. What about {service} can I help with?"
    return "Sure. Tell me in a few words what's going on, and I'll check it for you."


def noted_offer(service: str | None) -> str:
    thing = f" with {service}" if service else ""
    return f"Thanks, that helps. I can't sort that out{thing} myself: shall I connect you to a person now? They'll have what you said."


def no_instructions() -> str:
    return "I don't have steps for that myself. A person can walk you through it: shall I connect you?"


def cannot_do_myself() -> str:
    return "I can't do that from here, but a person at the service desk can. Shall I connect you?"


def no_known_incident(service: str | None) -> str:
    thing = service or "that"
    return f"I don't see a known problem with {thing} right now. Is it not working for you? Tell me what you see."


def also_incident(headline: str) -> str:
    return f"Also, a heads-up: {headline}"


def declined() -> str:
    return "Okay. What else can I help with?"


def declined_again() -> str:
    return "Okay. I'm here if there's anything else."


def anything_else() -> str:
    return "Anything else I can help with?"


def nothing_to_text_about() -> str:
    return "There's no known problem logged for that yet, so there's nothing to text you about. Shall I connect you to a person who can look into it?"


def cannot_text_without_number() -> str:
    return "I can't see a number to text you on. A person can take your details: shall I connect you?"


def already_subscribed(number: str) -> str:
    return f"You're already down for a text at the number ending in {number[-4:]}. Anything else?"


def callback_needs_number() -> str:
    return "I can't see a number to call you back on. Shall I connect you to a person now instead?"


def callback_booked_in_call(number: str, when: str | None = None) -> str:
    soon = f"{when}, as you asked" if when else "usually within the hour"
    return f"Okay, I've booked a callback: someone from the service desk will ring the number ending in {number[-4:]}, {soon}. Anything else?"


def callback_already_booked(number: str) -> str:
    return f"You're already down for a callback at the number ending in {number[-4:]}. Anything else?"


def what_else() -> str:
    return "Sure, what else can I help with?"


def long_call_handoff() -> str:
    return "We've covered a lot, so I'm connecting you to a person to finish this. They'll have everything so far."


def acknowledged() -> str:
    return "Okay. I can't help with that myself, but a person can: shall I connect you?"


REPHRASINGS = (
    "Got it. If you'd like a person for this, just say so.",
    "Understood. Say 'agent' whenever you'd like a person.",
)
"""Said instead of a reply that would repeat the last one word for word."""


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


# --- the phone line and the desk speaker around a handoff -----------------------------------------

APOLOGY = _HANDOFF["failure"]
NEXT_AGENT = "They couldn't pick up, so I'm trying someone else at the service desk. Please stay on the line."
ALL_BUSY = "I'm sorry, nobody at the service desk could pick up right now."
OFFER_BOTH = (
    "To leave a message, press 1 or say 'message'. To have someone call you back at the number you're calling from, "
    "press 2 or say 'call back'."
)
OFFER_VOICEMAIL = "Please leave a message after the tone with your name, a number to reach you, and what's wrong. Press the pound key when you're done."
VOICEMAIL_PREFACE = "Okay."
VOICEMAIL_AFTER_FAILURE = "I'm sorry, something went wrong on my side."
VOICEMAIL_SAVED = "Thank you. Your message is with the service desk, and someone will get back to you. Goodbye."
VOICEMAIL_NOT_SAVED = "I'm sorry, I couldn't save your message. Please call again in a few minutes, or email the service desk. Goodbye."
VOICEMAIL_EMPTY = "I didn't hear a message."
VOICEMAIL_EMPTY_NO_CALLBACK = "I didn't hear a message. Please call again, or email the service desk. Goodbye."
VOICEMAIL_NOT_KEPT = "I'm sorry, I couldn't keep that message."
VOICEMAIL_NOT_KEPT_NO_CALLBACK = "I'm sorry, I couldn't keep that message. Please call again, or email the service desk. Goodbye."
GOODBYE_AFTER_CALL = "Thanks for calling the service desk. Goodbye."
KEEPING_PLACE = "Okay, you're keeping your place in line."
WHISPER_NO_ANSWER = "No answer, passing the call on."
WHISPER_CONNECTING = "Connecting."
GENERIC_WHISPER = "A caller is being transferred to you by the service desk assistant. Their details could not be loaded; please ask what they need."
RING_SOON = "Your phone will ring in a moment: pick up and you'll be connected."
CALL_BACK = "A person from the service desk has your details and will call you back shortly."
COME_BACK = "A person from the service desk has your details and will get back to you shortly."


def callback_booked(number: str | None) -> str:
    ending = f" at the number ending in {number[-4:]}" if number and len(number) >= 4 else ""
    return f"I've asked the service desk to call you back{ending} as soon as someone is free. Goodbye."


def whisper_accept_prompt(whisper: str, digit: str) -> str:
    return f"{whisper} Press {digit} to take this call."


def queue_position(position: int | None, average_seconds: float | None) -> str:
    """The caller's honest place in line and the average wait, and the way out."""
    if position is None or position < 1:
        where = "You're in line for the service desk."
    elif position == 1:
        where = "You're next in line for the service desk."
    else:
        where = f"You're number {position} in line for the service desk."
    if average_seconds and average_seconds >= 90:
        wait = f" The average wait right now is about {round(average_seconds / 60)} minutes."
    elif average_seconds and average_seconds > 0:
        wait = " The average wait right now is under two minutes."
    else:
        wait = ""
    return f"{where}{wait} If you'd rather leave a message, press 1 at any time."


def bridge_greeting(first_name: str | None) -> str:
    """What the employee hears when frontdoor rings their phone after a desk-speaker handoff."""
    who = f", {first_name}" if first_name else ""
    return f"Hi{who}, it's the service desk assistant. I'm connecting you to a person now, with what you told me."


# --- the phone line while a caller holds for a conference transfer -------------------------------

HOLD = "Ringing the service desk now."
STILL_HOLDING = "Still trying to reach someone. Thanks for holding."
CALLER_LEFT = "The caller has hung up."
