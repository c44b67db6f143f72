"""web/static/lib/local_text.js, run in Node: picking a title in the page's language and
the browser's first language the pages speak."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[2] / "web" / "static" / "lib" / "local_text.js"
pytestmark = pytest.mark.requires("node")


def run(body: str) -> Any:
    node = shutil.which("node")
    assert node is not None
    script = (
        f"import * as text from {json.dumps(MODULE.as_uri())};\n"
        f"console.log(JSON.stringify((() => {{ {body} }})()));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_pick_text_falls_back_to_the_default_language_then_the_plain_title() -> None:
    picked = run(
        """
        const titles = { en: "Opening", zh: "开幕式" };
        return {
          zh: text.pickText(titles, "x", "zh"),
          zhCN: text.pickText(titles, "x", "zh-CN"),
          ja: text.pickText(titles, "x", "ja"),
          chineseFirst: text.pickText({ zh: "开幕式", en: "Opening" }, "x", "ru"),
          none: text.pickText(undefined, "Opening", "zh"),
          tagged: text.pickText({ en: "Opening", "zh-Hant": "開幕式" }, "x", "zh"),
        };
        """
    )
    assert picked == {
        "zh": "开幕式",
        "zhCN": "开幕式",
        "ja": "Opening",
        "chineseFirst": "开幕式",
        "none": "Opening",
        "tagged": "開幕式",
    }


def test_the_first_browser_language_the_pages_speak() -> None:
    chosen = run(
        """
        const ui = ["en", "zh"];
        return [
          text.firstSupported(["zh-CN", "en-US"], ui),
          text.firstSupported(["ja-JP", "zh-TW", "en"], ui),
          text.firstSupported(["en-GB", "zh-CN"], ui),
          text.firstSupported(["ko", "ja"], ui),
        ];
        """
    )
    assert chosen == ["zh", "zh", "en", None]
