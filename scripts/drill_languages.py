"""The languages half of the crew drill (issue 15): interpreters, a captioner, and checks.

Two interpreters of Japanese on ``/interpret/gz-hall-1``, each in a Chromium of their own
whose fake microphone plays a tone of its own (the producer's browser plays the floor's),
so a phone can tell by ear who it hears: 440 Hz the floor, 880 Hz Akiko, 1320 Hz Kenji.
A captioner on ``/caption/{session}`` types a Japanese and a Chinese line each phase. The
operator's console plays Japanese with captions on; one phone (English UI) picks Japanese
audio and Japanese captions, another (``zh-CN``) picks Japanese audio and reads Chinese
captions.

Unlike the looks, the checks here decide: each one polls until what it expects shows up
or its time runs out, and a miss is recorded as a failure (``crew_drill`` then exits 1).
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import time
import urllib.request
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from drill_screens import say
from playwright.async_api import Page

FLOOR_HZ, AKIKO_HZ, KENJI_HZ = 440, 880, 1320
PITCHES = (FLOOR_HZ, AKIKO_HZ, KENJI_HZ)
AKIKO, KENJI = "Akiko Sato", "Kenji Mori"
LANGUAGE = "ja"

# The received audio of the page's player, by pitch: mean power (linear) at each expected
# pitch over ``ms``, read from an AnalyserNode on the player's MediaStream.
HEAR = """async ([selector, pitches, ms]) => {
  const video = document.querySelector(selector);
  const stream = video && video.srcObject;
  if (!stream || stream.getAudioTracks().length === 0) return { error: 'no audio track' };
  const ctx = window.__vbEar || (window.__vbEar = new AudioContext());
  if (ctx.state !== 'running') await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const power = Object.fromEntries(pitches.map((p) => [p, 0]));
  let reads = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    analyser.getFloatFrequencyData(bins);
    for (const p of pitches) {
      const at = Math.round(p / (ctx.sampleRate / analyser.fftSize));
      const db = Math.max(bins[at - 1], bins[at], bins[at + 1]);
      power[p] += Math.pow(10, db / 10);
    }
    reads += 1;
  }
  source.disconnect();
  const level = (p) => Math.round(10 * Math.log10(power[p] / reads + 1e-20));
  const db = Object.fromEntries(pitches.map((p) => [p, level(p)]));
  return { db };
}"""


def write_tone(path: Path, hz: int, seconds: float = 4.0) -> Path:
    """A WAV of ``hz`` in 400 ms pulses (speech-like, so noise suppression keeps it)."""
    rate = 48000
    frames = bytearray()
    for i in range(int(rate * seconds)):
        t = i / rate
        phase = t % 0.5
        envelope = 0.0 if phase > 0.4 else min(1.0, phase / 0.02, (0.4 - phase) / 0.02)
        frames += struct.pack("<h", int(14000 * envelope * math.sin(2 * math.pi * hz * t)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


class Verdicts:
    """Every check's outcome, printed as it comes; the failures decide the exit code."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    async def expect(
        self,
        phase: str,
        who: str,
        what: str,
        probe: Callable[[], Awaitable[tuple[bool, Any]]],
        within: float = 15.0,
    ) -> bool:
        """Poll ``probe`` (ok, what it saw) until ok or ``within`` seconds pass."""
        started = time.monotonic()
        seen: Any = None
        while True:
            try:
                ok, seen = await probe()
            except Exception as error:  # a page mid-reload, a server down: keep polling
                ok, seen = False, f"{type(error).__name__}: {error}"
            waited = round(time.monotonic() - started, 1)
            if ok:
                say(phase=phase, who=who, check=what, ok=True, after_s=waited, saw=seen)
                return True
            if waited >= within:
                say(phase=phase, who=who, check=what, ok=False, after_s=waited, saw=seen)
                self.failures.append(f"{phase}: {who}: {what} (saw {seen})")
                return False
            await asyncio.sleep(0.5)


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=3) as response:
        return json.load(response)


