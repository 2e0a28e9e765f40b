"""The desk speaker: audio sources, Vosk speech recognition, pyttsx3 speech, and the local voice loop.

Audio libraries (vosk, sounddevice, pyttsx3, numpy) are imported only inside the functions that use
them, so the rest of frontdoor runs on machines without PortAudio or espeak-ng.
"""
