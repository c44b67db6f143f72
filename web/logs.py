"""Logging set-up: plain text for people, JSON lines for collectors."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log is noisy at INFO on a busy node; keep it at WARNING.
    logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, root.level))


# A redirect's pass (web/steering.py) rides in the query: never into a log line.
_PASS = re.compile(r"(access_token=)[^&\s\"]*")


class RedactPasses(logging.Filter):
    """Blanks ``access_token=...`` in access log lines (whatever their level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "access_token=" in record.getMessage():
            record.msg = _PASS.sub(r"\1[redacted]", record.getMessage())
            record.args = None
        return True


def redact_passes(logger: logging.Logger | None = None) -> None:
    """Install ``RedactPasses`` on aiohttp's access logger (once)."""
    logger = logger or logging.getLogger("aiohttp.access")
    if not any(isinstance(f, RedactPasses) for f in logger.filters):
        logger.addFilter(RedactPasses())


class OneLineBadRequests(logging.Filter):
    """Turns aiohttp's traceback for a malformed request into one warning line.

    A request line or header aiohttp cannot parse is the client's fault and is already
    answered with 400; a scanner sending garbage must not fill the log with tracebacks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            reason = " ".join(str(error.message or type(error).__name__).split())
            record.msg = "bad request from %s: %s"
            record.args = (peer, reason[:200])
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def one_line_bad_requests(logger: logging.Logger = server_logger) -> None:
    """Install ``OneLineBadRequests`` on aiohttp's server logger (once)."""
    if not any(isinstance(f, OneLineBadRequests) for f in logger.filters):
        logger.addFilter(OneLineBadRequests())
