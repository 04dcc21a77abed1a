"""Transcript exports: JSON, plain text, SubRip (SRT) and WebVTT, as strings or files.

::

    from convoport.export import export, write

    print(export(transcript, "vtt"))
    write(transcript, "srt", "meeting.srt")

Every writer returns ``str`` ending with a newline (an empty transcript gives ``""`` for SRT
and text, ``"WEBVTT\\n"`` for WebVTT). Files are written as UTF-8 with ``\\n`` line ends.

Formats (:data:`FORMATS`, chosen by name in :func:`export`, case-insensitive, a leading ``.``
allowed so a file suffix works):

* ``json`` -- the neutral model through :func:`convoport.serde.to_json` (keys sorted, indented
  two spaces); :func:`convoport.serde.from_json` reads it back to an equal ``Transcript``.
  Nothing is dropped, blank utterances and ``provider_data`` included.
* ``txt`` -- :func:`to_text`: one line per utterance, ``Speaker: text`` (or the text alone with
  ``speakers=False`` or when the utterance has no speaker), optionally prefixed with
  ``[HH:MM:SS] `` (``timestamps=True``; the start truncated to the second, ``[--:--:--]`` when
  the utterance's time is unknown -- text output never invents times). An utterance's own line
  breaks become spaces.
* ``srt`` -- :func:`to_srt`: sequence numbers from 1, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``,
  the speaker as a ``Speaker: `` prefix on the first text line.
* ``vtt`` -- :func:`to_vtt`: a ``WEBVTT`` header, ``HH:MM:SS.mmm --> HH:MM:SS.mmm``, the speaker
  as a voice span ``<v Speaker>text</v>``, the utterance id as the cue identifier.

Text of a cue (SRT and WebVTT):

* utterances whose text is blank are skipped (they make no cue and no text line);
* the text is split into lines on every line boundary :meth:`str.splitlines` knows (so ``\\r``,
  ``\\r\\n``, U+2028 ... all break lines), each line is stripped and blank lines are dropped:
  neither format allows an empty line inside a cue (it would end the cue);
* NUL becomes U+FFFD (what a WebVTT parser would do anyway);
* speaker labels and cue identifiers have every whitespace run (newlines included) collapsed
  to one space; a label that is then empty counts as no speaker / no identifier;
* SRT has no escaping: ``-->`` (any run of two or more ``-`` followed by ``>``) is replaced
  by ``->`` so no text line can look like a timing line, and a text line that is only a
  number followed by a line that starts like a timestamp (``12`` / ``1:02:03``) is joined to
  it with a space, because SRT readers take that pair for the start of the next cue;
  ``<``/``>``/``&`` are left as they are (SRT has no entities);
* WebVTT: cue text is escaped (``&`` -> ``&amp;``, ``<`` -> ``&lt;``, ``>`` -> ``&gt;``), so
  ``-->`` can never appear in it; the voice annotation is escaped the same way (the spec
  forbids ``>`` and ``&`` in it and reads character references back); a cue identifier has
  ``-->`` replaced as in SRT and is made unique (a repeated id gets ``-2``, ``-3`` ...), as
  the spec requires.

Timing of a cue (times are whole milliseconds):

* start: the utterance's ``start``; else its first word's ``start``; else, when it has an
  absolute ``timestamp``, the offset of that timestamp from the recording's start in wall-clock
  time: ``timestamp - start`` of the first utterance that has both, or (when none has both) the
  earliest ``timestamp`` of the transcript, so the first timestamped utterance starts at 0;
  else (nothing known) *sequential placement*: the cue starts where the previous cue (in the
  transcript's order) ends, the first one at 0;
* end: the utterance's ``end`` (else its last word's ``end``) when that is after the start
  (compared in milliseconds); else the next cue's start (the next non-blank utterance in the
  transcript's order) when that start is known and after this start; else start + the default
  duration :func:`default_duration`: 2 s + 0.06 s per character of the cue's text, at most
  10 s;
* negative times are clamped to 0, non-finite ones (NaN, infinity) count as unknown; a cue
  never ends at or before its start (at worst it lasts 1 ms);
* cues are written sorted by start time (stable, so the transcript's order breaks ties): the
  WebVTT spec requires non-decreasing start times and SRT players expect them. Overlapping cues
  (two speakers at once) are kept as they are: both formats allow them.

Rounding: seconds -> milliseconds rounds half up on the float's shortest decimal form
(``repr``), so ``59.9995`` gives ``00:01:00.000`` and any time with at most three decimals
round-trips exactly (``to_milliseconds(n / 1000) == n``). Hours have at least two digits and
grow beyond 99 (``100:00:01.500``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Protocol

import attrs

from convoport import serde
from convoport.errors import ConfigError
from convoport.model import Transcript, Utterance

#: The formats :func:`export` and :func:`write` know.
FORMATS: tuple[str, ...] = ("json", "srt", "vtt", "txt")

#: Default cue duration when an utterance has no usable end: base, per character, cap (seconds).
DEFAULT_BASE_DURATION = 2.0
DEFAULT_PER_CHARACTER = 0.06
DEFAULT_MAX_DURATION = 10.0

_ARROW = re.compile(r"-{2,}>")
# What the `srt` reader (and players after it) takes for "index line, then timing line".
_SRT_INDEX_LINE = re.compile(r"-?[0-9]+\.?[0-9]*")
_SRT_DELIMITER = r"[,.:\uff0c\uff0e\u3002\uff1a]"  # ASCII and full-width , . : and 。
_SRT_TIMESTAMP_START = re.compile(rf"[0-9]+{_SRT_DELIMITER}[0-9]+{_SRT_DELIMITER}[0-9]+")


class TextSink(Protocol):
    """Anything with ``write(str)``: an open text file, ``sys.stdout``, ``io.StringIO``."""

    def write(self, text: str, /) -> object: ...


@attrs.frozen(kw_only=True)
class Cue:
    """One subtitle cue, as both SRT and WebVTT write it.

    ``start``/``end`` are milliseconds (``end > start``); ``lines`` the cleaned, non-empty
    text lines (not escaped); ``speaker`` and ``id`` cleaned labels or ``None``.
    """

    start: int
    end: int
    lines: tuple[str, ...]
    speaker: str | None = None
    id: str | None = None


# -- time ---------------------------------------------------------------------------------------


def to_milliseconds(seconds: float) -> int:
    """Seconds -> whole milliseconds, rounding half up on the shortest decimal form of the
    float; negative times give 0. Raises ``ValueError`` for NaN and infinities."""
    if not math.isfinite(seconds):
        raise ValueError(f"not a finite time: {seconds!r}")
    if seconds <= 0:
        return 0
    scaled = Decimal(repr(float(seconds))) * 1000
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))


def _clock(milliseconds: int) -> tuple[int, int, int, int]:
    milliseconds = max(0, milliseconds)
    seconds, ms = divmod(milliseconds, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    return hours, mins, secs, ms


def srt_timestamp(seconds: float) -> str:
    """``HH:MM:SS,mmm`` (hours may have more than two digits)."""
    h, m, s, ms = _clock(to_milliseconds(seconds))
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def vtt_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (hours always written, and may have more than two digits)."""
    h, m, s, ms = _clock(to_milliseconds(seconds))
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _srt_ms(milliseconds: int) -> str:
    h, m, s, ms = _clock(milliseconds)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _vtt_ms(milliseconds: int) -> str:
    h, m, s, ms = _clock(milliseconds)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def default_duration(text: str) -> float:
    """Seconds a cue lasts when its end is unknown: 2 s + 0.06 s per character, at most 10 s."""
    return min(DEFAULT_MAX_DURATION, DEFAULT_BASE_DURATION + DEFAULT_PER_CHARACTER * len(text))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _own_start(u: Utterance) -> float | None:
    start = _finite(u.start)
    if start is not None:
        return start
    starts = [s for s in (_finite(w.start) for w in u.words) if s is not None]
    return min(starts) if starts else None


