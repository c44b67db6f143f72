"""Built-in HTTPS: the server's TLS context, and re-reading its certificate on SIGHUP.

Certificates are renewed while the process keeps running (certbot, an ACME client, a
copy from a reverse proxy). ``ssl.SSLContext.load_cert_chain`` on the context the
listening socket already uses changes the certificate for every handshake after it;
connections already open keep theirs. A new pair is tried on a scratch context first:
OpenSSL would otherwise leave the live context with a new certificate and no key when
the key does not match (a renewal caught half-written), and every handshake would fail.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from config import SettingsError

logger = logging.getLogger(__name__)


def _no_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal and block the event loop.
    raise ValueError("the private key is encrypted: give the server an unencrypted key file")


def _load(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    context.load_cert_chain(certfile=cert, keyfile=key, password=_no_password)


def _new_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # HTTP/1.1 only: aiohttp's server does not speak HTTP/2.
    context.set_alpn_protocols(["http/1.1"])
    return context


class ServerCertificate:
    """The TLS context of the listening socket and the files it was loaded from."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self.context = _new_context()
        try:
            _load(self.context, cert, key)
        except (OSError, ssl.SSLError, ValueError) as error:
            raise SettingsError(
                f"setting 'tls_cert'/'tls_key': cannot load {cert} with {key}: {_reason(error)}"
            ) from None
        self.reloads = 0

    def reload(self) -> bool:
        """Re-read the files into the live context; on any error keep the old pair."""
        try:
            _load(_new_context(), self.cert, self.key)
            _load(self.context, self.cert, self.key)
        except (OSError, ssl.SSLError, ValueError) as error:
            logger.error(
                "TLS certificate not reloaded, still serving the previous one: %s with %s: %s",
                self.cert,
                self.key,
                _reason(error),
            )
            return False
        self.reloads += 1
        logger.info("TLS certificate reloaded from %s", self.cert)
        return True


def _reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLError):
        return error.reason or str(error)
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)
