"""The fan-out benchmark's summary: fitted per-subscriber CPU and the ratio to Janus."""

from __future__ import annotations

import statistics
from typing import Any

RATIO_TARGET = 0.5
FPS_TARGET = 29.0


def slope(rows: list[dict[str, Any]]) -> float | None:
    """Server CPU percent per added subscriber: least-squares slope over the runs."""
    if len(rows) < 2:
        return None
    xs = [float(row["subscribers"]) for row in rows]
    ys = [float(row["server_cpu_percent"]) for row in rows]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (server, codec, resolution): slope, subscribers per core, lowest fps; ratios."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["server"], row["codec"], row["resolution"]), []).append(row)
    fitted: dict[str, Any] = {}
    for (server, codec, resolution), group in groups.items():
        fit = slope(group)
        fitted[f"{server} {codec} {resolution}"] = {
            "cpu_percent_per_subscriber": round(fit, 3) if fit is not None else None,
            "subscribers_per_core": round(100 / fit) if fit else None,
            "fps_min": min(row["fps_min"] for row in group),
            "failed_setups": sum(row["failed_setups"] for row in group),
        }
    ratios: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for (server, codec, resolution), _ in groups.items():
        if not server.startswith("venuebridge"):
            continue
        ours = fitted[f"{server} {codec} {resolution}"]["cpu_percent_per_subscriber"]
        janus = fitted.get(f"janus {codec} {resolution}", {}).get("cpu_percent_per_subscriber")
        if ours is not None and janus:
            # The default settings are the figure; variants (venuebridge-packets) beside it.
            into = ratios if server == "venuebridge" else others.setdefault(server, {})
            into[f"{codec} {resolution}"] = round(ours / janus, 2)
    ours_fps = [row["fps_min"] for row in rows if row["server"] == "venuebridge"]
    result: dict[str, Any] = {"summary": True, "fitted": fitted}
    if ratios:
        result["venuebridge_over_janus"] = ratios
        result["ratio_target"] = RATIO_TARGET
        result["ratio_met"] = all(value <= RATIO_TARGET for value in ratios.values())
    for server, figures in others.items():
        result[f"{server}_over_janus"] = figures
    if ours_fps:
        result["venuebridge_fps_min"] = min(ours_fps)
        result["fps_target_met"] = min(ours_fps) >= FPS_TARGET
    return result
