"""Encoded frames into a container with PyAV, stream copy only (no codec is opened).

H.264 goes into fragmented MP4 (``frag_keyframe+empty_moov+default_base_moof``): an init
segment, then one fragment per keyframe, or every ``fragment_seconds`` when keyframes
are rarer. VP8 goes into WebM (Matroska in live mode), since MP4 has no standard VP8
mapping. Opus goes into either. What the muxer writes goes to a ``FragmentSink`` the
moment it is complete, so a file sink flushes fragment by fragment and a crash loses at
most the fragment being gathered.
"""

from __future__ import annotations

import fractions
import logging
from typing import Protocol

import av
import av.container

from streaming.remux.boxes import BoxSplitter
from streaming.remux.frames import OPUS_RATE, VIDEO_RATE, MediaFrame, VideoFormat

logger = logging.getLogger(__name__)

MP4_FLAGS = "frag_keyframe+empty_moov+default_base_moof"
# MP4 names a track's language in ISO 639-2 (three letters); the event uses ISO 639-1.
# Codes not listed here are written "und", and every track's handler name says its code.
ISO_639_2 = {
    "ar": "ara", "de": "deu", "en": "eng", "es": "spa", "fr": "fra", "hi": "hin",
    "id": "ind", "it": "ita", "ja": "jpn", "kk": "kaz", "ko": "kor", "ms": "msa",
    "nl": "nld", "pl": "pol", "pt": "por", "ru": "rus", "th": "tha", "tr": "tur",
    "uk": "ukr", "uz": "uzb", "vi": "vie", "zh": "zho",
}  # fmt: skip


class FragmentSink(Protocol):
    """Where a writer's bytes go: the init segment once, then each fragment.

    ``start`` and ``duration`` are seconds on the writer's timeline (the video track's,
    else the first audio track's); ``keyframe`` says the fragment starts with one.
    For WebM the "init" is the header and each "fragment" is whatever the muxer wrote
    (start and duration are then those of the frames written, keyframe as fed).
    """

    def on_init(self, data: bytes) -> None: ...

    def on_fragment(self, data: bytes, start: float, duration: float, keyframe: bool) -> None: ...

    def on_close(self) -> None:
        """The container ended (rotation, format change, shutdown): no more bytes."""


def container_for(video: VideoFormat | None) -> str:
    """``mp4`` (H.264 or audio only) or ``webm`` (VP8)."""
    return "webm" if video is not None and video.codec == "VP8" else "mp4"


class _Fmp4Output:
    """The muxer's output object for MP4: bytes in, whole boxes to the sink."""

    def __init__(self, sink: FragmentSink) -> None:
        self._sink = sink
        self._splitter = BoxSplitter()
        self.written = 0

    def write(self, data: bytes) -> int:
        for chunk, timing in self._splitter.feed(bytes(data)):
            if timing is None:
                self._sink.on_init(chunk)
            else:
                self._sink.on_fragment(chunk, timing.start, timing.duration, timing.keyframe)
        self.written += len(data)
        return len(data)


class _WebmOutput:
    """The muxer's output object for WebM: each write goes straight to the sink."""

    def __init__(self, sink: FragmentSink) -> None:
        self._sink = sink
        self._started = False
        # (start, end, keyframe) of the frames muxed since the last write.
        self.span: tuple[float, float, bool] | None = None
        self.written = 0

    def note(self, seconds: float, keyframe: bool) -> None:
        """A frame at ``seconds`` goes to the muxer."""
        if self.span is None:
            self.span = (seconds, seconds, keyframe)
        else:
            self.span = (self.span[0], seconds, self.span[2])

    def write(self, data: bytes) -> int:
        if not self._started:
            self._started = True
            self._sink.on_init(bytes(data))
        else:
            start, end, keyframe = self.span or (0.0, 0.0, False)
            self.span = None
            self._sink.on_fragment(bytes(data), start, max(0.0, end - start), keyframe)
        self.written += len(data)
        return len(data)


class ContainerWriter:
    """One container: a video track (optional) and ``audio_tracks`` Opus tracks.

    ``write(frame, seconds)`` takes frames in time order per track; ``close`` finishes
    the container (a crash before it still leaves every finished fragment playable).
    """

    def __init__(
        self,
        sink: FragmentSink,
        video: VideoFormat | None,
        audio_tracks: int = 1,
        fragment_seconds: float = 2.0,
        languages: tuple[str, ...] = (),
    ) -> None:
        self.kind = container_for(video)
        self.video_format = video
        self.frames = 0
        self._sink = sink
        self._closed = False
        self._output: _Fmp4Output | _WebmOutput
        if self.kind == "mp4":
            self._output = _Fmp4Output(sink)
            options = {
                "movflags": MP4_FLAGS,
                "frag_duration": str(int(fragment_seconds * 1_000_000)),
            }
        else:
            self._output = _WebmOutput(sink)
            options = {"live": "1", "cluster_time_limit": str(int(fragment_seconds * 1000))}
        self._container = av.open(self._output, "w", format=self.kind, options=options)
        self._video: av.video.stream.VideoStream | None = None
        if video is not None:
            stream = self._container.add_stream("h264" if video.codec == "H264" else "vp8")
            stream.width, stream.height = video.width or 16, video.height or 16
            stream.time_base = fractions.Fraction(1, VIDEO_RATE)
            if video.extradata:
                stream.codec_context.extradata = video.extradata
            self._video = stream
        self._audio = []
        for index in range(audio_tracks):
            audio = self._container.add_stream("opus", rate=OPUS_RATE)
            audio.time_base = fractions.Fraction(1, OPUS_RATE)
            language = languages[index] if index < len(languages) else ""
            audio.metadata["handler_name"] = language or "floor"
            if language:
                audio.metadata["language"] = ISO_639_2.get(language.split("-")[0], "und")
            self._audio.append(audio)

    @property
    def bytes_written(self) -> int:
        return self._output.written

    def write(self, frame: MediaFrame, seconds: float) -> None:
        """Mux ``frame`` at ``seconds`` on the writer's timeline (stream copy)."""
        if self._closed:
            return
        if frame.video:
            if self._video is None:
                return
            stream: av.stream.Stream = self._video
            rate = VIDEO_RATE
        else:
            if frame.track >= len(self._audio):
                return
            stream = self._audio[frame.track]
            rate = OPUS_RATE
        packet = av.Packet(frame.data)
        packet.pts = packet.dts = round(seconds * rate)
        packet.time_base = fractions.Fraction(1, rate)
        packet.stream = stream
        packet.is_keyframe = frame.keyframe or not frame.video
        if isinstance(self._output, _WebmOutput):
            self._output.note(seconds, frame.keyframe)
        try:
            self._container.mux_one(packet)
        except av.FFmpegError as error:
            # One bad frame (a timestamp the muxer refuses) must not end the recording.
            logger.warning("the muxer refused a frame: %s", error)
            return
        self.frames += 1

    def close(self) -> None:
        """Write what is left (the last fragment) and end the container."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.close()
        except av.FFmpegError as error:
            logger.warning("closing a container failed: %s", error)
        self._sink.on_close()
