"""What joining records to recordings costs: reading the recording index (a sidecar per
file) for an event's worth of files, and finding one file by name, as /api/records.json
and every range request of the player do. Anchor, in the same run: listing the sidecars
without reading them.

    .venv/bin/python tests/bench/recording_index.py [--channels 20] [--hours 72]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from signaling.records.recording_join import find_file
from signaling.records.recordings import RecordingFile, RecordingIndex, to_json

T0 = datetime(2026, 12, 7, tzinfo=UTC)


def _fill(directory: Path, channels: int, hours: int) -> None:
    for c in range(channels):
        channel = f"hall-{c}"
        (directory / channel).mkdir()
        for h in range(hours):
            start = T0 + timedelta(hours=h)
            name = f"{channel}/{channel}-{start:%Y%m%dT%H%M%SZ}.mp4"
            end = start + timedelta(hours=1)
            entry = RecordingFile(
                channel, name, directory / name, "mp4", ("",), start, end, 3600.0, end, "hourly"
            )
            (directory / f"{name}.json").write_text(json.dumps(to_json(entry)))


def _ms(action: object, rounds: int) -> float:
    assert callable(action)
    began = time.perf_counter()
    for _ in range(rounds):
        action()
    return round((time.perf_counter() - began) / rounds * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        _fill(directory, args.channels, args.hours)
        index = RecordingIndex(directory)
        last = index.files()[-1].name
        results = {
            "anchor_glob_ms": _ms(lambda: list(directory.glob("*/*.json")), args.rounds),
            "index_files_ms": _ms(index.files, args.rounds),
            "find_file_ms": _ms(lambda: find_file(index, last), args.rounds),
        }
        print(json.dumps({"bench": "recording_index", "files": len(index.files()), **results}))


if __name__ == "__main__":
    main()
