"""The slate's picture and its encoding: drawn once per venue and text, never per viewer.

The text is drawn with Pillow. Chinese, Japanese and Korean glyphs need a CJK font:
WenQuanYi Zen Hei (Debian package ``fonts-wqy-zenhei``) is used when it is installed;
otherwise DejaVu Sans or Pillow's built-in font draw Latin text only (CJK characters
would show as boxes, so the bilingual "please stand by" line is left out).
"""

from __future__ import annotations

import fractions
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from streaming import aiortc_glue as glue

WIDTH, HEIGHT = 1280, 720
# One second of pictures: a keyframe, then pictures that only repeat it (a few bytes
# each). Looping it gives a keyframe every second, so a switch or a new viewer waits
# at most that long, at about the cost of one keyframe per second.
FPS = 5
FRAMES = 5
VIDEO_CLOCK = 90000
AUDIO_SAMPLES = 960  # 20 ms at 48 kHz

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
STAND_BY = "Please stand by"
STAND_BY_CJK = "Please stand by · 请稍候"

BACKGROUND = (12, 24, 48)
FOREGROUND = (240, 240, 240)
ACCENT = (250, 200, 80)


@dataclass(frozen=True, slots=True)
class SlateText:
    """What a venue's slate says; a new value means a new encoding."""

    event: str
    venue: str
    next_session: str | None
    starts: str | None  # the next session's start in the venue's local time, in words


@dataclass(frozen=True, slots=True)
class SlateClip:
    """One encoded second of slate: RTP payloads per picture (the first a keyframe)."""

    video_frames: tuple[tuple[bytes, ...], ...]
    audio_payload: bytes  # 20 ms of Opus silence
    fps: int


def _font(size: int, cjk: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (CJK_FONT, LATIN_FONT) if cjk else (LATIN_FONT,):
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def render(text: SlateText) -> Image.Image:
    """The slate as a picture."""
    cjk = CJK_FONT.exists()
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    lines: list[tuple[str, int, tuple[int, int, int]]] = [
        (text.event, 36, FOREGROUND),
        (text.venue, 64, ACCENT),
        (STAND_BY_CJK if cjk else STAND_BY, 48, FOREGROUND),
    ]
    # Sized to be read from the back of a room on a projector.
    if text.next_session is not None:
        lines.append((f"Next: {text.next_session}", 44, FOREGROUND))
        lines.append((text.starts or "", 40, ACCENT))
    else:
        lines.append(("No further sessions are scheduled here.", 40, FOREGROUND))
    y = 110.0
    for words, size, colour in lines:
        font = _font(size, cjk)
        words = _fit(draw, words, font)
        left, _, right, bottom = draw.textbbox((0, 0), words, font=font)
        draw.text(((WIDTH - (right - left)) / 2, y), words, font=font, fill=colour)
        y += bottom + size
    return image


def _fit(
    draw: ImageDraw.ImageDraw, words: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> str:
    # Long titles are cut with an ellipsis rather than run off the picture.
    while len(words) > 4 and draw.textlength(words, font=font) > WIDTH - 80:
        words = words[:-2].rstrip() + "…"
    return words


def encode(image: Image.Image, video_codec: str) -> SlateClip:
    """``FRAMES`` pictures of ``image`` in ``video_codec``, plus a packet of silence."""
    encoder = glue.rtp_encoder(video_codec)
    picture = _video_frame(image)
    frames = []
    for index in range(FRAMES):
        frame = picture.reformat(format="yuv420p")
        frame.pts = index * (VIDEO_CLOCK // FPS)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        payloads, _ = encoder.encode(frame, force_keyframe=index == 0)
        frames.append(tuple(payloads))
    if not all(frames):
        raise RuntimeError(f"the {video_codec} encoder returned an empty picture")
    return SlateClip(tuple(frames), _silence(), FPS)


def _video_frame(image: Image.Image) -> av.VideoFrame:
    frame = av.VideoFrame(image.width, image.height, "rgb24")
    plane = frame.planes[0]
    row = image.width * 3
    pixels = image.convert("RGB").tobytes()
    if plane.line_size != row:  # rows padded for alignment
        padding = bytes(plane.line_size - row)
        pixels = b"".join(pixels[i : i + row] + padding for i in range(0, len(pixels), row))
    plane.update(pixels)
    return frame


def _silence() -> bytes:
    encoder = glue.rtp_encoder("opus")
    for count in range(10):  # the encoder buffers its first frames
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48000
        frame.pts = count * AUDIO_SAMPLES
        frame.time_base = fractions.Fraction(1, 48000)
        payloads, _ = encoder.encode(frame)
        if payloads and count >= 3:
            return bytes(payloads[-1])
    raise RuntimeError("the Opus encoder returned no packet")
