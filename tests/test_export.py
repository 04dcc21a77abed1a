"""Transcript exports: SRT and WebVTT read back with third-party parsers, text, JSON, dispatch."""

from __future__ import annotations

import html
import io
import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import srt  # type: ignore[import-untyped]
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from convoport.errors import ConfigError
from convoport.export import (
    FORMATS,
    cues,
    default_duration,
    export,
    srt_timestamp,
    to_json,
    to_milliseconds,
    to_srt,
    to_text,
    to_vtt,
    vtt_timestamp,
    write,
)
from convoport.model import Transcript, Utterance, Word
from convoport.serde import from_json

T0 = datetime(2026, 9, 14, 13, 0, 0, tzinfo=UTC)


# -- helpers: what a reader should find, computed from the utterance ----------------------------


def expected_lines(text: str) -> list[str]:
    text = text.replace("\x00", "\ufffd")
    return [line.strip() for line in text.splitlines() if line.strip()]


def expected_label(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(value.replace("\x00", "\ufffd").split()) or None


def no_arrow(text: str) -> str:
    return re.sub(r"-{2,}>", "->", text)


def words_of(text: str) -> list[str]:
    return text.split()


def parse_srt(text: str) -> list[Any]:
    return list(srt.parse(text))


def parse_vtt(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_string(text, strict=True).captions)


def ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def vtt_ms(caption: webvtt.Caption) -> tuple[int, int]:
    return caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()


def vtt_text(caption: webvtt.Caption) -> str:
    return html.unescape(caption.text)


def vtt_voice(caption: webvtt.Caption) -> str | None:
    voice = caption.voice
    return None if voice is None else html.unescape(voice)


# -- a worked example ---------------------------------------------------------------------------

EXAMPLE = Transcript(
    session_id="s1",
    utterances=(
        Utterance(id="u1", text="Hello, <world> & co.", start=0.5, end=2.25, speaker="Alice"),
        Utterance(id="u2", text="  ", start=2.3, end=2.4, speaker="Alice"),
        Utterance(id="u3", text="a --> b\n\nsecond line", start=2.5, end=None, speaker="Bob Jr."),
        Utterance(id="u4", text="no speaker", start=4.0, end=3.0),
        Utterance(id="u1", text="overlap", start=4.5, end=9.0, speaker="A > B & C"),
        Utterance(text="late", start=5.0, end=6.0),
    ),
)


def test_srt_example_parses_with_every_cue() -> None:
    out = to_srt(EXAMPLE)
    subs = parse_srt(out)
    assert [s.index for s in subs] == [1, 2, 3, 4, 5]
    assert [(ms(s.start), ms(s.end)) for s in subs] == [
        (500, 2250),
        (2500, 4000),  # no end: the next utterance's start
        (4000, 4500),  # end before start: the next utterance's start
        (4500, 9000),  # overlaps the next cue: kept
        (5000, 6000),
    ]
    assert [s.content for s in subs] == [
        "Alice: Hello, <world> & co.",
        "Bob Jr.: a -> b\nsecond line",
        "no speaker",
        "A > B & C: overlap",
        "late",
    ]
    assert out.endswith("late\n")
    assert "\r" not in out
    assert "-->" not in "".join(s.content for s in subs)


def test_vtt_example_parses_with_voices_and_escapes() -> None:
    out = to_vtt(EXAMPLE)
    assert out.startswith("WEBVTT\n\n")
    captions = parse_vtt(out)
    assert [vtt_ms(c) for c in captions] == [
        (500, 2250),
        (2500, 4000),
        (4000, 4500),
        (4500, 9000),
        (5000, 6000),
    ]
    assert [vtt_text(c) for c in captions] == [
        "Hello, <world> & co.",
        "a --> b\nsecond line",
        "no speaker",
        "overlap",
        "late",
    ]
    assert [vtt_voice(c) for c in captions] == ["Alice", "Bob Jr.", None, "A > B & C", None]
    assert [c.identifier for c in captions] == ["u1", "u3", "u4", "u1-2", None]
    assert "<v Alice>Hello, &lt;world&gt; &amp; co.</v>" in out
    assert "<v A &gt; B &amp; C>overlap</v>" in out
    assert "--&gt; b" in out
    assert out.count("-->") == 5  # timing lines only


def test_timestamp_formatting() -> None:
    assert srt_timestamp(0) == "00:00:00,000"
    assert vtt_timestamp(0) == "00:00:00.000"
    assert srt_timestamp(59.9995) == "00:01:00,000"  # half up
    assert vtt_timestamp(59.9995) == "00:01:00.000"
    assert vtt_timestamp(59.9994) == "00:00:59.999"
    assert srt_timestamp(3600 * 100 + 1.5) == "100:00:01,500"
    assert vtt_timestamp(3600 * 100 + 1.5) == "100:00:01.500"
    assert vtt_timestamp(-3.0) == "00:00:00.000"  # clamped
    assert to_milliseconds(0.0005) == 1
    assert to_milliseconds(1.0004) == 1000
    with pytest.raises(ValueError, match="finite"):
        to_milliseconds(math.nan)


def test_hours_beyond_99_parse() -> None:
    t = Transcript(
        session_id="s", utterances=[Utterance(text="x", start=3600 * 100 + 1.5, end=360003.0)]
    )
    (sub,) = parse_srt(to_srt(t))
    assert (ms(sub.start), ms(sub.end)) == (360_001_500, 360_003_000)
    (cap,) = parse_vtt(to_vtt(t))
    assert vtt_ms(cap) == (360_001_500, 360_003_000)


@given(st.integers(min_value=0, max_value=10**12))
def test_milliseconds_round_trip(n: int) -> None:
    assert to_milliseconds(n / 1000) == n


@given(st.floats(min_value=0, max_value=1e7))
def test_milliseconds_are_the_nearest(x: float) -> None:
    assert abs(to_milliseconds(x) - x * 1000) <= 0.5 + 1e-6


def test_only_absolute_timestamps() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(text="first", timestamp=T0 + timedelta(seconds=10), speaker="a"),
            Utterance(text="second", timestamp=T0 + timedelta(seconds=12.3456), speaker="b"),
            Utterance(text="third", timestamp=T0 + timedelta(seconds=20), end=None),
        ],
    )
    subs = parse_srt(to_srt(t))
    assert [(ms(s.start), ms(s.end)) for s in subs] == [
        (0, 2346),
        (2346, 10000),
        (10000, 10000 + to_milliseconds(default_duration("third"))),
    ]
    assert [vtt_ms(c) for c in parse_vtt(to_vtt(t))] == [(ms(s.start), ms(s.end)) for s in subs]
    assert to_text(t, timestamps=True) == (
        "[00:00:00] a: first\n[00:00:02] b: second\n[00:00:10] third\n"
    )


