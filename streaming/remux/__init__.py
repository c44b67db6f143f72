"""Remux: a channel's forwarded RTP packets into media containers, never decoding.

The shared layer under recording (``streaming/recorder``) and HLS. The contract:

* ``FrameSources()`` — one per process, shared by the recorder and the HLS packager:
  one ``FrameSource`` per feed while anybody listens, the feed's consumer, which
  depacketizes each packet once (on a task of its own) and hands each frame to every
  listener. It never slows forwarding: ``deliver`` only queues (bounded; drops counted).
  ``depacketized`` counts the packets depacketized, ``active`` the feeds being read.
* ``ChannelRemux(channel, feed, video_codec, open_sink, language_feeds=(),
  fragment_seconds=2.0, frames=None)`` — a listener of the frames of
  ``MediaHub.channel_feed(channel)`` (and of language-track feeds, as extra audio
  tracks, in the order given) from ``frames`` (its own ``FrameSources`` when None).
  ``begin()`` joins the sources (starting from the last keyframe); ``rotate()`` switches
  to a new container at the next keyframe (files join without a gap);
  ``end_container()`` ends the open one now; ``aclose()`` leaves and closes. Each remux
  muxes its own containers: only the depacketizing is shared. ``dropped`` counts the
  packets its sources dropped since it began.
* ``open_sink(ContainerStart) -> FragmentSink`` is called as each container begins:
  ``ContainerStart`` has ``channel``, ``kind`` ("mp4" for H.264 or audio only, "webm"
  for VP8), ``video`` (``VideoFormat``: codec, width, height, Annex B SPS/PPS),
  ``languages`` (one per audio track, "" = the floor) and ``started_at`` (UTC wall-clock
  of media time 0, i.e. of the first frame).
* ``FragmentSink``: ``on_init(bytes)`` once (ftyp+moov), then ``on_fragment(bytes, start,
  duration, keyframe)`` per fragment (moof+mdat; ``start``/``duration`` in seconds of
  media time, read from the fragment's own tfdt/trun; one fragment per keyframe, or per
  ``fragment_seconds`` if keyframes are rarer), then ``on_close()``.
* Media time is wall-clock since ``started_at``: each publisher session (epoch) is
  anchored at the arrival of its first frame, so a reconnect leaves a gap in the media
  timeline (the time the publisher was away) and starts a new fragment at its keyframe;
  ``started_at + timedelta(seconds=t)`` is when the frame at media time ``t`` arrived.

Pieces, each usable alone (sans-I/O unless noted): ``h264.H264Depacketizer`` (single
NAL, STAP-A, FU-A -> Annex B access units, SPS/PPS kept, keyframes),
``vp8.Vp8Depacketizer``, ``opus.opus_frame``, ``timeline.MediaTimeline`` (RTP ->
seconds, re-based per epoch), ``boxes.BoxSplitter`` (muxer bytes -> init + fragments),
``writer.ContainerWriter`` (PyAV stream copy; I/O only through the sink).
"""

from streaming.remux.channel import ChannelRemux, ContainerStart, SinkOpener
from streaming.remux.frame_source import FrameListener, FrameSource, FrameSources
from streaming.remux.frames import MediaFrame, VideoFormat
from streaming.remux.writer import ContainerWriter, FragmentSink

__all__ = [
    "ChannelRemux",
    "ContainerStart",
    "ContainerWriter",
    "FragmentSink",
    "FrameListener",
    "FrameSource",
    "FrameSources",
    "MediaFrame",
    "SinkOpener",
    "VideoFormat",
]
