"""The recording disk: free space against the floor, and the retention sweep."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
RECORDING_SUFFIXES = (".mp4", ".webm")


def free_mb(directory: Path) -> float:
    """Free space (MiB) for an unprivileged writer on the disk holding ``directory``."""
    return shutil.disk_usage(directory).free / MIB


def sweep(
    directory: Path,
    retention_days: float,
    keep: Callable[[Path], bool],
    now: Callable[[], float] = time.time,
) -> list[Path]:
    """Delete recording files (and their sidecars) last written more than
    ``retention_days`` ago, except those ``keep`` names (open files); returns them."""
    if retention_days <= 0 or not directory.is_dir():
        return []
    cutoff = now() - retention_days * 86400
    removed = []
    for path in directory.glob("*/*"):
        if path.suffix not in RECORDING_SUFFIXES or keep(path):
            continue
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            path.unlink()
        except OSError as error:
            logger.warning("retention: could not delete %s: %s", path, error)
            continue
        removed.append(path)
        logger.info("retention: deleted %s (older than %s days)", path, retention_days)
    return removed
