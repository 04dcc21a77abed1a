"""Gladia payloads written from the reference (shared/vendors/gladia.md) for the unit tests."""

from __future__ import annotations

import copy
from typing import Any

JOB_ID = "45463597-20b7-4af7-b3b3-f5fb778203ab"
FILE_ID = "9b1f4c1e-7d1e-4a6a-9c55-2a4f7c0e8d11"


def word(text: str, start: float, end: float, confidence: float = 0.9) -> dict[str, Any]:
    return {"word": text, "start": start, "end": end, "confidence": confidence}


def done_job() -> dict[str, Any]:
    """A finished two-channel job with a summary (every documented field present)."""
    return copy.deepcopy(
        {
            "id": JOB_ID,
            "request_id": "G-45463597",
            "version": 2,
            "status": "done",
            "created_at": "2026-09-14T13:02:11.482Z",
            "completed_at": "2026-09-14T13:05:40.010Z",
            "custom_metadata": {"user": "John Doe", "ticket": 42},
            "error_code": None,
            "post_session_metadata": {"debug": True},
            "kind": "live",
            "file": {
                "id": FILE_ID,
                "filename": "call.wav",
                "source": None,
                "audio_duration": 12.5,
                "number_of_channels": 2,
            },
            "request_params": {"encoding": "wav/pcm", "sample_rate": 16000, "channels": 2},
            "result": {
                "metadata": {
                    "audio_duration": 12.5,
                    "number_of_distinct_channels": 2,
                    "billing_time": 25.0,
                    "transcription_time": 1.2,
                },
                "transcription": {
                    "full_transcript": "Hello there. Hi, how can I help?",
                    "languages": ["en", "fr"],
                    "utterances": [
                        {
                            "start": 0.21001999999999998,
                            "end": 1.1,
                            "confidence": 0.93,
                            "channel": 0,
                            "words": [word("Hello", 0.21, 0.6), word(" there.", 0.6, 1.1)],
                            "text": "Hello there.",
                            "language": "en",
                        },
                        {
                            "start": 1.5,
                            "end": 3.0,
                            "confidence": 0.88,
                            "channel": 1,
                            "speaker": 3,
                            "words": [word("Hi,", 1.5, 1.8, 0.8)],
                            "text": "Hi, how can I help?",
                            "language": "en",
                            "emotion": "calm",
                        },
                    ],
                },
                "summarization": {
                    "success": True,
                    "is_empty": False,
                    "exec_time": 0.7,
                    "error": None,
                    "results": "A greeting.",
                },
            },
        }
    )


def queued_job() -> dict[str, Any]:
    """A job right after init: only the required keys, nullable ones null or absent."""
    return {
        "id": JOB_ID,
        "request_id": "G-45463597",
        "version": 2,
        "status": "queued",
        "created_at": "2026-09-14T13:02:11Z",
        "completed_at": None,
        "kind": "live",
        "file": None,
        "result": None,
    }


def page(items: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    return {
        "first": "https://api.gladia.io/v2/live?offset=0&limit=2",
        "current": "https://api.gladia.io/v2/live?offset=0&limit=2",
        "next": next_url,
        "items": items,
    }


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": "2026-09-14T13:02:11.482Z",
        "path": f"/v2/live/{JOB_ID}",
        "request_id": "G-821fe9df",
        "statusCode": status,
        "message": message,
        **extra,
    }
