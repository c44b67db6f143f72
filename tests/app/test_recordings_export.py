"""``venuebridge recordings export``: a session's airing cut into one file by stream copy.

The clips are real H.264 + Opus fragmented MP4 with a keyframe every second, told to the
recorder's own index as the recorder tells it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from config import Event
from signaling.records.airing import Airing, OffAir, Status
from signaling.records.recordings import RecordingIndex
from signaling.records.store import AiringStore
from signaling.store.sqlite import SqliteEventStore
from streaming.recording_cut import CutError, Stretch, cut
from tests.recorded_clip import duration, record_clip, write_clip
from web.backends import STORE_FILE
from web.cli import main
from web.cli_recordings import export_session

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
KEYFRAME_INTERVAL = 1.0
LATER = T0 + timedelta(hours=1)


def _airing(start: float, end: float, **kw: object) -> Airing:
    return Airing(
        id="opening@jp#1", session="opening", venue="jp", channel="gz-hall-1",
        scheduled_start=T0, scheduled_end=T0 + timedelta(minutes=50),
        actual_start=T0 + timedelta(seconds=start), actual_end=T0 + timedelta(seconds=end),
        status=Status.CUT_SHORT, routed_by="auto", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def index(tmp_path: Path) -> RecordingIndex:
    """Hall 1 in two files, rotated at 6 s (clips have a keyframe every second)."""
    index = RecordingIndex(tmp_path / "recordings")
    record_clip(index, "gz-hall-1", T0, 6)
    record_clip(index, "gz-hall-1", T0 + timedelta(seconds=6), 6, shade=90, still_open=True)
    return index


def test_an_airing_across_a_rotation_becomes_one_playable_file(
    tmp_path: Path, index: RecordingIndex
) -> None:
    out = tmp_path / "opening.mp4"
    airing = _airing(2.5, 9.2)  # 6.7 s, over both files, starting between keyframes
    line = export_session(index, [airing], "opening", None, out, LATER)
    assert "from 2 piece(s) of 2 file(s)" in line
    video, audio = duration(out)  # decodes every frame
    aired = 6.7
    assert aired <= video <= aired + KEYFRAME_INTERVAL + 0.1
    assert abs(video - audio) < 0.1
    with av.open(str(out)) as container:
        kinds = sorted(s.type for s in container.streams)
        first = next(container.demux(container.streams.video[0]))
        assert first.is_keyframe  # the cut starts on a picture that decodes
    assert kinds == ["audio", "video"]


def test_off_air_is_left_out_of_the_export(tmp_path: Path, index: RecordingIndex) -> None:
    gap = OffAir(T0 + timedelta(seconds=3), T0 + timedelta(seconds=5), "source_lost")
    out = tmp_path / "cut.mp4"
    export_session(index, [_airing(1, 9, off_air=(gap,))], "opening", "jp", out, LATER)
    video, _ = duration(out)
    assert 6.0 <= video <= 6.0 + 2 * KEYFRAME_INTERVAL + 0.1  # two stretches, two lead-ins


def test_cut_reports_the_lead_in_to_the_keyframe(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "a.mp4", 4, keyframe_every=KEYFRAME_INTERVAL)
    result = cut([Stretch(clip, 1.6, 3.0)], tmp_path / "out.mp4")
    assert 0 < result.lead_in[0] <= KEYFRAME_INTERVAL
    assert result.seconds == pytest.approx(1.4 + result.lead_in[0], abs=0.01)
    video, _ = duration(tmp_path / "out.mp4")
    assert video == pytest.approx(result.seconds, abs=0.1)


def test_a_file_missing_from_disk_is_a_clear_error(tmp_path: Path) -> None:
    gone = RecordingIndex(tmp_path / "recordings")
    record_clip(gone, "gz-hall-1", T0, 6).path.unlink()
    with pytest.raises(CutError, match="not on disk"):
        export_session(gone, [_airing(0, 5)], "opening", None, tmp_path / "o.mp4", LATER)
    with pytest.raises(CutError, match="cannot read"):
        cut([Stretch(tmp_path / "gone.mp4", 0, 1)], tmp_path / "o.mp4")


def test_the_command_says_why_nothing_was_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["recordings", "export", "opening", "--data-dir", str(tmp_path)])
    assert code == 1
    assert "session 'opening' never went on air" in capsys.readouterr().err
    existing = tmp_path / "there.mp4"
    existing.write_bytes(b"keep")
    code = main(["recordings", "export", "opening", "-o", str(existing)])
    assert code == 2
    assert "exists (use --force)" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep"


def _saved(data: Path, event: Event, airings: list[Airing]) -> None:
    """``airings`` in the store of a server that ran with ``data`` as its data dir."""

    async def save() -> None:
        store = await SqliteEventStore.open(data / STORE_FILE)
        try:
            await AiringStore(store, event.id).save(airings)
        finally:
            await store.aclose()

    asyncio.run(save())


def test_the_commands_list_and_export_from_a_servers_data_dir(
    tmp_path: Path, reference_event: Event, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    index = RecordingIndex(data / "recordings")  # where the server records by default
    first = record_clip(index, "gz-hall-1", T0, 6)
    record_clip(index, "gz-hall-1", T0 + timedelta(seconds=6), 6, shade=90)
    _saved(data, reference_event, [_airing(2.5, 9.2)])

    assert main(["recordings", "list", "--data-dir", str(data), "--channel", "gz-hall-1"]) == 0
    listing = capsys.readouterr().out
    assert first.name in listing
    assert "rotation" in listing
    assert main(["recordings", "list", "--data-dir", str(data), "--channel", "nope"]) == 0
    assert "No recordings of channel 'nope'" in capsys.readouterr().out

    out = tmp_path / "opening-jp.mp4"
    code = main(["recordings", "export", "opening", "--data-dir", str(data), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "from 2 piece(s) of 2 file(s)" in capsys.readouterr().out
    video, audio = duration(out)
    assert 6.7 <= video <= 6.7 + KEYFRAME_INTERVAL + 0.1
    assert abs(video - audio) < 0.1