def booth(base: str, channel: str, token: str) -> dict[str, Any]:
    """The ja booth as ``GET /api/interpret/{channel}`` says (empty when nobody is in it)."""
    body = get_json(f"{base}/api/interpret/{channel}", token)
    for entry in body["languages"]:
        if entry["language"] == LANGUAGE:
            return dict(entry)
    return {"language": LANGUAGE, "connected": [], "on_air": None}


def output_language(base: str, venue: str, token: str) -> Any:
    """The language ``GET /api/streams`` says the venue's output plays."""
    body = get_json(f"{base}/api/streams", token)
    for output in body["venues"]:
        if output["id"] == venue:
            return output.get("language")
    return "no such output"


async def hear(page: Page, selector: str, ms: int = 1500) -> dict[str, Any]:
    """Which expected pitch the page's player is loudest at, with each one's level."""
    heard: dict[str, Any] = await page.evaluate(HEAR, [selector, list(PITCHES), ms])
    if "db" in heard:
        levels = {int(k): v for k, v in heard["db"].items()}
        loudest = max(levels, key=lambda p: levels[p])
        # Silence reads near -100 dB everywhere: call it nothing.
        heard["loudest"] = loudest if levels[loudest] > -75 else None
    return heard


async def text_of(page: Page, selector: str) -> str:
    return str(await page.eval_on_selector(selector, "(e) => e.textContent || ''"))


async def state_of(page: Page, selector: str) -> str:
    return str(await page.eval_on_selector(selector, "(e) => e.dataset.state || ''"))


def pitch_of(on_air: str | None, floor_live: bool) -> int | None:
    """What a Japanese listener should hear: the interpreter on air, else the floor."""
    if on_air == AKIKO:
        return AKIKO_HZ
    if on_air == KENJI:
        return KENJI_HZ
    return FLOOR_HZ if floor_live else None


