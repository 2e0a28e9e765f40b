"""Streaming speech recognition with Vosk: partial results, utterances cut by our own endpointer, confidences."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, Union

from frontdoor.voice.endpointing import Boundary, Endpointer
from frontdoor.voice.errors import AudioLibraryMissingError, ModelError
from frontdoor.voice.sources import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np

PRE_ROLL_SECONDS = 0.3
UNKNOWN_WORD = "[unk]"
FIX_HINT = "run `frontdoor model download` or pass --model DIR"
SILENT_LOG_LEVEL = -3


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Partial:
    """What the recognizer has heard so far of the utterance under way."""

    text: str


@dataclass(frozen=True, eq=False)
class Utterance:
    """One complete utterance: transcript, word timings, turn confidence and its audio."""

    text: str
    words: tuple[Word, ...]
    samples: np.ndarray = field(repr=False)
    start_seconds: float
    end_seconds: float

    @property
    def confidence(self) -> float | None:
        """Mean of the words' confidences; None when nothing was recognised."""
        return sum(w.conf for w in self.words) / len(self.words) if self.words else None


@dataclass(frozen=True)
class NoSpeech:
    """Nobody spoke for the configured time."""

    at_seconds: float


Event = Union[Partial, Utterance, NoSpeech]


def load_model(path: Path):  # type: ignore[no-untyped-def]
    """A vosk.Model from a folder, or a one-line ``ModelError`` saying what to run."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"no speech model at {path}: {FIX_HINT}")
    if not path.is_dir():
        raise ModelError(f"{path} is a file, not a model folder: {FIX_HINT}")
    if not ((path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()):
        raise ModelError(f"{path} is not a Vosk model (no am/final.mdl): {FIX_HINT}")
    vosk = import_vosk()
    vosk.SetLogLevel(SILENT_LOG_LEVEL)
    try:
        return vosk.Model(str(path))
    except Exception:
        raise ModelError(f"the speech model at {path} is broken or incomplete: {FIX_HINT}") from None
    finally:
        vosk.SetLogLevel(-1)


def import_vosk():  # type: ignore[no-untyped-def]
    try:
        import vosk
    except (ImportError, OSError) as exc:
        raise AudioLibraryMissingError(f"speech recognition needs vosk ({exc}): pip install 'frontdoor[voice]'") from None
    vosk.SetLogLevel(-1)
    return vosk


def grammar(model, phrases: Iterable[str]) -> list[str]:  # type: ignore[no-untyped-def]
    """A Vosk grammar: the phrases whose words the model knows, plus ``[unk]`` when the model has it."""
    kept = []
    for phrase in phrases:
        tokens = phrase.lower().split()
        if tokens and all(model.vosk_model_find_word(token) >= 0 for token in tokens):
            kept.append(" ".join(tokens))
    if model.vosk_model_find_word(UNKNOWN_WORD) >= 0:
        kept.append(UNKNOWN_WORD)
    return list(dict.fromkeys(kept))


class SpeechRecognizer:
    """Feed 16 kHz mono int16 frames, get partials, utterances and no-speech events back."""

    def __init__(
        self,
        model,  # type: ignore[no-untyped-def]
        *,
        endpoint_silence_seconds: float,
        no_speech_seconds: float | None = None,
        phrases: Sequence[str] | None = None,
    ) -> None:
        import numpy as np

        self.model = model
        vosk = import_vosk()
        if phrases is None:
            self._kaldi = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        else:
            self._kaldi = vosk.KaldiRecognizer(model, SAMPLE_RATE, json.dumps(grammar(model, phrases), ensure_ascii=False))
        self._kaldi.SetWords(True)
        self.endpointer = Endpointer(silence_seconds=endpoint_silence_seconds, no_speech_seconds=no_speech_seconds)
        self._words: list[Word] = []
        self._partial = ""
        self._undecided = False
        self._recent: deque[np.ndarray] = deque()
        self._recent_samples = 0
        self._speech: list[np.ndarray] = []
        self._np = np

    def restart_wait(self) -> None:
        """The assistant has finished speaking: count silence from now."""
        self.endpointer.restart_wait()

    def feed(self, frame: np.ndarray) -> list[Event]:
        events: list[Event] = []
        if self._kaldi.AcceptWaveform(frame.tobytes()):
            self._words.extend(_words(self._kaldi.Result()))
            self._undecided = False
        else:
            partial = json.loads(self._kaldi.PartialResult()).get("partial", "")
            self._undecided = bool(partial)
            text = " ".join([*(w.text for w in self._words), partial]).strip()
            if text and text != self._partial:
                self._partial = text
                events.append(Partial(text))
        boundaries = self.endpointer.push(frame)
        self._keep_audio(frame, bool(boundaries) and boundaries[0].boundary is not Boundary.NO_SPEECH)
        for boundary in boundaries:
            if boundary.boundary is Boundary.UTTERANCE_ENDED:
                utterance = self._close(boundary.at_seconds)
                if utterance is not None:
                    events.append(utterance)
            elif boundary.boundary is Boundary.NO_SPEECH:
                events.append(NoSpeech(boundary.at_seconds))
        return events

    def finish(self) -> list[Event]:
        """End of input: the utterance under way, if any."""
        events: list[Event] = []
        for boundary in self.endpointer.finish():
            utterance = self._close(boundary.at_seconds)
            if utterance is not None:
                events.append(utterance)
        return events

    def _keep_audio(self, frame: np.ndarray, boundary: bool) -> None:
        if self.endpointer.in_speech or boundary:
            if not self._speech:
                self._speech = list(self._recent)
            self._speech.append(frame)
            return
        self._recent.append(frame)
        self._recent_samples += len(frame)
        while self._recent and self._recent_samples - len(self._recent[0]) >= PRE_ROLL_SECONDS * SAMPLE_RATE:
            self._recent_samples -= len(self._recent.popleft())

    def _close(self, speech_end: float) -> Utterance | None:
        heard = (*self._words, *(_words(self._kaldi.FinalResult()) if self._undecided else ()))
        self._undecided = False
        words = tuple(w for w in heard if w.text != UNKNOWN_WORD)
        audio = self._np.concatenate(self._speech) if self._speech else self._np.zeros(0, dtype=self._np.int16)
        trailing = max(0, int(round((self.endpointer.now - speech_end) * SAMPLE_RATE)))
        audio = audio[: max(0, len(audio) - trailing)]
        self._words, self._partial, self._speech = [], "", []
        self._recent.clear()
        self._recent_samples = 0
        text = " ".join(w.text for w in words).strip()
        if not text:
            return None
        start = speech_end - len(audio) / SAMPLE_RATE
        return Utterance(text=text, words=words, samples=audio, start_seconds=start, end_seconds=speech_end)


def _words(result_json: str) -> list[Word]:
    result = json.loads(result_json)
    return [Word(w["word"], float(w["start"]), float(w["end"]), float(w["conf"])) for w in result.get("result", [])]


def decode_once(model, samples: np.ndarray, phrases: Sequence[str] | None = None) -> tuple[str, float | None]:  # type: ignore[no-untyped-def]
    """Recognise a whole recording at once (used to re-read a doubtful answer against expected phrases)."""
    vosk = import_vosk()
    if phrases is None:
        kaldi = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    else:
        kaldi = vosk.KaldiRecognizer(model, SAMPLE_RATE, json.dumps(grammar(model, phrases), ensure_ascii=False))
    kaldi.SetWords(True)
    kaldi.AcceptWaveform(samples.tobytes())
    words = [w for w in _words(kaldi.FinalResult()) if w.text != UNKNOWN_WORD]
    text = " ".join(w.text for w in words)
    return text, (sum(w.conf for w in words) / len(words) if words else None)


ANSWER_PHRASES: tuple[str, ...] = (
    "yes", "no", "yes please", "no thanks", "agent", "a person", "representative", "operator",
    "one", "two", "three", "four", "five", "thank you", "goodbye",
)
