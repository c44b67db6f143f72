"""Captions as HLS WebVTT subtitles: the master playlist lists the session's languages,
and lines typed by a captioner appear in the subtitle segment of their time."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import m3u8
import webvtt
from aiohttp import web
from aiohttp.test_utils import TestClient

from config.schedule import session_on_channel
from tests.hls_source import FPS, FragmentSource
from web.hls_http import HLS
from web.keys import EVENT, HUB

Client = TestClient[web.Request, web.Application]
CHANNEL = "gz-hall-1"


def _feed_from(client: Client, base: datetime, seconds: float) -> None:
    """``seconds`` of video into the channel's window, media time 0 at wall ``base``."""
    channels = client.app[HLS]
    window = channels.open(CHANNEL)

    def on_fragment(data: bytes, start: float, duration: float, key: bool, _: datetime) -> None:
        window.on_fragment(data, start, duration, key, base + timedelta(seconds=start))
        channels.changed(CHANNEL)

    source = FragmentSource(window.on_init, on_fragment)
    for _ in range(round(seconds * FPS)):
        source.frame()


def _session_and_language(client: Client) -> tuple[str, str]:
    now = session_on_channel(client.app[EVENT], CHANNEL, datetime.now(UTC)).session
    assert now is not None
    assert now.languages, "the reference event's session on gz-hall-1 has languages"
    return now.id, now.languages[0]


async def _vtt(client: Client, uri: str) -> list[webvtt.Caption]:
    response = await client.get(f"/hls/{CHANNEL}/{uri}")
    assert response.status == 200, uri
    assert response.content_type == "text/vtt"
    text = await response.text()
    assert "X-TIMESTAMP-MAP=MPEGTS:" in text.splitlines()[1]
    return list(webvtt.from_buffer(io.StringIO(text)))


async def test_typed_lines_appear_in_the_subtitle_segment_of_their_time(client: Client) -> None:
    session, language = _session_and_language(client)
    captions = client.app[HUB].captions
    [first] = await captions.heard(session, language, "Good morning & welcome <all>", "cap")
    [second] = await captions.heard(session, language, "Our first speaker", "cap")
    # The video started 3 s before the first line: it falls in the second 2 s segment.
    _feed_from(client, datetime.fromtimestamp(first.at - 3.0, UTC), 9)

    master = m3u8.loads(await (await client.get(f"/hls/{CHANNEL}/master.m3u8")).text())
    subtitles = [m for m in master.media if m.type == "SUBTITLES"]
    assert [m.language for m in subtitles] == list(
        client.app[EVENT].session(session).languages  # type: ignore[union-attr]
    )
    assert master.playlists[0].uri == "index.m3u8"
    assert master.playlists[0].stream_info.subtitles == "subs"

    chosen = next(m for m in subtitles if m.language == language)
    playlist = m3u8.loads(await (await client.get(f"/hls/{CHANNEL}/{chosen.uri}")).text())
    video = m3u8.loads(await (await client.get(f"/hls/{CHANNEL}/index.m3u8")).text())
    closed = [s for s in video.segments if s.uri]
    assert [s.duration for s in playlist.segments] == [s.duration for s in closed]
    assert playlist.media_sequence == video.media_sequence

    found: dict[int, list[webvtt.Caption]] = {}
    for index, segment in enumerate(playlist.segments):
        found[index] = await _vtt(client, segment.uri)
    holding = [i for i, cues in found.items() if cues]
    assert len(holding) == 1, "each line appears in one segment only"
    cues = found[holding[0]]
    start = closed[holding[0]].program_date_time.timestamp()
    assert start <= first.at < start + closed[holding[0]].duration
    # Escaped in the file (webvtt-py leaves entities as they are; a browser unescapes).
    assert cues[0].text == "Good morning &amp; welcome &lt;all&gt;"
    assert abs(cues[0].start_in_seconds - (first.at - start)) < 0.002
    assert cues[-1].text == "Our first speaker"
    assert abs(cues[-1].start_in_seconds - (second.at - start)) < 0.002


async def test_subtitles_of_another_language_or_stream_are_404(client: Client) -> None:
    _session_and_language(client)
    _feed_from(client, datetime.now(UTC), 5)
    assert (await client.get(f"/hls/{CHANNEL}/subs-xx.m3u8")).status == 404
    stream = client.app[HLS].window(CHANNEL).stream  # type: ignore[union-attr]
    assert (await client.get(f"/hls/{CHANNEL}/abcdef/subs-en-0.vtt")).status == 404
    assert (await client.get(f"/hls/{CHANNEL}/{stream}/subs-xx-0.vtt")).status == 404
    assert (await client.get(f"/hls/{CHANNEL}/{stream}/subs-en-99.vtt")).status == 404
    assert (await client.get("/hls/us-return/master.m3u8")).status == 404