def _own_end(u: Utterance) -> float | None:
    end = _finite(u.end)
    if end is not None:
        return end
    ends = [e for e in (_finite(w.end) for w in u.words) if e is not None]
    return max(ends) if ends else None


def _origin(utterances: Sequence[Utterance]) -> datetime | None:
    """The recording's start in wall-clock time, as well as the transcript tells it."""
    for u in utterances:
        start = _own_start(u)
        if u.timestamp is not None and start is not None:
            try:
                return u.timestamp - timedelta(seconds=start)
            except OverflowError:
                continue
    stamps = [u.timestamp for u in utterances if u.timestamp is not None]
    return min(stamps) if stamps else None


def _anchored_starts(utterances: Sequence[Utterance]) -> list[int | None]:
    """Each utterance's start in ms from what it says itself (offsets, words, timestamp)."""
    origin = _origin(utterances)
    result: list[int | None] = []
    for u in utterances:
        start = _own_start(u)
        if start is not None:
            result.append(to_milliseconds(start))
        elif u.timestamp is not None and origin is not None:
            micro = (u.timestamp - origin) // timedelta(microseconds=1)
            result.append(max(0, (micro + 500) // 1000))
        else:
            result.append(None)
    return result


# -- text ---------------------------------------------------------------------------------------


def _text_lines(text: str) -> list[str]:
    text = text.replace("\x00", "\ufffd")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _label(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.replace("\x00", "\ufffd").split())
    return cleaned or None


def _no_arrow(text: str) -> str:
    return _ARROW.sub("->", text)


def cues(transcript: Transcript) -> tuple[Cue, ...]:
    """The transcript's cues, timed and sorted as the module docstring describes."""
    # Every utterance (blank ones too) helps place the recording's start in wall-clock time.
    anchored_all = _anchored_starts(transcript.utterances)
    kept = [
        (u, lines, start)
        for u, start in zip(transcript.utterances, anchored_all, strict=True)
        if (lines := _text_lines(u.text))
    ]

    built: list[Cue] = []
    used_ids: set[str] = set()
    previous_end = 0
    for index, (u, lines, anchored) in enumerate(kept):
        start = previous_end if anchored is None else anchored
        own_end = _own_end(u)
        end: int | None = to_milliseconds(own_end) if own_end is not None else None
        if end is None or end <= start:
            following = kept[index + 1][2] if index + 1 < len(kept) else None
            if following is not None and following > start:
                end = following
            else:
                end = start + to_milliseconds(default_duration(" ".join(lines)))
        end = max(end, start + 1)
        previous_end = end
        built.append(
            Cue(
                start=start,
                end=end,
                lines=tuple(lines),
                speaker=_label(u.speaker),
                id=_unique_id(u.id, used_ids),
            )
        )
    built.sort(key=lambda cue: cue.start)
    return tuple(built)


def _unique_id(value: str | None, used: set[str]) -> str | None:
    cleaned = _label(value)
    if cleaned is None:
        return None
    cleaned = _no_arrow(cleaned)
    candidate, n = cleaned, 1
    while candidate in used:
        n += 1
        candidate = f"{cleaned}-{n}"
    used.add(candidate)
    return candidate


# -- writers ------------------------------------------------------------------------------------


def to_json(transcript: Transcript) -> str:
    """The neutral model as JSON (keys sorted, indented); ``serde.from_json`` reads it back."""
    return serde.to_json(transcript, indent=2) + "\n"


def to_text(transcript: Transcript, *, speakers: bool = True, timestamps: bool = False) -> str:
    """One line per non-blank utterance: ``[HH:MM:SS] Speaker: text`` (parts optional)."""
    starts = _anchored_starts(transcript.utterances)
    out: list[str] = []
    for u, start in zip(transcript.utterances, starts, strict=True):
        lines = _text_lines(u.text)
        if not lines:
            continue
        prefix = ""
        if timestamps:
            if start is None:
                prefix = "[--:--:--] "
            else:
                h, m, s, _ = _clock(start)
                prefix = f"[{h:02d}:{m:02d}:{s:02d}] "
        speaker = _label(u.speaker) if speakers else None
        if speaker is not None:
            prefix += f"{speaker}: "
        out.append(prefix + " ".join(lines))
    return "".join(line + "\n" for line in out)


def _srt_lines(cue: Cue) -> list[str]:
    lines = list(cue.lines)
    if cue.speaker is not None:
        lines[0] = f"{cue.speaker}: {lines[0]}"
    lines = [_no_arrow(line) for line in lines]
    i = 0
    while i < len(lines) - 1:
        if _SRT_INDEX_LINE.fullmatch(lines[i]) and _SRT_TIMESTAMP_START.match(lines[i + 1]):
            lines[i : i + 2] = [f"{lines[i]} {lines[i + 1]}"]
        else:
            i += 1
    return lines


def to_srt(transcript: Transcript) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm`` times, ``Speaker: `` prefixes, LF line ends."""
    blocks = [
        f"{n}\n{_srt_ms(cue.start)} --> {_srt_ms(cue.end)}\n" + "\n".join(_srt_lines(cue)) + "\n"
        for n, cue in enumerate(cues(transcript), start=1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    """WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm`` times, ``<v Speaker>`` voice spans, escaped
    text, utterance ids as cue identifiers."""
    parts = ["WEBVTT\n"]
    for cue in cues(transcript):
        payload = "\n".join(_vtt_escape(line) for line in cue.lines)
        if cue.speaker is not None:
            payload = f"<v {_vtt_escape(cue.speaker)}>{payload}</v>"
        identifier = f"{cue.id}\n" if cue.id is not None else ""
        parts.append(f"\n{identifier}{_vtt_ms(cue.start)} --> {_vtt_ms(cue.end)}\n{payload}\n")
    return "".join(parts)


_WRITERS: dict[str, Callable[[Transcript], str]] = {
    "json": to_json,
    "srt": to_srt,
    "vtt": to_vtt,
    "txt": to_text,
}
assert tuple(_WRITERS) == FORMATS


def _format_key(fmt: str) -> str:
    key = str(fmt).strip().lower().removeprefix(".")
    if key not in _WRITERS:
        raise ConfigError(
            f"unknown transcript format {fmt!r}",
            hint=f"use one of: {', '.join(FORMATS)}",
        )
    return key


def export(transcript: Transcript, fmt: str) -> str:
    """The transcript in ``fmt`` (one of :data:`FORMATS`); ``ConfigError`` for anything else."""
    return _WRITERS[_format_key(fmt)](transcript)


def write(transcript: Transcript, fmt: str, destination: str | os.PathLike[str] | TextSink) -> None:
    """Exports ``transcript`` to a path (UTF-8, ``\\n`` line ends; replaced if it exists) or to
    an open text file. The format is checked before the file is touched."""
    text = export(transcript, fmt)
    if isinstance(destination, str | os.PathLike):
        Path(destination).write_text(text, encoding="utf-8", newline="")
    else:
        destination.write(text)


__all__ = [
    "DEFAULT_BASE_DURATION",
    "DEFAULT_MAX_DURATION",
    "DEFAULT_PER_CHARACTER",
    "FORMATS",
    "Cue",
    "TextSink",
    "cues",
    "default_duration",
    "export",
    "srt_timestamp",
    "to_json",
    "to_milliseconds",
    "to_srt",
    "to_text",
    "to_vtt",
    "vtt_timestamp",
    "write",
]