def test_timestamps_aligned_by_an_utterance_with_both() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(text="offset only", start=1.0, end=2.0),
            Utterance(text="both", start=5.0, end=6.0, timestamp=T0 + timedelta(seconds=5)),
            Utterance(text="clock only", timestamp=T0 + timedelta(seconds=8.5), end=9.0),
        ],
    )
    assert [(c.start, c.end) for c in cues(t)] == [(1000, 2000), (5000, 6000), (8500, 9000)]


def test_sequential_placement_and_default_duration() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(text="x" * 10),
            Utterance(text="y" * 500),
            Utterance(text="z", end=0.5),  # end before the sequential start: default
        ],
    )
    first = to_milliseconds(default_duration("x" * 10))
    assert first == 2600
    assert default_duration("y" * 500) == 10.0
    assert [(c.start, c.end) for c in cues(t)] == [
        (0, first),
        (first, first + 10_000),
        (first + 10_000, first + 10_000 + 2060),
    ]


def test_word_times_stand_in_for_missing_utterance_times() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(
                text="two words",
                words=[Word(text="two", start=1.25, end=1.5), Word(text="words", end=1.75)],
            )
        ],
    )
    assert [(c.start, c.end) for c in cues(t)] == [(1250, 1750)]


def test_tiny_and_unsorted_cues() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(text="later", start=3.0, end=4.0),
            Utterance(text="tiny", start=1.0001, end=1.0004),
            Utterance(text="nan", start=math.nan, end=math.inf),
            Utterance(text="negative", start=-2.0, end=-1.0),
        ],
    )
    got = [(c.start, c.end, c.lines) for c in cues(t)]
    # sorted by start; every end after its start
    assert [g[0] for g in got] == sorted(g[0] for g in got)
    assert all(end > start for start, end, _ in got)
    assert (0, 2000 + 60 * len("negative"), ("negative",)) in got
    assert len(parse_vtt(to_vtt(t))) == len(parse_srt(to_srt(t))) == 4


