"""The media benchmark's pure parts: the fit, the summary, the configs it writes, the counter.

The benchmark itself is run by hand (``make bench-media``); these keep its arithmetic and
its server set-ups honest without running it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiortc.rtp import RtcpPacket, RtcpRrPacket

from config import load_settings
from tests.bench.fanout_report import slope, summary
from tests.bench.janus_anchor import JanusServer
from tests.bench.media_servers import MEDIA_LIMITS, UNLIMITED, settings_toml
from tests.bench.media_subscribers import FrameCounter, summarise
from tests.bench.proc_cpu import TreeCpu, descendants


def _row(server: str, count: int, cpu: float, fps: float = 30.0) -> dict[str, object]:
    return {
        "server": server,
        "codec": "VP8",
        "resolution": "720p",
        "subscribers": count,
        "server_cpu_percent": cpu,
        "fps_min": fps,
        "failed_setups": 0,
    }


def test_slope_is_the_least_squares_fit_over_the_counts() -> None:
    rows = [_row("venuebridge", n, 2.0 + 0.25 * n) for n in (1, 16, 64)]
    assert slope(rows) == pytest.approx(0.25)
    assert slope(rows[:1]) is None


def test_summary_gives_the_ratio_to_janus_and_the_lowest_fps() -> None:
    rows = [_row("venuebridge", n, 2.0 + 0.1 * n, fps=28.5 if n == 64 else 30) for n in (1, 64)]
    rows += [_row("janus", n, 1.0 + 0.25 * n) for n in (1, 64)]
    result = summary(rows)
    assert result["venuebridge_over_janus"] == {"VP8 720p": 0.4}
    assert result["ratio_met"] is True
    assert result["venuebridge_fps_min"] == 28.5
    assert result["fps_target_met"] is False
    assert result["fitted"]["janus VP8 720p"]["subscribers_per_core"] == 400


def test_subscriber_figures_cover_every_process() -> None:
    results = [
        {"fps": [30.0, 29.0], "ttff": [0.05, 0.07], "no_frames": 0, "failed": []},
        {"fps": [28.0], "ttff": [0.2], "no_frames": 1, "failed": ["boom"]},
    ]
    figures = summarise(results)
    assert figures["fps_min"] == 28.0
    assert figures["fps_median"] == 29.0
    assert figures["below_29_fps"] == 1
    assert figures["no_frames"] == 1
    assert figures["failed_setups"] == 1
    assert figures["first_frame_p50_ms"] == 70
    assert figures["first_frame_p95_ms"] == 200


def test_benchmark_settings_load_with_limits_lifted(tmp_path: Path) -> None:
    file = tmp_path / "settings.toml"
    file.write_text(settings_toml(9000, tmp_path, "VP8", "redis://127.0.0.1:1/0"))
    settings = load_settings(file)
    assert settings.video_codec == "VP8"
    assert settings.host == "127.0.0.1"
    assert settings.redis_url == "redis://127.0.0.1:1/0"
    for name in MEDIA_LIMITS:
        assert getattr(settings.media, name) == UNLIMITED


def test_janus_is_configured_on_loopback_with_two_event_loops_and_one_plugin(
    tmp_path: Path,
) -> None:
    JanusServer(tmp_path, ice_interface="vb0")
    core = (tmp_path / "janus.jcfg").read_text()
    assert "event_loops = 2" in core
    assert 'ice_enforce_list = "vb0"' in core
    assert "stun_server" not in core
    assert 'ip = "127.0.0.1"' in (tmp_path / "janus.transport.http.jcfg").read_text()
    assert [p.name for p in (tmp_path / "plugins").iterdir()] == ["libjanus_streaming.so"]
    assert [p.name for p in (tmp_path / "transports").iterdir()] == ["libjanus_http.so"]
    streaming = (tmp_path / "janus.plugin.streaming.jcfg").read_text()
    assert streaming.count('iface = "127.0.0.1"') == 4  # audio and video of two mountpoints
    assert 'codec = "h264"' in streaming
    assert 'codec = "vp8"' in streaming


def _vp8_payload(key: bool) -> bytes:
    # Descriptor: S bit, partition 0, no extension; then the VP8 header's P bit.
    return bytes([0x10, 0x00 if key else 0x01, 0, 0])


def test_counter_counts_frames_from_the_first_keyframe() -> None:
    counter = FrameCounter(time.monotonic())
    counter.on_receive_started({96: "video/VP8"}, sink=None)
    counter.on_rtp(1, 96, 10, 0, True, _vp8_payload(key=False))  # no keyframe yet
    assert counter.frames == 0
    assert counter.first_frame is None
    counter.on_rtp(1, 96, 11, 3000, False, _vp8_payload(key=True))
    counter.on_rtp(1, 96, 12, 3000, True, b"\x00\x00")
    counter.on_rtp(1, 96, 13, 6000, True, _vp8_payload(key=False))
    assert counter.frames == 2
    assert counter.first_frame is not None


def test_receiver_report_names_the_stream_and_extends_the_sequence() -> None:
    counter = FrameCounter(time.monotonic())
    assert counter.receiver_report() is None
    for seq in (65534, 65535, 0, 1, 65000):  # wraps once; 65000 is a late old packet
        counter.on_rtp(0xABC, 96, seq, 0, False, b"")
    counter.on_sender_report(0xABC, 0x1122334455667788)
    (packet,) = RtcpPacket.parse(counter.receiver_report() or b"")
    assert isinstance(packet, RtcpRrPacket)
    (report,) = packet.reports
    assert report.ssrc == 0xABC
    assert report.highest_sequence == 0x10001
    assert report.lsr == 0x33445566


def test_server_cpu_counts_the_whole_process_tree() -> None:
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while 1: pass'])"
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while len(descendants(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the child process to exist
        assert len(descendants(parent.pid)) == 2
        cpu = TreeCpu(parent.pid)
        cpu.start()
        time.sleep(0.5)  # let the busy grandchild use some CPU
        used = cpu.read()
        assert len(used) == 2
        assert sum(u + s for u, s in used.values()) > 0.1
    finally:
        for pid in descendants(parent.pid)[1:]:
            subprocess.run(["kill", str(pid)], check=False)
        parent.wait(10)
