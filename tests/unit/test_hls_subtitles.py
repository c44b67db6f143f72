"""The WebVTT segment of one HLS segment: which cues, their times, the timestamp map."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import m3u8
import webvtt

from streaming.hls.subtitles import Cue, Rendition, master_playlist, subtitle_segment

WALL = datetime(2026, 12, 7, 9, 0, 0, tzinfo=UTC)
T0 = WALL.timestamp()


def _cues(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_buffer(io.StringIO(text)))


def test_only_cues_beginning_in_the_segment_with_ends_at_the_next_line() -> None:
    lines = [
        Cue(T0 - 1.0, "before"),
        Cue(T0 + 0.5, "one"),
        Cue(T0 + 0.5, "pasted"),
        Cue(T0 + 1.2, "two"),
        Cue(T0 + 2.0, "next segment"),
    ]
    text = subtitle_segment(lines, WALL, media_start=4.0, duration=2.0, max_cue=6.0)
    assert text.splitlines()[1] == "X-TIMESTAMP-MAP=MPEGTS:360000,LOCAL:00:00:00.000"
    cues = _cues(text)
    assert [c.text for c in cues] == ["one\npasted", "two"]
    assert (cues[0].start, cues[0].end) == ("00:00:00.500", "00:00:01.200")
    # The last line lasts until the next one, even in the next segment.
    assert (cues[1].start, cues[1].end) == ("00:00:01.200", "00:00:02.000")


def test_a_cue_lasts_max_cue_at_most_and_mpegts_wraps() -> None:
    text = subtitle_segment([Cue(T0 + 0.1, "alone")], WALL, 2**33 / 90_000 + 1, 2.0, 3.0)
    assert "MPEGTS:90000," in text
    [cue] = _cues(text)
    assert (cue.start, cue.end) == ("00:00:00.100", "00:00:03.100")


def test_master_lists_each_language_and_the_video_variant() -> None:
    text = master_playlist([Rendition("en", "en"), Rendition("zh", 'Chinese "zh"')])
    master = m3u8.loads(text)
    assert [(m.language, m.default, m.uri) for m in master.media] == [
        ("en", "NO", "subs-en.m3u8"),
        ("zh", "NO", "subs-zh.m3u8"),
    ]
    assert master.media[1].name == "Chinese 'zh'"
    assert master.playlists[0].stream_info.subtitles == "subs"
    assert "SUBTITLES" not in master_playlist([])


def test_master_with_live_languages_has_an_audio_group_the_variant_names() -> None:
    master = m3u8.loads(master_playlist([], ["ja", "ru"]))
    assert [(m.type, m.language, m.default, m.uri) for m in master.media] == [
        ("AUDIO", None, "YES", None),
        ("AUDIO", "ja", "NO", "audio-ja.m3u8"),
        ("AUDIO", "ru", "NO", "audio-ru.m3u8"),
    ]
    assert master.playlists[0].stream_info.audio == "audio"
    assert master.playlists[0].stream_info.subtitles is None
