"""The HLS window with real fMP4 from libx264: segments at keyframes, parts, the bound."""

from __future__ import annotations

import dataclasses
import io

import av
import m3u8
import pytest

from config import SettingsError, load_settings
from config.hls_settings import HlsSettings, validate_hls
from streaming.hls.window import HlsWindow
from tests.hls_source import FPS, FragmentSource


def _fill(window: HlsWindow, seconds: float, **source: float) -> FragmentSource:
    feed = FragmentSource(window.on_init, window.on_fragment, **source)
    for _ in range(round(seconds * FPS)):
        feed.frame()
    return feed


def _segment_urls(playlist: m3u8.M3U8) -> list[str]:
    return [segment.uri for segment in playlist.segments if segment.uri]


def test_the_playlist_parses_and_its_segments_decode() -> None:
    window = HlsWindow(HlsSettings(window_segments=4))
    _fill(window, 12)
    playlist = m3u8.loads(window.playlist())
    assert playlist.version == 9
    assert playlist.target_duration == 2
    assert playlist.server_control.can_block_reload == "YES"
    assert playlist.part_inf.part_target == pytest.approx(0.5)
    urls = _segment_urls(playlist)
    assert len(urls) == 4
    assert all(seg.duration == pytest.approx(2.0) for seg in playlist.segments if seg.uri)
    assert all(seg.current_program_date_time is not None for seg in playlist.segments if seg.uri)
    init_uri = playlist.segments[0].init_section.uri
    _stream, init_name = init_uri.split("/")
    init = window.init(int(init_name.removeprefix("init-").removesuffix(".mp4")))
    assert init is not None
    for url in urls:
        msn = int(url.split("/seg-")[1].removesuffix(".m4s"))
        data = window.segment(msn)
        assert data is not None
        with av.open(io.BytesIO(init + data)) as container:
            frames = list(container.decode(video=0))
        assert len(frames) == 2 * FPS  # the whole segment decodes, from its keyframe
        assert frames[0].key_frame


def test_parts_are_listed_for_the_last_segments_and_served() -> None:
    window = HlsWindow(HlsSettings())
    _fill(window, 9)
    playlist = m3u8.loads(window.playlist())
    parts = [part for segment in playlist.segments for part in segment.parts]
    assert parts, "no EXT-X-PART"
    assert all(part.duration <= playlist.part_inf.part_target for part in parts)
    # The open segment's parts come after the last whole segment.
    assert playlist.segments[-1].uri is None or playlist.segments[-1].parts
    first = parts[0]
    assert first.independent == "YES"
    msn, index = first.uri.split("/part-")[1].removesuffix(".m4s").split(".")
    assert window.part(int(msn), int(index))


def test_a_writer_that_cuts_only_at_keyframes_gives_no_parts() -> None:
    window = HlsWindow(HlsSettings())
    _fill(window, 9, keyframe_seconds=2, fragment_seconds=2)
    text = window.playlist()
    assert "#EXT-X-PART" not in text
    assert "CAN-BLOCK-RELOAD" not in text
    assert "#EXT-X-VERSION:7" in text


def test_segments_follow_the_publishers_keyframe_interval() -> None:
    # Keyframes every 4 s: a 2 s target cannot be met; segments are 4 s and the
    # target duration says so.
    window = HlsWindow(HlsSettings())
    _fill(window, 18, keyframe_seconds=4, fragment_seconds=1)
    playlist = m3u8.loads(window.playlist())
    assert playlist.target_duration == 4
    assert [s.duration for s in playlist.segments if s.uri] == pytest.approx([4.0] * 4)


def test_window_segments_bounds_what_is_kept() -> None:
    settings = HlsSettings(window_segments=3)
    window = HlsWindow(settings)
    _fill(window, 10)
    held_after_10 = window.memory_bytes()
    _fill(window, 0)  # (a new source: a new init)
    window2 = HlsWindow(settings)
    _fill(window2, 40)
    playlist = m3u8.loads(window2.playlist())
    assert len(_segment_urls(playlist)) == 3
    # 19 segments closed (the 20th is open), the oldest 16 gone.
    assert playlist.media_sequence == 16
    assert window2.segment(15) is None
    assert window2.segment(18) is not None
    assert window2.memory_bytes() < 1.5 * held_after_10


def test_a_segment_without_keyframes_is_cut_at_max_segment_bytes() -> None:
    window = HlsWindow(HlsSettings(max_segment_bytes=2**16))
    _fill(window, 20, keyframe_seconds=20, fragment_seconds=0.5)
    playlist = m3u8.loads(window.playlist())
    sizes = [
        len(window.segment(int(u.split("/seg-")[1][:-4])) or b"") for u in _segment_urls(playlist)
    ]
    assert sizes
    assert all(size < 2**16 + 20_000 for size in sizes)


def test_a_new_publisher_is_a_discontinuity_with_its_own_init() -> None:
    window = HlsWindow(HlsSettings())
    _fill(window, 5)
    window.end()
    _fill(window, 5)
    text = window.playlist()
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert 'init-1.mp4"' in text
    assert 'init-2.mp4"' in text
    playlist = m3u8.loads(text)
    assert len({s.init_section.uri for s in playlist.segments if s.uri}) == 2


def test_names_differ_between_windows() -> None:
    assert HlsWindow(HlsSettings()).stream != HlsWindow(HlsSettings()).stream


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("segment_seconds", 0.1),
        ("segment_seconds", 30.0),
        ("window_segments", 2),
        ("window_segments", 61),
        ("part_seconds", 0.01),
        ("max_segment_bytes", 1000),
        ("playlist_max_age", 11),
        ("segment_max_age", 10),
        ("block_seconds", 0.1),
    ],
)
def test_hls_settings_out_of_range_are_refused(key: str, value: float) -> None:
    with pytest.raises(SettingsError, match=f"hls.{key}"):
        validate_hls(dataclasses.replace(HlsSettings(), **{key: value}))


def test_hls_settings_come_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "VENUEBRIDGE_HLS_WINDOW_SEGMENTS": "9",
            "VENUEBRIDGE_HLS_SEGMENT_SECONDS": "4",
            "VENUEBRIDGE_HLS_ENABLED": "false",
        }
    )
    assert settings.hls == HlsSettings(enabled=False, segment_seconds=4.0, window_segments=9)
    with pytest.raises(SettingsError, match=r"hls\.window_segments"):
        load_settings(environ={"VENUEBRIDGE_HLS_WINDOW_SEGMENTS": "1"})