def test_srt_number_line_before_a_timestamp_line_is_joined() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(text="meeting on\n3\n12.05.2024 went well", start=0, end=1),
            Utterance(text="next", start=2, end=3),
        ],
    )
    subs = parse_srt(to_srt(t))
    assert [s.content for s in subs] == ["meeting on\n3 12.05.2024 went well", "next"]


def test_vtt_identifiers_sanitised() -> None:
    t = Transcript(
        session_id="s",
        utterances=[
            Utterance(id="a-->b\nc", text="one", start=0, end=1),
            Utterance(id="   ", text="two", start=1, end=2),
            Utterance(id="NOTE", text="three", start=2, end=3),
        ],
    )
    captions = parse_vtt(to_vtt(t))
    assert [c.identifier for c in captions] == ["a->b c", None, "NOTE"]
    assert [vtt_text(c) for c in captions] == ["one", "two", "three"]


def test_empty_transcript() -> None:
    t = Transcript(session_id="s")
    assert to_srt(t) == ""
    assert to_vtt(t) == "WEBVTT\n"
    assert to_text(t) == ""
    assert parse_srt(to_srt(t)) == []
    assert parse_vtt(to_vtt(t)) == []


# -- text, JSON, dispatch -----------------------------------------------------------------------


def test_to_text() -> None:
    assert to_text(EXAMPLE) == (
        "Alice: Hello, <world> & co.\n"
        "Bob Jr.: a --> b second line\n"
        "no speaker\n"
        "A > B & C: overlap\n"
        "late\n"
    )
    assert to_text(EXAMPLE, speakers=False).splitlines()[:2] == [
        "Hello, <world> & co.",
        "a --> b second line",
    ]
    assert (
        to_text(EXAMPLE, timestamps=True).splitlines()[0]
        == "[00:00:00] Alice: Hello, <world> & co."
    )
    unknown = Transcript(session_id="s", utterances=[Utterance(text="when?", speaker="x\ny")])
    assert to_text(unknown, timestamps=True) == "[--:--:--] x y: when?\n"
    long = Transcript(session_id="s", utterances=[Utterance(text="x", start=3 * 3600 + 62.9)])
    assert to_text(long, timestamps=True, speakers=False) == "[03:01:02] x\n"


def test_json_round_trips() -> None:
    t = Transcript(
        session_id="s",
        language="en",
        created_at=T0,
        utterances=[
            Utterance(text="hi", start=1.0, end=2.0, speaker="a", timestamp=T0),
            Utterance(text="", words=[Word(text="w", start=0.1)]),
        ],
        provider_data={"raw": [1, 2]},
    )
    out = to_json(t)
    assert out.endswith("\n")
    assert out.startswith("{\n  ")
    assert from_json(out, Transcript) == t
    assert export(t, "json") == out


def test_export_dispatch_and_errors() -> None:
    assert FORMATS == ("json", "srt", "vtt", "txt")
    assert export(EXAMPLE, "srt") == to_srt(EXAMPLE)
    assert export(EXAMPLE, "VTT") == to_vtt(EXAMPLE)
    assert export(EXAMPLE, ".txt") == to_text(EXAMPLE)
    for bad in ("docx", "", "text", "s rt"):
        with pytest.raises(ConfigError) as caught:
            export(EXAMPLE, bad)
        assert "json, srt, vtt, txt" in str(caught.value)


def test_write_to_path_and_file(tmp_path: Path) -> None:
    target = tmp_path / "out.srt"
    write(EXAMPLE, "srt", target)
    assert target.read_bytes() == to_srt(EXAMPLE).encode("utf-8")
    write(EXAMPLE, "vtt", str(tmp_path / "out.vtt"))
    assert (tmp_path / "out.vtt").read_text(encoding="utf-8") == to_vtt(EXAMPLE)
    buffer = io.StringIO()
    write(EXAMPLE, "txt", buffer)
    assert buffer.getvalue() == to_text(EXAMPLE)
    with pytest.raises(ConfigError):
        write(EXAMPLE, "pdf", tmp_path / "never")
    assert not (tmp_path / "never").exists()


