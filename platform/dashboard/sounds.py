"""The dashboard's notification sound, made here rather than shipped as a binary: two short
soft tones (a rising fifth), a 16-bit mono WAV of about 0.3 s and 13 KB, built once per process.
"""

import io
import math
import wave
from functools import cache

SAMPLE_RATE = 22050
TONES = ((880.0, 0.12), (1318.5, 0.18))  # A5 then E6: (frequency in Hz, seconds)
VOLUME = 0.35


@cache
def chime_wav() -> bytes:
    frames = bytearray()
    for frequency, seconds in TONES:
        count = int(SAMPLE_RATE * seconds)
        for n in range(count):
            # A quick attack and an exponential fade: no click at either end of a tone.
            envelope = min(1.0, n / (SAMPLE_RATE * 0.005)) * math.exp(-4.0 * n / count)
            sample = VOLUME * envelope * math.sin(2 * math.pi * frequency * n / SAMPLE_RATE)
            frames += int(sample * 32767).to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(frames))
    return out.getvalue()