class LanguageChecks:
    """The issue-15 people's screens, what they do each phase, and what must be true."""

    def __init__(
        self, base: str, channel: str, venue: str, director: str, verdicts: Verdicts
    ) -> None:
        self.base, self.channel, self.venue, self.director = base, channel, venue, director
        self.verdicts = verdicts
        self.interpreters: dict[str, Page] = {}  # name -> page
        self.phones: dict[str, Page] = {}  # crew name -> page (their caption language)
        self.caption_language: dict[str, str] = {}
        self.captioner: Page | None = None
        self.operator: Page | None = None
        self.unsent = ""  # a line typed while the server was down, still in the box

    def booth(self) -> dict[str, Any]:
        return booth(self.base, self.channel, self.director)

    async def on_air(self, phase: str, want: set[str], connected: set[str]) -> str | None:
        """The booth API says one of ``want`` is on air and ``connected`` are all in it."""

        async def probe() -> tuple[bool, Any]:
            seen = await asyncio.to_thread(self.booth)
            ok = seen["on_air"] in want and connected <= set(seen["connected"])
            return ok, seen

        await self.verdicts.expect(
            phase, "booth api", f"on air: one of {sorted(want)}; connected: {sorted(connected)}",
            probe,
        )  # fmt: skip
        on_air: str | None = (await asyncio.to_thread(self.booth))["on_air"]
        return on_air

    async def interpreter_pages(self, phase: str, on_air: str | None) -> None:
        for name, page in self.interpreters.items():

            async def live(page: Page = page) -> tuple[bool, Any]:
                state = await state_of(page, "#status")
                return state == "live", state

            await self.verdicts.expect(phase, name, "the page publishes again (live)", live)
            mine = "me" if name == on_air else "other"

            async def says(page: Page = page, mine: str = mine) -> tuple[bool, Any]:
                state = await state_of(page, "#on-air")
                return state == mine, f"{state}: {await text_of(page, '#on-air')}"

            await self.verdicts.expect(phase, name, f"the booth line says '{mine}'", says)

    async def listeners(self, phase: str, floor_live: bool) -> None:
        """The phones and the projector hear the ja track: the on-air interpreter's tone."""
        listeners = [(who, page, "#player") for who, page in self.phones.items()]
        if self.operator is not None:
            listeners.append(("operator", self.operator, "#projector"))
        for who, page, selector in listeners:
            # Without the floor a venue output shows its slate, and the slate is silent
            # (streaming/venue_output.py: its language track follows the on-air channel).
            # Players of the channel keep the interpreter.
            on_slate = who == "operator" and not floor_live

            async def hears(
                page: Page = page, selector: str = selector, on_slate: bool = on_slate
            ) -> tuple[bool, Any]:
                on_air = (await asyncio.to_thread(self.booth))["on_air"]
                expected = None if on_slate else pitch_of(on_air, floor_live)
                heard = await hear(page, selector)
                return heard.get("loudest") == expected, {"expected": expected, **heard}

            await self.verdicts.expect(phase, who, "hears the ja track", hears, within=20)
        for who, page in self.phones.items():

            async def picked(page: Page = page) -> tuple[bool, Any]:
                value = await page.input_value("#audio-language")
                state = await state_of(page, "#audio-language")
                return value == LANGUAGE and state == "sent", f"{value} ({state})"

            await self.verdicts.expect(phase, who, "the picker says ja, sent", picked)
        if self.operator is not None:
            operator = self.operator

            async def console() -> tuple[bool, Any]:
                value = await operator.input_value("#output-language")
                pressed = await operator.get_attribute("#projector-captions-toggle", "aria-pressed")
                api = await asyncio.to_thread(output_language, self.base, self.venue, self.director)
                return (value, pressed, api) == (LANGUAGE, "true", LANGUAGE), [value, pressed, api]

            await self.verdicts.expect(
                phase, "operator", "output language ja (page and api), captions on", console
            )

    async def type_captions(self, phase: str, server_up: bool = True) -> dict[str, list[str]]:
        """Type a ja and a zh line (only ja while the server is down: it stays in the box)."""
        page = self.captioner
        assert page is not None
        sent: dict[str, list[str]] = {}
        for language, words in ((LANGUAGE, "字幕のテスト"), ("zh", "中文字幕测试")):
            if not server_up and language != LANGUAGE:
                continue
            line = f"{phase} · {words}"
            await page.select_option("#caption-language", language)
            box = (await page.input_value("#caption-text")).strip()
            await page.fill("#caption-text", f"{box}\n{line}" if box else line)
            await page.press("#caption-text", "Enter")
            lines = [b for b in box.splitlines() if b.strip()] + [line]

            async def emptied() -> tuple[bool, Any]:
                left = await page.input_value("#caption-text")
                return (left == "") == server_up, left or await text_of(page, "#caption-message")

            what = "the box empties (kept)" if server_up else "the line stays in the box"
            await self.verdicts.expect(phase, "captioner", what, emptied, within=10)
            sent[language] = lines
        return sent

    async def captions_seen(self, phase: str, sent: dict[str, list[str]]) -> None:
        """Every caption viewer shows the lines just sent in its language."""
        viewers = [(who, page, "#captions") for who, page in self.phones.items()]
        if self.operator is not None:
            viewers.append(("operator", self.operator, "#projector-captions"))
        for who, page, selector in viewers:
            language = self.caption_language.get(who, LANGUAGE)
            wanted = sent.get(language, [])

            async def shows(
                page: Page = page, sel: str = selector, wanted: list[str] = wanted
            ) -> tuple[bool, Any]:
                shown = await text_of(page, sel)
                return all(w in shown for w in wanted), shown[-160:]

            await self.verdicts.expect(phase, who, f"shows the {language} captions", shows)

    async def check(self, phase: str, *, floor_live: bool, want: set[str]) -> None:
        names = set(self.interpreters)
        on_air = await self.on_air(phase, want, names)
        await self.interpreter_pages(phase, on_air)
        await self.listeners(phase, floor_live)
        await self.captions_seen(phase, await self.type_captions(phase))
