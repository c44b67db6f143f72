"""A live fMP4 source for HLS tests: a moving test picture encoded with libx264 and cut
into fragments by PyAV's mp4 muxer, handed to a window as the packager would.

Test-side only: it stands in for the packet-to-fragment layer (streaming/remux) so the
window, the HTTP side, the cache and the players can be tested with real fMP4 media.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction

import av

FPS = 30


def split_boxes(buffer: bytearray) -> list[tuple[bytes, bytes]]:
    """Whole top-level boxes at the front of ``buffer`` as (type, bytes); removes them."""
    boxes = []
    while len(buffer) >= 8:
        size = int.from_bytes(buffer[:4], "big")
        if size < 8 or len(buffer) < size:
            break
        boxes.append((bytes(buffer[4:8]), bytes(buffer[:size])))
        del buffer[:size]
    return boxes


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.buffer.extend(data)
        return len(data)


class FragmentSource:
    """Encodes frames one at a time; calls ``on_init`` once and ``on_fragment`` per moof."""

    def __init__(
        self,
        on_init: Callable[[bytes], None],
        on_fragment: Callable[[bytes, float, float, bool, datetime], None],
        keyframe_seconds: float = 1.0,
        fragment_seconds: float = 0.5,
        size: tuple[int, int] = (320, 180),
    ) -> None:
        self._on_init, self._on_fragment = on_init, on_fragment
        self._sink = _Sink()
        self._container = av.open(
            self._sink,
            "w",
            format="mp4",
            options={
                "movflags": "frag_keyframe+empty_moov+default_base_moof",
                "frag_duration": str(int(fragment_seconds * 1_000_000)),
            },
        )
        stream = self._container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        gop = round(keyframe_seconds * FPS)
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
        }
        self._stream = stream
        self._frames = 0
        self._gop = gop
        self._size = size
        self._per_fragment = round(fragment_seconds * FPS)
        self._pending: list[bytes] = []
        self._fragment_start = 0
        # Wall time of each frame, by frame number: the fragment's first frame's time.
        self._walls: dict[int, datetime] = {}
        self._init_sent = False

    def frame(self) -> None:
        """Encode the next frame (the picture moves with time); flush whole fragments."""
        width, height = self._size
        video = av.VideoFrame(width, height, "yuv420p")
        # A bright bar that moves across a grey picture whose shade changes with time.
        x = (self._frames * 4) % (width - 8)
        row = bytes([16] * x + [235] * 8 + [16] * (width - 8 - x))
        luma, blue, red = video.planes
        luma.update(row * height)
        blue.update(bytes([(self._frames * 3) % 256]) * (blue.buffer_size))
        red.update(bytes([128]) * red.buffer_size)
        video.pts = self._frames
        video.time_base = Fraction(1, FPS)
        self._walls[self._frames] = datetime.now(UTC)
        for packet in self._stream.encode(video):
            self._container.mux(packet)
        self._frames += 1
        self._drain()

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._drain()

    def _drain(self) -> None:
        for kind, box in split_boxes(self._sink.buffer):
            if kind in (b"ftyp", b"moov"):
                self._pending.append(box)
                if kind == b"moov":
                    self._on_init(b"".join(self._pending))
                    self._pending = []
            elif kind == b"moof":
                self._pending = [box]
            elif kind == b"mdat" and self._pending:
                self._emit(self._pending[0] + box)
                self._pending = []

    def _emit(self, data: bytes) -> None:
        # The muxer cuts at every keyframe and every ``frag_duration``: count frames by
        # the trun sample count.
        count = _sample_count(data)
        first = self._fragment_start
        self._fragment_start += count
        wall = self._walls.pop(first, datetime.now(UTC))
        for done in [n for n in self._walls if n < first]:
            del self._walls[done]
        self._on_fragment(data, first / FPS, count / FPS, first % self._gop == 0, wall)


def _sample_count(fragment: bytes) -> int:
    at = fragment.find(b"trun")
    # trun: size, 'trun', version+flags (4), sample_count (4)
    return int.from_bytes(fragment[at + 8 : at + 12], "big")
