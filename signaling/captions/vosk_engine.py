"""The offline speech recognizer: Vosk (Kaldi) with a model directory the operator
provides (``[captions] asr_model``). Models are not shipped.

``vosk`` is an optional extra (``pip install 'venuebridge[asr]'``), imported only when a
model is configured; a missing model or package is a ``RecognizerUnavailable`` that
says what to do, raised at start-up rather than on the first word.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from signaling.captions.speech import Recognizer, RecognizerFactory, RecognizerUnavailable

INSTALL_HINT = "install the optional extra: pip install 'venuebridge[asr]'"


class VoskRecognizer:
    """One stream of speech through a ``vosk.KaldiRecognizer``."""

    def __init__(self, kaldi: Any) -> None:
        self._kaldi = kaldi

    def accept(self, pcm: bytes) -> list[str]:
        if self._kaldi.AcceptWaveform(pcm):
            return _text(self._kaldi.Result())
        return []

    def finish(self) -> list[str]:
        return _text(self._kaldi.FinalResult())


def _text(result: str) -> list[str]:
    text = str(json.loads(result).get("text", "")).strip()
    return [text] if text else []


def vosk_factory(model_path: Path, language: str | None) -> RecognizerFactory:
    """A factory of recognizers on the model at ``model_path`` (loaded once, now)."""
    if not model_path.is_dir():
        raise RecognizerUnavailable(
            f"no Vosk model directory at {model_path}: models are not shipped; unpack one "
            f"there or change the setting"
        )
    try:
        vosk = importlib.import_module("vosk")
    except ImportError:
        raise RecognizerUnavailable(f"the vosk package is not installed: {INSTALL_HINT}") from None
    vosk.SetLogLevel(-1)
    try:
        model = vosk.Model(str(model_path))
    except Exception as error:  # vosk raises a bare Exception for a bad model
        raise RecognizerUnavailable(f"{model_path} is not a usable Vosk model: {error}") from None

    def make(wanted: str, rate: int) -> Recognizer:
        if language is not None and wanted != language:
            raise RecognizerUnavailable(
                f"the model's language is {language} (setting captions.asr_language), not {wanted}"
            )
        return VoskRecognizer(vosk.KaldiRecognizer(model, rate))

    return make