# -- properties over generated transcripts ------------------------------------------------------

_TRICKY = ["<", ">", "&", "-->", "--->", "\n", "\r\n", "\r", " ", "\u2028", "\x00", "&amp;"]
_TRICKY += ["12", "\n3\n1:02:03", "é", "日本", "🙂", "<v x>", "</v>", "NOTE", "WEBVTT", ""]
_TRICKY += ["\n-5.\n00:01:02,003 --> 1", "\n7 \n1\uff0c2\u30023", "- >", "\t", "\x85", "\x0c"]
texts = st.lists(st.sampled_from(_TRICKY) | st.text(max_size=6), max_size=8).map("".join)
labels = st.none() | st.lists(
    st.sampled_from(["Alice", ">", " ", "&", "<", "-->", "\n", "Bob Smith", "é"]), max_size=4
).map("".join)
times = (
    st.none()
    | st.floats(min_value=-50, max_value=400_000)
    | st.sampled_from([math.nan, math.inf, -math.inf])
)
stamps = st.none() | st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 2), timezones=st.just(UTC)
)
utterances = st.builds(
    Utterance,
    text=texts,
    start=times,
    end=times,
    speaker=labels,
    id=labels,
    timestamp=stamps,
)
transcripts = st.builds(
    Transcript, session_id=st.just("s"), utterances=st.lists(utterances, max_size=8)
)


def _expected_cue_texts(t: Transcript) -> Counter[tuple[tuple[str, ...], str | None]]:
    return Counter(
        (tuple(expected_lines(u.text)), expected_label(u.speaker))
        for u in t.utterances
        if expected_lines(u.text)
    )


@settings(max_examples=300, deadline=None)
@given(transcripts)
def test_generated_transcripts_parse_with_both_libraries(t: Transcript) -> None:
    built = cues(t)
    assert len(built) == sum(1 for u in t.utterances if expected_lines(u.text))
    assert Counter((c.lines, c.speaker) for c in built) == _expected_cue_texts(t)
    assert all(c.end > c.start >= 0 for c in built)
    assert [c.start for c in built] == sorted(c.start for c in built)

    subs = parse_srt(to_srt(t))
    assert len(subs) == len(built)
    for n, (sub, cue) in enumerate(zip(subs, built, strict=True), start=1):
        assert sub.index == n
        assert (ms(sub.start), ms(sub.end)) == (cue.start, cue.end)
        assert ms(sub.end) > ms(sub.start)
        want = "\n".join(cue.lines)
        if cue.speaker is not None:
            want = f"{cue.speaker}: {want}"
            assert sub.content.startswith(no_arrow(f"{cue.speaker}: "))
        assert words_of(sub.content) == words_of(no_arrow_per_line(want))
        assert "-->" not in sub.content
        assert "\n\n" not in sub.content

    captions = parse_vtt(to_vtt(t))
    assert len(captions) == len(built)
    for caption, cue in zip(captions, built, strict=True):
        assert vtt_ms(caption) == (cue.start, cue.end)
        assert vtt_text(caption) == "\n".join(cue.lines)
        assert vtt_voice(caption) == cue.speaker
        assert "-->" not in caption.raw_text
        assert caption.identifier == cue.id
    ids = [c.identifier for c in captions if c.identifier is not None]
    assert len(ids) == len(set(ids))


def no_arrow_per_line(text: str) -> str:
    return "\n".join(no_arrow(line) for line in text.split("\n"))


@settings(max_examples=100, deadline=None)
@given(transcripts)
def test_generated_text_and_json(t: Transcript) -> None:
    lines = to_text(t, timestamps=True).splitlines()
    assert len(lines) == len(cues(t))
    assert all(re.match(r"\[(\d\d+:\d\d:\d\d|--:--:--)\] ", line) for line in lines)
    assert from_json(to_json(t), Transcript) == t or _has_nan(t)


def _has_nan(t: Transcript) -> bool:
    return any(
        (u.start is not None and math.isnan(u.start)) or (u.end is not None and math.isnan(u.end))
        for u in t.utterances
    )
