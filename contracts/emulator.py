"""Emulator helpers, re-exported from :mod:`convoport.sandbox` (where they live) for plugins
written against earlier versions of the kit. New code imports ``convoport.sandbox``."""

from convoport.sandbox import (
    DroppedConnection,
    EmulatorHarness,
    FaultMiddleware,
    Faults,
    HarnessSettings,
    emulator_transport,
    make_wav,
    send_json,
    tone_pcm,
    wav_info,
)

__all__ = [
    "DroppedConnection",
    "EmulatorHarness",
    "FaultMiddleware",
    "Faults",
    "HarnessSettings",
    "emulator_transport",
    "make_wav",
    "send_json",
    "tone_pcm",
    "wav_info",
]
