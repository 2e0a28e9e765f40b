"""The rule-based detector on its own: each signal, each trap family, evidence, and lexicon errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from frontdoor.handoff.detector import DEFAULT_FOLDER, LexiconDetector, LexiconError, _Turn, load_detector
from frontdoor.handoff.policy import PolicyThresholds, decide_handoff
from frontdoor.handoff.signals import Assessment, AudioFeatures, CallerContext, Detector, TurnObservation


@pytest.fixture(scope="module")
def detector() -> LexiconDetector:
    return load_detector()


def run(
    detector: Detector, turns: list[str | TurnObservation], context: CallerContext = CallerContext()
) -> list[Assessment]:
    """Assess turns one after another as the engine does; returns every assessment."""
    seen: list[TurnObservation] = []
    assessments: list[Assessment] = []
    for index, turn in enumerate(turns):
        observation = turn if isinstance(turn, TurnObservation) else TurnObservation(index, turn, silent=not turn)
        assessments.append(detector.assess(observation, list(seen), list(assessments), context))
        seen.append(observation)
    return assessments


def verdict(detector: Detector, *turns: str, context: CallerContext = CallerContext()):  # type: ignore[no-untyped-def]
    return decide_handoff(run(detector, list(turns), context), PolicyThresholds())


@pytest.mark.parametrize(
    "text",
    [
        "agent",
        "uh representative please",
        "can i talk to a real person",
        "could you transfer me to one of your technicians",
        "i'd rather just speak with somebody",
        "get me a human",
        "i don't want a robot i want a person",
        "my manager told me to ask for a person",
        "it's not urgent but could i speak to a technician",
        "can someone call me back",
    ],
)
def test_requests_for_a_person_hand_off_on_that_turn(detector: LexiconDetector, text: str) -> None:
    result = verdict(detector, text)
    assert (result.handoff, result.reason) == (True, "human_request")


@pytest.mark.parametrize(
    "text",
    [
        "the agent software keeps crashing on my laptop",
        "i can't open the human resources portal",
        "my sales representative account is missing reports",
        "it was operator error i fixed it",
        "how do i set the urgent flag in outlook",
        "we got an emergency broadcast test email",
        "the critical updates take forever to install",
        "when is the phishing training due",
        "the help desk sent me a survey",
    ],
)
def test_look_alikes_are_not_triggers(detector: LexiconDetector, text: str) -> None:
    assert not verdict(detector, text).handoff


@pytest.mark.parametrize(
    "text",
    [
        "it's not urgent",
        "this isn't an emergency at all",
        "i don't need a person",
        "i don't think i need to talk to anyone",
        "no need for anyone to call me",
        "i'm not upset just curious",
    ],
)
def test_negated_triggers_do_not_count(detector: LexiconDetector, text: str) -> None:
    assert not verdict(detector, text).handoff


def test_negation_ends_at_a_new_clause(detector: LexiconDetector) -> None:
    result = verdict(detector, "it's not the wifi that's the problem but this is urgent")
    assert result.reason == "urgency"


def test_negated_phrases_stay_visible_as_zero_weight_evidence(detector: LexiconDetector) -> None:
    [assessment] = run(detector, ["it's not urgent"])
    assert [(e.kind, e.what, e.weight) for e in assessment.evidence] == [("negated", '"urgent"', 0.0)]


@pytest.mark.parametrize(
    "text",
    [
        "my boss said this is ridiculous but i'm fine",
        "my coworker keeps saying it's an emergency but it's only the kitchen tv",
        "my manager was really upset about the email delay is it fixed",
    ],
)
def test_reported_speech_is_not_the_callers_own_feeling(detector: LexiconDetector, text: str) -> None:
    assert not verdict(detector, text).handoff


def test_reported_security_details_still_count(detector: LexiconDetector) -> None:
    result = verdict(detector, "someone called saying they were from the help desk and asked me for my code")
    assert (result.reason, result.security) == ("urgency", True)


def test_hypothetical_questions_are_not_requests(detector: LexiconDetector) -> None:
    assert not verdict(detector, "do i need to talk to someone to get a new badge").handoff
    assert not verdict(detector, "who do i speak to about a parking pass").handoff


@pytest.mark.parametrize(
    "text",
    [
        "this is ridiculous my laptop froze again",
        "i'm so fed up with the vpn",
        "how many times do i have to say it",
        "i've restarted it like four times already",
        "oh fantastic the wifi died right before my review",
        "are you even listening",
    ],
)
def test_frustration_in_the_callers_words(detector: LexiconDetector, text: str) -> None:
    assert verdict(detector, text).reason == "frustration"


def test_soft_distress_is_frustration_with_the_distress_flag(detector: LexiconDetector) -> None:
    result = verdict(detector, "i've been trying since seven and i just can't anymore")
    assert (result.reason, result.distress) == ("frustration", True)


def test_sarcasm_needs_a_problem_in_the_same_turn(detector: LexiconDetector) -> None:
    assert not verdict(detector, "oh great thanks that works").handoff
    assert verdict(detector, "oh great the printer jammed again").reason == "frustration"


@pytest.mark.parametrize(
    "text",
    [
        "the whole finance team can't log in and we close the quarter today",
        "patients can't check in the kiosk is frozen",
        "payroll has to run by four and workday is throwing errors",
        "customers can't place orders on the website",
        "my presentation to the board starts in ten minutes and the projector is dead",
    ],
)
def test_business_impact_is_urgent(detector: LexiconDetector, text: str) -> None:
    assert verdict(detector, text).reason == "urgency"


def test_business_words_without_a_problem_are_not_urgent(detector: LexiconDetector) -> None:
    assert not verdict(detector, "do you know if the payroll system is back after the upgrade").handoff
    assert not verdict(detector, "will the ceo town hall be recorded").handoff


@pytest.mark.parametrize(
    "text",
    [
        "i clicked a link in an email and entered my password",
        "i think i've been hacked",
        "my files are encrypted and there's a note asking for bitcoin",
        "someone is logged into my account from another country",
        "my laptop was stolen from my car",
        "i approved a sign in request that wasn't me",
    ],
)
def test_security_emergencies_go_at_once_ahead_of_frustration(detector: LexiconDetector, text: str) -> None:
    result = verdict(detector, f"this is ridiculous {text}")
    assert (result.handoff, result.reason, result.security) == (True, "urgency", True)


def test_fuzzy_repetition_across_turns_builds_frustration(detector: LexiconDetector) -> None:
    assessments = run(detector, ["my headset isn't working", "the headset", "the headset is not working still"])
    repetition = [e for a in assessments for e in a.evidence if e.kind == "repetition"]
    assert [e.turn for e in repetition] == [1, 2]
    assert "repeats turn 0, 1" in repetition[-1].what
    assert decide_handoff(assessments, PolicyThresholds()).reason == "frustration"


def test_different_follow_ups_are_not_repetition(detector: LexiconDetector) -> None:
    assessments = run(detector, ["how do i get email on my phone", "it's an android", "okay the outlook app"])
    assert not any(e.kind == "repetition" for a in assessments for e in a.evidence)


def test_restating_after_a_reprompt_counts_in_full(detector: LexiconDetector) -> None:
    first = TurnObservation(0, "one drive isn't syncing")
    [a0] = run(detector, [first])
    again = detector.assess(TurnObservation(1, "it isn't syncing"), [first], [a0], CallerContext(reprompts=1))
    assert any(e.kind == "repetition" and e.weight >= 1.0 for e in again.evidence)


def test_restating_instead_of_taking_the_offered_person_counts_in_full(detector: LexiconDetector) -> None:
    first = TurnObservation(0, "the printer on five is jammed")
    [a0] = run(detector, [first])
    again = TurnObservation(1, "it's the printer on five it's jammed")
    offered = detector.assess(again, [first], [a0], CallerContext(offered_person=True))
    not_offered = detector.assess(again, [first], [a0], CallerContext())
    assert [e.weight for e in offered.evidence if e.kind == "repetition"] == [1.0]
    assert [e.weight for e in not_offered.evidence if e.kind == "repetition"] == [0.5]


def test_escalation_over_turns(detector: LexiconDetector) -> None:
    assessments = run(detector, ["my docking station is not working", "still nothing", "it's still not working"])
    assert any(e.kind == "escalation" and e.turn == 2 for e in assessments[-1].evidence)
    assert assessments[-1].totals.frustration > assessments[-1].scores.frustration


def test_running_totals_decay_between_turns(detector: LexiconDetector) -> None:
    assessments = run(detector, ["this is so annoying", "ok how do i add a printer"])
    assert assessments[0].totals.frustration == pytest.approx(1.0)
    assert assessments[1].scores.frustration == 0.0
    assert 0 < assessments[1].totals.frustration < 1.0


def test_evidence_quotes_the_phrase_with_its_weight_and_turn(detector: LexiconDetector) -> None:
    assessments = run(detector, ["hi", "the printer is down and this is ridiculous"])
    [item] = [e for e in assessments[1].evidence if e.signal == "frustration"]
    assert (item.kind, item.what, item.weight, item.turn) == ("wording", '"ridiculous"', 1.0, 1)
    assert assessments[1].turn == 1 and assessments[0].evidence == ()


def test_keypad_zero_is_a_request_for_a_person(detector: LexiconDetector) -> None:
    [assessment] = run(detector, [TurnObservation(0, "", digits="0")])
    assert [(e.signal, e.kind) for e in assessment.evidence] == [("human_request", "keypad")]
    assert assessment.totals.human_request >= 1.0


def test_silence_and_low_confidence_are_weak_evidence_only(detector: LexiconDetector) -> None:
    turns = [TurnObservation(0, "", silent=True), TurnObservation(1, "", silent=True)]
    assessments = run(detector, turns, CallerContext(reprompts=1))
    kinds = {e.kind for e in assessments[1].evidence}
    assert {"silence", "reprompted"} <= kinds
    mumbled = run(detector, [TurnObservation(0, "the thing", confidence=0.2, misunderstood=True)])
    assert [e.kind for e in mumbled[0].evidence] == ["low_confidence"]
    assert not decide_handoff(assessments, PolicyThresholds()).handoff


def test_caller_history_and_vip_are_evidence_once(detector: LexiconDetector) -> None:
    context = CallerContext(vip=True, recent_calls=2)
    assessments = run(detector, ["my laptop is slow", "it's slow still"], context)
    first = {e.kind for e in assessments[0].evidence}
    assert {"repeat_caller", "vip"} <= first
    assert not {"repeat_caller", "vip"} & {e.kind for e in assessments[1].evidence}
    assert not any(e.kind == "repeat_caller" for e in run(detector, ["my laptop is slow"], CallerContext(recent_calls=1))[0].evidence)


def test_major_incident_with_business_impact_adds_urgency(detector: LexiconDetector) -> None:
    text = "email is down and payroll can't send the bank file"
    plain = run(detector, [text], CallerContext(incident_impact="minor"))[0]
    major = run(detector, [text], CallerContext(incident_impact="major"))[0]
    assert any(e.kind == "incident_impact" for e in major.evidence)
    assert major.totals.urgency > plain.totals.urgency


def test_prosody_relative_to_the_callers_own_earlier_turns(detector: LexiconDetector) -> None:
    calm = AudioFeatures(rms_db=-30.0, pitch_hz=180.0, words_per_second=2.5)
    loud = AudioFeatures(rms_db=-20.0, pitch_hz=240.0, words_per_second=3.6)
    turns = [TurnObservation(0, "my laptop is slow", audio=calm), TurnObservation(1, "it is still slow", audio=loud)]
    assessments = run(detector, turns)
    prosody = [e for e in assessments[1].evidence if e.kind == "prosody"]
    assert {e.signal for e in prosody} == {"frustration", "urgency"}
    assert any("louder" in e.what for e in prosody)
    first_turn_alone = run(detector, [TurnObservation(0, "my laptop is slow", audio=loud)])[0]
    assert not any(e.kind == "prosody" for e in first_turn_alone.evidence)


def test_same_input_same_output(detector: LexiconDetector) -> None:
    turns = ["the printer is jammed again", "this is so annoying"]
    assert run(detector, turns) == run(detector, turns)


def copy_lexicons(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicons"
    shutil.copytree(DEFAULT_FOLDER, folder)
    return folder


def test_a_lexicon_edit_changes_behaviour_without_code(tmp_path: Path) -> None:
    folder = copy_lexicons(tmp_path)
    path = folder / "frustration.yaml"
    path.write_text(path.read_text().replace("  wording:\n", "  wording:\n    bonkers: 1.0\n", 1))
    assert verdict(load_detector(folder), "this printer is bonkers").reason == "frustration"
    assert not verdict(load_detector(), "this printer is bonkers").handoff


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("urgency.yaml", lambda text: text + "\n  - [unclosed\n", "invalid YAML"),
        ("urgency.yaml", lambda text: text + "\nweights: {}\n", "unknown key 'weights'"),
        ("features.yaml", lambda text: text.replace("weight: 0.3\n", "weight: lots\n", 1), "expected a number"),
        ("human_request.yaml", lambda text: text.replace("signal: human_request", "signal: joy"), "signal: expected one of"),
        ("frustration.yaml", lambda text: text.replace("  wording:\n", "  wording:\n    (unclosed: 1.0\n", 1), "cannot read the pattern"),
        ("frustration.yaml", lambda text: text.replace("  wording:\n", "  wording:\n    <NOPE> thing: 1.0\n", 1), "unknown word class"),
        ("language.yaml", lambda text: text.replace("  window: 5\n", "  window: five\n", 1), "expected a whole number"),
    ],
)
def test_bad_lexicon_files_raise_one_line_errors_naming_the_file(tmp_path: Path, file: str, change, message: str) -> None:  # type: ignore[no-untyped-def]
    folder = copy_lexicons(tmp_path)
    path = folder / file
    path.write_text(change(path.read_text()))
    with pytest.raises(LexiconError) as error:
        load_detector(folder)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_folder_or_file_is_a_lexicon_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="lexicon folder not found"):
        load_detector(tmp_path / "nowhere")
    folder = copy_lexicons(tmp_path)
    (folder / "urgency.yaml").unlink()
    with pytest.raises(LexiconError, match="no lexicon file for signal"):
        load_detector(folder)


def test_evidence_quotes_do_not_end_on_a_dangling_word(detector: LexiconDetector) -> None:
    [assessment] = run(detector, ["this is the third time i've called about this"])
    quotes = [e.what for e in assessment.evidence if e.what.startswith('"')]
    assert quotes and not any(q.rstrip('"').split()[-1] in {"i've", "to", "the", "a"} for q in quotes)


def test_the_one_pattern_per_signal_finds_a_phrase_exactly_when_a_phrase_matches(detector: LexiconDetector) -> None:
    lines = (Path(__file__).parent / "data" / "dev_conversations.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [turn for line in lines if line.strip() for turn in json.loads(line)["turns"]]
    checked = 0
    for text in texts:
        words = _Turn.read(text, detector.language)
        for lexicon in detector.lexicon.signals:
            any_phrase = any(phrase.pattern.regex.search(words.text) for phrase in lexicon.phrases)
            assert bool(lexicon.any_phrase.search(words.text)) == any_phrase, (lexicon.signal, text)
            checked += any_phrase
    assert checked > 100
