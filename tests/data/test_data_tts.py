"""TTS: 16 kHz output for every engine, and a clear error when a program is missing."""

import random

import numpy as np
import pytest

from espnet2_jstar.data.synthetic import prepare_mini_bilingual
from espnet2_jstar.data.tts import (SAMPLE_RATE, TTSUnavailableError, Voice, check_programs,
                                    sample_voice, synthesize)


@pytest.mark.parametrize("voice", [
    Voice("espeak", "en-us+f3", "en", 160, 50),
    Voice("espeak", "es-419+m3", "es", 150, 40),
    Voice("flite", "slt", "en", 1.0, 170.0),
])
def test_synthesize_16k(voice):
    text = "where is the station" if voice.lang == "en" else "dónde está la estación"
    x = synthesize(text, voice)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 0.4 * SAMPLE_RATE < len(x) < 4 * SAMPLE_RATE
    assert min(np.abs(x[:480]).max(), np.abs(x[-480:]).max()) > 1e-3  # trimmed to speech


def test_sample_voice_languages():
    rng = random.Random(0)
    for _ in range(20):
        v = sample_voice(rng, "es", ["espeak", "flite"])
        assert v.engine == "espeak" and v.name.startswith("es")
    names = {sample_voice(rng, "en", ["espeak", "flite"]).engine for _ in range(60)}
    assert names == {"espeak", "flite"}


def test_missing_program_names_apt_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(TTSUnavailableError, match="apt-get install espeak-ng"):
        check_programs(["espeak"])
    with pytest.raises(TTSUnavailableError, match="apt-get install flite"):
        synthesize("hello", Voice("flite", "slt", "en", 1.0, 170.0))
    with pytest.raises(TTSUnavailableError, match="espeak-ng"):
        prepare_mini_bilingual(tmp_path / "dry", "tiny", counts={"train": 1})
