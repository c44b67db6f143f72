"""Files only the service's user may read: the data directory, the store and the secret.

Modes are set with ``chmod`` after creation, so a permissive umask (022, or 0 in some
containers) cannot leave the signing secret or the Q&A store readable by other users.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if missing; a directory we create is 0700."""
    if path.is_dir():
        return
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and is 0600 (an existing file is tightened too)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
